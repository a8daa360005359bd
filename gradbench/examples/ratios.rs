//! Derivative/primal time ratios of the evals on workloads of their default
//! sizes, built here from seeded uniform data (not GradBench's generators) and
//! ADBench's BA and LSTM files: `cargo run --release --example ratios`.
//! Each time is the best of a few runs.

use autodiff_gradbench::evals::{ba, det, gmm, kmeans, llsq, lse, lstm, ode};
use std::time::Instant;

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn vec(&mut self, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.next()).collect()
    }
}

fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> f64 {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn row(eval: &str, workload: &str, primal: f64, derivative: f64) {
    println!(
        "| {eval} | {workload} | {:.3} | {:.3} | {:.1} |",
        primal * 1e3,
        derivative * 1e3,
        derivative / primal
    );
}

fn numbers(rel: &str) -> Vec<f64> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/adbench/").to_string() + rel;
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .split_whitespace()
        .map(|t| t.parse().unwrap())
        .collect()
}

fn main() {
    let mut r = Lcg(1);
    println!("| eval | workload | primal (ms) | derivative (ms) | ratio |");
    println!("|---|---|---|---|---|");
    for (d, k) in [(2, 5), (10, 25), (20, 50), (64, 100)] {
        let n = 1000;
        let tri = d * (d - 1) / 2;
        let g = gmm::Gmm {
            d,
            k,
            n,
            m: 0,
            x: r.vec(n * d),
            gamma: 1.0,
            alpha: r.vec(k),
            mu: r.vec(k * d),
            q: r.vec(k * d).iter().map(|v| 0.1 * v).collect(),
            l: r.vec(k * tri).iter().map(|v| 0.1 * v).collect(),
        };
        row(
            "gmm",
            &format!("{d}_{k}_{n}"),
            best(3, || g.objective()),
            best(3, || g.gradient()),
        );
    }
    {
        let v = numbers("data/lstm/lstm_l2_c1024.txt");
        let (l, c, b) = (v[0] as usize, v[1] as usize, v[2] as usize);
        let m = lstm::Lstm {
            l,
            b,
            main_params: v[3..3 + 8 * l * b].to_vec(),
            extra_params: v[3 + 8 * l * b..3 + 8 * l * b + 3 * b].to_vec(),
            state: v[3 + 8 * l * b + 3 * b..3 + 10 * l * b + 3 * b].to_vec(),
            sequence: v[3 + 10 * l * b + 3 * b..3 + 10 * l * b + 3 * b + c * b].to_vec(),
        };
        row(
            "lstm",
            "l=2,c=1024",
            best(5, || m.objective()),
            best(5, || m.gradient()),
        );
    }
    {
        let v = numbers("data/ba/ba1_n49_m7776_p31843.txt");
        let (n, m, p) = (v[0] as usize, v[1] as usize, v[2] as usize);
        let b = ba::Ba::duplicate(n, m, p, &v[3..14], &v[14..17], v[17], &v[18..20]);
        row(
            "ba",
            "ba1_n49_m7776_p31843",
            best(5, || b.objective()),
            best(5, || b.jacobian()),
        );
    }
    for (k, n, d) in [(10, 1000, 8), (100, 10000, 16), (1000, 10000, 16)] {
        let points = r.vec(n * d);
        let centroids = points[(n - k) * d..].to_vec();
        row(
            "kmeans",
            &format!("k={k},n={n},d={d}"),
            best(3, || kmeans::cost(&points, &centroids, d)),
            best(3, || kmeans::dir(&points, &centroids, d)),
        );
    }
    for n in [16, 1024, 16392] {
        let x = r.vec(128);
        row(
            "llsq",
            &format!("n={n},m=128"),
            best(5, || llsq::llsq(&x, n)),
            best(5, || llsq::llsq_grad(&x, n)),
        );
    }
    for n in [2500, 160000, 1280000] {
        let x = r.vec(n);
        row(
            "lse",
            &format!("n={n}"),
            best(5, || lse::logsumexp(&x)),
            best(5, || lse::logsumexp_grad(&x)),
        );
    }
    for (n, s) in [(1000, 10), (10000, 100), (100000, 100)] {
        let x = r.vec(n);
        let primal = || {
            let mut y = vec![0.0; n];
            ode::ode(&x, s, &mut y);
            y
        };
        row(
            "ode",
            &format!("n={n},s={s}"),
            best(3, primal),
            best(3, || ode::gradient(&x, s)),
        );
    }
    for ell in [5, 8, 10] {
        let a = r.vec(ell * ell);
        row(
            "det",
            &format!("{ell}"),
            best(3, || det::det(&a, ell)),
            best(3, || det::det_grad(&a, ell)),
        );
    }
}
