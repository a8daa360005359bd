//! Idiomatic bodies (issue 10): iterator chains, assertions, `const` items, the
//! new float methods. Every function is checked against central differences,
//! forward-vs-reverse agreement (`⟨ȳ, J·v⟩ = ⟨Jᵀȳ, v⟩`), accumulation with
//! `dret ≠ 1` and the primal value (`common::check_all`), plus exact values
//! where they are easy to state.

#![allow(
    clippy::needless_range_loop,
    clippy::redundant_closure,
    clippy::ptr_arg,
    clippy::manual_memcpy,
    clippy::assign_op_pattern
)]

#[macro_use]
mod common;

use autodiff::differentiate;

/// `check_all` for `fn(&[f64]) -> f64`.
fn check_slice(
    name: &str,
    w: &[f64],
    f: impl Fn(&[f64]) -> f64,
    fwd: impl Fn(&[f64], &[f64]) -> (f64, f64),
    adj: impl Fn(&[f64], &mut [f64], f64) -> f64,
    grad: impl Fn(&[f64]) -> (f64, Vec<f64>),
) {
    common::check_all(name, w, f, fwd, adj, grad);
}

const W: [f64; 6] = [0.7, -1.2, 0.4, 1.9, -0.3, 0.8];

// ---- iterator chains ----

#[differentiate]
fn sum_of_squares(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum::<f64>()
}

#[differentiate]
fn dot_zip(x: &[f64]) -> f64 {
    let a = &x[0..3];
    let b = &x[3..x.len()];
    a.iter().zip(b.iter()).map(|(p, q)| p * q).sum()
}

#[differentiate]
fn weighted(x: &[f64]) -> f64 {
    x.iter()
        .enumerate()
        .map(|(i, &v)| (i as f64 + 1.0) * v.sin())
        .sum()
}

#[differentiate]
fn folded(x: &[f64]) -> f64 {
    x.iter().copied().fold(0.5, |acc, v| acc * v + v.exp())
}

#[differentiate]
fn product_of_tail(x: &[f64]) -> f64 {
    x.iter().skip(1).take(3).product::<f64>()
}

#[differentiate]
fn strided_reversed(x: &[f64]) -> f64 {
    x.iter().rev().step_by(2).map(|v| v.tanh()).sum()
}

#[differentiate]
fn over_a_range(w: &[f64]) -> f64 {
    let n = w.len();
    (0..n).map(|i| w[i] * w[n - 1 - i]).sum::<f64>() + (1..=2).rev().map(|i| w[i]).sum::<f64>()
}

#[differentiate]
fn chain_in_a_loop(w: &[f64]) -> f64 {
    let mut total = 0.0;
    for r in 0..2 {
        let s: f64 = w.iter().map(|v| v * (r as f64 + 1.0)).sum();
        total += s * s;
    }
    total
}

#[differentiate]
fn mean(w: &[f64]) -> f64 {
    w.iter().sum::<f64>() / w.len() as f64
}

#[differentiate]
fn generic_sum<T: autodiff::Float>(w: &[T]) -> T {
    // `T: Float` has no `Sum`: the generic form is a fold
    w.iter().fold(T::zero(), |acc, &v| acc + v * v * v)
}

