//! `gmm` against ADBench's golden objective and gradient. ADBench's prior
//! term P = Σ_k[½γ²(‖exp q_k‖² + ‖l_k‖²) − m Σ q_k] − k·C enters its objective
//! with + and GradBench's with −, so GradBench's value is ADBench's − 2P (P and
//! its gradient are written out below, independently of the tool).

mod common;
use autodiff_gradbench::evals::gmm::Gmm;
use autodiff_gradbench::Tool;
use common::*;

/// An ADBench file as a GradBench workload, with ADBench's prior P and ∇P
/// (in the golden layout [α, μ, icf]).
fn load(rel: &str) -> (Gmm, f64, Vec<f64>) {
    let v = numbers(&format!("data/gmm/{rel}"));
    let (d, k, n) = (v[0] as usize, v[1] as usize, v[2] as usize);
    let icf_sz = d * (d + 1) / 2;
    let mut at = 3;
    let mut take = |len: usize| {
        let s = v[at..at + len].to_vec();
        at += len;
        s
    };
    let alpha = take(k);
    let mu = take(d * k);
    let icf = take(k * icf_sz);
    let x = take(n * d);
    let wishart = take(2);
    let (gamma, m) = (wishart[0], wishart[1] as usize);
    let (mut q, mut l) = (Vec::new(), Vec::new());
    for c in icf.chunks(icf_sz) {
        q.extend_from_slice(&c[..d]);
        l.extend_from_slice(&c[d..]);
    }
    // P and ∇P
    let big_n = (d + m + 1) as f64;
    let mut lg = (d * (d - 1)) as f64 / 4.0 * std::f64::consts::PI.ln();
    for j in 1..=d {
        lg += autodiff_gradbench::evals::gmm::ln_gamma(0.5 * big_n + (1.0 - j as f64) / 2.0);
    }
    let c_const = big_n * d as f64 * (gamma.ln() - 0.5 * 2f64.ln()) - lg;
    let mut p = -(k as f64) * c_const;
    let mut dp = vec![0.0; k + k * d];
    for c in 0..k {
        for (j, &v) in icf[c * icf_sz..(c + 1) * icf_sz].iter().enumerate() {
            if j < d {
                p += 0.5 * gamma * gamma * (2.0 * v).exp() - m as f64 * v;
                dp.push(gamma * gamma * (2.0 * v).exp() - m as f64);
            } else {
                p += 0.5 * gamma * gamma * v * v;
                dp.push(gamma * gamma * v);
            }
        }
    }
    let g = Gmm {
        d,
        k,
        n,
        m,
        x,
        gamma,
        alpha,
        mu,
        q,
        l,
    };
    (g, p, dp)
}

/// Our gradient in ADBench's layout [α, μ, icf (q then l per component)].
fn adbench_layout(g: &Gmm, grad: &autodiff_gradbench::evals::gmm::Gradient) -> Vec<f64> {
    let tri = g.d * (g.d - 1) / 2;
    let mut out = grad.0.clone();
    out.extend_from_slice(&grad.1);
    for c in 0..g.k {
        out.extend_from_slice(&grad.2[c * g.d..(c + 1) * g.d]);
        out.extend_from_slice(&grad.3[c * tri..(c + 1) * tri]);
    }
    out
}

fn check(rel: &str, golden: &str) {
    let (g, p, dp) = load(rel);
    let f_golden = numbers(&format!("golden/{golden}_F_Manual.txt"))[0];
    let j_golden = numbers(&format!("golden/{golden}_J_Manual.txt"));
    let f = g.objective();
    assert!(
        rho(f + 2.0 * p, f_golden) < 1e-12,
        "{rel}: {} vs {f_golden}",
        f + 2.0 * p
    );
    let (f2, grad) = g.gradient();
    assert_eq!(f2, f, "primal unchanged");
    let got = adbench_layout(&g, &grad);
    let want: Vec<f64> = j_golden.iter().zip(&dp).map(|(j, d)| j - 2.0 * d).collect();
    assert_close(rel, &got, &want, 1e-10);
}

#[test]
fn adbench_test_instance() {
    check("test.txt", "gmm_test");
}

#[test]
fn adbench_1k() {
    check("1k/gmm_d2_K5.txt", "gmm_1k_d2_K5");
    check("1k/gmm_d10_K5.txt", "gmm_1k_d10_K5");
}

#[test]
fn adbench_10k() {
    check("10k/gmm_d2_K5.txt", "gmm_10k_d2_K5");
    check("10k/gmm_d10_K5.txt", "gmm_10k_d10_K5");
}

/// The tool's JSON: shapes and key set of `jacobian`, the objective's value.
#[test]
fn through_the_protocol() {
    let (g, p, _) = load("test.txt");
    let nest =
        |v: &[f64], len: usize| -> Vec<Vec<f64>> { v.chunks(len).map(<[f64]>::to_vec).collect() };
    let input = serde_json::json!({
        "d": g.d, "k": g.k, "n": g.n, "m": g.m, "gamma": g.gamma,
        "x": nest(&g.x, g.d), "alpha": g.alpha, "mu": nest(&g.mu, g.d),
        "q": nest(&g.q, g.d), "l": nest(&g.l, 1),
        "min_runs": 2, "min_seconds": 0.0,
    });
    let mut tool = Tool::default();
    tool.respond(r#"{"id":0,"kind":"define","module":"gmm"}"#);
    let msg = |id: usize, f: &str| {
        serde_json::json!({"id": id, "kind": "evaluate", "module": "gmm", "function": f, "input": input})
            .to_string()
    };
    let r: serde_json::Value = serde_json::from_str(&tool.respond(&msg(1, "objective"))).unwrap();
    assert_eq!(r["success"], true);
    assert_eq!(r["timings"].as_array().unwrap().len(), 2);
    let f = r["output"].as_f64().unwrap();
    let golden = numbers("golden/gmm_test_F_Manual.txt")[0];
    assert!(rho(f + 2.0 * p, golden) < 1e-12);
    let r: serde_json::Value = serde_json::from_str(&tool.respond(&msg(2, "jacobian"))).unwrap();
    let out = r["output"].as_object().unwrap();
    let mut keys: Vec<&str> = out.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["alpha", "l", "mu", "q"]);
    assert_eq!(out["alpha"].as_array().unwrap().len(), 3);
    assert_eq!(out["mu"][0].as_array().unwrap().len(), 2);
    assert_eq!(out["q"].as_array().unwrap().len(), 3);
    assert_eq!(out["l"][2].as_array().unwrap().len(), 1);
    let (_, grad) = g.gradient();
    assert_eq!(floats(&out["alpha"]), grad.0);
    assert_eq!(floats(&out["l"]), grad.3);
}
