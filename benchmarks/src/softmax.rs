//! Problem 2: softmax + cross-entropy loss of a linear classifier.
//!
//! logits zₛ = W xₛ + b (W: k×d row-major), loss = (1/N) Σₛ [logsumexp(zₛ) − zₛ,yₛ].

use crate::rng::SplitMix64;
use crate::scalar::{self, Scalar};
use autodiff::differentiate;

/// Batch size benchmarked.
pub const BATCH: usize = 256;
/// Input dimension.
pub const D: usize = 64;
/// Number of classes.
pub const K: usize = 10;

/// Inputs of one problem instance.
#[derive(Debug, Clone)]
pub struct Data {
    /// weights, k*d row-major
    pub w: Vec<f64>,
    /// bias, k
    pub b: Vec<f64>,
    /// inputs, batch*d row-major
    pub x: Vec<f64>,
    /// labels in 0..k, batch
    pub labels: Vec<usize>,
    pub d: usize,
    pub k: usize,
}

impl Data {
    /// `[w, b]` flattened: the gradient layout used by the peers.
    pub fn params(&self) -> Vec<f64> {
        let mut p = self.w.clone();
        p.extend_from_slice(&self.b);
        p
    }
}

/// A deterministic instance (fixed seed).
pub fn data(batch: usize, d: usize, k: usize) -> Data {
    let mut rng = SplitMix64::new(0x5eed_0002);
    let scale = 1.0 / (d as f64).sqrt();
    let w = (0..k * d).map(|_| scale * rng.normal()).collect();
    let b = rng.vec(k, -0.1, 0.1);
    let x = (0..batch * d).map(|_| rng.normal()).collect();
    let labels = (0..batch).map(|_| rng.below(k)).collect();
    Data {
        w,
        b,
        x,
        labels,
        d,
        k,
    }
}

/// The objective, in the macro subset (row views and `zip` loops, as the hand-written gradient reads its rows).
/// `w`: k*d row-major, `b`: k, `x`: batch*d, `labels`: batch (batch = labels.len()).
#[differentiate(wrt(w, b))]
pub fn softmax_loss(w: &[f64], b: &[f64], x: &[f64], labels: &[usize], d: usize, k: usize) -> f64 {
    let batch = labels.len();
    let mut z = vec![0.0; k];
    let mut total = 0.0;
    for s in 0..batch {
        let xs = &x[s * d..(s + 1) * d];
        for j in 0..k {
            let wj = &w[j * d..(j + 1) * d];
            let mut acc = b[j];
            for (wt, xt) in wj.iter().zip(xs.iter()) {
                acc += wt * xt;
            }
            z[j] = acc;
        }
        let mut m = z[0];
        for &zj in z.iter() {
            m = m.max(zj);
        }
        let mut se = 0.0;
        for &zj in z.iter() {
            se += (zj - m).exp();
        }
        total += se.ln() + m - z[labels[s]];
    }
    total / batch as f64
}

/// The same objective written in iterator style: `map`/`zip`/`sum`/`fold` over
/// row views instead of index loops (same inputs, same math, same scratch
/// buffer). Nearest supported form of the idiomatic one: the macro rejects
/// `.collect()` into `z`, `z.iter_mut()` as a `for` iterator, a row view
/// indexed in place as a chain's receiver (`w[j * d..(j + 1) * d].iter()`),
/// `.zip(xs)` without `.iter()` and `fold(f64::NEG_INFINITY, f64::max)` (a
/// function path instead of a closure).
#[differentiate(wrt(w, b))]
pub fn softmax_loss_iter(
    w: &[f64],
    b: &[f64],
    x: &[f64],
    labels: &[usize],
    d: usize,
    k: usize,
) -> f64 {
    let batch = labels.len();
    let mut z = vec![0.0; k];
    let total: f64 = (0..batch)
        .map(|s| {
            let xs = &x[s * d..(s + 1) * d];
            for j in 0..k {
                let wj = &w[j * d..(j + 1) * d];
                z[j] = b[j]
                    + wj.iter()
                        .zip(xs.iter())
                        .map(|(wt, xt)| wt * xt)
                        .sum::<f64>();
            }
            let m = z.iter().copied().fold(f64::NEG_INFINITY, |a, v| a.max(v));
            let se: f64 = z.iter().map(|zj| (zj - m).exp()).sum();
            se.ln() + m - z[labels[s]]
        })
        .sum();
    total / batch as f64
}

