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

pub use autodiff_runtime as runtime;
#[doc(no_inline)]
pub use autodiff_runtime::*;

pub use num_traits;
pub use num_traits::Float;

mod dual;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
