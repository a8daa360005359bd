//! The loop every `minimize` shares: evaluate, observe, check the stopping
//! rules, advance; the optimisers only supply the "advance" part.

use std::ops::ControlFlow;

use num_traits::Float;

use crate::error::{check_point, Error};
use crate::util::{all_finite, evaluate, norm};
use crate::{Iteration, Report, Stop, StopReason};

/// The iterate and what is known about it.
pub(crate) struct Current<F> {
    pub x: Vec<F>,
    pub value: F,
    pub grad: Vec<F>,
    pub evaluations: usize,
    /// The previous iterate, kept while a first-order method moves `x`.
    pub last_x: Vec<F>,
}

impl<F: Float> Current<F> {
    /// Evaluates the objective at `x`; fails if value or gradient is not finite.
    pub fn start<O>(objective: &mut O, x: &[F]) -> Result<Self, Error<F>>
    where
        O: FnMut(&[F], &mut [F]) -> F,
    {
        let mut grad = vec![F::zero(); x.len()];
        let value = evaluate(objective, x, &mut grad);
        if !(value.is_finite() && all_finite(&grad)) {
            return Err(Error::NonFiniteAtStart { value });
        }
        Ok(Current {
            x: x.to_vec(),
            value,
            grad,
            evaluations: 1,
            last_x: Vec::new(),
        })
    }
}

/// What one call of [`Method::advance`] achieved.
pub(crate) enum Advance {
    /// `Current` holds the next iterate.
    Moved,
    /// No acceptable step was found; `Current` is unchanged.
    LineSearchFailed,
}

/// An optimiser as the driver sees it.
pub(crate) trait Method<F: Float> {
    /// Checks the configuration (called before anything is evaluated).
    fn validate(&self) -> Result<(), Error<F>>;
    /// Forgets all state from earlier runs or steps.
    fn reset(&mut self);
    /// Moves `current` to the next iterate. `iteration` is the number of the
    /// iteration being taken, for error reports.
    fn advance<O>(
        &mut self,
        objective: &mut O,
        current: &mut Current<F>,
        iteration: usize,
    ) -> Result<Advance, Error<F>>
    where
        O: FnMut(&[F], &mut [F]) -> F;
}

/// A whole run of `method` from `x0`.
pub(crate) fn run<F, M, O, B>(
    method: &mut M,
    stop: &Stop<F>,
    mut objective: O,
    x0: &[F],
    mut observer: B,
) -> Result<Report<F>, Error<F>>
where
    F: Float,
    M: Method<F>,
    O: FnMut(&[F], &mut [F]) -> F,
    B: FnMut(&Iteration<'_, F>) -> ControlFlow<()>,
{
    method.validate()?;
    stop.validate()?;
    check_point("x0", x0)?;
    method.reset();

    let mut current = Current::start(&mut objective, x0)?;
    let mut history = vec![current.value];
    let mut best_x = current.x.clone();
    let mut best_value = current.value;
    let mut previous = None;
    let mut iteration = 0;

    let stop_reason = loop {
        let grad_norm = norm(&current.grad);
        let seen = Iteration {
            iteration,
            x: &current.x,
            value: current.value,
            grad: &current.grad,
            grad_norm,
            best_value,
            evaluations: current.evaluations,
            max_iters: stop.max_iters,
        };
        if observer(&seen).is_break() {
            break StopReason::Observer;
        }
        if let Some(reason) = stop.check(iteration, current.value, previous, grad_norm) {
            break reason;
        }
        let before = current.value;
        iteration += 1;
        match method.advance(&mut objective, &mut current, iteration)? {
            Advance::Moved => {}
            Advance::LineSearchFailed => {
                iteration -= 1;
                break StopReason::LineSearchFailed;
            }
        }
        previous = Some(before);
        history.push(current.value);
        if current.value < best_value {
            best_value = current.value;
            best_x.clone_from(&current.x);
        }
    };

    Ok(Report {
        grad_norm: norm(&current.grad),
        x: current.x,
        value: current.value,
        best_x,
        best_value,
        iterations: iteration,
        evaluations: current.evaluations,
        gradient_evaluations: current.evaluations,
        stop_reason,
        history,
    })
}

/// The advance of a first-order method: apply `update` (a parameter update
/// from the gradient) and evaluate at the new point.
pub(crate) fn advance_first_order<F, O>(
    objective: &mut O,
    current: &mut Current<F>,
    iteration: usize,
    update: impl FnOnce(&mut [F], &[F]),
) -> Result<Advance, Error<F>>
where
    F: Float,
    O: FnMut(&[F], &mut [F]) -> F,
{
    current.last_x.clone_from(&current.x);
    let last_value = current.value;
    update(&mut current.x, &current.grad);
    current.value = evaluate(objective, &current.x, &mut current.grad);
    current.evaluations += 1;
    if current.value.is_finite() && all_finite(&current.grad) {
        Ok(Advance::Moved)
    } else {
        Err(Error::NonFinite {
            iteration,
            x: std::mem::take(&mut current.last_x),
            value: last_value,
        })
    }
}

/// Checks the arguments of a first-order `step` and sizes `state` buffers
/// (empty buffers are created; others must match).
pub(crate) fn check_step<F: Float>(
    params: &[F],
    grad: &[F],
    state_len: Option<usize>,
) -> Result<(), Error<F>> {
    if params.is_empty() {
        return Err(Error::Empty);
    }
    if grad.len() != params.len() {
        return Err(Error::DimensionMismatch {
            expected: params.len(),
            found: grad.len(),
        });
    }
    if let Some(len) = state_len {
        if len != params.len() {
            return Err(Error::DimensionMismatch {
                expected: len,
                found: params.len(),
            });
        }
    }
    check_point("params", params)?;
    check_point("grad", grad)
}
