//! Second order (`order = 2`): `f_hvp` and `f_hessian` against finite
//! differences of the generated gradient and analytic Hessians.
// `useless_vec`: `buffer_reads_itself` tests a `Vec` buffer (its `IndexMut`).
#![allow(
    clippy::needless_range_loop,
    clippy::excessive_precision,
    clippy::useless_vec
)]

use autodiff::differentiate;

#[differentiate(order = 2)]
fn rosenbrock(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() - 1 {
        let a = 1.0 - x[i];
        let b = x[i + 1] - x[i] * x[i];
        s += a * a + 100.0 * b * b;
    }
    s
}

#[differentiate(order = 2)]
fn mixed(x: &[f64], y: f64) -> f64 {
    let mut s = y.sin() * x[0];
    for i in 0..x.len() {
        s += (x[i] * y).exp() / (1.0 + x[i] * x[i]);
    }
    s + (x.len() as f64) * y * y
}

#[test]
fn rosenbrock_hessian_is_analytic() {
    let x = [1.2, -0.7, 0.4];
    let (v, g, h) = rosenbrock_hessian(&x);
    let (v1, g1) = rosenbrock_grad(&x);
    assert_eq!(v, v1);
    assert_eq!(g, g1);
    let n = x.len();
    let mut want = vec![0.0; n * n];
    for i in 0..n - 1 {
        want[i * n + i] += 2.0 - 400.0 * (x[i + 1] - 3.0 * x[i] * x[i]);
        want[i * n + i + 1] += -400.0 * x[i];
        want[(i + 1) * n + i] += -400.0 * x[i];
        want[(i + 1) * n + i + 1] += 200.0;
    }
    for k in 0..n * n {
        assert!(
            (h[k] - want[k]).abs() < 1e-10,
            "{k}: {} vs {}",
            h[k],
            want[k]
        );
    }
}

#[test]
fn hvp_matches_fd_of_gradient() {
    let x = [0.3, -0.5, 0.8];
    let y = 0.7;
    let (vx, vy) = ([0.2, 1.0, -0.4], 0.6);
    let (v, (gx, gy), (hx, hy)) = mixed_hvp(&x, &vx, y, vy);
    let (v0, (gx0, gy0)) = mixed_grad(&x, y);
    assert_eq!(v, v0);
    assert!((gy - gy0).abs() < 1e-15);
    let e = 1e-5;
    let xp: Vec<f64> = (0..3).map(|i| x[i] + e * vx[i]).collect();
    let xm: Vec<f64> = (0..3).map(|i| x[i] - e * vx[i]).collect();
    let (_, (gxp, gyp)) = mixed_grad(&xp, y + e * vy);
    let (_, (gxm, gym)) = mixed_grad(&xm, y - e * vy);
    for i in 0..3 {
        assert!((gx[i] - gx0[i]).abs() < 1e-15);
        let fd = (gxp[i] - gxm[i]) / (2.0 * e);
        assert!((hx[i] - fd).abs() < 1e-7, "{i}: {} vs {fd}", hx[i]);
    }
    let fd = (gyp - gym) / (2.0 * e);
    assert!((hy - fd).abs() < 1e-7, "{hy} vs {fd}");
}

// ---- every construct through the Hessian: FD of the gradient, symmetry, H·v = Hessian·v

#[differentiate(order = 2)]
fn sq(a: f64) -> f64 {
    a * a.sin()
}

#[differentiate(order = 2)]
fn callee_sum(w: &[f64], k: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len() {
        s += sq(w[i] * k);
    }
    s
}

#[differentiate(order = 2)]
fn calls(x: &[f64], y: f64) -> f64 {
    callee_sum(x, y) + sq(y) * x[1]
}

#[differentiate(order = 2)]
fn branches(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        if x[i] > 0.0 {
            s += x[i].powi(3);
        } else {
            s -= x[i] * x[0];
        }
    }
    s.max(0.5 * s) + x[1].abs() * x[2]
}

#[differentiate(order = 2)]
fn buffers(x: &[f64]) -> f64 {
    let n = x.len();
    let mut z = vec![0.0; n];
    for i in 0..n {
        z[i] = (x[i] * x[(i + 1) % n]).tanh();
    }
    let mut m = f64::NEG_INFINITY;
    for i in 0..n {
        if z[i] > m {
            m = z[i];
        }
    }
    let mut sum = 0.0;
    for i in 0..n {
        z[i] = (z[i] - m).exp();
        sum += z[i];
    }
    m + sum.ln() + z[0] / sum
}

