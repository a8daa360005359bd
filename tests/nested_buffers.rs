//! Nested float buffers (issue 10): `[[F; N]; M]`, `&[[F; N]]`, `&[[F; N]; M]`,
//! `Vec<[F; N]>`, and the jagged `&[Vec<F>]`, `&Vec<Vec<F>>`, `Vec<Vec<F>>`,
//! as parameters (shadows of the same shape) and local `[[F; N]; M]` arrays.
//! Every function is checked against central differences, forward-vs-reverse
//! agreement, accumulation with `dret ≠ 1` and the primal value
//! (`common::check_all`, on the buffer flattened), plus exact values where
//! they are easy to state.

// The tests use `as_flattened` (Rust 1.80) on their own side; the generated
// code does not (it keeps to the crate's minimum Rust version).
#![allow(
    clippy::needless_range_loop,
    clippy::ptr_arg,
    clippy::redundant_closure,
    clippy::incompatible_msrv
)]

#[macro_use]
mod common;

use autodiff::differentiate;

// ---- flattening helpers for the checks ----

fn rows<const N: usize>(x: &[f64]) -> Vec<[f64; N]> {
    x.chunks_exact(N)
        .map(|c| {
            let mut r = [0.0; N];
            r.copy_from_slice(c);
            r
        })
        .collect()
}

fn arr<const N: usize, const M: usize>(x: &[f64]) -> [[f64; N]; M] {
    let mut a = [[0.0; N]; M];
    a.as_flattened_mut().copy_from_slice(x);
    a
}

fn jag(x: &[f64], lens: &[usize]) -> Vec<Vec<f64>> {
    let mut at = 0;
    lens.iter()
        .map(|&n| {
            let r = x[at..at + n].to_vec();
            at += n;
            r
        })
        .collect()
}

fn flat(x: &[Vec<f64>]) -> Vec<f64> {
    x.concat()
}

/// `common::check_all` for a function of one nested buffer of type `T`, read
/// from and written to the flat test vector by `to` and `from`.
#[allow(clippy::too_many_arguments)]
#[track_caller]
fn check_nested<T>(
    name: &str,
    x: &[f64],
    to: impl Fn(&[f64]) -> T,
    from: impl Fn(&T) -> Vec<f64>,
    f: impl Fn(&T) -> f64,
    fwd: impl Fn(&T, &T) -> (f64, f64),
    adj: impl Fn(&T, &mut T, f64) -> f64,
    grad: impl Fn(&T) -> (f64, T),
) {
    common::check_all(
        name,
        x,
        |x| f(&to(x)),
        |x, v| fwd(&to(x), &to(v)),
        |x, d, r| {
            let xs = to(x);
            let mut ds = to(d);
            let y = adj(&xs, &mut ds, r);
            d.copy_from_slice(&from(&ds));
            y
        },
        |x| {
            let (y, g) = grad(&to(x));
            (y, from(&g))
        },
    )
}

fn from_rows<const N: usize>(x: &Vec<[f64; N]>) -> Vec<f64> {
    x.as_flattened().to_vec()
}

fn from_arr<const N: usize, const M: usize>(x: &[[f64; N]; M]) -> Vec<f64> {
    x.as_flattened().to_vec()
}

const X6: [f64; 6] = [0.7, -1.2, 0.4, 1.9, -0.3, 0.8];
const X4: [f64; 4] = [1.3, -0.6, 0.9, 2.1];

// ---- `[[F; N]; M]` by value and by reference ----

#[differentiate]
fn det2(m: [[f64; 2]; 2]) -> f64 {
    m[0][0] * m[1][1] - m[0][1] * m[1][0]
}

#[test]
fn determinant_of_a_2x2_array() {
    let (d, g) = det2_grad([[1.0, 2.0], [3.0, 4.0]]);
    assert_eq!(d, -2.0);
    assert_eq!(g, [[4.0, -3.0], [-2.0, 1.0]]); // the cofactor matrix
    check_nested(
        "det2",
        &X4,
        arr::<2, 2>,
        from_arr,
        |m| det2(*m),
        |m, v| det2_fwd(*m, *v),
        |m, d, r| det2_adjoint(*m, d, r),
        |m| det2_grad(*m),
    );
}

#[differentiate]
fn frobenius_ref(m: &[[f64; 3]; 2]) -> f64 {
    let mut s = 0.0;
    for i in 0..m.len() {
        for j in 0..m[i].len() {
            s += m[i][j] * m[i][j] * (1.0 + i as f64);
        }
    }
    s.sqrt()
}

