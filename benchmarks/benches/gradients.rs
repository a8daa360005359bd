//! Gradients of the benchmark problems: the objective alone, the hand-written
//! reverse mode, and the peers (num-dual, the `reverse` tape, central finite
//! differences). Groups are problems, parameters are sizes, functions are
//! methods: `objective`, `hand`, `generated_adjoint`, `generated_grad`,
//! `num_dual`, `reverse`, `ad_trait` (default feature `ad_trait`), `fd`.
//!
//! Every method's gradient is checked against the hand-written one before it
//! is timed. Peers are left out where one gradient takes more than about a
//! second (see `SKIPPED`).
//!
//! Run: `cargo bench` (full), `cargo bench -- --test` (one run each, checks only),
//! `cargo bench -- --quick gmm` (short), then `cargo run --release --bin summary`.

use autodiff_benchmarks::util::assert_grad_close;
use autodiff_benchmarks::{ba, gmm, lstm, mlp, rosenbrock, softmax};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode};
use std::hint::black_box;
use std::time::Duration;

/// Agreement required of exact methods with the hand-written gradient.
const EXACT_TOL: f64 = 1e-8;
/// Agreement required of central finite differences.
const FD_TOL: f64 = 1e-6;

/// Methods left out because one gradient takes over ~1 s (measured on the
/// 2-core benchmark machine): (problem, size, method, seconds per gradient).
pub const SKIPPED: &[(&str, &str, &str, &str)] = &[
    (
        "mlp",
        "b256_d64_h32_k10",
        "num_dual",
        "~2.7 s (2410 directions)",
    ),
    ("mlp", "b256_d64_h32_k10", "fd", "~4.4 s (4820 evaluations)"),
    ("lstm", "l2_c1024", "fd", "~1.2 s (532 evaluations)"),
];

fn check(problem: &str, size: &str, method: &str, got: &[f64], hand: &[f64], tol: f64) {
    assert_grad_close(&format!("{problem}/{method}/{size}"), got, hand, tol);
}

fn bench_rosenbrock(c: &mut Criterion) {
    let mut group = c.benchmark_group("rosenbrock");
    for n in rosenbrock::SIZES {
        let size = format!("n={n}");
        let id = |m: &str| BenchmarkId::new(m, &size);
        let x = rosenbrock::data(n);
        let mut hand = vec![0.0; n];
        rosenbrock::rosenbrock_hand(&x, &mut hand);

        group.bench_function(id("objective"), |b| {
            b.iter(|| rosenbrock::rosenbrock(black_box(&x)))
        });

        let mut g = vec![0.0; n];
        group.bench_function(id("hand"), |b| {
            b.iter(|| rosenbrock::rosenbrock_hand(black_box(&x), black_box(&mut g)))
        });

        let mut g = vec![0.0; n];
        rosenbrock::rosenbrock_adjoint(&x, &mut g, 1.0);
        check(
            "rosenbrock",
            &size,
            "generated_adjoint",
            &g,
            &hand,
            EXACT_TOL,
        );
        group.bench_function(id("generated_adjoint"), |b| {
            b.iter(|| {
                g.fill(0.0);
                rosenbrock::rosenbrock_adjoint(black_box(&x), black_box(&mut g), 1.0)
            })
        });
        check(
            "rosenbrock",
            &size,
            "generated_grad",
            &rosenbrock::rosenbrock_grad(&x).1,
            &hand,
            EXACT_TOL,
        );
        group.bench_function(id("generated_grad"), |b| {
            b.iter(|| rosenbrock::rosenbrock_grad(black_box(&x)))
        });

        check(
            "rosenbrock",
            &size,
            "num_dual",
            &rosenbrock::rosenbrock_num_dual(&x).1,
            &hand,
            EXACT_TOL,
        );
        group.bench_function(id("num_dual"), |b| {
            b.iter(|| rosenbrock::rosenbrock_num_dual(black_box(&x)))
        });

        check(
            "rosenbrock",
            &size,
            "reverse",
            &rosenbrock::rosenbrock_reverse(&x).1,
            &hand,
            EXACT_TOL,
        );
        group.bench_function(id("reverse"), |b| {
            b.iter(|| rosenbrock::rosenbrock_reverse(black_box(&x)))
        });

        #[cfg(feature = "ad_trait")]
        {
            check(
                "rosenbrock",
                &size,
                "ad_trait",
                &rosenbrock::rosenbrock_ad_trait(&x).1,
                &hand,
                EXACT_TOL,
            );
            group.bench_function(id("ad_trait"), |b| {
                b.iter(|| rosenbrock::rosenbrock_ad_trait(black_box(&x)))
            });
        }

        let mut work = Vec::new();
        rosenbrock::rosenbrock_fd(&x, &mut work, &mut g);
        check("rosenbrock", &size, "fd", &g, &hand, FD_TOL);
        group.bench_function(id("fd"), |b| {
            b.iter(|| rosenbrock::rosenbrock_fd(black_box(&x), &mut work, black_box(&mut g)))
        });
    }
    group.finish();
}

