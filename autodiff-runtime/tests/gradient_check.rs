//! `check_gradient` passes right gradients and pinpoints wrong ones.

mod common;

use autodiff_runtime::{check_gradient, check_gradient_with, Error};
use common::*;

#[test]
fn right_gradients_pass() {
    let check = check_gradient(rosenbrock, &ROSENBROCK_START).unwrap();
    assert!(check.passed(1e-7), "{check}");
    assert_eq!(check.value, rosenbrock(&ROSENBROCK_START, &mut [0.0; 2]));
    let check = check_gradient(quadratic, &QUADRATIC_START).unwrap();
    assert!(check.passed(1e-8), "{check}");
    assert!(check.max_rel_error < 1e-8, "{check}");
}

#[test]
fn a_wrong_component_is_caught_and_located() {
    // d/dx₂ of sin(x₂)·x₀ is cos(x₂)·x₀; the bug drops the factor x₀.
    let buggy = |x: &[f64], g: &mut [f64]| {
        g[0] = x[2].sin();
        g[1] = 2.0 * x[1];
        g[2] = x[2].cos();
        x[0] * x[2].sin() + x[1] * x[1]
    };
    let check = check_gradient(buggy, &[3.0, 1.0, 0.5]).unwrap();
    assert!(!check.passed(1e-4), "{check}");
    assert_eq!(check.max_abs_index, 2);
    assert_eq!(check.max_rel_index, 2);
    let expected = 3.0 * 0.5_f64.cos();
    assert!((check.numeric[2] - expected).abs() < 1e-8);
    assert!((check.max_abs_error - 2.0 * 0.5_f64.cos()).abs() < 1e-8);
    assert!((check.max_rel_error - 2.0 / 3.0).abs() < 1e-8);
    assert!(check.to_string().contains("at index 2"), "{check}");
}

#[test]
fn an_accumulating_adjoint_without_zeroing_is_still_checked_correctly() {
    // check_gradient hands the objective zeroed buffers.
    let accumulating = |x: &[f64], g: &mut [f64]| {
        g[0] += 2.0 * x[0];
        x[0] * x[0]
    };
    assert!(check_gradient(accumulating, &[1.5]).unwrap().passed(1e-8));
}

#[test]
fn non_finite_gradients_fail() {
    let nan = |x: &[f64], g: &mut [f64]| {
        g[0] = 1.0;
        g[1] = f64::NAN;
        x[0] + x[1]
    };
    let check = check_gradient(nan, &[1.0, 1.0]).unwrap();
    assert!(!check.passed(1.0));
    assert_eq!(check.max_abs_index, 1);
    assert!(check.max_abs_error.is_nan());
}

#[test]
fn bad_input_is_an_error() {
    assert_eq!(check_gradient(quadratic, &[]).unwrap_err(), Error::Empty);
    assert_eq!(
        check_gradient(quadratic, &[1.0, f64::NAN]).unwrap_err(),
        Error::NonFiniteInput {
            what: "x",
            index: 1
        }
    );
    for step in [0.0, -1e-6, f64::NAN] {
        assert!(matches!(
            check_gradient_with(quadratic, &[1.0], step),
            Err(Error::InvalidConfig { name: "step", .. })
        ));
    }
}