/// Hand-written reverse mode: overwrites `dw`, `db` with the gradient, returns the loss.
pub fn softmax_loss_hand(
    w: &[f64],
    dw: &mut [f64],
    b: &[f64],
    db: &mut [f64],
    x: &[f64],
    labels: &[usize],
    d: usize,
    k: usize,
) -> f64 {
    let batch = labels.len();
    let inv_n = 1.0 / batch as f64;
    dw.fill(0.0);
    db.fill(0.0);
    let mut z = vec![0.0; k];
    let mut total = 0.0;
    for s in 0..batch {
        let xs = &x[s * d..(s + 1) * d];
        for j in 0..k {
            let wj = &w[j * d..(j + 1) * d];
            let mut acc = 0.0;
            for t in 0..d {
                acc += wj[t] * xs[t];
            }
            z[j] = acc + b[j];
        }
        let m = z.iter().copied().fold(f64::NEG_INFINITY, |a, v| a.max(v));
        let mut se = 0.0;
        for zj in z.iter_mut() {
            *zj = (*zj - m).exp();
            se += *zj;
        }
        let y = labels[s];
        // z now holds exp(z - m); the label's logit is ln(z[y]) + m
        total += se.ln() - z[y].ln();
        let inv_se = inv_n / se;
        for j in 0..k {
            let mut dz = z[j] * inv_se;
            if j == y {
                dz -= inv_n;
            }
            db[j] += dz;
            let dwj = &mut dw[j * d..(j + 1) * d];
            for t in 0..d {
                dwj[t] += dz * xs[t];
            }
        }
    }
    total * inv_n
}

/// Generic re-implementation for the peers; `p` = `[w, b]`.
pub fn softmax_loss_generic<S: Scalar>(
    p: &[S],
    x: &[f64],
    labels: &[usize],
    d: usize,
    k: usize,
) -> S {
    let (w, b) = p.split_at(k * d);
    let batch = labels.len();
    let mut total = p[0].cst(0.0);
    let mut z: Vec<S> = Vec::with_capacity(k);
    for s in 0..batch {
        z.clear();
        for j in 0..k {
            let mut acc = b[j].clone();
            for t in 0..d {
                acc = acc + w[j * d + t].clone() * x[s * d + t];
            }
            z.push(acc);
        }
        let mut m = z[0].clone();
        for zj in &z[1..] {
            m = m.max_s(zj.clone());
        }
        let mut se = p[0].cst(0.0);
        for zj in &z {
            se = se + (zj.clone() - m.clone()).exp();
        }
        total = total + se.ln() + m - z[labels[s]].clone();
    }
    total / batch as f64
}

/// num-dual: value and gradient over `[w, b]`.
pub fn softmax_loss_num_dual(data: &Data, params: &[f64]) -> (f64, Vec<f64>) {
    scalar::num_dual_gradient(params, |p| {
        softmax_loss_generic(p, &data.x, &data.labels, data.d, data.k)
    })
}

/// `reverse` tape: value and gradient over `[w, b]`.
pub fn softmax_loss_reverse(data: &Data, params: &[f64]) -> (f64, Vec<f64>) {
    scalar::reverse_gradient(params, |p| {
        softmax_loss_generic(p, &data.x, &data.labels, data.d, data.k)
    })
}

/// Central finite differences over `[w, b]` (`params` is perturbed and restored).
pub fn softmax_loss_fd(data: &Data, params: &mut [f64], grad: &mut [f64]) {
    let kd = data.k * data.d;
    crate::fd::central(params, grad, |p| {
        softmax_loss(&p[..kd], &p[kd..], &data.x, &data.labels, data.d, data.k)
    });
}

