//! Levenberg–Marquardt on problems with known solutions, against a solution
//! computed another way, and on bad input.

use std::ops::ControlFlow;

use autodiff_runtime::{Error, Lbfgs, LevenbergMarquardt, ReturnsJacobian, Stop, StopReason};

/// `y = a·exp(−b·t) + c` at `t = 0, 0.25, …, 5`.
const TRUE_DECAY: [f64; 3] = [2.5, 1.3, 0.5];

fn decay_data() -> (Vec<f64>, Vec<f64>) {
    let t: Vec<f64> = (0..21).map(|i| 0.25 * i as f64).collect();
    let [a, b, c] = TRUE_DECAY;
    let y = t.iter().map(|&t| a * (-b * t).exp() + c).collect();
    (t, y)
}

fn decay<'a>(t: &'a [f64], y: &'a [f64]) -> impl FnMut(&[f64], &mut [f64], &mut [f64]) + 'a {
    move |p, r, j| {
        for i in 0..t.len() {
            let e = (-p[1] * t[i]).exp();
            r[i] = p[0] * e + p[2] - y[i];
            j[3 * i] = e;
            j[3 * i + 1] = -p[0] * t[i] * e;
            j[3 * i + 2] = 1.0;
        }
    }
}

#[test]
fn exact_exponential_decay_recovers_the_parameters_to_1e_8() {
    let (t, y) = decay_data();
    let fit = LevenbergMarquardt::new()
        .with_stop(Stop::new().grad_tol(1e-13))
        .minimize(decay(&t, &y), &[1.0, 0.5, 0.0], t.len())
        .unwrap();
    assert!(fit.report.converged(), "{fit}");
    for (got, want) in fit.report.x.iter().zip(TRUE_DECAY) {
        assert!((got - want).abs() < 1e-8, "{fit}");
    }
    assert!(fit.ssr() < 1e-20, "{fit}");
    assert!(fit.report.iterations <= 8, "{fit}"); // measured: 7
                                                  // Exact data: nothing to be uncertain about.
    assert!(
        fit.standard_errors().unwrap().iter().all(|&s| s < 1e-8),
        "{fit}"
    );
}

#[test]
fn the_returned_jacobian_form_takes_the_same_iterates() {
    let (t, y) = decay_data();
    let slots = LevenbergMarquardt::new()
        .minimize(decay(&t, &y), &[1.0, 0.5, 0.0], t.len())
        .unwrap();
    let mut inner = decay(&t, &y);
    let returning = move |p: &[f64], r: &mut [f64]| -> Vec<f64> {
        let mut jac = vec![0.0; 3 * r.len()];
        inner(p, r, &mut jac);
        jac
    };
    let returned = LevenbergMarquardt::new()
        .minimize(ReturnsJacobian(returning), &[1.0, 0.5, 0.0], t.len())
        .unwrap();
    assert_eq!(slots, returned);
}

fn rosenbrock(p: &[f64], r: &mut [f64], j: &mut [f64]) {
    r[0] = 10.0 * (p[1] - p[0] * p[0]);
    r[1] = 1.0 - p[0];
    j.copy_from_slice(&[-20.0 * p[0], 10.0, -1.0, 0.0]);
}

#[test]
fn rosenbrock_as_residuals_converges_to_one_one_in_bounded_iterations() {
    let fit = LevenbergMarquardt::new()
        .with_stop(Stop::new().grad_tol(1e-12))
        .minimize(rosenbrock, &[-1.2, 1.0], 2)
        .unwrap();
    assert_eq!(fit.report.stop_reason, StopReason::GradientNorm, "{fit}");
    assert!((fit.report.x[0] - 1.0).abs() < 1e-10, "{fit}");
    assert!((fit.report.x[1] - 1.0).abs() < 1e-10, "{fit}");
    assert!(fit.report.iterations <= ROSENBROCK_MAX, "{fit}");
    // Accepted steps only: the cost never rises beyond rounding.
    assert!(fit.report.history.windows(2).all(|w| w[1] <= w[0] + 1e-15));
    assert_eq!(fit.report.history.len(), fit.report.iterations + 1);
}

/// Measured: 17.
const ROSENBROCK_MAX: usize = 20;

/// Puromycin (treated), Treloar (1974), the data set of R's `nls` examples:
/// substrate concentration (ppm) and reaction rate (counts/min²).
const CONC: [f64; 12] = [
    0.02, 0.02, 0.06, 0.06, 0.11, 0.11, 0.22, 0.22, 0.56, 0.56, 1.10, 1.10,
];
const RATE: [f64; 12] = [
    76.0, 47.0, 97.0, 107.0, 123.0, 139.0, 159.0, 152.0, 191.0, 201.0, 207.0, 200.0,
];

