//! Levenberg–Marquardt over a generated `_jacobian`: the Puromycin
//! Michaelis–Menten fit reproduces R's `nls` estimates and standard errors,
//! and exact data recovers the generating parameters; the same fit over a model
//! struct (`minimize_struct`) is the same run.

use autodiff::runtime::{LevenbergMarquardt, ReturnsJacobian, Stop};
use autodiff::{differentiate, Differentiable};

#[differentiate(wrt(p))]
fn michaelis_menten(p: &[f64], conc: &[f64], rate: &[f64], out: &mut [f64]) {
    for i in 0..conc.len() {
        out[i] = p[0] * conc[i] / (p[1] + conc[i]) - rate[i];
    }
}

#[differentiate(wrt(p))]
fn decay(p: &[f64], t: &[f64], y: &[f64], out: &mut [f64]) {
    for i in 0..t.len() {
        out[i] = p[0] * (-p[1] * t[i]).exp() + p[2] - y[i];
    }
}

#[test]
fn puromycin_matches_r_nls() {
    let conc = [
        0.02, 0.02, 0.06, 0.06, 0.11, 0.11, 0.22, 0.22, 0.56, 0.56, 1.10, 1.10,
    ];
    let rate = [
        76.0, 47.0, 97.0, 107.0, 123.0, 139.0, 159.0, 152.0, 191.0, 201.0, 207.0, 200.0,
    ];
    let fit = LevenbergMarquardt::new()
        .with_stop(Stop::new().grad_tol(1e-10).max_iters(200))
        .minimize(
            ReturnsJacobian(|p: &[f64], r: &mut [f64]| {
                michaelis_menten_jacobian(p, &conc, &rate, r)
            }),
            &[200.0, 0.1],
            conc.len(),
        )
        .unwrap();
    let se = fit.standard_errors().unwrap();
    // R: Vm 2.127e+02 (6.947e+00), K 6.412e-02 (8.281e-03); residual SE 10.93 on 10 df
    let close = |a: f64, b: f64, rel: f64| (a - b).abs() <= rel * b.abs();
    assert!(close(fit.report.x[0], 212.68, 1e-4), "{:?}", fit.report.x);
    assert!(close(fit.report.x[1], 0.06412, 1e-3), "{:?}", fit.report.x);
    assert!(
        close(se[0], 6.947, 1e-3) && close(se[1], 0.008281, 1e-3),
        "{se:?}"
    );
    assert!(close((fit.ssr() / 10.0).sqrt(), 10.93, 1e-3));
}

#[test]
fn exact_data_recovers_parameters() {
    let t: Vec<f64> = (0..30).map(|i| i as f64 * 0.2).collect();
    let y: Vec<f64> = t.iter().map(|t| 3.0 * (-0.7 * t).exp() + 0.5).collect();
    let fit = LevenbergMarquardt::new()
        .with_stop(Stop::new().grad_tol(1e-13).max_iters(200))
        .minimize(
            ReturnsJacobian(|p: &[f64], r: &mut [f64]| decay_jacobian(p, &t, &y, r)),
            &[1.0, 1.0, 0.0],
            t.len(),
        )
        .unwrap();
    for (got, want) in fit.report.x.iter().zip([3.0, 0.7, 0.5]) {
        assert!((got - want).abs() < 1e-8, "{:?}", fit.report.x);
    }
}

/// The model as a struct: the Jacobian's columns are its floats in declaration
/// order, `LevenbergMarquardt::minimize_struct` fits it whole.
#[derive(Clone, Debug, PartialEq, Differentiable)]
struct MichaelisMenten {
    vm: f64,
    k: f64,
    name: &'static str,
}

#[differentiate(wrt(p))]
fn mm_struct(p: &MichaelisMenten, conc: &[f64], rate: &[f64], out: &mut [f64]) {
    for i in 0..conc.len() {
        out[i] = p.vm * conc[i] / (p.k + conc[i]) - rate[i];
    }
}

#[test]
fn puromycin_over_a_struct_matches_the_slice_fit() {
    let conc = [
        0.02, 0.02, 0.06, 0.06, 0.11, 0.11, 0.22, 0.22, 0.56, 0.56, 1.10, 1.10,
    ];
    let rate = [
        76.0, 47.0, 97.0, 107.0, 123.0, 139.0, 159.0, 152.0, 191.0, 201.0, 207.0, 200.0,
    ];
    let stop = || Stop::new().grad_tol(1e-10).max_iters(200);
    let x0 = MichaelisMenten {
        vm: 200.0,
        k: 0.1,
        name: "puromycin",
    };
    // the struct's Jacobian is the slice function's, column for column
    let (mut r1, mut r2) = ([0.0; 12], [0.0; 12]);
    let j_struct = mm_struct_jacobian(&x0, &conc, &rate, &mut r1);
    let j_slice = michaelis_menten_jacobian(&[200.0, 0.1], &conc, &rate, &mut r2);
    assert_eq!((j_struct, r1), (j_slice, r2));

    let fit = LevenbergMarquardt::new()
        .with_stop(stop())
        .minimize_struct(
            |p: &MichaelisMenten, r: &mut [f64]| mm_struct_jacobian(p, &conc, &rate, r),
            &x0,
            conc.len(),
        )
        .unwrap();
    let flat = LevenbergMarquardt::new()
        .with_stop(stop())
        .minimize(
            ReturnsJacobian(|p: &[f64], r: &mut [f64]| {
                michaelis_menten_jacobian(p, &conc, &rate, r)
            }),
            &[200.0, 0.1],
            conc.len(),
        )
        .unwrap();
    assert_eq!(fit.fit, flat, "the same run");
    assert_eq!(fit.params.name, "puromycin");
    assert_eq!(
        [fit.params.vm, fit.params.k],
        [flat.report.x[0], flat.report.x[1]]
    );
    // R: Vm 2.127e+02 (6.947e+00), K 6.412e-02 (8.281e-03)
    let se = fit.standard_errors().unwrap();
    assert!((fit.params.vm - 212.68).abs() < 0.03 && (se[1] - 0.008281).abs() < 1e-5);
}