fn bench_softmax(c: &mut Criterion) {
    let mut group = c.benchmark_group("softmax");
    group.sampling_mode(SamplingMode::Flat);
    let size = format!("b{}_d{}_k{}", softmax::BATCH, softmax::D, softmax::K);
    let id = |m: &str| BenchmarkId::new(m, &size);
    let d = softmax::data(softmax::BATCH, softmax::D, softmax::K);
    let (kd, k) = (d.k * d.d, d.k);
    let (_, hand) = softmax::softmax_loss_hand_flat(&d);

    group.bench_function(id("objective"), |b| {
        b.iter(|| {
            softmax::softmax_loss(black_box(&d.w), black_box(&d.b), &d.x, &d.labels, d.d, d.k)
        })
    });

    let mut dw = vec![0.0; kd];
    let mut db = vec![0.0; k];
    group.bench_function(id("hand"), |b| {
        b.iter(|| {
            softmax::softmax_loss_hand(
                black_box(&d.w),
                &mut dw,
                black_box(&d.b),
                &mut db,
                &d.x,
                &d.labels,
                d.d,
                d.k,
            )
        })
    });

    let (mut dw, mut db) = (vec![0.0; kd], vec![0.0; k]);
    softmax::softmax_loss_adjoint(&d.w, &mut dw, &d.b, &mut db, &d.x, &d.labels, d.d, d.k, 1.0);
    check(
        "softmax",
        &size,
        "generated_adjoint",
        &[dw.clone(), db.clone()].concat(),
        &hand,
        EXACT_TOL,
    );
    group.bench_function(id("generated_adjoint"), |b| {
        b.iter(|| {
            dw.fill(0.0);
            db.fill(0.0);
            softmax::softmax_loss_adjoint(
                black_box(&d.w),
                &mut dw,
                black_box(&d.b),
                &mut db,
                &d.x,
                &d.labels,
                d.d,
                d.k,
                1.0,
            )
        })
    });
    let (_, (gw, gb)) = softmax::softmax_loss_grad(&d.w, &d.b, &d.x, &d.labels, d.d, d.k);
    check(
        "softmax",
        &size,
        "generated_grad",
        &[gw, gb].concat(),
        &hand,
        EXACT_TOL,
    );
    group.bench_function(id("generated_grad"), |b| {
        b.iter(|| {
            softmax::softmax_loss_grad(black_box(&d.w), black_box(&d.b), &d.x, &d.labels, d.d, d.k)
        })
    });

    let mut p = d.params();
    check(
        "softmax",
        &size,
        "num_dual",
        &softmax::softmax_loss_num_dual(&d, &p).1,
        &hand,
        EXACT_TOL,
    );
    group.bench_function(id("num_dual"), |b| {
        b.iter(|| softmax::softmax_loss_num_dual(&d, black_box(&p)))
    });

    check(
        "softmax",
        &size,
        "reverse",
        &softmax::softmax_loss_reverse(&d, &p).1,
        &hand,
        EXACT_TOL,
    );
    group.bench_function(id("reverse"), |b| {
        b.iter(|| softmax::softmax_loss_reverse(&d, black_box(&p)))
    });

    #[cfg(feature = "ad_trait")]
    {
        check(
            "softmax",
            &size,
            "ad_trait",
            &softmax::softmax_loss_ad_trait(&d, &p).1,
            &hand,
            EXACT_TOL,
        );
        group.bench_function(id("ad_trait"), |b| {
            b.iter(|| softmax::softmax_loss_ad_trait(&d, black_box(&p)))
        });
    }

    let mut g = vec![0.0; p.len()];
    softmax::softmax_loss_fd(&d, &mut p, &mut g);
    check("softmax", &size, "fd", &g, &hand, FD_TOL);
    group.bench_function(id("fd"), |b| {
        b.iter(|| softmax::softmax_loss_fd(&d, black_box(&mut p), &mut g))
    });
    group.finish();
}

