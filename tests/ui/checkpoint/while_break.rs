//! A checkpointed `while` loop is replayed by its trip count: it cannot leave
//! early either.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    let mut s = x;
    #[checkpoint]
    while s < 100.0 {
        s = s * 1.5 + x;
        if s > 50.0 {
            break;
        }
    }
    s
}

fn main() {}
