//! Loops and arrays: reductions, linear algebra, a classifier loss, fixed-point
//! iteration, loop exits, local buffers, array parameters, idiomatic iterator
//! loops and methods. Each checked against central differences, forward
//! against reverse (dot-product identity), accumulation, and the primal value.

// The differentiated functions are written in the forms under test, not as clippy prefers.
#![allow(clippy::needless_range_loop, clippy::assign_op_pattern)]

#[macro_use]
mod common;

use autodiff::differentiate;
use common::{assert_close, assert_vec_close, check_all, check_all_tol, Rng};

/// `check_all` for `f(a: &[f64]) -> f64`, plus any passive trailing arguments.
macro_rules! check_slice1 {
    ($f:path, $fwd:path, $adj:path, $grad:path; $a:expr $(, $p:expr)*) => {{
        let a: &[f64] = &$a;
        common::check_all(
            stringify!($f),
            a,
            |x| $f(x $(, $p)*),
            |x, v| $fwd(x, v $(, $p)*),
            |x, d, r| $adj(x, d $(, $p)*, r),
            |x| $grad(x $(, $p)*),
        )
    }};
}

/// `check_all` for `f(a: &[f64], b: &[f64]) -> f64`, plus passive trailing arguments.
macro_rules! check_slice2 {
    ($f:path, $fwd:path, $adj:path, $grad:path; $a:expr, $b:expr $(, $p:expr)*) => {{
        let (a, b): (&[f64], &[f64]) = (&$a, &$b);
        let na = a.len();
        let x: Vec<f64> = a.iter().chain(b).copied().collect();
        common::check_all(
            stringify!($f),
            &x,
            |x| $f(&x[..na], &x[na..] $(, $p)*),
            |x, v| $fwd(&x[..na], &v[..na], &x[na..], &v[na..] $(, $p)*),
            |x, d, r| {
                let (da, db) = d.split_at_mut(na);
                $adj(&x[..na], da, &x[na..], db $(, $p)*, r)
            },
            |x| {
                let (y, (ga, gb)) = $grad(&x[..na], &x[na..] $(, $p)*);
                (y, ga.into_iter().chain(gb).collect())
            },
        )
    }};
}

/// `check_all` for `f(a: &[f64], t: f64) -> f64`, plus passive trailing arguments.
macro_rules! check_slice_scalar {
    ($f:path, $fwd:path, $adj:path, $grad:path; $a:expr, $t:expr $(, $p:expr)*) => {{
        let a: &[f64] = &$a;
        let na = a.len();
        let mut x = a.to_vec();
        x.push($t);
        common::check_all(
            stringify!($f),
            &x,
            |x| $f(&x[..na], x[na] $(, $p)*),
            |x, v| $fwd(&x[..na], &v[..na], x[na], v[na] $(, $p)*),
            |x, d, r| {
                let (da, dt) = d.split_at_mut(na);
                $adj(&x[..na], da, x[na], &mut dt[0] $(, $p)*, r)
            },
            |x| {
                let (y, (ga, gt)) = $grad(&x[..na], x[na] $(, $p)*);
                let mut g = ga;
                g.push(gt);
                (y, g)
            },
        )
    }};
}

// ---------------------------------------------------------------------------
// Reductions and polynomials
// ---------------------------------------------------------------------------

#[differentiate]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..a.len() {
        s += a[i] * b[i];
    }
    s
}

#[test]
fn dot_product() {
    let mut rng = Rng::new(1);
    let (a, b) = (rng.vec(5, -1.0, 1.0), rng.vec(5, -1.0, 1.0));
    check_slice2!(dot, dot_fwd, dot_adjoint, dot_grad; a, b);
    let (v, (ga, gb)) = dot_grad(&a, &b);
    assert_eq!(v, dot(&a, &b));
    assert_eq!((ga, gb), (b.clone(), a.clone()), "∇dot = (b, a) exactly");
}

#[differentiate]
fn horner(c: &[f64], x: f64) -> f64 {
    let mut r = 0.0;
    for i in (0..c.len()).rev() {
        r = r * x + c[i];
    }
    r
}

#[test]
fn horner_polynomial() {
    check_slice_scalar!(horner, horner_fwd, horner_adjoint, horner_grad; [0.5, -1.0, 2.0, 0.25, -0.75], 1.3);
    // d/dx (0.5 - x + 2x² + 0.25x³ - 0.75x⁴) at 1.3
    let x: f64 = 1.3;
    let want = -1.0 + 4.0 * x + 0.75 * x * x - 3.0 * x.powi(3);
    assert_close(
        horner_grad(&[0.5, -1.0, 2.0, 0.25, -0.75], x).1 .1,
        want,
        1e-13,
        "horner'(x)",
    );
}

