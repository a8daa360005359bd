//! THE derivative table: every differentiable operation and its partial derivatives.
//!
//! Forward mode emits `ẏ = Σ ∂ᵢ·ẋᵢ` and reverse mode `x̄ᵢ += ∂ᵢ·ȳ` from the same
//! partials returned by [`partials`], so the two modes cannot disagree. A new
//! [`Op`] without a rule does not compile: the matches below have no `_` arm.
//!
//! Conventions at non-differentiable or singular points follow PyTorch and JAX:
//! `abs` has derivative 0 at 0; `max`/`min` split the derivative evenly (½ each)
//! at ties; `sqrt` and `ln` at 0 give an infinite derivative; `powf` with a zero
//! base gives 0 with respect to the exponent; `floor`, `ceil`, `round`, `trunc`
//! and `signum` have derivative 0 everywhere. NaN and infinity propagate.

/// A differentiable operation on floats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Copy,
    Neg,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Exp,
    Ln,
    Log,
    Sqrt,
    Cbrt,
    Powi,
    Powf,
    Sin,
    Cos,
    Tan,
    Tanh,
    Sinh,
    Cosh,
    Asin,
    Acos,
    Atan,
    Atan2,
    Asinh,
    Acosh,
    Atanh,
    Abs,
    Max,
    Min,
    Hypot,
    Recip,
    Exp2,
    Log2,
    Log10,
    Ln1p,
    ExpM1,
    MulAdd,
    Signum,
    Floor,
    Ceil,
    Round,
    Trunc,
}

