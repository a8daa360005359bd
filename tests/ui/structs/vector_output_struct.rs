use autodiff::{differentiate, Differentiable};

#[derive(Clone, Differentiable)]
struct Line {
    a: f64,
    b: f64,
}

#[differentiate(wrt(p))]
fn residuals(p: &Line, t: &[f64], out: &mut [f64]) {
    for i in 0..t.len() {
        out[i] = p.a * t[i] + p.b;
    }
}

fn main() {}
