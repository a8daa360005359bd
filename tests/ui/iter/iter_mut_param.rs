//! `iter_mut()` writes local buffers only: over a parameter (immutable) it is rejected.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64, w: &[f64]) -> f64 {
    let mut s = x;
    let v = &w[0..2];
    for e in v.iter_mut() {
        s += *e;
    }
    s
}

fn main() {}
