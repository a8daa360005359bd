//! Casts between float types (issue 10): `x as f32` in an `f64` function and
//! `x as f64` in an `f32` one, and back. The section in the other type is
//! computed in that type (its tangents and adjoints too), so every function is
//! checked with `common::Tol::F32`: central differences with a step `f32`
//! rounding does not swamp, forward against reverse (`⟨ȳ, J·v⟩ = ⟨Jᵀȳ, v⟩`),
//! accumulation with `dret ≠ 1`, and the primal value of every mode equal to
//! the function's own, bit for bit. `tolerances_can_fail` shows that these
//! tolerances catch a wrong derivative.

#![allow(
    clippy::needless_range_loop,
    clippy::assign_op_pattern,
    clippy::needless_late_init
)]

#[macro_use]
mod common;

use autodiff::differentiate;
use common::Tol;

/// `check_all_prec` for `fn(x: f64, w: &[f64]) -> f64`, over `[x, w..]`.
macro_rules! check_xw {
    ($f:ident, $fwd:ident, $adj:ident, $grad:ident; $x:expr, $w:expr) => {{
        let mut p = vec![$x];
        p.extend_from_slice(&$w);
        common::check_all_prec(
            stringify!($f),
            &p,
            Tol::F32,
            |p| $f(p[0], &p[1..]),
            |p, v| $fwd(p[0], v[0], &p[1..], &v[1..]),
            |p, d, r| {
                let (dx, dw) = d.split_at_mut(1);
                $adj(p[0], &mut dx[0], &p[1..], dw, r)
            },
            |p| {
                let (y, (gx, gw)) = $grad(p[0], &p[1..]);
                let mut g = vec![gx];
                g.extend(gw);
                (y, g)
            },
        )
    }};
}

/// `check_all_prec` for `fn(x: f64) -> f64`.
macro_rules! check_x {
    ($f:ident, $fwd:ident, $adj:ident, $grad:ident; $x:expr) => {
        common::check_all_prec(
            stringify!($f),
            &[$x],
            Tol::F32,
            |p| $f(p[0]),
            |p, v| $fwd(p[0], v[0]),
            |p, d, r| $adj(p[0], &mut d[0], r),
            |p| {
                let (y, g) = $grad(p[0]);
                (y, vec![g])
            },
        )
    };
}

/// `check_all_prec` for `fn(w: &[f64]) -> f64`.
macro_rules! check_w {
    ($f:ident, $fwd:ident, $adj:ident, $grad:ident; $w:expr) => {
        common::check_all_prec(
            stringify!($f),
            &$w,
            Tol::F32,
            |p| $f(p),
            |p, v| $fwd(p, v),
            |p, d, r| $adj(p, d, r),
            |p| $grad(p),
        )
    };
}

/// `check_all_prec` for `fn(x: f32) -> f32`, through `f64` adapters (exact both ways).
macro_rules! check_x32 {
    ($f:ident, $fwd:ident, $adj:ident, $grad:ident; $x:expr) => {
        common::check_all_prec(
            stringify!($f),
            &[$x],
            Tol::F32,
            |p| $f(p[0] as f32) as f64,
            |p, v| {
                let (y, t) = $fwd(p[0] as f32, v[0] as f32);
                (y as f64, t as f64)
            },
            |p, d, r| {
                let mut d0 = d[0] as f32;
                let y = $adj(p[0] as f32, &mut d0, r as f32);
                d[0] = d0 as f64;
                y as f64
            },
            |p| {
                let (y, g) = $grad(p[0] as f32);
                (y as f64, vec![g as f64])
            },
        )
    };
}

/// `check_all_prec` for `fn(x: f32, w: &[f32]) -> f32`.
macro_rules! check_xw32 {
    ($f:ident, $fwd:ident, $adj:ident, $grad:ident; $x:expr, $w:expr) => {{
        let mut p: Vec<f64> = vec![$x];
        p.extend_from_slice(&$w);
        let to32 = |s: &[f64]| s.iter().map(|v| *v as f32).collect::<Vec<f32>>();
        common::check_all_prec(
            stringify!($f),
            &p,
            Tol::F32,
            |p| $f(p[0] as f32, &to32(&p[1..])) as f64,
            |p, v| {
                let (y, t) = $fwd(p[0] as f32, v[0] as f32, &to32(&p[1..]), &to32(&v[1..]));
                (y as f64, t as f64)
            },
            |p, d, r| {
                let mut dx = d[0] as f32;
                let mut dw = to32(&d[1..]);
                let y = $adj(p[0] as f32, &mut dx, &to32(&p[1..]), &mut dw, r as f32);
                d[0] = dx as f64;
                for (a, b) in d[1..].iter_mut().zip(&dw) {
                    *a = *b as f64;
                }
                y as f64
            },
            |p| {
                let (y, (gx, gw)) = $grad(p[0] as f32, &to32(&p[1..]));
                let mut g = vec![gx as f64];
                g.extend(gw.iter().map(|v| *v as f64));
                (y as f64, g)
            },
        )
    }};
}