/// Hand gradient flattened to `[w, b]`, with the value.
pub fn softmax_loss_hand_flat(data: &Data) -> (f64, Vec<f64>) {
    let (kd, k) = (data.k * data.d, data.k);
    let mut g = vec![0.0; kd + k];
    let (dw, db) = g.split_at_mut(kd);
    let f = softmax_loss_hand(
        &data.w,
        dw,
        &data.b,
        db,
        &data.x,
        &data.labels,
        data.d,
        data.k,
    );
    (f, g)
}

/// ad_trait's `ReverseAD` (global graph): value and gradient.
#[cfg(feature = "ad_trait")]
pub fn softmax_loss_ad_trait(data: &Data, params: &[f64]) -> (f64, Vec<f64>) {
    scalar::ad_trait_peer::gradient(params, |p| {
        softmax_loss_generic(p, &data.x, &data.labels, data.d, data.k)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::assert_grad_close;

    #[test]
    fn hand_matches_fd_and_peers() {
        let data = data(BATCH, D, K);
        let (f, g) = softmax_loss_hand_flat(&data);
        let f0 = softmax_loss(&data.w, &data.b, &data.x, &data.labels, D, K);
        assert!((f - f0).abs() <= 1e-12 * f0.abs(), "{f} vs {f0}");
        let mut p = data.params();
        assert!((softmax_loss_generic(&p, &data.x, &data.labels, D, K) - f0).abs() <= 1e-12 * f0);
        let mut fd = vec![0.0; p.len()];
        softmax_loss_fd(&data, &mut p, &mut fd);
        assert_eq!(p, data.params());
        assert_grad_close("fd", &fd, &g, 1e-7);
        let (fv, gd) = softmax_loss_num_dual(&data, &p);
        assert!((fv - f).abs() <= 1e-12 * f.abs());
        assert_grad_close("num_dual", &gd, &g, 1e-8);
        let (fv, gr) = softmax_loss_reverse(&data, &p);
        assert!((fv - f).abs() <= 1e-12 * f.abs());
        assert_grad_close("reverse", &gr, &g, 1e-8);
    }

    #[test]
    fn iterator_form_matches_hand() {
        for data in [data(BATCH, D, K), data(5, 3, 4)] {
            let (d, k) = (data.d, data.k);
            let (f, g) = softmax_loss_hand_flat(&data);
            let f0 = softmax_loss(&data.w, &data.b, &data.x, &data.labels, d, k);
            let fi = softmax_loss_iter(&data.w, &data.b, &data.x, &data.labels, d, k);
            assert!((fi - f0).abs() <= 1e-12 * f0.abs(), "{fi} vs {f0}");
            let (mut dw, mut db) = (vec![0.0; k * d], vec![0.0; k]);
            let fa = softmax_loss_iter_adjoint(
                &data.w,
                &mut dw,
                &data.b,
                &mut db,
                &data.x,
                &data.labels,
                d,
                k,
                1.0,
            );
            assert!((fa - f).abs() <= 1e-12 * f.abs(), "{fa} vs {f}");
            assert_grad_close("iter adjoint", &[dw, db].concat(), &g, 1e-8);
            let (fg, (gw, gb)) =
                softmax_loss_iter_grad(&data.w, &data.b, &data.x, &data.labels, d, k);
            assert!((fg - f).abs() <= 1e-12 * f.abs());
            assert_grad_close("iter grad", &[gw, gb].concat(), &g, 1e-8);
        }
    }

    #[test]
    fn small_instance_matches_fd() {
        let data = data(5, 3, 4);
        let (_, g) = softmax_loss_hand_flat(&data);
        let mut p = data.params();
        let mut fd = vec![0.0; p.len()];
        softmax_loss_fd(&data, &mut p, &mut fd);
        assert_grad_close("fd", &fd, &g, 1e-7);
    }
}
