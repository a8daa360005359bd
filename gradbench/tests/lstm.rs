//! `lstm` against ADBench's golden objective and gradient (l=2, c=1024, b=14).

mod common;
use autodiff_gradbench::evals::lstm::Lstm;
use autodiff_gradbench::Tool;
use common::*;

fn load() -> Lstm {
    let v = numbers("data/lstm/lstm_l2_c1024.txt");
    let (l, c, b) = (v[0] as usize, v[1] as usize, v[2] as usize);
    let mut at = 3;
    let mut take = |len: usize| {
        let s = v[at..at + len].to_vec();
        at += len;
        s
    };
    Lstm {
        l,
        b,
        main_params: take(8 * l * b),
        extra_params: take(3 * b),
        state: take(2 * l * b),
        sequence: take(c * b),
    }
}

#[test]
fn adbench_golden() {
    let m = load();
    let f = m.objective();
    let f_golden = numbers("golden/lstm_l2_c1024_F_Manual.txt")[0];
    assert!(rho(f, f_golden) < 1e-12, "{f} vs {f_golden}");
    let (f2, (dmain, dextra)) = m.gradient();
    assert_eq!(f2, f, "primal unchanged");
    let mut got = dmain;
    got.extend_from_slice(&dextra);
    assert_eq!(got.len(), 266);
    assert_close(
        "lstm",
        &got,
        &numbers("golden/lstm_l2_c1024_J_Manual.txt"),
        1e-10,
    );
}

#[test]
fn through_the_protocol() {
    let m = load();
    let rows =
        |v: &[f64], len: usize| -> Vec<Vec<f64>> { v.chunks(len).map(<[f64]>::to_vec).collect() };
    let b = m.b;
    // a short sequence keeps the test quick
    let input = serde_json::json!({
        "main_params": rows(&m.main_params, 4 * b),
        "extra_params": rows(&m.extra_params, b),
        "state": rows(&m.state, b),
        "sequence": rows(&m.sequence[..20 * b], b),
        "min_runs": 1, "min_seconds": 0.0,
    });
    let mut short = m.clone();
    short.sequence.truncate(20 * b);
    let mut tool = Tool::default();
    tool.respond(r#"{"id":0,"kind":"define","module":"lstm"}"#);
    let msg = |id: usize, f: &str| {
        serde_json::json!({"id": id, "kind": "evaluate", "module": "lstm", "function": f, "input": input})
            .to_string()
    };
    let r: serde_json::Value = serde_json::from_str(&tool.respond(&msg(1, "objective"))).unwrap();
    assert_eq!(r["output"].as_f64().unwrap(), short.objective());
    let r: serde_json::Value = serde_json::from_str(&tool.respond(&msg(2, "jacobian"))).unwrap();
    let got = floats(&r["output"]);
    assert_eq!(got.len(), 8 * 2 * b + 3 * b);
    let (_, (dmain, dextra)) = short.gradient();
    assert_eq!(got[..dmain.len()], dmain[..]);
    assert_eq!(got[dmain.len()..], dextra[..]);
}
