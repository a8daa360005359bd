//! THE derivative table: every differentiable operation, declared once with
//! everything about it.
//!
//! Each op is one row of the [`ops!`] table at the end of this file: its primal
//! form (the operator, or the float method names that lower to it), whether it is
//! cheap enough to recompute in the reverse sweep, and its partial derivatives,
//! one per operand (so the list's length is the arity). Everything else is
//! derived from the rows: the [`Op`] enum and [`Op::def`], [`Op::arity`],
//! [`Op::form`], [`Op::cheap`], [`partials`], the method names ([`method_op`] and
//! the [`SUPPORTED_METHODS`] list in error messages) and the operator tokens
//! ([`compound_op`], [`binop_tokens`], [`compound_tokens`]). As with ChainRules'
//! `@scalar_rule sqrt(x) inv(2Ω)` or JAX's `exp_p = standard_unop(..)` beside
//! `ad.defjvp2(exp_p, ..)`, adding an op means adding one row; the enum and every
//! match over it come from the same rows and have no `_` arm, so an op cannot
//! exist without its rule.
//!
//! Forward mode emits `ẏ = Σ ∂ᵢ·ẋᵢ` and reverse mode `x̄ᵢ += ∂ᵢ·ȳ` from the same
//! partials returned by [`partials`], so the two modes cannot disagree.
//!
//! Conventions at non-differentiable or singular points follow PyTorch and JAX:
//! `abs` has derivative 0 at 0; `max`/`min` split the derivative evenly (½ each)
//! at ties; `sqrt` and `ln` at 0 give an infinite derivative; `powf` with a zero
//! base gives 0 with respect to the exponent; `floor`, `ceil`, `round`, `trunc`
//! and `signum` have derivative 0 everywhere; `clamp` passes the derivative to
//! `x` inside `[lo, hi]` (bounds included, as PyTorch) and to the bound it clamps
//! to outside. NaN and infinity propagate.

use std::fmt;

use proc_macro2::TokenStream;
use quote::quote;

/// Everything about one op: its row of the table, as data.
pub(crate) struct OpDef {
    /// Float methods that lower to the op (`x.ln()`, `f64::ln(x)`); the first is
    /// the primal form. Empty for operators.
    pub names: &'static [&'static str],
    /// Number of operands.
    pub arity: usize,
    pub form: Form,
    /// Cheap enough to recompute in the reverse sweep instead of storing its value
    /// (arithmetic; `exp`, `sin`, … are stored rather than redone).
    pub cheap: bool,
    /// The partial derivative with respect to each operand, `None` where it is zero.
    pub partials: fn() -> Vec<Option<D>>,
}

