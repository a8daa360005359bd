//! The `Accept` rows of the soundness table (`autodiff-macros/src/soundness.rs`,
//! issue 9), compiled for real and checked numerically: `_grad` against central
//! differences, `_fwd` against `_grad` along every unit vector and, along a
//! random tangent, against `_adjoint` (dot-product identity), accumulation into
//! pre-filled shadows, and the primal value of every mode equal to the
//! function's own.
//!
//! Every function here with `#[differentiate]` is a row of the table, token for
//! token (the unit test `soundness::table_is_well_formed` compares them), except
//! the helpers at the top. `Either` rows (sound whether accepted or rejected)
//! are here too. A row the macro rejects today is gated out with
//! `#[cfg(any())]` together with its check (`#[ignore = "issue 9: .."]`); the
//! table reports a gate that has become stale. When a `Reject` row of the table
//! flips to `Accept`, its function goes here with a check line.
//!
//! Run: `cargo test -q --test soundness`.

// The functions are written in the forms under test, not as clippy prefers.
#![allow(
    unused_assignments,
    unused_parens,
    unused_braces,
    unused_variables,
    clippy::all,
    clippy::pedantic
)]

#[macro_use]
mod common;

use autodiff::differentiate;
use autodiff::Float;

// ---------------------------------------------------------------------------
// Helpers the rows call (not rows themselves)
// ---------------------------------------------------------------------------

#[differentiate]
fn sq(v: f64) -> f64 {
    v * v
}

#[differentiate]
fn mul2(a: f64, b: f64) -> f64 {
    a * b
}

#[differentiate]
fn total(w: &[f64]) -> f64 {
    let mut s = 0.0;
    for e in w.iter() {
        s += e;
    }
    s
}

/// A function with a hand-written derivative (API.md: `g_fwd` and `g_adjoint` by hand).
fn opaque(x: f64) -> f64 {
    x.sin()
}

fn opaque_fwd(x: f64, dx: f64) -> (f64, f64) {
    (x.sin(), x.cos() * dx)
}

fn opaque_adjoint(x: f64, dx: &mut f64, dret: f64) -> f64 {
    *dx += dret * x.cos();
    x.sin()
}

mod helpers {
    use autodiff::differentiate;

    #[differentiate]
    pub fn cube(x: f64) -> f64 {
        x * x * x
    }
}

/// A plain function: called with passive arguments only, so left alone.
fn konst(v: f64) -> f64 {
    v * 1.5
}

/// Passive data with float fields.
#[derive(Clone, Copy, Debug)]
struct Pt {
    a: f64,
    b: f64,
}

/// A passive receiver with a float field.
struct Scale {
    k: f64,
}

/// A parameter struct (API.md "Parameters as structs").
#[derive(Clone, Debug, autodiff::Differentiable)]
struct Lin {
    w: Vec<f64>,
    b: f64,
}

// ---------------------------------------------------------------------------
// Check macros: one `#[test]` per row, named after the row, in `mod check`.
// ---------------------------------------------------------------------------

/// `fn f(x: F) -> F`.
macro_rules! s1 {
    ($f:ident, $fwd:ident, $adj:ident, $grad:ident; $x:expr) => {
        #[test]
        fn $f() {
            check_scalar!(super::$f, super::$fwd, super::$adj, super::$grad; [$x]);
        }
    };
}

/// `fn f(x: F) -> F` with a section in `f32`: tolerances of `f32` precision.
macro_rules! s1_f32 {
    ($f:ident, $fwd:ident, $adj:ident, $grad:ident; $x:expr) => {
        #[test]
        fn $f() {
            common::check_all_prec(
                stringify!($f),
                &[$x],
                common::Tol::F32,
                |x| super::$f(x[0]),
                |x, v| super::$fwd(x[0], v[0]),
                |x, d, r| {
                    let mut d0 = d[0];
                    let y = super::$adj(x[0], &mut d0, r);
                    d[0] = d0;
                    y
                },
                |x| {
                    let (y, g) = super::$grad(x[0]);
                    (y, vec![g])
                },
            );
        }
    };
}

/// `fn f(x: f64, n: usize) -> f64`, for `n` in `0..3`.
macro_rules! xn {
    ($f:ident, $fwd:ident, $adj:ident, $grad:ident; $x:expr) => {
        #[test]
        fn $f() {
            for n in 0..3 {
                common::check_all(
                    stringify!($f),
                    &[$x],
                    |x| super::$f(x[0], n),
                    |x, v| super::$fwd(x[0], v[0], n),
                    |x, d, r| super::$adj(x[0], &mut d[0], n, r),
                    |x| {
                        let (y, g) = super::$grad(x[0], n);
                        (y, vec![g])
                    },
                );
            }
        }
    };
}

/// `fn f(w: &[f64]) -> f64`.
macro_rules! v {
    ($f:ident, $fwd:ident, $adj:ident, $grad:ident; $w:expr) => {
        #[test]
        fn $f() {
            let w: &[f64] = &$w;
            common::check_all(
                stringify!($f),
                w,
                |x| super::$f(x),
                |x, d| super::$fwd(x, d),
                |x, d, r| super::$adj(x, d, r),
                |x| super::$grad(x),
            );
        }
    };
}

/// `fn f(a: [f64; 3]) -> f64`.
macro_rules! a3 {
    ($f:ident, $fwd:ident, $adj:ident, $grad:ident; $w:expr) => {
        #[test]
        fn $f() {
            let arr = |x: &[f64]| -> [f64; 3] { x.try_into().unwrap() };
            let w: &[f64] = &$w;
            common::check_all(
                stringify!($f),
                w,
                |x| super::$f(arr(x)),
                |x, d| super::$fwd(arr(x), arr(d)),
                |x, d, r| {
                    let mut da = arr(d);
                    let y = super::$adj(arr(x), &mut da, r);
                    d.copy_from_slice(&da);
                    y
                },
                |x| {
                    let (y, g) = super::$grad(arr(x));
                    (y, g.to_vec())
                },
            );
        }
    };
}

/// `fn f(x: f64, w: &[f64]) -> f64`, flattened to `[x, w..]`.
#[allow(unused_macros)] // its rows are gated while the macro rejects them
macro_rules! xv {
    ($f:ident, $fwd:ident, $adj:ident, $grad:ident; $x:expr, $w:expr) => {
        #[test]
        fn $f() {
            let w: &[f64] = &$w;
            let mut z = vec![$x];
            z.extend_from_slice(w);
            common::check_all(
                stringify!($f),
                &z,
                |z| super::$f(z[0], &z[1..]),
                |z, d| super::$fwd(z[0], d[0], &z[1..], &d[1..]),
                |z, d, r| {
                    let (d0, dw) = d.split_at_mut(1);
                    let mut dx = d0[0];
                    let y = super::$adj(z[0], &mut dx, &z[1..], dw, r);
                    d0[0] = dx;
                    y
                },
                |z| {
                    let (y, (gx, gw)) = super::$grad(z[0], &z[1..]);
                    let mut g = vec![gx];
                    g.extend(gw);
                    (y, g)
                },
            );
        }
    };
}

/// `fn f(x: f64, p: P) -> f64` with `p` passive, checked as a function of `x`.
macro_rules! x_passive {
    ($f:ident, $fwd:ident, $adj:ident, $grad:ident; $x:expr, $p:expr) => {
        #[test]
        fn $f() {
            let p = $p;
            common::check_all(
                stringify!($f),
                &[$x],
                |x| super::$f(x[0], p),
                |x, d| super::$fwd(x[0], d[0], p),
                |x, d, r| {
                    let mut d0 = d[0];
                    let y = super::$adj(x[0], &mut d0, p, r);
                    d[0] = d0;
                    y
                },
                |x| {
                    let (y, g) = super::$grad(x[0], p);
                    (y, vec![g])
                },
            );
        }
    };
}

/// `fn f(&self, x: f64) -> f64` on a passive receiver.
macro_rules! method {
    ($f:ident, $fwd:ident, $adj:ident, $grad:ident; $recv:expr, $x:expr) => {
        #[test]
        fn $f() {
            let s = $recv;
            common::check_all(
                stringify!($f),
                &[$x],
                |x| s.$f(x[0]),
                |x, d| s.$fwd(x[0], d[0]),
                |x, d, r| {
                    let mut d0 = d[0];
                    let y = s.$adj(x[0], &mut d0, r);
                    d[0] = d0;
                    y
                },
                |x| {
                    let (y, g) = s.$grad(x[0]);
                    (y, vec![g])
                },
            );
        }
    };
}

// ---------------------------------------------------------------------------
// position × known method
// ---------------------------------------------------------------------------

#[differentiate]
fn pos_let_known(x: f64) -> f64 {
    let y = x.sin();
    y * x
}

#[differentiate]
fn pos_let_typed_known(x: f64) -> f64 {
    let y: f64 = x.sin();
    y * x
}

#[differentiate]
fn pos_assign_known(x: f64) -> f64 {
    let mut y = 0.0;
    y = x.sin();
    y * x
}

#[differentiate]
fn pos_compound_add_known(x: f64) -> f64 {
    let mut y = x;
    y += x.sin();
    y * y
}

#[differentiate]
fn pos_compound_mul_known(x: f64) -> f64 {
    let mut y = x;
    y *= x.sin();
    y
}

#[differentiate]
fn pos_compound_div_known(x: f64) -> f64 {
    let mut y = x;
    y /= 2.0 + x.sin();
    y
}

#[differentiate]
fn pos_call_arg_known(x: f64) -> f64 {
    sq(x.sin()) + x
}

#[differentiate]
fn pos_call_arg_nested_known(x: f64) -> f64 {
    sq(sq(x.sin()) + x)
}

#[differentiate]
fn pos_method_recv_known(x: f64) -> f64 {
    (x.sin()).exp() * x
}

#[differentiate]
fn pos_method_arg_known(x: f64) -> f64 {
    x.hypot(x.sin())
}

#[differentiate]
fn pos_path_arg_known(x: f64) -> f64 {
    f64::atan2(x.sin(), 0.4) * x
}

#[differentiate]
fn pos_binary_known(x: f64) -> f64 {
    x.sin() * x + 1.0
}

#[differentiate]
fn pos_neg_known(x: f64) -> f64 {
    -(x.sin()) * x
}

#[differentiate]
fn pos_paren_known(x: f64) -> f64 {
    (x.sin()) * x
}

#[differentiate]
fn pos_if_then_known(x: f64) -> f64 {
    if x > 0.0 {
        x.sin()
    } else {
        x
    }
}

#[differentiate]
fn pos_if_else_known(x: f64) -> f64 {
    if x < 0.0 {
        x
    } else {
        x.sin()
    }
}

#[differentiate]
fn pos_if_stmt_known(x: f64) -> f64 {
    let mut y = x;
    if x > 0.0 {
        y = x.sin();
    }
    y * x
}

#[differentiate]
fn pos_else_if_known(x: f64) -> f64 {
    if x < -1.0 {
        x
    } else if x < 5.0 {
        x.sin()
    } else {
        2.0 * x
    }
}

#[differentiate]
fn pos_if_cond_known(x: f64) -> f64 {
    if x.sin() > 0.1 {
        x * 2.0
    } else {
        x * 3.0
    }
}

// ---------------------------------------------------------------------------
// position × unknown method
// ---------------------------------------------------------------------------

/// Either("method"): sound either way; checked while the macro accepts it.
#[cfg(any())] // issue 9: rejected by the macro today
#[differentiate]
fn pos_if_cond_unknown(x: f64) -> f64 {
    if x.fract() > 0.1 {
        x * 2.0
    } else {
        x * 3.0
    }
}

// ---------------------------------------------------------------------------
// position × iterator chain
// ---------------------------------------------------------------------------

/// Either("iterator"): sound either way; checked while the macro accepts it.
#[differentiate]
fn pos_if_cond_chain(w: &[f64]) -> f64 {
    let x = w[1];
    if w.iter().map(|v| v * v).sum::<f64>() > 0.1 {
        x * 2.0
    } else {
        x * 3.0
    }
}

// ---------------------------------------------------------------------------
// position × known method
// ---------------------------------------------------------------------------

#[differentiate]
fn pos_while_cond_known(x: f64) -> f64 {
    let mut s = x;
    while s < 10.0 * x.sin() {
        s = s * 2.0;
    }
    s
}

// ---------------------------------------------------------------------------
// position × unknown method
// ---------------------------------------------------------------------------

/// Either("method"): sound either way; checked while the macro accepts it.
#[cfg(any())] // issue 9: rejected by the macro today
#[differentiate]
fn pos_while_cond_unknown(x: f64) -> f64 {
    let mut s = x;
    while s < 10.0 * x.fract() {
        s = s * 2.0;
    }
    s
}

// ---------------------------------------------------------------------------
// position × iterator chain
// ---------------------------------------------------------------------------

/// Either("iterator"): sound either way; checked while the macro accepts it.
#[differentiate]
fn pos_while_cond_chain(w: &[f64]) -> f64 {
    let x = w[1];
    let mut s = x;
    while s < 10.0 * w.iter().map(|v| v * v).sum::<f64>() {
        s = s * 2.0;
    }
    s
}

// ---------------------------------------------------------------------------
// position × known method
// ---------------------------------------------------------------------------

#[differentiate]
fn pos_while_body_known(x: f64) -> f64 {
    let mut s = x;
    let mut k = 0;
    while k < 3 {
        s = s + x.sin();
        k += 1;
    }
    s
}

#[differentiate]
fn pos_for_body_known(x: f64) -> f64 {
    let mut s = 0.0;
    for _ in 0..3 {
        s += x.sin();
    }
    s * x
}

#[differentiate]
fn pos_for_body_break_known(x: f64) -> f64 {
    let mut s = x;
    for i in 0..10 {
        if i == 3 {
            break;
        }
        s = s * x.sin();
    }
    s
}

#[differentiate]
fn pos_return_early_known(x: f64) -> f64 {
    if x > 0.0 {
        return x.sin() * 2.0;
    }
    x
}

#[differentiate]
fn pos_return_last_known(x: f64) -> f64 {
    let y = x * 2.0;
    return x.sin() * y;
}

#[differentiate]
fn pos_tail_known(x: f64) -> f64 {
    x.sin()
}