#[test]
fn array_of_arrays_by_reference() {
    check_nested(
        "frobenius_ref",
        &X6,
        arr::<3, 2>,
        from_arr,
        |m| frobenius_ref(m),
        |m, v| frobenius_ref_fwd(m, v),
        |m, d, r| frobenius_ref_adjoint(m, d, r),
        |m| frobenius_ref_grad(m),
    );
}

// ---- `&[[F; N]]`: elements, rows, iterators ----

#[differentiate]
fn rows_indexed(x: &[[f64; 3]]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        for j in 0..3 {
            s += x[i][j] * x[i][(j + 1) % 3];
        }
    }
    s
}

#[differentiate]
fn rows_iterated(x: &[[f64; 3]]) -> f64 {
    let mut s = 0.0;
    for r in x.iter() {
        s += r[0] * r[2].sin();
    }
    for (i, r) in x.iter().enumerate() {
        s += (i as f64 + 1.0) * r.iter().map(|v| v * v).sum::<f64>();
    }
    for r in x {
        s += r[1].exp();
    }
    s
}

#[differentiate]
fn rows_chain(x: &[[f64; 3]]) -> f64 {
    x.iter().map(|r| r[0] * r[1] - r[2]).sum::<f64>()
        + x.iter().flatten().map(|v| v.cos()).sum::<f64>()
        + x.as_flattened().iter().fold(0.0, |a, v| a + v * v * v)
}

#[differentiate]
fn row_views(x: &[[f64; 3]]) -> f64 {
    let first = &x[0];
    let last = x[x.len() - 1];
    let mut s = first[0] * last[2];
    for i in 0..x.len() {
        s += x[i]
            .iter()
            .zip(first.iter())
            .map(|(a, b)| a * b)
            .sum::<f64>();
        s += x[i][1..].iter().sum::<f64>() * x[i].len() as f64;
    }
    s
}

#[test]
fn slice_of_arrays() {
    let (y, g) = rows_indexed_grad(&[[1.0, 2.0, 3.0]]);
    assert_eq!(y, 1.0 * 2.0 + 2.0 * 3.0 + 3.0 * 1.0);
    assert_eq!(g, vec![[2.0 + 3.0, 1.0 + 3.0, 2.0 + 1.0]]);
    macro_rules! check {
        ($f:ident, $fwd:ident, $adj:ident, $grad:ident) => {
            check_nested(
                stringify!($f),
                &X6,
                rows::<3>,
                from_rows,
                |x| $f(x),
                |x, v| $fwd(x, v),
                |x, d, r| $adj(x, d, r),
                |x| $grad(x),
            )
        };
    }
    check!(
        rows_indexed,
        rows_indexed_fwd,
        rows_indexed_adjoint,
        rows_indexed_grad
    );
    check!(
        rows_iterated,
        rows_iterated_fwd,
        rows_iterated_adjoint,
        rows_iterated_grad
    );
    check!(
        rows_chain,
        rows_chain_fwd,
        rows_chain_adjoint,
        rows_chain_grad
    );
    check!(row_views, row_views_fwd, row_views_adjoint, row_views_grad);
}

/// The gradient has the parameter's shape: `Vec<[f64; N]>` for `&[[f64; N]]`.
#[test]
fn gradient_shape_of_a_slice_of_arrays() {
    let x = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
    let (_, g): (f64, Vec<[f64; 3]>) = rows_indexed_grad(&x);
    assert_eq!(g.len(), 2);
}

// ---- `Vec<[F; N]>` by value, mixed with a slice and passive data ----

#[differentiate]
fn points_by_value(p: Vec<[f64; 2]>, w: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..p.len() {
        s += w[i] * (p[i][0] * p[i][0] + p[i][1]).ln();
    }
    s
}

#[test]
fn vec_of_arrays_with_a_slice() {
    let p = vec![[1.0, 0.5], [2.0, 1.5], [0.7, 0.2]];
    let w = [0.3, -1.1, 2.0];
    let (y, (gp, gw)) = points_by_value_grad(p.clone(), &w);
    assert_eq!(y, points_by_value(p.clone(), &w));
    for i in 0..3 {
        let r = p[i][0] * p[i][0] + p[i][1];
        common::assert_close(gw[i], r.ln(), 1e-14, "d/dw");
        common::assert_close(gp[i][0], w[i] * 2.0 * p[i][0] / r, 1e-14, "d/dp0");
        common::assert_close(gp[i][1], w[i] / r, 1e-14, "d/dp1");
    }
}

