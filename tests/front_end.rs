//! Regression tests for documented constructs the front end used to reject or
//! mistype (issue 16, items 4–6): float fields of `self` as method receivers,
//! annotated local arrays, `.len()` casts in float arithmetic, blocks as values
//! and arguments, and an early `return` from a loop with no float code. Each is
//! checked against central differences, forward-vs-reverse agreement,
//! accumulation and the primal value (`common::check_all`).

#![allow(
    clippy::needless_range_loop,
    clippy::redundant_closure,
    clippy::let_and_return
)]

#[macro_use]
mod common;

use autodiff::differentiate;

// ---- 4. a float field of `self` as a receiver; bound with its type as an argument ----

#[differentiate]
fn g(a: f64, b: f64) -> f64 {
    a * b.sin()
}

pub struct S {
    pub k: f64,
}

impl S {
    #[differentiate]
    pub fn recv(&self, x: f64) -> f64 {
        self.k.max(x) + self.k.mul_add(x, 1.0) + self.k.powf(x)
    }

    #[differentiate]
    pub fn arg(&self, x: f64) -> f64 {
        let k: f64 = self.k;
        g(k, x) + k.max(x)
    }

    #[differentiate]
    pub fn field_arg(&self, x: f64) -> f64 {
        // the field itself as the argument (a float of the model: a zero shadow)
        let k = self.k;
        g(self.k, x) + g(k, x * x)
    }

    #[differentiate]
    pub fn local_copy(&self, x: f64) -> f64 {
        let k = self.k;
        k.min(x) * x
    }
}

/// `check_all` for a function of one float.
fn check1(
    name: &str,
    x: f64,
    f: impl Fn(f64) -> f64,
    fwd: impl Fn(f64, f64) -> (f64, f64),
    adj: impl Fn(f64, &mut f64, f64) -> f64,
    grad: impl Fn(f64) -> (f64, f64),
) {
    common::check_all(
        name,
        &[x],
        |x| f(x[0]),
        |x, v| fwd(x[0], v[0]),
        |x, d, r| adj(x[0], &mut d[0], r),
        |x| {
            let (y, g) = grad(x[0]);
            (y, vec![g])
        },
    );
}

#[test]
fn self_field_as_receiver() {
    let s = S { k: 1.3 };
    for x in [0.4, 2.1] {
        check1(
            "recv",
            x,
            |x| s.recv(x),
            |x, d| s.recv_fwd(x, d),
            |x, d, r| s.recv_adjoint(x, d, r),
            |x| s.recv_grad(x),
        );
    }
}

#[test]
fn self_field_as_argument() {
    let s = S { k: 0.7 };
    for x in [0.3, 1.9] {
        check1(
            "arg",
            x,
            |x| s.arg(x),
            |x, d| s.arg_fwd(x, d),
            |x, d, r| s.arg_adjoint(x, d, r),
            |x| s.arg_grad(x),
        );
        check1(
            "field_arg",
            x,
            |x| s.field_arg(x),
            |x, d| s.field_arg_fwd(x, d),
            |x, d, r| s.field_arg_adjoint(x, d, r),
            |x| s.field_arg_grad(x),
        );
        check1(
            "local_copy",
            x,
            |x| s.local_copy(x),
            |x, d| s.local_copy_fwd(x, d),
            |x, d, r| s.local_copy_adjoint(x, d, r),
            |x| s.local_copy_grad(x),
        );
    }
    // d/dx [k sin x + max(k, x)] at x = 0.3 < k: k cos x
    let (_, d) = s.arg_grad(0.3);
    assert!((d - 0.7 * 0.3f64.cos()).abs() < 1e-12);
}

// ---- 5. an annotated local array keeps its element type ----

pub trait Other {
    fn ln_1p(self) -> Self;
}

impl Other for f64 {
    fn ln_1p(self) -> f64 {
        0.0
    }
}

#[differentiate]
pub fn annotated_array(x: f64) -> f64 {
    let mut b: [f64; 3] = [0.0; 3];
    if b[1].ln_1p() >= 0.0 {
        b[2] = x;
    }
    b[2] *= x;
    b[2] + b[0]
}

