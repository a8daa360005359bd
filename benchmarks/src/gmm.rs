//! Problem 4: ADBench's Gaussian mixture model objective (negative
//! log-likelihood with a Wishart prior), following ADBench's C++ reference
//! `gmm_objective` (src/cpp/shared/gmm.h): log-sum-exp with the max trick,
//! Q·(x − μ) through the icf layout (log-diagonal first, then the strictly lower
//! part column by column), the Wishart prior and its log-gamma constant.
//!
//! Gradient layout (as in ADBench's golden files): `[alphas (k), means (d·k), icf (k·d(d+1)/2)]`.

use crate::scalar::{self, Scalar};
use autodiff::differentiate;
use std::path::Path;

/// One GMM instance as read from an ADBench file.
#[derive(Debug, Clone)]
pub struct Data {
    pub d: usize,
    pub k: usize,
    pub n: usize,
    /// k log mixture weights (unnormalised)
    pub alphas: Vec<f64>,
    /// d*k means, component-major
    pub means: Vec<f64>,
    /// k*d(d+1)/2 inverse covariance factors
    pub icf: Vec<f64>,
    /// d*n points
    pub x: Vec<f64>,
    /// Wishart prior γ
    pub gamma: f64,
    /// Wishart prior m
    pub m: usize,
}

impl Data {
    /// `[alphas, means, icf]` flattened (the gradient layout).
    pub fn params(&self) -> Vec<f64> {
        let mut p = self.alphas.clone();
        p.extend_from_slice(&self.means);
        p.extend_from_slice(&self.icf);
        p
    }

    /// Number of active parameters.
    pub fn n_params(&self) -> usize {
        self.k + self.d * self.k + self.k * self.d * (self.d + 1) / 2
    }
}

/// Reads an ADBench GMM file: `d k n`, k α, k·d means, k·d(d+1)/2 icf, n·d points, `γ m`.
pub fn load(path: &Path) -> Data {
    let v = crate::util::read_numbers(path);
    let (d, k, n) = (v[0] as usize, v[1] as usize, v[2] as usize);
    let icf_sz = d * (d + 1) / 2;
    let mut at = 3;
    let mut take = |len: usize| {
        let s = v[at..at + len].to_vec();
        at += len;
        s
    };
    let alphas = take(k);
    let means = take(d * k);
    let icf = take(icf_sz * k);
    let x = take(d * n);
    let w = take(2);
    Data {
        d,
        k,
        n,
        alphas,
        means,
        icf,
        x,
        gamma: w[0],
        m: w[1] as usize,
    }
}

/// Loads `data/gmm/<rel>` of the ADBench folder, e.g. `"1k/gmm_d2_K5.txt"`.
pub fn load_adbench(rel: &str) -> Data {
    load(&crate::util::adbench_dir().join("data/gmm").join(rel))
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; relative error about 1e-15).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // reflection: Γ(x)Γ(1−x) = π / sin(πx)
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Log of the multivariate gamma function Γ_p(a) (passive: only sizes and constants).
pub fn log_gamma_distrib(a: f64, p: usize) -> f64 {
    let mut out = 0.25 * (p * (p - 1)) as f64 * std::f64::consts::PI.ln();
    for j in 1..=p {
        out += ln_gamma(a + 0.5 * (1.0 - j as f64));
    }
    out
}

// ---------------------------------------------------------------------------
// The objective, in the macro's subset.
// `#[differentiate]` on `logsumexp` and `log_wishart_prior` (all of its float
// parameters active: `gmm_objective` passes a shadow for every float argument,
// also the data `gamma`), and `#[differentiate(wrt(alphas, means, icf), order = 2)]` on
// `gmm_objective`. `log_gamma_distrib` and `ln_gamma` stay passive.
// ---------------------------------------------------------------------------

/// log Σᵢ exp(vᵢ), with the max trick (ADBench `logsumexp`).
#[differentiate(order = 2)]
pub fn logsumexp(v: &[f64]) -> f64 {
    let n = v.len();
    let mut mx = v[0];
    for i in 1..n {
        mx = mx.max(v[i]);
    }
    let mut semx = 0.0;
    for i in 0..n {
        semx += (v[i] - mx).exp();
    }
    semx.ln() + mx
}

