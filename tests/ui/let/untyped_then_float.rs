//! A `let` whose kind the macro cannot tell, later assigned a float, asks for a type annotation.
use autodiff::differentiate;

fn start() -> f64 {
    1.0
}

#[differentiate]
fn f(x: f64) -> f64 {
    let mut s = start();
    s = s + x * 3.0;
    s
}

fn main() {}
