//! Generic floats: `T::from`, `T::zero()`, generic callees with buffers, where-clauses, f32 literals.
#![allow(clippy::needless_range_loop)]
use autodiff::{differentiate, Float};

#[differentiate]
fn g<T: Float>(x: T, w: &[T]) -> T {
    let two = T::from(2.0).unwrap();
    let mut s = T::zero();
    for i in 0..w.len() {
        let fi = T::from(i).unwrap();
        s = s + w[i] * x.powi(2) * fi + two * x.sin();
    }
    if s > T::one() {
        s.ln()
    } else {
        s * s
    }
}

#[differentiate]
fn h<T>(x: T) -> T
where
    T: Float + std::fmt::Debug,
{
    let mut v = [T::zero(); 2];
    v[0] = x;
    v[1] = x * x;
    let y = g(x, &v);
    y.max(x)
}

#[differentiate]
fn lit32(x: f32) -> f32 {
    let c = 1.5f32;
    x * c + 2.0_f32.sqrt() * x.exp()
}

#[test]
fn generic_constants() {
    let (v, (gx, gw)) = g_grad(0.7f64, &[1.0, 2.0, 3.0]);
    assert!(v.is_finite() && gx.is_finite() && gw.len() == 3);
    let (v32, _) = g_grad(0.7f32, &[1.0, 2.0, 3.0]);
    assert!((v32 as f64 - v).abs() < 1e-5);
    let (_, d) = h_grad(0.3f64);
    let e = 1e-6;
    let fd = (h(0.3 + e) - h(0.3 - e)) / (2.0 * e);
    assert!((d - fd).abs() < 1e-6, "{d} {fd}");
    let (_, d) = lit32_grad(0.5);
    assert!((d - (1.5 + 2f32.sqrt() * 0.5f32.exp())).abs() < 1e-5);
}