#[differentiate]
fn product(x: &[f64]) -> f64 {
    let mut t = 1.0;
    for i in 0..x.len() {
        t *= x[i];
    }
    t
}

#[differentiate]
fn power_loop(x: f64, n: usize) -> f64 {
    let mut t = 1.0;
    for _ in 0..n {
        t *= x;
    }
    t
}

#[test]
fn loop_carried_product() {
    check_slice1!(product, product_fwd, product_adjoint, product_grad; [1.5, -0.5, 2.0, 0.8]);
    for n in 0..5 {
        let x: f64 = 1.7;
        let want = if n == 0 {
            0.0
        } else {
            n as f64 * x.powi(n as i32 - 1)
        };
        let (v, g) = power_loop_grad(x, n);
        assert_eq!(v, power_loop(x, n));
        assert_close(g, want, 1e-13, &format!("power_loop'({x}, {n})"));
        assert_close(power_loop_fwd(x, 1.0, n).1, want, 1e-13, "power_loop_fwd");
        let mut d = 0.5;
        power_loop_adjoint(x, &mut d, n, 2.0);
        assert_close(d, 0.5 + 2.0 * want, 1e-13, "power_loop_adjoint");
    }
}

#[differentiate]
fn lse(x: &[f64]) -> f64 {
    let mut mx = x[0];
    for i in 1..x.len() {
        if x[i] > mx {
            mx = x[i];
        }
    }
    let mut s = 0.0;
    for i in 0..x.len() {
        s += (x[i] - mx).exp();
    }
    mx + s.ln()
}

#[differentiate]
fn lse_max_method(x: &[f64]) -> f64 {
    let mut mx = f64::NEG_INFINITY;
    for &xi in x {
        mx = mx.max(xi);
    }
    let mut s = 0.0;
    for xi in x.iter() {
        s += (*xi - mx).exp();
    }
    s.ln() + mx
}

#[test]
fn log_sum_exp_with_max_trick() {
    let x = [0.3, 2.1, -1.0, 1.7, 0.0];
    check_slice1!(lse, lse_fwd, lse_adjoint, lse_grad; x);
    check_slice1!(lse_max_method, lse_max_method_fwd, lse_max_method_adjoint, lse_max_method_grad; x);
    // the gradient is the softmax, and large inputs do not overflow
    let big = [1000.0, 1001.0, 999.0];
    let (v, g) = lse_grad(&big);
    let e: Vec<f64> = big.iter().map(|b| (b - 1001.0f64).exp()).collect();
    let z: f64 = e.iter().sum();
    assert_close(v, 1001.0 + z.ln(), 1e-15, "lse value");
    assert_vec_close(
        &g,
        &e.iter().map(|e| e / z).collect::<Vec<_>>(),
        1e-13,
        "∇lse = softmax",
    );
    assert_vec_close(&lse_max_method_grad(&big).1, &g, 1e-13, "∇lse (max method)");
}

// ---------------------------------------------------------------------------
// Linear algebra with index arithmetic
// ---------------------------------------------------------------------------

#[differentiate]
fn matvec_loss(a: &[f64], x: &[f64], m: usize, n: usize) -> f64 {
    let mut y = vec![0.0; m];
    for i in 0..m {
        for j in 0..n {
            y[i] += a[i * n + j] * x[j];
        }
    }
    let mut s = 0.0;
    for i in 0..m {
        s += y[i] * y[i];
    }
    0.5 * s
}

#[differentiate]
fn matmul_loss(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> f64 {
    let mut c = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            let mut s = 0.0;
            for p in 0..k {
                s += a[i * k + p] * b[p * n + j];
            }
            c[i * n + j] = s;
        }
    }
    let mut l = 0.0;
    for i in 0..m * n {
        l += c[i] * c[i];
    }
    l
}

#[test]
fn matrix_vector_product() {
    let mut rng = Rng::new(2);
    let (m, n) = (3, 4);
    let (a, x) = (rng.vec(m * n, -1.0, 1.0), rng.vec(n, -1.0, 1.0));
    check_slice2!(matvec_loss, matvec_loss_fwd, matvec_loss_adjoint, matvec_loss_grad; a, x, m, n);
    // ∇_A = y xᵀ, ∇_x = Aᵀ y
    let y: Vec<f64> = (0..m)
        .map(|i| (0..n).map(|j| a[i * n + j] * x[j]).sum())
        .collect();
    let (_, (ga, gx)) = matvec_loss_grad(&a, &x, m, n);
    let want_a: Vec<f64> = (0..m * n).map(|ij| y[ij / n] * x[ij % n]).collect();
    let want_x: Vec<f64> = (0..n)
        .map(|j| (0..m).map(|i| a[i * n + j] * y[i]).sum())
        .collect();
    assert_vec_close(&ga, &want_a, 1e-13, "∇_A");
    assert_vec_close(&gx, &want_x, 1e-13, "∇_x");
}

