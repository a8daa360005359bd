//! Scratch buffers rewritten in every iteration: the reverse sweep must restore the
//! values it reads, and skip the ones nothing reads (a full rewrite by a fill loop).
#![allow(
    clippy::assign_op_pattern,
    clippy::manual_memcpy,
    clippy::needless_range_loop
)]

use autodiff::differentiate;

#[differentiate]
fn scratch(x: &[f64], m: usize) -> f64 {
    let n = x.len();
    let mut b = vec![0.0; n];
    let mut s = 0.0;
    for k in 0..m {
        // a full rewrite: the previous iteration's values are dead here
        for i in 0..n {
            b[i] = x[i] * (k as f64 + 1.0);
        }
        s += b[0] * b[1];
        // overwritten after a use: must be restored
        b[0] = b[0] * x[0];
        s += b[0] * b[0];
        for j in 1..n {
            b[j] += b[j - 1] * 0.5;
        }
        s += b[n - 1].sin();
    }
    s
}

/// A fill loop inside a branch does not kill for the code after the branch.
#[differentiate]
fn scratch_in_branch(x: &[f64], m: usize) -> f64 {
    let n = x.len();
    let mut b = vec![0.0; n];
    for i in 0..n {
        b[i] = x[i];
    }
    let mut s = 0.0;
    for k in 0..m {
        s += b[0] * b[1];
        if k % 2 == 0 {
            for i in 0..n {
                b[i] = x[i] * x[i];
            }
        }
        b[1] = b[1] * x[1];
    }
    s
}

fn check(f: &dyn Fn(&[f64]) -> f64, g: &[f64], x: &[f64]) {
    for i in 0..x.len() {
        let h = 1e-6;
        let (mut a, mut b) = (x.to_vec(), x.to_vec());
        a[i] += h;
        b[i] -= h;
        let fd = (f(&a) - f(&b)) / (2.0 * h);
        assert!(
            (fd - g[i]).abs() < 1e-6 * (1.0 + fd.abs()),
            "component {i}: fd {fd} vs {}",
            g[i]
        );
    }
}

#[test]
fn fully_rewritten_scratch_buffer() {
    let x = [0.3, -0.5, 0.8, 0.2];
    let (v, g) = scratch_grad(&x, 3);
    assert_eq!(v, scratch(&x, 3));
    check(&|x| scratch(x, 3), &g, &x);
    let t = [0.1, 0.4, -0.2, 0.7];
    let (_, dv) = scratch_fwd(&x, &t, 3);
    let proj: f64 = g.iter().zip(&t).map(|(a, b)| a * b).sum();
    assert!((dv - proj).abs() < 1e-12 * (1.0 + proj.abs()));
}

#[test]
fn rewrite_inside_a_branch_does_not_count() {
    let x = [0.3, -0.5, 0.8];
    let (v, g) = scratch_in_branch_grad(&x, 5);
    assert_eq!(v, scratch_in_branch(&x, 5));
    check(&|x| scratch_in_branch(x, 5), &g, &x);
}
