//! `break` with a value out of a labelled block is rejected; the errors point at the label and the value.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64, n: usize) -> f64 {
    let y = 'found: {
        if n > 3 {
            break 'found x;
        }
        2.0 * x
    };
    y
}

fn main() {}
