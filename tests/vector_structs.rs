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
    // every input moves some output: a column misplaced cannot go unseen
    for c in 0..n {
        assert!(
            (0..m).any(|r| jfd[r * n + c].abs() > 1e-8),
            "{name}: column {c} is zero"
        );
    }
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
            assert_close(j[k], jfd[k], 1e-6, &format!("{name}: _jacobian[{r},{c}]"));
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

// ---- every field shape: F, Vec<F>, [F; N], a nested struct, Box<F>, integers ----

#[derive(Clone, Debug, Differentiable)]
struct Inner {
    s: f64,
    v: Vec<f64>,
}

#[derive(Clone, Debug, Differentiable)]
struct Shapes {
    w: Vec<f64>,
    n: usize,
    b: [f64; 2],
    inner: Inner,
    temp: Box<f64>,
    tag: String,
}

fn shapes() -> Shapes {
    Shapes {
        w: vec![0.3, -0.7, 1.2, 0.4, 0.9],
        n: 3,
        b: [0.25, -0.5],
        inner: Inner {
            s: 0.8,
            v: vec![0.6, -0.2],
        },
        temp: Box::new(1.3),
        tag: "shapes".into(),
    }
}

/// Three outputs of 11 floats: reverse sweeps. A loop that overwrites `acc`
/// (the reverse sweep pops its old values: one whole adjoint per row).
#[differentiate(wrt(p))]
fn summary(p: &Shapes, x: &[f64]) -> [f64; 3] {
    let n: usize = p.n;
    let mut acc = p.b[0];
    for i in 0..n {
        acc = acc * p.w[i] + x[i] * p.inner.s;
    }
    let mut q = 0.0;
    for (vi, wi) in p.inner.v.iter().zip(p.w[n..p.w.len()].iter()) {
        q += vi * wi;
    }
    [
        acc * *p.temp,
        (q + p.b[1]).tanh(),
        acc * q + p.w.len() as f64,
    ]
}

/// Straight-line over the same fields, two outputs (a reverse sweep that pops
/// nothing: one forward sweep, then one reverse sweep per row).
#[differentiate(wrt(p))]
fn straight(p: &Shapes) -> (f64, f64) {
    let a = p.w[0] * p.b[1] + p.inner.v[1].sin();
    let b = *p.temp * p.inner.s - p.w[4] * p.w[2] + p.b[0] * p.inner.v[0] + p.w[1] * p.w[3];
    (a * b, a.exp() + b)
}

/// Eleven floats, twelve outputs: forward sweeps in three lanes sweeps (a lane
/// seeded in one sweep is cleared in the next).
#[differentiate(wrt(p))]
fn expand_all(p: &Shapes, x: f64, out: &mut [f64]) {
    for k in 0..p.w.len() {
        out[k] = (p.w[k] * x + p.b[k % 2]).sin() * p.inner.s;
    }
    out[5] = p.inner.v[0] * p.inner.v[1] * *p.temp;
    out[6] = p.b[0] * p.b[1] + p.inner.s;
    for k in 0..5 {
        out[7 + k] = p.w[k] * p.inner.v[k % 2] + *p.temp * p.w[(k + 1) % 5];
    }
}

fn shapes_rev_check(dp: &Shapes) {
    assert_eq!(dp.n, 3, "the shadow's integers are kept");
    assert_eq!(dp.tag, "shapes", "the shadow's other data is kept");
}

#[test]
fn field_shapes_reverse_sweeps() {
    let p0 = shapes();
    let x = [0.5, -1.5, 0.75];
    let case = Case {
        name: "summary",
        f: &|f| summary(&with(&p0, f), &x).to_vec(),
        fwd: &|f, v| {
            let (y, t) = summary_fwd(&with(&p0, f), &with(&p0, v), &x);
            (y.to_vec(), t.to_vec())
        },
        rev: &|f, yb, fb| {
            let mut dp = with(&p0, fb);
            let y = summary_adjoint(&with(&p0, f), &mut dp, &x, [yb[0], yb[1], yb[2]]);
            shapes_rev_check(&dp);
            dp.write_floats(fb);
            y.to_vec()
        },
        jac: &|f| {
            let (y, j) = summary_jacobian(&with(&p0, f), &x);
            (y.to_vec(), j)
        },
    };
    let flat = p0.to_floats();
    assert_eq!(flat.len(), 11);
    check(&case, &flat, Sweeps::Reverse, &mut Rng::new(11));

    let case = Case {
        name: "straight",
        f: &|f| {
            let (a, b) = straight(&with(&p0, f));
            vec![a, b]
        },
        fwd: &|f, v| {
            let ((a, b), (ta, tb)) = straight_fwd(&with(&p0, f), &with(&p0, v));
            (vec![a, b], vec![ta, tb])
        },
        rev: &|f, yb, fb| {
            let mut dp = with(&p0, fb);
            let (a, b) = straight_adjoint(&with(&p0, f), &mut dp, (yb[0], yb[1]));
            shapes_rev_check(&dp);
            dp.write_floats(fb);
            vec![a, b]
        },
        jac: &|f| {
            let ((a, b), j) = straight_jacobian(&with(&p0, f));
            (vec![a, b], j)
        },
    };
    check(&case, &flat, Sweeps::Reverse, &mut Rng::new(12));
}

