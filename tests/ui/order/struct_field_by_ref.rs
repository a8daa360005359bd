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

// Second-order code passes `&p.inner` to `h`'s dual copy as dual numbers: a
// struct of `f64` fields has no copy on them (a generic `Inner<T: Float>`
// would). `&p.w`, a `Vec<f64>`, becomes a `Vec<Dual<f64>>`.
#[differentiate(order = 2, wrt(p))]
fn f(p: &Outer) -> f64 {
    h(&p.inner) + total(&p.w)
}

fn main() {}