#[test]
fn matrix_matrix_product() {
    let mut rng = Rng::new(3);
    let (m, k, n) = (2, 3, 4);
    let (a, b) = (rng.vec(m * k, -1.0, 1.0), rng.vec(k * n, -1.0, 1.0));
    check_slice2!(matmul_loss, matmul_loss_fwd, matmul_loss_adjoint, matmul_loss_grad; a, b, m, k, n);
    // ∇_A = 2 C Bᵀ, ∇_B = 2 Aᵀ C
    let c: Vec<f64> = (0..m * n)
        .map(|ij| (0..k).map(|p| a[ij / n * k + p] * b[p * n + ij % n]).sum())
        .collect();
    let (_, (ga, gb)) = matmul_loss_grad(&a, &b, m, k, n);
    let want_a: Vec<f64> = (0..m * k)
        .map(|ip| {
            2.0 * (0..n)
                .map(|j| c[ip / k * n + j] * b[ip % k * n + j])
                .sum::<f64>()
        })
        .collect();
    let want_b: Vec<f64> = (0..k * n)
        .map(|pj| {
            2.0 * (0..m)
                .map(|i| a[i * k + pj / n] * c[i * n + pj % n])
                .sum::<f64>()
        })
        .collect();
    assert_vec_close(&ga, &want_a, 1e-12, "∇_A");
    assert_vec_close(&gb, &want_b, 1e-12, "∇_B");
}

// ---------------------------------------------------------------------------
// A linear classifier: softmax + cross-entropy over a batch
// ---------------------------------------------------------------------------

#[differentiate(wrt(w, b))]
fn softmax_ce(w: &[f64], b: &[f64], x: &[f64], labels: &[usize], d: usize) -> f64 {
    let k = b.len();
    let n = labels.len();
    let mut z = vec![0.0; k];
    let mut loss = 0.0;
    for i in 0..n {
        for c in 0..k {
            let mut s = b[c];
            for j in 0..d {
                s += w[c * d + j] * x[i * d + j];
            }
            z[c] = s;
        }
        let mut mx = z[0];
        for c in 1..k {
            if z[c] > mx {
                mx = z[c];
            }
        }
        let mut se = 0.0;
        for c in 0..k {
            se += (z[c] - mx).exp();
        }
        loss += mx + se.ln() - z[labels[i]];
    }
    loss / n as f64
}

#[test]
fn softmax_cross_entropy_classifier() {
    let mut rng = Rng::new(4);
    let (n, d, k) = (5, 3, 4);
    let x = rng.vec(n * d, -2.0, 2.0);
    let labels = [0usize, 3, 1, 1, 2];
    let (w, b) = (rng.vec(k * d, -1.0, 1.0), rng.vec(k, -0.5, 0.5));
    check_slice2!(softmax_ce, softmax_ce_fwd, softmax_ce_adjoint, softmax_ce_grad; w, b, &x[..], &labels[..], d);
    // ∇_b = mean over samples of (softmax - onehot): sums to zero
    let (_, (_, gb)) = softmax_ce_grad(&w, &b, &x, &labels, d);
    assert!(
        gb.iter().sum::<f64>().abs() < 1e-14,
        "Σ ∇_b = {}",
        gb.iter().sum::<f64>()
    );
}

// ---------------------------------------------------------------------------
// while, break, continue, early return
// ---------------------------------------------------------------------------

#[differentiate]
fn newton_sqrt(a: f64) -> f64 {
    let mut x = a;
    let mut err = 1.0;
    while err > 1e-15 {
        let nx = 0.5 * (x + a / x);
        err = (nx - x).abs() / nx;
        x = nx;
    }
    x
}

#[differentiate(wrt(p))]
fn fixed_point(p: f64, tol: f64) -> f64 {
    // x = p·cos(x), iterated until the step is below tol
    let mut x: f64 = 0.0;
    let mut err = tol + 1.0;
    let mut it = 0;
    while err > tol && it < 200 {
        let nx = p * x.cos();
        err = (nx - x).abs();
        x = nx;
        it += 1;
    }
    x
}

