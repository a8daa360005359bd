//! Rough single-run timings of every method on every problem (best of a few
//! runs; no statistics). `cargo run --release --example single_run`
//! (needs the default feature `ad_trait`).

use autodiff_benchmarks::{gmm, lstm, mlp, rosenbrock, softmax};
use std::time::Instant;

fn time<R>(mut f: impl FnMut() -> R) -> f64 {
    let mut best = f64::INFINITY;
    let mut total = 0.0;
    let mut runs = 0;
    while runs < 3 || (total < 0.2 && runs < 1000) {
        let t = Instant::now();
        std::hint::black_box(f());
        let dt = t.elapsed().as_secs_f64();
        best = best.min(dt);
        total += dt;
        runs += 1;
    }
    best
}

fn row(problem: &str, size: &str, times: &[(&str, f64)]) {
    let obj = times[0].1;
    let mut s = format!("{problem:<10} {size:<16} objective {:>10.3e} s", obj);
    for (name, t) in &times[1..] {
        s += &format!(" | {name} {:.3e} s ({:.1}x)", t, t / obj);
    }
    println!("{s}");
}

fn main() {
    for n in rosenbrock::SIZES {
        let x = rosenbrock::data(n);
        let mut g = vec![0.0; n];
        let mut w = Vec::new();
        row(
            "rosenbrock",
            &format!("n={n}"),
            &[
                ("objective", time(|| rosenbrock::rosenbrock(&x))),
                ("hand", time(|| rosenbrock::rosenbrock_hand(&x, &mut g))),
                ("num_dual", time(|| rosenbrock::rosenbrock_num_dual(&x))),
                ("reverse", time(|| rosenbrock::rosenbrock_reverse(&x))),
                ("ad_trait", time(|| rosenbrock::rosenbrock_ad_trait(&x))),
                ("fd", time(|| rosenbrock::rosenbrock_fd(&x, &mut w, &mut g))),
            ],
        );
    }
    {
        let d = softmax::data(softmax::BATCH, softmax::D, softmax::K);
        let mut p = d.params();
        let mut g = vec![0.0; p.len()];
        row(
            "softmax",
            "b256_d64_k10",
            &[
                (
                    "objective",
                    time(|| softmax::softmax_loss(&d.w, &d.b, &d.x, &d.labels, d.d, d.k)),
                ),
                ("hand", time(|| softmax::softmax_loss_hand_flat(&d))),
                ("num_dual", time(|| softmax::softmax_loss_num_dual(&d, &p))),
                ("reverse", time(|| softmax::softmax_loss_reverse(&d, &p))),
                ("ad_trait", time(|| softmax::softmax_loss_ad_trait(&d, &p))),
                ("fd", time(|| softmax::softmax_loss_fd(&d, &mut p, &mut g))),
            ],
        );
    }
    {
        let d = mlp::data(mlp::BATCH, mlp::D, mlp::H, mlp::K);
        let mut p = d.params();
        let mut g = vec![0.0; p.len()];
        row(
            "mlp",
            "b256_d64_h32_k10",
            &[
                (
                    "objective",
                    time(|| {
                        mlp::mlp_loss(&d.w1, &d.b1, &d.w2, &d.b2, &d.x, &d.labels, d.d, d.h, d.k)
                    }),
                ),
                ("hand", time(|| mlp::mlp_loss_hand_flat(&d))),
                ("num_dual", time(|| mlp::mlp_loss_num_dual(&d, &p))),
                ("reverse", time(|| mlp::mlp_loss_reverse(&d, &p))),
                ("ad_trait", time(|| mlp::mlp_loss_ad_trait(&d, &p))),
                ("fd", time(|| mlp::mlp_loss_fd(&d, &mut p, &mut g))),
            ],
        );
    }
    for (file, tag) in [
        ("1k/gmm_d2_K5.txt", "1k_d2_K5"),
        ("1k/gmm_d10_K5.txt", "1k_d10_K5"),
    ] {
        let d = gmm::load_adbench(file);
        let mut p = d.params();
        let mut g = vec![0.0; p.len()];
        row(
            "gmm",
            tag,
            &[
                ("objective", time(|| gmm::gmm_objective_flat(&d, &p))),
                ("hand", time(|| gmm::gmm_objective_hand_flat(&d, &mut g))),
                ("num_dual", time(|| gmm::gmm_objective_num_dual(&d, &p))),
                ("reverse", time(|| gmm::gmm_objective_reverse(&d, &p))),
                ("ad_trait", time(|| gmm::gmm_objective_ad_trait(&d, &p))),
                ("fd", time(|| gmm::gmm_objective_fd(&d, &mut p, &mut g))),
            ],
        );
    }
    {
        let d = lstm::load_adbench("lstm_l2_c1024.txt");
        let mut p = d.params();
        let mut g = vec![0.0; p.len()];
        row(
            "lstm",
            "l2_c1024",
            &[
                ("objective", time(|| lstm::lstm_objective_flat(&d, &p))),
                ("hand", time(|| lstm::lstm_objective_hand_flat(&d, &mut g))),
                ("num_dual", time(|| lstm::lstm_objective_num_dual(&d, &p))),
                ("reverse", time(|| lstm::lstm_objective_reverse(&d, &p))),
                ("ad_trait", time(|| lstm::lstm_objective_ad_trait(&d, &p))),
                ("fd", time(|| lstm::lstm_objective_fd(&d, &mut p, &mut g))),
            ],
        );
    }
}
