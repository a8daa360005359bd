//! A closure whose capture is shadowed before the call is rejected (inlined, it would read the new variable).
use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    let a = x * 2.0;
    let c = |v: f64| v * a;
    let a = 5.0;
    c(x) + a
}

fn main() {}
