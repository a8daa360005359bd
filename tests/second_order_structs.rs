//! Second order (`order = 2`) with struct parameters (issue 13): `f_hvp` takes
//! and returns directions of the struct's type, `f_hessian` is dense over the
//! active inputs with structs expanded in `Differentiable` order. Checked
//! against central differences of the gradient, Hessian symmetry, Hessian·v =
//! H·v, ⟨u, H·v⟩ = ⟨H·u, v⟩, the Hessian of the same function written on flat
//! slices, the first-order functions (accumulation, forward vs reverse) and the
//! primal value.
// `type_complexity`: the generated functions' result types, spelled out on purpose.
#![allow(clippy::needless_range_loop, clippy::type_complexity)]
mod common;

use autodiff::{differentiate, Differentiable, Float};
use common::*;

#[derive(Clone, Debug, PartialEq, Differentiable)]
struct Inner {
    a: f64,
    v: [f64; 2],
}

/// Every kind of field: `Vec<F>`, `F`, `[F; N]`, a nested struct, an integer, a
/// carried `String`, a boxed float.
#[derive(Clone, Debug, PartialEq, Differentiable)]
struct Params {
    w: Vec<f64>,
    b: f64,
    c: [f64; 3],
    inner: Inner,
    n: usize,
    name: String,
    scale: Box<f64>,
}

/// Floats of `Params` besides `w`, in declaration order: b, c (3), inner.a,
/// inner.v (2), scale.
const TAIL: usize = 8;

#[differentiate(order = 2)]
fn sq(a: f64) -> f64 {
    a * a.sin()
}

#[differentiate(order = 2, wrt(p, x))]
fn model(p: &Params, x: f64, data: &[f64]) -> f64 {
    let mut s = p.b * x;
    for i in 0..p.w.len() {
        s += (p.w[i] * data[i] + p.c[i % 3] * x).tanh() * p.inner.a;
    }
    s += p.inner.v[0] * p.inner.v[1] * x.sin() + p.c[0] * p.c[1] * p.c[2];
    for k in 0..p.n {
        s += 0.1 * p.b * (k as f64) * p.inner.v[k % 2];
    }
    s * s / (1.0 + p.b * p.b) + *p.scale * x * x + sq(p.c[1] * x)
}

/// `model` on the flat vector of `Params`' floats (`Differentiable` order).
#[differentiate(order = 2, wrt(q, x))]
fn model_flat(q: &[f64], x: f64, data: &[f64], n: usize) -> f64 {
    let nw = q.len() - 8;
    let b = q[nw];
    let mut s = b * x;
    for i in 0..nw {
        s += (q[i] * data[i] + q[nw + 1 + i % 3] * x).tanh() * q[nw + 4];
    }
    s += q[nw + 5] * q[nw + 6] * x.sin() + q[nw + 1] * q[nw + 2] * q[nw + 3];
    for k in 0..n {
        s += 0.1 * b * (k as f64) * q[nw + 5 + k % 2];
    }
    s * s / (1.0 + b * b) + q[nw + 7] * x * x + sq(q[nw + 2] * x)
}

fn params() -> Params {
    Params {
        w: vec![0.4, -0.7, 0.25, 0.9],
        b: 0.3,
        c: [0.8, -0.45, 0.6],
        inner: Inner {
            a: 1.3,
            v: [-0.5, 0.75],
        },
        n: 3,
        name: "model".into(),
        scale: Box::new(0.35),
    }
}

fn data() -> Vec<f64> {
    vec![0.5, -1.2, 0.8, 0.3]
}

/// `p` with its floats replaced by `flat`.
fn with<P: Differentiable<f64> + Clone>(p: &P, flat: &[f64]) -> P {
    let mut q = p.clone();
    q.read_floats(flat);
    q
}

/// A function of one flat vector of active inputs, through its generated
/// functions: value, `_grad`, `_hvp` and `_hessian`, each flattened.
struct Flat<'a> {
    value: &'a dyn Fn(&[f64]) -> f64,
    grad: &'a dyn Fn(&[f64]) -> (f64, Vec<f64>),
    hvp: &'a dyn Fn(&[f64], &[f64]) -> (f64, Vec<f64>, Vec<f64>),
    hessian: &'a dyn Fn(&[f64]) -> (f64, Vec<f64>, Vec<f64>),
}

