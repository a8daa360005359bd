//! Nonlinear least squares on a generated Jacobian: the Michaelis–Menten
//! curve v = Vmax·S / (K + S) fitted to the treated half of the classic
//! Puromycin enzyme-kinetics data (Treloar 1974; R's `datasets::Puromycin`).
//!
//! The residuals are one ordinary Rust function writing into an
//! out-parameter; `#[differentiate(wrt(p))]` writes `residuals_jacobian`
//! (here 12 rows × 2 columns, by forward sweeps carrying both columns at
//! once) and the runtime's Levenberg–Marquardt solver minimises ½‖r‖² with it.
//! The standard errors come from s²(JᵀJ)⁻¹ at the optimum, as in R's `nls`,
//! whose published estimates are printed beside ours. The data and the fitted
//! curve go to `target/curve_fit.png`.
//!
//! Run (release mode, instant):
//!
//! ```text
//! cargo run --release --example curve_fit
//! ```

mod common;

use autodiff::differentiate;
use autodiff::runtime::{LevenbergMarquardt, ReturnsJacobian, Stop};

/// Residuals of the Michaelis–Menten model: `out[i] = Vmax·S_i/(K + S_i) − v_i`.
#[differentiate(wrt(p))]
fn residuals(p: &[f64], conc: &[f64], rate: &[f64], out: &mut [f64]) {
    let (vmax, k) = (p[0], p[1]);
    for i in 0..conc.len() {
        out[i] = vmax * conc[i] / (k + conc[i]) - rate[i];
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Puromycin, state = "treated": substrate concentration (ppm), rate (counts/min²)
    let conc = [
        0.02, 0.02, 0.06, 0.06, 0.11, 0.11, 0.22, 0.22, 0.56, 0.56, 1.10, 1.10,
    ];
    let rate = [
        76.0, 47.0, 97.0, 107.0, 123.0, 139.0, 159.0, 152.0, 191.0, 201.0, 207.0, 200.0,
    ];

    // The generated Jacobian at the start, against central differences.
    let p0 = [200.0, 0.1];
    let mut r = [0.0; 12];
    let jac = residuals_jacobian(&p0, &conc, &rate, &mut r);
    let mut worst: f64 = 0.0;
    for j in 0..2 {
        let h = 1e-6 * p0[j].abs();
        let (mut pp, mut pm) = (p0, p0);
        pp[j] += h;
        pm[j] -= h;
        let (mut rp, mut rm) = ([0.0; 12], [0.0; 12]);
        residuals(&pp, &conc, &rate, &mut rp);
        residuals(&pm, &conc, &rate, &mut rm);
        for i in 0..12 {
            let fd = (rp[i] - rm[i]) / (2.0 * h);
            worst = worst.max((jac[i * 2 + j] - fd).abs() / (1.0 + fd.abs()));
        }
    }
    println!("Jacobian 12×2 at (Vmax, K) = (200, 0.1): worst relative difference from central differences {worst:.1e}");

    let fit = LevenbergMarquardt::new()
        .with_stop(Stop::new().grad_tol(1e-10).max_iters(200))
        .minimize(
            ReturnsJacobian(|p: &[f64], r: &mut [f64]| residuals_jacobian(p, &conc, &rate, r)),
            &p0,
            conc.len(),
        )?;
    let report = &fit.report;
    let se = fit
        .standard_errors()
        .ok_or("the Jacobian is rank-deficient")?;
    println!(
        "Levenberg–Marquardt: {} iterations, {:?}, residual sum of squares {:.2}",
        report.iterations,
        report.stop_reason,
        fit.ssr()
    );
    println!("\n            estimate   std. error   R nls (estimate, std. error)");
    println!(
        "  Vmax    {:>10.3}   {:>10.4}   212.7, 6.947",
        report.x[0], se[0]
    );
    println!(
        "  K       {:>10.5}   {:>10.6}   0.06412, 0.008281",
        report.x[1], se[1]
    );

    let (vmax, k) = (report.x[0], report.x[1]);
    let curve: Vec<(f64, f64)> = (0..=200)
        .map(|i| {
            let s = 1.15 * i as f64 / 200.0;
            (s, vmax * s / (k + s))
        })
        .collect();
    let data: Vec<(f64, f64)> = conc.iter().copied().zip(rate.iter().copied()).collect();
    let png = common::target_path("curve_fit.png");
    common::plot_fit(
        &png,
        "Michaelis–Menten fit to Puromycin (treated)",
        (
            "substrate concentration (ppm)",
            "reaction rate (counts/min²)",
        ),
        &data,
        &curve,
        &format!("v = {vmax:.1}·S / ({k:.4} + S)"),
    )?;
    println!("\nplot: {}", png.display());
    Ok(())
}