const W: [f64; 5] = [0.7, -1.2, 0.4, 1.9, -0.3];

// ---- an f64 function with an f32 section ----

#[differentiate]
fn f32_section(x: f64, w: &[f64]) -> f64 {
    let h = x as f32; // an f32 value carrying a derivative
    let g = (h * h + 1.0).ln(); // f32 arithmetic, f32 rule-table methods
    (g as f64) * w[0] + x // back to f64
}

#[test]
fn an_f32_section_in_an_f64_function() {
    check_xw!(f32_section, f32_section_fwd, f32_section_adjoint, f32_section_grad; 0.8, W);
    // the derivative is the f32 computation's: 2h/(h²+1) in f32, times w[0]
    let (y, (dx, dw)) = f32_section_grad(0.8, &W);
    let h = 0.8f32;
    let g = (h * h + 1.0).ln();
    assert_eq!(y, (g as f64) * W[0] + 0.8);
    assert_eq!(dw[0], g as f64);
    assert!((dx - (1.0 + W[0] * 2.0 * 0.8 / 1.64)).abs() < 1e-6);
}

// ---- an f32 function with an f64 section ----

#[differentiate]
fn f64_section(x: f32) -> f32 {
    let y = x as f64; // compute in higher precision
    (y.exp().ln_1p() * 0.5) as f32
}

#[test]
fn an_f64_section_in_an_f32_function() {
    check_x32!(f64_section, f64_section_fwd, f64_section_adjoint, f64_section_grad; 0.3);
    check_x32!(f64_section, f64_section_fwd, f64_section_adjoint, f64_section_grad; -2.5);
    // d/dx ½·ln(1 + eˣ) = ½·sigmoid(x), computed in f64 and rounded once
    let (_, d) = f64_section_grad(0.3);
    let s = 1.0 / (1.0 + (-0.3f64).exp());
    assert_eq!(d, (0.5 * s) as f32);
}

#[differentiate]
fn f64_accumulation(x: f32, w: &[f32]) -> f32 {
    // a sum in f64 of f32 data: what the cast is for
    let mut s = 0.0f64;
    for i in 0..w.len() {
        s += (w[i] as f64) * (x as f64).sin();
    }
    let mean = s / w.len() as f64;
    mean as f32 * x
}

#[test]
fn an_f64_accumulator_in_an_f32_function() {
    check_xw32!(f64_accumulation, f64_accumulation_fwd, f64_accumulation_adjoint, f64_accumulation_grad; 0.9, W);
}

// ---- loops over slices ----

#[differentiate]
fn loop_over_slice(x: f64, w: &[f64]) -> f64 {
    let h = x as f32;
    let mut s = 0.0f32;
    for v in w.iter() {
        s += (*v as f32 * h).sin();
    }
    s as f64 * x
}

#[differentiate]
fn loop_carried_f32(x: f64, w: &[f64]) -> f64 {
    // `t` is overwritten in the loop and its old value is needed backwards: it is
    // saved on a stack of f32 (the tape holds f64)
    let mut t = x as f32;
    for i in 0..w.len() {
        let u = (w[i] as f32).tanh();
        t = t * u + 0.25 * t.sin();
    }
    let r = t as f64;
    r * r + x
}

#[differentiate]
fn f32_temporary_kept(x: f64, w: &[f64]) -> f64 {
    // `u`, bound in the loop body, is needed by the reverse of the work after the loop
    let mut acc = 0.0;
    let mut p = 1.0f32;
    for i in 0..w.len() {
        let u = (w[i] as f32 * x as f32).exp();
        p = p * (1.0 + 0.1 * u);
        acc += u as f64 * w[i];
    }
    acc * (p as f64)
}

#[differentiate]
fn while_in_f32(x: f64) -> f64 {
    let mut h = x as f32;
    let mut k = 0;
    while k < 4 {
        h = h.sin() + 0.5 * h;
        k += 1;
    }
    h as f64
}

