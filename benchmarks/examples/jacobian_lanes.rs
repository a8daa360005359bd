//! Instructions of `_jacobian`'s vector forward mode (4 input columns per sweep) against
//! one `_fwd` per column, for a residual function with 8 parameters and 1000 outputs:
//! `valgrind --tool=callgrind target/release/examples/jacobian_lanes METHOD 1` (and 3),
//! METHOD = objective | columns | jacobian.
use autodiff::differentiate;
use std::hint::black_box;

#[differentiate(wrt(p))]
fn model(p: &[f64], t: &[f64], y: &[f64], out: &mut [f64]) {
    for i in 0..t.len() {
        let mut s = 0.0;
        for k in 0..p.len() / 2 {
            s += p[2 * k] * (-p[2 * k + 1] * t[i]).exp();
        }
        out[i] = s - y[i];
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let method = args.get(1).map(String::as_str).unwrap_or("jacobian");
    let iters: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let m = 1000;
    let t: Vec<f64> = (0..m).map(|i| i as f64 * 0.01).collect();
    let y: Vec<f64> = t.iter().map(|t| (-t).exp()).collect();
    let p = [1.0, 0.5, 2.0, 1.5, 0.3, 3.0, 0.7, 0.2];
    let mut out = vec![0.0; m];
    let mut acc = 0.0;
    for _ in 0..iters {
        match method {
            "objective" => model(black_box(&p), &t, &y, &mut out),
            "columns" => {
                let mut j = vec![0.0; m * p.len()];
                let mut dout = vec![0.0; m];
                for c in 0..p.len() {
                    let mut dp = [0.0; 8];
                    dp[c] = 1.0;
                    model_fwd(black_box(&p), &dp, &t, &y, &mut out, &mut dout);
                    for r in 0..m {
                        j[r * p.len() + c] = dout[r];
                    }
                }
                acc += j[3];
            }
            _ => acc += model_jacobian(black_box(&p), &t, &y, &mut out)[3],
        }
    }
    println!("{acc} {}", out[0]);
}
