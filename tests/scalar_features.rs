//! The core scalar subset, one feature at a time: each checked against central
//! differences, forward against reverse (dot-product identity), accumulation into
//! pre-filled shadows, and the primal value returned unchanged.

// The differentiated functions are written in the forms under test, not as clippy prefers.
#![allow(
    clippy::assign_op_pattern,
    clippy::multiple_bound_locations,
    clippy::needless_late_init,
    clippy::needless_return,
    clippy::unnecessary_cast
)]

#[macro_use]
mod common;

use autodiff::differentiate;
use autodiff::Float;
use common::{assert_close, check_all};

// ---------------------------------------------------------------------------
// Arithmetic, bindings, assignment
// ---------------------------------------------------------------------------

#[differentiate]
fn arith(x: f64, y: f64) -> f64 {
    -(x * y) + x / y - (-x) * 3.0 - y + -y * -x
}

#[test]
fn arithmetic_and_unary_minus() {
    check_scalar!(arith, arith_fwd, arith_adjoint, arith_grad; [1.3, -0.7]);
    check_scalar!(arith, arith_fwd, arith_adjoint, arith_grad; [-2.1, 3.4]);
}

#[differentiate]
fn bindings(x: f64, y: f64) -> f64 {
    let a = x * y;
    let mut b = a + x;
    b = b * b;
    let a = a.sin() + b;
    let a = a * x;
    // `let c;` with no type is refused (a documented diagnostic asks for the type)
    let c: f64;
    c = a - y;
    c + a
}

#[test]
fn let_mut_and_shadowing() {
    check_scalar!(bindings, bindings_fwd, bindings_adjoint, bindings_grad; [0.8, 1.7]);
    check_scalar!(bindings, bindings_fwd, bindings_adjoint, bindings_grad; [-1.2, 0.4]);
}

#[differentiate]
fn compound(x: f64, y: f64) -> f64 {
    let mut s = x;
    s += y;
    s -= 0.5 * x;
    s *= y;
    s /= x + 2.0;
    s += s;
    s *= s;
    s
}

#[differentiate]
fn assign_param(x: f64, y: f64) -> f64 {
    let mut x = x;
    x *= x;
    x += y;
    x /= y;
    x -= y * y;
    x
}

#[differentiate]
fn mut_param(mut x: f64, y: f64) -> f64 {
    x *= y;
    x = x.sin() + x;
    x
}

#[test]
fn assignment_and_compound_assignment() {
    check_scalar!(compound, compound_fwd, compound_adjoint, compound_grad; [0.9, -1.4]);
    check_scalar!(compound, compound_fwd, compound_adjoint, compound_grad; [2.5, 0.3]);
    check_scalar!(assign_param, assign_param_fwd, assign_param_adjoint, assign_param_grad; [1.1, 0.6]);
    check_scalar!(mut_param, mut_param_fwd, mut_param_adjoint, mut_param_grad; [1.1, -0.6]);
}

const SCALE: f64 = 2.5;

#[differentiate]
fn literals(x: f64) -> f64 {
    std::f64::consts::PI * x + core::f64::consts::E * x * x + 1e-3 + SCALE * x.powi(3) - 0.25
}

#[test]
fn float_literals_and_consts() {
    check_scalar!(literals, literals_fwd, literals_adjoint, literals_grad; [0.7]);
    let g = literals_grad(1.0).1;
    assert_close(
        g,
        std::f64::consts::PI + 2.0 * std::f64::consts::E + 3.0 * SCALE,
        1e-14,
        "literals'(1)",
    );
}

#[differentiate]
fn casts(x: f64, n: usize, k: i32) -> f64 {
    let m = 3;
    (n as f64) * x + (k as f64).sqrt() * x.sin() + m as f64 * x * x
}