#[test]
fn while_with_active_condition() {
    for a in [0.5, 2.0, 9.0] {
        let (v, g) = newton_sqrt_grad(a);
        assert_eq!(v, newton_sqrt(a));
        assert_close(v, a.sqrt(), 1e-15, "newton_sqrt value");
        assert_close(g, 0.5 / a.sqrt(), 1e-12, "newton_sqrt'");
        assert_close(
            newton_sqrt_fwd(a, 1.0).1,
            0.5 / a.sqrt(),
            1e-12,
            "newton_sqrt_fwd",
        );
        let mut d = 1.0;
        assert_eq!(newton_sqrt_adjoint(a, &mut d, -2.0), v);
        assert_close(d, 1.0 - 1.0 / a.sqrt(), 1e-12, "newton_sqrt_adjoint");
    }
    // implicit function theorem: x = p cos x ⇒ dx/dp = cos x / (1 + p sin x)
    let p = 0.8;
    let (x, g) = fixed_point_grad(p, 1e-14);
    assert_eq!(x, fixed_point(p, 1e-14));
    assert_close(g, x.cos() / (1.0 + p * x.sin()), 1e-10, "fixed point dx/dp");
    let mut d = 0.5;
    assert_eq!(fixed_point_adjoint(p, &mut d, 1e-14, 2.0), x);
    assert_close(d, 0.5 + 2.0 * g, 1e-14, "fixed_point_adjoint dp");
    let (v, t) = fixed_point_fwd(p, 1.0, 1e-14);
    assert_eq!(v, x, "fixed_point_fwd primal");
    assert_close(t, g, 1e-13, "fixed_point_fwd");
}

#[differentiate]
fn exits(x: &[f64], t: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        if x[i] < 0.0 {
            continue;
        }
        if x[i] > 10.0 {
            return s * t + x[i];
        }
        s += x[i] * t;
        if s > 5.0 {
            break;
        }
    }
    s * s
}

#[test]
fn break_and_continue() {
    // continue on negatives, no exit
    check_slice_scalar!(exits, exits_fwd, exits_adjoint, exits_grad; [0.5, -1.0, 0.7, -0.2, 0.3], 1.5);
    // break once s > 5
    check_slice_scalar!(exits, exits_fwd, exits_adjoint, exits_grad; [2.0, -1.0, 3.0, 4.0, 0.3], 1.2);
    let (v, (g, gt)) = exits_grad(&[2.0, -1.0, 3.0, 4.0, 0.3], 1.2);
    assert_close(v, 36.0, 1e-14, "exits value (break)");
    assert_vec_close(&g, &[14.4, 0.0, 14.4, 0.0, 0.0], 1e-14, "exits ∂x (break)");
    assert_close(gt, 2.0 * 6.0 * 5.0, 1e-14, "exits ∂t (break)");
}

#[test]
fn continue_then_early_return() {
    // early return at the element > 10, after a `continue` guard in the same body
    check_slice_scalar!(exits, exits_fwd, exits_adjoint, exits_grad; [0.5, -1.0, 12.0, 4.0], 0.9);
    let (v, (g, gt)) = exits_grad(&[0.5, -1.0, 12.0, 4.0], 0.9);
    assert_close(v, 0.45 * 0.9 + 12.0, 1e-14, "exits value (return)");
    assert_vec_close(&g, &[0.81, 0.0, 1.0, 0.0], 1e-14, "exits ∂x (return)");
    assert_close(gt, 2.0 * 0.5 * 0.9, 1e-14, "exits ∂t (return)");
}

#[differentiate]
fn two_breaks(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        if x[i] > 10.0 {
            break;
        }
        s += x[i] * x[i];
        if s > 5.0 {
            break;
        }
        s += x[i];
    }
    s
}

#[test]
fn two_breaks_first_taken() {
    check_slice1!(two_breaks, two_breaks_fwd, two_breaks_adjoint, two_breaks_grad; [1.0, 0.5, 20.0, 3.0]);
}

#[test]
fn two_breaks_second_taken() {
    // s = 1 + 1 = 2, then 2 + 4 = 6 > 5: break; ∇ = [2·1 + 1, 2·2, 0]
    let (v, g) = two_breaks_grad(&[1.0, 2.0, 20.0]);
    assert_eq!(v, 6.0);
    assert_vec_close(&g, &[3.0, 4.0, 0.0], 1e-14, "∇two_breaks");
    check_slice1!(two_breaks, two_breaks_fwd, two_breaks_adjoint, two_breaks_grad; [1.0, 2.0, 20.0]);
}

