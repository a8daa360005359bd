//! `ode`: y' = f(y), f(y)_0 = x_0, f(y)_i = x_i·y_{i−1}, from y(0) = 0 to
//! t = 2 in s classic RK4 steps.

use crate::protocol::{measure, parse, Evaluated, Runs};
use autodiff::differentiate;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
struct Input {
    x: Vec<f64>,
    s: usize,
}

/// y(2) into `y` (its length that of `x`).
#[differentiate(wrt(x))]
pub fn ode(x: &[f64], s: usize, y: &mut [f64]) {
    let n = x.len();
    let h = 2.0 / s as f64;
    let mut k1 = vec![0.0; n];
    let mut k2 = vec![0.0; n];
    let mut k3 = vec![0.0; n];
    let mut k4 = vec![0.0; n];
    for i in 0..n {
        y[i] = 0.0;
    }
    for _ in 0..s {
        // k = f(y + c·k_prev), f(v)_0 = x_0, f(v)_i = x_i·v_{i−1}
        k1[0] = x[0];
        k2[0] = x[0];
        k3[0] = x[0];
        k4[0] = x[0];
        for i in 1..n {
            k1[i] = x[i] * y[i - 1];
        }
        for i in 1..n {
            k2[i] = x[i] * (y[i - 1] + 0.5 * h * k1[i - 1]);
        }
        for i in 1..n {
            k3[i] = x[i] * (y[i - 1] + 0.5 * h * k2[i - 1]);
        }
        for i in 1..n {
            k4[i] = x[i] * (y[i - 1] + h * k3[i - 1]);
        }
        for i in 0..n {
            y[i] += h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
        }
    }
}

/// ∂y_{n−1}(2)/∂x: one reverse sweep seeded with the last unit vector.
pub fn gradient(x: &[f64], s: usize) -> Vec<f64> {
    let n = x.len();
    let mut y = vec![0.0; n];
    let mut dy = vec![0.0; n];
    dy[n - 1] = 1.0;
    let mut dx = vec![0.0; n];
    ode_adjoint(x, &mut dx, s, &mut y, &mut dy);
    dx
}

pub fn evaluate(function: &str, input: &Value) -> Evaluated {
    let runs = Runs::of(input)?;
    let Input { x, s } = parse(input)?;
    if x.is_empty() || s == 0 {
        return Err("`x` must be non-empty and `s` positive".into());
    }
    match function {
        "primal" => {
            let (y, t) = measure(runs, || {
                let mut y = vec![0.0; x.len()];
                ode(&x, s, &mut y);
                y
            });
            Ok((json!(y), t))
        }
        "gradient" => {
            let (g, t) = measure(runs, || gradient(&x, s));
            Ok((json!(g), t))
        }
        _ => super::unknown("ode", function),
    }
}