#[differentiate]
fn pos_block_value_known(x: f64) -> f64 {
    let y = { x.sin() };
    y * x
}

#[differentiate]
fn pos_block_tail_known(x: f64) -> f64 {
    {
        x.sin()
    }
}

#[differentiate]
fn pos_block_let_known(x: f64) -> f64 {
    let y = {
        let t = x.sin();
        t * 2.0
    };
    y * x
}

#[differentiate]
fn pos_block_stmt_known(x: f64) -> f64 {
    let mut y = x;
    {
        y += x.sin();
    }
    y
}

#[differentiate]
fn pos_buffer_store_known(x: f64) -> f64 {
    let mut b = vec![0.0; 2];
    b[1] = x.sin();
    b[1] * x
}

#[differentiate]
fn pos_array_store_known(x: f64) -> f64 {
    let mut b = [0.0; 2];
    b[0] = x.sin();
    b[0] * x + b[1]
}

#[differentiate]
fn pos_vec_fill_known(x: f64) -> f64 {
    let b = vec![x.sin(); 3];
    b[2] * x
}

#[differentiate]
fn pos_array_fill_known(x: f64) -> f64 {
    let b = [x.sin(); 3];
    b[0] * x
}

#[differentiate]
fn pos_ref_deref_known(x: f64) -> f64 {
    let r = &x.sin();
    *r * x
}

#[differentiate]
fn pos_cast_identity_known(x: f64) -> f64 {
    (x.sin()) as f64 * x
}

#[differentiate]
fn pos_shadow_known(x: f64) -> f64 {
    let x = x.sin();
    x * 2.0
}

// ---------------------------------------------------------------------------
// known float method
// ---------------------------------------------------------------------------

#[differentiate]
fn known_exp(x: f64) -> f64 {
    x.exp() * x
}

#[differentiate]
fn known_ln(x: f64) -> f64 {
    x.ln() * x
}

#[differentiate]
fn known_sqrt(x: f64) -> f64 {
    x.sqrt() * x
}

#[differentiate]
fn known_powi(x: f64) -> f64 {
    x.powi(3) * x
}

#[differentiate]
fn known_powf(x: f64) -> f64 {
    x.powf(1.7) * x
}

#[differentiate]
fn known_sin(x: f64) -> f64 {
    x.sin() * x
}

#[differentiate]
fn known_cos(x: f64) -> f64 {
    x.cos() * x
}

#[differentiate]
fn known_tan(x: f64) -> f64 {
    x.tan() * x
}

#[differentiate]
fn known_tanh(x: f64) -> f64 {
    x.tanh() * x
}

#[differentiate]
fn known_sinh(x: f64) -> f64 {
    x.sinh() * x
}

#[differentiate]
fn known_cosh(x: f64) -> f64 {
    x.cosh() * x
}

#[differentiate]
fn known_asin(x: f64) -> f64 {
    x.asin() * x
}

#[differentiate]
fn known_acos(x: f64) -> f64 {
    x.acos() * x
}

#[differentiate]
fn known_atan(x: f64) -> f64 {
    x.atan() * x
}

#[differentiate]
fn known_atan2(x: f64) -> f64 {
    x.atan2(0.4) * x
}

#[differentiate]
fn known_abs(x: f64) -> f64 {
    (x - 1.0).abs() * x
}

#[differentiate]
fn known_max(x: f64) -> f64 {
    x.max(0.2) * x
}

#[differentiate]
fn known_min(x: f64) -> f64 {
    x.min(0.9) * x
}

#[differentiate]
fn known_hypot(x: f64) -> f64 {
    x.hypot(0.4) * x
}

#[differentiate]
fn known_recip(x: f64) -> f64 {
    (x + 1.0).recip() * x
}

#[differentiate]
fn known_exp2(x: f64) -> f64 {
    x.exp2() * x
}

#[differentiate]
fn known_log2(x: f64) -> f64 {
    x.log2() * x
}

#[differentiate]
fn known_log10(x: f64) -> f64 {
    x.log10() * x
}

#[differentiate]
fn known_ln_1p(x: f64) -> f64 {
    x.ln_1p() * x
}

#[differentiate]
fn known_exp_m1(x: f64) -> f64 {
    x.exp_m1() * x
}

#[differentiate]
fn known_mul_add(x: f64) -> f64 {
    x.mul_add(x, 0.3) * x
}

#[differentiate]
fn known_signum(x: f64) -> f64 {
    x.signum() * x
}

#[differentiate]
fn known_floor(x: f64) -> f64 {
    (3.0 * x).floor() * x
}

#[differentiate]
fn known_ceil(x: f64) -> f64 {
    (3.0 * x).ceil() * x
}

#[differentiate]
fn known_round(x: f64) -> f64 {
    (3.0 * x).round() * x
}

// ---------------------------------------------------------------------------
// known float method (implemented, not in API.md)
// ---------------------------------------------------------------------------

#[differentiate]
fn known_log(x: f64) -> f64 {
    x.log(3.0) * x
}

#[differentiate]
fn known_cbrt(x: f64) -> f64 {
    x.cbrt() * x
}

#[differentiate]
fn known_asinh(x: f64) -> f64 {
    x.asinh() * x
}

#[differentiate]
fn known_acosh(x: f64) -> f64 {
    (x + 1.0).acosh() * x
}

#[differentiate]
fn known_atanh(x: f64) -> f64 {
    x.atanh() * x
}

#[differentiate]
fn known_trunc(x: f64) -> f64 {
    (3.0 * x).trunc() * x
}

#[differentiate]
fn known_rem(x: f64) -> f64 {
    x % 0.5 * x
}

// ---------------------------------------------------------------------------
// known float method
// ---------------------------------------------------------------------------

#[differentiate]
fn known_powf_active(x: f64) -> f64 {
    x.powf(x)
}

#[differentiate]
fn known_atan2_active(x: f64) -> f64 {
    x.atan2(x * 0.5 + 1.0)
}

#[differentiate]
fn known_max_active(x: f64) -> f64 {
    x.max(x * x)
}

#[differentiate]
fn known_min_active(x: f64) -> f64 {
    x.min(x * x)
}

#[differentiate]
fn known_hypot_active(x: f64) -> f64 {
    x.hypot(2.0 * x)
}

#[differentiate]
fn known_mul_add_active(x: f64) -> f64 {
    x.mul_add(x, x)
}

#[differentiate]
fn known_chain(x: f64) -> f64 {
    x.sin().exp().sqrt() * x.cos().abs()
}

#[differentiate]
fn path_exp(x: f64) -> f64 {
    f64::exp(x) * x
}

#[differentiate]
fn path_powi(x: f64) -> f64 {
    f64::powi(x, 3) + x
}

#[differentiate]
fn path_atan2(x: f64) -> f64 {
    f64::atan2(x, 0.4) * x
}

#[differentiate]
fn path_max(x: f64) -> f64 {
    f64::max(x, 0.2) * x
}

#[differentiate]
fn path_mul_add(x: f64) -> f64 {
    f64::mul_add(x, x, 0.3)
}

#[differentiate]
fn path_hypot(x: f64) -> f64 {
    f64::hypot(x, x * x)
}

#[differentiate]
fn path_const_pi(x: f64) -> f64 {
    std::f64::consts::PI * x * x
}

#[differentiate]
fn path_const_e(x: f64) -> f64 {
    std::f64::consts::E * x + f64::EPSILON
}

#[differentiate]
fn path_generic<T: Float>(x: T) -> T {
    T::sin(x) * x + x.exp()
}

#[differentiate]
fn known_f32(x: f32) -> f32 {
    x.sin() * x + x.sqrt()
}

// ---------------------------------------------------------------------------
// iterator chain
// ---------------------------------------------------------------------------

/// Either("iterator"): sound either way; checked while the macro accepts it.
#[cfg(any())] // rejected (an iterator chain feeding a comparison; either outcome is sound)
#[differentiate]
fn iter_any_passive(w: &[f64]) -> f64 {
    if w.iter().any(|v| *v > 5.0) {
        0.0
    } else {
        w[0] * w[1]
    }
}

/// Either("iterator"): sound either way; checked while the macro accepts it.
#[cfg(any())] // issue 9: rejected by the macro today
#[differentiate]
fn iter_position_passive(w: &[f64]) -> f64 {
    let i = w.iter().position(|v| *v > 0.7).unwrap();
    w[i] * 2.0
}

// ---------------------------------------------------------------------------
// for over an iterator
// ---------------------------------------------------------------------------

/// Either("iterator"): sound either way; checked while the macro accepts it.
#[differentiate]
fn for_array_by_value(a: [f64; 3]) -> f64 {
    let mut s = 0.0;
    for v in a {
        s += v * v;
    }
    s
}

// ---------------------------------------------------------------------------
// closure
// ---------------------------------------------------------------------------

/// Either("closure"): sound either way; checked while the macro accepts it.
#[differentiate]
fn closure_passive(x: f64) -> f64 {
    let k = |i: usize| i * 2;
    x * k(3) as f64
}

// ---------------------------------------------------------------------------
// control flow in the subset
// ---------------------------------------------------------------------------

#[differentiate]
fn ctl_if_else(x: f64) -> f64 {
    if x > 0.5 {
        x * x
    } else {
        x.sin()
    }
}

#[differentiate]
fn ctl_else_if(x: f64) -> f64 {
    if x > 2.0 {
        x
    } else if x > 0.5 {
        x * x
    } else {
        -x
    }
}

#[differentiate]
fn ctl_while(x: f64) -> f64 {
    let mut s = x;
    let mut k = 0;
    while k < 4 {
        s = s * x + 1.0;
        k += 1;
    }
    s
}

#[differentiate]
fn ctl_while_float_cond(x: f64) -> f64 {
    let mut s = x;
    while s < 5.0 {
        s = s * 1.5 + 0.1;
    }
    s
}

#[differentiate]
fn ctl_for_range(x: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..4 {
        s += x.powi(i as i32);
    }
    s
}

#[differentiate]
fn ctl_for_inclusive(x: f64) -> f64 {
    let mut s = 0.0;
    for i in 1..=3 {
        s += x / i as f64;
    }
    s
}

#[differentiate]
fn ctl_for_rev(x: f64) -> f64 {
    let mut s = 0.0;
    for i in (0..3).rev() {
        s = s * x + i as f64;
    }
    s
}

#[differentiate]
fn ctl_break(x: f64) -> f64 {
    let mut s = x;
    for _ in 0..10 {
        if s > 3.0 {
            break;
        }
        s = s * x + 1.0;
    }
    s
}

#[differentiate]
fn ctl_continue(x: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..4 {
        if i == 2 {
            continue;
        }
        s += x * i as f64;
    }
    s
}

#[differentiate]
fn ctl_early_return_loop(x: f64) -> f64 {
    let mut s = x;
    for _ in 0..10 {
        s = s * 2.0;
        if s > 3.0 {
            return s * x;
        }
    }
    s
}

#[differentiate]
fn ctl_shadowing(x: f64) -> f64 {
    let y = x * 2.0;
    let y = y.sin() + x;
    let y = y * y;
    y
}

#[differentiate]
fn ctl_late_init(x: f64) -> f64 {
    let c: f64;
    c = x * 3.0;
    c + x
}

#[differentiate]
fn ctl_block_let(x: f64) -> f64 {
    let y = {
        let t = x * 2.0;
        t
    };
    y * x
}

#[differentiate]
fn ctl_for_iter(w: &[f64]) -> f64 {
    let mut s = 0.0;
    for e in w.iter() {
        s += e * e;
    }
    s
}

#[differentiate]
fn ctl_for_slice(w: &[f64]) -> f64 {
    let mut s = 0.0;
    for e in w {
        s += e * e;
    }
    s
}

#[differentiate]
fn ctl_for_ref_pat(w: &[f64]) -> f64 {
    let mut s = 0.0;
    for &e in w.iter() {
        s += e * e;
    }
    s
}

#[differentiate]
fn ctl_for_enumerate(w: &[f64]) -> f64 {
    let mut s = 0.0;
    for (i, e) in w.iter().enumerate() {
        s += e * (i as f64 + 1.0);
    }
    s
}

#[differentiate]
fn ctl_for_zip(w: &[f64]) -> f64 {
    let mut s = 0.0;
    for (p, q) in w.iter().zip(w.iter()) {
        s += p * q;
    }
    s
}

#[differentiate]
fn ctl_for_index(w: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len() {
        s += w[i] * w[i];
    }
    s
}

#[differentiate]
fn ctl_for_ref_array(a: [f64; 3]) -> f64 {
    let mut s = 0.0;
    for e in &a {
        s += e.sin();
    }
    s
}

// ---------------------------------------------------------------------------
// struct and field
// ---------------------------------------------------------------------------

#[differentiate]
fn st_passive_literal(x: f64) -> f64 {
    let p = Pt { a: 1.5, b: 2.0 };
    p.a * x + p.b
}

#[differentiate]
fn st_passive_param(x: f64, p: &Pt) -> f64 {
    x * p.a + p.b * x.sin()
}

impl Scale {
    #[differentiate]
    fn self_field_max(&self, x: f64) -> f64 {
        self.k.max(x)
    }
}

impl Scale {
    #[differentiate]
    fn self_field_mul(&self, x: f64) -> f64 {
        self.k * x * x + self.k.sin()
    }
}

#[differentiate(wrt(p))]
fn st_param_wrt(p: &Lin, x: f64) -> f64 {
    p.b * x + p.w[0] * p.w[1]
}

#[differentiate(wrt(p))]
fn st_param_iter(p: &Lin, x: f64) -> f64 {
    let mut s = 0.0;
    for wi in p.w.iter() {
        s += wi * x;
    }
    s * s + p.b
}

#[differentiate(wrt(p))]
fn st_param_view(p: &Lin, x: f64) -> f64 {
    let v = &p.w[0..2];
    v[0] * v[1] * p.b + x
}

#[differentiate(wrt(p))]
fn st_param_len(p: &Lin, x: f64) -> f64 {
    let n = p.w.len();
    p.w[n - 1] * p.b.exp() * x
}

impl Lin {
    #[differentiate(wrt(self))]
    fn total(&self) -> f64 {
        self.b * self.w[0] + self.w[2] * self.w[1]
    }
}

#[differentiate(wrt(p))]
fn st_param_method(p: &Lin, x: f64) -> f64 {
    p.total() * x + p.b
}