#[differentiate]
fn while_with_break(x: f64) -> f64 {
    let mut y = x;
    let mut i = 0;
    while i < 10 {
        i += 1;
        if i % 3 == 0 {
            continue;
        }
        y = y * x + 0.5;
        if y > 100.0 {
            break;
        }
    }
    y
}

#[test]
fn while_with_break_and_continue() {
    check_scalar!(while_with_break, while_with_break_fwd, while_with_break_adjoint, while_with_break_grad; [0.9]);
    check_scalar!(while_with_break, while_with_break_fwd, while_with_break_adjoint, while_with_break_grad; [1.6]);
}

// ---------------------------------------------------------------------------
// Local buffers and array parameters
// ---------------------------------------------------------------------------

#[differentiate]
fn buffer_overwrite(x: &[f64]) -> f64 {
    let n = x.len();
    let mut b = vec![0.0; n];
    for i in 0..n {
        b[i] = x[i] * x[i];
    }
    for i in 0..n {
        b[i] = b[i].sin() + x[i];
    }
    for _ in 0..3 {
        for i in 1..n {
            b[i] = b[i] * b[i - 1] + 0.1;
        }
        b[0] *= 0.9;
        b[n - 1] += b[0];
    }
    let mut s = 0.0;
    for i in 0..n {
        s += b[i] * x[i];
    }
    s
}

#[test]
fn local_buffer_overwritten_in_a_loop() {
    check_slice1!(buffer_overwrite, buffer_overwrite_fwd, buffer_overwrite_adjoint, buffer_overwrite_grad; [0.4, -0.8, 1.1, 0.6]);
}

#[differentiate]
fn local_array(x: &[f64]) -> f64 {
    let mut h = [0.0; 3];
    for i in 0..3 {
        h[i] = x[i] * x[(i + 1) % 3];
    }
    let mut acc = [1.0; 2];
    acc[0] = h[0] + h[1];
    acc[1] *= h[2];
    acc[0] * acc[1] + h[0]
}

#[test]
fn local_fixed_size_arrays() {
    check_slice1!(local_array, local_array_fwd, local_array_adjoint, local_array_grad; [0.4, -0.8, 1.1]);
}

#[differentiate]
fn array_params(p: [f64; 3], q: &[f64; 3]) -> f64 {
    let mut s = 0.0;
    for i in 0..3 {
        s += p[i] * q[i] * q[i];
    }
    s + p[0] * p[2]
}

#[test]
fn array_parameters() {
    let (p, q) = ([0.5, -1.2, 2.0], [1.5, 0.3, -0.7]);
    let want_p = [q[0] * q[0] + p[2], q[1] * q[1], q[2] * q[2] + p[0]];
    let want_q = [2.0 * p[0] * q[0], 2.0 * p[1] * q[1], 2.0 * p[2] * q[2]];
    let (v, (gp, gq)): (f64, ([f64; 3], [f64; 3])) = array_params_grad(p, &q);
    assert_eq!(v, array_params(p, &q));
    assert_vec_close(&gp, &want_p, 1e-14, "∇p");
    assert_vec_close(&gq, &want_q, 1e-14, "∇q");
    check_all(
        "array_params",
        &[p[0], p[1], p[2], q[0], q[1], q[2]],
        |x| array_params([x[0], x[1], x[2]], &[x[3], x[4], x[5]]),
        |x, v| {
            array_params_fwd(
                [x[0], x[1], x[2]],
                [v[0], v[1], v[2]],
                &[x[3], x[4], x[5]],
                &[v[3], v[4], v[5]],
            )
        },
        |x, d, r| {
            let mut dp = [d[0], d[1], d[2]];
            let mut dq = [d[3], d[4], d[5]];
            let y =
                array_params_adjoint([x[0], x[1], x[2]], &mut dp, &[x[3], x[4], x[5]], &mut dq, r);
            d[..3].copy_from_slice(&dp);
            d[3..].copy_from_slice(&dq);
            y
        },
        |x| {
            let (y, (gp, gq)) = array_params_grad([x[0], x[1], x[2]], &[x[3], x[4], x[5]]);
            (y, gp.iter().chain(gq.iter()).copied().collect())
        },
    );
}

// ---------------------------------------------------------------------------
// Idiomatic loops
// ---------------------------------------------------------------------------

#[differentiate]
fn iter_sum_sq(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for xi in x.iter() {
        s += *xi * *xi;
    }
    s
}

#[differentiate]
fn iter_by_pattern(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for &xi in x {
        s += xi.sin() * xi;
    }
    s
}