#[test]
fn iterator_chains_differentiate() {
    check_slice(
        "sum_of_squares",
        &W,
        sum_of_squares,
        |x, v| sum_of_squares_fwd(x, v),
        |x, d, r| sum_of_squares_adjoint(x, d, r),
        |x| sum_of_squares_grad(x),
    );
    check_slice(
        "weighted",
        &W,
        weighted,
        |x, v| weighted_fwd(x, v),
        |x, d, r| weighted_adjoint(x, d, r),
        |x| weighted_grad(x),
    );
    check_slice(
        "folded",
        &W,
        folded,
        |x, v| folded_fwd(x, v),
        |x, d, r| folded_adjoint(x, d, r),
        |x| folded_grad(x),
    );
    check_slice(
        "product_of_tail",
        &W,
        product_of_tail,
        |x, v| product_of_tail_fwd(x, v),
        |x, d, r| product_of_tail_adjoint(x, d, r),
        |x| product_of_tail_grad(x),
    );
    check_slice(
        "strided_reversed",
        &W,
        strided_reversed,
        |x, v| strided_reversed_fwd(x, v),
        |x, d, r| strided_reversed_adjoint(x, d, r),
        |x| strided_reversed_grad(x),
    );
    check_slice(
        "over_a_range",
        &W,
        over_a_range,
        |x, v| over_a_range_fwd(x, v),
        |x, d, r| over_a_range_adjoint(x, d, r),
        |x| over_a_range_grad(x),
    );
    check_slice(
        "chain_in_a_loop",
        &W,
        chain_in_a_loop,
        |x, v| chain_in_a_loop_fwd(x, v),
        |x, d, r| chain_in_a_loop_adjoint(x, d, r),
        |x| chain_in_a_loop_grad(x),
    );
    check_slice(
        "mean",
        &W,
        mean,
        |x, v| mean_fwd(x, v),
        |x, d, r| mean_adjoint(x, d, r),
        |x| mean_grad(x),
    );
    check_slice(
        "generic_sum",
        &W,
        generic_sum::<f64>,
        |x, v| generic_sum_fwd(x, v),
        |x, d, r| generic_sum_adjoint(x, d, r),
        |x| generic_sum_grad(x),
    );
    // exact values
    assert_eq!(sum_of_squares_grad(&[1.0, 2.0, 3.0]).1, vec![2.0, 4.0, 6.0]);
    assert_eq!(
        product_of_tail_grad(&[9.0, 2.0, 3.0, 4.0, 9.0]).1,
        vec![0.0, 12.0, 8.0, 6.0, 0.0]
    );
    assert_eq!(mean_grad(&[1.0, 2.0, 3.0, 4.0]).1, vec![0.25; 4]);
}

#[test]
fn empty_chains_are_their_identity() {
    assert_eq!(sum_of_squares_grad(&[]), (0.0, vec![]));
    assert_eq!(product_of_tail_grad(&[1.0]), (1.0, vec![0.0]));
}

#[test]
fn zip_stops_at_the_shorter_slice() {
    // a = x[..3], b = x[3..]: Σ a_i b_i
    let x = [1.0, 2.0, 3.0, 4.0, 5.0];
    assert_eq!(
        dot_zip_grad(&x),
        (1.0 * 4.0 + 2.0 * 5.0, vec![4.0, 5.0, 0.0, 1.0, 2.0])
    );
}

// ---- assertions and `const` items ----

#[differentiate]
fn asserted(w: &[f64], scale: f64) -> f64 {
    const HALF: f64 = 0.5;
    assert!(!w.is_empty(), "needs at least one weight");
    assert_eq!(w.len() % 2, 0);
    debug_assert!(scale.is_finite() && w[0] > -10.0);
    let mut s = 0.0;
    for i in 0..w.len() {
        s += HALF * scale * w[i] * w[i];
    }
    s
}

#[test]
fn assertions_and_consts_pass_through() {
    let w = [0.3, -0.9, 1.4, 0.2];
    common::check_all(
        "asserted",
        &[0.3, -0.9, 1.4, 0.2, 1.7],
        |x| asserted(&x[..4], x[4]),
        |x, v| asserted_fwd(&x[..4], &v[..4], x[4], v[4]),
        |x, d, r| {
            let (dw, ds) = d.split_at_mut(4);
            asserted_adjoint(&x[..4], dw, x[4], &mut ds[0], r)
        },
        |x| {
            let (y, (gw, gs)) = asserted_grad(&x[..4], x[4]);
            let mut g = gw;
            g.push(gs);
            (y, g)
        },
    );
    assert_eq!(asserted_grad(&w, 2.0).1 .0, vec![0.6, -1.8, 2.8, 0.4]);
    let failed = std::panic::catch_unwind(|| asserted_grad(&[1.0, 2.0, 3.0], 1.0));
    assert!(
        failed.is_err(),
        "the assertion runs in the generated code too"
    );
}

