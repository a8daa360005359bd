//! A name bound again would mean two things to the rewrite of a nested buffer.
use autodiff::differentiate;

#[differentiate]
fn f(m: &[[f64; 2]]) -> f64 {
    let s = m[0][0];
    let m = s * 2.0;
    m
}

fn main() {}