fn michaelis_menten(p: &[f64], r: &mut [f64], j: &mut [f64]) {
    let (vm, k) = (p[0], p[1]);
    for i in 0..CONC.len() {
        let s = CONC[i];
        r[i] = vm * s / (k + s) - RATE[i];
        j[2 * i] = s / (k + s);
        j[2 * i + 1] = -vm * s / ((k + s) * (k + s));
    }
}

#[test]
fn michaelis_menten_matches_lbfgs_on_the_sum_of_squares_and_r_nls() {
    let fit = LevenbergMarquardt::new()
        .with_stop(Stop::new().grad_tol(1e-10))
        .minimize(michaelis_menten, &[200.0, 0.1], CONC.len())
        .unwrap();
    assert!(fit.report.converged(), "{fit}");

    // Another way: L-BFGS on the SSR itself, with its gradient 2 Jᵀr.
    let ssr = |p: &[f64], g: &mut [f64]| {
        let (mut r, mut j) = ([0.0; 12], [0.0; 24]);
        michaelis_menten(p, &mut r, &mut j);
        for i in 0..12 {
            g[0] += 2.0 * r[i] * j[2 * i];
            g[1] += 2.0 * r[i] * j[2 * i + 1];
        }
        r.iter().map(|v| v * v).sum()
    };
    let reference = Lbfgs::new()
        .with_stop(Stop::new().max_iters(10_000).grad_tol(1e-6))
        .minimize(ssr, &[200.0, 0.1])
        .unwrap();
    // (The SSR's gradient bottoms out near 1e-5 in f64: a failed line search
    // there means "at the precision limit".)
    assert!(
        reference.converged() || reference.stop_reason == StopReason::LineSearchFailed,
        "{reference}"
    );
    assert!(
        (fit.report.x[0] - reference.x[0]).abs() < 1e-6 * reference.x[0],
        "{fit}\n{reference}"
    );
    assert!(
        (fit.report.x[1] - reference.x[1]).abs() < 1e-6 * reference.x[1],
        "{fit}\n{reference}"
    );
    assert!((fit.ssr() - reference.value).abs() < 1e-9 * reference.value);

    // Standard errors from the 2×2 (JᵀJ)⁻¹ inverted by hand at the solution.
    let (mut r, mut j) = ([0.0; 12], [0.0; 24]);
    michaelis_menten(&fit.report.x, &mut r, &mut j);
    let (mut a, mut b, mut d) = (0.0, 0.0, 0.0);
    for i in 0..12 {
        a += j[2 * i] * j[2 * i];
        b += j[2 * i] * j[2 * i + 1];
        d += j[2 * i + 1] * j[2 * i + 1];
    }
    let det = a * d - b * b;
    let s2 = r.iter().map(|v| v * v).sum::<f64>() / 10.0;
    let cov = fit.covariance().unwrap();
    let by_hand = [s2 * d / det, -s2 * b / det, -s2 * b / det, s2 * a / det];
    for (got, want) in cov.iter().zip(by_hand) {
        assert!(
            (got - want).abs() < 1e-9 * want.abs(),
            "{cov:?} vs {by_hand:?}"
        );
    }

    // R: nls(rate ~ Vm*conc/(K+conc), Puromycin, subset = state == "treated")
    // Vm 2.127e+02 ± 6.947e+00, K 6.412e-02 ± 8.281e-03, residual s.e. 10.93 on 10 df.
    let se = fit.standard_errors().unwrap();
    assert!((fit.report.x[0] - 212.7).abs() < 0.05, "{fit}");
    assert!((fit.report.x[1] - 0.06412).abs() < 0.5e-5, "{fit}");
    assert!((se[0] - 6.947).abs() < 0.5e-3, "{se:?}");
    assert!((se[1] - 0.008281).abs() < 0.5e-6, "{se:?}");
    assert!((s2.sqrt() - 10.93).abs() < 0.005);
}

#[test]
fn fewer_residuals_than_parameters_reach_zero_cost_without_a_covariance() {
    // One equation, two unknowns: any point on p₀·p₁ = 2 solves it.
    let under = |p: &[f64], r: &mut [f64], j: &mut [f64]| {
        r[0] = p[0] * p[1] - 2.0;
        j[0] = p[1];
        j[1] = p[0];
    };
    let fit = LevenbergMarquardt::new()
        .with_stop(Stop::new().grad_tol(1e-12))
        .minimize(under, &[1.0, 1.0], 1)
        .unwrap();
    assert!(fit.report.converged(), "{fit}");
    assert!(
        (fit.report.x[0] * fit.report.x[1] - 2.0).abs() < 1e-10,
        "{fit}"
    );
    assert_eq!(fit.covariance(), None);
    assert_eq!(fit.standard_errors(), None);
}

