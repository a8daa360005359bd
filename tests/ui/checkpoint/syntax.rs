//! The attribute takes nothing or `every = k`.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    let mut s = x;
    #[checkpoint(segments = 4)]
    for _i in 0..100 {
        s = s * 0.9 + x;
    }
    s
}

fn main() {}
