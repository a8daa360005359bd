//! Plain gradient descent with a fixed step.

use num_traits::Float;

use crate::driver::{advance_first_order, check_step, Advance, Current, Method};
use crate::error::{check_positive, Error};
use crate::optimizer::impl_optimizer;
use crate::{GradientStep, Stop};

/// Gradient descent with a fixed learning rate: `x ← x − lr·∇f(x)`.
///
/// Simple and predictable; for ill-conditioned problems prefer [`Momentum`](crate::Momentum),
/// [`Adam`](crate::Adam) or, for smooth deterministic objectives, [`Lbfgs`](crate::Lbfgs).
///
/// # Example
///
/// ```
/// use autodiff_runtime::{GradientDescent, Stop};
///
/// // f(x) = ½‖x − (1, 2)‖², minimum at (1, 2)
/// let f = |x: &[f64], g: &mut [f64]| {
///     g[0] = x[0] - 1.0;
///     g[1] = x[1] - 2.0;
///     0.5 * (g[0] * g[0] + g[1] * g[1])
/// };
/// let report = GradientDescent::new(0.5)
///     .with_stop(Stop::new().grad_tol(1e-10))
///     .minimize(f, &[0.0, 0.0])
///     .unwrap();
/// assert!((report.x[0] - 1.0).abs() < 1e-9 && (report.x[1] - 2.0).abs() < 1e-9);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct GradientDescent<F> {
    learning_rate: F,
    stop: Stop<F>,
}

impl<F: Float> GradientDescent<F> {
    /// Gradient descent with step size `learning_rate` (finite, > 0; checked
    /// when a run or step starts) and the default [`Stop`].
    ///
    /// ```
    /// let opt = autodiff_runtime::GradientDescent::new(0.01_f32);
    /// # let _ = opt;
    /// ```
    pub fn new(learning_rate: F) -> Self {
        GradientDescent {
            learning_rate,
            stop: Stop::default(),
        }
    }

    /// One update `params ← params − lr·grad`, for your own training loop.
    ///
    /// Fails, leaving `params` unchanged, on a bad configuration, empty or
    /// mismatched slices, or non-finite inputs.
    ///
    /// ```
    /// use autodiff_runtime::GradientDescent;
    ///
    /// let mut opt = GradientDescent::new(0.1);
    /// let mut w = [1.0, -2.0];
    /// opt.step(&mut w, &[10.0, -10.0]).unwrap();
    /// assert_eq!(w, [0.0, -1.0]);
    /// ```
    pub fn step(&mut self, params: &mut [F], grad: &[F]) -> Result<(), Error<F>> {
        self.validate()?;
        check_step(params, grad, None)?;
        self.update(params, grad);
        Ok(())
    }

    /// Gradient descent keeps no state; provided for symmetry with the other
    /// optimisers.
    ///
    /// ```
    /// let mut opt = autodiff_runtime::GradientDescent::new(0.1);
    /// opt.reset();
    /// # let _: autodiff_runtime::GradientDescent<f64> = opt;
    /// ```
    pub fn reset(&mut self) {}

    fn update(&self, params: &mut [F], grad: &[F]) {
        for (p, &g) in params.iter_mut().zip(grad) {
            *p = *p - self.learning_rate * g;
        }
    }
}

impl<F: Float> Method<F> for GradientDescent<F> {
    fn validate(&self) -> Result<(), Error<F>> {
        check_positive("learning_rate", self.learning_rate)
    }

    fn reset(&mut self) {}

    fn advance<O>(
        &mut self,
        objective: &mut O,
        current: &mut Current<F>,
        iteration: usize,
    ) -> Result<Advance, Error<F>>
    where
        O: FnMut(&[F], &mut [F]) -> F,
    {
        advance_first_order(objective, current, iteration, |x, g| self.update(x, g))
    }
}

impl<F: Float> GradientStep<F> for GradientDescent<F> {
    fn step(&mut self, params: &mut [F], grad: &[F]) -> Result<(), Error<F>> {
        GradientDescent::step(self, params, grad)
    }

    fn reset(&mut self) {}
}

impl_optimizer!(GradientDescent, "GradientDescent::new(0.04)");
crate::structs::impl_struct_minimize!(GradientDescent, "GradientDescent::new(0.04)");
crate::structs::impl_struct_step!(GradientDescent, "GradientDescent::new(0.1)");
