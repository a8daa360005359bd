//! A `for` over an unsupported iterator (`windows`) is rejected; the error points at the iterator and lists what is supported.
use autodiff::differentiate;

#[differentiate]
fn f(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for p in x.windows(2) {
        s += p[1] - p[0];
    }
    s
}

fn main() {}
