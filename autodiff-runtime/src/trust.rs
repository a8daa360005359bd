//! Bookkeeping shared by the trust-region and damped solvers (Newton,
//! Newton–CG, Levenberg–Marquardt), which have their own objective shapes and
//! so cannot use `driver::run`: observe, check the stopping rules, record the
//! history, build the report. Same order and semantics as `driver::run`.

use std::ops::ControlFlow;

use num_traits::Float;

use crate::error::to_f64;
use crate::util::{constant, norm};
use crate::{Iteration, Report, Stop, StopReason};

pub(crate) struct Tracker<F> {
    pub iteration: usize,
    history: Vec<F>,
    best_x: Vec<F>,
    best_value: F,
    previous: Option<F>,
}

impl<F: Float> Tracker<F> {
    pub fn new(x: &[F], value: F) -> Self {
        Tracker {
            iteration: 0,
            history: vec![value],
            best_x: x.to_vec(),
            best_value: value,
            previous: None,
        }
    }

    /// Shows the current iterate to the observer, then checks the rules.
    pub fn check<B>(
        &self,
        stop: &Stop<F>,
        x: &[F],
        value: F,
        grad: &[F],
        evaluations: usize,
        observer: &mut B,
    ) -> Option<StopReason>
    where
        B: FnMut(&Iteration<'_, F>) -> ControlFlow<()>,
    {
        let grad_norm = norm(grad);
        let seen = Iteration {
            iteration: self.iteration,
            x,
            value,
            grad,
            grad_norm,
            best_value: self.best_value,
            evaluations,
            max_iters: stop.max_iters,
        };
        if observer(&seen).is_break() {
            return Some(StopReason::Observer);
        }
        stop.check(self.iteration, value, self.previous, grad_norm)
    }

    /// Records an accepted step from a point of value `before` to `x`.
    pub fn moved(&mut self, before: F, x: &[F], value: F) {
        self.iteration += 1;
        self.previous = Some(before);
        self.history.push(value);
        if value < self.best_value {
            self.best_value = value;
            self.best_x.clear();
            self.best_x.extend_from_slice(x);
        }
    }

    pub fn report(
        self,
        x: Vec<F>,
        value: F,
        grad: &[F],
        evaluations: usize,
        stop_reason: StopReason,
    ) -> Report<F> {
        Report {
            grad_norm: norm(grad),
            x,
            value,
            best_x: self.best_x,
            best_value: self.best_value,
            iterations: self.iteration,
            evaluations,
            gradient_evaluations: evaluations,
            stop_reason,
            history: self.history,
        }
    }
}

/// A step of Euclidean length `step_norm` from `x` that is too short to
/// change `x` meaningfully: the trust region (or damping) has collapsed.
pub(crate) fn negligible<F: Float>(step_norm: f64, x: &[F]) -> bool {
    let eps = to_f64(F::epsilon());
    let significant = step_norm > eps * (to_f64(norm(x)) + eps);
    !significant
}

/// `x + step`, in `F`.
pub(crate) fn add_step<F: Float>(x: &[F], step: &[f64], out: &mut Vec<F>) {
    out.clear();
    out.extend(x.iter().zip(step).map(|(&xi, &si)| xi + constant(si)));
}

pub(crate) fn to_f64_vec<F: Float>(v: &[F]) -> Vec<f64> {
    v.iter().map(|&x| to_f64(x)).collect()
}
