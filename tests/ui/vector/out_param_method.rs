//! A method that writes an out-parameter behind the macro's back (`fill`, `copy_from_slice`) is rejected.
use autodiff::differentiate;

#[differentiate]
fn f(x: &[f64], out: &mut [f64]) {
    out.copy_from_slice(x);
    out.fill(0.0);
    out[0] = x[0];
}

fn main() {}
