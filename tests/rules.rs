//! One row per op of the derivative table (`autodiff-macros/src/rules.rs`): each
//! op checked against its analytic derivative in forward and reverse mode, plus
//! the edge conventions at non-differentiable and singular points.

// The differentiated functions are written in the forms under test, not as clippy prefers.
#![allow(clippy::let_and_return)]

#[macro_use]
mod common;

use autodiff::differentiate;
use common::{assert_close, assert_close_f32, close, fd1};

// ---------------------------------------------------------------------------
// Checkers
// ---------------------------------------------------------------------------

type Unary = (
    fn(f64) -> f64,
    fn(f64, f64) -> (f64, f64),
    fn(f64, &mut f64, f64) -> f64,
    fn(f64) -> (f64, f64),
);

type Binary = (
    fn(f64, f64) -> f64,
    fn(f64, f64, f64, f64) -> (f64, f64),
    fn(f64, &mut f64, f64, &mut f64, f64) -> f64,
    fn(f64, f64) -> (f64, (f64, f64)),
);

type UnaryF32 = (
    fn(f32) -> f32,
    fn(f32, f32) -> (f32, f32),
    fn(f32, &mut f32, f32) -> f32,
    fn(f32) -> (f32, f32),
);

type BinaryF32 = (
    fn(f32, f32) -> f32,
    fn(f32, f32, f32, f32) -> (f32, f32),
    fn(f32, &mut f32, f32, &mut f32, f32) -> f32,
    fn(f32, f32) -> (f32, (f32, f32)),
);

#[track_caller]
fn same(got: f64, want: f64, what: &str) {
    assert!(
        got.to_bits() == want.to_bits() || got == want || (got.is_nan() && want.is_nan()),
        "{what}: primal {got:e} differs from f(..) = {want:e}"
    );
}

/// The op's derivative `d` at every point, in both modes; the analytic `d`
/// is itself checked against central differences where `fd` is set.
#[track_caller]
fn check_unary(name: &str, ops: Unary, d: fn(f64) -> f64, pts: &[f64], fd: bool) {
    let (f, fwd, adj, grad) = ops;
    let tol = 1e-11;
    for &x in pts {
        let y = f(x);
        let want = d(x);
        let at = format!("{name}({x})");
        if fd && want.is_finite() {
            assert_close(
                want,
                fd1(f, x),
                1e-6,
                &format!("{at}: analytic vs central differences (test table bug)"),
            );
        }
        let (v, t) = fwd(x, 1.0);
        same(v, y, &format!("{at} _fwd"));
        assert_close(t, want, tol, &format!("{at} _fwd tangent, dx = 1"));
        let (_, t) = fwd(x, -0.5);
        assert_close(
            t,
            -0.5 * want,
            tol,
            &format!("{at} _fwd tangent, dx = -0.5"),
        );
        let mut dx = 0.25;
        let v = adj(x, &mut dx, 3.0);
        same(v, y, &format!("{at} _adjoint"));
        assert_close(
            dx,
            0.25 + 3.0 * want,
            tol,
            &format!("{at} _adjoint: 0.25 + 3·f'"),
        );
        let (v, g) = grad(x);
        same(v, y, &format!("{at} _grad"));
        assert_close(g, want, tol, &format!("{at} _grad"));
    }
}

/// Both operands active: partials `da`, `db` at every point, in both modes.
#[track_caller]
fn check_binary(
    name: &str,
    ops: Binary,
    da: fn(f64, f64) -> f64,
    db: fn(f64, f64) -> f64,
    pts: &[(f64, f64)],
    fd: bool,
) {
    let (f, fwd, adj, grad) = ops;
    let tol = 1e-11;
    for &(a, b) in pts {
        let y = f(a, b);
        let (wa, wb) = (da(a, b), db(a, b));
        let at = format!("{name}({a}, {b})");
        if fd {
            if wa.is_finite() {
                assert_close(
                    wa,
                    fd1(|a| f(a, b), a),
                    1e-6,
                    &format!("{at}: analytic ∂a vs FD (test table bug)"),
                );
            }
            if wb.is_finite() {
                assert_close(
                    wb,
                    fd1(|b| f(a, b), b),
                    1e-6,
                    &format!("{at}: analytic ∂b vs FD (test table bug)"),
                );
            }
        }
        let (v, t) = fwd(a, 1.0, b, 0.0);
        same(v, y, &format!("{at} _fwd"));
        assert_close(t, wa, tol, &format!("{at} _fwd along a"));
        let (_, t) = fwd(a, 0.0, b, 1.0);
        assert_close(t, wb, tol, &format!("{at} _fwd along b"));
        let (_, t) = fwd(a, 0.5, b, -2.0);
        assert_close(
            t,
            0.5 * wa - 2.0 * wb,
            tol,
            &format!("{at} _fwd along (0.5, -2)"),
        );
        let (mut ga, mut gb) = (0.25, -1.0);
        let v = adj(a, &mut ga, b, &mut gb, 3.0);
        same(v, y, &format!("{at} _adjoint"));
        assert_close(ga, 0.25 + 3.0 * wa, tol, &format!("{at} _adjoint ∂a"));
        assert_close(gb, -1.0 + 3.0 * wb, tol, &format!("{at} _adjoint ∂b"));
        let (v, (ga, gb)) = grad(a, b);
        same(v, y, &format!("{at} _grad"));
        assert_close(ga, wa, tol, &format!("{at} _grad ∂a"));
        assert_close(gb, wb, tol, &format!("{at} _grad ∂b"));
    }
}