// ---- the float methods of the idiomatic-bodies issue ----

#[differentiate]
fn angles(x: f64) -> f64 {
    x.to_radians().sin() * x.to_degrees() + x.copysign(-2.0) + x.clamp(-0.5, 0.5)
}

#[test]
fn angle_sign_and_clamp_methods() {
    for x in [0.3, -1.1, 2.0] {
        check_scalar!(angles, angles_fwd, angles_adjoint, angles_grad; [x]);
    }
}

// ---- local closures, inlined where they are called ----

#[differentiate]
fn closures(x: f64, w: &[f64]) -> f64 {
    let sq = |v: f64| v * v;
    let scaled = |v: f64, k: usize| v * w[k] * x; // captures `w` and `x`
    let idx = |i: usize| i % 2; // passive: also used in an index
    let mut s = sq(x) + sq(w[0] + 1.0);
    for i in 0..w.len() {
        s += scaled(w[i], idx(i));
    }
    s + w[idx(3)]
}

#[test]
fn local_closures_are_inlined() {
    common::check_all(
        "closures",
        &[0.7, 0.3, -1.1, 0.6, 1.4],
        |x| closures(x[0], &x[1..]),
        |x, v| closures_fwd(x[0], v[0], &x[1..], &v[1..]),
        |x, d, r| {
            let (d0, rest) = d.split_at_mut(1);
            closures_adjoint(x[0], &mut d0[0], &x[1..], rest, r)
        },
        |x| {
            let (y, (g0, g1)) = closures_grad(x[0], &x[1..]);
            let mut g = vec![g0];
            g.extend(g1);
            (y, g)
        },
    );
}

// ---- `match` and `loop` ----

#[derive(Clone, Copy)]
pub enum Act {
    Relu,
    Tanh,
    Scaled(usize),
}

#[differentiate]
fn activate(x: f64, act: Act) -> f64 {
    match act {
        Act::Relu => x.max(0.0),
        Act::Tanh => x.tanh(),
        Act::Scaled(k) => x * k as f64,
    }
}

#[differentiate]
fn piecewise(x: f64, n: usize) -> f64 {
    let base = match x {
        a if a <= -1.0 => -1.0 - 0.5 * (a + 1.0),
        a if a <= 1.0 => a * a * a,
        a => 1.0 + 3.0 * (a - 1.0),
    };
    let mut s = base;
    match n {
        0 => s *= 2.0,
        1 | 2 => {
            s += x.sin();
        }
        _ => {}
    }
    match n > 1 {
        true => s * x,
        false => s,
    }
}

#[differentiate]
fn newton_sqrt(a: f64) -> f64 {
    // sqrt(a) by Newton's iteration, stopped by a tolerance: a `loop` with `break value`
    let mut x = a.max(1.0);
    let mut steps = 0;
    loop {
        let next = 0.5 * (x + a / x);
        steps += 1;
        if (next - x).abs() < 1e-15 || steps > 50 {
            break next;
        }
        x = next;
    }
}

#[differentiate]
fn loop_statement(x: f64) -> f64 {
    let mut s = x;
    let mut k = 0;
    loop {
        s = s * 0.5 + x;
        k += 1;
        if k == 4 {
            break;
        }
    }
    s
}

#[test]
fn match_on_enums_integers_bools_and_float_guards() {
    for x in [-2.5f64, -0.4, 0.7, 1.8] {
        for act in [Act::Relu, Act::Tanh, Act::Scaled(3)] {
            if matches!(act, Act::Relu) && x.abs() < 1e-9 {
                continue;
            }
            common::check_all(
                "activate",
                &[x],
                |v| activate(v[0], act),
                |v, d| activate_fwd(v[0], d[0], act),
                |v, d, r| activate_adjoint(v[0], &mut d[0], act, r),
                |v| {
                    let (y, g) = activate_grad(v[0], act);
                    (y, vec![g])
                },
            );
        }
        for n in 0..4 {
            common::check_all(
                "piecewise",
                &[x],
                |v| piecewise(v[0], n),
                |v, d| piecewise_fwd(v[0], d[0], n),
                |v, d, r| piecewise_adjoint(v[0], &mut d[0], n, r),
                |v| {
                    let (y, g) = piecewise_grad(v[0], n);
                    (y, vec![g])
                },
            );
        }
    }
    assert_eq!(activate_grad(2.0, Act::Scaled(3)), (6.0, 3.0));
    assert_eq!(piecewise_grad(0.5, 5).1, 3.0 * 0.25 * 0.5 + 0.125);
}