#[test]
fn field_shapes_forward_sweeps() {
    let p0 = shapes();
    let x = 0.7;
    let m = 12;
    let case = Case {
        name: "expand_all",
        f: &|f| {
            let mut out = vec![0.0; m];
            expand_all(&with(&p0, f), x, &mut out);
            out
        },
        fwd: &|f, v| {
            let mut out = vec![0.0; m];
            let mut dout = vec![-3.0; m];
            expand_all_fwd(&with(&p0, f), &with(&p0, v), x, &mut out, &mut dout);
            (out, dout)
        },
        rev: &|f, yb, fb| {
            let mut out = vec![0.0; m];
            let mut dout = yb.to_vec();
            let mut dp = with(&p0, fb);
            expand_all_adjoint(&with(&p0, f), &mut dp, x, &mut out, &mut dout);
            assert!(dout.iter().all(|d| *d == 0.0), "dout is zero on exit");
            shapes_rev_check(&dp);
            dp.write_floats(fb);
            out
        },
        jac: &|f| {
            let mut out = vec![0.0; m];
            let j = expand_all_jacobian(&with(&p0, f), x, &mut out);
            (out, j)
        },
    };
    check(&case, &p0.to_floats(), Sweeps::Forward, &mut Rng::new(13));
}

// ---- a struct mixed with a slice and a float; a struct passed whole to a call ----

#[derive(Clone, Debug, Differentiable)]
struct Affine {
    a: [f64; 2],
    c: f64,
}

/// Columns: `p`'s three floats, then `x`'s, then `s`. Both a return value and an
/// out-parameter (`2 * x.len()` long), which is also read.
#[differentiate(wrt(p, x, s))]
fn affine(p: &Affine, x: &[f64], s: f64, out: &mut [f64]) -> [f64; 2] {
    let mut tot = 0.0;
    for i in 0..x.len() {
        out[i] += p.a[i % 2] * x[i] * s + p.c;
        tot += out[i] * x[i];
        out[x.len() + i] = (p.c * x[i]).sin() + s;
    }
    [tot, p.c * s + p.a[0] * p.a[1]]
}

fn affine_case<'a>(
    p0: &'a Affine,
    k: usize,
    m0: &'a [f64],
) -> (
    impl Fn(&[f64]) -> Vec<f64> + 'a,
    impl Fn(&[f64], &[f64]) -> (Vec<f64>, Vec<f64>) + 'a,
    impl Fn(&[f64], &[f64], &mut [f64]) -> Vec<f64> + 'a,
    impl Fn(&[f64]) -> (Vec<f64>, Vec<f64>) + 'a,
) {
    // inputs: p (3), x (k), s; outputs: the returned pair, then out (2k)
    let split = move |f: &[f64]| (with(p0, f), f[3..3 + k].to_vec(), f[3 + k]);
    let f = move |f: &[f64]| {
        let (p, x, s) = split(f);
        let mut out = m0.to_vec();
        let r = affine(&p, &x, s, &mut out);
        [&r[..], &out[..]].concat()
    };
    let fwd = move |f: &[f64], v: &[f64]| {
        let ((p, x, s), (dp, dx, ds)) = (split(f), split(v));
        let mut out = m0.to_vec();
        let mut dout = vec![9.0; 2 * k];
        let (r, dr) = affine_fwd(&p, &dp, &x, &dx, s, ds, &mut out, &mut dout);
        ([&r[..], &out[..]].concat(), [&dr[..], &dout[..]].concat())
    };
    let rev = move |f: &[f64], yb: &[f64], fb: &mut [f64]| {
        let (p, x, s) = split(f);
        let (mut dp, mut dx, mut ds) = split(fb);
        let mut out = m0.to_vec();
        let mut dout = yb[2..].to_vec();
        let r = affine_adjoint(
            &p,
            &mut dp,
            &x,
            &mut dx,
            s,
            &mut ds,
            &mut out,
            &mut dout,
            [yb[0], yb[1]],
        );
        assert!(dout.iter().all(|d| *d == 0.0), "dout is zero on exit");
        dp.write_floats(&mut fb[..3]);
        fb[3..3 + k].copy_from_slice(&dx);
        fb[3 + k] = ds;
        [&r[..], &out[..]].concat()
    };
    let jac = move |f: &[f64]| {
        let (p, x, s) = split(f);
        let mut out = m0.to_vec();
        let (r, j) = affine_jacobian(&p, &x, s, &mut out);
        ([&r[..], &out[..]].concat(), j)
    };
    (f, fwd, rev, jac)
}