#[track_caller]
fn check_unary_f32(name: &str, ops: UnaryF32, d: fn(f64) -> f64, pts: &[f32]) {
    let (f, fwd, adj, grad) = ops;
    let tol = 2e-5;
    for &x in pts {
        let y = f(x);
        let want = d(x as f64) as f32;
        let at = format!("{name}::<f32>({x})");
        let (v, t) = fwd(x, 1.0);
        assert_eq!(v, y, "{at} _fwd primal");
        assert_close_f32(t, want, tol, &format!("{at} _fwd"));
        let mut dx = 0.25f32;
        let v = adj(x, &mut dx, 2.0);
        assert_eq!(v, y, "{at} _adjoint primal");
        assert_close_f32(dx, 0.25 + 2.0 * want, tol, &format!("{at} _adjoint"));
        let (v, g) = grad(x);
        assert_eq!(v, y, "{at} _grad primal");
        assert_close_f32(g, want, tol, &format!("{at} _grad"));
    }
}

#[track_caller]
fn check_binary_f32(
    name: &str,
    ops: BinaryF32,
    da: fn(f64, f64) -> f64,
    db: fn(f64, f64) -> f64,
    pts: &[(f32, f32)],
) {
    let (f, fwd, adj, grad) = ops;
    let tol = 2e-5;
    for &(a, b) in pts {
        let y = f(a, b);
        let (wa, wb) = (da(a as f64, b as f64) as f32, db(a as f64, b as f64) as f32);
        let at = format!("{name}::<f32>({a}, {b})");
        let (v, t) = fwd(a, 1.0, b, 0.0);
        assert_eq!(v, y, "{at} _fwd primal");
        assert_close_f32(t, wa, tol, &format!("{at} _fwd along a"));
        let (_, t) = fwd(a, 0.0, b, 1.0);
        assert_close_f32(t, wb, tol, &format!("{at} _fwd along b"));
        let (mut ga, mut gb) = (0.25f32, -1.0f32);
        let v = adj(a, &mut ga, b, &mut gb, 2.0);
        assert_eq!(v, y, "{at} _adjoint primal");
        assert_close_f32(ga, 0.25 + 2.0 * wa, tol, &format!("{at} _adjoint ∂a"));
        assert_close_f32(gb, -1.0 + 2.0 * wb, tol, &format!("{at} _adjoint ∂b"));
        let (v, (ga, gb)) = grad(a, b);
        assert_eq!(v, y, "{at} _grad primal");
        assert_close_f32(ga, wa, tol, &format!("{at} _grad ∂a"));
        assert_close_f32(gb, wb, tol, &format!("{at} _grad ∂b"));
    }
}

/// `(m::f, m::f_fwd, m::f_adjoint, m::f_grad)` for an op module.
macro_rules! ops {
    ($m:ident) => {
        ($m::f, $m::f_fwd, $m::f_adjoint, $m::f_grad)
    };
}

/// A module `m` holding `#[differentiate] pub fn f(x) -> F { body }`.
macro_rules! op1 {
    ($m:ident: $t:ident, |$x:ident| $($body:tt)*) => {
        mod $m {
            #[autodiff::differentiate]
            pub fn f($x: $t) -> $t {
                $($body)*
            }
        }
    };
}

/// A module `m` holding `#[differentiate] pub fn f(a, b) -> F { body }`, both active.
macro_rules! op2 {
    ($m:ident: $t:ident, |$a:ident, $b:ident| $($body:tt)*) => {
        mod $m {
            #[autodiff::differentiate]
            pub fn f($a: $t, $b: $t) -> $t {
                $($body)*
            }
        }
    };
}

// ---------------------------------------------------------------------------
// The table: one differentiated function per op (method form, and path form
// for some), f64
// ---------------------------------------------------------------------------