#[test]
fn annotated_local_array() {
    for x in [0.5, -1.5] {
        check_scalar!(annotated_array, annotated_array_fwd, annotated_array_adjoint, annotated_array_grad; [x]);
    }
}

// ---- 6. documented syntax: `.len()` casts, `T::from(len)`, blocks, early return ----

#[differentiate]
fn mean_scaled(w: &[f64]) -> f64 {
    let mut total = 0.0;
    for i in 0..w.len() {
        total += w[i] * w[i];
    }
    w[0] * (w.len() as f64) + total / w.len() as f64
}

#[differentiate]
fn generic_mean<T: autodiff::Float>(w: &[T]) -> T {
    let mut total = T::zero();
    for i in 0..w.len() {
        total = total + w[i] * w[i];
    }
    total / T::from(w.len()).unwrap()
}

#[test]
fn len_casts_in_float_arithmetic() {
    let w = [0.3, -1.2, 2.0];
    common::check_all(
        "mean_scaled",
        &w,
        mean_scaled,
        |x, v| mean_scaled_fwd(x, v),
        |x, d, r| mean_scaled_adjoint(x, d, r),
        |x| mean_scaled_grad(x),
    );
    common::check_all(
        "generic_mean",
        &w,
        generic_mean::<f64>,
        |x, v| generic_mean_fwd(x, v),
        |x, d, r| generic_mean_adjoint(x, d, r),
        |x| generic_mean_grad(x),
    );
    let (_, g) = generic_mean_grad(&w);
    for i in 0..3 {
        assert!((g[i] - 2.0 * w[i] / 3.0).abs() < 1e-12);
    }
}

#[differentiate]
fn block_value(x: f64) -> f64 {
    let y = {
        let t = x * 2.0;
        t + x.sin()
    };
    y * x
}

#[differentiate]
fn block_value_generic<T: autodiff::Float>(x: T) -> T {
    let y = {
        let t = x * x;
        t
    };
    y.sin()
}

#[differentiate]
fn csoft(a: f64) -> f64 {
    (1.0 + a.exp()).ln()
}

#[differentiate]
fn block_arguments(s: f64, a: &[f64]) -> f64 {
    let u = csoft({
        let t = s * a[1];
        t
    });
    u + a[0].min({
        let m = s * s;
        m - 1.0
    })
}

#[test]
fn blocks_as_values_and_arguments() {
    for x in [0.4, -0.9] {
        check_scalar!(block_value, block_value_fwd, block_value_adjoint, block_value_grad; [x]);
        check_scalar!(block_value_generic::<f64>, block_value_generic_fwd, block_value_generic_adjoint, block_value_generic_grad; [x]);
    }
    common::check_all(
        "block_arguments",
        &[0.6, 0.9, -0.4],
        |x| block_arguments(x[0], &x[1..]),
        |x, v| block_arguments_fwd(x[0], v[0], &x[1..], &v[1..]),
        |x, d, r| {
            let (d0, rest) = d.split_at_mut(1);
            block_arguments_adjoint(x[0], &mut d0[0], &x[1..], rest, r)
        },
        |x| {
            let (y, (g0, g1)) = block_arguments_grad(x[0], &x[1..]);
            let mut g = vec![g0];
            g.extend(g1);
            (y, g)
        },
    );
}

#[differentiate]
fn early_return_constant(x: f64) -> f64 {
    for i in 0..3 {
        if i > 1 {
            return 2.0 * x;
        }
    }
    x
}

#[differentiate]
fn early_return_passive(x: f64, n: usize) -> f64 {
    for i in 0..n {
        if i > 1 {
            return 2.0;
        }
    }
    x * x
}

