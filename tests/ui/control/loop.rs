//! A `loop` that computes a differentiated value is rejected; the error points at `loop`.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    let mut s = x;
    loop {
        s = s * 0.5;
        if s < 1.0 {
            break;
        }
    }
    s
}

fn main() {}