/// How the primal value of an op is written.
pub enum Form {
    /// Negation.
    Neg,
    Binary(&'static str),
    /// `F::name(args..)`
    Method(&'static str),
    Identity,
}

/// A partial derivative as a small expression over the op's inputs and output.
#[derive(Clone, Debug)]
pub enum D {
    /// The i-th operand.
    In(usize),
    /// The op's result.
    Out,
    One,
    Lit(f64),
    Neg(Box<D>),
    Add(Box<D>, Box<D>),
    Sub(Box<D>, Box<D>),
    Mul(Box<D>, Box<D>),
    Div(Box<D>, Box<D>),
    /// A float method: `F::name(args..)`.
    Method(&'static str, Vec<D>),
    /// A helper in `autodiff::__private` (edge conventions live there).
    Helper(&'static str, Vec<D>),
}

fn b(d: D) -> Box<D> {
    Box::new(d)
}
fn x(i: usize) -> D {
    D::In(i)
}
fn neg(d: D) -> D {
    D::Neg(b(d))
}
fn mul(l: D, r: D) -> D {
    D::Mul(b(l), b(r))
}
fn div(l: D, r: D) -> D {
    D::Div(b(l), b(r))
}
fn add(l: D, r: D) -> D {
    D::Add(b(l), b(r))
}
fn sub(l: D, r: D) -> D {
    D::Sub(b(l), b(r))
}
fn m(name: &'static str, args: Vec<D>) -> D {
    D::Method(name, args)
}
fn h(name: &'static str, args: Vec<D>) -> D {
    D::Helper(name, args)
}

impl Op {
    pub fn arity(self) -> usize {
        match self {
            Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Rem | Op::Powi | Op::Powf => 2,
            Op::Atan2 | Op::Max | Op::Min | Op::Hypot | Op::Log => 2,
            Op::MulAdd => 3,
            Op::Copy | Op::Neg | Op::Exp | Op::Ln | Op::Sqrt | Op::Cbrt | Op::Sin | Op::Cos => 1,
            Op::Tan | Op::Tanh | Op::Sinh | Op::Cosh | Op::Asin | Op::Acos | Op::Atan => 1,
            Op::Asinh | Op::Acosh | Op::Atanh | Op::Abs | Op::Recip | Op::Exp2 | Op::Log2 => 1,
            Op::Log10 | Op::Ln1p | Op::ExpM1 | Op::Signum | Op::Floor | Op::Ceil => 1,
            Op::Round | Op::Trunc => 1,
        }
    }

    pub fn form(self) -> Form {
        match self {
            Op::Copy => Form::Identity,
            Op::Neg => Form::Neg,
            Op::Add => Form::Binary("+"),
            Op::Sub => Form::Binary("-"),
            Op::Mul => Form::Binary("*"),
            Op::Div => Form::Binary("/"),
            Op::Rem => Form::Binary("%"),
            Op::Exp => Form::Method("exp"),
            Op::Ln => Form::Method("ln"),
            Op::Log => Form::Method("log"),
            Op::Sqrt => Form::Method("sqrt"),
            Op::Cbrt => Form::Method("cbrt"),
            Op::Powi => Form::Method("powi"),
            Op::Powf => Form::Method("powf"),
            Op::Sin => Form::Method("sin"),
            Op::Cos => Form::Method("cos"),
            Op::Tan => Form::Method("tan"),
            Op::Tanh => Form::Method("tanh"),
            Op::Sinh => Form::Method("sinh"),
            Op::Cosh => Form::Method("cosh"),
            Op::Asin => Form::Method("asin"),
            Op::Acos => Form::Method("acos"),
            Op::Atan => Form::Method("atan"),
            Op::Atan2 => Form::Method("atan2"),
            Op::Asinh => Form::Method("asinh"),
            Op::Acosh => Form::Method("acosh"),
            Op::Atanh => Form::Method("atanh"),
            Op::Abs => Form::Method("abs"),
            Op::Max => Form::Method("max"),
            Op::Min => Form::Method("min"),
            Op::Hypot => Form::Method("hypot"),
            Op::Recip => Form::Method("recip"),
            Op::Exp2 => Form::Method("exp2"),
            Op::Log2 => Form::Method("log2"),
            Op::Log10 => Form::Method("log10"),
            Op::Ln1p => Form::Method("ln_1p"),
            Op::ExpM1 => Form::Method("exp_m1"),
            Op::MulAdd => Form::Method("mul_add"),
            Op::Signum => Form::Method("signum"),
            Op::Floor => Form::Method("floor"),
            Op::Ceil => Form::Method("ceil"),
            Op::Round => Form::Method("round"),
            Op::Trunc => Form::Method("trunc"),
        }
    }
}

/// The partial derivative of `op` with respect to each operand, `None` where it is zero.
///
/// `In(i)` is the i-th operand's value, `Out` the op's result.
#[rustfmt::skip]
pub fn partials(op: Op) -> Vec<Option<D>> {
    let one = || Some(D::One);
    match op {
        Op::Copy => vec![one()],
        Op::Neg => vec![Some(neg(D::One))],
        Op::Add => vec![one(), one()],
        Op::Sub => vec![one(), Some(neg(D::One))],
        Op::Mul => vec![Some(x(1)), Some(x(0))],
        // d(a/b)/db = -a/b² = -out/b
        Op::Div => vec![Some(div(D::One, x(1))), Some(neg(div(D::Out, x(1))))],
        // a % b = a - trunc(a/b)·b
        Op::Rem => vec![one(), Some(neg(m("trunc", vec![div(x(0), x(1))])))],
        Op::Exp => vec![Some(D::Out)],
        // infinite at x == 0
        Op::Ln => vec![Some(div(D::One, x(0)))],
        Op::Log => vec![Some(div(D::One, mul(x(0), m("ln", vec![x(1)])))), Some(neg(div(D::Out, mul(x(1), m("ln", vec![x(1)])))))],
        // 0.5 / out: infinite at x == 0
        Op::Sqrt => vec![Some(div(D::Lit(0.5), D::Out))],
        Op::Cbrt => vec![Some(div(D::Out, mul(D::Lit(3.0), x(0))))],
        // n·x^(n-1); the integer exponent carries no derivative
        Op::Powi => vec![Some(h("powi_d", vec![x(0), x(1)])), None],
        // y·x^(y-1), and out·ln x (0 where x == 0 and y >= 0)
        Op::Powf => vec![Some(h("powf_dx", vec![x(0), x(1)])), Some(h("powf_dy", vec![x(0), x(1), D::Out]))],
        Op::Sin => vec![Some(m("cos", vec![x(0)]))],
        Op::Cos => vec![Some(neg(m("sin", vec![x(0)])))],
        Op::Tan => vec![Some(add(D::One, mul(D::Out, D::Out)))],
        Op::Tanh => vec![Some(sub(D::One, mul(D::Out, D::Out)))],
        Op::Sinh => vec![Some(m("cosh", vec![x(0)]))],
        Op::Cosh => vec![Some(m("sinh", vec![x(0)]))],
        // infinite at |x| == 1
        Op::Asin => vec![Some(div(D::One, m("sqrt", vec![sub(D::One, mul(x(0), x(0)))])))],
        Op::Acos => vec![Some(neg(div(D::One, m("sqrt", vec![sub(D::One, mul(x(0), x(0)))]))))],
        Op::Atan => vec![Some(div(D::One, add(D::One, mul(x(0), x(0)))))],
        // atan2(y, x): ∂y = x/(x²+y²), ∂x = -y/(x²+y²)
        Op::Atan2 => vec![Some(h("atan2_dy", vec![x(0), x(1)])), Some(h("atan2_dx", vec![x(0), x(1)]))],
        Op::Asinh => vec![Some(div(D::One, m("sqrt", vec![add(mul(x(0), x(0)), D::One)])))],
        Op::Acosh => vec![Some(div(D::One, m("sqrt", vec![sub(mul(x(0), x(0)), D::One)])))],
        Op::Atanh => vec![Some(div(D::One, sub(D::One, mul(x(0), x(0)))))],
        // 0 at x == 0 (as PyTorch's sign)
        Op::Abs => vec![Some(h("sign", vec![x(0)]))],
        // ½ to each at ties
        Op::Max => vec![Some(h("max_d", vec![x(0), x(1)])), Some(h("max_d", vec![x(1), x(0)]))],
        Op::Min => vec![Some(h("min_d", vec![x(0), x(1)])), Some(h("min_d", vec![x(1), x(0)]))],
        // a/out, 0 at the origin
        Op::Hypot => vec![Some(h("hypot_d", vec![x(0), D::Out])), Some(h("hypot_d", vec![x(1), D::Out]))],
        Op::Recip => vec![Some(neg(mul(D::Out, D::Out)))],
        Op::Exp2 => vec![Some(mul(D::Out, h("ln2", vec![D::Out])))],
        Op::Log2 => vec![Some(div(D::One, mul(x(0), h("ln2", vec![x(0)]))))],
        Op::Log10 => vec![Some(div(D::One, mul(x(0), h("ln10", vec![x(0)]))))],
        Op::Ln1p => vec![Some(div(D::One, add(D::One, x(0))))],
        Op::ExpM1 => vec![Some(add(D::Out, D::One))],
        // a·b + c
        Op::MulAdd => vec![Some(x(1)), Some(x(0)), one()],
        Op::Signum | Op::Floor | Op::Ceil | Op::Round | Op::Trunc => vec![None],
    }
}

impl D {
    /// Visits the operands and output this partial reads.
    pub fn reads(&self, f: &mut impl FnMut(Option<usize>)) {
        match self {
            D::In(i) => f(Some(*i)),
            D::Out => f(None),
            D::One | D::Lit(_) => {}
            D::Neg(a) => a.reads(f),
            D::Add(a, c) | D::Sub(a, c) | D::Mul(a, c) | D::Div(a, c) => {
                a.reads(f);
                c.reads(f);
            }
            D::Method(_, args) | D::Helper(_, args) => args.iter().for_each(|a| a.reads(f)),
        }
    }
}