#[test]
fn early_return_from_a_loop_without_float_code() {
    for x in [0.5, -2.0] {
        check_scalar!(early_return_constant, early_return_constant_fwd, early_return_constant_adjoint, early_return_constant_grad; [x]);
        assert_eq!(early_return_passive_grad(x, 5), (2.0, 0.0));
        assert_eq!(early_return_passive_grad(x, 2), (x * x, 2.0 * x));
        assert_eq!(early_return_passive_fwd(x, 1.0, 2), (x * x, 2.0 * x));
    }
}

// ---- a passive loop that changes a counter declared outside it ----

/// The inner loop names no float, but it changes `k`, which the enclosing loop's
/// reverse sweep reads: it used to be copied through as passive code, so the reverse
/// replayed every iteration with the final `k` (a silent wrong gradient).
#[differentiate]
fn counter_in_passive_loop(w: &[f64]) -> f64 {
    let mut s = 1.0;
    let mut k = 0;
    for _i in 0..2 {
        for _j in 0..1 {
            k += 1;
        }
        s = s * w[k] * w[k];
    }
    let t = s * 2.0;
    t * s
}

#[test]
fn passive_loop_changing_an_outer_counter() {
    let w = [1.1, 1.3, 0.7, 0.9];
    common::check_all(
        "counter_in_passive_loop",
        &w,
        counter_in_passive_loop,
        counter_in_passive_loop_fwd,
        counter_in_passive_loop_adjoint,
        counter_in_passive_loop_grad,
    );
    // s = w1² w2², value 2 s²: ∂/∂w1 = 8 s² / w1
    let s = 1.3f64 * 1.3 * 0.7 * 0.7;
    let (_, g) = counter_in_passive_loop_grad(&w);
    assert!((g[1] - 8.0 * s * s / 1.3).abs() < 1e-12, "{g:?}");
    assert_eq!(g[0], 0.0);
    assert_eq!(g[3], 0.0);
}

// ---- a copy that shadows its source ----
//
// `let w = w.to_vec();` was lowered to `let mut w = vec![0.0; w.len()]` and a
// copy loop reading the new, zeroed `w`: value and gradient silently 0. The copy
// is now made under another name, then moved.

#[differentiate]
fn shadowing_to_vec(w: &[f64]) -> f64 {
    let mut w = w.to_vec();
    w[0] *= 2.0;
    w[0] * w[1]
}

#[differentiate]
fn shadowing_array_copy(a: [f64; 2]) -> f64 {
    let mut a = a;
    a[0] *= 2.0;
    a[0] * a[1]
}

#[differentiate]
fn shadowing_literal(p: f64) -> f64 {
    let p = [p, 2.0 * p];
    p[0] * p[1]
}

#[test]
fn copies_that_shadow_their_source() {
    let w = [1.0, 3.0];
    assert_eq!(shadowing_to_vec_grad(&w), (6.0, vec![6.0, 2.0]));
    assert_eq!(shadowing_array_copy_grad(w), (6.0, [6.0, 2.0]));
    assert_eq!(shadowing_literal_grad(3.0), (18.0, 12.0));
    common::check_all(
        "shadowing_to_vec",
        &[0.7, -1.3],
        |x| shadowing_to_vec(x),
        |x, v| shadowing_to_vec_fwd(x, v),
        |x, d, r| shadowing_to_vec_adjoint(x, d, r),
        |x| shadowing_to_vec_grad(x),
    );
}

#[test]
fn shadowing_copies_against_differences() {
    common::check_all(
        "shadowing_array_copy",
        &[0.7, -1.3],
        |x| shadowing_array_copy([x[0], x[1]]),
        |x, v| shadowing_array_copy_fwd([x[0], x[1]], [v[0], v[1]]),
        |x, d, r| {
            let mut da = [d[0], d[1]];
            let y = shadowing_array_copy_adjoint([x[0], x[1]], &mut da, r);
            d.copy_from_slice(&da);
            y
        },
        |x| {
            let (y, g) = shadowing_array_copy_grad([x[0], x[1]]);
            (y, g.to_vec())
        },
    );
    check_scalar!(shadowing_literal, shadowing_literal_fwd, shadowing_literal_adjoint, shadowing_literal_grad; [0.8]);
}
