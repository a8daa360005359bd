//! Gradient descent with (heavy-ball or Nesterov) momentum.

use num_traits::Float;

use crate::driver::{advance_first_order, check_step, Advance, Current, Method};
use crate::error::{check_positive, check_unit, Error};
use crate::optimizer::impl_optimizer;
use crate::util::constant;
use crate::{GradientStep, Stop};

/// Gradient descent with momentum, in PyTorch's `SGD(momentum=μ)` form:
/// `v ← μ·v + ∇f(x)`, then `x ← x − lr·v`, or with Nesterov momentum
/// `x ← x − lr·(∇f(x) + μ·v)`.
///
/// The velocity `v` is state: it carries over between [`step`](Self::step)
/// calls until [`reset`](Self::reset).
///
/// # Example
///
/// ```
/// use autodiff_runtime::Momentum;
///
/// // An ill-conditioned quadratic: x² + 100 y²
/// let f = |x: &[f64], g: &mut [f64]| {
///     g[0] = 2.0 * x[0];
///     g[1] = 200.0 * x[1];
///     x[0] * x[0] + 100.0 * x[1] * x[1]
/// };
/// let report = Momentum::new(0.005).momentum(0.9).nesterov(true).minimize(f, &[1.0, 1.0]).unwrap();
/// assert!(report.converged());
/// assert!(report.x[0].abs() < 1e-6);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Momentum<F> {
    learning_rate: F,
    momentum: F,
    nesterov: bool,
    stop: Stop<F>,
    velocity: Vec<F>,
}

impl<F: Float> Momentum<F> {
    /// Momentum with step size `learning_rate` (finite, > 0), momentum 0.9,
    /// heavy-ball (not Nesterov) form and the default [`Stop`].
    ///
    /// ```
    /// let opt = autodiff_runtime::Momentum::new(0.01);
    /// # let _: autodiff_runtime::Momentum<f64> = opt;
    /// ```
    pub fn new(learning_rate: F) -> Self {
        Momentum {
            learning_rate,
            momentum: constant(0.9),
            nesterov: false,
            stop: Stop::default(),
            velocity: Vec::new(),
        }
    }

    /// Sets the momentum coefficient μ, in `[0, 1)` (`0` is plain gradient descent).
    ///
    /// ```
    /// let opt = autodiff_runtime::Momentum::new(0.01).momentum(0.5);
    /// # let _: autodiff_runtime::Momentum<f64> = opt;
    /// ```
    pub fn momentum(mut self, momentum: F) -> Self {
        self.momentum = momentum;
        self
    }

    /// Uses Nesterov's accelerated form.
    ///
    /// ```
    /// let opt = autodiff_runtime::Momentum::new(0.01).nesterov(true);
    /// # let _: autodiff_runtime::Momentum<f64> = opt;
    /// ```
    pub fn nesterov(mut self, nesterov: bool) -> Self {
        self.nesterov = nesterov;
        self
    }

    /// One update from `grad`, for your own training loop; the velocity
    /// persists between calls.
    ///
    /// Fails, leaving `params` and the state unchanged, on a bad configuration,
    /// empty or mismatched slices (including a length other than the one the
    /// state was built for), or non-finite inputs.
    ///
    /// ```
    /// use autodiff_runtime::Momentum;
    ///
    /// let mut opt = Momentum::new(0.1).momentum(0.5);
    /// let mut w = [0.0_f64];
    /// opt.step(&mut w, &[1.0]).unwrap(); // v = 1,   w = -0.1
    /// opt.step(&mut w, &[1.0]).unwrap(); // v = 1.5, w = -0.25
    /// assert!((w[0] + 0.25).abs() < 1e-12);
    /// ```
    pub fn step(&mut self, params: &mut [F], grad: &[F]) -> Result<(), Error<F>> {
        Method::validate(self)?;
        let state = (!self.velocity.is_empty()).then_some(self.velocity.len());
        check_step(params, grad, state)?;
        self.update(params, grad);
        Ok(())
    }

    /// Forgets the velocity.
    ///
    /// ```
    /// let mut opt = autodiff_runtime::Momentum::new(0.1);
    /// opt.step(&mut [1.0, 2.0], &[1.0, 1.0]).unwrap();
    /// opt.reset();
    /// opt.step(&mut [1.0], &[1.0]).unwrap(); // a new size is fine after a reset
    /// ```
    pub fn reset(&mut self) {
        self.velocity.clear();
    }

    fn update(&mut self, params: &mut [F], grad: &[F]) {
        if self.velocity.len() != params.len() {
            self.velocity = vec![F::zero(); params.len()];
        }
        let (lr, mu) = (self.learning_rate, self.momentum);
        for ((p, &g), v) in params.iter_mut().zip(grad).zip(&mut self.velocity) {
            *v = mu * *v + g;
            let direction = if self.nesterov { g + mu * *v } else { *v };
            *p = *p - lr * direction;
        }
    }
}

impl<F: Float> Method<F> for Momentum<F> {
    fn validate(&self) -> Result<(), Error<F>> {
        check_positive("learning_rate", self.learning_rate)?;
        check_unit("momentum", self.momentum)
    }

    fn reset(&mut self) {
        Momentum::reset(self);
    }

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

impl<F: Float> GradientStep<F> for Momentum<F> {
    fn step(&mut self, params: &mut [F], grad: &[F]) -> Result<(), Error<F>> {
        Momentum::step(self, params, grad)
    }

    fn reset(&mut self) {
        Momentum::reset(self);
    }
}

impl_optimizer!(Momentum, "Momentum::new(0.02)");
crate::structs::impl_struct_minimize!(Momentum, "Momentum::new(0.02)");
crate::structs::impl_struct_step!(Momentum, "Momentum::new(0.05)");