#[test]
fn loop_with_break_value() {
    for a in [0.3, 2.0, 9.0] {
        check_scalar!(newton_sqrt, newton_sqrt_fwd, newton_sqrt_adjoint, newton_sqrt_grad; [a]);
        let (y, d) = newton_sqrt_grad(a);
        assert!((y - a.sqrt()).abs() < 1e-12);
        assert!((d - 0.5 / a.sqrt()).abs() < 1e-9, "{d}");
    }
    for x in [0.3, -1.2] {
        check_scalar!(loop_statement, loop_statement_fwd, loop_statement_adjoint, loop_statement_grad; [x]);
    }
}

// ---- tuples ----

#[differentiate]
fn tuples(x: f64, y: f64) -> f64 {
    let (a, b) = (x * y, x + 1.0);
    let (s, c) = x.sin_cos();
    let (x, y) = (y, x); // swapped: both read before either is bound
    let p = (a * s, (c, 2.0));
    let n = (3usize, 0.5);
    p.0 + p.1 .0 * p.1 .1 + b * x - y * n.1 + x.sin_cos().1 * n.0 as f64
}

#[test]
fn tuples_are_taken_apart() {
    for (x, y) in [(0.3, 1.2), (-1.4, 0.6)] {
        check_scalar!(tuples, tuples_fwd, tuples_adjoint, tuples_grad; [x, y]);
    }
}

// ---- `&Vec<F>` and `Vec<F>` parameters, read like slices ----

#[differentiate]
fn vec_ref(w: &Vec<f64>, x: f64) -> f64 {
    w.iter().map(|v| v * x).sum::<f64>() + w[0] * w.len() as f64
}

#[differentiate]
fn vec_owned(w: Vec<f64>) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len() {
        s += w[i].sin() * w[w.len() - 1 - i];
    }
    s
}

#[test]
fn vec_parameters_are_slices() {
    let w = vec![0.4, -1.1, 0.9];
    let (y, (dw, dx)) = vec_ref_grad(&w, 1.5);
    assert_eq!(y, vec_ref(&w, 1.5));
    assert_eq!(dw, vec![1.5 + 3.0, 1.5, 1.5]);
    assert_eq!(dx, 0.4 - 1.1 + 0.9);
    // the shadows are slices: a `Vec` is passed by reference
    let mut dw = vec![0.0; 3];
    let mut dx = 0.0;
    vec_ref_adjoint(&w, &mut dw, 1.5, &mut dx, 2.0);
    assert_eq!(dw, vec![9.0, 3.0, 3.0]);
    let tw = vec![1.0, 0.0, 0.0];
    assert_eq!(vec_ref_fwd(&w, &tw, 1.5, 0.0).1, 4.5);
    common::check_all(
        "vec_owned",
        &w,
        |x| vec_owned(x.to_vec()),
        |x, v| vec_owned_fwd(x.to_vec(), v.to_vec()),
        |x, d, r| vec_owned_adjoint(x.to_vec(), d, r),
        |x| vec_owned_grad(x.to_vec()),
    );
}

// ---- `for` over iterator chains and views ----

#[differentiate]
fn windows_and_chunks(w: &[f64]) -> f64 {
    let mut s = 0.0;
    for p in w.windows(2) {
        s += p[1] * p[0];
    }
    for c in w.chunks(4) {
        s += c.iter().map(|v| v * v).sum::<f64>() / c.len() as f64;
    }
    for (i, v) in w.iter().enumerate().rev().skip(1).step_by(2) {
        if i == 2 {
            continue;
        }
        s += v.exp() * i as f64;
    }
    s + w.chunks_exact(2).map(|c| c[0] - c[1]).product::<f64>()
}