#[test]
fn integer_to_float_casts() {
    let (n, k) = (4usize, 9i32);
    check_all(
        "casts",
        &[0.6],
        |x| casts(x[0], n, k),
        |x, v| casts_fwd(x[0], v[0], n, k),
        |x, d, r| casts_adjoint(x[0], &mut d[0], n, k, r),
        |x| {
            let (y, g) = casts_grad(x[0], n, k);
            (y, vec![g])
        },
    );
    assert_close(casts_grad(0.0, n, k).1, 4.0 + 3.0, 1e-14, "casts'(0)");
}

// ---------------------------------------------------------------------------
// Control flow
// ---------------------------------------------------------------------------

#[differentiate]
fn branches(x: f64, y: f64) -> f64 {
    let mut r = 0.0;
    if x > y {
        r = x * y;
    } else if x < -y {
        r = x - y * y;
    } else {
        r += x.exp() + y;
    }
    let s = if r > 1.0 {
        r.ln()
    } else if r < -1.0 {
        -r * x
    } else {
        r * r
    };
    s + r
}

#[test]
fn if_else_if_else_statement_and_expression() {
    // every combination of the two three-way branches that is reachable
    for p in [
        [2.0, 1.5],
        [0.5, 0.3],
        [0.4, -0.3],
        [-3.0, 1.0],
        [-0.5, 0.9],
        [-0.2, 2.0],
        [0.1, 0.2],
        [1.0, -2.5],
    ] {
        check_scalar!(branches, branches_fwd, branches_adjoint, branches_grad; [p[0], p[1]]);
    }
}

#[differentiate]
fn if_tail(x: f64) -> f64 {
    if x > 0.0 {
        x.sqrt()
    } else {
        -x * x
    }
}

#[test]
fn if_else_as_tail_expression() {
    check_scalar!(if_tail, if_tail_fwd, if_tail_adjoint, if_tail_grad; [2.0]);
    check_scalar!(if_tail, if_tail_fwd, if_tail_adjoint, if_tail_grad; [-1.5]);
}

#[differentiate]
fn early_return(x: f64, y: f64) -> f64 {
    if x > 2.0 {
        return x * y;
    }
    let z = x.sin();
    if z < 0.0 {
        return z * y;
    }
    let w = z + y;
    w * x
}

#[test]
fn early_return_paths() {
    check_scalar!(early_return, early_return_fwd, early_return_adjoint, early_return_grad; [3.0, 0.5]);
    check_scalar!(early_return, early_return_fwd, early_return_adjoint, early_return_grad; [-1.0, 0.5]);
    check_scalar!(early_return, early_return_fwd, early_return_adjoint, early_return_grad; [1.0, 0.5]);
}

#[differentiate]
fn nested_blocks(x: f64, y: f64) -> f64 {
    let a = {
        let t = x * y;
        t + x
    };
    let mut b = a;
    {
        let c = a * 2.0;
        b += c * y;
        {
            b *= x;
        }
    }
    b + {
        let u = y.cos();
        u * a
    }
}

#[test]
fn nested_block_expressions_and_statements() {
    check_scalar!(nested_blocks, nested_blocks_fwd, nested_blocks_adjoint, nested_blocks_grad; [0.7, -1.3]);
}

// ---------------------------------------------------------------------------
// Calls
// ---------------------------------------------------------------------------

#[differentiate]
fn sq(x: f64) -> f64 {
    x * x
}

#[differentiate]
fn hx(x: f64) -> f64 {
    x.sin() + 1.0
}

#[differentiate]
fn g2(a: f64, b: f64) -> f64 {
    a * b.exp() - b
}

mod m {
    use autodiff::differentiate;

    #[differentiate]
    pub fn g(x: f64) -> f64 {
        x.tanh() * 3.0
    }

    #[differentiate]
    pub(crate) fn g_crate(x: f64, y: f64) -> f64 {
        x * y + super::sq(x)
    }
}

#[differentiate]
fn calls(x: f64, y: f64) -> f64 {
    let a = sq(x) + sq(y) * x;
    let b = m::g(a);
    b + g2(x, y) + x * sq(3.0)
}