/// The iterator-style softmax objective (`softmax_loss_iter`), same inputs as
/// `softmax`: its own group so that `summary` gives it a row beside the
/// index-loop version (`cargo bench -- softmax` runs both).
fn bench_softmax_iter(c: &mut Criterion) {
    let mut group = c.benchmark_group("softmax_iter");
    group.sampling_mode(SamplingMode::Flat);
    let size = format!("b{}_d{}_k{}", softmax::BATCH, softmax::D, softmax::K);
    let id = |m: &str| BenchmarkId::new(m, &size);
    let d = softmax::data(softmax::BATCH, softmax::D, softmax::K);
    let (kd, k) = (d.k * d.d, d.k);
    let (_, hand) = softmax::softmax_loss_hand_flat(&d);

    group.bench_function(id("objective"), |b| {
        b.iter(|| {
            softmax::softmax_loss_iter(black_box(&d.w), black_box(&d.b), &d.x, &d.labels, d.d, d.k)
        })
    });

    let mut dw = vec![0.0; kd];
    let mut db = vec![0.0; k];
    group.bench_function(id("hand"), |b| {
        b.iter(|| {
            softmax::softmax_loss_hand(
                black_box(&d.w),
                &mut dw,
                black_box(&d.b),
                &mut db,
                &d.x,
                &d.labels,
                d.d,
                d.k,
            )
        })
    });

    let (mut dw, mut db) = (vec![0.0; kd], vec![0.0; k]);
    softmax::softmax_loss_iter_adjoint(
        &d.w, &mut dw, &d.b, &mut db, &d.x, &d.labels, d.d, d.k, 1.0,
    );
    check(
        "softmax_iter",
        &size,
        "generated_adjoint",
        &[dw.clone(), db.clone()].concat(),
        &hand,
        EXACT_TOL,
    );
    group.bench_function(id("generated_adjoint"), |b| {
        b.iter(|| {
            dw.fill(0.0);
            db.fill(0.0);
            softmax::softmax_loss_iter_adjoint(
                black_box(&d.w),
                &mut dw,
                black_box(&d.b),
                &mut db,
                &d.x,
                &d.labels,
                d.d,
                d.k,
                1.0,
            )
        })
    });
    let (_, (gw, gb)) = softmax::softmax_loss_iter_grad(&d.w, &d.b, &d.x, &d.labels, d.d, d.k);
    check(
        "softmax_iter",
        &size,
        "generated_grad",
        &[gw, gb].concat(),
        &hand,
        EXACT_TOL,
    );
    group.bench_function(id("generated_grad"), |b| {
        b.iter(|| {
            softmax::softmax_loss_iter_grad(
                black_box(&d.w),
                black_box(&d.b),
                &d.x,
                &d.labels,
                d.d,
                d.k,
            )
        })
    });
    // The peers compute the same function as in `softmax`: not repeated.
    group.finish();
}

