//! `particle`: a charged particle's trajectory, nested AD with an unbounded
//! loop. The inner gradient ∇ₓφ (the force) and the outer ∂traj/∂w are each
//! forward or reverse mode: `rr`, `ff`, `fr`, `rf` (outer first).

use crate::protocol::{measure, Evaluated, Runs};
use crate::solver::{argmin, Mode};
use autodiff::differentiate;
use serde_json::{json, Value};

/// The potential at (x0, x1) of unit charges at (10, 10 − w) and (10, 0).
#[differentiate(order = 2)]
pub fn phi(x0: f64, x1: f64, w: f64) -> f64 {
    let r1 = ((x0 - 10.0).powi(2) + (x1 - (10.0 - w)).powi(2)).sqrt();
    let r2 = ((x0 - 10.0).powi(2) + x1.powi(2)).sqrt();
    1.0 / r1 + 1.0 / r2
}

/// The squared x of the point where the particle, started at (0, 8) with
/// velocity (0.75, 0) and pushed by −∇ₓφ, reaches y = 0 (Euler steps of 0.1,
/// then the last straight segment).
#[differentiate]
pub fn traj(w: f64, inner: Mode) -> f64 {
    let dt = 0.1;
    let (mut x0, mut x1) = (0.0, 8.0);
    let (mut v0, mut v1) = (0.75, 0.0);
    loop {
        let (g0, g1) = match inner {
            Mode::Forward => (
                phi_fwd(x0, 1.0, x1, 0.0, w, 0.0).1,
                phi_fwd(x0, 0.0, x1, 1.0, w, 0.0).1,
            ),
            Mode::Reverse => {
                let (_, (g0, g1, _)) = phi_grad(x0, x1, w);
                (g0, g1)
            }
        };
        let (n0, n1) = (x0 + dt * v0, x1 + dt * v1);
        if n1 > 0.0 {
            x0 = n0;
            x1 = n1;
            v0 -= dt * g0;
            v1 -= dt * g1;
        } else {
            break;
        }
    }
    let dt_f = -x1 / v1;
    let xf = x0 + dt_f * v0;
    xf * xf
}

/// The optimised w, from `w0`.
pub fn optimise(w0: f64, outer: Mode, inner: Mode) -> f64 {
    let w = argmin(
        |w: &[f64]| traj(w[0], inner),
        |w: &[f64]| match outer {
            Mode::Forward => vec![traj_fwd(w[0], 1.0, inner).1],
            Mode::Reverse => vec![traj_grad(w[0], inner).1],
        },
        &[w0],
    );
    w[0]
}

pub fn evaluate(function: &str, input: &Value) -> Evaluated {
    let runs = Runs::of(input)?;
    let Some((outer, inner)) = Mode::pair(function) else {
        return super::unknown("particle", function);
    };
    let w0 = input
        .get("w")
        .and_then(Value::as_f64)
        .ok_or("bad input: `w` must be a number")?;
    let (w, t) = measure(runs, || optimise(w0, outer, inner));
    Ok((json!(w), t))
}
