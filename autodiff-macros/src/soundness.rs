//! The soundness table (issue 9): every expression that reads a differentiated
//! value is either differentiated correctly or rejected with a compile error,
//! never silently treated as a constant (API.md, "Soundness: differentiated or
//! rejected, never guessed").
//!
//! Each row is a complete small `#[differentiate]` function in which an active
//! value flows into one expression form, and what the macro must do with it:
//!
//! - [`Expect::Reject`]: the expansion contains a `compile_error!` whose message
//!   contains [`PREFIX`] and the category's keyword (and, for some rows, the name
//!   of the construct, which the message must name);
//! - [`Expect::Accept`]: the expansion contains no `compile_error!`, and the same
//!   function (token for token) is in `tests/soundness.rs`, where it is compiled
//!   and checked against central differences, forward against reverse, and for
//!   an unchanged primal;
//! - [`Expect::Either`]: sound both ways (a comparison or an integer reached
//!   through an unsupported form is piecewise constant): a rejection must carry
//!   the keyword, an acceptance is checked numerically like `Accept`.
//!
//! The policy: forms inside API.md "What a body may contain" are `Accept`;
//! forms listed only under "Idiomatic bodies", and everything else outside the
//! subset, are `Reject` until they are implemented (then the row flips to
//! `Accept` and its function is added to `tests/soundness.rs`).
//!
//! The keywords are one constant per category below, so the wording of the
//! messages can change in one place; an empty keyword accepts any message
//! carrying [`PREFIX`] (plus the row's construct name, where it has one).
//!
//! In `tests/soundness.rs`, a row the macro rejects today is gated out with
//! `#[cfg(any())]` (its check too, with `#[ignore = "issue 9: .."]`); a row the
//! macro expands into code rustc rejects is gated the same way and also marked
//! `#[cfg_attr(any(), issue9_expansion_does_not_compile)]`. The table reports
//! both, and a gate left on a row the macro now accepts.
//!
//! `cargo test -q -p autodiff-macros soundness` runs the table;
//! `SOUNDNESS_REPORT=/tmp/report.txt` also writes the full report there.
//! `cargo test -q -p autodiff-macros soundness::print_rows -- --ignored --nocapture`
//! prints the `Accept`/`Either` rows as Rust, ready for `tests/soundness.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::panic::{catch_unwind, AssertUnwindSafe};

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;

// ---------------------------------------------------------------------------
// Message keywords: the wording of the errors is being rewritten; adjust here.
// ---------------------------------------------------------------------------

/// Every rejection message of the macro names it.
const PREFIX: &str = "`#[differentiate]`";
/// Iterator chains in value position (`w.iter().map(..).sum()`, `fold`, `windows`, ..).
const K_ITER: &str = "iterator";
/// `for` loops over iterators outside the subset.
const K_FOR: &str = "iterator";
/// A float method outside the supported list (the message must also name it).
const K_FLOAT_METHOD: &str = "method";
/// A float function in path form (`f64::clamp(x, ..)`): any macro error that
/// names the function (the name is checked per row).
const K_FLOAT_FN: &str = "";
/// A method on a float buffer (the message must also name it).
const K_BUF_METHOD: &str = "method";
const K_CLOSURE: &str = "closure";
const K_MATCH: &str = "`match`";
const K_LOOP: &str = "`loop`";
const K_IF_LET: &str = "`if let`";
const K_WHILE_LET: &str = "`while let`";
const K_LET_ELSE: &str = "`let .. else`";
const K_LABEL: &str = "label";
const K_UNSAFE: &str = "`unsafe`";
const K_ITEM: &str = "item";
const K_TUPLE: &str = "tuple";
/// `let (a, b) = ..` and other patterns binding differentiated values.
const K_DESTRUCTURE: &str = "destructure";
const K_STRUCT: &str = "struct";
const K_MACRO: &str = "macro";
const K_CAST: &str = "cast";
/// Calls the macro cannot see into: std functions, conversions, `Box::new(x)`.
const K_CALL: &str = "call";
const K_MUT: &str = "`&mut`";
/// Assignment through a reference or into a field.
const K_ASSIGN_REF: &str = "reference";
const K_ASSIGN: &str = "assign";
/// `Some(x)` and its methods: which construct the message names is open, so any
/// macro error counts.
const K_OPTION: &str = "";
/// Aliases of whole buffers (`let b = &w;`): the message points at views `&w[a..b]`.
const K_VIEW: &str = "view";
const K_ARRAY: &str = "array";
const K_INDEX: &str = "index";
const K_PARAM: &str = "parameter";
/// A struct parameter's field whose kind its uses do not tell.
const K_FIELD: &str = "field";

