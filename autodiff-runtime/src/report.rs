//! The outcome of a run.

use std::fmt;

use num_traits::Float;

use crate::error::to_f64;
use crate::StopReason;

/// The result of a whole run (`minimize`): where it ended, the best point
/// seen, how much work it took and why it stopped.
///
/// `Display` prints a short summary.
///
/// # Example
///
/// ```
/// use autodiff_runtime::{Lbfgs, StopReason};
///
/// let report = Lbfgs::new()
///     .minimize(|x: &[f64], g: &mut [f64]| {
///         g[0] = 2.0 * (x[0] - 3.0);
///         (x[0] - 3.0).powi(2)
///     }, &[0.0])
///     .unwrap();
/// assert!(report.converged());
/// assert!((report.x[0] - 3.0).abs() < 1e-9);
/// assert_eq!(report.history.len(), report.iterations + 1);
/// println!("{report}");
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Report<F> {
    /// The final iterate.
    pub x: Vec<F>,
    /// The objective's value at `x`.
    pub value: F,
    /// The Euclidean norm of the gradient at `x`.
    pub grad_norm: F,
    /// The iterate with the lowest value seen (differs from `x` when the
    /// optimiser is not monotone, e.g. momentum or Adam).
    pub best_x: Vec<F>,
    /// The objective's value at `best_x`.
    pub best_value: F,
    /// Iterations (steps) taken.
    pub iterations: usize,
    /// Objective values computed, including line-search trials.
    pub evaluations: usize,
    /// Gradients computed. The objective computes both in one call, so this
    /// equals `evaluations`; it is kept separate to read like other libraries'
    /// reports (argmin, SciPy).
    pub gradient_evaluations: usize,
    /// Why the run ended.
    pub stop_reason: StopReason,
    /// The value at every iterate, starting with the starting point
    /// (`iterations + 1` entries).
    pub history: Vec<F>,
}

impl<F> Report<F> {
    /// `true` when a tolerance or the target stopped the run (gradient norm,
    /// relative change, target value), rather than a budget, the observer or a
    /// failed line search.
    ///
    /// ```
    /// use autodiff_runtime::{GradientDescent, Stop};
    ///
    /// let f = |x: &[f64], g: &mut [f64]| { g[0] = 2.0 * x[0]; x[0] * x[0] };
    /// let short = GradientDescent::new(0.1).with_stop(Stop::new().max_iters(2));
    /// assert!(!short.clone().minimize(f, &[1.0]).unwrap().converged());
    /// assert!(GradientDescent::new(0.1).minimize(f, &[1.0]).unwrap().converged());
    /// ```
    pub fn converged(&self) -> bool {
        matches!(
            self.stop_reason,
            StopReason::GradientNorm | StopReason::RelativeChange | StopReason::TargetValue
        )
    }
}

/// How many coordinates of a point `Display` shows.
const SHOWN: usize = 6;

impl<F: Float> fmt::Display for Report<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "stopped:     {} after {} iterations ({} evaluations)",
            self.stop_reason, self.iterations, self.evaluations
        )?;
        writeln!(f, "value:       {:.6e}", to_f64(self.value))?;
        writeln!(f, "best value:  {:.6e}", to_f64(self.best_value))?;
        writeln!(f, "|gradient|:  {:.3e}", to_f64(self.grad_norm))?;
        writeln!(f, "x:           {}", Point(&self.x))?;
        if self.best_x != self.x {
            writeln!(f, "best x:      {}", Point(&self.best_x))?;
        }
        if let (Some(first), Some(last)) = (self.history.first(), self.history.last()) {
            write!(
                f,
                "history:     {:.6e} -> {:.6e} over {} values",
                to_f64(*first),
                to_f64(*last),
                self.history.len()
            )?;
        }
        Ok(())
    }
}

/// A point printed with at most [`SHOWN`] coordinates.
struct Point<'a, F>(&'a [F]);

impl<F: Float> fmt::Display for Point<'_, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, v) in self.0.iter().take(SHOWN).enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{:.6}", to_f64(*v))?;
        }
        if self.0.len() > SHOWN {
            write!(f, ", … ({} values)", self.0.len())?;
        }
        f.write_str("]")
    }
}
