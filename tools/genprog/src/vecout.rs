//! Vector-valued twins (`--vector-twins`, issue 12): for a function `fN`, twins
//! that compute its value `vy` with the same body (its final value bound to a
//! local, each early `return e;` returning the outputs of `e`) and return
//! combinations of `vy` and the inputs:
//!
//! - `fN_v(..) -> [f64; M]` (`M` 2 or 3, picked from the function's number);
//! - `fN_t(..) -> (f64, f64)`;
//! - `fN_o(.., out: &mut [f64])` or `out: &mut [f64; M]`, writing `out[0] = ..;
//!   out[1] = ..;` (only for bodies without an early `return`).
//!
//! The first output is always `vy`, so it is `fN(..)` bit for bit. The twins are
//! tested with `gen_support::check_vec` at `fN`'s points; they draw no random
//! numbers. The printers of `main.rs` consult `VEC` (set only while a twin is
//! printed), so without the flag nothing they print changes.

use super::*;
use std::cell::RefCell;

/// The kind of a vector-valued twin.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Kind {
    /// `-> [f64; M]`
    Arr,
    /// `-> (f64, f64)`
    Tup,
    /// `out: &mut [f64]` (`false`) or `out: &mut [f64; M]` (`true`)
    Out(bool),
}

/// An output: an expression of `vy`, `a` (the first active input) and `b` (the
/// last one).
#[derive(Clone, Copy, Debug)]
enum Out {
    Y,
    YyA,
    ASinB,
    YmB,
    MulAdd,
    ByA,
    CosA,
    AbmY,
    Yb,
    AtanA,
    AmYy,
}

