//! Issue 16: views whose range moves with a counter, views next to other uses of
//! the buffer they view, and `mut` parameters outside `wrt(..)` made active by an
//! assignment. Each function is checked in all three modes against known values,
//! central differences, the dot-product identity and accumulation (`dret ≠ 1`).
// The bodies are the repros as written.
#![allow(
    clippy::needless_range_loop,
    clippy::useless_vec,
    clippy::assign_op_pattern,
    clippy::type_complexity,
    clippy::explicit_counter_loop
)]
use autodiff::{differentiate, Float};

#[macro_use]
mod common;
use common::{assert_close, assert_vec_close, check_all};

// ---------------------------------------------------------------------------
// 1. a view whose range moves with a counter

#[differentiate]
fn moving_view(w: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut k = 0;
    for _i in 0..2 {
        let v = &w[k..k + 2];
        s += v[0] * v[1];
        k += 1;
    }
    s
}

#[differentiate]
fn moving_view_while(w: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut k = 0;
    while k < 2 {
        let v = &w[k..k + 2];
        s += v[0] * v[1];
        k += 1;
    }
    s
}

/// The counter steps between the view and its use, and the loop does more than
/// accumulate (no fused reverse): the view's bounds are those of its creation.
#[differentiate]
fn moving_view_step_before_use(w: &[f64]) -> f64 {
    let mut s = 1.0;
    let mut k = 0;
    while k < w.len() - 1 {
        let v = &w[k..k + 2];
        k += 1;
        s = s * v[0] + v[1] * v[1];
    }
    s
}

#[differentiate]
fn moving_repro(w1: &[f64], mut x2: f64) -> f64 {
    let mut k3 = 0usize;
    while ((x2 % (w1[k3].powi(2) + 0.9_f64)) < 0.9) && (k3 < 2) {
        let v4 = &w1[k3..k3 + 2];
        x2 = v4[(k3 * 2 + 1) % 2];
        k3 += 1;
    }
    x2
}

fn check_slice_fn(
    name: &str,
    w: &[f64],
    f: fn(&[f64]) -> f64,
    fwd: fn(&[f64], &[f64]) -> (f64, f64),
    adj: fn(&[f64], &mut [f64], f64) -> f64,
    grad: fn(&[f64]) -> (f64, Vec<f64>),
) {
    check_all(name, w, f, fwd, adj, grad);
}

#[test]
fn moving_view_gradient() {
    for (w, want) in [
        (vec![1.0, 2.0, 3.0, 4.0], vec![2.0, 4.0, 2.0, 0.0]),
        // the last view ends at the end of `w`
        (vec![1.0, 2.0, 3.0], vec![2.0, 4.0, 2.0]),
    ] {
        let (v, g) = moving_view_grad(&w);
        assert_eq!(v, w[0] * w[1] + w[1] * w[2]);
        assert_vec_close(&g, &want, 1e-15, "moving_view_grad");
        let mut d = vec![0.0; w.len()];
        moving_view_adjoint(&w, &mut d, 1.0);
        assert_vec_close(&d, &want, 1e-15, "moving_view_adjoint");
        for i in 0..w.len() {
            let mut e = vec![0.0; w.len()];
            e[i] = 1.0;
            assert_close(moving_view_fwd(&w, &e).1, want[i], 1e-15, "moving_view_fwd");
        }
        check_slice_fn(
            "moving_view",
            &w,
            moving_view,
            moving_view_fwd,
            moving_view_adjoint,
            moving_view_grad,
        );
        let (_, g) = moving_view_while_grad(&w);
        assert_vec_close(&g, &want, 1e-15, "moving_view_while_grad");
        check_slice_fn(
            "moving_view_while",
            &w,
            moving_view_while,
            moving_view_while_fwd,
            moving_view_while_adjoint,
            moving_view_while_grad,
        );
    }
}

