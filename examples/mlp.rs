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
//! The parameters are one struct, `Mlp { w1, b1, w2, b2 }`, with
//! `#[derive(Differentiable)]`, and `#[differentiate(wrt(net))]` writes the
//! backward pass: `mlp_loss_grad(&net, ..)` returns the loss and a gradient
//! `Mlp` of the same shape, so `grad.w1` is PyTorch's `net.w1.grad`. One
//! Adam steps the whole struct (`opt.step_struct(&mut net, &grad)`), and
//! `check_gradient_struct` checks the generated gradient against finite
//! differences: nothing is flattened by hand. The cross-entropy is a separate
//! differentiated function, `cross_entropy`, that `mlp_loss` calls per
//! sample: the chain rule across the call is the macro's job too.
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

use autodiff::runtime::{check_gradient_struct, Adam};
use autodiff::{differentiate, Differentiable};
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

/// The network's parameters: `w1` is `h × d` and `w2` is `k × h`, row-major.
#[derive(Clone, Debug, Differentiable)]
struct Mlp {
    w1: Vec<f64>,
    b1: Vec<f64>,
    w2: Vec<f64>,
    b2: Vec<f64>,
}

/// Mean cross-entropy of the network over the samples (`x` is `n × d`
/// row-major, one label per sample).
// Index loops, as the formulas read (`z_c = b2_c + Σ_j W2_cj a_j`).
#[allow(clippy::needless_range_loop)]
#[differentiate(wrt(net))]
fn mlp_loss(net: &Mlp, x: &[f64], labels: &[usize], d: usize) -> f64 {
    let h = net.b1.len();
    let k = net.b2.len();
    let n = labels.len();
    let mut a = vec![0.0; h];
    let mut z = vec![0.0; k];
    let mut total = 0.0;
    for s in 0..n {
        let xs = &x[s * d..(s + 1) * d];
        // Hidden layer.
        for j in 0..h {
            let row = &net.w1[j * d..(j + 1) * d];
            let mut acc = net.b1[j];
            for (w, xt) in row.iter().zip(xs.iter()) {
                acc += w * xt;
            }
            a[j] = acc.tanh();
        }
        // Output scores.
        for c in 0..k {
            let mut acc = net.b2[c];
            for j in 0..h {
                acc += net.w2[c * h + j] * a[j];
            }
            z[c] = acc;
        }
        total += cross_entropy(&z, labels[s]);
    }
    total / n as f64
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
        }
    }

    fn loss(&self, set: &Dataset) -> f64 {
        mlp_loss(self, &set.x, &set.labels, set.d)
    }

    /// Fraction of `set` classified correctly.
    fn accuracy(&self, set: &Dataset) -> f64 {
        let (d, h) = (set.d, self.b1.len());
        let mut a = vec![0.0; h];
        let mut z = vec![0.0; self.b2.len()];
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
    // few samples; the checker takes the parameter struct as it is.
    let probe = train.select(&(0..10).collect::<Vec<_>>());
    let check = check_gradient_struct(
        |net: &Mlp, grad: &mut Mlp| mlp_loss_adjoint(net, grad, &probe.x, &probe.labels, d, 1.0),
        &net,
    )?;
    println!("gradient check: {}", check.to_string().trim_end());
    assert!(
        check.passed(1e-5),
        "the generated gradient disagrees with finite differences"
    );

    // One Adam over the whole struct.
    let mut opt = Adam::new(LEARNING_RATE);
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
            // Forward + back-propagation, generated at compile time: `grad`
            // is an `Mlp` holding d loss / d parameter.
            let (batch_loss, grad) = mlp_loss_grad(&net, &batch.x, &batch.labels, d);
            if epoch == 1 && step % 15 == 0 {
                println!(
                    "  step {step:>2}: loss {batch_loss:.4}  |w1.grad| {:.4}  |b1.grad| {:.4}  |w2.grad| {:.4}  |b2.grad| {:.4}",
                    norm(&grad.w1),
                    norm(&grad.b1),
                    norm(&grad.w2),
                    norm(&grad.b2)
                );
            }
            opt.step_struct(&mut net, &grad)?;
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
