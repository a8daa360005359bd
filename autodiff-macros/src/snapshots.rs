//! Expansion snapshots: the generated code of representative functions, committed
//! under `autodiff-macros/snapshots/` so a reader can see what the macro writes.
//! `UPDATE_SNAPSHOTS=1 cargo test -p autodiff-macros` rewrites them.

use quote::quote;

fn check(name: &str, attr: proc_macro2::TokenStream, item: proc_macro2::TokenStream) {
    let out = crate::expand::differentiate(attr, item);
    let file: syn::File = match syn::parse2(out.clone()) {
        Ok(f) => f,
        Err(e) => panic!("expansion of {name} does not parse: {e}\n{out}"),
    };
    let pretty = prettyplease::unparse(&file);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("snapshots")
        .join(format!("{name}.rs"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &pretty).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == pretty,
        "snapshot {name} differs; rerun with UPDATE_SNAPSHOTS=1 and read the diff\n{pretty}"
    );
}

#[test]
fn straight_line() {
    check(
        "straight_line",
        quote!(),
        quote! {
            fn f(x: f64, y: f64) -> f64 {
                let z = x * y + x.sin();
                z.exp() / y
            }
        },
    );
}

#[test]
fn dot_product_stores_nothing() {
    check(
        "dot",
        quote!(),
        quote! {
            fn dot(w: &[f64], x: &[f64]) -> f64 {
                let mut s = 0.0;
                for i in 0..w.len() {
                    s += w[i] * x[i];
                }
                s
            }
        },
    );
}

#[test]
fn product_in_a_loop_stores_the_old_value() {
    check(
        "power_loop",
        quote!(),
        quote! {
            fn power(x: f64, n: usize) -> f64 {
                let mut t = 1.0;
                for _ in 0..n {
                    t *= x;
                }
                t
            }
        },
    );
}

#[test]
fn softmax_cross_entropy() {
    check(
        "softmax",
        quote!(wrt(w)),
        quote! {
            pub fn loss(w: &[f64], x: &[f64], label: usize, k: usize) -> f64 {
                let d = x.len();
                let mut z = vec![0.0; k];
                let mut m = f64::NEG_INFINITY;
                for c in 0..k {
                    let mut s = 0.0;
                    for j in 0..d {
                        s += w[c * d + j] * x[j];
                    }
                    z[c] = s;
                    if s > m {
                        m = s;
                    }
                }
                let mut sum = 0.0;
                for c in 0..k {
                    sum += (z[c] - m).exp();
                }
                m + sum.ln() - z[label]
            }
        },
    );
}

#[test]
fn branches_and_calls() {
    check(
        "branches",
        quote!(),
        quote! {
            fn g<T: Float>(x: T, y: T) -> T {
                let r = if x > y { sq(x - y) } else { (y - x).abs() };
                if r < T::one() {
                    return r;
                }
                r.sqrt()
            }
        },
    );
}

#[test]
fn while_with_break() {
    check(
        "while_loop",
        quote!(),
        quote! {
            fn fixed_point(a: f64, tol: f64) -> f64 {
                let mut x = 1.0;
                let mut err = 1.0;
                while err > tol {
                    let next = 0.5 * (x + a / x);
                    err = (next - x).abs();
                    x = next;
                    if x < 0.0 {
                        break;
                    }
                }
                x
            }
        },
    );
}

#[test]
fn rosenbrock_recomputes_cheap_values() {
    check(
        "rosenbrock",
        quote!(),
        quote! {
            pub fn rosenbrock(x: &[f64]) -> f64 {
                let n = x.len();
                let mut s = 0.0;
                for i in 0..n - 1 {
                    let t = x[i + 1] - x[i] * x[i];
                    let u = 1.0 - x[i];
                    s += 100.0 * t * t + u * u;
                }
                s
            }
        },
    );
}

/// Offsets 0 to 2 carried in locals (`reverse/carry.rs`), and a guarded
/// neighbour that is not.
#[test]
fn carried_adjoints() {
    check(
        "carried_adjoints",
        quote!(),
        quote! {
            fn second_difference(x: &[f64]) -> f64 {
                let mut s = 0.0;
                for i in 0..x.len() - 2 {
                    let d = x[i] - 2.0 * x[i + 1] + x[i + 2];
                    s += d * d;
                }
                s
            }
        },
    );
    check(
        "guarded_neighbour",
        quote!(),
        quote! {
            fn guarded_neighbour(x: &[f64]) -> f64 {
                let n = x.len();
                let mut s = 0.0;
                for i in 0..n {
                    s += x[i] * x[i];
                    if i + 1 < n {
                        s += x[i] * x[i + 1];
                    }
                }
                s
            }
        },
    );
}

