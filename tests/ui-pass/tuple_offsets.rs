//! Passive tuple patterns (`let (lo, hi) = (.., ..);`, nested, from a call) inside a loop compile in every generated function: the reverse sweep sees each name.
#![deny(warnings)]
use autodiff::differentiate;

fn split(i: usize) -> (usize, usize) {
    (i / 2, i % 2)
}

#[differentiate]
fn f(w: &[f64]) -> f64 {
    let mut t = 1.0;
    for i in 0..w.len() {
        let (lo, hi) = (i, w.len() - 1 - i);
        let ((q, _), r) = (split(i), i % 3);
        t *= w[lo] * w[hi] + (q + r) as f64;
    }
    t
}

fn main() {
    let (_, g) = f_grad(&[1.0, 2.0, 3.0]);
    assert_eq!(g.len(), 3);
}