#[test]
fn struct_mixed_with_slice_and_float() {
    let p0 = Affine {
        a: [0.7, -1.1],
        c: 0.3,
    };
    let mut rng = Rng::new(21);
    // k + 4 inputs, 2k + 2 outputs: 10 and 14 (three lanes sweeps, the struct's
    // lanes cleared after the first), 6 and 6, 5 and 4 (reverse)
    for (k, sweeps) in [
        (6, Sweeps::Forward),
        (2, Sweeps::Forward),
        (1, Sweeps::Reverse),
    ] {
        let m0 = rng.vec(2 * k, -0.5, 0.5);
        let (f, fwd, rev, jac) = affine_case(&p0, k, &m0);
        let case = Case {
            name: &format!("affine, {k} elements"),
            f: &f,
            fwd: &fwd,
            rev: &rev,
            jac: &jac,
        };
        let mut x = p0.to_floats();
        x.extend(rng.vec(k, -1.0, 1.0));
        x.push(0.9);
        check(&case, &x, sweeps, &mut rng);
    }
}

// ---- calls: the struct passed whole, a field struct passed by reference ----

#[derive(Clone, Debug, Differentiable)]
struct Curve {
    head: Inner,
    k: f64,
}

/// A scalar function of the struct, called with it whole (a callee's float
/// parameters are all active).
#[differentiate(wrt(p, t))]
fn model(p: &Decay, t: f64) -> f64 {
    p.amp * (-p.rate * t).exp()
}

/// A scalar function of a field struct, called with `&c.head`.
#[differentiate(wrt(q, t))]
fn head_val(q: &Inner, t: f64) -> f64 {
    q.s * t + q.v[0] * q.v[1] * t * t
}

/// `model(p, t)`: the body calls a differentiated function, so the forward sweeps
/// run one column at a time; the struct's fields read here are accumulated in
/// locals and added into the shadow after the call's own accumulation.
#[differentiate(wrt(p))]
fn residuals_via_call(p: &Decay, t: &[f64], y: &[f64], out: &mut [f64]) {
    for i in 0..t.len() {
        out[i] = model(p, t[i]) - y[i] + p.rate * 0.1;
    }
}

/// A call, the struct and a float after it: one forward sweep per column, the
/// struct's seed taken out before the float's column.
#[differentiate(wrt(p, shift))]
fn shifted(p: &Decay, t: &[f64], shift: f64, out: &mut [f64]) {
    for i in 0..t.len() {
        out[i] = model(p, t[i] + shift) * shift;
    }
}

#[differentiate(wrt(c))]
fn curve(c: &Curve, t: &[f64]) -> (f64, f64, f64) {
    let mut s = 0.0;
    for i in 0..t.len() {
        s += head_val(&c.head, t[i]) * c.k;
    }
    (s, c.head.s * c.k, c.head.v[0] + s * s)
}

