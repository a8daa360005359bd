//! Checking a gradient against central finite differences.

use std::fmt;

use num_traits::Float;

use crate::error::{check_point, check_positive, to_f64, Error};

/// The outcome of [`check_gradient`]: the two gradients side by side and
/// where they disagree most.
///
/// Errors are NaN where either gradient is not finite; such a component never
/// passes.
///
/// # Example
///
/// ```
/// use autodiff_runtime::check_gradient;
///
/// let check = check_gradient(|x: &[f64], g: &mut [f64]| {
///     g[0] = x[0].cos();
///     x[0].sin()
/// }, &[0.5]).unwrap();
/// assert!(check.passed(1e-7));
/// println!("{check}");
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct GradientCheck<F> {
    /// The objective's value at the checked point.
    pub value: F,
    /// The gradient the objective wrote.
    pub analytic: Vec<F>,
    /// The central-difference estimate.
    pub numeric: Vec<F>,
    /// The largest `|analytic_i − numeric_i|`.
    pub max_abs_error: F,
    /// Where `max_abs_error` occurs.
    pub max_abs_index: usize,
    /// The largest `|analytic_i − numeric_i| / max(|analytic_i|, |numeric_i|)`
    /// (0 where both are 0).
    pub max_rel_error: F,
    /// Where `max_rel_error` occurs.
    pub max_rel_index: usize,
}

impl<F: Float> GradientCheck<F> {
    /// `true` when every component agrees to within `tol`, absolutely or
    /// relatively: `|a − n| <= tol · max(1, |a|, |n|)`. Small components are
    /// judged by absolute error, large ones by relative error, as in
    /// `torch.autograd.gradcheck` with `atol = rtol = tol`.
    ///
    /// ```
    /// use autodiff_runtime::check_gradient;
    ///
    /// // The derivative of x³ is 3x², not 2x²: caught.
    /// let wrong = check_gradient(|x: &[f64], g: &mut [f64]| {
    ///     g[0] = 2.0 * x[0] * x[0];
    ///     x[0].powi(3)
    /// }, &[2.0]).unwrap();
    /// assert!(!wrong.passed(1e-4));
    /// ```
    pub fn passed(&self, tol: F) -> bool {
        self.analytic.iter().zip(&self.numeric).all(|(&a, &n)| {
            let error = (a - n).abs();
            // A non-finite component never passes (an infinite error would
            // otherwise compare equal to an infinite allowance).
            a.is_finite() && n.is_finite() && error <= tol * F::one().max(a.abs()).max(n.abs())
        })
    }
}

impl<F: Float> fmt::Display for GradientCheck<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |f: &mut fmt::Formatter<'_>, label: &str, error: F, i: usize| {
            let pick = |v: &[F]| v.get(i).map_or(f64::NAN, |&x| to_f64(x));
            writeln!(
                f,
                "max {label} error {:.3e} at index {i} (analytic {:.9e}, numeric {:.9e})",
                to_f64(error),
                pick(&self.analytic),
                pick(&self.numeric)
            )
        };
        show(f, "absolute", self.max_abs_error, self.max_abs_index)?;
        show(f, "relative", self.max_rel_error, self.max_rel_index)
    }
}

/// Compares the gradient `objective` writes at `x` with central differences
/// `(f(x + hᵢeᵢ) − f(x − hᵢeᵢ)) / 2hᵢ`, with `hᵢ = ε^(1/3)·max(1, |xᵢ|)`
/// (ε the machine epsilon: about `6e-6` for `f64`, `5e-3` for `f32`).
///
/// Costs `2n + 1` evaluations. Expect agreement to about `1e-7` (relative)
/// in `f64` and `1e-2` in `f32` for smooth objectives; see
/// [`check_gradient_with`] to choose the step.
///
/// Fails only on bad input: an empty or non-finite `x`.
///
/// # Example
///
/// ```
/// use autodiff_runtime::check_gradient;
///
/// // f(x, y) = x² y, ∇f = (2xy, x²)
/// let f = |p: &[f64], g: &mut [f64]| {
///     g[0] = 2.0 * p[0] * p[1];
///     g[1] = p[0] * p[0];
///     p[0] * p[0] * p[1]
/// };
/// let check = check_gradient(f, &[1.5, -2.0]).unwrap();
/// assert!(check.passed(1e-7), "{check}");
/// assert!(check.max_abs_error < 1e-8);
/// ```
pub fn check_gradient<F, O>(objective: O, x: &[F]) -> Result<GradientCheck<F>, Error<F>>
where
    F: Float,
    O: FnMut(&[F], &mut [F]) -> F,
{
    check_gradient_with(objective, x, F::epsilon().cbrt())
}

/// [`check_gradient`] with a chosen relative step: `hᵢ = step·max(1, |xᵢ|)`
/// (`step` finite and > 0).
///
/// # Example
///
/// ```
/// use autodiff_runtime::{check_gradient_with, Error};
///
/// let f = |x: &[f32], g: &mut [f32]| { g[0] = x[0].exp(); x[0].exp() };
/// assert!(check_gradient_with(f, &[0.3], 1e-2).unwrap().passed(1e-3));
/// assert!(matches!(check_gradient_with(f, &[0.3], 0.0), Err(Error::InvalidConfig { .. })));
/// ```
pub fn check_gradient_with<F, O>(
    mut objective: O,
    x: &[F],
    step: F,
) -> Result<GradientCheck<F>, Error<F>>
where
    F: Float,
    O: FnMut(&[F], &mut [F]) -> F,
{
    check_positive("step", step)?;
    check_point("x", x)?;
    let n = x.len();
    let mut analytic = vec![F::zero(); n];
    let value = objective(x, &mut analytic);
    let mut scratch = vec![F::zero(); n];
    let mut probe = x.to_vec();
    let numeric = (0..n)
        .map(|i| {
            let h = step * F::one().max(x[i].abs());
            probe[i] = x[i] + h;
            scratch.fill(F::zero());
            let plus = objective(&probe, &mut scratch);
            probe[i] = x[i] - h;
            scratch.fill(F::zero());
            let minus = objective(&probe, &mut scratch);
            probe[i] = x[i];
            // Divide by the step actually taken, which rounding may change.
            (plus - minus) / ((x[i] + h) - (x[i] - h))
        })
        .collect::<Vec<F>>();

    let mut check = GradientCheck {
        value,
        analytic,
        numeric,
        max_abs_error: F::zero(),
        max_abs_index: 0,
        max_rel_error: F::zero(),
        max_rel_index: 0,
    };
    for (i, (&a, &n)) in check.analytic.iter().zip(&check.numeric).enumerate() {
        let (abs, rel) = if a.is_finite() && n.is_finite() {
            let abs = (a - n).abs();
            let scale = a.abs().max(n.abs());
            (abs, if scale == F::zero() { abs } else { abs / scale })
        } else {
            // As documented: NaN where either gradient is not finite.
            (F::nan(), F::nan())
        };
        if worse(abs, check.max_abs_error) {
            check.max_abs_error = abs;
            check.max_abs_index = i;
        }
        if worse(rel, check.max_rel_error) {
            check.max_rel_error = rel;
            check.max_rel_index = i;
        }
    }
    Ok(check)
}

/// Orders errors with NaN (a non-finite gradient) as the worst.
fn worse<F: Float>(error: F, worst: F) -> bool {
    !worst.is_nan() && (error.is_nan() || error > worst)
}
