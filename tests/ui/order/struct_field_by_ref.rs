use autodiff::{differentiate, Differentiable};

#[derive(Clone, Differentiable)]
struct Inner {
    a: f64,
}

#[derive(Clone, Differentiable)]
struct Outer {
    inner: Inner,
    w: Vec<f64>,
}

#[differentiate(order = 2, wrt(q))]
fn h(q: &Inner) -> f64 {
    q.a * q.a
}

#[differentiate(order = 2, wrt(w))]
fn total(w: &[f64]) -> f64 {
    w[0] * w[1]
}

// `&p.inner` could be a nested struct or a buffer: the second-order code
// cannot make it dual numbers (for `&p.w` neither).
#[differentiate(order = 2, wrt(p))]
fn f(p: &Outer) -> f64 {
    h(&p.inner) + total(&p.w)
}

fn main() {}
