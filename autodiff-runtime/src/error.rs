//! The error type shared by every optimiser and by gradient checking.

use std::fmt;

use num_traits::Float;

/// Why a run (or a single step) could not proceed.
///
/// Bad input and bad configuration are reported here instead of panicking.
/// When the objective stops producing finite numbers, [`Error::NonFinite`]
/// keeps the last point at which value and gradient were both finite, so the
/// work done so far is not lost.
///
/// # Example
///
/// ```
/// use autodiff_runtime::{Error, GradientDescent};
///
/// let quadratic = |x: &[f64], g: &mut [f64]| {
///     g[0] = 2.0 * x[0];
///     x[0] * x[0]
/// };
/// // A negative learning rate is rejected when the run starts.
/// let err = GradientDescent::new(-0.1).minimize(quadratic, &[1.0]).unwrap_err();
/// assert!(matches!(err, Error::InvalidConfig { name: "learning_rate", .. }));
/// assert_eq!(err.to_string(), "invalid `learning_rate` = -0.1: expected a finite number > 0");
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Error<F> {
    /// The starting point (or the parameter slice given to `step`) is empty.
    Empty,
    /// Two slices that must have the same length do not, or `step` was given
    /// parameters of another length than the optimiser's state (call `reset`
    /// to start over with a new problem size).
    DimensionMismatch {
        /// The length that was expected.
        expected: usize,
        /// The length that was given.
        found: usize,
    },
    /// A configuration value is out of range (checked when a run or step starts).
    InvalidConfig {
        /// The builder method / parameter name, e.g. `"beta1"`.
        name: &'static str,
        /// The offending value, converted to `f64` for display.
        value: f64,
        /// What would have been accepted, e.g. `"a number in [0, 1)"`.
        expected: &'static str,
    },
    /// An input slice contains NaN or an infinity.
    NonFiniteInput {
        /// Which input: `"x0"`, `"params"`, `"grad"` or `"x"`.
        what: &'static str,
        /// The first offending index.
        index: usize,
    },
    /// The objective's value or gradient is not finite at the starting point.
    NonFiniteAtStart {
        /// The value the objective returned there (may itself be finite when
        /// only the gradient is not).
        value: F,
    },
    /// The objective's value or gradient became NaN or infinite during a run.
    NonFinite {
        /// The iteration that produced the non-finite numbers.
        iteration: usize,
        /// The last iterate at which value and gradient were finite.
        x: Vec<F>,
        /// The objective's value at `x`.
        value: F,
    },
    /// [`Lbfgs::step`](crate::Lbfgs::step) found no step satisfying its line
    /// search conditions; the parameters were left unchanged. (A whole run
    /// reports this as [`StopReason::LineSearchFailed`](crate::StopReason)
    /// instead, since it usually means the optimiser is at the limit of
    /// floating-point precision.)
    LineSearchFailed {
        /// The point the step started from (the parameters, unchanged).
        x: Vec<F>,
        /// The objective's value at `x`.
        value: F,
    },
}

impl<F: Float> fmt::Display for Error<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Empty => f.write_str("the starting point is empty"),
            Error::DimensionMismatch { expected, found } => write!(
                f,
                "dimension mismatch: expected {expected} values, found {found}"
            ),
            Error::InvalidConfig {
                name,
                value,
                expected,
            } => write!(f, "invalid `{name}` = {value}: expected {expected}"),
            Error::NonFiniteInput { what, index } => {
                write!(f, "`{what}` is not finite at index {index}")
            }
            Error::NonFiniteAtStart { value } => write!(
                f,
                "the objective's value or gradient is not finite at the starting point (value {})",
                to_f64(*value)
            ),
            Error::NonFinite {
                iteration, value, ..
            } => write!(
                f,
                "the objective's value or gradient became non-finite at iteration {iteration}; \
                 the last finite point (value {}) is kept in the error",
                to_f64(*value)
            ),
            Error::LineSearchFailed { value, .. } => write!(
                f,
                "the line search found no acceptable step from the point with value {}",
                to_f64(*value)
            ),
        }
    }
}

impl<F: Float + fmt::Debug> std::error::Error for Error<F> {}

pub(crate) fn to_f64<F: Float>(value: F) -> f64 {
    value.to_f64().unwrap_or(f64::NAN)
}

/// Checks that `value` is finite and strictly positive.
pub(crate) fn check_positive<F: Float>(name: &'static str, value: F) -> Result<(), Error<F>> {
    if value.is_finite() && value > F::zero() {
        Ok(())
    } else {
        Err(invalid(name, value, "a finite number > 0"))
    }
}

/// Checks that `value` lies in `[0, 1)`.
pub(crate) fn check_unit<F: Float>(name: &'static str, value: F) -> Result<(), Error<F>> {
    if value >= F::zero() && value < F::one() {
        Ok(())
    } else {
        Err(invalid(name, value, "a number in [0, 1)"))
    }
}

pub(crate) fn invalid<F: Float>(name: &'static str, value: F, expected: &'static str) -> Error<F> {
    Error::InvalidConfig {
        name,
        value: to_f64(value),
        expected,
    }
}

/// Checks a user-provided point: non-empty and finite.
pub(crate) fn check_point<F: Float>(what: &'static str, x: &[F]) -> Result<(), Error<F>> {
    if x.is_empty() {
        return Err(Error::Empty);
    }
    match x.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(Error::NonFiniteInput { what, index }),
        None => Ok(()),
    }
}