/// Everything a Hessian must satisfy, at `x` along `v` and `u`; returns the Hessian.
#[track_caller]
fn check(what: &str, f: &Flat, x: &[f64], seed: u64) -> Vec<f64> {
    let n = x.len();
    let mut rng = Rng::new(seed);
    let (v, u) = (rng.vec(n, -1.0, 1.0), rng.vec(n, -1.0, 1.0));
    let value = (f.value)(x);
    let (vg, g) = (f.grad)(x);
    let (vh, gh, hv) = (f.hvp)(x, &v);
    let (vs, gs, h) = (f.hessian)(x);
    assert_eq!(h.len(), n * n, "{what}: Hessian size");
    // the primal value, and the gradient every function returns
    for (got, name) in [(vg, "_grad"), (vh, "_hvp"), (vs, "_hessian")] {
        assert_close(got, value, 1e-13, &format!("{what}: value of {name}"));
    }
    assert_vec_close(&gh, &g, 1e-13, &format!("{what}: gradient of _hvp"));
    assert_vec_close(&gs, &g, 1e-13, &format!("{what}: gradient of _hessian"));
    assert_vec_close(
        &g,
        &fd_grad(f.value, x),
        FD_TOL,
        &format!("{what}: gradient vs FD"),
    );
    // H·v against central differences of the gradient along v
    let e = 1e-5;
    let xp: Vec<f64> = x.iter().zip(&v).map(|(a, b)| a + e * b).collect();
    let xm: Vec<f64> = x.iter().zip(&v).map(|(a, b)| a - e * b).collect();
    let (gp, gm) = ((f.grad)(&xp).1, (f.grad)(&xm).1);
    let fd: Vec<f64> = gp
        .iter()
        .zip(&gm)
        .map(|(a, b)| (a - b) / (2.0 * e))
        .collect();
    assert_vec_close(
        &hv,
        &fd,
        1e-6,
        &format!("{what}: H·v vs FD of the gradient"),
    );
    // the Hessian column by column against central differences of the gradient
    for j in 0..n {
        let col = fd_grad(|y| (f.grad)(y).1[j], x);
        let row: Vec<f64> = (0..n).map(|k| h[j * n + k]).collect();
        assert_vec_close(&row, &col, 1e-5, &format!("{what}: Hessian row {j} vs FD"));
    }
    // symmetry, Hessian·v = H·v, and <u, H v> = <H u, v>
    for i in 0..n {
        for j in 0..i {
            let (a, b) = (h[i * n + j], h[j * n + i]);
            assert!(
                (a - b).abs() <= 1e-10 * (1.0 + a.abs()),
                "{what}: H[{i},{j}] = {a} vs H[{j},{i}] = {b}"
            );
        }
    }
    let hv_dense: Vec<f64> = (0..n).map(|i| dot(&h[i * n..(i + 1) * n], &v)).collect();
    assert_vec_close(&hv_dense, &hv, 1e-10, &format!("{what}: Hessian·v vs H·v"));
    let hu = (f.hvp)(x, &u).2;
    let (uhv, hu_v) = (dot(&u, &hv), dot(&hu, &v));
    assert!(
        (uhv - hu_v).abs() <= 1e-10 * (1.0 + uhv.abs()),
        "{what}: <u, Hv> = {uhv} vs <Hu, v> = {hu_v}"
    );
    assert!(
        h.iter().filter(|a| a.abs() > 1e-6).count() > n,
        "{what}: a Hessian this sparse checks little"
    );
    h
}

/// `p`'s floats then the scalar `x`.
fn join<P: Differentiable<f64>>(p: &P, x: f64) -> Vec<f64> {
    let mut out = p.to_floats();
    out.push(x);
    out
}

