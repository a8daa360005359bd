//! A [GradBench](https://github.com/gradbench/gradbench) tool for `autodiff`:
//! the protocol (JSON lines on stdin/stdout) and every eval, each derivative
//! produced by `#[differentiate]`-generated code.
//!
//! [`Tool::respond`] answers one message; `main.rs` feeds it stdin line by line.

// Numerical kernels index several arrays with one loop variable, as the
// evals' definitions do.
#![allow(clippy::needless_range_loop)]

pub mod evals;
pub mod protocol;
pub mod solver;

pub use protocol::{measure, Runs, Tool};
