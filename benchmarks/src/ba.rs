//! ADBench bundle adjustment: the Jacobian of the reprojection residuals.
//!
//! The problem is ADBench's: `n` cameras, `m` points, `p` observations, built by
//! copying the one camera, point, weight and feature of the data file;
//! observation `i` uses camera `i mod n` and point `i mod m`. Its residuals are
//! `2p` reprojection errors `w·(proj(cam, X) − feat)` and `p` weight errors
//! `1 − w²`. The Jacobian is sparse: each observation contributes a 2×15 block
//! (11 camera, 3 point and 1 weight columns) and one `−2w`. It is computed, as
//! every ADBench tool does, block by block, every observation for real (the
//! duplication is not exploited); the values are stored in ADBench's CSR order
//! (`31p` values: row `2i`, row `2i + 1`, then the `p` weight derivatives).
//!
//! - [`reproj`]: one observation's 2 residuals, `#[differentiate(wrt(cam, x, w))]`,
//!   so `reproj_jacobian` gives its 2×15 block;
//! - [`ba_objective`]: all residuals;
//! - [`ba_jacobian_generated`]: the blocks from `reproj_jacobian`;
//! - [`ba_jacobian_hand`]: the blocks from [`reproj_block_hand`], a hand-derived
//!   Jacobian of the same code (Rodrigues' rotation, projection, distortion).

use autodiff::differentiate;
use nalgebra::SVector;
use num_dual::{DualNum, DualSVec64};

use crate::util::{adbench_dir, read_numbers};

/// A BA problem: cameras (11 each), points (3), weights, features (2), sizes.
pub struct Data {
    pub n: usize,
    pub m: usize,
    pub p: usize,
    pub cams: Vec<[f64; 11]>,
    pub xs: Vec<[f64; 3]>,
    pub ws: Vec<f64>,
    pub feats: Vec<[f64; 2]>,
}

/// ADBench's file `data/ba/<file>`, duplicated into the full problem.
pub fn load_adbench(file: &str) -> Data {
    let v = read_numbers(&adbench_dir().join("data/ba").join(file));
    let (n, m, p) = (v[0] as usize, v[1] as usize, v[2] as usize);
    let mut cam = [0.0; 11];
    cam.copy_from_slice(&v[3..14]);
    let x = [v[14], v[15], v[16]];
    Data {
        n,
        m,
        p,
        cams: vec![cam; n],
        xs: vec![x; m],
        ws: vec![v[17]; p],
        feats: vec![[v[18], v[19]]; p],
    }
}

/// One observation's reprojection error (ADBench's `computeReprojError`).
#[differentiate(wrt(cam, x, w))]
pub fn reproj(cam: &[f64; 11], x: &[f64; 3], w: f64, feat: &[f64; 2]) -> [f64; 2] {
    let p0 = x[0] - cam[3];
    let p1 = x[1] - cam[4];
    let p2 = x[2] - cam[5];
    let (r0, r1, r2) = (cam[0], cam[1], cam[2]);
    let sqtheta = r0 * r0 + r1 * r1 + r2 * r2;
    let q0: f64;
    let q1: f64;
    let q2: f64;
    if sqtheta != 0.0 {
        let theta = sqtheta.sqrt();
        let (s, c) = theta.sin_cos();
        let (k0, k1, k2) = (r0 / theta, r1 / theta, r2 / theta);
        let t = (k0 * p0 + k1 * p1 + k2 * p2) * (1.0 - c);
        q0 = p0 * c + (k1 * p2 - k2 * p1) * s + k0 * t;
        q1 = p1 * c + (k2 * p0 - k0 * p2) * s + k1 * t;
        q2 = p2 * c + (k0 * p1 - k1 * p0) * s + k2 * t;
    } else {
        q0 = p0 + r1 * p2 - r2 * p1;
        q1 = p1 + r2 * p0 - r0 * p2;
        q2 = p2 + r0 * p1 - r1 * p0;
    }
    let u = q0 / q2;
    let v = q1 / q2;
    let rsq = u * u + v * v;
    let l = 1.0 + cam[9] * rsq + cam[10] * rsq * rsq;
    [
        w * (u * l * cam[6] + cam[7] - feat[0]),
        w * (v * l * cam[6] + cam[8] - feat[1]),
    ]
}