#[test]
fn for_over_chains_and_views() {
    check_slice(
        "windows_and_chunks",
        &W,
        windows_and_chunks,
        |x, v| windows_and_chunks_fwd(x, v),
        |x, d, r| windows_and_chunks_adjoint(x, d, r),
        |x| windows_and_chunks_grad(x),
    );
    check_slice(
        "windows_and_chunks (odd length)",
        &W[..5],
        windows_and_chunks,
        |x, v| windows_and_chunks_fwd(x, v),
        |x, d, r| windows_and_chunks_adjoint(x, d, r),
        |x| windows_and_chunks_grad(x),
    );
}

// ---- `iter_mut()` over local buffers ----

#[differentiate]
fn scale_in_place(w: &[f64], x: f64) -> f64 {
    let mut b = vec![0.0; w.len()];
    for i in 0..w.len() {
        b[i] = w[i];
    }
    for e in b.iter_mut() {
        *e = *e * x;
        *e += 1.0;
    }
    for (i, e) in b.iter_mut().enumerate() {
        if *e > 1.0 {
            *e *= w[i];
        }
    }
    b.iter().map(|v| v * v).sum()
}

#[test]
fn iter_mut_writes_local_buffers() {
    common::check_all(
        "scale_in_place",
        &[0.5, -0.8, 1.3, 0.7],
        |x| scale_in_place(&x[..3], x[3]),
        |x, v| scale_in_place_fwd(&x[..3], &v[..3], x[3], v[3]),
        |x, d, r| {
            let (dw, dx) = d.split_at_mut(3);
            scale_in_place_adjoint(&x[..3], dw, x[3], &mut dx[0], r)
        },
        |x| {
            let (y, (gw, gx)) = scale_in_place_grad(&x[..3], x[3]);
            let mut g = gw;
            g.push(gx);
            (y, g)
        },
    );
}

// ---- functions by path in chains, slices zipped directly ----

#[differentiate]
fn sigmoid(v: f64) -> f64 {
    1.0 / (1.0 + (-v).exp())
}

#[differentiate]
fn by_path(w: &[f64], x: &[f64]) -> f64 {
    let m = w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e = w.iter().copied().map(f64::exp).sum::<f64>();
    let s = w.iter().copied().map(sigmoid).sum::<f64>();
    let d: f64 = w.iter().zip(x).map(|(a, b)| a * b).sum();
    m + e.ln() + s + d
}

#[test]
fn functions_by_path_and_bare_slices() {
    let w = [0.3, -1.2, 0.8];
    let x = [1.5, 0.5, -2.0];
    common::check_all(
        "by_path",
        &w,
        |w| by_path(w, &x),
        |w, v| by_path_fwd(w, v, &x, &[0.0; 3]),
        |w, d, r| by_path_adjoint(w, d, &x, &mut [0.0; 3], r),
        |w| {
            let (y, (g, _)) = by_path_grad(w, &x);
            (y, g)
        },
    );
}

#[differentiate]
fn rows_in_place(w: &[f64], x: &[f64], d: usize) -> f64 {
    let k = w.len() / d;
    (0..k)
        .map(|j| {
            w[j * d..(j + 1) * d]
                .iter()
                .zip(x.iter())
                .map(|(a, b)| a * b)
                .sum::<f64>()
                .tanh()
        })
        .sum()
}

#[test]
fn a_view_expression_starts_a_chain() {
    let x = [0.4, -0.7];
    common::check_all(
        "rows_in_place",
        &[0.3, -1.2, 0.8, 0.5, 1.1, -0.4],
        |w| rows_in_place(w, &x, 2),
        |w, v| rows_in_place_fwd(w, v, &x, &[0.0; 2], 2),
        |w, d, r| rows_in_place_adjoint(w, d, &x, &mut [0.0; 2], 2, r),
        |w| {
            let (y, (g, _)) = rows_in_place_grad(w, &x, 2);
            (y, g)
        },
    );
}

