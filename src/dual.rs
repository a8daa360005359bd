//! A first-order dual number `v + d·ε` (ε² = 0) over any [`Float`], itself a
//! [`Float`]: the number type second-order code runs the generated adjoint on.
//!
//! `#[differentiate(order = 2)]` writes a copy of `f_adjoint` whose float type
//! is `Dual<F>`. Run with the inputs `x + v·ε`, its shadows come back holding
//! `∇f(x) + (H·v)·ε`: forward mode over reverse mode, with the same derivative
//! conventions as first-order code (the partials below call the same helpers in
//! `__private` that the rule table does: `abs'(0) = 0`, ties of `max`/`min` give
//! ½ to each side, …).
//!
//! Comparisons look at the value only, so branches taken by the dual run are
//! those of the primal run. Literals of the base type mix with dual numbers
//! (`2.0 * x`, `x < 1.0`) for `f32` and `f64`.

use core::cmp::Ordering;
use core::fmt;
use core::num::FpCategory;
use core::ops::{
    Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Rem, RemAssign, Sub, SubAssign,
};

use num_traits::{Float, Num, NumCast, One, ToPrimitive, Zero};

use crate::__private as h;

/// `v + d·ε`: a value and its derivative along one direction.
#[derive(Clone, Copy, Default)]
pub struct Dual<F> {
    /// The value.
    pub v: F,
    /// The derivative (tangent).
    pub d: F,
}

impl<F: Float> Dual<F> {
    /// `v + d·ε`.
    #[inline(always)]
    pub fn new(v: F, d: F) -> Self {
        Dual { v, d }
    }

    /// A constant: no derivative.
    #[inline(always)]
    pub fn cst(v: F) -> Self {
        Dual { v, d: F::zero() }
    }

    /// `f(v) + f'(v)·d·ε`.
    #[inline(always)]
    fn chain(self, value: F, slope: F) -> Self {
        Dual {
            v: value,
            d: slope * self.d,
        }
    }
}

impl<F: fmt::Debug> fmt::Debug for Dual<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} + {:?}ε", self.v, self.d)
    }
}

impl<F: fmt::Display> fmt::Display for Dual<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.v, f)
    }
}

impl<F: Float> PartialEq for Dual<F> {
    #[inline(always)]
    fn eq(&self, o: &Self) -> bool {
        self.v == o.v
    }
}

impl<F: Float> PartialOrd for Dual<F> {
    #[inline(always)]
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        self.v.partial_cmp(&o.v)
    }
}

impl<F: Float> Neg for Dual<F> {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        Dual {
            v: -self.v,
            d: -self.d,
        }
    }
}

impl<F: Float> Add for Dual<F> {
    type Output = Self;
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        Dual {
            v: self.v + o.v,
            d: self.d + o.d,
        }
    }
}

impl<F: Float> Sub for Dual<F> {
    type Output = Self;
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        Dual {
            v: self.v - o.v,
            d: self.d - o.d,
        }
    }
}

impl<F: Float> Mul for Dual<F> {
    type Output = Self;
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        Dual {
            v: self.v * o.v,
            d: self.d * o.v + self.v * o.d,
        }
    }
}

impl<F: Float> Div for Dual<F> {
    type Output = Self;
    #[inline(always)]
    fn div(self, o: Self) -> Self {
        let v = self.v / o.v;
        Dual {
            v,
            d: (self.d - v * o.d) / o.v,
        }
    }
}

impl<F: Float> Rem for Dual<F> {
    type Output = Self;
    /// `a % b = a - trunc(a/b)·b`.
    #[inline(always)]
    fn rem(self, o: Self) -> Self {
        Dual {
            v: self.v % o.v,
            d: self.d - (self.v / o.v).trunc() * o.d,
        }
    }
}