#[differentiate]
fn nested_calls(x: f64, y: f64) -> f64 {
    g2(hx(x), x) + g2(sq(y), hx(x * y)) + m::g_crate(y, x)
}

#[differentiate]
fn rpow(x: f64, n: u32) -> f64 {
    if n == 0 {
        return 1.0;
    }
    x * rpow(x, n - 1)
}

#[differentiate]
fn call_rpow(x: f64, y: f64) -> f64 {
    rpow(x, 3) + rpow(y, 0) * x + rpow(x * y, 2)
}

#[test]
fn calls_to_differentiated_functions() {
    check_scalar!(calls, calls_fwd, calls_adjoint, calls_grad; [0.6, -0.8]);
    check_scalar!(m::g, m::g_fwd, m::g_adjoint, m::g_grad; [0.3]);
    check_scalar!(m::g_crate, m::g_crate_fwd, m::g_crate_adjoint, m::g_crate_grad; [0.3, 1.2]);
}

#[test]
fn calls_as_arguments_of_calls() {
    check_scalar!(nested_calls, nested_calls_fwd, nested_calls_adjoint, nested_calls_grad; [0.9, 0.4]);
}

#[test]
fn recursion_with_integer_counter() {
    for n in 0..5u32 {
        let x = 1.3;
        let (v, g) = rpow_grad(x, n);
        assert_eq!(v, rpow(x, n));
        let want = if n == 0 {
            0.0
        } else {
            n as f64 * x.powi(n as i32 - 1)
        };
        assert_close(g, want, 1e-13, &format!("rpow'({x}, {n})"));
        let (v2, t) = rpow_fwd(x, 0.5, n);
        assert_eq!(v2, v);
        assert_close(t, 0.5 * want, 1e-13, "rpow_fwd");
        let mut d = 1.0;
        rpow_adjoint(x, &mut d, n, 2.0);
        assert_close(d, 1.0 + 2.0 * want, 1e-13, "rpow_adjoint");
    }
    check_scalar!(call_rpow, call_rpow_fwd, call_rpow_adjoint, call_rpow_grad; [1.1, -0.7]);
}

/// softplus(x) = ln(1 + eˣ), written in a way the macro cannot read (a
/// `match`), with its derivative (the logistic function) given by hand.
fn softplus(x: f64) -> f64 {
    match x > 30.0 {
        true => x,
        false => x.exp().ln_1p(),
    }
}

fn softplus_fwd(x: f64, dx: f64) -> (f64, f64) {
    (softplus(x), dx / (1.0 + (-x).exp()))
}

fn softplus_adjoint(x: f64, dx: &mut f64, dret: f64) -> f64 {
    *dx += dret / (1.0 + (-x).exp());
    softplus(x)
}

#[differentiate]
fn uses_custom(x: f64, y: f64) -> f64 {
    softplus(x * y) + softplus(x) * y
}

#[test]
fn hand_written_custom_derivative() {
    check_scalar!(uses_custom, uses_custom_fwd, uses_custom_adjoint, uses_custom_grad; [0.7, -1.9]);
    check_scalar!(uses_custom, uses_custom_fwd, uses_custom_adjoint, uses_custom_grad; [40.0, 0.9]);
}

// ---------------------------------------------------------------------------
// Passive parameters, wrt, generics, visibility
// ---------------------------------------------------------------------------

pub struct Params {
    pub scale: f64,
    pub offset: f64,
}

#[differentiate]
fn passive_params(x: f64, n: usize, flag: bool, name: &str, p: &Params, y: f64) -> f64 {
    let k = n as f64 + name.len() as f64;
    let s = if flag { p.scale } else { 1.0 };
    s * x * y + k * x + p.offset
}

