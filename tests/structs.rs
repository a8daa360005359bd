//! Parameters as structs: `#[derive(Differentiable)]` structs named in `wrt(..)`,
//! checked against finite differences, forward-vs-reverse agreement and
//! accumulation, for flat, nested and generic structs, structs passed to calls,
//! `wrt(self)` methods and mixed struct + slice + scalar parameters.
// Index loops are the forms under test.
#![allow(clippy::needless_range_loop)]
mod common;

use autodiff::{differentiate, Differentiable, Float};
use common::*;

#[derive(Clone, Debug, PartialEq, Differentiable)]
struct Linear {
    w: Vec<f64>,
    b: f64,
    name: String,
}

#[differentiate(wrt(p))]
fn loss(p: &Linear, x: &[f64], y: f64) -> f64 {
    let mut s = p.b;
    for i in 0..p.w.len() {
        s += p.w[i] * x[i];
    }
    (s - y) * (s - y)
}

/// Checks `grad`, `adjoint` and `fwd` of a function of a struct against
/// central differences of `f` over the struct's floats.
#[track_caller]
fn check_struct<P: Differentiable<f64> + Clone>(
    p: &P,
    f: impl Fn(&P) -> f64,
    fwd: impl Fn(&P, &P) -> (f64, f64),
    adj: impl Fn(&P, &mut P, f64) -> f64,
    grad: impl Fn(&P) -> (f64, P),
    seed: u64,
) -> Vec<f64> {
    let flat = p.to_floats();
    let n = flat.len();
    let numeric = fd_grad(
        |x| {
            let mut q = p.clone();
            q.read_floats(x);
            f(&q)
        },
        &flat,
    );
    let value = f(p);
    let (v, g) = grad(p);
    assert_close(v, value, 1e-12, "grad value");
    let g = g.to_floats();
    assert_vec_close(&g, &numeric, 1e-6, "gradient vs finite differences");
    assert!(
        g.iter().any(|&x| x.abs() > 1e-8),
        "a zero gradient checks nothing"
    );

    // accumulation with dret != 1 into a non-zero shadow
    let mut rng = Rng::new(seed);
    let start = rng.vec(n, -1.0, 1.0);
    let mut dp = p.zero_like();
    dp.read_floats(&start);
    let before = p.to_floats();
    let va = adj(p, &mut dp, 2.5);
    assert_close(va, value, 1e-12, "adjoint value");
    assert_eq!(p.to_floats(), before, "primal unchanged");
    let want: Vec<f64> = start.iter().zip(&g).map(|(s, g)| s + 2.5 * g).collect();
    assert_vec_close(&dp.to_floats(), &want, 1e-10, "accumulated adjoint");

    // forward vs reverse: <g, t> = J t
    let t = rng.vec(n, -1.0, 1.0);
    let mut tp = p.zero_like();
    tp.read_floats(&t);
    let (vf, jt) = fwd(p, &tp);
    assert_close(vf, value, 1e-12, "forward value");
    let gt: f64 = g.iter().zip(&t).map(|(a, b)| a * b).sum();
    assert_close(jt, gt, 1e-9, "forward vs reverse");
    g
}

fn linear() -> Linear {
    Linear {
        w: vec![0.5, -1.5, 2.0],
        b: 0.25,
        name: "layer".into(),
    }
}

#[test]
fn flat_struct() {
    let x = [1.0, 2.0, -0.5];
    let p = linear();
    let g = check_struct(
        &p,
        |p| loss(p, &x, 0.3),
        |p, dp| loss_fwd(p, dp, &x, 0.3),
        |p, dp, r| loss_adjoint(p, dp, &x, 0.3, r),
        |p| loss_grad(p, &x, 0.3),
        1,
    );
    let (_, grad) = loss_grad(&p, &x, 0.3);
    assert_eq!(grad.name, "layer", "carried fields are copied");
    assert_eq!(grad.w.len(), 3);
    assert_eq!(grad.b, g[3]);
}

// ---- nested, generic, calls, views, methods ----

#[derive(Clone, Debug, Differentiable)]
struct Layer<T: Float> {
    w: Vec<T>,
    b: Vec<T>,
    n_in: usize,
}

