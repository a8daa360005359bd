//! `ht`: ADBench's hand tracking. A skinned hand model posed by 26 angles
//! and offsets (`theta`), compared with observed points: by vertex (simple
//! variant) or by a point on a triangle with barycentric `us` (complicated).

use crate::protocol::{measure, parse, Evaluated, Runs};
use autodiff::differentiate;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
struct ModelInput {
    parents: Vec<i64>,
    base_relatives: Vec<Vec<Vec<f64>>>,
    inverse_base_absolutes: Vec<Vec<Vec<f64>>>,
    base_positions: Vec<Vec<f64>>,
    weights: Vec<Vec<f64>>,
    triangles: Vec<Vec<usize>>,
    is_mirrored: bool,
}

#[derive(Deserialize)]
struct DataInput {
    correspondences: Vec<usize>,
    points: Vec<Vec<f64>>,
    model: ModelInput,
}

#[derive(Deserialize)]
struct Input {
    theta: Vec<f64>,
    us: Vec<Vec<f64>>,
    data: DataInput,
}

/// One workload, flattened row-major.
#[derive(Debug, Clone)]
pub struct Hand {
    pub theta: Vec<f64>,
    /// 2·npts barycentric coordinates, empty in the simple variant
    pub us: Vec<f64>,
    pub parents: Vec<i64>,
    /// bones·16, row-major 4×4 each
    pub base_relatives: Vec<f64>,
    /// bones·16
    pub inverse_base_absolutes: Vec<f64>,
    /// V·4
    pub base_positions: Vec<f64>,
    /// V·bones
    pub weights: Vec<f64>,
    /// T·3
    pub triangles: Vec<usize>,
    pub is_mirrored: bool,
    pub correspondences: Vec<usize>,
    /// npts·3
    pub points: Vec<f64>,
}

impl Hand {
    fn from_input(i: Input) -> Result<Hand, String> {
        let m = i.data.model;
        let nb = m.parents.len();
        let mats = |v: Vec<Vec<Vec<f64>>>| -> Result<Vec<f64>, String> {
            if v.len() != nb || v.iter().flatten().any(|r| r.len() != 4) {
                return Err("bone matrices must be [bones][4][4]".into());
            }
            Ok(v.concat().concat())
        };
        let npts = i.data.correspondences.len();
        if i.theta.len() != 26 || nb == 0 || i.data.points.len() != npts {
            return Err("bad ht input shapes".into());
        }
        if !i.us.is_empty() && i.us.len() != npts {
            return Err("`us` must have one row per correspondence".into());
        }
        Ok(Hand {
            theta: i.theta,
            us: i.us.concat(),
            base_relatives: mats(m.base_relatives)?,
            inverse_base_absolutes: mats(m.inverse_base_absolutes)?,
            base_positions: m.base_positions.concat(),
            weights: m.weights.concat(),
            triangles: m.triangles.concat(),
            parents: m.parents,
            is_mirrored: m.is_mirrored,
            correspondences: i.data.correspondences,
            points: i.data.points.concat(),
        })
    }

    /// The 3·npts residuals.
    pub fn objective(&self) -> Vec<f64> {
        let mut err = vec![0.0; self.points.len()];
        hand_objective(
            &self.theta,
            &self.us,
            &self.parents,
            &self.base_relatives,
            &self.inverse_base_absolutes,
            &self.base_positions,
            &self.weights,
            &self.triangles,
            self.is_mirrored,
            &self.correspondences,
            &self.points,
            &mut err,
        );
        err
    }

