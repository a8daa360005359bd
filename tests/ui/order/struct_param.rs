use autodiff::{differentiate, Differentiable};

#[derive(Clone, Differentiable)]
struct Line {
    a: f64,
    b: f64,
}

#[differentiate(order = 2, wrt(p, x))]
fn g(p: &Line, x: f64) -> f64 {
    p.a * x + p.b
}

// Second-order code passes `p` to `g`'s dual copy as dual numbers: `Line`, of
// `f64` fields, has no copy on them (a generic `Line<T: Float>` would).
#[differentiate(order = 2, wrt(p))]
fn f(p: &Line, x: f64) -> f64 {
    g(p, x) * g(p, x)
}

fn main() {
    let p = Line { a: 1.0, b: 2.0 };
    let _ = f_hvp(&p, &p, 0.5);
    let _ = f_hessian(&p, 0.5);
}
