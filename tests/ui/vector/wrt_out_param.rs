//! An out-parameter is an output: naming it in `wrt(..)` is an error that points at the name.
use autodiff::differentiate;

#[differentiate(wrt(x, out))]
fn f(x: f64, out: &mut [f64]) {
    out[0] = x * x;
}

fn main() {}
