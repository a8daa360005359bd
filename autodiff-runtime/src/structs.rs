//! Parameters as [`Differentiable`] structs: the optimisers and the gradient
//! check run on the struct's floats, so user code never flattens by hand.

use std::fmt;
use std::ops::Deref;

use num_traits::Float;

use crate::{Differentiable, Error, Report};

/// The result of a run over a parameter struct (`minimize_struct`): the final
/// and best parameters as structs, and the [`Report`] of the run over their
/// floats (which it dereferences to: `report.value`, `report.converged()`).
///
/// `Display` prints the report.
///
/// # Example
///
/// ```
/// use autodiff_runtime::{Differentiable, Lbfgs, Stop};
///
/// // (a - 1)² + (b₀ + 2)² + (b₁ - 3)², parameters as a tuple
/// let f = |p: &(f64, [f64; 2]), g: &mut (f64, [f64; 2])| {
///     g.0 = 2.0 * (p.0 - 1.0);
///     g.1 = [2.0 * (p.1[0] + 2.0), 2.0 * (p.1[1] - 3.0)];
///     (p.0 - 1.0).powi(2) + (p.1[0] + 2.0).powi(2) + (p.1[1] - 3.0).powi(2)
/// };
/// let report = Lbfgs::new()
///     .with_stop(Stop::new().grad_tol(1e-10))
///     .minimize_struct(f, &(0.0, [0.0, 0.0]))
///     .unwrap();
/// assert!(report.converged());
/// let (a, b) = report.params;
/// assert!((a - 1.0).abs() < 1e-8 && (b[0] + 2.0).abs() < 1e-8 && (b[1] - 3.0).abs() < 1e-8);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct StructReport<F, P> {
    /// The final parameters (the report's `x`).
    pub params: P,
    /// The parameters with the lowest value seen (the report's `best_x`).
    pub best_params: P,
    /// The run, over the struct's floats in declaration order.
    pub report: Report<F>,
}

impl<F, P> Deref for StructReport<F, P> {
    type Target = Report<F>;
    fn deref(&self) -> &Report<F> {
        &self.report
    }
}

impl<F: Float, P> fmt::Display for StructReport<F, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.report.fmt(f)
    }
}

/// A struct of the shape of `template` holding `floats`.
pub(crate) fn from_floats<F: Float, P: Differentiable<F>>(template: &P, floats: &[F]) -> P {
    let mut p = template.zero_like();
    p.read_floats(floats);
    p
}

/// `objective` over structs as an objective over their floats. The gradient
/// struct passed to `objective` is zero on entry, as the slice form's is.
pub(crate) fn flat_objective<'a, F, P, O>(
    mut objective: O,
    template: &P,
) -> impl FnMut(&[F], &mut [F]) -> F + 'a
where
    F: Float + 'a,
    P: Differentiable<F> + 'a,
    O: FnMut(&P, &mut P) -> F + 'a,
{
    let mut point = template.zero_like();
    let mut grad = template.zero_like();
    let zeros = vec![F::zero(); template.float_len()];
    move |x: &[F], g: &mut [F]| {
        point.read_floats(x);
        grad.read_floats(&zeros);
        let value = objective(&point, &mut grad);
        grad.write_floats(g);
        value
    }
}

/// A run's report over floats, with the parameters as structs again.
pub(crate) fn struct_report<F: Float, P: Differentiable<F>>(
    template: &P,
    result: Result<Report<F>, Error<F>>,
) -> Result<StructReport<F, P>, Error<F>> {
    result.map(|report| StructReport {
        params: from_floats(template, &report.x),
        best_params: from_floats(template, &report.best_x),
        report,
    })
}

/// `params ← step(params, grad)` for a first-order `step` over slices.
pub(crate) fn step_struct<F, P>(
    params: &mut P,
    grad: &P,
    step: impl FnOnce(&mut [F], &[F]) -> Result<(), Error<F>>,
) -> Result<(), Error<F>>
where
    F: Float,
    P: Differentiable<F>,
{
    let mut x = params.to_floats();
    let g = grad.to_floats();
    if g.len() != x.len() {
        return Err(Error::DimensionMismatch {
            expected: x.len(),
            found: g.len(),
        });
    }
    step(&mut x, &g)?;
    params.read_floats(&x);
    Ok(())
}

