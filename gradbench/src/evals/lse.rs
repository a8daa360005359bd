//! `lse`: log-sum-exp with the max trick; its gradient is softmax(x).

use crate::protocol::{measure, parse, Evaluated, Runs};
use autodiff::differentiate;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
struct Input {
    x: Vec<f64>,
}

/// max x + ln Σ exp(x − max x).
#[differentiate]
pub fn logsumexp(x: &[f64]) -> f64 {
    let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    m + x.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
}

pub fn evaluate(function: &str, input: &Value) -> Evaluated {
    let runs = Runs::of(input)?;
    let Input { x } = parse(input)?;
    match function {
        "primal" => {
            let (y, t) = measure(runs, || logsumexp(&x));
            Ok((json!(y), t))
        }
        "gradient" => {
            let (g, t) = measure(runs, || logsumexp_grad(&x).1);
            Ok((json!(g), t))
        }
        _ => super::unknown("lse", function),
    }
}