/// `&a + &b`, `&a * b`, … as for the primitive floats (iterator closures see references).
macro_rules! ref_ops {
    ($($tr:ident $m:ident),*) => {$(
        impl<'a, F: Float> $tr<&'a Dual<F>> for Dual<F> {
            type Output = Dual<F>;
            #[inline(always)]
            fn $m(self, o: &'a Dual<F>) -> Dual<F> { $tr::$m(self, *o) }
        }
        impl<'a, F: Float> $tr<Dual<F>> for &'a Dual<F> {
            type Output = Dual<F>;
            #[inline(always)]
            fn $m(self, o: Dual<F>) -> Dual<F> { $tr::$m(*self, o) }
        }
        impl<'a, 'b, F: Float> $tr<&'b Dual<F>> for &'a Dual<F> {
            type Output = Dual<F>;
            #[inline(always)]
            fn $m(self, o: &'b Dual<F>) -> Dual<F> { $tr::$m(*self, *o) }
        }
    )*};
}
ref_ops!(Add add, Sub sub, Mul mul, Div div, Rem rem);

impl<F: Float> Neg for &Dual<F> {
    type Output = Dual<F>;
    #[inline(always)]
    fn neg(self) -> Dual<F> {
        -*self
    }
}

impl<F: Float> core::iter::Sum for Dual<F> {
    fn sum<I: Iterator<Item = Self>>(it: I) -> Self {
        it.fold(Dual::cst(F::zero()), |a, b| a + b)
    }
}

impl<'a, F: Float> core::iter::Sum<&'a Dual<F>> for Dual<F> {
    fn sum<I: Iterator<Item = &'a Self>>(it: I) -> Self {
        it.fold(Dual::cst(F::zero()), |a, b| a + *b)
    }
}

impl<F: Float> core::iter::Product for Dual<F> {
    fn product<I: Iterator<Item = Self>>(it: I) -> Self {
        it.fold(Dual::cst(F::one()), |a, b| a * b)
    }
}

impl<'a, F: Float> core::iter::Product<&'a Dual<F>> for Dual<F> {
    fn product<I: Iterator<Item = &'a Self>>(it: I) -> Self {
        it.fold(Dual::cst(F::one()), |a, b| a * *b)
    }
}

macro_rules! assign_ops {
    ($($tr:ident $m:ident $op:tt),*) => {$(
        impl<F: Float> $tr for Dual<F> {
            #[inline(always)]
            fn $m(&mut self, o: Self) {
                *self = *self $op o;
            }
        }
        impl<F: Float> $tr<F> for Dual<F> {
            #[inline(always)]
            fn $m(&mut self, o: F) {
                *self = *self $op Dual::cst(o);
            }
        }
    )*};
}
assign_ops!(AddAssign add_assign +, SubAssign sub_assign -, MulAssign mul_assign *, DivAssign div_assign /, RemAssign rem_assign %);

/// `Dual<F> ∘ F` and `F ∘ Dual<F>` for the concrete float types, so literals and
/// constants of the base type (`2.0 * x`, `x / PI`, `x < 1.0`) mix with duals.
macro_rules! mixed {
    ($($t:ty),*) => {$(
        mixed!(@op $t, Add add, Sub sub, Mul mul, Div div, Rem rem);
        impl PartialEq<$t> for Dual<$t> {
            #[inline(always)]
            fn eq(&self, o: &$t) -> bool { self.v == *o }
        }
        impl PartialEq<Dual<$t>> for $t {
            #[inline(always)]
            fn eq(&self, o: &Dual<$t>) -> bool { *self == o.v }
        }
        impl PartialOrd<$t> for Dual<$t> {
            #[inline(always)]
            fn partial_cmp(&self, o: &$t) -> Option<Ordering> { self.v.partial_cmp(o) }
        }
        impl PartialOrd<Dual<$t>> for $t {
            #[inline(always)]
            fn partial_cmp(&self, o: &Dual<$t>) -> Option<Ordering> { self.partial_cmp(&o.v) }
        }
        impl From<$t> for Dual<$t> {
            #[inline(always)]
            fn from(v: $t) -> Self { Dual::cst(v) }
        }
        /// The constants of the base type, so `f64::EPSILON` keeps working where
        /// the float type became `Dual<f64>`.
        #[allow(missing_docs)]
        impl Dual<$t> {
            pub const EPSILON: Self = Dual { v: <$t>::EPSILON, d: 0.0 };
            pub const INFINITY: Self = Dual { v: <$t>::INFINITY, d: 0.0 };
            pub const NEG_INFINITY: Self = Dual { v: <$t>::NEG_INFINITY, d: 0.0 };
            pub const NAN: Self = Dual { v: <$t>::NAN, d: 0.0 };
            pub const MAX: Self = Dual { v: <$t>::MAX, d: 0.0 };
            pub const MIN: Self = Dual { v: <$t>::MIN, d: 0.0 };
            pub const MIN_POSITIVE: Self = Dual { v: <$t>::MIN_POSITIVE, d: 0.0 };
        }
    )*};
    (@op $t:ty, $($tr:ident $m:ident),*) => {$(
        impl $tr<$t> for Dual<$t> {
            type Output = Self;
            #[inline(always)]
            fn $m(self, o: $t) -> Self { $tr::$m(self, Dual::cst(o)) }
        }
        impl $tr<Dual<$t>> for $t {
            type Output = Dual<$t>;
            #[inline(always)]
            fn $m(self, o: Dual<$t>) -> Dual<$t> { $tr::$m(Dual::cst(self), o) }
        }
    )*};
}
mixed!(f32, f64);

