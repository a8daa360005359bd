//! `saddle`: nested min/max, r1 = argmin_{p1} max_{p2} f(p1, p2), then
//! r2 = argmax_{p2} f(r1, p2). The outer gradients (argmin over p1, the final
//! argmax) and the inner max's gradient are each forward or reverse mode.
//! The outer gradient differentiates through the whole inner ascent.

use crate::protocol::{measure, parse, Evaluated, Runs};
use crate::solver::{argmax, argmin, Mode};
use autodiff::differentiate;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
struct Input {
    start: Vec<f64>,
}

/// (p1₀² + p1₁²) − (p2₀² + p2₁²).
#[differentiate(order = 2)]
pub fn f(p1: &[f64], p2: &[f64]) -> f64 {
    (p1[0] * p1[0] + p1[1] * p1[1]) - (p2[0] * p2[0] + p2[1] * p2[1])
}

/// max over p2 of f(p1, p2), by gradient ascent from `start`.
#[differentiate(wrt(p1))]
pub fn max_f(p1: &[f64], start: &[f64], inner: Mode) -> f64 {
    let r2 = argmax(
        |p2| f(p1, p2),
        |p2| match inner {
            Mode::Forward => vec![
                f_fwd(p1, &[0.0, 0.0], p2, &[1.0, 0.0]).1,
                f_fwd(p1, &[0.0, 0.0], p2, &[0.0, 1.0]).1,
            ],
            Mode::Reverse => f_grad(p1, p2).1 .1,
        },
        start,
    );
    f(p1, &r2)
}

/// [r1₀, r1₁, r2₀, r2₁].
pub fn saddle(start: &[f64], outer: Mode, inner: Mode) -> Vec<f64> {
    let r1 = argmin(
        |p1: &[f64]| max_f(p1, start, inner),
        |p1: &[f64]| match outer {
            Mode::Forward => vec![
                max_f_fwd(p1, &[1.0, 0.0], start, inner).1,
                max_f_fwd(p1, &[0.0, 1.0], start, inner).1,
            ],
            Mode::Reverse => max_f_grad(p1, start, inner).1,
        },
        start,
    );
    let r2 = argmax(
        |p2: &[f64]| f(&r1, p2),
        |p2: &[f64]| match outer {
            Mode::Forward => vec![
                f_fwd(&r1, &[0.0, 0.0], p2, &[1.0, 0.0]).1,
                f_fwd(&r1, &[0.0, 0.0], p2, &[0.0, 1.0]).1,
            ],
            Mode::Reverse => f_grad(&r1, p2).1 .1,
        },
        start,
    );
    vec![r1[0], r1[1], r2[0], r2[1]]
}

pub fn evaluate(function: &str, input: &Value) -> Evaluated {
    let runs = Runs::of(input)?;
    let Some((outer, inner)) = Mode::pair(function) else {
        return super::unknown("saddle", function);
    };
    let Input { start } = parse(input)?;
    if start.len() != 2 {
        return Err("`start` must have 2 entries".into());
    }
    let (r, t) = measure(runs, || saddle(&start, outer, inner));
    Ok((json!(r), t))
}