fn bench_mlp(c: &mut Criterion) {
    let mut group = c.benchmark_group("mlp");
    group.sampling_mode(SamplingMode::Flat);
    let size = format!("b{}_d{}_h{}_k{}", mlp::BATCH, mlp::D, mlp::H, mlp::K);
    let id = |m: &str| BenchmarkId::new(m, &size);
    let d = mlp::data(mlp::BATCH, mlp::D, mlp::H, mlp::K);
    let (_, hand) = mlp::mlp_loss_hand_flat(&d);

    group.bench_function(id("objective"), |b| {
        b.iter(|| {
            mlp::mlp_loss(
                black_box(&d.w1),
                &d.b1,
                &d.w2,
                &d.b2,
                &d.x,
                &d.labels,
                d.d,
                d.h,
                d.k,
            )
        })
    });

    let mut g = vec![0.0; d.n_params()];
    group.bench_function(id("hand"), |b| {
        b.iter(|| {
            let (dw1, rest) = g.split_at_mut(d.h * d.d);
            let (db1, rest) = rest.split_at_mut(d.h);
            let (dw2, db2) = rest.split_at_mut(d.k * d.h);
            mlp::mlp_loss_hand(
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
            )
        })
    });

    let mut g = vec![0.0; d.n_params()];
    let run = |g: &mut [f64]| {
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
    };
    run(&mut g);
    check("mlp", &size, "generated_adjoint", &g, &hand, EXACT_TOL);
    group.bench_function(id("generated_adjoint"), |b| b.iter(|| run(&mut g)));
    let (_, (a, bb, c2, d2)) =
        mlp::mlp_loss_grad(&d.w1, &d.b1, &d.w2, &d.b2, &d.x, &d.labels, d.d, d.h, d.k);
    check(
        "mlp",
        &size,
        "generated_grad",
        &[a, bb, c2, d2].concat(),
        &hand,
        EXACT_TOL,
    );
    group.bench_function(id("generated_grad"), |b| {
        b.iter(|| {
            mlp::mlp_loss_grad(
                black_box(&d.w1),
                &d.b1,
                &d.w2,
                &d.b2,
                &d.x,
                &d.labels,
                d.d,
                d.h,
                d.k,
            )
        })
    });

    // num_dual and fd: skipped (see SKIPPED); the tests check num-dual on a smaller batch.
    let p = d.params();
    check(
        "mlp",
        &size,
        "reverse",
        &mlp::mlp_loss_reverse(&d, &p).1,
        &hand,
        EXACT_TOL,
    );
    group.bench_function(id("reverse"), |b| {
        b.iter(|| mlp::mlp_loss_reverse(&d, black_box(&p)))
    });

    #[cfg(feature = "ad_trait")]
    {
        check(
            "mlp",
            &size,
            "ad_trait",
            &mlp::mlp_loss_ad_trait(&d, &p).1,
            &hand,
            EXACT_TOL,
        );
        group.bench_function(id("ad_trait"), |b| {
            b.iter(|| mlp::mlp_loss_ad_trait(&d, black_box(&p)))
        });
    }
    group.finish();
}

