//! Levenberg–Marquardt for nonlinear least squares over residuals and their
//! Jacobian.

use std::ops::ControlFlow;

use nalgebra::{DMatrix, DVector};
use num_traits::Float;

use crate::error::{check_point, check_positive, to_f64, Error};
use crate::trust::{add_step, negligible, to_f64_vec, Tracker};
use crate::util::{all_finite, constant};
use crate::{Differentiable, Iteration, Stop, StopReason};

/// A residual function with its Jacobian, as [`LevenbergMarquardt`] calls it.
///
/// Implemented by every closure `FnMut(&[F], &mut [F], &mut [F])` that, given
/// the parameters `p` (length n), writes the residuals into `r` (length m)
/// and the Jacobian `∂rᵢ/∂pⱼ` into `j`, row-major m×n (`j[i * n + k]`). The
/// solver zeroes both buffers before each call, so an accumulating generated
/// derivative can write straight into them. For a function that returns its
/// Jacobian instead (the form `#[differentiate]`'s `f_jacobian(p, .., out)
/// -> Vec<F>` has), wrap it in [`ReturnsJacobian`].
///
/// ```
/// use autodiff_runtime::{LevenbergMarquardt, Residuals};
///
/// // r(p) = (p₀ − 1, 2·(p₁ + 3)): a linear problem.
/// let mut line = |p: &[f64], r: &mut [f64], j: &mut [f64]| {
///     r[0] = p[0] - 1.0;
///     r[1] = 2.0 * (p[1] + 3.0);
///     j[0] = 1.0; // ∂r₀/∂p₀
///     j[3] = 2.0; // ∂r₁/∂p₁
/// };
/// let (mut r, mut j) = ([0.0; 2], [0.0; 4]);
/// line.evaluate(&[0.0, 0.0], &mut r, &mut j).unwrap();
/// assert_eq!(r, [-1.0, 6.0]);
/// let fit = LevenbergMarquardt::new().minimize(line, &[0.0, 0.0], 2).unwrap();
/// assert!((fit.report.x[0] - 1.0).abs() < 1e-9 && (fit.report.x[1] + 3.0).abs() < 1e-9);
/// ```
pub trait Residuals<F> {
    /// Writes the residuals at `p` into `r` and the row-major Jacobian into `j`
    /// (both zeroed by the caller).
    ///
    /// Fails with [`Error::DimensionMismatch`] when the function produced a
    /// Jacobian of the wrong size.
    fn evaluate(&mut self, p: &[F], r: &mut [F], j: &mut [F]) -> Result<(), Error<F>>;
}

impl<F, T> Residuals<F> for T
where
    T: FnMut(&[F], &mut [F], &mut [F]),
{
    fn evaluate(&mut self, p: &[F], r: &mut [F], j: &mut [F]) -> Result<(), Error<F>> {
        self(p, r, j);
        Ok(())
    }
}

/// Adapts a function that writes the residuals into its second argument and
/// *returns* the row-major m×n Jacobian as a `Vec` — the shape of the
/// `f_jacobian` functions `#[differentiate]` generates for out-parameter
/// outputs — to [`Residuals`]. A returned Jacobian whose length is not m·n is
/// reported as [`Error::DimensionMismatch`].
///
/// # Example
///
/// ```
/// use autodiff_runtime::{LevenbergMarquardt, ReturnsJacobian, Stop};
///
/// // y = a·exp(−b·t), exact data from a = 2, b = 0.5
/// let t = [0.0f64, 1.0, 2.0, 3.0, 4.0];
/// let y: Vec<f64> = t.iter().map(|&t| 2.0 * (-0.5 * t).exp()).collect();
/// let model_jacobian = |p: &[f64], r: &mut [f64]| -> Vec<f64> {
///     let mut jac = Vec::with_capacity(2 * t.len());
///     for (i, &ti) in t.iter().enumerate() {
///         let e = (-p[1] * ti).exp();
///         r[i] = p[0] * e - y[i];
///         jac.extend([e, -p[0] * ti * e]);
///     }
///     jac
/// };
/// let fit = LevenbergMarquardt::new()
///     .with_stop(Stop::new().grad_tol(1e-12))
///     .minimize(ReturnsJacobian(model_jacobian), &[1.0, 1.0], t.len())
///     .unwrap();
/// assert!((fit.report.x[0] - 2.0).abs() < 1e-8 && (fit.report.x[1] - 0.5).abs() < 1e-8);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ReturnsJacobian<G>(pub G);

