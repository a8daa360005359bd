//! Line searches along a descent direction (used by L-BFGS): strong Wolfe
//! (Nocedal & Wright, algorithms 3.5 and 3.6) and Armijo backtracking.

use num_traits::Float;

use crate::util::{all_finite, constant, dot, evaluate};

/// Which conditions L-BFGS's line search enforces on a step.
///
/// # Example
///
/// ```
/// use autodiff_runtime::{Lbfgs, LineSearch};
///
/// let f = |x: &[f64], g: &mut [f64]| { g[0] = 4.0 * x[0].powi(3); x[0].powi(4) };
/// let report = Lbfgs::new().line_search(LineSearch::Backtracking).minimize(f, &[1.0]).unwrap();
/// assert!(report.x[0].abs() < 1e-1);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LineSearch {
    /// Sufficient decrease (`c1`) and the strong curvature condition (`c2`),
    /// found by bracketing and cubic interpolation. Keeps L-BFGS's curvature
    /// pairs positive, so it is the default.
    #[default]
    StrongWolfe,
    /// Halve the step until the sufficient-decrease (Armijo, `c1`) condition
    /// holds. Cheaper per step; curvature pairs that are not positive are skipped.
    Backtracking,
}

/// The constants of one search.
#[derive(Clone, Copy)]
pub(crate) struct Conditions<F> {
    pub kind: LineSearch,
    pub c1: F,
    pub c2: F,
    pub max_evals: usize,
}

/// How a search ended. On `Accepted` the search's trial buffers hold the
/// accepted point and its gradient.
pub(crate) enum Outcome<F> {
    Accepted { value: F },
    Failed { saw_non_finite: bool },
}

/// Scratch buffers, kept by the optimiser so searches do not allocate.
#[derive(Clone, Debug)]
pub(crate) struct Buffers<F> {
    pub x: Vec<F>,
    pub grad: Vec<F>,
    fallback_x: Vec<F>,
    fallback_grad: Vec<F>,
}

impl<F> Default for Buffers<F> {
    fn default() -> Self {
        Buffers {
            x: Vec::new(),
            grad: Vec::new(),
            fallback_x: Vec::new(),
            fallback_grad: Vec::new(),
        }
    }
}

/// A point on the line: step length, value, directional derivative.
#[derive(Clone, Copy)]
struct Point<F> {
    alpha: F,
    value: F,
    slope: F,
}

/// One search along `direction` from `x`.
pub(crate) struct Search<'a, F, O> {
    pub objective: &'a mut O,
    pub x: &'a [F],
    pub value: F,
    pub direction: &'a [F],
    /// Directional derivative at `x`; must be negative.
    pub slope: F,
    pub conditions: Conditions<F>,
    pub buffers: &'a mut Buffers<F>,
    pub evaluations: usize,
    saw_non_finite: bool,
    /// The lowest value among trials satisfying sufficient decrease, whose
    /// point is in `buffers.fallback_*`: accepted if the search runs out.
    fallback: Option<F>,
}

