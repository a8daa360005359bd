//! The evals: one module each, named as GradBench's modules. Each exposes
//! `evaluate(function, input)`, which parses the input, times the function
//! and serialises its output.

use crate::protocol::Evaluated;
use serde_json::Value;

pub mod det;
pub mod gmm;
pub mod hello;
pub mod kmeans;
pub mod llsq;
pub mod lse;
pub mod lstm;
pub mod particle;
pub mod saddle;

/// The modules this tool implements, sorted (as `evals.txt`).
pub const MODULES: &[&str] = &[
    "det", "gmm", "hello", "kmeans", "llsq", "lse", "lstm", "particle", "saddle",
];

/// Whether `module` is implemented.
pub fn is_module(module: &str) -> bool {
    MODULES.contains(&module)
}

/// Runs `module::function` on `input`.
pub fn evaluate(module: &str, function: &str, input: &Value) -> Evaluated {
    match module {
        "det" => det::evaluate(function, input),
        "gmm" => gmm::evaluate(function, input),
        "hello" => hello::evaluate(function, input),
        "kmeans" => kmeans::evaluate(function, input),
        "llsq" => llsq::evaluate(function, input),
        "lse" => lse::evaluate(function, input),
        "lstm" => lstm::evaluate(function, input),
        "particle" => particle::evaluate(function, input),
        "saddle" => saddle::evaluate(function, input),
        _ => Err(format!("unknown module `{module}`")),
    }
}

/// The error for a function an eval does not have.
pub(crate) fn unknown(module: &str, function: &str) -> Evaluated {
    Err(format!("module `{module}` has no function `{function}`"))
}
