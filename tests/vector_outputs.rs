//! Vector-valued functions: `[F; M]` and tuple return values, `&mut [F]` /
//! `&mut [F; N]` out-parameters (also read, also with a float return value), and
//! `_jacobian`. Every form is checked against central differences, forward against
//! reverse (`⟨ȳ, J·v⟩ = ⟨Jᵀȳ, v⟩`), accumulation into non-zero shadows with a seed
//! other than one, the primal value unchanged, and the out-parameters' shadows zero
//! after `_adjoint`.
#![allow(
    clippy::needless_range_loop,
    clippy::type_complexity,
    // a tuple variable returned and deferred `let`s are forms tested
    clippy::let_and_return,
    clippy::needless_late_init
)]

mod common;
use autodiff::differentiate;
use common::{assert_close, Rng};

/// A vector function of a flat input vector, in all three modes.
struct Case<'a> {
    name: &'a str,
    /// The primal: inputs → outputs.
    f: &'a dyn Fn(&[f64]) -> Vec<f64>,
    /// Forward mode: inputs, input tangent → (outputs, output tangent).
    fwd: &'a dyn Fn(&[f64], &[f64]) -> (Vec<f64>, Vec<f64>),
    /// Reverse mode: inputs, output cotangent, input shadows (accumulated into) → outputs.
    rev: &'a dyn Fn(&[f64], &[f64], &mut [f64]) -> Vec<f64>,
    /// `_jacobian`: inputs → (outputs, row-major Jacobian).
    jac: &'a dyn Fn(&[f64]) -> (Vec<f64>, Vec<f64>),
}

