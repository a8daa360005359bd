//! Second order: `f_hvp` against `f_adjoint` (the target: an HVP costs
//! at most 3× a gradient) on Rosenbrock n=1000, the MLP and ADBench GMM d=10,
//! and dense Hessians (`f_hessian`) against num-dual's `hessian` on
//! Rosenbrock. Every result is checked before it is timed.

use autodiff_benchmarks::{gmm, mlp, rosenbrock, scalar};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode};
use std::hint::black_box;
use std::time::Duration;

fn close(what: &str, a: &[f64], b: &[f64], tol: f64) {
    assert_eq!(a.len(), b.len(), "{what}");
    for (k, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tol * (1.0 + x.abs().max(y.abs())),
            "{what}[{k}]: {x} vs {y}"
        );
    }
}

/// H·v by central differences of the hand-written gradient.
fn fd_hvp(grad: impl Fn(&[f64]) -> Vec<f64>, x: &[f64], v: &[f64]) -> Vec<f64> {
    let e = 1e-6;
    let xp: Vec<f64> = x.iter().zip(v).map(|(a, b)| a + e * b).collect();
    let xm: Vec<f64> = x.iter().zip(v).map(|(a, b)| a - e * b).collect();
    let (gp, gm) = (grad(&xp), grad(&xm));
    gp.iter()
        .zip(&gm)
        .map(|(p, m)| (p - m) / (2.0 * e))
        .collect()
}

fn direction(n: usize) -> Vec<f64> {
    (0..n).map(|i| (i as f64 * 0.37).sin()).collect()
}

