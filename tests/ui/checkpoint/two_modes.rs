//! A loop is stored, recomputed or checkpointed: one of the three.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    let mut s = x;
    #[recompute]
    #[checkpoint]
    for _i in 0..100 {
        s = s * 0.9 + x;
    }
    s
}

fn main() {}
