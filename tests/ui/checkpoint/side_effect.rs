//! The body of a checkpointed loop runs again in the reverse sweep: passive
//! statements that could change what the saved states do not hold are rejected.
use autodiff::differentiate;

#[differentiate(wrt(x))]
fn f(x: f64, log: &mut Vec<usize>) -> f64 {
    let mut s = x;
    #[checkpoint]
    for i in 0..100 {
        s = s * 0.9 + x;
        log.push(i);
    }
    s
}

fn main() {}