#[test]
fn softmax_batch_loss() {
    check(
        "softmax_batch",
        quote!(wrt(w, b)),
        quote! {
            pub fn softmax_loss(w: &[f64], b: &[f64], x: &[f64], labels: &[usize], d: usize, k: usize) -> f64 {
                let batch = labels.len();
                let mut z = vec![0.0; k];
                let mut total = 0.0;
                for s in 0..batch {
                    for j in 0..k {
                        let mut acc = b[j];
                        for t in 0..d {
                            acc += w[j * d + t] * x[s * d + t];
                        }
                        z[j] = acc;
                    }
                    let mut m = z[0];
                    for j in 1..k {
                        m = m.max(z[j]);
                    }
                    let mut se = 0.0;
                    for j in 0..k {
                        se += (z[j] - m).exp();
                    }
                    total += se.ln() + m - z[labels[s]];
                }
                total / batch as f64
            }
        },
    );
}

#[test]
fn gmm_objective() {
    check(
        "gmm",
        quote!(wrt(alphas, means, icf)),
        quote! {
        pub fn gmm_objective(
            d: usize,
            k: usize,
            n: usize,
            alphas: &[f64],
            means: &[f64],
            icf: &[f64],
            x: &[f64],
            gamma: f64,
            m: usize,
        ) -> f64 {
            let constant = -((n * d) as f64) * 0.5 * (2.0 * std::f64::consts::PI).ln();
            let icf_sz = d * (d + 1) / 2;

            // preprocess_qs
            let mut qdiags = vec![0.0; d * k];
            let mut sum_qs = vec![0.0; k];
            for ik in 0..k {
                for id in 0..d {
                    let q = icf[ik * icf_sz + id];
                    sum_qs[ik] += q;
                    qdiags[ik * d + id] = q.exp();
                }
            }

            let mut xcentered = vec![0.0; d];
            let mut qxcentered = vec![0.0; d];
            let mut main_term = vec![0.0; k];
            let mut slse = 0.0;
            for ix in 0..n {
                for ik in 0..k {
                    // subtract
                    for id in 0..d {
                        xcentered[id] = x[ix * d + id] - means[ik * d + id];
                    }
                    // Qtimesx: diagonal, then the strictly lower part column by column
                    for id in 0..d {
                        qxcentered[id] = qdiags[ik * d + id] * xcentered[id];
                    }
                    let mut lparamsidx = d;
                    for i in 0..d {
                        for j in i + 1..d {
                            qxcentered[j] += icf[ik * icf_sz + lparamsidx] * xcentered[i];
                            lparamsidx += 1;
                        }
                    }
                    // sqnorm
                    let mut sqnorm = 0.0;
                    for id in 0..d {
                        sqnorm += qxcentered[id] * qxcentered[id];
                    }
                    main_term[ik] = alphas[ik] + sum_qs[ik] - 0.5 * sqnorm;
                }
                slse += logsumexp(&main_term);
            }

            let lse_alphas = logsumexp(alphas);
            constant + slse - n as f64 * lse_alphas
                + log_wishart_prior(&qdiags, &sum_qs, icf, d, k, gamma, m)
        }
                },
    );
}

