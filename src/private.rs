//! Support for generated code. Not public API: names and signatures may change.

pub use num_traits::{Float, FromPrimitive, NumCast, One, ToPrimitive, Zero};

pub use crate::dual::{
    dualize, passive, Dual, Dualize, FieldCopy, FieldFloat, FieldRef, Passive, PassiveArg,
    PassiveDualArg, PassiveFloatResult, PassiveResult, Primal, ToDual,
};

/// `x as F` where the float type became `Dual<F>` (second-order code).
#[inline(always)]
pub fn to_dual<F, T: ToDual<F>>(x: T) -> Dual<F> {
    x.to_dual()
}

/// The value of `x`, for `x as usize` where `x` may be a dual number.
#[inline(always)]
pub fn primal<T: Primal>(x: T) -> T::Out {
    x.primal()
}

/// A float constant in the function's float type.
#[inline(always)]
pub fn lit<F: Float>(x: f64) -> F {
    F::from(x).unwrap_or_else(F::nan)
}

/// Pops a value the forward sweep pushed; the sweeps are generated in lockstep.
#[inline(always)]
pub fn pop<T>(stack: &mut Vec<T>) -> T {
    match stack.pop() {
        Some(v) => v,
        None => unreachable!("autodiff: reverse sweep popped more than the forward sweep pushed"),
    }
}

/// The values a split call's forward sweep keeps for its reverse sweep
/// (`g__split` → `g__rev`, `inline(..)`): a tuple of floats, pushed on the float
/// tape in order and popped in reverse.
pub trait Saved<F>: Sized {
    fn push_to(self, tape: &mut Vec<F>);
    fn pop_from(tape: &mut Vec<F>) -> Self;
}

macro_rules! saved_tuple {
    ($($x:ident)*) => {
        impl<F> Saved<F> for ($(saved_tuple!(@f $x),)*) {
            #[inline(always)]
            #[allow(non_snake_case)]
            fn push_to(self, tape: &mut Vec<F>) {
                let ($($x,)*) = self;
                $(tape.push($x);)*
                let _ = tape;
            }
            #[inline(always)]
            #[allow(non_snake_case, clippy::unused_unit)]
            fn pop_from(tape: &mut Vec<F>) -> Self {
                saved_tuple!(@pop tape [] $($x)*)
            }
        }
    };
    (@f $x:ident) => { F };
    // pops in reverse order: the last pushed first
    (@pop $t:ident [$($done:ident)*] $x:ident $($rest:ident)*) => {
        saved_tuple!(@pop $t [$x $($done)*] $($rest)*)
    };
    (@pop $t:ident [$($x:ident)*]) => {{
        $(let $x = pop($t);)*
        let _ = &$t;
        saved_tuple!(@order [$($x)*] [])
    }};
    (@order [$x:ident $($rest:ident)*] [$($done:ident)*]) => {
        saved_tuple!(@order [$($rest)*] [$x $($done)*])
    };
    (@order [] [$($x:ident)*]) => { ($($x,)*) };
}

saved_tuple!();
saved_tuple!(A);
saved_tuple!(A B);
saved_tuple!(A B C);
saved_tuple!(A B C D);
saved_tuple!(A B C D E);
saved_tuple!(A B C D E G);
saved_tuple!(A B C D E G H);
saved_tuple!(A B C D E G H I);

/// Lower bound of a loop's trip count, to reserve tape capacity before the loop.
#[inline(always)]
pub fn trip_count<I: Iterator + Clone>(it: &I) -> usize {
    it.size_hint().0
}

/// The segment length of a `#[checkpoint]` loop of `n` iterations: ⌈√n⌉, so
/// that the saved states and one segment's tape both hold O(√n) values.
pub fn checkpoint_every(n: usize) -> usize {
    let mut k = (n as f64).sqrt() as usize;
    while k * k < n {
        k += 1;
    }
    k.max(1)
}

/// A zeroed shadow for a slice argument that carries no derivative.
#[inline]
pub fn zeros_like<F: Float>(x: &[F]) -> Vec<F> {
    vec![F::zero(); x.len()]
}

