//! `kmeans`: the k-means cost and its Newton direction J ⊘ diag(H), the
//! gradient and the Hessian's diagonal both generated. The cost's Hessian
//! with respect to the centroids is diagonal (each coordinate enters one
//! square), so diag(H) = H·1, one Hessian-vector product.

use crate::protocol::{measure, parse, Evaluated, Runs};
use autodiff::differentiate;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
struct Input {
    points: Vec<Vec<f64>>,
    centroids: Vec<Vec<f64>>,
}

/// Σ_i min_j ‖p_i − c_j‖² over row-major `points` (n·d) and `centroids` (k·d);
/// on a tie the first centroid wins.
#[differentiate(order = 2, wrt(centroids))]
pub fn cost(points: &[f64], centroids: &[f64], d: usize) -> f64 {
    let mut total = 0.0;
    for p in points.chunks_exact(d) {
        let mut best = f64::INFINITY;
        for c in centroids.chunks_exact(d) {
            let dist: f64 = p.iter().zip(c.iter()).map(|(a, b)| (a - b) * (a - b)).sum();
            if dist < best {
                best = dist;
            }
        }
        total += best;
    }
    total
}

/// J ⊘ diag(H) (row-major k·d).
pub fn dir(points: &[f64], centroids: &[f64], d: usize) -> Vec<f64> {
    let ones = vec![1.0; centroids.len()];
    let (_, g, h) = cost_hvp(points, centroids, &ones, d);
    g.iter().zip(&h).map(|(g, h)| g / h).collect()
}

pub fn evaluate(function: &str, input: &Value) -> Evaluated {
    let runs = Runs::of(input)?;
    let Input { points, centroids } = parse(input)?;
    let d = centroids.first().map_or(0, Vec::len);
    if d == 0 || points.iter().chain(&centroids).any(|r| r.len() != d) {
        return Err("points and centroids must be non-empty rows of one length".into());
    }
    let (points, centroids) = (points.concat(), centroids.concat());
    match function {
        "cost" => {
            let (y, t) = measure(runs, || cost(&points, &centroids, d));
            Ok((json!(y), t))
        }
        "dir" => {
            let (g, t) = measure(runs, || dir(&points, &centroids, d));
            Ok((json!(g.chunks(d).collect::<Vec<_>>()), t))
        }
        _ => super::unknown("kmeans", function),
    }
}