/// How the primal value of an op is written.
#[derive(Clone, Copy)]
pub enum Form {
    /// Negation.
    Neg,
    Binary(&'static str),
    /// `F::name(args..)`
    Method(&'static str),
    Identity,
    /// `a as G`: a conversion to the result's float type (the other one than the
    /// operand's); the generators convert each term of its rule the same way.
    Cast,
    /// `::autodiff::__private::name(args..)`: ops that lowering makes and users do
    /// not write.
    Helper(&'static str),
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

fn one() -> Option<D> {
    Some(D::One)
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
        self.def().arity
    }

    pub fn form(self) -> Form {
        self.def().form
    }

    /// Is the op cheap enough to recompute in the reverse sweep rather than store?
    pub(crate) fn cheap(self) -> bool {
        self.def().cheap
    }
}

/// The partial derivative of `op` with respect to each operand, `None` where it is zero.
///
/// `In(i)` is the i-th operand's value, `Out` the op's result.
pub fn partials(op: Op) -> Vec<Option<D>> {
    (op.def().partials)()
}

/// The float method `name` lowers to, if it is differentiable.
pub(crate) fn method_op(name: &str) -> Option<Op> {
    Op::ALL
        .iter()
        .copied()
        .find(|op| op.def().names.contains(&name))
}

/// The supported float methods for error messages, `` `exp`, `ln`, … `` in table
/// order. A `Display` value rather than a built `String` so that messages can
/// name it inline: `format!("..; supported: {SUPPORTED_METHODS}")`.
pub(crate) const SUPPORTED_METHODS: SupportedMethods = SupportedMethods;

pub(crate) struct SupportedMethods;

impl fmt::Display for SupportedMethods {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = Op::ALL.iter().flat_map(|op| op.def().names);
        for (i, name) in names.enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "`{name}`")?;
        }
        Ok(())
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

/// Declares the ops from their rows and derives everything else from them.
///
/// A row is `Op: form, cost, [∂₀, ∂₁, ..];` with
/// - form: `Identity`, `Neg`, `Binary(op, compound op, syn::BinOp variant of the
///   compound op)`, or `Method("name", "alias", ..)` (every name is accepted in
///   source, the first is the one emitted);
/// - cost: `cheap` (arithmetic, recomputed in the reverse sweep from unchanging
///   inputs) or `costly` (stored);
/// - one partial per operand, `None` where it is zero: `x(i)` is the i-th
///   operand, `D::Out` the op's result.
macro_rules! ops {
    (@names Method($($name:literal),+)) => { &[$($name),+] };
    (@names $($form:tt)+) => { &[] };
    (@form Identity) => { Form::Identity };
    (@form Cast) => { Form::Cast };
    (@form Neg) => { Form::Neg };
    (@form Binary($op:tt, $assign:tt, $variant:ident)) => { Form::Binary(stringify!($op)) };
    (@form Method($name:literal $(, $alias:literal)*)) => { Form::Method($name) };
    (@form Helper($name:literal)) => { Form::Helper($name) };
    (@cost cheap) => { true };
    (@cost costly) => { false };
    (@one $d:expr) => { 1 };
    (@binop Binary($op:tt, $assign:tt, $variant:ident)) => { quote!($op) };
    (@binop $($form:tt)+) => { TokenStream::new() };
    (@compound Binary($op:tt, $assign:tt, $variant:ident)) => { quote!($assign) };
    (@compound $($form:tt)+) => { TokenStream::new() };
    (@assign $bin:ident, $id:expr, Binary($op:tt, $assign:tt, $variant:ident)) => {
        if let syn::BinOp::$variant(_) = $bin {
            return Some($id);
        }
    };
    (@assign $bin:ident, $id:expr, $($form:tt)+) => {};

    ($($op:ident: $form:ident $(($($arg:tt)*))?, $cost:ident, [$($d:expr),+];)+) => {
        /// A differentiable operation on floats.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Op {
            $($op,)+
        }

        impl Op {
            /// Every op, in table order.
            const ALL: &'static [Op] = &[$(Op::$op),+];

            /// The op's row of the table.
            pub(crate) fn def(self) -> &'static OpDef {
                match self {
                    $(Op::$op => {
                        const DEF: OpDef = OpDef {
                            names: ops!(@names $form $(($($arg)*))?),
                            arity: 0 $(+ ops!(@one $d))+,
                            form: ops!(@form $form $(($($arg)*))?),
                            cheap: ops!(@cost $cost),
                            partials: || vec![$($d),+],
                        };
                        &DEF
                    })+
                }
            }
        }

        /// The op of a compound assignment operator (`+=` → [`Op::Add`]).
        pub(crate) fn compound_op(bin: &syn::BinOp) -> Option<Op> {
            $(ops!(@assign bin, Op::$op, $form $(($($arg)*))?);)+
            None
        }

        /// The infix operator of a binary op (`+` for [`Op::Add`]); empty for other ops.
        pub(crate) fn binop_tokens(op: Op) -> TokenStream {
            match op {
                $(Op::$op => ops!(@binop $form $(($($arg)*))?),)+
            }
        }

        /// The compound assignment operator of a binary op (`+=` for [`Op::Add`]);
        /// empty for other ops.
        pub(crate) fn compound_tokens(op: Op) -> TokenStream {
            match op {
                $(Op::$op => ops!(@compound $form $(($($arg)*))?),)+
            }
        }
    };
}

