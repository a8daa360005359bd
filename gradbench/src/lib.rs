//! A [GradBench](https://github.com/gradbench/gradbench) tool for `autodiff`:
//! the protocol (JSON lines on stdin/stdout) and every eval, each derivative
//! produced by `#[differentiate]`-generated code.
//!
//! [`Tool::respond`] answers one message; `main.rs` feeds it stdin line by line.

pub mod evals;
pub mod protocol;
pub mod solver;

pub use protocol::{measure, Runs, Tool};