#[differentiate(order = 2)]
fn idioms(x: &[f64], t: f64) -> f64 {
    const SCALE: f64 = 0.5;
    let sq = |v: f64| v * v;
    let s: f64 = x.iter().map(|v| sq(*v) * t).sum();
    let tail = &x[1..x.len()];
    let p = x
        .iter()
        .zip(tail.iter())
        .fold(1.0, |acc, (a, b)| acc * (1.0 + a * b));
    let (sn, cs) = t.sin_cos();
    let k = match x.len() {
        0 => 1.0,
        n => n as f64,
    };
    SCALE * s + p.ln() + sn * cs / k + t.clamp(-1.0, 1.0).to_degrees() * f64::EPSILON.sqrt()
}

#[differentiate(order = 2)]
fn fixed_point(a: f64) -> f64 {
    let mut x = 1.0;
    let mut k = 0;
    while k < 30 {
        x = 0.5 * (x + a / x);
        k += 1;
    }
    x
}

#[differentiate(order = 2)]
fn arrays(p: [f64; 3], q: &[f64; 2]) -> f64 {
    p[0] * q[0].exp() + (p[1] - q[1]).powi(2) * p[2] + std::f64::consts::PI * p[2] * p[2]
}

#[differentiate(order = 2)]
fn generic<T: autodiff::Float>(x: &[T], c: T) -> T {
    let mut s = T::zero();
    for i in 0..x.len() {
        s = s + (x[i] * c).sin() * x[i] + T::from(2.0).unwrap() * x[i] * x[i] * x[i];
    }
    s
}

#[differentiate(order = 2)]
fn single(x: f32, y: f32) -> f32 {
    (x * y).exp() + x.powf(y)
}

#[differentiate(order = 2, wrt(w))]
fn data_passive(w: &[f64], xs: &[f64], ys: &[f64], scale: f64) -> f64 {
    let mut loss = 0.0;
    for i in 0..xs.len() {
        let z = w[0] * xs[i] + w[1];
        let p = 1.0 / (1.0 + (-z).exp());
        loss -= ys[i] * p.ln() + (1.0 - ys[i]) * (1.0 - p).ln();
    }
    scale * loss + 0.01 * (w[0] * w[0] + w[1] * w[1])
}

struct Model {
    k: f64,
}

impl Model {
    #[differentiate(order = 2)]
    fn energy(&self, x: &[f64]) -> f64 {
        let mut e = 0.0;
        for i in 0..x.len() - 1 {
            let d = x[i + 1] - x[i];
            e += self.k * d * d * d * d;
        }
        e
    }
}

/// Hessian by central differences of a gradient.
fn fd_hessian(grad: impl Fn(&[f64]) -> Vec<f64>, x: &[f64]) -> Vec<f64> {
    let n = x.len();
    let e = 1e-5;
    let mut h = vec![0.0; n * n];
    for j in 0..n {
        let mut xp = x.to_vec();
        let mut xm = x.to_vec();
        xp[j] += e;
        xm[j] -= e;
        let (gp, gm) = (grad(&xp), grad(&xm));
        for i in 0..n {
            h[j * n + i] = (gp[i] - gm[i]) / (2.0 * e);
        }
    }
    h
}

fn assert_close(a: &[f64], b: &[f64], tol: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}");
    for k in 0..a.len() {
        let scale = 1.0 + a[k].abs().max(b[k].abs());
        assert!(
            (a[k] - b[k]).abs() <= tol * scale,
            "{what}[{k}]: {} vs {}",
            a[k],
            b[k]
        );
    }
}

fn assert_symmetric(h: &[f64], n: usize, what: &str) {
    for i in 0..n {
        for j in 0..n {
            let (a, b) = (h[i * n + j], h[j * n + i]);
            assert!(
                (a - b).abs() <= 1e-9 * (1.0 + a.abs()),
                "{what}: H[{i},{j}] {a} vs {b}"
            );
        }
    }
}