/// `vec![zero; n]` without `calloc` for small `n`: glibc's `calloc` skips its
/// per-thread cache, so a small zeroed vector made once per call (a Jacobian
/// block) costs several times a `malloc` and a fill. The zero goes through
/// `black_box` because LLVM turns `malloc` followed by a fill with a known zero
/// back into `calloc`. Large vectors still come from `calloc`, which can hand
/// out pages that are already zero.
#[inline]
pub fn zeroed_vec<F: Copy>(zero: F, n: usize) -> Vec<F> {
    if n > 4096 {
        return vec![zero; n];
    }
    let mut v = Vec::with_capacity(n);
    v.resize(n, core::hint::black_box(zero));
    v
}

/// `cos x`, for `x.sin_cos()`: the value the partial of its `sin` reads
/// (`Op::CosValue`; it carries no derivative itself).
#[inline(always)]
pub fn cos_value<F: Float>(x: F) -> F {
    x.cos()
}

/// `sin x` of `x.sin_cos()`; `cos` is `cos x`, which its partial reads.
#[inline(always)]
pub fn sin_given_cos<F: Float>(x: F, cos: F) -> F {
    let _ = cos;
    x.sin()
}

/// `cos x` of `x.sin_cos()`; `sin` is `sin x`, which its partial reads.
#[inline(always)]
pub fn cos_given_sin<F: Float>(x: F, sin: F) -> F {
    let _ = sin;
    x.cos()
}

/// A zeroed shadow for an array argument that carries no derivative.
#[inline(always)]
pub fn zeros_like_array<F: Float, const N: usize>(_: &[F; N]) -> [F; N] {
    [F::zero(); N]
}

/// d|x|/dx: the sign, and 0 at 0 (as PyTorch and JAX).
#[inline(always)]
pub fn sign<F: Float>(x: F) -> F {
    if x > F::zero() {
        F::one()
    } else if x < F::zero() {
        -F::one()
    } else if x == F::zero() {
        F::zero()
    } else {
        x // NaN propagates
    }
}

/// ∂max(a, b)/∂a: 1 where a wins, ½ at a tie, 0 where b wins.
#[inline(always)]
pub fn max_d<F: Float>(a: F, b: F) -> F {
    if a > b {
        F::one()
    } else if a == b {
        lit(0.5)
    } else if a < b {
        F::zero()
    } else {
        a + b // NaN propagates
    }
}

/// ∂min(a, b)/∂a: 1 where a wins, ½ at a tie, 0 where b wins.
#[inline(always)]
pub fn min_d<F: Float>(a: F, b: F) -> F {
    max_d(b, a)
}

/// ∂xⁿ/∂x = n·xⁿ⁻¹ for an integer exponent.
#[inline(always)]
pub fn powi_d<F: Float>(x: F, n: i32) -> F {
    if n == 0 {
        F::zero()
    } else {
        F::from(n).unwrap_or_else(F::nan) * x.powi(n - 1)
    }
}

/// ∂xʸ/∂x = y·xʸ⁻¹, and 0 when y == 0 (so 0⁰ has a finite derivative).
#[inline(always)]
pub fn powf_dx<F: Float>(x: F, y: F) -> F {
    if y == F::zero() {
        F::zero()
    } else {
        y * x.powf(y - F::one())
    }
}

/// ∂xʸ/∂y = xʸ·ln x, and 0 at a zero base with y ≥ 0 (as PyTorch).
#[inline(always)]
pub fn powf_dy<F: Float>(x: F, y: F, out: F) -> F {
    if x == F::zero() && y >= F::zero() {
        F::zero()
    } else {
        out * x.ln()
    }
}

/// ∂atan2(y, x)/∂y = x / (x² + y²).
#[inline(always)]
pub fn atan2_dy<F: Float>(y: F, x: F) -> F {
    x / (x * x + y * y)
}

/// ∂atan2(y, x)/∂x = −y / (x² + y²).
#[inline(always)]
pub fn atan2_dx<F: Float>(y: F, x: F) -> F {
    -y / (x * x + y * y)
}

