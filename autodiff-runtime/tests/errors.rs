//! Bad input is an error, never a panic; a non-finite objective keeps the
//! last finite point.

mod common;

use std::cell::Cell;
use std::ops::ControlFlow;

use autodiff_runtime::{Adam, Error, GradientDescent, Lbfgs, Momentum, Optimizer, Stop};
use common::*;

fn run(opt: &mut impl Optimizer<f64>, x0: &[f64]) -> Result<(), Error<f64>> {
    opt.minimize(quadratic, x0).map(drop)
}

fn invalid_name(result: Result<(), Error<f64>>) -> &'static str {
    match result {
        Err(Error::InvalidConfig { name, .. }) => name,
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
}

#[test]
fn empty_starting_point() {
    assert_eq!(run(&mut GradientDescent::new(0.1), &[]), Err(Error::Empty));
    assert_eq!(run(&mut Momentum::new(0.1), &[]), Err(Error::Empty));
    assert_eq!(run(&mut Adam::new(0.1), &[]), Err(Error::Empty));
    assert_eq!(run(&mut Lbfgs::new(), &[]), Err(Error::Empty));
}

#[test]
fn non_finite_starting_point() {
    assert_eq!(
        run(&mut Lbfgs::new(), &[0.0, f64::NAN]),
        Err(Error::NonFiniteInput {
            what: "x0",
            index: 1
        })
    );
    assert_eq!(
        run(&mut Adam::new(0.1), &[f64::NEG_INFINITY]),
        Err(Error::NonFiniteInput {
            what: "x0",
            index: 0
        })
    );
}

#[test]
fn bad_step_sizes() {
    for lr in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert_eq!(
            invalid_name(run(&mut GradientDescent::new(lr), &[1.0])),
            "learning_rate"
        );
        assert_eq!(
            invalid_name(run(&mut Momentum::new(lr), &[1.0])),
            "learning_rate"
        );
        assert_eq!(
            invalid_name(run(&mut Adam::new(lr), &[1.0])),
            "learning_rate"
        );
    }
}

#[test]
fn bad_coefficients() {
    for bad in [-0.1, 1.0, 1.5, f64::NAN] {
        assert_eq!(
            invalid_name(run(&mut Momentum::new(0.1).momentum(bad), &[1.0])),
            "momentum"
        );
        assert_eq!(
            invalid_name(run(&mut Adam::new(0.1).beta1(bad), &[1.0])),
            "beta1"
        );
        assert_eq!(
            invalid_name(run(&mut Adam::new(0.1).beta2(bad), &[1.0])),
            "beta2"
        );
    }
    assert_eq!(
        invalid_name(run(&mut Adam::new(0.1).eps(0.0), &[1.0])),
        "eps"
    );
    assert_eq!(
        invalid_name(run(&mut Lbfgs::new().memory(0), &[1.0])),
        "memory"
    );
    assert_eq!(
        invalid_name(run(&mut Lbfgs::new().max_line_evals(0), &[1.0])),
        "max_line_evals"
    );
    assert_eq!(invalid_name(run(&mut Lbfgs::new().c1(0.0), &[1.0])), "c1");
    assert_eq!(
        invalid_name(run(&mut Lbfgs::new().c1(0.5).c2(0.4), &[1.0])),
        "c2"
    );
    assert_eq!(invalid_name(run(&mut Lbfgs::new().c2(1.0), &[1.0])), "c2");
}

#[test]
fn bad_tolerances() {
    let with = |stop: Stop<f64>| run(&mut GradientDescent::new(0.1).with_stop(stop), &[1.0]);
    for bad in [0.0, -1e-6, f64::NAN, f64::INFINITY] {
        assert_eq!(invalid_name(with(Stop::new().grad_tol(bad))), "grad_tol");
        assert_eq!(invalid_name(with(Stop::new().rel_tol(bad))), "rel_tol");
    }
    assert_eq!(invalid_name(with(Stop::new().target(f64::NAN))), "target");
    assert_eq!(
        invalid_name(with(Stop::new().target(f64::NEG_INFINITY))),
        "target"
    );
}

#[test]
fn config_is_checked_before_the_objective_runs() {
    let calls = Cell::new(0);
    let counted = |x: &[f64], g: &mut [f64]| {
        calls.set(calls.get() + 1);
        quadratic(x, g)
    };
    assert!(Adam::new(0.1).beta1(2.0).minimize(counted, &[1.0]).is_err());
    assert!(Lbfgs::new().memory(0).step(counted, &mut [1.0]).is_err());
    assert_eq!(calls.get(), 0);
}