#[differentiate(wrt(p))]
fn st_param_vec_macro(p: &Lin, x: f64) -> f64 {
    let v = vec![p.b; 2];
    assert!(p.w.len() > 1);
    v[0] * v[1] * x + p.w[0]
}

#[differentiate(wrt(p))]
fn st_param_call_arg(p: &Lin, x: f64) -> f64 {
    sq(p.b) * x + sq(p.w[1])
}

// ---------------------------------------------------------------------------
// call
// ---------------------------------------------------------------------------

#[differentiate]
fn call_sq(x: f64) -> f64 {
    sq(x) * x
}

#[differentiate]
fn call_nested(x: f64) -> f64 {
    sq(sq(x) + x)
}

#[differentiate]
fn call_two_args(x: f64) -> f64 {
    mul2(x, x.sin())
}

#[differentiate]
fn call_block_arg(x: f64) -> f64 {
    sq({
        let t = x * 2.0;
        t
    })
}

#[differentiate]
fn call_custom_derivative(x: f64) -> f64 {
    opaque(x) * x
}

#[differentiate]
fn call_module_path(x: f64) -> f64 {
    helpers::cube(x) + x
}

#[differentiate]
fn call_passive_args(x: f64) -> f64 {
    x * konst(2.0)
}

#[differentiate]
fn call_slice(w: &[f64]) -> f64 {
    total(w) * w[0]
}

#[differentiate]
fn call_view(w: &[f64]) -> f64 {
    let u = &w[0..2];
    total(u) * w[2]
}

#[differentiate]
fn call_local_buf(w: &[f64]) -> f64 {
    let mut b = vec![0.0; 2];
    b[0] = w[0] * w[1];
    b[1] = w[2];
    total(&b)
}

// ---------------------------------------------------------------------------
// reference and deref
// ---------------------------------------------------------------------------

/// Either("`&mut`"): sound either way; checked while the macro accepts it.
#[differentiate]
fn mut_ref_read(x: f64) -> f64 {
    let mut y = x;
    let r = &mut y;
    *r * 2.0
}

#[differentiate]
fn ref_deref_direct(x: f64) -> f64 {
    *&x * 3.0
}

#[differentiate]
fn ref_let(x: f64) -> f64 {
    let r = &x;
    *r * x
}

#[differentiate]
fn ref_call_arg(x: f64) -> f64 {
    sq(*&x) + x
}

#[differentiate]
fn ref_elem(w: &[f64]) -> f64 {
    let r = &w[1];
    *r * w[0]
}

// ---------------------------------------------------------------------------
// cast
// ---------------------------------------------------------------------------

#[differentiate]
fn cast_f32(x: f64) -> f64 {
    (x as f32 * 2.0) as f64
}

#[differentiate]
fn cast_f32_let(x: f64) -> f64 {
    let y = x as f32;
    y as f64 * x
}

/// Either("cast"): sound either way; checked while the macro accepts it.
#[cfg(any())] // issue 9: rejected by the macro today
#[differentiate]
fn cast_i64_f64(x: f64) -> f64 {
    (x * 3.0) as i64 as f64 * x
}

/// Either("cast"): sound either way; checked while the macro accepts it.
#[cfg(any())] // issue 9: rejected by the macro today
#[differentiate]
fn cast_bool_f64(x: f64) -> f64 {
    (x > 0.5) as u8 as f64 * x
}

#[cfg(any())] // rejected: a differentiated value used as an index (documented)
/// Either("index"): sound either way; checked while the macro accepts it.
#[differentiate]
fn cast_usize_index(x: f64, w: &[f64]) -> f64 {
    w[x as usize] * x
}

#[cfg(any())] // rejected: a differentiated value used as an index (documented)
/// Either("index"): sound either way; checked while the macro accepts it.
#[differentiate]
fn cast_floor_index(x: f64, w: &[f64]) -> f64 {
    w[x.floor() as usize] * x
}

#[differentiate]
fn cast_int_to_float(x: f64) -> f64 {
    let n = 3;
    x * n as f64
}

#[differentiate]
fn cast_len_mean(w: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len() {
        s += w[i];
    }
    s / w.len() as f64
}

// ---------------------------------------------------------------------------
// passive use of a float
// ---------------------------------------------------------------------------

#[differentiate]
fn pas_cmp(x: f64) -> f64 {
    let pos = x > 0.5;
    if pos {
        x * x
    } else {
        -x
    }
}

#[differentiate]
fn pas_is_nan(x: f64) -> f64 {
    if x.is_nan() {
        0.0
    } else {
        x * x
    }
}

#[differentiate]
fn pas_is_finite_and(x: f64) -> f64 {
    if x.is_finite() && x.is_sign_positive() {
        x.sqrt()
    } else {
        x
    }
}

#[differentiate]
fn pas_total_cmp(x: f64) -> f64 {
    if x.total_cmp(&0.5) == std::cmp::Ordering::Greater {
        x * x
    } else {
        x
    }
}

#[differentiate]
fn pas_unused_stmt(x: f64) -> f64 {
    let _ = x.is_nan();
    x * 2.0
}

#[cfg(any())] // rejected: a differentiated value used as an index (documented)
#[differentiate]
fn pas_cmp_cast_index(x: f64, w: &[f64]) -> f64 {
    w[(x > 0.5) as usize] * x
}

#[differentiate]
fn pas_len_index(w: &[f64]) -> f64 {
    w[w.len() - 1] * w[0]
}

#[differentiate]
fn pas_buf_contains(w: &[f64]) -> f64 {
    if w.contains(&0.0) {
        0.0
    } else {
        w[0] * w[1]
    }
}

#[differentiate]
fn pas_buf_is_empty(w: &[f64]) -> f64 {
    if w.is_empty() {
        0.0
    } else {
        w[0] * w[1]
    }
}

#[differentiate(wrt(x))]
fn pas_wrt_excluded(x: f64, y: f64) -> f64 {
    x * y.sin() + y
}

// ---------------------------------------------------------------------------
// buffer
// ---------------------------------------------------------------------------

#[differentiate]
fn buf_local_vec(w: &[f64]) -> f64 {
    let mut b = vec![0.0; w.len()];
    for i in 0..w.len() {
        b[i] = w[i] * w[i];
    }
    let mut s = 0.0;
    for i in 0..b.len() {
        s += b[i] * w[i];
    }
    s
}

#[differentiate]
fn buf_local_array(x: f64) -> f64 {
    let mut b = [0.0; 3];
    b[0] = x;
    b[1] = b[0] * x;
    b[2] = b[1] * x;
    b[0] + b[1] + b[2]
}

#[differentiate]
fn buf_view(w: &[f64]) -> f64 {
    let u = &w[1..3];
    u[0] * u[1]
}

#[differentiate]
fn buf_to_vec_let(w: &[f64]) -> f64 {
    let c = w.to_vec();
    c[0] * c[1]
}

#[differentiate]
fn buf_array_param(a: [f64; 3]) -> f64 {
    a[0] * a[1] + a[2].sin()
}

// ---------------------------------------------------------------------------
// macro
// ---------------------------------------------------------------------------

/// Either("macro"): sound either way; checked while the macro accepts it.
#[differentiate]
fn mac_println(x: f64) -> f64 {
    println!("{x}");
    x * x
}

/// Either("macro"): sound either way; checked while the macro accepts it.
#[cfg(any())] // issue 9: rejected by the macro today
#[differentiate]
fn mac_println_args(x: f64) -> f64 {
    println!("{} {}", x, x * 2.0);
    x * x
}

/// Either("macro"): sound either way; checked while the macro accepts it.
#[differentiate]
fn mac_eprintln(x: f64) -> f64 {
    eprintln!("{x:?}");
    x * x
}

/// Either("macro"): sound either way; checked while the macro accepts it.
#[differentiate]
fn mac_format_len(x: f64) -> f64 {
    let s = format!("{x:.2}");
    s.len() as f64 * x
}

#[differentiate]
fn mac_println_passive(x: f64) -> f64 {
    println!("hi");
    x * x
}

// ---------------------------------------------------------------------------
// parameter type
// ---------------------------------------------------------------------------

/// Accept: a nested buffer is active (its shadow has its shape).
#[differentiate]
fn sig_nested_array(x: f64, m: [[f64; 2]; 2]) -> f64 {
    m[0][0] * x
}

/// Accept: a jagged nested buffer is active.
#[differentiate]
fn sig_slice_of_vec(x: f64, m: &[Vec<f64>]) -> f64 {
    m[0][0] * x
}

/// Accept: left out of `wrt(..)`, a nested buffer is data.
#[differentiate(wrt(x))]
fn sig_nested_data(x: f64, m: &[[f64; 2]]) -> f64 {
    m[0][0] * x
}

#[differentiate]
fn sig_nested_slice(m: &[[f64; 2]]) -> f64 {
    m[0][0] * m[1][1]
}

/// Accept: `f64::from(x)` is the cast `x as f64`.
#[differentiate]
#[allow(clippy::useless_conversion)]
fn call_f64_from(x: f64) -> f64 {
    f64::from(x) * 2.0
}

#[differentiate]
fn array_lit_let(x: f64) -> f64 {
    let b = [x, 2.0 * x];
    b[0] * b[1]
}

#[differentiate]
fn array_lit_nested(x: f64) -> f64 {
    let m = [[x, 1.0], [2.0, x * x]];
    m[0][0] * m[1][1] - m[0][1] * m[1][0]
}

// ---------------------------------------------------------------------------
// The checks, one test per row
// ---------------------------------------------------------------------------

// ---------------------------------------------------------------------------
// iterator chains (Either: differentiated, or rejected while a form is not supported)
// ---------------------------------------------------------------------------

#[differentiate]
fn pos_let_chain(w: &[f64]) -> f64 {
    let x = w[1];
    let y = w.iter().map(|v| v * v).sum::<f64>();
    y * x
}

#[differentiate]
fn pos_let_typed_chain(w: &[f64]) -> f64 {
    let x = w[1];
    let y: f64 = w.iter().map(|v| v * v).sum::<f64>();
    y * x
}

#[differentiate]
fn pos_assign_chain(w: &[f64]) -> f64 {
    let x = w[1];
    let mut y = 0.0;
    y = w.iter().map(|v| v * v).sum::<f64>();
    y * x
}

#[differentiate]
fn pos_compound_add_chain(w: &[f64]) -> f64 {
    let x = w[1];
    let mut y = x;
    y += w.iter().map(|v| v * v).sum::<f64>();
    y * y
}

#[differentiate]
fn pos_compound_mul_chain(w: &[f64]) -> f64 {
    let x = w[1];
    let mut y = x;
    y *= w.iter().map(|v| v * v).sum::<f64>();
    y
}

#[differentiate]
fn pos_compound_div_chain(w: &[f64]) -> f64 {
    let x = w[1];
    let mut y = x;
    y /= 2.0 + w.iter().map(|v| v * v).sum::<f64>();
    y
}

#[differentiate]
fn pos_call_arg_chain(w: &[f64]) -> f64 {
    let x = w[1];
    sq(w.iter().map(|v| v * v).sum::<f64>()) + x
}

#[differentiate]
fn pos_call_arg_nested_chain(w: &[f64]) -> f64 {
    let x = w[1];
    sq(sq(w.iter().map(|v| v * v).sum::<f64>()) + x)
}

#[differentiate]
fn pos_method_recv_chain(w: &[f64]) -> f64 {
    let x = w[1];
    (w.iter().map(|v| v * v).sum::<f64>()).exp() * x
}

#[differentiate]
fn pos_method_arg_chain(w: &[f64]) -> f64 {
    let x = w[1];
    x.hypot(w.iter().map(|v| v * v).sum::<f64>())
}

#[differentiate]
fn pos_path_arg_chain(w: &[f64]) -> f64 {
    let x = w[1];
    f64::atan2(w.iter().map(|v| v * v).sum::<f64>(), 0.4) * x
}

#[differentiate]
fn pos_binary_chain(w: &[f64]) -> f64 {
    let x = w[1];
    w.iter().map(|v| v * v).sum::<f64>() * x + 1.0
}

#[differentiate]
fn pos_neg_chain(w: &[f64]) -> f64 {
    let x = w[1];
    -(w.iter().map(|v| v * v).sum::<f64>()) * x
}

#[differentiate]
fn pos_paren_chain(w: &[f64]) -> f64 {
    let x = w[1];
    (w.iter().map(|v| v * v).sum::<f64>()) * x
}

#[differentiate]
fn pos_if_then_chain(w: &[f64]) -> f64 {
    let x = w[1];
    if x > 0.0 {
        w.iter().map(|v| v * v).sum::<f64>()
    } else {
        x
    }
}

#[differentiate]
fn pos_if_else_chain(w: &[f64]) -> f64 {
    let x = w[1];
    if x < 0.0 {
        x
    } else {
        w.iter().map(|v| v * v).sum::<f64>()
    }
}

#[differentiate]
fn pos_if_stmt_chain(w: &[f64]) -> f64 {
    let x = w[1];
    let mut y = x;
    if x > 0.0 {
        y = w.iter().map(|v| v * v).sum::<f64>();
    }
    y * x
}

#[differentiate]
fn pos_else_if_chain(w: &[f64]) -> f64 {
    let x = w[1];
    if x < -1.0 {
        x
    } else if x < 5.0 {
        w.iter().map(|v| v * v).sum::<f64>()
    } else {
        2.0 * x
    }
}

#[differentiate]
fn pos_while_body_chain(w: &[f64]) -> f64 {
    let x = w[1];
    let mut s = x;
    let mut k = 0;
    while k < 3 {
        s = s + w.iter().map(|v| v * v).sum::<f64>();
        k += 1;
    }
    s
}

#[differentiate]
fn pos_for_body_chain(w: &[f64]) -> f64 {
    let x = w[1];
    let mut s = 0.0;
    for _ in 0..3 {
        s += w.iter().map(|v| v * v).sum::<f64>();
    }
    s * x
}

#[differentiate]
fn pos_for_body_break_chain(w: &[f64]) -> f64 {
    let x = w[1];
    let mut s = x;
    for i in 0..10 {
        if i == 3 {
            break;
        }
        s = s * w.iter().map(|v| v * v).sum::<f64>();
    }
    s
}

