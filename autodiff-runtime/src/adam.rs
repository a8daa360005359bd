//! Adam: adaptive moment estimation.

use num_traits::Float;

use crate::driver::{advance_first_order, check_step, Advance, Current, Method};
use crate::error::{check_positive, check_unit, Error};
use crate::optimizer::impl_optimizer;
use crate::util::constant;
use crate::{GradientStep, Stop};

/// Adam (Kingma & Ba, 2015) with bias correction:
/// `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`,
/// `x ← x − lr·m̂ / (√v̂ + ε)` with `m̂ = m/(1−β₁ᵗ)`, `v̂ = v/(1−β₂ᵗ)`.
///
/// The moment estimates and the step count `t` are state: they carry over
/// between [`step`](Self::step) calls until [`reset`](Self::reset).
/// Adam's steps are about `lr` in size, so it hovers near a minimum at that
/// scale instead of converging exactly; pair it with a target value, a
/// relative-change rule or an iteration budget rather than a tight gradient
/// tolerance.
///
/// # Example
///
/// ```
/// use autodiff_runtime::{Adam, Stop};
///
/// let f = |x: &[f64], g: &mut [f64]| {
///     g[0] = 2.0 * (x[0] - 3.0);
///     (x[0] - 3.0).powi(2)
/// };
/// let report = Adam::new(0.1)
///     .beta1(0.9)
///     .beta2(0.999)
///     .eps(1e-8)
///     .with_stop(Stop::new().max_iters(500))
///     .minimize(f, &[0.0])
///     .unwrap();
/// assert!((report.best_x[0] - 3.0).abs() < 1e-3);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Adam<F> {
    learning_rate: F,
    beta1: F,
    beta2: F,
    eps: F,
    stop: Stop<F>,
    m: Vec<F>,
    v: Vec<F>,
    t: i32,
}

impl<F: Float> Adam<F> {
    /// Adam with step size `learning_rate` (finite, > 0), β₁ = 0.9,
    /// β₂ = 0.999, ε = 1e-8 and the default [`Stop`].
    ///
    /// ```
    /// let opt = autodiff_runtime::Adam::new(1e-3);
    /// # let _: autodiff_runtime::Adam<f64> = opt;
    /// ```
    pub fn new(learning_rate: F) -> Self {
        Adam {
            learning_rate,
            beta1: constant(0.9),
            beta2: constant(0.999),
            eps: constant(1e-8),
            stop: Stop::default(),
            m: Vec::new(),
            v: Vec::new(),
            t: 0,
        }
    }

    /// Sets β₁, the decay of the first-moment estimate, in `[0, 1)`.
    ///
    /// ```
    /// let opt = autodiff_runtime::Adam::new(1e-3).beta1(0.8);
    /// # let _: autodiff_runtime::Adam<f64> = opt;
    /// ```
    pub fn beta1(mut self, beta1: F) -> Self {
        self.beta1 = beta1;
        self
    }

    /// Sets β₂, the decay of the second-moment estimate, in `[0, 1)`.
    ///
    /// ```
    /// let opt = autodiff_runtime::Adam::new(1e-3).beta2(0.99);
    /// # let _: autodiff_runtime::Adam<f64> = opt;
    /// ```
    pub fn beta2(mut self, beta2: F) -> Self {
        self.beta2 = beta2;
        self
    }

    /// Sets ε, added to the denominator for stability (finite, > 0).
    ///
    /// ```
    /// let opt = autodiff_runtime::Adam::new(1e-3).eps(1e-10);
    /// # let _: autodiff_runtime::Adam<f64> = opt;
    /// ```
    pub fn eps(mut self, eps: F) -> Self {
        self.eps = eps;
        self
    }

    /// One update from `grad`, for your own training loop; the moment
    /// estimates and step count persist between calls.
    ///
    /// Fails, leaving `params` and the state unchanged, on a bad configuration,
    /// empty or mismatched slices (including a length other than the one the
    /// state was built for), or non-finite inputs.
    ///
    /// ```
    /// use autodiff_runtime::Adam;
    ///
    /// let mut opt = Adam::new(0.1);
    /// let mut w = [1.0_f64, 1.0];
    /// opt.step(&mut w, &[4.0, -0.5]).unwrap();
    /// // The first step moves every coordinate by about `lr`, whatever the gradient's scale.
    /// assert!((w[0] - 0.9).abs() < 1e-6 && (w[1] - 1.1).abs() < 1e-6);
    /// ```
    pub fn step(&mut self, params: &mut [F], grad: &[F]) -> Result<(), Error<F>> {
        Method::validate(self)?;
        let state = (!self.m.is_empty()).then_some(self.m.len());
        check_step(params, grad, state)?;
        self.update(params, grad);
        Ok(())
    }

    /// Forgets the moment estimates and the step count.
    ///
    /// ```
    /// let mut opt = autodiff_runtime::Adam::new(0.1);
    /// opt.step(&mut [1.0, 2.0], &[1.0, 1.0]).unwrap();
    /// opt.reset();
    /// opt.step(&mut [1.0], &[1.0]).unwrap(); // a new size is fine after a reset
    /// ```
    pub fn reset(&mut self) {
        self.m.clear();
        self.v.clear();
        self.t = 0;
    }

    fn update(&mut self, params: &mut [F], grad: &[F]) {
        if self.m.len() != params.len() {
            self.m = vec![F::zero(); params.len()];
            self.v = vec![F::zero(); params.len()];
            self.t = 0;
        }
        self.t = self.t.saturating_add(1);
        let (b1, b2) = (self.beta1, self.beta2);
        let correction1 = F::one() - b1.powi(self.t);
        let correction2 = F::one() - b2.powi(self.t);
        let moments = self.m.iter_mut().zip(&mut self.v);
        for ((p, &g), (m, v)) in params.iter_mut().zip(grad).zip(moments) {
            *m = b1 * *m + (F::one() - b1) * g;
            *v = b2 * *v + (F::one() - b2) * g * g;
            let m_hat = *m / correction1;
            let v_hat = *v / correction2;
            *p = *p - self.learning_rate * m_hat / (v_hat.sqrt() + self.eps);
        }
    }
}

impl<F: Float> Method<F> for Adam<F> {
    fn validate(&self) -> Result<(), Error<F>> {
        check_positive("learning_rate", self.learning_rate)?;
        check_unit("beta1", self.beta1)?;
        check_unit("beta2", self.beta2)?;
        check_positive("eps", self.eps)
    }

    fn reset(&mut self) {
        Adam::reset(self);
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

impl<F: Float> GradientStep<F> for Adam<F> {
    fn step(&mut self, params: &mut [F], grad: &[F]) -> Result<(), Error<F>> {
        Adam::step(self, params, grad)
    }

    fn reset(&mut self) {
        Adam::reset(self);
    }
}

impl_optimizer!(Adam, "Adam::new(0.05)");
crate::structs::impl_struct_minimize!(Adam, "Adam::new(0.05)");
crate::structs::impl_struct_step!(Adam, "Adam::new(0.05)");
