//! Small vector helpers shared by the optimisers.

use num_traits::Float;

/// Converts an `f64` constant; every `Float` type represents the constants
/// used in this crate, NaN would only surface in a validation error.
pub(crate) fn constant<F: Float>(value: f64) -> F {
    F::from(value).unwrap_or_else(F::nan)
}

pub(crate) fn dot<F: Float>(a: &[F], b: &[F]) -> F {
    a.iter().zip(b).fold(F::zero(), |acc, (&x, &y)| acc + x * y)
}

/// The Euclidean norm. When the sum of squares overflows or underflows
/// (entries beyond about 1e154 or below 1e-154 in `f64`), the entries are
/// rescaled by the largest magnitude first, so a finite vector never reports
/// an infinite norm unless the norm itself is out of range.
pub(crate) fn norm<F: Float>(a: &[F]) -> F {
    let squares = dot(a, a);
    if squares.is_finite() && squares >= F::min_positive_value() {
        return squares.sqrt();
    }
    let scale = a.iter().fold(F::zero(), |m, &v| m.max(v.abs()));
    if scale == F::zero() || !scale.is_finite() {
        return squares.sqrt();
    }
    let scaled = a.iter().fold(F::zero(), |acc, &v| {
        let r = v / scale;
        acc + r * r
    });
    scale * scaled.sqrt()
}

pub(crate) fn all_finite<F: Float>(a: &[F]) -> bool {
    a.iter().all(|v| v.is_finite())
}

/// Calls the objective with a zeroed gradient buffer, so an accumulating
/// adjoint can write into it directly.
pub(crate) fn evaluate<F, O>(objective: &mut O, x: &[F], grad: &mut [F]) -> F
where
    F: Float,
    O: FnMut(&[F], &mut [F]) -> F,
{
    grad.fill(F::zero());
    objective(x, grad)
}