#[test]
fn struct_passed_to_calls() {
    let p0 = Decay {
        amp: 1.6,
        rate: 0.45,
        label: "call".into(),
    };
    for (m, sweeps) in [(5, Sweeps::Forward), (1, Sweeps::Reverse)] {
        let (t, y) = decay_data(m);
        let case = Case {
            name: &format!("residuals_via_call, {m} outputs"),
            f: &|x| {
                let mut out = vec![0.0; m];
                residuals_via_call(&with(&p0, x), &t, &y, &mut out);
                out
            },
            fwd: &|x, v| {
                let mut out = vec![0.0; m];
                let mut dout = vec![7.0; m];
                residuals_via_call_fwd(&with(&p0, x), &with(&p0, v), &t, &y, &mut out, &mut dout);
                (out, dout)
            },
            rev: &|x, yb, xb| {
                let mut out = vec![0.0; m];
                let mut dout = yb.to_vec();
                let mut dp = with(&p0, xb);
                residuals_via_call_adjoint(&with(&p0, x), &mut dp, &t, &y, &mut out, &mut dout);
                assert!(dout.iter().all(|d| *d == 0.0), "dout is zero on exit");
                dp.write_floats(xb);
                out
            },
            jac: &|x| {
                let mut out = vec![0.0; m];
                let j = residuals_via_call_jacobian(&with(&p0, x), &t, &y, &mut out);
                (out, j)
            },
        };
        check(&case, &p0.to_floats(), sweeps, &mut Rng::new(31));
    }

    let (t, _) = decay_data(4);
    let case = Case {
        name: "shifted",
        f: &|x| {
            let mut out = vec![0.0; 4];
            shifted(&with(&p0, x), &t, x[2], &mut out);
            out
        },
        fwd: &|x, v| {
            let mut out = vec![0.0; 4];
            let mut dout = vec![7.0; 4];
            shifted_fwd(
                &with(&p0, x),
                &with(&p0, v),
                &t,
                x[2],
                v[2],
                &mut out,
                &mut dout,
            );
            (out, dout)
        },
        rev: &|x, yb, xb| {
            let mut out = vec![0.0; 4];
            let mut dout = yb.to_vec();
            let mut dp = with(&p0, xb);
            shifted_adjoint(
                &with(&p0, x),
                &mut dp,
                &t,
                x[2],
                &mut xb[2],
                &mut out,
                &mut dout,
            );
            assert!(dout.iter().all(|d| *d == 0.0), "dout is zero on exit");
            dp.write_floats(&mut xb[..2]);
            out
        },
        jac: &|x| {
            let mut out = vec![0.0; 4];
            let j = shifted_jacobian(&with(&p0, x), &t, x[2], &mut out);
            (out, j)
        },
    };
    check(&case, &[1.6, 0.45, 0.3], Sweeps::Forward, &mut Rng::new(33));

    let c0 = Curve {
        head: Inner {
            s: 0.4,
            v: vec![0.9, -0.6],
        },
        k: 1.2,
    };
    let t = [0.5, 1.0, 1.5];
    let case = Case {
        name: "curve",
        f: &|x| {
            let (a, b, c) = curve(&with(&c0, x), &t);
            vec![a, b, c]
        },
        fwd: &|x, v| {
            let ((a, b, c), (ta, tb, tc)) = curve_fwd(&with(&c0, x), &with(&c0, v), &t);
            (vec![a, b, c], vec![ta, tb, tc])
        },
        rev: &|x, yb, xb| {
            let mut dc = with(&c0, xb);
            let (a, b, c) = curve_adjoint(&with(&c0, x), &mut dc, &t, (yb[0], yb[1], yb[2]));
            dc.write_floats(xb);
            vec![a, b, c]
        },
        jac: &|x| {
            let ((a, b, c), j) = curve_jacobian(&with(&c0, x), &t);
            (vec![a, b, c], j)
        },
    };
    // 4 floats, 3 outputs: reverse sweeps
    check(&case, &c0.to_floats(), Sweeps::Reverse, &mut Rng::new(32));
}

// ---- wrt(self), a struct by value, a generic struct ----

#[derive(Clone, Debug, Differentiable)]
struct Poly {
    coef: Vec<f64>,
    shift: f64,
}

impl Poly {
    /// The polynomial and its derivative at `x`, in `x - shift`.
    #[differentiate(wrt(self, x))]
    fn eval2(&self, x: f64) -> (f64, f64) {
        let u = x - self.shift;
        let mut p = 0.0;
        let mut dp = 0.0;
        for c in self.coef.iter().rev() {
            dp = dp * u + p;
            p = p * u + c;
        }
        (p, dp)
    }

    /// The polynomial at `x`.
    #[differentiate(wrt(self, x))]
    fn value(&self, x: f64) -> f64 {
        let u = x - self.shift;
        let mut p = 0.0;
        for c in self.coef.iter().rev() {
            p = p * u + c;
        }
        p
    }

    /// Weighted residuals through a method call (`Self::value(self, x)`, the
    /// struct passed whole), into `out`.
    #[differentiate(wrt(self))]
    fn residuals_call(&self, xs: &[f64], ys: &[f64], out: &mut [f64]) {
        for i in 0..xs.len() {
            out[i] = (self.value(xs[i]) - ys[i]) * self.shift;
        }
    }