/// All residuals: `2p` reprojection errors, then `p` weight errors.
pub fn ba_objective(d: &Data, out: &mut [f64]) {
    for i in 0..d.p {
        let e = reproj(&d.cams[i % d.n], &d.xs[i % d.m], d.ws[i], &d.feats[i]);
        out[2 * i] = e[0];
        out[2 * i + 1] = e[1];
        out[2 * d.p + i] = 1.0 - d.ws[i] * d.ws[i];
    }
}

/// The Jacobian's values in ADBench's CSR order, from `reproj_jacobian`.
pub fn ba_jacobian_generated(d: &Data, vals: &mut [f64]) {
    for i in 0..d.p {
        let (_, block) = reproj_jacobian(&d.cams[i % d.n], &d.xs[i % d.m], d.ws[i], &d.feats[i]);
        vals[30 * i..30 * i + 30].copy_from_slice(&block);
        vals[30 * d.p + i] = -2.0 * d.ws[i];
    }
}

/// The Jacobian's values in ADBench's CSR order, from [`reproj_block_hand`].
pub fn ba_jacobian_hand(d: &Data, vals: &mut [f64]) {
    for i in 0..d.p {
        let block: &mut [f64; 30] = (&mut vals[30 * i..30 * i + 30]).try_into().expect("30");
        reproj_block_hand(
            &d.cams[i % d.n],
            &d.xs[i % d.m],
            d.ws[i],
            &d.feats[i],
            block,
        );
        vals[30 * d.p + i] = -2.0 * d.ws[i];
    }
}

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