#[differentiate]
fn iter_enumerate(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for (i, xi) in x.iter().enumerate() {
        s += (i as f64 + 1.0) * xi * xi;
    }
    s
}

#[differentiate]
fn iter_zip(w: &[f64], x: &[f64]) -> f64 {
    let mut s = 0.0;
    for (wi, xi) in w.iter().zip(x.iter()) {
        s += wi * xi + wi * wi;
    }
    s
}

#[differentiate]
fn iter_array_ref(p: [f64; 4]) -> f64 {
    let mut s = 1.0;
    for pi in &p {
        s *= *pi + 2.0;
    }
    s
}

#[differentiate]
fn ranges(x: &[f64]) -> f64 {
    let n = x.len();
    let mut s = 0.0;
    for i in (1..n).rev() {
        s = s * 0.5 + x[i] * x[i - 1];
    }
    for i in 0..=n - 1 {
        s += x[i] * (i as f64);
    }
    for i in (0..=2).rev() {
        s *= x[i] + 1.5;
    }
    s
}

#[test]
fn idiomatic_iterator_loops() {
    let x = [0.4, -0.8, 1.1, 0.6];
    check_slice1!(iter_sum_sq, iter_sum_sq_fwd, iter_sum_sq_adjoint, iter_sum_sq_grad; x);
    check_slice1!(iter_by_pattern, iter_by_pattern_fwd, iter_by_pattern_adjoint, iter_by_pattern_grad; x);
    check_slice1!(iter_enumerate, iter_enumerate_fwd, iter_enumerate_adjoint, iter_enumerate_grad; x);
    check_slice2!(iter_zip, iter_zip_fwd, iter_zip_adjoint, iter_zip_grad; x, [1.0, 2.0, -0.5, 0.25]);
    let (v, g) = iter_array_ref_grad(x);
    assert_eq!(v, iter_array_ref(x));
    let want: Vec<f64> = (0..4)
        .map(|i| (0..4).filter(|&j| j != i).map(|j| x[j] + 2.0).product())
        .collect();
    assert_vec_close(&g, &want, 1e-14, "∇ Π(p+2)");
    let (v, t) = iter_array_ref_fwd(x, [1.0, 0.0, 0.0, 0.0]);
    assert_eq!(v, iter_array_ref(x));
    assert_close(t, want[0], 1e-14, "iter_array_ref_fwd");
}

#[test]
fn reversed_and_inclusive_ranges() {
    check_slice1!(ranges, ranges_fwd, ranges_adjoint, ranges_grad; [0.4, -0.8, 1.1, 0.6, 0.9]);
}

// ---------------------------------------------------------------------------
// Calls passing slices and buffers; methods
// ---------------------------------------------------------------------------

#[differentiate]
fn weighted(buf: &[f64], x: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..buf.len() {
        s += buf[i] * x.powi(i as i32);
    }
    s
}

#[differentiate]
fn calls_with_slices(w: &[f64], x: f64) -> f64 {
    let n = w.len();
    let mut buf = vec![0.0; n];
    for i in 0..n {
        buf[i] = w[i].tanh();
    }
    weighted(&buf, x) + weighted(w, x * x) + dot(w, &buf)
}

#[test]
fn nested_calls_passing_slices() {
    check_slice_scalar!(calls_with_slices, calls_with_slices_fwd, calls_with_slices_adjoint, calls_with_slices_grad; [0.4, -0.8, 1.1], 0.7);
}

pub struct Model {
    pub reg: f64,
    pub n: usize,
}

impl Model {
    #[differentiate]
    fn penalty(x: f64, y: f64) -> f64 {
        x * x + (x * y).sin()
    }

    #[differentiate]
    pub fn loss(&self, w: &[f64], t: f64) -> f64 {
        let mut s = 0.0;
        for i in 0..self.n {
            s += (w[i] - t).powi(2);
        }
        s + self.reg * Self::penalty(w[0], t)
    }
}

#[test]
fn impl_block_associated_function_and_method() {
    check_scalar!(Model::penalty, Model::penalty_fwd, Model::penalty_adjoint, Model::penalty_grad; [0.6, -1.3]);
    let model = Model { reg: 0.3, n: 3 };
    check_all(
        "Model::loss",
        &[0.4, -0.8, 1.1, 0.25],
        |x| model.loss(&x[..3], x[3]),
        |x, v| model.loss_fwd(&x[..3], &v[..3], x[3], v[3]),
        |x, d, r| {
            let (dw, dt) = d.split_at_mut(3);
            model.loss_adjoint(&x[..3], dw, x[3], &mut dt[0], r)
        },
        |x| {
            let (y, (gw, gt)) = model.loss_grad(&x[..3], x[3]);
            let mut g = gw;
            g.push(gt);
            (y, g)
        },
    );
}

