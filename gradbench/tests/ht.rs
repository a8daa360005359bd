//! `ht` on a synthetic 22-bone hand (ADBench's hand data is not in the
//! repository's data folder): at the rest pose (all angles 0, no global
//! rotation) with inverse_base_absolutes the inverses of the chained base
//! relatives, every bone transform is the identity, so each vertex stays at
//! its base position plus the global translation; the Jacobian's columns
//! (∂/∂us of the row's own point first, then ∂/∂theta) against central
//! differences, in both variants.

#![allow(clippy::needless_range_loop)]

mod common;
use autodiff_gradbench::evals::ht::Hand;
use autodiff_gradbench::Tool;
use common::*;
use serde_json::{json, Value};

/// uniform [0, 1) values from a small LCG.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn matmul(a: &[f64], b: &[f64]) -> Vec<f64> {
    let mut c = vec![0.0; 16];
    for i in 0..4 {
        for j in 0..4 {
            c[4 * i + j] = (0..4).map(|k| a[4 * i + k] * b[4 * k + j]).sum();
        }
    }
    c
}

/// A rigid transform: a rotation about a random axis and a translation.
fn rigid(r: &mut Lcg) -> Vec<f64> {
    let (a, b, c) = (r.next() - 0.5, r.next() - 0.5, r.next() - 0.5);
    let n = (a * a + b * b + c * c).sqrt();
    let (x, y, z) = (a / n, b / n, c / n);
    let t = r.next() * 2.0;
    let (s, co) = t.sin_cos();
    let m = [
        [
            x * x + (1.0 - x * x) * co,
            x * y * (1.0 - co) - z * s,
            x * z * (1.0 - co) + y * s,
        ],
        [
            x * y * (1.0 - co) + z * s,
            y * y + (1.0 - y * y) * co,
            y * z * (1.0 - co) - x * s,
        ],
        [
            x * z * (1.0 - co) - y * s,
            z * y * (1.0 - co) + x * s,
            z * z + (1.0 - z * z) * co,
        ],
    ];
    let mut out = vec![0.0; 16];
    for i in 0..3 {
        for j in 0..3 {
            out[4 * i + j] = m[i][j];
        }
        out[4 * i + 3] = r.next() - 0.5;
    }
    out[15] = 1.0;
    out
}

/// Inverse of a rigid transform [R t; 0 1]: [Rᵀ −Rᵀt; 0 1].
fn rigid_inverse(m: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; 16];
    for i in 0..3 {
        for j in 0..3 {
            out[4 * i + j] = m[4 * j + i];
        }
        out[4 * i + 3] = -(0..3).map(|k| m[4 * k + i] * m[4 * k + 3]).sum::<f64>();
    }
    out[15] = 1.0;
    out
}

/// A hand: 22 bones (wrist, palm, 5 fingers of 4), V vertices, npts points.
fn hand(complicated: bool, mirrored: bool) -> Hand {
    let mut r = Lcg(12345);
    let mut parents = vec![-1i64, 0];
    for _ in 0..5 {
        let first = parents.len() as i64;
        parents.extend([1, first, first + 1, first + 2]);
    }
    let nb = parents.len();
    assert_eq!(nb, 22);
    let relatives: Vec<Vec<f64>> = (0..nb).map(|_| rigid(&mut r)).collect();
    let mut absolutes: Vec<Vec<f64>> = Vec::new();
    for b in 0..nb {
        let a = if parents[b] < 0 {
            relatives[b].clone()
        } else {
            matmul(&absolutes[parents[b] as usize], &relatives[b])
        };
        absolutes.push(a);
    }
    let nv = 40;
    let mut base_positions = Vec::new();
    let mut weights = Vec::new();
    for _ in 0..nv {
        base_positions.extend([r.next() - 0.5, r.next() - 0.5, r.next() - 0.5, 1.0]);
        let w: Vec<f64> = (0..nb).map(|_| r.next()).collect();
        let s: f64 = w.iter().sum();
        weights.extend(w.iter().map(|v| v / s));
    }
    let triangles: Vec<usize> = (0..30)
        .flat_map(|t| [t % nv, (t * 7 + 1) % nv, (t * 13 + 5) % nv])
        .collect();
    let npts = 12;
    let correspondences: Vec<usize> = (0..npts)
        .map(|i| (i * 5 + 3) % if complicated { 30 } else { nv })
        .collect();
    let points: Vec<f64> = (0..3 * npts).map(|_| r.next() - 0.5).collect();
    let us: Vec<f64> = if complicated {
        (0..npts)
            .flat_map(|_| {
                let u0 = 0.5 * r.next();
                [u0, 0.5 * r.next()]
            })
            .collect()
    } else {
        Vec::new()
    };
    let theta: Vec<f64> = (0..26).map(|_| 0.6 * (r.next() - 0.5)).collect();
    Hand {
        theta,
        us,
        parents,
        base_relatives: relatives.concat(),
        inverse_base_absolutes: absolutes
            .iter()
            .map(|a| rigid_inverse(a))
            .collect::<Vec<_>>()
            .concat(),
        base_positions,
        weights,
        triangles,
        is_mirrored: mirrored,
        correspondences,
        points,
    }
}

