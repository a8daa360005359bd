//! Newton's method with a trust region: [`Newton`] over a dense Hessian
//! (exact subproblem by eigendecomposition), [`NewtonCg`] over
//! Hessian-vector products (Steihaug–Toint truncated conjugate gradients).

use std::ops::ControlFlow;

use nalgebra::{DMatrix, DVector};
use num_traits::Float;

use crate::error::{check_point, check_positive, invalid, to_f64, Error};
use crate::structs::struct_report;
use crate::trust::{negligible, to_f64_vec, Tracker};
use crate::util::{all_finite, constant, dot, norm};
use crate::{Differentiable, Iteration, Report, Stop, StopReason, StructReport};

/// The trust-region settings both Newton forms share.
#[derive(Clone, Copy, Debug)]
struct Region<F> {
    initial_radius: F,
    max_radius: F,
    eta: F,
}

impl<F: Float> Region<F> {
    fn new() -> Self {
        Region {
            initial_radius: F::one(),
            max_radius: constant(1e4),
            eta: constant(0.15),
        }
    }

    fn validate(&self) -> Result<(), Error<F>> {
        check_positive("initial_radius", self.initial_radius)?;
        check_positive("max_radius", self.max_radius)?;
        let ordered = self.max_radius >= self.initial_radius;
        if !ordered {
            return Err(invalid(
                "max_radius",
                self.max_radius,
                "a finite number >= initial_radius",
            ));
        }
        if !(self.eta >= F::zero() && self.eta < constant(0.25)) {
            return Err(invalid("eta", self.eta, "a number in [0, 0.25)"));
        }
        Ok(())
    }
}

/// What the trust-region loop needs from a second-order model.
trait Model<F: Float> {
    /// Evaluates value and gradient (and whatever curvature the model keeps)
    /// at `x` into the trial slot; returns the value and whether everything
    /// is finite.
    fn evaluate(&mut self, x: &[F], grad: &mut [F]) -> (F, bool);
    /// The trial slot becomes the current point's.
    fn accept(&mut self);
    /// An approximate minimiser `p` of `gᵀp + ½pᵀHp` over `‖p‖ ≤ radius` at
    /// the current point; returns the predicted decrease, or `None` if the
    /// curvature there is not finite.
    fn step(&mut self, x: &[F], grad: &[F], radius: F, p: &mut Vec<F>) -> Option<F>;
    /// Objective calls made by `step` so far.
    fn extra_calls(&self) -> usize;
}