op1!(copy: f64, |x| let y = x; y);
op1!(neg: f64, |x| -x);
op1!(fan_out_add: f64, |x| x + x);
op1!(fan_out_mul: f64, |x| x * x);
op1!(lit_mix: f64, |x| 2.0 * x - x / 4.0 + 1.5);
op2!(add: f64, |a, b| a + b);
op2!(sub: f64, |a, b| a - b);
op2!(mul: f64, |a, b| a * b);
op2!(div: f64, |a, b| a / b);
op2!(rem: f64, |a, b| a % b);
op1!(exp: f64, |x| x.exp());
op1!(exp_path: f64, |x| f64::exp(x));
op1!(ln: f64, |x| x.ln());
op1!(ln_path: f64, |x| f64::ln(x));
op2!(log: f64, |a, b| a.log(b));
op1!(sqrt: f64, |x| x.sqrt());
op1!(sqrt_path: f64, |x| f64::sqrt(x));
op1!(cbrt: f64, |x| x.cbrt());
op1!(powi3: f64, |x| x.powi(3));
op1!(powi_neg: f64, |x| x.powi(-2));
op1!(powi0: f64, |x| x.powi(0));
op1!(powi_path: f64, |x| f64::powi(x, 4));
op2!(powf: f64, |a, b| a.powf(b));
op2!(powf_path: f64, |a, b| f64::powf(a, b));
op1!(powf_const: f64, |x| x.powf(2.5));
op1!(sin: f64, |x| x.sin());
op1!(sin_path: f64, |x| f64::sin(x));
op1!(cos: f64, |x| x.cos());
// `sin_cos` lowers to `cos_value`, `sin_given_cos` and `cos_given_sin`, whose partials
// read each other's values (rules.rs)
op1!(sin_cos_0: f64, |x| let (s, _c) = x.sin_cos(); s);
op1!(sin_cos_1: f64, |x| let (_s, c) = x.sin_cos(); c);
op1!(sin_cos_mix: f64, |x| let (s, c) = x.sin_cos(); 3.0 * s - 2.0 * c + s * c);
op1!(tan: f64, |x| x.tan());
op1!(tanh: f64, |x| x.tanh());
op1!(sinh: f64, |x| x.sinh());
op1!(cosh: f64, |x| x.cosh());
op1!(asin: f64, |x| x.asin());
op1!(acos: f64, |x| x.acos());
op1!(atan: f64, |x| x.atan());
op2!(atan2: f64, |y, x| y.atan2(x));
op2!(atan2_path: f64, |y, x| f64::atan2(y, x));
op1!(asinh: f64, |x| x.asinh());
op1!(acosh: f64, |x| x.acosh());
op1!(atanh: f64, |x| x.atanh());
op1!(abs: f64, |x| x.abs());
op1!(abs_path: f64, |x| f64::abs(x));
op2!(max: f64, |a, b| a.max(b));
op2!(max_path: f64, |a, b| f64::max(a, b));
op2!(min: f64, |a, b| a.min(b));
op2!(hypot: f64, |a, b| a.hypot(b));
op2!(hypot_path: f64, |a, b| f64::hypot(a, b));
op1!(recip: f64, |x| x.recip());
op1!(exp2: f64, |x| x.exp2());
op1!(log2: f64, |x| x.log2());
op1!(log10: f64, |x| x.log10());
op1!(ln_1p: f64, |x| x.ln_1p());
op1!(exp_m1: f64, |x| x.exp_m1());
op1!(signum: f64, |x| x.signum());
op1!(floor: f64, |x| x.floor());
op1!(ceil: f64, |x| x.ceil());
op1!(round: f64, |x| x.round());
op1!(trunc: f64, |x| x.trunc());
op1!(floor_plus: f64, |x| x.floor() + x);
op1!(to_degrees: f64, |x| x.to_degrees());
op1!(to_radians: f64, |x| x.to_radians());
op2!(copysign: f64, |a, b| a.copysign(b));
op2!(clamp_x: f64, |x, lo| x.clamp(lo, 2.0));
op2!(clamp_hi: f64, |x, hi| x.clamp(-1.0, hi));

mod mul_add {
    #[autodiff::differentiate]
    pub fn f(a: f64, b: f64, c: f64) -> f64 {
        a.mul_add(b, c)
    }

    #[autodiff::differentiate]
    pub fn path(a: f64, b: f64, c: f64) -> f64 {
        f64::mul_add(a, b, c)
    }
}

mod powi_n {
    /// A passive integer exponent passed through.
    #[autodiff::differentiate]
    pub fn f(x: f64, n: i32) -> f64 {
        x.powi(n)
    }
}

const PTS: &[f64] = &[-2.3, -0.7, 0.4, 1.9];
const POS: &[f64] = &[0.1, 0.5, 2.0, 7.5];
const UNIT: &[f64] = &[-0.9, -0.3, 0.2, 0.8];
const PAIRS: &[(f64, f64)] = &[(1.5, -0.5), (-2.0, 0.75), (0.3, 2.2), (-1.1, -3.0)];
const POS_PAIRS: &[(f64, f64)] = &[(0.5, 1.5), (2.0, 0.3), (3.7, 2.5), (1.2, -1.4)];

#[test]
fn rule_copy_neg_fan_out() {
    check_unary("copy", ops!(copy), |_| 1.0, PTS, true);
    check_unary("neg", ops!(neg), |_| -1.0, PTS, true);
    check_unary("x + x", ops!(fan_out_add), |_| 2.0, PTS, true);
    check_unary("x * x", ops!(fan_out_mul), |x| 2.0 * x, PTS, true);
    check_unary("2x - x/4 + 1.5", ops!(lit_mix), |_| 1.75, PTS, true);
}

#[test]
fn rule_add_sub_mul_div() {
    check_binary("add", ops!(add), |_, _| 1.0, |_, _| 1.0, PAIRS, true);
    check_binary("sub", ops!(sub), |_, _| 1.0, |_, _| -1.0, PAIRS, true);
    check_binary("mul", ops!(mul), |_, b| b, |a, _| a, PAIRS, true);
    check_binary(
        "div",
        ops!(div),
        |_, b| 1.0 / b,
        |a, b| -a / (b * b),
        PAIRS,
        true,
    );
}

