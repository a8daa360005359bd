//! `while let` is rejected with its own name.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64, n: usize) -> f64 {
    let mut s = x;
    let mut k = Some(n);
    while let Some(m) = k {
        s = s * 0.5;
        k = if m > 0 { Some(m - 1) } else { None };
    }
    s
}

fn main() {}
