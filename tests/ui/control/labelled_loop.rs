//! A labelled loop and a labelled `break` are rejected; each error points at the label.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64, n: usize) -> f64 {
    let mut s = x;
    'outer: for i in 0..n {
        for j in 0..n {
            s = s * x;
            if i + j > 3 {
                break 'outer;
            }
        }
    }
    s
}

fn main() {}