#[test]
fn struct_and_scalar() {
    let (p, d) = (params(), data());
    let np = p.float_len();
    assert_eq!(np, p.w.len() + TAIL);
    let split = |z: &[f64]| (with(&p, &z[..np]), z[np]);
    let value = |z: &[f64]| {
        let (q, x) = split(z);
        model(&q, x, &d)
    };
    let grad = |z: &[f64]| {
        let (q, x) = split(z);
        let (v, (gp, gx)) = model_grad(&q, x, &d);
        (v, join(&gp, gx))
    };
    let hvp = |z: &[f64], t: &[f64]| {
        let (q, x) = split(z);
        let (vq, vx) = split(t);
        let (v, (gp, gx), (hp, hx)): (f64, (Params, f64), (Params, f64)) =
            model_hvp(&q, &vq, x, vx, &d);
        // the gradient and H·v carry the struct's other fields along
        assert_eq!((gp.n, gp.name.as_str()), (3, "model"));
        assert_eq!((hp.n, hp.name.as_str(), hp.w.len()), (3, "model", 4));
        (v, join(&gp, gx), join(&hp, hx))
    };
    let hessian = |z: &[f64]| {
        let (q, x) = split(z);
        let (v, (gp, gx), h) = model_hessian(&q, x, &d);
        (v, join(&gp, gx), h)
    };
    let f = Flat {
        value: &value,
        grad: &grad,
        hvp: &hvp,
        hessian: &hessian,
    };
    let z = join(&p, 0.6);
    let h = check("model", &f, &z, 1);

    // the same function on the flat vector: the same Hessian, element by element
    let (vf, (gq, gx), hf) = model_flat_hessian(&p.to_floats(), 0.6, &d, p.n);
    let (v, (gp, gx2), _) = model_hessian(&p, 0.6, &d);
    assert_close(v, vf, 1e-14, "value vs flat");
    assert_vec_close(&gp.to_floats(), &gq, 1e-13, "gradient vs flat");
    assert_close(gx2, gx, 1e-13, "gradient in x vs flat");
    assert_vec_close(&h, &hf, 1e-12, "Hessian vs the flat function's");
    // the inputs are unchanged
    assert_eq!(p, params());
}

/// The first-order functions of an `order = 2` struct function: accumulation
/// into pre-filled shadows with `dret != 1`, forward against reverse.
#[test]
fn first_order_of_second_order_struct() {
    let (p, d) = (params(), data());
    let (value, (g, gx)) = model_grad(&p, 0.6, &d);
    assert_close(value, model(&p, 0.6, &d), 1e-14, "grad value");
    let mut rng = Rng::new(7);
    let start = rng.vec(p.float_len(), -1.0, 1.0);
    let mut dp = with(&p.zero_like(), &start);
    let mut dx = 0.25;
    let va = model_adjoint(&p, &mut dp, 0.6, &mut dx, &d, 2.5);
    assert_close(va, value, 1e-14, "adjoint value");
    assert_accumulated(&dp.to_floats(), &start, 2.5, &g.to_floats());
    assert_close(dx, 0.25 + 2.5 * gx, 1e-12, "accumulated dx");
    let t = rng.vec(p.float_len(), -1.0, 1.0);
    let (vf, jt) = model_fwd(&p, &with(&p, &t), 0.6, -0.4, &d);
    assert_close(vf, value, 1e-14, "forward value");
    assert_dot_identity(1.0, jt, &join(&g, gx), &join(&with(&p, &t), -0.4));
}

// ---- `wrt(..)` subsets: a passive scalar before the struct, an active slice after it

#[differentiate(order = 2, wrt(p, y))]
fn subset(x: f64, p: &Params, y: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..y.len() {
        s += (p.w[i] * y[i] * x).sin() + p.b * y[i] * y[i];
    }
    s * p.inner.a + (p.c[2] * y[0]).exp()
}

#[test]
fn struct_and_slice_subset() {
    let p = params();
    let np = p.float_len();
    let x = 0.9;
    let split = |z: &[f64]| (with(&p, &z[..np]), z[np..].to_vec());
    let flat = |a: &Params, b: &[f64]| {
        let mut out = a.to_floats();
        out.extend_from_slice(b);
        out
    };
    let value = |z: &[f64]| {
        let (q, y) = split(z);
        subset(x, &q, &y)
    };
    let grad = |z: &[f64]| {
        let (q, y) = split(z);
        let (v, (gp, gy)) = subset_grad(x, &q, &y);
        (v, flat(&gp, &gy))
    };
    let hvp = |z: &[f64], t: &[f64]| {
        let (q, y) = split(z);
        let (vq, vy) = split(t);
        let (v, (gp, gy), (hp, hy)): (f64, (Params, Vec<f64>), (Params, Vec<f64>)) =
            subset_hvp(x, &q, &vq, &y, &vy);
        (v, flat(&gp, &gy), flat(&hp, &hy))
    };
    let hessian = |z: &[f64]| {
        let (q, y) = split(z);
        let (v, (gp, gy), h) = subset_hessian(x, &q, &y);
        (v, flat(&gp, &gy), h)
    };
    let f = Flat {
        value: &value,
        grad: &grad,
        hvp: &hvp,
        hessian: &hessian,
    };
    let z = flat(&p, &[0.3, -0.6, 0.45, 1.1]);
    let h = check("subset", &f, &z, 2);
    // fields the body does not read have zero rows and columns (`inner.v`, `scale`,
    // `c[0]`, `c[1]`)
    let n = z.len();
    let nw = p.w.len();
    for unused in [nw + 1, nw + 2, nw + 5, nw + 6, nw + 7] {
        assert!((0..n).all(|k| h[unused * n + k] == 0.0 && h[k * n + unused] == 0.0));
    }
}

