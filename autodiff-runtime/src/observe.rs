//! Watching a run: the [`Iteration`] an observer sees, [`every`], and the
//! ready-made [`Progress`] display.

use std::fmt;
use std::io::{self, Write};
use std::ops::ControlFlow;
use std::time::Instant;

use num_traits::Float;

use crate::error::to_f64;
use crate::Report;

/// What an observer sees after each iteration (and once for the starting
/// point, as iteration 0), before the stopping rules are checked.
///
/// An observer is any `FnMut(&Iteration<'_, F>) -> ControlFlow<()>` passed to
/// `minimize_with`; returning [`ControlFlow::Break`] ends the run with
/// [`StopReason::Observer`](crate::StopReason::Observer).
///
/// # Example
///
/// ```
/// use std::ops::ControlFlow;
/// use autodiff_runtime::{GradientDescent, StopReason};
///
/// let mut values = Vec::new();
/// let report = GradientDescent::new(0.1)
///     .minimize_with(
///         |x: &[f64], g: &mut [f64]| { g[0] = 2.0 * x[0]; x[0] * x[0] },
///         &[1.0],
///         |it| {
///             values.push(it.value);
///             if it.value < 0.1 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
///         },
///     )
///     .unwrap();
/// assert_eq!(report.stop_reason, StopReason::Observer);
/// assert_eq!(values, report.history);
/// ```
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct Iteration<'a, F> {
    /// Iterations taken so far (0 for the starting point).
    pub iteration: usize,
    /// The current iterate.
    pub x: &'a [F],
    /// The objective's value at `x`.
    pub value: F,
    /// The gradient at `x`.
    pub grad: &'a [F],
    /// The Euclidean norm of `grad`.
    pub grad_norm: F,
    /// The lowest value seen so far.
    pub best_value: F,
    /// Objective evaluations so far.
    pub evaluations: usize,
    /// The run's iteration cap ([`Stop::max_iters`](crate::Stop)).
    pub max_iters: usize,
}

