//! `#[checkpoint]` loops (issue 15, bounded memory for long loops): the gradient
//! equals the stored loop's bit for bit, agrees with central differences and
//! with forward mode, accumulates, and the reverse sweep's peak memory grows as
//! √n instead of n (a per-thread peak-bytes allocator around the calls).

#![allow(
    clippy::needless_range_loop,
    clippy::assign_op_pattern,
    clippy::redundant_closure
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use autodiff::differentiate;

#[macro_use]
mod common;

struct Peak;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn grow(n: isize) {
    let _ = LIVE.try_with(|l| {
        let now = l.get() + n;
        l.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
}

unsafe impl GlobalAlloc for Peak {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grow(layout.size() as isize);
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grow(layout.size() as isize);
        System.alloc_zeroed(layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        grow(new_size as isize - layout.size() as isize);
        System.realloc(ptr, layout, new_size)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        grow(-(layout.size() as isize));
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Peak = Peak;

/// The most bytes live on this thread while running `f`, above what was live before.
fn peak_bytes<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let r = f();
    ((PEAK.with(Cell::get) - base).max(0) as usize, r)
}

// ---- a damped oscillator: float state, segments of √n ----

macro_rules! oscillator {
    ($name:ident $(, #[$attr:meta])?) => {
        #[differentiate(wrt(k, x0))]
        fn $name(k: f64, x0: f64, n: usize) -> f64 {
            let dt = 0.01;
            let mut x = x0;
            let mut v = 0.0;
            let mut acc = 0.0;
            $(#[$attr])?
            for _t in 0..n {
                v = v - dt * k * x - dt * 0.1 * v;
                x = x + dt * v;
                acc += x * x * dt;
            }
            x * x + v * v + acc
        }
    };
}

oscillator!(osc_stored);
oscillator!(osc_sqrt, #[checkpoint]);
oscillator!(osc_every3, #[checkpoint(every = 3)]);
oscillator!(osc_recompute, #[recompute]);
oscillator!(osc_store, #[store]);

#[test]
fn same_gradient_as_the_stored_loop_bit_for_bit() {
    for n in [0, 1, 2, 3, 4, 7, 9, 10, 100, 1001] {
        let want = osc_stored_grad(2.0, 1.0, n);
        assert_eq!(osc_sqrt_grad(2.0, 1.0, n), want, "√n segments, n = {n}");
        assert_eq!(osc_every3_grad(2.0, 1.0, n), want, "segments of 3, n = {n}");
        assert_eq!(osc_store_grad(2.0, 1.0, n), want, "stored, n = {n}");
        if n <= 100 {
            assert_eq!(osc_recompute_grad(2.0, 1.0, n), want, "recomputed, n = {n}");
        }
    }
}

#[test]
fn oscillator_against_differences_and_forward_mode() {
    for n in [5, 64] {
        common::check_all(
            "osc_sqrt",
            &[2.0, 1.0],
            |p| osc_sqrt(p[0], p[1], n),
            |p, t| osc_sqrt_fwd(p[0], t[0], p[1], t[1], n),
            |p, d, r| {
                let (mut dk, mut dx) = (d[0], d[1]);
                let y = osc_sqrt_adjoint(p[0], &mut dk, p[1], &mut dx, n, r);
                d.copy_from_slice(&[dk, dx]);
                y
            },
            |p| {
                let (y, (gk, gx)) = osc_sqrt_grad(p[0], p[1], n);
                (y, vec![gk, gx])
            },
        );
    }
}

// ---- buffers, integer state and branches in the state ----

macro_rules! heat {
    ($name:ident $(, #[$attr:meta])?) => {
        /// Explicit heat equation on a ring: a buffer state, a scratch buffer, an
        /// integer counter and a data-dependent branch.
        #[differentiate(wrt(u0, c))]
        fn $name(u0: &[f64], c: f64, steps: usize) -> f64 {
            let m = u0.len();
            let mut u = u0.to_vec();
            let mut next = vec![0.0; m];
            let mut clipped = 0usize;
            let mut peak = 0.0;
            $(#[$attr])?
            for _s in 0..steps {
                for j in 0..m {
                    let l = u[(j + m - 1) % m];
                    let r = u[(j + 1) % m];
                    next[j] = u[j] + c * (l - 2.0 * u[j] + r);
                }
                for j in 0..m {
                    if next[j] > 1.0 {
                        u[j] = 1.0 + 0.5 * (next[j] - 1.0);
                        clipped += 1;
                    } else {
                        u[j] = next[j];
                    }
                }
                peak = peak + u[clipped % m] * u[0];
            }
            let mut s = peak;
            for j in 0..m {
                s += u[j] * u[j] * (j as f64 + 1.0);
            }
            s
        }
    };
}

heat!(heat_stored);
heat!(heat_checkpointed, #[checkpoint]);
heat!(heat_every5, #[checkpoint(every = 5)]);
heat!(heat_recompute, #[recompute]);

#[test]
fn buffer_and_integer_state() {
    let u0 = [0.2, 1.4, -0.3, 0.9, 1.1];
    for steps in [0, 1, 6, 25] {
        let want = heat_stored_grad(&u0, 0.2, steps);
        assert_eq!(
            heat_checkpointed_grad(&u0, 0.2, steps),
            want,
            "steps = {steps}"
        );
        assert_eq!(heat_every5_grad(&u0, 0.2, steps), want, "steps = {steps}");
        assert_eq!(
            heat_recompute_grad(&u0, 0.2, steps),
            want,
            "steps = {steps}"
        );
    }
    let x: Vec<f64> = u0.iter().copied().chain([0.2]).collect();
    common::check_all(
        "heat_checkpointed",
        &x,
        |p| heat_checkpointed(&p[..5], p[5], 12),
        |p, t| heat_checkpointed_fwd(&p[..5], &t[..5], p[5], t[5], 12),
        |p, d, r| {
            let (du, dc) = d.split_at_mut(5);
            heat_checkpointed_adjoint(&p[..5], du, p[5], &mut dc[0], 12, r)
        },
        |p| {
            let (y, (gu, gc)) = heat_checkpointed_grad(&p[..5], p[5], 12);
            (y, [gu, vec![gc]].concat())
        },
    );
}

// ---- memory ----

#[differentiate(wrt(k))]
fn long_stored(k: f64, n: usize) -> f64 {
    let mut x = 1.0;
    let mut v = 0.0;
    for _t in 0..n {
        v = v - 1e-3 * k * x;
        x = x + 1e-3 * v;
    }
    x
}

#[differentiate(wrt(k))]
fn long_checkpointed(k: f64, n: usize) -> f64 {
    let mut x = 1.0;
    let mut v = 0.0;
    #[checkpoint]
    for _t in 0..n {
        v = v - 1e-3 * k * x;
        x = x + 1e-3 * v;
    }
    x
}

#[differentiate(wrt(k))]
fn long_recomputed(k: f64, n: usize) -> f64 {
    let mut x = 1.0;
    let mut v = 0.0;
    #[recompute]
    for _t in 0..n {
        v = v - 1e-3 * k * x;
        x = x + 1e-3 * v;
    }
    x
}

#[test]
fn recomputing_keeps_memory_constant() {
    let (a, ga) = peak_bytes(|| long_recomputed_grad(1.5, 300));
    let (b, gb) = peak_bytes(|| long_recomputed_grad(1.5, 3000));
    assert_eq!(ga, long_stored_grad(1.5, 300));
    assert_eq!(gb, long_stored_grad(1.5, 3000));
    assert!(a < 1024 && b < 1024, "peak {a} and {b} bytes");
}

#[test]
fn memory_grows_as_the_square_root_of_the_trip_count() {
    let n = 1_000_000;
    let (stored, a) = peak_bytes(|| long_stored_grad(1.5, n));
    let (ckpt, b) = peak_bytes(|| long_checkpointed_grad(1.5, n));
    assert_eq!(a, b);
    // the stored loop keeps a float of every step: 8 MB
    assert!(stored >= 8 * n, "stored loop peak {stored} bytes");
    // √n = 1000 states of (index, x, v) and one segment's tape of 1000 steps
    assert!(
        ckpt < 100_000,
        "checkpointed loop peak {ckpt} bytes, stored {stored}"
    );
    let (small, _) = peak_bytes(|| long_checkpointed_grad(1.5, n / 100));
    // 100× fewer steps: about 10× less memory (√100), not 100×
    let ratio = ckpt as f64 / small as f64;
    eprintln!(
        "peak bytes: stored {stored}, checkpointed {ckpt} (n = {n}), {small} (n = {})",
        n / 100
    );
    assert!(
        (5.0..20.0).contains(&ratio),
        "peak {ckpt} vs {small}: ratio {ratio}"
    );
}

// ---- second order over a checkpointed loop ----

macro_rules! decay {
    ($name:ident $(, #[$attr:meta])?) => {
        #[differentiate(order = 2)]
        fn $name(p: &[f64]) -> f64 {
            let mut y = p[0];
            let mut s = 0.0;
            $(#[$attr])?
            for _t in 0..40 {
                y = y - 0.05 * p[1] * y * y;
                s += y.sin() * p[2];
            }
            s + y * y
        }
    };
}

decay!(decay_stored);
decay!(decay_checkpointed, #[checkpoint(every = 7)]);

#[test]
fn hessian_vector_products_through_a_checkpointed_loop() {
    let p = [0.8, 1.3, -0.4];
    let v = [0.3, -1.0, 0.5];
    assert_eq!(decay_checkpointed_hvp(&p, &v), decay_stored_hvp(&p, &v));
    assert_eq!(decay_checkpointed_hessian(&p), decay_stored_hessian(&p));
}

// ---- a stack shared with code before the loop ----

macro_rules! shared_stack {
    ($name:ident $(, #[$attr:meta])?) => {
        /// `k` (an integer the reverse sweep needs) is overwritten before the loop
        /// and inside it: one stack for both.
        #[differentiate(wrt(x))]
        fn $name(x: &[f64]) -> f64 {
            let mut k = x.len() / 2;
            let mut s = 0.0;
            for j in 0..2 {
                s += x[k] * x[j];
                k = (k * 3 + j) % x.len();
            }
            $(#[$attr])?
            for i in 0..x.len() {
                s = s * 0.5 + x[k] * x[i];
                k = (k * 7 + i) % x.len();
            }
            s * x[k]
        }
    };
}

shared_stack!(shared_stored);
shared_stack!(shared_checkpointed, #[checkpoint(every = 2)]);

#[test]
fn stacks_shared_with_code_before_the_loop() {
    let x = [0.3, -1.1, 0.8, 1.7, -0.4, 0.9, 0.2];
    assert_eq!(shared_checkpointed_grad(&x), shared_stored_grad(&x));
    common::check_all(
        "shared_checkpointed",
        &x,
        |p| shared_checkpointed(p),
        |p, t| shared_checkpointed_fwd(p, t),
        |p, d, r| shared_checkpointed_adjoint(p, d, r),
        |p| shared_checkpointed_grad(p),
    );
}

// ---- a nested-array state and an f32 section in a checkpointed loop ----

macro_rules! rotations {
    ($name:ident $(, #[$attr:meta])?) => {
        /// A 2×2 state matrix rotated step by step, with an `f32` section.
        #[differentiate(wrt(t))]
        fn $name(t: f64, steps: usize) -> f64 {
            let mut m = [[1.0, 0.0], [0.0, 1.0]];
            let mut wobble = 0.0;
            $(#[$attr])?
            for _k in 0..steps {
                let (s, c) = (t * 0.1).sin_cos();
                let a = c * m[0][0] - s * m[1][0];
                let b = s * m[0][0] + c * m[1][0];
                m[0][0] = a;
                m[1][0] = b;
                let h = (a as f32) * 0.5;
                wobble += (h.sin() as f64) * b;
            }
            m[0][0] * m[1][0] + wobble
        }
    };
}

rotations!(rotations_stored);
rotations!(rotations_checkpointed, #[checkpoint(every = 4)]);

#[test]
fn nested_state_and_casts_in_a_checkpointed_loop() {
    for steps in [0, 3, 10, 17] {
        assert_eq!(
            rotations_checkpointed_grad(0.7, steps),
            rotations_stored_grad(0.7, steps),
            "steps = {steps}"
        );
    }
}

// ---- `while` loops: the trip count is found as the loop runs ----

macro_rules! integrate_until {
    ($name:ident $(, #[$attr:meta])?) => {
        /// Integrates until a time the parameters do not decide alone (the trip
        /// count depends on `t_end`), with a loop-carried state.
        #[differentiate(wrt(k, x0))]
        fn $name(k: f64, x0: f64, t_end: f64) -> f64 {
            let dt = 0.01;
            let mut t = 0.0;
            let mut x = x0;
            let mut v = 0.0;
            let mut steps = 0usize;
            $(#[$attr])?
            while t < t_end {
                v = v - dt * k * x;
                x = x + dt * v * (1.0 + 0.01 * (steps % 3) as f64);
                t += dt;
                steps += 1;
            }
            x * x + v
        }
    };
}

integrate_until!(until_stored);
integrate_until!(until_sqrt, #[checkpoint]);
integrate_until!(until_every7, #[checkpoint(every = 7)]);
integrate_until!(until_recompute, #[recompute]);

#[test]
fn while_loops_checkpointed() {
    for t_end in [0.0, 0.005, 0.03, 0.5, 2.0] {
        let want = until_stored_grad(2.0, 1.0, t_end);
        assert_eq!(until_sqrt_grad(2.0, 1.0, t_end), want, "t_end = {t_end}");
        assert_eq!(until_every7_grad(2.0, 1.0, t_end), want, "t_end = {t_end}");
        assert_eq!(
            until_recompute_grad(2.0, 1.0, t_end),
            want,
            "t_end = {t_end}"
        );
    }
}

#[differentiate(wrt(k))]
fn long_while(k: f64, n: usize) -> f64 {
    let mut x = 1.0;
    let mut v = 0.0;
    let mut i = 0;
    #[checkpoint]
    while i < n {
        v = v - 1e-3 * k * x;
        x = x + 1e-3 * v;
        i += 1;
    }
    x
}

#[test]
fn while_memory_grows_as_the_square_root() {
    let n = 1_000_000;
    let (ckpt, g) = peak_bytes(|| long_while_grad(1.5, n));
    assert_eq!(g, long_stored_grad(1.5, n));
    let (small, _) = peak_bytes(|| long_while_grad(1.5, n / 100));
    eprintln!(
        "while peak bytes: {ckpt} (n = {n}), {small} (n = {})",
        n / 100
    );
    assert!(ckpt < 200_000, "checkpointed while loop peak {ckpt} bytes");
    let ratio = ckpt as f64 / small as f64;
    assert!((4.0..25.0).contains(&ratio), "ratio {ratio}");
}

#[test]
fn while_loops_against_differences() {
    for (name, f, fwd, adj, grad) in [
        (
            "until_sqrt",
            until_sqrt as fn(f64, f64, f64) -> f64,
            until_sqrt_fwd as fn(f64, f64, f64, f64, f64) -> (f64, f64),
            until_sqrt_adjoint as fn(f64, &mut f64, f64, &mut f64, f64, f64) -> f64,
            until_sqrt_grad as fn(f64, f64, f64) -> (f64, (f64, f64)),
        ),
        (
            "until_recompute",
            until_recompute,
            until_recompute_fwd,
            until_recompute_adjoint,
            until_recompute_grad,
        ),
    ] {
        common::check_all(
            name,
            &[2.0, 1.0],
            |p| f(p[0], p[1], 0.305),
            |p, t| fwd(p[0], t[0], p[1], t[1], 0.305),
            |p, d, r| {
                let (mut dk, mut dx) = (d[0], d[1]);
                let y = adj(p[0], &mut dk, p[1], &mut dx, 0.305, r);
                d.copy_from_slice(&[dk, dx]);
                y
            },
            |p| {
                let (y, (a, b)) = grad(p[0], p[1], 0.305);
                (y, vec![a, b])
            },
        );
    }
}