    /// The residuals' Jacobian, `[3·npts][26]` (simple) or `[3·npts][28]`
    /// (complicated: first ∂/∂us[i] of the row's own point, then ∂/∂theta),
    /// one forward sweep per column: row i depends on us[i] only, so one sweep
    /// along all us[·][0] gives column 0 of every row.
    pub fn jacobian(&self) -> Vec<Vec<f64>> {
        let rows = self.points.len();
        let extra = if self.us.is_empty() { 0 } else { 2 };
        let cols = extra + self.theta.len();
        let mut jac = vec![vec![0.0; cols]; rows];
        let mut err = vec![0.0; rows];
        let mut derr = vec![0.0; rows];
        let mut dtheta = vec![0.0; self.theta.len()];
        let mut dus = vec![0.0; self.us.len()];
        for col in 0..cols {
            dtheta.iter_mut().for_each(|v| *v = 0.0);
            dus.iter_mut().for_each(|v| *v = 0.0);
            if col < extra {
                dus.iter_mut().skip(col).step_by(2).for_each(|v| *v = 1.0);
            } else {
                dtheta[col - extra] = 1.0;
            }
            hand_objective_fwd(
                &self.theta,
                &dtheta,
                &self.us,
                &dus,
                &self.parents,
                &self.base_relatives,
                &self.inverse_base_absolutes,
                &self.base_positions,
                &self.weights,
                &self.triangles,
                self.is_mirrored,
                &self.correspondences,
                &self.points,
                &mut err,
                &mut derr,
            );
            for (row, d) in jac.iter_mut().zip(&derr) {
                row[col] = *d;
            }
        }
        jac
    }
}

