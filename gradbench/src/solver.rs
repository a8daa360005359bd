//! The gradient-descent solver shared by `particle` and `saddle`, as GradBench
//! specifies it (their results are checked against constants, so it follows
//! the reference step by step). Generic over the float type: the nested evals
//! run it on dual numbers inside differentiated functions.

use autodiff::Float;

/// Which AD mode computes a gradient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Forward,
    Reverse,
}

impl Mode {
    /// The modes of a particle/saddle function name: (outer, inner), e.g. `"fr"`.
    pub fn pair(function: &str) -> Option<(Mode, Mode)> {
        let m = |c: u8| match c {
            b'f' => Some(Mode::Forward),
            b'r' => Some(Mode::Reverse),
            _ => None,
        };
        match function.as_bytes() {
            [a, b] => Some((m(*a)?, m(*b)?)),
            _ => None,
        }
    }
}

fn norm<T: Float>(v: impl Iterator<Item = T>) -> T {
    v.fold(T::zero(), |s, x| s + x * x).sqrt()
}

/// Gradient descent with GradBench's step-size rule: stop when ‖∇f‖ ≤ 1e-5 or
/// a step moves less than 1e-5; a step that does not decrease f halves η, ten
/// decreasing steps in a row double it. Starts at `x0`, with η = 1e-5.
pub fn argmin<T: Float>(f: impl Fn(&[T]) -> T, grad: impl Fn(&[T]) -> Vec<T>, x0: &[T]) -> Vec<T> {
    let tol = T::from(1e-5).unwrap();
    let two = T::one() + T::one();
    let mut x = x0.to_vec();
    let mut fx = f(&x);
    let mut g = grad(&x);
    let mut i = 0;
    let mut eta = tol;
    loop {
        if norm(g.iter().copied()) <= tol {
            return x;
        }
        if i == 10 {
            eta = eta * two;
            i = 0;
            continue;
        }
        let next: Vec<T> = x.iter().zip(&g).map(|(&a, &b)| a - eta * b).collect();
        if norm(x.iter().zip(&next).map(|(&a, &b)| a - b)) <= tol {
            return x;
        }
        let f_next = f(&next);
        if f_next < fx {
            x = next;
            fx = f_next;
            g = grad(&x);
            i += 1;
        } else {
            eta = eta / two;
            i = 0;
        }
    }
}

/// argmin(−f).
pub fn argmax<T: Float>(f: impl Fn(&[T]) -> T, grad: impl Fn(&[T]) -> Vec<T>, x0: &[T]) -> Vec<T> {
    argmin(|x| -f(x), |x| grad(x).into_iter().map(|g| -g).collect(), x0)
}
