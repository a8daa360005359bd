//! Several errors in one function are all reported in one build, in source order.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64, n: usize) -> f64 {
    let b = x.fract();
    println!("{}", b);
    let mut s = x;
    loop {
        s = s * 0.5;
        if n > 2 {
            break;
        }
    }
    match n {
        0 => s,
        _ => b,
    }
}

fn main() {}