impl<F: Float> Zero for Dual<F> {
    #[inline(always)]
    fn zero() -> Self {
        Dual::cst(F::zero())
    }
    #[inline(always)]
    fn is_zero(&self) -> bool {
        self.v.is_zero()
    }
}

impl<F: Float> One for Dual<F> {
    #[inline(always)]
    fn one() -> Self {
        Dual::cst(F::one())
    }
}

impl<F: Float> Num for Dual<F> {
    type FromStrRadixErr = F::FromStrRadixErr;
    fn from_str_radix(s: &str, radix: u32) -> Result<Self, Self::FromStrRadixErr> {
        F::from_str_radix(s, radix).map(Dual::cst)
    }
}

impl<F: Float> ToPrimitive for Dual<F> {
    fn to_i64(&self) -> Option<i64> {
        self.v.to_i64()
    }
    fn to_u64(&self) -> Option<u64> {
        self.v.to_u64()
    }
    fn to_i128(&self) -> Option<i128> {
        self.v.to_i128()
    }
    fn to_u128(&self) -> Option<u128> {
        self.v.to_u128()
    }
    fn to_f32(&self) -> Option<f32> {
        self.v.to_f32()
    }
    fn to_f64(&self) -> Option<f64> {
        self.v.to_f64()
    }
}

impl<F: Float> NumCast for Dual<F> {
    /// A constant (a dual number converts to its value, as `as` would).
    fn from<T: ToPrimitive>(n: T) -> Option<Self> {
        <F as NumCast>::from(n).map(Dual::cst)
    }
}

