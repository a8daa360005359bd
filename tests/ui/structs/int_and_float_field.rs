use autodiff::{differentiate, Differentiable};

#[derive(Differentiable)]
struct P {
    w: Vec<f64>,
    n: usize,
}

// `p.n` bounds a loop (an integer) and calls a method, which would make it a
// float: the macro cannot tell which, so it refuses rather than guess.
#[differentiate(wrt(p))]
fn f(p: &P) -> f64 {
    let mut s = 0.0;
    for i in 0..p.n {
        s += p.w[i];
    }
    s * p.n.pow(2) as f64
}

fn main() {}