#[test]
fn moving_view_with_the_step_before_the_use() {
    // s = ((1·w0 + w1²)·w1 + w2²)·w2 + w3²
    let w = [0.7, -1.3, 0.4, 1.1];
    let (v, g) = moving_view_step_before_use_grad(&w);
    let s1 = w[0] + w[1] * w[1];
    let s2 = s1 * w[1] + w[2] * w[2];
    assert_close(v, s2 * w[2] + w[3] * w[3], 1e-15, "value");
    let want = [
        w[1] * w[2],
        (2.0 * w[1] * w[1] + s1) * w[2],
        s2 + 2.0 * w[2] * w[2],
        2.0 * w[3],
    ];
    assert_vec_close(&g, &want, 1e-14, "moving_view_step_before_use_grad");
    check_slice_fn(
        "moving_view_step_before_use",
        &w,
        moving_view_step_before_use,
        moving_view_step_before_use_fwd,
        moving_view_step_before_use_adjoint,
        moving_view_step_before_use_grad,
    );
}

#[test]
fn moving_view_repro() {
    let w1 = [
        -1.1315034850622037,
        -1.3373015326475732,
        1.1998854263259684,
        0.9949146565954878,
    ];
    let x2 = 0.4671198217186614;
    let (_, (g, gx)) = moving_repro_grad(&w1, x2);
    assert_vec_close(&g, &[0.0, 0.0, 1.0, 0.0], 1e-15, "moving_repro_grad");
    assert_eq!(gx, 0.0);
    let mut x = w1.to_vec();
    x.push(x2);
    check_all(
        "moving_repro",
        &x,
        |x| moving_repro(&x[..4], x[4]),
        |x, v| moving_repro_fwd(&x[..4], &v[..4], x[4], v[4]),
        |x, d, r| {
            let (dw, dx) = d.split_at_mut(4);
            moving_repro_adjoint(&x[..4], dw, x[4], &mut dx[0], r)
        },
        |x| {
            let (y, (mut g, gx)) = moving_repro_grad(&x[..4], x[4]);
            g.push(gx);
            (y, g)
        },
    );
}

// ---------------------------------------------------------------------------
// 2. views next to other uses of the buffer they view

#[differentiate]
fn view_then_base(x: f64, w: &[f64]) -> f64 {
    let v = &w[0..2];
    let y = x * v[1];
    w[0] * y
}

#[differentiate]
fn two_views(w: &[f64]) -> f64 {
    let a = &w[0..2];
    let b = &w[1..3];
    a[0] * b[1]
}

#[differentiate]
fn view_in_branch(x: f64, w: &[f64]) -> f64 {
    let mut b = vec![0.0; 2];
    b[0] = w[0];
    b[1] = w[1];
    let mut s = x;
    if x > 0.0 {
        let v = &b[0..2];
        s = s * v[1];
    }
    b[0] = s * 2.0;
    b[0] + b[1]
}

#[differentiate]
fn gd(x: f64, w: &[f64]) -> f64 {
    x * w[0]
}

#[differentiate]
fn elem_and_view(x: f64) -> f64 {
    let mut b = vec![0.0; 3];
    b[0] = x;
    b[1] = x * x;
    let v = &b[1..3];
    gd(b[0], v)
}

#[differentiate]
fn loop_local_view(x: f64) -> f64 {
    let mut z = 0.5;
    for _j in 0..2 {
        let mut t = vec![0.0; 3];
        t[0] = x;
        let v = &t[0..2];
        z = z * v[0];
    }
    z
}

/// `v` is read after the base is rewritten in the same iteration, names itself in a
/// loop bound (`v.len()`), and shares a statement with an element of its base.
#[differentiate]
fn view_then_write(w: &[f64]) -> f64 {
    let mut b = vec![0.0; 3];
    for i in 0..3 {
        b[i] = w[i] * w[i];
    }
    let mut s = 0.0;
    for _r in 0..2 {
        let v = &b[0..2];
        let mut t = 0.0;
        for j in 0..v.len() {
            t += v[j] * b[2];
        }
        s += t;
        b[2] = s * 0.5;
    }
    s
}

/// A view of a parameter and an element of it in one call, and two views of one
/// buffer in another.
#[differentiate]
fn dot2(a: &[f64], b: &[f64]) -> f64 {
    a[0] * b[0] + a[1] * b[1]
}

