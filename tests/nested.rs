//! Nested differentiation: differentiated functions calling `g_grad`, `g_fwd`
//! and `g_adjoint` of `order = 2` functions, in all four combinations
//! (forward/reverse over forward/reverse), against central differences and
//! analytic values.
#![allow(clippy::needless_range_loop, clippy::assign_op_pattern)]

use autodiff::differentiate;

#[differentiate(order = 2, wrt(w))]
fn inner(w: &[f64], data: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len() {
        let r = w[i] * data[i] - 1.0;
        s += r * r + 0.1 * w[i].powi(4);
    }
    s
}

/// The loss after one gradient step of size `lr` (meta-learning's inner step):
/// reverse over reverse (`_grad` of a function calling `inner_grad`).
#[differentiate(wrt(w, lr))]
fn after_step(w: &[f64], data: &[f64], lr: f64) -> f64 {
    let (_, g) = inner_grad(w, data);
    let mut w2 = vec![0.0; w.len()];
    for i in 0..w.len() {
        w2[i] = w[i] - lr * g[i];
    }
    inner(&w2, data)
}

/// A few steps of gradient descent, then the loss: through a loop of `_adjoint`
/// calls accumulating into a local gradient buffer.
#[differentiate(wrt(w0, lr))]
fn unrolled(w0: &[f64], data: &[f64], lr: f64) -> f64 {
    let mut w = w0.to_vec();
    for _ in 0..3 {
        let mut g = vec![0.0; w.len()];
        inner_adjoint(&w, &mut g, data, 1.0);
        for i in 0..w.len() {
            w[i] = w[i] - lr * g[i];
        }
    }
    inner(&w, data)
}

#[differentiate(order = 2)]
fn g(x: f64, y: f64) -> f64 {
    (x * y).sin() + x * x * y
}

/// The directional derivative of `g` along (1, 2), as a function: over forward.
#[differentiate]
fn slope(x: f64, y: f64) -> f64 {
    let (_, d) = g_fwd(x, 1.0, y, 2.0);
    d * d
}

fn fd(f: impl Fn(&[f64]) -> f64, x: &[f64]) -> Vec<f64> {
    let e = 1e-6;
    (0..x.len())
        .map(|i| {
            let mut p = x.to_vec();
            let mut m = x.to_vec();
            p[i] += e;
            m[i] -= e;
            (f(&p) - f(&m)) / (2.0 * e)
        })
        .collect()
}

fn close(a: &[f64], b: &[f64], tol: f64, what: &str) {
    assert_eq!(a.len(), b.len());
    for k in 0..a.len() {
        assert!(
            (a[k] - b[k]).abs() <= tol * (1.0 + a[k].abs()),
            "{what}[{k}]: {} vs {}",
            a[k],
            b[k]
        );
    }
}

#[test]
fn reverse_over_reverse_one_gradient_step() {
    let data = [0.5, 1.5, -0.7];
    let w = [0.3, -0.2, 0.8];
    let lr = 0.05;
    let (v, (gw, glr)) = after_step_grad(&w, &data, lr);
    assert_eq!(v, after_step(&w, &data, lr));
    let f = |p: &[f64]| after_step(&p[..3], &data, p[3]);
    let want = fd(f, &[w[0], w[1], w[2], lr]);
    let mut got = gw.clone();
    got.push(glr);
    close(&got, &want, 1e-7, "after_step");
    // ∂/∂lr at lr = 0 is -‖∇inner‖²
    let (_, (_, glr0)) = after_step_grad(&w, &data, 0.0);
    let (_, g) = inner_grad(&w, &data);
    let n2: f64 = g.iter().map(|v| v * v).sum();
    assert!((glr0 + n2).abs() < 1e-12 * n2, "{glr0} vs {}", -n2);
    // forward over reverse agrees with reverse over reverse
    let dir = [0.2, -0.1, 0.4, 0.3];
    let (v2, dv) = after_step_fwd(&w, &dir[..3], &data, lr, dir[3]);
    assert_eq!(v2, v);
    let dot: f64 = got.iter().zip(&dir).map(|(a, b)| a * b).sum();
    assert!((dv - dot).abs() < 1e-12 * (1.0 + dot.abs()));
    // accumulation with dret ≠ 1
    let mut dw = vec![1.0; 3];
    let mut dlr = 1.0;
    after_step_adjoint(&w, &mut dw, &data, lr, &mut dlr, 2.5);
    for i in 0..3 {
        assert!((dw[i] - (1.0 + 2.5 * gw[i])).abs() < 1e-12);
    }
    assert!((dlr - (1.0 + 2.5 * glr)).abs() < 1e-12);
}

#[test]
fn through_an_unrolled_descent_loop() {
    let data = [0.5, 1.5, -0.7];
    let w = [0.3, -0.2, 0.8];
    let lr = 0.05;
    let (v, (gw, glr)) = unrolled_grad(&w, &data, lr);
    assert_eq!(v, unrolled(&w, &data, lr));
    let want = fd(|p| unrolled(&p[..3], &data, p[3]), &[w[0], w[1], w[2], lr]);
    let mut got = gw;
    got.push(glr);
    close(&got, &want, 1e-7, "unrolled");
}

#[test]
fn over_forward() {
    let (x, y) = (0.4, -0.9);
    // slope = (∂g/∂x + 2 ∂g/∂y)²
    let (v, (gx, gy)) = slope_grad(x, y);
    assert_eq!(v, slope(x, y));
    let want = fd(|p| slope(p[0], p[1]), &[x, y]);
    close(&[gx, gy], &want, 1e-7, "slope");
    let (_, d) = slope_fwd(x, 1.0, y, 0.0);
    assert!((d - gx).abs() < 1e-12);
}

#[test]
fn empty_inputs_still_return_the_value() {
    let (v, (gw, glr)) = after_step_grad(&[], &[], 0.1);
    assert_eq!(v, 0.0);
    assert!(gw.is_empty());
    assert_eq!(glr, 0.0);
    // no active input at all (`w` empty, `c` passive): the value still comes back
    let value = offset_adjoint(&[], &mut [], 2.0, 1.0);
    assert_eq!(value, 4.0);
    assert_eq!(offset_grad(&[], 2.0), (4.0, vec![]));
}

/// c² plus the inner loss: nonzero at an empty `w`.
#[differentiate(wrt(w))]
fn offset(w: &[f64], c: f64) -> f64 {
    let (v, _) = inner_grad(w, w);
    v + c * c
}