fn bench_hvp(c: &mut Criterion) {
    let mut group = c.benchmark_group("hvp");
    group.sampling_mode(SamplingMode::Flat);

    let x = rosenbrock::data(1000);
    let v = direction(1000);
    let hand = |p: &[f64]| {
        let mut g = vec![0.0; p.len()];
        rosenbrock::rosenbrock_hand(p, &mut g);
        g
    };
    close(
        "rosenbrock hvp",
        &rosenbrock::rosenbrock_hvp(&x, &v).2,
        &fd_hvp(hand, &x, &v),
        1e-5,
    );
    let mut g = vec![0.0; 1000];
    group.bench_function(
        BenchmarkId::new("rosenbrock_n1000", "generated_adjoint"),
        |b| {
            b.iter(|| {
                g.fill(0.0);
                rosenbrock::rosenbrock_adjoint(black_box(&x), &mut g, 1.0)
            })
        },
    );
    group.bench_function(BenchmarkId::new("rosenbrock_n1000", "generated_hvp"), |b| {
        b.iter(|| rosenbrock::rosenbrock_hvp(black_box(&x), &v))
    });

    let d = mlp::data(mlp::BATCH, mlp::D, mlp::H, mlp::K);
    let (vw1, vb1, vw2, vb2) = (
        direction(d.w1.len()),
        direction(d.b1.len()),
        direction(d.w2.len()),
        direction(d.b2.len()),
    );
    let hvp = || {
        mlp::mlp_loss_hvp(
            &d.w1, &vw1, &d.b1, &vb1, &d.w2, &vw2, &d.b2, &vb2, &d.x, &d.labels, d.d, d.h, d.k,
        )
    };
    {
        let (_, _, (h1, hb1, h2, hb2)) = hvp();
        let got: Vec<f64> = [h1, hb1, h2, hb2].concat();
        let flat: Vec<f64> = [&d.w1[..], &d.b1, &d.w2, &d.b2].concat();
        let dir: Vec<f64> = [&vw1[..], &vb1, &vw2, &vb2].concat();
        let (n1, n2, n3) = (d.w1.len(), d.b1.len(), d.w2.len());
        let grad = |p: &[f64]| {
            let (w1, rest) = p.split_at(n1);
            let (b1, rest) = rest.split_at(n2);
            let (w2, b2) = rest.split_at(n3);
            let (_, (g1, gb1, g2, gb2)) =
                mlp::mlp_loss_grad(w1, b1, w2, b2, &d.x, &d.labels, d.d, d.h, d.k);
            [g1, gb1, g2, gb2].concat()
        };
        close("mlp hvp", &got, &fd_hvp(grad, &flat, &dir), 1e-4);
    }
    let mut g = vec![0.0; d.n_params()];
    group.bench_function(
        BenchmarkId::new("mlp_b256_d64_h32_k10", "generated_adjoint"),
        |b| {
            b.iter(|| {
                g.fill(0.0);
                let (dw1, rest) = g.split_at_mut(d.h * d.d);
                let (db1, rest) = rest.split_at_mut(d.h);
                let (dw2, db2) = rest.split_at_mut(d.k * d.h);
                mlp::mlp_loss_adjoint(
                    black_box(&d.w1),
                    dw1,
                    &d.b1,
                    db1,
                    &d.w2,
                    dw2,
                    &d.b2,
                    db2,
                    &d.x,
                    &d.labels,
                    d.d,
                    d.h,
                    d.k,
                    1.0,
                )
            })
        },
    );
    group.bench_function(
        BenchmarkId::new("mlp_b256_d64_h32_k10", "generated_hvp"),
        |b| b.iter(|| black_box(hvp())),
    );

    let d = gmm::load_adbench("1k/gmm_d10_K5.txt");
    let (va, vm, vi) = (
        direction(d.alphas.len()),
        direction(d.means.len()),
        direction(d.icf.len()),
    );
    let hvp = || {
        gmm::gmm_objective_hvp(
            d.d, d.k, d.n, &d.alphas, &va, &d.means, &vm, &d.icf, &vi, &d.x, d.gamma, d.m,
        )
    };
    {
        let (_, _, (ha, hm, hi)) = hvp();
        let got: Vec<f64> = [ha, hm, hi].concat();
        let flat: Vec<f64> = [&d.alphas[..], &d.means, &d.icf].concat();
        let dir: Vec<f64> = [&va[..], &vm, &vi].concat();
        let (na, nm) = (d.alphas.len(), d.means.len());
        let grad = |p: &[f64]| {
            let (a, rest) = p.split_at(na);
            let (m, i) = rest.split_at(nm);
            let (_, (ga, gm, gi)) =
                gmm::gmm_objective_grad(d.d, d.k, d.n, a, m, i, &d.x, d.gamma, d.m);
            [ga, gm, gi].concat()
        };
        close("gmm hvp", &got, &fd_hvp(grad, &flat, &dir), 1e-4);
    }
    let mut g = vec![0.0; d.n_params()];
    group.bench_function(
        BenchmarkId::new("gmm_1k_d10_K5", "generated_adjoint"),
        |b| {
            b.iter(|| {
                g.fill(0.0);
                let (da, rest) = g.split_at_mut(d.k);
                let (dm, di) = rest.split_at_mut(d.d * d.k);
                gmm::gmm_objective_adjoint(
                    d.d,
                    d.k,
                    d.n,
                    black_box(&d.alphas),
                    da,
                    &d.means,
                    dm,
                    &d.icf,
                    di,
                    &d.x,
                    d.gamma,
                    d.m,
                    1.0,
                )
            })
        },
    );
    group.bench_function(BenchmarkId::new("gmm_1k_d10_K5", "generated_hvp"), |b| {
        b.iter(|| black_box(hvp()))
    });
    group.finish();
}

fn bench_hessian(c: &mut Criterion) {
    let mut group = c.benchmark_group("hessian");
    for n in [10usize, 100] {
        let x = rosenbrock::data(n);
        let (_, _, h) = rosenbrock::rosenbrock_hessian(&x);
        let (_, _, hd) = scalar::num_dual_hessian(&x, rosenbrock::rosenbrock_generic);
        close("rosenbrock hessian vs num-dual", &h, &hd, 1e-10);
        let size = format!("rosenbrock_n{n}");
        let v = direction(n);
        group.bench_function(BenchmarkId::new(&size, "generated_hvp"), |b| {
            b.iter(|| rosenbrock::rosenbrock_hvp(black_box(&x), &v))
        });
        group.bench_function(BenchmarkId::new(&size, "generated_hessian"), |b| {
            b.iter(|| rosenbrock::rosenbrock_hessian(black_box(&x)))
        });
        group.bench_function(BenchmarkId::new(&size, "num_dual_hessian"), |b| {
            b.iter(|| scalar::num_dual_hessian(black_box(&x), rosenbrock::rosenbrock_generic))
        });
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_hvp, bench_hessian
}
criterion_main!(benches);
