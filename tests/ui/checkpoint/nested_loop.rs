//! `#[checkpoint]` cuts a loop at the top of the body into segments.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    let mut s = x;
    for _i in 0..10 {
        #[checkpoint]
        for _j in 0..10 {
            s = s * 0.9 + x;
        }
    }
    s
}

fn main() {}