/// Central differences, row-major `m × n`.
fn fd_jacobian(f: &dyn Fn(&[f64]) -> Vec<f64>, x: &[f64]) -> Vec<f64> {
    let m = f(x).len();
    let n = x.len();
    let mut j = vec![0.0; m * n];
    for c in 0..n {
        let h = 1e-6 * (1.0 + x[c].abs());
        let mut xp = x.to_vec();
        let mut xm = x.to_vec();
        xp[c] += h;
        xm[c] -= h;
        let (fp, fm) = (f(&xp), f(&xm));
        for r in 0..m {
            j[r * n + c] = (fp[r] - fm[r]) / (2.0 * h);
        }
    }
    j
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn check(case: &Case, x: &[f64], rng: &mut Rng) {
    let name = case.name;
    let y = (case.f)(x);
    let (m, n) = (y.len(), x.len());
    let jfd = fd_jacobian(case.f, x);
    // forward: every column against the differences, the value unchanged
    for c in 0..n {
        let mut v = vec![0.0; n];
        v[c] = 1.0;
        let (y1, t) = (case.fwd)(x, &v);
        assert_eq!(y1, y, "{name}: _fwd's value");
        assert_eq!(t.len(), m);
        for r in 0..m {
            assert_close(
                t[r],
                jfd[r * n + c],
                1e-6,
                &format!("{name}: _fwd J[{r},{c}]"),
            );
        }
    }
    // reverse: every row, accumulated into shadows that start non-zero, seed ≠ 1
    for r in 0..m {
        let mut ybar = vec![0.0; m];
        ybar[r] = 2.5;
        let start = rng.vec(n, -1.0, 1.0);
        let mut xbar = start.clone();
        let y2 = (case.rev)(x, &ybar, &mut xbar);
        assert_eq!(y2, y, "{name}: _adjoint's value");
        for c in 0..n {
            assert_close(
                xbar[c] - start[c],
                2.5 * jfd[r * n + c],
                1e-6,
                &format!("{name}: _adjoint J[{r},{c}]"),
            );
        }
    }
    // the modes agree: ⟨ȳ, J·v⟩ = ⟨Jᵀȳ, v⟩ for random directions
    for _ in 0..3 {
        let v = rng.vec(n, -1.0, 1.0);
        let ybar = rng.vec(m, -1.0, 1.0);
        let (_, jv) = (case.fwd)(x, &v);
        let mut jty = vec![0.0; n];
        (case.rev)(x, &ybar, &mut jty);
        let (l, rr) = (dot(&ybar, &jv), dot(&jty, &v));
        assert!(
            (l - rr).abs() <= 1e-12 * (1.0 + l.abs()),
            "{name}: ⟨ȳ, Jv⟩ = {l} but ⟨Jᵀȳ, v⟩ = {rr}"
        );
    }
    // `_jacobian`: the value, and the differences
    let (y3, j) = (case.jac)(x);
    assert_eq!(y3, y, "{name}: _jacobian's value");
    assert_eq!(j.len(), m * n, "{name}: _jacobian's size");
    for k in 0..m * n {
        assert_close(j[k], jfd[k], 1e-6, &format!("{name}: _jacobian[{k}]"));
    }
}

// ---- return values ----

#[differentiate]
fn polar(r: f64, t: f64) -> [f64; 2] {
    [r * t.cos(), r * t.sin()]
}

#[test]
fn array_literal() {
    let case = Case {
        name: "polar",
        f: &|x| polar(x[0], x[1]).to_vec(),
        fwd: &|x, v| {
            let (y, t) = polar_fwd(x[0], v[0], x[1], v[1]);
            (y.to_vec(), t.to_vec())
        },
        rev: &|x, yb, xb| {
            let (mut a, mut b) = (xb[0], xb[1]);
            let y = polar_adjoint(x[0], &mut a, x[1], &mut b, [yb[0], yb[1]]);
            xb[0] = a;
            xb[1] = b;
            y.to_vec()
        },
        jac: &|x| {
            let (y, j) = polar_jacobian(x[0], x[1]);
            (y.to_vec(), j)
        },
    };
    check(&case, &[2.0, 0.7], &mut Rng::new(1));
    // the documented layout: row-major, rows = outputs
    let (_, j) = polar_jacobian(2.0, 0.5);
    let want = [
        0.5f64.cos(),
        -2.0 * 0.5f64.sin(),
        0.5f64.sin(),
        2.0 * 0.5f64.cos(),
    ];
    for k in 0..4 {
        assert_close(j[k], want[k], 1e-15, "polar_jacobian layout");
    }
}

#[differentiate]
fn pair(x: f64, y: f64) -> (f64, f64) {
    let s = x * y;
    (s.exp(), x.sin() / y)
}

#[test]
fn tuple_literal() {
    let case = Case {
        name: "pair",
        f: &|x| {
            let (a, b) = pair(x[0], x[1]);
            vec![a, b]
        },
        fwd: &|x, v| {
            let ((a, b), (da, db)) = pair_fwd(x[0], v[0], x[1], v[1]);
            (vec![a, b], vec![da, db])
        },
        rev: &|x, yb, xb| {
            let (mut p, mut q) = (xb[0], xb[1]);
            let (a, b) = pair_adjoint(x[0], &mut p, x[1], &mut q, (yb[0], yb[1]));
            xb[0] = p;
            xb[1] = q;
            vec![a, b]
        },
        jac: &|x| {
            let ((a, b), j) = pair_jacobian(x[0], x[1]);
            (vec![a, b], j)
        },
    };
    check(&case, &[0.3, 1.7], &mut Rng::new(2));
}

/// A tuple variable and `sin_cos` as returned values.
#[differentiate]
fn tuple_forms(x: f64, y: f64) -> (f64, f64) {
    if x > 10.0 {
        return (x * y).sin_cos();
    }
    let p = (x * y, y - x);
    p
}

#[test]
fn tuple_variable_and_sin_cos() {
    let f = |x: &[f64]| {
        let (a, b) = tuple_forms(x[0], x[1]);
        vec![a, b]
    };
    for x in [[0.5, 2.0], [11.0, 0.3]] {
        let case = Case {
            name: "tuple_forms",
            f: &f,
            fwd: &|x, v| {
                let ((a, b), (da, db)) = tuple_forms_fwd(x[0], v[0], x[1], v[1]);
                (vec![a, b], vec![da, db])
            },
            rev: &|x, yb, xb| {
                let (mut p, mut q) = (xb[0], xb[1]);
                let (a, b) = tuple_forms_adjoint(x[0], &mut p, x[1], &mut q, (yb[0], yb[1]));
                xb[0] = p;
                xb[1] = q;
                vec![a, b]
            },
            jac: &|x| {
                let ((a, b), j) = tuple_forms_jacobian(x[0], x[1]);
                (vec![a, b], j)
            },
        };
        check(&case, &x, &mut Rng::new(3));
    }
}

/// A local output buffer written in a loop and in branches, an early return of a
/// literal, and a tail `if` of literals.
#[differentiate]
fn moments(x: &[f64], k: f64) -> [f64; 3] {
    if x.is_empty() {
        return [0.0, 0.0, 0.0];
    }
    let mut m = [0.0; 3];
    for i in 0..x.len() {
        let v = x[i] * k;
        m[0] += v;
        if v > 0.0 {
            m[1] += v * v;
        } else {
            m[2] -= v.exp();
        }
        if m[0] > 100.0 {
            return [m[0], m[1], 1.0];
        }
    }
    m[2] *= m[0];
    if k > 5.0 {
        [m[2], m[1], m[0]]
    } else {
        m
    }
}

fn moments_case() -> (
    impl Fn(&[f64]) -> Vec<f64>,
    impl Fn(&[f64], &[f64]) -> (Vec<f64>, Vec<f64>),
    impl Fn(&[f64], &[f64], &mut [f64]) -> Vec<f64>,
    impl Fn(&[f64]) -> (Vec<f64>, Vec<f64>),
) {
    // inputs: x (all but the last), k (the last)
    let split = |x: &[f64]| (x[..x.len() - 1].to_vec(), x[x.len() - 1]);
    (
        move |x| {
            let (xs, k) = split(x);
            moments(&xs, k).to_vec()
        },
        move |x, v| {
            let (xs, k) = split(x);
            let (vs, vk) = split(v);
            let (y, t) = moments_fwd(&xs, &vs, k, vk);
            (y.to_vec(), t.to_vec())
        },
        move |x, yb, xb| {
            let (xs, k) = split(x);
            let n = xs.len();
            let mut dxs = xb[..n].to_vec();
            let mut dk = xb[n];
            let y = moments_adjoint(&xs, &mut dxs, k, &mut dk, [yb[0], yb[1], yb[2]]);
            xb[..n].copy_from_slice(&dxs);
            xb[n] = dk;
            y.to_vec()
        },
        move |x| {
            let (xs, k) = split(x);
            let (y, j) = moments_jacobian(&xs, k);
            (y.to_vec(), j)
        },
    )
}

#[test]
fn local_buffer_loops_branches_early_returns() {
    let (f, fwd, rev, jac) = moments_case();
    let case = Case {
        name: "moments",
        f: &f,
        fwd: &fwd,
        rev: &rev,
        jac: &jac,
    };
    let mut rng = Rng::new(4);
    // tail `m` (k ≤ 5), tail literal (k > 5), the early return in the loop
    for (xs, k) in [
        (vec![0.5, -1.0, 2.0, -0.3], 1.5),
        (vec![0.5, -1.0, 2.0], 6.0),
        (vec![30.0, 40.0, 50.0, 1.0], 1.0),
    ] {
        let mut x = xs.clone();
        x.push(k);
        check(&case, &x, &mut rng);
    }
    assert_eq!(moments(&[], 1.0), [0.0; 3]);
    assert_eq!(moments_jacobian(&[], 1.0), ([0.0; 3], vec![0.0; 3]));
}

/// `match` in tail position, `[v; M]`, a generic float and a const-generic length.
#[differentiate]
fn spread<T: autodiff::Float, const N: usize>(x: T, mode: u8) -> [T; N] {
    match mode {
        0 => [x * x; N],
        _ => {
            let mut b = [T::zero(); N];
            for i in 0..N {
                b[i] = x.powi(i as i32 + 1);
            }
            b
        }
    }
}

#[test]
fn match_repeat_generic() {
    for mode in [0u8, 1] {
        let x = 1.3f64;
        let (y, t) = spread_fwd::<f64, 4>(x, 1.0, mode);
        assert_eq!(y, spread::<f64, 4>(x, mode));
        let mut dx = 0.25;
        let y2 = spread_adjoint::<f64, 4>(x, &mut dx, mode, [1.0, -1.0, 0.5, 2.0]);
        assert_eq!(y2, y);
        let mut want = 0.0;
        for i in 0..4 {
            let d = if mode == 0 {
                2.0 * x
            } else {
                (i as f64 + 1.0) * x.powi(i as i32)
            };
            assert_close(t[i], d, 1e-14, "spread tangent");
            want += d * [1.0, -1.0, 0.5, 2.0][i];
        }
        assert_close(dx - 0.25, want, 1e-14, "spread adjoint");
        let (y3, j) = spread_jacobian::<f32, 3>(1.5, mode);
        assert_eq!(y3, spread::<f32, 3>(1.5, mode));
        assert_eq!(j.len(), 3);
        let want = if mode == 0 {
            [3.0, 3.0, 3.0]
        } else {
            [1.0, 3.0, 6.75]
        };
        for i in 0..3 {
            assert!((j[i] - want[i]).abs() < 1e-5, "spread_jacobian[{i}]");
        }
    }
}

// ---- out-parameters ----

/// The residual form: `out: &mut [f64]`, only `p` active.
#[differentiate(wrt(p))]
fn residuals(p: &[f64], t: &[f64], y: &[f64], out: &mut [f64]) {
    for i in 0..t.len() {
        out[i] = p[0] * (-p[1] * t[i]).exp() - y[i];
    }
}

fn residual_data() -> (Vec<f64>, Vec<f64>) {
    let t: Vec<f64> = (0..6).map(|i| i as f64 * 0.5).collect();
    let y: Vec<f64> = t.iter().map(|t| 2.0 * (-0.4 * t).exp() + 0.01).collect();
    (t, y)
}

#[test]
fn out_parameter_residuals() {
    let (t, y) = residual_data();
    let m = t.len();
    let case = Case {
        name: "residuals",
        f: &|p| {
            let mut out = vec![0.0; m];
            residuals(p, &t, &y, &mut out);
            out
        },
        fwd: &|p, v| {
            let mut out = vec![0.0; m];
            // the tangent buffer's old contents do not matter
            let mut dout = vec![7.0; m];
            residuals_fwd(p, v, &t, &y, &mut out, &mut dout);
            (out, dout)
        },
        rev: &|p, yb, pb| {
            let mut out = vec![0.0; m];
            let mut dout = yb.to_vec();
            residuals_adjoint(p, pb, &t, &y, &mut out, &mut dout);
            assert!(dout.iter().all(|d| *d == 0.0), "dout is zero on exit");
            out
        },
        jac: &|p| {
            let mut out = vec![0.0; m];
            let j = residuals_jacobian(p, &t, &y, &mut out);
            (out, j)
        },
    };
    // 2 inputs < 6 outputs: forward sweeps
    check(&case, &[1.8, 0.35], &mut Rng::new(5));
}

/// An out-parameter that is also read: accumulated into (`+=`), read after it is
/// written, overwritten, and written through `iter_mut`; with a float return value.
#[differentiate(wrt(x, a))]
fn stencil(x: &[f64], a: f64, out: &mut [f64; 4]) -> f64 {
    out[0] = a * x[0];
    out[1] += x[1] * x[0];
    out[2] = out[0] * out[1];
    out[0] = out[0].sin() + out[2];
    let mut s = 0.0;
    for i in 0..4 {
        if out[i] > 0.0 {
            out[3] += out[i] * a;
        }
        s += out[i];
    }
    for o in out.iter_mut() {
        *o *= a;
    }
    s * x[2]
}

#[test]
fn out_parameter_also_read() {
    let entry = [0.5, -0.25, 3.0, 1.0];
    let split = |v: &[f64]| (v[..3].to_vec(), v[3]);
    let case = Case {
        name: "stencil",
        f: &|v| {
            let (x, a) = split(v);
            let mut out = entry;
            let s = stencil(&x, a, &mut out);
            let mut r = vec![s];
            r.extend(out);
            r
        },
        fwd: &|v, dv| {
            let ((x, a), (dx, da)) = (split(v), split(dv));
            let mut out = entry;
            let mut dout = [9.0; 4];
            let (s, ds) = stencil_fwd(&x, &dx, a, da, &mut out, &mut dout);
            let (mut r, mut dr) = (vec![s], vec![ds]);
            r.extend(out);
            dr.extend(dout);
            (r, dr)
        },
        rev: &|v, yb, vb| {
            let (x, a) = split(v);
            let mut dx = vb[..3].to_vec();
            let mut da = vb[3];
            let mut out = entry;
            let mut dout = [yb[1], yb[2], yb[3], yb[4]];
            let s = stencil_adjoint(&x, &mut dx, a, &mut da, &mut out, &mut dout, yb[0]);
            assert_eq!(dout, [0.0; 4], "dout is zero on exit");
            vb[..3].copy_from_slice(&dx);
            vb[3] = da;
            let mut r = vec![s];
            r.extend(out);
            r
        },
        jac: &|v| {
            let (x, a) = split(v);
            let mut out = entry;
            let (s, j) = stencil_jacobian(&x, a, &mut out);
            let mut r = vec![s];
            r.extend(out);
            (r, j)
        },
    };
    let mut rng = Rng::new(6);
    // 4 inputs ≤ 5 outputs: forward sweeps
    check(&case, &[0.7, 1.2, -0.4, 0.9], &mut rng);
    check(&case, &[-0.7, 0.2, 1.4, 1.3], &mut rng);
}

/// More inputs than outputs (reverse sweeps in `_jacobian`), an array return value
/// and an out-parameter together, a passive float, and a `wrt` subset.
#[differentiate(wrt(w, b))]
fn layer(w: &[f64], b: [f64; 2], x: &[f64], scale: f64, out: &mut [f64]) -> [f64; 2] {
    let n = x.len();
    let mut acc = [0.0; 2];
    acc[0] = b[0];
    acc[1] = b[1];
    for i in 0..n {
        acc[0] += w[i] * x[i];
        acc[1] += w[n + i] * x[i];
    }
    for k in 0..out.len() {
        out[k] = (acc[k % 2] * scale).tanh();
    }
    [acc[0] * acc[1], acc[0] - acc[1]]
}

#[test]
fn reverse_sweeps_and_wrt_subset() {
    let x = [0.3, -0.5, 0.8];
    let scale = 0.7;
    let nw = 2 * x.len();
    let mo = 3;
    let split = |v: &[f64]| (v[..nw].to_vec(), [v[nw], v[nw + 1]]);
    let case = Case {
        name: "layer",
        f: &|v| {
            let (w, b) = split(v);
            let mut out = vec![0.0; mo];
            let r = layer(&w, b, &x, scale, &mut out);
            let mut y = r.to_vec();
            y.extend(out);
            y
        },
        fwd: &|v, dv| {
            let ((w, b), (dw, db)) = (split(v), split(dv));
            let mut out = vec![0.0; mo];
            let mut dout = vec![0.0; mo];
            let (r, dr) = layer_fwd(&w, &dw, b, db, &x, scale, &mut out, &mut dout);
            let (mut y, mut dy) = (r.to_vec(), dr.to_vec());
            y.extend(out);
            dy.extend(dout);
            (y, dy)
        },
        rev: &|v, yb, vb| {
            let (w, b) = split(v);
            let mut dw = vb[..nw].to_vec();
            let mut db = [vb[nw], vb[nw + 1]];
            let mut out = vec![0.0; mo];
            let mut dout = yb[2..].to_vec();
            let r = layer_adjoint(
                &w,
                &mut dw,
                b,
                &mut db,
                &x,
                scale,
                &mut out,
                &mut dout,
                [yb[0], yb[1]],
            );
            assert!(dout.iter().all(|d| *d == 0.0));
            vb[..nw].copy_from_slice(&dw);
            vb[nw] = db[0];
            vb[nw + 1] = db[1];
            let mut y = r.to_vec();
            y.extend(out);
            y
        },
        jac: &|v| {
            let (w, b) = split(v);
            let mut out = vec![0.0; mo];
            let (r, j) = layer_jacobian(&w, b, &x, scale, &mut out);
            let mut y = r.to_vec();
            y.extend(out);
            (y, j)
        },
    };
    // 8 inputs > 5 outputs: reverse sweeps
    let mut rng = Rng::new(7);
    let v = rng.vec(nw + 2, -1.0, 1.0);
    check(&case, &v, &mut rng);
}

/// A function with only out-parameters and a branch on an active value that
/// writes different elements.
#[differentiate]
fn split_write(x: f64, y: f64, out: &mut [f64]) {
    if x > y {
        out[0] = x - y;
        out[1] = 0.0;
    } else {
        out[1] = (y - x).sqrt();
        out[0] = x * y;
    }
    out[2] = out[0] + out[1];
}

#[test]
fn out_parameter_branches() {
    let case = Case {
        name: "split_write",
        f: &|v| {
            let mut out = vec![0.0; 3];
            split_write(v[0], v[1], &mut out);
            out
        },
        fwd: &|v, dv| {
            let (mut out, mut dout) = (vec![0.0; 3], vec![0.0; 3]);
            split_write_fwd(v[0], dv[0], v[1], dv[1], &mut out, &mut dout);
            (out, dout)
        },
        rev: &|v, yb, vb| {
            let mut out = vec![0.0; 3];
            let mut dout = yb.to_vec();
            let (mut a, mut b) = (vb[0], vb[1]);
            split_write_adjoint(v[0], &mut a, v[1], &mut b, &mut out, &mut dout);
            vb[0] = a;
            vb[1] = b;
            out
        },
        jac: &|v| {
            let mut out = vec![0.0; 3];
            let j = split_write_jacobian(v[0], v[1], &mut out);
            (out, j)
        },
    };
    let mut rng = Rng::new(8);
    check(&case, &[2.0, 0.5], &mut rng);
    check(&case, &[0.5, 2.0], &mut rng);
}

// ---- ADBench bundle adjustment ----

/// ADBench's BA reprojection error of one observation (`computeReprojError`): the
/// 2 residuals as functions of the camera (11), the point (3) and the weight.
#[differentiate(wrt(cam, x, w))]
fn reproj(cam: &[f64; 11], x: &[f64; 3], w: f64, feat: &[f64; 2]) -> [f64; 2] {
    // X − C, then Rodrigues' rotation
    let mut p = [0.0; 3];
    for i in 0..3 {
        p[i] = x[i] - cam[3 + i];
    }
    let sqtheta = cam[0] * cam[0] + cam[1] * cam[1] + cam[2] * cam[2];
    let mut q = [0.0; 3];
    if sqtheta != 0.0 {
        let theta = sqtheta.sqrt();
        let (s, c) = theta.sin_cos();
        let mut k = [0.0; 3];
        for i in 0..3 {
            k[i] = cam[i] / theta;
        }
        let mut cross = [0.0; 3];
        cross[0] = k[1] * p[2] - k[2] * p[1];
        cross[1] = k[2] * p[0] - k[0] * p[2];
        cross[2] = k[0] * p[1] - k[1] * p[0];
        let t = (k[0] * p[0] + k[1] * p[1] + k[2] * p[2]) * (1.0 - c);
        for i in 0..3 {
            q[i] = p[i] * c + cross[i] * s + k[i] * t;
        }
    } else {
        q[0] = p[0] + cam[1] * p[2] - cam[2] * p[1];
        q[1] = p[1] + cam[2] * p[0] - cam[0] * p[2];
        q[2] = p[2] + cam[0] * p[1] - cam[1] * p[0];
    }
    // projection, radial distortion, focal length and principal point
    let u = q[0] / q[2];
    let v = q[1] / q[2];
    let rsq = u * u + v * v;
    let l = 1.0 + cam[9] * rsq + cam[10] * rsq * rsq;
    [
        w * (u * l * cam[6] + cam[7] - feat[0]),
        w * (v * l * cam[6] + cam[8] - feat[1]),
    ]
}

/// All of BA's residuals into an out-parameter: `2p` reprojection errors, then `p`
/// weight errors `1 − w²`; observation `i` uses camera `i mod n` and point `i mod m`.
#[differentiate(wrt(cams, xs, ws))]
fn ba_residuals(cams: &[f64], xs: &[f64], ws: &[f64], feats: &[f64], out: &mut [f64]) {
    let n = cams.len() / 11;
    let m = xs.len() / 3;
    let p = ws.len();
    for i in 0..p {
        let c = 11 * (i % n);
        let j = 3 * (i % m);
        let p0 = xs[j] - cams[c + 3];
        let p1 = xs[j + 1] - cams[c + 4];
        let p2 = xs[j + 2] - cams[c + 5];
        let (r0, r1, r2) = (cams[c], cams[c + 1], cams[c + 2]);
        let sqtheta = r0 * r0 + r1 * r1 + r2 * r2;
        let q0: f64;
        let q1: f64;
        let q2: f64;
        if sqtheta != 0.0 {
            let theta = sqtheta.sqrt();
            let (s, co) = theta.sin_cos();
            let (k0, k1, k2) = (r0 / theta, r1 / theta, r2 / theta);
            let t = (k0 * p0 + k1 * p1 + k2 * p2) * (1.0 - co);
            q0 = p0 * co + (k1 * p2 - k2 * p1) * s + k0 * t;
            q1 = p1 * co + (k2 * p0 - k0 * p2) * s + k1 * t;
            q2 = p2 * co + (k0 * p1 - k1 * p0) * s + k2 * t;
        } else {
            q0 = p0 + r1 * p2 - r2 * p1;
            q1 = p1 + r2 * p0 - r0 * p2;
            q2 = p2 + r0 * p1 - r1 * p0;
        }
        let u = q0 / q2;
        let v = q1 / q2;
        let rsq = u * u + v * v;
        let l = 1.0 + cams[c + 9] * rsq + cams[c + 10] * rsq * rsq;
        out[2 * i] = ws[i] * (u * l * cams[c + 6] + cams[c + 7] - feats[2 * i]);
        out[2 * i + 1] = ws[i] * (v * l * cams[c + 6] + cams[c + 8] - feats[2 * i + 1]);
        out[2 * p + i] = 1.0 - ws[i] * ws[i];
    }
}

const ADBENCH: &str = "/work/shared/data/adbench";

fn numbers(text: &str) -> Vec<f64> {
    text.split_whitespace()
        .filter_map(|t| t.parse::<f64>().ok())
        .collect()
}

/// ADBench's BA input: (n, m, p, cam, x, w, feat).
fn ba_input(file: &str) -> Option<(usize, usize, usize, [f64; 11], [f64; 3], f64, [f64; 2])> {
    let text = std::fs::read_to_string(format!("{ADBENCH}/data/ba/{file}")).ok()?;
    let v = numbers(&text);
    let mut cam = [0.0; 11];
    cam.copy_from_slice(&v[3..14]);
    let x = [v[14], v[15], v[16]];
    Some((
        v[0] as usize,
        v[1] as usize,
        v[2] as usize,
        cam,
        x,
        v[17],
        [v[18], v[19]],
    ))
}

/// ADBench's ρ(x, y) = |x − y| / max(1, |x| + |y|).
fn rho(x: f64, y: f64) -> f64 {
    (x - y).abs() / (x.abs() + y.abs()).max(1.0)
}

#[test]
fn ba_test_jacobian_matches_adbench() {
    let Some((n, m, p, cam, x, w, feat)) = ba_input("test.txt") else {
        eprintln!("ADBench data not found under {ADBENCH}; skipped");
        return;
    };
    let golden = std::fs::read_to_string(format!("{ADBENCH}/golden/ba_test_J_Manual.txt"))
        .expect("golden Jacobian");
    let lines: Vec<&str> = golden.lines().collect();
    let shape = numbers(lines[0]);
    let rows: Vec<usize> = numbers(lines[2]).iter().map(|v| *v as usize).collect();
    let cols: Vec<usize> = numbers(lines[4]).iter().map(|v| *v as usize).collect();
    let vals = numbers(lines[5]);
    let (nrows, ncols) = (shape[0] as usize, shape[1] as usize);
    assert_eq!((nrows, ncols), (3 * p, 11 * n + 3 * m + p));
    assert_eq!(vals.len(), 31 * p);

    // the full problem, as ADBench builds it
    let cams: Vec<f64> = (0..n).flat_map(|_| cam).collect();
    let xs: Vec<f64> = (0..m).flat_map(|_| x).collect();
    let ws = vec![w; p];
    let feats: Vec<f64> = (0..p).flat_map(|_| feat).collect();
    let mut out = vec![0.0; 3 * p];
    let jac = ba_residuals_jacobian(&cams, &xs, &ws, &feats, &mut out);
    assert_eq!(jac.len(), nrows * ncols);
    // the residuals against ADBench's objective
    let f = numbers(
        &std::fs::read_to_string(format!("{ADBENCH}/golden/ba_test_F_Manual.txt"))
            .expect("golden F"),
    );
    assert_eq!(f.len(), 3 * p);
    for k in 0..3 * p {
        assert!(
            rho(out[k], f[k]) < 1e-8,
            "residual {k}: {} vs {}",
            out[k],
            f[k]
        );
    }
    // every CSR entry, and zeros everywhere else
    let mut seen = vec![false; nrows * ncols];
    for r in 0..nrows {
        for k in rows[r]..rows[r + 1] {
            let at = r * ncols + cols[k];
            seen[at] = true;
            assert!(
                rho(jac[at], vals[k]) < 1e-8,
                "J[{r},{}] = {} but ADBench has {}",
                cols[k],
                jac[at],
                vals[k]
            );
        }
    }
    for (k, s) in seen.iter().enumerate() {
        if !s {
            assert_eq!(jac[k], 0.0, "J[{}] outside the sparsity pattern", k);
        }
    }
    // the per-observation block from `reproj_jacobian` is the same 2×15 block
    let (e, block) = reproj_jacobian(&cam, &x, w, &feat);
    assert!(rho(e[0], f[0]) < 1e-8 && rho(e[1], f[1]) < 1e-8);
    for k in 0..30 {
        assert!(
            rho(block[k], vals[k]) < 1e-8,
            "block[{k}]: {} vs {}",
            block[k],
            vals[k]
        );
    }
}

#[test]
fn ba1_block_matches_adbench() {
    let Some((_, _, _, cam, x, w, feat)) = ba_input("ba1_n49_m7776_p31843.txt") else {
        eprintln!("ADBench data not found under {ADBENCH}; skipped");
        return;
    };
    let text = std::fs::read_to_string(format!(
        "{ADBENCH}/golden/ba1_n49_m7776_p31843_compact_Manual.txt"
    ))
    .expect("golden block");
    // the lines after the headers: residuals (2), w_err (1), row 2i (15), row 2i+1 (15), −2w
    let data: Vec<Vec<f64>> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.contains(':'))
        .map(numbers)
        .collect();
    let (e, block) = reproj_jacobian(&cam, &x, w, &feat);
    for k in 0..2 {
        assert!(rho(e[k], data[0][k]) < 1e-8, "residual {k}");
    }
    for k in 0..15 {
        assert!(
            rho(block[k], data[2][k]) < 1e-8,
            "row 0, {k}: {} vs {}",
            block[k],
            data[2][k]
        );
        assert!(
            rho(block[15 + k], data[3][k]) < 1e-8,
            "row 1, {k}: {} vs {}",
            block[15 + k],
            data[3][k]
        );
    }
    // forward and reverse agree with the Jacobian's rows and columns
    let (_, t) = reproj_fwd(&cam, &[0.0; 11], &x, &[0.0; 3], w, 1.0, &feat);
    assert_close(t[0], block[14], 1e-14, "∂e/∂w by _fwd");
    let (mut dc, mut dx, mut dw) = ([0.0; 11], [0.0; 3], 0.0);
    reproj_adjoint(&cam, &mut dc, &x, &mut dx, w, &mut dw, &feat, [0.0, 1.0]);
    for k in 0..11 {
        assert_close(dc[k], block[15 + k], 1e-14, "row 1 by _adjoint");
    }
}