#[differentiate]
fn pos_return_early_chain(w: &[f64]) -> f64 {
    let x = w[1];
    if x > 0.0 {
        return w.iter().map(|v| v * v).sum::<f64>() * 2.0;
    }
    x
}

#[differentiate]
fn pos_return_last_chain(w: &[f64]) -> f64 {
    let x = w[1];
    let y = x * 2.0;
    return w.iter().map(|v| v * v).sum::<f64>() * y;
}

#[differentiate]
fn pos_tail_chain(w: &[f64]) -> f64 {
    let x = w[1];
    w.iter().map(|v| v * v).sum::<f64>()
}

#[differentiate]
fn pos_block_value_chain(w: &[f64]) -> f64 {
    let x = w[1];
    let y = { w.iter().map(|v| v * v).sum::<f64>() };
    y * x
}

#[differentiate]
fn pos_block_tail_chain(w: &[f64]) -> f64 {
    let x = w[1];
    {
        w.iter().map(|v| v * v).sum::<f64>()
    }
}

#[differentiate]
fn pos_block_let_chain(w: &[f64]) -> f64 {
    let x = w[1];
    let y = {
        let t = w.iter().map(|v| v * v).sum::<f64>();
        t * 2.0
    };
    y * x
}

#[differentiate]
fn pos_block_stmt_chain(w: &[f64]) -> f64 {
    let x = w[1];
    let mut y = x;
    {
        y += w.iter().map(|v| v * v).sum::<f64>();
    }
    y
}

#[differentiate]
fn pos_buffer_store_chain(w: &[f64]) -> f64 {
    let x = w[1];
    let mut b = vec![0.0; 2];
    b[1] = w.iter().map(|v| v * v).sum::<f64>();
    b[1] * x
}

#[differentiate]
fn pos_array_store_chain(w: &[f64]) -> f64 {
    let x = w[1];
    let mut b = [0.0; 2];
    b[0] = w.iter().map(|v| v * v).sum::<f64>();
    b[0] * x + b[1]
}

#[differentiate]
fn pos_vec_fill_chain(w: &[f64]) -> f64 {
    let x = w[1];
    let b = vec![w.iter().map(|v| v * v).sum::<f64>(); 3];
    b[2] * x
}

#[differentiate]
fn pos_array_fill_chain(w: &[f64]) -> f64 {
    let x = w[1];
    let b = [w.iter().map(|v| v * v).sum::<f64>(); 3];
    b[0] * x
}

#[differentiate]
fn pos_ref_deref_chain(w: &[f64]) -> f64 {
    let x = w[1];
    let r = &w.iter().map(|v| v * v).sum::<f64>();
    *r * x
}

#[differentiate]
fn pos_cast_identity_chain(w: &[f64]) -> f64 {
    let x = w[1];
    (w.iter().map(|v| v * v).sum::<f64>()) as f64 * x
}

#[differentiate]
fn pos_shadow_chain(w: &[f64]) -> f64 {
    let x = w[1];
    let x = w.iter().map(|v| v * v).sum::<f64>();
    x * 2.0
}

#[differentiate]
fn iter_sum(w: &[f64]) -> f64 {
    w.iter().sum::<f64>()
}

#[differentiate]
fn iter_sum_let_typed(w: &[f64]) -> f64 {
    let s: f64 = w.iter().sum();
    s
}

#[differentiate]
fn iter_copied_sum(w: &[f64]) -> f64 {
    w.iter().copied().sum::<f64>()
}

#[differentiate]
fn iter_cloned_sum(w: &[f64]) -> f64 {
    w.iter().cloned().sum::<f64>()
}

#[differentiate]
fn iter_product(w: &[f64]) -> f64 {
    w.iter().product::<f64>()
}

#[differentiate]
fn iter_map_sum(w: &[f64]) -> f64 {
    w.iter().map(|v| v * v).sum::<f64>()
}

#[differentiate]
fn iter_map_product(w: &[f64]) -> f64 {
    w.iter().map(|v| v + 1.0).product::<f64>()
}

#[differentiate]
fn iter_map_sum_sqrt(w: &[f64]) -> f64 {
    w.iter().map(|v| v * v).sum::<f64>().sqrt()
}

#[differentiate]
fn iter_fold(w: &[f64]) -> f64 {
    w.iter().fold(0.0, |a, v| a + v * v)
}

#[differentiate]
fn iter_fold_max(w: &[f64]) -> f64 {
    w.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v))
}

#[differentiate]
fn iter_enumerate_map(w: &[f64]) -> f64 {
    w.iter().enumerate().map(|(i, v)| v * i as f64).sum::<f64>()
}

#[differentiate]
fn iter_rev_enumerate(w: &[f64]) -> f64 {
    w.iter()
        .rev()
        .enumerate()
        .map(|(i, v)| v * (i as f64 + 1.0))
        .sum::<f64>()
}

#[differentiate]
fn range_map_index(w: &[f64]) -> f64 {
    (0..w.len()).map(|i| w[i] * w[i]).sum::<f64>()
}

#[cfg(any())] // rejected: this iterator form is not differentiated yet
#[differentiate]
fn iter_zip_map(w: &[f64]) -> f64 {
    w.iter()
        .zip(w.iter().skip(1))
        .map(|(a, b)| a * b)
        .sum::<f64>()
}

#[differentiate]
fn windows_map(w: &[f64]) -> f64 {
    w.windows(2).map(|p| p[1] * p[0]).sum::<f64>()
}

#[differentiate]
fn chunks_map(w: &[f64]) -> f64 {
    w.chunks(2).map(|c| c[0] * c[0]).sum::<f64>()
}

#[differentiate]
fn chunks_exact_map(w: &[f64]) -> f64 {
    w.chunks_exact(2).map(|c| c[0] * c[1]).sum::<f64>()
}

#[differentiate]
fn iter_skip_sum(w: &[f64]) -> f64 {
    w.iter().skip(1).sum::<f64>()
}

#[differentiate]
fn iter_take_sum(w: &[f64]) -> f64 {
    w.iter().take(2).sum::<f64>()
}

#[differentiate]
fn iter_step_by_sum(w: &[f64]) -> f64 {
    w.iter().step_by(2).sum::<f64>()
}

#[cfg(any())] // rejected: this iterator form is not differentiated yet
#[differentiate]
fn iter_filter_sum(w: &[f64]) -> f64 {
    w.iter().filter(|v| **v > 0.0).sum::<f64>()
}

#[cfg(any())] // rejected: this iterator form is not differentiated yet
#[differentiate]
fn iter_chain_sum(w: &[f64]) -> f64 {
    w.iter().chain(w.iter()).sum::<f64>()
}

#[cfg(any())] // rejected: this iterator form is not differentiated yet
#[differentiate]
fn iter_max_by(w: &[f64]) -> f64 {
    *w.iter().max_by(|a, b| a.total_cmp(b)).unwrap()
}

#[cfg(any())] // rejected: this iterator form is not differentiated yet
#[differentiate]
fn iter_min_by(w: &[f64]) -> f64 {
    w.iter().copied().min_by(|a, b| a.total_cmp(b)).unwrap()
}

#[cfg(any())] // rejected: this iterator form is not differentiated yet
#[differentiate]
fn iter_reduce(w: &[f64]) -> f64 {
    w.iter().copied().reduce(|a, b| a * b).unwrap()
}

#[cfg(any())] // rejected: this iterator form is not differentiated yet
#[differentiate]
fn iter_last(w: &[f64]) -> f64 {
    *w.iter().last().unwrap() * 2.0
}

#[cfg(any())] // rejected: this iterator form is not differentiated yet
#[differentiate]
fn iter_next(w: &[f64]) -> f64 {
    *w.iter().next().unwrap() * 2.0
}

#[cfg(any())] // rejected: this iterator form is not differentiated yet
#[differentiate]
fn iter_nth(w: &[f64]) -> f64 {
    *w.iter().nth(1).unwrap() * 2.0
}

#[cfg(any())] // rejected: this iterator form is not differentiated yet
#[differentiate]
fn iter_collect(w: &[f64]) -> f64 {
    let c: Vec<f64> = w.iter().map(|v| v * 2.0).collect();
    c[0] * c[1]
}

#[differentiate]
fn local_iter_sum(w: &[f64]) -> f64 {
    let mut b = vec![0.0; 2];
    b[0] = w[0] * w[1];
    b.iter().sum::<f64>()
}

#[cfg(any())] // rejected: this iterator form is not differentiated yet
#[differentiate]
fn iter_sum_path(w: &[f64]) -> f64 {
    Iterator::sum::<f64>(w.iter())
}

#[differentiate]
fn array_into_iter_sum(a: [f64; 3]) -> f64 {
    a.into_iter().sum::<f64>()
}

#[differentiate]
fn array_iter_map(a: [f64; 3]) -> f64 {
    a.iter().map(|v| v.sin()).sum::<f64>()
}

#[differentiate]
fn range_map_scalar(x: f64) -> f64 {
    (0..3).map(|i| x * i as f64).sum::<f64>()
}

#[cfg(any())] // rejected: this iterator form is not differentiated yet
#[differentiate]
fn array_lit_iter_sum(x: f64) -> f64 {
    [x, 2.0 * x].iter().sum::<f64>()
}

// ---------------------------------------------------------------------------
// float methods of the idiomatic-bodies issue
// ---------------------------------------------------------------------------

#[differentiate]
fn known_clamp(x: f64) -> f64 {
    x.clamp(-5.0, 5.0) * x
}

#[differentiate]
fn known_clamp_active_bounds(x: f64) -> f64 {
    0.1_f64.clamp(x, x + 5.0) * x
}

#[differentiate]
fn known_clamp_computed(x: f64) -> f64 {
    (x * 2.0).exp().clamp(0.0, 9.0) * x
}

#[differentiate]
fn known_to_radians(x: f64) -> f64 {
    x.to_radians() * x
}

#[differentiate]
fn known_to_degrees(x: f64) -> f64 {
    x.to_degrees() * x
}

#[differentiate]
fn known_copysign(x: f64) -> f64 {
    x.copysign(-1.0) * x
}

#[differentiate]
fn known_path_clamp(x: f64) -> f64 {
    f64::clamp(x, -5.0, 5.0) * x
}

#[differentiate]
fn known_path_to_radians(x: f64) -> f64 {
    f64::to_radians(x) * x
}

#[differentiate]
fn known_path_copysign(x: f64) -> f64 {
    f64::copysign(x, -1.0) * x
}

// ---------------------------------------------------------------------------
// closures, const items and assertions (issue 10)
// ---------------------------------------------------------------------------

#[differentiate]
fn pos_closure_body_known(x: f64) -> f64 {
    let c = |v: f64| v * x.sin();
    c(2.0)
}

#[differentiate]
fn closure_capture(x: f64) -> f64 {
    let c = |v: f64| v * x;
    c(2.0)
}

#[differentiate]
fn closure_param(x: f64) -> f64 {
    let f = |v: f64| v * v;
    f(x)
}

#[differentiate]
fn closure_untyped(x: f64) -> f64 {
    let f = |v| v;
    f(x) * 2.0
}

#[cfg(any())] // rejected (sound either way)
#[differentiate]
fn closure_immediate(x: f64) -> f64 {
    (|v: f64| v * 2.0)(x)
}

#[cfg(any())] // rejected (sound either way)
#[differentiate]
fn closure_move(x: f64) -> f64 {
    let c = move || x * 2.0;
    c()
}

#[cfg(any())] // rejected (sound either way)
#[differentiate]
fn closure_arg(x: f64) -> f64 {
    apply(|v| v * x, 2.0)
}

#[differentiate]
fn closure_buffer(w: &[f64]) -> f64 {
    let g = |i: usize| w[i] * 2.0;
    g(1)
}

#[differentiate]
fn ctl_const_item(x: f64) -> f64 {
    const K: f64 = 2.0;
    x * K
}

#[differentiate]
fn mac_assert(x: f64) -> f64 {
    assert!(x > 0.0);
    x * x
}

#[differentiate]
fn mac_assert_eq(x: f64) -> f64 {
    assert_eq!(x, x);
    x * x
}

#[differentiate]
fn mac_debug_assert(x: f64) -> f64 {
    debug_assert!(x.is_finite());
    x * x
}

// ---------------------------------------------------------------------------
// match and loop (issue 10)
// ---------------------------------------------------------------------------

#[differentiate]
fn pos_match_arm_known(x: f64) -> f64 {
    match 1 {
        0 => x,
        _ => x.sin(),
    }
}

#[differentiate]
fn pos_loop_break_value_known(x: f64) -> f64 {
    let y = loop {
        break x.sin();
    };
    y * x
}

#[differentiate]
fn ctl_match_bool(x: f64) -> f64 {
    match x > 0.0 {
        true => x,
        false => -x,
    }
}

#[differentiate]
fn ctl_match_guard(x: f64) -> f64 {
    match 1 {
        _ if x > 0.0 => x * x,
        _ => -x,
    }
}

#[differentiate]
fn ctl_loop_break(x: f64) -> f64 {
    let mut s = x;
    loop {
        s *= 2.0;
        if s > 10.0 {
            break;
        }
    }
    s
}

#[differentiate]
fn ctl_loop_break_value(x: f64) -> f64 {
    let y = loop {
        break x * 2.0;
    };
    y
}

#[differentiate]
fn ctl_match_value(x: f64, n: usize) -> f64 {
    match n {
        0 => x,
        _ => x * 2.0,
    }
}

#[differentiate]
fn ctl_match_let(x: f64, n: usize) -> f64 {
    let y = match n {
        0 => x * x,
        _ => x,
    };
    y
}

#[differentiate]
fn ctl_match_stmt(x: f64, n: usize) -> f64 {
    let mut y = x;
    match n {
        0 => y = x * x,
        _ => {}
    }
    y
}

// ---------------------------------------------------------------------------
// tuples (issue 10)
// ---------------------------------------------------------------------------

#[differentiate]
fn pos_tuple_elem_known(x: f64) -> f64 {
    let p = (x.sin(), 1.0);
    p.0 * x
}

#[differentiate]
fn known_sin_cos_0(x: f64) -> f64 {
    x.sin_cos().0 * x
}

#[differentiate]
fn known_sin_cos_1(x: f64) -> f64 {
    x.sin_cos().1 * x
}

