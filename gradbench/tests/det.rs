//! `det` against an independent reference: the determinant by Gaussian
//! elimination and the cofactor matrix as det(A)·A⁻ᵀ (Gauss–Jordan inverse).

mod common;
use autodiff_gradbench::evals::det::{det, det_grad};
use common::*;

/// det A and A⁻¹ by Gauss–Jordan elimination with partial pivoting.
fn det_inv(a: &[f64], n: usize) -> (f64, Vec<f64>) {
    let mut m = a.to_vec();
    let mut inv = vec![0.0; n * n];
    for i in 0..n {
        inv[i * n + i] = 1.0;
    }
    let mut det = 1.0;
    for col in 0..n {
        let p = (col..n)
            .max_by(|&x, &y| m[x * n + col].abs().total_cmp(&m[y * n + col].abs()))
            .unwrap();
        if p != col {
            for c in 0..n {
                m.swap(p * n + c, col * n + c);
                inv.swap(p * n + c, col * n + c);
            }
            det = -det;
        }
        let d = m[col * n + col];
        det *= d;
        for c in 0..n {
            m[col * n + c] /= d;
            inv[col * n + c] /= d;
        }
        for r in 0..n {
            if r != col {
                let f = m[r * n + col];
                for c in 0..n {
                    m[r * n + c] -= f * m[col * n + c];
                    inv[r * n + c] -= f * inv[col * n + c];
                }
            }
        }
    }
    (det, inv)
}

/// A uniform [0, 1) matrix from a small LCG.
fn matrix(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed;
    (0..n * n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        })
        .collect()
}

#[test]
fn determinant_and_cofactors() {
    for ell in 1..=7 {
        let a = matrix(ell, ell as u64);
        let (want_det, inv) = det_inv(&a, ell);
        let d = det(&a, ell);
        assert!(rho(d, want_det) < 1e-12, "ell {ell}: {d} vs {want_det}");
        let (d2, g) = det_grad(&a, ell);
        assert_eq!(d2, d, "primal unchanged");
        // cofactor_ij = det · (A⁻¹)_ji
        let want: Vec<f64> = (0..ell * ell)
            .map(|k| want_det * inv[(k % ell) * ell + k / ell])
            .collect();
        assert_close(&format!("ell {ell}"), &g, &want, 1e-12);
    }
}

#[test]
fn two_by_two_exactly() {
    let (d, g) = det_grad(&[1.0, 2.0, 3.0, 4.0], 2);
    assert_eq!(d, -2.0);
    assert_eq!(g, vec![4.0, -3.0, -2.0, 1.0]);
}
