//! Runs the Lotka–Volterra loss (100,000 Euler steps) `iters` times, for
//! instruction counting with callgrind: `instr_checkpoint METHOD ITERS`,
//! METHOD = `objective`, `stored` (the generated gradient, loop stored) or
//! `checkpointed` (the loop `#[checkpoint]`ed). A binary of its own, so that
//! `instr`'s counts do not move.

use autodiff_benchmarks::ode;
use std::hint::black_box;

const STEPS: usize = 100_000;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let method = args.get(1).map(String::as_str).unwrap_or("stored");
    let iters: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10);
    let p = ode::params();
    let mut g = vec![0.0; p.len()];
    let mut acc = 0.0;
    for _ in 0..iters {
        acc += match method {
            "objective" => ode::lotka_volterra(black_box(&p), STEPS),
            "stored" => ode::lotka_volterra_adjoint(black_box(&p), &mut g, STEPS, 1.0),
            "checkpointed" => {
                ode::lotka_volterra_checkpointed_adjoint(black_box(&p), &mut g, STEPS, 1.0)
            }
            other => panic!("unknown method {other}"),
        };
    }
    println!("{acc} {}", g[0]);
}