// ---- a struct taken by value, and a struct alone

#[derive(Clone, Debug, PartialEq, Differentiable)]
struct Pair {
    a: f64,
    b: [f64; 2],
}

#[differentiate(order = 2, wrt(p))]
fn by_value(p: Pair, k: f64) -> f64 {
    (p.a * p.b[0]).exp() * k + p.b[1].powi(3) / (1.0 + p.a * p.a)
}

#[test]
fn struct_by_value() {
    let p = Pair {
        a: 0.4,
        b: [-0.3, 0.8],
    };
    let k = 1.7;
    let value = |z: &[f64]| by_value(with(&p, z), k);
    let grad = |z: &[f64]| {
        let (v, g) = by_value_grad(with(&p, z), k);
        (v, g.to_floats())
    };
    let hvp = |z: &[f64], t: &[f64]| {
        let (v, g, h): (f64, Pair, Pair) = by_value_hvp(with(&p, z), with(&p, t), k);
        (v, g.to_floats(), h.to_floats())
    };
    let hessian = |z: &[f64]| {
        let (v, g, h) = by_value_hessian(with(&p, z), k);
        (v, g.to_floats(), h)
    };
    let f = Flat {
        value: &value,
        grad: &grad,
        hvp: &hvp,
        hessian: &hessian,
    };
    check("by_value", &f, &p.to_floats(), 3);
}

// ---- `wrt(self)` methods

impl Params {
    #[differentiate(order = 2, wrt(self))]
    fn energy(&self, x: f64) -> f64 {
        let mut e = self.b * self.b * x;
        for i in 0..self.w.len() {
            e += (self.w[i] * self.c[i % 3]).cos() * x + self.w[i] * self.w[i] * self.inner.a;
        }
        e * *self.scale
    }

    #[differentiate(order = 2, wrt(self, x))]
    fn energy_x(&self, x: f64) -> f64 {
        let mut e = (self.b * x).sin();
        for i in 0..self.w.len() {
            e += self.w[i] * x * x * self.inner.v[i % 2];
        }
        e * e
    }
}

#[test]
fn methods_wrt_self() {
    let p = params();
    let x = 0.7;
    let value = |z: &[f64]| with(&p, z).energy(x);
    let grad = |z: &[f64]| {
        let (v, g) = with(&p, z).energy_grad(x);
        (v, g.to_floats())
    };
    let hvp = |z: &[f64], t: &[f64]| {
        let (v, g, h): (f64, Params, Params) = with(&p, z).energy_hvp(&with(&p, t), x);
        (v, g.to_floats(), h.to_floats())
    };
    let hessian = |z: &[f64]| {
        let (v, g, h) = with(&p, z).energy_hessian(x);
        (v, g.to_floats(), h)
    };
    let f = Flat {
        value: &value,
        grad: &grad,
        hvp: &hvp,
        hessian: &hessian,
    };
    check("energy", &f, &p.to_floats(), 4);

    let np = p.float_len();
    let split = |z: &[f64]| (with(&p, &z[..np]), z[np]);
    let value = |z: &[f64]| {
        let (q, x) = split(z);
        q.energy_x(x)
    };
    let grad = |z: &[f64]| {
        let (q, x) = split(z);
        let (v, (g, gx)) = q.energy_x_grad(x);
        (v, join(&g, gx))
    };
    let hvp = |z: &[f64], t: &[f64]| {
        let (q, x) = split(z);
        let (vq, vx) = split(t);
        let (v, (g, gx), (h, hx)) = q.energy_x_hvp(&vq, x, vx);
        (v, join(&g, gx), join(&h, hx))
    };
    let hessian = |z: &[f64]| {
        let (q, x) = split(z);
        let (v, (g, gx), h) = q.energy_x_hessian(x);
        (v, join(&g, gx), h)
    };
    let f = Flat {
        value: &value,
        grad: &grad,
        hvp: &hvp,
        hessian: &hessian,
    };
    check("energy_x", &f, &join(&p, x), 5);
}

