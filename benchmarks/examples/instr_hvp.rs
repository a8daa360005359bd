//! Runs `f_hvp` of one problem `iters` times, for instruction counting with
//! callgrind (a binary of its own, so that `instr`'s first-order counts do not
//! move with the second-order code beside them).
//!
//! `instr_hvp PROBLEM ITERS`; problems: `rosenbrock1000`, `mlp`, `gmm10`.

use autodiff_benchmarks::{gmm, mlp, rosenbrock};
use std::hint::black_box;

fn direction(n: usize) -> Vec<f64> {
    (0..n).map(|i| (i as f64 * 0.37).sin()).collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let problem = args.get(1).map(String::as_str).unwrap_or("rosenbrock1000");
    let iters: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10);
    let mut acc = 0.0;
    match problem {
        "mlp" => {
            let d = mlp::data(mlp::BATCH, mlp::D, mlp::H, mlp::K);
            let (vw1, vb1, vw2, vb2) = (
                direction(d.w1.len()),
                direction(d.b1.len()),
                direction(d.w2.len()),
                direction(d.b2.len()),
            );
            for _ in 0..iters {
                acc += mlp::mlp_loss_hvp(
                    black_box(&d.w1),
                    &vw1,
                    &d.b1,
                    &vb1,
                    &d.w2,
                    &vw2,
                    &d.b2,
                    &vb2,
                    &d.x,
                    &d.labels,
                    d.d,
                    d.h,
                    d.k,
                )
                .0;
            }
        }
        "gmm10" => {
            let d = gmm::load_adbench("1k/gmm_d10_K5.txt");
            let (va, vm, vi) = (
                direction(d.alphas.len()),
                direction(d.means.len()),
                direction(d.icf.len()),
            );
            for _ in 0..iters {
                acc += gmm::gmm_objective_hvp(
                    d.d,
                    d.k,
                    d.n,
                    black_box(&d.alphas),
                    &va,
                    &d.means,
                    &vm,
                    &d.icf,
                    &vi,
                    &d.x,
                    d.gamma,
                    d.m,
                )
                .0;
            }
        }
        _ => {
            let x = rosenbrock::data(1000);
            let v = direction(1000);
            for _ in 0..iters {
                acc += rosenbrock::rosenbrock_hvp(black_box(&x), &v).0;
            }
        }
    }
    println!("{acc}");
}