impl Out {
    fn print(self, a: &str, b: &str) -> String {
        match self {
            Out::Y => "vy".to_string(),
            Out::YyA => format!("vy * vy + {a}"),
            Out::ASinB => format!("{a} * (0.5 * vy).sin() + {b}"),
            Out::YmB => format!("vy - {b}"),
            Out::MulAdd => format!("{a}.mul_add(vy.tanh(), {b})"),
            Out::ByA => format!("{b} * vy + {a}"),
            Out::CosA => format!("(0.5 * vy).cos() - {a} * {b}"),
            Out::AbmY => format!("{a} * {b} - vy"),
            Out::Yb => format!("vy * {b}"),
            Out::AtanA => format!("(0.3 * vy).atan() + {a}"),
            Out::AmYy => format!("{a} - vy * vy"),
        }
    }
    fn eval(self, vy: f64, a: f64, b: f64) -> f64 {
        match self {
            Out::Y => vy,
            Out::YyA => vy * vy + a,
            Out::ASinB => a * (0.5 * vy).sin() + b,
            Out::YmB => vy - b,
            Out::MulAdd => a.mul_add(vy.tanh(), b),
            Out::ByA => b * vy + a,
            Out::CosA => (0.5 * vy).cos() - a * b,
            Out::AbmY => a * b - vy,
            Out::Yb => vy * b,
            Out::AtanA => (0.3 * vy).atan() + a,
            Out::AmYy => a - vy * vy,
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Twin {
    pub(crate) kind: Kind,
    /// the outputs, as expressions of `vy` and the inputs
    outs: Vec<String>,
}

/// Are the outputs `outs` of `f` well conditioned at every point (central
/// differences with steps h and 2h agree to 1e-8, as `good_point` asks of `f`)?
/// `f`'s value is the interpreter's; `a`, `b` are the first and last active inputs.
fn conditioned(it: &Interp, f: &Func, len: usize, points: &[Vec<f64>], outs: &[Out]) -> bool {
    let at = |x: &[f64]| -> Vec<f64> {
        let vy = it.call_flat(f, x, PASSIVE, len, &mut Trace::new());
        let (a, b) = (x[0], x[x.len() - 1]);
        outs.iter().map(|o| o.eval(vy, a, b)).collect()
    };
    points.iter().all(|x| {
        let y = at(x);
        let mut xp = x.clone();
        (0..x.len()).all(|j| {
            let h = 1e-6 * x[j].abs().max(1.0);
            let mut fd = [vec![], vec![]];
            for (k, mult) in [1.0, 2.0].iter().enumerate() {
                xp[j] = x[j] + mult * h;
                let p = at(&xp);
                xp[j] = x[j] - mult * h;
                let m = at(&xp);
                xp[j] = x[j];
                fd[k] = p
                    .iter()
                    .zip(&m)
                    .map(|(p, m)| (p - m) / (2.0 * mult * h))
                    .collect();
            }
            (0..y.len()).all(|i| {
                y[i].is_finite()
                    && (fd[0][i] - fd[1][i]).abs() <= 1e-8 * (1.0 + fd[0][i].abs() + y[i].abs())
            })
        })
    })
}

impl Twin {
    pub(crate) fn m(&self) -> usize {
        self.outs.len()
    }
    pub(crate) fn suffix(&self) -> &'static str {
        match self.kind {
            Kind::Arr => "_v",
            Kind::Tup => "_t",
            Kind::Out(_) => "_o",
        }
    }
}

thread_local! {
    static VEC: RefCell<Option<Twin>> = const { RefCell::new(None) };
}

pub(crate) fn active() -> bool {
    VEC.with(|v| v.borrow().is_some())
}

fn twin() -> Option<Twin> {
    VEC.with(|v| v.borrow().clone())
}

/// The signature's suffix, out-parameter and return type, if a twin is printed.
pub(crate) fn signature() -> Option<(&'static str, Option<String>, String)> {
    let t = twin()?;
    let m = t.m();
    Some(match t.kind {
        Kind::Arr => ("_v", None, format!(" -> [f64; {m}]")),
        Kind::Tup => ("_t", None, format!(" -> ({})", vec!["f64"; m].join(", "))),
        Kind::Out(false) => ("_o", Some("out: &mut [f64]".to_string()), String::new()),
        Kind::Out(true) => ("_o", Some(format!("out: &mut [f64; {m}]")), String::new()),
    })
}

/// The outputs of the value `e` (a block for an early `return`).
fn outputs(e: &str, t: &Twin, pad: &str) -> String {
    match t.kind {
        Kind::Arr => format!("{pad}let vy: f64 = {e};\n{pad}[{}]\n", t.outs.join(", ")),
        Kind::Tup => format!("{pad}let vy: f64 = {e};\n{pad}({})\n", t.outs.join(", ")),
        Kind::Out(_) => {
            let mut s = format!("{pad}let vy: f64 = {e};\n");
            for (i, o) in t.outs.iter().enumerate() {
                let _ = writeln!(s, "{pad}out[{i}] = {o};");
            }
            s
        }
    }
}

/// `return e;` in a twin, if one is printed.
pub(crate) fn ret(e: &str, pad: &str) -> Option<String> {
    let t = twin()?;
    let inner = outputs(e, &t, &format!("{pad}    "));
    Some(format!("{pad}return {{\n{inner}{pad}}};\n"))
}

/// The end of a twin's body (its final value `e`), if one is printed.
pub(crate) fn tail(e: &str) -> Option<String> {
    let t = twin()?;
    Some(outputs(e, &t, "    "))
}

/// The twins of `f` (numbered `num`), printed; `src` is `f` printed. A twin whose
/// outputs are ill conditioned at one of `f`'s points (`(0.5 * vy).sin()` with a
/// steep `vy`) is left out and counted in `ill`.
pub(crate) fn twins(
    f: &Func,
    num: usize,
    len: usize,
    src: &str,
    it: &Interp,
    points: &[Vec<f64>],
    ill: &mut usize,
) -> Vec<(Twin, String)> {
    // two inputs of the outputs: the first scalar (else `w0[0]`) and the last
    // active element
    let mut ins = Vec::new();
    for (n, k) in &f.params {
        match k {
            PKind::Scalar => ins.push(n.clone()),
            PKind::Slice => {
                ins.push(format!("{n}[0]"));
                ins.push(format!("{n}[{}]", len - 1));
            }
            _ => {}
        }
    }
    if ins.is_empty() {
        return Vec::new();
    }
    let (a, b) = (&ins[0], &ins[ins.len() - 1]);
    use Out::*;
    let arr = match num % 3 {
        0 => vec![Y, YyA],
        1 => vec![Y, ASinB, YmB],
        _ => vec![Y, MulAdd],
    };
    let tup = match num % 2 {
        0 => vec![Y, ByA],
        _ => vec![Y, CosA],
    };
    let out = match num % 3 {
        0 => vec![Y, AbmY],
        1 => vec![Y, Yb, AtanA],
        _ => vec![Y, AmYy],
    };
    let mut all = vec![(Kind::Arr, arr), (Kind::Tup, tup)];
    // (an early `return` of a function writing out-parameters is not a simple rewrite)
    if !src.contains("return ") {
        all.push((Kind::Out(num % 2 == 1), out));
    }
    all.into_iter()
        .filter(|(_, outs)| {
            let ok = conditioned(it, f, len, points, outs);
            *ill += usize::from(!ok);
            ok
        })
        .map(|(kind, outs)| Twin {
            kind,
            outs: outs.iter().map(|o| o.print(a, b)).collect(),
        })
        .map(|t| {
            VEC.with(|v| *v.borrow_mut() = Some(t.clone()));
            let s = print_func(f);
            VEC.with(|v| *v.borrow_mut() = None);
            (t, s)
        })
        .collect()
}

/// The test of one twin: flat adapters over its modes for `gen_support::check_vec`.
pub(crate) fn emit_test(f: &Func, t: &Twin, points: &[Vec<f64>], len: usize, out: &mut String) {
    let m = t.m();
    let mut k = 0;
    let (mut args, mut fwd, mut adj_pre, mut adj, mut adj_post) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (p, kind) in &f.params {
        match kind {
            PKind::Scalar => {
                args.push(format!("x[{k}]"));
                fwd.push(format!("x[{k}], v[{k}]"));
                adj_pre.push(format!("let mut d_{p} = d[{k}];"));
                adj.push(format!("x[{k}], &mut d_{p}"));
                adj_post.push(format!("d[{k}] = d_{p};"));
                k += 1;
            }
            PKind::Slice => {
                let r = format!("{k}..{}", k + len);
                args.push(format!("&x[{r}]"));
                fwd.push(format!("&x[{r}], &v[{r}]"));
                adj_pre.push(format!("let mut d_{p} = d[{r}].to_vec();"));
                adj.push(format!("&x[{r}], &mut d_{p}"));
                adj_post.push(format!("d[{r}].copy_from_slice(&d_{p});"));
                k += len;
            }
            PKind::Passive | PKind::PassiveMut => {
                let c = format!("{PASSIVE:?}");
                args.push(c.clone());
                fwd.push(c.clone());
                adj.push(c);
            }
        }
    }
    let name = format!("{}{}", f.name, t.suffix());
    let call = if f.method {
        format!("CTX.{name}")
    } else {
        name.clone()
    };
    let scalar = if f.method {
        format!("CTX.{}", f.name)
    } else {
        f.name.clone()
    };
    let (a, fw, ad) = (args.join(", "), fwd.join(", "), adj.join(", "));
    let (pre, post) = (adj_pre.join(" "), adj_post.join(" "));
    // a value in the twin's shape as a `Vec<f64>`
    let flat = |y: &str| match t.kind {
        Kind::Arr => format!("{y}.to_vec()"),
        _ => {
            let es: Vec<String> = (0..m).map(|i| format!("{y}.{i}")).collect();
            format!("vec![{}]", es.join(", "))
        }
    };
    let seed = match t.kind {
        Kind::Arr => {
            let es: Vec<String> = (0..m).map(|i| format!("r[{i}]")).collect();
            format!("[{}]", es.join(", "))
        }
        _ => {
            let es: Vec<String> = (0..m).map(|i| format!("r[{i}]")).collect();
            format!("({})", es.join(", "))
        }
    };
    let pts: Vec<String> = points
        .iter()
        .map(|p| {
            let xs: Vec<String> = p.iter().map(|v| format!("{v:?}")).collect();
            format!("[{}]", xs.join(", "))
        })
        .collect();
    let sep = |s: &str| {
        if s.is_empty() {
            String::new()
        } else {
            format!("{s}, ")
        }
    };
    let _ = writeln!(out, "#[test]\nfn test_{name}() {{");
    let _ = writeln!(out, "    for x in [{}] {{", pts.join(", "));
    let _ = writeln!(
        out,
        "        gen_support::check_vec(\"{name}\", &x, {m}, {scalar}({a}),"
    );
    match t.kind {
        Kind::Arr | Kind::Tup => {
            let _ = writeln!(
                out,
                "            &|x| {{ let y = {call}({a}); {} }},",
                flat("y")
            );
            let _ = writeln!(
                out,
                "            &|x, v| {{ let (y, t) = {call}_fwd({fw}); ({}, {}) }},",
                flat("y"),
                flat("t")
            );
            let _ = writeln!(
                out,
                "            &|x, d, r| {{ {pre} let y = {call}_adjoint({}{seed}); {post} ({}, Vec::new()) }},",
                sep(&ad),
                flat("y")
            );
            let _ = writeln!(
                out,
                "            &|x| {{ let (y, j) = {call}_jacobian({a}); ({}, j) }});",
                flat("y")
            );
        }
        Kind::Out(fixed) => {
            // the entry values of `out` and of its tangent are data the modes ignore
            let (o, d) = if fixed {
                (format!("[7.5; {m}]"), format!("[3.25; {m}]"))
            } else {
                (format!("vec![7.5; {m}]"), format!("vec![3.25; {m}]"))
            };
            let dr = if fixed {
                format!("let mut dout: [f64; {m}] = r.try_into().unwrap();")
            } else {
                "let mut dout = r.to_vec();".to_string()
            };
            let _ = writeln!(
                out,
                "            &|x| {{ let mut out = {o}; {call}({}&mut out); out.to_vec() }},",
                sep(&a)
            );
            let _ = writeln!(
                out,
                "            &|x, v| {{ let (mut out, mut dout) = ({o}, {d}); {call}_fwd({}&mut out, &mut dout); (out.to_vec(), dout.to_vec()) }},",
                sep(&fw)
            );
            let _ = writeln!(
                out,
                "            &|x, d, r| {{ {pre} let mut out = {o}; {dr} {call}_adjoint({}&mut out, &mut dout); {post} (out.to_vec(), dout.to_vec()) }},",
                sep(&ad)
            );
            let _ = writeln!(
                out,
                "            &|x| {{ let mut out = {o}; let j = {call}_jacobian({}&mut out); (out.to_vec(), j) }});",
                sep(&a)
            );
        }
    }
    out.push_str("    }\n}\n\n");
}

/// The checks of the vector-valued twins, appended to `gen_support/mod.rs`.
pub(crate) const SUPPORT: &str = r#"
pub type VF<'a> = &'a dyn Fn(&[f64]) -> Vec<f64>;
pub type VFwd<'a> = &'a dyn Fn(&[f64], &[f64]) -> (Vec<f64>, Vec<f64>);
/// `(x, shadows, cotangent) -> (value, the out-parameters' shadows on exit)`
pub type VAdj<'a> = &'a dyn Fn(&[f64], &mut [f64], &[f64]) -> (Vec<f64>, Vec<f64>);
pub type VJac<'a> = &'a dyn Fn(&[f64]) -> (Vec<f64>, Vec<f64>);

#[track_caller]
fn same_vec(at: &str, mode: &str, got: &[f64], want: &[f64]) {
    assert!(
        got.len() == want.len() && got.iter().zip(want).all(|(a, b)| a.to_bits() == b.to_bits()),
        "{at}: the primal value of {mode} is {got:?}, f(..) is {want:?}"
    );
}

/// Every mode of one vector-valued function (`m` outputs: a returned array or
/// tuple, or an out-parameter) at one point `x` (its active inputs, flattened);
/// `y0` is the scalar function whose value is its first output. With the
/// points of the scalar function (away from branch switches and kinks):
///
/// - the value is finite, `m` long, its first element bit for bit `y0`, and the
///   value returned by every mode is bit for bit `f(x)`;
/// - `_jacobian` is `m x n` and each column agrees with central differences of
///   `f`: |J - fd| <= 1e-6 (1 + |J| + |f_i|);
/// - `_fwd` along each unit vector is the column of `J`, and along a random `v`
///   it is `J v` (1e-9 relative);
/// - `_adjoint` with a random cotangent `ybar` adds `J^T ybar` into pre-filled
///   shadows (1e-9 relative), and leaves the out-parameters' shadows zero.
pub fn check_vec(name: &str, x: &[f64], m: usize, y0: f64, f: VF, fwd: VFwd, adj: VAdj, jac: VJac) {
    let n = x.len();
    let at = format!("{name} at {x:?}");
    let y = f(x);
    assert_eq!(y.len(), m, "{at}: {m} outputs");
    assert!(y.iter().all(|v| v.is_finite()), "{at}: f = {y:?}");
    assert!(y[0].to_bits() == y0.to_bits(), "{at}: the first output {:e} is not the scalar function's value {y0:e}", y[0]);

    let (yj, j) = jac(x);
    same_vec(&at, "_jacobian", &yj, &y);
    assert_eq!(j.len(), m * n, "{at}: Jacobian length");
    let mut xp = x.to_vec();
    for c in 0..n {
        let h = 1e-6 * x[c].abs().max(1.0);
        xp[c] = x[c] + h;
        let fp = f(&xp);
        xp[c] = x[c] - h;
        let fm = f(&xp);
        xp[c] = x[c];
        for i in 0..m {
            let fd = (fp[i] - fm[i]) / (2.0 * h);
            let jv = j[i * n + c];
            assert!(
                (jv - fd).abs() <= 1e-6 * (1.0 + jv.abs() + y[i].abs()),
                "{at}: _jacobian[{i}][{c}] = {jv:e}, central differences give {fd:e}\n  J = {j:?}"
            );
        }
    }

    let big = j.iter().fold(0.0_f64, |a, b| a.max(b.abs()));
    let atol = 1e-13 * (1.0 + big + y.iter().fold(0.0_f64, |a, b| a.max(b.abs())));
    let mut e = vec![0.0; n];
    for c in 0..n {
        e[c] = 1.0;
        let (y1, t) = fwd(x, &e);
        same_vec(&at, "_fwd", &y1, &y);
        assert_eq!(t.len(), m, "{at}: tangent length");
        for i in 0..m {
            let jv = j[i * n + c];
            assert!(
                (t[i] - jv).abs() <= 1e-9 * jv.abs() + atol,
                "{at}: _fwd along e{c}: output {i} = {:e}, _jacobian[{i}][{c}] = {jv:e}",
                t[i]
            );
        }
        e[c] = 0.0;
    }

    let mut rng = Rng::new(name.bytes().fold(n as u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64)));
    let v: Vec<f64> = (0..n).map(|_| rng.uniform(-1.0, 1.0)).collect();
    let (y2, t) = fwd(x, &v);
    same_vec(&at, "_fwd", &y2, &y);
    for i in 0..m {
        let row = &j[i * n..(i + 1) * n];
        let want: f64 = row.iter().zip(&v).map(|(a, b)| a * b).sum();
        let scale: f64 = row.iter().zip(&v).map(|(a, b)| (a * b).abs()).sum();
        assert!(
            (t[i] - want).abs() <= 1e-9 * scale + atol,
            "{at}: _fwd along {v:?}: output {i} = {:e}, J v gives {want:e}",
            t[i]
        );
    }

    let ybar: Vec<f64> = (0..m).map(|_| rng.uniform(-2.0, 2.0)).collect();
    let prefill: Vec<f64> = (0..n).map(|_| rng.uniform(-3.0, 3.0)).collect();
    let mut shadow = prefill.clone();
    let (y3, rest) = adj(x, &mut shadow, &ybar);
    same_vec(&at, "_adjoint", &y3, &y);
    assert!(rest.iter().all(|r| *r == 0.0), "{at}: _adjoint leaves the out-parameter's shadow {rest:?}, not zero");
    for c in 0..n {
        let jt: f64 = (0..m).map(|i| j[i * n + c] * ybar[i]).sum();
        let scale: f64 = (0..m).map(|i| (j[i * n + c] * ybar[i]).abs()).sum::<f64>() + prefill[c].abs();
        let want = prefill[c] + jt;
        assert!(
            (shadow[c] - want).abs() <= 1e-9 * scale + atol,
            "{at}: _adjoint into a pre-filled shadow: d[{c}] = {:e}, want {want:e} (prefill {:e}, J^T ybar {jt:e}, ybar {ybar:?})",
            shadow[c],
            prefill[c]
        );
    }
}
"#;
