use autodiff::{differentiate, Differentiable};

#[derive(Differentiable)]
struct P {
    w: Vec<f64>,
}

#[differentiate(wrt(p))]
fn f(p: &mut P) -> f64 {
    p.w[0] * p.w[0]
}

fn main() {}
