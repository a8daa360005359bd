//! Slice views `&w[a..b]` of active and passive buffers: finite differences,
//! forward vs reverse, accumulation.
use autodiff::differentiate;

#[differentiate]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut s = 0.0;
    for (ai, bi) in a.iter().zip(b.iter()) {
        s += ai * bi;
    }
    s
}

/// A linear softmax classifier written with row views, as a hand-written gradient would be.
#[differentiate(wrt(w, b))]
fn softmax_rows(w: &[f64], b: &[f64], x: &[f64], labels: &[usize], d: usize, k: usize) -> f64 {
    let batch = labels.len();
    let mut z = vec![0.0; k];
    let mut total = 0.0;
    for s in 0..batch {
        let xs = &x[s * d..(s + 1) * d];
        for j in 0..k {
            let wj = &w[j * d..(j + 1) * d];
            let mut acc = b[j];
            for (wt, xt) in wj.iter().zip(xs.iter()) {
                acc += wt * xt;
            }
            z[j] = acc;
        }
        let mut m = z[0];
        for &zj in z.iter() {
            m = m.max(zj);
        }
        let mut se = 0.0;
        for &zj in z.iter() {
            se += (zj - m).exp();
        }
        total += se.ln() + m - z[labels[s]];
    }
    total / batch as f64
}

/// Views passed to calls, and a view of a local buffer.
#[differentiate]
fn blocks(w: &[f64], n: usize) -> f64 {
    let mut buf = vec![0.0; w.len()];
    for i in 0..w.len() {
        buf[i] = w[i].sin();
    }
    let mut s = 0.0;
    for i in 0..w.len() / n {
        let wi = &w[i * n..(i + 1) * n];
        let bi = &buf[i * n..(i + 1) * n];
        s += dot(wi, bi) * dot(wi, wi);
    }
    s
}

fn fd(f: &dyn Fn(&[f64]) -> f64, x: &[f64]) -> Vec<f64> {
    (0..x.len())
        .map(|i| {
            let h = 1e-6 * x[i].abs().max(1.0);
            let (mut a, mut b) = (x.to_vec(), x.to_vec());
            a[i] += h;
            b[i] -= h;
            (f(&a) - f(&b)) / (2.0 * h)
        })
        .collect()
}

fn close(a: &[f64], b: &[f64], tol: f64) {
    for (x, y) in a.iter().zip(b) {
        assert!(
            (x - y).abs() <= tol * (1.0 + x.abs().max(y.abs())),
            "{a:?}\n{b:?}"
        );
    }
}

#[test]
fn softmax_with_row_views() {
    let (d, k) = (3, 4);
    let w: Vec<f64> = (0..d * k)
        .map(|i| ((i * 7 % 11) as f64 - 5.0) * 0.1)
        .collect();
    let b = vec![0.1, -0.2, 0.05, 0.0];
    let x: Vec<f64> = (0..5 * d)
        .map(|i| ((i * 5 % 13) as f64 - 6.0) * 0.2)
        .collect();
    let labels = [0usize, 3, 1, 2, 3];
    let (v, (gw, gb)) = softmax_rows_grad(&w, &b, &x, &labels, d, k);
    assert_eq!(v, softmax_rows(&w, &b, &x, &labels, d, k));
    close(
        &gw,
        &fd(&|w| softmax_rows(w, &b, &x, &labels, d, k), &w),
        1e-7,
    );
    close(
        &gb,
        &fd(&|b| softmax_rows(&w, b, &x, &labels, d, k), &b),
        1e-7,
    );
    // forward mode along a direction equals the gradient's projection
    let tw: Vec<f64> = (0..d * k).map(|i| (i as f64).cos()).collect();
    let tb = vec![0.3, -0.1, 0.2, 0.5];
    let (_, dv) = softmax_rows_fwd(&w, &tw, &b, &tb, &x, &labels, d, k);
    let proj: f64 = gw.iter().zip(&tw).map(|(a, b)| a * b).sum::<f64>()
        + gb.iter().zip(&tb).map(|(a, b)| a * b).sum::<f64>();
    assert!((dv - proj).abs() < 1e-12 * (1.0 + proj.abs()));
    // the adjoint accumulates
    let (mut dw, mut db) = (vec![1.0; d * k], vec![-1.0; k]);
    softmax_rows_adjoint(&w, &mut dw, &b, &mut db, &x, &labels, d, k, 2.0);
    close(
        &dw,
        &gw.iter().map(|g| 1.0 + 2.0 * g).collect::<Vec<_>>(),
        1e-12,
    );
    close(
        &db,
        &gb.iter().map(|g| -1.0 + 2.0 * g).collect::<Vec<_>>(),
        1e-12,
    );
}

#[test]
fn views_passed_to_calls() {
    let w = [0.3, -0.7, 1.1, 0.4, 0.9, -0.2];
    let (v, g) = blocks_grad(&w, 3);
    assert_eq!(v, blocks(&w, 3));
    close(&g, &fd(&|w| blocks(w, 3), &w), 1e-7);
    let t = [0.5, 0.1, -0.3, 0.2, 0.7, -0.6];
    let (_, dv) = blocks_fwd(&w, &t, 3);
    let proj: f64 = g.iter().zip(&t).map(|(a, b)| a * b).sum();
    assert!((dv - proj).abs() < 1e-12 * (1.0 + proj.abs()));
}
