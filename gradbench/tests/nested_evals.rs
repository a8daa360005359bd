//! particle and saddle: nested differentiation through GradBench's solver in
//! all four mode combinations, against the expected constants of GRADBENCH.md.

mod common;
use autodiff_gradbench::evals::particle;
use autodiff_gradbench::solver::Mode;
use autodiff_gradbench::Tool;
use common::*;
use serde_json::{json, Value};

const PARTICLE: f64 = 0.2071918746486116;

fn run(tool: &mut Tool, module: &str, function: &str, input: Value) -> Value {
    let msg = json!({"id": 1, "kind": "evaluate", "module": module, "function": function, "input": input});
    let r: Value = serde_json::from_str(&tool.respond(&msg.to_string())).unwrap();
    assert_eq!(r["success"], true, "{r}");
    r["output"].clone()
}

#[test]
fn particle_all_four() {
    let mut tool = Tool::default();
    tool.respond(r#"{"id":0,"kind":"define","module":"particle"}"#);
    for f in ["rr", "ff", "fr", "rf"] {
        let w = run(
            &mut tool,
            "particle",
            f,
            json!({"w": 0.0, "min_runs": 1, "min_seconds": 0.0}),
        );
        let w = w.as_f64().unwrap();
        assert!(rho(w, PARTICLE) < 1e-10, "{f}: {w} vs {PARTICLE}");
    }
}

#[test]
fn particle_derivatives_agree_with_differences() {
    // ∂traj/∂w by every mode pair against central differences of the primal
    for w in [0.0, 0.1, 0.2] {
        let fd = (particle::traj(w + 1e-6, Mode::Reverse)
            - particle::traj(w - 1e-6, Mode::Reverse))
            / 2e-6;
        for inner in [Mode::Forward, Mode::Reverse] {
            let (v, g) = particle::traj_grad(w, inner);
            assert_eq!(v, particle::traj(w, inner));
            let (_, d) = particle::traj_fwd(w, 1.0, inner);
            assert!(
                (g - d).abs() <= 1e-10 * (1.0 + g.abs()),
                "w {w}: {g} vs {d}"
            );
            assert!(
                (g - fd).abs() <= 1e-5 * (1.0 + g.abs()),
                "w {w}: {g} vs fd {fd}"
            );
        }
    }
}

const SADDLE: f64 = 8.246324826140356e-06;

#[test]
fn saddle_all_four() {
    let mut tool = Tool::default();
    tool.respond(r#"{"id":0,"kind":"define","module":"saddle"}"#);
    for f in ["rr", "ff", "fr", "rf"] {
        let input = json!({"start": [1.0, 1.0], "min_runs": 1, "min_seconds": 0.0});
        let r = floats(&run(&mut tool, "saddle", f, input));
        assert_eq!(r.len(), 4);
        for v in &r {
            assert!((v - SADDLE).abs() <= 1e-12, "{f}: {r:?}");
        }
    }
}

#[test]
fn saddle_max_derivative_through_the_inner_ascent() {
    use autodiff_gradbench::evals::saddle::{max_f, max_f_fwd, max_f_grad};
    // max_{p2} f(p1, p2) = ‖p1‖² (at p2 ≈ 0): gradient ≈ 2 p1, and the modes agree
    let start = [1.0, 1.0];
    let p1 = [0.3, -0.6];
    for inner in [Mode::Forward, Mode::Reverse] {
        let (v, g) = max_f_grad(&p1, &start, inner);
        assert_eq!(v, max_f(&p1, &start, inner));
        let (_, d0) = max_f_fwd(&p1, &[1.0, 0.0], &start, inner);
        let (_, d1) = max_f_fwd(&p1, &[0.0, 1.0], &start, inner);
        assert!((g[0] - d0).abs() < 1e-12 && (g[1] - d1).abs() < 1e-12);
        assert!(
            (g[0] - 0.6).abs() < 1e-4 && (g[1] + 1.2).abs() < 1e-4,
            "{g:?}"
        );
    }
}
