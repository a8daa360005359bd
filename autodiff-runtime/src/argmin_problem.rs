//! Running argmin's solvers on an objective closure.

use std::cell::RefCell;
use std::fmt;

use argmin::core::{CostFunction, Error as ArgminError, Gradient};
use num_traits::Float;

use crate::util::evaluate;

/// Adapts an objective `FnMut(&[F], &mut [F]) -> F` to argmin's
/// [`CostFunction`] and [`Gradient`] for `Vec<F>` parameters, so any argmin
/// solver that needs those (L-BFGS, conjugate gradient, steepest descent,
/// …) can run on it. Requires the `argmin` feature.
///
/// argmin asks for the cost and the gradient in separate calls while the
/// objective computes both at once; the adapter remembers the last point it
/// evaluated, so a cost followed by a gradient at the same point costs one
/// evaluation. (argmin's traits take `&self`, hence interior mutability: the
/// adapter is not `Sync`, so argmin's `rayon` feature cannot use it.)
///
/// # Example
///
/// ```
/// use argmin::core::Executor;
/// use argmin::solver::linesearch::MoreThuenteLineSearch;
/// use argmin::solver::quasinewton::LBFGS;
/// use autodiff_runtime::ArgminProblem;
///
/// let f = |x: &[f64], g: &mut [f64]| {
///     g[0] = 2.0 * (x[0] - 2.0);
///     (x[0] - 2.0).powi(2)
/// };
/// let solver = LBFGS::new(MoreThuenteLineSearch::new(), 5);
/// let result = Executor::new(ArgminProblem::new(f), solver)
///     .configure(|state| state.param(vec![0.0]).max_iters(50))
///     .run()
///     .unwrap();
/// let best = result.state.best_param.unwrap();
/// assert!((best[0] - 2.0).abs() < 1e-6);
/// ```
pub struct ArgminProblem<F, O> {
    objective: RefCell<O>,
    last: RefCell<Option<Evaluated<F>>>,
}

/// The last point evaluated, with its value and gradient.
struct Evaluated<F> {
    x: Vec<F>,
    value: F,
    grad: Vec<F>,
}

impl<F, O> ArgminProblem<F, O>
where
    F: Float,
    O: FnMut(&[F], &mut [F]) -> F,
{
    /// Wraps `objective`.
    ///
    /// ```
    /// use argmin::core::{CostFunction, Gradient};
    /// use autodiff_runtime::ArgminProblem;
    ///
    /// let problem = ArgminProblem::new(|x: &[f64], g: &mut [f64]| { g[0] = 2.0 * x[0]; x[0] * x[0] });
    /// assert_eq!(problem.cost(&vec![3.0]).unwrap(), 9.0);
    /// assert_eq!(problem.gradient(&vec![3.0]).unwrap(), vec![6.0]);
    /// ```
    pub fn new(objective: O) -> Self {
        ArgminProblem {
            objective: RefCell::new(objective),
            last: RefCell::new(None),
        }
    }

    /// Gives the objective back.
    ///
    /// ```
    /// let problem = autodiff_runtime::ArgminProblem::new(|x: &[f64], _g: &mut [f64]| x[0]);
    /// let mut objective = problem.into_inner();
    /// assert_eq!(objective(&[1.0], &mut [0.0]), 1.0);
    /// ```
    pub fn into_inner(self) -> O {
        self.objective.into_inner()
    }

    /// Value and gradient at `x`, from the cache when `x` was the last point.
    fn value_and_gradient(&self, x: &[F]) -> Result<(F, Vec<F>), ArgminError> {
        if let Some(last) = &*self.last.try_borrow()? {
            if last.x.as_slice() == x {
                return Ok((last.value, last.grad.clone()));
            }
        }
        let mut grad = vec![F::zero(); x.len()];
        let value = evaluate(&mut *self.objective.try_borrow_mut()?, x, &mut grad);
        *self.last.try_borrow_mut()? = Some(Evaluated {
            x: x.to_vec(),
            value,
            grad: grad.clone(),
        });
        Ok((value, grad))
    }
}

impl<F, O> CostFunction for ArgminProblem<F, O>
where
    F: Float,
    O: FnMut(&[F], &mut [F]) -> F,
{
    type Param = Vec<F>;
    type Output = F;

    fn cost(&self, param: &Vec<F>) -> Result<F, ArgminError> {
        self.value_and_gradient(param).map(|(value, _)| value)
    }
}

impl<F, O> Gradient for ArgminProblem<F, O>
where
    F: Float,
    O: FnMut(&[F], &mut [F]) -> F,
{
    type Param = Vec<F>;
    type Gradient = Vec<F>;

    fn gradient(&self, param: &Vec<F>) -> Result<Vec<F>, ArgminError> {
        self.value_and_gradient(param).map(|(_, grad)| grad)
    }
}

impl<F, O> fmt::Debug for ArgminProblem<F, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArgminProblem").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use argmin::core::{Executor, State};
    use argmin::solver::linesearch::MoreThuenteLineSearch;
    use argmin::solver::quasinewton::LBFGS;

    use std::cell::Cell;

    use super::*;

    fn rosenbrock(p: &[f64], g: &mut [f64]) -> f64 {
        let (x, y) = (p[0], p[1]);
        g[0] = -2.0 * (1.0 - x) - 400.0 * x * (y - x * x);
        g[1] = 200.0 * (y - x * x);
        (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)
    }

    #[test]
    fn argmin_lbfgs_solves_rosenbrock_through_the_adapter() {
        let solver = LBFGS::new(MoreThuenteLineSearch::new(), 7)
            .with_tolerance_grad(1e-10)
            .unwrap();
        let result = Executor::new(ArgminProblem::new(rosenbrock), solver)
            .configure(|state| state.param(vec![-1.2, 1.0]).max_iters(100))
            .run()
            .unwrap();
        let best = result.state.get_best_param().unwrap();
        assert!((best[0] - 1.0).abs() < 1e-6, "{best:?}");
        assert!((best[1] - 1.0).abs() < 1e-6, "{best:?}");
        assert!(result.state.get_iter() < 100);
    }

    #[test]
    fn a_gradient_at_the_point_just_costed_is_not_recomputed() {
        let calls = Cell::new(0);
        let problem = ArgminProblem::new(|p: &[f64], g: &mut [f64]| {
            calls.set(calls.get() + 1);
            rosenbrock(p, g)
        });
        let x = vec![-1.2, 1.0];
        assert!((problem.cost(&x).unwrap() - 24.2).abs() < 1e-12);
        let mut expected = [0.0; 2];
        rosenbrock(&x, &mut expected);
        assert_eq!(problem.gradient(&x).unwrap(), expected);
        assert_eq!(calls.get(), 1);
        assert_eq!(problem.gradient(&vec![1.0, 1.0]).unwrap(), vec![0.0, 0.0]);
        assert_eq!(calls.get(), 2);
    }
}