#[test]
fn a_parameter_the_residuals_ignore_stays_put_and_has_no_standard_error() {
    let (t, y) = decay_data();
    let mut inner = decay(&t, &y);
    // Parameter 3 never enters the residuals: its Jacobian column is zero.
    let padded = |p: &[f64], r: &mut [f64], j: &mut [f64]| {
        let mut j3 = vec![0.0; 3 * r.len()];
        inner(&p[..3], r, &mut j3);
        for i in 0..r.len() {
            j[4 * i..4 * i + 3].copy_from_slice(&j3[3 * i..3 * i + 3]);
        }
    };
    let fit = LevenbergMarquardt::new()
        .with_stop(Stop::new().grad_tol(1e-13))
        .minimize(padded, &[1.0, 0.5, 0.0, 7.0], t.len())
        .unwrap();
    assert!(fit.report.converged(), "{fit}");
    assert_eq!(fit.report.x[3], 7.0);
    for (got, want) in fit.report.x.iter().zip(TRUE_DECAY) {
        assert!((got - want).abs() < 1e-8, "{fit}");
    }
    assert_eq!(fit.covariance(), None);
}

#[test]
fn nan_trial_points_are_rejected_and_the_fit_still_converges() {
    // r = ln(p) − ln(1e-3)·…: from p = 1 the Gauss–Newton step for
    // r(p) = ln(p) + 5 jumps far below 0, where ln is NaN.
    let mut nan_trials = 0;
    let log = |p: &[f64], r: &mut [f64], j: &mut [f64]| {
        r[0] = p[0].ln() + 5.0;
        r[1] = 0.1 * (p[0] - (-5.0f64).exp());
        j[0] = 1.0 / p[0];
        j[1] = 0.1;
        if r[0].is_nan() {
            nan_trials += 1;
        }
    };
    let fit = LevenbergMarquardt::new()
        .initial_damping(1e-8)
        .with_stop(Stop::new().grad_tol(1e-12))
        .minimize(log, &[1.0], 2)
        .unwrap();
    assert!(fit.report.converged(), "{fit}");
    assert!((fit.report.x[0] - (-5.0f64).exp()).abs() < 1e-10, "{fit}");
    assert!(nan_trials > 0, "the test must actually hit NaN");
}

#[test]
fn residuals_that_turn_nan_everywhere_keep_the_last_finite_point() {
    let mut calls = 0;
    let poisoned = |p: &[f64], r: &mut [f64], j: &mut [f64]| {
        calls += 1;
        rosenbrock(p, r, j);
        if calls > 6 {
            r[0] = f64::NAN;
        }
    };
    let mut last_seen = (Vec::new(), f64::NAN, 0);
    let err = LevenbergMarquardt::new()
        .minimize_with(poisoned, &[-1.2, 1.0], 2, |it| {
            last_seen = (it.x.to_vec(), it.value, it.iteration);
            ControlFlow::Continue(())
        })
        .unwrap_err();
    match err {
        Error::NonFinite {
            x,
            value,
            iteration,
        } => {
            assert!(
                last_seen.2 >= 1,
                "some steps must be accepted before the poison"
            );
            assert_eq!((x, value), (last_seen.0, last_seen.1));
            assert_eq!(iteration, last_seen.2 + 1);
        }
        other => panic!("expected NonFinite, got {other:?}"),
    }
}

#[test]
fn bad_input_is_rejected_with_documented_errors() {
    let lm = LevenbergMarquardt::new();
    assert_eq!(lm.minimize(rosenbrock, &[], 2).unwrap_err(), Error::Empty);
    assert_eq!(
        lm.minimize(rosenbrock, &[1.0, f64::NAN], 2).unwrap_err(),
        Error::NonFiniteInput {
            what: "x0",
            index: 1
        }
    );
    assert!(matches!(
        lm.minimize(rosenbrock, &[1.0, 1.0], 0).unwrap_err(),
        Error::InvalidConfig { name: "m", .. }
    ));
    assert!(matches!(
        LevenbergMarquardt::new()
            .initial_damping(-1.0)
            .minimize(rosenbrock, &[1.0, 1.0], 2)
            .unwrap_err(),
        Error::InvalidConfig {
            name: "initial_damping",
            ..
        }
    ));
    assert!(matches!(
        LevenbergMarquardt::new()
            .with_stop(Stop::new().grad_tol(0.0))
            .minimize(rosenbrock, &[1.0, 1.0], 2)
            .unwrap_err(),
        Error::InvalidConfig {
            name: "grad_tol",
            ..
        }
    ));
    let nan_at_start = |_: &[f64], r: &mut [f64], _: &mut [f64]| r[0] = f64::NAN;
    assert!(matches!(
        lm.minimize(nan_at_start, &[1.0], 1).unwrap_err(),
        Error::NonFiniteAtStart { .. }
    ));
    let nan_jacobian = |p: &[f64], r: &mut [f64], j: &mut [f64]| {
        r[0] = p[0];
        j[0] = f64::INFINITY;
    };
    assert!(matches!(
        lm.minimize(nan_jacobian, &[1.0], 1).unwrap_err(),
        Error::NonFiniteAtStart { value } if value == 0.5
    ));
    let short = ReturnsJacobian(|p: &[f64], r: &mut [f64]| {
        r[0] = p[0];
        vec![1.0; 3]
    });
    assert_eq!(
        lm.minimize(short, &[1.0], 1).unwrap_err(),
        Error::DimensionMismatch {
            expected: 1,
            found: 3
        }
    );
}

