//! Problem 3: a two-layer perceptron's loss: d → h (tanh) → k (softmax
//! cross-entropy), averaged over a batch.
//!
//! aₛ = tanh(W1 xₛ + b1) (W1: h×d row-major), zₛ = W2 aₛ + b2 (W2: k×h row-major),
//! loss = (1/N) Σₛ [logsumexp(zₛ) − zₛ,yₛ].

use crate::rng::SplitMix64;
use crate::scalar::{self, Scalar};
use autodiff::differentiate;

/// Batch size benchmarked.
pub const BATCH: usize = 256;
/// Input dimension.
pub const D: usize = 64;
/// Hidden units.
pub const H: usize = 32;
/// Classes.
pub const K: usize = 10;

/// Inputs of one problem instance.
#[derive(Debug, Clone)]
pub struct Data {
    /// h*d row-major
    pub w1: Vec<f64>,
    /// h
    pub b1: Vec<f64>,
    /// k*h row-major
    pub w2: Vec<f64>,
    /// k
    pub b2: Vec<f64>,
    /// batch*d row-major
    pub x: Vec<f64>,
    /// batch labels in 0..k
    pub labels: Vec<usize>,
    pub d: usize,
    pub h: usize,
    pub k: usize,
}

impl Data {
    /// `[w1, b1, w2, b2]` flattened: the gradient layout used by the peers.
    pub fn params(&self) -> Vec<f64> {
        let mut p = self.w1.clone();
        p.extend_from_slice(&self.b1);
        p.extend_from_slice(&self.w2);
        p.extend_from_slice(&self.b2);
        p
    }

    /// Number of parameters.
    pub fn n_params(&self) -> usize {
        self.h * self.d + self.h + self.k * self.h + self.k
    }
}

/// A deterministic instance (fixed seed, Xavier-like scaling).
pub fn data(batch: usize, d: usize, h: usize, k: usize) -> Data {
    let mut rng = SplitMix64::new(0x5eed_0003);
    let s1 = 1.0 / (d as f64).sqrt();
    let s2 = 1.0 / (h as f64).sqrt();
    let w1 = (0..h * d).map(|_| s1 * rng.normal()).collect();
    let b1 = rng.vec(h, -0.1, 0.1);
    let w2 = (0..k * h).map(|_| s2 * rng.normal()).collect();
    let b2 = rng.vec(k, -0.1, 0.1);
    let x = (0..batch * d).map(|_| rng.normal()).collect();
    let labels = (0..batch).map(|_| rng.below(k)).collect();
    Data {
        w1,
        b1,
        w2,
        b2,
        x,
        labels,
        d,
        h,
        k,
    }
}

/// The objective, in the macro subset (row views and `zip` loops).
#[differentiate(wrt(w1, b1, w2, b2), order = 2)]
pub fn mlp_loss(
    w1: &[f64],
    b1: &[f64],
    w2: &[f64],
    b2: &[f64],
    x: &[f64],
    labels: &[usize],
    d: usize,
    h: usize,
    k: usize,
) -> f64 {
    let batch = labels.len();
    let mut a = vec![0.0; h];
    let mut z = vec![0.0; k];
    let mut total = 0.0;
    for s in 0..batch {
        let xs = &x[s * d..(s + 1) * d];
        for j in 0..h {
            let w1j = &w1[j * d..(j + 1) * d];
            let mut acc = b1[j];
            for (wt, xt) in w1j.iter().zip(xs.iter()) {
                acc += wt * xt;
            }
            a[j] = acc.tanh();
        }
        for c in 0..k {
            let w2c = &w2[c * h..(c + 1) * h];
            let mut acc = b2[c];
            for (wj, aj) in w2c.iter().zip(a.iter()) {
                acc += wj * aj;
            }
            z[c] = acc;
        }
        let mut m = z[0];
        for &zc in z.iter() {
            m = m.max(zc);
        }
        let mut se = 0.0;
        for &zc in z.iter() {
            se += (zc - m).exp();
        }
        total += se.ln() + m - z[labels[s]];
    }
    total / batch as f64
}