/// The basic trust-region algorithm (Nocedal & Wright, algorithm 4.1).
fn run<F, M, B>(
    model: &mut M,
    region: &Region<F>,
    stop: &Stop<F>,
    x0: &[F],
    mut observer: B,
) -> Result<Report<F>, Error<F>>
where
    F: Float,
    M: Model<F>,
    B: FnMut(&Iteration<'_, F>) -> ControlFlow<()>,
{
    region.validate()?;
    stop.validate()?;
    check_point("x0", x0)?;
    let n = x0.len();
    let mut x = x0.to_vec();
    let mut grad = vec![F::zero(); n];
    let (mut value, finite) = model.evaluate(&x, &mut grad);
    if !finite {
        return Err(Error::NonFiniteAtStart { value });
    }
    model.accept();
    let mut calls = 1;
    let mut tracker = Tracker::new(&x, value);
    let mut radius = region.initial_radius;
    let (mut p, mut x_trial, mut grad_trial) = (Vec::new(), vec![F::zero(); n], vec![F::zero(); n]);
    let quarter: F = constant(0.25);

    let stop_reason = loop {
        let evaluations = calls + model.extra_calls();
        if let Some(reason) = tracker.check(stop, &x, value, &grad, evaluations, &mut observer) {
            break reason;
        }
        let mut saw_non_finite = false;
        let accepted = loop {
            let Some(predicted) = model.step(&x, &grad, radius, &mut p) else {
                return Err(Error::NonFinite {
                    iteration: tracker.iteration + 1,
                    x,
                    value,
                });
            };
            let step_norm = norm(&p);
            if negligible(to_f64(step_norm), &x) {
                break None;
            }
            let decrease_predicted = predicted > F::zero();
            if !decrease_predicted {
                // Rounding at a (near-)stationary point: try a shorter step.
                radius = quarter * step_norm;
                continue;
            }
            for ((xt, &xi), &pi) in x_trial.iter_mut().zip(&x).zip(&p) {
                *xt = xi + pi;
            }
            let (trial_value, finite) = model.evaluate(&x_trial, &mut grad_trial);
            calls += 1;
            if !finite {
                // Too far: shrink, as a line search would.
                saw_non_finite = true;
                radius = quarter * step_norm;
                continue;
            }
            let rho = (value - trial_value) / predicted;
            let good = rho >= quarter;
            if !good {
                radius = quarter * step_norm;
            } else if rho > constant(0.75) && step_norm >= constant::<F>(0.99) * radius {
                radius = (radius + radius).min(region.max_radius);
            }
            if rho > region.eta && trial_value < value {
                break Some(trial_value);
            }
            // Near the minimum the value stops resolving the decrease while
            // the gradient could still be polished: take a step that changes
            // the value by no more than rounding and lowers the gradient.
            let noise = constant::<F>(8.0 * (n as f64).sqrt()) * F::epsilon() * value.abs();
            if predicted <= noise && trial_value <= value + noise && norm(&grad_trial) < norm(&grad)
            {
                break Some(trial_value);
            }
        };
        let Some(trial_value) = accepted else {
            if saw_non_finite {
                return Err(Error::NonFinite {
                    iteration: tracker.iteration + 1,
                    x,
                    value,
                });
            }
            break StopReason::NoAcceptableStep;
        };
        let before = value;
        value = trial_value;
        std::mem::swap(&mut x, &mut x_trial);
        std::mem::swap(&mut grad, &mut grad_trial);
        model.accept();
        tracker.moved(before, &x, value);
    };
    let evaluations = calls + model.extra_calls();
    Ok(tracker.report(x, value, &grad, evaluations, stop_reason))
}

/// Adds the trust-region builder methods shared by both Newton forms.
macro_rules! region_builders {
    ($ty:ident) => {
        impl<F: Float> $ty<F> {
            /// The first trust-region radius (finite, > 0; default 1).
            ///
            /// ```
            #[doc = concat!("let opt = autodiff_runtime::", stringify!($ty), "::new().initial_radius(0.1);")]
            #[doc = concat!("# let _: autodiff_runtime::", stringify!($ty), "<f64> = opt;")]
            /// ```
            pub fn initial_radius(mut self, radius: F) -> Self {
                self.region.initial_radius = radius;
                self
            }

            /// The largest radius the region may grow to (finite, at least the
            /// initial radius; default `1e4`).
            ///
            /// ```
            #[doc = concat!("let opt = autodiff_runtime::", stringify!($ty), "::new().max_radius(100.0);")]
            #[doc = concat!("# let _: autodiff_runtime::", stringify!($ty), "<f64> = opt;")]
            /// ```
            pub fn max_radius(mut self, radius: F) -> Self {
                self.region.max_radius = radius;
                self
            }

            /// A step is accepted when the actual decrease is more than `eta`
            /// times the model's prediction; `eta` in `[0, 0.25)`, default
            /// `0.15` (as SciPy's trust-region methods).
            ///
            /// ```
            #[doc = concat!("let opt = autodiff_runtime::", stringify!($ty), "::new().eta(0.0);")]
            #[doc = concat!("# let _: autodiff_runtime::", stringify!($ty), "<f64> = opt;")]
            /// ```
            pub fn eta(mut self, eta: F) -> Self {
                self.region.eta = eta;
                self
            }

            /// Replaces the stopping rules (default: [`Stop::default`]).
            ///
            /// ```
            #[doc = concat!("use autodiff_runtime::{", stringify!($ty), ", Stop};")]
            #[doc = concat!("let opt = ", stringify!($ty), "::new().with_stop(Stop::new().max_iters(50).grad_tol(1e-10));")]
            #[doc = concat!("# let _: ", stringify!($ty), "<f64> = opt;")]
            /// ```
            pub fn with_stop(mut self, stop: Stop<F>) -> Self {
                self.stop = stop;
                self
            }
        }

        impl<F: Float> Default for $ty<F> {
            fn default() -> Self {
                Self::new()
            }
        }
    };
}

/// Newton's method with a trust region over a dense Hessian.
///
/// The objective is `FnMut(&[F], &mut [F], &mut [F]) -> F`: given `x`
/// (length n) it returns the value and writes the gradient and the row-major
/// n×n Hessian (both zeroed before each call, so an accumulating generated
/// `f_hessian` can write straight into them; the Hessian is symmetrised).
///
/// Each iteration solves the trust-region subproblem
/// `min gᵀp + ½pᵀHp, ‖p‖ ≤ Δ` exactly (Moré & Sorensen's characterisation,
/// solved in the Hessian's eigenbasis): the Newton step when H is positive
/// definite and the step fits (tried first by Cholesky), otherwise the
/// regularised step `(H + λI)p = −g` with `λ ≥ max(0, −λ_min)` on the
/// boundary, including the "hard case" of an indefinite H whose lowest
/// eigenvector is orthogonal to g. So saddle points and indefinite regions
/// are left along negative curvature instead of being attracted to. The
/// radius follows Nocedal & Wright's algorithm 4.1; only accepted steps count
/// as iterations. The linear algebra (nalgebra) runs in `f64` and costs
/// O(n³) per iteration: for large n use [`NewtonCg`].
///
/// Stopping rules, [`Report`], errors and observer are those of the other
/// optimisers; a trial point that is not finite shrinks the region, and
/// [`Error::NonFinite`] (keeping the last finite point) is returned only when
/// no finite acceptable point is found. A region shrunk to floating-point
/// resolution ends the run with [`StopReason::NoAcceptableStep`].
///
/// # Example
///
/// ```
/// use autodiff_runtime::{Newton, Stop};
///
/// // Rosenbrock: (1 − x)² + 100 (y − x²)²
/// let rosenbrock = |p: &[f64], g: &mut [f64], h: &mut [f64]| {
///     let (x, y) = (p[0], p[1]);
///     g[0] = -2.0 * (1.0 - x) - 400.0 * x * (y - x * x);
///     g[1] = 200.0 * (y - x * x);
///     h.copy_from_slice(&[2.0 - 400.0 * (y - 3.0 * x * x), -400.0 * x, -400.0 * x, 200.0]);
///     (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)
/// };
/// let report = Newton::new()
///     .with_stop(Stop::new().grad_tol(1e-10))
///     .minimize(rosenbrock, &[-1.2, 1.0])
///     .unwrap();
/// assert!(report.converged());
/// assert!((report.x[0] - 1.0).abs() < 1e-9 && (report.x[1] - 1.0).abs() < 1e-9);
/// assert!(report.iterations <= 30);
/// ```
#[derive(Clone, Debug)]
pub struct Newton<F> {
    region: Region<F>,
    stop: Stop<F>,
}

region_builders!(Newton);

impl<F: Float> Newton<F> {
    /// Newton with initial radius 1, maximal radius `1e4`, `eta = 0.15` and
    /// the default [`Stop`].
    ///
    /// ```
    /// let opt = autodiff_runtime::Newton::<f64>::new();
    /// # let _ = opt;
    /// ```
    pub fn new() -> Self {
        Newton {
            region: Region::new(),
            stop: Stop::default(),
        }
    }

    /// Minimises `objective` (value, gradient, Hessian) from `x0`; see
    /// [`minimize_with`](Self::minimize_with) to watch the run.
    ///
    /// ```
    /// use autodiff_runtime::Newton;
    ///
    /// // A quadratic: one Newton step lands on the minimum (1, −2).
    /// let f = |x: &[f64], g: &mut [f64], h: &mut [f64]| {
    ///     g[0] = 2.0 * (x[0] - 1.0);
    ///     g[1] = 20.0 * (x[1] + 2.0);
    ///     h[0] = 2.0;
    ///     h[3] = 20.0;
    ///     (x[0] - 1.0).powi(2) + 10.0 * (x[1] + 2.0).powi(2)
    /// };
    /// let report = Newton::new().initial_radius(10.0).minimize(f, &[0.0, 0.0]).unwrap();
    /// assert_eq!(report.iterations, 1);
    /// assert!((report.x[0] - 1.0).abs() < 1e-12 && (report.x[1] + 2.0).abs() < 1e-12);
    /// ```
    pub fn minimize<O>(&self, objective: O, x0: &[F]) -> Result<Report<F>, Error<F>>
    where
        O: FnMut(&[F], &mut [F], &mut [F]) -> F,
    {
        self.minimize_with(objective, x0, |_| ControlFlow::Continue(()))
    }

    /// Minimises `objective` from `x0`, calling `observer` with every
    /// accepted iterate; returning `ControlFlow::Break(())` stops the run.
    ///
    /// ```
    /// use std::ops::ControlFlow;
    /// use autodiff_runtime::{Newton, StopReason};
    ///
    /// // x⁴ − x² has a maximum at 0: Newton leaves it along negative curvature.
    /// let f = |x: &[f64], g: &mut [f64], h: &mut [f64]| {
    ///     g[0] = 4.0 * x[0].powi(3) - 2.0 * x[0];
    ///     h[0] = 12.0 * x[0] * x[0] - 2.0;
    ///     x[0].powi(4) - x[0] * x[0]
    /// };
    /// let mut seen = 0;
    /// let report = Newton::new()
    ///     .minimize_with(f, &[1e-3], |_| { seen += 1; ControlFlow::Continue(()) })
    ///     .unwrap();
    /// assert_eq!(report.stop_reason, StopReason::GradientNorm);
    /// assert!((report.x[0].abs() - 0.5f64.sqrt()).abs() < 1e-6);
    /// assert_eq!(seen, report.iterations + 1);
    /// ```
    pub fn minimize_with<O, B>(
        &self,
        objective: O,
        x0: &[F],
        observer: B,
    ) -> Result<Report<F>, Error<F>>
    where
        O: FnMut(&[F], &mut [F], &mut [F]) -> F,
        B: FnMut(&Iteration<'_, F>) -> ControlFlow<()>,
    {
        let n = x0.len();
        let mut model = Dense {
            objective,
            hessian: vec![F::zero(); n * n],
            trial: vec![F::zero(); n * n],
        };
        run(&mut model, &self.region, &self.stop, x0, observer)
    }
}

impl<F: Float> Newton<F> {
    /// Minimises over a parameter struct from `x0`: as
    /// [`minimize`](Self::minimize), with the parameters and the gradient as
    /// [`Differentiable`] values of one type and the Hessian dense over the
    /// struct's floats in declaration order — the shape of the `f_hessian`
    /// that `#[differentiate(order = 2)]` generates for a struct parameter.
    /// The gradient and the Hessian are zero on entry.
    ///
    /// ```
    /// use autodiff_runtime::{Newton, Stop};
    ///
    /// // (a − 1)² + 10 (b₀ + a b₁)² + (b₁ − 2)², parameters `(a, [b₀, b₁])`
    /// let f = |p: &(f64, [f64; 2]), g: &mut (f64, [f64; 2]), h: &mut [f64]| {
    ///     let (a, [b0, b1]) = *p;
    ///     let r = b0 + a * b1;
    ///     *g = (2.0 * (a - 1.0) + 20.0 * r * b1, [20.0 * r, 20.0 * r * a + 2.0 * (b1 - 2.0)]);
    ///     h.copy_from_slice(&[
    ///         2.0 + 20.0 * b1 * b1, 20.0 * b1, 20.0 * (a * b1 + r),
    ///         20.0 * b1, 20.0, 20.0 * a,
    ///         20.0 * (a * b1 + r), 20.0 * a, 20.0 * a * a + 2.0,
    ///     ]);
    ///     (a - 1.0).powi(2) + 10.0 * r * r + (b1 - 2.0).powi(2)
    /// };
    /// let report = Newton::new()
    ///     .with_stop(Stop::new().grad_tol(1e-10))
    ///     .minimize_struct(f, &(0.0, [0.0, 0.0]))
    ///     .unwrap();
    /// assert!(report.converged());
    /// let (a, b) = report.params;
    /// assert!((a - 1.0).abs() < 1e-8 && (b[0] + 2.0).abs() < 1e-8 && (b[1] - 2.0).abs() < 1e-8);
    /// ```
    pub fn minimize_struct<P, O>(
        &self,
        mut objective: O,
        x0: &P,
    ) -> Result<StructReport<F, P>, Error<F>>
    where
        P: Differentiable<F>,
        O: FnMut(&P, &mut P, &mut [F]) -> F,
    {
        let mut point = x0.zero_like();
        let mut grad = x0.zero_like();
        let zeros = vec![F::zero(); x0.float_len()];
        let flat = |x: &[F], g: &mut [F], h: &mut [F]| {
            point.read_floats(x);
            grad.read_floats(&zeros);
            h.fill(F::zero());
            let value = objective(&point, &mut grad, h);
            grad.write_floats(g);
            value
        };
        let result = self.minimize(flat, &x0.to_floats());
        struct_report(x0, result)
    }
}

impl<F: Float> NewtonCg<F> {
    /// Minimises over a parameter struct from `x0`: as
    /// [`minimize`](Self::minimize), with the parameters, the direction, the
    /// gradient and `H·v` as [`Differentiable`] values of one type — the shape
    /// of the `f_hvp` that `#[differentiate(order = 2)]` generates for a struct
    /// parameter. The gradient and `H·v` are zero on entry.
    ///
    /// ```
    /// use autodiff_runtime::{NewtonCg, Stop};
    ///
    /// // Σ (i + 1)·wᵢ² + (b − 3)², parameters `(w, b)`
    /// let f = |p: &(Vec<f64>, f64), v: &(Vec<f64>, f64), g: &mut (Vec<f64>, f64), hv: &mut (Vec<f64>, f64)| {
    ///     let mut value = (p.1 - 3.0).powi(2);
    ///     for i in 0..p.0.len() {
    ///         let c = (i + 1) as f64;
    ///         value += c * p.0[i] * p.0[i];
    ///         g.0[i] = 2.0 * c * p.0[i];
    ///         hv.0[i] = 2.0 * c * v.0[i];
    ///     }
    ///     g.1 = 2.0 * (p.1 - 3.0);
    ///     hv.1 = 2.0 * v.1;
    ///     value
    /// };
    /// let report = NewtonCg::new()
    ///     .with_stop(Stop::new().grad_tol(1e-10))
    ///     .minimize_struct(f, &(vec![1.0, -1.0], 0.0))
    ///     .unwrap();
    /// let (w, b) = &report.params;
    /// assert!(w.iter().all(|x| x.abs() < 1e-8) && (b - 3.0).abs() < 1e-8);
    /// ```
    pub fn minimize_struct<P, O>(
        &self,
        mut objective: O,
        x0: &P,
    ) -> Result<StructReport<F, P>, Error<F>>
    where
        P: Differentiable<F>,
        O: FnMut(&P, &P, &mut P, &mut P) -> F,
    {
        let mut point = x0.zero_like();
        let mut dir = x0.zero_like();
        let mut grad = x0.zero_like();
        let mut hv = x0.zero_like();
        let zeros = vec![F::zero(); x0.float_len()];
        let flat = |x: &[F], v: &[F], g: &mut [F], h: &mut [F]| {
            point.read_floats(x);
            dir.read_floats(v);
            grad.read_floats(&zeros);
            hv.read_floats(&zeros);
            let value = objective(&point, &dir, &mut grad, &mut hv);
            grad.write_floats(g);
            hv.write_floats(h);
            value
        };
        let result = self.minimize(flat, &x0.to_floats());
        struct_report(x0, result)
    }
}

struct Dense<O, F> {
    objective: O,
    hessian: Vec<F>,
    trial: Vec<F>,
}

impl<F, O> Model<F> for Dense<O, F>
where
    F: Float,
    O: FnMut(&[F], &mut [F], &mut [F]) -> F,
{
    fn evaluate(&mut self, x: &[F], grad: &mut [F]) -> (F, bool) {
        grad.fill(F::zero());
        self.trial.fill(F::zero());
        let value = (self.objective)(x, grad, &mut self.trial);
        let finite = value.is_finite() && all_finite(grad) && all_finite(&self.trial);
        (value, finite)
    }

    fn accept(&mut self) {
        std::mem::swap(&mut self.hessian, &mut self.trial);
    }

    fn step(&mut self, _x: &[F], grad: &[F], radius: F, p: &mut Vec<F>) -> Option<F> {
        let n = grad.len();
        let h = DMatrix::from_row_slice(n, n, &to_f64_vec(&self.hessian));
        let h = (&h + h.transpose()) * 0.5;
        let g = DVector::from_vec(to_f64_vec(grad));
        let step = subproblem(&h, &g, to_f64(radius));
        // Predicted decrease −(gᵀp + ½ pᵀHp).
        let predicted = -(g.dot(&step) + 0.5 * step.dot(&(&h * &step)));
        p.clear();
        p.extend(step.iter().map(|&v| constant::<F>(v)));
        Some(constant(predicted))
    }

    fn extra_calls(&self) -> usize {
        0
    }
}

/// The exact trust-region step: argmin of `gᵀp + ½pᵀHp` over `‖p‖ ≤ delta`
/// for symmetric `h` (Nocedal & Wright, theorem 4.1 and §4.3).
fn subproblem(h: &DMatrix<f64>, g: &DVector<f64>, delta: f64) -> DVector<f64> {
    if let Some(cholesky) = h.clone().cholesky() {
        let p = cholesky.solve(&(-g));
        if p.norm() <= delta && p.iter().all(|v| v.is_finite()) {
            return p;
        }
    }
    let n = g.len();
    let eigen = h.clone().symmetric_eigen();
    let (q, lam) = (&eigen.eigenvectors, &eigen.eigenvalues);
    let gt = q.tr_mul(g);
    let lmin = lam.min();
    let scale = lam.amax().max(f64::MIN_POSITIVE);
    let tol = scale * f64::EPSILON * (n as f64) * 10.0;
    let lo = (-lmin).max(0.0);
    let bottom: Vec<bool> = lam.iter().map(|&l| l - lmin <= tol).collect();
    let g_norm = g.norm();
    // p(λ) = −(H + λI)⁻¹g, optionally without the lowest eigenspace's components.
    let p_of = |lambda: f64, skip_bottom: bool| -> DVector<f64> {
        let coeffs = DVector::from_iterator(
            n,
            (0..n).map(|i| {
                if skip_bottom && bottom[i] {
                    0.0
                } else {
                    -gt[i] / (lam[i] + lambda)
                }
            }),
        );
        q * coeffs
    };
    let singular_at_lo = lmin + lo <= tol;
    if !singular_at_lo {
        let p = p_of(0.0, false);
        if p.norm() <= delta {
            return p;
        }
    } else {
        let g_bottom = (0..n)
            .filter(|&i| bottom[i])
            .map(|i| gt[i] * gt[i])
            .sum::<f64>()
            .sqrt();
        if g_bottom <= 1e-10 * g_norm.max(f64::MIN_POSITIVE) {
            // The hard case: g (nearly) orthogonal to the lowest eigenspace.
            let p = p_of(lo, true);
            let rest = p.norm();
            if rest <= delta {
                let i0 = (0..n).find(|&i| bottom[i]).unwrap_or(0);
                let tau = (delta * delta - rest * rest).max(0.0).sqrt();
                return p + q.column(i0) * tau;
            }
        }
    }
    // ‖p(λ)‖ = Δ on (lo, lo + ‖g‖/Δ]: safeguarded Newton (Moré–Sorensen) with bisection.
    let norms = |lambda: f64| -> (f64, f64) {
        let (mut p2, mut q2) = (0.0, 0.0);
        for i in 0..n {
            let d = lam[i] + lambda;
            p2 += gt[i] * gt[i] / (d * d);
            q2 += gt[i] * gt[i] / (d * d * d);
        }
        (p2.sqrt(), q2)
    };
    let (mut a, mut b) = (lo, lo + g_norm / delta + tol.max(f64::MIN_POSITIVE));
    let mut lambda = b;
    for _ in 0..200 {
        let (pn, q2) = norms(lambda);
        if (pn - delta).abs() <= 1e-12 * delta {
            break;
        }
        if pn > delta {
            a = lambda;
        } else {
            b = lambda;
        }
        // Newton on 1/‖p‖ − 1/Δ.
        let next = lambda + (pn * pn / q2) * (pn - delta) / delta;
        lambda = if next > a && next < b && next.is_finite() {
            next
        } else {
            0.5 * (a + b)
        };
        if b - a <= f64::EPSILON * b.abs().max(f64::MIN_POSITIVE) {
            lambda = b;
            break;
        }
    }
    let p = p_of(lambda, false);
    // Guard against rounding: never leave the region by more than rounding.
    let pn = p.norm();
    if pn > delta && pn.is_finite() {
        p * (delta / pn)
    } else {
        p
    }
}

/// Newton–CG with a trust region (Steihaug–Toint truncated conjugate
/// gradients) over Hessian-vector products: no Hessian is ever formed.
///
/// The objective is `FnMut(&[F], &[F], &mut [F], &mut [F]) -> F`: given `x`
/// and a direction `v` it returns the value and writes the gradient and
/// `H(x)·v` (both zeroed before each call) — the shape of the `f_hvp`
/// functions `#[differentiate(order = 2)]` generates. Value and gradient at a
/// trial point are taken from a call with `v = 0`.
///
/// Each iteration runs conjugate gradients on `H p = −g` from `p = 0` until
/// the residual falls below `min(c, √‖g‖)·‖g‖` ([`forcing`](Self::forcing)
/// c = 0.1 by default; superlinear convergence, Nocedal & Wright §7.1), the
/// iterate leaves the region, or negative
/// curvature is met — then the step goes to the boundary along it. At most
/// [`max_cg_iters`](Self::max_cg_iters) products per iteration (default: n).
/// Radius rules, stopping rules, [`Report`], errors and observer are as for
/// [`Newton`]; [`Report::evaluations`] counts every call of the objective,
/// Hessian-vector products included.
///
/// # Example
///
/// ```
/// use autodiff_runtime::{NewtonCg, Stop};
///
/// // Rosenbrock with H·v written by hand.
/// let rosenbrock = |p: &[f64], v: &[f64], g: &mut [f64], hv: &mut [f64]| {
///     let (x, y) = (p[0], p[1]);
///     g[0] = -2.0 * (1.0 - x) - 400.0 * x * (y - x * x);
///     g[1] = 200.0 * (y - x * x);
///     hv[0] = (2.0 - 400.0 * (y - 3.0 * x * x)) * v[0] - 400.0 * x * v[1];
///     hv[1] = -400.0 * x * v[0] + 200.0 * v[1];
///     (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)
/// };
/// let report = NewtonCg::new()
///     .with_stop(Stop::new().grad_tol(1e-10))
///     .minimize(rosenbrock, &[-1.2, 1.0])
///     .unwrap();
/// assert!(report.converged());
/// assert!((report.x[0] - 1.0).abs() < 1e-9 && (report.x[1] - 1.0).abs() < 1e-9);
/// ```
#[derive(Clone, Debug)]
pub struct NewtonCg<F> {
    region: Region<F>,
    stop: Stop<F>,
    max_cg_iters: Option<usize>,
    forcing: F,
}

region_builders!(NewtonCg);

impl<F: Float> NewtonCg<F> {
    /// Newton–CG with initial radius 1, maximal radius `1e4`, `eta = 0.15`,
    /// at most n conjugate-gradient steps per iteration, forcing constant 0.1
    /// and the default [`Stop`].
    ///
    /// ```
    /// let opt = autodiff_runtime::NewtonCg::<f64>::new();
    /// # let _ = opt;
    /// ```
    pub fn new() -> Self {
        NewtonCg {
            region: Region::new(),
            stop: Stop::default(),
            max_cg_iters: None,
            forcing: constant(0.1),
        }
    }

    /// The forcing constant c: conjugate gradients stop once the residual of
    /// `H p = −g` is below `min(c, √‖g‖)·‖g‖`, in `(0, 1)`, default `0.1`.
    /// Smaller values solve each Newton system more exactly (fewer
    /// iterations, more Hessian-vector products per iteration); the `√‖g‖`
    /// term gives superlinear convergence near the minimum whatever c is.
    ///
    /// ```
    /// let opt = autodiff_runtime::NewtonCg::<f64>::new().forcing(0.5);
    /// # let _ = opt;
    /// ```
    pub fn forcing(mut self, forcing: F) -> Self {
        self.forcing = forcing;
        self
    }

    /// At most this many conjugate-gradient steps (Hessian-vector products)
    /// per iteration (at least 1; default: the number of parameters).
    ///
    /// ```
    /// let opt = autodiff_runtime::NewtonCg::<f64>::new().max_cg_iters(20);
    /// # let _ = opt;
    /// ```
    pub fn max_cg_iters(mut self, max: usize) -> Self {
        self.max_cg_iters = Some(max);
        self
    }

    /// Minimises `objective` (value, gradient, Hessian-vector product) from
    /// `x0`; see [`minimize_with`](Self::minimize_with) to watch the run.
    ///
    /// ```
    /// use autodiff_runtime::{Error, NewtonCg};
    ///
    /// // Σ (i + 1)·xᵢ²: H = diag(1, 2, …)·2
    /// let f = |x: &[f64], v: &[f64], g: &mut [f64], hv: &mut [f64]| {
    ///     let mut value = 0.0;
    ///     for i in 0..x.len() {
    ///         let c = (i + 1) as f64;
    ///         value += c * x[i] * x[i];
    ///         g[i] = 2.0 * c * x[i];
    ///         hv[i] = 2.0 * c * v[i];
    ///     }
    ///     value
    /// };
    /// let report = NewtonCg::new().minimize(f, &[1.0, 1.0, 1.0]).unwrap();
    /// assert!(report.x.iter().all(|v| v.abs() < 1e-8));
    /// let err = NewtonCg::new().max_cg_iters(0).minimize(f, &[1.0]).unwrap_err();
    /// assert!(matches!(err, Error::InvalidConfig { name: "max_cg_iters", .. }));
    /// ```
    pub fn minimize<O>(&self, objective: O, x0: &[F]) -> Result<Report<F>, Error<F>>
    where
        O: FnMut(&[F], &[F], &mut [F], &mut [F]) -> F,
    {
        self.minimize_with(objective, x0, |_| ControlFlow::Continue(()))
    }

    /// Minimises `objective` from `x0`, calling `observer` with every
    /// accepted iterate; returning `ControlFlow::Break(())` stops the run.
    ///
    /// ```
    /// use std::ops::ControlFlow;
    /// use autodiff_runtime::{NewtonCg, StopReason};
    ///
    /// let f = |x: &[f64], v: &[f64], g: &mut [f64], hv: &mut [f64]| {
    ///     g[0] = 4.0 * x[0].powi(3);
    ///     hv[0] = 12.0 * x[0] * x[0] * v[0];
    ///     x[0].powi(4)
    /// };
    /// let report = NewtonCg::new()
    ///     .minimize_with(f, &[1.0], |it| {
    ///         if it.iteration == 2 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    ///     })
    ///     .unwrap();
    /// assert_eq!(report.stop_reason, StopReason::Observer);
    /// assert_eq!(report.iterations, 2);
    /// ```
    pub fn minimize_with<O, B>(
        &self,
        objective: O,
        x0: &[F],
        observer: B,
    ) -> Result<Report<F>, Error<F>>
    where
        O: FnMut(&[F], &[F], &mut [F], &mut [F]) -> F,
        B: FnMut(&Iteration<'_, F>) -> ControlFlow<()>,
    {
        if !(self.forcing > F::zero() && self.forcing < F::one()) {
            return Err(invalid("forcing", self.forcing, "a number in (0, 1)"));
        }
        if self.max_cg_iters == Some(0) {
            return Err(Error::InvalidConfig {
                name: "max_cg_iters",
                value: 0.0,
                expected: "at least 1",
            });
        }
        let n = x0.len();
        let mut model = Steihaug {
            objective,
            max_iters: self.max_cg_iters.unwrap_or(n).max(1),
            forcing: self.forcing,
            calls: 0,
            zero: vec![F::zero(); n],
            hv: vec![F::zero(); n],
            scratch: vec![F::zero(); n],
            r: vec![F::zero(); n],
            d: vec![F::zero(); n],
        };
        run(&mut model, &self.region, &self.stop, x0, observer)
    }
}

struct Steihaug<O, F> {
    objective: O,
    max_iters: usize,
    forcing: F,
    calls: usize,
    zero: Vec<F>,
    hv: Vec<F>,
    scratch: Vec<F>,
    r: Vec<F>,
    d: Vec<F>,
}

/// The `τ ≥ 0` with `‖z + τ·d‖ = radius`, for `‖z‖ ≤ radius`.
fn to_boundary<F: Float>(z: &[F], d: &[F], radius: F) -> F {
    let a = dot(d, d);
    let b = dot(z, d);
    let c = dot(z, z) - radius * radius;
    // Positive root of a τ² + 2b τ + c; the stable form avoids cancellation.
    let disc = (b * b - a * c).max(F::zero()).sqrt();
    if b > F::zero() {
        -c / (b + disc)
    } else {
        (disc - b) / a
    }
}

impl<F, O> Model<F> for Steihaug<O, F>
where
    F: Float,
    O: FnMut(&[F], &[F], &mut [F], &mut [F]) -> F,
{
    fn evaluate(&mut self, x: &[F], grad: &mut [F]) -> (F, bool) {
        grad.fill(F::zero());
        self.hv.fill(F::zero());
        let value = (self.objective)(x, &self.zero, grad, &mut self.hv);
        (value, value.is_finite() && all_finite(grad))
    }

    fn accept(&mut self) {}

    fn step(&mut self, x: &[F], grad: &[F], radius: F, p: &mut Vec<F>) -> Option<F> {
        let half: F = constant(0.5);
        p.clear();
        p.resize(grad.len(), F::zero());
        self.r.copy_from_slice(grad);
        let mut rr = dot(&self.r, &self.r);
        let g_norm = rr.sqrt();
        let tol = self.forcing.min(g_norm.sqrt()) * g_norm;
        for (d, &r) in self.d.iter_mut().zip(&self.r) {
            *d = -r;
        }
        // m(p) − m(0) = gᵀp + ½pᵀHp, tracked as the iteration goes.
        let mut change = F::zero();
        if rr == F::zero() {
            return Some(F::zero());
        }
        for _ in 0..self.max_iters {
            self.scratch.fill(F::zero());
            self.hv.fill(F::zero());
            let value = (self.objective)(x, &self.d, &mut self.scratch, &mut self.hv);
            self.calls += 1;
            if !(value.is_finite() && all_finite(&self.hv)) {
                return None;
            }
            let kappa = dot(&self.d, &self.hv);
            let dr = dot(&self.d, &self.r);
            let alpha = rr / kappa;
            // ‖p + αd‖² ≥ Δ², expanded so no vector is formed.
            let leaves = kappa <= F::zero()
                || dot(p, p)
                    + (alpha + alpha) * dot(p, &self.d)
                    + alpha * alpha * dot(&self.d, &self.d)
                    >= radius * radius;
            if leaves {
                let tau = to_boundary(p, &self.d, radius);
                for (z, &d) in p.iter_mut().zip(&self.d) {
                    *z = *z + tau * d;
                }
                change = change + tau * dr + half * tau * tau * kappa;
                return Some(-change);
            }
            for (z, &d) in p.iter_mut().zip(&self.d) {
                *z = *z + alpha * d;
            }
            change = change + alpha * dr + half * alpha * alpha * kappa;
            for (r, &hd) in self.r.iter_mut().zip(&self.hv) {
                *r = *r + alpha * hd;
            }
            let rr_next = dot(&self.r, &self.r);
            if rr_next.sqrt() < tol {
                break;
            }
            let beta = rr_next / rr;
            rr = rr_next;
            for (d, &r) in self.d.iter_mut().zip(&self.r) {
                *d = -r + beta * *d;
            }
        }
        Some(-change)
    }

    fn extra_calls(&self) -> usize {
        self.calls
    }
}
