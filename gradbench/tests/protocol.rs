//! The protocol, through the binary as GradBench runs it: JSON lines on
//! stdin, one response line per message with the same id, exit 0 at EOF.

use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};

/// Sends `messages` to a fresh tool process; returns its response lines and exit status.
fn session(messages: &[Value]) -> (Vec<Value>, std::process::ExitStatus) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_autodiff-gradbench"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the tool starts");
    {
        let mut stdin = child.stdin.take().unwrap();
        for m in messages {
            writeln!(stdin, "{m}").unwrap();
        }
        // dropped: EOF
    }
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let lines = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect();
    (lines, out.status)
}

#[test]
fn a_whole_session() {
    let lse_input = json!({"x": [1.0, 2.0, 3.0], "min_runs": 5, "min_seconds": 0.0});
    let messages = [
        json!({"id": 0, "kind": "start", "eval": "lse", "config": {"anything": [1, 2]}}),
        json!({"id": 1, "kind": "define", "module": "lse"}),
        json!({"id": 2, "kind": "evaluate", "module": "lse", "function": "primal", "input": lse_input, "description": "n=3"}),
        json!({"id": 3, "kind": "analysis", "of": 2, "valid": true}),
        json!({"id": 4, "kind": "evaluate", "module": "lse", "function": "gradient", "input": lse_input}),
        json!({"id": 5, "kind": "analysis", "of": 4, "valid": false, "error": "mismatch"}),
        json!({"id": 6, "kind": "something_new"}),
    ];
    let (r, status) = session(&messages);
    assert!(status.success(), "exit 0 at EOF");
    assert_eq!(r.len(), messages.len(), "one response per message");
    for (i, resp) in r.iter().enumerate() {
        assert_eq!(resp["id"], i, "ids in order");
    }
    assert_eq!(r[0]["tool"], "autodiff");
    assert_eq!(r[1], json!({"id": 1, "success": true}));
    // evaluate: success, output, one integer `evaluate` timing per run (min_runs = 5)
    assert_eq!(r[2]["success"], true);
    assert!(r[2].get("error").is_none());
    let y = r[2]["output"].as_f64().unwrap();
    assert!((y - 3.40760596444438).abs() < 1e-12);
    let timings = r[2]["timings"].as_array().unwrap();
    assert_eq!(timings.len(), 5);
    for t in timings {
        assert_eq!(t["name"], "evaluate");
        assert!(t["nanoseconds"].is_u64(), "integer nanoseconds: {t}");
    }
    assert_eq!(r[4]["output"].as_array().unwrap().len(), 3);
    assert_eq!(r[3], json!({"id": 3}));
    assert_eq!(r[5], json!({"id": 5}));
    assert_eq!(r[6], json!({"id": 6}));
}

#[test]
fn an_unknown_module_is_not_defined() {
    let (r, status) = session(&[
        json!({"id": 0, "kind": "start"}),
        json!({"id": 1, "kind": "define", "module": "no_such_eval"}),
    ]);
    assert!(status.success());
    assert_eq!(r[1]["success"], false);
    assert!(r[1]["error"].as_str().unwrap().contains("no_such_eval"));
}

#[test]
fn min_seconds_repeats_until_the_time_is_spent() {
    let input = json!({"x": vec![0.5; 10000], "min_runs": 1, "min_seconds": 0.05});
    let (r, _) = session(&[
        json!({"id": 0, "kind": "define", "module": "lse"}),
        json!({"id": 1, "kind": "evaluate", "module": "lse", "function": "gradient", "input": input}),
    ]);
    let timings = r[1]["timings"].as_array().unwrap();
    let total: u64 = timings
        .iter()
        .map(|t| t["nanoseconds"].as_u64().unwrap())
        .sum();
    assert!(total >= 50_000_000, "{total} ns");
    assert!(timings.len() > 1);
}

#[test]
fn failures_are_reported_not_fatal() {
    let (r, status) = session(&[
        json!({"id": 0, "kind": "define", "module": "det"}),
        // an unknown function, a bad input, a panic-free size mismatch
        json!({"id": 1, "kind": "evaluate", "module": "det", "function": "nope", "input": {"A": [1.0], "ell": 1, "min_runs": 1, "min_seconds": 0}}),
        json!({"id": 2, "kind": "evaluate", "module": "det", "function": "primal", "input": {"A": "x"}}),
        json!({"id": 3, "kind": "evaluate", "module": "det", "function": "primal", "input": {"A": [1.0, 2.0], "ell": 2, "min_runs": 1, "min_seconds": 0}}),
        // an evaluate of a module that was never defined
        json!({"id": 4, "kind": "evaluate", "module": "lse", "function": "primal", "input": {"x": [1.0], "min_runs": 1, "min_seconds": 0}}),
        json!({"id": 5, "kind": "evaluate", "module": "det", "function": "primal", "input": {"A": [2.0], "ell": 1, "min_runs": 1, "min_seconds": 0}}),
    ]);
    assert!(status.success());
    assert_eq!(r.len(), 6);
    for resp in &r[1..5] {
        assert_eq!(resp["success"], false, "{resp}");
        assert!(resp["error"].is_string());
        assert!(resp.get("output").is_none());
    }
    assert_eq!(r[5]["output"], 2.0);
}

#[test]
fn the_module_list_is_sorted_and_matches_evals_txt() {
    let listed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/evals.txt")).unwrap();
    let listed: Vec<&str> = listed.lines().collect();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(listed, sorted, "evals.txt is sorted");
    assert_eq!(listed, autodiff_gradbench::evals::MODULES);
    for m in &listed {
        assert!(autodiff_gradbench::evals::is_module(m));
    }
}