#[test]
fn casts_in_loops() {
    check_xw!(loop_over_slice, loop_over_slice_fwd, loop_over_slice_adjoint, loop_over_slice_grad; 0.6, W);
    check_xw!(loop_carried_f32, loop_carried_f32_fwd, loop_carried_f32_adjoint, loop_carried_f32_grad; 0.6, W);
    check_xw!(f32_temporary_kept, f32_temporary_kept_fwd, f32_temporary_kept_adjoint, f32_temporary_kept_grad; 0.4, W);
    check_x!(while_in_f32, while_in_f32_fwd, while_in_f32_adjoint, while_in_f32_grad; 0.7);
}

// ---- branches ----

#[differentiate]
fn cast_in_branches(x: f64, w: &[f64]) -> f64 {
    let h = x as f32;
    let y = if h > 0.5 {
        (h * h).exp()
    } else {
        h.cos() * 2.0
    };
    let mut z = y as f64;
    if w[0] > 0.0 {
        z = z * w[0];
    } else {
        z = (z as f32 * w[1] as f32) as f64;
    }
    z
}

#[test]
fn casts_in_branches() {
    check_xw!(cast_in_branches, cast_in_branches_fwd, cast_in_branches_adjoint, cast_in_branches_grad; 0.8, W);
    check_xw!(cast_in_branches, cast_in_branches_fwd, cast_in_branches_adjoint, cast_in_branches_grad; 0.3, W);
    let neg = [-0.7, 1.3, 0.2];
    check_xw!(cast_in_branches, cast_in_branches_fwd, cast_in_branches_adjoint, cast_in_branches_grad; 0.8, neg);
}

// ---- iterator closures ----

#[differentiate]
fn cast_in_closure(w: &[f64]) -> f64 {
    w.iter().map(|v| (*v as f32).sin() as f64).sum()
}

#[differentiate]
fn f32_fold(x: f64, w: &[f64]) -> f64 {
    let s = w
        .iter()
        .fold(0.0f32, |acc, v| acc * 0.5 + (*v as f32 * x as f32).cos());
    s as f64
}

#[differentiate]
fn f32_sum_turbofish(x: f64, w: &[f64]) -> f64 {
    let h = x as f32;
    w.iter().map(|v| (*v as f32 * h).tanh()).sum::<f32>() as f64
}

#[test]
fn casts_in_iterator_closures() {
    check_xw!(f32_sum_turbofish, f32_sum_turbofish_fwd, f32_sum_turbofish_adjoint, f32_sum_turbofish_grad; 0.7, W);
    check_w!(cast_in_closure, cast_in_closure_fwd, cast_in_closure_adjoint, cast_in_closure_grad; W);
    check_xw!(f32_fold, f32_fold_fwd, f32_fold_adjoint, f32_fold_grad; 0.9, W);
    // d/dw sin(w as f32) as f64 = cos in f32
    let (_, g) = cast_in_closure_grad(&W);
    for (gi, wi) in g.iter().zip(W) {
        assert_eq!(*gi, (wi as f32).cos() as f64);
    }
}

// ---- round trips, slice elements, annotations ----

#[differentiate]
fn round_trip(x: f64) -> f64 {
    (x as f32 as f64) * x
}

#[differentiate]
fn element_cast(x: f64, w: &[f64]) -> f64 {
    (w[1] as f32).powi(2) as f64 + (w[2] as f32 * x as f32).sqrt() as f64
}

#[differentiate]
fn annotated(x: f64) -> f64 {
    let h: f32 = x as f32;
    let k: f32;
    k = h.exp();
    let back: f64 = (k * h) as f64;
    back + x as f32 as f64
}

#[test]
fn round_trips_elements_and_annotations() {
    check_x!(round_trip, round_trip_fwd, round_trip_adjoint, round_trip_grad; 0.7);
    // The round trip has slope 1 (as `x` itself). Its adjoint passes through `f32`
    // too: the contribution `x·ȳ` is rounded to `f32` on the way, so
    // d = (x as f32) + (x·1 as f32), not x + (x as f32).
    let x = 0.1f64;
    let (y, d) = round_trip_grad(x);
    assert_eq!(y, (x as f32 as f64) * x);
    assert_eq!(d, 2.0 * (x as f32 as f64));
    check_xw!(element_cast, element_cast_fwd, element_cast_adjoint, element_cast_grad; 0.8, [0.2, 1.5, 0.9]);
    check_x!(annotated, annotated_fwd, annotated_adjoint, annotated_grad; 0.4);
}

// ---- rule-table methods in the other type ----