// One row per op; the comments note edge behaviour.
#[rustfmt::skip]
ops! {
    Copy:   Identity,                  cheap,  [one()];
    // `x as f32` / `x as f64`: ẏ = ẋ as G, x̄ += ȳ as F (the term converts to the receiving type)
    Cast:   Cast,                      cheap,  [one()];
    Neg:    Neg,                       cheap,  [Some(neg(D::One))];
    Add:    Binary(+, +=, AddAssign),  cheap,  [one(), one()];
    Sub:    Binary(-, -=, SubAssign),  cheap,  [one(), Some(neg(D::One))];
    Mul:    Binary(*, *=, MulAssign),  cheap,  [Some(x(1)), Some(x(0))];
    // d(a/b)/db = -a/b² = -out/b
    Div:    Binary(/, /=, DivAssign),  cheap,  [Some(div(D::One, x(1))), Some(neg(div(D::Out, x(1))))];
    // a % b = a - trunc(a/b)·b
    Rem:    Binary(%, %=, RemAssign),  costly, [one(), Some(neg(m("trunc", vec![div(x(0), x(1))])))];
    Exp:    Method("exp"),             costly, [Some(D::Out)];
    // infinite at x == 0
    Ln:     Method("ln"),              costly, [Some(div(D::One, x(0)))];
    Log:    Method("log"),             costly, [Some(div(D::One, mul(x(0), m("ln", vec![x(1)])))), Some(neg(div(D::Out, mul(x(1), m("ln", vec![x(1)])))))];
    // 0.5 / out: infinite at x == 0
    Sqrt:   Method("sqrt"),            costly, [Some(div(D::Lit(0.5), D::Out))];
    Cbrt:   Method("cbrt"),            costly, [Some(div(D::Out, mul(D::Lit(3.0), x(0))))];
    // n·x^(n-1); the integer exponent carries no derivative
    Powi:   Method("powi"),            costly, [Some(h("powi_d", vec![x(0), x(1)])), None];
    // y·x^(y-1), and out·ln x (0 where x == 0 and y >= 0)
    Powf:   Method("powf"),            costly, [Some(h("powf_dx", vec![x(0), x(1)])), Some(h("powf_dy", vec![x(0), x(1), D::Out]))];
    Sin:    Method("sin"),             costly, [Some(m("cos", vec![x(0)]))];
    Cos:    Method("cos"),             costly, [Some(neg(m("sin", vec![x(0)])))];
    // `let (s, c) = x.sin_cos()` lowers to `c0 = cos_value(x)`, `s = sin_given_cos(x, c0)`,
    // `c = cos_given_sin(x, s)`: each partial reads the other's value instead of
    // evaluating `cos x` / `sin x` again (the second operand is that value, equal
    // to it by construction, and carries no derivative).
    CosValue: Helper("cos_value"),     costly, [None];
    SinGivenCos: Helper("sin_given_cos"), costly, [Some(x(1)), None];
    CosGivenSin: Helper("cos_given_sin"), costly, [Some(neg(x(1))), None];
    Tan:    Method("tan"),             costly, [Some(add(D::One, mul(D::Out, D::Out)))];
    Tanh:   Method("tanh"),            costly, [Some(sub(D::One, mul(D::Out, D::Out)))];
    Sinh:   Method("sinh"),            costly, [Some(m("cosh", vec![x(0)]))];
    Cosh:   Method("cosh"),            costly, [Some(m("sinh", vec![x(0)]))];
    // infinite at |x| == 1
    Asin:   Method("asin"),            costly, [Some(div(D::One, m("sqrt", vec![sub(D::One, mul(x(0), x(0)))])))];
    Acos:   Method("acos"),            costly, [Some(neg(div(D::One, m("sqrt", vec![sub(D::One, mul(x(0), x(0)))]))))];
    Atan:   Method("atan"),            costly, [Some(div(D::One, add(D::One, mul(x(0), x(0)))))];
    // atan2(y, x): ∂y = x/(x²+y²), ∂x = -y/(x²+y²)
    Atan2:  Method("atan2"),           costly, [Some(h("atan2_dy", vec![x(0), x(1)])), Some(h("atan2_dx", vec![x(0), x(1)]))];
    Asinh:  Method("asinh"),           costly, [Some(div(D::One, m("sqrt", vec![add(mul(x(0), x(0)), D::One)])))];
    Acosh:  Method("acosh"),           costly, [Some(div(D::One, m("sqrt", vec![sub(mul(x(0), x(0)), D::One)])))];
    Atanh:  Method("atanh"),           costly, [Some(div(D::One, sub(D::One, mul(x(0), x(0)))))];
    // 0 at x == 0 (as PyTorch's sign)
    Abs:    Method("abs"),             costly, [Some(h("sign", vec![x(0)]))];
    // ½ to each at ties
    Max:    Method("max"),             costly, [Some(h("max_d", vec![x(0), x(1)])), Some(h("max_d", vec![x(1), x(0)]))];
    Min:    Method("min"),             costly, [Some(h("min_d", vec![x(0), x(1)])), Some(h("min_d", vec![x(1), x(0)]))];
    // a/out, 0 at the origin
    Hypot:  Method("hypot"),           costly, [Some(h("hypot_d", vec![x(0), D::Out])), Some(h("hypot_d", vec![x(1), D::Out]))];
    Recip:  Method("recip"),           costly, [Some(neg(mul(D::Out, D::Out)))];
    Exp2:   Method("exp2"),            costly, [Some(mul(D::Out, h("ln2", vec![D::Out])))];
    Log2:   Method("log2"),            costly, [Some(div(D::One, mul(x(0), h("ln2", vec![x(0)]))))];
    Log10:  Method("log10"),           costly, [Some(div(D::One, mul(x(0), h("ln10", vec![x(0)]))))];
    Ln1p:   Method("ln_1p"),           costly, [Some(div(D::One, add(D::One, x(0))))];
    ExpM1:  Method("exp_m1"),          costly, [Some(add(D::Out, D::One))];
    // a·b + c
    MulAdd: Method("mul_add"),         cheap,  [Some(x(1)), Some(x(0)), one()];
    Signum: Method("signum"),          costly, [None];
    Floor:  Method("floor"),           costly, [None];
    Ceil:   Method("ceil"),            costly, [None];
    Round:  Method("round"),           costly, [None];
    Trunc:  Method("trunc"),           costly, [None];
    // constant factors 180/π and π/180
    ToDegrees: Method("to_degrees"),   cheap,  [Some(h("deg_per_rad", vec![x(0)]))];
    ToRadians: Method("to_radians"),   cheap,  [Some(h("rad_per_deg", vec![x(0)]))];
    // |x|·sgn(y): sgn(x)·sgn(y) (0 at x == 0, as abs); the sign of y carries no derivative
    Copysign: Method("copysign"),      costly, [Some(h("copysign_d", vec![x(0), x(1)])), None];
    // 1 to x inside [lo, hi] (bounds included, as PyTorch), else 1 to the bound it is clamped to
    Clamp:  Method("clamp"),           costly, [Some(h("clamp_dx", vec![x(0), x(1), x(2)])), Some(h("clamp_dlo", vec![x(0), x(1)])), Some(h("clamp_dhi", vec![x(0), x(2)]))];
}