/// Wraps an observer so it only sees every `n`-th iteration (0, n, 2n, …);
/// `n == 0` is treated as 1.
///
/// ```
/// use std::ops::ControlFlow;
/// use autodiff_runtime::{every, GradientDescent, Stop};
///
/// let mut seen = Vec::new();
/// GradientDescent::new(0.1)
///     .with_stop(Stop::new().max_iters(25).no_grad_tol())
///     .minimize_with(
///         |x: &[f64], g: &mut [f64]| { g[0] = 2.0 * x[0]; x[0] * x[0] },
///         &[1.0],
///         every(10, |it| { seen.push(it.iteration); ControlFlow::Continue(()) }),
///     )
///     .unwrap();
/// assert_eq!(seen, [0, 10, 20]);
/// ```
pub fn every<F, B>(n: usize, mut observer: B) -> impl FnMut(&Iteration<'_, F>) -> ControlFlow<()>
where
    B: FnMut(&Iteration<'_, F>) -> ControlFlow<()>,
{
    let n = n.max(1);
    move |it| {
        if it.iteration % n == 0 {
            observer(it)
        } else {
            ControlFlow::Continue(())
        }
    }
}

/// A ready-made progress display for `minimize_with`.
///
/// On a terminal (and with the default `progress` feature) it draws an
/// [indicatif](https://docs.rs/indicatif) bar with the value and gradient
/// norm; otherwise (stderr redirected to a file or CI log, or the feature
/// off) it writes one plain line every `n` iterations, about 20 lines per run
/// unless [`Progress::every`] says otherwise. Call [`Progress::finish`] with
/// the report for a closing line.
///
/// # Example
///
/// ```
/// use autodiff_runtime::{Lbfgs, Progress};
///
/// let mut progress = Progress::new();
/// let report = Lbfgs::new()
///     .minimize_with(
///         |x: &[f64], g: &mut [f64]| { g[0] = 2.0 * x[0]; x[0] * x[0] },
///         &[1.0],
///         |it| progress.update(it),
///     )
///     .unwrap();
/// progress.finish(&report);
/// ```
pub struct Progress {
    every: Option<usize>,
    sink: Sink,
    started: Instant,
    #[cfg_attr(not(feature = "progress"), allow(dead_code))]
    last_draw: Option<Instant>,
}

enum Sink {
    #[cfg(feature = "progress")]
    Bar(Option<indicatif::ProgressBar>),
    Lines(Box<dyn Write + Send>),
}

/// How often the bar's message is refreshed; indicatif throttles drawing
/// itself, but formatting the message every iteration would dominate cheap
/// objectives.
#[cfg(feature = "progress")]
const BAR_REFRESH: std::time::Duration = std::time::Duration::from_millis(50);

impl Progress {
    /// A bar on stderr when it is a terminal, plain lines on stderr otherwise.
    ///
    /// ```
    /// let progress = autodiff_runtime::Progress::new();
    /// # drop(progress);
    /// ```
    pub fn new() -> Self {
        #[cfg(feature = "progress")]
        if std::io::IsTerminal::is_terminal(&io::stderr()) {
            return Self::with_sink(Sink::Bar(None));
        }
        Self::with_sink(Sink::Lines(Box::new(io::stderr())))
    }

    /// Plain lines written to `writer` (e.g. a log file or `std::io::stdout()`).
    ///
    /// ```
    /// use autodiff_runtime::{GradientDescent, Progress};
    ///
    /// let mut progress = Progress::lines(std::io::stdout()).every(5);
    /// GradientDescent::new(0.1)
    ///     .minimize_with(
    ///         |x: &[f64], g: &mut [f64]| { g[0] = 2.0 * x[0]; x[0] * x[0] },
    ///         &[1.0],
    ///         |it| progress.update(it),
    ///     )
    ///     .unwrap();
    /// ```
    pub fn lines<W: Write + Send + 'static>(writer: W) -> Self {
        Self::with_sink(Sink::Lines(Box::new(writer)))
    }

    fn with_sink(sink: Sink) -> Self {
        Progress {
            every: None,
            sink,
            started: Instant::now(),
            last_draw: None,
        }
    }

    /// In line mode, writes a line every `n` iterations (`0` is treated as 1).
    ///
    /// ```
    /// let progress = autodiff_runtime::Progress::lines(std::io::sink()).every(100);
    /// # drop(progress);
    /// ```
    pub fn every(mut self, n: usize) -> Self {
        self.every = Some(n.max(1));
        self
    }

    /// The observer: shows `it` and always continues. Use as
    /// `|it| progress.update(it)`.
    ///
    /// ```
    /// use autodiff_runtime::{GradientDescent, Progress};
    ///
    /// let mut progress = Progress::lines(std::io::sink());
    /// GradientDescent::new(0.1)
    ///     .minimize_with(|x: &[f32], g: &mut [f32]| { g[0] = 2.0 * x[0]; x[0] * x[0] }, &[1.0], |it| progress.update(it))
    ///     .unwrap();
    /// ```
    pub fn update<F: Float>(&mut self, it: &Iteration<'_, F>) -> ControlFlow<()> {
        if it.iteration == 0 {
            self.started = Instant::now();
        }
        match &mut self.sink {
            #[cfg(feature = "progress")]
            Sink::Bar(bar) => {
                let bar = bar.get_or_insert_with(|| new_bar(it.max_iters));
                bar.set_position(it.iteration as u64);
                let now = Instant::now();
                if self.last_draw.map_or(true, |t| now - t >= BAR_REFRESH) {
                    self.last_draw = Some(now);
                    bar.set_message(format!(
                        "value {:.6e}  |grad| {:.3e}",
                        to_f64(it.value),
                        to_f64(it.grad_norm)
                    ));
                }
            }
            Sink::Lines(out) => {
                let n = self.every.unwrap_or_else(|| (it.max_iters / 20).max(1));
                if it.iteration % n == 0 {
                    // A progress display must never end a run: write errors are ignored.
                    let _ = writeln!(
                        out,
                        "iter {:>6}/{}  value {:.6e}  best {:.6e}  |grad| {:.3e}  evals {}  {:.2?}",
                        it.iteration,
                        it.max_iters,
                        to_f64(it.value),
                        to_f64(it.best_value),
                        to_f64(it.grad_norm),
                        it.evaluations,
                        self.started.elapsed()
                    );
                }
            }
        }
        ControlFlow::Continue(())
    }

    /// Closes the display with a one-line summary of `report`.
    ///
    /// ```
    /// use autodiff_runtime::{Adam, Progress};
    ///
    /// let mut progress = Progress::lines(std::io::sink());
    /// let report = Adam::new(0.1)
    ///     .minimize_with(|x: &[f64], g: &mut [f64]| { g[0] = 2.0 * x[0]; x[0] * x[0] }, &[1.0], |it| progress.update(it))
    ///     .unwrap();
    /// progress.finish(&report);
    /// ```
    pub fn finish<F: Float>(&mut self, report: &Report<F>) {
        let summary = format!(
            "{} after {} iterations ({} evaluations, {:.2?}): value {:.6e}",
            report.stop_reason,
            report.iterations,
            report.evaluations,
            self.started.elapsed(),
            to_f64(report.value)
        );
        match &mut self.sink {
            #[cfg(feature = "progress")]
            Sink::Bar(bar) => {
                if let Some(bar) = bar.take() {
                    bar.set_position(report.iterations as u64);
                    // `abandon` keeps the position: a run that converged early
                    // should not show a full bar.
                    bar.abandon_with_message(summary);
                }
            }
            Sink::Lines(out) => {
                let _ = writeln!(out, "done: {summary}");
            }
        }
    }
}

#[cfg(feature = "progress")]
fn new_bar(max_iters: usize) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(max_iters as u64);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

impl Default for Progress {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match self.sink {
            #[cfg(feature = "progress")]
            Sink::Bar(_) => "bar",
            Sink::Lines(_) => "lines",
        };
        f.debug_struct("Progress")
            .field("mode", &mode)
            .field("every", &self.every)
            .finish()
    }
}
