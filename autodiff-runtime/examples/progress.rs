//! Watch a long run: a progress bar on a terminal, plain lines when stderr is
//! redirected (`cargo run -p autodiff-runtime --example progress 2> log.txt`).

use autodiff_runtime::{GradientDescent, Progress, Stop};

fn rosenbrock(p: &[f64], g: &mut [f64]) -> f64 {
    let (x, y) = (p[0], p[1]);
    g[0] = -2.0 * (1.0 - x) - 400.0 * x * (y - x * x);
    g[1] = 200.0 * (y - x * x);
    // Pretend each evaluation is expensive, so there is something to watch.
    std::thread::sleep(std::time::Duration::from_micros(100));
    (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)
}

fn main() -> Result<(), autodiff_runtime::Error<f64>> {
    let mut progress = Progress::new();
    let report = GradientDescent::new(1.5e-3)
        .with_stop(Stop::new().max_iters(20_000).grad_tol(1e-4))
        .minimize_with(rosenbrock, &[-1.2, 1.0], |it| progress.update(it))?;
    progress.finish(&report);
    println!("{report}");
    Ok(())
}
