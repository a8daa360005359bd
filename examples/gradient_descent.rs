//! Gradient descent, X ← X − η ∇f(X), on gradients that `#[differentiate]`
//! generates at compile time.
//!
//! Part 1 is the lecture's first example: a bowl f(x, y) = x² + 4y²,
//! stepped by hand with the gradient from `bowl_grad`, printing the
//! iterates as they slide to the minimum at (0, 0).
//!
//! Part 2 minimises the Rosenbrock function
//! Σ 100 (x_{i+1} − x_i²)² + (1 − x_i)², written once over a slice
//! `&[f64]`, with the runtime's optimisers side by side: plain gradient
//! descent, Nesterov momentum, Adam and L-BFGS, printing iterations, final
//! value and distance to the minimum (1, …, 1) for each, and writing their
//! convergence curves to `target/rosenbrock.png`. The same function then
//! runs in 10 dimensions under the runtime's `Progress` display.
//!
//! Run (release mode, a second or two):
//!
//! ```text
//! cargo run --release --example gradient_descent
//! ```

mod common;

use std::time::Instant;

use autodiff::differentiate;
use autodiff::runtime::{
    check_gradient, Adam, GradientDescent, Lbfgs, Momentum, Optimizer, Progress, Stop,
};
use common::Series;

/// An elongated bowl: the minimum is at (0, 0).
#[differentiate]
fn bowl(x: f64, y: f64) -> f64 {
    x * x + 4.0 * y * y
}

/// The Rosenbrock function in any dimension; the minimum is 0 at (1, …, 1).
#[differentiate]
fn rosenbrock(x: &[f64]) -> f64 {
    let mut total = 0.0;
    for i in 0..x.len() - 1 {
        let a = x[i + 1] - x[i] * x[i];
        let b = 1.0 - x[i];
        total += 100.0 * a * a + b * b;
    }
    total
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // ---- Part 1: the update rule by hand ------------------------------------
    println!("Part 1: gradient descent on the bowl f(x, y) = x² + 4y², η = 0.1");
    let eta = 0.1;
    let (mut x, mut y) = (2.0, 1.0);
    // `bowl_fwd` gives a directional derivative (forward mode), `bowl_grad`
    // the whole gradient (reverse mode).
    let (_, slope) = bowl_fwd(x, 1.0, y, 0.0);
    println!("  ∂f/∂x at ({x}, {y}) by forward mode: {slope}");
    for k in 0..=30 {
        let (f, (gx, gy)) = bowl_grad(x, y);
        if k <= 5 || k % 5 == 0 {
            println!("  k = {k:>2}  X = ({x:>9.6}, {y:>9.6})  f(X) = {f:.3e}  ∇f = ({gx:>9.6}, {gy:>9.6})");
        }
        // X ← X − η ∇f(X)
        x -= eta * gx;
        y -= eta * gy;
    }
    println!(
        "  after 31 steps f(X) = {:.3e}: the y direction (curvature 8) converges",
        bowl(x, y)
    );
    println!("  fast, x (curvature 2) slower, by a factor 1 − 2η = 0.8 per step\n");

    // ---- Part 2: Rosenbrock with four optimisers ----------------------------
    let x0 = [-1.2, 1.0];
    println!(
        "Part 2: Rosenbrock from {x0:?} (f = {:.1}); the minimum is 0 at (1, 1)",
        rosenbrock(&x0)
    );
    let objective = |x: &[f64], g: &mut [f64]| rosenbrock_adjoint(x, g, 1.0);
    let check = check_gradient(objective, &x0)?;
    println!(
        "  gradient check: max relative error {:.1e}",
        check.max_rel_error
    );

    let stop = Stop::new().max_iters(50_000).grad_tol(1e-6);
    println!(
        "  {:<38} {:>10} {:>12} {:>12} {:>10}",
        "optimiser", "iterations", "f(x)", "|x − 1|", "time"
    );
    let curves = vec![
        compare(
            "gradient descent (η = 1e-3)",
            &mut GradientDescent::new(1e-3).with_stop(stop),
            &x0,
        )?,
        compare(
            "Nesterov momentum (η = 2e-4, μ = 0.9)",
            &mut Momentum::new(2e-4)
                .momentum(0.9)
                .nesterov(true)
                .with_stop(stop),
            &x0,
        )?,
        compare("Adam (η = 0.02)", &mut Adam::new(0.02).with_stop(stop), &x0)?,
        compare("L-BFGS", &mut Lbfgs::new().with_stop(stop), &x0)?,
    ];

    // The same function in 10 dimensions: nothing to re-derive. This run is
    // watched by the runtime's progress display (a bar on a terminal, plain
    // lines on stderr otherwise).
    let x0 = [-1.2, 1.0].repeat(5);
    println!("\n  the same function in 10 dimensions, L-BFGS from (−1.2, 1, −1.2, 1, …):");
    let mut progress = Progress::new();
    let report = Lbfgs::new()
        .with_stop(stop)
        .minimize_with(objective, &x0, |it| progress.update(it))?;
    progress.finish(&report);
    println!("{report}");

    let png = common::target_path("rosenbrock.png");
    common::plot_log_log_curves(
        &png,
        "Rosenbrock from (−1.2, 1): value per iteration",
        "iteration (log scale)",
        "f(x) (log scale)",
        &curves,
    )?;
    println!("\nconvergence curves: {}", png.display());
    Ok(())
}

/// Minimises Rosenbrock with `opt` from `x0`, prints a row of the table and
/// returns the value history for the plot.
fn compare(
    name: &'static str,
    opt: &mut impl Optimizer<f64>,
    x0: &[f64],
) -> Result<Series<'static>, autodiff::runtime::Error<f64>> {
    let start = Instant::now();
    let report = opt.minimize(|x, g| rosenbrock_adjoint(x, g, 1.0), x0)?;
    let elapsed = start.elapsed();
    let error = report
        .x
        .iter()
        .map(|v| (v - 1.0).powi(2))
        .sum::<f64>()
        .sqrt();
    println!(
        "  {:<38} {:>10} {:>12.3e} {:>12.3e} {:>10.2?}",
        name, report.iterations, report.value, error, elapsed
    );
    // From iteration 1 on: the plot's x axis is logarithmic.
    let points = report
        .history
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, &v)| (i as f64, v))
        .collect();
    Ok(Series {
        label: name,
        points,
    })
}