/// ADBench `log_wishart_prior`: Σₖ [½γ²(‖exp qₖ‖² + ‖lₖ‖²) − m Σ qₖ] − k·C.
/// `qdiags`: d*k values exp(q), `sum_qs`: k sums of q.
#[differentiate(order = 2)]
pub fn log_wishart_prior(
    qdiags: &[f64],
    sum_qs: &[f64],
    icf: &[f64],
    d: usize,
    k: usize,
    gamma: f64,
    m: usize,
) -> f64 {
    let n = d + m + 1;
    let icf_sz = d * (d + 1) / 2;
    let c =
        (n * d) as f64 * (gamma.ln() - 0.5 * 2.0f64.ln()) - log_gamma_distrib(0.5 * n as f64, d);
    let mut out = 0.0;
    for ik in 0..k {
        let mut frobenius = 0.0;
        for id in 0..d {
            frobenius += qdiags[ik * d + id] * qdiags[ik * d + id];
        }
        for j in d..icf_sz {
            frobenius += icf[ik * icf_sz + j] * icf[ik * icf_sz + j];
        }
        out += 0.5 * gamma * gamma * frobenius - m as f64 * sum_qs[ik];
    }
    out - k as f64 * c
}

/// ADBench `gmm_objective`. `alphas`: k, `means`: d*k, `icf`: k*d(d+1)/2,
/// `x`: d*n points; Wishart prior (`gamma`, `m`).
#[differentiate(wrt(alphas, means, icf), order = 2)]
pub fn gmm_objective(
    d: usize,
    k: usize,
    n: usize,
    alphas: &[f64],
    means: &[f64],
    icf: &[f64],
    x: &[f64],
    gamma: f64,
    m: usize,
) -> f64 {
    let constant = -((n * d) as f64) * 0.5 * (2.0 * std::f64::consts::PI).ln();
    let icf_sz = d * (d + 1) / 2;

    // preprocess_qs
    let mut qdiags = vec![0.0; d * k];
    let mut sum_qs = vec![0.0; k];
    for ik in 0..k {
        for id in 0..d {
            let q = icf[ik * icf_sz + id];
            sum_qs[ik] += q;
            qdiags[ik * d + id] = q.exp();
        }
    }

    let mut xcentered = vec![0.0; d];
    let mut qxcentered = vec![0.0; d];
    let mut main_term = vec![0.0; k];
    let mut slse = 0.0;
    for ix in 0..n {
        for ik in 0..k {
            // subtract
            for id in 0..d {
                xcentered[id] = x[ix * d + id] - means[ik * d + id];
            }
            // Qtimesx: diagonal, then the strictly lower part column by column
            for id in 0..d {
                qxcentered[id] = qdiags[ik * d + id] * xcentered[id];
            }
            let mut lparamsidx = d;
            for i in 0..d {
                for j in i + 1..d {
                    qxcentered[j] += icf[ik * icf_sz + lparamsidx] * xcentered[i];
                    lparamsidx += 1;
                }
            }
            // sqnorm
            let mut sqnorm = 0.0;
            for id in 0..d {
                sqnorm += qxcentered[id] * qxcentered[id];
            }
            main_term[ik] = alphas[ik] + sum_qs[ik] - 0.5 * sqnorm;
        }
        slse += logsumexp(&main_term);
    }

    let lse_alphas = logsumexp(alphas);
    constant + slse - n as f64 * lse_alphas
        + log_wishart_prior(&qdiags, &sum_qs, icf, d, k, gamma, m)
}

