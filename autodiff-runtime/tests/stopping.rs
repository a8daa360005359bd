//! Every `StopReason` is reachable, and the observer hook sees each iterate.

mod common;

use std::io::Write;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};

use autodiff_runtime::{
    every, Error, GradientDescent, Lbfgs, Momentum, Progress, Stop, StopReason,
};
use common::*;

#[test]
fn max_iterations() {
    let report = Momentum::new(1e-3)
        .with_stop(Stop::new().max_iters(5).no_grad_tol())
        .minimize(rosenbrock, &ROSENBROCK_START)
        .unwrap();
    assert_eq!(report.stop_reason, StopReason::MaxIterations);
    assert_eq!((report.iterations, report.history.len()), (5, 6));
    assert!(!report.converged());

    let zero = GradientDescent::new(0.1)
        .with_stop(Stop::new().max_iters(0))
        .minimize(rosenbrock, &ROSENBROCK_START)
        .unwrap();
    assert_eq!((zero.iterations, zero.evaluations), (0, 1));
    assert_eq!(zero.x, ROSENBROCK_START);
}

#[test]
fn gradient_norm() {
    let report = GradientDescent::new(0.1)
        .with_stop(Stop::new().grad_tol(1e-3))
        .minimize(quadratic, &QUADRATIC_START)
        .unwrap();
    assert_eq!(report.stop_reason, StopReason::GradientNorm);
    assert!(report.grad_norm <= 1e-3);
    assert!(report.converged());
}

#[test]
fn relative_change() {
    // Tiny steps: the value changes by less than 1e-3 of itself long before
    // the gradient is small.
    let report = GradientDescent::new(1e-5)
        .with_stop(Stop::new().no_grad_tol().rel_tol(1e-3))
        .minimize(quadratic, &QUADRATIC_START)
        .unwrap();
    assert_eq!(report.stop_reason, StopReason::RelativeChange);
    assert_eq!(report.iterations, 1);
    assert!(report.converged());
}

#[test]
fn target_value() {
    let report = GradientDescent::new(0.05)
        .with_stop(Stop::new().target(1.0))
        .minimize(quadratic, &QUADRATIC_START)
        .unwrap();
    assert_eq!(report.stop_reason, StopReason::TargetValue);
    assert!(report.value <= 1.0);
    assert!(report.history[report.history.len() - 2] > 1.0);
}

#[test]
fn observer() {
    let mut seen = Vec::new();
    let report = GradientDescent::new(0.01)
        .minimize_with(quadratic, &QUADRATIC_START, |it| {
            seen.push((it.iteration, it.value, it.evaluations));
            if it.iteration == 7 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
    assert_eq!(report.stop_reason, StopReason::Observer);
    assert_eq!(report.iterations, 7);
    let iterations: Vec<usize> = seen.iter().map(|s| s.0).collect();
    assert_eq!(iterations, (0..=7).collect::<Vec<_>>());
    let values: Vec<f64> = seen.iter().map(|s| s.1).collect();
    assert_eq!(values, report.history);
    assert_eq!(seen[7].2, 8);
}

#[test]
fn line_search_failed() {
    // A gradient with the wrong sign: every "descent" direction goes uphill.
    let liar = |x: &[f64], g: &mut [f64]| {
        g[0] = -2.0 * x[0];
        x[0] * x[0]
    };
    let report = Lbfgs::new().minimize(liar, &[1.0]).unwrap();
    assert_eq!(report.stop_reason, StopReason::LineSearchFailed);
    assert_eq!((report.iterations, report.x.as_slice()), (0, &[1.0][..]));
    assert_eq!(report.evaluations, 1 + 25);

    let mut x = [1.0];
    assert_eq!(
        Lbfgs::new().step(liar, &mut x),
        Err(Error::LineSearchFailed {
            x: vec![1.0],
            value: 1.0
        })
    );
    assert_eq!(x, [1.0]);
}

#[test]
fn every_n_iterations() {
    let mut seen = Vec::new();
    GradientDescent::new(1e-3)
        .with_stop(Stop::new().max_iters(35).no_grad_tol())
        .minimize_with(
            rosenbrock,
            &ROSENBROCK_START,
            every(10, |it| {
                seen.push(it.iteration);
                ControlFlow::Continue(())
            }),
        )
        .unwrap();
    assert_eq!(seen, [0, 10, 20, 30]);
}

/// A writer the test can read back.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn progress_lines() {
    let out = Shared::default();
    let mut progress = Progress::lines(out.clone());
    let report = GradientDescent::new(1e-3)
        .with_stop(Stop::new().max_iters(200).no_grad_tol())
        .minimize_with(rosenbrock, &ROSENBROCK_START, |it| progress.update(it))
        .unwrap();
    progress.finish(&report);
    let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // Every 200 / 20 = 10 iterations (0..=200), then the summary.
    assert_eq!(lines.len(), 21 + 1, "{text}");
    assert!(
        lines[0].starts_with("iter      0/200  value 2.420000e1"),
        "{text}"
    );
    assert!(
        lines[21].starts_with("done: iteration limit reached after 200 iterations"),
        "{text}"
    );

    let out = Shared::default();
    let mut progress = Progress::lines(out.clone()).every(100);
    let report = GradientDescent::new(1e-3)
        .with_stop(Stop::new().max_iters(200).no_grad_tol())
        .minimize_with(rosenbrock, &ROSENBROCK_START, |it| progress.update(it))
        .unwrap();
    progress.finish(&report);
    assert_eq!(
        String::from_utf8(out.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .count(),
        4
    );
}