impl<F, G> Residuals<F> for ReturnsJacobian<G>
where
    F: Copy,
    G: FnMut(&[F], &mut [F]) -> Vec<F>,
{
    fn evaluate(&mut self, p: &[F], r: &mut [F], j: &mut [F]) -> Result<(), Error<F>> {
        let jac = (self.0)(p, r);
        if jac.len() != j.len() {
            return Err(Error::DimensionMismatch {
                expected: j.len(),
                found: jac.len(),
            });
        }
        j.copy_from_slice(&jac);
        Ok(())
    }
}

/// Levenberg–Marquardt for nonlinear least squares: minimises the cost
/// `½‖r(p)‖²` of m residuals over n parameters, given the residuals and their
/// Jacobian J ([`Residuals`]).
///
/// Each iteration solves the damped Gauss–Newton system
/// `(JᵀJ + μ·D)·h = −Jᵀr` by Cholesky factorisation (nalgebra), with
/// Marquardt's scaling `D = diag(JᵀJ)` (a running maximum, as MINPACK keeps,
/// with 1 for a column that has been zero so far) and Nielsen's damping
/// schedule: an accepted step with gain ratio ρ multiplies μ by
/// `max(1/3, 1 − (2ρ − 1)³)`, a rejected one by ν = 2, 4, 8, …. Only accepted
/// steps count as iterations, so the cost never rises (beyond rounding: near
/// the minimum, where the cost no longer resolves the predicted decrease, a
/// step is also accepted when it lowers `‖Jᵀr‖`); a trial
/// point whose residuals or Jacobian are not finite is rejected like a step
/// that raises the cost. The linear algebra runs in `f64` whatever `F` is.
///
/// The [`Report`](crate::Report) inside the returned [`LeastSquaresFit`] reads as for the
/// other optimisers with the cost as the value and `Jᵀr` (the cost's gradient)
/// as the gradient: [`Stop`]'s gradient-norm rule tests `‖Jᵀr‖`, its
/// relative-change and target rules the cost. A run that cannot find a
/// lower cost before the step shrinks to floating-point resolution ends with
/// [`StopReason::NoAcceptableStep`]; if the trial points there were not
/// finite, with [`Error::NonFinite`] holding the last finite point.
///
/// Fewer residuals than parameters (m < n) are allowed — the damping keeps
/// the system solvable — but the fit then has no covariance.
///
/// # Example
///
/// Fit `y = a·exp(−b·t)` and print the parameters with standard errors:
///
/// ```
/// use autodiff_runtime::{LevenbergMarquardt, Stop};
///
/// let t = [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0];
/// let y = [3.02, 2.21, 1.79, 1.37, 1.12, 0.85, 0.69];
/// let residuals = |p: &[f64], r: &mut [f64], j: &mut [f64]| {
///     for i in 0..t.len() {
///         let e = (-p[1] * t[i]).exp();
///         r[i] = p[0] * e - y[i];
///         j[2 * i] = e; // ∂rᵢ/∂a
///         j[2 * i + 1] = -p[0] * t[i] * e; // ∂rᵢ/∂b
///     }
/// };
/// let fit = LevenbergMarquardt::new()
///     .with_stop(Stop::new().grad_tol(1e-10))
///     .minimize(residuals, &[1.0, 1.0], t.len())
///     .unwrap();
/// assert!(fit.report.converged());
/// let se = fit.standard_errors().unwrap();
/// for (name, (value, se)) in ["a", "b"].iter().zip(fit.report.x.iter().zip(&se)) {
///     println!("{name} = {value:.4} ± {se:.4}");
/// }
/// assert!((fit.report.x[0] - 2.98).abs() < 0.05 && (fit.report.x[1] - 0.49).abs() < 0.02);
/// ```
#[derive(Clone, Debug)]
pub struct LevenbergMarquardt<F> {
    stop: Stop<F>,
    initial_damping: F,
}