/// Hand-written reverse mode: overwrites `dalphas`, `dmeans`, `dicf` with the
/// gradient and returns the objective.
pub fn gmm_objective_hand(
    d: usize,
    k: usize,
    n: usize,
    alphas: &[f64],
    dalphas: &mut [f64],
    means: &[f64],
    dmeans: &mut [f64],
    icf: &[f64],
    dicf: &mut [f64],
    x: &[f64],
    gamma: f64,
    m: usize,
) -> f64 {
    let icf_sz = d * (d + 1) / 2;
    let mf = m as f64;
    let g2 = gamma * gamma;
    dalphas.fill(0.0);
    dmeans.fill(0.0);
    dicf.fill(0.0);

    // per component: exp(q) and Σq; prior and its gradient
    let mut qdiags = vec![0.0; d * k];
    let mut sum_qs = vec![0.0; k];
    let mut prior = 0.0;
    for ik in 0..k {
        let q = &icf[ik * icf_sz..(ik + 1) * icf_sz];
        let dq = &mut dicf[ik * icf_sz..(ik + 1) * icf_sz];
        let mut sq = 0.0;
        let mut frob = 0.0;
        for id in 0..d {
            let e = q[id].exp();
            qdiags[ik * d + id] = e;
            sq += q[id];
            frob += e * e;
            dq[id] = g2 * e * e - mf;
        }
        for j in d..icf_sz {
            frob += q[j] * q[j];
            dq[j] = g2 * q[j];
        }
        sum_qs[ik] = sq;
        prior += 0.5 * g2 * frob - mf * sq;
    }

    let mut xc = vec![0.0; k * d];
    let mut y = vec![0.0; k * d];
    let mut main = vec![0.0; k];
    let mut wsum = vec![0.0; k];
    let mut slse = 0.0;
    for ix in 0..n {
        let xi = &x[ix * d..(ix + 1) * d];
        let mut mx = f64::NEG_INFINITY;
        for ik in 0..k {
            let mu = &means[ik * d..(ik + 1) * d];
            let qd = &qdiags[ik * d..(ik + 1) * d];
            let l = &icf[ik * icf_sz + d..(ik + 1) * icf_sz];
            let xck = &mut xc[ik * d..(ik + 1) * d];
            let yk = &mut y[ik * d..(ik + 1) * d];
            for id in 0..d {
                let c = xi[id] - mu[id];
                xck[id] = c;
                yk[id] = qd[id] * c;
            }
            let mut li = 0;
            for i in 0..d {
                let ci = xck[i];
                for yj in yk[i + 1..].iter_mut() {
                    *yj += l[li] * ci;
                    li += 1;
                }
            }
            let mut sq = 0.0;
            for v in yk.iter() {
                sq += v * v;
            }
            let mt = alphas[ik] + sum_qs[ik] - 0.5 * sq;
            main[ik] = mt;
            mx = mx.max(mt);
        }
        let mut se = 0.0;
        for mt in main.iter_mut() {
            *mt = (*mt - mx).exp();
            se += *mt;
        }
        slse += se.ln() + mx;
        let inv_se = 1.0 / se;
        // backward through logsumexp and Q(x − μ)
        for ik in 0..k {
            let p = main[ik] * inv_se;
            wsum[ik] += p;
            let qd = &qdiags[ik * d..(ik + 1) * d];
            let xck = &xc[ik * d..(ik + 1) * d];
            let yk = &mut y[ik * d..(ik + 1) * d];
            let dq = &mut dicf[ik * icf_sz..(ik + 1) * icf_sz];
            let dmu = &mut dmeans[ik * d..(ik + 1) * d];
            let l = &icf[ik * icf_sz + d..(ik + 1) * icf_sz];
            // dy = −p·y (stored in place)
            for id in 0..d {
                let dy = -p * yk[id];
                yk[id] = dy;
                dq[id] += dy * qd[id] * xck[id];
            }
            let mut li = 0;
            for i in 0..d {
                // dxc[i] = D_i dy_i + Σ_{j>i} L_ji dy_j
                let mut dxci = qd[i] * yk[i];
                let ci = xck[i];
                for j in i + 1..d {
                    let dyj = yk[j];
                    dq[d + li] += dyj * ci;
                    dxci += l[li] * dyj;
                    li += 1;
                }
                dmu[i] -= dxci;
            }
        }
    }

    // −n·logsumexp(α)
    let amx = alphas.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut ase = 0.0;
    for a in alphas {
        ase += (a - amx).exp();
    }
    let lse_alphas = ase.ln() + amx;
    for ik in 0..k {
        dalphas[ik] = wsum[ik] - n as f64 * (alphas[ik] - amx).exp() / ase;
        let dq = &mut dicf[ik * icf_sz..ik * icf_sz + d];
        for v in dq.iter_mut() {
            *v += wsum[ik];
        }
    }

    let nn = d + m + 1;
    let c =
        (nn * d) as f64 * (gamma.ln() - 0.5 * 2.0f64.ln()) - log_gamma_distrib(0.5 * nn as f64, d);
    let constant = -((n * d) as f64) * 0.5 * (2.0 * std::f64::consts::PI).ln();
    constant + slse - n as f64 * lse_alphas + prior - k as f64 * c
}