#[derive(Clone, Debug, Differentiable)]
struct Net {
    l1: Layer<f64>,
    l2: Layer<f64>,
    scale: [f64; 2],
    temp: Box<f64>,
}

/// One dense layer with tanh, written over a generic layer struct.
#[differentiate(wrt(l, x))]
fn dense_sum<T: Float>(l: &Layer<T>, x: &[T]) -> T {
    let mut total = T::zero();
    let rows = l.b.len();
    for j in 0..rows {
        let row = &l.w[j * l.n_in..(j + 1) * l.n_in];
        let mut s = l.b[j];
        for (wi, xi) in row.iter().zip(x.iter()) {
            s = s + *wi * *xi;
        }
        total = total + s.tanh();
    }
    total
}

#[differentiate(wrt(net))]
fn net_loss(net: &Net, x: &[f64]) -> f64 {
    let mut h = [0.0; 2];
    for j in 0..2 {
        let mut s = net.l1.b[j];
        for i in 0..net.l1.n_in {
            s += net.l1.w[j * net.l1.n_in + i] * x[i];
        }
        h[j] = s.tanh() * net.scale[j];
    }
    let mut out = net.l2.b[0];
    for (wi, hi) in net.l2.w.iter().zip(h.iter()) {
        out += wi * hi;
    }
    out * out * *net.temp + dense_sum(&net.l1, x)
}

fn net() -> Net {
    Net {
        l1: Layer {
            w: vec![0.3, -0.2, 0.5, 0.1, 0.4, -0.6],
            b: vec![0.05, -0.1],
            n_in: 3,
        },
        l2: Layer {
            w: vec![0.7, -0.4],
            b: vec![0.2],
            n_in: 2,
        },
        scale: [1.5, 0.5],
        temp: Box::new(0.8),
    }
}

#[test]
fn nested_struct_with_a_field_passed_to_a_call() {
    let x = [0.5, -1.0, 2.0];
    let p = net();
    let g = check_struct(
        &p,
        |p| net_loss(p, &x),
        |p, dp| net_loss_fwd(p, dp, &x),
        |p, dp, r| net_loss_adjoint(p, dp, &x, r),
        |p| net_loss_grad(p, &x),
        2,
    );
    let (_, grad) = net_loss_grad(&p, &x);
    assert_eq!(grad.l1.n_in, 3, "integer fields copied");
    assert_eq!(g.len(), 6 + 2 + 2 + 1 + 2 + 1);
    assert!(grad.scale[0] != 0.0 && *grad.temp != 0.0);
}

#[test]
fn generic_struct_in_f32_and_with_a_slice() {
    let l = Layer::<f32> {
        w: vec![0.3, -0.2, 0.5, 0.1],
        b: vec![0.05, -0.1],
        n_in: 2,
    };
    let x = [0.5_f32, -1.0];
    let (v, (gl, gx)) = dense_sum_grad(&l, &x);
    assert!((v - dense_sum(&l, &x)).abs() < 1e-6);
    // f64 reference through the same generic function
    let l64 = Layer::<f64> {
        w: l.w.iter().map(|&v| v as f64).collect(),
        b: l.b.iter().map(|&v| v as f64).collect(),
        n_in: 2,
    };
    let x64 = [0.5, -1.0];
    let numeric = fd_grad(
        |f| {
            let mut q = l64.clone();
            q.read_floats(f);
            dense_sum(&q, &x64)
        },
        &l64.to_floats(),
    );
    for (a, b) in gl.to_floats().iter().zip(&numeric) {
        assert_close_f32(*a, *b as f32, 1e-4, "f32 struct gradient");
    }
    let nx = fd_grad(|xs| dense_sum(&l64, xs), &x64);
    for (a, b) in gx.iter().zip(&nx) {
        assert_close_f32(*a, *b as f32, 1e-4, "f32 slice gradient");
    }
}

#[differentiate(wrt(p, x))]
fn predict(p: &Linear, x: &[f64]) -> f64 {
    let mut s = p.b;
    for (wi, xi) in p.w.iter().zip(x) {
        s += wi * xi;
    }
    s
}

