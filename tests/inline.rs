//! `inline(..)`: calls whose reverse sweep reuses the callee's forward values
//! (`g__split` / `g__rev`). Each function here has a twin without `inline`, and
//! the two must agree bit for bit in value, gradient and accumulated adjoint
//! (the split pair performs the same operations in the same order); each is also
//! checked against central differences, forward-vs-reverse and accumulation.

#![allow(
    clippy::needless_range_loop,
    clippy::assign_op_pattern,
    clippy::redundant_closure
)]

mod common;

use autodiff::{differentiate, Float};

#[differentiate]
fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Passive parameters pass through the pair.
#[differentiate]
fn scaled_tanh(x: f64, k: usize, c: f64) -> f64 {
    (x * k as f64).tanh() * c + x.sin()
}

/// A branch whose condition reads the input (a kept flag is not needed: the
/// condition is evaluated again, so the reverse sweep reads only the body's floats).
#[differentiate]
fn leaky(x: f64) -> f64 {
    let y = if x > 0.0 { x * x.exp() } else { 0.1 * x };
    y.ln_1p()
}

/// A loop: the pair saves nothing and its reverse is the whole adjoint.
#[differentiate]
fn power(x: f64, n: usize) -> f64 {
    let mut p = 1.0;
    for _ in 0..n {
        p = p * x;
    }
    p
}

#[differentiate]
fn soft<T: Float>(x: T) -> T {
    (T::one() + x.exp()).ln()
}

struct Model {
    gain: f64,
}

impl Model {
    #[differentiate]
    fn act(&self, x: f64) -> f64 {
        (self.gain * x).tanh()
    }

    #[differentiate(wrt(w), inline(act))]
    fn loss_in(&self, w: &[f64]) -> f64 {
        let mut s = 0.0;
        for i in 0..w.len() {
            s += self.act(w[i]) * w[i];
        }
        s
    }

    #[differentiate(wrt(w))]
    fn loss_out(&self, w: &[f64]) -> f64 {
        let mut s = 0.0;
        for i in 0..w.len() {
            s += self.act(w[i]) * w[i];
        }
        s
    }
}

/// The same body twice: `$a` with `inline(..)`, `$b` without.
macro_rules! twins {
    ($a:ident, $b:ident, [$($g:ident),*], ($($p:tt)*) -> $r:ty { $($body:tt)* }) => {
        #[differentiate(inline($($g),*))]
        fn $a($($p)*) -> $r { $($body)* }
        #[differentiate]
        fn $b($($p)*) -> $r { $($body)* }
    };
}

twins!(top_in, top_out, [sigmoid], (w: &[f64]) -> f64 {
    let a = sigmoid(w[0] * w[1]);
    let b = sigmoid(a + w[2]);
    a * b + sigmoid(b)
});

twins!(loop_in, loop_out, [sigmoid, scaled_tanh], (w: &[f64]) -> f64 {
    let top = sigmoid(w[0]);
    let mut s = 0.0;
    for i in 0..w.len() {
        let a = sigmoid(w[i] * top + 0.3);
        let b = scaled_tanh(a, i + 1, w[0]);
        s += a * b;
    }
    s
});

// `v = g(v)`: the old value comes back before the reverse call reads it
twins!(assign_in, assign_out, [sigmoid, leaky], (w: &[f64]) -> f64 {
    let mut v = w[0];
    for i in 1..w.len() {
        v = sigmoid(v * w[i]);
        v = leaky(v - 0.4);
    }
    v
});

twins!(branch_in, branch_out, [sigmoid, power], (w: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len() {
        if w[i] > 0.0 {
            s += sigmoid(w[i] * s);
        } else {
            s += power(w[i] + s, 3);
        }
    }
    let t = if s > 1.0 { sigmoid(s) } else { s };
    t * s
});

twins!(nested_in, nested_out, [sigmoid], (w: &[f64]) -> f64 {
    let n = w.len();
    let mut s = 0.0;
    for i in 0..n {
        for j in 0..n {
            if j == i + 2 {
                break;
            }
            s += sigmoid(w[i] - w[j] + s * 0.1);
        }
    }
    let mut k = 0;
    while s > 0.5 && k < 4 {
        s = sigmoid(s) * 0.9;
        k += 1;
    }
    s
});

twins!(generic_in, generic_out, [soft], (w: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len() {
        s += soft(w[i] * s - 0.5);
    }
    s
});

fn same_bits(a: &[f64], b: &[f64], what: &str) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            x.to_bits() == y.to_bits(),
            "{what}[{i}]: {x:e} with inline, {y:e} without"
        );
    }
}