// ---------------------------------------------------------------------------
// Bigger, for tolerance: a two-layer network loss
// ---------------------------------------------------------------------------

#[differentiate(wrt(w1, w2))]
fn mlp(w1: &[f64], w2: &[f64], x: &[f64], y: &[f64], d: usize, h: usize) -> f64 {
    let n = y.len();
    let mut hid = vec![0.0; h];
    let mut loss = 0.0;
    for s in 0..n {
        for j in 0..h {
            let mut a = 0.0;
            for i in 0..d {
                a += w1[j * d + i] * x[s * d + i];
            }
            hid[j] = a.tanh();
        }
        let mut out = 0.0;
        for j in 0..h {
            out += w2[j] * hid[j];
        }
        let r = out - y[s];
        loss += r * r;
    }
    loss / n as f64
}

#[test]
fn two_layer_network() {
    let mut rng = Rng::new(5);
    let (n, d, h) = (6, 3, 4);
    let (x, y) = (rng.vec(n * d, -1.0, 1.0), rng.vec(n, -1.0, 1.0));
    let (w1, w2) = (rng.vec(h * d, -1.0, 1.0), rng.vec(h, -1.0, 1.0));
    let xs: Vec<f64> = w1.iter().chain(&w2).copied().collect();
    let nw1 = w1.len();
    check_all_tol(
        "mlp",
        &xs,
        1e-6,
        |p| mlp(&p[..nw1], &p[nw1..], &x, &y, d, h),
        |p, v| mlp_fwd(&p[..nw1], &v[..nw1], &p[nw1..], &v[nw1..], &x, &y, d, h),
        |p, dp, r| {
            let (d1, d2) = dp.split_at_mut(nw1);
            mlp_adjoint(&p[..nw1], d1, &p[nw1..], d2, &x, &y, d, h, r)
        },
        |p| {
            let (v, (g1, g2)) = mlp_grad(&p[..nw1], &p[nw1..], &x, &y, d, h);
            (v, g1.into_iter().chain(g2).collect())
        },
    );
}

// ---------------------------------------------------------------------------
// Corner cases of the same features
// ---------------------------------------------------------------------------

#[differentiate]
fn relu_layer(x: &[f64], t: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        let a = x[i] * t - 0.5;
        if a > 0.0 {
            s += a * a;
        } else {
            s += 0.01 * a;
        }
    }
    s
}

#[differentiate]
fn gather_by_labels(w: &[f64], labels: &[usize]) -> f64 {
    let mut s = 0.0;
    for &l in labels {
        s += w[l] * w[l];
    }
    for (i, &l) in labels.iter().enumerate() {
        s += w[l] * (i as f64);
    }
    s
}

#[differentiate]
fn while_over_buffer(x: &[f64]) -> f64 {
    let n = x.len();
    let mut b = vec![x[0]; n];
    let mut i = 1;
    while i < n {
        b[i] = b[i - 1] * x[i] + b[i];
        i += 1;
    }
    let mut s = 0.0;
    let mut j = 0;
    while j < n {
        s += b[j];
        j += 1;
    }
    s
}

#[differentiate]
fn inner_break(a: &[f64], n: usize) -> f64 {
    let m = a.len() / n;
    let mut s = 0.0;
    for i in 0..m {
        let mut row = 0.0;
        for j in 0..n {
            if a[i * n + j] < 0.0 {
                break;
            }
            row += a[i * n + j].sqrt();
        }
        s += row * row;
    }
    s
}

#[differentiate]
fn return_from_nested_loop(a: &[f64], n: usize) -> f64 {
    let m = a.len() / n;
    let mut s = 0.0;
    for i in 0..m {
        for j in 0..n {
            s += a[i * n + j] * s + a[i * n + j];
            if s > 3.0 {
                return s * s;
            }
        }
    }
    s
}

#[differentiate]
fn buffer_through_calls(x: &[f64], t: f64) -> f64 {
    let n = x.len();
    let mut b = vec![0.0; n];
    for i in 0..n {
        b[i] = x[i] * t;
    }
    let first = dot(&b, x);
    for i in 0..n {
        b[i] = b[i] * b[i];
    }
    first + dot(&b, x) + horner(&b, t)
}

#[differentiate]
fn squared_norm(x: &[f64]) -> f64 {
    dot(x, x)
}