/// The whole struct passed to another differentiated function, mixed with a
/// slice and a scalar parameter.
#[differentiate(wrt(p, x, s))]
fn mixed(p: &Linear, x: &[f64], s: f64, y: f64) -> f64 {
    let a = (predict(p, x) - y).powi(2);
    let mut t = 0.0;
    for (wi, xi) in p.w.iter().zip(x.iter()) {
        t += wi * xi * s;
    }
    a * s + t.sin() + p.b * s * s
}

#[test]
fn whole_struct_passed_to_a_call_mixed_with_slice_and_scalar() {
    let p = linear();
    let x = [1.0, 2.0, -0.5];
    let (s, y) = (0.7, 0.3);
    let (v, (gp, gx, gs)) = mixed_grad(&p, &x, s, y);
    assert_close(v, mixed(&p, &x, s, y), 1e-12, "value");
    let flat = p.to_floats();
    let np = fd_grad(
        |f| {
            let mut q = p.clone();
            q.read_floats(f);
            mixed(&q, &x, s, y)
        },
        &flat,
    );
    assert_vec_close(&gp.to_floats(), &np, 1e-6, "struct gradient");
    let nx = fd_grad(|xs| mixed(&p, xs, s, y), &x);
    assert_vec_close(&gx, &nx, 1e-6, "slice gradient");
    assert_close(gs, fd1(|s| mixed(&p, &x, s, y), s), 1e-6, "scalar gradient");

    // forward vs reverse over all three, and accumulation
    let mut rng = Rng::new(3);
    let mut tp = p.zero_like();
    tp.read_floats(&rng.vec(4, -1.0, 1.0));
    let tx = rng.vec(3, -1.0, 1.0);
    let ts = 0.4;
    let (_, jt) = mixed_fwd(&p, &tp, &x, &tx, s, ts, y);
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(a, b)| a * b).sum::<f64>();
    let want = dot(&gp.to_floats(), &tp.to_floats()) + dot(&gx, &tx) + gs * ts;
    assert_close(jt, want, 1e-9, "forward vs reverse");
    let mut dp = tp.clone();
    let mut dx = tx.clone();
    let mut ds = 1.0;
    mixed_adjoint(&p, &mut dp, &x, &mut dx, s, &mut ds, y, -0.5);
    let acc: Vec<f64> = tp
        .to_floats()
        .iter()
        .zip(gp.to_floats())
        .map(|(a, g)| a - 0.5 * g)
        .collect();
    assert_vec_close(&dp.to_floats(), &acc, 1e-10, "struct accumulation");
    assert_close(ds, 1.0 - 0.5 * gs, 1e-10, "scalar accumulation");
}

/// A struct by value.
#[differentiate(wrt(q))]
fn by_value(q: Quad) -> f64 {
    q.a * q.a * q.c[1] + (q.c[0] * q.a).exp()
}

#[derive(Clone, Copy, Debug, Differentiable)]
struct Quad {
    a: f64,
    c: [f64; 2],
}

#[test]
fn struct_by_value() {
    let q = Quad {
        a: 0.3,
        c: [0.5, -2.0],
    };
    check_struct(
        &q,
        |q| by_value(*q),
        |q, dq| by_value_fwd(*q, *dq),
        |q, dq, r| by_value_adjoint(*q, dq, r),
        |q| by_value_grad(*q),
        4,
    );
}

// ---- wrt(self) ----

#[derive(Clone, Debug, Differentiable)]
struct Poly {
    coef: Vec<f64>,
    shift: f64,
}

impl Poly {
    #[differentiate(wrt(self, x))]
    fn predict(&self, x: f64) -> f64 {
        let mut acc = 0.0;
        for c in self.coef.iter().rev() {
            acc = acc * (x - self.shift) + c;
        }
        acc
    }

    #[differentiate(wrt(self))]
    fn sse(&self, xs: &[f64], ys: &[f64]) -> f64 {
        let mut s = 0.0;
        for i in 0..xs.len() {
            let r = self.predict(xs[i]) - ys[i];
            s += r * r;
        }
        s + 0.1 * self.shift * self.shift
    }
}