#[differentiate]
fn tup_field(x: f64) -> f64 {
    let p = (x, 2.0 * x);
    p.0 * p.1
}

#[cfg(any())] // rejected (sound either way)
#[differentiate]
fn tup_literal_field(x: f64) -> f64 {
    (x, 1.0).0 * 2.0
}

#[cfg(any())] // rejected (sound either way)
#[differentiate]
fn tup_call_field(x: f64) -> f64 {
    pair(x).0 * 2.0
}

#[differentiate]
fn tup_destructure(x: f64) -> f64 {
    let (a, b) = (x, 2.0 * x);
    a * b
}

#[differentiate]
fn tup_sin_cos(x: f64) -> f64 {
    let (s, c) = x.sin_cos();
    s * c
}

#[differentiate]
fn tup_nested(x: f64) -> f64 {
    let ((a, _), b) = ((x, 1.0), x);
    a * b
}

#[cfg(any())] // rejected (sound either way)
#[differentiate]
fn tup_call_destructure(x: f64) -> f64 {
    let (a, b) = pair(x);
    a * b
}

#[differentiate]
fn sig_vec_ref(w: &Vec<f64>) -> f64 {
    w[0] * w[1]
}

// ---------------------------------------------------------------------------
// for over iterators (issue 10)
// ---------------------------------------------------------------------------

#[differentiate]
fn for_map(w: &[f64]) -> f64 {
    let mut s = 0.0;
    for v in w.iter().map(|t| t * 2.0) {
        s += v;
    }
    s
}

#[differentiate]
fn for_windows(w: &[f64]) -> f64 {
    let mut s = 0.0;
    for p in w.windows(2) {
        s += p[1] * p[0];
    }
    s
}

#[differentiate]
fn for_chunks(w: &[f64]) -> f64 {
    let mut s = 0.0;
    for c in w.chunks(2) {
        s += c[0] * c[0];
    }
    s
}

#[differentiate]
fn for_skip(w: &[f64]) -> f64 {
    let mut s = 0.0;
    for v in w.iter().skip(1) {
        s += v * v;
    }
    s
}

#[differentiate]
fn for_take(w: &[f64]) -> f64 {
    let mut s = 0.0;
    for v in w.iter().take(2) {
        s += v * v;
    }
    s
}

#[differentiate]
fn for_step_by(w: &[f64]) -> f64 {
    let mut s = 0.0;
    for v in w.iter().step_by(2) {
        s += v * v;
    }
    s
}

#[differentiate]
fn for_copied(w: &[f64]) -> f64 {
    let mut s = 0.0;
    for v in w.iter().copied() {
        s += v * v;
    }
    s
}

#[differentiate]
fn for_cloned(w: &[f64]) -> f64 {
    let mut s = 0.0;
    for v in w.iter().cloned() {
        s += v * v;
    }
    s
}

#[differentiate]
fn for_rev(w: &[f64]) -> f64 {
    let mut s = 0.0;
    for v in w.iter().rev() {
        s = s * 0.5 + v;
    }
    s
}

#[cfg(any())] // rejected (sound either way)
#[differentiate]
fn for_chain(w: &[f64]) -> f64 {
    let mut s = 0.0;
    for v in w.iter().chain(w.iter()) {
        s += v * v;
    }
    s
}

#[differentiate]
fn for_enumerate_skip(w: &[f64]) -> f64 {
    let mut s = 0.0;
    for (i, v) in w.iter().enumerate().skip(1) {
        s += v * i as f64;
    }
    s
}

#[cfg(any())] // rejected (sound either way)
#[differentiate]
fn for_to_vec(w: &[f64]) -> f64 {
    let mut s = 0.0;
    for v in w.to_vec() {
        s += v * v;
    }
    s
}

#[cfg(any())] // rejected (sound either way)
#[differentiate]
fn for_range_step_by(w: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in (0..3).step_by(2) {
        s += w[i] * w[i];
    }
    s
}

#[differentiate]
fn for_iter_mut(w: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut b = vec![0.0; 3];
    b[0] = w[0];
    b[1] = w[1];
    for e in b.iter_mut() {
        *e *= 2.0;
    }
    s = b[0] * b[1];
    s
}

mod check {
    use super::common;

