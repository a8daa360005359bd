//! hello, lse, llsq and kmeans against GRADBENCH.md's formulas, written out
//! here independently of the tool (closed forms, central differences).

#![allow(clippy::needless_range_loop)]

mod common;
use autodiff_gradbench::evals::{hello, kmeans, llsq, lse};
use autodiff_gradbench::Tool;
use common::*;
use serde_json::{json, Value};

/// uniform [0, 1) values from a small LCG.
fn uniform(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        })
        .collect()
}

fn call(tool: &mut Tool, module: &str, function: &str, input: Value) -> Value {
    let msg = json!({"id": 1, "kind": "evaluate", "module": module, "function": function, "input": input});
    let r: Value = serde_json::from_str(&tool.respond(&msg.to_string())).unwrap();
    assert_eq!(r["success"], true, "{r}");
    r["output"].clone()
}

fn tool_with(module: &str) -> Tool {
    let mut tool = Tool::default();
    let r = tool.respond(&json!({"id": 0, "kind": "define", "module": module}).to_string());
    assert!(r.contains("\"success\":true"), "{r}");
    tool
}

#[test]
fn hello_four_rounds() {
    // the eval: x = 1, then y = square(x), x = double(y), four times
    let mut tool = tool_with("hello");
    let mut x = 1.0;
    for _ in 0..4 {
        let y = call(&mut tool, "hello", "square", json!(x))
            .as_f64()
            .unwrap();
        assert_eq!(y, x * x);
        x = call(&mut tool, "hello", "double", json!(y))
            .as_f64()
            .unwrap();
        assert_eq!(x, 2.0 * y);
    }
    assert_eq!(x, 32768.0);
    assert_eq!(hello::square_grad(3.0), (9.0, 6.0));
}

#[test]
fn lse_is_softmax() {
    let x: Vec<f64> = uniform(2500, 7);
    let m = x.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let z: f64 = x.iter().map(|v| (v - m).exp()).sum();
    let want_y = m + z.ln();
    let want_g: Vec<f64> = x.iter().map(|v| (v - m).exp() / z).collect();
    let mut tool = tool_with("lse");
    let input = json!({"x": x, "min_runs": 1, "min_seconds": 0.0});
    let y = call(&mut tool, "lse", "primal", input.clone())
        .as_f64()
        .unwrap();
    assert!(rho(y, want_y) < 1e-14);
    let g = floats(&call(&mut tool, "lse", "gradient", input));
    assert_close("softmax", &g, &want_g, 1e-15);
    let sum: f64 = g.iter().sum();
    assert!((sum - 1.0).abs() < 1e-12);
    // large values: the max trick keeps it finite
    let (y, g) = lse::logsumexp_grad(&[1000.0, 1000.0]);
    assert!((y - (1000.0 + 2f64.ln())).abs() < 1e-12);
    assert_eq!(g, vec![0.5, 0.5]);
}

#[test]
fn llsq_closed_form() {
    for n in [16usize, 33, 128] {
        let m = 8;
        let x = uniform(m, n as u64);
        let mut want_y = 0.0;
        let mut want_g = vec![0.0; m];
        for i in 0..n {
            let t = -1.0 + 2.0 * i as f64 / (n - 1) as f64;
            let s = if t > 0.0 {
                1.0
            } else if t < 0.0 {
                -1.0
            } else {
                0.0
            };
            let r = s - (0..m).map(|j| x[j] * t.powi(j as i32)).sum::<f64>();
            want_y += 0.5 * r * r;
            for j in 0..m {
                want_g[j] -= r * t.powi(j as i32);
            }
        }
        let mut tool = tool_with("llsq");
        let input = json!({"x": x, "n": n, "min_runs": 1, "min_seconds": 0.0});
        let y = call(&mut tool, "llsq", "primal", input.clone())
            .as_f64()
            .unwrap();
        assert!(rho(y, want_y) < 1e-13, "n {n}: {y} vs {want_y}");
        let g = floats(&call(&mut tool, "llsq", "gradient", input));
        assert_close("llsq", &g, &want_g, 1e-13);
        let f = fd(|x| llsq::llsq(x, n), &x, 1e-6);
        assert_close("llsq fd", &g, &f, 1e-7);
    }
}

#[test]
fn kmeans_dir_is_centroid_minus_cluster_mean() {
    let (n, k, d) = (300, 7, 3);
    let points = uniform(n * d, 31337);
    // as the eval: the last k points are the centroids (no empty cluster)
    let centroids = points[(n - k) * d..].to_vec();
    let mut sum = vec![0.0; k * d];
    let mut count = vec![0usize; k];
    let mut want_cost = 0.0;
    for p in points.chunks(d) {
        let dists: Vec<f64> = centroids
            .chunks(d)
            .map(|c| p.iter().zip(c).map(|(a, b)| (a - b) * (a - b)).sum())
            .collect();
        let j = (0..k).fold(0, |b, j| if dists[j] < dists[b] { j } else { b });
        want_cost += dists[j];
        count[j] += 1;
        for t in 0..d {
            sum[j * d + t] += p[t];
        }
    }
    let want_dir: Vec<f64> = (0..k * d)
        .map(|i| centroids[i] - sum[i] / count[i / d] as f64)
        .collect();
    let rows = |v: &[f64]| -> Vec<Vec<f64>> { v.chunks(d).map(<[f64]>::to_vec).collect() };
    let input = json!({"points": rows(&points), "centroids": rows(&centroids), "min_runs": 1, "min_seconds": 0.0});
    let mut tool = tool_with("kmeans");
    let c = call(&mut tool, "kmeans", "cost", input.clone())
        .as_f64()
        .unwrap();
    assert!(rho(c, want_cost) < 1e-13);
    let out = call(&mut tool, "kmeans", "dir", input);
    assert_eq!(out.as_array().unwrap().len(), k);
    assert_close("dir", &floats(&out), &want_dir, 1e-13);
    // a tie: the point (0.5) is as far from both centroids; the first wins
    let g = kmeans::dir(&[0.5, 0.0, 1.0], &[0.0, 1.0], 1);
    assert_eq!(g, vec![0.0 - 0.25, 0.0]);
}
