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

// `f_hvp` computes on the struct's fields as dual numbers; `Line` itself has
// no dual copy to pass whole to `g`'s.
#[differentiate(order = 2, wrt(p))]
fn f(p: &Line, x: f64) -> f64 {
    g(p, x) * g(p, x)
}

fn main() {
    let p = Line { a: 1.0, b: 2.0 };
    let _ = f_hvp(&p, &p, 0.5);
    let _ = f_hessian(&p, 0.5);
}