#[differentiate(wrt(w))]
fn fit(w: &[f64], data: &[[f64; 2]]) -> f64 {
    let mut s = 0.0;
    for d in data {
        let r = w[0] * d[0] + w[1] - d[1];
        s += r * r;
    }
    s
}

#[test]
fn nested_data_left_out_of_wrt() {
    let data = [[0.0, 1.0], [1.0, 3.1], [2.0, 4.9]];
    common::check_all(
        "fit",
        &[1.5, 0.5],
        |w| fit(w, &data),
        |w, v| fit_fwd(w, v, &data),
        |w, d, r| fit_adjoint(w, d, &data, r),
        |w| fit_grad(w, &data),
    );
}

// ---- jagged rows: `&[Vec<F>]`, `&Vec<Vec<F>>`, `Vec<Vec<F>>` ----

const LENS: [usize; 3] = [2, 3, 1];

#[differentiate]
fn jag_indexed(x: &[Vec<f64>]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        for j in 0..x[i].len() {
            s += x[i][j] * x[i][j] * (j as f64 + 1.0);
        }
    }
    s
}

/// Log-sum-exp of every row, summed: rows of different lengths.
#[differentiate]
fn jag_logsumexp(x: &[Vec<f64>]) -> f64 {
    let mut s = 0.0;
    for row in x {
        let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        s += m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
    }
    for (i, row) in x.iter().enumerate() {
        s += row[0] * (i as f64);
    }
    s
}

#[differentiate]
fn jag_vec_ref(x: &Vec<Vec<f64>>) -> f64 {
    let first = &x[0];
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[i].iter().sum::<f64>() * first[0];
    }
    s
}

#[differentiate]
fn jag_by_value(x: Vec<Vec<f64>>) -> f64 {
    x[0][0].sin() * x[1][2] + x[2][0]
}

#[test]
fn jagged_rows() {
    let x = [0.4, -0.9, 1.3, 0.2, -0.5, 0.8];
    let (y, g) = jag_indexed_grad(&[vec![1.0, 2.0], vec![3.0]]);
    assert_eq!(y, 1.0 + 8.0 + 9.0);
    assert_eq!(g, vec![vec![2.0, 8.0], vec![6.0]]);
    let to = |x: &[f64]| jag(x, &LENS);
    check_nested(
        "jag_indexed",
        &x,
        to,
        |d| flat(d),
        |x| jag_indexed(x),
        |x, v| jag_indexed_fwd(x, v),
        |x, d, r| jag_indexed_adjoint(x, d, r),
        |x| jag_indexed_grad(x),
    );
    check_nested(
        "jag_logsumexp",
        &x,
        to,
        |d| flat(d),
        |x| jag_logsumexp(x),
        |x, v| jag_logsumexp_fwd(x, v),
        |x, d, r| jag_logsumexp_adjoint(x, d, r),
        |x| jag_logsumexp_grad(x),
    );
    check_nested(
        "jag_vec_ref",
        &x,
        to,
        |d| flat(d),
        |x| jag_vec_ref(x),
        |x, v| jag_vec_ref_fwd(x, v),
        |x, d, r| jag_vec_ref_adjoint(x, d, r),
        |x| jag_vec_ref_grad(x),
    );
    check_nested(
        "jag_by_value",
        &x,
        to,
        |d| flat(d),
        |x| jag_by_value(x.clone()),
        |x, v| jag_by_value_fwd(x.clone(), v.clone()),
        |x, d, r| jag_by_value_adjoint(x.clone(), d, r),
        |x| jag_by_value_grad(x.clone()),
    );
}

#[test]
#[should_panic(expected = "rows of the same lengths")]
fn a_jagged_shadow_of_another_shape_is_refused() {
    let x = vec![vec![1.0, 2.0], vec![3.0]];
    let mut dx = vec![vec![0.0], vec![0.0, 0.0]];
    jag_indexed_adjoint(&x, &mut dx, 1.0);
}

// ---- local nested arrays: C = AB ----

