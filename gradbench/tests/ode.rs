//! `ode` against GRADBENCH.md: for n ≤ 4 the solution is a polynomial of
//! degree ≤ 4, which RK4 integrates exactly, so y_i(2) = Π_{j≤i} x_j·2^{i+1}/(i+1)!
//! and ∂y_{n−1}/∂x_i = y_{n−1}/x_i; larger n against an RK4 written out here
//! and central differences.

#![allow(clippy::needless_range_loop)]

mod common;
use autodiff_gradbench::evals::ode::{gradient, ode, ode_fwd};
use autodiff_gradbench::Tool;
use common::*;
use serde_json::{json, Value};

/// Plain RK4 of y' = f(y), f_0 = x_0, f_i = x_i·y_{i−1}.
fn reference(x: &[f64], s: usize) -> Vec<f64> {
    let n = x.len();
    let f = |y: &[f64]| -> Vec<f64> {
        (0..n)
            .map(|i| if i == 0 { x[0] } else { x[i] * y[i - 1] })
            .collect()
    };
    let axpy = |y: &[f64], a: f64, k: &[f64]| -> Vec<f64> {
        y.iter().zip(k).map(|(y, k)| y + a * k).collect()
    };
    let h = 2.0 / s as f64;
    let mut y = vec![0.0; n];
    for _ in 0..s {
        let k1 = f(&y);
        let k2 = f(&axpy(&y, h / 2.0, &k1));
        let k3 = f(&axpy(&y, h / 2.0, &k2));
        let k4 = f(&axpy(&y, h, &k3));
        for i in 0..n {
            y[i] += h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
        }
    }
    y
}

fn primal(x: &[f64], s: usize) -> Vec<f64> {
    let mut y = vec![0.0; x.len()];
    ode(x, s, &mut y);
    y
}

#[test]
fn exact_for_small_n() {
    let x = [0.3, 0.9, 0.5, 0.7];
    for s in [1, 3, 10] {
        let y = primal(&x, s);
        let mut prod = 1.0;
        let mut fact = 1.0;
        for i in 0..4 {
            prod *= x[i];
            fact *= (i + 1) as f64;
            let want = prod * 2f64.powi(i as i32 + 1) / fact;
            assert!(
                (y[i] - want).abs() < 1e-14,
                "s {s} y[{i}]: {} vs {want}",
                y[i]
            );
        }
        let g = gradient(&x, s);
        let want: Vec<f64> = x.iter().map(|xi| y[3] / xi).collect();
        assert_close("gradient", &g, &want, 1e-14);
    }
}

#[test]
fn larger_n_against_reference_and_differences() {
    let x: Vec<f64> = (0..12).map(|i| 0.5 + 0.07 * i as f64).collect();
    for s in [1, 10] {
        let y = primal(&x, s);
        assert_close("y", &y, &reference(&x, s), 1e-14);
        let g = gradient(&x, s);
        let fd = fd(|x| primal(x, s)[11], &x, 1e-6);
        assert_close("gradient vs fd", &g, &fd, 1e-8);
        // forward along a direction agrees with the reverse gradient
        let v: Vec<f64> = (0..12).map(|i| ((i * 7) % 5) as f64 - 2.0).collect();
        let (mut yy, mut dy) = (vec![0.0; 12], vec![0.0; 12]);
        ode_fwd(&x, &v, s, &mut yy, &mut dy);
        let dot: f64 = g.iter().zip(&v).map(|(a, b)| a * b).sum();
        assert!((dy[11] - dot).abs() < 1e-12 * (1.0 + dot.abs()));
        assert_eq!(yy, y);
    }
}

#[test]
fn through_the_protocol() {
    let x = [0.3, 0.9, 0.5, 0.7];
    let input = json!({"x": x, "s": 10, "min_runs": 1, "min_seconds": 0.0});
    let mut tool = Tool::default();
    tool.respond(r#"{"id":0,"kind":"define","module":"ode"}"#);
    let msg = |f: &str| {
        json!({"id": 1, "kind": "evaluate", "module": "ode", "function": f, "input": input})
            .to_string()
    };
    let r: Value = serde_json::from_str(&tool.respond(&msg("primal"))).unwrap();
    assert_eq!(floats(&r["output"]), primal(&x, 10));
    let r: Value = serde_json::from_str(&tool.respond(&msg("gradient"))).unwrap();
    assert_eq!(floats(&r["output"]), gradient(&x, 10));
}