#[test]
fn passive_parameters_pass_through() {
    let p = Params {
        scale: 1.5,
        offset: -0.25,
    };
    for flag in [true, false] {
        check_all(
            "passive_params",
            &[0.8, -1.1],
            |x| passive_params(x[0], 3, flag, "abcd", &p, x[1]),
            |x, v| passive_params_fwd(x[0], v[0], 3, flag, "abcd", &p, x[1], v[1]),
            |x, d, r| {
                let (mut d0, mut d1) = (d[0], d[1]);
                let y =
                    passive_params_adjoint(x[0], &mut d0, 3, flag, "abcd", &p, x[1], &mut d1, r);
                d[0] = d0;
                d[1] = d1;
                y
            },
            |x| {
                let (y, (g0, g1)) = passive_params_grad(x[0], 3, flag, "abcd", &p, x[1]);
                (y, vec![g0, g1])
            },
        );
    }
    let (_, (gx, gy)) = passive_params_grad(2.0, 3, true, "abcd", &p, 4.0);
    assert_eq!((gx, gy), (1.5 * 4.0 + 7.0, 1.5 * 2.0));
}

#[differentiate(wrt(x))]
fn wrt_one(x: f64, c: f64) -> f64 {
    c * x * x + c.exp() * x
}

#[differentiate(wrt(b, a))]
fn wrt_reordered(a: f64, c: f64, b: f64) -> f64 {
    a * b * c + a.sin()
}

#[test]
fn wrt_selects_parameters() {
    let c = 0.3;
    check_all(
        "wrt_one",
        &[1.2],
        |x| wrt_one(x[0], c),
        |x, v| wrt_one_fwd(x[0], v[0], c),
        |x, d, r| wrt_one_adjoint(x[0], &mut d[0], c, r),
        |x| {
            let (y, g) = wrt_one_grad(x[0], c);
            (y, vec![g])
        },
    );
    // the gradient is in parameter order, whatever the order in `wrt(..)`
    check_all(
        "wrt_reordered",
        &[0.4, -0.9],
        |x| wrt_reordered(x[0], c, x[1]),
        |x, v| wrt_reordered_fwd(x[0], v[0], c, x[1], v[1]),
        |x, d, r| {
            let (mut d0, mut d1) = (d[0], d[1]);
            let y = wrt_reordered_adjoint(x[0], &mut d0, c, x[1], &mut d1, r);
            d[0] = d0;
            d[1] = d1;
            y
        },
        |x| {
            let (y, (ga, gb)) = wrt_reordered_grad(x[0], c, x[1]);
            (y, vec![ga, gb])
        },
    );
}

#[differentiate]
fn generic<T: Float>(x: T, y: T) -> T {
    let two = T::one() + T::one();
    let half = T::from(0.5).unwrap();
    let mut s = x * y + two * x.sin();
    s = s + half * y.exp();
    if s > T::zero() {
        s.sqrt() + x
    } else {
        -s * y
    }
}

#[differentiate]
fn generic_bounds<T: Float + std::fmt::Debug + Default>(x: T, n: usize) -> T
where
    T: Copy + std::iter::Sum,
{
    let k = T::from(n).unwrap();
    k * x.powi(2) + x.ln_1p()
}

#[test]
fn generic_float_f64() {
    check_scalar!(generic::<f64>, generic_fwd::<f64>, generic_adjoint::<f64>, generic_grad::<f64>; [0.7, 1.1]);
    check_scalar!(generic::<f64>, generic_fwd::<f64>, generic_adjoint::<f64>, generic_grad::<f64>; [-2.5, -1.0]);
    check_all(
        "generic_bounds",
        &[0.6],
        |x| generic_bounds(x[0], 3),
        |x, v| generic_bounds_fwd(x[0], v[0], 3),
        |x, d, r| generic_bounds_adjoint(x[0], &mut d[0], 3, r),
        |x| {
            let (y, g) = generic_bounds_grad(x[0], 3);
            (y, vec![g])
        },
    );
}

