//! `det`: the determinant by cofactor expansion along the first row, recursive.

use crate::protocol::{measure, parse, Evaluated, Runs};
use autodiff::differentiate;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
struct Input {
    #[serde(rename = "A")]
    a: Vec<f64>,
    ell: usize,
}

/// det A for the ell × ell row-major matrix `a`: Σ_j (−1)^j a_0j det(minor_0j).
#[differentiate]
pub fn det(a: &[f64], ell: usize) -> f64 {
    if ell == 1 {
        return a[0];
    }
    let m = ell - 1;
    let mut minor = vec![0.0; m * m];
    let mut total = 0.0;
    let mut sign = 1.0;
    for j in 0..ell {
        // rows 1.., every column but j
        for r in 1..ell {
            for c in 0..ell {
                if c < j {
                    minor[(r - 1) * m + c] = a[r * ell + c];
                } else if c > j {
                    minor[(r - 1) * m + c - 1] = a[r * ell + c];
                }
            }
        }
        total += sign * a[j] * det(&minor, m);
        sign = -sign;
    }
    total
}

pub fn evaluate(function: &str, input: &Value) -> Evaluated {
    let runs = Runs::of(input)?;
    let Input { a, ell } = parse(input)?;
    if ell == 0 || a.len() != ell * ell {
        return Err(format!("`A` must have ell² = {} entries", ell * ell));
    }
    match function {
        "primal" => {
            let (y, t) = measure(runs, || det(&a, ell));
            Ok((json!(y), t))
        }
        "gradient" => {
            let (g, t) = measure(runs, || det_grad(&a, ell).1);
            Ok((json!(g), t))
        }
        _ => super::unknown("det", function),
    }
}