/// Hand-written reverse mode (backpropagation): overwrites the four shadows
/// with the gradient, returns the loss.
pub fn mlp_loss_hand(
    w1: &[f64],
    dw1: &mut [f64],
    b1: &[f64],
    db1: &mut [f64],
    w2: &[f64],
    dw2: &mut [f64],
    b2: &[f64],
    db2: &mut [f64],
    x: &[f64],
    labels: &[usize],
    d: usize,
    h: usize,
    k: usize,
) -> f64 {
    let batch = labels.len();
    let inv_n = 1.0 / batch as f64;
    dw1.fill(0.0);
    db1.fill(0.0);
    dw2.fill(0.0);
    db2.fill(0.0);
    let mut a = vec![0.0; h];
    let mut da = vec![0.0; h];
    let mut z = vec![0.0; k];
    let mut total = 0.0;
    for s in 0..batch {
        let xs = &x[s * d..(s + 1) * d];
        for j in 0..h {
            let w1j = &w1[j * d..(j + 1) * d];
            let mut acc = 0.0;
            for t in 0..d {
                acc += w1j[t] * xs[t];
            }
            a[j] = (acc + b1[j]).tanh();
        }
        for c in 0..k {
            let w2c = &w2[c * h..(c + 1) * h];
            let mut acc = 0.0;
            for j in 0..h {
                acc += w2c[j] * a[j];
            }
            z[c] = acc + b2[c];
        }
        let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut se = 0.0;
        for zc in z.iter_mut() {
            *zc = (*zc - m).exp();
            se += *zc;
        }
        let y = labels[s];
        total += se.ln() - z[y].ln();
        // backward: dz = (softmax − onehot)/N
        let inv_se = inv_n / se;
        da.fill(0.0);
        for c in 0..k {
            let mut dz = z[c] * inv_se;
            if c == y {
                dz -= inv_n;
            }
            db2[c] += dz;
            let w2c = &w2[c * h..(c + 1) * h];
            let dw2c = &mut dw2[c * h..(c + 1) * h];
            for j in 0..h {
                dw2c[j] += dz * a[j];
                da[j] += dz * w2c[j];
            }
        }
        for j in 0..h {
            let dh = da[j] * (1.0 - a[j] * a[j]);
            db1[j] += dh;
            let dw1j = &mut dw1[j * d..(j + 1) * d];
            for t in 0..d {
                dw1j[t] += dh * xs[t];
            }
        }
    }
    total * inv_n
}

/// Generic re-implementation for the peers; `p` = `[w1, b1, w2, b2]`.
pub fn mlp_loss_generic<S: Scalar>(
    p: &[S],
    x: &[f64],
    labels: &[usize],
    d: usize,
    h: usize,
    k: usize,
) -> S {
    let (w1, rest) = p.split_at(h * d);
    let (b1, rest) = rest.split_at(h);
    let (w2, b2) = rest.split_at(k * h);
    let batch = labels.len();
    let mut total = p[0].cst(0.0);
    let mut a: Vec<S> = Vec::with_capacity(h);
    let mut z: Vec<S> = Vec::with_capacity(k);
    for s in 0..batch {
        a.clear();
        for j in 0..h {
            let mut acc = b1[j].clone();
            for t in 0..d {
                acc = acc + w1[j * d + t].clone() * x[s * d + t];
            }
            a.push(acc.tanh());
        }
        z.clear();
        for c in 0..k {
            let mut acc = b2[c].clone();
            for j in 0..h {
                acc = acc + w2[c * h + j].clone() * a[j].clone();
            }
            z.push(acc);
        }
        let mut m = z[0].clone();
        for zc in &z[1..] {
            m = m.max_s(zc.clone());
        }
        let mut se = p[0].cst(0.0);
        for zc in &z {
            se = se + (zc.clone() - m.clone()).exp();
        }
        total = total + se.ln() + m - z[labels[s]].clone();
    }
    total / batch as f64
}

