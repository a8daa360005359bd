//! A user macro used as a float value is rejected; the error points at the macro's name.
use autodiff::differentiate;

macro_rules! square {
    ($e:expr) => {
        $e * $e
    };
}

#[differentiate]
fn f(x: f64) -> f64 {
    square!(x) + 1.0
}

fn main() {}