/// ∂hypot/∂a = a / hypot, and 0 at the origin.
#[inline(always)]
pub fn hypot_d<F: Float>(a: F, out: F) -> F {
    if out == F::zero() {
        F::zero()
    } else {
        a / out
    }
}

/// ln 2 in the type of `x`.
#[inline(always)]
pub fn ln2<F: Float>(_: F) -> F {
    lit(core::f64::consts::LN_2)
}

/// ln 10 in the type of `x`.
#[inline(always)]
pub fn ln10<F: Float>(_: F) -> F {
    lit(core::f64::consts::LN_10)
}

/// d(x.to_degrees())/dx = 180/π.
#[inline(always)]
pub fn deg_per_rad<F: Float>(_: F) -> F {
    lit(180.0 / core::f64::consts::PI)
}

/// d(x.to_radians())/dx = π/180.
#[inline(always)]
pub fn rad_per_deg<F: Float>(_: F) -> F {
    lit(core::f64::consts::PI / 180.0)
}

/// ∂copysign(x, y)/∂x = sgn(x)·sgn(y), by the sign bits (0 at x == 0, as `abs`).
#[inline(always)]
pub fn copysign_d<F: Float>(x: F, y: F) -> F {
    let s = sign(x);
    if y.is_sign_negative() {
        -s
    } else {
        s
    }
}

/// ∂clamp(x, lo, hi)/∂x: 1 inside `[lo, hi]` (bounds included), else 0.
#[inline(always)]
pub fn clamp_dx<F: Float>(x: F, lo: F, hi: F) -> F {
    if x >= lo && x <= hi {
        F::one()
    } else if x < lo || x > hi {
        F::zero()
    } else {
        x // NaN propagates
    }
}

/// ∂clamp(x, lo, hi)/∂lo: 1 where `x < lo`.
#[inline(always)]
pub fn clamp_dlo<F: Float>(x: F, lo: F) -> F {
    if x < lo {
        F::one()
    } else {
        F::zero()
    }
}

/// ∂clamp(x, lo, hi)/∂hi: 1 where `x > hi`.
#[inline(always)]
pub fn clamp_dhi<F: Float>(x: F, hi: F) -> F {
    if x > hi {
        F::one()
    } else {
        F::zero()
    }
}

/// A struct field read as an integer (`p.n as f64`): any primitive integer,
/// never a float, so a wrong guess does not compile.
pub trait Integer: Copy {}
macro_rules! integer {
    ($($t:ty),*) => {$(impl Integer for $t {})*};
}
integer!(usize, isize, u8, u16, u32, u64, u128, i8, i16, i32, i64, i128);

/// The rows of a nested buffer (`&[[F; N]]`, `[[F; N]; M]`, `Vec<[F; N]>`) as
/// one flat slice, without a copy: `<[[T; N]]>::as_flattened`, which is newer
/// than this crate's minimum Rust version.
#[inline(always)]
pub fn flat<T, const N: usize>(rows: &[[T; N]]) -> &[T] {
    // SAFETY: `[[T; N]]` is `rows.len() * N` values of `T` laid out contiguously
    // with no padding (arrays have the size of their elements times their
    // length); the length cannot overflow, the buffer already holds that many.
    unsafe { ::core::slice::from_raw_parts(rows.as_ptr().cast::<T>(), rows.len() * N) }
}

/// [`flat`] for a shadow: `<[[T; N]]>::as_flattened_mut`.
#[inline(always)]
pub fn flat_mut<T, const N: usize>(rows: &mut [[T; N]]) -> &mut [T] {
    let len = rows.len() * N;
    // SAFETY: as for `flat`; the borrow is unique and lives as long as `rows`'.
    unsafe { ::core::slice::from_raw_parts_mut(rows.as_mut_ptr().cast::<T>(), len) }
}

/// The offsets of the rows of a jagged nested buffer (`&[Vec<F>]`) in its
/// gathered flat buffer: `rows.len() + 1` of them, from 0 to the total length.
pub fn row_offsets<R: AsRef<[T]>, T>(rows: &[R]) -> Vec<usize> {
    let mut off = Vec::with_capacity(rows.len() + 1);
    let mut at = 0;
    off.push(at);
    for r in rows {
        at += r.as_ref().len();
        off.push(at);
    }
    off
}

