//! Benchmark problems for `autodiff`: objectives written in the subset that
//! `#[differentiate]` supports, hand-written reverse-mode gradients, and peer
//! gradients (num-dual forward dual numbers, the `reverse` tape, central finite
//! differences).
//!
//! Every problem module has the same shape:
//!
//! - `data`/`load` helpers that build or read inputs;
//! - the **objective** (plain Rust over `&[f64]`, `usize` sizes and `&[usize]`
//!   labels, returning `f64`), ready for `#[differentiate(wrt(...))]`;
//! - `*_hand`: a hand-written reverse-mode gradient. It takes the same
//!   arguments as the generated `_adjoint` would (each shadow right after its
//!   parameter), **overwrites** the shadows with the gradient and returns the
//!   objective value;
//! - `*_generic`: a re-implementation over [`scalar::Scalar`] for the peers;
//! - `*_num_dual`, `*_reverse`, `*_fd`: peer gradients, each returning the value
//!   (where the method gives it) and the flat gradient in parameter order.

// The objectives are written with index loops on purpose: that is the subset
// `#[differentiate]` reads, and the shape of ADBench's C++ references.
#![allow(clippy::needless_range_loop, clippy::manual_memcpy)]
// Objectives take every size and input as a parameter, as the macro requires.
#![allow(clippy::too_many_arguments)]

pub mod fd;
pub mod gmm;
pub mod lstm;
pub mod mlp;
pub mod rng;
pub mod rosenbrock;
pub mod scalar;
pub mod softmax;
pub mod util;