impl<F: Float> Default for LevenbergMarquardt<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F: Float> LevenbergMarquardt<F> {
    /// Levenberg–Marquardt with initial damping `1e-3` and the default
    /// [`Stop`].
    ///
    /// ```
    /// let lm = autodiff_runtime::LevenbergMarquardt::<f64>::new();
    /// # let _ = lm;
    /// ```
    pub fn new() -> Self {
        LevenbergMarquardt {
            stop: Stop::default(),
            initial_damping: constant(1e-3),
        }
    }

    /// The initial damping μ₀ relative to the scaling `diag(JᵀJ)`, a finite
    /// number `> 0` (default `1e-3`). Small values start close to
    /// Gauss–Newton, large ones close to short gradient steps.
    ///
    /// ```
    /// let lm = autodiff_runtime::LevenbergMarquardt::new().initial_damping(1.0);
    /// # let _: autodiff_runtime::LevenbergMarquardt<f64> = lm;
    /// ```
    pub fn initial_damping(mut self, damping: F) -> Self {
        self.initial_damping = damping;
        self
    }

    /// Replaces the stopping rules (default: [`Stop::default`]).
    ///
    /// ```
    /// use autodiff_runtime::{LevenbergMarquardt, Stop};
    /// let lm = LevenbergMarquardt::new().with_stop(Stop::new().max_iters(50).grad_tol(1e-10));
    /// # let _: LevenbergMarquardt<f64> = lm;
    /// ```
    pub fn with_stop(mut self, stop: Stop<F>) -> Self {
        self.stop = stop;
        self
    }

    /// Minimises `½‖r(p)‖²` from `x0` for `m` residuals; see
    /// [`minimize_with`](Self::minimize_with) to watch the run.
    ///
    /// Fails on a bad configuration, an empty or non-finite `x0`, `m == 0`
    /// ([`Error::InvalidConfig`] named `"m"`), residuals or Jacobian not
    /// finite at `x0` ([`Error::NonFiniteAtStart`]) or a Jacobian of the
    /// wrong size ([`Error::DimensionMismatch`]).
    ///
    /// ```
    /// use autodiff_runtime::{Error, LevenbergMarquardt};
    ///
    /// let r = |p: &[f64], r: &mut [f64], j: &mut [f64]| { r[0] = p[0] - 2.0; j[0] = 1.0; };
    /// let fit = LevenbergMarquardt::new().minimize(r, &[0.0], 1).unwrap();
    /// assert!((fit.report.x[0] - 2.0).abs() < 1e-6); // the default gradient tolerance
    /// let err = LevenbergMarquardt::new().minimize(r, &[0.0], 0).unwrap_err();
    /// assert!(matches!(err, Error::InvalidConfig { name: "m", .. }));
    /// ```
    pub fn minimize<R>(
        &self,
        residuals: R,
        x0: &[F],
        m: usize,
    ) -> Result<LeastSquaresFit<F>, Error<F>>
    where
        R: Residuals<F>,
    {
        self.minimize_with(residuals, x0, m, |_| ControlFlow::Continue(()))
    }