    /// Residuals at each sample, into `out`.
    #[differentiate(wrt(self))]
    fn residuals(&self, xs: &[f64], ys: &[f64], out: &mut [f64]) {
        for i in 0..xs.len() {
            let u = xs[i] - self.shift;
            let mut p = 0.0;
            for c in self.coef.iter().rev() {
                p = p * u + c;
            }
            out[i] = p - ys[i];
        }
    }
}

#[derive(Clone, Copy, Debug, Differentiable)]
struct Quad {
    a: f64,
    c: [f64; 2],
}

/// A struct by value: `_fwd` takes its tangent by value too.
#[differentiate(wrt(q))]
fn by_value(q: Quad, x: f64) -> [f64; 3] {
    [q.a * x + q.c[0], (q.c[1] * x).sin() * q.a, q.c[0] * q.c[1]]
}

#[derive(Clone, Debug, Differentiable)]
struct Layer<T: Float> {
    w: Vec<T>,
    b: Vec<T>,
    n_in: usize,
}

/// A dense layer over a generic struct, one output per row.
#[differentiate(wrt(l, x))]
fn dense<T: Float>(l: &Layer<T>, x: &[T], out: &mut [T]) {
    let n: usize = l.n_in;
    for j in 0..l.b.len() {
        let mut s = l.b[j];
        for i in 0..n {
            s = s + l.w[j * n + i] * x[i];
        }
        out[j] = s.tanh();
    }
}