/// Generic re-implementation for the peers; `p` = `[alphas, means, icf]`.
pub fn gmm_objective_generic<S: Scalar>(data: &Data, p: &[S]) -> S {
    let (d, k, n) = (data.d, data.k, data.n);
    let icf_sz = d * (d + 1) / 2;
    let (alphas, rest) = p.split_at(k);
    let (means, icf) = rest.split_at(d * k);
    let x = &data.x;
    let zero = p[0].cst(0.0);

    let lse = |v: &[S]| -> S {
        let mut mx = v[0].clone();
        for vi in &v[1..] {
            mx = mx.max_s(vi.clone());
        }
        let mut s = zero.clone();
        for vi in v {
            s = s + (vi.clone() - mx.clone()).exp();
        }
        s.ln() + mx
    };

    let mut qdiags = Vec::with_capacity(d * k);
    let mut sum_qs = Vec::with_capacity(k);
    for ik in 0..k {
        let mut s = zero.clone();
        for id in 0..d {
            let q = icf[ik * icf_sz + id].clone();
            s = s + q.clone();
            qdiags.push(q.exp());
        }
        sum_qs.push(s);
    }

    let mut xc: Vec<S> = Vec::with_capacity(d);
    let mut qx: Vec<S> = Vec::with_capacity(d);
    let mut main: Vec<S> = Vec::with_capacity(k);
    let mut slse = zero.clone();
    for ix in 0..n {
        main.clear();
        for ik in 0..k {
            xc.clear();
            qx.clear();
            for id in 0..d {
                xc.push(-(means[ik * d + id].clone() - x[ix * d + id]));
            }
            for id in 0..d {
                qx.push(qdiags[ik * d + id].clone() * xc[id].clone());
            }
            let mut li = d;
            for i in 0..d {
                for j in i + 1..d {
                    qx[j] = qx[j].clone() + icf[ik * icf_sz + li].clone() * xc[i].clone();
                    li += 1;
                }
            }
            let mut sq = zero.clone();
            for v in &qx {
                sq = sq + v.clone() * v.clone();
            }
            main.push(alphas[ik].clone() + sum_qs[ik].clone() - sq * 0.5);
        }
        slse = slse + lse(&main);
    }
    let lse_alphas = lse(alphas);

    let (gamma, m) = (data.gamma, data.m);
    let nn = d + m + 1;
    let c =
        (nn * d) as f64 * (gamma.ln() - 0.5 * 2.0f64.ln()) - log_gamma_distrib(0.5 * nn as f64, d);
    let mut prior = zero.clone();
    for ik in 0..k {
        let mut frob = zero.clone();
        for id in 0..d {
            frob = frob + qdiags[ik * d + id].clone() * qdiags[ik * d + id].clone();
        }
        for j in d..icf_sz {
            frob = frob + icf[ik * icf_sz + j].clone() * icf[ik * icf_sz + j].clone();
        }
        prior = prior + frob * (0.5 * gamma * gamma) - sum_qs[ik].clone() * m as f64;
    }
    let constant = -((n * d) as f64) * 0.5 * (2.0 * std::f64::consts::PI).ln();
    slse - lse_alphas * n as f64 + prior + (constant - k as f64 * c)
}

/// The plain objective on a flat `[alphas, means, icf]`.
pub fn gmm_objective_flat(data: &Data, p: &[f64]) -> f64 {
    let (d, k) = (data.d, data.k);
    let (alphas, rest) = p.split_at(k);
    let (means, icf) = rest.split_at(d * k);
    gmm_objective(
        d, k, data.n, alphas, means, icf, &data.x, data.gamma, data.m,
    )
}

/// Hand gradient into a flat `[alphas, means, icf]` buffer (overwritten); returns the value.
pub fn gmm_objective_hand_flat(data: &Data, grad: &mut [f64]) -> f64 {
    let (d, k) = (data.d, data.k);
    let (da, rest) = grad.split_at_mut(k);
    let (dm, di) = rest.split_at_mut(d * k);
    gmm_objective_hand(
        d,
        k,
        data.n,
        &data.alphas,
        da,
        &data.means,
        dm,
        &data.icf,
        di,
        &data.x,
        data.gamma,
        data.m,
    )
}

/// num-dual: value and gradient over `[alphas, means, icf]`.
pub fn gmm_objective_num_dual(data: &Data, params: &[f64]) -> (f64, Vec<f64>) {
    scalar::num_dual_gradient(params, |p| gmm_objective_generic(data, p))
}

/// `reverse` tape: value and gradient over `[alphas, means, icf]`.
pub fn gmm_objective_reverse(data: &Data, params: &[f64]) -> (f64, Vec<f64>) {
    scalar::reverse_gradient(params, |p| gmm_objective_generic(data, p))
}

