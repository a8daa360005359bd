//! A local nested array of differentiated values is read by element and by row;
//! passed whole it is not a float buffer the macro knows.
use autodiff::differentiate;

fn trace(m: [[f64; 2]; 2]) -> f64 {
    m[0][0] + m[1][1]
}

#[differentiate]
fn f(x: f64) -> f64 {
    let m = [[x, 1.0], [2.0, x * x]];
    trace(m)
}

fn main() {}