#[differentiate]
fn gdot<T: autodiff::Float>(a: &[T], b: &[T]) -> T {
    let mut s = T::zero();
    for i in 0..a.len() {
        s = s + a[i] * b[i].sin();
    }
    s
}

#[test]
fn conditional_accumulation_in_a_loop() {
    check_slice_scalar!(relu_layer, relu_layer_fwd, relu_layer_adjoint, relu_layer_grad; [0.2, 1.4, -0.7, 0.9], 1.1);
}

#[test]
fn indexing_by_passive_labels() {
    let labels = [2usize, 0, 2, 1];
    check_slice1!(gather_by_labels, gather_by_labels_fwd, gather_by_labels_adjoint, gather_by_labels_grad; [0.3, -0.6, 1.2], &labels[..]);
}

#[test]
fn while_loops_over_a_buffer_with_active_init() {
    check_slice1!(while_over_buffer, while_over_buffer_fwd, while_over_buffer_adjoint, while_over_buffer_grad; [0.7, 1.2, -0.4, 0.9]);
}

#[test]
fn break_in_inner_loop() {
    check_slice1!(inner_break, inner_break_fwd, inner_break_adjoint, inner_break_grad; [0.5, 1.5, -1.0, 2.0, 0.3, 0.7, 0.9, 1.1, -0.2, 0.4, 0.6, 0.8], 4);
}

#[test]
fn early_return_from_nested_loop() {
    // returns in the second row
    check_slice1!(return_from_nested_loop, return_from_nested_loop_fwd, return_from_nested_loop_adjoint, return_from_nested_loop_grad; [0.3, 0.2, 0.4, 0.9, 0.8, 0.1], 3);
    // never returns
    check_slice1!(return_from_nested_loop, return_from_nested_loop_fwd, return_from_nested_loop_adjoint, return_from_nested_loop_grad; [0.1, 0.2, 0.1, 0.2, 0.1, 0.1], 3);
}

#[test]
fn buffer_passed_to_calls_then_overwritten() {
    check_slice_scalar!(buffer_through_calls, buffer_through_calls_fwd, buffer_through_calls_adjoint, buffer_through_calls_grad; [0.4, -0.8, 1.1], 0.7);
}

#[test]
fn same_slice_passed_twice() {
    check_slice1!(squared_norm, squared_norm_fwd, squared_norm_adjoint, squared_norm_grad; [0.4, -0.8, 1.1]);
}

#[test]
fn generic_loop_f64_and_f32() {
    check_slice2!(gdot::<f64>, gdot_fwd::<f64>, gdot_adjoint::<f64>, gdot_grad::<f64>; [0.4, -0.8, 1.1], [1.0, 0.5, -2.0]);
    let (a, b) = ([0.4f32, -0.8, 1.1], [1.0f32, 0.5, -2.0]);
    let (v, (ga, gb)) = gdot_grad::<f32>(&a, &b);
    assert_eq!(v, gdot::<f32>(&a, &b));
    for i in 0..3 {
        assert_close(ga[i] as f64, (b[i] as f64).sin(), 1e-6, "∇_a gdot::<f32>");
        assert_close(
            gb[i] as f64,
            a[i] as f64 * (b[i] as f64).cos(),
            1e-6,
            "∇_b gdot::<f32>",
        );
    }
}

#[differentiate]
fn backward_recurrence(x: &[f64]) -> f64 {
    let n = x.len();
    let mut b = vec![0.0; n + 1];
    b[n] = 1.0;
    for i in (0..n).rev() {
        b[i] = b[i + 1] * x[i] + x[i].cos();
        b[i + 1] *= 0.5;
        b[i + 1] -= x[i];
    }
    let mut s = 0.0;
    for i in 0..=n {
        s += b[i] * b[i];
    }
    s
}

#[differentiate]
fn while_early_return(x: f64) -> f64 {
    let mut y = x;
    let mut k = 0;
    while y < 50.0 {
        y = y * y + x;
        k += 1;
        if k > 20 {
            return -y;
        }
    }
    y / x
}

#[test]
fn backward_recurrence_over_a_buffer() {
    check_slice1!(backward_recurrence, backward_recurrence_fwd, backward_recurrence_adjoint, backward_recurrence_grad; [0.4, -0.8, 1.1, 0.6]);
}

#[test]
fn early_return_inside_while() {
    // leaves by the condition
    check_scalar!(while_early_return, while_early_return_fwd, while_early_return_adjoint, while_early_return_grad; [1.3]);
    // leaves by the return: y stays small
    check_scalar!(while_early_return, while_early_return_fwd, while_early_return_adjoint, while_early_return_grad; [0.1]);
}
