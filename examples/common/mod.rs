//! Helpers shared by the examples: the digits data set, a seeded
//! train/test split, feature standardisation, mini-batches and loss-curve
//! PNGs. Included from each example with `mod common;`.

// Each example uses a different part of this module.
#![allow(dead_code)]

use std::error::Error;
use std::path::{Path, PathBuf};

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;
use plotters::style::FontStyle;

/// A classification data set in row-major form: `n` samples of `d` features,
/// labels in `0..k`.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// `n × d` features, row-major.
    pub x: Vec<f64>,
    /// `n` labels in `0..k`.
    pub labels: Vec<usize>,
    pub n: usize,
    pub d: usize,
    pub k: usize,
}

impl Dataset {
    /// The `i`-th sample's features.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.d..(i + 1) * self.d]
    }

    /// The samples at `idx`, in that order (a mini-batch or a split).
    pub fn select(&self, idx: &[usize]) -> Dataset {
        let mut x = Vec::with_capacity(idx.len() * self.d);
        let mut labels = Vec::with_capacity(idx.len());
        for &i in idx {
            x.extend_from_slice(self.row(i));
            labels.push(self.labels[i]);
        }
        Dataset {
            x,
            labels,
            n: idx.len(),
            d: self.d,
            k: self.k,
        }
    }
}

/// The UCI / scikit-learn 8×8 handwritten digits: 1797 images of 64 pixels
/// (intensities 0..16), 10 classes. The data ship inside the `smartcore`
/// crate, so nothing is downloaded.
pub fn load_digits() -> Dataset {
    let raw = smartcore::dataset::digits::load_dataset();
    let x: Vec<f64> = raw.data.iter().map(|&v| f64::from(v)).collect();
    let labels: Vec<usize> = raw.target.iter().map(|&c| c as usize).collect();
    let k = labels.iter().max().map_or(0, |&m| m + 1);
    assert_eq!(x.len(), raw.num_samples * raw.num_features);
    Dataset {
        x,
        labels,
        n: raw.num_samples,
        d: raw.num_features,
        k,
    }
}

/// A tiny, seeded pseudo-random generator (64-bit LCG, Knuth's MMIX
/// constants; the high bits are used): enough for shuffling and
/// initialisation, and the same on every machine.
#[derive(Clone, Debug)]
pub struct Lcg(u64);

impl Lcg {
    pub fn new(seed: u64) -> Self {
        let mut rng = Lcg(seed ^ 0x9E37_79B9_7F4A_7C15);
        rng.next_u32();
        rng
    }

    pub fn next_u32(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 32) as u32
    }

    /// Uniform in `[0, 1)`.
    pub fn uniform(&mut self) -> f64 {
        f64::from(self.next_u32()) / 4_294_967_296.0
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.uniform() * n as f64) as usize).min(n - 1)
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform(); // (0, 1]: ln is finite
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            v.swap(i, self.below(i + 1));
        }
    }
}

/// Shuffles the samples with `seed` and puts `test_fraction` of them in the
/// test set: `(train, test)`.
pub fn train_test_split(data: &Dataset, test_fraction: f64, seed: u64) -> (Dataset, Dataset) {
    let mut idx: Vec<usize> = (0..data.n).collect();
    Lcg::new(seed).shuffle(&mut idx);
    let n_test = (data.n as f64 * test_fraction).round() as usize;
    let (test, train) = idx.split_at(n_test);
    (data.select(train), data.select(test))
}

/// Standardises every feature to mean 0 and standard deviation 1 with the
/// statistics of `train` (constant features, such as always-blank pixels,
/// are only centred), and applies the same transform to `test`.
pub fn standardize(train: &mut Dataset, test: &mut Dataset) {
    let d = train.d;
    let mut mean = vec![0.0; d];
    let mut var = vec![0.0; d];
    for i in 0..train.n {
        for (m, v) in mean.iter_mut().zip(train.row(i)) {
            *m += v / train.n as f64;
        }
    }
    for i in 0..train.n {
        for ((s, v), m) in var.iter_mut().zip(train.row(i)).zip(&mean) {
            *s += (v - m).powi(2) / train.n as f64;
        }
    }
    let scale: Vec<f64> = var
        .iter()
        .map(|&v| if v > 1e-12 { 1.0 / v.sqrt() } else { 1.0 })
        .collect();
    for set in [train, test] {
        for row in set.x.chunks_mut(d) {
            for ((v, m), s) in row.iter_mut().zip(&mean).zip(&scale) {
                *v = (*v - m) * s;
            }
        }
    }
}

/// The index of the largest value (the predicted class from scores).
pub fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// Euclidean norm, to print a gradient's size.
pub fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// `target/NAME`: the project's target directory (or `CARGO_TARGET_DIR`).
pub fn target_path(name: &str) -> PathBuf {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    let _ = std::fs::create_dir_all(&dir);
    dir.join(name)
}