fn bench_gmm(c: &mut Criterion) {
    let mut group = c.benchmark_group("gmm");
    group.sampling_mode(SamplingMode::Flat);
    for (file, size) in [
        ("1k/gmm_d2_K5.txt", "1k_d2_K5"),
        ("1k/gmm_d10_K5.txt", "1k_d10_K5"),
    ] {
        let id = |m: &str| BenchmarkId::new(m, size);
        let d = gmm::load_adbench(file);
        let mut hand = vec![0.0; d.n_params()];
        gmm::gmm_objective_hand_flat(&d, &mut hand);

        group.bench_function(id("objective"), |b| {
            b.iter(|| {
                gmm::gmm_objective(
                    d.d,
                    d.k,
                    d.n,
                    black_box(&d.alphas),
                    &d.means,
                    &d.icf,
                    &d.x,
                    d.gamma,
                    d.m,
                )
            })
        });

        let mut g = vec![0.0; d.n_params()];
        group.bench_function(id("hand"), |b| {
            b.iter(|| gmm::gmm_objective_hand_flat(black_box(&d), &mut g))
        });

        let mut g = vec![0.0; d.n_params()];
        let run = |g: &mut [f64]| {
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
        };
        run(&mut g);
        check("gmm", size, "generated_adjoint", &g, &hand, EXACT_TOL);
        group.bench_function(id("generated_adjoint"), |b| b.iter(|| run(&mut g)));
        let (_, (ga, gm, gi)) = gmm::gmm_objective_grad(
            d.d, d.k, d.n, &d.alphas, &d.means, &d.icf, &d.x, d.gamma, d.m,
        );
        check(
            "gmm",
            size,
            "generated_grad",
            &[ga, gm, gi].concat(),
            &hand,
            EXACT_TOL,
        );
        group.bench_function(id("generated_grad"), |b| {
            b.iter(|| {
                gmm::gmm_objective_grad(
                    d.d,
                    d.k,
                    d.n,
                    black_box(&d.alphas),
                    &d.means,
                    &d.icf,
                    &d.x,
                    d.gamma,
                    d.m,
                )
            })
        });

        let mut p = d.params();
        check(
            "gmm",
            size,
            "num_dual",
            &gmm::gmm_objective_num_dual(&d, &p).1,
            &hand,
            EXACT_TOL,
        );
        group.bench_function(id("num_dual"), |b| {
            b.iter(|| gmm::gmm_objective_num_dual(&d, black_box(&p)))
        });

        check(
            "gmm",
            size,
            "reverse",
            &gmm::gmm_objective_reverse(&d, &p).1,
            &hand,
            EXACT_TOL,
        );
        group.bench_function(id("reverse"), |b| {
            b.iter(|| gmm::gmm_objective_reverse(&d, black_box(&p)))
        });

        #[cfg(feature = "ad_trait")]
        {
            check(
                "gmm",
                size,
                "ad_trait",
                &gmm::gmm_objective_ad_trait(&d, &p).1,
                &hand,
                EXACT_TOL,
            );
            group.bench_function(id("ad_trait"), |b| {
                b.iter(|| gmm::gmm_objective_ad_trait(&d, black_box(&p)))
            });
        }

        gmm::gmm_objective_fd(&d, &mut p, &mut g);
        check("gmm", size, "fd", &g, &hand, FD_TOL);
        group.bench_function(id("fd"), |b| {
            b.iter(|| gmm::gmm_objective_fd(&d, black_box(&mut p), &mut g))
        });
    }
    group.finish();
}

