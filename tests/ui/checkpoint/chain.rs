//! `#[checkpoint]` is for a loop over a range (or a slice), not an iterator chain.
use autodiff::differentiate;

#[differentiate]
fn f(x: &[f64]) -> f64 {
    let mut s = 0.0;
    #[checkpoint]
    for v in x.iter().map(|v| v * 2.0) {
        s = s * 0.5 + v;
    }
    s
}

fn main() {}
