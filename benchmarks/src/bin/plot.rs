//! Plots criterion's Rosenbrock results: each gradient method's time as a
//! multiple of one objective evaluation, against n (log–log), as a PNG.
//!
//! Reads `<CRITERION_DIR>/rosenbrock/<method>/n=<N>/new/estimates.json` (with
//! the `benchmark.json` beside it, as `summary` does) and writes
//! `rosenbrock_ratio.png` in this crate's directory.
//!
//! Usage: `cargo run --release --bin plot [-- [--mean] [-o OUT.png] [CRITERION_DIR]]`
//! (default directory: this crate's `target/criterion`, or
//! `$CARGO_TARGET_DIR/criterion`; default statistic: the median).

use plotters::prelude::*;
use plotters::style::FontStyle;
use serde_json::Value;
use std::collections::BTreeMap;
use std::error::Error;
use std::path::{Path, PathBuf};

/// The criterion group plotted.
const GROUP: &str = "rosenbrock";
/// Gradient methods, in legend order, with their colours; `objective` is the
/// reference. Methods found but not listed are drawn after these, in grey.
const METHODS: [(&str, RGBColor); 7] = [
    ("hand", RGBColor(0, 0, 0)),
    ("generated_adjoint", RGBColor(0, 90, 200)),
    ("generated_grad", RGBColor(80, 170, 240)),
    ("num_dual", RGBColor(230, 130, 0)),
    ("reverse", RGBColor(0, 150, 70)),
    ("ad_trait", RGBColor(150, 60, 170)),
    ("fd", RGBColor(210, 30, 30)),
];

/// DejaVu Sans, embedded so that plotting needs no system font library
/// (licence: examples/assets/DejaVuSans-LICENSE.txt).
static FONT: &[u8] = include_bytes!("../../../examples/assets/DejaVuSans.ttf");

/// One line of the chart: a method's (n, gradient / objective) points.
struct Series {
    label: String,
    color: RGBColor,
    /// Index of the method in the legend order; picks the marker shape.
    marker: usize,
    points: Vec<(f64, f64)>,
}

fn read_json(p: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()
}

/// `n=100` → 100.
fn parse_n(s: &str) -> Option<f64> {
    s.trim().strip_prefix("n=")?.trim().parse().ok()
}

/// method → n → nanoseconds, for every `<group>/<method>/<size>/new` result.
fn load(dir: &Path, stat: &str) -> BTreeMap<String, BTreeMap<u64, f64>> {
    let mut out: BTreeMap<String, BTreeMap<u64, f64>> = BTreeMap::new();
    let Ok(methods) = std::fs::read_dir(dir.join(GROUP)) else {
        return out;
    };
    for m in methods.flatten() {
        let Ok(sizes) = std::fs::read_dir(m.path()) else {
            continue;
        };
        for s in sizes.flatten() {
            let new = s.path().join("new");
            let Some(est) = read_json(&new.join("estimates.json")) else {
                continue;
            };
            // Names from benchmark.json when present (criterion may escape
            // directory names), else from the directories.
            let bench = read_json(&new.join("benchmark.json"));
            let field = |k: &str| {
                bench
                    .as_ref()
                    .and_then(|b| b[k].as_str().map(str::to_string))
            };
            let method =
                field("function_id").unwrap_or_else(|| m.file_name().to_string_lossy().into());
            let size = field("value_str").unwrap_or_else(|| s.file_name().to_string_lossy().into());
            let (Some(n), Some(ns)) = (parse_n(&size), est[stat]["point_estimate"].as_f64()) else {
                eprintln!("skipping {}", new.display());
                continue;
            };
            out.entry(method).or_default().insert(n as u64, ns);
        }
    }
    out
}

/// A tick label for a log axis: 1, 2 and 5 times a power of ten (`0.5`,
/// `20`, `1e6`); other values stay blank.
fn log_tick(v: f64) -> String {
    if v.is_nan() || v <= 0.0 {
        return String::new();
    }
    let exponent = v.log10().floor();
    let mantissa = v / 10f64.powf(exponent);
    let nice = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .any(|m| (mantissa - m).abs() < 1e-6);
    if !nice {
        String::new()
    } else if (1e-3..1e6).contains(&v) {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{v:.0e}")
    }
}