    s1!(pos_let_known, pos_let_known_fwd, pos_let_known_adjoint, pos_let_known_grad; 0.7);
    s1!(pos_let_typed_known, pos_let_typed_known_fwd, pos_let_typed_known_adjoint, pos_let_typed_known_grad; 0.7);
    s1!(pos_assign_known, pos_assign_known_fwd, pos_assign_known_adjoint, pos_assign_known_grad; 0.7);
    s1!(pos_compound_add_known, pos_compound_add_known_fwd, pos_compound_add_known_adjoint, pos_compound_add_known_grad; 0.7);
    s1!(pos_compound_mul_known, pos_compound_mul_known_fwd, pos_compound_mul_known_adjoint, pos_compound_mul_known_grad; 0.7);
    s1!(pos_compound_div_known, pos_compound_div_known_fwd, pos_compound_div_known_adjoint, pos_compound_div_known_grad; 0.7);
    s1!(pos_call_arg_known, pos_call_arg_known_fwd, pos_call_arg_known_adjoint, pos_call_arg_known_grad; 0.7);
    s1!(pos_call_arg_nested_known, pos_call_arg_nested_known_fwd, pos_call_arg_nested_known_adjoint, pos_call_arg_nested_known_grad; 0.7);
    s1!(pos_method_recv_known, pos_method_recv_known_fwd, pos_method_recv_known_adjoint, pos_method_recv_known_grad; 0.7);
    s1!(pos_method_arg_known, pos_method_arg_known_fwd, pos_method_arg_known_adjoint, pos_method_arg_known_grad; 0.7);
    s1!(pos_path_arg_known, pos_path_arg_known_fwd, pos_path_arg_known_adjoint, pos_path_arg_known_grad; 0.7);
    s1!(pos_binary_known, pos_binary_known_fwd, pos_binary_known_adjoint, pos_binary_known_grad; 0.7);
    s1!(pos_neg_known, pos_neg_known_fwd, pos_neg_known_adjoint, pos_neg_known_grad; 0.7);
    s1!(pos_paren_known, pos_paren_known_fwd, pos_paren_known_adjoint, pos_paren_known_grad; 0.7);
    s1!(pos_if_then_known, pos_if_then_known_fwd, pos_if_then_known_adjoint, pos_if_then_known_grad; 0.7);
    s1!(pos_if_else_known, pos_if_else_known_fwd, pos_if_else_known_adjoint, pos_if_else_known_grad; 0.7);
    s1!(pos_if_stmt_known, pos_if_stmt_known_fwd, pos_if_stmt_known_adjoint, pos_if_stmt_known_grad; 0.7);
    s1!(pos_else_if_known, pos_else_if_known_fwd, pos_else_if_known_adjoint, pos_else_if_known_grad; 0.7);
    s1!(pos_if_cond_known, pos_if_cond_known_fwd, pos_if_cond_known_adjoint, pos_if_cond_known_grad; 0.7);
    #[cfg(any())]
    #[ignore = "issue 9: rejected by the macro today"]
    s1!(pos_if_cond_unknown, pos_if_cond_unknown_fwd, pos_if_cond_unknown_adjoint, pos_if_cond_unknown_grad; 0.7);
    v!(pos_if_cond_chain, pos_if_cond_chain_fwd, pos_if_cond_chain_adjoint, pos_if_cond_chain_grad; [0.6, 0.8, 1.1]);
    s1!(pos_while_cond_known, pos_while_cond_known_fwd, pos_while_cond_known_adjoint, pos_while_cond_known_grad; 0.7);
    #[cfg(any())]
    #[ignore = "issue 9: rejected by the macro today"]
    s1!(pos_while_cond_unknown, pos_while_cond_unknown_fwd, pos_while_cond_unknown_adjoint, pos_while_cond_unknown_grad; 0.7);
    v!(pos_while_cond_chain, pos_while_cond_chain_fwd, pos_while_cond_chain_adjoint, pos_while_cond_chain_grad; [0.6, 0.8, 1.1]);
    s1!(pos_while_body_known, pos_while_body_known_fwd, pos_while_body_known_adjoint, pos_while_body_known_grad; 0.7);
    s1!(pos_for_body_known, pos_for_body_known_fwd, pos_for_body_known_adjoint, pos_for_body_known_grad; 0.7);
    s1!(pos_for_body_break_known, pos_for_body_break_known_fwd, pos_for_body_break_known_adjoint, pos_for_body_break_known_grad; 0.7);
    s1!(pos_return_early_known, pos_return_early_known_fwd, pos_return_early_known_adjoint, pos_return_early_known_grad; 0.7);
    s1!(pos_return_last_known, pos_return_last_known_fwd, pos_return_last_known_adjoint, pos_return_last_known_grad; 0.7);
    s1!(pos_tail_known, pos_tail_known_fwd, pos_tail_known_adjoint, pos_tail_known_grad; 0.7);
    s1!(pos_block_value_known, pos_block_value_known_fwd, pos_block_value_known_adjoint, pos_block_value_known_grad; 0.7);
    s1!(pos_block_tail_known, pos_block_tail_known_fwd, pos_block_tail_known_adjoint, pos_block_tail_known_grad; 0.7);
    s1!(pos_block_let_known, pos_block_let_known_fwd, pos_block_let_known_adjoint, pos_block_let_known_grad; 0.7);
    s1!(pos_block_stmt_known, pos_block_stmt_known_fwd, pos_block_stmt_known_adjoint, pos_block_stmt_known_grad; 0.7);
    s1!(pos_buffer_store_known, pos_buffer_store_known_fwd, pos_buffer_store_known_adjoint, pos_buffer_store_known_grad; 0.7);
    s1!(pos_array_store_known, pos_array_store_known_fwd, pos_array_store_known_adjoint, pos_array_store_known_grad; 0.7);
    s1!(pos_vec_fill_known, pos_vec_fill_known_fwd, pos_vec_fill_known_adjoint, pos_vec_fill_known_grad; 0.7);
    s1!(pos_array_fill_known, pos_array_fill_known_fwd, pos_array_fill_known_adjoint, pos_array_fill_known_grad; 0.7);
    s1!(pos_ref_deref_known, pos_ref_deref_known_fwd, pos_ref_deref_known_adjoint, pos_ref_deref_known_grad; 0.7);
    s1!(pos_cast_identity_known, pos_cast_identity_known_fwd, pos_cast_identity_known_adjoint, pos_cast_identity_known_grad; 0.7);
    s1!(pos_shadow_known, pos_shadow_known_fwd, pos_shadow_known_adjoint, pos_shadow_known_grad; 0.7);
    s1!(known_exp, known_exp_fwd, known_exp_adjoint, known_exp_grad; 0.7);
    s1!(known_ln, known_ln_fwd, known_ln_adjoint, known_ln_grad; 0.7);
    s1!(known_sqrt, known_sqrt_fwd, known_sqrt_adjoint, known_sqrt_grad; 0.7);
    s1!(known_powi, known_powi_fwd, known_powi_adjoint, known_powi_grad; 0.7);
    s1!(known_powf, known_powf_fwd, known_powf_adjoint, known_powf_grad; 0.7);
    s1!(known_sin, known_sin_fwd, known_sin_adjoint, known_sin_grad; 0.7);
    s1!(known_cos, known_cos_fwd, known_cos_adjoint, known_cos_grad; 0.7);
    s1!(known_tan, known_tan_fwd, known_tan_adjoint, known_tan_grad; 0.7);
    s1!(known_tanh, known_tanh_fwd, known_tanh_adjoint, known_tanh_grad; 0.7);
    s1!(known_sinh, known_sinh_fwd, known_sinh_adjoint, known_sinh_grad; 0.7);
    s1!(known_cosh, known_cosh_fwd, known_cosh_adjoint, known_cosh_grad; 0.7);
    s1!(known_asin, known_asin_fwd, known_asin_adjoint, known_asin_grad; 0.7);
    s1!(known_acos, known_acos_fwd, known_acos_adjoint, known_acos_grad; 0.7);
    s1!(known_atan, known_atan_fwd, known_atan_adjoint, known_atan_grad; 0.7);
    s1!(known_atan2, known_atan2_fwd, known_atan2_adjoint, known_atan2_grad; 0.7);
    s1!(known_abs, known_abs_fwd, known_abs_adjoint, known_abs_grad; 0.7);
    s1!(known_max, known_max_fwd, known_max_adjoint, known_max_grad; 0.7);
    s1!(known_min, known_min_fwd, known_min_adjoint, known_min_grad; 0.7);
    s1!(known_hypot, known_hypot_fwd, known_hypot_adjoint, known_hypot_grad; 0.7);
    s1!(known_recip, known_recip_fwd, known_recip_adjoint, known_recip_grad; 0.7);
    s1!(known_exp2, known_exp2_fwd, known_exp2_adjoint, known_exp2_grad; 0.7);
    s1!(known_log2, known_log2_fwd, known_log2_adjoint, known_log2_grad; 0.7);
    s1!(known_log10, known_log10_fwd, known_log10_adjoint, known_log10_grad; 0.7);
    s1!(known_ln_1p, known_ln_1p_fwd, known_ln_1p_adjoint, known_ln_1p_grad; 0.7);
    s1!(known_exp_m1, known_exp_m1_fwd, known_exp_m1_adjoint, known_exp_m1_grad; 0.7);
    s1!(known_mul_add, known_mul_add_fwd, known_mul_add_adjoint, known_mul_add_grad; 0.7);
    s1!(known_signum, known_signum_fwd, known_signum_adjoint, known_signum_grad; 0.7);
    s1!(known_floor, known_floor_fwd, known_floor_adjoint, known_floor_grad; 0.7);
    s1!(known_ceil, known_ceil_fwd, known_ceil_adjoint, known_ceil_grad; 0.7);
    s1!(known_round, known_round_fwd, known_round_adjoint, known_round_grad; 0.7);
    s1!(known_log, known_log_fwd, known_log_adjoint, known_log_grad; 0.7);
    s1!(known_cbrt, known_cbrt_fwd, known_cbrt_adjoint, known_cbrt_grad; 0.7);
    s1!(known_asinh, known_asinh_fwd, known_asinh_adjoint, known_asinh_grad; 0.7);
    s1!(known_acosh, known_acosh_fwd, known_acosh_adjoint, known_acosh_grad; 0.7);
    s1!(known_atanh, known_atanh_fwd, known_atanh_adjoint, known_atanh_grad; 0.7);
    s1!(known_trunc, known_trunc_fwd, known_trunc_adjoint, known_trunc_grad; 0.7);
    s1!(known_rem, known_rem_fwd, known_rem_adjoint, known_rem_grad; 0.7);
    s1!(known_powf_active, known_powf_active_fwd, known_powf_active_adjoint, known_powf_active_grad; 0.7);
    s1!(known_atan2_active, known_atan2_active_fwd, known_atan2_active_adjoint, known_atan2_active_grad; 0.7);
    s1!(known_max_active, known_max_active_fwd, known_max_active_adjoint, known_max_active_grad; 0.7);
    s1!(known_min_active, known_min_active_fwd, known_min_active_adjoint, known_min_active_grad; 0.7);
    s1!(known_hypot_active, known_hypot_active_fwd, known_hypot_active_adjoint, known_hypot_active_grad; 0.7);
    s1!(known_mul_add_active, known_mul_add_active_fwd, known_mul_add_active_adjoint, known_mul_add_active_grad; 0.7);
    s1!(known_chain, known_chain_fwd, known_chain_adjoint, known_chain_grad; 0.7);
    s1!(path_exp, path_exp_fwd, path_exp_adjoint, path_exp_grad; 0.7);
    s1!(path_powi, path_powi_fwd, path_powi_adjoint, path_powi_grad; 0.7);
    s1!(path_atan2, path_atan2_fwd, path_atan2_adjoint, path_atan2_grad; 0.7);
    s1!(path_max, path_max_fwd, path_max_adjoint, path_max_grad; 0.7);
    s1!(path_mul_add, path_mul_add_fwd, path_mul_add_adjoint, path_mul_add_grad; 0.7);
    s1!(path_hypot, path_hypot_fwd, path_hypot_adjoint, path_hypot_grad; 0.7);
    s1!(path_const_pi, path_const_pi_fwd, path_const_pi_adjoint, path_const_pi_grad; 0.7);
    s1!(path_const_e, path_const_e_fwd, path_const_e_adjoint, path_const_e_grad; 0.7);
    s1!(path_generic, path_generic_fwd, path_generic_adjoint, path_generic_grad; 0.7);
    #[cfg(any())]
    #[ignore = "rejected: an iterator chain feeding a comparison"]
    v!(iter_any_passive, iter_any_passive_fwd, iter_any_passive_adjoint, iter_any_passive_grad; [0.6, 0.8, 1.1]);
    #[cfg(any())]
    #[ignore = "issue 9: rejected by the macro today"]
    v!(iter_position_passive, iter_position_passive_fwd, iter_position_passive_adjoint, iter_position_passive_grad; [0.6, 0.8, 1.1]);
    a3!(for_array_by_value, for_array_by_value_fwd, for_array_by_value_adjoint, for_array_by_value_grad; [0.6, 0.8, 1.1]);
    s1!(closure_passive, closure_passive_fwd, closure_passive_adjoint, closure_passive_grad; 0.7);
    s1!(ctl_if_else, ctl_if_else_fwd, ctl_if_else_adjoint, ctl_if_else_grad; 0.7);
    s1!(ctl_else_if, ctl_else_if_fwd, ctl_else_if_adjoint, ctl_else_if_grad; 0.7);
    s1!(ctl_while, ctl_while_fwd, ctl_while_adjoint, ctl_while_grad; 0.7);
    s1!(ctl_while_float_cond, ctl_while_float_cond_fwd, ctl_while_float_cond_adjoint, ctl_while_float_cond_grad; 0.7);
    s1!(ctl_for_range, ctl_for_range_fwd, ctl_for_range_adjoint, ctl_for_range_grad; 0.7);
    s1!(ctl_for_inclusive, ctl_for_inclusive_fwd, ctl_for_inclusive_adjoint, ctl_for_inclusive_grad; 0.7);
    s1!(ctl_for_rev, ctl_for_rev_fwd, ctl_for_rev_adjoint, ctl_for_rev_grad; 0.7);
    s1!(ctl_break, ctl_break_fwd, ctl_break_adjoint, ctl_break_grad; 0.7);
    s1!(ctl_continue, ctl_continue_fwd, ctl_continue_adjoint, ctl_continue_grad; 0.7);
    s1!(ctl_early_return_loop, ctl_early_return_loop_fwd, ctl_early_return_loop_adjoint, ctl_early_return_loop_grad; 0.7);
    s1!(ctl_shadowing, ctl_shadowing_fwd, ctl_shadowing_adjoint, ctl_shadowing_grad; 0.7);
    s1!(ctl_late_init, ctl_late_init_fwd, ctl_late_init_adjoint, ctl_late_init_grad; 0.7);
    s1!(ctl_block_let, ctl_block_let_fwd, ctl_block_let_adjoint, ctl_block_let_grad; 0.7);
    v!(ctl_for_iter, ctl_for_iter_fwd, ctl_for_iter_adjoint, ctl_for_iter_grad; [0.6, 0.8, 1.1]);
    v!(ctl_for_slice, ctl_for_slice_fwd, ctl_for_slice_adjoint, ctl_for_slice_grad; [0.6, 0.8, 1.1]);
    v!(ctl_for_ref_pat, ctl_for_ref_pat_fwd, ctl_for_ref_pat_adjoint, ctl_for_ref_pat_grad; [0.6, 0.8, 1.1]);
    v!(ctl_for_enumerate, ctl_for_enumerate_fwd, ctl_for_enumerate_adjoint, ctl_for_enumerate_grad; [0.6, 0.8, 1.1]);
    v!(ctl_for_zip, ctl_for_zip_fwd, ctl_for_zip_adjoint, ctl_for_zip_grad; [0.6, 0.8, 1.1]);
    v!(ctl_for_index, ctl_for_index_fwd, ctl_for_index_adjoint, ctl_for_index_grad; [0.6, 0.8, 1.1]);
    a3!(ctl_for_ref_array, ctl_for_ref_array_fwd, ctl_for_ref_array_adjoint, ctl_for_ref_array_grad; [0.6, 0.8, 1.1]);
    s1!(st_passive_literal, st_passive_literal_fwd, st_passive_literal_adjoint, st_passive_literal_grad; 0.7);
    s1!(call_sq, call_sq_fwd, call_sq_adjoint, call_sq_grad; 0.7);
    s1!(call_f64_from, call_f64_from_fwd, call_f64_from_adjoint, call_f64_from_grad; 0.7);
    s1!(call_nested, call_nested_fwd, call_nested_adjoint, call_nested_grad; 0.7);
    s1!(call_two_args, call_two_args_fwd, call_two_args_adjoint, call_two_args_grad; 0.7);
    s1!(call_block_arg, call_block_arg_fwd, call_block_arg_adjoint, call_block_arg_grad; 0.7);
    s1!(call_custom_derivative, call_custom_derivative_fwd, call_custom_derivative_adjoint, call_custom_derivative_grad; 0.7);
    s1!(call_module_path, call_module_path_fwd, call_module_path_adjoint, call_module_path_grad; 0.7);
    s1!(call_passive_args, call_passive_args_fwd, call_passive_args_adjoint, call_passive_args_grad; 0.7);
    v!(call_slice, call_slice_fwd, call_slice_adjoint, call_slice_grad; [0.6, 0.8, 1.1]);
    v!(call_view, call_view_fwd, call_view_adjoint, call_view_grad; [0.6, 0.8, 1.1]);
    v!(call_local_buf, call_local_buf_fwd, call_local_buf_adjoint, call_local_buf_grad; [0.6, 0.8, 1.1]);
    s1!(mut_ref_read, mut_ref_read_fwd, mut_ref_read_adjoint, mut_ref_read_grad; 0.7);
    s1!(ref_deref_direct, ref_deref_direct_fwd, ref_deref_direct_adjoint, ref_deref_direct_grad; 0.7);
    s1!(ref_let, ref_let_fwd, ref_let_adjoint, ref_let_grad; 0.7);
    s1!(ref_call_arg, ref_call_arg_fwd, ref_call_arg_adjoint, ref_call_arg_grad; 0.7);
    v!(ref_elem, ref_elem_fwd, ref_elem_adjoint, ref_elem_grad; [0.6, 0.8, 1.1]);
    #[cfg(any())]
    #[ignore = "issue 9: rejected by the macro today"]
    s1!(cast_i64_f64, cast_i64_f64_fwd, cast_i64_f64_adjoint, cast_i64_f64_grad; 0.7);
    #[cfg(any())]
    #[ignore = "issue 9: rejected by the macro today"]
    s1!(cast_bool_f64, cast_bool_f64_fwd, cast_bool_f64_adjoint, cast_bool_f64_grad; 0.7);
    #[cfg(any())]
    #[ignore = "rejected: a differentiated value used as an index (documented)"]
    xv!(cast_usize_index, cast_usize_index_fwd, cast_usize_index_adjoint, cast_usize_index_grad; 1.4, [0.6, 0.8, 1.1]);
    #[cfg(any())]
    #[ignore = "rejected: a differentiated value used as an index (documented)"]
    xv!(cast_floor_index, cast_floor_index_fwd, cast_floor_index_adjoint, cast_floor_index_grad; 1.4, [0.6, 0.8, 1.1]);
    s1_f32!(cast_f32, cast_f32_fwd, cast_f32_adjoint, cast_f32_grad; 0.7);
    s1_f32!(cast_f32_let, cast_f32_let_fwd, cast_f32_let_adjoint, cast_f32_let_grad; 0.7);
    s1!(cast_int_to_float, cast_int_to_float_fwd, cast_int_to_float_adjoint, cast_int_to_float_grad; 0.7);
    v!(cast_len_mean, cast_len_mean_fwd, cast_len_mean_adjoint, cast_len_mean_grad; [0.6, 0.8, 1.1]);
    s1!(pas_cmp, pas_cmp_fwd, pas_cmp_adjoint, pas_cmp_grad; 0.7);
    s1!(pas_is_nan, pas_is_nan_fwd, pas_is_nan_adjoint, pas_is_nan_grad; 0.7);
    s1!(pas_is_finite_and, pas_is_finite_and_fwd, pas_is_finite_and_adjoint, pas_is_finite_and_grad; 0.7);
    s1!(pas_total_cmp, pas_total_cmp_fwd, pas_total_cmp_adjoint, pas_total_cmp_grad; 0.7);
    s1!(pas_unused_stmt, pas_unused_stmt_fwd, pas_unused_stmt_adjoint, pas_unused_stmt_grad; 0.7);
    #[cfg(any())]
    #[ignore = "rejected: a differentiated value used as an index"]
    xv!(pas_cmp_cast_index, pas_cmp_cast_index_fwd, pas_cmp_cast_index_adjoint, pas_cmp_cast_index_grad; 1.4, [0.6, 0.8, 1.1]);
    v!(pas_len_index, pas_len_index_fwd, pas_len_index_adjoint, pas_len_index_grad; [0.6, 0.8, 1.1]);
    v!(pas_buf_contains, pas_buf_contains_fwd, pas_buf_contains_adjoint, pas_buf_contains_grad; [0.6, 0.8, 1.1]);
    v!(pas_buf_is_empty, pas_buf_is_empty_fwd, pas_buf_is_empty_adjoint, pas_buf_is_empty_grad; [0.6, 0.8, 1.1]);
    v!(buf_local_vec, buf_local_vec_fwd, buf_local_vec_adjoint, buf_local_vec_grad; [0.6, 0.8, 1.1]);
    s1!(buf_local_array, buf_local_array_fwd, buf_local_array_adjoint, buf_local_array_grad; 0.7);
    v!(buf_view, buf_view_fwd, buf_view_adjoint, buf_view_grad; [0.6, 0.8, 1.1]);
    v!(buf_to_vec_let, buf_to_vec_let_fwd, buf_to_vec_let_adjoint, buf_to_vec_let_grad; [0.6, 0.8, 1.1]);
    a3!(buf_array_param, buf_array_param_fwd, buf_array_param_adjoint, buf_array_param_grad; [0.6, 0.8, 1.1]);
    s1!(mac_println, mac_println_fwd, mac_println_adjoint, mac_println_grad; 0.7);
    #[cfg(any())]
    #[ignore = "issue 9: rejected by the macro today"]
    s1!(mac_println_args, mac_println_args_fwd, mac_println_args_adjoint, mac_println_args_grad; 0.7);
    s1!(mac_eprintln, mac_eprintln_fwd, mac_eprintln_adjoint, mac_eprintln_grad; 0.7);
    s1!(mac_format_len, mac_format_len_fwd, mac_format_len_adjoint, mac_format_len_grad; 0.7);
    s1!(mac_println_passive, mac_println_passive_fwd, mac_println_passive_adjoint, mac_println_passive_grad; 0.7);
    // rows with their own shapes
    x_passive!(st_passive_param, st_passive_param_fwd, st_passive_param_adjoint, st_passive_param_grad; 0.7, &super::Pt { a: 1.5, b: -0.4 });
    x_passive!(pas_wrt_excluded, pas_wrt_excluded_fwd, pas_wrt_excluded_adjoint, pas_wrt_excluded_grad; 0.7, 1.3);
    x_passive!(sig_nested_data, sig_nested_data_fwd, sig_nested_data_adjoint, sig_nested_data_grad; 0.7, &[[1.5, 2.0], [3.0, 4.0]][..]);
    s1!(array_lit_let, array_lit_let_fwd, array_lit_let_adjoint, array_lit_let_grad; 0.7);
    s1!(array_lit_nested, array_lit_nested_fwd, array_lit_nested_adjoint, array_lit_nested_grad; 0.7);