impl<F: Float> Float for Dual<F> {
    fn nan() -> Self {
        Dual::cst(F::nan())
    }
    fn infinity() -> Self {
        Dual::cst(F::infinity())
    }
    fn neg_infinity() -> Self {
        Dual::cst(F::neg_infinity())
    }
    fn neg_zero() -> Self {
        Dual::cst(F::neg_zero())
    }
    fn min_value() -> Self {
        Dual::cst(F::min_value())
    }
    fn min_positive_value() -> Self {
        Dual::cst(F::min_positive_value())
    }
    fn max_value() -> Self {
        Dual::cst(F::max_value())
    }
    fn epsilon() -> Self {
        Dual::cst(F::epsilon())
    }
    fn is_nan(self) -> bool {
        self.v.is_nan()
    }
    fn is_infinite(self) -> bool {
        self.v.is_infinite()
    }
    fn is_finite(self) -> bool {
        self.v.is_finite()
    }
    fn is_normal(self) -> bool {
        self.v.is_normal()
    }
    fn classify(self) -> FpCategory {
        self.v.classify()
    }
    fn floor(self) -> Self {
        Dual::cst(self.v.floor())
    }
    fn ceil(self) -> Self {
        Dual::cst(self.v.ceil())
    }
    fn round(self) -> Self {
        Dual::cst(self.v.round())
    }
    fn trunc(self) -> Self {
        Dual::cst(self.v.trunc())
    }
    fn fract(self) -> Self {
        Dual::new(self.v.fract(), self.d)
    }
    fn abs(self) -> Self {
        self.chain(self.v.abs(), h::sign(self.v))
    }
    fn signum(self) -> Self {
        Dual::cst(self.v.signum())
    }
    fn is_sign_positive(self) -> bool {
        self.v.is_sign_positive()
    }
    fn is_sign_negative(self) -> bool {
        self.v.is_sign_negative()
    }
    fn mul_add(self, a: Self, b: Self) -> Self {
        Dual {
            v: self.v.mul_add(a.v, b.v),
            d: self.d * a.v + self.v * a.d + b.d,
        }
    }
    fn recip(self) -> Self {
        let r = self.v.recip();
        self.chain(r, -r * r)
    }
    fn powi(self, n: i32) -> Self {
        self.chain(self.v.powi(n), h::powi_d(self.v, n))
    }
    fn powf(self, e: Self) -> Self {
        let out = self.v.powf(e.v);
        Dual {
            v: out,
            d: h::powf_dx(self.v, e.v) * self.d + h::powf_dy(self.v, e.v, out) * e.d,
        }
    }
    fn sqrt(self) -> Self {
        let s = self.v.sqrt();
        self.chain(s, h::lit::<F>(0.5) / s)
    }
    fn exp(self) -> Self {
        let e = self.v.exp();
        self.chain(e, e)
    }
    fn exp2(self) -> Self {
        let e = self.v.exp2();
        self.chain(e, e * h::ln2(e))
    }
    fn ln(self) -> Self {
        self.chain(self.v.ln(), self.v.recip())
    }
    fn log(self, base: Self) -> Self {
        self.ln() / base.ln()
    }
    fn log2(self) -> Self {
        self.chain(self.v.log2(), (self.v * h::ln2(self.v)).recip())
    }
    fn log10(self) -> Self {
        self.chain(self.v.log10(), (self.v * h::ln10(self.v)).recip())
    }
    fn to_degrees(self) -> Self {
        self.chain(self.v.to_degrees(), h::deg_per_rad(self.v))
    }
    fn to_radians(self) -> Self {
        self.chain(self.v.to_radians(), h::rad_per_deg(self.v))
    }
    fn max(self, o: Self) -> Self {
        Dual {
            v: self.v.max(o.v),
            d: h::max_d(self.v, o.v) * self.d + h::max_d(o.v, self.v) * o.d,
        }
    }
    fn min(self, o: Self) -> Self {
        Dual {
            v: self.v.min(o.v),
            d: h::min_d(self.v, o.v) * self.d + h::min_d(o.v, self.v) * o.d,
        }
    }
    fn clamp(self, lo: Self, hi: Self) -> Self {
        Dual {
            v: Float::clamp(self.v, lo.v, hi.v),
            d: h::clamp_dx(self.v, lo.v, hi.v) * self.d
                + h::clamp_dlo(self.v, lo.v) * lo.d
                + h::clamp_dhi(self.v, hi.v) * hi.d,
        }
    }
    fn copysign(self, sign: Self) -> Self {
        self.chain(self.v.copysign(sign.v), h::copysign_d(self.v, sign.v))
    }
    #[allow(deprecated)]
    fn abs_sub(self, o: Self) -> Self {
        if self.v <= o.v {
            Dual::cst(F::zero())
        } else {
            self - o
        }
    }
    fn cbrt(self) -> Self {
        let c = self.v.cbrt();
        self.chain(c, c / (h::lit::<F>(3.0) * self.v))
    }
    fn hypot(self, o: Self) -> Self {
        let out = self.v.hypot(o.v);
        Dual {
            v: out,
            d: h::hypot_d(self.v, out) * self.d + h::hypot_d(o.v, out) * o.d,
        }
    }
    fn sin(self) -> Self {
        self.chain(self.v.sin(), self.v.cos())
    }
    fn cos(self) -> Self {
        self.chain(self.v.cos(), -self.v.sin())
    }
    fn tan(self) -> Self {
        let t = self.v.tan();
        self.chain(t, F::one() + t * t)
    }
    fn asin(self) -> Self {
        self.chain(self.v.asin(), (F::one() - self.v * self.v).sqrt().recip())
    }
    fn acos(self) -> Self {
        self.chain(self.v.acos(), -(F::one() - self.v * self.v).sqrt().recip())
    }
    fn atan(self) -> Self {
        self.chain(self.v.atan(), (F::one() + self.v * self.v).recip())
    }
    /// `atan2(y = self, x = o)`.
    fn atan2(self, o: Self) -> Self {
        Dual {
            v: self.v.atan2(o.v),
            d: h::atan2_dy(self.v, o.v) * self.d + h::atan2_dx(self.v, o.v) * o.d,
        }
    }
    fn sin_cos(self) -> (Self, Self) {
        (self.sin(), self.cos())
    }
    fn exp_m1(self) -> Self {
        self.chain(self.v.exp_m1(), self.v.exp())
    }
    fn ln_1p(self) -> Self {
        self.chain(self.v.ln_1p(), (F::one() + self.v).recip())
    }
    fn sinh(self) -> Self {
        self.chain(self.v.sinh(), self.v.cosh())
    }
    fn cosh(self) -> Self {
        self.chain(self.v.cosh(), self.v.sinh())
    }
    fn tanh(self) -> Self {
        let t = self.v.tanh();
        self.chain(t, F::one() - t * t)
    }
    fn asinh(self) -> Self {
        self.chain(self.v.asinh(), (self.v * self.v + F::one()).sqrt().recip())
    }
    fn acosh(self) -> Self {
        self.chain(self.v.acosh(), (self.v * self.v - F::one()).sqrt().recip())
    }
    fn atanh(self) -> Self {
        self.chain(self.v.atanh(), (F::one() - self.v * self.v).recip())
    }
    fn integer_decode(self) -> (u64, i16, i8) {
        self.v.integer_decode()
    }
}