#[test]
fn rest_pose_is_base_plus_translation() {
    for complicated in [false, true] {
        for mirrored in [false, true] {
            let mut h = hand(complicated, mirrored);
            h.theta = vec![0.0; 26];
            h.theta[3..6].copy_from_slice(&[0.1, -0.2, 0.3]);
            let err = h.objective();
            let vertex = |v: usize, k: usize| {
                let p = h.base_positions[4 * v + k];
                let p = if mirrored && k == 0 { -p } else { p };
                p + h.theta[3 + k]
            };
            for i in 0..h.correspondences.len() {
                let c = h.correspondences[i];
                for k in 0..3 {
                    let model = if complicated {
                        let t = &h.triangles[3 * c..3 * c + 3];
                        let (u0, u1) = (h.us[2 * i], h.us[2 * i + 1]);
                        u0 * vertex(t[0], k)
                            + u1 * vertex(t[1], k)
                            + (1.0 - u0 - u1) * vertex(t[2], k)
                    } else {
                        vertex(c, k)
                    };
                    let want = h.points[3 * i + k] - model;
                    assert!(
                        (err[3 * i + k] - want).abs() < 1e-12,
                        "{complicated} {mirrored} {i} {k}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_global_rotation_rotates_every_vertex() {
    // theta[0..3] = angle-axis (0, 0, π/2): a quarter turn about z, (x, y) → (−y, x)
    let mut h = hand(false, false);
    h.theta = vec![0.0; 26];
    h.theta[2] = std::f64::consts::FRAC_PI_2;
    let err = h.objective();
    for i in 0..h.correspondences.len() {
        let v = h.correspondences[i];
        let (x, y, z) = (
            h.base_positions[4 * v],
            h.base_positions[4 * v + 1],
            h.base_positions[4 * v + 2],
        );
        let want = [
            h.points[3 * i] + y,
            h.points[3 * i + 1] - x,
            h.points[3 * i + 2] - z,
        ];
        assert_close("rotated", &err[3 * i..3 * i + 3], &want, 1e-12);
    }
}

#[test]
fn jacobian_against_central_differences() {
    for complicated in [false, true] {
        let h = hand(complicated, complicated);
        let jac = h.jacobian();
        let rows = h.points.len();
        let extra = if complicated { 2 } else { 0 };
        assert_eq!(jac.len(), rows);
        assert!(jac.iter().all(|r| r.len() == 26 + extra));
        for col in 0..26 + extra {
            let f = |e: f64| {
                let mut g = h.clone();
                if col < extra {
                    for i in 0..h.correspondences.len() {
                        g.us[2 * i + col] += e;
                    }
                } else {
                    g.theta[col - extra] += e;
                }
                g.objective()
            };
            let (p, m) = (f(1e-6), f(-1e-6));
            for row in 0..rows {
                let d = (p[row] - m[row]) / 2e-6;
                assert!(
                    (jac[row][col] - d).abs() < 1e-6 * (1.0 + d.abs()),
                    "{complicated} [{row}][{col}]: {} vs {d}",
                    jac[row][col]
                );
            }
        }
        // the us columns: only the row's own point moves them
        if complicated {
            let mut g = h.clone();
            g.us[0] += 1e-3;
            let (a, b) = (h.objective(), g.objective());
            assert!(a[3..].iter().zip(&b[3..]).all(|(x, y)| x == y));
        }
    }
}

#[test]
fn through_the_protocol() {
    let h = hand(true, false);
    let mats = |v: &[f64]| -> Vec<Vec<Vec<f64>>> {
        v.chunks(16)
            .map(|m| m.chunks(4).map(<[f64]>::to_vec).collect())
            .collect()
    };
    let rows =
        |v: &[f64], n: usize| -> Vec<Vec<f64>> { v.chunks(n).map(<[f64]>::to_vec).collect() };
    let input = json!({
        "theta": h.theta, "us": rows(&h.us, 2),
        "data": {
            "correspondences": h.correspondences, "points": rows(&h.points, 3),
            "model": {
                "bone_count": 22, "bone_names": vec!["b"; 22], "parents": h.parents,
                "base_relatives": mats(&h.base_relatives),
                "inverse_base_absolutes": mats(&h.inverse_base_absolutes),
                "base_positions": rows(&h.base_positions, 4), "weights": rows(&h.weights, 22),
                "triangles": h.triangles.chunks(3).collect::<Vec<_>>(), "is_mirrored": false,
            }
        },
        "min_runs": 1, "min_seconds": 0.0,
    });
    let mut tool = Tool::default();
    tool.respond(r#"{"id":0,"kind":"define","module":"ht"}"#);
    let msg = |f: &str| {
        json!({"id": 1, "kind": "evaluate", "module": "ht", "function": f, "input": input})
            .to_string()
    };
    let r: Value = serde_json::from_str(&tool.respond(&msg("objective"))).unwrap();
    assert_eq!(floats(&r["output"]), h.objective());
    let r: Value = serde_json::from_str(&tool.respond(&msg("jacobian"))).unwrap();
    let out = r["output"].as_array().unwrap();
    assert_eq!(out.len(), 36);
    assert_eq!(out[0].as_array().unwrap().len(), 28);
    assert_eq!(floats(&r["output"]), h.jacobian().concat());
}

#[test]
fn a_finger_bone_rotates_by_rz_rx() {
    // identity bases: T_b is the product of the rotations down the chain; bone 2
    // (the first finger's base, pose column 5) takes theta[6] as its x-angle and
    // theta[7] as its z-angle, so a vertex bound to it moves by Rz(θ7)·Rx(θ6)
    let mut h = hand(false, false);
    let id: Vec<f64> = (0..16)
        .map(|k| if k % 5 == 0 { 1.0 } else { 0.0 })
        .collect();
    h.base_relatives = id.repeat(22);
    h.inverse_base_absolutes = id.repeat(22);
    h.weights = (0..40 * 22)
        .map(|k| if k % 22 == 2 { 1.0 } else { 0.0 })
        .collect();
    h.theta = vec![0.0; 26];
    let (a, b) = (0.3, -0.7);
    h.theta[6] = a;
    h.theta[7] = b;
    let err = h.objective();
    for i in 0..h.correspondences.len() {
        let v = h.correspondences[i];
        let (x, y, z) = (
            h.base_positions[4 * v],
            h.base_positions[4 * v + 1],
            h.base_positions[4 * v + 2],
        );
        // Rx(a)
        let (y1, z1) = (a.cos() * y - a.sin() * z, a.sin() * y + a.cos() * z);
        // Rz(b)
        let (x2, y2) = (b.cos() * x - b.sin() * y1, b.sin() * x + b.cos() * y1);
        let want = [
            h.points[3 * i] - x2,
            h.points[3 * i + 1] - y2,
            h.points[3 * i + 2] - z1,
        ];
        assert_close("finger", &err[3 * i..3 * i + 3], &want, 1e-12);
    }
}