    /// The nested rows, active: checked on `x` and the buffer's elements together.
    #[test]
    fn sig_nested_array() {
        common::check_all(
            "sig_nested_array",
            &[0.7, 1.5, 2.0, 3.0, 4.0],
            |v| super::sig_nested_array(v[0], [[v[1], v[2]], [v[3], v[4]]]),
            |v, t| {
                super::sig_nested_array_fwd(
                    v[0],
                    t[0],
                    [[v[1], v[2]], [v[3], v[4]]],
                    [[t[1], t[2]], [t[3], t[4]]],
                )
            },
            |v, d, r| {
                let (mut dx, mut dm) = (d[0], [[d[1], d[2]], [d[3], d[4]]]);
                let y = super::sig_nested_array_adjoint(
                    v[0],
                    &mut dx,
                    [[v[1], v[2]], [v[3], v[4]]],
                    &mut dm,
                    r,
                );
                d.copy_from_slice(&[dx, dm[0][0], dm[0][1], dm[1][0], dm[1][1]]);
                y
            },
            |v| {
                let (y, (gx, gm)) =
                    super::sig_nested_array_grad(v[0], [[v[1], v[2]], [v[3], v[4]]]);
                (y, vec![gx, gm[0][0], gm[0][1], gm[1][0], gm[1][1]])
            },
        );
    }

    #[test]
    fn sig_slice_of_vec() {
        common::check_all(
            "sig_slice_of_vec",
            &[0.7, 1.5, 2.0],
            |v| super::sig_slice_of_vec(v[0], &[v[1..].to_vec()]),
            |v, t| super::sig_slice_of_vec_fwd(v[0], t[0], &[v[1..].to_vec()], &[t[1..].to_vec()]),
            |v, d, r| {
                let (mut dx, mut dm) = (d[0], vec![d[1..].to_vec()]);
                let y =
                    super::sig_slice_of_vec_adjoint(v[0], &mut dx, &[v[1..].to_vec()], &mut dm, r);
                d[0] = dx;
                d[1..].copy_from_slice(&dm[0]);
                y
            },
            |v| {
                let (y, (gx, gm)) = super::sig_slice_of_vec_grad(v[0], &[v[1..].to_vec()]);
                (y, [vec![gx], gm[0].clone()].concat())
            },
        );
    }

    #[test]
    fn sig_nested_slice() {
        common::check_all(
            "sig_nested_slice",
            &[0.7, 1.5, 2.0, 3.0],
            |v| super::sig_nested_slice(&[[v[0], v[1]], [v[2], v[3]]]),
            |v, t| {
                super::sig_nested_slice_fwd(
                    &[[v[0], v[1]], [v[2], v[3]]],
                    &[[t[0], t[1]], [t[2], t[3]]],
                )
            },
            |v, d, r| {
                let mut dm = [[d[0], d[1]], [d[2], d[3]]];
                let y = super::sig_nested_slice_adjoint(&[[v[0], v[1]], [v[2], v[3]]], &mut dm, r);
                d.copy_from_slice(&[dm[0][0], dm[0][1], dm[1][0], dm[1][1]]);
                y
            },
            |v| {
                let (y, g) = super::sig_nested_slice_grad(&[[v[0], v[1]], [v[2], v[3]]]);
                (y, g.iter().flatten().copied().collect())
            },
        );
    }
    method!(self_field_max, self_field_max_fwd, self_field_max_adjoint, self_field_max_grad; super::Scale { k: 0.3 }, 0.7);
    method!(self_field_mul, self_field_mul_fwd, self_field_mul_adjoint, self_field_mul_grad; super::Scale { k: 0.3 }, 0.7);

    #[test]
    fn known_f32() {
        let x = 0.7f32;
        let want = x.cos() * x + x.sin() + 0.5 / x.sqrt();
        let (y, g) = super::known_f32_grad(x);
        assert_eq!(y, super::known_f32(x));
        common::assert_close_f32(g, want, 1e-5, "known_f32 _grad");
        let (y, t) = super::known_f32_fwd(x, 1.0);
        assert_eq!(y, super::known_f32(x));
        common::assert_close_f32(t, want, 1e-5, "known_f32 _fwd");
    }

    /// A struct-parameter row: the gradient against central differences over
    /// the struct's floats, forward against reverse, accumulation, the primal.
    fn struct_row(
        f: fn(&super::Lin, f64) -> f64,
        fwd: fn(&super::Lin, &super::Lin, f64) -> (f64, f64),
        adj: fn(&super::Lin, &mut super::Lin, f64, f64) -> f64,
        grad: fn(&super::Lin, f64) -> (f64, super::Lin),
        name: &str,
    ) {
        use autodiff::Differentiable;
        let p = super::Lin {
            w: vec![0.6, 0.8, -0.3],
            b: 1.1,
        };
        let x = 0.7;
        let (y, g) = grad(&p, x);
        assert_eq!(y, f(&p, x), "{name}: value");
        let numeric = common::fd_grad(
            |v| {
                let mut q = p.clone();
                q.read_floats(v);
                f(&q, x)
            },
            &p.to_floats(),
        );
        let g = g.to_floats();
        common::assert_vec_close(&g, &numeric, 1e-6, name);
        let t = [0.3, -0.5, 0.9, 0.2];
        let mut tp = p.zero_like();
        tp.read_floats(&t);
        let (yf, jt) = fwd(&p, &tp, x);
        assert_eq!(yf, y, "{name}: forward value");
        let want: f64 = g.iter().zip(&t).map(|(a, b)| a * b).sum();
        common::assert_close(jt, want, 1e-10, &format!("{name}: forward vs reverse"));
        let mut dp = tp.clone();
        let before = p.to_floats();
        assert_eq!(adj(&p, &mut dp, x, 2.0), y, "{name}: adjoint value");
        assert_eq!(p.to_floats(), before, "{name}: primal unchanged");
        let acc: Vec<f64> = t.iter().zip(&g).map(|(a, g)| a + 2.0 * g).collect();
        common::assert_vec_close(
            &dp.to_floats(),
            &acc,
            1e-12,
            &format!("{name}: accumulation"),
        );
    }

    macro_rules! st {
        ($($f:ident, $fwd:ident, $adj:ident, $grad:ident);* $(;)?) => {$(
            #[test]
            fn $f() {
                struct_row(super::$f, super::$fwd, super::$adj, super::$grad, stringify!($f));
            }
        )*};
    }

    st! {
        st_param_wrt, st_param_wrt_fwd, st_param_wrt_adjoint, st_param_wrt_grad;
        st_param_iter, st_param_iter_fwd, st_param_iter_adjoint, st_param_iter_grad;
        st_param_view, st_param_view_fwd, st_param_view_adjoint, st_param_view_grad;
        st_param_len, st_param_len_fwd, st_param_len_adjoint, st_param_len_grad;
        st_param_call_arg, st_param_call_arg_fwd, st_param_call_arg_adjoint, st_param_call_arg_grad;
        st_param_vec_macro, st_param_vec_macro_fwd, st_param_vec_macro_adjoint, st_param_vec_macro_grad;
        st_param_method, st_param_method_fwd, st_param_method_adjoint, st_param_method_grad;
    }

    // iterator chains
    v!(pos_let_chain, pos_let_chain_fwd, pos_let_chain_adjoint, pos_let_chain_grad; [0.6, 0.8, 1.1]);
    v!(pos_let_typed_chain, pos_let_typed_chain_fwd, pos_let_typed_chain_adjoint, pos_let_typed_chain_grad; [0.6, 0.8, 1.1]);
    v!(pos_assign_chain, pos_assign_chain_fwd, pos_assign_chain_adjoint, pos_assign_chain_grad; [0.6, 0.8, 1.1]);
    v!(pos_compound_add_chain, pos_compound_add_chain_fwd, pos_compound_add_chain_adjoint, pos_compound_add_chain_grad; [0.6, 0.8, 1.1]);
    v!(pos_compound_mul_chain, pos_compound_mul_chain_fwd, pos_compound_mul_chain_adjoint, pos_compound_mul_chain_grad; [0.6, 0.8, 1.1]);
    v!(pos_compound_div_chain, pos_compound_div_chain_fwd, pos_compound_div_chain_adjoint, pos_compound_div_chain_grad; [0.6, 0.8, 1.1]);
    v!(pos_call_arg_chain, pos_call_arg_chain_fwd, pos_call_arg_chain_adjoint, pos_call_arg_chain_grad; [0.6, 0.8, 1.1]);
    v!(pos_call_arg_nested_chain, pos_call_arg_nested_chain_fwd, pos_call_arg_nested_chain_adjoint, pos_call_arg_nested_chain_grad; [0.6, 0.8, 1.1]);
    v!(pos_method_recv_chain, pos_method_recv_chain_fwd, pos_method_recv_chain_adjoint, pos_method_recv_chain_grad; [0.6, 0.8, 1.1]);
    v!(pos_method_arg_chain, pos_method_arg_chain_fwd, pos_method_arg_chain_adjoint, pos_method_arg_chain_grad; [0.6, 0.8, 1.1]);
    v!(pos_path_arg_chain, pos_path_arg_chain_fwd, pos_path_arg_chain_adjoint, pos_path_arg_chain_grad; [0.6, 0.8, 1.1]);
    v!(pos_binary_chain, pos_binary_chain_fwd, pos_binary_chain_adjoint, pos_binary_chain_grad; [0.6, 0.8, 1.1]);
    v!(pos_neg_chain, pos_neg_chain_fwd, pos_neg_chain_adjoint, pos_neg_chain_grad; [0.6, 0.8, 1.1]);
    v!(pos_paren_chain, pos_paren_chain_fwd, pos_paren_chain_adjoint, pos_paren_chain_grad; [0.6, 0.8, 1.1]);
    v!(pos_if_then_chain, pos_if_then_chain_fwd, pos_if_then_chain_adjoint, pos_if_then_chain_grad; [0.6, 0.8, 1.1]);
    v!(pos_if_else_chain, pos_if_else_chain_fwd, pos_if_else_chain_adjoint, pos_if_else_chain_grad; [0.6, 0.8, 1.1]);
    v!(pos_if_stmt_chain, pos_if_stmt_chain_fwd, pos_if_stmt_chain_adjoint, pos_if_stmt_chain_grad; [0.6, 0.8, 1.1]);
    v!(pos_else_if_chain, pos_else_if_chain_fwd, pos_else_if_chain_adjoint, pos_else_if_chain_grad; [0.6, 0.8, 1.1]);
    v!(pos_while_body_chain, pos_while_body_chain_fwd, pos_while_body_chain_adjoint, pos_while_body_chain_grad; [0.6, 0.8, 1.1]);
    v!(pos_for_body_chain, pos_for_body_chain_fwd, pos_for_body_chain_adjoint, pos_for_body_chain_grad; [0.6, 0.8, 1.1]);
    v!(pos_for_body_break_chain, pos_for_body_break_chain_fwd, pos_for_body_break_chain_adjoint, pos_for_body_break_chain_grad; [0.6, 0.8, 1.1]);
    v!(pos_return_early_chain, pos_return_early_chain_fwd, pos_return_early_chain_adjoint, pos_return_early_chain_grad; [0.6, 0.8, 1.1]);
    v!(pos_return_last_chain, pos_return_last_chain_fwd, pos_return_last_chain_adjoint, pos_return_last_chain_grad; [0.6, 0.8, 1.1]);
    v!(pos_tail_chain, pos_tail_chain_fwd, pos_tail_chain_adjoint, pos_tail_chain_grad; [0.6, 0.8, 1.1]);
    v!(pos_block_value_chain, pos_block_value_chain_fwd, pos_block_value_chain_adjoint, pos_block_value_chain_grad; [0.6, 0.8, 1.1]);
    v!(pos_block_tail_chain, pos_block_tail_chain_fwd, pos_block_tail_chain_adjoint, pos_block_tail_chain_grad; [0.6, 0.8, 1.1]);
    v!(pos_block_let_chain, pos_block_let_chain_fwd, pos_block_let_chain_adjoint, pos_block_let_chain_grad; [0.6, 0.8, 1.1]);
    v!(pos_block_stmt_chain, pos_block_stmt_chain_fwd, pos_block_stmt_chain_adjoint, pos_block_stmt_chain_grad; [0.6, 0.8, 1.1]);
    v!(pos_buffer_store_chain, pos_buffer_store_chain_fwd, pos_buffer_store_chain_adjoint, pos_buffer_store_chain_grad; [0.6, 0.8, 1.1]);
    v!(pos_array_store_chain, pos_array_store_chain_fwd, pos_array_store_chain_adjoint, pos_array_store_chain_grad; [0.6, 0.8, 1.1]);
    v!(pos_vec_fill_chain, pos_vec_fill_chain_fwd, pos_vec_fill_chain_adjoint, pos_vec_fill_chain_grad; [0.6, 0.8, 1.1]);
    v!(pos_array_fill_chain, pos_array_fill_chain_fwd, pos_array_fill_chain_adjoint, pos_array_fill_chain_grad; [0.6, 0.8, 1.1]);
    v!(pos_ref_deref_chain, pos_ref_deref_chain_fwd, pos_ref_deref_chain_adjoint, pos_ref_deref_chain_grad; [0.6, 0.8, 1.1]);
    v!(pos_cast_identity_chain, pos_cast_identity_chain_fwd, pos_cast_identity_chain_adjoint, pos_cast_identity_chain_grad; [0.6, 0.8, 1.1]);
    v!(pos_shadow_chain, pos_shadow_chain_fwd, pos_shadow_chain_adjoint, pos_shadow_chain_grad; [0.6, 0.8, 1.1]);
    v!(iter_sum, iter_sum_fwd, iter_sum_adjoint, iter_sum_grad; [0.6, 0.8, 1.1]);
    v!(iter_sum_let_typed, iter_sum_let_typed_fwd, iter_sum_let_typed_adjoint, iter_sum_let_typed_grad; [0.6, 0.8, 1.1]);
    v!(iter_copied_sum, iter_copied_sum_fwd, iter_copied_sum_adjoint, iter_copied_sum_grad; [0.6, 0.8, 1.1]);
    v!(iter_cloned_sum, iter_cloned_sum_fwd, iter_cloned_sum_adjoint, iter_cloned_sum_grad; [0.6, 0.8, 1.1]);
    v!(iter_product, iter_product_fwd, iter_product_adjoint, iter_product_grad; [0.6, 0.8, 1.1]);
    v!(iter_map_sum, iter_map_sum_fwd, iter_map_sum_adjoint, iter_map_sum_grad; [0.6, 0.8, 1.1]);
    v!(iter_map_product, iter_map_product_fwd, iter_map_product_adjoint, iter_map_product_grad; [0.6, 0.8, 1.1]);
    v!(iter_map_sum_sqrt, iter_map_sum_sqrt_fwd, iter_map_sum_sqrt_adjoint, iter_map_sum_sqrt_grad; [0.6, 0.8, 1.1]);
    v!(iter_fold, iter_fold_fwd, iter_fold_adjoint, iter_fold_grad; [0.6, 0.8, 1.1]);
    v!(iter_fold_max, iter_fold_max_fwd, iter_fold_max_adjoint, iter_fold_max_grad; [0.6, 0.8, 1.1]);
    v!(iter_enumerate_map, iter_enumerate_map_fwd, iter_enumerate_map_adjoint, iter_enumerate_map_grad; [0.6, 0.8, 1.1]);
    v!(iter_rev_enumerate, iter_rev_enumerate_fwd, iter_rev_enumerate_adjoint, iter_rev_enumerate_grad; [0.6, 0.8, 1.1]);
    v!(range_map_index, range_map_index_fwd, range_map_index_adjoint, range_map_index_grad; [0.6, 0.8, 1.1]);
    #[cfg(any())]
    #[ignore = "rejected: this iterator form is not differentiated yet"]
    v!(iter_zip_map, iter_zip_map_fwd, iter_zip_map_adjoint, iter_zip_map_grad; [0.6, 0.8, 1.1]);
    v!(windows_map, windows_map_fwd, windows_map_adjoint, windows_map_grad; [0.6, 0.8, 1.1]);
    v!(chunks_map, chunks_map_fwd, chunks_map_adjoint, chunks_map_grad; [0.6, 0.8, 1.1]);
    v!(chunks_exact_map, chunks_exact_map_fwd, chunks_exact_map_adjoint, chunks_exact_map_grad; [0.6, 0.8, 1.1]);
    v!(iter_skip_sum, iter_skip_sum_fwd, iter_skip_sum_adjoint, iter_skip_sum_grad; [0.6, 0.8, 1.1]);
    v!(iter_take_sum, iter_take_sum_fwd, iter_take_sum_adjoint, iter_take_sum_grad; [0.6, 0.8, 1.1]);
    v!(iter_step_by_sum, iter_step_by_sum_fwd, iter_step_by_sum_adjoint, iter_step_by_sum_grad; [0.6, 0.8, 1.1]);
    #[cfg(any())]
    #[ignore = "rejected: this iterator form is not differentiated yet"]
    v!(iter_filter_sum, iter_filter_sum_fwd, iter_filter_sum_adjoint, iter_filter_sum_grad; [0.6, 0.8, 1.1]);
    #[cfg(any())]
    #[ignore = "rejected: this iterator form is not differentiated yet"]
    v!(iter_chain_sum, iter_chain_sum_fwd, iter_chain_sum_adjoint, iter_chain_sum_grad; [0.6, 0.8, 1.1]);
    #[cfg(any())]
    #[ignore = "rejected: this iterator form is not differentiated yet"]
    v!(iter_max_by, iter_max_by_fwd, iter_max_by_adjoint, iter_max_by_grad; [0.6, 0.8, 1.1]);
    #[cfg(any())]
    #[ignore = "rejected: this iterator form is not differentiated yet"]
    v!(iter_min_by, iter_min_by_fwd, iter_min_by_adjoint, iter_min_by_grad; [0.6, 0.8, 1.1]);
    #[cfg(any())]
    #[ignore = "rejected: this iterator form is not differentiated yet"]
    v!(iter_reduce, iter_reduce_fwd, iter_reduce_adjoint, iter_reduce_grad; [0.6, 0.8, 1.1]);
    #[cfg(any())]
    #[ignore = "rejected: this iterator form is not differentiated yet"]
    v!(iter_last, iter_last_fwd, iter_last_adjoint, iter_last_grad; [0.6, 0.8, 1.1]);
    #[cfg(any())]
    #[ignore = "rejected: this iterator form is not differentiated yet"]
    v!(iter_next, iter_next_fwd, iter_next_adjoint, iter_next_grad; [0.6, 0.8, 1.1]);
    #[cfg(any())]
    #[ignore = "rejected: this iterator form is not differentiated yet"]
    v!(iter_nth, iter_nth_fwd, iter_nth_adjoint, iter_nth_grad; [0.6, 0.8, 1.1]);
    #[cfg(any())]
    #[ignore = "rejected: this iterator form is not differentiated yet"]
    v!(iter_collect, iter_collect_fwd, iter_collect_adjoint, iter_collect_grad; [0.6, 0.8, 1.1]);
    v!(local_iter_sum, local_iter_sum_fwd, local_iter_sum_adjoint, local_iter_sum_grad; [0.6, 0.8, 1.1]);
    #[cfg(any())]
    #[ignore = "rejected: this iterator form is not differentiated yet"]
    v!(iter_sum_path, iter_sum_path_fwd, iter_sum_path_adjoint, iter_sum_path_grad; [0.6, 0.8, 1.1]);
    a3!(array_into_iter_sum, array_into_iter_sum_fwd, array_into_iter_sum_adjoint, array_into_iter_sum_grad; [0.6, 0.8, 1.1]);
    a3!(array_iter_map, array_iter_map_fwd, array_iter_map_adjoint, array_iter_map_grad; [0.6, 0.8, 1.1]);
    s1!(range_map_scalar, range_map_scalar_fwd, range_map_scalar_adjoint, range_map_scalar_grad; 0.7);
    #[cfg(any())]
    #[ignore = "rejected: this iterator form is not differentiated yet"]
    s1!(array_lit_iter_sum, array_lit_iter_sum_fwd, array_lit_iter_sum_adjoint, array_lit_iter_sum_grad; 0.7);

