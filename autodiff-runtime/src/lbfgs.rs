//! Limited-memory BFGS with a line search.

use std::collections::VecDeque;

use num_traits::Float;

use crate::driver::{Advance, Current, Method};
use crate::error::{check_point, invalid, Error};
use crate::line_search::{Buffers, Conditions, LineSearch, Outcome, Search};
use crate::optimizer::impl_optimizer;
use crate::util::{constant, dot, norm};
use crate::Stop;

/// L-BFGS (Nocedal & Wright, algorithm 7.5): a quasi-Newton method that
/// builds a curvature model from the last `memory` steps, with a strong-Wolfe
/// (default) or backtracking line search.
///
/// The method of choice for smooth, deterministic objectives of moderate
/// size; it usually needs far fewer iterations than first-order methods.
/// A trial point where the objective is not finite is treated as "too far"
/// and the line search shortens the step; only when no finite acceptable
/// point is found does the run fail with [`Error::NonFinite`].
///
/// # Example
///
/// ```
/// use autodiff_runtime::{Lbfgs, LineSearch, Stop};
///
/// // Rosenbrock: (1 - x)² + 100 (y - x²)², minimum at (1, 1)
/// let rosenbrock = |p: &[f64], g: &mut [f64]| {
///     let (x, y) = (p[0], p[1]);
///     g[0] = -2.0 * (1.0 - x) - 400.0 * x * (y - x * x);
///     g[1] = 200.0 * (y - x * x);
///     (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)
/// };
/// let report = Lbfgs::new()
///     .memory(5)
///     .line_search(LineSearch::StrongWolfe)
///     .with_stop(Stop::new().grad_tol(1e-8))
///     .minimize(rosenbrock, &[-1.2, 1.0])
///     .unwrap();
/// assert!(report.converged());
/// assert!((report.x[0] - 1.0).abs() < 1e-6 && (report.x[1] - 1.0).abs() < 1e-6);
/// assert!(report.iterations < 60);
/// ```
#[derive(Clone, Debug)]
pub struct Lbfgs<F> {
    memory: usize,
    line_search: LineSearch,
    c1: F,
    c2: F,
    max_line_evals: usize,
    stop: Stop<F>,
    /// Curvature pairs `(s, y, 1 / sᵀy)`, oldest first.
    pairs: VecDeque<(Vec<F>, Vec<F>, F)>,
    direction: Vec<F>,
    alphas: Vec<F>,
    buffers: Buffers<F>,
    steps: usize,
}

impl<F: Float> Default for Lbfgs<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F: Float> Lbfgs<F> {
    /// L-BFGS with memory 10, a strong-Wolfe line search with `c1 = 1e-4`,
    /// `c2 = 0.9` and at most 25 evaluations per search, and the default
    /// [`Stop`].
    ///
    /// ```
    /// let opt = autodiff_runtime::Lbfgs::<f64>::new();
    /// # let _ = opt;
    /// ```
    pub fn new() -> Self {
        Lbfgs {
            memory: 10,
            line_search: LineSearch::StrongWolfe,
            c1: constant(1e-4),
            c2: constant(0.9),
            max_line_evals: 25,
            stop: Stop::default(),
            pairs: VecDeque::new(),
            direction: Vec::new(),
            alphas: Vec::new(),
            buffers: Buffers::default(),
            steps: 0,
        }
    }

    /// How many recent steps the curvature model keeps (at least 1).
    ///
    /// ```
    /// let opt = autodiff_runtime::Lbfgs::<f64>::new().memory(20);
    /// # let _ = opt;
    /// ```
    pub fn memory(mut self, memory: usize) -> Self {
        self.memory = memory;
        self
    }

    /// Chooses the line search (default [`LineSearch::StrongWolfe`]).
    ///
    /// ```
    /// use autodiff_runtime::{Lbfgs, LineSearch};
    /// let opt = Lbfgs::<f64>::new().line_search(LineSearch::Backtracking);
    /// # let _ = opt;
    /// ```
    pub fn line_search(mut self, line_search: LineSearch) -> Self {
        self.line_search = line_search;
        self
    }

    /// The sufficient-decrease constant, in `(0, 1)` (and below `c2` for
    /// strong Wolfe). Default `1e-4`.
    ///
    /// ```
    /// let opt = autodiff_runtime::Lbfgs::new().c1(1e-3);
    /// # let _: autodiff_runtime::Lbfgs<f64> = opt;
    /// ```
    pub fn c1(mut self, c1: F) -> Self {
        self.c1 = c1;
        self
    }

    /// The strong-Wolfe curvature constant, in `(c1, 1)`. Default `0.9`.
    ///
    /// ```
    /// let opt = autodiff_runtime::Lbfgs::new().c2(0.5);
    /// # let _: autodiff_runtime::Lbfgs<f64> = opt;
    /// ```
    pub fn c2(mut self, c2: F) -> Self {
        self.c2 = c2;
        self
    }

