//! A checkpointed loop re-runs whole segments: it cannot leave early.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    let mut s = x;
    #[checkpoint]
    for _i in 0..100 {
        s = s * 0.9 + x;
        if s > 10.0 {
            break;
        }
    }
    s
}

fn main() {}