#[test]
fn methods_by_value_and_generic() {
    let p0 = Poly {
        coef: vec![0.5, -1.0, 0.25, 0.4],
        shift: 0.3,
    };
    let case = Case {
        name: "Poly::eval2",
        f: &|f| {
            let (a, b) = with(&p0, f).eval2(f[5]);
            vec![a, b]
        },
        fwd: &|f, v| {
            let ((a, b), (ta, tb)) = with(&p0, f).eval2_fwd(&with(&p0, v), f[5], v[5]);
            (vec![a, b], vec![ta, tb])
        },
        rev: &|f, yb, fb| {
            let mut dp = with(&p0, fb);
            let (a, b) = with(&p0, f).eval2_adjoint(&mut dp, f[5], &mut fb[5], (yb[0], yb[1]));
            dp.write_floats(&mut fb[..5]);
            vec![a, b]
        },
        jac: &|f| {
            let ((a, b), j) = with(&p0, f).eval2_jacobian(f[5]);
            (vec![a, b], j)
        },
    };
    let mut x = p0.to_floats();
    x.push(1.4);
    check(&case, &x, Sweeps::Reverse, &mut Rng::new(41));

    let xs = [-1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0];
    let ys = [0.1, 0.2, 0.3, 0.2, 0.1, 0.0, -0.1];
    let m = xs.len();
    let case = Case {
        name: "Poly::residuals",
        f: &|f| {
            let mut out = vec![0.0; m];
            with(&p0, f).residuals(&xs, &ys, &mut out);
            out
        },
        fwd: &|f, v| {
            let (mut out, mut dout) = (vec![0.0; m], vec![1.0; m]);
            with(&p0, f).residuals_fwd(&with(&p0, v), &xs, &ys, &mut out, &mut dout);
            (out, dout)
        },
        rev: &|f, yb, fb| {
            let (mut out, mut dout) = (vec![0.0; m], yb.to_vec());
            let mut dp = with(&p0, fb);
            with(&p0, f).residuals_adjoint(&mut dp, &xs, &ys, &mut out, &mut dout);
            assert!(dout.iter().all(|d| *d == 0.0), "dout is zero on exit");
            dp.write_floats(fb);
            out
        },
        jac: &|f| {
            let mut out = vec![0.0; m];
            let j = with(&p0, f).residuals_jacobian(&xs, &ys, &mut out);
            (out, j)
        },
    };
    check(&case, &p0.to_floats(), Sweeps::Forward, &mut Rng::new(42));
    for (m, sweeps) in [(7, Sweeps::Forward), (2, Sweeps::Reverse)] {
        let case = Case {
            name: &format!("Poly::residuals_call, {m} outputs"),
            f: &|f| {
                let mut out = vec![0.0; m];
                with(&p0, f).residuals_call(&xs[..m], &ys[..m], &mut out);
                out
            },
            fwd: &|f, v| {
                let (mut out, mut dout) = (vec![0.0; m], vec![1.0; m]);
                with(&p0, f).residuals_call_fwd(
                    &with(&p0, v),
                    &xs[..m],
                    &ys[..m],
                    &mut out,
                    &mut dout,
                );
                (out, dout)
            },
            rev: &|f, yb, fb| {
                let (mut out, mut dout) = (vec![0.0; m], yb.to_vec());
                let mut dp = with(&p0, fb);
                with(&p0, f).residuals_call_adjoint(
                    &mut dp,
                    &xs[..m],
                    &ys[..m],
                    &mut out,
                    &mut dout,
                );
                assert!(dout.iter().all(|d| *d == 0.0), "dout is zero on exit");
                dp.write_floats(fb);
                out
            },
            jac: &|f| {
                let mut out = vec![0.0; m];
                let j = with(&p0, f).residuals_call_jacobian(&xs[..m], &ys[..m], &mut out);
                (out, j)
            },
        };
        check(&case, &p0.to_floats(), sweeps, &mut Rng::new(45));
    }

    let q0 = Quad {
        a: 0.8,
        c: [-0.4, 1.3],
    };
    let x = 0.6;
    let case = Case {
        name: "by_value",
        f: &|f| by_value(with(&q0, f), x).to_vec(),
        fwd: &|f, v| {
            let (y, t) = by_value_fwd(with(&q0, f), with(&q0, v), x);
            (y.to_vec(), t.to_vec())
        },
        rev: &|f, yb, fb| {
            let mut dq = with(&q0, fb);
            let y = by_value_adjoint(with(&q0, f), &mut dq, x, [yb[0], yb[1], yb[2]]);
            dq.write_floats(fb);
            y.to_vec()
        },
        jac: &|f| {
            let (y, j) = by_value_jacobian(with(&q0, f), x);
            (y.to_vec(), j)
        },
    };
    check(&case, &q0.to_floats(), Sweeps::Forward, &mut Rng::new(43));

    // a 3 × 2 layer: columns w (6), b (3), then x (2); 3 outputs: reverse sweeps
    let l0 = Layer {
        w: vec![0.3, -0.2, 0.5, 0.9, -0.7, 0.1],
        b: vec![0.05, -0.1, 0.2],
        n_in: 2,
    };
    let split = |f: &[f64]| (with(&l0, f), f[9..].to_vec());
    let case = Case {
        name: "dense",
        f: &|f| {
            let (l, x) = split(f);
            let mut out = vec![0.0; 3];
            dense(&l, &x, &mut out);
            out
        },
        fwd: &|f, v| {
            let ((l, x), (dl, dx)) = (split(f), split(v));
            let (mut out, mut dout) = (vec![0.0; 3], vec![0.0; 3]);
            dense_fwd(&l, &dl, &x, &dx, &mut out, &mut dout);
            (out, dout)
        },
        rev: &|f, yb, fb| {
            let (l, x) = split(f);
            let (mut dl, mut dx) = split(fb);
            let (mut out, mut dout) = (vec![0.0; 3], yb.to_vec());
            dense_adjoint(&l, &mut dl, &x, &mut dx, &mut out, &mut dout);
            assert_eq!(dl.n_in, 2);
            dl.write_floats(&mut fb[..9]);
            fb[9..].copy_from_slice(&dx);
            out
        },
        jac: &|f| {
            let (l, x) = split(f);
            let mut out = vec![0.0; 3];
            let j = dense_jacobian(&l, &x, &mut out);
            (out, j)
        },
    };
    let mut x = l0.to_floats();
    x.extend([0.7, -1.2]);
    check(&case, &x, Sweeps::Reverse, &mut Rng::new(44));

    // the same generic function in f32: the Jacobian agrees with the f64 one
    let l32 = Layer {
        w: l0.w.iter().map(|&w| w as f32).collect(),
        b: l0.b.iter().map(|&b| b as f32).collect(),
        n_in: 2,
    };
    let mut out32 = [0.0f32; 3];
    let j32 = dense_jacobian(&l32, &[0.7f32, -1.2], &mut out32);
    let mut out = [0.0; 3];
    let j = dense_jacobian(&l0, &[0.7, -1.2], &mut out);
    assert_eq!(j32.len(), j.len());
    for k in 0..j.len() {
        assert!((j32[k] as f64 - j[k]).abs() < 1e-5, "f32 Jacobian [{k}]");
    }
}

// ---- two struct parameters ----

