//! Second derivatives for something a user cares about: the uncertainty of a
//! fitted model.
//!
//! A logistic regression p(y = 1 | x) = σ(w₀ + w₁x₁ + w₂x₂) is fitted to 400
//! synthetic points by Newton's method with a trust region, on the Hessian
//! `#[differentiate(order = 2)]` writes (`neg_log_posterior_hessian`), and
//! compared with L-BFGS on the gradient alone. At the optimum ŵ the Laplace
//! approximation of the posterior is a Gaussian N(ŵ, H⁻¹): the square roots of
//! the diagonal of H⁻¹ are the standard errors of the weights, the
//! eigenvalues of H the curvature of the loss along its principal axes. The
//! predictive probability of a new point then accounts for that uncertainty
//! (the probit approximation σ(μ / √(1 + πs²/8)), s² = xᵀH⁻¹x).
//!
//! Run (release mode, well under a second):
//!
//! ```text
//! cargo run --release --example laplace
//! ```

use autodiff::differentiate;
use autodiff::runtime::{Lbfgs, Newton, NewtonCg, Stop};
use nalgebra::{DMatrix, DVector, SymmetricEigen};

/// Negative log posterior of a logistic regression with a N(0, σ² = 25)
/// prior on the weights: Σ softplus terms + ‖w‖² / 50.
#[differentiate(order = 2, wrt(w))]
fn neg_log_posterior(w: &[f64], xs: &[f64], ys: &[f64]) -> f64 {
    let mut total = 0.0;
    for i in 0..ys.len() {
        let z = w[0] + w[1] * xs[2 * i] + w[2] * xs[2 * i + 1];
        // -log σ(z) for y = 1, -log(1 - σ(z)) for y = 0, written stably
        let softplus = z.max(0.0) + (-z.abs()).exp().ln_1p();
        total += softplus - ys[i] * z;
    }
    let prior: f64 = w.iter().map(|v| v * v).sum();
    total + prior / 50.0
}

/// splitmix64: a small deterministic generator for the synthetic data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let (u, v) = (self.next().max(1e-300), self.next());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

fn main() {
    let truth = [-0.5, 1.5, -2.0];
    let n = 400;
    let mut rng = Rng(7);
    let mut xs = Vec::with_capacity(2 * n);
    let mut ys = Vec::with_capacity(n);
    for _ in 0..n {
        let (a, b) = (rng.normal(), rng.normal());
        let p = sigmoid(truth[0] + truth[1] * a + truth[2] * b);
        xs.extend([a, b]);
        ys.push(if rng.next() < p { 1.0 } else { 0.0 });
    }

    let stop = Stop::new().grad_tol(1e-8).max_iters(500);
    let newton = Newton::new()
        .with_stop(stop)
        .minimize(
            |w, g, h| {
                let (value, grad, hessian) = neg_log_posterior_hessian(w, &xs, &ys);
                g.copy_from_slice(&grad);
                h.copy_from_slice(&hessian);
                value
            },
            &[0.0; 3],
        )
        .expect("Newton runs");
    let newton_cg = NewtonCg::new()
        .with_stop(stop)
        .minimize(
            |w, v, g, hv| {
                let (value, grad, hvp) = neg_log_posterior_hvp(w, v, &xs, &ys);
                g.copy_from_slice(&grad);
                hv.copy_from_slice(&hvp);
                value
            },
            &[0.0; 3],
        )
        .expect("Newton-CG runs");
    let lbfgs = Lbfgs::new()
        .with_stop(stop)
        .minimize(
            |w, g| neg_log_posterior_adjoint(w, g, &xs, &ys, 1.0),
            &[0.0; 3],
        )
        .expect("L-BFGS runs");
    println!("fit of a logistic regression to {n} points (prior N(0, 25)):");
    for (name, r) in [
        ("Newton (trust region, Hessian)", &newton),
        ("Newton-CG (HVPs)", &newton_cg),
        ("L-BFGS (gradients)", &lbfgs),
    ] {
        println!(
            "  {name:<31} {:>3} iterations, value {:.10}, ‖∇‖ {:.1e}",
            r.iterations, r.value, r.grad_norm
        );
    }

    // The Laplace approximation at the optimum.
    let w = &newton.x;
    let (_, _, h) = neg_log_posterior_hessian(w, &xs, &ys);
    let h = DMatrix::from_row_slice(3, 3, &h);
    let cov = h
        .clone()
        .cholesky()
        .expect("the Hessian is positive definite at the minimum")
        .inverse();
    println!("\nweights: MAP ± standard error (Laplace), 95% interval, true value");
    for (j, name) in ["w₀ (bias)", "w₁", "w₂"].iter().enumerate() {
        let se = cov[(j, j)].sqrt();
        let (lo, hi) = (w[j] - 1.96 * se, w[j] + 1.96 * se);
        let inside = if (lo..=hi).contains(&truth[j]) {
            "inside"
        } else {
            "outside"
        };
        println!(
            "  {name:<10} {:+.3} ± {:.3}   [{lo:+.3}, {hi:+.3}]   {:+.1} ({inside})",
            w[j], se, truth[j]
        );
    }
    let corr = cov[(1, 2)] / (cov[(1, 1)] * cov[(2, 2)]).sqrt();
    println!("  correlation of w₁ and w₂: {corr:+.3}");
    let mut eig: Vec<f64> = SymmetricEigen::new(h).eigenvalues.iter().copied().collect();
    eig.sort_by(f64::total_cmp);
    println!(
        "\nHessian eigenvalues (curvature along the principal axes): {:.2}, {:.2}, {:.2}; condition number {:.1}",
        eig[0],
        eig[1],
        eig[2],
        eig[2] / eig[0]
    );

    println!("\npredictive probability p(y = 1 | x), plug-in vs Laplace-averaged:");
    for x in [[0.0, 0.0], [1.0, 1.0], [3.0, -3.0]] {
        let v = DVector::from_vec(vec![1.0, x[0], x[1]]);
        let mu = w[0] + w[1] * x[0] + w[2] * x[1];
        let s2 = (v.transpose() * &cov * &v)[(0, 0)];
        let averaged = sigmoid(mu / (1.0 + std::f64::consts::PI * s2 / 8.0).sqrt());
        println!(
            "  x = ({:+.0}, {:+.0}): {:.4} vs {:.4} (logit {mu:+.2} ± {:.2})",
            x[0],
            x[1],
            sigmoid(mu),
            averaged,
            s2.sqrt()
        );
    }
}
