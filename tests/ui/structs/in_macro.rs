use autodiff::{differentiate, Differentiable};

#[derive(Differentiable)]
struct P {
    w: Vec<f64>,
}

#[differentiate(wrt(p))]
fn f(p: &P) -> f64 {
    let v = vec![p.w[0]; 3];
    v[0] * v[1]
}

fn main() {}
