//! Parameters as `Differentiable` structs: every optimiser's `step_struct` and
//! `minimize_struct`, and `check_gradient_struct`, agree with the slice forms on
//! the struct's floats and keep the struct's other data.

use std::ops::ControlFlow;

use autodiff_runtime::{
    check_gradient_struct, Adam, Differentiable, Error, GradientDescent, GradientStep, Lbfgs,
    Momentum, Optimizer, StopReason,
};

/// A model written by hand (the derive lives in the `autodiff` facade).
#[derive(Clone, Debug, PartialEq)]
struct Model {
    w: Vec<f64>,
    b: f64,
    name: String,
}

impl Differentiable<f64> for Model {
    fn zero_like(&self) -> Self {
        Model {
            w: self.w.zero_like(),
            b: 0.0,
            name: self.name.clone(),
        }
    }
    fn float_len(&self) -> usize {
        self.w.len() + 1
    }
    fn write_floats(&self, out: &mut [f64]) {
        out[..self.w.len()].copy_from_slice(&self.w);
        out[self.w.len()] = self.b;
    }
    fn read_floats(&mut self, src: &[f64]) {
        let n = self.w.len();
        self.w.copy_from_slice(&src[..n]);
        self.b = src[n];
    }
}

const XS: [[f64; 2]; 4] = [[0.0, 1.0], [1.0, 0.5], [2.0, -1.0], [-1.0, 2.0]];
const YS: [f64; 4] = [1.0, 2.5, 2.0, 0.0];

/// Least squares over the model, accumulating into `g` (zero on entry).
fn loss(m: &Model, g: &mut Model) -> f64 {
    let mut total = 0.0;
    for (x, y) in XS.iter().zip(YS) {
        let r = m.w[0] * x[0] + m.w[1] * x[1] + m.b - y;
        total += r * r;
        g.w[0] += 2.0 * r * x[0];
        g.w[1] += 2.0 * r * x[1];
        g.b += 2.0 * r;
    }
    total
}

/// The same objective over the flat floats `[w0, w1, b]`.
fn flat_loss(x: &[f64], g: &mut [f64]) -> f64 {
    let m = Model {
        w: x[..2].to_vec(),
        b: x[2],
        name: String::new(),
    };
    let mut gm = m.zero_like();
    let v = loss(&m, &mut gm);
    gm.write_floats(g);
    v
}

fn start() -> Model {
    Model {
        w: vec![0.5, -0.5],
        b: 0.0,
        name: "linear".into(),
    }
}

fn check_minimize(opt: &mut (impl Optimizer<f64> + Clone)) {
    let m0 = start();
    let flat = opt.clone().minimize(flat_loss, &m0.to_floats()).unwrap();
    let report = opt.minimize_struct(loss, &m0).unwrap();
    assert_eq!(report.report, flat, "the same run as over the floats");
    assert_eq!(report.params.to_floats(), flat.x);
    assert_eq!(report.best_params.to_floats(), flat.best_x);
    assert_eq!(report.params.name, "linear", "other data kept");
    assert!(report.value < loss(&m0, &mut m0.zero_like()));
}

#[test]
fn minimize_struct_is_minimize_over_the_floats() {
    check_minimize(&mut GradientDescent::new(0.02));
    check_minimize(&mut Momentum::new(0.01).nesterov(true));
    check_minimize(&mut Adam::new(0.05));
    check_minimize(&mut Lbfgs::new());
    // the inherent methods too
    let r = Lbfgs::new().minimize_struct(loss, &start()).unwrap();
    assert!(r.converged(), "{r}");
    let mut g = r.params.zero_like();
    loss(&r.params, &mut g);
    assert!(g.to_floats().iter().all(|v| v.abs() < 1e-4));
}

fn check_steps<O: GradientStep<f64> + Clone>(mut opt: O) {
    let mut flat_opt = opt.clone();
    let mut m = start();
    let mut x = m.to_floats();
    for _ in 0..20 {
        let mut g = m.zero_like();
        loss(&m, &mut g);
        opt.step_struct(&mut m, &g).unwrap();
        let mut gx = vec![0.0; 3];
        flat_loss(&x, &mut gx);
        flat_opt.step(&mut x, &gx).unwrap();
        assert_eq!(m.to_floats(), x);
    }
    assert_eq!(m.name, "linear");
}

#[test]
fn step_struct_is_step_over_the_floats() {
    check_steps(GradientDescent::new(0.02));
    check_steps(Momentum::new(0.01));
    check_steps(Adam::new(0.05));
    let mut adam = Adam::new(0.05);
    let mut m = start();
    let mut g = m.zero_like();
    loss(&m, &mut g);
    adam.step_struct(&mut m, &g).unwrap();
    assert_ne!(m, start());
}

#[test]
fn lbfgs_step_struct() {
    let mut opt = Lbfgs::new();
    let mut m = start();
    let mut flat_opt = Lbfgs::new();
    let mut x = m.to_floats();
    for _ in 0..5 {
        let v = opt.step_struct(loss, &mut m).unwrap();
        let vf = flat_opt.step(flat_loss, &mut x).unwrap();
        assert_eq!(v, vf);
        assert_eq!(m.to_floats(), x);
    }
}

#[test]
fn mismatched_gradient_is_an_error() {
    let mut m = start();
    let g = Model {
        w: vec![1.0],
        b: 0.0,
        name: String::new(),
    };
    let err = GradientDescent::new(0.1)
        .step_struct(&mut m, &g)
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::DimensionMismatch {
                expected: 3,
                found: 2
            }
        ),
        "{err:?}"
    );
    assert_eq!(m, start(), "unchanged on error");
}

#[test]
fn observer_sees_the_floats() {
    let mut seen = Vec::new();
    let r = GradientDescent::new(0.02)
        .minimize_struct_with(loss, &start(), |it| {
            seen.push(it.x.to_vec());
            if it.iteration == 3 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
    assert_eq!(r.stop_reason, StopReason::Observer);
    assert_eq!(seen.len(), 4);
    assert_eq!(seen[0], start().to_floats());
    assert_eq!(seen[3], r.params.to_floats());
}

#[test]
fn gradient_check_over_a_struct() {
    let check = check_gradient_struct(loss, &start()).unwrap();
    assert!(check.passed(1e-7), "{check}");
    assert_eq!(check.analytic.len(), 3);
    // a wrong gradient in the last float (`b`) is caught at its index
    let wrong = |m: &Model, g: &mut Model| {
        let v = loss(m, g);
        g.b *= 1.1;
        v
    };
    let check = check_gradient_struct(wrong, &start()).unwrap();
    assert!(!check.passed(1e-4));
    assert_eq!(check.max_abs_index, 2);
}
