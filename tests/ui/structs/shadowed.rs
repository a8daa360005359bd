use autodiff::{differentiate, Differentiable};

#[derive(Differentiable)]
struct P {
    w: Vec<f64>,
}

#[differentiate(wrt(p))]
fn f(p: &P, x: f64) -> f64 {
    let s = p.w[0] * x;
    let p = s * s;
    p
}

fn main() {}