#[differentiate]
fn views_in_calls(w: &[f64]) -> f64 {
    let v = &w[1..3];
    let p = gd(w[0], v);
    let a = &w[0..2];
    let b = &w[2..4];
    p * dot2(a, b) + dot2(a, a)
}

/// A view of a view, and a view read through a moving window of it.
#[differentiate]
fn view_of_view(w: &[f64]) -> f64 {
    let v = &w[1..5];
    let mut s = v[0];
    let mut k = 0;
    for _i in 0..3 {
        let u = &v[k..k + 2];
        s = s * u[1] + w[0] * u[0];
        k += 1;
    }
    s
}

#[differentiate]
fn array_view_then_base(x: f64, a: &[f64; 3]) -> f64 {
    let v = &a[0..2];
    let y = x * v[1];
    a[0] * y + v[0] * a[2]
}

#[differentiate]
fn array_two_views(a: [f64; 3]) -> f64 {
    let p = &a[0..2];
    let q = &a[1..3];
    p[0] * q[1] + p[1] * q[0]
}

fn scalar_and_slice(
    name: &str,
    x: f64,
    w: &[f64],
    f: fn(f64, &[f64]) -> f64,
    fwd: fn(f64, f64, &[f64], &[f64]) -> (f64, f64),
    adj: fn(f64, &mut f64, &[f64], &mut [f64], f64) -> f64,
    grad: fn(f64, &[f64]) -> (f64, (f64, Vec<f64>)),
) -> Vec<f64> {
    let mut p = vec![x];
    p.extend_from_slice(w);
    check_all(
        name,
        &p,
        |p| f(p[0], &p[1..]),
        |p, v| fwd(p[0], v[0], &p[1..], &v[1..]),
        |p, d, r| {
            let (dx, dw) = d.split_at_mut(1);
            adj(p[0], &mut dx[0], &p[1..], dw, r)
        },
        |p| {
            let (y, (gx, gw)) = grad(p[0], &p[1..]);
            let mut g = vec![gx];
            g.extend(gw);
            (y, g)
        },
    );
    let (_, (gx, gw)) = grad(x, w);
    let mut g = vec![gx];
    g.extend(gw);
    g
}

#[test]
fn view_next_to_its_base() {
    let (x, w) = (1.5, [0.5, -2.0, 3.0]);
    let g = scalar_and_slice(
        "view_then_base",
        x,
        &w,
        view_then_base,
        view_then_base_fwd,
        view_then_base_adjoint,
        view_then_base_grad,
    );
    // x·w0·w1
    assert_vec_close(&g, &[w[0] * w[1], x * w[1], x * w[0], 0.0], 1e-15, "grad");
}

#[test]
fn two_views_of_one_buffer() {
    let w = [0.5, -2.0, 3.0];
    let (v, g) = two_views_grad(&w);
    assert_eq!(v, w[0] * w[2]);
    assert_vec_close(&g, &[w[2], 0.0, w[0]], 1e-15, "two_views_grad");
    check_slice_fn(
        "two_views",
        &w,
        two_views,
        two_views_fwd,
        two_views_adjoint,
        two_views_grad,
    );
}

#[test]
fn view_in_a_branch_then_base_written() {
    let w = [0.5, -2.0];
    for x in [1.5, -0.75] {
        let g = scalar_and_slice(
            "view_in_branch",
            x,
            &w,
            view_in_branch,
            view_in_branch_fwd,
            view_in_branch_adjoint,
            view_in_branch_grad,
        );
        // x > 0: 2·x·w1 + w1; else 2·x + w1
        let want = if x > 0.0 {
            [2.0 * w[1], 0.0, 2.0 * x + 1.0]
        } else {
            [2.0, 0.0, 1.0]
        };
        assert_vec_close(&g, &want, 1e-15, "view_in_branch grad");
    }
}