/// The file the `Accept` rows live in, compiled and checked numerically.
const INTEGRATION: &str = include_str!("../../tests/soundness.rs");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Accept,
    Reject(&'static str),
    Either(&'static str),
}
use Expect::*;

struct Row {
    cat: &'static str,
    expect: Expect,
    /// A name the rejection message must contain (the construct), if any.
    names: Option<String>,
    src: String,
}

#[derive(Default)]
struct Table(Vec<Row>);

impl Table {
    fn add(&mut self, cat: &'static str, expect: Expect, src: impl Into<String>) {
        self.0.push(Row {
            cat,
            expect,
            names: None,
            src: src.into(),
        });
    }
    fn naming(&mut self, cat: &'static str, expect: Expect, names: &str, src: impl Into<String>) {
        self.0.push(Row {
            cat,
            expect,
            names: Some(names.to_string()),
            src: src.into(),
        });
    }
}

/// `fn NAME(x: f64) -> f64 { BODY }`.
fn s1(name: &str, body: &str) -> String {
    format!("#[differentiate] fn {name}(x: f64) -> f64 {{ {body} }}")
}
/// `fn NAME(w: &[f64]) -> f64 { BODY }`.
fn v(name: &str, body: &str) -> String {
    format!("#[differentiate] fn {name}(w: &[f64]) -> f64 {{ {body} }}")
}
/// `fn NAME(a: [f64; 3]) -> f64 { BODY }`.
fn a3(name: &str, body: &str) -> String {
    format!("#[differentiate] fn {name}(a: [f64; 3]) -> f64 {{ {body} }}")
}
/// `fn NAME(x: f64, w: &[f64]) -> f64 { BODY }`.
fn xv(name: &str, body: &str) -> String {
    format!("#[differentiate] fn {name}(x: f64, w: &[f64]) -> f64 {{ {body} }}")
}
/// `fn NAME(x: f64, n: usize) -> f64 { BODY }` (`n` passive).
fn xn(name: &str, body: &str) -> String {
    format!("#[differentiate] fn {name}(x: f64, n: usize) -> f64 {{ {body} }}")
}

/// Positions a float expression `@E` can take; `x` is an active float.
/// `None`: the generic positions (Accept for a known form, Reject for an
/// unknown one); `Some(k)`: the position itself is outside the subset.
const POSITIONS: &[(&str, Option<&str>, &str)] = &[
    ("let", None, "let y = @E; y * x"),
    ("let_typed", None, "let y: f64 = @E; y * x"),
    ("assign", None, "let mut y = 0.0; y = @E; y * x"),
    ("compound_add", None, "let mut y = x; y += @E; y * y"),
    ("compound_mul", None, "let mut y = x; y *= @E; y"),
    ("compound_div", None, "let mut y = x; y /= 2.0 + @E; y"),
    ("call_arg", None, "sq(@E) + x"),
    ("call_arg_nested", None, "sq(sq(@E) + x)"),
    ("method_recv", None, "(@E).exp() * x"),
    ("method_arg", None, "x.hypot(@E)"),
    ("path_arg", None, "f64::atan2(@E, 0.4) * x"),
    ("binary", None, "@E * x + 1.0"),
    ("neg", None, "-(@E) * x"),
    ("paren", None, "(@E) * x"),
    ("if_then", None, "if x > 0.0 { @E } else { x }"),
    ("if_else", None, "if x < 0.0 { x } else { @E }"),
    (
        "if_stmt",
        None,
        "let mut y = x; if x > 0.0 { y = @E; } y * x",
    ),
    (
        "else_if",
        None,
        "if x < -1.0 { x } else if x < 5.0 { @E } else { 2.0 * x }",
    ),
    // conditions: handled below (comparisons are legitimately passive)
    ("if_cond", None, "if @E > 0.1 { x * 2.0 } else { x * 3.0 }"),
    (
        "while_cond",
        None,
        "let mut s = x; while s < 10.0 * @E { s = s * 2.0; } s",
    ),
    (
        "while_body",
        None,
        "let mut s = x; let mut k = 0; while k < 3 { s = s + @E; k += 1; } s",
    ),
    (
        "for_body",
        None,
        "let mut s = 0.0; for _ in 0..3 { s += @E; } s * x",
    ),
    (
        "for_body_break",
        None,
        "let mut s = x; for i in 0..10 { if i == 3 { break; } s = s * @E; } s",
    ),
    ("return_early", None, "if x > 0.0 { return @E * 2.0; } x"),
    ("return_last", None, "let y = x * 2.0; return @E * y;"),
    ("tail", None, "@E"),
    ("block_value", None, "let y = { @E }; y * x"),
    ("block_tail", None, "{ @E }"),
    ("block_let", None, "let y = { let t = @E; t * 2.0 }; y * x"),
    ("block_stmt", None, "let mut y = x; { y += @E; } y"),
    (
        "buffer_store",
        None,
        "let mut b = vec![0.0; 2]; b[1] = @E; b[1] * x",
    ),
    (
        "array_store",
        None,
        "let mut b = [0.0; 2]; b[0] = @E; b[0] * x + b[1]",
    ),
    ("vec_fill", None, "let b = vec![@E; 3]; b[2] * x"),
    ("array_fill", None, "let b = [@E; 3]; b[0] * x"),
    ("ref_deref", None, "let r = &@E; *r * x"),
    ("cast_identity", None, "(@E) as f64 * x"),
    ("shadow", None, "let x = @E; x * 2.0"),
    // positions outside the subset: rejected whatever the expression
    ("tuple_elem", Some(K_TUPLE), "let p = (@E, 1.0); p.0 * x"),
    (
        "closure_body",
        Some(K_CLOSURE),
        "let c = |v: f64| v * @E; c(2.0)",
    ),
    ("macro_arg", Some(K_MACRO), "my_macro!(@E) * x"),
    ("array_literal", Some(K_ARRAY), "[@E, x][0] * x"),
    (
        "struct_field",
        Some(K_STRUCT),
        "let p = Pt { a: @E, b: 1.0 }; p.a * x",
    ),
    ("match_arm", Some(K_MATCH), "match 1 { 0 => x, _ => @E, }"),
    (
        "loop_break_value",
        Some(K_LOOP),
        "let y = loop { break @E; }; y * x",
    ),
];

fn positions(t: &mut Table) {
    // (suffix, expression, signature prefix)
    let known = "x.sin()";
    let unknown = "x.fract()";
    let chain = "w.iter().map(|v| v * v).sum::<f64>()";
    for &(pos, outside, body) in POSITIONS {
        let name = format!("pos_{pos}_known");
        let src = s1(&name, &body.replace("@E", known));
        match outside {
            // local closures are inlined (issue 10): either outcome is sound
            Some(k) if k == K_CLOSURE || k == K_MATCH || k == K_LOOP || k == K_TUPLE => {
                t.add("position (outside the subset)", Either(k), src);
                continue;
            }
            Some(k) => {
                t.add("position (outside the subset)", Reject(k), src);
                continue;
            }
            None => t.add("position × known method", Accept, src),
        }
        let cond = pos.ends_with("_cond");
        let name = format!("pos_{pos}_unknown");
        let src = s1(&name, &body.replace("@E", unknown));
        if cond {
            t.naming(
                "position × unknown method",
                Either(K_FLOAT_METHOD),
                "fract",
                src,
            );
        } else {
            t.naming(
                "position × unknown method",
                Reject(K_FLOAT_METHOD),
                "fract",
                src,
            );
        }
        let name = format!("pos_{pos}_chain");
        let src = v(
            &name,
            &format!("let x = w[1]; {}", body.replace("@E", chain)),
        );
        t.add("position × iterator chain", Either(K_ITER), src);
    }
}

/// The documented float methods (API.md), each in method form.
const KNOWN_METHODS: &[(&str, &str)] = &[
    ("exp", "x.exp()"),
    ("ln", "x.ln()"),
    ("sqrt", "x.sqrt()"),
    ("powi", "x.powi(3)"),
    ("powf", "x.powf(1.7)"),
    ("sin", "x.sin()"),
    ("cos", "x.cos()"),
    ("tan", "x.tan()"),
    ("tanh", "x.tanh()"),
    ("sinh", "x.sinh()"),
    ("cosh", "x.cosh()"),
    ("asin", "x.asin()"),
    ("acos", "x.acos()"),
    ("atan", "x.atan()"),
    ("atan2", "x.atan2(0.4)"),
    ("abs", "(x - 1.0).abs()"),
    ("max", "x.max(0.2)"),
    ("min", "x.min(0.9)"),
    ("hypot", "x.hypot(0.4)"),
    ("recip", "(x + 1.0).recip()"),
    ("exp2", "x.exp2()"),
    ("log2", "x.log2()"),
    ("log10", "x.log10()"),
    ("ln_1p", "x.ln_1p()"),
    ("exp_m1", "x.exp_m1()"),
    ("mul_add", "x.mul_add(x, 0.3)"),
    ("signum", "x.signum()"),
    ("floor", "(3.0 * x).floor()"),
    ("ceil", "(3.0 * x).ceil()"),
    ("round", "(3.0 * x).round()"),
];

/// Implemented (and correct) but missing from API.md's list.
const UNDOCUMENTED_METHODS: &[(&str, &str)] = &[
    ("log", "x.log(3.0)"),
    ("cbrt", "x.cbrt()"),
    ("asinh", "x.asinh()"),
    ("acosh", "(x + 1.0).acosh()"),
    ("atanh", "x.atanh()"),
    ("trunc", "(3.0 * x).trunc()"),
    ("rem", "x % 0.5"),
];

/// Float methods added by the idiomatic-bodies issue (API.md "Idiomatic bodies").
const IDIOM_METHODS: &[(&str, &str)] = &[
    ("clamp", "x.clamp(-5.0, 5.0)"),
    ("clamp_active_bounds", "0.1_f64.clamp(x, x + 5.0)"),
    ("clamp_computed", "(x * 2.0).exp().clamp(0.0, 9.0)"),
    ("to_radians", "x.to_radians()"),
    ("to_degrees", "x.to_degrees()"),
    ("copysign", "x.copysign(-1.0)"),
    ("path_clamp", "f64::clamp(x, -5.0, 5.0)"),
    ("path_to_radians", "f64::to_radians(x)"),
    ("path_copysign", "f64::copysign(x, -1.0)"),
    ("sin_cos_0", "x.sin_cos().0"),
    ("sin_cos_1", "x.sin_cos().1"),
];

/// Float methods outside the subset: `(row suffix, method name, expression)`.
const UNKNOWN_METHODS: &[(&str, &str, &str)] = &[
    ("fract", "fract", "x.fract()"),
    ("rem_euclid", "rem_euclid", "x.rem_euclid(5.0)"),
    ("div_euclid", "div_euclid", "x.div_euclid(0.25)"),
    (
        "round_ties_even",
        "round_ties_even",
        "(3.0 * x).round_ties_even()",
    ),
    ("clone", "clone", "x.clone()"),
    ("to_owned", "to_owned", "x.to_owned()"),
    ("midpoint", "midpoint", "x.midpoint(1.0)"),
    ("next_up", "next_up", "x.next_up()"),
    ("on_local", "fract", "{ let y = x * 2.0; y.fract() }"),
];

/// The same in path form.
const UNKNOWN_FLOAT_FNS: &[(&str, &str, &str)] = &[("path_fract", "fract", "f64::fract(x)")];

fn methods(t: &mut Table) {
    for &(m, e) in KNOWN_METHODS {
        let name = format!("known_{m}");
        t.add("known float method", Accept, s1(&name, &format!("{e} * x")));
    }
    for &(m, e) in IDIOM_METHODS {
        let name = format!("known_{m}");
        t.add(
            "known float method (idiomatic bodies)",
            Accept,
            s1(&name, &format!("{e} * x")),
        );
    }
    for &(m, e) in UNDOCUMENTED_METHODS {
        let name = format!("known_{m}");
        t.add(
            "known float method (implemented, not in API.md)",
            Accept,
            s1(&name, &format!("{e} * x")),
        );
    }
    // known methods with active arguments, and path forms
    for (name, body) in [
        ("known_powf_active", "x.powf(x)"),
        ("known_atan2_active", "x.atan2(x * 0.5 + 1.0)"),
        ("known_max_active", "x.max(x * x)"),
        ("known_min_active", "x.min(x * x)"),
        ("known_hypot_active", "x.hypot(2.0 * x)"),
        ("known_mul_add_active", "x.mul_add(x, x)"),
        ("known_chain", "x.sin().exp().sqrt() * x.cos().abs()"),
        ("path_exp", "f64::exp(x) * x"),
        ("path_powi", "f64::powi(x, 3) + x"),
        ("path_atan2", "f64::atan2(x, 0.4) * x"),
        ("path_max", "f64::max(x, 0.2) * x"),
        ("path_mul_add", "f64::mul_add(x, x, 0.3)"),
        ("path_hypot", "f64::hypot(x, x * x)"),
        ("path_const_pi", "std::f64::consts::PI * x * x"),
        ("path_const_e", "std::f64::consts::E * x + f64::EPSILON"),
    ] {
        t.add("known float method", Accept, s1(name, body));
    }
    t.add(
        "known float method",
        Accept,
        "#[differentiate] fn path_generic<T: Float>(x: T) -> T { T::sin(x) * x + x.exp() }",
    );
    t.add(
        "known float method",
        Accept,
        "#[differentiate] fn known_f32(x: f32) -> f32 { x.sin() * x + x.sqrt() }",
    );
    for &(suffix, m, e) in UNKNOWN_METHODS {
        let name = format!("unknown_{suffix}");
        t.naming(
            "unknown float method",
            Reject(K_FLOAT_METHOD),
            m,
            s1(&name, &format!("{e} * x")),
        );
    }
    for &(suffix, m, e) in UNKNOWN_FLOAT_FNS {
        let name = format!("unknown_{suffix}");
        t.naming(
            "unknown float function (path form)",
            Reject(K_FLOAT_FN),
            m,
            s1(&name, &format!("{e} * x")),
        );
    }
    // float → non-float → float round trips through "passive" methods
    t.naming(
        "unknown float method",
        Reject(K_FLOAT_METHOD),
        "to_bits",
        s1(
            "bits_roundtrip",
            "let b = x.to_bits(); f64::from_bits(b) * 2.0",
        ),
    );
    t.add(
        "unknown float method",
        Reject(K_FLOAT_FN),
        s1("bits_roundtrip_inline", "f64::from_bits(x.to_bits()) * 2.0"),
    );
    t.naming(
        "unknown float method",
        Reject(K_FLOAT_METHOD),
        "to_string",
        s1(
            "string_roundtrip",
            "let s = x.to_string(); s.parse::<f64>().unwrap() * x",
        ),
    );
    t.naming(
        "unknown float method",
        Reject(K_FLOAT_METHOD),
        "into",
        s1("into_method", "let y: f64 = x.into(); y * 2.0"),
    );
}

fn iterators(t: &mut Table) {
    let c = "iterator chain";
    for (name, body) in [
        ("iter_sum", "w.iter().sum::<f64>()"),
        ("iter_sum_let_typed", "let s: f64 = w.iter().sum(); s"),
        ("iter_copied_sum", "w.iter().copied().sum::<f64>()"),
        ("iter_cloned_sum", "w.iter().cloned().sum::<f64>()"),
        ("iter_product", "w.iter().product::<f64>()"),
        ("iter_map_sum", "w.iter().map(|v| v * v).sum::<f64>()"),
        (
            "iter_map_product",
            "w.iter().map(|v| v + 1.0).product::<f64>()",
        ),
        (
            "iter_map_sum_sqrt",
            "w.iter().map(|v| v * v).sum::<f64>().sqrt()",
        ),
        ("iter_fold", "w.iter().fold(0.0, |a, v| a + v * v)"),
        (
            "iter_fold_max",
            "w.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v))",
        ),
        (
            "iter_enumerate_map",
            "w.iter().enumerate().map(|(i, v)| v * i as f64).sum::<f64>()",
        ),
        (
            "iter_rev_enumerate",
            "w.iter().rev().enumerate().map(|(i, v)| v * (i as f64 + 1.0)).sum::<f64>()",
        ),
        (
            "range_map_index",
            "(0..w.len()).map(|i| w[i] * w[i]).sum::<f64>()",
        ),
        (
            "iter_zip_map",
            "w.iter().zip(w.iter().skip(1)).map(|(a, b)| a * b).sum::<f64>()",
        ),
        (
            "windows_map",
            "w.windows(2).map(|p| p[1] * p[0]).sum::<f64>()",
        ),
        (
            "chunks_map",
            "w.chunks(2).map(|c| c[0] * c[0]).sum::<f64>()",
        ),
        (
            "chunks_exact_map",
            "w.chunks_exact(2).map(|c| c[0] * c[1]).sum::<f64>()",
        ),
        ("iter_skip_sum", "w.iter().skip(1).sum::<f64>()"),
        ("iter_take_sum", "w.iter().take(2).sum::<f64>()"),
        ("iter_step_by_sum", "w.iter().step_by(2).sum::<f64>()"),
        (
            "iter_filter_sum",
            "w.iter().filter(|v| **v > 0.0).sum::<f64>()",
        ),
        ("iter_chain_sum", "w.iter().chain(w.iter()).sum::<f64>()"),
        (
            "iter_max_by",
            "*w.iter().max_by(|a, b| a.total_cmp(b)).unwrap()",
        ),
        (
            "iter_min_by",
            "w.iter().copied().min_by(|a, b| a.total_cmp(b)).unwrap()",
        ),
        (
            "iter_reduce",
            "w.iter().copied().reduce(|a, b| a * b).unwrap()",
        ),
        ("iter_last", "*w.iter().last().unwrap() * 2.0"),
        ("iter_next", "*w.iter().next().unwrap() * 2.0"),
        ("iter_nth", "*w.iter().nth(1).unwrap() * 2.0"),
        (
            "iter_collect",
            "let c: Vec<f64> = w.iter().map(|v| v * 2.0).collect(); c[0] * c[1]",
        ),
        (
            "local_iter_sum",
            "let mut b = vec![0.0; 2]; b[0] = w[0] * w[1]; b.iter().sum::<f64>()",
        ),
        ("iter_sum_path", "Iterator::sum::<f64>(w.iter())"),
    ] {
        t.add(c, Either(K_ITER), v(name, body));
    }
    t.add(
        c,
        Either(K_ITER),
        a3("array_into_iter_sum", "a.into_iter().sum::<f64>()"),
    );
    t.add(
        c,
        Either(K_ITER),
        a3("array_iter_map", "a.iter().map(|v| v.sin()).sum::<f64>()"),
    );
    t.add(
        c,
        Either(K_ITER),
        s1(
            "range_map_scalar",
            "(0..3).map(|i| x * i as f64).sum::<f64>()",
        ),
    );
    t.add(
        c,
        Either(K_ITER),
        s1("array_lit_iter_sum", "[x, 2.0 * x].iter().sum::<f64>()"),
    );
    // integers and booleans out of an iterator over floats: comparisons only
    t.add(
        c,
        Either(K_ITER),
        v(
            "iter_any_passive",
            "if w.iter().any(|v| *v > 5.0) { 0.0 } else { w[0] * w[1] }",
        ),
    );
    t.add(
        c,
        Either(K_ITER),
        v(
            "iter_position_passive",
            "let i = w.iter().position(|v| *v > 0.7).unwrap(); w[i] * 2.0",
        ),
    );

    let c = "for over an iterator";
    for (name, body) in [
        ("for_map", "for v in w.iter().map(|t| t * 2.0) { s += v; }"),
        ("for_windows", "for p in w.windows(2) { s += p[1] * p[0]; }"),
        ("for_chunks", "for c in w.chunks(2) { s += c[0] * c[0]; }"),
        ("for_skip", "for v in w.iter().skip(1) { s += v * v; }"),
        ("for_take", "for v in w.iter().take(2) { s += v * v; }"),
        ("for_step_by", "for v in w.iter().step_by(2) { s += v * v; }"),
        ("for_copied", "for v in w.iter().copied() { s += v * v; }"),
        ("for_cloned", "for v in w.iter().cloned() { s += v * v; }"),
        ("for_rev", "for v in w.iter().rev() { s = s * 0.5 + v; }"),
        ("for_chain", "for v in w.iter().chain(w.iter()) { s += v * v; }"),
        (
            "for_enumerate_skip",
            "for (i, v) in w.iter().enumerate().skip(1) { s += v * i as f64; }",
        ),
        ("for_to_vec", "for v in w.to_vec() { s += v * v; }"),
        (
            "for_range_step_by",
            "for i in (0..3).step_by(2) { s += w[i] * w[i]; }",
        ),
        (
            "for_iter_mut",
            "let mut b = vec![0.0; 3]; b[0] = w[0]; b[1] = w[1]; for e in b.iter_mut() { *e *= 2.0; } s = b[0] * b[1];",
        ),
    ] {
        t.add(
            c,
            Either(K_FOR),
            v(name, &format!("let mut s = 0.0; {body} s")),
        );
    }
    // by value over an array parameter: the same loop as `for v in &a`
    t.add(
        c,
        Either(K_FOR),
        a3(
            "for_array_by_value",
            "let mut s = 0.0; for v in a { s += v * v; } s",
        ),
    );
    t.add(
        c,
        Reject(K_WHILE_LET),
        v(
            "while_let_next",
            "let mut it = w.iter(); let mut s = 0.0; while let Some(v) = it.next() { s += v * v; } s",
        ),
    );
}

fn buffers(t: &mut Table) {
    let c = "method on a float buffer";
    for (name, m, body) in [
        ("buf_first_copied", "first", "w.first().copied().unwrap() * 2.0"),
        ("buf_first_deref", "first", "*w.first().unwrap() * 2.0"),
        ("buf_last_deref", "last", "*w.last().unwrap() * 2.0"),
        ("buf_get_deref", "get", "*w.get(1).unwrap() * 2.0"),
        ("buf_get_copied_or", "get", "w.get(1).copied().unwrap_or(0.0) * 2.0"),
        ("buf_to_vec_index", "to_vec", "w.to_vec()[1] * 2.0"),
        ("buf_to_owned", "to_owned", "let c = w.to_owned(); c[0] * c[1]"),
        ("buf_split_at", "split_at", "let (p, q) = w.split_at(1); p[0] * q[0]"),
        (
            "buf_split_first",
            "split_first",
            "let (h, r) = w.split_first().unwrap(); *h * r[0]",
        ),
        (
            "local_clone",
            "clone",
            "let mut b = vec![0.0; 3]; b[0] = w[0] * 2.0; let c = b.clone(); c[0] * w[1]",
        ),
        (
            "local_push",
            "push",
            "let mut b = vec![0.0; 1]; b.push(w[1]); b[1] * 2.0",
        ),
        (
            "local_fill",
            "fill",
            "let mut b = vec![0.0; 3]; b.fill(w[0]); b[2] * 2.0",
        ),
        (
            "local_copy_from_slice",
            "copy_from_slice",
            "let mut b = vec![0.0; 3]; b.copy_from_slice(w); b[1] * 2.0",
        ),
        (
            "local_swap",
            "swap",
            "let mut b = vec![0.0; 2]; b[0] = w[0]; b[1] = 2.0 * w[1]; b.swap(0, 1); b[0] * 3.0 + b[1]",
        ),
        (
            "local_reverse",
            "reverse",
            "let mut b = vec![0.0; 2]; b[0] = w[0]; b[1] = 2.0 * w[1]; b.reverse(); b[0] * 3.0 + b[1]",
        ),
        (
            "local_rotate",
            "rotate_left",
            "let mut b = vec![0.0; 2]; b[0] = w[0]; b[1] = 2.0 * w[1]; b.rotate_left(1); b[0] * 3.0 + b[1]",
        ),
        (
            "local_extend",
            "extend_from_slice",
            "let mut b = vec![0.0; 0]; b.extend_from_slice(w); b[2] * 2.0",
        ),
        (
            "local_sort",
            "sort_by",
            "let mut b = vec![0.0; 2]; b[0] = 2.0 * w[0]; b[1] = w[1]; b.sort_by(|p, q| p.total_cmp(q)); b[0] * 3.0 + b[1]",
        ),
        (
            "local_subslice_copy",
            "copy_from_slice",
            "let mut b = vec![0.0; 3]; b[..2].copy_from_slice(&w[..2]); b[1] * 2.0",
        ),
    ] {
        t.naming(c, Reject(K_BUF_METHOD), m, v(name, body));
    }
    // `let c = w.to_vec();` is a local float buffer (a copy loop)
    t.add(
        c,
        Accept,
        v("buf_to_vec_let", "let c = w.to_vec(); c[0] * c[1]"),
    );
    for (name, m, body) in [
        ("array_map", "map", "a.map(|e| e * e)[1]"),
        ("array_to_vec", "to_vec", "a.to_vec()[2] * a[0]"),
        ("array_clone", "clone", "let b = a.clone(); b[1] * 2.0"),
        ("array_first", "first", "*a.first().unwrap() * 2.0"),
    ] {
        t.naming(c, Reject(K_BUF_METHOD), m, a3(name, body));
    }
    t.add(
        "reference and deref",
        Reject(K_VIEW),
        v("buf_alias", "let b = &w; b[0] * 2.0"),
    );
}

fn closures(t: &mut Table) {
    let c = "closure";
    for (name, body) in [
        ("closure_capture", "let c = |v: f64| v * x; c(2.0)"),
        ("closure_param", "let f = |v: f64| v * v; f(x)"),
        ("closure_untyped", "let f = |v| v; f(x) * 2.0"),
        ("closure_immediate", "(|v: f64| v * 2.0)(x)"),
        ("closure_move", "let c = move || x * 2.0; c()"),
        ("closure_arg", "apply(|v| v * x, 2.0)"),
    ] {
        t.add(c, Either(K_CLOSURE), s1(name, body));
    }
    t.add(
        c,
        Either(K_CLOSURE),
        v("closure_buffer", "let g = |i: usize| w[i] * 2.0; g(1)"),
    );
    // a closure reading no differentiated value is passive code
    t.add(
        c,
        Either(K_CLOSURE),
        s1(
            "closure_passive",
            "let k = |i: usize| i * 2; x * k(3) as f64",
        ),
    );
}

fn control(t: &mut Table) {
    let c = "control flow in the subset";
    for (name, body) in [
        ("ctl_if_else", "if x > 0.5 { x * x } else { x.sin() }"),
        (
            "ctl_else_if",
            "if x > 2.0 { x } else if x > 0.5 { x * x } else { -x }",
        ),
        (
            "ctl_while",
            "let mut s = x; let mut k = 0; while k < 4 { s = s * x + 1.0; k += 1; } s",
        ),
        (
            "ctl_while_float_cond",
            "let mut s = x; while s < 5.0 { s = s * 1.5 + 0.1; } s",
        ),
        (
            "ctl_for_range",
            "let mut s = 0.0; for i in 0..4 { s += x.powi(i as i32); } s",
        ),
        (
            "ctl_for_inclusive",
            "let mut s = 0.0; for i in 1..=3 { s += x / i as f64; } s",
        ),
        (
            "ctl_for_rev",
            "let mut s = 0.0; for i in (0..3).rev() { s = s * x + i as f64; } s",
        ),
        (
            "ctl_break",
            "let mut s = x; for _ in 0..10 { if s > 3.0 { break; } s = s * x + 1.0; } s",
        ),
        (
            "ctl_continue",
            "let mut s = 0.0; for i in 0..4 { if i == 2 { continue; } s += x * i as f64; } s",
        ),
        (
            "ctl_early_return_loop",
            "let mut s = x; for _ in 0..10 { s = s * 2.0; if s > 3.0 { return s * x; } } s",
        ),
        (
            "ctl_shadowing",
            "let y = x * 2.0; let y = y.sin() + x; let y = y * y; y",
        ),
        ("ctl_late_init", "let c: f64; c = x * 3.0; c + x"),
        ("ctl_block_let", "let y = { let t = x * 2.0; t }; y * x"),
    ] {
        t.add(c, Accept, s1(name, body));
    }
    for (name, body) in [
        (
            "ctl_for_iter",
            "let mut s = 0.0; for e in w.iter() { s += e * e; } s",
        ),
        (
            "ctl_for_slice",
            "let mut s = 0.0; for e in w { s += e * e; } s",
        ),
        (
            "ctl_for_ref_pat",
            "let mut s = 0.0; for &e in w.iter() { s += e * e; } s",
        ),
        (
            "ctl_for_enumerate",
            "let mut s = 0.0; for (i, e) in w.iter().enumerate() { s += e * (i as f64 + 1.0); } s",
        ),
        (
            "ctl_for_zip",
            "let mut s = 0.0; for (p, q) in w.iter().zip(w.iter()) { s += p * q; } s",
        ),
        (
            "ctl_for_index",
            "let mut s = 0.0; for i in 0..w.len() { s += w[i] * w[i]; } s",
        ),
    ] {
        t.add(c, Accept, v(name, body));
    }
    t.add(
        c,
        Accept,
        a3(
            "ctl_for_ref_array",
            "let mut s = 0.0; for e in &a { s += e.sin(); } s",
        ),
    );

    let c = "control flow outside the subset";
    for (name, k, body) in [
        ("ctl_match_bool", K_MATCH, "match x > 0.0 { true => x, false => -x, }"),
        ("ctl_match_guard", K_MATCH, "match 1 { _ if x > 0.0 => x * x, _ => -x, }"),
        (
            "ctl_loop_break",
            K_LOOP,
            "let mut s = x; loop { s *= 2.0; if s > 10.0 { break; } } s",
        ),
        ("ctl_loop_break_value", K_LOOP, "let y = loop { break x * 2.0; }; y"),
        (
            "ctl_if_let",
            K_IF_LET,
            "if let Some(v) = Some(x) { v * 2.0 } else { 0.0 }",
        ),
        (
            "ctl_if_let_stmt",
            K_IF_LET,
            "let mut y = 0.0; if let Some(v) = Some(x) { y = v * 2.0; } y",
        ),
        (
            "ctl_let_else",
            K_LET_ELSE,
            "let Some(v) = Some(x) else { return 0.0 }; v * 2.0",
        ),
        (
            "ctl_labeled_block",
            K_LABEL,
            "let y = 'a: { if x > 1.0 { break 'a x; } x * 2.0 }; y",
        ),
        (
            "ctl_labeled_loop",
            K_LABEL,
            "let mut s = x; 'outer: for _ in 0..3 { for _ in 0..3 { if s > 2.0 { break 'outer; } s *= 1.5; } } s",
        ),
        ("ctl_unsafe", K_UNSAFE, "unsafe { x * 2.0 }"),
        ("ctl_fn_item", K_ITEM, "fn inner(v: f64) -> f64 { v * v } inner(x)"),
    ] {
        // `match` and `loop` are desugared (issue 10): either outcome is sound
        let expect = if k == K_MATCH || k == K_LOOP { Either(k) } else { Reject(k) };
        t.add(c, expect, s1(name, body));
    }
    // `const` items at the top of the body pass through (issue 10)
    t.add(
        c,
        Either(K_ITEM),
        s1("ctl_const_item", "const K: f64 = 2.0; x * K"),
    );
    for (name, body) in [
        ("ctl_match_value", "match n { 0 => x, _ => x * 2.0, }"),
        (
            "ctl_match_let",
            "let y = match n { 0 => x * x, _ => x, }; y",
        ),
        (
            "ctl_match_stmt",
            "let mut y = x; match n { 0 => y = x * x, _ => {} } y",
        ),
    ] {
        t.add(c, Either(K_MATCH), xn(name, body));
    }
}

fn data(t: &mut Table) {
    let c = "tuple";
    for (name, body) in [
        ("tup_field", "let p = (x, 2.0 * x); p.0 * p.1"),
        ("tup_literal_field", "(x, 1.0).0 * 2.0"),
        ("tup_call_field", "pair(x).0 * 2.0"),
    ] {
        // tuples are taken apart (issue 10): either outcome is sound
        t.add(c, Either(K_TUPLE), s1(name, body));
    }
    for (name, body) in [
        ("tup_destructure", "let (a, b) = (x, 2.0 * x); a * b"),
        ("tup_sin_cos", "let (s, c) = x.sin_cos(); s * c"),
        ("tup_nested", "let ((a, _), b) = ((x, 1.0), x); a * b"),
        ("tup_call_destructure", "let (a, b) = pair(x); a * b"),
    ] {
        t.add(c, Either(K_DESTRUCTURE), s1(name, body));
    }
    let c = "array literal";
    t.add(c, Reject(K_ARRAY), s1("array_lit_index", "[x, x][0] * 2.0"));
    // a literal of floats bound by `let` is a local array filled element by element
    t.add(
        c,
        Accept,
        s1("array_lit_let", "let b = [x, 2.0 * x]; b[0] * b[1]"),
    );
    t.add(
        c,
        Accept,
        s1(
            "array_lit_nested",
            "let m = [[x, 1.0], [2.0, x * x]]; m[0][0] * m[1][1] - m[0][1] * m[1][0]",
        ),
    );

    let c = "struct and field";
    t.add(
        c,
        Reject(K_STRUCT),
        s1("st_literal_field", "let p = Pt { a: x, b: 1.0 }; p.a * 2.0"),
    );
    t.add(
        c,
        Reject(K_ASSIGN),
        s1(
            "st_field_assign",
            "let mut p = Pt { a: 1.0, b: 2.0 }; p.a = x; p.a * 2.0",
        ),
    );
    t.add(
        c,
        Accept,
        s1(
            "st_passive_literal",
            "let p = Pt { a: 1.5, b: 2.0 }; p.a * x + p.b",
        ),
    );
    t.add(
        c,
        Accept,
        "#[differentiate] fn st_passive_param(x: f64, p: &Pt) -> f64 { x * p.a + p.b * x.sin() }",
    );
    t.add(
        c,
        Accept,
        "impl Scale { #[differentiate] fn self_field_max(&self, x: f64) -> f64 { self.k.max(x) } }",
    );
    t.add(
        c,
        Accept,
        "impl Scale { #[differentiate] fn self_field_mul(&self, x: f64) -> f64 { self.k * x * x + self.k.sin() } }",
    );
    // API.md "Parameters as structs" (`wrt(p)` of a struct) is issue 11's: rejected
    // by `wrt` until then, and added here when it lands.
}

fn calls(t: &mut Table) {
    let c = "call";
    for (name, body) in [
        ("call_sq", "sq(x) * x"),
        ("call_nested", "sq(sq(x) + x)"),
        ("call_two_args", "mul2(x, x.sin())"),
        ("call_block_arg", "sq({ let t = x * 2.0; t })"),
        ("call_custom_derivative", "opaque(x) * x"),
        ("call_module_path", "helpers::cube(x) + x"),
        ("call_passive_args", "x * konst(2.0)"),
    ] {
        t.add(c, Accept, s1(name, body));
    }
    for (name, body) in [
        ("call_slice", "total(w) * w[0]"),
        ("call_view", "let u = &w[0..2]; total(u) * w[2]"),
        (
            "call_local_buf",
            "let mut b = vec![0.0; 2]; b[0] = w[0] * w[1]; b[1] = w[2]; total(&b)",
        ),
    ] {
        t.add(c, Accept, v(name, body));
    }

    let c = "call it cannot see into";
    for (name, body) in [
        ("call_std_identity", "std::convert::identity(x) * 2.0"),
        ("call_black_box", "std::hint::black_box(x) * 2.0"),
        ("call_box_deref", "*Box::new(x) * 2.0"),
        ("call_into_path", "Into::<f64>::into(x) * 2.0"),
        ("call_into_plain", "let y: f64 = Into::into(x); y * 2.0"),
        ("call_qself_from", "<f64 as From<f64>>::from(x) * 2.0"),
    ] {
        t.add(c, Reject(K_CALL), s1(name, body));
    }
    t.naming(
        c,
        Reject(K_FLOAT_FN),
        "from",
        "#[differentiate] fn call_generic_from<T: Float>(x: T) -> T { T::from(x).unwrap() * x }",
    );
    // `f64::from(h)` of a differentiated float is the cast `h as f64`
    t.add(c, Accept, s1("call_f64_from", "f64::from(x) * 2.0"));
    let c = "Option";
    for (name, body) in [
        ("opt_some_unwrap", "Some(x).unwrap() * 2.0"),
        ("opt_some_unwrap_or", "Some(x).unwrap_or(0.0) * 2.0"),
        ("opt_let_some", "let o = Some(x); o.unwrap() * 2.0"),
        ("opt_map_closure", "Some(x).map(|v| v * 2.0).unwrap()"),
    ] {
        t.add(c, Reject(K_OPTION), s1(name, body));
    }
}

fn references(t: &mut Table) {
    let c = "reference and deref";
    t.add(
        c,
        Reject(K_ASSIGN_REF),
        s1(
            "mut_ref_assign",
            "let mut y = x; let r = &mut y; *r *= 2.0; y",
        ),
    );
    // reading through a `&mut` that is never written through is correct
    t.add(
        c,
        Either(K_MUT),
        s1("mut_ref_read", "let mut y = x; let r = &mut y; *r * 2.0"),
    );
    t.add(c, Accept, s1("ref_deref_direct", "*&x * 3.0"));
    t.add(c, Accept, s1("ref_let", "let r = &x; *r * x"));
    t.add(c, Accept, s1("ref_call_arg", "sq(*&x) + x"));
    t.add(c, Accept, v("ref_elem", "let r = &w[1]; *r * w[0]"));
    for (name, body) in [
        (
            "mem_replace",
            "let mut y = 0.0; let old = std::mem::replace(&mut y, x); old + y * 2.0",
        ),
        (
            "mem_swap",
            "let mut a = x; let mut b = 2.0 * x; std::mem::swap(&mut a, &mut b); a * 3.0 + b",
        ),
        (
            "mem_take",
            "let mut y = x * 2.0; let t = std::mem::take(&mut y); t + y",
        ),
        ("mut_ref_call", "let mut y = x; bump(&mut y); y * x"),
    ] {
        t.add(c, Reject(K_MUT), s1(name, body));
    }
}

fn casts_and_passive(t: &mut Table) {
    let c = "cast";
    // casts between float types: an `f32` section with its own tangent and adjoint
    t.add(c, Accept, s1("cast_f32", "(x as f32 * 2.0) as f64"));
    t.add(
        c,
        Accept,
        s1("cast_f32_let", "let y = x as f32; y as f64 * x"),
    );
    // piecewise constant: a zero derivative through the integer is correct
    t.add(
        c,
        Either(K_CAST),
        s1("cast_i64_f64", "(x * 3.0) as i64 as f64 * x"),
    );
    t.add(
        c,
        Either(K_CAST),
        s1("cast_bool_f64", "(x > 0.5) as u8 as f64 * x"),
    );
    t.add(
        c,
        Either(K_INDEX),
        xv("cast_usize_index", "w[x as usize] * x"),
    );
    t.add(
        c,
        Either(K_INDEX),
        xv("cast_floor_index", "w[x.floor() as usize] * x"),
    );
    t.add(
        c,
        Accept,
        s1("cast_int_to_float", "let n = 3; x * n as f64"),
    );
    t.add(
        c,
        Accept,
        v(
            "cast_len_mean",
            "let mut s = 0.0; for i in 0..w.len() { s += w[i]; } s / w.len() as f64",
        ),
    );

    let c = "passive use of a float";
    for (name, body) in [
        ("pas_cmp", "let pos = x > 0.5; if pos { x * x } else { -x }"),
        ("pas_is_nan", "if x.is_nan() { 0.0 } else { x * x }"),
        (
            "pas_is_finite_and",
            "if x.is_finite() && x.is_sign_positive() { x.sqrt() } else { x }",
        ),
        (
            "pas_total_cmp",
            "if x.total_cmp(&0.5) == std::cmp::Ordering::Greater { x * x } else { x }",
        ),
        ("pas_unused_stmt", "let _ = x.is_nan(); x * 2.0"),
    ] {
        t.add(c, Accept, s1(name, body));
    }
    // Rejected (the documented "differentiated value used as an index" error), though
    // accepting it would be sound too.
    t.add(
        c,
        Either(K_INDEX),
        xv("pas_cmp_cast_index", "w[(x > 0.5) as usize] * x"),
    );
    t.add(c, Accept, v("pas_len_index", "w[w.len() - 1] * w[0]"));
    t.add(
        c,
        Accept,
        v(
            "pas_buf_contains",
            "if w.contains(&0.0) { 0.0 } else { w[0] * w[1] }",
        ),
    );
    t.add(
        c,
        Accept,
        v(
            "pas_buf_is_empty",
            "if w.is_empty() { 0.0 } else { w[0] * w[1] }",
        ),
    );
    t.add(
        c,
        Accept,
        "#[differentiate(wrt(x))] fn pas_wrt_excluded(x: f64, y: f64) -> f64 { x * y.sin() + y }",
    );
    t.add(
        "buffer",
        Accept,
        v(
            "buf_local_vec",
            "let mut b = vec![0.0; w.len()]; for i in 0..w.len() { b[i] = w[i] * w[i]; } let mut s = 0.0; for i in 0..b.len() { s += b[i] * w[i]; } s",
        ),
    );
    t.add(
        "buffer",
        Accept,
        s1(
            "buf_local_array",
            "let mut b = [0.0; 3]; b[0] = x; b[1] = b[0] * x; b[2] = b[1] * x; b[0] + b[1] + b[2]",
        ),
    );
    t.add(
        "buffer",
        Accept,
        v("buf_view", "let u = &w[1..3]; u[0] * u[1]"),
    );
    t.add(
        "buffer",
        Accept,
        a3("buf_array_param", "a[0] * a[1] + a[2].sin()"),
    );
}

fn macros_and_signatures(t: &mut Table) {
    let c = "macro";
    for (name, body) in [
        ("mac_user_value", "my_macro!(x) * 2.0"),
        ("mac_user_stmt", "my_macro!(x); x * 2.0"),
        ("mac_user_let", "let y = my_macro!(x); y * 2.0"),
        ("mac_dbg", "dbg!(x) * 2.0"),
        ("mac_vec_list", "let b = vec![x, 2.0 * x]; b[1] * x"),
    ] {
        t.add(c, Reject(K_MACRO), s1(name, body));
    }
    t.add(
        c,
        Reject(K_MACRO),
        v("mac_user_buf", "let u = my_macro!(w); u[0] * 2.0"),
    );
    // assertions only read their arguments (issue 10)
    for (name, body) in [
        ("mac_assert", "assert!(x > 0.0); x * x"),
        ("mac_assert_eq", "assert_eq!(x, x); x * x"),
        ("mac_debug_assert", "debug_assert!(x.is_finite()); x * x"),
    ] {
        t.add(c, Either(K_MACRO), s1(name, body));
    }
    // a statement that produces no float is harmless
    for (name, body) in [
        ("mac_println", "println!(\"{x}\"); x * x"),
        ("mac_println_args", "println!(\"{} {}\", x, x * 2.0); x * x"),
        ("mac_eprintln", "eprintln!(\"{x:?}\"); x * x"),
        (
            "mac_format_len",
            "let s = format!(\"{x:.2}\"); s.len() as f64 * x",
        ),
    ] {
        t.add(c, Either(K_MACRO), s1(name, body));
    }
    t.add(
        c,
        Accept,
        s1("mac_println_passive", "println!(\"hi\"); x * x"),
    );

    // struct parameters named in `wrt(..)` (issue 11): every field path gets a
    // typed binding; a path used both as an integer and as a float is refused
    let c = "struct parameter";
    let sp = |name: &str, body: &str| {
        format!("#[differentiate(wrt(p))] fn {name}(p: &Lin, x: f64) -> f64 {{ {body} }}")
    };
    t.add(c, Accept, sp("st_param_wrt", "p.b * x + p.w[0] * p.w[1]"));
    t.add(
        c,
        Accept,
        sp(
            "st_param_iter",
            "let mut s = 0.0; for wi in p.w.iter() { s += wi * x; } s * s + p.b",
        ),
    );
    t.add(
        c,
        Accept,
        sp("st_param_view", "let v = &p.w[0..2]; v[0] * v[1] * p.b + x"),
    );
    t.add(
        c,
        Accept,
        sp(
            "st_param_len",
            "let n = p.w.len(); p.w[n - 1] * p.b.exp() * x",
        ),
    );
    t.add(
        c,
        Accept,
        sp("st_param_call_arg", "sq(p.b) * x + sq(p.w[1])"),
    );
    t.add(
        c,
        Reject(K_FIELD),
        sp(
            "st_param_int_and_float",
            "let mut s = 0.0; for i in 0..p.n { s += p.w[i]; } s * p.n.pow(2) as f64",
        ),
    );
    t.add(
        c,
        Reject(K_STRUCT),
        sp("st_param_bare", "let q = p; q.b * x"),
    );
    // `p.total()` on `p: &Lin` is `Lin::total(p)`, a differentiated call
    t.add(c, Accept, sp("st_param_method", "p.total() * x + p.b"));
    t.add(
        c,
        Reject(K_STRUCT),
        "#[differentiate(wrt(p))] fn st_param_method_by_value(p: Lin, x: f64) -> f64 { p.total() * x }",
    );
    t.add(
        c,
        Reject(K_STRUCT),
        sp("st_param_in_macro", "let v = twice!(p.b); v * x"),
    );
    t.add(
        c,
        Accept,
        sp(
            "st_param_vec_macro",
            "let v = vec![p.b; 2]; assert!(p.w.len() > 1); v[0] * v[1] * x + p.w[0]",
        ),
    );
    t.add(
        c,
        Reject(K_STRUCT),
        sp("st_param_shadowed", "let p = x * 2.0; p"),
    );

    let c = "parameter type";
    // `&Vec<F>` is read like a slice (issue 10)
    t.add(
        c,
        Accept,
        "#[differentiate] fn sig_vec_ref(w: &Vec<f64>) -> f64 { w[0] * w[1] }",
    );
    t.add(
        c,
        Accept,
        "#[differentiate] fn sig_nested_slice(m: &[[f64; 2]]) -> f64 { m[0][0] * m[1][1] }",
    );
    // nested buffers are active like any float parameter (`lower/rows.rs`) ...
    t.add(
        c,
        Accept,
        "#[differentiate] fn sig_nested_array(x: f64, m: [[f64; 2]; 2]) -> f64 { m[0][0] * x }",
    );
    t.add(
        c,
        Accept,
        "#[differentiate] fn sig_slice_of_vec(x: f64, m: &[Vec<f64>]) -> f64 { m[0][0] * x }",
    );
    // ... and data when `wrt(..)` leaves them out
    t.add(
        c,
        Accept,
        "#[differentiate(wrt(x))] fn sig_nested_data(x: f64, m: &[[f64; 2]]) -> f64 { m[0][0] * x }",
    );
    t.add(
        c,
        Reject(K_PARAM),
        "#[differentiate] fn sig_nested_bare(m: &[[f64; 2]]) -> f64 { let n = m; n[0][0] }",
    );
}

fn table() -> Vec<Row> {
    let mut t = Table::default();
    positions(&mut t);
    methods(&mut t);
    iterators(&mut t);
    buffers(&mut t);
    closures(&mut t);
    control(&mut t);
    data(&mut t);
    calls(&mut t);
    references(&mut t);
    casts_and_passive(&mut t);
    macros_and_signatures(&mut t);
    t.0
}

// ---------------------------------------------------------------------------
// Machinery
// ---------------------------------------------------------------------------

/// A row's function: its name, attribute arguments, the item to expand, and its
/// tokens for comparison with `tests/soundness.rs`.
struct Parsed {
    name: String,
    attr: TokenStream,
    item: TokenStream,
    canon: String,
}

fn is_differentiate(a: &syn::Attribute) -> bool {
    a.path().is_ident("differentiate")
}

fn attr_args(a: &syn::Attribute) -> TokenStream {
    match &a.meta {
        syn::Meta::List(l) => l.tokens.clone(),
        _ => TokenStream::new(),
    }
}

/// Canonical text of a function: only the `#[differentiate]` attribute kept.
fn canon_fn(attrs: &[syn::Attribute], rest: TokenStream) -> String {
    let keep: Vec<_> = attrs.iter().filter(|a| is_differentiate(a)).collect();
    quote::quote!(#(#keep)* #rest).to_string()
}

fn parse_row(src: &str) -> Result<Parsed, String> {
    let item: syn::Item = syn::parse_str(src).map_err(|e| format!("does not parse: {e}"))?;
    match item {
        syn::Item::Fn(f) => {
            let a = f
                .attrs
                .iter()
                .find(|a| is_differentiate(a))
                .ok_or("no #[differentiate]")?;
            let attr = attr_args(a);
            let mut bare = f.clone();
            bare.attrs.retain(|a| !is_differentiate(a));
            let (vis, sig, block) = (&f.vis, &f.sig, &f.block);
            Ok(Parsed {
                name: f.sig.ident.to_string(),
                attr,
                item: bare.to_token_stream(),
                canon: canon_fn(&f.attrs, quote::quote!(#vis #sig #block)),
            })
        }
        syn::Item::Impl(i) => {
            let mut found = None;
            for it in &i.items {
                if let syn::ImplItem::Fn(m) = it {
                    if let Some(a) = m.attrs.iter().find(|a| is_differentiate(a)) {
                        let mut bare = m.clone();
                        bare.attrs.retain(|a| !is_differentiate(a));
                        let (vis, sig, block) = (&m.vis, &m.sig, &m.block);
                        found = Some(Parsed {
                            name: m.sig.ident.to_string(),
                            attr: attr_args(a),
                            item: bare.to_token_stream(),
                            canon: canon_fn(&m.attrs, quote::quote!(#vis #sig #block)),
                        });
                    }
                }
            }
            found.ok_or_else(|| "no #[differentiate] method in the impl".to_string())
        }
        _ => Err("expected a `fn` or an `impl` block".into()),
    }
}

/// A differentiated function of `tests/soundness.rs`: canonical text, and
/// whether it is gated out (`#[cfg(any())]`: rejected by the macro today).
struct Integrated {
    canon: String,
    gated: bool,
    /// Marked `#[cfg_attr(any(), issue9_expansion_does_not_compile)]`: the macro
    /// expands it, rustc rejects the expansion.
    does_not_compile: bool,
}

fn is_broken_marker(a: &syn::Attribute) -> bool {
    a.path().is_ident("cfg_attr")
        && a.meta
            .to_token_stream()
            .to_string()
            .contains("issue9_expansion_does_not_compile")
}

fn is_gate(a: &syn::Attribute) -> bool {
    a.path().is_ident("cfg")
        && a.meta.to_token_stream().to_string().replace(' ', "") == "cfg(any())"
}

fn collect_integrated(items: &[syn::Item], gated: bool, out: &mut BTreeMap<String, Integrated>) {
    for item in items {
        match item {
            syn::Item::Fn(f) if f.attrs.iter().any(is_differentiate) => {
                let (vis, sig, block) = (&f.vis, &f.sig, &f.block);
                out.insert(
                    f.sig.ident.to_string(),
                    Integrated {
                        canon: canon_fn(&f.attrs, quote::quote!(#vis #sig #block)),
                        gated: gated || f.attrs.iter().any(is_gate),
                        does_not_compile: f.attrs.iter().any(is_broken_marker),
                    },
                );
            }
            syn::Item::Impl(i) => {
                let g = gated || i.attrs.iter().any(is_gate);
                let broken = i.attrs.iter().any(is_broken_marker);
                for it in &i.items {
                    if let syn::ImplItem::Fn(m) = it {
                        if m.attrs.iter().any(is_differentiate) {
                            let (vis, sig, block) = (&m.vis, &m.sig, &m.block);
                            out.insert(
                                m.sig.ident.to_string(),
                                Integrated {
                                    canon: canon_fn(&m.attrs, quote::quote!(#vis #sig #block)),
                                    gated: g || m.attrs.iter().any(is_gate),
                                    does_not_compile: broken
                                        || m.attrs.iter().any(is_broken_marker),
                                },
                            );
                        }
                    }
                }
            }
            syn::Item::Mod(m) => {
                if let Some((_, items)) = &m.content {
                    collect_integrated(items, gated || m.attrs.iter().any(is_gate), out);
                }
            }
            _ => {}
        }
    }
}

fn integrated() -> BTreeMap<String, Integrated> {
    let file: syn::File = syn::parse_str(INTEGRATION).expect("tests/soundness.rs parses");
    let mut out = BTreeMap::new();
    collect_integrated(&file.items, false, &mut out);
    out
}

/// Messages of every `compile_error!` in an expansion.
fn compile_errors(ts: TokenStream, out: &mut Vec<String>) {
    let toks: Vec<TokenTree> = ts.into_iter().collect();
    for (i, t) in toks.iter().enumerate() {
        match t {
            TokenTree::Ident(id) if id == "compile_error" => {
                if let (Some(TokenTree::Punct(p)), Some(TokenTree::Group(g))) =
                    (toks.get(i + 1), toks.get(i + 2))
                {
                    if p.as_char() == '!' {
                        let msg = syn::parse2::<syn::LitStr>(g.stream())
                            .map(|l| l.value())
                            .unwrap_or_else(|_| g.stream().to_string());
                        out.push(msg);
                    }
                }
            }
            TokenTree::Group(g) => compile_errors(g.stream(), out),
            _ => {}
        }
    }
}

enum Outcome {
    Accepted,
    Rejected(Vec<String>),
    Broken(String),
}

fn expand(p: &Parsed) -> Outcome {
    let (attr, item) = (p.attr.clone(), p.item.clone());
    let out = match catch_unwind(AssertUnwindSafe(|| {
        crate::expand::differentiate(attr, item)
    })) {
        Ok(o) => o,
        Err(_) => return Outcome::Broken("the macro panicked".into()),
    };
    let mut errs = Vec::new();
    compile_errors(out.clone(), &mut errs);
    if !errs.is_empty() {
        return Outcome::Rejected(errs);
    }
    match syn::parse2::<syn::File>(out) {
        Ok(_) => Outcome::Accepted,
        Err(e) => Outcome::Broken(format!("the expansion does not parse: {e}")),
    }
}

fn matches_keyword(msgs: &[String], keyword: &str, names: Option<&str>) -> bool {
    msgs.iter().any(|m| {
        m.contains(PREFIX) && m.contains(keyword) && names.map(|n| m.contains(n)).unwrap_or(true)
    })
}

fn short(msgs: &[String]) -> String {
    msgs.iter()
        .map(|m| {
            let m = m.split("; supported:").next().unwrap_or(m);
            if m.chars().count() > 140 {
                let s: String = m.chars().take(140).collect();
                format!("{s}…")
            } else {
                m.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

#[test]
fn table_is_well_formed() {
    let rows = table();
    assert!(rows.len() >= 120, "only {} rows", rows.len());
    let files = integrated();
    let mut names = BTreeSet::new();
    let mut problems = Vec::new();
    for r in &rows {
        let p = match parse_row(&r.src) {
            Ok(p) => p,
            Err(e) => {
                problems.push(format!("row `{}`: {e}", r.src));
                continue;
            }
        };
        if !names.insert(p.name.clone()) {
            problems.push(format!("{}: duplicate row name", p.name));
        }
        if r.expect == Accept || matches!(r.expect, Either(_)) {
            match files.get(&p.name) {
                None => problems.push(format!(
                    "{}: an {:?} row must be in tests/soundness.rs (`fn {}`)",
                    p.name, r.expect, p.name
                )),
                Some(f) if f.canon != p.canon => problems.push(format!(
                    "{}: tests/soundness.rs differs from the table\n  table: {}\n  file:  {}",
                    p.name, p.canon, f.canon
                )),
                Some(_) => {}
            }
            let grad = format!("{}_grad", p.name);
            if !INTEGRATION.contains(&grad) {
                problems.push(format!(
                    "{}: tests/soundness.rs never calls `{grad}`",
                    p.name
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The table against the macro. Lists every row the macro gets wrong: the
/// silently accepted `Reject` rows first (the soundness bugs), then rejected
/// `Accept` rows, then rejections whose message lacks the category keyword.
#[test]
fn every_row_is_differentiated_or_rejected() {
    let rows = table();
    let files = integrated();
    let mut silent = Vec::new();
    let mut refused = Vec::new();
    let mut wording = Vec::new();
    let mut broken = Vec::new();
    let mut stale_gate = Vec::new();
    let mut does_not_compile = Vec::new();
    let mut either = Vec::new();
    let mut ok = 0;
    for r in &rows {
        let p = match parse_row(&r.src) {
            Ok(p) => p,
            Err(e) => {
                broken.push(format!("row `{}`: {e}", r.src));
                continue;
            }
        };
        let outcome = expand(&p);
        let line = |what: &str| format!("{} [{}]: {what}", p.name, r.cat);
        let names = r.names.as_deref();
        match (r.expect, &outcome) {
            (_, Outcome::Broken(e)) => broken.push(line(e)),
            (Accept, Outcome::Accepted) | (Either(_), Outcome::Accepted) => {
                match files.get(&p.name) {
                    Some(f) if f.gated && f.does_not_compile => does_not_compile.push(line(
                        "expands, but tests/soundness.rs marks the expansion as not compiling",
                    )),
                    Some(f) if f.gated => stale_gate.push(line(
                        "expands now: remove its `#[cfg(any())]` gate (and `#[ignore]`) in tests/soundness.rs",
                    )),
                    _ => {}
                }
                if let Either(_) = r.expect {
                    either.push(line("accepted"));
                }
                ok += 1;
            }
            (Accept, Outcome::Rejected(m)) => refused.push(line(&short(m))),
            (Reject(_), Outcome::Accepted) => {
                silent.push(line("expands without an error"));
            }
            (Reject(k), Outcome::Rejected(m)) | (Either(k), Outcome::Rejected(m)) => {
                if matches_keyword(m, k, names) {
                    if let Either(_) = r.expect {
                        either.push(line("rejected"));
                    }
                    ok += 1;
                } else {
                    let want = match names {
                        Some(n) => format!("{PREFIX} + {k:?} + {n:?}"),
                        None => format!("{PREFIX} + {k:?}"),
                    };
                    wording.push(line(&format!("wanted {want}; got: {}", short(m))));
                }
            }
        }
    }
    let mut by_cat: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &rows {
        *by_cat.entry(r.cat).or_default() += 1;
    }
    let mut report = format!("soundness table: {} rows, {ok} as expected\n", rows.len());
    for (c, n) in &by_cat {
        report += &format!("  {n:4}  {c}\n");
    }
    let mut section = |title: &str, v: &[String]| {
        if !v.is_empty() {
            report += &format!("\n{title} ({}):\n", v.len());
            for l in v {
                report += &format!("  {l}\n");
            }
        }
    };
    section("SILENTLY ACCEPTED (expected a compile error)", &silent);
    section("REJECTED (expected Accept)", &refused);
    section(
        "REJECTED, BUT THE MESSAGE LACKS THE CATEGORY KEYWORD",
        &wording,
    );
    section("BROKEN EXPANSION", &broken);
    section("STALE GATE IN tests/soundness.rs", &stale_gate);
    section(
        "EXPANDED, BUT THE EXPANSION DOES NOT COMPILE (gated in tests/soundness.rs)",
        &does_not_compile,
    );
    section("Either rows (informational)", &either);
    if let Some(path) = std::env::var_os("SOUNDNESS_REPORT") {
        std::fs::write(path, &report).expect("write SOUNDNESS_REPORT");
    }
    let failures = silent.len()
        + refused.len()
        + wording.len()
        + broken.len()
        + stale_gate.len()
        + does_not_compile.len();
    assert!(failures == 0, "{report}");
}

/// Prints the `Accept` and `Either` rows as Rust for `tests/soundness.rs`, gated
/// with `#[cfg(any())]` where the macro rejects them today.
#[test]
#[ignore = "a generator: run with --ignored --nocapture"]
fn print_rows() {
    for r in table() {
        if r.expect == Accept || matches!(r.expect, Either(_)) {
            let p = parse_row(&r.src).unwrap();
            let gate = match expand(&p) {
                Outcome::Accepted => "",
                _ => "#[cfg(any())] // issue 9: rejected by the macro today\n",
            };
            let file: syn::File = syn::parse_str(&r.src).unwrap();
            println!(
                "// {} ({:?})\n{gate}{}",
                r.cat,
                r.expect,
                prettyplease::unparse(&file)
            );
        }
    }
}