#[test]
fn rule_rem() {
    let pts = &[(5.3, 2.0), (-7.2, 3.0), (2.5, -1.5), (0.7, 0.3)];
    check_binary(
        "rem",
        ops!(rem),
        |_, _| 1.0,
        |a, b| -(a / b).trunc(),
        pts,
        true,
    );
}

#[test]
fn rule_exp_ln_log() {
    check_unary("exp", ops!(exp), f64::exp, PTS, true);
    check_unary("f64::exp", ops!(exp_path), f64::exp, PTS, true);
    check_unary("ln", ops!(ln), |x| 1.0 / x, POS, true);
    check_unary("f64::ln", ops!(ln_path), |x| 1.0 / x, POS, true);
    let pts = &[(0.5, 2.0), (3.0, 10.0), (7.0, 0.5), (1.5, 3.3)];
    check_binary(
        "log",
        ops!(log),
        |a, b| 1.0 / (a * b.ln()),
        |a, b| -a.ln() / (b * b.ln() * b.ln()),
        pts,
        true,
    );
}

#[test]
fn rule_sqrt_cbrt() {
    check_unary("sqrt", ops!(sqrt), |x| 0.5 / x.sqrt(), POS, true);
    check_unary("f64::sqrt", ops!(sqrt_path), |x| 0.5 / x.sqrt(), POS, true);
    check_unary(
        "cbrt",
        ops!(cbrt),
        |x| 1.0 / (3.0 * x.cbrt() * x.cbrt()),
        PTS,
        true,
    );
}

#[test]
fn rule_powi() {
    check_unary("powi(3)", ops!(powi3), |x| 3.0 * x * x, PTS, true);
    check_unary(
        "powi(-2)",
        ops!(powi_neg),
        |x| -2.0 / (x * x * x),
        PTS,
        true,
    );
    check_unary("powi(0)", ops!(powi0), |_| 0.0, PTS, true);
    check_unary(
        "f64::powi(x, 4)",
        ops!(powi_path),
        |x| 4.0 * x * x * x,
        PTS,
        true,
    );
    for n in [-3, -1, 0, 1, 2, 5] {
        for &x in PTS {
            let want = if n == 0 {
                0.0
            } else {
                n as f64 * x.powi(n - 1)
            };
            let (v, t) = powi_n::f_fwd(x, 1.0, n);
            same(v, powi_n::f(x, n), "powi(x, n) _fwd");
            assert_close(t, want, 1e-12, &format!("powi({x}, {n}) _fwd"));
            let mut d = 1.0;
            powi_n::f_adjoint(x, &mut d, n, 2.0);
            assert_close(
                d,
                1.0 + 2.0 * want,
                1e-12,
                &format!("powi({x}, {n}) _adjoint"),
            );
            let (_, g) = powi_n::f_grad(x, n);
            assert_close(g, want, 1e-12, &format!("powi({x}, {n}) _grad"));
        }
    }
}

#[test]
fn rule_powf() {
    let da = |a: f64, b: f64| b * a.powf(b - 1.0);
    let db = |a: f64, b: f64| a.powf(b) * a.ln();
    check_binary("powf", ops!(powf), da, db, POS_PAIRS, true);
    check_binary("f64::powf", ops!(powf_path), da, db, POS_PAIRS, true);
    check_unary(
        "powf(x, 2.5)",
        ops!(powf_const),
        |x| 2.5 * x.powf(1.5),
        POS,
        true,
    );
}

#[test]
fn rule_trig() {
    check_unary("sin", ops!(sin), f64::cos, PTS, true);
    check_unary("f64::sin", ops!(sin_path), f64::cos, PTS, true);
    check_unary("cos", ops!(cos), |x| -x.sin(), PTS, true);
    check_unary("sin_cos().0", ops!(sin_cos_0), f64::cos, PTS, true);
    check_unary("sin_cos().1", ops!(sin_cos_1), |x| -x.sin(), PTS, true);
    // d(3s − 2c + sc) = 3c + 2s + c² − s²
    check_unary(
        "sin_cos mixed",
        ops!(sin_cos_mix),
        |x| 3.0 * x.cos() + 2.0 * x.sin() + x.cos().powi(2) - x.sin().powi(2),
        PTS,
        true,
    );
    check_unary(
        "tan",
        ops!(tan),
        |x| 1.0 / (x.cos() * x.cos()),
        &[-1.2, -0.4, 0.3, 1.1],
        true,
    );
    check_unary(
        "asin",
        ops!(asin),
        |x| 1.0 / (1.0 - x * x).sqrt(),
        UNIT,
        true,
    );
    check_unary(
        "acos",
        ops!(acos),
        |x| -1.0 / (1.0 - x * x).sqrt(),
        UNIT,
        true,
    );
    check_unary("atan", ops!(atan), |x| 1.0 / (1.0 + x * x), PTS, true);
}