// ---- more forms ----

/// A loop the reverse sweep may fuse, followed by a nonlinear combination.
#[differentiate]
fn softmax_stats(x: &[f64]) -> [f64; 2] {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[i].exp();
    }
    [s.ln(), s * s]
}

/// Only out-parameters, an early `return;`, an out-parameter read through a view
/// passed to a call, and `iter_mut` with `zip`.
#[differentiate]
fn sum_view(v: &[f64]) -> f64 {
    v[0] * v[1]
}

#[differentiate]
fn out_forms(x: &[f64], out: &mut [f64]) {
    out[0] = x[0] * x[1];
    out[1] = x[1].exp();
    if x[0] > 5.0 {
        out[2] = 0.0;
        return;
    }
    let head = &out[0..2];
    out[2] = sum_view(head);
    for (o, xi) in out.iter_mut().zip(x.iter()) {
        *o += xi * xi;
    }
}

/// An array parameter returned as it is, and a constant element in a tuple.
#[differentiate]
fn pass_array(a: [f64; 3]) -> [f64; 3] {
    a
}

#[differentiate]
fn const_elem(k: f64) -> (f64, f64) {
    (k * k, 1.0)
}

#[test]
fn fused_loop_output() {
    let case = Case {
        name: "softmax_stats",
        f: &|x| softmax_stats(x).to_vec(),
        fwd: &|x, v| {
            let (y, t) = softmax_stats_fwd(x, v);
            (y.to_vec(), t.to_vec())
        },
        rev: &|x, yb, xb| softmax_stats_adjoint(x, xb, [yb[0], yb[1]]).to_vec(),
        jac: &|x| {
            let (y, j) = softmax_stats_jacobian(x);
            (y.to_vec(), j)
        },
    };
    check(&case, &[0.1, -0.4, 0.8, 0.3], &mut Rng::new(9));
}

