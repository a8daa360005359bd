//! The traits every optimiser implements, for code generic over optimisers.

use std::ops::ControlFlow;

use num_traits::Float;

use crate::{Differentiable, Error, Iteration, Report, StructReport};

/// A whole-loop optimiser. Every optimiser in this crate also has these
/// methods as inherent methods, so the trait is only needed for generic code.
///
/// # Example
///
/// ```
/// use autodiff_runtime::{Adam, Lbfgs, Momentum, Optimizer};
///
/// fn solve(opt: &mut impl Optimizer<f64>) -> f64 {
///     let f = |x: &[f64], g: &mut [f64]| { g[0] = 2.0 * (x[0] - 1.0); (x[0] - 1.0).powi(2) };
///     opt.minimize(f, &[0.0]).unwrap().x[0]
/// }
/// assert!((solve(&mut Lbfgs::new()) - 1.0).abs() < 1e-6);
/// assert!((solve(&mut Momentum::new(0.1)) - 1.0).abs() < 1e-6);
/// assert!((solve(&mut Adam::new(0.1)) - 1.0).abs() < 1e-3);
/// ```
pub trait Optimizer<F: Float> {
    /// Minimises `objective` from `x0`, calling `observer` after every
    /// iteration (see [`Iteration`]).
    fn minimize_with<O, B>(
        &mut self,
        objective: O,
        x0: &[F],
        observer: B,
    ) -> Result<Report<F>, Error<F>>
    where
        O: FnMut(&[F], &mut [F]) -> F,
        B: FnMut(&Iteration<'_, F>) -> ControlFlow<()>;

    /// Minimises `objective` from `x0`.
    fn minimize<O>(&mut self, objective: O, x0: &[F]) -> Result<Report<F>, Error<F>>
    where
        O: FnMut(&[F], &mut [F]) -> F,
    {
        self.minimize_with(objective, x0, |_| ControlFlow::Continue(()))
    }

    /// Minimises `objective` over a parameter struct from `x0` (see the
    /// optimisers' inherent `minimize_struct`).
    fn minimize_struct<P, O>(
        &mut self,
        objective: O,
        x0: &P,
    ) -> Result<StructReport<F, P>, Error<F>>
    where
        P: Differentiable<F>,
        O: FnMut(&P, &mut P) -> F,
    {
        let flat = crate::structs::flat_objective(objective, x0);
        let result = self.minimize_with(flat, &x0.to_floats(), |_| ControlFlow::Continue(()));
        crate::structs::struct_report(x0, result)
    }
}

/// A first-order optimiser usable one step at a time, for training loops you
/// write yourself (mini-batches): compute a gradient, then `step`.
///
/// # Example
///
/// ```
/// use autodiff_runtime::{Adam, GradientDescent, GradientStep, Momentum};
///
/// fn train(opt: &mut impl GradientStep<f64>) -> f64 {
///     let mut w = [5.0];
///     for _ in 0..200 {
///         let grad = [2.0 * w[0]];
///         opt.step(&mut w, &grad).unwrap();
///     }
///     w[0]
/// }
/// assert!(train(&mut GradientDescent::new(0.1)).abs() < 1e-6);
/// assert!(train(&mut Momentum::new(0.1).nesterov(true)).abs() < 1e-6);
/// assert!(train(&mut Adam::new(0.1)).abs() < 1e-2);
/// ```
pub trait GradientStep<F: Float> {
    /// Updates `params` in place from `grad` (same length), advancing the
    /// optimiser's state.
    fn step(&mut self, params: &mut [F], grad: &[F]) -> Result<(), Error<F>>;

    /// [`step`](Self::step) over a parameter struct and its gradient.
    fn step_struct<P: Differentiable<F>>(
        &mut self,
        params: &mut P,
        grad: &P,
    ) -> Result<(), Error<F>>
    where
        Self: Sized,
    {
        crate::structs::step_struct(params, grad, |x, g| self.step(x, g))
    }