/// Central finite differences over `[alphas, means, icf]`.
pub fn gmm_objective_fd(data: &Data, params: &mut [f64], grad: &mut [f64]) {
    crate::fd::central(params, grad, |p| gmm_objective_flat(data, p));
}

/// ad_trait's `ReverseAD` (global graph): value and gradient.
#[cfg(feature = "ad_trait")]
pub fn gmm_objective_ad_trait(data: &Data, params: &[f64]) -> (f64, Vec<f64>) {
    scalar::ad_trait_peer::gradient(params, |p| gmm_objective_generic(data, p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::{assert_grad_close, max_rho, read_golden, rho};

    fn check_golden(file: &str, tag: &str) -> (f64, f64) {
        let data = load_adbench(file);
        let f_gold = read_golden(&format!("gmm_{tag}_F_Manual.txt"))[0];
        let j_gold = read_golden(&format!("gmm_{tag}_J_Manual.txt"));
        let f = gmm_objective(
            data.d,
            data.k,
            data.n,
            &data.alphas,
            &data.means,
            &data.icf,
            &data.x,
            data.gamma,
            data.m,
        );
        let mut g = vec![f64::NAN; data.n_params()];
        let fh = gmm_objective_hand_flat(&data, &mut g);
        let rf = rho(f, f_gold).max(rho(fh, f_gold));
        let rj = max_rho(&g, &j_gold);
        eprintln!("gmm {tag}: rho(F) = {rf:e}, max rho(J) = {rj:e}");
        assert!(rf < 1e-8, "{tag}: objective {f} / {fh} vs golden {f_gold}");
        assert!(rj < 1e-8, "{tag}: gradient rho {rj:e}");
        (rf, rj)
    }

    #[test]
    fn ln_gamma_values() {
        assert!((ln_gamma(1.0)).abs() < 1e-14);
        assert!((ln_gamma(0.5) - 0.5 * std::f64::consts::PI.ln()).abs() < 1e-14);
        assert!((ln_gamma(10.0) - 362880f64.ln()).abs() < 1e-12);
        assert!((ln_gamma(6.5) - 287.885_277_815_044_3f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn golden_test_instance() {
        check_golden("test.txt", "test");
    }

    #[test]
    fn golden_1k_d2_k5() {
        check_golden("1k/gmm_d2_K5.txt", "1k_d2_K5");
    }

    #[test]
    fn golden_1k_d10_k5() {
        check_golden("1k/gmm_d10_K5.txt", "1k_d10_K5");
    }

    #[test]
    fn golden_10k() {
        check_golden("10k/gmm_d2_K5.txt", "10k_d2_K5");
        check_golden("10k/gmm_d10_K5.txt", "10k_d10_K5");
    }

    #[test]
    fn peers_match_hand_d2() {
        let data = load_adbench("1k/gmm_d2_K5.txt");
        let mut g = vec![0.0; data.n_params()];
        let f = gmm_objective_hand_flat(&data, &mut g);
        let mut p = data.params();
        assert!(rho(gmm_objective_generic(&data, &p), f) < 1e-12);
        let (fv, gd) = gmm_objective_num_dual(&data, &p);
        assert!(rho(fv, f) < 1e-12);
        assert_grad_close("num_dual", &gd, &g, 1e-8);
        let (fv, gr) = gmm_objective_reverse(&data, &p);
        assert!(rho(fv, f) < 1e-12);
        assert_grad_close("reverse", &gr, &g, 1e-8);
        let mut fd = vec![0.0; p.len()];
        gmm_objective_fd(&data, &mut p, &mut fd);
        assert_grad_close("fd", &fd, &g, 1e-6);
    }

    #[test]
    fn peers_match_hand_d10() {
        let data = load_adbench("1k/gmm_d10_K5.txt");
        let mut g = vec![0.0; data.n_params()];
        let f = gmm_objective_hand_flat(&data, &mut g);
        let mut p = data.params();
        let (fv, gr) = gmm_objective_reverse(&data, &p);
        assert!(rho(fv, f) < 1e-12);
        assert_grad_close("reverse", &gr, &g, 1e-8);
        let mut fd = vec![0.0; p.len()];
        gmm_objective_fd(&data, &mut p, &mut fd);
        assert_grad_close("fd", &fd, &g, 1e-6);
        let (fv, gd) = gmm_objective_num_dual(&data, &p);
        assert!(rho(fv, f) < 1e-12);
        assert_grad_close("num_dual", &gd, &g, 1e-8);
    }
}
