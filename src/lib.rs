//! Compile-time automatic differentiation.
pub use autodiff_macros::differentiate;
pub use autodiff_runtime as runtime;
pub use num_traits;
pub use num_traits::Float;

#[doc(hidden)]
pub mod __private {
    pub use num_traits::{Float, FromPrimitive, NumCast, One, ToPrimitive, Zero};
}