/// The lecture's matrix product `C = AB` in a local `[[f64; 2]; 2]`, then a
/// function of `C`.
#[differentiate]
fn matmul_trace(a: &[f64], b: &[f64]) -> f64 {
    let mut c = [[0.0; 2]; 2];
    for i in 0..2 {
        for j in 0..2 {
            for k in 0..2 {
                c[i][j] += a[2 * i + k] * b[2 * k + j];
            }
        }
    }
    let mut t = 0.0;
    for i in 0..c.len() {
        t += c[i][i] * c[i][i] + c[i][1 - i];
    }
    t
}

#[differentiate]
fn rotation(t: f64, x: f64, y: f64) -> f64 {
    let (s, c) = t.sin_cos();
    let r = [[c, -s], [s, c]];
    let p = [x, y];
    let mut q = [0.0; 2];
    for i in 0..2 {
        q[i] = r[i][0] * p[0] + r[i][1] * p[1];
    }
    q[0] * q[0] * 2.0 + q[1]
}

#[test]
fn local_nested_arrays() {
    let ab = [0.5, -1.0, 2.0, 0.3, 1.1, 0.4, -0.7, 0.9];
    common::check_all(
        "matmul_trace",
        &ab,
        |x| matmul_trace(&x[..4], &x[4..]),
        |x, v| matmul_trace_fwd(&x[..4], &v[..4], &x[4..], &v[4..]),
        |x, d, r| {
            let (da, db) = d.split_at_mut(4);
            matmul_trace_adjoint(&x[..4], da, &x[4..], db, r)
        },
        |x| {
            let (y, (ga, gb)) = matmul_trace_grad(&x[..4], &x[4..]);
            (y, [ga, gb].concat())
        },
    );
    check_scalar!(rotation, rotation_fwd, rotation_adjoint, rotation_grad; [0.6, 1.2, -0.4]);
}

// ---- passed whole to differentiated calls ----

#[differentiate]
fn row_energy(x: &[[f64; 2]]) -> f64 {
    x.iter().map(|r| r[0] * r[1]).sum()
}

#[differentiate]
fn calls_with_rows(x: &[[f64; 2]]) -> f64 {
    row_energy(x) * x[0][0] + x[1][1]
}

#[differentiate]
fn jag_total(x: &[Vec<f64>]) -> f64 {
    let mut s = 0.0;
    for r in x {
        s += r.iter().map(|v| v * v).sum::<f64>();
    }
    s
}

#[differentiate]
fn calls_with_jagged(x: &[Vec<f64>]) -> f64 {
    jag_total(x).sqrt() + x[2][0] * jag_total(x)
}

#[test]
fn passed_whole_to_calls() {
    check_nested(
        "calls_with_rows",
        &X6,
        rows::<2>,
        from_rows,
        |x| calls_with_rows(x),
        |x, v| calls_with_rows_fwd(x, v),
        |x, d, r| calls_with_rows_adjoint(x, d, r),
        |x| calls_with_rows_grad(x),
    );
    check_nested(
        "calls_with_jagged",
        &[0.4, -0.9, 1.3, 0.2, -0.5, 0.8],
        |x| jag(x, &LENS),
        |d| flat(d),
        |x| calls_with_jagged(x),
        |x, v| calls_with_jagged_fwd(x, v),
        |x, d, r| calls_with_jagged_adjoint(x, d, r),
        |x| calls_with_jagged_grad(x),
    );
}

// ---- f32, generic floats, methods ----

#[differentiate]
fn det2_f32(m: [[f32; 2]; 2]) -> f32 {
    m[0][0] * m[1][1] - m[0][1] * m[1][0]
}

#[differentiate]
fn generic_rows<T: num_traits::Float>(x: &[[T; 2]]) -> T {
    let mut s = T::zero();
    for r in x {
        s = s + r[0] * r[1].exp();
    }
    s
}

struct Model {
    scale: f64,
}

impl Model {
    #[differentiate]
    fn energy(&self, x: &[[f64; 2]]) -> f64 {
        let mut s = 0.0;
        for i in 0..x.len() {
            s += self.scale * x[i][0] * x[i][1];
        }
        s
    }
}

#[test]
fn other_float_types_and_methods() {
    let (d, g) = det2_f32_grad([[1.0, 2.0], [3.0, 4.0]]);
    assert_eq!((d, g), (-2.0, [[4.0, -3.0], [-2.0, 1.0]]));
    let (y, g) = generic_rows_grad(&[[2.0f32, 0.0], [1.0, 1.0]]);
    assert_eq!(y, 2.0 + 1.0f32.exp());
    assert_eq!(g, vec![[1.0, 2.0], [1.0f32.exp(), 1.0f32.exp()]]);
    let m = Model { scale: 1.5 };
    check_nested(
        "Model::energy",
        &X6,
        rows::<2>,
        from_rows,
        |x| m.energy(x),
        |x, v| m.energy_fwd(x, v),
        |x, d, r| m.energy_adjoint(x, d, r),
        |x| m.energy_grad(x),
    );
}

