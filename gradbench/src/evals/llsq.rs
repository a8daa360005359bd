//! `llsq`: linear least squares of a polynomial fit to the sign function on
//! n points of [−1, 1].

use crate::protocol::{measure, parse, Evaluated, Runs};
use autodiff::differentiate;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
struct Input {
    x: Vec<f64>,
    n: usize,
}

/// ½ Σᵢ (sᵢ − Σⱼ xⱼ tᵢʲ)², tᵢ = −1 + 2i/(n−1), sᵢ = sign(tᵢ) (0 at 0).
#[differentiate]
pub fn llsq(x: &[f64], n: usize) -> f64 {
    let mut total = 0.0;
    for i in 0..n {
        let t = -1.0 + 2.0 * i as f64 / (n as f64 - 1.0);
        let s = if t > 0.0 {
            1.0
        } else if t < 0.0 {
            -1.0
        } else {
            0.0
        };
        let mut fit = 0.0;
        for (j, xj) in x.iter().enumerate() {
            fit += xj * t.powi(j as i32);
        }
        total += (s - fit) * (s - fit);
    }
    0.5 * total
}

pub fn evaluate(function: &str, input: &Value) -> Evaluated {
    let runs = Runs::of(input)?;
    let Input { x, n } = parse(input)?;
    match function {
        "primal" => {
            let (y, t) = measure(runs, || llsq(&x, n));
            Ok((json!(y), t))
        }
        "gradient" => {
            let (g, t) = measure(runs, || llsq_grad(&x, n).1);
            Ok((json!(g), t))
        }
        _ => super::unknown("llsq", function),
    }
}
