//! Shared helpers for the numerical tests: finite differences, tolerant comparison, the dot-product identity.
#![allow(dead_code)]

/// A small deterministic generator (xorshift64*), so failures reproduce.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `[lo, hi)`.
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        let u = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        lo + (hi - lo) * u
    }

    pub fn vec(&mut self, n: usize, lo: f64, hi: f64) -> Vec<f64> {
        (0..n).map(|_| self.uniform(lo, hi)).collect()
    }
}

/// Is `got` within `rtol` relative (or `atol` absolute) error of `want`?
/// Infinities must match exactly, NaN matches only NaN.
pub fn close(got: f64, want: f64, rtol: f64, atol: f64) -> bool {
    if want.is_nan() {
        return got.is_nan();
    }
    if want.is_infinite() {
        return got == want;
    }
    if !got.is_finite() {
        return false;
    }
    (got - want).abs() <= atol + rtol * want.abs()
}

#[track_caller]
pub fn assert_close(got: f64, want: f64, rtol: f64, what: &str) {
    assert!(
        close(got, want, rtol, rtol),
        "{what}: got {got:e}, want {want:e} (rel. err {:e}, tol {rtol:e})",
        ((got - want) / want.abs().max(1e-300)).abs()
    );
}

#[track_caller]
pub fn assert_close_f32(got: f32, want: f32, rtol: f32, what: &str) {
    assert_close(got as f64, want as f64, rtol as f64, what)
}

#[track_caller]
pub fn assert_vec_close(got: &[f64], want: &[f64], rtol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_close(*g, *w, rtol, &format!("{what}[{i}]"));
    }
}

/// Central difference of a scalar function of one variable.
pub fn fd1(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    let h = 1e-6 * x.abs().max(1.0);
    (f(x + h) - f(x - h)) / (2.0 * h)
}

/// Central-difference gradient of a scalar function of a vector.
pub fn fd_grad(f: impl Fn(&[f64]) -> f64, x: &[f64]) -> Vec<f64> {
    fd_grad_step(f, x, 1e-6)
}

/// [`fd_grad`] with the relative step `step`: a function computed partly in `f32`
/// needs a larger one (its rounding, ~6e-8 relative, over a 1e-6 step is a 5%
/// error; over 1e-3 it is 6e-5, and the truncation error `h²·f'''` about 1e-6).
pub fn fd_grad_step(f: impl Fn(&[f64]) -> f64, x: &[f64], step: f64) -> Vec<f64> {
    let mut xp = x.to_vec();
    (0..x.len())
        .map(|i| {
            let h = step * x[i].abs().max(1.0);
            xp[i] = x[i] + h;
            let fp = f(&xp);
            xp[i] = x[i] - h;
            let fm = f(&xp);
            xp[i] = x[i];
            (fp - fm) / (2.0 * h)
        })
        .collect()
}

/// Tolerance used against central differences in f64.
pub const FD_TOL: f64 = 1e-6;

pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The dot-product identity between the modes: `ȳ·(J v) == (Jᵀ ȳ)·v`.
/// `jv` is what forward mode returned along `v`, `jt_ybar` what reverse mode
/// accumulated into zeroed shadows with seed `ybar`.
#[track_caller]
pub fn assert_dot_identity(ybar: f64, jv: f64, jt_ybar: &[f64], v: &[f64]) {
    assert_dot_identity_tol(ybar, jv, jt_ybar, v, 1e-10)
}

/// [`assert_dot_identity`] within the relative tolerance `tol`.
#[track_caller]
pub fn assert_dot_identity_tol(ybar: f64, jv: f64, jt_ybar: &[f64], v: &[f64], tol: f64) {
    let lhs = ybar * jv;
    let rhs = dot(jt_ybar, v);
    let scale = lhs
        .abs()
        .max(
            jt_ybar
                .iter()
                .zip(v)
                .map(|(a, b)| (a * b).abs())
                .sum::<f64>(),
        )
        .max(1e-300);
    assert!(
        (lhs - rhs).abs() <= tol * scale,
        "dot-product identity: ybar*(J v) = {lhs:e}, (J^T ybar).v = {rhs:e}"
    );
}