#[test]
fn softmax_with_row_views() {
    check(
        "softmax_views",
        quote!(wrt(w, b)),
        quote! {
            pub fn softmax_loss(w: &[f64], b: &[f64], x: &[f64], labels: &[usize], d: usize, k: usize) -> f64 {
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
        },
    );
}

#[test]
fn view_moving_with_a_counter_keeps_its_bounds() {
    check(
        "moving_view",
        quote!(),
        quote! {
            fn moving(w: &[f64]) -> f64 {
                let mut s = 1.0;
                let mut k = 0;
                while k + 1 < w.len() {
                    let v = &w[k..k + 2];
                    s = s * v[0] + v[1];
                    k += 1;
                }
                s
            }
        },
    );
}

#[test]
fn views_beside_their_base_use_offsets() {
    check(
        "view_offsets",
        quote!(),
        quote! {
            fn two_views(x: f64, w: &[f64]) -> f64 {
                let a = &w[0..2];
                let b = &w[1..3];
                let y = x * a[1];
                w[0] * y + a[0] * b[1]
            }
        },
    );
}

/// A struct parameter (issue 11): each field path is a typed binding at entry,
/// the field shadows are borrowed from `dp`, the gradient is `zero_like(p)`.
#[test]
fn struct_parameter_binds_its_fields() {
    check(
        "struct_param",
        quote!(wrt(p)),
        quote! {
            fn loss(p: &Linear, x: &[f64], y: f64) -> f64 {
                let mut s = p.b;
                for i in 0..p.w.len() {
                    s += p.w[i] * x[i];
                }
                (s - y) * (s - y)
            }
        },
    );
}

/// `wrt(self)` with the receiver also passed whole to a call: the field
/// shadows accumulate in locals added into `dself` at the end, so no `&mut`
/// borrows of `dself` overlap.
#[test]
fn receiver_passed_whole_defers_its_field_shadows() {
    check(
        "struct_self_call",
        quote!(wrt(self)),
        quote! {
            fn sse(&self, xs: &[f64], ys: &[f64]) -> f64 {
                let mut s = 0.0;
                for i in 0..xs.len() {
                    let r = self.predict(xs[i]) - ys[i];
                    s += r * r;
                }
                s + 0.1 * self.shift * self.shift
            }
        },
    );
}

#[test]
fn vector_output_array() {
    check(
        "vector_polar",
        quote!(),
        quote! {
            fn polar(r: f64, t: f64) -> [f64; 2] {
                [r * t.cos(), r * t.sin()]
            }
        },
    );
}

#[test]
fn vector_output_out_parameter() {
    check(
        "vector_residuals",
        quote!(wrt(p)),
        quote! {
            fn residuals(p: &[f64], t: &[f64], y: &[f64], out: &mut [f64]) {
                for i in 0..t.len() {
                    out[i] = p[0] * (-p[1] * t[i]).exp() - y[i];
                }
            }
        },
    );
}

/// ADBench's BA reprojection: straight-line code with a branch, kept in locals.
#[test]
fn vector_output_struct_parameter() {
    // The struct's floats are the Jacobian's columns: seeded into a shadow struct
    // (`read_floats`) lane by lane in the forward sweeps, read out of it
    // (`write_floats`) row by row in the reverse sweeps.
    check(
        "vector_output_struct",
        quote!(wrt(p)),
        quote! {
            fn residuals(p: &Decay, t: &[f64], y: &[f64], out: &mut [f64]) {
                for i in 0..t.len() {
                    out[i] = p.amp * (-p.rate * t[i]).exp() - y[i] + p.w[i % 2];
                }
            }
        },
    );
}

#[test]
fn vector_output_struct_one_forward_sweep() {
    // A reverse sweep that restores nothing: one forward sweep, then per row the
    // shadow struct's fields bound, the reverse sweep, the deferred field (`p.k`,
    // with the struct also passed whole to `g`) added in, and the row read out.
    check(
        "vector_output_struct_rows",
        quote!(wrt(p, x)),
        quote! {
            fn pair(p: &Model, x: f64) -> (f64, f64) {
                let a = p.k * x + p.w[0];
                (g(p, a), a * p.w[1])
            }
        },
    );
}

#[test]
fn vector_output_ba_reprojection() {
    check(
        "vector_ba_reprojection",
        quote!(wrt(cam, x, w)),
        quote! {
        fn reproj(cam: &[f64; 11], x: &[f64; 3], w: f64, feat: &[f64; 2]) -> [f64; 2] {
            let p0 = x[0] - cam[3];
            let p1 = x[1] - cam[4];
            let p2 = x[2] - cam[5];
            let (r0, r1, r2) = (cam[0], cam[1], cam[2]);
            let sqtheta = r0 * r0 + r1 * r1 + r2 * r2;
            let q0: f64;
            let q1: f64;
            let q2: f64;
            if sqtheta != 0.0 {
                let theta = sqtheta.sqrt();
                let (s, c) = theta.sin_cos();
                let (k0, k1, k2) = (r0 / theta, r1 / theta, r2 / theta);
                let t = (k0 * p0 + k1 * p1 + k2 * p2) * (1.0 - c);
                q0 = p0 * c + (k1 * p2 - k2 * p1) * s + k0 * t;
                q1 = p1 * c + (k2 * p0 - k0 * p2) * s + k1 * t;
                q2 = p2 * c + (k0 * p1 - k1 * p0) * s + k2 * t;
            } else {
                q0 = p0 + r1 * p2 - r2 * p1;
                q1 = p1 + r2 * p0 - r0 * p2;
                q2 = p2 + r0 * p1 - r1 * p0;
            }
            let u = q0 / q2;
            let v = q1 / q2;
            let rsq = u * u + v * v;
            let l = 1.0 + cam[9] * rsq + cam[10] * rsq * rsq;
            [
                w * (u * l * cam[6] + cam[7] - feat[0]),
                w * (v * l * cam[6] + cam[8] - feat[1]),
            ]
        }


                },
    );
}

#[test]
fn casts_between_float_types() {
    // `h` is an `f32` with an `f32` tangent and adjoint; the cast's rule converts
    // each term (`dx as f32` forward, `__b_h as f64` backward).
    check(
        "casts",
        quote!(),
        quote! {
            fn f(x: f64, w: &[f64]) -> f64 {
                let h = x as f32;
                let g = (h * h + 1.0).ln();
                let mut s = 0.0f32;
                for i in 0..w.len() {
                    s += (w[i] as f32 * h).sin();
                }
                (g as f64) * w[0] + x + s as f64
            }
        },
    );
}

#[test]
fn split_pair_saves_what_the_reverse_reads() {
    check(
        "split_sigmoid",
        quote!(),
        quote! {
            fn sigmoid(x: f64) -> f64 {
                1.0 / (1.0 + (-x).exp())
            }
        },
    );
}

#[test]
fn inline_calls_use_the_split_pair() {
    check(
        "split_caller",
        quote!(inline(sigmoid)),
        quote! {
            fn f(w: &[f64], x: f64) -> f64 {
                let top = sigmoid(x * w[0]);
                let mut s = 0.0;
                for i in 0..w.len() {
                    let a = sigmoid(w[i] * x + top);
                    s += a * a;
                }
                s
            }
        },
    );
}
