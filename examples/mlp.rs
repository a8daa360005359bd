//! A two-layer neural network for handwritten digits, trained by
//! back-propagation through gradients that `#[differentiate]` generates.
//!
//! The lecture's back-propagation, with nothing written by hand: the forward
//! pass is plain Rust,
//!
//! ```text
//! a = tanh(W1 x + b1)          (32 hidden units)
//! z = W2 a + b2                (10 scores)
//! loss = −log softmax(z)[y]    (cross-entropy, averaged over the batch)
//! ```
//!
//! and `#[differentiate(wrt(w1, b1, w2, b2))]` writes the backward pass:
//! `mlp_loss_grad` returns the loss and the four gradients (`w1.grad`,
//! `b1.grad`, `w2.grad`, `b2.grad` in PyTorch terms). The cross-entropy is a
//! separate differentiated function, `cross_entropy`, that `mlp_loss` calls
//! per sample: the chain rule across the call is the macro's job too.
//!
//! Data: the 8×8 digits shipped inside `smartcore` (1797 images, 10
//! classes), standardised, with the same seeded 80/20 split as the
//! `classifier` example, whose linear model this network beats.
//!
//! Run (release mode, a few seconds):
//!
//! ```text
//! cargo run --release --example mlp
//! ```
//!
//! It prints one line per epoch (loss, train accuracy), writes the loss
//! curve to `target/mlp_loss.png` and ends with `test accuracy: 0.XXX`.

mod common;

use std::time::Instant;

use autodiff::differentiate;
use autodiff::runtime::{check_gradient, Adam};
use common::{argmax, norm, Dataset, Lcg, Series};

/// −log softmax(z)[label], with the max trick: log Σ exp(z_c − m) + m − z_label.
#[differentiate]
fn cross_entropy(z: &[f64], label: usize) -> f64 {
    let mut m = z[0];
    for zc in z.iter() {
        m = m.max(*zc);
    }
    let mut sum_exp = 0.0;
    for zc in z.iter() {
        sum_exp += (*zc - m).exp();
    }
    sum_exp.ln() + m - z[label]
}

/// Mean cross-entropy of the network over `n` samples (`x` is `n × d`
/// row-major; `w1` is `h × d`, `w2` is `k × h`, both row-major).
#[allow(clippy::too_many_arguments)]
#[differentiate(wrt(w1, b1, w2, b2))]
fn mlp_loss(
    w1: &[f64],
    b1: &[f64],
    w2: &[f64],
    b2: &[f64],
    x: &[f64],
    labels: &[usize],
    n: usize,
    d: usize,
    h: usize,
    k: usize,
) -> f64 {
    let mut a = vec![0.0; h];
    let mut z = vec![0.0; k];
    let mut total = 0.0;
    for s in 0..n {
        // Hidden layer.
        for j in 0..h {
            let mut acc = b1[j];
            for t in 0..d {
                acc += w1[j * d + t] * x[s * d + t];
            }
            a[j] = acc.tanh();
        }
        // Output scores.
        for c in 0..k {
            let mut acc = b2[c];
            for j in 0..h {
                acc += w2[c * h + j] * a[j];
            }
            z[c] = acc;
        }
        total += cross_entropy(&z, labels[s]);
    }
    total / n as f64
}

/// The network's parameters.
struct Mlp {
    w1: Vec<f64>,
    b1: Vec<f64>,
    w2: Vec<f64>,
    b2: Vec<f64>,
    d: usize,
    h: usize,
    k: usize,
}

impl Mlp {
    /// Glorot-style random weights (scaled by 1/√fan-in), zero biases.
    fn new(d: usize, h: usize, k: usize, rng: &mut Lcg) -> Self {
        let mut init = |len: usize, fan_in: usize| -> Vec<f64> {
            let scale = 1.0 / (fan_in as f64).sqrt();
            (0..len).map(|_| scale * rng.normal()).collect()
        };
        Mlp {
            w1: init(h * d, d),
            b1: vec![0.0; h],
            w2: init(k * h, h),
            b2: vec![0.0; k],
            d,
            h,
            k,
        }
    }

    fn loss(&self, set: &Dataset) -> f64 {
        let (d, h, k) = (self.d, self.h, self.k);
        mlp_loss(
            &self.w1,
            &self.b1,
            &self.w2,
            &self.b2,
            &set.x,
            &set.labels,
            set.n,
            d,
            h,
            k,
        )
    }

    /// Fraction of `set` classified correctly.
    fn accuracy(&self, set: &Dataset) -> f64 {
        let (d, h) = (self.d, self.h);
        let mut a = vec![0.0; h];
        let mut z = vec![0.0; self.k];
        let mut correct = 0;
        for s in 0..set.n {
            let xs = set.row(s);
            for (j, aj) in a.iter_mut().enumerate() {
                let dot: f64 = self.w1[j * d..(j + 1) * d]
                    .iter()
                    .zip(xs)
                    .map(|(w, x)| w * x)
                    .sum();
                *aj = (self.b1[j] + dot).tanh();
            }
            for (c, zc) in z.iter_mut().enumerate() {
                let dot: f64 = self.w2[c * h..(c + 1) * h]
                    .iter()
                    .zip(&a)
                    .map(|(w, a)| w * a)
                    .sum();
                *zc = self.b2[c] + dot;
            }
            if argmax(&z) == set.labels[s] {
                correct += 1;
            }
        }
        correct as f64 / set.n as f64
    }
}

