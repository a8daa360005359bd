//! A nested buffer passed whole twice to one call would need two shadows of it.
use autodiff::differentiate;

#[differentiate]
fn g2(a: &[[f64; 2]], b: &[[f64; 2]]) -> f64 {
    a[0][0] * b[1][1]
}

#[differentiate]
fn twice(w: &[[f64; 2]]) -> f64 {
    g2(w, w)
}

fn main() {}