/// Shadows pre-filled with `prefill` then accumulated with seed `dret` must
/// hold `prefill + dret * grad`.
#[track_caller]
pub fn assert_accumulated(after: &[f64], prefill: &[f64], dret: f64, grad: &[f64]) {
    assert_accumulated_tol(after, prefill, dret, grad, 1e-12)
}

/// [`assert_accumulated`] within the relative tolerance `tol`.
#[track_caller]
pub fn assert_accumulated_tol(after: &[f64], prefill: &[f64], dret: f64, grad: &[f64], tol: f64) {
    let want: Vec<f64> = prefill
        .iter()
        .zip(grad)
        .map(|(p, g)| p + dret * g)
        .collect();
    assert_vec_close(after, &want, tol, "accumulated shadow");
}

/// How closely the checks of [`check_all_prec`] compare.
#[derive(Clone, Copy, Debug)]
pub struct Tol {
    /// Relative step of the central differences.
    pub fd_step: f64,
    /// `_grad` against central differences.
    pub fd: f64,
    /// The modes against each other (`_fwd` against `_grad`, the dot-product
    /// identity, accumulation): exact up to rounding in `f64`, up to `f32`
    /// rounding (~1e-7 relative, times the conditioning) when a section is in `f32`.
    pub modes: f64,
    /// Accumulation into pre-filled shadows with `dret ≠ 1`.
    pub accum: f64,
}

impl Tol {
    /// A function computed entirely in `f64`: what [`check_all_tol`] uses.
    pub fn f64(fd: f64) -> Tol {
        Tol {
            fd_step: 1e-6,
            fd,
            modes: 1e-10,
            accum: 1e-12,
        }
    }

    /// A function with a section in `f32`: derivatives good to about `f32`
    /// precision, central differences with a step that `f32` rounding does not swamp.
    pub const F32: Tol = Tol {
        fd_step: 1e-3,
        fd: 1e-3,
        modes: 1e-5,
        accum: 1e-5,
    };
}

/// Every mode of one differentiated function at one point, through flat
/// adapters over all active inputs:
///
/// - `_grad` against central differences of `f` (tolerance `fd_tol`),
/// - `_fwd` along each unit vector against the gradient, and along a random
///   tangent `v` against reverse mode with a random seed `ȳ` (dot-product identity),
/// - `_adjoint` into pre-filled shadows with `dret ≠ 1` (accumulation),
/// - the primal value of all three modes equal to `f(x)` exactly.
#[track_caller]
pub fn check_all_tol(
    name: &str,
    x: &[f64],
    fd_tol: f64,
    f: impl Fn(&[f64]) -> f64,
    fwd: impl Fn(&[f64], &[f64]) -> (f64, f64),
    adj: impl Fn(&[f64], &mut [f64], f64) -> f64,
    grad: impl Fn(&[f64]) -> (f64, Vec<f64>),
) {
    check_all_prec(name, x, Tol::f64(fd_tol), f, fwd, adj, grad)
}

