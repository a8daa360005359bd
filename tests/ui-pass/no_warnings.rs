//! Generated code compiles without warnings under `#![deny(warnings)]`, and a caller needs only `use autodiff::differentiate;`.
#![deny(warnings)]
use autodiff::differentiate;

#[differentiate]
fn f(x: f64, y: f64) -> f64 {
    2.0 * x + 5.0 * y
}

#[differentiate(wrt(w, b))]
pub fn loss(w: &[f64], b: f64, x: &[f64], y: f64) -> f64 {
    let mut s = b;
    for i in 0..w.len() {
        s += w[i] * x[i];
    }
    let r = s - y;
    r * r
}

#[differentiate]
fn g<T: autodiff::Float>(x: T) -> T {
    x.exp() * x.sin()
}

// casts between float types: `(t) as f32` conversions in the generated code
#[differentiate]
fn mixed(x: f64, w: &[f64]) -> f64 {
    let h = (x * w[0]) as f32;
    let mut s = 0.0f32;
    for v in w.iter() {
        s = s * h + (*v as f32).sin();
    }
    (s * h).exp() as f64 + x
}

fn main() {
    let (_, (dx, _)) = mixed_grad(0.5, &[1.0, 2.0]);
    assert!(dx.is_finite());
    assert_eq!(f_grad(1.0, 2.0), (12.0, (2.0, 5.0)));
    let (v, (gw, gb)) = loss_grad(&[1.0, 2.0], 0.5, &[3.0, 4.0], 1.0);
    assert!(v > 0.0 && gw.len() == 2 && gb > 0.0);
    let (_, d) = g_fwd(0.0_f64, 1.0);
    assert!((d - 1.0).abs() < 1e-12);
}