#[test]
fn generic_float_f32_matches_f64() {
    for (x, y) in [(0.7f32, 1.1f32), (-2.5, -1.0)] {
        let (v32, (gx32, gy32)) = generic_grad::<f32>(x, y);
        let (v64, (gx64, gy64)) = generic_grad::<f64>(x as f64, y as f64);
        assert_eq!(v32, generic::<f32>(x, y));
        assert_close(v32 as f64, v64, 1e-5, "generic::<f32> value");
        assert_close(gx32 as f64, gx64, 1e-5, "generic::<f32> ∂x");
        assert_close(gy32 as f64, gy64, 1e-5, "generic::<f32> ∂y");
        let (v, t) = generic_fwd::<f32>(x, 1.0, y, 0.0);
        assert_eq!(v, v32);
        assert_close(t as f64, gx64, 1e-5, "generic_fwd::<f32>");
        let (mut dx, mut dy) = (1.0f32, 1.0f32);
        assert_eq!(generic_adjoint::<f32>(x, &mut dx, y, &mut dy, 2.0), v32);
        assert_close(
            dx as f64,
            1.0 + 2.0 * gx64,
            1e-5,
            "generic_adjoint::<f32> ∂x",
        );
        assert_close(
            dy as f64,
            1.0 + 2.0 * gy64,
            1e-5,
            "generic_adjoint::<f32> ∂y",
        );
    }
    let (v, g) = generic_bounds_grad::<f32>(0.6, 3);
    assert_eq!(v, generic_bounds::<f32>(0.6, 3));
    assert_close(
        g as f64,
        6.0 * 0.6 + 1.0 / 1.6,
        1e-5,
        "generic_bounds::<f32>",
    );
}

pub mod visible {
    use autodiff::differentiate;

    #[differentiate]
    pub fn public(x: f64) -> f64 {
        x.cos() * x
    }
}

#[test]
fn pub_visibility_is_kept() {
    // called from outside its module: `_fwd`, `_adjoint`, `_grad` are `pub` too
    check_scalar!(visible::public, visible::public_fwd, visible::public_adjoint, visible::public_grad; [0.9]);
}

#[differentiate]
fn fan_out(x: f64) -> f64 {
    let a = x.sin();
    a * a + a * x + sq(a) + a
}

#[test]
fn fan_out_accumulates() {
    check_scalar!(fan_out, fan_out_fwd, fan_out_adjoint, fan_out_grad; [0.8]);
}

// ---------------------------------------------------------------------------
// Corner cases of the same features
// ---------------------------------------------------------------------------

#[differentiate]
fn same_arg_twice(x: f64, y: f64) -> f64 {
    g2(x, x) + g2(y, x) * sq(y)
}

#[differentiate]
fn args_reused_across_calls(x: f64, y: f64) -> f64 {
    g2(y, x) * sq(y) + g2(x, y) + g2(x * 1.0, x)
}

#[differentiate]
fn constant_arg(x: f64) -> f64 {
    g2(x, 2.0) + g2(0.5, x) + m::g(1.0) * x
}

#[differentiate]
fn call_in_condition_and_method_on_call(x: f64) -> f64 {
    let mut s = -sq(x);
    if sq(x) > 1.0 {
        s += sq(x).sin();
    }
    s += hx(x) * 2.0;
    s
}

#[differentiate]
fn shadow_in_branch(x: f64, y: f64) -> f64 {
    let mut acc = x;
    if y > 0.0 {
        let x = x * 2.0;
        acc *= x;
    } else {
        let y = y * y;
        acc += y;
    }
    acc + x * y
}

#[differentiate]
fn mixed_branch_kinds(x: f64, flag: bool) -> f64 {
    let a = if x > 0.0 { 1.0 } else { x };
    let b = if flag && x < 1.0 { x * x } else { 3.0 };
    let c: f64 = 0.5;
    let d = c * 4.0;
    a * b + d * x + (-x.abs())
}

