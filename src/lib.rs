//! Compile-time automatic differentiation.
pub use autodiff_macros::differentiate;
pub use autodiff_runtime as runtime;
pub use num_traits;
pub use num_traits::Float;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