// ---- flat views, macros ----

#[differentiate]
fn flat_sum(w: &[f64]) -> f64 {
    w[0] * w[1] + w[2]
}

#[differentiate]
fn local_passed_flat(x: f64) -> f64 {
    let mut b: [[f64; 2]; 2] = [[0.0; 2]; 2];
    b[0][1] = x;
    b[1][0] = x * x;
    flat_sum(b.as_flattened())
}

#[differentiate]
fn param_passed_flat(m: &[[f64; 2]]) -> f64 {
    flat_sum(m.as_flattened()) * m[1][1]
}

#[differentiate]
fn local_in_macros(x: f64) -> f64 {
    let mut b = [[0.0_f64; 2]; 2];
    b[0][1] += x;
    assert!(!b.is_empty(), "b has {} rows", b.len());
    let c = vec![0.5; b.len() * 2];
    b[0][1] * x + c[3] * b[0][1]
}

#[differentiate]
fn literal_in_match(x: f64) -> f64 {
    let p = [x, x * 2.0];
    match x.max(-p[0]) < 0.5 {
        true => p[1] * p[0],
        _ => x,
    }
}

#[test]
fn flat_views_and_macros() {
    assert_eq!(local_passed_flat_grad(3.0), (9.0, 6.0));
    assert_eq!(
        param_passed_flat_grad(&[[1.0, 2.0], [3.0, 4.0]]),
        (20.0, vec![[8.0, 4.0], [4.0, 5.0]])
    );
    check_scalar!(local_in_macros, local_in_macros_fwd, local_in_macros_adjoint, local_in_macros_grad; [1.3]);
    check_scalar!(literal_in_match, literal_in_match_fwd, literal_in_match_adjoint, literal_in_match_grad; [0.2]);
    check_nested(
        "param_passed_flat",
        &X4,
        rows::<2>,
        from_rows,
        |x| param_passed_flat(x),
        |x, v| param_passed_flat_fwd(x, v),
        |x, d, r| param_passed_flat_adjoint(x, d, r),
        |x| param_passed_flat_grad(x),
    );
}

// ---- chains over jagged rows ----

#[differentiate]
fn jag_chain_norms(x: &[Vec<f64>]) -> f64 {
    x.iter()
        .map(|r| r.iter().map(|v| v * v).sum::<f64>().sqrt())
        .sum()
}

#[differentiate]
fn jag_chain_enumerate_fold(x: &[Vec<f64>]) -> f64 {
    x.iter()
        .enumerate()
        .map(|(i, r)| (i as f64 + 1.0) * r[0])
        .sum::<f64>()
        + x.iter().fold(1.0, |acc, r| acc * r[r.len() - 1])
}

#[test]
fn chains_over_jagged_rows() {
    let (_, g) = jag_chain_enumerate_fold_grad(&[vec![3.0, 4.0], vec![2.0]]);
    assert_eq!(g, vec![vec![1.0, 2.0], vec![6.0]]);
    let x = [0.4, -0.9, 1.3, 0.2, -0.5, 0.8];
    let to = |x: &[f64]| jag(x, &LENS);
    check_nested(
        "jag_chain_norms",
        &x,
        to,
        |d| flat(d),
        |x| jag_chain_norms(x),
        |x, v| jag_chain_norms_fwd(x, v),
        |x, d, r| jag_chain_norms_adjoint(x, d, r),
        |x| jag_chain_norms_grad(x),
    );
    check_nested(
        "jag_chain_enumerate_fold",
        &x,
        to,
        |d| flat(d),
        |x| jag_chain_enumerate_fold(x),
        |x, v| jag_chain_enumerate_fold_fwd(x, v),
        |x, d, r| jag_chain_enumerate_fold_adjoint(x, d, r),
        |x| jag_chain_enumerate_fold_grad(x),
    );
}

// ---- vector-valued functions of nested buffers ----

#[differentiate]
fn matvec(a: &[[f64; 2]; 2], x: &[f64; 2]) -> [f64; 2] {
    let mut y = [0.0; 2];
    for i in 0..2 {
        y[i] = a[i][0] * x[0] + a[i][1] * x[1].sin();
    }
    y
}

