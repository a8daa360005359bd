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