/// Columns: `a`'s two floats, then `b`'s three.
#[differentiate(wrt(a, b))]
fn two_structs(a: &Decay, b: &Affine, t: &[f64], out: &mut [f64]) {
    for i in 0..t.len() {
        out[i] = a.amp * (-a.rate * t[i]).exp() * b.a[i % 2] + b.c * t[i] * a.rate;
    }
}

#[test]
fn two_struct_parameters() {
    let a0 = Decay {
        amp: 1.3,
        rate: 0.6,
        label: "a".into(),
    };
    let b0 = Affine {
        a: [0.9, -0.4],
        c: 0.35,
    };
    let split = |f: &[f64]| (with(&a0, f), with(&b0, &f[2..]));
    // 5 inputs: 6 outputs run two lanes sweeps, 2 outputs reverse sweeps
    for (m, sweeps) in [(6, Sweeps::Forward), (2, Sweeps::Reverse)] {
        let (t, _) = decay_data(m);
        let case = Case {
            name: &format!("two_structs, {m} outputs"),
            f: &|f| {
                let (a, b) = split(f);
                let mut out = vec![0.0; m];
                two_structs(&a, &b, &t, &mut out);
                out
            },
            fwd: &|f, v| {
                let ((a, b), (da, db)) = (split(f), split(v));
                let (mut out, mut dout) = (vec![0.0; m], vec![0.0; m]);
                two_structs_fwd(&a, &da, &b, &db, &t, &mut out, &mut dout);
                (out, dout)
            },
            rev: &|f, yb, fb| {
                let (a, b) = split(f);
                let (mut da, mut db) = split(fb);
                let (mut out, mut dout) = (vec![0.0; m], yb.to_vec());
                two_structs_adjoint(&a, &mut da, &b, &mut db, &t, &mut out, &mut dout);
                assert!(dout.iter().all(|d| *d == 0.0), "dout is zero on exit");
                da.write_floats(&mut fb[..2]);
                db.write_floats(&mut fb[2..]);
                out
            },
            jac: &|f| {
                let (a, b) = split(f);
                let mut out = vec![0.0; m];
                let j = two_structs_jacobian(&a, &b, &t, &mut out);
                (out, j)
            },
        };
        let x = [a0.to_floats(), b0.to_floats()].concat();
        check(&case, &x, sweeps, &mut Rng::new(51));
    }
}

/// Straight-line with the struct passed whole to a call (its fields' shadows
/// deferred): reverse sweeps after one shared forward sweep (the form of the
/// `vector_output_struct_rows` snapshot).
#[differentiate(wrt(p, x))]
fn pair(p: &Decay, x: f64) -> (f64, f64) {
    let a = p.rate * x + p.amp;
    (model(p, a), a * p.amp)
}

#[test]
fn one_forward_sweep_then_rows_with_a_call() {
    let p0 = Decay {
        amp: 0.9,
        rate: -0.3,
        label: "pair".into(),
    };
    let case = Case {
        name: "pair",
        f: &|f| {
            let (a, b) = pair(&with(&p0, f), f[2]);
            vec![a, b]
        },
        fwd: &|f, v| {
            let ((a, b), (ta, tb)) = pair_fwd(&with(&p0, f), &with(&p0, v), f[2], v[2]);
            (vec![a, b], vec![ta, tb])
        },
        rev: &|f, yb, fb| {
            let mut dp = with(&p0, fb);
            let (a, b) = pair_adjoint(&with(&p0, f), &mut dp, f[2], &mut fb[2], (yb[0], yb[1]));
            dp.write_floats(&mut fb[..2]);
            vec![a, b]
        },
        jac: &|f| {
            let ((a, b), j) = pair_jacobian(&with(&p0, f), f[2]);
            (vec![a, b], j)
        },
    };
    check(&case, &[0.9, -0.3, 1.7], Sweeps::Reverse, &mut Rng::new(61));
}

// ---- fields left out of the floats: `#[differentiable(skip)]` data ----

/// A model carrying its data: `t` and `scale` are skipped (not parameters, not
/// columns), and read by the body as data. `_jacobian` builds its tangent
/// structs with `zero_like`, which copies skipped fields: the fields the body
/// reads are zeroed in them first, so the data's tangent is zero.
#[derive(Clone, Debug, Differentiable)]
struct WithData {
    amp: f64,
    #[differentiable(skip)]
    t: Vec<f64>,
    rate: f64,
    #[differentiable(skip)]
    scale: f64,
}