    /// Minimises `½‖r(p)‖²` from `x0` for `m` residuals, calling `observer`
    /// with every accepted iterate (value = cost, gradient = `Jᵀr`);
    /// returning `ControlFlow::Break(())` stops the run.
    ///
    /// ```
    /// use std::ops::ControlFlow;
    /// use autodiff_runtime::{LevenbergMarquardt, StopReason};
    ///
    /// // Rosenbrock as residuals: r = (10 (y − x²), 1 − x)
    /// let rosen = |p: &[f64], r: &mut [f64], j: &mut [f64]| {
    ///     r[0] = 10.0 * (p[1] - p[0] * p[0]);
    ///     r[1] = 1.0 - p[0];
    ///     j.copy_from_slice(&[-20.0 * p[0], 10.0, -1.0, 0.0]);
    /// };
    /// let mut costs = Vec::new();
    /// let fit = LevenbergMarquardt::new()
    ///     .minimize_with(rosen, &[-1.2, 1.0], 2, |it| {
    ///         costs.push(it.value);
    ///         if it.iteration == 3 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    ///     })
    ///     .unwrap();
    /// assert_eq!(fit.report.stop_reason, StopReason::Observer);
    /// assert_eq!(costs, fit.report.history);
    /// ```
    pub fn minimize_with<R, B>(
        &self,
        mut residuals: R,
        x0: &[F],
        m: usize,
        mut observer: B,
    ) -> Result<LeastSquaresFit<F>, Error<F>>
    where
        R: Residuals<F>,
        B: FnMut(&Iteration<'_, F>) -> ControlFlow<()>,
    {
        check_positive("initial_damping", self.initial_damping)?;
        self.stop.validate()?;
        check_point("x0", x0)?;
        if m == 0 {
            return Err(Error::InvalidConfig {
                name: "m",
                value: 0.0,
                expected: "at least 1 residual",
            });
        }
        let n = x0.len();

        let mut current = Point::new(m, n);
        current.evaluate(&mut residuals, x0)?;
        let mut evaluations = 1;
        if !current.finite {
            return Err(Error::NonFiniteAtStart {
                value: current.cost,
            });
        }
        let mut trial = Point::new(m, n);
        let mut x_trial = Vec::with_capacity(n);
        let mut tracker = Tracker::new(x0, current.cost);

        let (mut a, mut g) = current.normal_equations();
        let mut scale: Vec<f64> = (0..n).map(|k| a[(k, k)]).collect();
        let mut mu = to_f64(self.initial_damping);
        let mut nu = 2.0;

        let stop_reason = loop {
            let grad: Vec<F> = g.iter().map(|&v| constant(v)).collect();
            if let Some(reason) = tracker.check(
                &self.stop,
                &current.x,
                current.cost,
                &grad,
                evaluations,
                &mut observer,
            ) {
                break reason;
            }
            let mut saw_non_finite = false;
            let accepted = loop {
                let mut damped = a.clone();
                for (k, &s) in scale.iter().enumerate() {
                    damped[(k, k)] += mu * if s > 0.0 { s } else { 1.0 };
                }
                let Some(cholesky) = damped.cholesky() else {
                    // Not positive definite in floating point: damp harder.
                    mu *= nu;
                    nu *= 2.0;
                    if !mu.is_finite() {
                        break false;
                    }
                    continue;
                };
                let h = cholesky.solve(&(-&g));
                if !h.iter().all(|v| v.is_finite()) || negligible(h.norm(), &current.x) {
                    break false;
                }
                add_step(&current.x, h.as_slice(), &mut x_trial);
                trial.evaluate(&mut residuals, &x_trial)?;
                evaluations += 1;
                // Predicted decrease ½ hᵀ(μ D h − g), Madsen, Nielsen & Tingleff (3.10).
                let predicted = 0.5
                    * h.iter()
                        .zip(&scale)
                        .zip(g.iter())
                        .map(|((&hk, &s), &gk)| hk * (mu * if s > 0.0 { s } else { 1.0 } * hk - gk))
                        .sum::<f64>();
                let actual = to_f64(current.cost - trial.cost);
                let rho = actual / predicted;
                if trial.finite && actual > 0.0 && rho > 0.0 {
                    mu *= (1.0 / 3.0_f64).max(1.0 - (2.0 * rho - 1.0).powi(3));
                    nu = 2.0;
                    break true;
                }
                // Near the minimum the cost stops resolving the decrease
                // (both changes at rounding level) while Jᵀr could still be
                // polished: take a step that changes the cost by no more than
                // rounding and lowers the gradient.
                let noise = 8.0 * (m as f64).sqrt() * f64::EPSILON * to_f64(current.cost);
                if trial.finite && predicted <= noise && actual >= -noise {
                    let (_, g_trial) = trial.normal_equations();
                    if g_trial.norm() < g.norm() {
                        break true;
                    }
                }
                saw_non_finite |= !trial.finite;
                mu *= nu;
                nu *= 2.0;
                if !mu.is_finite() {
                    break false;
                }
            };
            if !accepted {
                if saw_non_finite {
                    return Err(Error::NonFinite {
                        iteration: tracker.iteration + 1,
                        x: current.x,
                        value: current.cost,
                    });
                }
                break StopReason::NoAcceptableStep;
            }
            let before = current.cost;
            std::mem::swap(&mut current, &mut trial);
            tracker.moved(before, &current.x, current.cost);
            (a, g) = current.normal_equations();
            for (k, s) in scale.iter_mut().enumerate() {
                *s = s.max(a[(k, k)]);
            }
        };

        let grad: Vec<F> = g.iter().map(|&v| constant(v)).collect();
        let report = tracker.report(current.x, current.cost, &grad, evaluations, stop_reason);
        Ok(LeastSquaresFit {
            report,
            residuals: current.r,
            jacobian: current.j,
        })
    }
}

/// A point with its residuals and Jacobian.
struct Point<F> {
    x: Vec<F>,
    r: Vec<F>,
    j: Vec<F>,
    cost: F,
    finite: bool,
    n: usize,
}

impl<F: Float> Point<F> {
    fn new(m: usize, n: usize) -> Self {
        Point {
            x: Vec::with_capacity(n),
            r: vec![F::zero(); m],
            j: vec![F::zero(); m * n],
            cost: F::nan(),
            finite: false,
            n,
        }
    }