// ---- a generic struct `G<T: Float>`, on f64 and f32

#[derive(Clone, Debug, PartialEq, Differentiable)]
struct Layer<T: Float> {
    w: Vec<T>,
    s: T,
    inner: Inner2<T>,
}

#[derive(Clone, Debug, PartialEq, Differentiable)]
struct Inner2<T: Float> {
    k: [T; 2],
}

#[differentiate(order = 2, wrt(p, x))]
fn layer<T: Float>(p: &Layer<T>, x: &[T]) -> T {
    let mut s = p.s;
    for i in 0..x.len() {
        s = s + (p.w[i] * x[i]).tanh() * p.inner.k[i % 2];
    }
    s * s + p.inner.k[0] * p.inner.k[1] * x[0]
}

#[test]
fn generic_struct() {
    let p = Layer {
        w: vec![0.5, -0.3, 0.9],
        s: 0.2,
        inner: Inner2 { k: [1.1, -0.7] },
    };
    let np = p.float_len();
    let split = |z: &[f64]| (with(&p, &z[..np]), z[np..].to_vec());
    let flat = |a: &Layer<f64>, b: &[f64]| {
        let mut out = a.to_floats();
        out.extend_from_slice(b);
        out
    };
    let value = |z: &[f64]| {
        let (q, x) = split(z);
        layer(&q, &x)
    };
    let grad = |z: &[f64]| {
        let (q, x) = split(z);
        let (v, (g, gx)) = layer_grad(&q, &x);
        (v, flat(&g, &gx))
    };
    let hvp = |z: &[f64], t: &[f64]| {
        let (q, x) = split(z);
        let (vq, vx) = split(t);
        let (v, (g, gx), (h, hx)) = layer_hvp(&q, &vq, &x, &vx);
        (v, flat(&g, &gx), flat(&h, &hx))
    };
    let hessian = |z: &[f64]| {
        let (q, x) = split(z);
        let (v, (g, gx), h) = layer_hessian(&q, &x);
        (v, flat(&g, &gx), h)
    };
    let f = Flat {
        value: &value,
        grad: &grad,
        hvp: &hvp,
        hessian: &hessian,
    };
    let h = check("layer", &f, &flat(&p, &[0.4, -0.8, 0.6]), 6);

    // on f32: the same Hessian to f32 precision
    let p32 = Layer {
        w: p.w.iter().map(|&a| a as f32).collect(),
        s: p.s as f32,
        inner: Inner2 {
            k: p.inner.k.map(|a| a as f32),
        },
    };
    let (_, _, h32) = layer_hessian(&p32, &[0.4f32, -0.8, 0.6]);
    assert_eq!(h32.len(), h.len());
    for (a, b) in h32.iter().zip(&h) {
        assert!((*a as f64 - b).abs() < 1e-4 * (1.0 + b.abs()), "{a} vs {b}");
    }
}

#[test]
#[should_panic(expected = "the direction `vp` must have the shape of `p` (`p.w`)")]
fn direction_of_another_shape_panics() {
    let p = params();
    let mut vp = p.zero_like();
    vp.w.pop();
    let _ = model_hvp(&p, &vp, 0.5, 1.0, &data());
}

// ---- fields passed to `order = 2` callees: a float, a slice bound first

#[differentiate(order = 2)]
fn weighted(w: &[f64], k: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len() {
        s += sq(w[i] * k) * w[(i + 1) % w.len()];
    }
    s
}

#[differentiate(order = 2, wrt(p, x))]
fn calls(p: &Params, x: f64) -> f64 {
    sq(p.b * x) * p.w[0] + sq(p.inner.a) * sq(p.c[2] + x)
}

