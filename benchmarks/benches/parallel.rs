//! `par_batch_gradient` (feature `rayon`): the softmax classifier's generated
//! gradient over 4096 samples, serial (`batch_gradient`, the same chunks on
//! one thread) against all cores. The two results are checked equal bit for
//! bit before timing.

use autodiff::runtime::{batch_gradient, par_batch_gradient};
use autodiff_benchmarks::softmax;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode};
use std::hint::black_box;
use std::time::Duration;

const SAMPLES: usize = 4096;
const CHUNK: usize = 256;

fn bench_parallel(c: &mut Criterion) {
    let mut group = c.benchmark_group("parallel");
    group.sampling_mode(SamplingMode::Flat);
    let d = softmax::data(SAMPLES, softmax::D, softmax::K);
    let kd = d.k * d.d;
    let p: Vec<f64> = [&d.w[..], &d.b].concat();
    let chunk = |r: std::ops::Range<usize>, p: &[f64], g: &mut [f64]| {
        let (w, b) = p.split_at(kd);
        let (gw, gb) = g.split_at_mut(kd);
        let x = &d.x[r.start * d.d..r.end * d.d];
        softmax::softmax_loss_adjoint(w, gw, b, gb, x, &d.labels[r], d.d, d.k, 1.0)
    };
    let (mut gs, mut gp) = (vec![0.0; p.len()], vec![0.0; p.len()]);
    let vs = batch_gradient(&p, &mut gs, SAMPLES, CHUNK, chunk);
    let vp = par_batch_gradient(&p, &mut gp, SAMPLES, CHUNK, chunk);
    assert_eq!((vs.to_bits(), &gs), (vp.to_bits(), &gp));
    let size = format!("softmax_b{SAMPLES}_chunk{CHUNK}");
    let mut g = vec![0.0; p.len()];
    group.bench_function(BenchmarkId::new("serial", &size), |b| {
        b.iter(|| {
            g.fill(0.0);
            batch_gradient(black_box(&p), &mut g, SAMPLES, CHUNK, chunk)
        })
    });
    group.bench_function(BenchmarkId::new("parallel", &size), |b| {
        b.iter(|| {
            g.fill(0.0);
            par_batch_gradient(black_box(&p), &mut g, SAMPLES, CHUNK, chunk)
        })
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_parallel
}
criterion_main!(benches);
