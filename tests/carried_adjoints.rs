//! Adjoints carried in locals across the iterations of a fused loop
//! (`autodiff-macros/src/reverse/carry.rs`): `dx[i]`, `dx[i + 1]`, … updated in
//! iteration `i` and again in the next ones. Each function is checked against
//! central differences, forward against reverse, and accumulation into
//! pre-filled shadows; the Rosenbrock adjoint also bit for bit against the code
//! the macro emitted before, which updated the shadow in memory.

// The differentiated functions are written in the forms under test.
#![allow(clippy::needless_range_loop, clippy::assign_op_pattern)]

#[macro_use]
mod common;

use autodiff::differentiate;
use common::{check_all, Rng};

macro_rules! check_slice {
    ($f:ident, $fwd:ident, $adj:ident, $grad:ident; $x:expr) => {{
        let x: Vec<f64> = $x;
        check_all(
            stringify!($f),
            &x,
            |x| $f(x),
            |x, v| $fwd(x, v),
            |x, d, r| $adj(x, d, r),
            |x| $grad(x),
        )
    }};
}

#[differentiate]
fn rosenbrock(x: &[f64]) -> f64 {
    let n = x.len();
    let mut s = 0.0;
    for i in 0..n - 1 {
        let t = x[i + 1] - x[i] * x[i];
        let u = 1.0 - x[i];
        s += 100.0 * t * t + u * u;
    }
    s
}

/// The adjoint `#[differentiate]` emitted for `rosenbrock` before adjoints were
/// carried (autodiff-macros/snapshots/rosenbrock.rs at d4d4430): every update
/// of `dx` is a read-modify-write in memory.
fn rosenbrock_adjoint_in_memory(x: &[f64], dx: &mut [f64], dret: f64) -> f64 {
    assert_eq!(dx.len(), x.len());
    let n = x.len();
    let mut s: f64 = 0.0;
    let mut b_s: f64 = -0.0;
    b_s += dret;
    for i in 0..(n - 1) {
        let t_1 = x[i] * x[i];
        let t = x[i + 1] - t_1;
        let u = 1.0 - x[i];
        let t_4 = 100.0 * t;
        let t_5 = t_4 * t;
        let t_6 = u * u;
        let t_7 = t_5 + t_6;
        s = s + t_7;
        let mut b_t_1: f64 = -0.0;
        let mut b_t: f64 = -0.0;
        let mut b_u: f64 = -0.0;
        let mut b_t_4: f64 = -0.0;
        let mut b_t_5: f64 = -0.0;
        let mut b_t_6: f64 = -0.0;
        let mut b_t_7: f64 = -0.0;
        b_t_7 += b_s;
        b_t_5 += b_t_7;
        b_t_6 += b_t_7;
        b_u += u * b_t_6 + u * b_t_6;
        b_t_4 += t * b_t_5;
        b_t += t_4 * b_t_5;
        b_t += 100.0 * b_t_4;
        dx[i] -= b_u;
        dx[i + 1] += b_t;
        b_t_1 -= b_t;
        dx[i] += x[i] * b_t_1 + x[i] * b_t_1;
    }
    s
}

#[test]
fn rosenbrock_is_bit_for_bit_the_in_memory_adjoint() {
    let mut rng = Rng::new(11);
    for n in [2, 3, 10, 101] {
        let x = rng.vec(n, -2.0, 2.0);
        let prefill = rng.vec(n, -1.0, 1.0);
        let (mut got, mut want) = (prefill.clone(), prefill.clone());
        let y = rosenbrock_adjoint(&x, &mut got, -0.75);
        let y_mem = rosenbrock_adjoint_in_memory(&x, &mut want, -0.75);
        assert_eq!(y.to_bits(), y_mem.to_bits(), "n = {n}: value");
        for i in 0..n {
            assert_eq!(
                got[i].to_bits(),
                want[i].to_bits(),
                "n = {n}: dx[{i}] = {:e}, in memory {:e}",
                got[i],
                want[i]
            );
        }
    }
    check_slice!(rosenbrock, rosenbrock_fwd, rosenbrock_adjoint, rosenbrock_grad; rng.vec(7, -1.5, 1.5));
}

#[test]
fn an_empty_loop_leaves_the_shadow_as_it_was() {
    // n = 1: `0..0`, nothing is loaded or stored
    let mut dx = [0.25];
    let y = rosenbrock_adjoint(&[3.0], &mut dx, 1.0);
    assert_eq!((y, dx), (0.0, [0.25]));
}

/// Offsets 0, 1 and 2: three elements carried.
#[differentiate]
fn second_difference(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() - 2 {
        let d = x[i] - 2.0 * x[i + 1] + x[i + 2];
        s += d * d * x[i + 1].cos();
    }
    s
}

#[test]
fn three_carried_elements() {
    let mut rng = Rng::new(12);
    for n in [3, 4, 9] {
        check_slice!(second_difference, second_difference_fwd, second_difference_adjoint,
            second_difference_grad; rng.vec(n, -1.0, 1.0));
    }
}

/// The loop starts at 2, and the lower offset is updated in one branch only.
#[differentiate]
fn branchy(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 2..x.len() - 1 {
        let t = x[i + 1] * x[i + 1];
        if x[i] > 0.0 {
            s += x[i] * t;
        } else {
            s += t.sin();
        }
    }
    s
}

#[test]
fn a_lower_offset_in_a_branch() {
    let mut rng = Rng::new(13);
    for n in [3, 4, 12] {
        check_slice!(branchy, branchy_fwd, branchy_adjoint, branchy_grad; rng.vec(n, -1.0, 1.0));
    }
}

/// `x[i + 1]` read only when it exists: carrying would load `dx[n]` in the last
/// iteration, so the loop keeps its updates in memory (and must not panic).
#[differentiate]
fn guarded_neighbour(x: &[f64]) -> f64 {
    let n = x.len();
    let mut s = 0.0;
    for i in 0..n {
        s += x[i] * x[i];
        if i + 1 < n {
            s += x[i] * x[i + 1];
        }
    }
    s
}

#[test]
fn a_conditional_last_neighbour_is_not_loaded_ahead() {
    let mut rng = Rng::new(14);
    for n in [1, 2, 8] {
        check_slice!(guarded_neighbour, guarded_neighbour_fwd, guarded_neighbour_adjoint,
            guarded_neighbour_grad; rng.vec(n, -1.0, 1.0));
    }
}

/// A backward neighbour (`x[i - 1]`) is not of the form `i + c`: the loop keeps
/// its updates in memory.
#[differentiate]
fn backward_neighbour(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 1..x.len() {
        s += (x[i] - x[i - 1]).powi(2) + x[i].exp();
    }
    s
}

#[test]
fn a_backward_neighbour() {
    let mut rng = Rng::new(15);
    check_slice!(backward_neighbour, backward_neighbour_fwd, backward_neighbour_adjoint,
        backward_neighbour_grad; rng.vec(6, -1.0, 1.0));
}