#[test]
fn out_param_view_call_iter_mut_early_return() {
    let case = Case {
        name: "out_forms",
        f: &|x| {
            let mut out = vec![0.0; 3];
            out_forms(x, &mut out);
            out
        },
        fwd: &|x, v| {
            let (mut out, mut dout) = (vec![0.0; 3], vec![0.0; 3]);
            out_forms_fwd(x, v, &mut out, &mut dout);
            (out, dout)
        },
        rev: &|x, yb, xb| {
            let mut out = vec![0.0; 3];
            let mut dout = yb.to_vec();
            out_forms_adjoint(x, xb, &mut out, &mut dout);
            assert!(dout.iter().all(|d| *d == 0.0));
            out
        },
        jac: &|x| {
            let mut out = vec![0.0; 3];
            let j = out_forms_jacobian(x, &mut out);
            (out, j)
        },
    };
    let mut rng = Rng::new(10);
    check(&case, &[0.5, 1.5], &mut rng);
    check(&case, &[6.0, 0.5], &mut rng);
}

#[test]
fn arrays_passed_through_and_constants() {
    let (y, t) = pass_array_fwd([1.0, 2.0, 3.0], [0.5, -1.0, 2.0]);
    assert_eq!((y, t), ([1.0, 2.0, 3.0], [0.5, -1.0, 2.0]));
    let mut da = [1.0; 3];
    let y = pass_array_adjoint([1.0, 2.0, 3.0], &mut da, [2.0, 3.0, 4.0]);
    assert_eq!((y, da), ([1.0, 2.0, 3.0], [3.0, 4.0, 5.0]));
    let (_, j) = pass_array_jacobian([1.0, 2.0, 3.0]);
    assert_eq!(j, vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
    let (y, j) = const_elem_jacobian(3.0);
    assert_eq!((y, j), ((9.0, 1.0), vec![6.0, 0.0]));
    let ((y, t), _) = (const_elem_fwd(3.0, 1.0), ());
    assert_eq!((y, t), ((9.0, 1.0), (6.0, 0.0)));
}

#[differentiate]
fn scale_into<T: autodiff::Float>(x: &[T], a: T, out: &mut [T]) -> T {
    let mut s = T::zero();
    for i in 0..x.len() {
        out[i] = x[i] * a;
        s = s + out[i] * out[i];
    }
    s
}

#[test]
fn generic_out_parameter() {
    let x = [1.0f32, 2.0, -0.5];
    let mut out = [0.0f32; 3];
    let (s, j) = scale_into_jacobian(&x, 2.0f32, &mut out);
    assert_eq!(out, [2.0, 4.0, -1.0]);
    assert_eq!(s, 21.0);
    // 4 outputs × 4 inputs, row 0 is ∂s: 2·out[i]·a, and Σ 2·out[i]·x[i]
    assert_eq!(&j[0..4], &[8.0, 16.0, -4.0, 21.0]);
    assert_eq!(&j[4..8], &[2.0, 0.0, 0.0, 1.0]);
    let mut dx = [0.0f32; 3];
    let mut da = 0.0f32;
    let mut dout = [1.0f32, 0.0, 0.0];
    let s2 = scale_into_adjoint(&x, &mut dx, 2.0, &mut da, &mut out, &mut dout, 0.0);
    assert_eq!((s2, dx, da, dout), (21.0, [2.0, 0.0, 0.0], 1.0, [0.0; 3]));
}

mod readme {
    use autodiff::differentiate;

    // The README's example, as written there.
    #[differentiate(wrt(p))]
    fn residuals(p: &[f64], t: &[f64], y: &[f64], out: &mut [f64]) {
        for i in 0..t.len() {
            out[i] = p[0] * (-p[1] * t[i]).exp() - y[i];
        }
    }

    #[test]
    fn readme_example() {
        let (t, y) = ([0.0, 1.0, 2.0], [2.0, 1.2, 0.8]);
        let mut out = [0.0; 3];
        let jac = residuals_jacobian(&[2.0, 0.5], &t, &y, &mut out);
        let mut dp = [0.0; 2];
        let mut dout = [1.0, 0.0, 0.0];
        residuals_adjoint(&[2.0, 0.5], &mut dp, &t, &y, &mut out, &mut dout);
        assert_eq!(out[0], 0.0);
        assert_eq!(&jac[0..2], &[1.0, 0.0]);
        assert_eq!(dp, [1.0, 0.0]);
        assert_eq!(dout, [0.0; 3]);
        assert!((jac[3] - (-2.0 * (-0.5f64).exp())).abs() < 1e-15);
    }
}

/// More inputs than outputs and a reverse sweep that restores nothing: `_jacobian`
/// runs the forward sweep once and the reverse sweep once per output row (with a
/// branch whose values are kept in locals, an out-parameter and a float return).
#[differentiate]
fn mix(x: &[f64; 4], out: &mut [f64; 2]) -> f64 {
    let a = x[0] * x[1];
    let b: f64;
    if a > 0.5 {
        let t = a.sqrt();
        b = t * x[2];
    } else {
        b = a.sin() - x[3];
    }
    out[0] = b * x[3];
    out[1] = (a + b).exp();
    a * b
}

#[test]
fn reverse_sweeps_sharing_one_forward_sweep() {
    let split = |v: &[f64]| [v[0], v[1], v[2], v[3]];
    let case = Case {
        name: "mix",
        f: &|v| {
            let mut out = [0.0; 2];
            let s = mix(&split(v), &mut out);
            vec![s, out[0], out[1]]
        },
        fwd: &|v, dv| {
            let (mut out, mut dout) = ([0.0; 2], [0.0; 2]);
            let (s, ds) = mix_fwd(&split(v), &split(dv), &mut out, &mut dout);
            (vec![s, out[0], out[1]], vec![ds, dout[0], dout[1]])
        },
        rev: &|v, yb, vb| {
            let mut dx = split(vb);
            let mut out = [0.0; 2];
            let mut dout = [yb[1], yb[2]];
            let s = mix_adjoint(&split(v), &mut dx, &mut out, &mut dout, yb[0]);
            assert_eq!(dout, [0.0; 2]);
            vb.copy_from_slice(&dx);
            vec![s, out[0], out[1]]
        },
        jac: &|v| {
            let mut out = [0.0; 2];
            let (s, j) = mix_jacobian(&split(v), &mut out);
            (vec![s, out[0], out[1]], j)
        },
    };
    let mut rng = Rng::new(11);
    check(&case, &[0.9, 0.8, -0.3, 0.4], &mut rng);
    check(&case, &[0.2, 0.3, 1.3, -0.4], &mut rng);
}

/// Fewer inputs (7: a scalar, a slice of 4, an array of 2) than outputs (9): the
/// vector forward mode of `_jacobian`, 4 input columns per sweep, over two sweeps
/// that split the slice; with a loop, a branch and a local buffer.
#[differentiate(wrt(a, x, b))]
fn spread_out(a: f64, x: &[f64], b: [f64; 2], k: usize, out: &mut [f64]) -> [f64; 3] {
    let mut acc = vec![0.0; x.len()];
    for i in 0..x.len() {
        acc[i] = (a * x[i]).sin() + b[i % 2];
        if acc[i] > 0.0 {
            acc[i] *= b[1];
        }
    }
    for j in 0..out.len() {
        out[j] = acc[(j + k) % x.len()] * x[j % x.len()];
    }
    [acc[0] + acc[1], a * b[0], acc[3].exp()]
}

#[test]
fn vector_forward_mode_over_several_sweeps() {
    let mo = 6;
    let split = |v: &[f64]| (v[0], v[1..5].to_vec(), [v[5], v[6]]);
    let case = Case {
        name: "spread_out",
        f: &|v| {
            let (a, x, b) = split(v);
            let mut out = vec![0.0; mo];
            let r = spread_out(a, &x, b, 1, &mut out);
            [r.to_vec(), out].concat()
        },
        fwd: &|v, dv| {
            let ((a, x, b), (da, dx, db)) = (split(v), split(dv));
            let (mut out, mut dout) = (vec![0.0; mo], vec![0.0; mo]);
            let (r, dr) = spread_out_fwd(a, da, &x, &dx, b, db, 1, &mut out, &mut dout);
            ([r.to_vec(), out].concat(), [dr.to_vec(), dout].concat())
        },
        rev: &|v, yb, vb| {
            let (a, x, b) = split(v);
            let (mut da, mut dx, mut db) = (vb[0], vb[1..5].to_vec(), [vb[5], vb[6]]);
            let mut out = vec![0.0; mo];
            let mut dout = yb[3..].to_vec();
            let r = spread_out_adjoint(
                a,
                &mut da,
                &x,
                &mut dx,
                b,
                &mut db,
                1,
                &mut out,
                &mut dout,
                [yb[0], yb[1], yb[2]],
            );
            vb[0] = da;
            vb[1..5].copy_from_slice(&dx);
            vb[5] = db[0];
            vb[6] = db[1];
            [r.to_vec(), out].concat()
        },
        jac: &|v| {
            let (a, x, b) = split(v);
            let mut out = vec![0.0; mo];
            let (r, j) = spread_out_jacobian(a, &x, b, 1, &mut out);
            ([r.to_vec(), out].concat(), j)
        },
    };
    let mut rng = Rng::new(12);
    for _ in 0..3 {
        let v = rng.vec(7, -1.5, 1.5);
        check(&case, &v, &mut rng);
    }
}

/// A parameter the body reassigns: every sweep of `_jacobian` starts from its value.
#[differentiate]
fn reassigned(mut x: f64, y: f64, z: f64) -> [f64; 2] {
    x *= y;
    x += z.sin();
    [x * x, x - y]
}

#[test]
fn reassigned_parameter_in_every_sweep() {
    let case = Case {
        name: "reassigned",
        f: &|v| reassigned(v[0], v[1], v[2]).to_vec(),
        fwd: &|v, dv| {
            let (y, t) = reassigned_fwd(v[0], dv[0], v[1], dv[1], v[2], dv[2]);
            (y.to_vec(), t.to_vec())
        },
        rev: &|v, yb, vb| {
            let (mut a, mut b, mut c) = (vb[0], vb[1], vb[2]);
            let y = reassigned_adjoint(v[0], &mut a, v[1], &mut b, v[2], &mut c, [yb[0], yb[1]]);
            vb.copy_from_slice(&[a, b, c]);
            y.to_vec()
        },
        jac: &|v| {
            let (y, j) = reassigned_jacobian(v[0], v[1], v[2]);
            (y.to_vec(), j)
        },
    };
    check(&case, &[0.7, 1.3, 0.4], &mut Rng::new(13));
}
