//! Parameters as structs: `#[derive(Differentiable)]` structs named in `wrt(..)`,
//! checked against finite differences, forward-vs-reverse agreement and
//! accumulation, for flat, nested and generic structs, structs passed to calls,
//! `wrt(self)` methods and mixed struct + slice + scalar parameters.
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
    assert!(g.iter().any(|&x| x.abs() > 1e-8), "a zero gradient checks nothing");

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
