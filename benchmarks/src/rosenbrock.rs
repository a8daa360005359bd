//! Problem 1: the extended Rosenbrock function
//! f(x) = Σᵢ 100 (xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)², i = 0..n−1.

use crate::scalar::{self, Scalar};
use autodiff::differentiate;

/// Sizes benchmarked.
pub const SIZES: [usize; 4] = [2, 10, 100, 1000];

/// A deterministic starting point of size `n` (the classic −1.2, 1 pattern,
/// slightly perturbed so that no two coordinates are equal).
pub fn data(n: usize) -> Vec<f64> {
    let mut rng = crate::rng::SplitMix64::new(0x5eed_0001 + n as u64);
    (0..n)
        .map(|i| if i % 2 == 0 { -1.2 } else { 1.0 } + 0.1 * rng.range(-1.0, 1.0))
        .collect()
}

/// The objective, in the macro subset; `x` is the only active input.
#[differentiate(order = 2)]
pub fn rosenbrock(x: &[f64]) -> f64 {
    let n = x.len();
    let mut s = 0.0;
    for i in 0..n - 1 {
        let t = x[i + 1] - x[i] * x[i];
        let u = 1.0 - x[i];
        s += 100.0 * t * t + u * u;
    }
    s
}

/// Hand-written reverse mode: overwrites `dx` with ∇f(x), returns f(x).
pub fn rosenbrock_hand(x: &[f64], dx: &mut [f64]) -> f64 {
    let n = x.len();
    assert_eq!(dx.len(), n);
    let mut s = 0.0;
    dx[0] = 0.0;
    for i in 0..n - 1 {
        let xi = x[i];
        let t = x[i + 1] - xi * xi;
        let u = 1.0 - xi;
        s += 100.0 * t * t + u * u;
        dx[i] += -400.0 * t * xi - 2.0 * u;
        dx[i + 1] = 200.0 * t;
    }
    s
}

/// Generic re-implementation for the peers.
pub fn rosenbrock_generic<S: Scalar>(x: &[S]) -> S {
    let n = x.len();
    let mut s = x[0].cst(0.0);
    for i in 0..n - 1 {
        let t = x[i + 1].clone() - x[i].clone() * x[i].clone();
        let u = -(x[i].clone() - 1.0);
        s = s + t.clone() * t * 100.0 + u.clone() * u;
    }
    s
}

/// num-dual (forward, `DualDVec64`): value and gradient.
pub fn rosenbrock_num_dual(x: &[f64]) -> (f64, Vec<f64>) {
    scalar::num_dual_gradient(x, rosenbrock_generic)
}

/// `reverse` tape: value and gradient.
pub fn rosenbrock_reverse(x: &[f64]) -> (f64, Vec<f64>) {
    scalar::reverse_gradient(x, |v| rosenbrock_generic(v))
}

/// Central finite differences into `grad`; `work` is a scratch copy of `x`.
pub fn rosenbrock_fd(x: &[f64], work: &mut Vec<f64>, grad: &mut [f64]) {
    work.clear();
    work.extend_from_slice(x);
    crate::fd::central(work, grad, rosenbrock);
}

/// ad_trait's `ReverseAD` (global graph): value and gradient.
#[cfg(feature = "ad_trait")]
pub fn rosenbrock_ad_trait(x: &[f64]) -> (f64, Vec<f64>) {
    scalar::ad_trait_peer::gradient(x, rosenbrock_generic)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::assert_grad_close;

    #[test]
    fn known_values() {
        assert_eq!(rosenbrock(&[1.0, 1.0, 1.0]), 0.0);
        let mut g = [0.0; 2];
        let f = rosenbrock_hand(&[-1.2, 1.0], &mut g);
        assert!((f - 24.2).abs() < 1e-12);
        assert!((g[0] + 215.6).abs() < 1e-10 && (g[1] + 88.0).abs() < 1e-10);
    }

    #[test]
    fn hand_matches_fd_and_peers() {
        for n in SIZES {
            let x = data(n);
            let mut g = vec![7.0; n];
            let f = rosenbrock_hand(&x, &mut g);
            assert_eq!(f, rosenbrock(&x));
            assert!((rosenbrock_generic(&x) - f).abs() <= 1e-12 * f.abs());
            let mut fd = vec![0.0; n];
            rosenbrock_fd(&x, &mut Vec::new(), &mut fd);
            assert_grad_close("fd", &fd, &g, 1e-6);
            let (fv, gd) = rosenbrock_num_dual(&x);
            assert!((fv - f).abs() <= 1e-12 * f.abs());
            assert_grad_close("num_dual", &gd, &g, 1e-8);
            let (fv, gr) = rosenbrock_reverse(&x);
            assert!((fv - f).abs() <= 1e-12 * f.abs());
            assert_grad_close("reverse", &gr, &g, 1e-8);
        }
    }
}
