//! Reads criterion's results (`target/criterion/**/new/estimates.json` with the
//! `benchmark.json` beside it) and prints a markdown table: per problem and
//! size, the objective's time, each gradient method's time as a multiple of
//! the objective's, and generated / hand-written.
//!
//! Usage: `cargo run --release --bin summary [-- [--mean] [CRITERION_DIR]]`
//! (default directory: this crate's `target/criterion`, or
//! `$CARGO_TARGET_DIR/criterion`; default statistic: the median).

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Method columns, in order; `objective` is the reference.
const METHODS: [&str; 7] = [
    "hand",
    "generated_adjoint",
    "generated_grad",
    "num_dual",
    "reverse",
    "ad_trait",
    "fd",
];
/// Problems in the order of the issue; others follow alphabetically.
const PROBLEMS: [&str; 6] = [
    "rosenbrock",
    "softmax",
    "softmax_iter",
    "mlp",
    "gmm",
    "lstm",
];

/// (problem order, problem), (size order, size)
type RowKey = ((usize, String), (Vec<u64>, String));

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "new") {
                if p.join("estimates.json").is_file() && p.join("benchmark.json").is_file() {
                    out.push(p);
                }
            } else {
                collect(&p, out);
            }
        }
    }
}

fn read_json(p: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()
}

/// Formats seconds with a unit.
fn fmt_time(ns: f64) -> String {
    if ns < 1e3 {
        format!("{ns:.1} ns")
    } else if ns < 1e6 {
        format!("{:.2} µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

fn fmt_ratio(r: f64) -> String {
    if r >= 100.0 {
        format!("{r:.0}×")
    } else if r >= 10.0 {
        format!("{r:.1}×")
    } else {
        format!("{r:.2}×")
    }
}

/// Sort key: the numbers in a size label, then the label.
fn size_key(s: &str) -> (Vec<u64>, String) {
    let mut nums = Vec::new();
    let mut cur = String::new();
    for ch in s.chars() {
        if ch.is_ascii_digit() {
            cur.push(ch);
        } else if !cur.is_empty() {
            nums.push(cur.parse().unwrap_or(u64::MAX));
            cur.clear();
        }
    }
    if !cur.is_empty() {
        nums.push(cur.parse().unwrap_or(u64::MAX));
    }
    (nums, s.to_string())
}

fn problem_key(p: &str) -> (usize, String) {
    (
        PROBLEMS
            .iter()
            .position(|&q| q == p)
            .unwrap_or(PROBLEMS.len()),
        p.to_string(),
    )
}

fn main() {
    let mut stat = "median";
    let mut dir: Option<PathBuf> = None;
    for a in std::env::args().skip(1) {
        match a.as_str() {
            "--mean" => stat = "mean",
            "--median" => stat = "median",
            "-h" | "--help" => {
                println!("usage: summary [--mean|--median] [CRITERION_DIR]");
                return;
            }
            _ => dir = Some(PathBuf::from(a)),
        }
    }
    let dir = dir.unwrap_or_else(|| match std::env::var_os("CARGO_TARGET_DIR") {
        Some(t) => PathBuf::from(t).join("criterion"),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/criterion"),
    });

    let mut found = Vec::new();
    collect(&dir, &mut found);
    if found.is_empty() {
        eprintln!(
            "no criterion results under {} (run `cargo bench` first)",
            dir.display()
        );
        std::process::exit(1);
    }

    // (problem, size) -> method -> nanoseconds
    let mut table: BTreeMap<RowKey, BTreeMap<String, f64>> = BTreeMap::new();
    for p in found {
        let (Some(bench), Some(est)) = (
            read_json(&p.join("benchmark.json")),
            read_json(&p.join("estimates.json")),
        ) else {
            eprintln!("skipping unreadable {}", p.display());
            continue;
        };
        let group = bench["group_id"].as_str().unwrap_or("?").to_string();
        let method = bench["function_id"].as_str().unwrap_or("?").to_string();
        let size = bench["value_str"].as_str().unwrap_or("").to_string();
        let Some(ns) = est[stat]["point_estimate"].as_f64() else {
            continue;
        };
        table
            .entry((problem_key(&group), size_key(&size)))
            .or_default()
            .insert(method, ns);
    }

    println!("Gradient time as a multiple of one objective evaluation ({stat} of criterion's samples).\n");
    let mut header = String::from("| problem | size | objective |");
    let mut rule = String::from("|---|---|---:|");
    for m in METHODS {
        header += &format!(" {m} |");
        rule += "---:|";
    }
    header += " generated / hand |";
    rule += "---:|";
    println!("{header}\n{rule}");
    for (((_, problem), (_, size)), times) in &table {
        let obj = times.get("objective").copied();
        let mut row = format!(
            "| {problem} | {size} | {} |",
            obj.map(fmt_time).unwrap_or_else(|| "—".into())
        );
        for m in METHODS {
            let cell = match (times.get(m), obj) {
                (Some(&t), Some(o)) => format!("{} ({})", fmt_ratio(t / o), fmt_time(t)),
                (Some(&t), None) => fmt_time(t),
                _ => "—".into(),
            };
            row += &format!(" {cell} |");
        }
        let hand = times.get("hand").copied();
        let gen: Vec<String> = ["generated_adjoint", "generated_grad"]
            .iter()
            .filter_map(|m| match (times.get(*m), hand) {
                (Some(&t), Some(h)) => Some(format!(
                    "{} ({})",
                    fmt_ratio(t / h),
                    m.trim_start_matches("generated_")
                )),
                _ => None,
            })
            .collect();
        row += &format!(
            " {} |",
            if gen.is_empty() {
                "—".to_string()
            } else {
                gen.join(", ")
            }
        );
        println!("{row}");
    }
    let others: Vec<&String> = table
        .values()
        .flat_map(|m| m.keys())
        .filter(|k| *k != "objective" && !METHODS.contains(&k.as_str()))
        .collect();
    if !others.is_empty() {
        eprintln!("note: methods not shown as columns: {others:?}");
    }
}