/// `x as f64` in code whose float type became a dual number: integers and base
/// floats become constants, a dual number stays itself.
pub trait ToDual<F> {
    /// The conversion.
    fn to_dual(self) -> Dual<F>;
}

impl<F: Float> ToDual<F> for Dual<F> {
    #[inline(always)]
    fn to_dual(self) -> Dual<F> {
        self
    }
}

macro_rules! to_dual {
    ($($t:ty),*) => {$(
        impl<F: Float> ToDual<F> for $t {
            #[inline(always)]
            fn to_dual(self) -> Dual<F> {
                Dual::cst(<F as NumCast>::from(self).unwrap_or_else(F::nan))
            }
        }
    )*};
}
to_dual!(f32, f64, i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);

/// The value of a number, for `x as usize` where `x` may have become a dual number.
pub trait Primal {
    /// The value's type.
    type Out;
    /// The value.
    fn primal(self) -> Self::Out;
}

impl<F> Primal for Dual<F> {
    type Out = F;
    #[inline(always)]
    fn primal(self) -> F {
        self.v
    }
}

macro_rules! primal {
    ($($t:ty),*) => {$(
        impl Primal for $t {
            type Out = $t;
            #[inline(always)]
            fn primal(self) -> $t { self }
        }
    )*};
}
primal!(f32, f64, i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, bool, char);

/// An argument or result of a call the second-order rewrite knows nothing
/// about (`log_gamma(0.5 * n as f64)`): a dual argument passes its value, a float
/// result comes back as a dual constant, and every other type passes unchanged.
/// Chosen by method resolution (autoref specialisation): `(&&passive(x)).arg()`.
pub struct Passive<T> {
    x: core::cell::Cell<Option<T>>,
    /// The values of a slice of dual numbers passed as `&[f64]` / `&[f32]`
    /// (`g(&buf) > 0.5` in a condition): borrowed until the end of the statement.
    f64s: core::cell::OnceCell<Vec<f64>>,
    f32s: core::cell::OnceCell<Vec<f32>>,
}

/// Wraps `x` for [`Passive`]'s `arg()` / `lift()`.
#[inline(always)]
pub fn passive<T>(x: T) -> Passive<T> {
    Passive {
        x: core::cell::Cell::new(Some(x)),
        f64s: core::cell::OnceCell::new(),
        f32s: core::cell::OnceCell::new(),
    }
}

impl<T> Passive<T> {
    #[inline(always)]
    fn take(&self) -> T {
        match self.x.take() {
            Some(x) => x,
            None => unreachable!("autodiff: a passive value is read once"),
        }
    }
}

/// `arg()` of a dual number: its value.
pub trait PassiveDualArg {
    /// The value's type.
    type Out;
    /// The value.
    fn arg(&self) -> Self::Out;
}

impl<F: Float> PassiveDualArg for &Passive<Dual<F>> {
    type Out = F;
    #[inline(always)]
    fn arg(&self) -> F {
        self.take().v
    }
}

/// `field_value()` of a field of `self` (`(&&&passive(&self.k)).field_value()`):
/// a float field is a dual constant, ...
pub trait FieldFloat {
    /// The dual type.
    type Out;
    /// The constant.
    fn field_value(&self) -> Self::Out;
}

impl FieldFloat for &&Passive<&f64> {
    type Out = Dual<f64>;
    #[inline(always)]
    fn field_value(&self) -> Dual<f64> {
        Dual::cst(*self.take())
    }
}

impl FieldFloat for &&Passive<&f32> {
    type Out = Dual<f32>;
    #[inline(always)]
    fn field_value(&self) -> Dual<f32> {
        Dual::cst(*self.take())
    }
}

/// ... another `Copy` field its value (`self.n`), ...
pub trait FieldCopy {
    /// The field's type.
    type Out;
    /// The value.
    fn field_value(&self) -> Self::Out;
}

impl<T: Copy> FieldCopy for &Passive<&T> {
    type Out = T;
    #[inline(always)]
    fn field_value(&self) -> T {
        *self.take()
    }
}

/// ... and any other field a reference to it (`self.v.len()`, `match self.mode`).
pub trait FieldRef {
    /// The reference.
    type Out;
    /// The reference.
    fn field_value(&self) -> Self::Out;
}