    /// Forgets the state (velocity, moment estimates), e.g. for a new problem.
    fn reset(&mut self);
}

/// Adds the inherent `with_stop`, `minimize` and `minimize_with` methods and
/// the [`Optimizer`] impl to a type implementing the driver's `Method`; the
/// string is a constructor expression for the doc examples.
macro_rules! impl_optimizer {
    ($ty:ident, $ctor:literal) => {
        impl<F: Float> $ty<F> {
            /// Replaces the stopping rules (default: [`Stop::default`](crate::Stop)).
            ///
            /// ```
            #[doc = concat!("use autodiff_runtime::{", stringify!($ty), ", Stop};")]
            #[doc = concat!("let opt = ", $ctor, ".with_stop(Stop::new().max_iters(10).grad_tol(1e-8));")]
            /// # let _ = opt;
            /// ```
            pub fn with_stop(mut self, stop: crate::Stop<F>) -> Self {
                self.stop = stop;
                self
            }

            /// Minimises `objective` from `x0`; see [`Self::minimize_with`] to
            /// watch the run. The optimiser's state is reset first and left as
            /// the run ends, so `step` can continue from there.
            ///
            /// ```
            #[doc = concat!("use autodiff_runtime::", stringify!($ty), ";")]
            ///
            /// // (x - 1)² + 10 (y + 2)², minimum at (1, -2)
            /// let f = |x: &[f64], g: &mut [f64]| {
            ///     g[0] = 2.0 * (x[0] - 1.0);
            ///     g[1] = 20.0 * (x[1] + 2.0);
            ///     (x[0] - 1.0).powi(2) + 10.0 * (x[1] + 2.0).powi(2)
            /// };
            #[doc = concat!("let report = ", $ctor, ".minimize(f, &[0.0, 0.0]).unwrap();")]
            /// assert!((report.x[0] - 1.0).abs() < 1e-3 && (report.x[1] + 2.0).abs() < 1e-3);
            /// ```
            pub fn minimize<O>(
                &mut self,
                objective: O,
                x0: &[F],
            ) -> Result<crate::Report<F>, crate::Error<F>>
            where
                O: FnMut(&[F], &mut [F]) -> F,
            {
                self.minimize_with(objective, x0, |_| std::ops::ControlFlow::Continue(()))
            }

            /// Minimises `objective` from `x0`, calling `observer` after every
            /// iteration; returning `ControlFlow::Break(())` stops the run.
            ///
            /// ```
            /// use std::ops::ControlFlow;
            #[doc = concat!("use autodiff_runtime::", stringify!($ty), ";")]
            ///
            /// let f = |x: &[f64], g: &mut [f64]| { g[0] = 2.0 * x[0]; x[0] * x[0] };
            #[doc = concat!("let report = ", $ctor, ".minimize_with(f, &[1.0], |it| {")]
            ///     println!("{}: {}", it.iteration, it.value);
            ///     // Good enough: stop early.
            ///     if it.value < 1e-4 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
            /// }).unwrap();
            /// assert!(report.value < 1e-4);
            /// ```
            pub fn minimize_with<O, B>(
                &mut self,
                objective: O,
                x0: &[F],
                observer: B,
            ) -> Result<crate::Report<F>, crate::Error<F>>
            where
                O: FnMut(&[F], &mut [F]) -> F,
                B: FnMut(&crate::Iteration<'_, F>) -> std::ops::ControlFlow<()>,
            {
                let stop = self.stop;
                crate::driver::run(self, &stop, objective, x0, observer)
            }
        }

        impl<F: Float> crate::Optimizer<F> for $ty<F> {
            fn minimize_with<O, B>(
                &mut self,
                objective: O,
                x0: &[F],
                observer: B,
            ) -> Result<crate::Report<F>, crate::Error<F>>
            where
                O: FnMut(&[F], &mut [F]) -> F,
                B: FnMut(&crate::Iteration<'_, F>) -> std::ops::ControlFlow<()>,
            {
                $ty::minimize_with(self, objective, x0, observer)
            }
        }
    };
}

pub(crate) use impl_optimizer;