fn plot(out: &Path, stat: &str, series: &[Series]) -> Result<(), Box<dyn Error>> {
    plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
        .map_err(|_| "the embedded font could not be read")?;

    let xs = || series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    let ys = || series.iter().flat_map(|s| s.points.iter().map(|p| p.1));
    let x_min = xs().fold(f64::INFINITY, f64::min);
    let x_max = xs().fold(f64::NEG_INFINITY, f64::max);
    let y_min = ys().fold(f64::INFINITY, f64::min);
    let y_max = ys().fold(f64::NEG_INFINITY, f64::max);
    // Room around the points, in log space; at least one decade of y.
    let (y_lo, y_hi) = (
        (y_min / 1.6).min(0.8),
        (y_max * 1.6).max(y_min * 10.0).max(10.0),
    );
    let mut x_keys: Vec<f64> = xs().collect();
    x_keys.sort_by(f64::total_cmp);
    x_keys.dedup();

    let root = BitMapBackend::new(out, (1000, 680)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Rosenbrock: gradient time / objective time",
            ("sans-serif", 28),
        )
        .margin(20)
        .x_label_area_size(55)
        .y_label_area_size(80)
        .build_cartesian_2d(
            (x_min / 1.4..x_max * 1.4)
                .log_scale()
                .with_key_points(x_keys),
            (y_lo..y_hi).log_scale(),
        )?;
    chart
        .configure_mesh()
        .x_desc("n (dimension of x)")
        .y_desc(format!("gradient / objective ({stat} time)"))
        .axis_desc_style(("sans-serif", 20))
        .label_style(("sans-serif", 16))
        .bold_line_style(BLACK.mix(0.12))
        .light_line_style(TRANSPARENT)
        .y_labels(14)
        .x_label_formatter(&|v| format!("{v}"))
        .y_label_formatter(&|v| log_tick(*v))
        .draw()?;

    // A reference line at ratio 1 (the objective itself).
    chart.draw_series(LineSeries::new(
        [(x_min / 1.4, 1.0), (x_max * 1.4, 1.0)],
        BLACK.mix(0.35).stroke_width(1),
    ))?;

    for Series {
        label,
        color,
        marker,
        points,
    } in series
    {
        let style = color.stroke_width(2);
        let filled = color.filled();
        chart
            .draw_series(LineSeries::new(points.iter().copied(), style))?
            .label(label.as_str())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 24, y)], style));
        // Markers alternate so that lines that coincide stay distinguishable.
        match marker % 3 {
            0 => {
                chart.draw_series(points.iter().map(|&p| Circle::new(p, 4, filled)))?;
            }
            1 => {
                chart.draw_series(points.iter().map(|&p| TriangleMarker::new(p, 5, filled)))?;
            }
            _ => {
                chart.draw_series(points.iter().map(|&p| Cross::new(p, 5, style)))?;
            }
        }
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", 17))
        .position(SeriesLabelPosition::UpperLeft)
        .draw()?;
    root.present()?;
    Ok(())
}

fn main() {
    let mut stat = "median";
    let mut dir: Option<PathBuf> = None;
    let mut out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("rosenbrock_ratio.png");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--mean" => stat = "mean",
            "--median" => stat = "median",
            "-o" | "--output" => match args.next() {
                Some(p) => out = PathBuf::from(p),
                None => {
                    eprintln!("-o needs a path");
                    std::process::exit(2);
                }
            },
            "-h" | "--help" => {
                println!("usage: plot [--mean|--median] [-o OUT.png] [CRITERION_DIR]");
                return;
            }
            _ => dir = Some(PathBuf::from(a)),
        }
    }
    let dir = dir.unwrap_or_else(|| match std::env::var_os("CARGO_TARGET_DIR") {
        Some(t) => PathBuf::from(t).join("criterion"),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/criterion"),
    });

    let data = load(&dir, stat);
    let Some(objective) = data.get("objective") else {
        eprintln!(
            "no `{GROUP}/objective` results under {} (run `cargo bench` first)",
            dir.display()
        );
        std::process::exit(1);
    };

    let grey = RGBColor(120, 120, 120);
    let mut names: Vec<(&str, RGBColor)> = METHODS.to_vec();
    for m in data.keys() {
        if m != "objective" && !METHODS.iter().any(|(k, _)| k == m) {
            names.push((m.as_str(), grey));
        }
    }
    let mut series = Vec::new();
    for (marker, (name, color)) in names.into_iter().enumerate() {
        let Some(times) = data.get(name) else {
            eprintln!("note: no results for `{name}`");
            continue;
        };
        let points: Vec<(f64, f64)> = times
            .iter()
            .filter_map(|(&n, &t)| {
                let o = *objective.get(&n)?;
                let r = t / o;
                (r.is_finite() && r > 0.0).then_some((n as f64, r))
            })
            .collect();
        if !points.is_empty() {
            series.push(Series {
                label: name.to_string(),
                color,
                marker,
                points,
            });
        }
    }
    if series.is_empty() {
        eprintln!("no gradient results to plot under {}", dir.display());
        std::process::exit(1);
    }

    if let Err(e) = plot(&out, stat, &series) {
        eprintln!("plotting failed: {e}");
        std::process::exit(1);
    }
    println!("wrote {}", out.display());
    for Series { label, points, .. } in &series {
        let cells: Vec<String> = points
            .iter()
            .map(|(n, r)| format!("n={n}: {r:.2}×"))
            .collect();
        println!("  {label:<18} {}", cells.join(", "));
    }
}
