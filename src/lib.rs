//! Compile-time automatic differentiation for Rust, on stable.
//!
//! Put [`#[differentiate]`](macro@differentiate) on an ordinary numeric function
//! and get its forward-mode (`f_fwd`), reverse-mode (`f_adjoint`) and gradient
//! (`f_grad`) versions, written as plain Rust during compilation: no tape
//! objects, no dual numbers, no nightly compiler.
//!
//! ```
//! use autodiff::differentiate;
//!
//! #[differentiate]
//! fn rosenbrock(x: &[f64]) -> f64 {
//!     let mut s = 0.0;
//!     for i in 0..x.len() - 1 {
//!         let a = 1.0 - x[i];
//!         let b = x[i + 1] - x[i] * x[i];
//!         s += a * a + 100.0 * b * b;
//!     }
//!     s
//! }
//!
//! let (value, grad) = rosenbrock_grad(&[1.0, 1.0, 1.0]);
//! assert_eq!(value, 0.0);
//! assert_eq!(grad, vec![0.0, 0.0, 0.0]);
//! ```
//!
//! The [`runtime`] (also re-exported at the crate root) turns generated gradients
//! into optimisation: gradient descent, momentum, Adam and L-BFGS, stopping
//! rules, reports, progress and gradient checking.
//!
//! ```
//! use autodiff::{differentiate, Lbfgs, Stop};
//!
//! #[differentiate]
//! fn bowl(x: &[f64]) -> f64 {
//!     (x[0] - 1.0) * (x[0] - 1.0) + 10.0 * (x[1] + 2.0) * (x[1] + 2.0)
//! }
//!
//! let report = Lbfgs::new()
//!     .with_stop(Stop::new().grad_tol(1e-10))
//!     .minimize(|x, g| bowl_adjoint(x, g, 1.0), &[0.0, 0.0])
//!     .unwrap();
//! assert!((report.x[0] - 1.0).abs() < 1e-8 && (report.x[1] + 2.0).abs() < 1e-8);
//! ```

#[doc = include_str!("../docs/differentiate.md")]
pub use autodiff_macros::differentiate;

/// Derives [`Differentiable<F>`](trait@Differentiable) for a struct of parameters.
///
/// Float fields are the float type `F`, `Vec<_>`, `[_; N]`, `Box<_>` and tuples of
/// those, and nested `Differentiable` structs; fields that hold no float
/// (integers, `bool`, `String`, `Vec<usize>`, ...) are carried along: `zero_like`
/// clones them, the float vector skips them. `F` is the struct's type parameter
/// bounded by `Float` (`struct Linear<T: Float>`), else `f64` or `f32` as the
/// fields say. `#[differentiable(skip)]` carries along a field of any type.
///
/// A float the derive cannot see (`Option<f64>`, `Rc<f64>`, `HashMap<K, f64>`)
/// is a compile error rather than a float silently left out of the gradient;
/// so are enums and unions.
///
/// ```
/// use autodiff::{Differentiable, Float};
///
/// #[derive(Clone, Debug, PartialEq, Differentiable)]
/// struct Linear<T: Float> {
///     w: Vec<T>,
///     b: T,
///     name: String,
/// }
///
/// #[derive(Clone, Debug, PartialEq, Differentiable)]
/// struct Net {
///     l1: Linear<f64>,
///     l2: Linear<f64>,
///     scale: [f64; 2],
///     #[differentiable(skip)]
///     steps: std::cell::Cell<u32>,
/// }
///
/// let lin = |w: Vec<f64>, b, name: &str| Linear { w, b, name: name.into() };
/// let net = Net {
///     l1: lin(vec![1.0, 2.0], 3.0, "hidden"),
///     l2: lin(vec![4.0], 5.0, "out"),
///     scale: [6.0, 7.0],
///     steps: Default::default(),
/// };
/// assert_eq!(net.float_len(), 7);
/// assert_eq!(net.to_floats(), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
///
/// let mut grad = net.zero_like(); // same shape, floats zero, names copied
/// assert_eq!(grad.l1.w, [0.0, 0.0]);
/// assert_eq!(grad.l2.name, "out");
/// grad.read_floats(&[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]);
/// assert_eq!(grad.l2.b, 0.5);
/// ```
pub use autodiff_macros::Differentiable;

pub use autodiff_runtime as runtime;
#[doc(no_inline)]
pub use autodiff_runtime::*;

pub use num_traits;
pub use num_traits::Float;

mod dual;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