fn bench_lstm(c: &mut Criterion) {
    let mut group = c.benchmark_group("lstm");
    group.sampling_mode(SamplingMode::Flat);
    let size = "l2_c1024";
    let id = |m: &str| BenchmarkId::new(m, size);
    let d = lstm::load_adbench("lstm_l2_c1024.txt");
    let mut hand = vec![0.0; d.n_params()];
    lstm::lstm_objective_hand_flat(&d, &mut hand);

    group.bench_function(id("objective"), |b| {
        b.iter(|| {
            lstm::lstm_objective(
                d.l,
                d.c,
                d.b,
                black_box(&d.main_params),
                &d.extra_params,
                &d.state,
                &d.sequence,
            )
        })
    });

    let mut g = vec![0.0; d.n_params()];
    group.bench_function(id("hand"), |b| {
        b.iter(|| lstm::lstm_objective_hand_flat(black_box(&d), &mut g))
    });

    let mut g = vec![0.0; d.n_params()];
    let run = |g: &mut [f64]| {
        g.fill(0.0);
        let (dm, de) = g.split_at_mut(8 * d.l * d.b);
        lstm::lstm_objective_adjoint(
            d.l,
            d.c,
            d.b,
            black_box(&d.main_params),
            dm,
            &d.extra_params,
            de,
            &d.state,
            &d.sequence,
            1.0,
        )
    };
    run(&mut g);
    check("lstm", size, "generated_adjoint", &g, &hand, EXACT_TOL);
    group.bench_function(id("generated_adjoint"), |b| b.iter(|| run(&mut g)));
    let (_, (gm, ge)) = lstm::lstm_objective_grad(
        d.l,
        d.c,
        d.b,
        &d.main_params,
        &d.extra_params,
        &d.state,
        &d.sequence,
    );
    check(
        "lstm",
        size,
        "generated_grad",
        &[gm, ge].concat(),
        &hand,
        EXACT_TOL,
    );
    group.bench_function(id("generated_grad"), |b| {
        b.iter(|| {
            lstm::lstm_objective_grad(
                d.l,
                d.c,
                d.b,
                black_box(&d.main_params),
                &d.extra_params,
                &d.state,
                &d.sequence,
            )
        })
    });

    let p = d.params();
    check(
        "lstm",
        size,
        "num_dual",
        &lstm::lstm_objective_num_dual(&d, &p).1,
        &hand,
        EXACT_TOL,
    );
    group.bench_function(id("num_dual"), |b| {
        b.iter(|| lstm::lstm_objective_num_dual(&d, black_box(&p)))
    });

    check(
        "lstm",
        size,
        "reverse",
        &lstm::lstm_objective_reverse(&d, &p).1,
        &hand,
        EXACT_TOL,
    );
    group.bench_function(id("reverse"), |b| {
        b.iter(|| lstm::lstm_objective_reverse(&d, black_box(&p)))
    });

    #[cfg(feature = "ad_trait")]
    {
        check(
            "lstm",
            size,
            "ad_trait",
            &lstm::lstm_objective_ad_trait(&d, &p).1,
            &hand,
            EXACT_TOL,
        );
        group.bench_function(id("ad_trait"), |b| {
            b.iter(|| lstm::lstm_objective_ad_trait(&d, black_box(&p)))
        });
    }

    // fd: skipped (see SKIPPED); the tests check it once.
    group.finish();
}

/// ADBench BA: the sparse Jacobian (31p values) of all residuals, block by block.
/// Methods: `objective` (all residuals), `hand` (hand-derived blocks),
/// `generated_jacobian` (`reproj_jacobian`, two reverse sweeps per block),
/// `num_dual` (`DualSVec64<15>`, one forward pass per block).
fn bench_ba(c: &mut Criterion) {
    let mut group = c.benchmark_group("ba");
    group.sampling_mode(SamplingMode::Flat);
    let (file, size) = ("ba1_n49_m7776_p31843.txt", "ba1_n49_m7776_p31843");
    let id = |m: &str| BenchmarkId::new(m, size);
    let d = ba::load_adbench(file);
    let mut out = vec![0.0; 3 * d.p];
    group.bench_function(id("objective"), |b| {
        b.iter(|| ba::ba_objective(black_box(&d), &mut out))
    });
    let mut hand = vec![0.0; 31 * d.p];
    ba::ba_jacobian_hand(&d, &mut hand);
    let mut vals = vec![0.0; 31 * d.p];
    group.bench_function(id("hand"), |b| {
        b.iter(|| ba::ba_jacobian_hand(black_box(&d), &mut vals))
    });
    ba::ba_jacobian_generated(&d, &mut vals);
    check("ba", size, "generated_jacobian", &vals, &hand, EXACT_TOL);
    group.bench_function(id("generated_jacobian"), |b| {
        b.iter(|| ba::ba_jacobian_generated(black_box(&d), &mut vals))
    });
    ba::ba_jacobian_num_dual(&d, &mut vals);
    check("ba", size, "num_dual", &vals, &hand, EXACT_TOL);
    group.bench_function(id("num_dual"), |b| {
        b.iter(|| ba::ba_jacobian_num_dual(black_box(&d), &mut vals))
    });
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
    targets = bench_rosenbrock, bench_softmax, bench_softmax_iter, bench_mlp, bench_gmm, bench_lstm, bench_ba
}
criterion_main!(benches);