#[test]
fn element_and_view_of_one_buffer_in_a_call() {
    // gd(x, [x², 0]) = x³
    let x = 0.8;
    check_scalar!(elem_and_view, elem_and_view_fwd, elem_and_view_adjoint, elem_and_view_grad; [x]);
    let (v, g) = elem_and_view_grad(x);
    assert_close(v, x * x * x, 1e-15, "value");
    assert_close(g, 3.0 * x * x, 1e-15, "grad");
}

#[test]
fn view_of_a_loop_local_buffer() {
    // 0.5·x²
    let x = -1.3;
    check_scalar!(loop_local_view, loop_local_view_fwd, loop_local_view_adjoint, loop_local_view_grad; [x]);
    let (v, g) = loop_local_view_grad(x);
    assert_close(v, 0.5 * x * x, 1e-15, "value");
    assert_close(g, x, 1e-15, "grad");
}

#[test]
fn view_read_after_its_base_is_rewritten() {
    let w = [0.9, -0.4, 1.2];
    // by hand: b = w², then two rounds of t = (b0 + b1)·b2, s += t, b2 = s/2
    let f = |w: &[f64]| {
        let b = [w[0] * w[0], w[1] * w[1], w[2] * w[2]];
        let s1 = (b[0] + b[1]) * b[2];
        s1 + (b[0] + b[1]) * (s1 * 0.5)
    };
    let (v, _) = view_then_write_grad(&w);
    assert_close(v, f(&w), 1e-15, "value");
    check_slice_fn(
        "view_then_write",
        &w,
        view_then_write,
        view_then_write_fwd,
        view_then_write_adjoint,
        view_then_write_grad,
    );
}

#[test]
fn views_and_elements_of_one_parameter_in_calls() {
    let w = [0.3, -1.1, 0.7, 1.9];
    let (v, _) = views_in_calls_grad(&w);
    let p = w[0] * w[1];
    assert_close(
        v,
        p * (w[0] * w[2] + w[1] * w[3]) + w[0] * w[0] + w[1] * w[1],
        1e-15,
        "value",
    );
    check_slice_fn(
        "views_in_calls",
        &w,
        views_in_calls,
        views_in_calls_fwd,
        views_in_calls_adjoint,
        views_in_calls_grad,
    );
}

#[test]
fn a_view_of_a_view() {
    let w = [0.6, -0.8, 1.3, 0.2, -1.7];
    check_slice_fn(
        "view_of_view",
        &w,
        view_of_view,
        view_of_view_fwd,
        view_of_view_adjoint,
        view_of_view_grad,
    );
}

#[test]
fn views_of_array_parameters() {
    let (x, a) = (1.5, [0.5, -2.0, 3.0]);
    check_all(
        "array_view_then_base",
        &[x, a[0], a[1], a[2]],
        |p| array_view_then_base(p[0], &[p[1], p[2], p[3]]),
        |p, v| array_view_then_base_fwd(p[0], v[0], &[p[1], p[2], p[3]], &[v[1], v[2], v[3]]),
        |p, d, r| {
            let (mut dx, mut da) = (d[0], [d[1], d[2], d[3]]);
            let y = array_view_then_base_adjoint(p[0], &mut dx, &[p[1], p[2], p[3]], &mut da, r);
            d[0] = dx;
            d[1..].copy_from_slice(&da);
            y
        },
        |p| {
            let (y, (gx, ga)) = array_view_then_base_grad(p[0], &[p[1], p[2], p[3]]);
            (y, vec![gx, ga[0], ga[1], ga[2]])
        },
    );
    // x·a0·a1 + a0·a2
    let (_, (gx, ga)) = array_view_then_base_grad(x, &a);
    assert_close(gx, a[0] * a[1], 1e-15, "gx");
    assert_vec_close(&ga, &[x * a[1] + a[2], x * a[0], a[0]], 1e-15, "ga");

    check_all(
        "array_two_views",
        &a,
        |p| array_two_views([p[0], p[1], p[2]]),
        |p, v| array_two_views_fwd([p[0], p[1], p[2]], [v[0], v[1], v[2]]),
        |p, d, r| {
            let mut da = [d[0], d[1], d[2]];
            let y = array_two_views_adjoint([p[0], p[1], p[2]], &mut da, r);
            d.copy_from_slice(&da);
            y
        },
        |p| {
            let (y, g) = array_two_views_grad([p[0], p[1], p[2]]);
            (y, g.to_vec())
        },
    );
    // a0·a2 + a1²
    let (_, g) = array_two_views_grad(a);
    assert_vec_close(&g, &[a[2], 2.0 * a[1], a[0]], 1e-15, "array_two_views_grad");
}