#[differentiate(wrt(m))]
fn row_energies(m: &[Vec<f64>], out: &mut [f64]) {
    for (i, r) in m.iter().enumerate() {
        out[i] = r.iter().map(|v| v * v).sum::<f64>().sqrt();
    }
}

#[test]
fn jacobians_over_nested_buffers() {
    let a = [[1.0, 2.0], [3.0, 4.0]];
    let x = [0.5, 0.7];
    let (y, j) = matvec_jacobian(&a, &x);
    assert_eq!(y, matvec(&a, &x));
    // columns: a00 a01 a10 a11 x0 x1 (parameter order, rows flattened)
    let s = x[1].sin();
    let c = x[1].cos();
    let want = [
        [x[0], s, 0.0, 0.0, a[0][0], a[0][1] * c],
        [0.0, 0.0, x[0], s, a[1][0], a[1][1] * c],
    ];
    for (r, row) in want.iter().enumerate() {
        for (k, w) in row.iter().enumerate() {
            common::assert_close(j[r * 6 + k], *w, 1e-14, "matvec jacobian");
        }
    }
    // the adjoint's rows and the forward mode's columns are the Jacobian's
    for r in 0..2 {
        let (mut da, mut dx) = ([[0.0; 2]; 2], [0.0; 2]);
        let mut dret = [0.0; 2];
        dret[r] = 1.0;
        matvec_adjoint(&a, &mut da, &x, &mut dx, dret);
        let got: Vec<f64> = da.iter().flatten().chain(dx.iter()).copied().collect();
        assert_eq!(got, j[r * 6..(r + 1) * 6].to_vec());
    }
    let (_, t) = matvec_fwd(&a, &[[0.0, 1.0], [0.0, 0.0]], &x, &[0.0, 0.0]);
    assert_eq!(t, [j[1], j[6 + 1]]);

    let m = vec![vec![3.0, 4.0], vec![-2.0]];
    let mut out = [0.0; 2];
    let j = row_energies_jacobian(&m, &mut out);
    assert_eq!(out, [5.0, 2.0]);
    common::assert_vec_close(&j, &[0.6, 0.8, 0.0, 0.0, 0.0, -1.0], 1e-14, "row_energies");
}

/// A mutable array that starts constant (the identity) and is then written with
/// differentiated values is a buffer like `[0.0; N]`.
#[differentiate]
fn identity_then_written(t: f64) -> f64 {
    let mut m = [[1.0, 0.0], [0.0, 1.0]];
    let mut p = [1.0, 2.0];
    m[0][1] = t.sin();
    p[1] *= t;
    m[0][0] * m[1][1] - m[0][1] * m[1][0] + m[0][1] * p[1] + p[0]
}

#[test]
fn constant_start_then_written() {
    check_scalar!(identity_then_written, identity_then_written_fwd, identity_then_written_adjoint, identity_then_written_grad; [0.8]);
    let (y, g) = identity_then_written_grad(0.8);
    assert_eq!(y, 1.0 + 0.8f64.sin() * 1.6 + 1.0);
    common::assert_close(g, 0.8f64.cos() * 1.6 + 0.8f64.sin() * 2.0, 1e-14, "d/dt");
}

// ---- second order ----

#[differentiate(order = 2)]
fn det2_second(m: [[f64; 2]; 2]) -> f64 {
    m[0][0] * m[1][1] - m[0][1] * m[1][0]
}

#[differentiate(order = 2, wrt(x, w))]
fn energy_second(x: &[[f64; 2]], w: &[f64]) -> f64 {
    let mut s = 0.0;
    for r in x {
        s += (r[0] * r[1]).sin() * w[0];
    }
    s + w[1] * w[1] * x[0][0]
}

/// The same function with `x` flat: its Hessian is the nested one's.
#[differentiate(order = 2)]
fn energy_flat(x: &[f64], w: &[f64]) -> f64 {
    let mut s = 0.0;
    for r in x.chunks_exact(2) {
        s += (r[0] * r[1]).sin() * w[0];
    }
    s + w[1] * w[1] * x[0]
}

#[differentiate(order = 2)]
fn jag_cubes(x: &[Vec<f64>]) -> f64 {
    let mut s = 0.0;
    for row in x {
        s += row.iter().map(|v| v * v * v).sum::<f64>() * row.len() as f64;
    }
    s
}