/// DejaVu Sans, embedded so that plotting needs no system font library
/// (licence: examples/assets/DejaVuSans-LICENSE.txt).
static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// One line of a chart: a legend label and `(x, y)` points.
pub struct Series<'a> {
    pub label: &'a str,
    pub points: Vec<(f64, f64)>,
}

/// Draws `series` as lines on a logarithmic y axis (values must be > 0) and
/// writes a 900×600 PNG to `path`.
pub fn plot_log_curves(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series<'_>],
) -> Result<(), Box<dyn Error>> {
    let (x_min, x_max) = x_bounds(series);
    draw(
        path,
        title,
        x_label,
        y_label,
        series,
        x_min.min(0.0)..x_max,
        linear_tick,
    )
}

/// Like [`plot_log_curves`], with a logarithmic x axis too (x must be > 0):
/// for runs whose lengths differ by orders of magnitude.
pub fn plot_log_log_curves(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series<'_>],
) -> Result<(), Box<dyn Error>> {
    let (x_min, x_max) = x_bounds(series);
    draw(
        path,
        title,
        x_label,
        y_label,
        series,
        (x_min..x_max).log_scale(),
        log_tick,
    )
}

/// The smallest positive and the largest x in `series`.
fn x_bounds(series: &[Series<'_>]) -> (f64, f64) {
    let xs = series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    let (lo, hi) = xs
        .filter(|x| x.is_finite() && *x > 0.0)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
            (lo.min(x), hi.max(x))
        });
    if lo < hi {
        (lo, hi)
    } else {
        (1.0, 10.0)
    }
}

fn draw<X>(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series<'_>],
    x_spec: X,
    x_tick: fn(f64) -> String,
) -> Result<(), Box<dyn Error>>
where
    X: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
{
    // Registering twice is harmless; the bytes are always a valid font.
    plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
        .map_err(|_| "the embedded font could not be read")?;

    let ys = series.iter().flat_map(|s| s.points.iter().map(|p| p.1));
    let (mut y_min, mut y_max) = ys
        .filter(|y| y.is_finite() && *y > 0.0)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), y| {
            (lo.min(y), hi.max(y))
        });
    if y_min >= y_max || !y_min.is_finite() {
        (y_min, y_max) = (0.1, 10.0);
    }
    // A little room above and below, in log space.
    let (y_lo, y_hi) = (y_min / 1.5, y_max * 1.5);

    let root = BitMapBackend::new(path, (900, 600)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 26))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(x_spec, (y_lo..y_hi).log_scale())?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .axis_desc_style(("sans-serif", 18))
        .label_style(("sans-serif", 14))
        .light_line_style(TRANSPARENT)
        .y_labels(12)
        .x_label_formatter(&|v| x_tick(*v))
        .y_label_formatter(&|v| log_tick(*v))
        .draw()?;

    let colors = [BLUE, RED, GREEN, MAGENTA, CYAN, BLACK];
    for (s, &color) in series.iter().zip(colors.iter().cycle()) {
        let style = ShapeStyle::from(color).stroke_width(2);
        chart
            .draw_series(LineSeries::new(
                s.points
                    .iter()
                    .copied()
                    .filter(|&(_, y)| y.is_finite() && y > 0.0),
                style,
            ))?
            .label(s.label)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 24, y)], style));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 16))
        .position(SeriesLabelPosition::LowerLeft)
        .draw()?;
    root.present()?;
    Ok(())
}

/// A tick label for a log axis: only 1, 2 and 5 times a power of ten are
/// labelled (`0.5`, `2`, `1e-6`), the other ticks stay blank.
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

/// A tick label for a linear axis: `0`, `2.5`, `1000`.
fn linear_tick(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Data points and a fitted curve on linear axes, written as a 900×600 PNG.
pub fn plot_fit(
    path: &Path,
    title: &str,
    (x_label, y_label): (&str, &str),
    data: &[(f64, f64)],
    curve: &[(f64, f64)],
    curve_label: &str,
) -> Result<(), Box<dyn Error>> {
    plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
        .map_err(|_| "the embedded font could not be read")?;
    let all = data.iter().chain(curve);
    let x_max = all.clone().map(|p| p.0).fold(0.0, f64::max) * 1.05;
    let y_max = all.map(|p| p.1).fold(0.0, f64::max) * 1.1;
    let root = BitMapBackend::new(path, (900, 600)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 26))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..x_max, 0.0..y_max)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .axis_desc_style(("sans-serif", 18))
        .label_style(("sans-serif", 14))
        .light_line_style(TRANSPARENT)
        .draw()?;
    let line = ShapeStyle::from(BLUE).stroke_width(2);
    chart
        .draw_series(LineSeries::new(curve.iter().copied(), line))?
        .label(curve_label)
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 24, y)], line));
    chart
        .draw_series(data.iter().map(|&p| Circle::new(p, 5, RED.filled())))?
        .label("data")
        .legend(|(x, y)| Circle::new((x + 12, y), 5, RED.filled()));
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 16))
        .position(SeriesLabelPosition::LowerRight)
        .draw()?;
    root.present()?;
    Ok(())
}