/// A moving view of a local array whose base is rewritten after each use.
#[differentiate]
fn moving_view_of_local_array(w: &[f64]) -> f64 {
    let mut b = [0.0; 4];
    for i in 0..4 {
        b[i] = w[i] * w[i];
    }
    let mut s = 0.0;
    let mut k = 0;
    for _i in 0..3 {
        let v = &b[k..k + 2];
        s = s * v[1] + b[3] * v[0];
        k += 1;
        b[3] = s;
    }
    s
}

/// An element of a view stored into its own base.
#[differentiate]
fn store_from_view(w: &[f64]) -> f64 {
    let mut b = vec![0.0; 3];
    for i in 0..3 {
        b[i] = w[i] * w[i];
    }
    let v = &b[0..2];
    let y = v[0] * w[2];
    b[1] = v[0];
    b[1] * y + b[0]
}

#[test]
fn views_of_rewritten_local_buffers() {
    let w = [0.3, -0.4, 0.7, 0.2];
    check_slice_fn(
        "moving_view_of_local_array",
        &w,
        moving_view_of_local_array,
        moving_view_of_local_array_fwd,
        moving_view_of_local_array_adjoint,
        moving_view_of_local_array_grad,
    );
    // w0⁴·w2 + w0²
    let (v, g) = store_from_view_grad(&w[..3]);
    assert_close(v, w[0].powi(4) * w[2] + w[0] * w[0], 1e-15, "value");
    let want = [4.0 * w[0].powi(3) * w[2] + 2.0 * w[0], 0.0, w[0].powi(4)];
    assert_vec_close(&g, &want, 1e-14, "store_from_view_grad");
    check_slice_fn(
        "store_from_view",
        &w[..3],
        store_from_view,
        store_from_view_fwd,
        store_from_view_adjoint,
        store_from_view_grad,
    );
}

/// A moving view of a view of passive data whose own bounds change after it is made.
#[differentiate(wrt(w))]
fn view_of_a_moved_view(w: &[f64], x: &[f64]) -> f64 {
    let mut k2 = 1;
    let v = &x[k2..k2 + 3];
    k2 += 1;
    let mut s = 1.0;
    let mut k = 0;
    for _i in 0..2 {
        let u = &v[k..k + 2];
        s = s * u[0] + w[k] * s;
        k += k2 - 1;
    }
    s
}

#[test]
fn a_view_of_a_view_with_kept_bounds() {
    let x = [0.3, -0.4, 0.7, 0.2, 0.9];
    let w = [0.5, 1.5, -0.5];
    // s1 = x1 + w0, s2 = s1·(x2 + w1)
    let (v, g) = view_of_a_moved_view_grad(&w, &x);
    assert_close(v, (x[1] + w[0]) * (x[2] + w[1]), 1e-15, "value");
    assert_vec_close(&g, &[x[2] + w[1], x[1] + w[0], 0.0], 1e-15, "grad");
    check_all(
        "view_of_a_moved_view",
        &w,
        |w| view_of_a_moved_view(w, &x),
        |w, t| view_of_a_moved_view_fwd(w, t, &x),
        |w, d, r| view_of_a_moved_view_adjoint(w, d, &x, r),
        |w| view_of_a_moved_view_grad(w, &x),
    );
}

// ---------------------------------------------------------------------------
// 3. a `mut` parameter outside `wrt(..)` assigned a differentiated value

#[differentiate(wrt(x))]
fn pw(x: f64, mut p: f64) -> f64 {
    p = p + x;
    p * x
}