impl<'a, T> FieldRef for Passive<&'a T> {
    type Out = &'a T;
    #[inline(always)]
    fn field_value(&self) -> &'a T {
        self.take()
    }
}

/// `arg()` of a slice, `Vec` or array of dual numbers: a slice of their values.
macro_rules! passive_slices {
    ($f:ty, $field:ident) => {
        impl<'p, 'a> PassiveDualArg for &'p Passive<&'a [Dual<$f>]> {
            type Out = &'p [$f];
            #[inline(always)]
            fn arg(&self) -> &'p [$f] {
                let p: &'p Passive<&'a [Dual<$f>]> = self;
                let xs = p.take();
                p.$field.get_or_init(|| xs.iter().map(|e| e.v).collect())
            }
        }
        impl<'p, 'a> PassiveDualArg for &'p Passive<&'a Vec<Dual<$f>>> {
            type Out = &'p [$f];
            #[inline(always)]
            fn arg(&self) -> &'p [$f] {
                let p: &'p Passive<&'a Vec<Dual<$f>>> = self;
                let xs = p.take();
                p.$field.get_or_init(|| xs.iter().map(|e| e.v).collect())
            }
        }
        impl<'p, 'a, const N: usize> PassiveDualArg for &'p Passive<&'a [Dual<$f>; N]> {
            type Out = &'p [$f];
            #[inline(always)]
            fn arg(&self) -> &'p [$f] {
                let p: &'p Passive<&'a [Dual<$f>; N]> = self;
                let xs = p.take();
                p.$field.get_or_init(|| xs.iter().map(|e| e.v).collect())
            }
        }
    };
}
passive_slices!(f64, f64s);
passive_slices!(f32, f32s);

/// `arg()` of anything else: itself.
pub trait PassiveArg {
    /// The type.
    type Out;
    /// The value.
    fn arg(&self) -> Self::Out;
}

impl<T> PassiveArg for Passive<T> {
    type Out = T;
    #[inline(always)]
    fn arg(&self) -> T {
        self.take()
    }
}

/// `lift()` of a base float: a dual constant.
pub trait PassiveFloatResult {
    /// The dual type.
    type Out;
    /// The constant.
    fn lift(&self) -> Self::Out;
}

impl PassiveFloatResult for &Passive<f64> {
    type Out = Dual<f64>;
    #[inline(always)]
    fn lift(&self) -> Dual<f64> {
        Dual::cst(self.take())
    }
}

impl PassiveFloatResult for &Passive<f32> {
    type Out = Dual<f32>;
    #[inline(always)]
    fn lift(&self) -> Dual<f32> {
        Dual::cst(self.take())
    }
}

/// `lift()` of anything else: itself.
pub trait PassiveResult {
    /// The type.
    type Out;
    /// The value.
    fn lift(&self) -> Self::Out;
}

impl<T> PassiveResult for Passive<T> {
    type Out = T;
    #[inline(always)]
    fn lift(&self) -> T {
        self.take()
    }
}

/// A struct parameter's value (or a field of it) as dual numbers, for
/// second-order code that passes it to a call: `Vec<F>`, `[F; N]`, `Box<F>`,
/// `Box<[F]>`, and structs generic over their float type
/// (`#[derive(Differentiable)] struct S<T: Float>`, whose copy is `S<Dual<T>>`).
#[diagnostic::on_unimplemented(
    message = "`order = 2` cannot pass a value of type `{Self}` to a differentiated call: it has no copy on dual numbers",
    label = "passed to a call here (a struct passed whole, or a field by reference)",
    note = "`Vec<F>`, `[F; N]`, `Box<[F]>` and structs generic over their float type (`#[derive(Differentiable)] struct S<T: Float>`) have one; read this value's fields in the body instead"
)]
pub trait Dualize<F: Float> {
    /// The same shape on `Dual<F>`.
    type Dual;
    /// `self + tangent·ε`, float by float (the shapes must agree).
    fn dualize(&self, tangent: &Self) -> Self::Dual;
    /// A zero of the dual shape (a shadow).
    fn dual_zero(&self) -> Self::Dual;
    /// Adds the values (`tangent == false`) or the tangents of `dual`'s floats
    /// into `self`'s.
    fn add_parts(&mut self, dual: &Self::Dual, tangent: bool);
}

#[inline(always)]
fn part<F: Float>(d: &Dual<F>, tangent: bool) -> F {
    if tangent {
        d.d
    } else {
        d.v
    }
}