#[test]
fn rule_atan2() {
    let dy = |y: f64, x: f64| x / (x * x + y * y);
    let dx = |y: f64, x: f64| -y / (x * x + y * y);
    check_binary("atan2", ops!(atan2), dy, dx, PAIRS, true);
    check_binary("f64::atan2", ops!(atan2_path), dy, dx, PAIRS, true);
}

#[test]
fn rule_hyperbolic() {
    check_unary(
        "tanh",
        ops!(tanh),
        |x| 1.0 / (x.cosh() * x.cosh()),
        PTS,
        true,
    );
    check_unary("sinh", ops!(sinh), f64::cosh, PTS, true);
    check_unary("cosh", ops!(cosh), f64::sinh, PTS, true);
    check_unary(
        "asinh",
        ops!(asinh),
        |x| 1.0 / (x * x + 1.0).sqrt(),
        PTS,
        true,
    );
    check_unary(
        "acosh",
        ops!(acosh),
        |x| 1.0 / (x * x - 1.0).sqrt(),
        &[1.1, 1.5, 3.0, 9.0],
        true,
    );
    check_unary("atanh", ops!(atanh), |x| 1.0 / (1.0 - x * x), UNIT, true);
}

#[test]
fn rule_abs_max_min_hypot() {
    let sgn = |x: f64| if x > 0.0 { 1.0 } else { -1.0 };
    check_unary("abs", ops!(abs), sgn, PTS, true);
    check_unary("f64::abs", ops!(abs_path), sgn, PTS, true);
    fn win(a: f64, b: f64) -> f64 {
        if a > b {
            1.0
        } else {
            0.0
        }
    }
    check_binary("max", ops!(max), win, |a, b| win(b, a), PAIRS, true);
    check_binary(
        "f64::max",
        ops!(max_path),
        win,
        |a, b| win(b, a),
        PAIRS,
        true,
    );
    check_binary("min", ops!(min), |a, b| win(b, a), win, PAIRS, true);
    fn h(a: f64, b: f64) -> f64 {
        a / a.hypot(b)
    }
    check_binary("hypot", ops!(hypot), h, |a, b| h(b, a), PAIRS, true);
    check_binary(
        "f64::hypot",
        ops!(hypot_path),
        h,
        |a, b| h(b, a),
        PAIRS,
        true,
    );
}

#[test]
fn rule_recip_exp2_logs() {
    check_unary("recip", ops!(recip), |x| -1.0 / (x * x), PTS, true);
    check_unary(
        "exp2",
        ops!(exp2),
        |x| x.exp2() * std::f64::consts::LN_2,
        PTS,
        true,
    );
    check_unary(
        "log2",
        ops!(log2),
        |x| 1.0 / (x * std::f64::consts::LN_2),
        POS,
        true,
    );
    check_unary(
        "log10",
        ops!(log10),
        |x| 1.0 / (x * std::f64::consts::LN_10),
        POS,
        true,
    );
    check_unary(
        "ln_1p",
        ops!(ln_1p),
        |x| 1.0 / (1.0 + x),
        &[-0.9, -0.2, 0.4, 5.0],
        true,
    );
    check_unary("exp_m1", ops!(exp_m1), f64::exp, PTS, true);
}

#[test]
fn rule_mul_add() {
    type Fns = (
        fn(f64, f64, f64) -> f64,
        fn(f64, f64, f64, f64, f64, f64) -> (f64, f64),
        fn(f64, &mut f64, f64, &mut f64, f64, &mut f64, f64) -> f64,
    );
    let fns: [(&str, Fns); 2] = [
        ("mul_add", (mul_add::f, mul_add::f_fwd, mul_add::f_adjoint)),
        (
            "f64::mul_add",
            (mul_add::path, mul_add::path_fwd, mul_add::path_adjoint),
        ),
    ];
    for (name, (f, fwd, adj)) in fns {
        for &(a, b, c) in &[(1.5, -2.0, 0.25), (-0.3, 0.7, 4.0)] {
            let y = f(a, b, c);
            let (v, t) = fwd(a, 1.0, b, 0.0, c, 0.0);
            same(v, y, name);
            assert_close(t, b, 1e-14, &format!("{name} ∂a"));
            assert_close(
                fwd(a, 0.0, b, 1.0, c, 0.0).1,
                a,
                1e-14,
                &format!("{name} ∂b"),
            );
            assert_close(
                fwd(a, 0.0, b, 0.0, c, 1.0).1,
                1.0,
                1e-14,
                &format!("{name} ∂c"),
            );
            let (mut da, mut db, mut dc) = (1.0, 2.0, 3.0);
            let v = adj(a, &mut da, b, &mut db, c, &mut dc, -2.0);
            same(v, y, name);
            assert_close(da, 1.0 - 2.0 * b, 1e-14, &format!("{name} adjoint ∂a"));
            assert_close(db, 2.0 - 2.0 * a, 1e-14, &format!("{name} adjoint ∂b"));
            assert_close(dc, 3.0 - 2.0, 1e-14, &format!("{name} adjoint ∂c"));
        }
    }
    let (v, g) = mul_add::f_grad(2.0, 3.0, 4.0);
    assert_eq!((v, g), (10.0, (3.0, 2.0, 1.0)));
}