#[test]
fn second_order_over_nested_buffers() {
    let (d, g, h) = det2_second_hessian([[1.0, 2.0], [3.0, 4.0]]);
    assert_eq!((d, g), (-2.0, [[4.0, -3.0], [-2.0, 1.0]]));
    #[rustfmt::skip]
    let want = [
        0.0, 0.0, 0.0, 1.0,
        0.0, 0.0, -1.0, 0.0,
        0.0, -1.0, 0.0, 0.0,
        1.0, 0.0, 0.0, 0.0,
    ];
    assert_eq!(h, want.to_vec());

    let x = [[1.0, 2.0], [0.5, 0.3]];
    let w = [1.5, 2.0];
    let xf: Vec<f64> = x.iter().flatten().copied().collect();
    let (v1, (gx, gw), h1) = energy_second_hessian(&x, &w);
    let (v2, (gxf, gwf), h2) = energy_flat_hessian(&xf, &w);
    assert_eq!(v1, v2);
    assert_eq!(gx.iter().flatten().copied().collect::<Vec<_>>(), gxf);
    assert_eq!(gw, gwf);
    assert_eq!(h1, h2);
    // H·v against central differences of the gradient
    let (vx, vw) = ([[0.3, -0.2], [0.7, 0.1]], [0.4, -0.6]);
    let (_, _, (hx, hw)) = energy_second_hvp(&x, &vx, &w, &vw);
    let grad_at = |t: f64| {
        let xs: Vec<[f64; 2]> = (0..2)
            .map(|i| [x[i][0] + t * vx[i][0], x[i][1] + t * vx[i][1]])
            .collect();
        let ws = [w[0] + t * vw[0], w[1] + t * vw[1]];
        let (_, (gx, gw)) = energy_second_grad(&xs, &ws);
        let mut all: Vec<f64> = gx.iter().flatten().copied().collect();
        all.extend(gw);
        all
    };
    let (up, down) = (grad_at(1e-5), grad_at(-1e-5));
    let got: Vec<f64> = hx
        .iter()
        .flatten()
        .copied()
        .chain(hw.iter().copied())
        .collect();
    for k in 0..got.len() {
        let fd = (up[k] - down[k]) / 2e-5;
        assert!(
            (got[k] - fd).abs() < 1e-6 * (1.0 + fd.abs()),
            "H·v[{k}] = {} vs {fd}",
            got[k]
        );
    }

    let (v, g, h) = jag_cubes_hessian(&[vec![1.0, 2.0], vec![3.0]]);
    assert_eq!(v, 2.0 * 9.0 + 27.0);
    assert_eq!(g, vec![vec![6.0, 24.0], vec![27.0]]);
    assert_eq!(h, vec![12.0, 0.0, 0.0, 0.0, 24.0, 0.0, 0.0, 0.0, 18.0]);
}

// ---- copies: `let m = a;` ----

#[differentiate]
fn copied_matrix(a: [[f64; 2]; 2], x: f64) -> f64 {
    let mut m = a;
    let mut acc = 0.0;
    for _ in 0..3 {
        let t = m[0][0] * x + m[0][1];
        m[0][1] = m[1][0] * t;
        acc += t;
    }
    let m2 = m;
    acc + m2[0][1] * m2.len() as f64 + a[0][1]
}

#[differentiate]
fn copied_array(a: [f64; 2], x: f64) -> f64 {
    let mut m = a;
    m[1] = m[0] * x;
    let v = vec![x; 2];
    let mut w = v;
    w[0] *= m[1];
    m[1] + m[0] + w[0] + a[1]
}

#[test]
fn copies_of_arrays() {
    let x5 = [1.0, 2.0, 3.0, 4.0, 0.5];
    common::check_all(
        "copied_matrix",
        &x5,
        |p| copied_matrix([[p[0], p[1]], [p[2], p[3]]], p[4]),
        |p, t| {
            copied_matrix_fwd(
                [[p[0], p[1]], [p[2], p[3]]],
                [[t[0], t[1]], [t[2], t[3]]],
                p[4],
                t[4],
            )
        },
        |p, d, r| {
            let (mut da, mut dx) = ([[d[0], d[1]], [d[2], d[3]]], d[4]);
            let y = copied_matrix_adjoint([[p[0], p[1]], [p[2], p[3]]], &mut da, p[4], &mut dx, r);
            d.copy_from_slice(&[da[0][0], da[0][1], da[1][0], da[1][1], dx]);
            y
        },
        |p| {
            let (y, (ga, gx)) = copied_matrix_grad([[p[0], p[1]], [p[2], p[3]]], p[4]);
            (y, vec![ga[0][0], ga[0][1], ga[1][0], ga[1][1], gx])
        },
    );
    let (y, (ga, gx)) = copied_array_grad([1.0, 2.0], 0.5);
    // m = [1, 0.5], w = [0.5·0.5, 0.5]: y = 0.5 + 1 + 0.25 + 2
    assert_eq!(y, 3.75);
    assert_eq!(ga, [0.5 + 1.0 + 0.5 * 0.5, 1.0]);
    assert_eq!(gx, 1.0 + 0.5 + 0.5);
}