/// Splits a flat `[w1, b1, w2, b2]` into its four parts.
pub fn split(p: &[f64], d: usize, h: usize, k: usize) -> (&[f64], &[f64], &[f64], &[f64]) {
    let (w1, rest) = p.split_at(h * d);
    let (b1, rest) = rest.split_at(h);
    let (w2, b2) = rest.split_at(k * h);
    (w1, b1, w2, b2)
}

/// num-dual: value and gradient over `[w1, b1, w2, b2]`.
pub fn mlp_loss_num_dual(data: &Data, params: &[f64]) -> (f64, Vec<f64>) {
    scalar::num_dual_gradient(params, |p| {
        mlp_loss_generic(p, &data.x, &data.labels, data.d, data.h, data.k)
    })
}

/// `reverse` tape: value and gradient over `[w1, b1, w2, b2]`.
pub fn mlp_loss_reverse(data: &Data, params: &[f64]) -> (f64, Vec<f64>) {
    scalar::reverse_gradient(params, |p| {
        mlp_loss_generic(p, &data.x, &data.labels, data.d, data.h, data.k)
    })
}

/// Central finite differences over `[w1, b1, w2, b2]`.
pub fn mlp_loss_fd(data: &Data, params: &mut [f64], grad: &mut [f64]) {
    let (d, h, k) = (data.d, data.h, data.k);
    crate::fd::central(params, grad, |p| {
        let (w1, b1, w2, b2) = split(p, d, h, k);
        mlp_loss(w1, b1, w2, b2, &data.x, &data.labels, d, h, k)
    });
}

/// Hand gradient flattened to `[w1, b1, w2, b2]`, with the value.
pub fn mlp_loss_hand_flat(data: &Data) -> (f64, Vec<f64>) {
    let (d, h, k) = (data.d, data.h, data.k);
    let mut g = vec![0.0; data.n_params()];
    let (dw1, rest) = g.split_at_mut(h * d);
    let (db1, rest) = rest.split_at_mut(h);
    let (dw2, db2) = rest.split_at_mut(k * h);
    let f = mlp_loss_hand(
        &data.w1,
        dw1,
        &data.b1,
        db1,
        &data.w2,
        dw2,
        &data.b2,
        db2,
        &data.x,
        &data.labels,
        d,
        h,
        k,
    );
    (f, g)
}

/// ad_trait's `ReverseAD` (global graph): value and gradient.
#[cfg(feature = "ad_trait")]
pub fn mlp_loss_ad_trait(data: &Data, params: &[f64]) -> (f64, Vec<f64>) {
    scalar::ad_trait_peer::gradient(params, |p| {
        mlp_loss_generic(p, &data.x, &data.labels, data.d, data.h, data.k)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::assert_grad_close;

    #[test]
    fn hand_matches_fd_and_peers() {
        let data = data(BATCH, D, H, K);
        let (f, g) = mlp_loss_hand_flat(&data);
        let f0 = mlp_loss(
            &data.w1,
            &data.b1,
            &data.w2,
            &data.b2,
            &data.x,
            &data.labels,
            D,
            H,
            K,
        );
        assert!((f - f0).abs() <= 1e-12 * f0.abs(), "{f} vs {f0}");
        let mut p = data.params();
        assert!((mlp_loss_generic(&p, &data.x, &data.labels, D, H, K) - f0).abs() <= 1e-12 * f0);
        let mut fd = vec![0.0; p.len()];
        mlp_loss_fd(&data, &mut p, &mut fd);
        assert_grad_close("fd", &fd, &g, 1e-7);
        let (fv, gr) = mlp_loss_reverse(&data, &p);
        assert!((fv - f).abs() <= 1e-12 * f.abs());
        assert_grad_close("reverse", &gr, &g, 1e-8);
    }

    #[test]
    fn num_dual_matches_hand() {
        // full size is slow for forward mode (2410 directions); a smaller batch suffices
        let data = data(16, D, H, K);
        let (f, g) = mlp_loss_hand_flat(&data);
        let (fv, gd) = mlp_loss_num_dual(&data, &data.params());
        assert!((fv - f).abs() <= 1e-12 * f.abs());
        assert_grad_close("num_dual", &gd, &g, 1e-8);
    }
}