/// Adds `minimize_struct`, `minimize_struct_with` to an optimiser (its
/// `minimize_with` does the work).
macro_rules! impl_struct_minimize {
    ($ty:ident, $ctor:literal) => {
        impl<F: Float> $ty<F> {
            /// Minimises `objective` over a parameter struct from `x0`: as
            /// [`minimize`](Self::minimize), with the parameters and the gradient
            /// as [`Differentiable`](crate::Differentiable) values of one type (a
            /// `#[derive(Differentiable)]` struct, a `Vec`, an array, a tuple). The
            /// gradient passed to `objective` is zero on entry, so a generated
            /// adjoint can accumulate into it:
            /// `|p, g| loss_adjoint(p, g, &data, 1.0)`.
            ///
            /// ```
            #[doc = concat!("use autodiff_runtime::", stringify!($ty), ";")]
            ///
            /// // ‖w − (1, 2)‖² + (b − 3)², parameters `(w, b)`
            /// let f = |p: &(Vec<f64>, f64), g: &mut (Vec<f64>, f64)| {
            ///     g.0[0] = 2.0 * (p.0[0] - 1.0);
            ///     g.0[1] = 2.0 * (p.0[1] - 2.0);
            ///     g.1 = 2.0 * (p.1 - 3.0);
            ///     (p.0[0] - 1.0).powi(2) + (p.0[1] - 2.0).powi(2) + (p.1 - 3.0).powi(2)
            /// };
            #[doc = concat!("let report = ", $ctor, ".minimize_struct(f, &(vec![0.0, 0.0], 0.0)).unwrap();")]
            /// let (w, b) = &report.best_params;
            /// assert!((w[0] - 1.0).abs() < 1e-2 && (w[1] - 2.0).abs() < 1e-2 && (b - 3.0).abs() < 1e-2);
            /// ```
            pub fn minimize_struct<P, O>(
                &mut self,
                objective: O,
                x0: &P,
            ) -> Result<crate::StructReport<F, P>, crate::Error<F>>
            where
                P: crate::Differentiable<F>,
                O: FnMut(&P, &mut P) -> F,
            {
                self.minimize_struct_with(objective, x0, |_| std::ops::ControlFlow::Continue(()))
            }

            /// [`minimize_struct`](Self::minimize_struct) with an observer, which
            /// sees the iterates as the struct's floats (so [`Progress`](crate::Progress)
            /// works unchanged).
            pub fn minimize_struct_with<P, O, B>(
                &mut self,
                objective: O,
                x0: &P,
                observer: B,
            ) -> Result<crate::StructReport<F, P>, crate::Error<F>>
            where
                P: crate::Differentiable<F>,
                O: FnMut(&P, &mut P) -> F,
                B: FnMut(&crate::Iteration<'_, F>) -> std::ops::ControlFlow<()>,
            {
                let flat = crate::structs::flat_objective(objective, x0);
                let result = self.minimize_with(flat, &x0.to_floats(), observer);
                crate::structs::struct_report(x0, result)
            }
        }
    };
}

/// Adds `step_struct` to a first-order optimiser.
macro_rules! impl_struct_step {
    ($ty:ident, $ctor:literal) => {
        impl<F: Float> $ty<F> {
            /// [`step`](Self::step) over a parameter struct and its gradient (a
            /// [`Differentiable`](crate::Differentiable) value of the same type,
            /// such as the one a generated `_grad` returns), for your own
            /// training loop.
            ///
            /// ```
            #[doc = concat!("use autodiff_runtime::", stringify!($ty), ";")]
            ///
            /// let mut params = (vec![1.0_f64, -1.0], 0.5);
            #[doc = concat!("let mut opt = ", $ctor, ";")]
            /// for _ in 0..300 {
            ///     // gradient of ½‖w‖² + ½b²
            ///     let grad = (params.0.clone(), params.1);
            ///     opt.step_struct(&mut params, &grad).unwrap();
            /// }
            /// assert!(params.0[0].abs() < 1e-2 && params.1.abs() < 1e-2);
            /// ```
            pub fn step_struct<P>(
                &mut self,
                params: &mut P,
                grad: &P,
            ) -> Result<(), crate::Error<F>>
            where
                P: crate::Differentiable<F>,
            {
                crate::structs::step_struct(params, grad, |x, g| self.step(x, g))
            }
        }
    };
}

pub(crate) use impl_struct_minimize;
pub(crate) use impl_struct_step;

/// [`check_gradient`](crate::check_gradient) for an objective over a parameter
/// struct: `objective(p, g)` returns the value at `p` and writes (or adds) the
/// gradient into `g`, which is zero on entry. The check's vectors and indices
/// are over the struct's floats in declaration order
/// ([`Differentiable::write_floats`]).
///
/// # Example
///
/// ```
/// use autodiff_runtime::{check_gradient_struct, Differentiable};
///
/// // f(w, b) = b · Σ wᵢ²
/// let f = |p: &(Vec<f64>, f64), g: &mut (Vec<f64>, f64)| {
///     let s: f64 = p.0.iter().map(|w| w * w).sum();
///     for (gi, wi) in g.0.iter_mut().zip(&p.0) {
///         *gi += 2.0 * p.1 * wi;
///     }
///     g.1 += s;
///     p.1 * s
/// };
/// let check = check_gradient_struct(f, &(vec![0.5, -1.0], 2.0)).unwrap();
/// assert!(check.passed(1e-7), "{check}");
/// assert_eq!(check.analytic.len(), 3);
/// ```
pub fn check_gradient_struct<F, P, O>(
    objective: O,
    params: &P,
) -> Result<crate::GradientCheck<F>, Error<F>>
where
    F: Float,
    P: Differentiable<F>,
    O: FnMut(&P, &mut P) -> F,
{
    crate::check_gradient(flat_objective(objective, params), &params.to_floats())
}