// ---- central differences for the forms checked above by exact values ----

#[differentiate]
fn gram_of_rows(x: &[[f64; 3]]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        for j in 0..x.len() {
            let d: f64 = x[i].iter().zip(x[j].iter()).map(|(a, b)| a * b).sum();
            s += d * d;
        }
    }
    s
}

#[differentiate]
fn zipped_halves(w: &[f64]) -> f64 {
    w[0..3]
        .iter()
        .zip(w[3..6].iter())
        .map(|(a, b)| (a * b).sin())
        .sum::<f64>()
}

#[test]
fn zipped_views_against_differences() {
    check_nested(
        "gram_of_rows",
        &X6,
        rows::<3>,
        from_rows,
        |x| gram_of_rows(x),
        |x, v| gram_of_rows_fwd(x, v),
        |x, d, r| gram_of_rows_adjoint(x, d, r),
        |x| gram_of_rows_grad(x),
    );
    common::check_all(
        "zipped_halves",
        &X6,
        |w| zipped_halves(w),
        |w, v| zipped_halves_fwd(w, v),
        |w, d, r| zipped_halves_adjoint(w, d, r),
        |w| zipped_halves_grad(w),
    );
}

#[test]
fn copied_array_against_differences() {
    common::check_all(
        "copied_array",
        &[1.3, -0.7, 0.4],
        |p| copied_array([p[0], p[1]], p[2]),
        |p, t| copied_array_fwd([p[0], p[1]], [t[0], t[1]], p[2], t[2]),
        |p, d, r| {
            let (mut da, mut dx) = ([d[0], d[1]], d[2]);
            let y = copied_array_adjoint([p[0], p[1]], &mut da, p[2], &mut dx, r);
            d.copy_from_slice(&[da[0], da[1], dx]);
            y
        },
        |p| {
            let (y, (ga, gx)) = copied_array_grad([p[0], p[1]], p[2]);
            (y, vec![ga[0], ga[1], gx])
        },
    );
}

/// The Jacobians of the vector-valued functions of nested buffers, column by
/// column, against central differences of the primal.
#[test]
fn jacobians_over_nested_buffers_against_differences() {
    let p = [1.0, 2.0, 3.0, 4.0, 0.5, 0.7];
    let f = |p: &[f64]| matvec(&[[p[0], p[1]], [p[2], p[3]]], &[p[4], p[5]]);
    let (_, j) = matvec_jacobian(&[[p[0], p[1]], [p[2], p[3]]], &[p[4], p[5]]);
    for c in 0..6 {
        let (mut up, mut down) = (p, p);
        up[c] += 1e-6;
        down[c] -= 1e-6;
        let (yu, yd) = (f(&up), f(&down));
        for r in 0..2 {
            let fd = (yu[r] - yd[r]) / 2e-6;
            assert!((j[r * 6 + c] - fd).abs() < 1e-7, "matvec J[{r}][{c}]");
        }
    }
    let m = [3.0, 4.0, -2.0];
    let g = |m: &[f64]| {
        let mut out = [0.0; 2];
        row_energies(&[m[..2].to_vec(), m[2..].to_vec()], &mut out);
        out
    };
    let mut out = [0.0; 2];
    let j = row_energies_jacobian(&[m[..2].to_vec(), m[2..].to_vec()], &mut out);
    for c in 0..3 {
        let (mut up, mut down) = (m, m);
        up[c] += 1e-6;
        down[c] -= 1e-6;
        let (yu, yd) = (g(&up), g(&down));
        for r in 0..2 {
            let fd = (yu[r] - yd[r]) / 2e-6;
            assert!((j[r * 3 + c] - fd).abs() < 1e-7, "row_energies J[{r}][{c}]");
        }
    }
}