type Grad<'a> = &'a dyn Fn(&[f64]) -> (f64, Vec<f64>);
type Hess<'a> = &'a dyn Fn(&[f64]) -> (f64, Vec<f64>, Vec<f64>);
type Hvp<'a> = &'a dyn Fn(&[f64], &[f64]) -> (f64, Vec<f64>, Vec<f64>);

/// The Hessian against FD of the gradient and symmetric; value and gradient as
/// `_grad`'s; `_hvp` equal to Hessian·v.
fn check(what: &str, x: &[f64], grad: Grad, hess: Hess, hvp: Hvp) {
    let n = x.len();
    let (value, g, h) = hess(x);
    let (v1, g1) = grad(x);
    assert_eq!(value, v1, "{what}: value");
    assert_close(&g, &g1, 1e-14, what);
    let fd = fd_hessian(|p| grad(p).1, x);
    assert_close(&h, &fd, 1e-6, &format!("{what}: Hessian vs FD"));
    assert_symmetric(&h, n, what);
    let v: Vec<f64> = (0..n).map(|i| 0.3 - 0.2 * i as f64).collect();
    let (v2, g2, hv) = hvp(x, &v);
    assert_eq!(value, v2, "{what}: hvp value");
    assert_close(&g2, &g1, 1e-14, what);
    let want: Vec<f64> = (0..n)
        .map(|i| (0..n).map(|j| h[i * n + j] * v[j]).sum())
        .collect();
    assert_close(&hv, &want, 1e-12, &format!("{what}: H·v"));
}

fn pair(x: &[f64]) -> (Vec<f64>, f64) {
    (x[..x.len() - 1].to_vec(), x[x.len() - 1])
}

fn join(a: Vec<f64>, b: f64) -> Vec<f64> {
    let mut a = a;
    a.push(b);
    a
}

#[test]
fn constructs() {
    let x = [0.4, -0.3, 0.9, 0.2];
    check(
        "branches",
        &x,
        &|p| branches_grad(p),
        &|p| branches_hessian(p),
        &|p, v| branches_hvp(p, v),
    );
    check(
        "buffers",
        &x,
        &|p| buffers_grad(p),
        &|p| buffers_hessian(p),
        &|p, v| buffers_hvp(p, v),
    );
    check(
        "energy",
        &x,
        &|p| Model { k: 1.5 }.energy_grad(p),
        &|p| Model { k: 1.5 }.energy_hessian(p),
        &|p, v| Model { k: 1.5 }.energy_hvp(p, v),
    );
    let xs = [0.5, -1.0, 2.0, 0.1, -0.3];
    let ys = [1.0, 0.0, 1.0, 1.0, 0.0];
    check(
        "logistic",
        &[0.3, -0.2],
        &|p| data_passive_grad(p, &xs, &ys, 0.5),
        &|p| data_passive_hessian(p, &xs, &ys, 0.5),
        &|p, v| data_passive_hvp(p, v, &xs, &ys, 0.5),
    );
    check(
        "generic",
        &x,
        &|p| generic_grad(&p[..3], p[3]).pipe(),
        &|p| {
            let (v, (gx, gc), h) = generic_hessian(&p[..3], p[3]);
            (v, join(gx, gc), h)
        },
        &|p, v| {
            let (val, (gx, gc), (hx, hc)) = generic_hvp(&p[..3], &v[..3], p[3], v[3]);
            (val, join(gx, gc), join(hx, hc))
        },
    );
    // a slice and a scalar: the Hessian is over (x..., y)
    for (name, grad, hess, hvp) in [
        (
            "mixed",
            mixed_grad as fn(&[f64], f64) -> (f64, (Vec<f64>, f64)),
            mixed_hessian as fn(&[f64], f64) -> (f64, (Vec<f64>, f64), Vec<f64>),
            mixed_hvp as fn(&[f64], &[f64], f64, f64) -> (f64, (Vec<f64>, f64), (Vec<f64>, f64)),
        ),
        ("calls", calls_grad, calls_hessian, calls_hvp),
        ("idioms", idioms_grad, idioms_hessian, idioms_hvp),
    ] {
        check(
            name,
            &x,
            &|p| {
                let (a, b) = pair(p);
                let (v, (gx, gy)) = grad(&a, b);
                (v, join(gx, gy))
            },
            &|p| {
                let (a, b) = pair(p);
                let (v, (gx, gy), h) = hess(&a, b);
                (v, join(gx, gy), h)
            },
            &|p, d| {
                let (a, b) = pair(p);
                let (da, db) = pair(d);
                let (v, (gx, gy), (hx, hy)) = hvp(&a, &da, b, db);
                (v, join(gx, gy), join(hx, hy))
            },
        );
    }
}