/// The direction of a struct of one shape applied to a struct of another.
#[cold]
#[track_caller]
fn shape_mismatch(a: usize, b: usize) -> ! {
    panic!("the direction of a struct parameter must have its shape: a buffer of {a} floats got a direction of {b}")
}

impl<F: Float> Dualize<F> for Vec<F> {
    type Dual = Vec<Dual<F>>;
    fn dualize(&self, tangent: &Self) -> Self::Dual {
        DualizeSlice::dualize(self.as_slice(), tangent.as_slice())
    }
    fn dual_zero(&self) -> Self::Dual {
        vec![Dual::cst(F::zero()); self.len()]
    }
    fn add_parts(&mut self, dual: &Self::Dual, tangent: bool) {
        for (x, d) in self.iter_mut().zip(dual) {
            *x = *x + part(d, tangent);
        }
    }
}

/// (for `Vec<F>` and `Box<[F]>`)
trait DualizeSlice<F> {
    fn dualize(&self, tangent: &Self) -> Vec<Dual<F>>;
}

impl<F: Float> DualizeSlice<F> for [F] {
    #[track_caller]
    fn dualize(&self, tangent: &Self) -> Vec<Dual<F>> {
        if self.len() != tangent.len() {
            shape_mismatch(self.len(), tangent.len());
        }
        self.iter()
            .zip(tangent)
            .map(|(&v, &d)| Dual::new(v, d))
            .collect()
    }
}

impl<F: Float> Dualize<F> for Box<[F]> {
    type Dual = Box<[Dual<F>]>;
    fn dualize(&self, tangent: &Self) -> Self::Dual {
        DualizeSlice::dualize(&**self, &**tangent).into_boxed_slice()
    }
    fn dual_zero(&self) -> Self::Dual {
        vec![Dual::cst(F::zero()); self.len()].into_boxed_slice()
    }
    fn add_parts(&mut self, dual: &Self::Dual, tangent: bool) {
        for (x, d) in self.iter_mut().zip(dual.iter()) {
            *x = *x + part(d, tangent);
        }
    }
}

impl<F: Float, const N: usize> Dualize<F> for [F; N] {
    type Dual = [Dual<F>; N];
    fn dualize(&self, tangent: &Self) -> Self::Dual {
        core::array::from_fn(|i| Dual::new(self[i], tangent[i]))
    }
    fn dual_zero(&self) -> Self::Dual {
        [Dual::cst(F::zero()); N]
    }
    fn add_parts(&mut self, dual: &Self::Dual, tangent: bool) {
        for (x, d) in self.iter_mut().zip(dual) {
            *x = *x + part(d, tangent);
        }
    }
}

impl<F: Float> Dualize<F> for Box<F> {
    type Dual = Box<Dual<F>>;
    fn dualize(&self, tangent: &Self) -> Self::Dual {
        Box::new(Dual::new(**self, **tangent))
    }
    fn dual_zero(&self) -> Self::Dual {
        Box::new(Dual::cst(F::zero()))
    }
    fn add_parts(&mut self, dual: &Self::Dual, tangent: bool) {
        **self = **self + part(dual, tangent);
    }
}

/// What second-order code needs of a value it passes to a call as dual numbers:
/// `x + tangent·ε`, a zero shadow of that shape, and [`Dualize::add_parts`],
/// which adds a shadow's parts back into a value of `x`'s type. One call, so a
/// type without a dual copy is reported once.
pub type Dualized<F, T> = (
    <T as Dualize<F>>::Dual,
    <T as Dualize<F>>::Dual,
    fn(&mut T, &<T as Dualize<F>>::Dual, bool),
);