fn dot3(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// The hand-derived 2×15 block of [`reproj`], row-major: for each residual
/// `∂/∂(r, C, f, u0, v0, k1, k2, X, w)`.
///
/// With `p = X − C`, `q = R(r)·p`, `(u, v) = (q0, q1)/q2`, `L = 1 + k1·ρ + k2·ρ²`
/// (`ρ = u² + v²`) and `e = w·(f·L·(u, v) + (u0, v0) − feat)`: each row's
/// `g = ∂e/∂q` is pulled back through the rotation, `∂e/∂p = Rᵀg`
/// `= c·g + s·(g × k) + (1 − c)(g·k)·k`, and through the angle-axis vector,
/// `∂e/∂r = (g·∂q/∂θ)·k + (a − (a·k)·k)/θ` with
/// `a = −s·(g × p) + (1 − c)((g·k)·p + (k·p)·g)`.
pub fn reproj_block_hand(
    cam: &[f64; 11],
    x: &[f64; 3],
    w: f64,
    feat: &[f64; 2],
    out: &mut [f64; 30],
) {
    let p = [x[0] - cam[3], x[1] - cam[4], x[2] - cam[5]];
    let r = [cam[0], cam[1], cam[2]];
    let sqtheta = dot3(r, r);
    // q, and the pieces of its derivatives
    let (q, rot) = if sqtheta != 0.0 {
        let theta = sqtheta.sqrt();
        let (s, c) = theta.sin_cos();
        let k = [r[0] / theta, r[1] / theta, r[2] / theta];
        let kxp = cross(k, p);
        let kp = dot3(k, p);
        let t = kp * (1.0 - c);
        let q = [
            p[0] * c + kxp[0] * s + k[0] * t,
            p[1] * c + kxp[1] * s + k[1] * t,
            p[2] * c + kxp[2] * s + k[2] * t,
        ];
        (q, Some((theta, s, c, k, kxp, kp)))
    } else {
        let rxp = cross(r, p);
        ([p[0] + rxp[0], p[1] + rxp[1], p[2] + rxp[2]], None)
    };
    let (f, k1, k2) = (cam[6], cam[9], cam[10]);
    let iz = 1.0 / q[2];
    let u = q[0] * iz;
    let v = q[1] * iz;
    let rsq = u * u + v * v;
    let l = 1.0 + k1 * rsq + k2 * rsq * rsq;
    let dl = k1 + 2.0 * k2 * rsq; // ∂L/∂ρ
                                  // ∂e/∂(u, v), per row
    let de = [
        [w * f * (l + 2.0 * u * u * dl), w * f * 2.0 * u * v * dl],
        [w * f * 2.0 * u * v * dl, w * f * (l + 2.0 * v * v * dl)],
    ];
    let uv = [u, v];
    for row in 0..2 {
        let (du, dv) = (de[row][0], de[row][1]);
        // ∂e/∂q through u = q0/q2, v = q1/q2
        let g = [du * iz, dv * iz, -(du * u + dv * v) * iz];
        let (dp, dr) = match rot {
            Some((theta, s, c, k, kxp, kp)) => {
                let gk = dot3(g, k);
                let gxk = cross(g, k);
                let dp = [
                    c * g[0] + s * gxk[0] + (1.0 - c) * gk * k[0],
                    c * g[1] + s * gxk[1] + (1.0 - c) * gk * k[1],
                    c * g[2] + s * gxk[2] + (1.0 - c) * gk * k[2],
                ];
                // ∂q/∂θ = −s·p + c·(k × p) + s·(k·p)·k
                let dqdt = [
                    -s * p[0] + c * kxp[0] + s * kp * k[0],
                    -s * p[1] + c * kxp[1] + s * kp * k[1],
                    -s * p[2] + c * kxp[2] + s * kp * k[2],
                ];
                let gt = dot3(g, dqdt);
                let gxp = cross(g, p);
                let a = [
                    -s * gxp[0] + (1.0 - c) * (gk * p[0] + kp * g[0]),
                    -s * gxp[1] + (1.0 - c) * (gk * p[1] + kp * g[1]),
                    -s * gxp[2] + (1.0 - c) * (gk * p[2] + kp * g[2]),
                ];
                let ak = dot3(a, k);
                let dr = [
                    gt * k[0] + (a[0] - ak * k[0]) / theta,
                    gt * k[1] + (a[1] - ak * k[1]) / theta,
                    gt * k[2] + (a[2] - ak * k[2]) / theta,
                ];
                (dp, dr)
            }
            None => {
                let gxr = cross(g, r);
                let gxp = cross(g, p);
                (
                    [g[0] + gxr[0], g[1] + gxr[1], g[2] + gxr[2]],
                    [-gxp[0], -gxp[1], -gxp[2]],
                )
            }
        };
        let o = &mut out[15 * row..15 * row + 15];
        o[0..3].copy_from_slice(&dr);
        o[3] = -dp[0];
        o[4] = -dp[1];
        o[5] = -dp[2];
        o[6] = w * uv[row] * l;
        o[7] = if row == 0 { w } else { 0.0 };
        o[8] = if row == 0 { 0.0 } else { w };
        o[9] = w * f * uv[row] * rsq;
        o[10] = w * f * uv[row] * rsq * rsq;
        o[11..14].copy_from_slice(&dp);
        o[14] = f * uv[row] * l + cam[7 + row] - feat[row];
    }
}

/// One observation's residuals over num-dual numbers, inputs `(cam, X, w)` flat.
fn reproj_dual<D: DualNum<Primitive = f64> + Copy>(v: &[D], feat: &[f64; 2]) -> [D; 2] {
    let cam = &v[0..11];
    let (p0, p1, p2) = (v[11] - cam[3], v[12] - cam[4], v[13] - cam[5]);
    let (r0, r1, r2) = (cam[0], cam[1], cam[2]);
    let sqtheta = r0 * r0 + r1 * r1 + r2 * r2;
    let (q0, q1, q2) = if sqtheta.re() != 0.0 {
        let theta = sqtheta.sqrt();
        let (s, c) = theta.sin_cos();
        let (k0, k1, k2) = (r0 / theta, r1 / theta, r2 / theta);
        let t = (k0 * p0 + k1 * p1 + k2 * p2) * (-c + 1.0);
        (
            p0 * c + (k1 * p2 - k2 * p1) * s + k0 * t,
            p1 * c + (k2 * p0 - k0 * p2) * s + k1 * t,
            p2 * c + (k0 * p1 - k1 * p0) * s + k2 * t,
        )
    } else {
        (
            p0 + r1 * p2 - r2 * p1,
            p1 + r2 * p0 - r0 * p2,
            p2 + r0 * p1 - r1 * p0,
        )
    };
    let u = q0 / q2;
    let vv = q1 / q2;
    let rsq = u * u + vv * vv;
    let l = cam[9] * rsq + cam[10] * rsq * rsq + 1.0;
    let w = v[14];
    [
        w * (u * l * cam[6] + cam[7] - feat[0]),
        w * (vv * l * cam[6] + cam[8] - feat[1]),
    ]
}

/// The 2×15 block by num-dual's forward mode with 15 derivative slots at once
/// (`DualSVec64<15>`, `num_dual::jacobian`).
pub fn reproj_block_num_dual(
    cam: &[f64; 11],
    x: &[f64; 3],
    w: f64,
    feat: &[f64; 2],
    out: &mut [f64; 30],
) {
    let mut v = [0.0; 15];
    v[..11].copy_from_slice(cam);
    v[11..14].copy_from_slice(x);
    v[14] = w;
    let (_, jac) = num_dual::jacobian(
        |v: SVector<DualSVec64<15>, 15>| {
            let e = reproj_dual(v.as_slice(), feat);
            SVector::<DualSVec64<15>, 2>::from([e[0], e[1]])
        },
        &SVector::<f64, 15>::from(v),
    );
    for r in 0..2 {
        for c in 0..15 {
            out[15 * r + c] = jac[(r, c)];
        }
    }
}

/// The Jacobian's values in ADBench's CSR order, from [`reproj_block_num_dual`].
pub fn ba_jacobian_num_dual(d: &Data, vals: &mut [f64]) {
    for i in 0..d.p {
        let block: &mut [f64; 30] = (&mut vals[30 * i..30 * i + 30]).try_into().expect("30");
        reproj_block_num_dual(
            &d.cams[i % d.n],
            &d.xs[i % d.m],
            d.ws[i],
            &d.feats[i],
            block,
        );
        vals[30 * d.p + i] = -2.0 * d.ws[i];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::{max_rho, read_golden};

    #[test]
    fn jacobians_match_adbench() {
        for (file, golden) in [
            ("test.txt", "ba_test_J_Manual.txt"),
            ("ba1_n49_m7776_p31843.txt", ""),
        ] {
            let d = load_adbench(file);
            let mut hand = vec![0.0; 31 * d.p];
            let mut gen = vec![0.0; 31 * d.p];
            ba_jacobian_hand(&d, &mut hand);
            ba_jacobian_generated(&d, &mut gen);
            assert!(max_rho(&gen, &hand) < 1e-8, "{file}: generated vs hand");
            ba_jacobian_num_dual(&d, &mut gen);
            assert!(max_rho(&gen, &hand) < 1e-8, "{file}: num-dual vs hand");
            if !golden.is_empty() {
                // the file: shape, rows, cols and the values on its last line
                let v = read_golden(golden);
                let vals = &v[v.len() - 31 * d.p..];
                assert!(max_rho(&hand, vals) < 1e-8, "{file}: hand vs ADBench");
            }
        }
    }

    #[test]
    fn ba1_block_matches_adbench() {
        let d = load_adbench("ba1_n49_m7776_p31843.txt");
        let text = std::fs::read_to_string(
            adbench_dir().join("golden/ba1_n49_m7776_p31843_compact_Manual.txt"),
        )
        .expect("golden block");
        let rows: Vec<Vec<f64>> = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.contains(':'))
            .map(|l| {
                l.split_whitespace()
                    .filter_map(|t| t.parse().ok())
                    .collect()
            })
            .collect();
        let mut block = [0.0; 30];
        reproj_block_hand(&d.cams[0], &d.xs[0], d.ws[0], &d.feats[0], &mut block);
        let want = [rows[2].clone(), rows[3].clone()].concat();
        assert!(max_rho(&block, &want) < 1e-8);
        let (_, gen) = reproj_jacobian(&d.cams[0], &d.xs[0], d.ws[0], &d.feats[0]);
        assert!(max_rho(&gen, &want) < 1e-8);
    }
}