    fn evaluate<R: Residuals<F>>(&mut self, residuals: &mut R, x: &[F]) -> Result<(), Error<F>> {
        self.x.clear();
        self.x.extend_from_slice(x);
        self.r.fill(F::zero());
        self.j.fill(F::zero());
        residuals.evaluate(x, &mut self.r, &mut self.j)?;
        self.cost = self.r.iter().fold(F::zero(), |acc, &v| acc + v * v) * constant(0.5);
        self.finite = self.cost.is_finite() && all_finite(&self.r) && all_finite(&self.j);
        Ok(())
    }

    /// `(JᵀJ, Jᵀr)` in `f64`.
    fn normal_equations(&self) -> (DMatrix<f64>, DVector<f64>) {
        let m = self.r.len();
        let j = DMatrix::from_row_slice(m, self.n, &to_f64_vec(&self.j));
        let r = DVector::from_vec(to_f64_vec(&self.r));
        (j.tr_mul(&j), j.tr_mul(&r))
    }
}

/// The outcome of a least-squares run: the [`Report`](crate::Report) (value = cost
/// `½‖r‖²`, gradient = `Jᵀr`) plus the residuals and Jacobian at the final
/// point, from which [`covariance`](Self::covariance) and
/// [`standard_errors`](Self::standard_errors) of the fitted parameters follow.
///
/// # Example
///
/// ```
/// use autodiff_runtime::LevenbergMarquardt;
///
/// // A straight line y = a + b·x through four points.
/// let (xs, ys) = ([0.0, 1.0, 2.0, 3.0], [1.1, 2.9, 5.2, 6.8]);
/// let line = |p: &[f64], r: &mut [f64], j: &mut [f64]| {
///     for i in 0..4 {
///         r[i] = p[0] + p[1] * xs[i] - ys[i];
///         j[2 * i] = 1.0;
///         j[2 * i + 1] = xs[i];
///     }
/// };
/// let fit = LevenbergMarquardt::new().minimize(line, &[0.0, 0.0], 4).unwrap();
/// assert_eq!((fit.residuals.len(), fit.jacobian.len()), (4, 8));
/// assert!((fit.ssr() - 2.0 * fit.report.value).abs() < 1e-15);
/// let cov = fit.covariance().unwrap(); // 2×2, row-major
/// assert!((cov[1] - cov[2]).abs() < 1e-15);
/// println!("{fit}");
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct LeastSquaresFit<F> {
    /// The run's report: final parameters `x`, cost `½‖r‖²`, `‖Jᵀr‖`,
    /// iterations, evaluations (residual-and-Jacobian calls), stop reason,
    /// cost history.
    pub report: crate::Report<F>,
    /// The residuals at `report.x` (length m).
    pub residuals: Vec<F>,
    /// The Jacobian at `report.x`, row-major m×n.
    pub jacobian: Vec<F>,
}

impl<F: Float> LeastSquaresFit<F> {
    /// The sum of squared residuals `‖r‖²` (twice the cost).
    ///
    /// ```
    /// # use autodiff_runtime::LevenbergMarquardt;
    /// let r = |p: &[f64], r: &mut [f64], j: &mut [f64]| {
    ///     r[0] = p[0] - 1.0; r[1] = p[0] - 3.0; j[0] = 1.0; j[1] = 1.0;
    /// };
    /// let fit = LevenbergMarquardt::new().minimize(r, &[0.0], 2).unwrap();
    /// assert!((fit.ssr() - 2.0).abs() < 1e-12); // p = 2, r = (1, −1)
    /// ```
    pub fn ssr(&self) -> F {
        self.residuals.iter().fold(F::zero(), |acc, &v| acc + v * v)
    }

