//! Every optimiser reaches the known minimum of a quadratic and of Rosenbrock
//! within a stated number of iterations (measured, with a small margin).

mod common;

use autodiff_runtime::{
    Adam, GradientDescent, Lbfgs, LineSearch, Momentum, Report, Stop, StopReason,
};
use common::*;

fn assert_quadratic(report: &Report<f64>, max_iterations: usize) {
    assert_eq!(report.stop_reason, StopReason::GradientNorm, "{report}");
    assert!(report.iterations <= max_iterations, "{report}");
    assert!(distance_to_quadratic_minimum(&report.x) < 1e-6, "{report}");
    assert!(report.value < 1e-12, "{report}");
}

fn assert_rosenbrock(report: &Report<f64>, max_iterations: usize, tol: f64) {
    assert_eq!(report.stop_reason, StopReason::GradientNorm, "{report}");
    assert!(report.iterations <= max_iterations, "{report}");
    assert!(
        (report.x[0] - 1.0).abs() < tol && (report.x[1] - 1.0).abs() < tol,
        "{report}"
    );
}

/// Generous caps: the assertions above are what is measured.
fn quadratic_stop() -> Stop<f64> {
    Stop::new().max_iters(10_000).grad_tol(1e-6)
}

/// First-order methods crawl along Rosenbrock's valley; 1e-4 is reached in
/// thousands of iterations and puts x within ~3e-4 of (1, 1).
fn rosenbrock_stop() -> Stop<f64> {
    Stop::new().max_iters(30_000).grad_tol(1e-4)
}

#[test]
fn gradient_descent_quadratic_in_80_iterations() {
    let report = GradientDescent::new(0.1)
        .with_stop(quadratic_stop())
        .minimize(quadratic, &QUADRATIC_START)
        .unwrap();
    assert_quadratic(&report, 80); // measured: 73
}

#[test]
fn gradient_descent_rosenbrock_in_14000_iterations() {
    let report = GradientDescent::new(1.5e-3)
        .with_stop(rosenbrock_stop())
        .minimize(rosenbrock, &ROSENBROCK_START)
        .unwrap();
    assert_rosenbrock(&report, 14_000, 1e-3); // measured: 13689
}

#[test]
fn momentum_quadratic_in_350_iterations() {
    let report = Momentum::new(0.05)
        .with_stop(quadratic_stop())
        .minimize(quadratic, &QUADRATIC_START)
        .unwrap();
    assert_quadratic(&report, 350); // measured: 317
}

#[test]
fn nesterov_quadratic_in_150_iterations() {
    let report = Momentum::new(0.05)
        .nesterov(true)
        .with_stop(quadratic_stop())
        .minimize(quadratic, &QUADRATIC_START)
        .unwrap();
    assert_quadratic(&report, 150); // measured: 133
}

#[test]
fn momentum_rosenbrock_in_1100_iterations() {
    let report = Momentum::new(2e-3)
        .with_stop(rosenbrock_stop())
        .minimize(rosenbrock, &ROSENBROCK_START)
        .unwrap();
    assert_rosenbrock(&report, 1_100, 1e-3); // measured: 1020
}

#[test]
fn nesterov_rosenbrock_in_2100_iterations() {
    let report = Momentum::new(1e-3)
        .nesterov(true)
        .with_stop(rosenbrock_stop())
        .minimize(rosenbrock, &ROSENBROCK_START)
        .unwrap();
    assert_rosenbrock(&report, 2_100, 1e-3); // measured: 1954
}

#[test]
fn adam_quadratic_in_400_iterations() {
    let report = Adam::new(0.1)
        .with_stop(quadratic_stop())
        .minimize(quadratic, &QUADRATIC_START)
        .unwrap();
    assert_quadratic(&report, 400); // measured: 358
}

#[test]
fn adam_rosenbrock_in_2100_iterations() {
    let report = Adam::new(0.05)
        .with_stop(rosenbrock_stop())
        .minimize(rosenbrock, &ROSENBROCK_START)
        .unwrap();
    assert_rosenbrock(&report, 2_100, 1e-3); // measured: 1986
}

#[test]
fn lbfgs_quadratic_in_15_iterations() {
    for line_search in [LineSearch::StrongWolfe, LineSearch::Backtracking] {
        let report = Lbfgs::new()
            .line_search(line_search)
            .with_stop(Stop::new().grad_tol(1e-10))
            .minimize(quadratic, &QUADRATIC_START)
            .unwrap();
        assert_quadratic(&report, 15); // measured: 13 (strong Wolfe), 12 (backtracking)
    }
}

#[test]
fn lbfgs_strong_wolfe_rosenbrock_in_40_iterations() {
    let report = Lbfgs::new()
        .with_stop(Stop::new().grad_tol(1e-10))
        .minimize(rosenbrock, &ROSENBROCK_START)
        .unwrap();
    assert_rosenbrock(&report, 40, 1e-9); // measured: 38 iterations, 47 evaluations
    assert!(report.evaluations <= 55, "{report}");
}

#[test]
fn lbfgs_backtracking_rosenbrock_in_50_iterations() {
    let report = Lbfgs::new()
        .line_search(LineSearch::Backtracking)
        .with_stop(Stop::new().grad_tol(1e-10))
        .minimize(rosenbrock, &ROSENBROCK_START)
        .unwrap();
    assert_rosenbrock(&report, 50, 1e-9); // measured: 47 iterations, 57 evaluations
}

#[test]
fn report_is_consistent() {
    let report = Momentum::new(2e-3)
        .with_stop(Stop::new().max_iters(300).no_grad_tol())
        .minimize(rosenbrock, &ROSENBROCK_START)
        .unwrap();
    assert_eq!(report.iterations, 300);
    assert_eq!(report.history.len(), 301);
    assert!((report.history[0] - 24.2).abs() < 1e-12);
    assert_eq!(*report.history.last().unwrap(), report.value);
    let best = report.history.iter().copied().fold(f64::INFINITY, f64::min);
    assert_eq!(report.best_value, best);
    let mut g = [0.0; 2];
    assert_eq!(rosenbrock(&report.best_x, &mut g), best);
    assert_eq!(report.evaluations, 301);
    assert_eq!(report.gradient_evaluations, 301);
    let text = report.to_string();
    assert!(
        text.contains("iteration limit reached after 300 iterations (301 evaluations)"),
        "{text}"
    );
    assert!(text.lines().count() <= 8, "{text}");
}
