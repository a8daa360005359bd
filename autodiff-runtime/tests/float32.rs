//! Everything works in `f32`.

use autodiff_runtime::{check_gradient, Adam, GradientDescent, Lbfgs, Momentum, Stop, StopReason};

fn rosenbrock(p: &[f32], g: &mut [f32]) -> f32 {
    let (x, y) = (p[0], p[1]);
    g[0] = -2.0 * (1.0 - x) - 400.0 * x * (y - x * x);
    g[1] = 200.0 * (y - x * x);
    (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)
}

fn bowl(x: &[f32], g: &mut [f32]) -> f32 {
    g[0] = 2.0 * (x[0] - 1.0);
    g[1] = 4.0 * (x[1] + 2.0);
    (x[0] - 1.0).powi(2) + 2.0 * (x[1] + 2.0).powi(2)
}

#[test]
fn optimisers_in_f32() {
    let stop = Stop::new().grad_tol(1e-3_f32);
    let near = |x: &[f32]| (x[0] - 1.0).abs() < 1e-3 && (x[1] + 2.0).abs() < 1e-3;
    let r = GradientDescent::new(0.2_f32)
        .with_stop(stop)
        .minimize(bowl, &[0.0, 0.0])
        .unwrap();
    assert!(r.converged() && near(&r.x), "{r}");
    let r = Momentum::new(0.1_f32)
        .with_stop(stop)
        .minimize(bowl, &[0.0, 0.0])
        .unwrap();
    assert!(r.converged() && near(&r.x), "{r}");
    let r = Adam::new(0.05_f32)
        .with_stop(stop)
        .minimize(bowl, &[0.0, 0.0])
        .unwrap();
    assert!(r.converged() && near(&r.x), "{r}");
    let r = Lbfgs::new()
        .with_stop(stop)
        .minimize(bowl, &[0.0, 0.0])
        .unwrap();
    assert!(r.converged() && near(&r.x), "{r}");
}

#[test]
fn lbfgs_rosenbrock_in_f32() {
    let report = Lbfgs::new()
        .with_stop(Stop::new().grad_tol(1e-3_f32))
        .minimize(rosenbrock, &[-1.2, 1.0])
        .unwrap();
    // f32 runs out of precision near the minimum; either way it gets there.
    assert!(
        matches!(
            report.stop_reason,
            StopReason::GradientNorm | StopReason::LineSearchFailed
        ),
        "{report}"
    );
    assert!(report.iterations <= 45, "{report}");
    assert!(
        (report.x[0] - 1.0).abs() < 1e-2 && (report.x[1] - 1.0).abs() < 1e-2,
        "{report}"
    );
}

#[test]
fn gradient_check_in_f32() {
    let check = check_gradient(rosenbrock, &[-1.2_f32, 1.0]).unwrap();
    assert!(check.passed(1e-2), "{check}");
    let wrong = check_gradient(
        |x: &[f32], g: &mut [f32]| {
            g[0] = x[0];
            x[0] * x[0]
        },
        &[1.0],
    )
    .unwrap();
    assert!(!wrong.passed(1e-2), "{wrong}");
}
