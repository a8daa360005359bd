//! Stopping rules ([`Stop`]) and why a run ended ([`StopReason`]).

use std::fmt;

use num_traits::Float;

use crate::error::{check_positive, invalid, Error};
use crate::util::constant;

/// When a run ends. Every enabled rule is checked after each iteration; the
/// first one that holds stops the run and is reported as a [`StopReason`].
///
/// The default is at most 1000 iterations or a gradient norm (Euclidean) of at
/// most `1e-6`. The relative-change and target-value rules are off until set.
/// Values are validated when a run starts: tolerances must be finite and > 0,
/// the target finite.
///
/// # Example
///
/// ```
/// use autodiff_runtime::{GradientDescent, Stop, StopReason};
///
/// let stop = Stop::new().max_iters(10_000).grad_tol(1e-9).rel_tol(1e-12).target(1e-20);
/// let report = GradientDescent::new(0.25)
///     .with_stop(stop)
///     .minimize(|x: &[f64], g: &mut [f64]| { g[0] = 2.0 * x[0]; x[0] * x[0] }, &[3.0])
///     .unwrap();
/// // One step of size 0.25 on x² halves x, so the gradient rule fires first.
/// assert_eq!(report.stop_reason, StopReason::GradientNorm);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct Stop<F> {
    /// Maximum number of iterations (steps). `0` evaluates the starting point only.
    pub max_iters: usize,
    /// Stop when the gradient's Euclidean norm is at most this.
    pub grad_tol: Option<F>,
    /// Stop when `|f_prev - f| <= rel_tol * max(|f_prev|, |f|)` between two
    /// consecutive iterates.
    pub rel_tol: Option<F>,
    /// Stop as soon as the value is at most this.
    pub target: Option<F>,
}

impl<F: Float> Default for Stop<F> {
    fn default() -> Self {
        Stop {
            max_iters: 1000,
            grad_tol: Some(constant(1e-6)),
            rel_tol: None,
            target: None,
        }
    }
}

impl<F: Float> Stop<F> {
    /// The default rules: at most 1000 iterations, gradient norm `<= 1e-6`.
    ///
    /// ```
    /// use autodiff_runtime::Stop;
    /// let stop: Stop<f64> = Stop::new();
    /// assert_eq!((stop.max_iters, stop.grad_tol), (1000, Some(1e-6)));
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the iteration cap.
    ///
    /// ```
    /// use autodiff_runtime::Stop;
    /// assert_eq!(Stop::<f64>::new().max_iters(50).max_iters, 50);
    /// ```
    pub fn max_iters(mut self, max_iters: usize) -> Self {
        self.max_iters = max_iters;
        self
    }

    /// Stops when the gradient norm is at most `tol` (must be finite and > 0).
    ///
    /// ```
    /// use autodiff_runtime::Stop;
    /// assert_eq!(Stop::new().grad_tol(1e-9).grad_tol, Some(1e-9));
    /// ```
    pub fn grad_tol(mut self, tol: F) -> Self {
        self.grad_tol = Some(tol);
        self
    }

    /// Turns the gradient-norm rule off (e.g. for a fixed budget of iterations).
    ///
    /// ```
    /// use autodiff_runtime::Stop;
    /// assert_eq!(Stop::<f32>::new().no_grad_tol().grad_tol, None);
    /// ```
    pub fn no_grad_tol(mut self) -> Self {
        self.grad_tol = None;
        self
    }

    /// Stops when the value changes by at most `tol` relative to its
    /// magnitude between two iterates (must be finite and > 0).
    ///
    /// ```
    /// use autodiff_runtime::Stop;
    /// assert_eq!(Stop::new().rel_tol(1e-10).rel_tol, Some(1e-10));
    /// ```
    pub fn rel_tol(mut self, tol: F) -> Self {
        self.rel_tol = Some(tol);
        self
    }

    /// Stops as soon as the value is at most `target` (must be finite).
    ///
    /// ```
    /// use autodiff_runtime::Stop;
    /// assert_eq!(Stop::new().target(0.01).target, Some(0.01));
    /// ```
    pub fn target(mut self, target: F) -> Self {
        self.target = Some(target);
        self
    }

    pub(crate) fn validate(&self) -> Result<(), Error<F>> {
        if let Some(tol) = self.grad_tol {
            check_positive("grad_tol", tol)?;
        }
        if let Some(tol) = self.rel_tol {
            check_positive("rel_tol", tol)?;
        }
        match self.target {
            Some(target) if !target.is_finite() => {
                Err(invalid("target", target, "a finite number"))
            }
            _ => Ok(()),
        }
    }

    /// The first rule that holds at this iterate, in the order: gradient norm,
    /// target, relative change, iteration cap.
    pub(crate) fn check(
        &self,
        iteration: usize,
        value: F,
        previous: Option<F>,
        grad_norm: F,
    ) -> Option<StopReason> {
        if self.grad_tol.is_some_and(|tol| grad_norm <= tol) {
            return Some(StopReason::GradientNorm);
        }
        if self.target.is_some_and(|target| value <= target) {
            return Some(StopReason::TargetValue);
        }
        if let (Some(tol), Some(previous)) = (self.rel_tol, previous) {
            let scale = previous.abs().max(value.abs());
            if (previous - value).abs() <= tol * scale {
                return Some(StopReason::RelativeChange);
            }
        }
        if iteration >= self.max_iters {
            return Some(StopReason::MaxIterations);
        }
        None
    }
}

/// Why a run ended. See [`Report::converged`](crate::Report::converged) for
/// the reasons that count as convergence.
///
/// # Example
///
/// ```
/// use autodiff_runtime::{Adam, Stop, StopReason};
///
/// let report = Adam::new(0.1)
///     .with_stop(Stop::new().max_iters(3))
///     .minimize(|x: &[f64], g: &mut [f64]| { g[0] = 2.0 * x[0]; x[0] * x[0] }, &[3.0])
///     .unwrap();
/// assert_eq!(report.stop_reason, StopReason::MaxIterations);
/// assert_eq!(report.stop_reason.to_string(), "iteration limit reached");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StopReason {
    /// [`Stop::max_iters`] iterations were taken.
    MaxIterations,
    /// The gradient norm fell to [`Stop::grad_tol`] or below.
    GradientNorm,
    /// The value changed by at most [`Stop::rel_tol`] (relative) in one iteration.
    RelativeChange,
    /// The value reached [`Stop::target`].
    TargetValue,
    /// The observer returned [`ControlFlow::Break`](std::ops::ControlFlow).
    Observer,
    /// L-BFGS's line search found no acceptable step, usually because the
    /// iterate is as good as floating-point precision allows.
    LineSearchFailed,
    /// A trust-region or damped method ([`Newton`](crate::Newton),
    /// [`NewtonCg`](crate::NewtonCg), [`LevenbergMarquardt`](crate::LevenbergMarquardt))
    /// shrank its step to floating-point resolution without finding one that
    /// lowers the value: the iterate is as good as the precision allows.
    NoAcceptableStep,
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StopReason::MaxIterations => "iteration limit reached",
            StopReason::GradientNorm => "gradient norm below tolerance",
            StopReason::RelativeChange => "relative change of the value below tolerance",
            StopReason::TargetValue => "target value reached",
            StopReason::Observer => "stopped by the observer",
            StopReason::LineSearchFailed => "line search found no acceptable step",
            StopReason::NoAcceptableStep => "no step lowers the value at floating-point resolution",
        })
    }
}