/// The residuals points[i] − model point i into `err` (3 per point).
#[allow(clippy::too_many_arguments)]
#[differentiate(wrt(theta, us))]
pub fn hand_objective(
    theta: &[f64],
    us: &[f64],
    parents: &[i64],
    base_relatives: &[f64],
    inverse_base_absolutes: &[f64],
    base_positions: &[f64],
    weights: &[f64],
    triangles: &[usize],
    is_mirrored: bool,
    correspondences: &[usize],
    points: &[f64],
    err: &mut [f64],
) {
    let nb = parents.len();
    let nv = base_positions.len() / 4;

    // pose parameters: 3 × (nb + 3), row-major; bone b uses column b + 3
    let cols = nb + 3;
    let mut pose = vec![0.0; 3 * cols];
    for r in 0..3 {
        pose[r * cols] = theta[r];
        pose[r * cols + 1] = 1.0;
        pose[r * cols + 2] = theta[3 + r];
    }
    let mut t = 6;
    let mut c = 5;
    for _finger in 0..5 {
        for joint in 0..3 {
            pose[c] = theta[t];
            t += 1;
            if joint == 0 {
                pose[cols + c] = theta[t];
                t += 1;
            }
            c += 1;
        }
        c += 1;
    }

    // bone transforms: relatives, absolutes down the tree, times the inverse base
    let mut rot = [0.0; 16];
    rot[15] = 1.0;
    let mut relative = [0.0; 16];
    let mut absolute = vec![0.0; nb * 16];
    let mut transform = vec![0.0; nb * 16];
    for b in 0..nb {
        // R = Rz·Ry·Rx with x-angle a0, z-angle a1, y-angle a2
        let (sx, cx) = pose[b + 3].sin_cos();
        let (sz, cz) = pose[cols + b + 3].sin_cos();
        let (sy, cy) = pose[2 * cols + b + 3].sin_cos();
        rot[0] = cz * cy;
        rot[1] = cz * sy * sx - sz * cx;
        rot[2] = cz * sy * cx + sz * sx;
        rot[4] = sz * cy;
        rot[5] = sz * sy * sx + cz * cx;
        rot[6] = sz * sy * cx - cz * sx;
        rot[8] = -sy;
        rot[9] = cy * sx;
        rot[10] = cy * cx;
        let base = &base_relatives[16 * b..16 * b + 16];
        for i in 0..4 {
            for j in 0..4 {
                let mut s = 0.0;
                for k in 0..4 {
                    s += base[4 * i + k] * rot[4 * k + j];
                }
                relative[4 * i + j] = s;
            }
        }
        let parent = parents[b];
        for i in 0..4 {
            for j in 0..4 {
                if parent < 0 {
                    absolute[16 * b + 4 * i + j] = relative[4 * i + j];
                } else {
                    let pa = parent as usize;
                    let mut s = 0.0;
                    for k in 0..4 {
                        s += absolute[16 * pa + 4 * i + k] * relative[4 * k + j];
                    }
                    absolute[16 * b + 4 * i + j] = s;
                }
            }
        }
        let inv = &inverse_base_absolutes[16 * b..16 * b + 16];
        for i in 0..4 {
            for j in 0..4 {
                let mut s = 0.0;
                for k in 0..4 {
                    s += absolute[16 * b + 4 * i + k] * inv[4 * k + j];
                }
                transform[16 * b + 4 * i + j] = s;
            }
        }
    }

    // the global rotation (angle-axis theta[0..3]), columns scaled by pose column 1
    let norm = (theta[0] * theta[0] + theta[1] * theta[1] + theta[2] * theta[2]).sqrt();
    let mut g = [0.0; 9];
    g[0] = 1.0;
    g[4] = 1.0;
    g[8] = 1.0;
    if norm >= 1e-4 {
        let (x, y, z) = (theta[0] / norm, theta[1] / norm, theta[2] / norm);
        let (s, co) = norm.sin_cos();
        g[0] = x * x + (1.0 - x * x) * co;
        g[1] = x * y * (1.0 - co) - z * s;
        g[2] = x * z * (1.0 - co) + y * s;
        g[3] = x * y * (1.0 - co) + z * s;
        g[4] = y * y + (1.0 - y * y) * co;
        g[5] = y * z * (1.0 - co) - x * s;
        g[6] = x * z * (1.0 - co) - y * s;
        g[7] = z * y * (1.0 - co) + x * s;
        g[8] = z * z + (1.0 - z * z) * co;
    }
    for r in 0..3 {
        for k in 0..3 {
            g[3 * r + k] *= pose[k * cols + 1];
        }
    }

    // skinning, mirroring, the global transform
    let mut pos = vec![0.0; 3 * nv];
    for v in 0..nv {
        let bp = &base_positions[4 * v..4 * v + 4];
        let (mut p0, mut p1, mut p2) = (0.0, 0.0, 0.0);
        for b in 0..nb {
            let w = weights[v * nb + b];
            let tb = &transform[16 * b..16 * b + 16];
            p0 += w * (tb[0] * bp[0] + tb[1] * bp[1] + tb[2] * bp[2] + tb[3] * bp[3]);
            p1 += w * (tb[4] * bp[0] + tb[5] * bp[1] + tb[6] * bp[2] + tb[7] * bp[3]);
            p2 += w * (tb[8] * bp[0] + tb[9] * bp[1] + tb[10] * bp[2] + tb[11] * bp[3]);
        }
        if is_mirrored {
            p0 = -p0;
        }
        pos[3 * v] = g[0] * p0 + g[1] * p1 + g[2] * p2 + theta[3];
        pos[3 * v + 1] = g[3] * p0 + g[4] * p1 + g[5] * p2 + theta[4];
        pos[3 * v + 2] = g[6] * p0 + g[7] * p1 + g[8] * p2 + theta[5];
    }

    // residuals
    for i in 0..correspondences.len() {
        let k = correspondences[i];
        for r in 0..3 {
            if us.is_empty() {
                err[3 * i + r] = points[3 * i + r] - pos[3 * k + r];
            } else {
                let (v0, v1, v2) = (triangles[3 * k], triangles[3 * k + 1], triangles[3 * k + 2]);
                let (u0, u1) = (us[2 * i], us[2 * i + 1]);
                let model =
                    u0 * pos[3 * v0 + r] + u1 * pos[3 * v1 + r] + (1.0 - u0 - u1) * pos[3 * v2 + r];
                err[3 * i + r] = points[3 * i + r] - model;
            }
        }
    }
}

pub fn evaluate(function: &str, input: &Value) -> Evaluated {
    let runs = Runs::of(input)?;
    let hand = Hand::from_input(parse(input)?)?;
    match function {
        "objective" => {
            let (e, t) = measure(runs, || hand.objective());
            Ok((json!(e), t))
        }
        "jacobian" => {
            let (j, t) = measure(runs, || hand.jacobian());
            Ok((json!(j), t))
        }
        _ => super::unknown("ht", function),
    }
}
