//! An out-parameter passed to a call is an error (the callee could write it behind the sweeps' back).
use autodiff::differentiate;

#[differentiate]
fn g(v: &[f64]) -> f64 {
    v[0]
}

#[differentiate]
fn f(x: f64, out: &mut [f64]) -> f64 {
    out[0] = x;
    g(out)
}

fn main() {}