/// How many floats a nested buffer holds (rows of any length).
pub fn nested_len<R: AsRef<[T]>, T>(rows: &[R]) -> usize {
    rows.iter().map(|r| r.as_ref().len()).sum()
}

/// A nested buffer's elements, row after row (`order = 2`'s dual inputs).
pub fn flat_rows<R: AsRef<[T]>, T: Clone>(rows: &[R]) -> Vec<T> {
    rows.iter()
        .flat_map(|r| r.as_ref().iter().cloned())
        .collect()
}

/// Writes `values` into a nested buffer row after row (`order = 2`'s gradient
/// and `H·v` in the parameter's shape).
pub fn fill_rows<R: AsMut<[T]>, T>(rows: &mut [R], values: impl Iterator<Item = T>) {
    for (slot, v) in rows
        .iter_mut()
        .flat_map(|r| r.as_mut().iter_mut())
        .zip(values)
    {
        *slot = v;
    }
}

/// A jagged nested buffer's shadow has rows of the same lengths as the buffer.
#[track_caller]
pub fn check_rows<R: AsRef<[T]>, S: AsRef<[T]>, T>(x: &[R], dx: &[S], name: &str) {
    let same = x.len() == dx.len()
        && x.iter()
            .zip(dx)
            .all(|(a, b)| a.as_ref().len() == b.as_ref().len());
    assert!(
        same,
        "the shadow `{name}` must have rows of the same lengths as its nested buffer"
    );
}

/// `let p__n = integer(p.n);`: the field passed through, checked to be an integer.
#[inline(always)]
pub fn integer<T: Integer>(x: T) -> T {
    x
}

/// `K` tangents carried side by side: the tangent type of `_jacobian`'s vector
/// forward mode, one lane per input column of the sweep.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lanes<F, const K: usize>(pub [F; K]);

impl<F: Float, const K: usize> Lanes<F, K> {
    #[inline(always)]
    pub fn zero() -> Self {
        Lanes([F::zero(); K])
    }

    /// The seed of input column `col` in the sweep over columns `first..first + K`:
    /// one in its lane, zero elsewhere (all zero when it is not in the sweep).
    #[inline(always)]
    pub fn seed(col: usize, first: usize) -> Self {
        let mut l = Self::zero();
        if col >= first && col - first < K {
            l.0[col - first] = F::one();
        }
        l
    }
}

impl<F: Float, const K: usize> core::ops::Add for Lanes<F, K> {
    type Output = Self;
    #[inline(always)]
    fn add(mut self, o: Self) -> Self {
        for k in 0..K {
            self.0[k] = self.0[k] + o.0[k];
        }
        self
    }
}

impl<F: Float, const K: usize> core::ops::Sub for Lanes<F, K> {
    type Output = Self;
    #[inline(always)]
    fn sub(mut self, o: Self) -> Self {
        for k in 0..K {
            self.0[k] = self.0[k] - o.0[k];
        }
        self
    }
}

impl<F: Float, const K: usize> core::ops::Neg for Lanes<F, K> {
    type Output = Self;
    #[inline(always)]
    fn neg(mut self) -> Self {
        for k in 0..K {
            self.0[k] = -self.0[k];
        }
        self
    }
}

impl<F: Float, const K: usize> core::ops::Mul<F> for Lanes<F, K> {
    type Output = Self;
    #[inline(always)]
    fn mul(mut self, s: F) -> Self {
        for k in 0..K {
            self.0[k] = self.0[k] * s;
        }
        self
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn zeroed_vec_is_positive_zero_on_both_sides_of_the_calloc_bound() {
        for n in [0, 1, 30, 4096, 4097, 10_000] {
            let v = super::zeroed_vec(0.0f64, n);
            assert_eq!(v.len(), n);
            assert!(v.iter().all(|x| x.to_bits() == 0), "n = {n}");
        }
    }
}