#[test]
fn fields_into_second_order_callees() {
    let p = params();
    let np = p.float_len();
    let split = |z: &[f64]| (with(&p, &z[..np]), z[np]);
    let value = |z: &[f64]| {
        let (q, x) = split(z);
        calls(&q, x)
    };
    let grad = |z: &[f64]| {
        let (q, x) = split(z);
        let (v, (g, gx)) = calls_grad(&q, x);
        (v, join(&g, gx))
    };
    let hvp = |z: &[f64], t: &[f64]| {
        let (q, x) = split(z);
        let (vq, vx) = split(t);
        let (v, (g, gx), (h, hx)) = calls_hvp(&q, &vq, x, vx);
        (v, join(&g, gx), join(&h, hx))
    };
    let hessian = |z: &[f64]| {
        let (q, x) = split(z);
        let (v, (g, gx), h) = calls_hessian(&q, x);
        (v, join(&g, gx), h)
    };
    let f = Flat {
        value: &value,
        grad: &grad,
        hvp: &hvp,
        hessian: &hessian,
    };
    check("calls", &f, &join(&p, -0.8), 8);
}

// ---- fields passed by reference, and a generic struct passed whole, to
// `order = 2` callees (their dual copies take `Vec<Dual<f64>>`, `Layer<Dual<T>>`)

#[differentiate(order = 2, wrt(p, x))]
fn passes_fields(p: &Params, x: f64) -> f64 {
    weighted(&p.w, p.b * x) + weighted(&p.c, x) * p.w[1] + sq(p.inner.v[0])
}

#[differentiate(order = 2, wrt(q, y))]
fn inner_fn<T: Float>(q: &Inner2<T>, y: T) -> T {
    (q.k[0] * y).sin() * q.k[1]
}

#[differentiate(order = 2, wrt(p, x))]
fn passes_whole<T: Float>(p: &Layer<T>, x: &[T]) -> T {
    let a = layer(p, x);
    a * p.s + layer(p, x) * x[1] + inner_fn(&p.inner, x[0] * p.w[2])
}

#[test]
fn fields_and_structs_passed_to_callees() {
    let p = params();
    let np = p.float_len();
    let split = |z: &[f64]| (with(&p, &z[..np]), z[np]);
    let value = |z: &[f64]| {
        let (q, x) = split(z);
        passes_fields(&q, x)
    };
    let grad = |z: &[f64]| {
        let (q, x) = split(z);
        let (v, (g, gx)) = passes_fields_grad(&q, x);
        (v, join(&g, gx))
    };
    let hvp = |z: &[f64], t: &[f64]| {
        let (q, x) = split(z);
        let (vq, vx) = split(t);
        let (v, (g, gx), (h, hx)) = passes_fields_hvp(&q, &vq, x, vx);
        (v, join(&g, gx), join(&h, hx))
    };
    let hessian = |z: &[f64]| {
        let (q, x) = split(z);
        let (v, (g, gx), h) = passes_fields_hessian(&q, x);
        (v, join(&g, gx), h)
    };
    let f = Flat {
        value: &value,
        grad: &grad,
        hvp: &hvp,
        hessian: &hessian,
    };
    check("passes_fields", &f, &join(&p, 0.45), 9);

    let l = Layer {
        w: vec![0.5, -0.3, 0.9],
        s: 0.2,
        inner: Inner2 { k: [1.1, -0.7] },
    };
    let nl = l.float_len();
    let split = |z: &[f64]| (with(&l, &z[..nl]), z[nl..].to_vec());
    let flat = |a: &Layer<f64>, b: &[f64]| {
        let mut out = a.to_floats();
        out.extend_from_slice(b);
        out
    };
    let value = |z: &[f64]| {
        let (q, x) = split(z);
        passes_whole(&q, &x)
    };
    let grad = |z: &[f64]| {
        let (q, x) = split(z);
        let (v, (g, gx)) = passes_whole_grad(&q, &x);
        (v, flat(&g, &gx))
    };
    let hvp = |z: &[f64], t: &[f64]| {
        let (q, x) = split(z);
        let (vq, vx) = split(t);
        let (v, (g, gx), (h, hx)) = passes_whole_hvp(&q, &vq, &x, &vx);
        (v, flat(&g, &gx), flat(&h, &hx))
    };
    let hessian = |z: &[f64]| {
        let (q, x) = split(z);
        let (v, (g, gx), h) = passes_whole_hessian(&q, &x);
        (v, flat(&g, &gx), h)
    };
    let f = Flat {
        value: &value,
        grad: &grad,
        hvp: &hvp,
        hessian: &hessian,
    };
    check("passes_whole", &f, &flat(&l, &[0.4, -0.8, 0.6]), 10);
}

