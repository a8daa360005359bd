//! A float method outside the supported list (`sin_cos`) is rejected; the error points at the method name.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    x.sin_cos().0 * 2.0
}

fn main() {}