#[test]
fn methods_with_wrt_self() {
    let p = Poly {
        coef: vec![0.5, -1.0, 0.25],
        shift: 0.1,
    };
    let (v, (gs, gx)) = p.predict_grad(0.7);
    assert_close(v, p.predict(0.7), 1e-12, "value");
    assert_close(gx, fd1(|x| p.predict(x), 0.7), 1e-6, "d/dx");
    let mut dself = p.zero_like();
    let mut dx = 0.0;
    p.predict_adjoint(&mut dself, 0.7, &mut dx, 1.0);
    assert_eq!(dself.to_floats(), gs.to_floats());

    let xs = [0.0, 0.5, 1.0, 1.5];
    let ys = [1.0, 0.0, -1.0, 0.5];
    check_struct(
        &p,
        |p| p.sse(&xs, &ys),
        |p, dp| p.sse_fwd(dp, &xs, &ys),
        |p, dp, r| p.sse_adjoint(dp, &xs, &ys, r),
        |p| p.sse_grad(&xs, &ys),
        5,
    );
}

/// The README's example: a struct fitted by Adam through `step_struct`.
#[test]
fn readme_example() {
    let mut p = Linear {
        w: vec![0.0, 0.0],
        b: 0.0,
        name: "fit".into(),
    };
    let mut opt = autodiff::Adam::new(0.05);
    for _ in 0..500 {
        let (_, grad) = loss_grad(&p, &[1.0, 2.0], 3.0);
        opt.step_struct(&mut p, &grad).unwrap();
    }
    assert!(loss(&p, &[1.0, 2.0], 3.0) < 1e-6);
    assert_eq!(p.name, "fit");
}

// ---- idiomatic bodies over struct fields ----

#[derive(Clone, Debug, Differentiable)]
struct Pair(Vec<f64>, f64, u32);

#[derive(Clone, Debug, Differentiable)]
struct Counted {
    w: Vec<f64>,
    scale: f64,
    n: usize,
}

#[differentiate(wrt(p))]
fn idioms(p: &Counted, x: &[f64]) -> f64 {
    let dot = p.w.iter().zip(x).map(|(a, b)| a * b).sum::<f64>();
    let sq = |i: usize| p.w[i] * p.w[i];
    let mut s = 0.0;
    for wi in &p.w {
        s += wi.sin();
    }
    let n: usize = p.n;
    let mut head = 0.0;
    for i in 0..n {
        head += sq(i) * p.scale;
    }
    dot * p.scale + s + head / p.n as f64
}

#[differentiate(wrt(t))]
fn tuple_struct(t: &Pair) -> f64 {
    let mut s = t.1;
    for w in t.0.iter() {
        s = s * w + t.2 as f64;
    }
    s
}

#[test]
fn iterator_chains_closures_and_integer_fields() {
    let p = Counted {
        w: vec![0.3, -0.7, 1.2, 0.4],
        scale: 1.3,
        n: 2,
    };
    let x = [0.5, 1.5, -1.0, 2.0];
    let g = check_struct(
        &p,
        |p| idioms(p, &x),
        |p, dp| idioms_fwd(p, dp, &x),
        |p, dp, r| idioms_adjoint(p, dp, &x, r),
        |p| idioms_grad(p, &x),
        6,
    );
    assert_eq!(g.len(), 5);
    assert_eq!(idioms_grad(&p, &x).1.n, 2);

    let t = Pair(vec![0.5, 1.5, -0.25], 0.75, 2);
    check_struct(
        &t,
        tuple_struct,
        tuple_struct_fwd,
        tuple_struct_adjoint,
        tuple_struct_grad,
        7,
    );
}

/// A method of the struct called on a struct parameter: `p.predict(x)` is
/// `Poly::predict(p, x)`, its shadow passed along.
#[differentiate(wrt(p))]
fn fit(p: &Poly, xs: &[f64], ys: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..xs.len() {
        let r = p.predict(xs[i]) - ys[i];
        s += r * r;
    }
    s
}

#[test]
fn method_called_on_a_struct_parameter() {
    let p = Poly {
        coef: vec![0.5, -1.0, 0.25],
        shift: 0.1,
    };
    let xs = [0.0, 0.5, 1.0, 1.5];
    let ys = [1.0, 0.0, -1.0, 0.5];
    check_struct(
        &p,
        |p| fit(p, &xs, &ys),
        |p, dp| fit_fwd(p, dp, &xs, &ys),
        |p, dp, r| fit_adjoint(p, dp, &xs, &ys, r),
        |p| fit_grad(p, &xs, &ys),
        8,
    );
}
