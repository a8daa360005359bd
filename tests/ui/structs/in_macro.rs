use autodiff::{differentiate, Differentiable};

#[derive(Differentiable)]
struct P {
    w: Vec<f64>,
}

macro_rules! twice {
    ($e:expr) => {
        2.0 * $e
    };
}

// `vec!`, the assertions and the printing macros are read like the body; the
// tokens of another macro cannot be, so a field inside one is an error.
#[differentiate(wrt(p))]
fn f(p: &P) -> f64 {
    let v = vec![p.w[0]; 3];
    assert!(p.w.len() > 1, "{}", p.w[1]);
    twice!(p.w[0]) * v[1]
}

fn main() {}