#[test]
fn non_finite_at_start() {
    let nan = |_: &[f64], _: &mut [f64]| f64::NAN;
    assert!(matches!(
        GradientDescent::new(0.1).minimize(nan, &[1.0]),
        Err(Error::NonFiniteAtStart { value }) if value.is_nan()
    ));
    let bad_gradient = |x: &[f64], g: &mut [f64]| {
        g[0] = f64::INFINITY;
        x[0]
    };
    assert_eq!(
        Lbfgs::new().minimize(bad_gradient, &[1.0]),
        Err(Error::NonFiniteAtStart { value: 1.0 })
    );
}

/// An objective that turns NaN after `healthy` evaluations (value, or only
/// the gradient); the error must carry the last iterate the observer saw.
fn nan_after(opt: &mut impl Optimizer<f64>, healthy: usize, only_gradient: bool) {
    let calls = Cell::new(0);
    let objective = |x: &[f64], g: &mut [f64]| {
        calls.set(calls.get() + 1);
        let value = rosenbrock(x, g);
        if calls.get() <= healthy {
            value
        } else if only_gradient {
            g[1] = f64::NAN;
            value
        } else {
            f64::NAN
        }
    };
    let mut last = (Vec::new(), f64::NAN, 0);
    let result = opt.minimize_with(objective, &ROSENBROCK_START, |it| {
        last = (it.x.to_vec(), it.value, it.iteration);
        ControlFlow::Continue(())
    });
    match result {
        Err(Error::NonFinite {
            iteration,
            x,
            value,
        }) => {
            assert_eq!(x, last.0);
            assert_eq!(value, last.1);
            assert!(value.is_finite() && x.iter().all(|v| v.is_finite()));
            assert_eq!(iteration, last.2 + 1);
        }
        other => panic!("expected NonFinite, got {other:?}"),
    }
}

#[test]
fn nan_keeps_last_finite_point() {
    for only_gradient in [false, true] {
        nan_after(&mut GradientDescent::new(1e-3), 10, only_gradient);
        nan_after(&mut Momentum::new(1e-3).nesterov(true), 10, only_gradient);
        nan_after(&mut Adam::new(0.01), 10, only_gradient);
        nan_after(&mut Lbfgs::new(), 10, only_gradient);
        nan_after(&mut Lbfgs::new(), 1, only_gradient);
    }
}

#[test]
fn lbfgs_backs_off_from_a_non_finite_region() {
    // (x - 0.4)² is undefined beyond 0.5; the first trial step lands at 0.8.
    let fenced = |x: &[f64], g: &mut [f64]| {
        if x[0] > 0.5 {
            return f64::NAN;
        }
        g[0] = 2.0 * (x[0] - 0.4);
        (x[0] - 0.4).powi(2)
    };
    let report = Lbfgs::new().minimize(fenced, &[0.0]).unwrap();
    assert!(report.converged());
    assert!((report.x[0] - 0.4).abs() < 1e-9);
}

#[test]
fn errors_display_and_box() {
    fn run() -> Result<(), Box<dyn std::error::Error>> {
        GradientDescent::new(0.1)
            .with_stop(Stop::new().rel_tol(0.0))
            .minimize(quadratic, &[1.0])?;
        Ok(())
    }
    let err = run().unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid `rel_tol` = 0: expected a finite number > 0"
    );
    let messages = [
        Error::<f64>::Empty.to_string(),
        Error::<f64>::DimensionMismatch {
            expected: 2,
            found: 3,
        }
        .to_string(),
        Error::<f64>::NonFiniteInput {
            what: "x0",
            index: 4,
        }
        .to_string(),
        Error::NonFiniteAtStart { value: f64::NAN }.to_string(),
        Error::NonFinite {
            iteration: 3,
            x: vec![1.0],
            value: 2.0,
        }
        .to_string(),
        Error::LineSearchFailed {
            x: vec![1.0],
            value: 2.0,
        }
        .to_string(),
    ];
    assert_eq!(
        messages[1],
        "dimension mismatch: expected 2 values, found 3"
    );
    assert_eq!(messages[2], "`x0` is not finite at index 4");
    assert!(messages[4].contains("iteration 3"));
    for m in messages {
        assert!(
            m.starts_with(|c: char| c.is_lowercase() || c == '`') && !m.ends_with('.'),
            "{m}"
        );
    }
}