#[differentiate(wrt(p))]
fn with_data(p: &WithData, out: &mut [f64]) {
    for i in 0..p.t.len() {
        out[i] = p.amp * (-p.rate * p.t[i]).exp() * p.scale;
    }
}

#[differentiate]
fn sq(v: f64) -> f64 {
    v * v
}

/// The same with a call (of a float): one forward sweep per column, the skipped
/// fields zeroed in that path's tangent struct too.
#[differentiate(wrt(p))]
fn with_data_sq(p: &WithData, out: &mut [f64]) {
    for i in 0..p.t.len() {
        out[i] = sq(p.amp * (-p.rate * p.t[i]).exp() * p.scale);
    }
}

#[test]
fn skipped_fields_are_data() {
    let p0 = WithData {
        amp: 1.1,
        t: vec![0.2, 0.7, 1.3, 2.0, 2.4, 3.1],
        rate: 0.4,
        scale: 1.5,
    };
    assert_eq!(p0.float_len(), 2);
    for m in [6, 1] {
        let p0 = WithData {
            t: p0.t[..m].to_vec(),
            ..p0.clone()
        };
        let zero_data = |mut d: WithData| {
            // a tangent or shadow of the parameters alone
            d.t.iter_mut().for_each(|t| *t = 0.0);
            d.scale = 0.0;
            d
        };
        let case = Case {
            name: &format!("with_data, {m} outputs"),
            f: &|x| {
                let mut out = vec![0.0; m];
                with_data(&with(&p0, x), &mut out);
                out
            },
            fwd: &|x, v| {
                let (mut out, mut dout) = (vec![0.0; m], vec![0.0; m]);
                with_data_fwd(&with(&p0, x), &zero_data(with(&p0, v)), &mut out, &mut dout);
                (out, dout)
            },
            rev: &|x, yb, xb| {
                let (mut out, mut dout) = (vec![0.0; m], yb.to_vec());
                let mut dp = with(&p0, xb);
                with_data_adjoint(&with(&p0, x), &mut dp, &mut out, &mut dout);
                dp.write_floats(xb);
                out
            },
            jac: &|x| {
                let mut out = vec![0.0; m];
                let j = with_data_jacobian(&with(&p0, x), &mut out);
                (out, j)
            },
        };
        let sweeps = || {
            if m == 6 {
                Sweeps::Forward
            } else {
                Sweeps::Reverse
            }
        };
        check(&case, &p0.to_floats(), sweeps(), &mut Rng::new(71));
        let case = Case {
            name: &format!("with_data_sq, {m} outputs"),
            f: &|x| {
                let mut out = vec![0.0; m];
                with_data_sq(&with(&p0, x), &mut out);
                out
            },
            fwd: &|x, v| {
                let (mut out, mut dout) = (vec![0.0; m], vec![0.0; m]);
                with_data_sq_fwd(&with(&p0, x), &zero_data(with(&p0, v)), &mut out, &mut dout);
                (out, dout)
            },
            rev: &|x, yb, xb| {
                let (mut out, mut dout) = (vec![0.0; m], yb.to_vec());
                let mut dp = with(&p0, xb);
                with_data_sq_adjoint(&with(&p0, x), &mut dp, &mut out, &mut dout);
                dp.write_floats(xb);
                out
            },
            jac: &|x| {
                let mut out = vec![0.0; m];
                let j = with_data_sq_jacobian(&with(&p0, x), &mut out);
                (out, j)
            },
        };
        check(&case, &p0.to_floats(), sweeps(), &mut Rng::new(72));
    }
}

/// The skipped `scale` read by a called function, which the caller cannot see:
/// `_jacobian`'s forward sweeps end with a sweep of no seed, and a tangent
/// reaching the outputs there is a panic, not a wrong Jacobian.
#[differentiate(wrt(p, x))]
fn scaled(p: &WithData, x: f64) -> f64 {
    p.amp * x * p.scale
}

#[differentiate(wrt(p))]
fn with_data_call(p: &WithData, out: &mut [f64]) {
    for i in 0..p.t.len() {
        out[i] = scaled(p, p.t[i]) * p.rate;
    }
}

#[test]
#[should_panic(
    expected = "a called function reads a field of the struct that `Differentiable` leaves out"
)]
fn skipped_field_read_by_a_callee_panics() {
    let p = WithData {
        amp: 1.1,
        t: vec![0.2, 0.7, 1.3],
        rate: 0.4,
        scale: 1.5,
    };
    let mut out = [0.0; 3];
    let _ = with_data_call_jacobian(&p, &mut out);
}
