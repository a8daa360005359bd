use autodiff::{differentiate, Differentiable};

#[derive(Clone, Differentiable)]
struct P {
    w: Vec<f64>,
}

impl P {
    fn total(&self) -> f64 {
        self.w.iter().sum()
    }
}

#[differentiate(wrt(p))]
fn f(p: &P) -> f64 {
    let q = p;
    p.total() + q.w[0]
}

fn main() {}
