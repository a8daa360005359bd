//! `#[checkpoint]` (issue 15): the price in time of bounded memory. The
//! Lotka–Volterra loss over 100,000 Euler steps: objective, gradient with the
//! loop stored, gradient with the loop checkpointed (⌈√n⌉ = 317 segments). The
//! two gradients are checked equal bit for bit before timing.

use autodiff_benchmarks::ode;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;

const STEPS: usize = 100_000;

fn bench_checkpoint(c: &mut Criterion) {
    let mut group = c.benchmark_group("checkpoint");
    let p = ode::params();
    let stored = ode::lotka_volterra_grad(&p, STEPS);
    let ckpt = ode::lotka_volterra_checkpointed_grad(&p, STEPS);
    assert_eq!(stored, ckpt);
    let size = format!("lotka_volterra_{STEPS}");
    group.bench_function(BenchmarkId::new("objective", &size), |b| {
        b.iter(|| ode::lotka_volterra(black_box(&p), STEPS))
    });
    let mut g = vec![0.0; p.len()];
    group.bench_function(BenchmarkId::new("stored", &size), |b| {
        b.iter(|| {
            g.fill(0.0);
            ode::lotka_volterra_adjoint(black_box(&p), &mut g, STEPS, 1.0)
        })
    });
    group.bench_function(BenchmarkId::new("checkpointed", &size), |b| {
        b.iter(|| {
            g.fill(0.0);
            ode::lotka_volterra_checkpointed_adjoint(black_box(&p), &mut g, STEPS, 1.0)
        })
    });
    group.finish();
}

criterion_group!(benches, bench_checkpoint);
criterion_main!(benches);
