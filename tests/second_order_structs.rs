//! Second order (`order = 2`) with struct parameters.
#![allow(clippy::needless_range_loop)]
mod common;

use autodiff::{differentiate, Differentiable};

#[derive(Clone, Debug, PartialEq, Differentiable)]
struct Line {
    a: f64,
    w: Vec<f64>,
}

#[differentiate(order = 2, wrt(p, x))]
fn f(p: &Line, x: f64) -> f64 {
    (p.a * x + p.w[0]) * (p.a * x + p.w[1]).sin()
}

#[test]
fn smoke() {
    let p = Line { a: 0.5, w: vec![0.3, -0.2] };
    let (v, g, h) = f_hessian(&p, 0.7);
    println!("{v} {g:?} {h:?}");
    let (v, g, hv) = f_hvp(&p, &Line { a: 1.0, w: vec![0.0, 0.0] }, 0.7, 0.0);
    println!("{v} {g:?} {hv:?}");
}