    /// At most this many objective evaluations per line search (at least 1).
    ///
    /// ```
    /// let opt = autodiff_runtime::Lbfgs::<f64>::new().max_line_evals(40);
    /// # let _ = opt;
    /// ```
    pub fn max_line_evals(mut self, max_line_evals: usize) -> Self {
        self.max_line_evals = max_line_evals;
        self
    }

    /// One L-BFGS iteration from `params`, for your own loop. Returns the
    /// objective's value at the new `params`.
    ///
    /// Unlike the first-order optimisers, L-BFGS needs the objective itself:
    /// the line search evaluates it at trial points. `step` first evaluates it
    /// at `params` (so the objective may change between calls, e.g. per
    /// mini-batch), then searches along the direction given by the curvature
    /// pairs kept from earlier steps. Calling `step` repeatedly with a fixed
    /// objective produces exactly the iterates of [`minimize`](Self::minimize),
    /// at the cost of one extra evaluation per step. Call [`reset`](Self::reset)
    /// when the problem changes enough that old curvature is misleading.
    ///
    /// Fails, leaving `params` unchanged, on a bad configuration, empty or
    /// non-finite `params`, a length other than the state's, a non-finite
    /// objective at `params` ([`Error::NonFiniteAtStart`]) or along the whole
    /// search ([`Error::NonFinite`]), or a failed line search
    /// ([`Error::LineSearchFailed`]).
    ///
    /// ```
    /// use autodiff_runtime::Lbfgs;
    ///
    /// let f = |x: &[f64], g: &mut [f64]| {
    ///     g[0] = 2.0 * (x[0] - 1.0);
    ///     g[1] = 8.0 * (x[1] + 1.0);
    ///     (x[0] - 1.0).powi(2) + 4.0 * (x[1] + 1.0).powi(2)
    /// };
    /// let mut opt = Lbfgs::new();
    /// let mut x = [0.0, 0.0];
    /// let mut value = f64::INFINITY;
    /// for _ in 0..10 {
    ///     value = opt.step(f, &mut x).unwrap();
    ///     if value < 1e-20 { break; }
    /// }
    /// assert!(value < 1e-12);
    /// ```
    pub fn step<O>(&mut self, mut objective: O, params: &mut [F]) -> Result<F, Error<F>>
    where
        O: FnMut(&[F], &mut [F]) -> F,
    {
        Method::validate(self)?;
        check_point("params", params)?;
        if let Some((s, _, _)) = self.pairs.front() {
            if s.len() != params.len() {
                return Err(Error::DimensionMismatch {
                    expected: s.len(),
                    found: params.len(),
                });
            }
        }
        let mut current = Current::start(&mut objective, params)?;
        self.steps += 1;
        match self.advance(&mut objective, &mut current, self.steps)? {
            Advance::Moved => {
                params.copy_from_slice(&current.x);
                Ok(current.value)
            }
            Advance::LineSearchFailed => Err(Error::LineSearchFailed {
                x: current.x,
                value: current.value,
            }),
        }
    }

    /// [`step`](Self::step) over a parameter struct: `objective(p, g)` returns
    /// the value at `p` and writes the gradient into the zeroed `g` (a
    /// [`Differentiable`](crate::Differentiable) value of the same type); returns
    /// the value at the new `params`.
    ///
    /// ```
    /// use autodiff_runtime::Lbfgs;
    ///
    /// let f = |p: &[f64; 2], g: &mut [f64; 2]| {
    ///     *g = [2.0 * (p[0] - 1.0), 8.0 * (p[1] + 1.0)];
    ///     (p[0] - 1.0).powi(2) + 4.0 * (p[1] + 1.0).powi(2)
    /// };
    /// let mut opt = Lbfgs::new();
    /// let mut p = [0.0, 0.0];
    /// let mut value = f64::INFINITY;
    /// for _ in 0..10 {
    ///     value = opt.step_struct(f, &mut p).unwrap();
    /// }
    /// assert!(value < 1e-12 && (p[0] - 1.0).abs() < 1e-6);
    /// ```
    pub fn step_struct<P, O>(&mut self, objective: O, params: &mut P) -> Result<F, Error<F>>
    where
        P: crate::Differentiable<F>,
        O: FnMut(&P, &mut P) -> F,
    {
        let mut x = params.to_floats();
        let value = self.step(crate::structs::flat_objective(objective, params), &mut x)?;
        params.read_floats(&x);
        Ok(value)
    }

    /// Forgets the curvature pairs (and the step count used in error reports).
    ///
    /// ```
    /// let mut opt = autodiff_runtime::Lbfgs::new();
    /// opt.step(|x: &[f64], g: &mut [f64]| { g[0] = 2.0 * x[0]; x[0] * x[0] }, &mut [1.0]).unwrap();
    /// opt.reset();
    /// ```
    pub fn reset(&mut self) {
        self.pairs.clear();
        self.steps = 0;
    }

