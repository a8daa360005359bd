use std::ops::Mul;

use autodiff::{differentiate, Differentiable};

#[derive(Clone, Copy)]
struct Scale(f64);

impl Mul<Scale> for f64 {
    type Output = f64;
    fn mul(self, s: Scale) -> f64 {
        self * s.0
    }
}

#[derive(Differentiable)]
struct P {
    w: Vec<f64>,
    #[differentiable(skip)]
    scale: Scale,
}

// `p.scale` read in arithmetic is taken for a float. The guess is a typed
// binding (`let p__scale: f64 = p.scale;`), so a wrong guess fails to compile
// instead of giving a wrong gradient.
#[differentiate(wrt(p))]
fn f(p: &P) -> f64 {
    p.w[0] * p.scale
}

fn main() {}
