//! Segments are cut on an increasing range.
use autodiff::differentiate;

#[differentiate]
fn f(x: &[f64]) -> f64 {
    let mut s = 0.0;
    #[checkpoint]
    for i in (0..x.len()).rev() {
        s = s * 0.5 + x[i];
    }
    s
}

fn main() {}