// ---- the runtime's Newton methods on a struct, over the generated functions

#[differentiate(order = 2, wrt(p))]
fn fit(p: &Pair, xs: &[f64], ys: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..xs.len() {
        let r = p.a * (p.b[0] * xs[i]).exp() + p.b[1] - ys[i];
        s += r * r;
    }
    s
}

#[test]
fn newton_on_struct_parameters() {
    use autodiff::{Newton, NewtonCg, Stop};
    let xs = [0.0, 0.5, 1.0, 1.5, 2.0];
    let ys: Vec<f64> = xs.iter().map(|x| 1.5 * (-0.7 * x).exp() + 0.25).collect();
    let start = Pair {
        a: 1.0,
        b: [-0.3, 0.0],
    };
    let want = [1.5, -0.7, 0.25];
    let report = Newton::new()
        .with_stop(Stop::new().grad_tol(1e-12))
        .minimize_struct(
            |p: &Pair, g: &mut Pair, h: &mut [f64]| {
                let (v, grad, hess) = fit_hessian(p, &xs, &ys);
                *g = grad;
                h.copy_from_slice(&hess);
                v
            },
            &start,
        )
        .unwrap();
    assert!(report.converged(), "{report}");
    assert_vec_close(&report.params.to_floats(), &want, 1e-8, "Newton");

    let report = NewtonCg::new()
        .with_stop(Stop::new().grad_tol(1e-12))
        .minimize_struct(
            |p: &Pair, v: &Pair, g: &mut Pair, hv: &mut Pair| {
                let (value, grad, h) = fit_hvp(p, v, &xs, &ys);
                (*g, *hv) = (grad, h);
                value
            },
            &start,
        )
        .unwrap();
    assert!(report.converged(), "{report}");
    assert_vec_close(&report.params.to_floats(), &want, 1e-8, "NewtonCg");
}

// ---- every field shape through the derived dual copy (a struct passed whole)

#[derive(Clone, Debug, PartialEq, Differentiable)]
struct Deep<T: Float> {
    items: Vec<Inner2<T>>,
    pair: (T, [T; 2]),
    b: Box<T>,
    tag: String,
}

#[differentiate(order = 2, wrt(p, x))]
fn deep_callee<T: Float>(p: &Deep<T>, x: T) -> T {
    (p.pair.0 * x).sin() * *p.b + p.pair.1[1] * p.pair.1[0] * x * x
}

#[differentiate(order = 2, wrt(p, x))]
fn deep<T: Float>(p: &Deep<T>, x: T) -> T {
    deep_callee(p, x) * *p.b + deep_callee(p, x * x)
}

#[test]
fn derived_dual_copy_of_every_field_shape() {
    let p = Deep {
        items: vec![Inner2 { k: [0.1, 0.2] }],
        pair: (0.7, [-0.4, 1.3]),
        b: Box::new(0.9),
        tag: "deep".into(),
    };
    let np = p.float_len();
    assert_eq!(np, 6);
    let split = |z: &[f64]| (with(&p, &z[..np]), z[np]);
    let value = |z: &[f64]| {
        let (q, x) = split(z);
        deep(&q, x)
    };
    let grad = |z: &[f64]| {
        let (q, x) = split(z);
        let (v, (g, gx)) = deep_grad(&q, x);
        (v, join(&g, gx))
    };
    let hvp = |z: &[f64], t: &[f64]| {
        let (q, x) = split(z);
        let (vq, vx) = split(t);
        let (v, (g, gx), (h, hx)) = deep_hvp(&q, &vq, x, vx);
        assert_eq!((g.tag.as_str(), h.items.len()), ("deep", 1));
        (v, join(&g, gx), join(&h, hx))
    };
    let hessian = |z: &[f64]| {
        let (q, x) = split(z);
        let (v, (g, gx), h) = deep_hessian(&q, x);
        (v, join(&g, gx), h)
    };
    let f = Flat {
        value: &value,
        grad: &grad,
        hvp: &hvp,
        hessian: &hessian,
    };
    let h = check("deep", &f, &join(&p, 0.6), 12);
    // `items` is never read: zero rows
    assert!(h[..2 * (np + 1)].iter().all(|a| *a == 0.0));
}
