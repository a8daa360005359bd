//! Helpers of the tests: ADBench files, GradBench's comparison, the tool
//! binary as a process.
#![allow(dead_code)]

use serde_json::Value;
use std::path::PathBuf;

/// `/work/shared/data/adbench` as seen from this crate.
pub fn adbench(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/adbench")
        .join(rel)
}

/// All whitespace-separated numbers of an ADBench file.
pub fn numbers(rel: &str) -> Vec<f64> {
    let path = adbench(rel);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.split_whitespace()
        .map(|t| t.parse::<f64>().unwrap_or_else(|e| panic!("{t:?}: {e}")))
        .collect()
}

/// GradBench's float comparison: |a − b| / max(1, |a| + |b|).
pub fn rho(a: f64, b: f64) -> f64 {
    (a - b).abs() / (a.abs() + b.abs()).max(1.0)
}

/// Asserts every entry within `tol` in [`rho`].
pub fn assert_close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (a, b)) in got.iter().zip(want).enumerate() {
        assert!(rho(*a, *b) <= tol, "{what}[{i}]: {a} vs {b}");
    }
}

/// Floats of a JSON array, nested arrays flattened.
pub fn floats(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(a) => a.iter().flat_map(floats).collect(),
        Value::Number(n) => vec![n.as_f64().unwrap()],
        other => panic!("not a number: {other}"),
    }
}

/// Central differences of `f` at `x`.
pub fn fd(f: impl Fn(&[f64]) -> f64, x: &[f64], h: f64) -> Vec<f64> {
    (0..x.len())
        .map(|i| {
            let mut p = x.to_vec();
            let mut m = x.to_vec();
            p[i] += h;
            m[i] -= h;
            (f(&p) - f(&m)) / (2.0 * h)
        })
        .collect()
}