#[differentiate]
fn return_in_all_branches(x: f64) -> f64 {
    if x > 1.0 {
        return x.ln();
    } else if x > 0.0 {
        {
            let t = x * x;
            return t * 0.5;
        }
    } else {
        return -x;
    }
}

#[differentiate]
fn trailing_return(x: f64) -> f64 {
    let y = x * 3.0;
    return y * x;
}

#[differentiate]
fn identity_cast(x: f64) -> f64 {
    (x as f64) * 2.0 + (x * x) as f64
}

#[differentiate]
fn single_precision(x: f32, y: f32) -> f32 {
    let z = 1.5 * x * y + x.sin();
    z * z - y / 2.0
}

#[test]
fn calls_with_aliased_and_constant_arguments() {
    check_scalar!(same_arg_twice, same_arg_twice_fwd, same_arg_twice_adjoint, same_arg_twice_grad; [0.6, -0.4]);
    check_scalar!(args_reused_across_calls, args_reused_across_calls_fwd, args_reused_across_calls_adjoint, args_reused_across_calls_grad; [0.6, -0.4]);
    check_scalar!(constant_arg, constant_arg_fwd, constant_arg_adjoint, constant_arg_grad; [0.75]);
}

#[test]
fn calls_in_conditions_and_method_on_call_result() {
    check_scalar!(call_in_condition_and_method_on_call, call_in_condition_and_method_on_call_fwd, call_in_condition_and_method_on_call_adjoint, call_in_condition_and_method_on_call_grad; [1.4]);
    check_scalar!(call_in_condition_and_method_on_call, call_in_condition_and_method_on_call_fwd, call_in_condition_and_method_on_call_adjoint, call_in_condition_and_method_on_call_grad; [0.3]);
}

#[test]
fn shadowing_inside_branches() {
    check_scalar!(shadow_in_branch, shadow_in_branch_fwd, shadow_in_branch_adjoint, shadow_in_branch_grad; [0.7, 1.3]);
    check_scalar!(shadow_in_branch, shadow_in_branch_fwd, shadow_in_branch_adjoint, shadow_in_branch_grad; [0.7, -1.3]);
}

#[test]
fn branches_mixing_constants_and_active_values() {
    for (x, flag) in [(0.5, true), (0.5, false), (-0.8, true), (2.0, true)] {
        check_all(
            "mixed_branch_kinds",
            &[x],
            |x| mixed_branch_kinds(x[0], flag),
            |x, v| mixed_branch_kinds_fwd(x[0], v[0], flag),
            |x, d, r| mixed_branch_kinds_adjoint(x[0], &mut d[0], flag, r),
            |x| {
                let (y, g) = mixed_branch_kinds_grad(x[0], flag);
                (y, vec![g])
            },
        );
    }
}

#[test]
fn returns_in_every_branch_and_trailing_return() {
    for x in [2.0, 0.5, -0.5] {
        check_scalar!(return_in_all_branches, return_in_all_branches_fwd, return_in_all_branches_adjoint, return_in_all_branches_grad; [x]);
    }
    check_scalar!(trailing_return, trailing_return_fwd, trailing_return_adjoint, trailing_return_grad; [0.9]);
}

#[test]
fn float_to_float_cast_is_identity() {
    check_scalar!(identity_cast, identity_cast_fwd, identity_cast_adjoint, identity_cast_grad; [0.9]);
}

