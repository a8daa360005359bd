//! `ba`: bundle adjustment. Every observation's reprojection error and weight
//! error is computed (the input's duplication is not exploited); the
//! Jacobian's 2×15 blocks come from the generated `reproj_error_jacobian`.

use crate::protocol::{measure, parse, Evaluated, Runs};
use autodiff::differentiate;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
struct Input {
    n: usize,
    m: usize,
    p: usize,
    cam: Vec<f64>,
    x: Vec<f64>,
    w: f64,
    feat: Vec<f64>,
}

/// The full problem: n cameras, m points, p weighted observations.
#[derive(Debug, Clone)]
pub struct Ba {
    pub n: usize,
    pub m: usize,
    pub p: usize,
    /// n·11
    pub cams: Vec<f64>,
    /// m·3
    pub xs: Vec<f64>,
    /// p
    pub ws: Vec<f64>,
    /// p·2
    pub feats: Vec<f64>,
}

impl Ba {
    /// Builds the problem from one camera, point, weight and feature.
    pub fn duplicate(
        n: usize,
        m: usize,
        p: usize,
        cam: &[f64],
        x: &[f64],
        w: f64,
        feat: &[f64],
    ) -> Ba {
        Ba {
            n,
            m,
            p,
            cams: cam.repeat(n),
            xs: x.repeat(m),
            ws: vec![w; p],
            feats: feat.repeat(p),
        }
    }

    fn observation(&self, i: usize) -> (&[f64], &[f64], f64, &[f64]) {
        let (c, q) = (i % self.n, i % self.m);
        (
            &self.cams[11 * c..11 * c + 11],
            &self.xs[3 * q..3 * q + 3],
            self.ws[i],
            &self.feats[2 * i..2 * i + 2],
        )
    }

    /// All 2p reprojection errors and p weight errors.
    pub fn objective(&self) -> (Vec<f64>, Vec<f64>) {
        let mut reproj = vec![0.0; 2 * self.p];
        let mut w_err = vec![0.0; self.p];
        for i in 0..self.p {
            let (cam, x, w, feat) = self.observation(i);
            reproj_error(cam, x, w, feat, &mut reproj[2 * i..2 * i + 2]);
            w_err[i] = weight_error(w);
        }
        (reproj, w_err)
    }

    /// The whole Jacobian as CSR (row pointers, columns, values).
    pub fn jacobian(&self) -> (Vec<usize>, Vec<usize>, Vec<f64>) {
        let (n, m, p) = (self.n, self.m, self.p);
        let mut rows = Vec::with_capacity(3 * p + 1);
        let mut cols = Vec::with_capacity(31 * p);
        let mut vals = Vec::with_capacity(31 * p);
        rows.push(0);
        let mut err = [0.0; 2];
        for i in 0..p {
            let (cam, x, w, feat) = self.observation(i);
            let block = reproj_error_jacobian(cam, x, w, feat, &mut err);
            let (c, q) = (i % n, i % m);
            for r in 0..2 {
                cols.extend((0..11).map(|k| 11 * c + k));
                cols.extend((0..3).map(|k| 11 * n + 3 * q + k));
                cols.push(11 * n + 3 * m + i);
                vals.extend_from_slice(&block[15 * r..15 * r + 15]);
                rows.push(cols.len());
            }
        }
        for i in 0..p {
            cols.push(11 * n + 3 * m + i);
            vals.push(weight_error_grad(self.ws[i]).1);
            rows.push(cols.len());
        }
        (rows, cols, vals)
    }
}

/// The reprojection error of point `x` seen by camera `cam` = [r (angle-axis),
/// C (centre), f, u0, v0, k1, k2] as `feat`, weighted by `w`.
#[differentiate(wrt(cam, x, w))]
pub fn reproj_error(cam: &[f64], x: &[f64], w: f64, feat: &[f64], err: &mut [f64]) {
    let (r0, r1, r2) = (cam[0], cam[1], cam[2]);
    let (p0, p1, p2) = (x[0] - cam[3], x[1] - cam[4], x[2] - cam[5]);
    // Rodrigues: rotate p by r
    let sq_theta = r0 * r0 + r1 * r1 + r2 * r2;
    let q0: f64;
    let q1: f64;
    let q2: f64;
    if sq_theta != 0.0 {
        let theta = sq_theta.sqrt();
        let (s, c) = theta.sin_cos();
        let (w0, w1, w2) = (r0 / theta, r1 / theta, r2 / theta);
        let t = (w0 * p0 + w1 * p1 + w2 * p2) * (1.0 - c);
        q0 = p0 * c + (w1 * p2 - w2 * p1) * s + w0 * t;
        q1 = p1 * c + (w2 * p0 - w0 * p2) * s + w1 * t;
        q2 = p2 * c + (w0 * p1 - w1 * p0) * s + w2 * t;
    } else {
        q0 = p0 + (r1 * p2 - r2 * p1);
        q1 = p1 + (r2 * p0 - r0 * p2);
        q2 = p2 + (r0 * p1 - r1 * p0);
    }
    // projection and radial distortion
    let (u, v) = (q0 / q2, q1 / q2);
    let rho = u * u + v * v;
    let l = 1.0 + cam[9] * rho + cam[10] * rho * rho;
    err[0] = w * (u * l * cam[6] + cam[7] - feat[0]);
    err[1] = w * (v * l * cam[6] + cam[8] - feat[1]);
}

/// 1 − w².
#[differentiate]
pub fn weight_error(w: f64) -> f64 {
    1.0 - w * w
}

pub fn evaluate(function: &str, input: &Value) -> Evaluated {
    let runs = Runs::of(input)?;
    let i: Input = parse(input)?;
    if i.cam.len() != 11 || i.x.len() != 3 || i.feat.len() != 2 || i.n == 0 || i.m == 0 || i.p == 0
    {
        return Err("bad ba input shapes".into());
    }
    let ba = Ba::duplicate(i.n, i.m, i.p, &i.cam, &i.x, i.w, &i.feat);
    match function {
        "objective" => {
            let ((reproj, w_err), t) = measure(runs, || ba.objective());
            let out = json!({
                "reproj_error": { "elements": [reproj[0], reproj[1]], "repeated": ba.p },
                "w_err": { "element": w_err[0], "repeated": ba.p },
            });
            Ok((out, t))
        }
        "jacobian" => {
            let ((rows, cols, vals), t) = measure(runs, || ba.jacobian());
            let head = |v: &[usize]| -> Vec<usize> {
                let mut h = v[..30].to_vec();
                h.push(v[v.len() - 1]);
                h
            };
            let mut v = vals[..30].to_vec();
            v.push(vals[vals.len() - 1]);
            Ok((
                json!({ "rows": head(&rows), "cols": head(&cols), "vals": v }),
                t,
            ))
        }
        _ => super::unknown("ba", function),
    }
}