#[test]
fn rule_angles_copysign_clamp() {
    check_unary(
        "to_degrees",
        ops!(to_degrees),
        |_| 180.0 / std::f64::consts::PI,
        PTS,
        true,
    );
    check_unary(
        "to_radians",
        ops!(to_radians),
        |_| std::f64::consts::PI / 180.0,
        PTS,
        true,
    );
    // |a|·sgn(b): ∂a = sgn(a)·sgn(b), ∂b = 0
    check_binary(
        "copysign",
        ops!(copysign),
        |a, b| a.signum() * b.signum(),
        |_, _| 0.0,
        PAIRS,
        true,
    );
    // clamp(x, lo, 2): 1 to x inside, 1 to lo below it
    let inside_below = &[(0.5, -1.0), (1.5, 0.0), (-2.0, -1.0), (3.0, -1.0)];
    check_binary(
        "clamp(x, lo, 2)",
        ops!(clamp_x),
        |x, lo| if x >= lo && x <= 2.0 { 1.0 } else { 0.0 },
        |x, lo| if x < lo { 1.0 } else { 0.0 },
        inside_below,
        true,
    );
    let above = &[(0.5, 1.0), (3.0, 2.5), (-0.5, 0.0)];
    check_binary(
        "clamp(x, -1, hi)",
        ops!(clamp_hi),
        |x, hi| if x >= -1.0 && x <= hi { 1.0 } else { 0.0 },
        |x, hi| if x > hi { 1.0 } else { 0.0 },
        above,
        true,
    );
}

#[test]
fn rule_piecewise_constant() {
    let pts = &[-2.3, -0.7, 0.4, 1.9, 2.5, -2.5, 3.0, 0.0];
    check_unary("signum", ops!(signum), |_| 0.0, pts, false);
    check_unary("floor", ops!(floor), |_| 0.0, pts, false);
    check_unary("ceil", ops!(ceil), |_| 0.0, pts, false);
    check_unary("round", ops!(round), |_| 0.0, pts, false);
    check_unary("trunc", ops!(trunc), |_| 0.0, pts, false);
    check_unary("floor(x) + x", ops!(floor_plus), |_| 1.0, pts, false);
}

// ---------------------------------------------------------------------------
// Edge conventions (PyTorch/JAX) and NaN propagation
// ---------------------------------------------------------------------------

#[test]
fn edge_abs_at_zero_is_zero() {
    check_unary("abs", ops!(abs), |_| 0.0, &[0.0, -0.0], false);
}

#[test]
fn edge_max_min_ties_split_evenly() {
    let ties = &[(0.0, 0.0), (1.5, 1.5), (-3.0, -3.0)];
    check_binary("max", ops!(max), |_, _| 0.5, |_, _| 0.5, ties, false);
    check_binary(
        "f64::max",
        ops!(max_path),
        |_, _| 0.5,
        |_, _| 0.5,
        ties,
        false,
    );
    check_binary("min", ops!(min), |_, _| 0.5, |_, _| 0.5, ties, false);
}

#[test]
fn edge_sqrt_and_ln_at_zero_are_infinite() {
    let (v, t) = sqrt::f_fwd(0.0, 1.0);
    assert_eq!((v, t), (0.0, f64::INFINITY), "sqrt_fwd(0)");
    let mut d = 0.0;
    assert_eq!(sqrt::f_adjoint(0.0, &mut d, 1.0), 0.0);
    assert_eq!(d, f64::INFINITY, "sqrt_adjoint(0)");
    assert_eq!(sqrt::f_grad(0.0), (0.0, f64::INFINITY));
    let (v, t) = ln::f_fwd(0.0, 1.0);
    assert_eq!((v, t), (f64::NEG_INFINITY, f64::INFINITY), "ln_fwd(0)");
    let mut d = 0.0;
    ln::f_adjoint(0.0, &mut d, 1.0);
    assert_eq!(d, f64::INFINITY, "ln_adjoint(0)");
    assert_eq!(ln::f_grad(0.0).1, f64::INFINITY);
}

#[test]
fn edge_powf_zero_base() {
    // 0^y, y > 0: ∂x = y·0^(y-1), ∂y = 0 (not 0·ln 0 = NaN)
    for (y, dx) in [(2.0, 0.0), (1.0, 1.0), (3.5, 0.0)] {
        let (v, (gx, gy)) = powf::f_grad(0.0, y);
        assert_eq!(v, 0.0);
        assert_eq!((gx, gy), (dx, 0.0), "powf grad at (0, {y})");
        let mut d = (0.0, 0.0);
        powf::f_adjoint(0.0, &mut d.0, y, &mut d.1, 1.0);
        assert_eq!(d, (dx, 0.0), "powf adjoint at (0, {y})");
        assert_eq!(
            powf::f_fwd(0.0, 0.0, y, 1.0).1,
            0.0,
            "powf fwd ∂y at (0, {y})"
        );
    }
    // 0^0 = 1: both partials 0, finite
    assert_eq!(powf::f_grad(0.0, 0.0), (1.0, (0.0, 0.0)));
    assert_eq!(powf::f_fwd(0.0, 1.0, 0.0, 1.0), (1.0, 0.0));
}

