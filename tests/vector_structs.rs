//! Struct parameters (`#[derive(Differentiable)]`, named in `wrt(..)`) of
//! vector-valued functions (issue 12): `[F; M]` and tuple return values and
//! `&mut [F]` out-parameters. The struct's columns of `_jacobian` are its floats in
//! `Differentiable` order (`write_floats`), then the following parameters'. Every
//! form is checked against central differences column by column, forward against
//! reverse (`⟨ȳ, J·v⟩ = ⟨Jᵀȳ, v⟩`), accumulation into pre-filled shadows with a
//! cotangent other than one, the out-parameters' shadows zero after `_adjoint`, and
//! the primal value; `_jacobian` in both of its paths (forward sweeps when there are
//! no more inputs than outputs, reverse sweeps otherwise).
// Index loops are the forms under test.
#![allow(clippy::needless_range_loop, clippy::type_complexity)]
mod common;

use autodiff::{differentiate, Differentiable, Float};
use common::{assert_close, Rng};

/// A vector function of all its active inputs flattened (the struct's floats in
/// `Differentiable` order, then the other active parameters').
struct Case<'a> {
    name: &'a str,
    /// The primal: inputs → outputs.
    f: &'a dyn Fn(&[f64]) -> Vec<f64>,
    /// Forward mode: inputs, input tangent → (outputs, output tangent).
    fwd: &'a dyn Fn(&[f64], &[f64]) -> (Vec<f64>, Vec<f64>),
    /// Reverse mode: inputs, output cotangent, input shadows (accumulated into) →
    /// outputs; asserts the out-parameters' shadows are zero on exit.
    rev: &'a dyn Fn(&[f64], &[f64], &mut [f64]) -> Vec<f64>,
    /// `_jacobian`: inputs → (outputs, row-major Jacobian).
    jac: &'a dyn Fn(&[f64]) -> (Vec<f64>, Vec<f64>),
}

/// `p` with its floats replaced by `flat[..p.float_len()]`.
fn with<P: Differentiable<f64> + Clone>(p: &P, flat: &[f64]) -> P {
    let mut q = p.clone();
    q.read_floats(flat);
    q
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

/// Which path `_jacobian` takes for `n` inputs and `m` outputs.
#[derive(Debug, PartialEq)]
enum Sweeps {
    Forward,
    Reverse,
}

#[track_caller]
fn check(case: &Case, x: &[f64], sweeps: Sweeps, rng: &mut Rng) {
    let name = case.name;
    let y = (case.f)(x);
    let (m, n) = (y.len(), x.len());
    let path = if n <= m {
        Sweeps::Forward
    } else {
        Sweeps::Reverse
    };
    assert_eq!(path, sweeps, "{name}: {n} inputs, {m} outputs");
    let jfd = fd_jacobian(case.f, x);
    let nonzero = jfd.iter().filter(|v| v.abs() > 1e-8).count();
    assert!(
        nonzero * 2 > m * n,
        "{name}: a Jacobian mostly zero checks little ({nonzero} of {})",
        m * n
    );
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
    // `_jacobian`: the value, and the differences column by column
    let (y3, j) = (case.jac)(x);
    assert_eq!(y3, y, "{name}: _jacobian's value");
    assert_eq!(j.len(), m * n, "{name}: _jacobian's size");
    for c in 0..n {
        for r in 0..m {
            let k = r * n + c;
            assert_close(
                j[k],
                jfd[k],
                1e-6,
                &format!("{name}: _jacobian[{r},{c}]"),
            );
        }
    }
}

// ---- the residual form: `residuals(p: &Model, t, y, out)` ----

#[derive(Clone, Debug, Differentiable)]
struct Decay {
    amp: f64,
    rate: f64,
    label: String,
}

#[differentiate(wrt(p))]
fn residuals(p: &Decay, t: &[f64], y: &[f64], out: &mut [f64]) {
    for i in 0..t.len() {
        out[i] = p.amp * (-p.rate * t[i]).exp() - y[i];
    }
}

fn decay_data(m: usize) -> (Vec<f64>, Vec<f64>) {
    let t: Vec<f64> = (0..m).map(|i| 0.3 + i as f64 * 0.5).collect();
    let y: Vec<f64> = t.iter().map(|t| 2.0 * (-0.4 * t).exp() + 0.01).collect();
    (t, y)
}

#[test]
fn residuals_of_a_struct() {
    let (t, y) = decay_data(6);
    let m = t.len();
    let p0 = Decay {
        amp: 1.8,
        rate: 0.35,
        label: "decay".into(),
    };
    let case = Case {
        name: "residuals",
        f: &|x| {
            let mut out = vec![0.0; m];
            residuals(&with(&p0, x), &t, &y, &mut out);
            out
        },
        fwd: &|x, v| {
            let mut out = vec![0.0; m];
            // the tangent buffer's old contents do not matter
            let mut dout = vec![7.0; m];
            residuals_fwd(&with(&p0, x), &with(&p0, v), &t, &y, &mut out, &mut dout);
            (out, dout)
        },
        rev: &|x, yb, xb| {
            let mut out = vec![0.0; m];
            let mut dout = yb.to_vec();
            let mut dp = with(&p0, xb);
            residuals_adjoint(&with(&p0, x), &mut dp, &t, &y, &mut out, &mut dout);
            assert!(dout.iter().all(|d| *d == 0.0), "dout is zero on exit");
            assert_eq!(dp.label, "decay", "the shadow's other data is kept");
            dp.write_floats(xb);
            out
        },
        jac: &|x| {
            let mut out = vec![0.0; m];
            let j = residuals_jacobian(&with(&p0, x), &t, &y, &mut out);
            (out, j)
        },
    };
    // 2 inputs < 6 outputs: forward sweeps
    check(&case, &[1.8, 0.35], Sweeps::Forward, &mut Rng::new(5));
    // 2 inputs > 1 output: reverse sweeps
    let (t1, y1) = decay_data(1);
    let case1 = Case {
        name: "residuals, one output",
        f: &|x| {
            let mut out = vec![0.0; 1];
            residuals(&with(&p0, x), &t1, &y1, &mut out);
            out
        },
        jac: &|x| {
            let mut out = vec![0.0; 1];
            let j = residuals_jacobian(&with(&p0, x), &t1, &y1, &mut out);
            (out, j)
        },
        fwd: &|x, v| {
            let mut out = vec![0.0; 1];
            let mut dout = vec![7.0; 1];
            residuals_fwd(&with(&p0, x), &with(&p0, v), &t1, &y1, &mut out, &mut dout);
            (out, dout)
        },
        rev: &|x, yb, xb| {
            let mut out = vec![0.0; 1];
            let mut dout = yb.to_vec();
            let mut dp = with(&p0, xb);
            residuals_adjoint(&with(&p0, x), &mut dp, &t1, &y1, &mut out, &mut dout);
            assert!(dout.iter().all(|d| *d == 0.0), "dout is zero on exit");
            dp.write_floats(xb);
            out
        },
    };
    check(&case1, &[1.8, 0.35], Sweeps::Reverse, &mut Rng::new(6));
}