#[differentiate]
fn f32_methods(x: f64, w: &[f64]) -> f64 {
    let a = x as f32;
    let b = w[0] as f32;
    let c = a.tanh() + b.atan2(a) + a.hypot(b) + a.max(b) * a.min(0.2);
    let d = a.abs().powf(1.5) + a.mul_add(b, 0.5) + a.clamp(-0.5, 0.5) + f32::exp2(a);
    let e = a.sinh().asinh() + (a * 0.5).acos() + a.to_degrees() * 0.01 + a.copysign(b);
    (c + d + e) as f64
}

#[differentiate]
fn f64_methods(x: f32) -> f32 {
    let y = x as f64;
    let z = y.cbrt() + y.log10() + y.log(3.0) + y.recip() + y.exp_m1() + f64::sin(y).powi(3);
    z as f32
}

#[test]
fn rule_table_methods_in_the_other_type() {
    check_xw!(f32_methods, f32_methods_fwd, f32_methods_adjoint, f32_methods_grad; 0.3, W);
    check_xw!(f32_methods, f32_methods_fwd, f32_methods_adjoint, f32_methods_grad; -0.4, [-0.9]);
    check_x32!(f64_methods, f64_methods_fwd, f64_methods_adjoint, f64_methods_grad; 1.3);
}

// ---- the tolerances are meaningful ----

#[test]
#[should_panic(expected = "central differences")]
fn tolerances_can_fail() {
    // the derivative of `f32_section` off by 0.3%: Tol::F32 must notice
    common::check_all_prec(
        "off_by_a_little",
        &[0.8],
        Tol::F32,
        |p| f32_section(p[0], &W),
        |p, v| f32_section_fwd(p[0], v[0], &W, &[0.0; 5]),
        |p, d, r| f32_section_adjoint(p[0], &mut d[0], &W, &mut [0.0; 5], r),
        |p| {
            let (y, (g, _)) = f32_section_grad(p[0], &W);
            (y, vec![g * 1.003])
        },
    );
}

// ---- local closures, tuples ----

#[differentiate]
fn f32_closure(x: f64) -> f64 {
    let sq = |v: f32| v * v + v.sin();
    let (s, c) = (x as f32).sin_cos();
    (sq(x as f32) * s + c) as f64
}

#[test]
fn casts_through_closures_and_tuples() {
    check_x!(f32_closure, f32_closure_fwd, f32_closure_adjoint, f32_closure_grad; 0.6);
}

// ---- `_jacobian`: casts run the scalar forward mode (no lanes) ----

#[differentiate]
fn polar32(r: f64, t: f64) -> [f64; 2] {
    let t32 = t as f32;
    [r * t32.cos() as f64, r * t32.sin() as f64]
}

#[test]
fn jacobian_with_casts() {
    let (v, j) = polar32_jacobian(2.0, 0.5);
    let (c, s) = ((0.5f32).cos() as f64, (0.5f32).sin() as f64);
    assert_eq!(v, [2.0 * c, 2.0 * s]);
    // rows ∂(x, y)/∂(r, t); the t-column went through f32
    let want = [c, -2.0 * s, s, 2.0 * c];
    for (g, w) in j.iter().zip(want) {
        assert!((g - w).abs() < 1e-6, "{j:?}");
    }
    // forward and reverse agree
    let (_, t) = polar32_fwd(2.0, 0.3, 0.5, -0.7);
    let (mut dr, mut dt) = (0.0, 0.0);
    polar32_adjoint(2.0, &mut dr, 0.5, &mut dt, [1.0, 0.0]);
    assert!((t[0] - (dr * 0.3 + dt * -0.7)).abs() < 1e-6);
}

// ---- `f64::from(h)`: the lossless cast clippy asks for ----

#[differentiate]
fn from_section(x: f32) -> f32 {
    let y = f64::from(x); // the same as `x as f64`
    (y.exp().ln_1p() * 0.5) as f32
}

#[differentiate]
#[allow(clippy::useless_conversion)]
fn from_back(x: f64, w: &[f64]) -> f64 {
    let h = x as f32;
    f64::from(h * h) * w[0] + f64::from(x)
}

#[test]
fn f64_from_is_a_cast() {
    check_x32!(from_section, from_section_fwd, from_section_adjoint, from_section_grad; 0.3);
    check_xw!(from_back, from_back_fwd, from_back_adjoint, from_back_grad; 0.8, W);
    // exactly the `as` form's values and derivatives
    assert_eq!(from_section_grad(0.3), f64_section_grad(0.3));
    let (y, (dx, dw)) = from_back_grad(1.5, &W);
    assert_eq!(y, 2.25 * W[0] + 1.5);
    // the adjoint of the f32 section is rounded to f32 (docs: precision)
    assert!((dx - (3.0 * W[0] + 1.0)).abs() < 1e-6);
    assert_eq!(dw[0], 2.25);
}
