//! `step` (user-written loops) and `minimize` produce the same iterates, and
//! `step` keeps state, validates its input and works in mini-batch loops.

mod common;

use std::ops::ControlFlow;

use autodiff_runtime::{Adam, Error, GradientDescent, GradientStep, Lbfgs, Momentum, Stop};
use common::*;

/// The iterates `minimize` visits in `n` iterations (the start included).
fn minimize_iterates(
    minimize: impl FnOnce(&mut dyn FnMut(&[f64])) -> autodiff_runtime::Report<f64>,
) -> Vec<Vec<f64>> {
    let mut seen = Vec::new();
    let report = minimize(&mut |x| seen.push(x.to_vec()));
    assert_eq!(seen.last(), Some(&report.x));
    seen
}

/// The iterates of a hand-written loop calling `step` `n` times.
fn step_iterates(opt: &mut impl GradientStep<f64>, n: usize) -> Vec<Vec<f64>> {
    let mut x = ROSENBROCK_START.to_vec();
    let mut g = vec![0.0; 2];
    let mut seen = vec![x.clone()];
    for _ in 0..n {
        g.fill(0.0);
        rosenbrock(&x, &mut g);
        opt.step(&mut x, &g).unwrap();
        seen.push(x.clone());
    }
    seen
}

const N: usize = 50;

fn fixed_budget() -> Stop<f64> {
    Stop::new().max_iters(N).no_grad_tol()
}

macro_rules! agree {
    ($name:ident, $make:expr) => {
        #[test]
        fn $name() {
            let from_minimize = minimize_iterates(|record| {
                $make
                    .with_stop(fixed_budget())
                    .minimize_with(rosenbrock, &ROSENBROCK_START, |it| {
                        record(it.x);
                        ControlFlow::Continue(())
                    })
                    .unwrap()
            });
            let from_step = step_iterates(&mut $make, N);
            assert_eq!(from_minimize.len(), N + 1);
            // Bit-for-bit: both run the same update.
            assert_eq!(from_minimize, from_step);
        }
    };
}

agree!(
    gradient_descent_step_matches_minimize,
    GradientDescent::new(1e-3)
);
agree!(momentum_step_matches_minimize, Momentum::new(1e-3));
agree!(
    nesterov_step_matches_minimize,
    Momentum::new(1e-3).nesterov(true)
);
agree!(adam_step_matches_minimize, Adam::new(0.05));

#[test]
fn lbfgs_step_matches_minimize() {
    let n = 20;
    let from_minimize = minimize_iterates(|record| {
        Lbfgs::new()
            .with_stop(Stop::new().max_iters(n).no_grad_tol())
            .minimize_with(rosenbrock, &ROSENBROCK_START, |it| {
                record(it.x);
                ControlFlow::Continue(())
            })
            .unwrap()
    });
    let mut opt = Lbfgs::new();
    let mut x = ROSENBROCK_START;
    let mut from_step = vec![x.to_vec()];
    for _ in 0..n {
        let value = opt.step(rosenbrock, &mut x).unwrap();
        assert_eq!(value, rosenbrock(&x, &mut [0.0; 2]));
        from_step.push(x.to_vec());
    }
    assert_eq!(from_minimize.len(), n + 1);
    assert_eq!(from_minimize, from_step);
}

#[test]
fn minimize_leaves_state_for_step_to_continue() {
    // 30 iterations of minimize then 20 steps == 50 steps.
    let mut opt = Adam::new(0.05).with_stop(Stop::new().max_iters(30).no_grad_tol());
    let report = opt.minimize(rosenbrock, &ROSENBROCK_START).unwrap();
    let mut x = report.x.clone();
    let mut g = [0.0; 2];
    for _ in 0..20 {
        rosenbrock(&x, &mut g);
        opt.step(&mut x, &g).unwrap();
    }
    let reference = step_iterates(&mut Adam::new(0.05), 50);
    assert_eq!(Some(&x), reference.last());
}

#[test]
fn state_persists_between_steps_and_reset_clears_it() {
    let mut opt = Momentum::new(0.1).momentum(0.5);
    let mut w = [0.0_f64];
    opt.step(&mut w, &[1.0]).unwrap();
    opt.step(&mut w, &[1.0]).unwrap();
    assert!((w[0] + 0.25).abs() < 1e-15); // -0.1 - 0.15
    opt.reset();
    let mut w = [0.0_f64];
    opt.step(&mut w, &[1.0]).unwrap();
    assert!((w[0] + 0.1).abs() < 1e-15);
}

#[test]
fn step_rejects_bad_input_and_leaves_params_unchanged() {
    let mut opt = Adam::new(0.1);
    let mut w = [1.0, 2.0];
    assert_eq!(opt.step(&mut [], &[]), Err(Error::Empty));
    assert_eq!(
        opt.step(&mut w, &[1.0, 2.0, 3.0]),
        Err(Error::DimensionMismatch {
            expected: 2,
            found: 3
        })
    );
    assert_eq!(
        opt.step(&mut w, &[1.0, f64::NAN]),
        Err(Error::NonFiniteInput {
            what: "grad",
            index: 1
        })
    );
    assert_eq!(
        opt.step(&mut [f64::INFINITY, 0.0], &[1.0, 1.0]),
        Err(Error::NonFiniteInput {
            what: "params",
            index: 0
        })
    );
    assert_eq!(w, [1.0, 2.0]);
    // Once the state is sized, another length is a mismatch until reset.
    opt.step(&mut w, &[1.0, 1.0]).unwrap();
    assert_eq!(
        opt.step(&mut [1.0, 2.0, 3.0], &[1.0, 1.0, 1.0]),
        Err(Error::DimensionMismatch {
            expected: 2,
            found: 3
        })
    );
    opt.reset();
    opt.step(&mut [1.0, 2.0, 3.0], &[1.0, 1.0, 1.0]).unwrap();

    let mut bad = Momentum::new(0.1).momentum(1.0);
    assert!(matches!(
        bad.step(&mut w, &[1.0, 1.0]),
        Err(Error::InvalidConfig {
            name: "momentum",
            ..
        })
    ));

    let mut lbfgs = Lbfgs::new();
    lbfgs.step(quadratic, &mut [1.0, 2.0]).unwrap();
    assert_eq!(
        lbfgs.step(quadratic, &mut [1.0, 2.0, 3.0]),
        Err(Error::DimensionMismatch {
            expected: 2,
            found: 3
        })
    );
    assert_eq!(Lbfgs::new().step(quadratic, &mut []), Err(Error::Empty));
}

/// Linear regression y = 3x − 1 over mini-batches of 4, the PyTorch way.
#[test]
fn mini_batch_training_loop() {
    let xs: Vec<f64> = (0..32).map(|i| i as f64 / 16.0 - 1.0).collect();
    let ys: Vec<f64> = xs.iter().map(|x| 3.0 * x - 1.0).collect();
    let mut opt = Adam::new(0.05);
    let mut w = [0.0, 0.0];
    let mut g = [0.0, 0.0];
    for _epoch in 0..100 {
        for (bx, by) in xs.chunks(4).zip(ys.chunks(4)) {
            g.fill(0.0);
            for (&x, &y) in bx.iter().zip(by) {
                let r = w[0] * x + w[1] - y;
                g[0] += 2.0 * r * x / 4.0;
                g[1] += 2.0 * r / 4.0;
            }
            opt.step(&mut w, &g).unwrap();
        }
    }
    assert!(
        (w[0] - 3.0).abs() < 1e-2 && (w[1] + 1.0).abs() < 1e-2,
        "{w:?}"
    );
}