trait Pipe {
    fn pipe(self) -> (f64, Vec<f64>);
}

impl Pipe for (f64, (Vec<f64>, f64)) {
    fn pipe(self) -> (f64, Vec<f64>) {
        (self.0, join(self.1 .0, self.1 .1))
    }
}

#[test]
fn scalars_arrays_f32_and_loops() {
    // f(a) = sqrt(a) by Newton iterations: f'' = -¼ a^(-3/2)
    let (v, g, h) = fixed_point_hessian(2.0);
    assert!((v - 2f64.sqrt()).abs() < 1e-15);
    assert!((g - 0.5 / 2f64.sqrt()).abs() < 1e-12);
    assert!((h[0] + 0.25 * 2f64.powf(-1.5)).abs() < 1e-12, "{h:?}");
    let (_, g1, hv) = fixed_point_hvp(2.0, 3.0);
    assert_eq!(g1, g);
    assert!((hv - 3.0 * h[0]).abs() < 1e-14);

    // d²/da² of a·sin a = 2cos a - a sin a
    let a: f64 = 0.8;
    let (_, _, h) = sq_hessian(a);
    assert!((h[0] - (2.0 * a.cos() - a * a.sin())).abs() < 1e-14);

    let p = [0.5, -0.4, 1.2];
    let q = [0.3, 0.9];
    let (_, (gp, gq), h) = arrays_hessian(p, &q);
    assert_eq!(h.len(), 25);
    let (_, (gp1, gq1)) = arrays_grad(p, &q);
    assert_eq!((gp, gq), (gp1, gq1));
    let flat = |z: &[f64]| -> Vec<f64> {
        let (_, (gp, gq)) = arrays_grad([z[0], z[1], z[2]], &[z[3], z[4]]);
        gp.iter().chain(gq.iter()).copied().collect()
    };
    let fd = fd_hessian(flat, &[0.5, -0.4, 1.2, 0.3, 0.9]);
    assert_close(&h, &fd, 1e-6, "arrays");
    assert_symmetric(&h, 5, "arrays");

    let (x, y) = (1.3f32, 0.7f32);
    let (_, _, h) = single_hessian(x, y);
    let e = 1e-2f32;
    let gx = |x: f32, y: f32| single_grad(x, y).1;
    let fd00 = (gx(x + e, y).0 - gx(x - e, y).0) / (2.0 * e);
    let fd01 = (gx(x, y + e).0 - gx(x, y - e).0) / (2.0 * e);
    assert!(
        (h[0] - fd00).abs() < 1e-2 * (1.0 + fd00.abs()),
        "{} vs {fd00}",
        h[0]
    );
    assert!(
        (h[1] - fd01).abs() < 1e-2 * (1.0 + fd01.abs()),
        "{} vs {fd01}",
        h[1]
    );
    assert!((h[1] - h[2]).abs() < 1e-4);
}

/// A passive helper on constants (as ADBench GMM's `log_gamma_distrib`).
fn log_gamma_like(a: f64, p: usize) -> f64 {
    (0..p).map(|j| (a + j as f64).ln()).sum()
}

fn count_positive(n: usize) -> usize {
    n / 2
}

#[differentiate(order = 2)]
fn with_passive_calls(x: &[f64], y: f64) -> f64 {
    let c = log_gamma_like(0.5 * x.len() as f64, 3);
    let k = count_positive(x.len());
    let mut s = c * y;
    for i in 0..k {
        s += (x[i] * y).sin() * c;
    }
    s * s
}

#[test]
fn passive_helper_calls() {
    let x = [0.4, -0.3, 0.9, 0.2];
    check(
        "with_passive_calls",
        &[0.4, -0.3, 0.9, 0.2, 0.7],
        &|p| {
            let (a, b) = pair(p);
            let (v, (gx, gy)) = with_passive_calls_grad(&a, b);
            (v, join(gx, gy))
        },
        &|p| {
            let (a, b) = pair(p);
            let (v, (gx, gy), h) = with_passive_calls_hessian(&a, b);
            (v, join(gx, gy), h)
        },
        &|p, d| {
            let (a, b) = pair(p);
            let (da, db) = pair(d);
            let (v, (gx, gy), (hx, hy)) = with_passive_calls_hvp(&a, &da, b, db);
            (v, join(gx, gy), join(hx, hy))
        },
    );
    let _ = x;
}

