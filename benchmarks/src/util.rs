//! Comparisons and file helpers shared by tests, benches and the summary.

use std::path::PathBuf;

/// ADBench's comparison: ρ(x, y) = |x − y| / max(1, |x| + |y|).
pub fn rho(x: f64, y: f64) -> f64 {
    (x - y).abs() / (x.abs() + y.abs()).max(1.0)
}

/// The largest ρ over two equally long vectors.
pub fn max_rho(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "length mismatch");
    a.iter()
        .zip(b)
        .map(|(&x, &y)| rho(x, y))
        .fold(0.0, f64::max)
}

/// Largest absolute difference, relative to the largest magnitude of `reference`
/// (at least 1): a norm-wise relative error that is not fooled by tiny entries.
pub fn max_rel_err(a: &[f64], reference: &[f64]) -> f64 {
    assert_eq!(a.len(), reference.len(), "length mismatch");
    let scale = reference.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    a.iter()
        .zip(reference)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
        / scale
}

/// Panics with a readable message when `got` and `reference` differ by more
/// than `tol` in [`max_rel_err`].
pub fn assert_grad_close(what: &str, got: &[f64], reference: &[f64], tol: f64) {
    let err = max_rel_err(got, reference);
    assert!(
        err <= tol,
        "{what}: gradient differs from the reference: max rel err {err:e} > {tol:e}"
    );
}

/// `/work/shared/data/adbench` as seen from this crate: `../../shared/data/adbench`.
pub fn adbench_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/adbench")
}

/// All whitespace-separated numbers of a file.
pub fn read_numbers(path: &std::path::Path) -> Vec<f64> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.split_whitespace()
        .filter(|t| !t.starts_with('#'))
        .map(|t| {
            t.parse::<f64>()
                .unwrap_or_else(|e| panic!("{}: bad number {t:?}: {e}", path.display()))
        })
        .collect()
}

/// A golden file of ADBench (one value a line) under `golden/`.
pub fn read_golden(name: &str) -> Vec<f64> {
    read_numbers(&adbench_dir().join("golden").join(name))
}