/// See [`Dualized`]; `T` is inferred from the arguments.
#[inline(always)]
pub fn dualize<F: Float, T: Dualize<F>>(x: &T, tangent: &T) -> Dualized<F, T> {
    (x.dualize(tangent), x.dual_zero(), T::add_parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(v: f64) -> Dual<f64> {
        Dual::new(v, 1.0)
    }

    /// Every method's derivative against a central difference of its value.
    #[test]
    fn methods_match_finite_differences() {
        type M = fn(Dual<f64>) -> Dual<f64>;
        let cases: &[(&str, M, f64)] = &[
            ("sin", |x| x.sin(), 0.7),
            ("cos", |x| x.cos(), 0.7),
            ("tan", |x| x.tan(), 0.7),
            ("exp", |x| x.exp(), 0.7),
            ("exp2", |x| x.exp2(), 0.7),
            ("ln", |x| x.ln(), 0.7),
            ("log2", |x| x.log2(), 0.7),
            ("log10", |x| x.log10(), 0.7),
            ("log3", |x| x.log(Dual::cst(3.0)), 0.7),
            ("sqrt", |x| x.sqrt(), 0.7),
            ("cbrt", |x| x.cbrt(), 0.7),
            ("recip", |x| x.recip(), 0.7),
            ("powi", |x| x.powi(3), 0.7),
            ("powf", |x| x.powf(Dual::cst(2.5)), 0.7),
            ("powf_e", |x| Dual::cst(2.5).powf(x), 0.7),
            ("asin", |x| x.asin(), 0.3),
            ("acos", |x| x.acos(), 0.3),
            ("atan", |x| x.atan(), 0.3),
            ("sinh", |x| x.sinh(), 0.3),
            ("cosh", |x| x.cosh(), 0.3),
            ("tanh", |x| x.tanh(), 0.3),
            ("asinh", |x| x.asinh(), 0.3),
            ("acosh", |x| x.acosh(), 1.3),
            ("atanh", |x| x.atanh(), 0.3),
            ("exp_m1", |x| x.exp_m1(), 0.3),
            ("ln_1p", |x| x.ln_1p(), 0.3),
            ("abs", |x| x.abs(), -0.3),
            ("hypot", |x| x.hypot(Dual::cst(2.0)), 0.3),
            ("atan2y", |x| x.atan2(Dual::cst(2.0)), 0.3),
            ("atan2x", |x| Dual::cst(2.0).atan2(x), 0.3),
            ("max", |x| x.max(Dual::cst(0.1)), 0.3),
            ("min", |x| x.min(Dual::cst(0.1)), 0.3),
            ("clamp", |x| x.clamp(Dual::cst(0.0), Dual::cst(1.0)), 0.3),
            ("copysign", |x| x.copysign(Dual::cst(-1.0)), 0.3),
            ("degrees", |x| x.to_degrees(), 0.3),
            ("radians", |x| x.to_radians(), 0.3),
            ("mul_add", |x| x.mul_add(x, x), 0.3),
            ("div", |x| Dual::cst(1.5) / (x * x + 1.0), 0.3),
            ("rem", |x| (x * 3.0) % 2.0, 0.3),
            ("fract", |x| (x * 3.0).fract(), 0.3),
        ];
        for (name, f, x) in cases {
            let e = 1e-6;
            let fd = (f(Dual::cst(x + e)).v - f(Dual::cst(x - e)).v) / (2.0 * e);
            let ad = f(d(*x)).d;
            assert!(
                (fd - ad).abs() < 1e-6 * (1.0 + fd.abs()),
                "{name}: {ad} vs {fd}"
            );
        }
    }

    #[test]
    fn edge_conventions_match_first_order_rules() {
        assert_eq!(d(0.0).abs().d, 0.0);
        assert_eq!(d(1.0).max(Dual::new(1.0, 3.0)).d, 2.0);
        assert!(d(0.0).sqrt().d.is_infinite());
        assert!(Dual::new(f64::NAN, 1.0).exp().d.is_nan());
        assert_eq!(d(2.0).floor().d, 0.0);
    }

    #[test]
    #[allow(clippy::needless_borrow)] // the double reference picks the impl
    fn comparisons_and_mixed_literals() {
        let x = Dual::new(2.0, 1.0);
        assert!(x > 1.0 && 3.0 > x && x == 2.0 && x < Dual::new(2.5, -7.0));
        let y: Dual<f64> = 2.0 * x + 1.0 - x / 4.0;
        assert_eq!((y.v, y.d), (4.5, 1.75));
        let mut s = Dual::cst(0.0);
        s += x;
        s *= 3.0;
        assert_eq!((s.v, s.d), (6.0, 3.0));
        assert_eq!(ToDual::<f64>::to_dual(7_usize).v, 7.0);
        assert_eq!(<f64 as ToDual<f64>>::to_dual(1.5).d, 0.0);
        assert_eq!(x.primal() as usize, 2);
        // passive calls: duals pass their value, float results come back constant
        let half = |v: f64| v / 2.0;
        let r: Dual<f64> = (&&passive(half((&&passive(x)).arg()))).lift();
        assert_eq!((r.v, r.d), (1.0, 0.0));
        let n: usize = (&&passive(3_usize)).arg();
        let k: usize = (&&passive(n + 1)).lift();
        assert_eq!(k, 4);
    }
}