/// The runtime's Newton methods on generated Hessians and HVPs: far fewer
/// iterations than L-BFGS on the gradient.
#[test]
fn newton_on_generated_second_derivatives() {
    use autodiff::runtime::{Lbfgs, Newton, NewtonCg, Stop};
    // from the origin (from (-1.2, 1, -1.2, ..) the extended Rosenbrock
    // function also has a local minimum near x₀ = -1)
    let x0 = vec![0.0; 10];
    let stop = Stop::new().grad_tol(1e-9).max_iters(1000);
    let newton = Newton::new()
        .with_stop(stop)
        .minimize(
            |x, g, h| {
                let (v, gr, hs) = rosenbrock_hessian(x);
                g.copy_from_slice(&gr);
                h.copy_from_slice(&hs);
                v
            },
            &x0,
        )
        .unwrap();
    let cg = NewtonCg::new()
        .with_stop(stop)
        .minimize(
            |x, v, g, hv| {
                let (val, gr, h) = rosenbrock_hvp(x, v);
                g.copy_from_slice(&gr);
                hv.copy_from_slice(&h);
                val
            },
            &x0,
        )
        .unwrap();
    let lbfgs = Lbfgs::new()
        .with_stop(stop)
        .minimize(|x, g| rosenbrock_adjoint(x, g, 1.0), &x0)
        .unwrap();
    for r in [&newton, &cg, &lbfgs] {
        assert!(r.converged(), "{r}");
        assert!(r.x.iter().all(|v| (v - 1.0).abs() < 1e-6), "{:?}", r.x);
    }
    // measured: Newton 25, Newton-CG 34, L-BFGS 67
    assert!(newton.iterations <= 35, "{}", newton.iterations);
    assert!(cg.iterations <= 45, "{}", cg.iterations);
    assert!(
        lbfgs.iterations >= 2 * newton.iterations,
        "{} vs {}",
        lbfgs.iterations,
        newton.iterations
    );
}

// ---- found by the generated second-order suite (tests/gen_17.rs, gen_18.rs)

const K_RATE: f64 = 0.7;
const K_IDX: usize = 1;

/// `std` float constants and `const` items: dual constants (a float one as a
/// method's receiver or argument), integer ones stay integers.
#[differentiate(order = 2)]
fn consts_mixed(x: &[f64]) -> f64 {
    const C: f64 = -0.38;
    let s = x[0].mul_add(std::f64::consts::LN_2, x[1]) * x[2];
    let t = if x[0] < 0.0 {
        std::f64::consts::PI
    } else {
        x[1]
    };
    let u: f64 = std::f64::consts::SQRT_2;
    s * t
        + u * x[0]
        + K_RATE.atan2(1.0 + x[1] * x[1])
        + x[K_IDX].mul_add(K_RATE, x[0]) * C.cos()
        + K_RATE.min(x[2])
}

/// `b[i] += <reads of b>`: on a dual number `AddAssign` borrows the place before
/// the right side runs, so the rewrite evaluates the right side first.
#[differentiate(order = 2)]
fn buffer_reads_itself(x: &[f64]) -> f64 {
    let mut buf = vec![0.0; 3];
    for i in 0..3 {
        buf[i] = x[i] * x[(i + 1) % 3];
    }
    for i in 0..3 {
        buf[i] += buf[2] * buf[(i + 1) % 3];
        buf[i] *= 1.0 + buf[0].sin();
    }
    buf[0] + buf[1] * buf[2]
}

/// `let mut b: [f64; 3] = [0.0; 3];` written with constants only and read by a
/// float method in a condition: the adjoint kept `[0.0; 3]` without its type
/// (E0689 in first-order code too).
#[differentiate(order = 2)]
fn const_array_cond(x: &[f64]) -> f64 {
    let mut ar: [f64; 3] = [0.0; 3];
    ar[K_IDX] += -0.62;
    let mut s = x[0] * x[1];
    if ar[1].exp() > 0.5 {
        s *= x[2];
    } else {
        s /= 1.0 + ar[2];
    }
    s + ar[1] * x[0]
}