#[test]
fn the_stop_rules_and_the_observer_work_as_for_the_other_optimisers() {
    let lm = LevenbergMarquardt::new();
    let capped = lm
        .clone()
        .with_stop(Stop::new().max_iters(3))
        .minimize(rosenbrock, &[-1.2, 1.0], 2)
        .unwrap();
    assert_eq!(capped.report.stop_reason, StopReason::MaxIterations);
    assert_eq!(capped.report.iterations, 3);

    let relative = lm
        .clone()
        .with_stop(Stop::new().no_grad_tol().rel_tol(1e-3))
        .minimize(michaelis_menten, &[200.0, 0.1], 12)
        .unwrap();
    assert_eq!(relative.report.stop_reason, StopReason::RelativeChange);

    let target = lm
        .clone()
        .with_stop(Stop::new().no_grad_tol().target(1e-6))
        .minimize(rosenbrock, &[-1.2, 1.0], 2)
        .unwrap();
    assert_eq!(target.report.stop_reason, StopReason::TargetValue);
    assert!(target.report.value <= 1e-6);

    let mut seen = Vec::new();
    let watched = lm
        .minimize_with(rosenbrock, &[-1.2, 1.0], 2, |it| {
            // The gradient is Jᵀr of the cost ½‖r‖².
            let (mut r, mut j) = ([0.0; 2], [0.0; 4]);
            rosenbrock(it.x, &mut r, &mut j);
            let g = [j[0] * r[0] + j[2] * r[1], j[1] * r[0] + j[3] * r[1]];
            assert!((it.grad[0] - g[0]).abs() < 1e-9 && (it.grad[1] - g[1]).abs() < 1e-9);
            assert!((it.value - 0.5 * (r[0] * r[0] + r[1] * r[1])).abs() < 1e-12);
            seen.push(it.iteration);
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(seen, (0..=watched.report.iterations).collect::<Vec<_>>());
}

#[test]
fn f32_fits_too() {
    let line = |p: &[f32], r: &mut [f32], j: &mut [f32]| {
        for i in 0..4 {
            let x = i as f32;
            r[i] = p[0] + p[1] * x - (1.0 + 2.0 * x);
            j[2 * i] = 1.0;
            j[2 * i + 1] = x;
        }
    };
    let fit = LevenbergMarquardt::new()
        .with_stop(Stop::new().grad_tol(1e-4))
        .minimize(line, &[0.0f32, 0.0], 4)
        .unwrap();
    assert!((fit.report.x[0] - 1.0).abs() < 1e-4 && (fit.report.x[1] - 2.0).abs() < 1e-4);
}

/// The hand-written Jacobians the tests rely on agree with central
/// differences of the residuals.
#[test]
fn the_hand_written_jacobians_match_finite_differences() {
    fn check(f: &mut impl FnMut(&[f64], &mut [f64], &mut [f64]), p: &[f64], m: usize) {
        let n = p.len();
        let (mut r, mut j) = (vec![0.0; m], vec![0.0; m * n]);
        f(p, &mut r, &mut j);
        for k in 0..n {
            let step = 1e-6 * (1.0 + p[k].abs());
            let (mut plus, mut minus) = (p.to_vec(), p.to_vec());
            plus[k] += step;
            minus[k] -= step;
            let (mut rp, mut rm, mut scratch) = (vec![0.0; m], vec![0.0; m], vec![0.0; m * n]);
            f(&plus, &mut rp, &mut scratch);
            f(&minus, &mut rm, &mut scratch);
            for i in 0..m {
                let fd = (rp[i] - rm[i]) / (2.0 * step);
                assert!(
                    (j[i * n + k] - fd).abs() < 1e-6 * (1.0 + fd.abs()),
                    "J[{i},{k}]"
                );
            }
        }
    }
    let (t, y) = decay_data();
    check(&mut decay(&t, &y), &[1.7, 0.8, -0.3], t.len());
    check(&mut rosenbrock, &[-1.2, 1.0], 2);
    check(&mut michaelis_menten, &[190.0, 0.08], 12);
}
