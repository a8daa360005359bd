//! Several errors about vector outputs in one function are all reported.
use autodiff::differentiate;

fn g(x: f64) -> (f64, f64) {
    (x, x)
}

#[differentiate(wrt(x, out))]
fn f(x: f64, out: &mut [f64; 2]) -> (f64, f64) {
    out[0] = x;
    if x > 0.0 {
        return g(x);
    }
    (x, x)
}

fn main() {}