/// [`check_all_tol`] with every tolerance given ([`Tol`]).
#[track_caller]
pub fn check_all_prec(
    name: &str,
    x: &[f64],
    tol: Tol,
    f: impl Fn(&[f64]) -> f64,
    fwd: impl Fn(&[f64], &[f64]) -> (f64, f64),
    adj: impl Fn(&[f64], &mut [f64], f64) -> f64,
    grad: impl Fn(&[f64]) -> (f64, Vec<f64>),
) {
    let fd_tol = tol.fd;
    let n = x.len();
    let y = f(x);
    assert!(
        y.is_finite(),
        "{name}: f(x) = {y} is not finite; bad test point"
    );
    let same = |got: f64, mode: &str| {
        assert!(
            got.to_bits() == y.to_bits() || got == y,
            "{name}: primal value of {mode} is {got:e}, f(..) is {y:e}"
        )
    };

    let (v0, g) = grad(x);
    same(v0, "_grad");
    assert_eq!(g.len(), n, "{name}: gradient length");
    let g_fd = fd_grad_step(&f, x, tol.fd_step);
    for i in 0..n {
        assert!(
            close(g[i], g_fd[i], fd_tol, fd_tol),
            "{name}: _grad[{i}] = {:e}, central differences give {:e}\n  grad = {g:?}\n  fd   = {g_fd:?}",
            g[i],
            g_fd[i]
        );
    }

    let mut e = vec![0.0; n];
    for i in 0..n {
        e[i] = 1.0;
        let (vy, t) = fwd(x, &e);
        same(vy, "_fwd");
        assert!(
            close(t, g[i], tol.modes, tol.modes * 1e-2),
            "{name}: _fwd along e{i} = {t:e}, _grad[{i}] = {:e}",
            g[i]
        );
        e[i] = 0.0;
    }

    let mut rng = Rng::new(n as u64 * 7919 + name.len() as u64);
    let v = rng.vec(n, -1.0, 1.0);
    let ybar = rng.uniform(0.5, 2.0);
    let (vy, jv) = fwd(x, &v);
    same(vy, "_fwd");
    let mut jt = vec![0.0; n];
    same(adj(x, &mut jt, ybar), "_adjoint");
    assert_dot_identity_tol(ybar, jv, &jt, &v, tol.modes);

    let prefill = rng.vec(n, -3.0, 3.0);
    let mut shadow = prefill.clone();
    let dret = -1.75;
    same(adj(x, &mut shadow, dret), "_adjoint");
    assert_accumulated_tol(&shadow, &prefill, dret, &g, tol.accum);
}

#[track_caller]
pub fn check_all(
    name: &str,
    x: &[f64],
    f: impl Fn(&[f64]) -> f64,
    fwd: impl Fn(&[f64], &[f64]) -> (f64, f64),
    adj: impl Fn(&[f64], &mut [f64], f64) -> f64,
    grad: impl Fn(&[f64]) -> (f64, Vec<f64>),
) {
    check_all_tol(name, x, FD_TOL, f, fwd, adj, grad)
}

/// `check_all` for a function of 1, 2 or 3 active float parameters (all
/// active, nothing else), named by its four generated functions.
#[allow(unused_macros)]
macro_rules! check_scalar {
    ($f:path, $fwd:path, $adj:path, $grad:path; [$a:expr]) => {
        common::check_all(
            stringify!($f),
            &[$a],
            |x| $f(x[0]),
            |x, v| $fwd(x[0], v[0]),
            |x, d, r| {
                let mut d0 = d[0];
                let y = $adj(x[0], &mut d0, r);
                d[0] = d0;
                y
            },
            |x| {
                let (y, g) = $grad(x[0]);
                (y, vec![g])
            },
        )
    };
    ($f:path, $fwd:path, $adj:path, $grad:path; [$a:expr, $b:expr]) => {
        common::check_all(
            stringify!($f),
            &[$a, $b],
            |x| $f(x[0], x[1]),
            |x, v| $fwd(x[0], v[0], x[1], v[1]),
            |x, d, r| {
                let (mut d0, mut d1) = (d[0], d[1]);
                let y = $adj(x[0], &mut d0, x[1], &mut d1, r);
                d[0] = d0;
                d[1] = d1;
                y
            },
            |x| {
                let (y, (g0, g1)) = $grad(x[0], x[1]);
                (y, vec![g0, g1])
            },
        )
    };
    ($f:path, $fwd:path, $adj:path, $grad:path; [$a:expr, $b:expr, $c:expr]) => {
        common::check_all(
            stringify!($f),
            &[$a, $b, $c],
            |x| $f(x[0], x[1], x[2]),
            |x, v| $fwd(x[0], v[0], x[1], v[1], x[2], v[2]),
            |x, d, r| {
                let (mut d0, mut d1, mut d2) = (d[0], d[1], d[2]);
                let y = $adj(x[0], &mut d0, x[1], &mut d1, x[2], &mut d2, r);
                d[0] = d0;
                d[1] = d1;
                d[2] = d2;
                y
            },
            |x| {
                let (y, (g0, g1, g2)) = $grad(x[0], x[1], x[2]);
                (y, vec![g0, g1, g2])
            },
        )
    };
}