    // float methods of the idiomatic-bodies issue
    s1!(known_clamp, known_clamp_fwd, known_clamp_adjoint, known_clamp_grad; 0.7);
    s1!(known_clamp_active_bounds, known_clamp_active_bounds_fwd, known_clamp_active_bounds_adjoint, known_clamp_active_bounds_grad; 0.7);
    s1!(known_clamp_computed, known_clamp_computed_fwd, known_clamp_computed_adjoint, known_clamp_computed_grad; 0.7);
    s1!(known_to_radians, known_to_radians_fwd, known_to_radians_adjoint, known_to_radians_grad; 0.7);
    s1!(known_to_degrees, known_to_degrees_fwd, known_to_degrees_adjoint, known_to_degrees_grad; 0.7);
    s1!(known_copysign, known_copysign_fwd, known_copysign_adjoint, known_copysign_grad; 0.7);
    s1!(known_path_clamp, known_path_clamp_fwd, known_path_clamp_adjoint, known_path_clamp_grad; 0.7);
    s1!(known_path_to_radians, known_path_to_radians_fwd, known_path_to_radians_adjoint, known_path_to_radians_grad; 0.7);
    s1!(known_path_copysign, known_path_copysign_fwd, known_path_copysign_adjoint, known_path_copysign_grad; 0.7);

    // closures, const items and assertions
    s1!(pos_closure_body_known, pos_closure_body_known_fwd, pos_closure_body_known_adjoint, pos_closure_body_known_grad; 0.7);
    s1!(closure_capture, closure_capture_fwd, closure_capture_adjoint, closure_capture_grad; 0.7);
    s1!(closure_param, closure_param_fwd, closure_param_adjoint, closure_param_grad; 0.7);
    s1!(closure_untyped, closure_untyped_fwd, closure_untyped_adjoint, closure_untyped_grad; 0.7);
    #[cfg(any())]
    #[ignore = "rejected (sound either way)"]
    s1!(closure_immediate, closure_immediate_fwd, closure_immediate_adjoint, closure_immediate_grad; 0.7);
    #[cfg(any())]
    #[ignore = "rejected (sound either way)"]
    s1!(closure_move, closure_move_fwd, closure_move_adjoint, closure_move_grad; 0.7);
    #[cfg(any())]
    #[ignore = "rejected (sound either way)"]
    s1!(closure_arg, closure_arg_fwd, closure_arg_adjoint, closure_arg_grad; 0.7);
    v!(closure_buffer, closure_buffer_fwd, closure_buffer_adjoint, closure_buffer_grad; [0.6, 0.8, 1.1]);
    s1!(ctl_const_item, ctl_const_item_fwd, ctl_const_item_adjoint, ctl_const_item_grad; 0.7);
    s1!(mac_assert, mac_assert_fwd, mac_assert_adjoint, mac_assert_grad; 0.7);
    s1!(mac_assert_eq, mac_assert_eq_fwd, mac_assert_eq_adjoint, mac_assert_eq_grad; 0.7);
    s1!(mac_debug_assert, mac_debug_assert_fwd, mac_debug_assert_adjoint, mac_debug_assert_grad; 0.7);

    // match and loop
    s1!(pos_match_arm_known, pos_match_arm_known_fwd, pos_match_arm_known_adjoint, pos_match_arm_known_grad; 0.7);
    s1!(pos_loop_break_value_known, pos_loop_break_value_known_fwd, pos_loop_break_value_known_adjoint, pos_loop_break_value_known_grad; 0.7);
    s1!(ctl_match_bool, ctl_match_bool_fwd, ctl_match_bool_adjoint, ctl_match_bool_grad; 0.7);
    s1!(ctl_match_guard, ctl_match_guard_fwd, ctl_match_guard_adjoint, ctl_match_guard_grad; 0.7);
    s1!(ctl_loop_break, ctl_loop_break_fwd, ctl_loop_break_adjoint, ctl_loop_break_grad; 0.7);
    s1!(ctl_loop_break_value, ctl_loop_break_value_fwd, ctl_loop_break_value_adjoint, ctl_loop_break_value_grad; 0.7);
    xn!(ctl_match_value, ctl_match_value_fwd, ctl_match_value_adjoint, ctl_match_value_grad; 0.7);
    xn!(ctl_match_let, ctl_match_let_fwd, ctl_match_let_adjoint, ctl_match_let_grad; 0.7);
    xn!(ctl_match_stmt, ctl_match_stmt_fwd, ctl_match_stmt_adjoint, ctl_match_stmt_grad; 0.7);

    // tuples
    s1!(pos_tuple_elem_known, pos_tuple_elem_known_fwd, pos_tuple_elem_known_adjoint, pos_tuple_elem_known_grad; 0.7);
    s1!(known_sin_cos_0, known_sin_cos_0_fwd, known_sin_cos_0_adjoint, known_sin_cos_0_grad; 0.7);
    s1!(known_sin_cos_1, known_sin_cos_1_fwd, known_sin_cos_1_adjoint, known_sin_cos_1_grad; 0.7);
    s1!(tup_field, tup_field_fwd, tup_field_adjoint, tup_field_grad; 0.7);
    #[cfg(any())]
    #[ignore = "rejected (sound either way)"]
    s1!(tup_literal_field, tup_literal_field_fwd, tup_literal_field_adjoint, tup_literal_field_grad; 0.7);
    #[cfg(any())]
    #[ignore = "rejected (sound either way)"]
    s1!(tup_call_field, tup_call_field_fwd, tup_call_field_adjoint, tup_call_field_grad; 0.7);
    s1!(tup_destructure, tup_destructure_fwd, tup_destructure_adjoint, tup_destructure_grad; 0.7);
    s1!(tup_sin_cos, tup_sin_cos_fwd, tup_sin_cos_adjoint, tup_sin_cos_grad; 0.7);
    s1!(tup_nested, tup_nested_fwd, tup_nested_adjoint, tup_nested_grad; 0.7);
    #[cfg(any())]
    #[ignore = "rejected (sound either way)"]
    s1!(tup_call_destructure, tup_call_destructure_fwd, tup_call_destructure_adjoint, tup_call_destructure_grad; 0.7);

    #[test]
    fn sig_vec_ref() {
        let w = vec![0.6, 0.8, 1.1];
        common::check_all(
            "sig_vec_ref",
            &w,
            |x| super::sig_vec_ref(&x.to_vec()),
            |x, v| super::sig_vec_ref_fwd(&x.to_vec(), &v.to_vec()),
            |x, d, r| super::sig_vec_ref_adjoint(&x.to_vec(), d, r),
            |x| super::sig_vec_ref_grad(&x.to_vec()),
        );
    }

    // for over iterators
    v!(for_map, for_map_fwd, for_map_adjoint, for_map_grad; [0.6, 0.8, 1.1]);
    v!(for_windows, for_windows_fwd, for_windows_adjoint, for_windows_grad; [0.6, 0.8, 1.1]);
    v!(for_chunks, for_chunks_fwd, for_chunks_adjoint, for_chunks_grad; [0.6, 0.8, 1.1]);
    v!(for_skip, for_skip_fwd, for_skip_adjoint, for_skip_grad; [0.6, 0.8, 1.1]);
    v!(for_take, for_take_fwd, for_take_adjoint, for_take_grad; [0.6, 0.8, 1.1]);
    v!(for_step_by, for_step_by_fwd, for_step_by_adjoint, for_step_by_grad; [0.6, 0.8, 1.1]);
    v!(for_copied, for_copied_fwd, for_copied_adjoint, for_copied_grad; [0.6, 0.8, 1.1]);
    v!(for_cloned, for_cloned_fwd, for_cloned_adjoint, for_cloned_grad; [0.6, 0.8, 1.1]);
    v!(for_rev, for_rev_fwd, for_rev_adjoint, for_rev_grad; [0.6, 0.8, 1.1]);
    #[cfg(any())]
    #[ignore = "rejected (sound either way)"]
    v!(for_chain, for_chain_fwd, for_chain_adjoint, for_chain_grad; [0.6, 0.8, 1.1]);
    v!(for_enumerate_skip, for_enumerate_skip_fwd, for_enumerate_skip_adjoint, for_enumerate_skip_grad; [0.6, 0.8, 1.1]);
    #[cfg(any())]
    #[ignore = "rejected (sound either way)"]
    v!(for_to_vec, for_to_vec_fwd, for_to_vec_adjoint, for_to_vec_grad; [0.6, 0.8, 1.1]);
    #[cfg(any())]
    #[ignore = "rejected (sound either way)"]
    v!(for_range_step_by, for_range_step_by_fwd, for_range_step_by_adjoint, for_range_step_by_grad; [0.6, 0.8, 1.1]);
    v!(for_iter_mut, for_iter_mut_fwd, for_iter_mut_adjoint, for_iter_mut_grad; [0.6, 0.8, 1.1]);
}
