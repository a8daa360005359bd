//! `gmm`: the log posterior of a Gaussian mixture with a Wishart prior on the
//! inverse covariance factors (GradBench's definition; its prior term has the
//! opposite sign of ADBench's, whose golden values the tests convert).

use super::lse::{logsumexp, logsumexp_adjoint, logsumexp_fwd};
use crate::protocol::{measure, parse, Evaluated, Runs};
use autodiff::differentiate;
use serde::Deserialize;
use serde_json::{json, Value};

/// The gradient: (α, μ, q, l), flat as the parameters.
pub type Gradient = (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>);

/// One workload, the nested JSON arrays flattened row-major.
#[derive(Debug, Clone)]
pub struct Gmm {
    pub d: usize,
    pub k: usize,
    pub n: usize,
    pub m: usize,
    /// n·d points
    pub x: Vec<f64>,
    pub gamma: f64,
    /// k log weights
    pub alpha: Vec<f64>,
    /// k·d means
    pub mu: Vec<f64>,
    /// k·d logs of the diagonal of Q
    pub q: Vec<f64>,
    /// k·d(d−1)/2 strictly lower parts of Q, column by column
    pub l: Vec<f64>,
}

#[derive(Deserialize)]
struct Input {
    d: usize,
    k: usize,
    n: usize,
    m: usize,
    x: Vec<Vec<f64>>,
    gamma: f64,
    alpha: Vec<f64>,
    mu: Vec<Vec<f64>>,
    q: Vec<Vec<f64>>,
    l: Vec<Vec<f64>>,
}

impl Gmm {
    fn from_input(i: Input) -> Result<Gmm, String> {
        let tri = i.d * i.d.saturating_sub(1) / 2;
        let flat = |rows: Vec<Vec<f64>>, count: usize, len: usize, what: &str| {
            if rows.len() != count || rows.iter().any(|r| r.len() != len) {
                return Err(format!("`{what}` must be [{count}][{len}]"));
            }
            Ok(rows.concat())
        };
        if i.alpha.len() != i.k {
            return Err(format!("`alpha` must have {} entries", i.k));
        }
        Ok(Gmm {
            x: flat(i.x, i.n, i.d, "x")?,
            mu: flat(i.mu, i.k, i.d, "mu")?,
            q: flat(i.q, i.k, i.d, "q")?,
            l: flat(i.l, i.k, tri, "l")?,
            d: i.d,
            k: i.k,
            n: i.n,
            m: i.m,
            gamma: i.gamma,
            alpha: i.alpha,
        })
    }

    /// The objective.
    pub fn objective(&self) -> f64 {
        objective(
            self.d,
            self.k,
            self.n,
            self.m,
            &self.x,
            self.gamma,
            &self.alpha,
            &self.mu,
            &self.q,
            &self.l,
        )
    }

    /// The objective and its gradient (α, μ, q, l), by the generated reverse mode.
    pub fn gradient(&self) -> (f64, Gradient) {
        objective_grad(
            self.d,
            self.k,
            self.n,
            self.m,
            &self.x,
            self.gamma,
            &self.alpha,
            &self.mu,
            &self.q,
            &self.l,
        )
    }
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
    let pi = std::f64::consts::PI;
    if x < 0.5 {
        // reflection: Γ(x)Γ(1−x) = π / sin(πx)
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + G + 0.5;
    let mut a = C[0];
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * pi).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// ln Γ_d(a), the multivariate gamma function.
pub fn ln_gamma_d(a: f64, d: usize) -> f64 {
    let mut out = (d * d.saturating_sub(1)) as f64 / 4.0 * std::f64::consts::PI.ln();
    for j in 1..=d {
        out += ln_gamma(a + (1.0 - j as f64) / 2.0);
    }
    out
}

/// The log posterior (GradBench's `gmm` objective).
#[allow(clippy::too_many_arguments)]
#[differentiate(wrt(alpha, mu, q, l))]
pub fn objective(
    d: usize,
    k: usize,
    n: usize,
    m: usize,
    x: &[f64],
    gamma: f64,
    alpha: &[f64],
    mu: &[f64],
    q: &[f64],
    l: &[f64],
) -> f64 {
    let tri = d * (d - 1) / 2;
    // the diagonals of the Q_k
    let mut qdiag = vec![0.0; k * d];
    for c in 0..k * d {
        qdiag[c] = q[c].exp();
    }
    let mut beta = vec![0.0; k];
    let mut xc = vec![0.0; d];
    let mut qx = vec![0.0; d];
    let mut slse = 0.0;
    for i in 0..n {
        let xi = &x[i * d..(i + 1) * d];
        for c in 0..k {
            let muc = &mu[c * d..(c + 1) * d];
            let diag = &qdiag[c * d..(c + 1) * d];
            let lc = &l[c * tri..(c + 1) * tri];
            // Q_k (x_i − μ_k), the strict lower part filled column by column
            for j in 0..d {
                xc[j] = xi[j] - muc[j];
                qx[j] = diag[j] * xc[j];
            }
            let mut li = 0;
            for col in 0..d {
                for row in col + 1..d {
                    qx[row] += lc[li] * xc[col];
                    li += 1;
                }
            }
            let sum_q: f64 = q[c * d..(c + 1) * d].iter().sum();
            let sq: f64 = qx.iter().map(|v| v * v).sum();
            beta[c] = alpha[c] + sum_q - 0.5 * sq;
        }
        slse += logsumexp(&beta);
    }

    // the Wishart prior
    let big_n = d + m + 1;
    let c_const =
        (big_n * d) as f64 * (gamma.ln() - 0.5 * 2.0f64.ln()) - ln_gamma_d(0.5 * big_n as f64, d);
    let mut prior = 0.0;
    for c in 0..k {
        let diag = &qdiag[c * d..(c + 1) * d];
        let lc = &l[c * tri..(c + 1) * tri];
        let frobenius: f64 =
            diag.iter().map(|v| v * v).sum::<f64>() + lc.iter().map(|v| v * v).sum::<f64>();
        let sum_q: f64 = q[c * d..(c + 1) * d].iter().sum();
        prior += 0.5 * gamma * gamma * frobenius - m as f64 * sum_q;
    }

    let log_2pi = (2.0 * std::f64::consts::PI).ln();
    -((n * d) as f64) / 2.0 * log_2pi + slse - n as f64 * logsumexp(alpha) + k as f64 * c_const
        - prior
}

/// A flat row-major array as `[rows][len]` JSON (`len` > 0).
fn rows(v: &[f64], len: usize) -> Value {
    json!(v.chunks(len).collect::<Vec<_>>())
}

pub fn evaluate(function: &str, input: &Value) -> Evaluated {
    let runs = Runs::of(input)?;
    let g = Gmm::from_input(parse(input)?)?;
    match function {
        "objective" => {
            let (y, t) = measure(runs, || g.objective());
            Ok((json!(y), t))
        }
        "jacobian" => {
            let ((_, (da, dmu, dq, dl)), t) = measure(runs, || g.gradient());
            let tri = g.d * g.d.saturating_sub(1) / 2;
            let dl = if tri == 0 {
                // d = 1: k empty rows
                json!(vec![Vec::<f64>::new(); g.k])
            } else {
                rows(&dl, tri)
            };
            let out = json!({ "alpha": da, "mu": rows(&dmu, g.d), "q": rows(&dq, g.d), "l": dl });
            Ok((out, t))
        }
        _ => super::unknown("gmm", function),
    }
}
