//! `ba` against ADBench's golden values: the whole CSR Jacobian of the test
//! instance (n=2, m=10, p=10) and the shared 2×15 block of ba1.

#![allow(clippy::excessive_precision)] // golden values as ADBench prints them

mod common;
use autodiff_gradbench::evals::ba::Ba;
use autodiff_gradbench::Tool;
use common::*;
use serde_json::{json, Value};

/// (n, m, p, cam, x, w, feat) of an ADBench BA file.
fn load(rel: &str) -> (usize, usize, usize, Vec<f64>, Vec<f64>, f64, Vec<f64>) {
    let v = numbers(&format!("data/ba/{rel}"));
    let (n, m, p) = (v[0] as usize, v[1] as usize, v[2] as usize);
    (
        n,
        m,
        p,
        v[3..14].to_vec(),
        v[14..17].to_vec(),
        v[17],
        v[18..20].to_vec(),
    )
}

/// The numbers of a golden file, comment and label lines skipped.
fn golden(name: &str) -> Vec<Vec<f64>> {
    let path = adbench(&format!("golden/{name}"));
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let v: Result<Vec<f64>, _> = l.split_whitespace().map(str::parse).collect();
            v.ok().filter(|v| !v.is_empty())
        })
        .collect()
}

#[test]
fn adbench_test_instance_whole_jacobian() {
    let (n, m, p, cam, x, w, feat) = load("test.txt");
    let ba = Ba::duplicate(n, m, p, &cam, &x, w, &feat);
    let (reproj, w_err) = ba.objective();
    let f = golden("ba_test_F_Manual.txt").concat();
    assert_close("reproj", &reproj, &f[..2 * p], 1e-12);
    assert_close("w_err", &w_err, &f[2 * p..], 1e-12);
    let (rows, cols, vals) = ba.jacobian();
    let j = golden("ba_test_J_Manual.txt");
    // lines: dims, len(rows), rows, len(cols), cols, vals
    let want_rows: Vec<usize> = j[2].iter().map(|&v| v as usize).collect();
    let want_cols: Vec<usize> = j[4].iter().map(|&v| v as usize).collect();
    assert_eq!(rows, want_rows);
    assert_eq!(cols, want_cols);
    assert_close("vals", &vals, &j[5], 1e-10);
}

#[test]
fn adbench_ba1_block() {
    let (n, m, p, cam, x, w, feat) = load("ba1_n49_m7776_p31843.txt");
    let ba = Ba::duplicate(n, m, p, &cam, &x, w, &feat);
    let g = golden("ba1_n49_m7776_p31843_compact_Manual.txt");
    // lines: reproj_err_i, w_err_i, row 2i, row 2i+1, d w_err
    let (reproj, w_err) = ba.objective();
    assert_close("reproj", &reproj[2 * p - 2..], &g[0], 1e-12);
    assert!(rho(w_err[p - 1], g[1][0]) < 1e-12);
    let (rows, cols, vals) = ba.jacobian();
    assert_eq!(rows.len(), 3 * p + 1);
    assert_eq!(*rows.last().unwrap(), 31 * p);
    // every observation's block is the same; check the first and the last
    for i in [0, p - 1] {
        let at = 30 * i;
        assert_close("row 2i", &vals[at..at + 15], &g[2], 1e-10);
        assert_close("row 2i+1", &vals[at + 15..at + 30], &g[3], 1e-10);
        let (c, q) = (i % n, i % m);
        assert_eq!(cols[at], 11 * c);
        assert_eq!(cols[at + 11], 11 * n + 3 * q);
        assert_eq!(cols[at + 14], 11 * n + 3 * m + i);
    }
    assert!(rho(vals[vals.len() - 1], g[4][0]) < 1e-12);
}

#[test]
fn through_the_protocol() {
    let (n, m, p, cam, x, w, feat) = load("test.txt");
    let input = json!({"n": n, "m": m, "p": p, "cam": cam, "x": x, "w": w, "feat": feat, "min_runs": 1, "min_seconds": 0.0});
    let mut tool = Tool::default();
    tool.respond(r#"{"id":0,"kind":"define","module":"ba"}"#);
    let msg = |f: &str| {
        json!({"id": 1, "kind": "evaluate", "module": "ba", "function": f, "input": input})
            .to_string()
    };
    let r: Value = serde_json::from_str(&tool.respond(&msg("objective"))).unwrap();
    let out = &r["output"];
    assert_eq!(out["reproj_error"]["repeated"], p);
    assert_eq!(out["w_err"]["repeated"], p);
    assert!(out["reproj_error"]["repeated"].is_u64());
    let e = floats(&out["reproj_error"]["elements"]);
    assert_close(
        "elements",
        &e,
        &[-2.69048849235189402e-01, 2.59944792677901881e-01],
        1e-12,
    );
    assert!(
        rho(
            out["w_err"]["element"].as_f64().unwrap(),
            8.26092651515999976e-01
        ) < 1e-12
    );
    let r: Value = serde_json::from_str(&tool.respond(&msg("jacobian"))).unwrap();
    let out = &r["output"];
    let rows: Vec<u64> = out["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    let cols: Vec<u64> = out["cols"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(rows.len(), 31);
    let j = golden("ba_test_J_Manual.txt");
    // p = 10: 20 reprojection rows of 15, then the weight rows of 1
    let want: Vec<u64> = j[2][..30].iter().map(|&v| v as u64).collect();
    assert_eq!(rows[..30], want[..]);
    assert_eq!(rows[30], 31 * p as u64);
    assert_eq!(cols.len(), 31);
    assert_eq!(cols[30], (11 * n + 3 * m + p - 1) as u64);
    let vals = floats(&out["vals"]);
    assert_close("vals", &vals[..30], &j[5][..30], 1e-10);
    assert!(rho(vals[30], -2.0 * w) < 1e-15);
}
