//! A softmax classifier for handwritten digits, trained by mini-batch
//! gradient descent on gradients that `#[differentiate]` writes at compile
//! time.
//!
//! This is the lecture's logistic-regression exercise in Rust:
//!
//! | PyTorch (the lecture) | here |
//! |---|---|
//! | `w = torch.zeros(k, d, requires_grad=True)`, `b = ...` | `w: Vec<f64>` (k×d, row-major), `b: Vec<f64>` |
//! | `loss = F.cross_entropy(x @ w.T + b, y)` | `loss(&w, &b, &x, &labels, n, d, k)`, an ordinary Rust function |
//! | `loss.backward(); w.grad; b.grad` | `let (loss, (w_grad, b_grad)) = loss_grad(&w, &b, ...)` |
//! | `optimizer.step()` | `opt_w.step(&mut w, &w_grad)`, `opt_b.step(&mut b, &b_grad)` |
//!
//! `loss` is softmax + cross-entropy averaged over a batch, with the
//! log-sum-exp "max trick" for numerical stability. `#[differentiate(wrt(w,
//! b))]` generates `loss_grad` (value and both gradients), `loss_adjoint`
//! (reverse mode, accumulating into `&mut` shadows) and `loss_fwd`; the
//! features and labels are passive.
//!
//! Data: the UCI / scikit-learn 8×8 digits (1797 images × 64 pixels, 10
//! classes), shipped inside the `smartcore` crate; features are standardised
//! and 20 % of the images are held out with a fixed seed.
//!
//! Run (release mode, a few seconds):
//!
//! ```text
//! cargo run --release --example classifier          # mini-batch gradient descent
//! cargo run --release --example classifier -- adam  # the same loop with Adam
//! cargo run --release --example classifier -- --parallel  # full-batch L-BFGS, gradients on all cores
//! ```
//!
//! With `--parallel` the training set's gradient is summed over chunks of 128
//! samples on all cores (`par_batch_gradient`, feature `rayon`, same result
//! on every run) and L-BFGS trains on it; the example times one serial and
//! one parallel full-batch gradient side by side.
//!
//! It prints the gradient check, the first gradients' norms, one line per
//! epoch (loss, train accuracy), writes the loss curve to
//! `target/classifier_loss.png` and ends with `test accuracy: 0.XXX`.

mod common;

use std::time::Instant;

use autodiff::differentiate;
use autodiff::runtime::{
    batch_gradient, check_gradient, par_batch_gradient, Adam, GradientDescent, GradientStep, Lbfgs,
    Stop,
};
use common::{argmax, norm, Dataset, Lcg, Series};

/// Mean cross-entropy of a linear softmax classifier over `n` samples.
///
/// `w` is `k × d` row-major, `b` has `k` entries, `x` is `n × d` row-major
/// and `labels[s]` is the class of sample `s`.
#[differentiate(wrt(w, b))]
fn loss(w: &[f64], b: &[f64], x: &[f64], labels: &[usize], n: usize, d: usize, k: usize) -> f64 {
    let mut z = vec![0.0; k];
    let total: f64 = (0..n)
        .map(|s| {
            // Scores (logits): z = W x_s + b, one row of W at a time.
            let xs = &x[s * d..(s + 1) * d];
            for c in 0..k {
                let wc = &w[c * d..(c + 1) * d];
                z[c] = b[c] + wc.iter().zip(xs.iter()).map(|(a, x)| a * x).sum::<f64>();
            }
            // −log softmax(z)[y] = log Σ exp(z_c) − z_y, with the max subtracted
            // so that no exp overflows.
            let m = z.iter().copied().fold(f64::NEG_INFINITY, |m, zc| m.max(zc));
            let sum_exp: f64 = z.iter().map(|zc| (zc - m).exp()).sum();
            sum_exp.ln() + m - z[labels[s]]
        })
        .sum();
    total / n as f64
}

