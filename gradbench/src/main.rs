//! The GradBench tool binary: reads JSON messages from stdin, one per line, and
//! writes one JSON response per message to stdout, flushing after each.

use std::io::{BufRead, Write};

fn main() {
    let mut tool = autodiff_gradbench::Tool::default();
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for line in stdin.lock().lines() {
        let line = match line {
            Ok(line) => line,
            Err(e) => {
                eprintln!("autodiff-gradbench: cannot read stdin: {e}");
                std::process::exit(1);
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let response = tool.respond(&line);
        if writeln!(out, "{response}")
            .and_then(|_| out.flush())
            .is_err()
        {
            std::process::exit(1);
        }
    }
}