impl<'a, F, O> Search<'a, F, O>
where
    F: Float,
    O: FnMut(&[F], &mut [F]) -> F,
{
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        objective: &'a mut O,
        x: &'a [F],
        value: F,
        direction: &'a [F],
        slope: F,
        conditions: Conditions<F>,
        buffers: &'a mut Buffers<F>,
    ) -> Self {
        let n = x.len();
        buffers.x.resize(n, F::zero());
        buffers.grad.resize(n, F::zero());
        Search {
            objective,
            x,
            value,
            direction,
            slope,
            conditions,
            buffers,
            evaluations: 0,
            saw_non_finite: false,
            fallback: None,
        }
    }

    /// Runs the search with a first trial step `alpha`.
    pub fn run(&mut self, alpha: F) -> Outcome<F> {
        match self.conditions.kind {
            LineSearch::StrongWolfe => self.strong_wolfe(alpha),
            LineSearch::Backtracking => self.backtracking(alpha),
        }
    }

    fn sufficient_decrease(&self, alpha: F, value: F) -> bool {
        value <= self.value + self.conditions.c1 * alpha * self.slope
    }

    fn curvature(&self, slope: F) -> bool {
        slope.abs() <= -self.conditions.c2 * self.slope
    }

    fn budget_left(&self) -> bool {
        self.evaluations < self.conditions.max_evals
    }

    /// Evaluates at `x + alpha·direction` into the trial buffers; `None` when
    /// value or gradient is not finite (treated as "step too long").
    fn probe(&mut self, alpha: F) -> Option<Point<F>> {
        for ((t, &x), &d) in self.buffers.x.iter_mut().zip(self.x).zip(self.direction) {
            *t = x + alpha * d;
        }
        let value = evaluate(self.objective, &self.buffers.x, &mut self.buffers.grad);
        self.evaluations += 1;
        if !(value.is_finite() && all_finite(&self.buffers.grad)) {
            self.saw_non_finite = true;
            return None;
        }
        if self.sufficient_decrease(alpha, value) && self.fallback.map_or(true, |f| value < f) {
            self.fallback = Some(value);
            self.buffers.fallback_x.clone_from(&self.buffers.x);
            self.buffers.fallback_grad.clone_from(&self.buffers.grad);
        }
        Some(Point {
            alpha,
            value,
            slope: dot(&self.buffers.grad, self.direction),
        })
    }

    fn strong_wolfe(&mut self, mut alpha: F) -> Outcome<F> {
        let two = constant::<F>(2.0);
        let mut previous = Point {
            alpha: F::zero(),
            value: self.value,
            slope: self.slope,
        };
        let mut first = true;
        while self.budget_left() {
            let Some(point) = self.probe(alpha) else {
                return self.zoom(previous, too_far(alpha));
            };
            if !self.sufficient_decrease(alpha, point.value)
                || (!first && point.value >= previous.value)
            {
                return self.zoom(previous, point);
            }
            if self.curvature(point.slope) {
                return Outcome::Accepted { value: point.value };
            }
            if point.slope >= F::zero() {
                return self.zoom(point, previous);
            }
            previous = point;
            alpha = alpha * two;
            first = false;
        }
        self.give_up()
    }

    /// Narrows `[lo, hi]` (in either order) that contains a strong-Wolfe
    /// point; `lo` satisfies sufficient decrease and has the lower value.
    fn zoom(&mut self, mut lo: Point<F>, mut hi: Point<F>) -> Outcome<F> {
        while self.budget_left() {
            let scale = lo.alpha.abs().max(hi.alpha.abs());
            if (hi.alpha - lo.alpha).abs() <= F::epsilon() * scale {
                break;
            }
            let alpha = interpolate(lo, hi);
            let Some(point) = self.probe(alpha) else {
                hi = too_far(alpha);
                continue;
            };
            if !self.sufficient_decrease(alpha, point.value) || point.value >= lo.value {
                hi = point;
            } else {
                if self.curvature(point.slope) {
                    return Outcome::Accepted { value: point.value };
                }
                if point.slope * (hi.alpha - lo.alpha) >= F::zero() {
                    hi = lo;
                }
                lo = point;
            }
        }
        self.give_up()
    }

    fn backtracking(&mut self, mut alpha: F) -> Outcome<F> {
        let half = constant::<F>(0.5);
        while self.budget_left() {
            if let Some(point) = self.probe(alpha) {
                if self.sufficient_decrease(alpha, point.value) {
                    return Outcome::Accepted { value: point.value };
                }
            }
            alpha = alpha * half;
        }
        self.give_up()
    }

    /// Out of budget or interval: accept the best sufficient-decrease point
    /// seen, if any.
    fn give_up(&mut self) -> Outcome<F> {
        match self.fallback {
            Some(value) => {
                std::mem::swap(&mut self.buffers.x, &mut self.buffers.fallback_x);
                std::mem::swap(&mut self.buffers.grad, &mut self.buffers.fallback_grad);
                Outcome::Accepted { value }
            }
            None => Outcome::Failed {
                saw_non_finite: self.saw_non_finite,
            },
        }
    }
}

/// A trial where the objective was not finite: an upper end of the bracket
/// with an infinite value, so interpolation falls back to bisection.
fn too_far<F: Float>(alpha: F) -> Point<F> {
    Point {
        alpha,
        value: F::infinity(),
        slope: F::nan(),
    }
}

/// The minimiser of the cubic through `lo` and `hi` (values and slopes),
/// kept at least 10% of the interval away from both ends; bisection when the
/// cubic is unusable.
fn interpolate<F: Float>(lo: Point<F>, hi: Point<F>) -> F {
    let (low, high) = if lo.alpha < hi.alpha {
        (lo.alpha, hi.alpha)
    } else {
        (hi.alpha, lo.alpha)
    };
    let half = constant::<F>(0.5);
    let midpoint = low + half * (high - low);
    let margin = constant::<F>(0.1) * (high - low);
    match cubic_minimizer(lo, hi) {
        Some(alpha) if alpha >= low + margin && alpha <= high - margin => alpha,
        _ => midpoint,
    }
}

fn cubic_minimizer<F: Float>(a: Point<F>, b: Point<F>) -> Option<F> {
    let three = constant::<F>(3.0);
    let two = constant::<F>(2.0);
    let d1 = a.slope + b.slope - three * (a.value - b.value) / (a.alpha - b.alpha);
    let discriminant = d1 * d1 - a.slope * b.slope;
    if discriminant.is_nan() || discriminant < F::zero() {
        return None;
    }
    let d2 = (b.alpha - a.alpha).signum() * discriminant.sqrt();
    let alpha =
        b.alpha - (b.alpha - a.alpha) * (b.slope + d2 - d1) / (b.slope - a.slope + two * d2);
    alpha.is_finite().then_some(alpha)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cubic_interpolation_is_exact_on_a_cubic() {
        // φ(α) = (α - 1)³ - 3(α - 1) has its local minimum at α = 2.
        let phi = |a: f64| (a - 1.0).powi(3) - 3.0 * (a - 1.0);
        let dphi = |a: f64| 3.0 * (a - 1.0).powi(2) - 3.0;
        let at = |alpha| Point {
            alpha,
            value: phi(alpha),
            slope: dphi(alpha),
        };
        let alpha = cubic_minimizer(at(1.5), at(3.0)).unwrap();
        assert!((alpha - 2.0).abs() < 1e-12);
        assert_eq!(interpolate(at(1.5), too_far(3.0)), 2.25);
    }
}