#[test]
fn edge_hypot_at_origin_is_zero() {
    assert_eq!(hypot::f_grad(0.0, 0.0), (0.0, (0.0, 0.0)));
    assert_eq!(hypot::f_fwd(0.0, 1.0, 0.0, 1.0), (0.0, 0.0));
}

#[test]
fn edge_nan_propagates() {
    let nan = f64::NAN;
    let unary: [(&str, Unary); 11] = [
        ("exp", ops!(exp)),
        ("ln", ops!(ln)),
        ("sqrt", ops!(sqrt)),
        ("sin", ops!(sin)),
        ("tanh", ops!(tanh)),
        ("abs", ops!(abs)),
        ("asin", ops!(asin)),
        ("recip", ops!(recip)),
        ("powi(3)", ops!(powi3)),
        ("x * x", ops!(fan_out_mul)),
        ("powf(x, 2.5)", ops!(powf_const)),
    ];
    for (name, (_, fwd, adj, grad)) in unary {
        assert!(fwd(nan, 1.0).1.is_nan(), "{name}_fwd(NaN) tangent");
        let mut d = 0.0;
        adj(nan, &mut d, 1.0);
        assert!(d.is_nan(), "{name}_adjoint(NaN)");
        assert!(grad(nan).1.is_nan(), "{name}_grad(NaN)");
    }
    let binary: [(&str, Binary); 5] = [
        ("div", ops!(div)),
        ("atan2", ops!(atan2)),
        ("hypot", ops!(hypot)),
        ("powf", ops!(powf)),
        ("mul", ops!(mul)),
    ];
    for (name, (_, fwd, _, grad)) in binary {
        // NaN in the second operand poisons the first operand's partial
        let (_, (ga, _)) = grad(1.5, nan);
        assert!(ga.is_nan(), "{name}_grad(1.5, NaN) ∂a = {ga}");
        assert!(
            fwd(1.5, 1.0, nan, 0.0).1.is_nan(),
            "{name}_fwd(1.5, NaN) along a"
        );
    }
}

#[test]
fn edge_infinity_propagates() {
    assert_eq!(
        exp::f_fwd(f64::INFINITY, 1.0),
        (f64::INFINITY, f64::INFINITY)
    );
    assert_eq!(fan_out_mul::f_grad(f64::INFINITY).1, f64::INFINITY);
    assert!(close(tanh::f_grad(f64::INFINITY).1, 0.0, 0.0, 0.0));
}

// ---------------------------------------------------------------------------
// f32
// ---------------------------------------------------------------------------

op1!(exp32: f32, |x| x.exp());
op1!(sin32: f32, |x| f32::sin(x));
op1!(sqrt32: f32, |x| x.sqrt());
op1!(powi32: f32, |x| x.powi(3));
op1!(lit32: f32, |x| 3.0 * x - 0.5 / x);
op2!(powf32: f32, |a, b| a.powf(b));
op2!(atan232: f32, |y, x| f32::atan2(y, x));
op2!(div32: f32, |a, b| a / b);

#[test]
fn rules_f32() {
    let pts: &[f32] = &[0.3, 1.2, 2.7];
    check_unary_f32("exp", ops!(exp32), f64::exp, pts);
    check_unary_f32("f32::sin", ops!(sin32), f64::cos, pts);
    check_unary_f32("sqrt", ops!(sqrt32), |x| 0.5 / x.sqrt(), pts);
    check_unary_f32("powi(3)", ops!(powi32), |x| 3.0 * x * x, pts);
    check_unary_f32("3x - 0.5/x", ops!(lit32), |x| 3.0 + 0.5 / (x * x), pts);
    let pairs: &[(f32, f32)] = &[(0.5, 1.5), (2.0, 0.3), (3.7, -1.25)];
    check_binary_f32(
        "powf",
        ops!(powf32),
        |a, b| b * a.powf(b - 1.0),
        |a, b| a.powf(b) * a.ln(),
        pairs,
    );
    check_binary_f32(
        "atan2",
        ops!(atan232),
        |y, x| x / (x * x + y * y),
        |y, x| -y / (x * x + y * y),
        pairs,
    );
    check_binary_f32(
        "div",
        ops!(div32),
        |_, b| 1.0 / b,
        |a, b| -a / (b * b),
        pairs,
    );
}

#[test]
fn edges_f32() {
    assert_eq!(sqrt32::f_grad(0.0), (0.0, f32::INFINITY));
    assert!(exp32::f_grad(f32::NAN).1.is_nan());
    assert_eq!(powf32::f_grad(0.0, 2.0), (0.0, (0.0, 0.0)));
}

// ---------------------------------------------------------------------------
// Generic `T: Float`, at f32 and f64
// ---------------------------------------------------------------------------

#[differentiate]
fn g_tanh<T: autodiff::Float>(x: T) -> T {
    x.tanh()
}

#[differentiate]
fn g_exp_path<T: autodiff::Float>(x: T) -> T {
    T::exp(x) * T::from(0.5).unwrap()
}

#[differentiate]
fn g_ln_sqrt<T: autodiff::Float>(x: T) -> T {
    x.ln() + x.sqrt() + x.powi(2)
}

