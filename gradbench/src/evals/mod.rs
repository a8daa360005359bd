//! The evals: one module each, named as GradBench's modules. Each exposes
//! `evaluate(function, input)`, which parses the input, times the function
//! and serialises its output.

use crate::protocol::Evaluated;
use serde_json::Value;

pub mod ba;
pub mod det;
pub mod gmm;
pub mod hello;
pub mod ht;
pub mod kmeans;
pub mod llsq;
pub mod lse;
pub mod lstm;
pub mod ode;
pub mod particle;
pub mod saddle;

/// The modules this tool implements, sorted (as `evals.txt`).
pub const MODULES: &[&str] = &[
    "ba", "det", "gmm", "hello", "ht", "kmeans", "llsq", "lse", "lstm", "ode", "particle", "saddle",
];

/// Whether `module` is implemented.
pub fn is_module(module: &str) -> bool {
    MODULES.contains(&module)
}

/// Runs `module::function` on `input`.
pub fn evaluate(module: &str, function: &str, input: &Value) -> Evaluated {
    match module {
        "ba" => ba::evaluate(function, input),
        "det" => det::evaluate(function, input),
        "gmm" => gmm::evaluate(function, input),
        "hello" => hello::evaluate(function, input),
        "ht" => ht::evaluate(function, input),
        "kmeans" => kmeans::evaluate(function, input),
        "llsq" => llsq::evaluate(function, input),
        "lse" => lse::evaluate(function, input),
        "lstm" => lstm::evaluate(function, input),
        "ode" => ode::evaluate(function, input),
        "particle" => particle::evaluate(function, input),
        "saddle" => saddle::evaluate(function, input),
        _ => Err(format!("unknown module `{module}`")),
    }
}

/// The error for a function an eval does not have.
pub(crate) fn unknown(module: &str, function: &str) -> Evaluated {
    Err(format!("module `{module}` has no function `{function}`"))
}