#[test]
fn concrete_f32_function() {
    let (x, y) = (0.7f32, -1.2f32);
    let (v, (gx, gy)) = single_precision_grad(x, y);
    assert_eq!(v, single_precision(x, y));
    let (xd, yd) = (x as f64, y as f64);
    let z = 1.5 * xd * yd + xd.sin();
    assert_close(
        gx as f64,
        2.0 * z * (1.5 * yd + xd.cos()),
        1e-5,
        "single_precision ∂x",
    );
    assert_close(
        gy as f64,
        2.0 * z * 1.5 * xd - 0.5,
        1e-5,
        "single_precision ∂y",
    );
    let (v2, t) = single_precision_fwd(x, 0.0, y, 1.0);
    assert_eq!(v2, v);
    assert_close(t as f64, gy as f64, 1e-6, "single_precision_fwd");
    let (mut dx, mut dy) = (0.5f32, 0.5f32);
    assert_eq!(single_precision_adjoint(x, &mut dx, y, &mut dy, -1.0), v);
    assert_close(dx as f64, 0.5 - gx as f64, 1e-6, "single_precision_adjoint");
    assert_close(dy as f64, 0.5 - gy as f64, 1e-6, "single_precision_adjoint");
}

#[differentiate]
fn generic_caller<T: Float + std::fmt::Debug + Default + std::iter::Sum>(x: T, y: T) -> T {
    generic(x * y, y) + generic_bounds(x, 2) * y
}

#[differentiate]
fn suffixed_literals(x: f64) -> f64 {
    2.0_f64 * x + 1.5f64 / x - x.powi(2) / 4.0 + -x.powi(2)
}

#[differentiate]
fn passive_early_return(x: f64, y: f64) -> f64 {
    if x < 0.0 {
        return 0.0;
    }
    if y > x {
        return y;
    }
    x * y
}

#[differentiate]
fn custom_with_constant(x: f64) -> f64 {
    softplus(2.0) * x + softplus(x) * softplus(-1.0)
}

#[differentiate(wrt(x))]
fn passive_float_in_condition(x: f64, c: f64) -> f64 {
    if c > 0.0 {
        x * c
    } else {
        x.sin() - c
    }
}

#[test]
fn generic_calling_generic() {
    check_scalar!(generic_caller::<f64>, generic_caller_fwd::<f64>, generic_caller_adjoint::<f64>, generic_caller_grad::<f64>; [0.7, 1.1]);
    let (v, (gx, gy)) = generic_caller_grad::<f32>(0.7, 1.1);
    let (v64, (gx64, gy64)) = generic_caller_grad::<f64>(0.7, 1.1);
    assert_close(v as f64, v64, 1e-5, "generic_caller::<f32>");
    assert_close(gx as f64, gx64, 1e-5, "generic_caller::<f32> ∂x");
    assert_close(gy as f64, gy64, 1e-5, "generic_caller::<f32> ∂y");
}

#[test]
fn literal_suffixes_and_precedence() {
    check_scalar!(suffixed_literals, suffixed_literals_fwd, suffixed_literals_adjoint, suffixed_literals_grad; [0.8]);
    assert_close(
        suffixed_literals_grad(2.0).1,
        2.0 - 1.5 / 4.0 - 1.0 - 4.0,
        1e-14,
        "suffixed_literals'(2)",
    );
}

#[test]
fn returning_constants_and_parameters() {
    for p in [[-1.0, 2.0], [1.0, 2.0], [2.0, 1.0]] {
        check_scalar!(passive_early_return, passive_early_return_fwd, passive_early_return_adjoint, passive_early_return_grad; [p[0], p[1]]);
    }
}

#[test]
fn custom_derivative_with_constant_argument() {
    check_scalar!(custom_with_constant, custom_with_constant_fwd, custom_with_constant_adjoint, custom_with_constant_grad; [0.4]);
}

#[test]
fn passive_float_parameter_in_condition() {
    for c in [0.5, -0.5] {
        check_all(
            "passive_float_in_condition",
            &[0.9],
            |x| passive_float_in_condition(x[0], c),
            |x, v| passive_float_in_condition_fwd(x[0], v[0], c),
            |x, d, r| passive_float_in_condition_adjoint(x[0], &mut d[0], c, r),
            |x| {
                let (y, g) = passive_float_in_condition_grad(x[0], c);
                (y, vec![g])
            },
        );
    }
}