#[differentiate(order = 2)]
fn slice_callee(x: f64, w: &[f64]) -> f64 {
    x * w[0] + w[1] * w[2]
}

fn plain_of_slice(w: &[f64]) -> f64 {
    w[0] - w[1]
}

/// Calls in conditions (passive) whose arguments are slices of dual numbers (a
/// parameter, a local buffer): they take the values (`&[f64]`).
#[differentiate(order = 2)]
fn passive_slice_calls(x: &[f64]) -> f64 {
    let mut buf = vec![0.0; 3];
    for i in 0..3 {
        buf[i] = x[i] * x[0];
    }
    let mut s = x[1] * x[2];
    if slice_callee(x[0], x) > 0.1 && plain_of_slice(&buf) < 3.0 {
        s += x[0] * x[1].sin();
    }
    let b = slice_callee(x[1], &buf).is_nan();
    if !b {
        s *= x[2];
    }
    s
}

struct Fields {
    k: f64,
    m: f64,
    n: usize,
    v: Vec<f64>,
}

impl Fields {
    /// Fields of `self`: a float one read as a value or a method's receiver or
    /// argument is a dual constant; others (`usize`, `Vec`) stay themselves.
    #[differentiate(order = 2)]
    fn fields(&self, x: &[f64]) -> f64 {
        let mut s: f64 = self.k;
        s += x[0];
        let t = self.k.atan2(s.max(x[1].mul_add(x[2], x[0])));
        let u = self.m.min(x[1]) + x[2].mul_add(s, self.m);
        let mut z = 0.0;
        for i in 0..self.n {
            z += self.v[i] * x[i] + self.v.len() as f64 * x[i];
        }
        s * t + u + z
    }
}

#[test]
fn generated_suite_regressions() {
    let x = [0.4, -0.3, 0.9];
    check(
        "consts_mixed",
        &x,
        &|p| consts_mixed_grad(p),
        &|p| consts_mixed_hessian(p),
        &|p, v| consts_mixed_hvp(p, v),
    );
    check(
        "buffer_reads_itself",
        &x,
        &|p| buffer_reads_itself_grad(p),
        &|p| buffer_reads_itself_hessian(p),
        &|p, v| buffer_reads_itself_hvp(p, v),
    );
    check(
        "const_array_cond",
        &x,
        &|p| const_array_cond_grad(p),
        &|p| const_array_cond_hessian(p),
        &|p, v| const_array_cond_hvp(p, v),
    );
    // both branches of each condition
    for x in [[0.4, 0.3, 0.9], [0.2, -0.3, 0.9]] {
        check(
            "passive_slice_calls",
            &x,
            &|p| passive_slice_calls_grad(p),
            &|p| passive_slice_calls_hessian(p),
            &|p, v| passive_slice_calls_hvp(p, v),
        );
    }
    let f = Fields {
        k: 0.5,
        m: -0.2,
        n: 2,
        v: vec![1.0, 2.0],
    };
    check(
        "fields",
        &x,
        &|p| f.fields_grad(p),
        &|p| f.fields_hessian(p),
        &|p, v| f.fields_hvp(p, v),
    );
    // the values are the plain function's
    assert_eq!(consts_mixed_grad(&x).0, consts_mixed(&x));
    assert_eq!(const_array_cond_grad(&x).0, const_array_cond(&x));
    assert_eq!(passive_slice_calls_grad(&x).0, passive_slice_calls(&x));
    assert_eq!(f.fields_grad(&x).0, f.fields(&x));
}

/// The conditions of `passive_slice_calls` read the values: at (0.2, -0.3, 0.9)
/// the first is false (`slice_callee` = x0·x0 + x1·x2 = 0.04 - 0.27 < 0.1), so H
/// is that of (x1·x2)·x2.
#[test]
fn passive_slice_calls_take_values() {
    let x = [0.2, -0.3, 0.9];
    let (_, _, h) = passive_slice_calls_hessian(&x);
    let want = [
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        2.0 * x[2],
        0.0,
        2.0 * x[2],
        2.0 * x[1],
    ];
    for k in 0..9 {
        assert!(
            (h[k] - want[k]).abs() < 1e-12,
            "{k}: {} vs {}",
            h[k],
            want[k]
        );
    }
}
