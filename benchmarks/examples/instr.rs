//! Runs one method of one problem `iters` times, for instruction counting with
//! `valgrind --tool=callgrind` (counts are repeatable on a shared machine, unlike
//! times): `cargo run --release --example instr -- rosenbrock1000 generated 100`.
//! Count twice with different `iters` and divide the difference. Problems:
//! `rosenbrockN`, `softmax`, `softmax_iter` (the iterator-style objective), `mlp`,
//! `gmm`, `gmm10`, `lstm`, `ba` (the BA Jacobian; also method `num_dual`); methods:
//! `objective`, `hand`, `generated` (and for Rosenbrock `fill`: the zeroing of the
//! gradient that `generated` includes and the overwriting `hand` does not need).

use autodiff_benchmarks::{ba, gmm, lstm, mlp, rosenbrock, softmax};
use std::hint::black_box;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let problem = args.get(1).map(String::as_str).unwrap_or("rosenbrock1000");
    let method = args.get(2).map(String::as_str).unwrap_or("generated");
    let iters: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(10);
    let mut acc = 0.0;
    match problem {
        p if p.starts_with("rosenbrock") => {
            let n: usize = p["rosenbrock".len()..].parse().unwrap_or(1000);
            let x = rosenbrock::data(n);
            let mut g = vec![0.0; n];
            for _ in 0..iters {
                acc += match method {
                    "objective" => rosenbrock::rosenbrock(black_box(&x)),
                    "hand" => rosenbrock::rosenbrock_hand(black_box(&x), &mut g),
                    // what `generated` spends zeroing the gradient (callgrind counts
                    // glibc's `rep stosb` byte by byte: ~8 instructions per f64)
                    "fill" => {
                        g.fill(0.0);
                        black_box(g[0])
                    }
                    _ => {
                        g.fill(0.0);
                        rosenbrock::rosenbrock_adjoint(black_box(&x), &mut g, 1.0)
                    }
                };
            }
        }
        // `softmax_iter`: the iterator-style objective (`softmax_loss_iter`).
        "softmax" | "softmax_iter" => {
            let iter = problem == "softmax_iter";
            let d = softmax::data(softmax::BATCH, softmax::D, softmax::K);
            let (mut dw, mut db) = (vec![0.0; d.w.len()], vec![0.0; d.b.len()]);
            for _ in 0..iters {
                acc += match method {
                    "objective" if iter => {
                        softmax::softmax_loss_iter(black_box(&d.w), &d.b, &d.x, &d.labels, d.d, d.k)
                    }
                    "objective" => {
                        softmax::softmax_loss(black_box(&d.w), &d.b, &d.x, &d.labels, d.d, d.k)
                    }
                    "hand" => softmax::softmax_loss_hand(
                        black_box(&d.w),
                        &mut dw,
                        &d.b,
                        &mut db,
                        &d.x,
                        &d.labels,
                        d.d,
                        d.k,
                    ),
                    _ if iter => {
                        dw.fill(0.0);
                        db.fill(0.0);
                        softmax::softmax_loss_iter_adjoint(
                            black_box(&d.w),
                            &mut dw,
                            &d.b,
                            &mut db,
                            &d.x,
                            &d.labels,
                            d.d,
                            d.k,
                            1.0,
                        )
                    }
                    _ => {
                        dw.fill(0.0);
                        db.fill(0.0);
                        softmax::softmax_loss_adjoint(
                            black_box(&d.w),
                            &mut dw,
                            &d.b,
                            &mut db,
                            &d.x,
                            &d.labels,
                            d.d,
                            d.k,
                            1.0,
                        )
                    }
                };
            }
        }
        "mlp" => {
            let d = mlp::data(mlp::BATCH, mlp::D, mlp::H, mlp::K);
            let mut g = vec![0.0; d.n_params()];
            for _ in 0..iters {
                acc += match method {
                    "objective" => mlp::mlp_loss(
                        black_box(&d.w1),
                        &d.b1,
                        &d.w2,
                        &d.b2,
                        &d.x,
                        &d.labels,
                        d.d,
                        d.h,
                        d.k,
                    ),
                    "hand" => mlp::mlp_loss_hand_flat(black_box(&d)).0,
                    _ => {
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
                    }
                };
            }
        }
        p if p.starts_with("gmm") => {
            let file = if p == "gmm10" {
                "1k/gmm_d10_K5.txt"
            } else {
                "1k/gmm_d2_K5.txt"
            };
            let d = gmm::load_adbench(file);
            let mut g = vec![0.0; d.n_params()];
            for _ in 0..iters {
                acc += match method {
                    "objective" => gmm::gmm_objective(
                        d.d,
                        d.k,
                        d.n,
                        black_box(&d.alphas),
                        &d.means,
                        &d.icf,
                        &d.x,
                        d.gamma,
                        d.m,
                    ),
                    "hand" => gmm::gmm_objective_hand_flat(black_box(&d), &mut g),
                    _ => {
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
                    }
                };
            }
        }
        "lstm" => {
            let d = lstm::load_adbench("lstm_l2_c1024.txt");
            let mut g = vec![0.0; d.n_params()];
            for _ in 0..iters {
                acc += match method {
                    "objective" => lstm::lstm_objective(
                        d.l,
                        d.c,
                        d.b,
                        black_box(&d.main_params),
                        &d.extra_params,
                        &d.state,
                        &d.sequence,
                    ),
                    "hand" => lstm::lstm_objective_hand_flat(black_box(&d), &mut g),
                    _ => {
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
                    }
                };
            }
        }
        "ba" => {
            let d = ba::load_adbench("ba1_n49_m7776_p31843.txt");
            let mut out = vec![0.0; 3 * d.p];
            let mut vals = vec![0.0; 31 * d.p];
            for _ in 0..iters {
                match method {
                    "objective" => ba::ba_objective(black_box(&d), &mut out),
                    "hand" => ba::ba_jacobian_hand(black_box(&d), &mut vals),
                    "num_dual" => ba::ba_jacobian_num_dual(black_box(&d), &mut vals),
                    _ => ba::ba_jacobian_generated(black_box(&d), &mut vals),
                }
                acc += out[0] + vals[0];
            }
        }
        other => panic!("unknown problem {other}"),
    }
    println!("{acc}");
}
