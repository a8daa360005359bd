//! GradBench's protocol: messages in, responses out, and the timing loop.

use serde::Deserialize;
use serde_json::{json, Value};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use crate::evals;

/// How often an evaluation must run: at least `min_runs` times and at least
/// `min_seconds` of measured time in total.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Runs {
    pub min_runs: usize,
    pub min_seconds: f64,
}

impl Runs {
    /// One run, no minimum time (`hello`, whose input has no runs fields).
    pub const ONCE: Runs = Runs {
        min_runs: 1,
        min_seconds: 0.0,
    };

    /// The `min_runs` and `min_seconds` fields of an eval's input object.
    pub fn of(input: &Value) -> Result<Runs, String> {
        Runs::deserialize(input).map_err(|e| format!("bad input: {e}"))
    }
}

/// What an evaluation returns: its output and the nanoseconds of each run.
pub type Evaluated = Result<(Value, Vec<u64>), String>;

/// Runs `f` until both of `runs`' conditions hold; returns the last result and
/// the duration of every run in nanoseconds. Only `f` is timed.
pub fn measure<T>(runs: Runs, mut f: impl FnMut() -> T) -> (T, Vec<u64>) {
    let mut timings = Vec::new();
    let mut total = 0.0;
    loop {
        let start = Instant::now();
        let out = std::hint::black_box(f());
        let elapsed = start.elapsed();
        timings.push(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX));
        total += elapsed.as_secs_f64();
        if timings.len() >= runs.min_runs.max(1) && total >= runs.min_seconds {
            return (out, timings);
        }
    }
}

/// Parses an eval's input into its typed form.
pub fn parse<T: for<'de> Deserialize<'de>>(input: &Value) -> Result<T, String> {
    T::deserialize(input).map_err(|e| format!("bad input: {e}"))
}

/// The tool's state across messages: the modules defined so far.
#[derive(Debug, Default)]
pub struct Tool {
    defined: Vec<String>,
}

impl Tool {
    /// The response (one JSON line, without the newline) to one message line.
    pub fn respond(&mut self, line: &str) -> String {
        let message: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("autodiff-gradbench: not JSON: {e}");
                return json!({ "id": Value::Null }).to_string();
            }
        };
        let id = message.get("id").cloned().unwrap_or(Value::Null);
        let kind = message.get("kind").and_then(Value::as_str).unwrap_or("");
        let text = |k: &str| message.get(k).and_then(Value::as_str).unwrap_or("");
        let response = match kind {
            "start" => json!({ "id": id, "tool": "autodiff" }),
            "define" => {
                let module = text("module");
                let success = evals::is_module(module);
                if success {
                    self.defined.push(module.to_string());
                    json!({ "id": id, "success": true })
                } else {
                    json!({ "id": id, "success": false, "error": format!("unknown module `{module}`") })
                }
            }
            "evaluate" => {
                let (module, function) = (text("module"), text("function"));
                let input = message.get("input").cloned().unwrap_or(Value::Null);
                let result = if self.defined.iter().any(|m| m == module) {
                    catch_unwind(AssertUnwindSafe(|| {
                        evals::evaluate(module, function, &input)
                    }))
                    .unwrap_or_else(|_| Err(format!("{module}::{function} panicked")))
                } else {
                    Err(format!("module `{module}` is not defined"))
                };
                match result {
                    Ok((output, timings)) => {
                        let timings: Vec<Value> = timings
                            .into_iter()
                            .map(|t| json!({ "name": "evaluate", "nanoseconds": t }))
                            .collect();
                        json!({ "id": id, "success": true, "output": output, "timings": timings })
                    }
                    Err(error) => json!({ "id": id, "success": false, "error": error }),
                }
            }
            _ => json!({ "id": id }),
        };
        response.to_string()
    }
}