/// Fraction of `data` whose highest score is the true class.
fn accuracy(w: &[f64], b: &[f64], data: &Dataset) -> f64 {
    let (d, k) = (data.d, data.k);
    let mut z = vec![0.0; k];
    let mut correct = 0;
    for s in 0..data.n {
        let xs = data.row(s);
        for (c, zc) in z.iter_mut().enumerate() {
            *zc = b[c]
                + w[c * d..(c + 1) * d]
                    .iter()
                    .zip(xs)
                    .map(|(a, x)| a * x)
                    .sum::<f64>();
        }
        if argmax(&z) == data.labels[s] {
            correct += 1;
        }
    }
    correct as f64 / data.n as f64
}

const SEED: u64 = 42;
const EPOCHS: usize = 30;
const BATCH: usize = 32;

/// Samples per chunk of the parallel gradient.
const CHUNK: usize = 128;

/// The mean cross-entropy of `set` and its gradient (w then b in `g`), summed
/// over chunks of samples: on all cores when `parallel`, else on one (the
/// same chunks in the same order: the same bits).
fn full_batch(p: &[f64], g: &mut [f64], set: &Dataset, parallel: bool) -> f64 {
    let (d, k, n) = (set.d, set.k, set.n);
    let chunk = |r: std::ops::Range<usize>, p: &[f64], g: &mut [f64]| {
        let (pw, pb) = p.split_at(k * d);
        let (gw, gb) = g.split_at_mut(k * d);
        // each chunk's mean, weighted by its share of the samples
        let share = r.len() as f64 / n as f64;
        let x = &set.x[r.start * d..r.end * d];
        share
            * loss_adjoint(
                pw,
                gw,
                pb,
                gb,
                x,
                &set.labels[r.clone()],
                r.len(),
                d,
                k,
                share,
            )
    };
    if parallel {
        par_batch_gradient(p, g, n, CHUNK, chunk)
    } else {
        batch_gradient(p, g, n, CHUNK, chunk)
    }
}