    /// `direction ← −H·grad` by the two-loop recursion.
    fn compute_direction(&mut self, grad: &[F]) {
        let q = &mut self.direction;
        q.clear();
        q.extend(grad.iter().map(|&g| -g));
        self.alphas.clear();
        for (s, y, rho) in self.pairs.iter().rev() {
            let alpha = *rho * dot(s, q);
            for (qi, &yi) in q.iter_mut().zip(y) {
                *qi = *qi - alpha * yi;
            }
            self.alphas.push(alpha);
        }
        if let Some((s, y, _)) = self.pairs.back() {
            let gamma = dot(s, y) / dot(y, y);
            for qi in q.iter_mut() {
                *qi = *qi * gamma;
            }
        }
        for ((s, y, rho), &alpha) in self.pairs.iter().zip(self.alphas.iter().rev()) {
            let beta = *rho * dot(y, q);
            for (qi, &si) in q.iter_mut().zip(s) {
                *qi = *qi + (alpha - beta) * si;
            }
        }
    }

    /// Stores the pair from `x → x_new`, `grad → grad_new` when its curvature
    /// `sᵀy` is safely positive (always, after a strong-Wolfe search).
    fn remember(&mut self, x: &[F], x_new: &[F], grad: &[F], grad_new: &[F]) {
        let (mut s, mut y) = if self.pairs.len() >= self.memory {
            match self.pairs.pop_front() {
                Some((s, y, _)) => (s, y),
                None => (Vec::new(), Vec::new()),
            }
        } else {
            (Vec::new(), Vec::new())
        };
        s.clear();
        s.extend(x_new.iter().zip(x).map(|(&a, &b)| a - b));
        y.clear();
        y.extend(grad_new.iter().zip(grad).map(|(&a, &b)| a - b));
        let sy = dot(&s, &y);
        if sy > F::epsilon() * dot(&y, &y) && sy.is_finite() {
            self.pairs.push_back((s, y, F::one() / sy));
        }
    }

    fn conditions(&self) -> Conditions<F> {
        Conditions {
            kind: self.line_search,
            c1: self.c1,
            c2: self.c2,
            max_evals: self.max_line_evals,
        }
    }
}

impl<F: Float> Method<F> for Lbfgs<F> {
    fn validate(&self) -> Result<(), Error<F>> {
        if self.memory == 0 {
            return Err(Error::InvalidConfig {
                name: "memory",
                value: 0.0,
                expected: "at least 1",
            });
        }
        if self.max_line_evals == 0 {
            return Err(Error::InvalidConfig {
                name: "max_line_evals",
                value: 0.0,
                expected: "at least 1",
            });
        }
        if !(self.c1 > F::zero() && self.c1 < F::one()) {
            return Err(invalid("c1", self.c1, "a number in (0, 1)"));
        }
        if self.line_search == LineSearch::StrongWolfe && !(self.c2 > self.c1 && self.c2 < F::one())
        {
            return Err(invalid("c2", self.c2, "a number in (c1, 1)"));
        }
        Ok(())
    }

    fn reset(&mut self) {
        Lbfgs::reset(self);
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
        self.compute_direction(&current.grad);
        let outcome = loop {
            let mut slope = dot(&self.direction, &current.grad);
            // NaN-safe: anything but a negative slope is not a descent direction.
            let descent = slope < F::zero();
            if !descent {
                // Rounding or a stale model: restart from steepest descent.
                self.pairs.clear();
                self.direction.clear();
                self.direction.extend(current.grad.iter().map(|&g| -g));
                slope = dot(&self.direction, &current.grad);
            }
            // Without curvature information, scale the first trial so the
            // step has length at most 1.
            let alpha = if self.pairs.is_empty() {
                F::one().min(F::one() / norm(&current.grad))
            } else {
                F::one()
            };
            let conditions = self.conditions();
            let mut search = Search::new(
                objective,
                &current.x,
                current.value,
                &self.direction,
                slope,
                conditions,
                &mut self.buffers,
            );
            let outcome = search.run(alpha);
            current.evaluations += search.evaluations;
            match outcome {
                // A failure with a curvature model may be the model's fault:
                // retry once along the steepest descent direction.
                Outcome::Failed { .. } if !self.pairs.is_empty() => {
                    self.pairs.clear();
                    self.direction.clear();
                    self.direction.extend(current.grad.iter().map(|&g| -g));
                }
                outcome => break outcome,
            }
        };
        match outcome {
            Outcome::Accepted { value } => {
                let mut x_new = std::mem::take(&mut self.buffers.x);
                let mut grad_new = std::mem::take(&mut self.buffers.grad);
                self.remember(&current.x, &x_new, &current.grad, &grad_new);
                std::mem::swap(&mut current.x, &mut x_new);
                std::mem::swap(&mut current.grad, &mut grad_new);
                current.value = value;
                // Recycle the old point's storage as the next trial buffers.
                self.buffers.x = x_new;
                self.buffers.grad = grad_new;
                Ok(Advance::Moved)
            }
            Outcome::Failed {
                saw_non_finite: true,
            } => Err(Error::NonFinite {
                iteration,
                x: current.x.clone(),
                value: current.value,
            }),
            Outcome::Failed {
                saw_non_finite: false,
            } => Ok(Advance::LineSearchFailed),
        }
    }
}

impl_optimizer!(Lbfgs, "Lbfgs::new()");
crate::structs::impl_struct_minimize!(Lbfgs, "Lbfgs::new()");
