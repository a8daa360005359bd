//! `par_batch_gradient` over a generated adjoint: the same bits as the serial
//! chunked sum, and the gradient of one call over all samples up to the
//! reassociation of the sums.
#![allow(clippy::needless_range_loop)]

use autodiff::differentiate;
use autodiff::runtime::{batch_gradient, par_batch_gradient, Lbfgs, Stop};

#[differentiate(wrt(w))]
fn sq_loss(w: &[f64], x: &[f64], y: &[f64], n: usize) -> f64 {
    let mut total = 0.0;
    for i in 0..n {
        let p = w[0] * x[2 * i] + w[1] * x[2 * i + 1] + w[2];
        total += (p.tanh() - y[i]) * (p.tanh() - y[i]);
    }
    total
}

fn data(n: usize) -> (Vec<f64>, Vec<f64>) {
    let x: Vec<f64> = (0..2 * n)
        .map(|i| ((i * 7919) % 1013) as f64 / 1013.0 - 0.5)
        .collect();
    let y: Vec<f64> = (0..n)
        .map(|i| (0.8 * x[2 * i] - 0.3 * x[2 * i + 1] + 0.1).tanh())
        .collect();
    (x, y)
}

#[test]
fn parallel_chunks_match_serial_and_whole() {
    let n = 5000;
    let (x, y) = data(n);
    let w = [0.3, 0.2, -0.1];
    let chunk = |r: std::ops::Range<usize>, w: &[f64], g: &mut [f64]| {
        sq_loss_adjoint(
            w,
            g,
            &x[2 * r.start..2 * r.end],
            &y[r.clone()],
            r.len(),
            1.0,
        )
    };
    let mut gp = vec![0.0; 3];
    let mut gs = vec![0.0; 3];
    let vp = par_batch_gradient(&w, &mut gp, n, 64, chunk);
    let vs = batch_gradient(&w, &mut gs, n, 64, chunk);
    assert_eq!(vp.to_bits(), vs.to_bits());
    assert_eq!(gp, gs);
    let (v1, g1) = sq_loss_grad(&w, &x, &y, n);
    assert!((vp - v1).abs() <= 1e-12 * v1);
    for j in 0..3 {
        assert!((gp[j] - g1[j]).abs() <= 1e-11 * g1[j].abs().max(1.0), "{j}");
    }
    // repeated runs: the same bits
    for _ in 0..5 {
        let mut g = vec![0.0; 3];
        assert_eq!(
            par_batch_gradient(&w, &mut g, n, 64, chunk).to_bits(),
            vp.to_bits()
        );
        assert_eq!(g, gp);
    }
    // and an optimiser on it recovers the generating weights
    let report = Lbfgs::new()
        .with_stop(Stop::new().grad_tol(1e-10).max_iters(200))
        .minimize(|w, g| par_batch_gradient(w, g, n, 256, chunk), &[0.0; 3])
        .unwrap();
    let want = [0.8, -0.3, 0.1];
    for j in 0..3 {
        assert!((report.x[j] - want[j]).abs() < 1e-6, "{:?}", report.x);
    }
}