/// `--parallel`: full-batch L-BFGS on gradients summed on all cores.
fn train_parallel(train: &Dataset, test: &Dataset) -> Result<(), Box<dyn std::error::Error>> {
    let (d, k) = (train.d, train.k);
    let p0 = vec![0.0; k * d + k];
    let time = |parallel: bool| {
        let mut g = vec![0.0; p0.len()];
        let runs = 50;
        let t = Instant::now();
        for _ in 0..runs {
            g.fill(0.0);
            full_batch(&p0, &mut g, train, parallel);
        }
        (t.elapsed() / runs, g)
    };
    let (serial, g_serial) = time(false);
    let (parallel, g_parallel) = time(true);
    assert_eq!(
        g_serial, g_parallel,
        "the parallel sum is the serial one, bit for bit"
    );
    println!(
        "full-batch gradient over {} samples: serial {serial:.2?}, {} threads {parallel:.2?} ({:.2}×)",
        train.n,
        rayon_threads(),
        serial.as_secs_f64() / parallel.as_secs_f64()
    );
    let started = Instant::now();
    let report = Lbfgs::new()
        .with_stop(Stop::new().max_iters(300).grad_tol(1e-6))
        .minimize(|p, g| full_batch(p, g, train, true), &p0)?;
    let (w, b) = report.x.split_at(k * d);
    println!(
        "L-BFGS: {} iterations, training loss {:.2e}, stopped by {:?} ({:.2?})",
        report.iterations,
        report.value,
        report.stop_reason,
        started.elapsed()
    );
    println!("test accuracy: {:.3}", accuracy(w, b, test));
    Ok(())
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let use_adam = std::env::args().nth(1).is_some_and(|a| a == "adam");
    let parallel = std::env::args().any(|a| a == "--parallel");
    let started = Instant::now();

    let data = common::load_digits();
    let (mut train, mut test) = common::train_test_split(&data, 0.2, SEED);
    common::standardize(&mut train, &mut test);
    let (d, k) = (train.d, train.k);
    println!(
        "digits: {} images × {d} pixels, {k} classes; train {}, test {}",
        data.n, train.n, test.n
    );
    if parallel {
        return train_parallel(&train, &test);
    }

    // Parameters, as in the lecture: w (k×d) and b (k), starting at zero.
    let mut w = vec![0.0; k * d];
    let mut b = vec![0.0; k];

    // Is the generated gradient right? Compare with central finite
    // differences (torch.autograd.gradcheck) on a small batch, at a random
    // point. The objective sees w and b packed in one vector.
    let probe = train.select(&(0..20).collect::<Vec<_>>());
    let mut rng = Lcg::new(SEED);
    let p0: Vec<f64> = (0..k * d + k).map(|_| 0.1 * rng.normal()).collect();
    let check = check_gradient(
        |p: &[f64], g: &mut [f64]| {
            let (pw, pb) = p.split_at(k * d);
            let (gw, gb) = g.split_at_mut(k * d);
            loss_adjoint(pw, gw, pb, gb, &probe.x, &probe.labels, probe.n, d, k, 1.0)
        },
        &p0,
    )?;
    println!("gradient check: {}", check.to_string().trim_end());
    assert!(
        check.passed(1e-5),
        "the generated gradient disagrees with finite differences"
    );

    // Two optimisers, one per parameter tensor, like PyTorch's
    // `optimizer.step()` over the parameter list.
    let (mut opt_w, mut opt_b): (Box<dyn GradientStep<f64>>, Box<dyn GradientStep<f64>>) =
        if use_adam {
            (Box::new(Adam::new(0.002)), Box::new(Adam::new(0.002)))
        } else {
            (
                Box::new(GradientDescent::new(0.1)),
                Box::new(GradientDescent::new(0.1)),
            )
        };
    let method = if use_adam {
        "Adam, lr 0.002"
    } else {
        "gradient descent, lr 0.1"
    };
    println!("training: {EPOCHS} epochs, mini-batches of {BATCH}, {method}");

    let mut order: Vec<usize> = (0..train.n).collect();
    let mut train_curve = Vec::new();
    let mut test_curve = Vec::new();
    let loss_on =
        |w: &[f64], b: &[f64], set: &Dataset| loss(w, b, &set.x, &set.labels, set.n, d, k);
    train_curve.push((0.0, loss_on(&w, &b, &train)));
    test_curve.push((0.0, loss_on(&w, &b, &test)));

    for epoch in 1..=EPOCHS {
        let epoch_start = Instant::now();
        rng.shuffle(&mut order);
        let mut sum_loss = 0.0;
        for (step, idx) in order.chunks(BATCH).enumerate() {
            let batch = train.select(idx);
            // Forward and backward in one call: loss.backward(); w.grad, b.grad.
            let (batch_loss, (w_grad, b_grad)) =
                loss_grad(&w, &b, &batch.x, &batch.labels, batch.n, d, k);
            if epoch == 1 && step % 15 == 0 {
                println!(
                    "  step {step:>2}: loss {batch_loss:.4}  |weight.grad| {:.4}  |bias.grad| {:.4}",
                    norm(&w_grad),
                    norm(&b_grad)
                );
            }
            opt_w.step(&mut w, &w_grad)?;
            opt_b.step(&mut b, &b_grad)?;
            sum_loss += batch_loss * batch.n as f64;
        }
        let train_loss = sum_loss / train.n as f64;
        train_curve.push((epoch as f64, loss_on(&w, &b, &train)));
        test_curve.push((epoch as f64, loss_on(&w, &b, &test)));
        println!(
            "epoch {epoch:>2}/{EPOCHS}  loss {train_loss:.4}  train accuracy {:.3}  ({:.0?})",
            accuracy(&w, &b, &train),
            epoch_start.elapsed()
        );
    }

    let png = common::target_path("classifier_loss.png");
    common::plot_log_curves(
        &png,
        "Softmax classifier on 8×8 digits: cross-entropy loss",
        "epoch",
        "mean cross-entropy (log scale)",
        &[
            Series {
                label: &format!("train ({method})"),
                points: train_curve,
            },
            Series {
                label: &format!("test ({method})"),
                points: test_curve,
            },
        ],
    )?;
    println!("loss curve: {}", png.display());
    println!("trained in {:.2?}", started.elapsed());
    println!("test accuracy: {:.3}", accuracy(&w, &b, &test));
    Ok(())
}