#[differentiate(wrt(x))]
fn pw_mul(x: f64, mut p: f64) -> f64 {
    p = x * p;
    p * x
}

#[differentiate(wrt(x))]
fn pw_add_assign(x: f64, mut p: f64) -> f64 {
    p += x;
    p * x
}

#[differentiate(wrt(x))]
fn pw_generic<T: Float>(x: T, mut p: T) -> T {
    p = p + x;
    p * x
}

/// The passive parameter before the active one, reassigned in a loop.
#[differentiate(wrt(x))]
fn pw_loop(mut p: f64, x: f64, n: usize) -> f64 {
    for _ in 0..n {
        p = p * x + 1.0;
    }
    p
}

fn check_wrt_x(
    name: &str,
    x: f64,
    want: f64,
    f: impl Fn(f64) -> f64,
    fwd: impl Fn(f64, f64) -> (f64, f64),
    adj: impl Fn(f64, &mut f64, f64) -> f64,
    grad: impl Fn(f64) -> (f64, f64),
) {
    check_all(
        name,
        &[x],
        |v| f(v[0]),
        |v, t| fwd(v[0], t[0]),
        |v, d, r| adj(v[0], &mut d[0], r),
        |v| {
            let (y, g) = grad(v[0]);
            (y, vec![g])
        },
    );
    assert_close(grad(x).1, want, 1e-15, name);
    assert_close(fwd(x, 1.0).1, want, 1e-15, name);
}

#[test]
fn passive_mut_parameter_made_active() {
    let (x, p) = (1.25, -0.6);
    // (p + x)·x
    check_wrt_x(
        "pw",
        x,
        p + 2.0 * x,
        |x| pw(x, p),
        |x, dx| pw_fwd(x, dx, p),
        |x, dx, r| pw_adjoint(x, dx, p, r),
        |x| pw_grad(x, p),
    );
    // x²·p
    check_wrt_x(
        "pw_mul",
        x,
        2.0 * x * p,
        |x| pw_mul(x, p),
        |x, dx| pw_mul_fwd(x, dx, p),
        |x, dx, r| pw_mul_adjoint(x, dx, p, r),
        |x| pw_mul_grad(x, p),
    );
    check_wrt_x(
        "pw_add_assign",
        x,
        p + 2.0 * x,
        |x| pw_add_assign(x, p),
        |x, dx| pw_add_assign_fwd(x, dx, p),
        |x, dx, r| pw_add_assign_adjoint(x, dx, p, r),
        |x| pw_add_assign_grad(x, p),
    );
    check_wrt_x(
        "pw_generic",
        x,
        p + 2.0 * x,
        |x| pw_generic(x, p),
        |x, dx| pw_generic_fwd(x, dx, p),
        |x, dx, r| pw_generic_adjoint(x, dx, p, r),
        |x| pw_generic_grad(x, p),
    );
    // ((p·x + 1)·x + 1)·x + 1
    check_wrt_x(
        "pw_loop",
        x,
        3.0 * p * x * x + 2.0 * x + 1.0,
        |x| pw_loop(p, x, 3),
        |x, dx| pw_loop_fwd(p, x, dx, 3),
        |x, dx, r| pw_loop_adjoint(p, x, dx, 3, r),
        |x| pw_loop_grad(p, x, 3),
    );
}

#[test]
fn passive_mut_parameter_in_f32() {
    let (x, p) = (1.25f32, -0.6f32);
    let (y, g) = pw_generic_grad(x, p);
    assert_eq!(y, pw_generic(x, p));
    common::assert_close_f32(g, p + 2.0 * x, 1e-6, "pw_generic::<f32>");
    let (_, t) = pw_generic_fwd(x, 1.0, p);
    common::assert_close_f32(t, p + 2.0 * x, 1e-6, "pw_generic_fwd::<f32>");
    let mut dx = 0.5f32;
    pw_generic_adjoint(x, &mut dx, p, 2.0);
    common::assert_close_f32(
        dx,
        0.5 + 2.0 * (p + 2.0 * x),
        1e-6,
        "pw_generic_adjoint::<f32>",
    );
}