    /// The estimated covariance of the parameters, `s²·(JᵀJ)⁻¹` with
    /// `s² = SSR / (m − n)`, row-major n×n — the asymptotic covariance that
    /// `scipy.optimize.curve_fit` reports (with `absolute_sigma=False`).
    ///
    /// Computed from the singular value decomposition of J (no squaring of
    /// its condition number). `None` when there are not more residuals than
    /// parameters (m ≤ n) or J is rank-deficient (singular values below
    /// `max(m, n)·ε` times the largest, e.g. a parameter the residuals do not
    /// depend on).
    ///
    /// ```
    /// # use autodiff_runtime::LevenbergMarquardt;
    /// // Mean of three numbers: the variance of the mean is s²/3.
    /// let r = |p: &[f64], r: &mut [f64], j: &mut [f64]| {
    ///     for (i, y) in [1.0, 2.0, 6.0].iter().enumerate() { r[i] = p[0] - y; j[i] = 1.0; }
    /// };
    /// let fit = LevenbergMarquardt::new().minimize(r, &[0.0], 3).unwrap();
    /// let s2 = fit.ssr() / 2.0;
    /// assert!((fit.covariance().unwrap()[0] - s2 / 3.0).abs() < 1e-12);
    /// ```
    pub fn covariance(&self) -> Option<Vec<F>> {
        let m = self.residuals.len();
        let n = self.report.x.len();
        if m <= n || self.jacobian.len() != m * n {
            return None;
        }
        let j = DMatrix::from_row_slice(m, n, &to_f64_vec(&self.jacobian));
        let svd = j.svd(false, true);
        let v_t = svd.v_t?;
        let largest = svd.singular_values.max();
        let cutoff = largest * f64::EPSILON * m.max(n) as f64;
        let full_rank = largest > 0.0 && svd.singular_values.iter().all(|&s| s > cutoff);
        if !full_rank {
            return None;
        }
        let s2 = to_f64(self.ssr()) / (m - n) as f64;
        let mut cov = vec![F::zero(); n * n];
        for a in 0..n {
            for b in 0..n {
                let sum: f64 = (0..n)
                    .map(|k| v_t[(k, a)] * v_t[(k, b)] / (svd.singular_values[k].powi(2)))
                    .sum();
                cov[a * n + b] = constant(s2 * sum);
            }
        }
        Some(cov)
    }