/// `a` (with `inline`) against central differences, forward-vs-reverse and
/// accumulation, and bit for bit against its twin `b` (without).
#[allow(clippy::too_many_arguments)]
#[track_caller]
fn check_pair(
    name: &str,
    x: &[f64],
    f: impl Fn(&[f64]) -> f64,
    fwd: impl Fn(&[f64], &[f64]) -> (f64, f64),
    adj: impl Fn(&[f64], &mut [f64], f64) -> f64,
    grad: impl Fn(&[f64]) -> (f64, Vec<f64>),
    grad_b: impl Fn(&[f64]) -> (f64, Vec<f64>),
    adj_b: impl Fn(&[f64], &mut [f64], f64) -> f64,
) {
    common::check_all(name, x, &f, &fwd, &adj, &grad);
    let ((va, ga), (vb, gb)) = (grad(x), grad_b(x));
    same_bits(&[va], &[vb], name);
    same_bits(&ga, &gb, name);
    let prefill: Vec<f64> = (0..x.len()).map(|i| 0.25 * i as f64 - 1.0).collect();
    let (mut da, mut db) = (prefill.clone(), prefill);
    same_bits(&[adj(x, &mut da, -1.75)], &[adj_b(x, &mut db, -1.75)], name);
    same_bits(&da, &db, name);
}

#[test]
fn top() {
    check_pair(
        "top",
        &[0.4, -1.3, 0.8],
        |x| top_in(x),
        |x, v| top_in_fwd(x, v),
        |x, d, r| top_in_adjoint(x, d, r),
        |x| top_in_grad(x),
        |x| top_out_grad(x),
        |x, d, r| top_out_adjoint(x, d, r),
    );
}

#[test]
fn in_loop() {
    check_pair(
        "loop",
        &[0.4, -1.3, 0.8, 2.1, -0.2],
        |x| loop_in(x),
        |x, v| loop_in_fwd(x, v),
        |x, d, r| loop_in_adjoint(x, d, r),
        |x| loop_in_grad(x),
        |x| loop_out_grad(x),
        |x, d, r| loop_out_adjoint(x, d, r),
    );
}

#[test]
fn assign() {
    check_pair(
        "assign",
        &[0.9, 1.3, -0.8, 2.1],
        |x| assign_in(x),
        |x, v| assign_in_fwd(x, v),
        |x, d, r| assign_in_adjoint(x, d, r),
        |x| assign_in_grad(x),
        |x| assign_out_grad(x),
        |x, d, r| assign_out_adjoint(x, d, r),
    );
}

#[test]
fn branch() {
    check_pair(
        "branch",
        &[0.4, -1.3, 0.8, -0.6, 1.7],
        |x| branch_in(x),
        |x, v| branch_in_fwd(x, v),
        |x, d, r| branch_in_adjoint(x, d, r),
        |x| branch_in_grad(x),
        |x| branch_out_grad(x),
        |x, d, r| branch_out_adjoint(x, d, r),
    );
}

#[test]
fn nested() {
    check_pair(
        "nested",
        &[0.4, -1.3, 0.8, 0.1],
        |x| nested_in(x),
        |x, v| nested_in_fwd(x, v),
        |x, d, r| nested_in_adjoint(x, d, r),
        |x| nested_in_grad(x),
        |x| nested_out_grad(x),
        |x, d, r| nested_out_adjoint(x, d, r),
    );
}

#[test]
fn generic() {
    check_pair(
        "generic",
        &[0.4, -1.3, 0.8, 2.0],
        |x| generic_in(x),
        |x, v| generic_in_fwd(x, v),
        |x, d, r| generic_in_adjoint(x, d, r),
        |x| generic_in_grad(x),
        |x| generic_out_grad(x),
        |x, d, r| generic_out_adjoint(x, d, r),
    );
}

#[test]
fn method() {
    let m = Model { gain: 0.7 };
    check_pair(
        "method",
        &[0.4, -1.3, 0.8],
        |x| m.loss_in(x),
        |x, v| m.loss_in_fwd(x, v),
        |x, d, r| m.loss_in_adjoint(x, d, r),
        |x| m.loss_in_grad(x),
        |x| m.loss_out_grad(x),
        |x, d, r| m.loss_out_adjoint(x, d, r),
    );
}

/// The pair of a scalar function is its adjoint in two halves.
#[test]
fn split_pair_is_the_adjoint() {
    for x in [-2.0, -0.3, 0.0, 0.7, 3.0] {
        let (v, saved) = sigmoid__split(x);
        assert_eq!(v.to_bits(), sigmoid(x).to_bits());
        let (mut da, mut db) = (0.5, 0.5);
        sigmoid__rev(x, &mut da, saved, -1.25);
        sigmoid_adjoint(x, &mut db, -1.25);
        assert_eq!(da.to_bits(), db.to_bits());
        let (v, ()) = power__split(x, 3);
        assert_eq!(v.to_bits(), power(x, 3).to_bits());
    }
}