const SEED: u64 = 42;
const HIDDEN: usize = 32;
const EPOCHS: usize = 30;
const BATCH: usize = 32;
const LEARNING_RATE: f64 = 0.003;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let data = common::load_digits();
    let (mut train, mut test) = common::train_test_split(&data, 0.2, SEED);
    common::standardize(&mut train, &mut test);
    let (d, h, k) = (train.d, HIDDEN, train.k);
    println!(
        "digits: train {}, test {}; network {d} → {h} (tanh) → {k} (softmax), {} parameters",
        train.n,
        test.n,
        h * d + h + k * h + k
    );

    let mut rng = Lcg::new(SEED);
    let mut net = Mlp::new(d, h, k, &mut rng);

    // Check the generated back-propagation against finite differences on a
    // few samples; the checker sees the four tensors packed in one vector.
    let probe = train.select(&(0..10).collect::<Vec<_>>());
    let packed: Vec<f64> = [&net.w1, &net.b1, &net.w2, &net.b2]
        .into_iter()
        .flatten()
        .copied()
        .collect();
    let check = check_gradient(
        |p: &[f64], g: &mut [f64]| {
            let (w1, rest) = p.split_at(h * d);
            let (b1, rest) = rest.split_at(h);
            let (w2, b2) = rest.split_at(k * h);
            let (gw1, rest) = g.split_at_mut(h * d);
            let (gb1, rest) = rest.split_at_mut(h);
            let (gw2, gb2) = rest.split_at_mut(k * h);
            mlp_loss_adjoint(
                w1,
                gw1,
                b1,
                gb1,
                w2,
                gw2,
                b2,
                gb2,
                &probe.x,
                &probe.labels,
                probe.n,
                d,
                h,
                k,
                1.0,
            )
        },
        &packed,
    )?;
    println!("gradient check: {}", check.to_string().trim_end());
    assert!(
        check.passed(1e-5),
        "the generated gradient disagrees with finite differences"
    );

    // One Adam per tensor (Adam works element by element, so this is the
    // same as one Adam over all parameters).
    let mut opt = [(); 4].map(|_| Adam::new(LEARNING_RATE));
    println!("training: {EPOCHS} epochs, mini-batches of {BATCH}, Adam (lr {LEARNING_RATE})");

    let mut order: Vec<usize> = (0..train.n).collect();
    let mut train_curve = vec![(0.0, net.loss(&train))];
    let mut test_curve = vec![(0.0, net.loss(&test))];
    for epoch in 1..=EPOCHS {
        let epoch_start = Instant::now();
        rng.shuffle(&mut order);
        let mut sum_loss = 0.0;
        for (step, idx) in order.chunks(BATCH).enumerate() {
            let batch = train.select(idx);
            // Forward + back-propagation, generated at compile time.
            let (batch_loss, (g_w1, g_b1, g_w2, g_b2)) = mlp_loss_grad(
                &net.w1,
                &net.b1,
                &net.w2,
                &net.b2,
                &batch.x,
                &batch.labels,
                batch.n,
                d,
                h,
                k,
            );
            if epoch == 1 && step % 15 == 0 {
                println!(
                    "  step {step:>2}: loss {batch_loss:.4}  |w1.grad| {:.4}  |b1.grad| {:.4}  |w2.grad| {:.4}  |b2.grad| {:.4}",
                    norm(&g_w1),
                    norm(&g_b1),
                    norm(&g_w2),
                    norm(&g_b2)
                );
            }
            opt[0].step(&mut net.w1, &g_w1)?;
            opt[1].step(&mut net.b1, &g_b1)?;
            opt[2].step(&mut net.w2, &g_w2)?;
            opt[3].step(&mut net.b2, &g_b2)?;
            sum_loss += batch_loss * batch.n as f64;
        }
        train_curve.push((epoch as f64, net.loss(&train)));
        test_curve.push((epoch as f64, net.loss(&test)));
        println!(
            "epoch {epoch:>2}/{EPOCHS}  loss {:.4}  train accuracy {:.3}  ({:.0?})",
            sum_loss / train.n as f64,
            net.accuracy(&train),
            epoch_start.elapsed()
        );
    }

    let png = common::target_path("mlp_loss.png");
    common::plot_log_curves(
        &png,
        "Two-layer network (64-32-10) on 8×8 digits: cross-entropy loss",
        "epoch",
        "mean cross-entropy (log scale)",
        &[
            Series {
                label: "train",
                points: train_curve,
            },
            Series {
                label: "test",
                points: test_curve,
            },
        ],
    )?;
    println!("loss curve: {}", png.display());
    println!("trained in {:.2?}", started.elapsed());
    println!("test accuracy: {:.3}", net.accuracy(&test));
    Ok(())
}