#[differentiate]
fn g_powf<T: autodiff::Float>(a: T, b: T) -> T {
    a.powf(b)
}

#[differentiate]
fn g_hypot_max<T: autodiff::Float>(a: T, b: T) -> T {
    T::hypot(a, b) + a.max(b) - a / b
}

#[differentiate]
fn g_float_path<T: autodiff::Float>(a: T, b: T) -> T {
    autodiff::Float::atan2(a, b) + autodiff::Float::sin(a)
}

#[test]
fn rules_generic_f64() {
    check_unary(
        "tanh::<f64>",
        (
            g_tanh::<f64>,
            g_tanh_fwd::<f64>,
            g_tanh_adjoint::<f64>,
            g_tanh_grad::<f64>,
        ),
        |x| 1.0 / (x.cosh() * x.cosh()),
        PTS,
        true,
    );
    check_unary(
        "T::exp::<f64>",
        (
            g_exp_path::<f64>,
            g_exp_path_fwd::<f64>,
            g_exp_path_adjoint::<f64>,
            g_exp_path_grad::<f64>,
        ),
        |x| 0.5 * x.exp(),
        PTS,
        true,
    );
    check_unary(
        "ln+sqrt+powi::<f64>",
        (
            g_ln_sqrt::<f64>,
            g_ln_sqrt_fwd::<f64>,
            g_ln_sqrt_adjoint::<f64>,
            g_ln_sqrt_grad::<f64>,
        ),
        |x| 1.0 / x + 0.5 / x.sqrt() + 2.0 * x,
        POS,
        true,
    );
    check_binary(
        "powf::<f64>",
        (
            g_powf::<f64>,
            g_powf_fwd::<f64>,
            g_powf_adjoint::<f64>,
            g_powf_grad::<f64>,
        ),
        |a, b| b * a.powf(b - 1.0),
        |a, b| a.powf(b) * a.ln(),
        POS_PAIRS,
        true,
    );
    let hm_a = |a: f64, b: f64| a / a.hypot(b) + if a > b { 1.0 } else { 0.0 } - 1.0 / b;
    let hm_b = |a: f64, b: f64| b / a.hypot(b) + if b > a { 1.0 } else { 0.0 } + a / (b * b);
    check_binary(
        "hypot+max::<f64>",
        (
            g_hypot_max::<f64>,
            g_hypot_max_fwd::<f64>,
            g_hypot_max_adjoint::<f64>,
            g_hypot_max_grad::<f64>,
        ),
        hm_a,
        hm_b,
        PAIRS,
        true,
    );
    let fp_a = |a: f64, b: f64| b / (a * a + b * b) + a.cos();
    let fp_b = |a: f64, b: f64| -a / (a * a + b * b);
    check_binary(
        "Float::atan2::<f64>",
        (
            g_float_path::<f64>,
            g_float_path_fwd::<f64>,
            g_float_path_adjoint::<f64>,
            g_float_path_grad::<f64>,
        ),
        fp_a,
        fp_b,
        PAIRS,
        true,
    );
}

#[test]
fn rules_generic_f32() {
    let pts: &[f32] = &[0.3, 1.2, 2.7];
    check_unary_f32(
        "tanh::<f32>",
        (
            g_tanh::<f32>,
            g_tanh_fwd::<f32>,
            g_tanh_adjoint::<f32>,
            g_tanh_grad::<f32>,
        ),
        |x| 1.0 / (x.cosh() * x.cosh()),
        pts,
    );
    check_unary_f32(
        "T::exp::<f32>",
        (
            g_exp_path::<f32>,
            g_exp_path_fwd::<f32>,
            g_exp_path_adjoint::<f32>,
            g_exp_path_grad::<f32>,
        ),
        |x| 0.5 * x.exp(),
        pts,
    );
    check_unary_f32(
        "ln+sqrt+powi::<f32>",
        (
            g_ln_sqrt::<f32>,
            g_ln_sqrt_fwd::<f32>,
            g_ln_sqrt_adjoint::<f32>,
            g_ln_sqrt_grad::<f32>,
        ),
        |x| 1.0 / x + 0.5 / x.sqrt() + 2.0 * x,
        pts,
    );
    let pairs: &[(f32, f32)] = &[(0.5, 1.5), (2.0, 0.3), (3.7, -1.25)];
    check_binary_f32(
        "powf::<f32>",
        (
            g_powf::<f32>,
            g_powf_fwd::<f32>,
            g_powf_adjoint::<f32>,
            g_powf_grad::<f32>,
        ),
        |a, b| b * a.powf(b - 1.0),
        |a, b| a.powf(b) * a.ln(),
        pairs,
    );
    let fp_a = |a: f64, b: f64| b / (a * a + b * b) + a.cos();
    let fp_b = |a: f64, b: f64| -a / (a * a + b * b);
    check_binary_f32(
        "Float::atan2::<f32>",
        (
            g_float_path::<f32>,
            g_float_path_fwd::<f32>,
            g_float_path_adjoint::<f32>,
            g_float_path_grad::<f32>,
        ),
        fp_a,
        fp_b,
        pairs,
    );
}