// ---- passive tuple patterns (GradBench's LSTM: a layer's offsets) ----

fn div_rem(a: usize, b: usize) -> (usize, usize) {
    (a / b, a % b)
}

/// Integer tuples taken apart inside a loop whose reverse sweep reads them:
/// a literal, a swap, a nested pattern, a call's result.
#[differentiate]
fn tuple_offsets(w: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut t = 1.0;
    // a length of the active slice is not a float
    let (first, count) = (0, w.len() / 2);
    for i in first..count {
        let (lo, hi) = (2 * i, 2 * i + 2);
        let (hi, lo) = (lo + 1, hi - 1); // swapped: hi = 2i + 1, lo = 2i + 1
        let ((a, _), mut b) = ((lo - 1, 0usize), hi);
        let (q, r) = div_rem(i, 2);
        b -= r;
        t *= w[a] * w[b] + q as f64;
        s += t.sin();
    }
    s
}

#[test]
fn passive_tuple_patterns_in_a_loop() {
    check_slice(
        "tuple_offsets",
        &W,
        tuple_offsets,
        tuple_offsets_fwd,
        tuple_offsets_adjoint,
        tuple_offsets_grad,
    );
    // the offsets as written: pairs (w0, w1), (w2, w3 − 1 = w2), (w4, w5) with q = 0, 0, 1
    let w = [0.5, 2.0, 3.0, 7.0, 0.25, 4.0];
    let t0: f64 = 0.5 * 2.0;
    let t1: f64 = t0 * (3.0 * 3.0);
    let t2: f64 = t1 * (0.25 * 4.0 + 1.0);
    let want = t0.sin() + t1.sin() + t2.sin();
    assert!((tuple_offsets(&w) - want).abs() < 1e-15);
}

// ---- `let v = w.to_vec();` (GradBench's LSTM: a working copy of the state) ----

/// A working copy of a passive slice that then takes differentiated values,
/// and a copy of the active slice itself.
#[differentiate(wrt(w))]
fn working_copy(w: &[f64], state: &[f64]) -> f64 {
    let mut st = state.to_vec();
    let mut own = w.to_vec();
    for i in 0..st.len() {
        st[i] = st[i] * w[i] + (st[i] * own[i]).tanh();
        own[i] *= st[i];
    }
    st.iter().zip(own.iter()).map(|(a, b)| a * b).sum::<f64>()
}

#[test]
fn to_vec_makes_a_float_buffer() {
    let state = [0.5, -0.3, 0.9, 0.2, -1.1, 0.4];
    check_slice(
        "working_copy",
        &W,
        |w| working_copy(w, &state),
        |w, v| working_copy_fwd(w, v, &state),
        |w, d, r| working_copy_adjoint(w, d, &state, r),
        |w| working_copy_grad(w, &state),
    );
    // the copies leave the inputs alone
    let (_, g) = working_copy_grad(&W, &state);
    assert_eq!(g.len(), W.len());
    assert_eq!(state[0], 0.5);
}

// ---- an assertion on a differentiated value, then a buffer ----

/// The assertion's arguments were classified as a temporary tree: its memoised
/// classifications must not reach the `vec!` after it (they made `3` look like
/// a differentiated value, found by the generated vector-output suite).
#[differentiate]
#[allow(clippy::useless_vec)]
fn assert_then_vec(x: f64) -> f64 {
    assert!(x > -10.0);
    let b = vec![x; 3];
    b[1] * x
}

#[differentiate]
fn assert_then_store(x: f64, w: &[f64]) -> f64 {
    assert!(x > -10.0);
    let mut b = vec![0.0_f64; w.len()];
    b[1] = x * w[0];
    b[1] * x
}

#[test]
fn assertion_then_buffer() {
    check_scalar!(assert_then_vec, assert_then_vec_fwd, assert_then_vec_adjoint, assert_then_vec_grad; [2.0]);
    let (y, (gx, gw)) = assert_then_store_grad(2.0, &[1.5, 2.0]);
    assert_eq!((y, gx, gw), (6.0, 6.0, vec![4.0, 0.0]));
}
