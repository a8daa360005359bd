//! Test problems with known minima, shared by the integration tests.
#![allow(dead_code)]

/// Rosenbrock's banana, minimum 0 at (1, 1); the classic start is (-1.2, 1).
pub fn rosenbrock(p: &[f64], g: &mut [f64]) -> f64 {
    let (x, y) = (p[0], p[1]);
    g[0] = -2.0 * (1.0 - x) - 400.0 * x * (y - x * x);
    g[1] = 200.0 * (y - x * x);
    (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)
}

pub const ROSENBROCK_START: [f64; 2] = [-1.2, 1.0];

/// `Σ cᵢ (xᵢ − i)²` with `cᵢ = 1, 2, …`: minimum 0 at (0, 1, 2, …), condition number n.
pub fn quadratic(x: &[f64], g: &mut [f64]) -> f64 {
    let mut value = 0.0;
    for (i, (&xi, gi)) in x.iter().zip(g.iter_mut()).enumerate() {
        let c = (i + 1) as f64;
        let r = xi - i as f64;
        value += c * r * r;
        *gi = 2.0 * c * r;
    }
    value
}

pub const QUADRATIC_START: [f64; 4] = [5.0, -3.0, 0.0, 10.0];

pub fn distance_to_quadratic_minimum(x: &[f64]) -> f64 {
    x.iter()
        .enumerate()
        .map(|(i, &xi)| (xi - i as f64).powi(2))
        .sum::<f64>()
        .sqrt()
}