    /// The standard errors of the parameters, the square roots of the
    /// covariance's diagonal; `None` when [`covariance`](Self::covariance) is.
    ///
    /// ```
    /// # use autodiff_runtime::LevenbergMarquardt;
    /// let r = |p: &[f64], r: &mut [f64], j: &mut [f64]| {
    ///     for (i, y) in [1.0, 2.0, 6.0].iter().enumerate() { r[i] = p[0] - y; j[i] = 1.0; }
    /// };
    /// let fit = LevenbergMarquardt::new().minimize(r, &[0.0], 3).unwrap();
    /// // The mean is 3; s² = SSR/(m − n) = 14/2 = 7, so its standard error is sqrt(7/3).
    /// assert!((fit.standard_errors().unwrap()[0] - (7.0f64 / 3.0).sqrt()).abs() < 1e-12);
    /// ```
    pub fn standard_errors(&self) -> Option<Vec<F>> {
        let n = self.report.x.len();
        self.covariance()
            .map(|cov| (0..n).map(|k| cov[k * n + k].sqrt()).collect())
    }
}

impl<F: Float> LevenbergMarquardt<F> {
    /// Minimises `½‖r(p)‖²` over a parameter struct from `x0` for `m`
    /// residuals: as [`minimize`](Self::minimize), with the parameters a
    /// [`Differentiable`] value (a `#[derive(Differentiable)]` struct, a tuple,
    /// an array). `residuals(p, r)` writes the residuals at `p` into `r` (zeroed
    /// on entry) and returns the row-major m×n Jacobian whose columns are the
    /// struct's floats in declaration order ([`Differentiable::write_floats`]):
    /// the shape of a generated `f_jacobian` with `wrt(p)`, so
    /// `|p, r| residuals_jacobian(p, &t, &y, r)` is the whole adapter. A
    /// returned Jacobian whose length is not m·n is
    /// [`Error::DimensionMismatch`]. The fit's report, residuals, Jacobian and
    /// covariance are over the floats; [`StructFit::params`] is the final point
    /// as a struct.
    ///
    /// ```
    /// use autodiff_runtime::{LevenbergMarquardt, Stop};
    ///
    /// // y = a·exp(−b·t), parameters as a tuple `(a, b)`
    /// let t = [0.0f64, 1.0, 2.0, 3.0, 4.0];
    /// let y: Vec<f64> = t.iter().map(|&t| 2.0 * (-0.5 * t).exp()).collect();
    /// let residuals = |p: &(f64, f64), r: &mut [f64]| -> Vec<f64> {
    ///     let mut jac = Vec::with_capacity(2 * t.len());
    ///     for (i, &ti) in t.iter().enumerate() {
    ///         let e = (-p.1 * ti).exp();
    ///         r[i] = p.0 * e - y[i];
    ///         jac.extend([e, -p.0 * ti * e]);
    ///     }
    ///     jac
    /// };
    /// let fit = LevenbergMarquardt::new()
    ///     .with_stop(Stop::new().grad_tol(1e-12))
    ///     .minimize_struct(residuals, &(1.0, 1.0), t.len())
    ///     .unwrap();
    /// let (a, b) = fit.params;
    /// assert!((a - 2.0).abs() < 1e-8 && (b - 0.5).abs() < 1e-8);
    /// assert_eq!(fit.standard_errors().unwrap().len(), 2); // the fit, dereferenced
    /// ```
    pub fn minimize_struct<P, G>(
        &self,
        residuals: G,
        x0: &P,
        m: usize,
    ) -> Result<StructFit<F, P>, Error<F>>
    where
        P: Differentiable<F>,
        G: FnMut(&P, &mut [F]) -> Vec<F>,
    {
        self.minimize_struct_with(residuals, x0, m, |_| ControlFlow::Continue(()))
    }

    /// [`minimize_struct`](Self::minimize_struct) with an observer, which sees
    /// the iterates as the struct's floats (as [`minimize_with`](Self::minimize_with)).
    pub fn minimize_struct_with<P, G, B>(
        &self,
        mut residuals: G,
        x0: &P,
        m: usize,
        observer: B,
    ) -> Result<StructFit<F, P>, Error<F>>
    where
        P: Differentiable<F>,
        G: FnMut(&P, &mut [F]) -> Vec<F>,
        B: FnMut(&Iteration<'_, F>) -> ControlFlow<()>,
    {
        let mut point = x0.zero_like();
        let flat = ReturnsJacobian(|x: &[F], r: &mut [F]| {
            point.read_floats(x);
            residuals(&point, r)
        });
        let fit = self.minimize_with(flat, &x0.to_floats(), m, observer)?;
        Ok(StructFit {
            params: crate::structs::from_floats(x0, &fit.report.x),
            fit,
        })
    }
}

/// The result of [`LevenbergMarquardt::minimize_struct`]: the final parameters
/// as a struct, and the [`LeastSquaresFit`] over their floats (which it
/// dereferences to: `fit.standard_errors()`, `fit.report.converged()`).
///
/// `Display` prints the fit.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct StructFit<F, P> {
    /// The final parameters (the report's `x`).
    pub params: P,
    /// The fit over the struct's floats in declaration order.
    pub fit: LeastSquaresFit<F>,
}

impl<F, P> std::ops::Deref for StructFit<F, P> {
    type Target = LeastSquaresFit<F>;
    fn deref(&self) -> &LeastSquaresFit<F> {
        &self.fit
    }
}

impl<F: Float, P> std::fmt::Display for StructFit<F, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.fit.fmt(f)
    }
}

impl<F: Float> std::fmt::Display for LeastSquaresFit<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{}", self.report)?;
        write!(
            f,
            "residuals:   {} (SSR {:.6e})",
            self.residuals.len(),
            to_f64(self.ssr())
        )?;
        if let Some(se) = self.standard_errors() {
            write!(f, "\nparameters:  ")?;
            for (k, (x, s)) in self.report.x.iter().zip(&se).enumerate() {
                if k > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{:.6} ± {:.2e}", to_f64(*x), to_f64(*s))?;
            }
        }
        Ok(())
    }
}
