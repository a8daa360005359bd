//! Writes random programs in the `#[differentiate]` subset, and their
//! differential tests, into `tests/gen_*.rs` (see README.md).
//!
//! Every program is kept as a small AST that is both printed as Rust and
//! evaluated here by an interpreter with the same `f64` operations. The
//! interpreter records every discrete decision the program takes at a point
//! (branch conditions, `while` trips, the side of each kink of `abs`, `max`,
//! `min`, `hypot`, `signum`, `floor`, ...) and its margin, so test points are
//! chosen by construction away from branch switches and kinks: a point is kept
//! only when the decisions are the same at every finite-difference neighbour
//! (steps h, 2h and 10h along each coordinate) and when central differences
//! with steps h and 2h agree (the function is smooth and well conditioned
//! there). The generated tests then compare the derivatives against
//! finite differences at a fixed tolerance.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;

// ---------------------------------------------------------------------------
// Deterministic randomness
// ---------------------------------------------------------------------------

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    /// A short literal in `[lo, hi]` with two decimals.
    fn lit(&mut self, lo: f64, hi: f64) -> f64 {
        (self.uniform(lo, hi) * 100.0).round() / 100.0
    }
    fn op(&mut self, v: &[&'static str]) -> &'static str {
        v[self.below(v.len())]
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

// ---------------------------------------------------------------------------
// The AST
// ---------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Ix {
    Const(usize),
    Var(String),
    /// `arr.len() - 1 - i`
    Rev(String, String),
}

#[derive(Clone, Debug)]
enum Arg {
    F(E),
    /// A slice parameter (`w`) or a local buffer (`&buf`).
    Slice(String, bool),
}

#[derive(Clone, Debug)]
enum E {
    Lit(f64),
    Var(String),
    /// A `&f64` loop element, printed `*e`.
    Elem(String),
    Idx(String, Ix),
    /// `(i as f64)`
    IntF(String),
    Neg(Box<E>),
    Bin(&'static str, Box<E>, Box<E>),
    /// A one-argument float method; `path` prints `f64::name(a)`.
    M1(&'static str, Box<E>, bool),
    M2(&'static str, Box<E>, Box<E>, bool),
    Powi(Box<E>, i32, bool),
    MulAdd(Box<E>, Box<E>, Box<E>, bool),
    Call(usize, Vec<Arg>),
    If(Box<Cond>, Box<E>, Box<E>),
}

#[derive(Clone, Debug)]
struct Cond {
    a: E,
    lt: bool,
    b: E,
}

#[derive(Clone, Debug)]
enum RangeHi {
    Len(String),
    Lit(usize),
}

#[derive(Clone, Debug)]
enum For {
    Range {
        i: String,
        lo: usize,
        hi: RangeHi,
        incl: bool,
        rev: bool,
    },
    /// `arr.iter()`, or with `by_ref` `&buf` / `w` (a slice parameter is a reference already).
    Iter {
        e: String,
        arr: String,
        by_ref: bool,
        buf: bool,
    },
    Enum {
        i: String,
        e: String,
        arr: String,
    },
    Zip {
        a: String,
        arr1: String,
        b: String,
        arr2: String,
    },
}

#[derive(Clone, Debug)]
enum S {
    Let(String, bool, E),
    Set(String, &'static str, E),
    /// `let mut b = vec![init; len]` (or `[0.0; L]` when `array`).
    Buf {
        name: String,
        init: E,
        len: RangeHi,
        array: bool,
    },
    SetIdx(String, Ix, &'static str, E),
    If(Cond, Vec<S>, Vec<S>),
    For(For, Vec<S>),
    /// `let mut k = 0; while k < max && cond { body; k += 1; }`
    While {
        k: String,
        max: i64,
        cond: Option<Cond>,
        body: Vec<S>,
    },
    Return(E),
    Break,
    Continue,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum PKind {
    Scalar,
    Slice,
    /// A float left out of `wrt(..)`.
    Passive,
}

#[derive(Clone, Debug)]
struct Func {
    name: String,
    params: Vec<(String, PKind)>,
    body: Vec<S>,
    ret: E,
    callable: bool,
}

// ---------------------------------------------------------------------------
// Printing
// ---------------------------------------------------------------------------

fn lit(v: f64) -> String {
    let s = format!("{v:?}");
    if v < 0.0 {
        format!("({s})")
    } else {
        s
    }
}

fn ix(i: &Ix) -> String {
    match i {
        Ix::Const(c) => c.to_string(),
        Ix::Var(v) => v.clone(),
        Ix::Rev(a, v) => format!("{a}.len() - 1 - {v}"),
    }
}

fn atomic(e: &E) -> bool {
    // everything but literals prints as a primary expression (binary operations
    // and `if` print in parentheses)
    !matches!(e, E::Lit(_))
}

/// Does `e` read no variable? Then a method on it would not know its float
/// type (`(0.5 * 2.0).sin()` is ambiguous): such calls print in path form.
fn is_const(e: &E) -> bool {
    match e {
        E::Lit(_) => true,
        E::Var(_) | E::Elem(_) | E::Idx(..) | E::IntF(_) | E::Call(..) => false,
        E::Neg(a) | E::M1(_, a, _) | E::Powi(a, _, _) => is_const(a),
        E::Bin(_, a, c) | E::M2(_, a, c, _) => is_const(a) && is_const(c),
        E::MulAdd(a, c, d, _) => is_const(a) && is_const(c) && is_const(d),
        E::If(_, a, c) => is_const(a) && is_const(c),
    }
}

fn recv(e: &E) -> String {
    if atomic(e) {
        pe(e)
    } else {
        format!("({})", pe(e))
    }
}

fn pe(e: &E) -> String {
    match e {
        E::Lit(v) => lit(*v),
        E::Var(v) => v.clone(),
        E::Elem(v) => format!("(*{v})"),
        E::Idx(a, i) => format!("{a}[{}]", ix(i)),
        E::IntF(i) => format!("({i} as f64)"),
        E::Neg(a) => format!("(-{})", recv(a)),
        E::Bin(op, a, b) => format!("({} {op} {})", pe(a), pe(b)),
        E::M1(m, a, path) => {
            if *path || is_const(a) {
                format!("f64::{m}({})", pe(a))
            } else {
                format!("{}.{m}()", recv(a))
            }
        }
        E::M2(m, a, b, path) => {
            if *path || is_const(a) {
                format!("f64::{m}({}, {})", pe(a), pe(b))
            } else {
                format!("{}.{m}({})", recv(a), pe(b))
            }
        }
        E::Powi(a, k, path) => {
            if *path || is_const(a) {
                format!("f64::powi({}, {k})", pe(a))
            } else {
                format!("{}.powi({k})", recv(a))
            }
        }
        E::MulAdd(a, b, c, path) => {
            if *path || is_const(a) {
                format!("f64::mul_add({}, {}, {})", pe(a), pe(b), pe(c))
            } else {
                format!("{}.mul_add({}, {})", recv(a), pe(b), pe(c))
            }
        }
        E::Call(f, args) => {
            let a: Vec<String> = args
                .iter()
                .map(|a| match a {
                    Arg::F(e) => pe(e),
                    Arg::Slice(n, true) => format!("&{n}"),
                    Arg::Slice(n, false) => n.clone(),
                })
                .collect();
            format!("{}({})", fname(*f), a.join(", "))
        }
        E::If(c, a, b) => format!("(if {} {{ {} }} else {{ {} }})", pc(c), pe(a), pe(b)),
    }
}

fn pc(c: &Cond) -> String {
    format!("{} {} {}", pe(&c.a), if c.lt { "<" } else { ">" }, pe(&c.b))
}

fn fname(i: usize) -> String {
    format!("f{i:04}")
}

fn hi(h: &RangeHi) -> String {
    match h {
        RangeHi::Len(a) => format!("{a}.len()"),
        RangeHi::Lit(n) => n.to_string(),
    }
}

fn ps(s: &S, out: &mut String, ind: usize) {
    let pad = "    ".repeat(ind);
    match s {
        S::Let(n, m, e) => {
            // a literal-only value needs its type: `s.sin()` on `{float}` is ambiguous
            let _ = writeln!(
                out,
                "{pad}let {}{n}{} = {};",
                if *m { "mut " } else { "" },
                if is_const(e) { ": f64" } else { "" },
                pe(e)
            );
        }
        S::Set(n, op, e) => {
            let _ = writeln!(out, "{pad}{n} {op} {};", pe(e));
        }
        S::Buf {
            name,
            init,
            len,
            array,
        } => {
            if *array {
                let _ = writeln!(
                    out,
                    "{pad}let mut {name}: [f64; {0}] = [0.0; {0}];",
                    hi(len)
                );
            } else {
                // `let b: Vec<f64> = vec![0.0; n]` loses its type in the generated code
                // (a macro bug), so the literal carries it
                let init = match init {
                    E::Lit(v) => format!("{v:?}_f64"),
                    e => pe(e),
                };
                let _ = writeln!(out, "{pad}let mut {name} = vec![{init}; {}];", hi(len));
            }
        }
        S::SetIdx(b, i, op, e) => {
            let _ = writeln!(out, "{pad}{b}[{}] {op} {};", ix(i), pe(e));
        }
        S::If(c, t, e) => {
            let _ = writeln!(out, "{pad}if {} {{", pc(c));
            for s in t {
                ps(s, out, ind + 1);
            }
            if e.is_empty() {
                let _ = writeln!(out, "{pad}}}");
            } else {
                let _ = writeln!(out, "{pad}}} else {{");
                for s in e {
                    ps(s, out, ind + 1);
                }
                let _ = writeln!(out, "{pad}}}");
            }
        }
        S::For(f, body) => {
            let head = match f {
                For::Range {
                    i,
                    lo,
                    hi: h,
                    incl,
                    rev,
                } => {
                    let r = format!("{lo}..{}{}", if *incl { "=" } else { "" }, hi(h));
                    if *rev {
                        format!("for {i} in ({r}).rev()")
                    } else {
                        format!("for {i} in {r}")
                    }
                }
                For::Iter {
                    e,
                    arr,
                    by_ref,
                    buf,
                } => {
                    if *by_ref {
                        format!("for {e} in {}{arr}", if *buf { "&" } else { "" })
                    } else {
                        format!("for {e} in {arr}.iter()")
                    }
                }
                For::Enum { i, e, arr } => format!("for ({i}, {e}) in {arr}.iter().enumerate()"),
                For::Zip { a, arr1, b, arr2 } => {
                    format!("for ({a}, {b}) in {arr1}.iter().zip({arr2}.iter())")
                }
            };
            let _ = writeln!(out, "{pad}{head} {{");
            for s in body {
                ps(s, out, ind + 1);
            }
            let _ = writeln!(out, "{pad}}}");
        }
        S::While { k, max, cond, body } => {
            let _ = writeln!(out, "{pad}let mut {k} = 0;");
            match cond {
                Some(c) => {
                    let _ = writeln!(out, "{pad}while {k} < {max} && {} {{", pc(c));
                }
                None => {
                    let _ = writeln!(out, "{pad}while {k} < {max} {{");
                }
            }
            for s in body {
                ps(s, out, ind + 1);
            }
            let _ = writeln!(out, "{pad}    {k} += 1;");
            let _ = writeln!(out, "{pad}}}");
        }
        S::Return(e) => {
            let _ = writeln!(out, "{pad}return {};", pe(e));
        }
        S::Break => {
            let _ = writeln!(out, "{pad}break;");
        }
        S::Continue => {
            let _ = writeln!(out, "{pad}continue;");
        }
    }
}

fn print_func(f: &Func) -> String {
    let mut out = String::new();
    let active: Vec<&str> = f
        .params
        .iter()
        .filter(|p| p.1 != PKind::Passive)
        .map(|p| p.0.as_str())
        .collect();
    if f.params.iter().any(|p| p.1 == PKind::Passive) {
        let _ = writeln!(out, "#[differentiate(wrt({}))]", active.join(", "));
    } else {
        out.push_str("#[differentiate]\n");
    }
    let ps_: Vec<String> = f
        .params
        .iter()
        .map(|(n, k)| match k {
            PKind::Slice => format!("{n}: &[f64]"),
            _ => format!("{n}: f64"),
        })
        .collect();
    let _ = writeln!(out, "fn {}({}) -> f64 {{", f.name, ps_.join(", "));
    for s in &f.body {
        ps(s, &mut out, 1);
    }
    let _ = writeln!(out, "    {}", pe(&f.ret));
    out.push_str("}\n");
    out
}

// ---------------------------------------------------------------------------
// The interpreter
// ---------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Val {
    F(f64),
    A(Vec<f64>),
    I(i64),
}

#[derive(Default)]
struct Trace {
    decisions: Vec<i64>,
    /// Smallest margin of any decision, relative to the size of the compared values.
    margin: f64,
    steps: usize,
    /// Largest magnitude of any float value computed.
    big: f64,
}

impl Trace {
    fn new() -> Self {
        Trace {
            margin: f64::INFINITY,
            ..Default::default()
        }
    }
    fn cmp(&mut self, a: f64, b: f64) -> bool {
        let r = a < b;
        self.decisions.push(r as i64);
        let m = (a - b).abs() / (1.0 + a.abs() + b.abs());
        self.margin = self.margin.min(m);
        r
    }
    fn kink(&mut self, side: i64, margin: f64) {
        self.decisions.push(side);
        self.margin = self.margin.min(margin);
    }
    fn val(&mut self, v: f64) -> f64 {
        let a = v.abs();
        if a > self.big || a.is_nan() {
            self.big = if a.is_nan() { f64::INFINITY } else { a };
        }
        v
    }
}

enum Flow {
    Normal,
    Break,
    Continue,
    Return(f64),
}

struct Interp<'a> {
    funcs: &'a [Func],
    /// Index of the first function of the file in `funcs` numbering.
    base: usize,
}

type Env = HashMap<String, Val>;

fn fdist_int(v: f64) -> (i64, f64) {
    (v.floor() as i64, (v - v.round()).abs())
}

impl Interp<'_> {
    fn get_f(&self, env: &Env, n: &str) -> f64 {
        match env.get(n) {
            Some(Val::F(v)) => *v,
            other => panic!("{n}: {other:?}"),
        }
    }
    fn get_i(&self, env: &Env, n: &str) -> i64 {
        match env.get(n) {
            Some(Val::I(v)) => *v,
            other => panic!("{n}: {other:?}"),
        }
    }
    fn arr<'e>(&self, env: &'e Env, n: &str) -> &'e Vec<f64> {
        match env.get(n) {
            Some(Val::A(v)) => v,
            other => panic!("{n}: {other:?}"),
        }
    }
    fn ix(&self, env: &Env, i: &Ix) -> usize {
        match i {
            Ix::Const(c) => *c,
            Ix::Var(v) => self.get_i(env, v) as usize,
            Ix::Rev(a, v) => self.arr(env, a).len() - 1 - self.get_i(env, v) as usize,
        }
    }

    fn eval(&self, e: &E, env: &Env, t: &mut Trace) -> f64 {
        let v = match e {
            E::Lit(v) => *v,
            E::Var(n) | E::Elem(n) => self.get_f(env, n),
            E::Idx(a, i) => self.arr(env, a)[self.ix(env, i)],
            E::IntF(i) => self.get_i(env, i) as f64,
            E::Neg(a) => -self.eval(a, env, t),
            E::Bin(op, a, b) => {
                let x = self.eval(a, env, t);
                let y = self.eval(b, env, t);
                match *op {
                    "+" => x + y,
                    "-" => x - y,
                    "*" => x * y,
                    "/" => x / y,
                    "%" => {
                        let q = x / y;
                        let (s, m) = fdist_int(q);
                        t.kink(s, m / (1.0 + q.abs()));
                        x % y
                    }
                    _ => unreachable!(),
                }
            }
            E::M1(m, a, _) => {
                let x = self.eval(a, env, t);
                match *m {
                    "exp" => x.exp(),
                    "ln" => x.ln(),
                    "sqrt" => x.sqrt(),
                    "cbrt" => {
                        t.kink((x < 0.0) as i64, x.abs() / (1.0 + x.abs()));
                        x.cbrt()
                    }
                    "sin" => x.sin(),
                    "cos" => x.cos(),
                    "tan" => x.tan(),
                    "tanh" => x.tanh(),
                    "sinh" => x.sinh(),
                    "cosh" => x.cosh(),
                    "asin" => x.asin(),
                    "acos" => x.acos(),
                    "atan" => x.atan(),
                    "asinh" => x.asinh(),
                    "acosh" => x.acosh(),
                    "atanh" => x.atanh(),
                    "abs" => {
                        t.kink((x < 0.0) as i64, x.abs() / (1.0 + x.abs()));
                        x.abs()
                    }
                    "recip" => x.recip(),
                    "exp2" => x.exp2(),
                    "log2" => x.log2(),
                    "log10" => x.log10(),
                    "ln_1p" => x.ln_1p(),
                    "exp_m1" => x.exp_m1(),
                    "signum" => {
                        t.kink((x < 0.0) as i64, x.abs() / (1.0 + x.abs()));
                        x.signum()
                    }
                    "floor" | "ceil" | "trunc" => {
                        let (side, dist) = fdist_int(x);
                        t.kink(side, dist / (1.0 + x.abs()));
                        match *m {
                            "floor" => x.floor(),
                            "ceil" => x.ceil(),
                            _ => x.trunc(),
                        }
                    }
                    "round" => {
                        let (side, dist) = fdist_int(x - 0.5);
                        t.kink(side, dist / (1.0 + x.abs()));
                        x.round()
                    }
                    other => unreachable!("{other}"),
                }
            }
            E::M2(m, a, b, _) => {
                let x = self.eval(a, env, t);
                let y = self.eval(b, env, t);
                match *m {
                    "powf" => x.powf(y),
                    "log" => x.log(y),
                    "atan2" => {
                        // the branch cut on the negative x axis, the singular origin
                        if y < 0.0 {
                            t.kink((x < 0.0) as i64, x.abs() / (1.0 + y.abs()));
                        }
                        t.kink(2, x.hypot(y) / 4.0);
                        x.atan2(y)
                    }
                    "max" => {
                        t.cmp(x, y);
                        x.max(y)
                    }
                    "min" => {
                        t.cmp(x, y);
                        x.min(y)
                    }
                    "hypot" => {
                        t.kink(3, x.hypot(y) / 4.0);
                        x.hypot(y)
                    }
                    other => unreachable!("{other}"),
                }
            }
            E::Powi(a, k, _) => {
                let x = self.eval(a, env, t);
                if *k <= 0 {
                    t.kink(4, x.abs() / (1.0 + x.abs()));
                }
                x.powi(*k)
            }
            E::MulAdd(a, b, c, _) => {
                let x = self.eval(a, env, t);
                let y = self.eval(b, env, t);
                let z = self.eval(c, env, t);
                x.mul_add(y, z)
            }
            E::Call(f, args) => {
                let func = &self.funcs[*f - self.base];
                let mut inner = Env::new();
                for ((name, _), a) in func.params.iter().zip(args) {
                    let v = match a {
                        Arg::F(e) => Val::F(self.eval(e, env, t)),
                        Arg::Slice(n, _) => Val::A(self.arr(env, n).clone()),
                    };
                    inner.insert(name.clone(), v);
                }
                self.run(func, inner, t)
            }
            E::If(c, a, b) => {
                if self.cond(c, env, t) {
                    self.eval(a, env, t)
                } else {
                    self.eval(b, env, t)
                }
            }
        };
        t.val(v)
    }

    fn cond(&self, c: &Cond, env: &Env, t: &mut Trace) -> bool {
        let a = self.eval(&c.a, env, t);
        let b = self.eval(&c.b, env, t);
        let lt = t.cmp(a, b);
        if c.lt {
            lt
        } else {
            // `a > b`: the margin check makes `a == b` impossible at kept points
            !lt && a != b
        }
    }

    fn hi(&self, h: &RangeHi, env: &Env) -> usize {
        match h {
            RangeHi::Len(a) => self.arr(env, a).len(),
            RangeHi::Lit(n) => *n,
        }
    }

    fn block(&self, body: &[S], env: &mut Env, t: &mut Trace) -> Flow {
        for s in body {
            match self.stmt(s, env, t) {
                Flow::Normal => {}
                other => return other,
            }
        }
        Flow::Normal
    }

    fn apply(op: &str, old: f64, v: f64) -> f64 {
        match op {
            "=" => v,
            "+=" => old + v,
            "-=" => old - v,
            "*=" => old * v,
            "/=" => old / v,
            _ => unreachable!(),
        }
    }

    /// Runs a loop body with the loop's own bindings; restores the outer scope after.
    fn loop_body(&self, body: &[S], env: &mut Env, t: &mut Trace) -> Flow {
        t.steps += 1;
        let keys: Vec<String> = env.keys().cloned().collect();
        let f = self.block(body, env, t);
        env.retain(|k, _| keys.contains(k));
        f
    }

    fn stmt(&self, s: &S, env: &mut Env, t: &mut Trace) -> Flow {
        match s {
            S::Let(n, _, e) => {
                let v = self.eval(e, env, t);
                env.insert(n.clone(), Val::F(v));
            }
            S::Set(n, op, e) => {
                let v = self.eval(e, env, t);
                let old = self.get_f(env, n);
                env.insert(n.clone(), Val::F(t.val(Self::apply(op, old, v))));
            }
            S::Buf {
                name, init, len, ..
            } => {
                let v = self.eval(init, env, t);
                let n = self.hi(len, env);
                env.insert(name.clone(), Val::A(vec![v; n]));
            }
            S::SetIdx(b, i, op, e) => {
                let v = self.eval(e, env, t);
                let k = self.ix(env, i);
                let old = self.arr(env, b)[k];
                let new = t.val(Self::apply(op, old, v));
                match env.get_mut(b) {
                    Some(Val::A(a)) => a[k] = new,
                    _ => unreachable!(),
                }
            }
            S::If(c, a, b) => {
                let keys: Vec<String> = env.keys().cloned().collect();
                let f = if self.cond(c, env, t) {
                    self.block(a, env, t)
                } else {
                    self.block(b, env, t)
                };
                env.retain(|k, _| keys.contains(k));
                return f;
            }
            S::For(f, body) => {
                // (index binding, element binding) per iteration
                let mut iters: Vec<Vec<(String, Val)>> = Vec::new();
                match f {
                    For::Range {
                        i,
                        lo,
                        hi: h,
                        incl,
                        rev,
                    } => {
                        let h = self.hi(h, env) + *incl as usize;
                        let mut r: Vec<usize> = (*lo..h).collect();
                        if *rev {
                            r.reverse();
                        }
                        for k in r {
                            iters.push(vec![(i.clone(), Val::I(k as i64))]);
                        }
                    }
                    For::Iter { e, arr, .. } => {
                        for v in self.arr(env, arr) {
                            iters.push(vec![(e.clone(), Val::F(*v))]);
                        }
                    }
                    For::Enum { i, e, arr } => {
                        for (k, v) in self.arr(env, arr).iter().enumerate() {
                            iters
                                .push(vec![(i.clone(), Val::I(k as i64)), (e.clone(), Val::F(*v))]);
                        }
                    }
                    For::Zip { a, arr1, b, arr2 } => {
                        for (x, y) in self.arr(env, arr1).iter().zip(self.arr(env, arr2)) {
                            iters.push(vec![(a.clone(), Val::F(*x)), (b.clone(), Val::F(*y))]);
                        }
                    }
                }
                for binds in iters {
                    for (k, v) in binds {
                        env.insert(k, v);
                    }
                    match self.loop_body(body, env, t) {
                        Flow::Normal | Flow::Continue => {}
                        Flow::Break => break,
                        Flow::Return(v) => return Flow::Return(v),
                    }
                }
            }
            S::While { k, max, cond, body } => {
                env.insert(k.clone(), Val::I(0));
                loop {
                    if self.get_i(env, k) >= *max {
                        break;
                    }
                    if let Some(c) = cond {
                        if !self.cond(c, env, t) {
                            break;
                        }
                    }
                    match self.loop_body(body, env, t) {
                        Flow::Normal | Flow::Continue => {}
                        Flow::Break => break,
                        Flow::Return(v) => return Flow::Return(v),
                    }
                    let c = self.get_i(env, k);
                    env.insert(k.clone(), Val::I(c + 1));
                }
            }
            S::Return(e) => return Flow::Return(self.eval(e, env, t)),
            S::Break => return Flow::Break,
            S::Continue => return Flow::Continue,
        }
        Flow::Normal
    }

    fn run(&self, f: &Func, mut env: Env, t: &mut Trace) -> f64 {
        match self.block(&f.body, &mut env, t) {
            Flow::Return(v) => v,
            _ => self.eval(&f.ret, &env, t),
        }
    }

    /// `f` at the flat point `x` (scalars, then slice elements, in parameter order).
    fn call_flat(&self, f: &Func, x: &[f64], passive: f64, len: usize, t: &mut Trace) -> f64 {
        let mut env = Env::new();
        let mut k = 0;
        for (n, kind) in &f.params {
            match kind {
                PKind::Scalar => {
                    env.insert(n.clone(), Val::F(x[k]));
                    k += 1;
                }
                PKind::Slice => {
                    env.insert(n.clone(), Val::A(x[k..k + len].to_vec()));
                    k += len;
                }
                PKind::Passive => {
                    env.insert(n.clone(), Val::F(passive));
                }
            }
        }
        self.run(f, env, t)
    }
}

// ---------------------------------------------------------------------------
// The program generator
// ---------------------------------------------------------------------------

#[derive(Clone)]
enum Sym {
    /// A float variable; `mutable` ones may be assigned.
    F {
        mutable: bool,
    },
    Elem,
    Int,
    /// A slice parameter or a local buffer.
    Arr {
        buf: bool,
    },
}

struct FnGen<'a> {
    rng: &'a mut Rng,
    scopes: Vec<Vec<(String, Sym)>>,
    names: usize,
    /// Callable earlier functions: (global index, parameter kinds).
    callees: &'a [(usize, Vec<PKind>)],
    len: usize,
    loop_depth: usize,
    stats: &'a mut HashMap<&'static str, usize>,
    /// Patterns that hit known macro bugs, generated only when `--allow`ed.
    allow: &'a [String],
    in_cond: usize,
    /// Buffers a `for` loop iterates over: not written inside it.
    iterating: Vec<String>,
}

const UNARY: &[&str] = &[
    "exp", "ln", "sqrt", "cbrt", "sin", "cos", "tan", "tanh", "sinh", "cosh", "asin", "acos",
    "atan", "asinh", "acosh", "atanh", "abs", "recip", "exp2", "log2", "log10", "ln_1p", "exp_m1",
    "signum", "floor", "ceil", "round", "trunc",
];
const BINARY: &[&str] = &["powf", "log", "atan2", "max", "min", "hypot"];

fn b(e: E) -> Box<E> {
    Box::new(e)
}
fn bin(op: &'static str, x: E, y: E) -> E {
    E::Bin(op, b(x), b(y))
}
fn m1(m: &'static str, x: E) -> E {
    E::M1(m, b(x), false)
}
fn sq(x: E) -> E {
    if matches!(x, E::Var(_) | E::Elem(_) | E::Idx(..)) {
        bin("*", x.clone(), x)
    } else {
        E::Powi(b(x), 2, false)
    }
}

impl FnGen<'_> {
    fn fresh(&mut self, p: &str) -> String {
        self.names += 1;
        format!("{p}{}", self.names)
    }
    fn declare(&mut self, n: &str, s: Sym) {
        self.scopes.last_mut().unwrap().push((n.to_string(), s));
    }
    fn visible(&self, f: impl Fn(&Sym) -> bool) -> Vec<String> {
        self.scopes
            .iter()
            .flatten()
            .filter(|(_, s)| f(s))
            .map(|(n, _)| n.clone())
            .collect()
    }
    fn floats(&self) -> Vec<String> {
        self.visible(|s| matches!(s, Sym::F { .. }))
    }
    fn muts(&self) -> Vec<String> {
        self.visible(|s| matches!(s, Sym::F { mutable: true }))
    }
    fn arrays(&self) -> Vec<String> {
        self.visible(|s| matches!(s, Sym::Arr { .. }))
    }
    fn bufs(&self) -> Vec<String> {
        self.visible(|s| matches!(s, Sym::Arr { buf: true }))
    }
    fn writable_bufs(&self) -> Vec<String> {
        let mut b = self.bufs();
        b.retain(|x| !self.iterating.contains(x));
        b
    }
    fn ints(&self) -> Vec<String> {
        self.visible(|s| matches!(s, Sym::Int))
    }
    fn elems(&self) -> Vec<String> {
        self.visible(|s| matches!(s, Sym::Elem))
    }
    fn allowed(&self, what: &str) -> bool {
        self.allow.iter().any(|a| a == what)
    }
    /// An initial value for a `let`: `let s: f64 = 0.5;` loses its type in the
    /// generated code (a macro bug), so literal-only values are avoided.
    fn init(&mut self, d: u32) -> E {
        let mut e = self.expr(d);
        for _ in 0..20 {
            if !is_const(&e) || self.allowed("const_let") {
                break;
            }
            e = self.expr(d);
        }
        e
    }
    fn count(&mut self, what: &'static str) {
        *self.stats.entry(what).or_default() += 1;
    }

    fn index(&mut self) -> Ix {
        let ints = self.ints();
        if !ints.is_empty() && self.rng.chance(0.75) {
            let i = self.rng.pick(&ints).clone();
            if self.rng.chance(0.2) {
                let arrs = self.arrays();
                let a = self.rng.pick(&arrs).clone();
                return Ix::Rev(a, i);
            }
            return Ix::Var(i);
        }
        Ix::Const(self.rng.below(3))
    }

    fn leaf(&mut self) -> E {
        let floats = self.floats();
        let elems = self.elems();
        let arrays = self.arrays();
        let ints = self.ints();
        loop {
            match self.rng.below(10) {
                0..=4 if !floats.is_empty() => return E::Var(self.rng.pick(&floats).clone()),
                5 | 6 if !elems.is_empty() && (self.in_cond == 0 || self.allowed("deref_cond")) => {
                    return E::Elem(self.rng.pick(&elems).clone())
                }
                5..=7 if !arrays.is_empty() => {
                    let a = self.rng.pick(&arrays).clone();
                    let i = self.index();
                    return E::Idx(a, i);
                }
                8 if !ints.is_empty() => {
                    let i = self.rng.pick(&ints).clone();
                    return bin("*", E::Lit(self.rng.lit(0.1, 0.6)), E::IntF(i));
                }
                9 => return E::Lit(self.rng.lit(-2.0, 2.0)),
                _ => {}
            }
        }
    }

    /// An expression whose value stays in a modest range.
    fn bounded(&mut self, d: u32) -> E {
        let a = self.expr(d);
        match self.rng.below(5) {
            0 => m1("sin", a),
            1 => m1("cos", a),
            2 => m1("tanh", a),
            3 => m1("atan", a),
            _ => bin("*", E::Lit(0.5), m1("tanh", a)),
        }
    }

    fn pos(&mut self, d: u32) -> E {
        // a value >= 1 (or at least well above 0)
        let a = self.expr(d);
        match self.rng.below(3) {
            0 => bin("+", E::Lit(1.0), sq(a)),
            1 => bin("+", E::Lit(self.rng.lit(1.6, 2.5)), m1("sin", a)),
            _ => bin("+", E::Lit(self.rng.lit(1.6, 2.5)), m1("cos", a)),
        }
    }

    fn unary(&mut self, m: &'static str, d: u32) -> E {
        self.count(m);
        let path = self.rng.chance(0.15);
        let arg = match m {
            "exp" | "exp2" | "exp_m1" | "sinh" | "cosh" => {
                if self.rng.chance(0.3) {
                    self.leaf()
                } else {
                    self.bounded(d)
                }
            }
            "ln" | "sqrt" | "log2" | "log10" | "acosh" => {
                let p = self.pos(d);
                if m == "acosh" {
                    bin("+", E::Lit(0.5), p)
                } else {
                    p
                }
            }
            "cbrt" => {
                if self.rng.chance(0.5) {
                    self.pos(d)
                } else {
                    self.expr(d)
                }
            }
            "tan" => bin(
                "*",
                E::Lit(self.rng.lit(0.3, 1.2)),
                m1("tanh", self.expr(d)),
            ),
            "asin" | "acos" | "atanh" => bin(
                "*",
                E::Lit(self.rng.lit(0.3, 0.9)),
                m1(
                    if self.rng.chance(0.5) { "tanh" } else { "sin" },
                    self.expr(d),
                ),
            ),
            "ln_1p" => {
                if self.rng.chance(0.5) {
                    sq(self.expr(d))
                } else {
                    bin("*", E::Lit(0.5), m1("tanh", self.expr(d)))
                }
            }
            "recip" => self.pos(d),
            "floor" | "ceil" | "round" | "trunc" | "signum" => {
                // a step function: only its (zero) derivative enters, times something smooth
                let s = E::M1(
                    m,
                    b(bin("*", E::Lit(self.rng.lit(0.5, 3.0)), self.expr(d))),
                    path,
                );
                return bin(
                    "*",
                    bin("+", E::Lit(1.0), bin("*", E::Lit(0.25), s)),
                    self.expr(d),
                );
            }
            _ => self.expr(d),
        };
        E::M1(m, b(arg), path)
    }

    fn binary(&mut self, m: &'static str, d: u32) -> E {
        self.count(m);
        let path = self.rng.chance(0.15);
        let (x, y) = match m {
            "powf" => {
                let base = if self.rng.chance(0.5) {
                    self.pos(d)
                } else {
                    m1("exp", self.bounded(d))
                };
                (base, self.bounded(d))
            }
            "log" => (self.pos(d), bin("+", E::Lit(2.5), m1("cos", self.expr(d)))),
            "atan2" => {
                if self.rng.chance(0.5) {
                    (self.expr(d), self.pos(d))
                } else {
                    (self.expr(d), self.expr(d))
                }
            }
            _ => (self.expr(d), self.expr(d)),
        };
        E::M2(m, b(x), b(y), path)
    }

    fn call(&mut self, d: u32) -> Option<E> {
        if self.callees.is_empty() {
            return None;
        }
        let (f, kinds) = self.rng.pick(self.callees).clone();
        let mut arrays = self.arrays();
        let alias = self.allowed("alias");
        let mut places: Vec<String> = Vec::new();
        let mut args = Vec::new();
        for k in kinds {
            match k {
                PKind::Slice => {
                    if arrays.is_empty() {
                        return None;
                    }
                    let a = arrays[self.rng.below(arrays.len())].clone();
                    if !alias {
                        // the same slice twice does not compile (a macro bug)
                        arrays.retain(|x| *x != a);
                    }
                    let buf = self.bufs().contains(&a);
                    args.push(Arg::Slice(a, buf));
                }
                _ => args.push(Arg::F(self.expr(d))),
            }
        }
        if !alias {
            // The same variable twice, two elements of one slice or buffer, or an
            // element of a slice that is passed too, does not compile (a macro bug):
            // pass such copies as `1.0 * x`. (Conservatively, at most one element.)
            let with_slices = args.iter().any(|a| matches!(a, Arg::Slice(..)));
            let mut element = false;
            for a in args.iter_mut() {
                if let Arg::F(e) = a {
                    let clash = match e {
                        E::Var(n) => places.contains(n),
                        E::Elem(_) | E::Idx(..) => element || with_slices,
                        _ => false,
                    };
                    match e {
                        E::Var(n) => places.push(n.clone()),
                        E::Elem(_) | E::Idx(..) => element = true,
                        _ => {}
                    }
                    if clash {
                        *e = bin("*", E::Lit(1.0), e.clone());
                    }
                }
            }
        }
        self.count("call");
        Some(E::Call(f, args))
    }

    fn cond(&mut self, d: u32) -> Cond {
        self.in_cond += 1;
        let c = self.cond_inner(d);
        self.in_cond -= 1;
        c
    }

    fn cond_inner(&mut self, d: u32) -> Cond {
        let a = self.expr(d);
        let b_ = if self.rng.chance(0.4) {
            E::Lit(self.rng.lit(-1.0, 1.0))
        } else {
            self.expr(d)
        };
        Cond {
            a,
            lt: self.rng.chance(0.5),
            b: b_,
        }
    }

    fn expr(&mut self, d: u32) -> E {
        if d == 0 || self.rng.chance(0.25) {
            return self.leaf();
        }
        let d1 = d - 1;
        match self.rng.below(20) {
            0..=2 => {
                let op = *self.rng.pick(&["+", "-", "*"]);
                bin(op, self.expr(d1), self.expr(d1))
            }
            3 => {
                self.count("div");
                let den = self.pos(d1);
                bin("/", self.expr(d1), den)
            }
            4 => {
                self.count("neg");
                E::Neg(b(self.expr(d1)))
            }
            5..=11 => {
                let m = *self.rng.pick(UNARY);
                self.unary(m, d1)
            }
            12..=14 => {
                let m = *self.rng.pick(BINARY);
                self.binary(m, d1)
            }
            15 => {
                self.count("powi");
                let k = *self.rng.pick(&[0, 1, 2, 3, 4, -1, -2]);
                let base = if k < 0 { self.pos(d1) } else { self.expr(d1) };
                E::Powi(b(base), k, self.rng.chance(0.15))
            }
            16 => {
                self.count("mul_add");
                E::MulAdd(
                    b(self.expr(d1)),
                    b(self.expr(d1)),
                    b(self.expr(d1)),
                    self.rng.chance(0.15),
                )
            }
            17 => {
                self.count("rem");
                bin(
                    "%",
                    bin("*", E::Lit(self.rng.lit(0.5, 2.0)), self.expr(d1)),
                    self.pos(d1),
                )
            }
            18 => {
                self.count("if_expr");
                let c = self.cond(d1.min(1));
                E::If(b_cond(c), b(self.expr(d1)), b(self.expr(d1)))
            }
            _ => match self.call(d1.min(1)) {
                Some(e) => e,
                None => self.expr(d1),
            },
        }
    }

    /// An update of a loop-carried or branch-assigned float.
    fn update(&mut self, target: &str, d: u32) -> S {
        let t = E::Var(target.to_string());
        match self.rng.below(7) {
            0 | 1 => S::Set(target.to_string(), "+=", self.expr(d)),
            2 => S::Set(target.to_string(), "-=", self.bounded(d)),
            3 => {
                self.count("mul_assign");
                let f = bin("+", E::Lit(1.0), bin("*", E::Lit(0.3), self.bounded(d)));
                S::Set(target.to_string(), "*=", f)
            }
            4 => {
                self.count("gradient_step");
                // x = x - eta * g
                let g = bin(
                    "+",
                    bin("*", E::Lit(2.0), bin("-", t.clone(), self.leaf())),
                    self.bounded(d),
                );
                S::Set(
                    target.to_string(),
                    "=",
                    bin("-", t, bin("*", E::Lit(self.rng.lit(0.05, 0.3)), g)),
                )
            }
            5 => {
                self.count("div_assign");
                S::Set(target.to_string(), "/=", self.pos(d))
            }
            _ => S::Set(
                target.to_string(),
                "=",
                bin("+", bin("*", E::Lit(0.5), t), self.expr(d)),
            ),
        }
    }

    /// Statements inside a loop or branch body.
    fn inner_stmts(&mut self, n: usize, d: u32, out: &mut Vec<S>) {
        for _ in 0..n {
            let muts = self.muts();
            let bufs = self.writable_bufs();
            match self.rng.below(10) {
                0 | 1 => {
                    let name = self.fresh("u");
                    let e = self.init(d);
                    out.push(S::Let(name.clone(), false, e));
                    self.declare(&name, Sym::F { mutable: false });
                }
                2 | 3 if !bufs.is_empty() => {
                    let bf = self.rng.pick(&bufs).clone();
                    let i = self.index();
                    let op = *self.rng.pick(&["=", "+=", "*="]);
                    let e = if op == "*=" {
                        bin("+", E::Lit(1.0), bin("*", E::Lit(0.3), self.bounded(d)))
                    } else {
                        self.expr(d)
                    };
                    self.count("buffer_write");
                    out.push(S::SetIdx(bf, i, op, e));
                }
                4 if self.loop_depth > 0 && self.rng.chance(0.3) => {
                    let c = self.cond(1);
                    let s = if self.rng.chance(0.5) {
                        S::Break
                    } else {
                        S::Continue
                    };
                    self.count("break_continue");
                    out.push(S::If(c, vec![s], vec![]));
                }
                5 if self.loop_depth < 2 && self.rng.chance(0.3) => {
                    let s = self.for_loop(d);
                    out.push(s);
                }
                _ if !muts.is_empty() => {
                    let target = self.rng.pick(&muts).clone();
                    let s = self.update(&target, d);
                    out.push(s);
                }
                _ => {}
            }
        }
    }

    /// A loop-carried update: an outer float or a buffer element.
    fn carried(&mut self, d: u32, out: &mut Vec<S>) {
        let muts = self.muts();
        let bufs = self.writable_bufs();
        if !bufs.is_empty() && (muts.is_empty() || self.rng.chance(0.25)) {
            let bf = self.rng.pick(&bufs).clone();
            let i = self.index();
            let e = self.expr(d);
            self.count("buffer_write");
            out.push(S::SetIdx(bf, i, self.rng.op(&["=", "+="]), e));
        } else if !muts.is_empty() {
            let t = self.rng.pick(&muts).clone();
            let s = self.update(&t, d);
            out.push(s);
        }
    }

    fn block_of(&mut self, n: usize, d: u32) -> Vec<S> {
        self.scopes.push(Vec::new());
        let mut out = Vec::new();
        self.carried(d, &mut out);
        self.inner_stmts(n, d, &mut out);
        self.scopes.pop();
        out
    }

    fn for_loop(&mut self, d: u32) -> S {
        let arrays = self.arrays();
        self.scopes.push(Vec::new());
        let kind = if arrays.is_empty() {
            0
        } else {
            self.rng.below(6)
        };
        let f = match kind {
            0 | 1 => {
                let i = self.fresh("i");
                self.declare(&i, Sym::Int);
                let (hi, lo, incl) = match self.rng.below(4) {
                    0 if !arrays.is_empty() => {
                        (RangeHi::Len(self.rng.pick(&arrays).clone()), 0, false)
                    }
                    1 if !arrays.is_empty() => {
                        (RangeHi::Len(self.rng.pick(&arrays).clone()), 1, false)
                    }
                    2 => (RangeHi::Lit(self.rng.below(3)), 0, true),
                    _ => (RangeHi::Lit(self.len), 0, false),
                };
                self.count("for_range");
                For::Range {
                    i,
                    lo,
                    hi,
                    incl,
                    rev: self.rng.chance(0.3),
                }
            }
            2 => {
                let e = self.fresh("e");
                self.declare(&e, Sym::Elem);
                self.count("for_iter");
                For::Iter {
                    e,
                    arr: self.rng.pick(&arrays).clone(),
                    by_ref: false,
                    buf: false,
                }
            }
            3 => {
                let e = self.fresh("e");
                self.declare(&e, Sym::Elem);
                self.count("for_ref");
                let arr = self.rng.pick(&arrays).clone();
                let buf = self.bufs().contains(&arr);
                For::Iter {
                    e,
                    arr,
                    by_ref: true,
                    buf,
                }
            }
            4 => {
                let i = self.fresh("i");
                let e = self.fresh("e");
                self.declare(&i, Sym::Int);
                self.declare(&e, Sym::Elem);
                self.count("for_enumerate");
                For::Enum {
                    i,
                    e,
                    arr: self.rng.pick(&arrays).clone(),
                }
            }
            _ => {
                let a = self.fresh("e");
                let bb = self.fresh("e");
                self.declare(&a, Sym::Elem);
                self.declare(&bb, Sym::Elem);
                self.count("for_zip");
                For::Zip {
                    a,
                    arr1: self.rng.pick(&arrays).clone(),
                    b: bb,
                    arr2: self.rng.pick(&arrays).clone(),
                }
            }
        };
        self.loop_depth += 1;
        let saved = self.iterating.len();
        match &f {
            For::Iter { arr, .. } | For::Enum { arr, .. } => self.iterating.push(arr.clone()),
            For::Zip { arr1, arr2, .. } => {
                self.iterating.push(arr1.clone());
                self.iterating.push(arr2.clone());
            }
            For::Range { .. } => {}
        }
        let mut body = Vec::new();
        self.carried(d, &mut body);
        let n = self.rng.below(3);
        self.inner_stmts(n, d, &mut body);
        self.iterating.truncate(saved);
        self.loop_depth -= 1;
        self.scopes.pop();
        S::For(f, body)
    }

    fn while_loop(&mut self, d: u32) -> Option<S> {
        let muts = self.muts();
        if muts.is_empty() {
            return None;
        }
        let k = self.fresh("k");
        let target = self.rng.pick(&muts).clone();
        let max = 2 + self.rng.below(5) as i64;
        self.scopes.push(Vec::new());
        self.loop_depth += 1;
        let (cond, mut body) = if self.rng.chance(0.5) {
            // a float condition on a value that grows each trip: a data-dependent trip count
            self.count("while_float");
            let limit = self.rng.lit(1.0, 4.0);
            let c = Cond {
                a: E::Var(target.clone()),
                lt: true,
                b: E::Lit(limit),
            };
            let inc = bin(
                "+",
                E::Lit(self.rng.lit(0.2, 0.6)),
                bin("*", E::Lit(0.2), sq(self.bounded(d.min(2)))),
            );
            (Some(c), vec![S::Set(target.clone(), "+=", inc)])
        } else {
            self.count("while_count");
            let u = self.update(&target, d);
            (None, vec![u])
        };
        let n = self.rng.below(2);
        self.inner_stmts(n, d, &mut body);
        self.loop_depth -= 1;
        self.scopes.pop();
        Some(S::While { k, max, cond, body })
    }

    fn body(&mut self, d: u32) -> (Vec<S>, E) {
        let mut out = Vec::new();
        // an accumulator for the loops and branches below
        let s0 = self.fresh("s");
        let e = self.init(d);
        out.push(S::Let(s0.clone(), true, e));
        self.declare(&s0, Sym::F { mutable: true });
        let n = 2 + self.rng.below(4);
        for _ in 0..n {
            let muts = self.muts();
            match self.rng.below(12) {
                0..=2 => {
                    let mutable = self.rng.chance(0.6);
                    let name = self.fresh(if mutable { "s" } else { "a" });
                    let e = self.init(d);
                    out.push(S::Let(name.clone(), mutable, e));
                    self.declare(&name, Sym::F { mutable });
                }
                3 => {
                    let name = self.fresh("buf");
                    let arrays = self.arrays();
                    let floats = self.floats();
                    let array = self.allowed("array_buffer") && self.rng.chance(0.25);
                    let len = if !array && !arrays.is_empty() && self.rng.chance(0.5) {
                        RangeHi::Len(self.rng.pick(&arrays).clone())
                    } else {
                        RangeHi::Lit(self.len)
                    };
                    let init = if !array && !floats.is_empty() && self.rng.chance(0.3) {
                        self.count("vec_of_value");
                        E::Var(self.rng.pick(&floats).clone())
                    } else {
                        E::Lit(0.0)
                    };
                    self.count(if array { "array_buffer" } else { "vec_buffer" });
                    out.push(S::Buf {
                        name: name.clone(),
                        init,
                        len,
                        array,
                    });
                    self.declare(&name, Sym::Arr { buf: true });
                    // fill it in a loop, then overwrite one element
                    let i = self.fresh("i");
                    self.scopes.push(vec![(i.clone(), Sym::Int)]);
                    let e = self.expr(d);
                    self.scopes.pop();
                    out.push(S::For(
                        For::Range {
                            i: i.clone(),
                            lo: 0,
                            hi: RangeHi::Len(name.clone()),
                            incl: false,
                            rev: false,
                        },
                        vec![S::SetIdx(name.clone(), Ix::Var(i), "+=", e)],
                    ));
                    if self.rng.chance(0.6) {
                        self.count("buffer_overwrite");
                        let e = self.expr(d);
                        out.push(S::SetIdx(name, Ix::Const(self.rng.below(3)), "=", e));
                    }
                }
                4..=6 => {
                    let s = self.for_loop(d);
                    out.push(s);
                }
                7 => {
                    if let Some(s) = self.while_loop(d) {
                        out.push(s);
                    }
                }
                8 | 9 if !muts.is_empty() => {
                    self.count("if_stmt");
                    let c = self.cond(d.min(2));
                    let nt = 1 + self.rng.below(2);
                    let t = self.block_of(nt - 1, d);
                    let e = if self.rng.chance(0.6) {
                        let ne = self.rng.below(2);
                        self.block_of(ne, d)
                    } else {
                        vec![]
                    };
                    out.push(S::If(c, t, e));
                }
                10 if self.rng.chance(0.3) => {
                    self.count("early_return");
                    let c = self.cond(1);
                    let e = self.expr(d);
                    out.push(S::If(c, vec![S::Return(e)], vec![]));
                }
                _ => {
                    let target = muts.first().cloned();
                    if let Some(t) = target {
                        let s = self.update(&t, d);
                        out.push(s);
                    }
                }
            }
        }
        // the result reads every top-level float and one element of every buffer
        let mut ret: Option<E> = None;
        let mut terms: Vec<E> = self.scopes[0]
            .iter()
            .filter(|(_, s)| matches!(s, Sym::F { .. }))
            .map(|(n, _)| E::Var(n.clone()))
            .collect();
        for bf in self.bufs() {
            terms.push(E::Idx(bf, Ix::Const(self.rng.below(3))));
        }
        if terms.is_empty() || self.rng.chance(0.5) {
            terms.push(self.expr(d));
        }
        for t in terms {
            let t = if self.rng.chance(0.5) {
                bin("*", E::Lit(self.rng.lit(-1.5, 1.5)), t)
            } else {
                t
            };
            ret = Some(match ret {
                None => t,
                Some(r) => bin(self.rng.op(&["+", "-", "+"]), r, t),
            });
        }
        (out, ret.unwrap())
    }
}

/// The functions `f` calls directly.
fn calls_of(f: &Func) -> Vec<usize> {
    fn e(x: &E, out: &mut Vec<usize>) {
        match x {
            E::Lit(_) | E::Var(_) | E::Elem(_) | E::Idx(..) | E::IntF(_) => {}
            E::Neg(a) | E::M1(_, a, _) | E::Powi(a, _, _) => e(a, out),
            E::Bin(_, a, b) | E::M2(_, a, b, _) => {
                e(a, out);
                e(b, out);
            }
            E::MulAdd(a, b, c, _) => {
                e(a, out);
                e(b, out);
                e(c, out);
            }
            E::Call(f, args) => {
                out.push(*f);
                for a in args {
                    if let Arg::F(x) = a {
                        e(x, out);
                    }
                }
            }
            E::If(c, a, b) => {
                e(&c.a, out);
                e(&c.b, out);
                e(a, out);
                e(b, out);
            }
        }
    }
    fn st(s: &S, out: &mut Vec<usize>) {
        match s {
            S::Let(_, _, x) | S::Set(_, _, x) | S::SetIdx(_, _, _, x) | S::Return(x) => e(x, out),
            S::Buf { init, .. } => e(init, out),
            S::If(c, a, b) => {
                e(&c.a, out);
                e(&c.b, out);
                a.iter().chain(b).for_each(|s| st(s, out));
            }
            S::For(_, body) => body.iter().for_each(|s| st(s, out)),
            S::While { cond, body, .. } => {
                if let Some(c) = cond {
                    e(&c.a, out);
                    e(&c.b, out);
                }
                body.iter().for_each(|s| st(s, out));
            }
            S::Break | S::Continue => {}
        }
    }
    let mut out = Vec::new();
    f.body.iter().for_each(|s| st(s, &mut out));
    e(&f.ret, &mut out);
    out
}

fn b_cond(c: Cond) -> Box<Cond> {
    Box::new(c)
}

// ---------------------------------------------------------------------------
// Test points
// ---------------------------------------------------------------------------

fn n_flat(f: &Func, len: usize) -> usize {
    f.params
        .iter()
        .map(|p| match p.1 {
            PKind::Scalar => 1,
            PKind::Slice => len,
            PKind::Passive => 0,
        })
        .sum()
}

const PASSIVE: f64 = 0.75;

/// Is `x` a good test point: finite, modest values, the same decisions at every
/// finite-difference neighbour, and central differences that agree at h and 2h?
fn good_point(it: &Interp, f: &Func, x: &[f64], len: usize) -> bool {
    let mut t = Trace::new();
    let y = it.call_flat(f, x, PASSIVE, len, &mut t);
    if !y.is_finite() || t.big > 1e6 || t.margin < 1e-4 {
        return false;
    }
    let base = t.decisions;
    let mut xp = x.to_vec();
    let eval = |xp: &[f64]| -> Option<f64> {
        let mut t2 = Trace::new();
        let v = it.call_flat(f, xp, PASSIVE, len, &mut t2);
        (t2.decisions == base && v.is_finite()).then_some(v)
    };
    for j in 0..x.len() {
        let h = 1e-6 * x[j].abs().max(1.0);
        let mut fd = [0.0; 2];
        for (k, mult) in [10.0, 2.0, 1.0].iter().enumerate() {
            xp[j] = x[j] + mult * h;
            let Some(p) = eval(&xp) else { return false };
            xp[j] = x[j] - mult * h;
            let Some(m) = eval(&xp) else { return false };
            xp[j] = x[j];
            if k > 0 {
                fd[k - 1] = (p - m) / (2.0 * mult * h);
            }
        }
        if (fd[0] - fd[1]).abs() > 1e-8 * (1.0 + fd[1].abs() + y.abs()) || fd[1].abs() > 1e6 {
            return false;
        }
    }
    true
}

// ---------------------------------------------------------------------------
// Emission of the test files
// ---------------------------------------------------------------------------

const SUPPORT: &str = r#"//! Checks shared by the generated differential tests (`tests/gen_*.rs`).
//!
//! GENERATED by tools/genprog; do not edit. Regenerate with
//! `cargo run --manifest-path tools/genprog/Cargo.toml -- --seed 1 --count 1000 --out tests`.

/// splitmix64, so every failure reproduces.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
    }
}

pub type F<'a> = &'a dyn Fn(&[f64]) -> f64;
pub type Fwd<'a> = &'a dyn Fn(&[f64], &[f64]) -> (f64, f64);
pub type Adj<'a> = &'a dyn Fn(&[f64], &mut [f64], f64) -> f64;
pub type Grad<'a> = &'a dyn Fn(&[f64]) -> (f64, Vec<f64>);

#[track_caller]
fn same(name: &str, mode: &str, got: f64, want: f64) {
    assert!(
        got.to_bits() == want.to_bits(),
        "{name}: the primal value of {mode} is {got:e}, f(..) is {want:e}"
    );
}

/// Every mode of one generated function at one point `x` (its active inputs,
/// flattened). The generator chose `x` away from branch switches and kinks, so
/// the tolerances are fixed:
///
/// - `_grad` against central differences: |g - fd| <= 1e-6 (1 + |g| + |f|);
/// - `_fwd` along a random tangent v against `_adjoint` with a random seed ybar:
///   ybar (J v) == (J^T ybar) . v to 1e-9 relative; `_fwd` along each unit
///   vector against `_grad`;
/// - `_adjoint` accumulates dret * grad into pre-filled shadows, dret != 1;
/// - the value returned by every mode is bit for bit `f(x)`.
pub fn check(name: &str, x: &[f64], f: F, fwd: Fwd, adj: Adj, grad: Grad) {
    let n = x.len();
    let y = f(x);
    assert!(y.is_finite(), "{name}: f({x:?}) = {y}");
    let at = format!("{name} at {x:?}");

    let (y0, g) = grad(x);
    same(&at, "_grad", y0, y);
    assert_eq!(g.len(), n, "{at}: gradient length");
    let mut xp = x.to_vec();
    for j in 0..n {
        let h = 1e-6 * x[j].abs().max(1.0);
        xp[j] = x[j] + h;
        let fp = f(&xp);
        xp[j] = x[j] - h;
        let fm = f(&xp);
        xp[j] = x[j];
        let fd = (fp - fm) / (2.0 * h);
        assert!(
            (g[j] - fd).abs() <= 1e-6 * (1.0 + g[j].abs() + y.abs()),
            "{at}: _grad[{j}] = {:e}, central differences give {fd:e}\n  grad = {g:?}",
            g[j]
        );
    }

    let atol = 1e-13 * (1.0 + y.abs());
    let mut e = vec![0.0; n];
    for j in 0..n {
        e[j] = 1.0;
        let (y1, t) = fwd(x, &e);
        same(&at, "_fwd", y1, y);
        assert!(
            (t - g[j]).abs() <= 1e-9 * g[j].abs() + atol,
            "{at}: _fwd along e{j} = {t:e}, _grad[{j}] = {:e}",
            g[j]
        );
        e[j] = 0.0;
    }

    let mut rng = Rng::new(name.bytes().fold(n as u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64)));
    let v: Vec<f64> = (0..n).map(|_| rng.uniform(-1.0, 1.0)).collect();
    let ybar = rng.uniform(0.5, 2.0);
    let (y2, jv) = fwd(x, &v);
    same(&at, "_fwd", y2, y);
    let mut jt = vec![0.0; n];
    same(&at, "_adjoint", adj(x, &mut jt, ybar), y);
    let lhs = ybar * jv;
    let rhs: f64 = jt.iter().zip(&v).map(|(a, b)| a * b).sum();
    let scale = lhs.abs().max(jt.iter().zip(&v).map(|(a, b)| (a * b).abs()).sum::<f64>());
    assert!(
        (lhs - rhs).abs() <= 1e-9 * scale + atol,
        "{at}: dot-product identity: ybar (J v) = {lhs:e}, (J^T ybar) . v = {rhs:e}"
    );

    let prefill: Vec<f64> = (0..n).map(|_| rng.uniform(-3.0, 3.0)).collect();
    let dret = -rng.uniform(0.5, 2.5);
    let mut shadow = prefill.clone();
    same(&at, "_adjoint", adj(x, &mut shadow, dret), y);
    for j in 0..n {
        let want = prefill[j] + dret * g[j];
        assert!(
            (shadow[j] - want).abs() <= 1e-9 * (prefill[j].abs() + (dret * g[j]).abs()) + atol,
            "{at}: _adjoint into a pre-filled shadow: d[{j}] = {:e}, want {want:e} (prefill {:e}, dret {dret}, grad {:e})",
            shadow[j],
            prefill[j],
            g[j]
        );
    }
}
"#;

/// The test of one function: its points and flat adapters over its modes.
fn emit_test(f: &Func, points: &[Vec<f64>], len: usize, out: &mut String) {
    let name = &f.name;
    // argument lists
    let mut k = 0;
    let mut args = Vec::new(); // f(..)
    let mut fwd = Vec::new();
    let mut adj_pre = Vec::new();
    let mut adj = Vec::new();
    let mut adj_post = Vec::new();
    let mut grad = Vec::new();
    let mut active = Vec::new();
    for (p, kind) in &f.params {
        match kind {
            PKind::Scalar => {
                args.push(format!("x[{k}]"));
                fwd.push(format!("x[{k}], v[{k}]"));
                adj_pre.push(format!("let mut d_{p} = d[{k}];"));
                adj.push(format!("x[{k}], &mut d_{p}"));
                adj_post.push(format!("d[{k}] = d_{p};"));
                grad.push(format!("x[{k}]"));
                active.push(*kind);
                k += 1;
            }
            PKind::Slice => {
                let r = format!("{k}..{}", k + len);
                args.push(format!("&x[{r}]"));
                fwd.push(format!("&x[{r}], &v[{r}]"));
                adj_pre.push(format!("let mut d_{p} = d[{r}].to_vec();"));
                adj.push(format!("&x[{r}], &mut d_{p}"));
                adj_post.push(format!("d[{r}].copy_from_slice(&d_{p});"));
                grad.push(format!("&x[{r}]"));
                active.push(*kind);
                k += len;
            }
            PKind::Passive => {
                let c = format!("{PASSIVE:?}");
                args.push(c.clone());
                fwd.push(c.clone());
                adj.push(c.clone());
                grad.push(c);
            }
        }
    }
    let flatten = if active.len() == 1 {
        match active[0] {
            PKind::Scalar => "vec![g]".to_string(),
            _ => "g".to_string(),
        }
    } else {
        let mut s = String::from("{ let mut o = Vec::new();");
        for (i, kind) in active.iter().enumerate() {
            match kind {
                PKind::Scalar => {
                    let _ = write!(s, " o.push(g.{i});");
                }
                _ => {
                    let _ = write!(s, " o.extend_from_slice(&g.{i});");
                }
            }
        }
        s.push_str(" o }");
        s
    };
    let pts: Vec<String> = points
        .iter()
        .map(|p| {
            let xs: Vec<String> = p.iter().map(|v| format!("{v:?}")).collect();
            format!("[{}]", xs.join(", "))
        })
        .collect();
    let _ = writeln!(out, "#[test]\nfn test_{name}() {{");
    let _ = writeln!(out, "    for x in [{}] {{", pts.join(", "));
    let _ = writeln!(out, "        gen_support::check(\"{name}\", &x,");
    let _ = writeln!(out, "            &|x| {name}({}),", args.join(", "));
    let _ = writeln!(out, "            &|x, v| {name}_fwd({}),", fwd.join(", "));
    let _ = writeln!(
        out,
        "            &|x, d, r| {{ {} let y = {name}_adjoint({}, r); {} y }},",
        adj_pre.join(" "),
        adj.join(", "),
        adj_post.join(" ")
    );
    let _ = writeln!(
        out,
        "            &|x| {{ let (y, g) = {name}_grad({}); (y, {flatten}) }});",
        grad.join(", ")
    );
    out.push_str("    }\n}\n\n");
}

struct Opts {
    seed: u64,
    count: usize,
    files: usize,
    out: PathBuf,
    points: usize,
    skip: Vec<String>,
    allow: Vec<String>,
}

fn parse_args() -> Opts {
    let mut o = Opts {
        seed: 1,
        count: 1000,
        files: 8,
        out: PathBuf::from("tests"),
        points: 3,
        skip: Vec::new(),
        allow: Vec::new(),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let v = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--seed" => o.seed = v.parse().expect("--seed N"),
            "--count" => o.count = v.parse().expect("--count N"),
            "--files" => o.files = v.parse().expect("--files N"),
            "--points" => o.points = v.parse().expect("--points N"),
            "--out" => o.out = PathBuf::from(v),
            "--skip" => o.skip = v.split(',').map(str::to_string).collect(),
            "--allow" => o.allow = v.split(',').map(str::to_string).collect(),
            other => panic!("unknown argument {other}; see tools/genprog/README.md"),
        }
        i += 2;
    }
    o
}

fn main() {
    let o = parse_args();
    let mut rng = Rng(o.seed);
    let mut stats: HashMap<&'static str, usize> = HashMap::new();
    let per_file = o.count.div_ceil(o.files);
    let cmd = format!(
        "cargo run --manifest-path tools/genprog/Cargo.toml -- --seed {} --count {} --files {} --points {} --out {}{}",
        o.seed,
        o.count,
        o.files,
        o.points,
        o.out.display(),
        if o.skip.is_empty() { String::new() } else { format!(" --skip {}", o.skip.join(",")) }
    ) + &if o.allow.is_empty() { String::new() } else { format!(" --allow {}", o.allow.join(",")) };
    let mut made = 0;
    let mut total_points = 0;
    let mut total_skipped = 0;
    let mut rejected = 0;
    let mut written = Vec::new();
    std::fs::create_dir_all(o.out.join("gen_support")).expect("create the output folder");
    std::fs::write(
        o.out.join("gen_support/mod.rs"),
        SUPPORT.replace(
            "cargo run --manifest-path tools/genprog/Cargo.toml -- --seed 1 --count 1000 --out tests",
            &cmd,
        ),
    )
    .expect("write gen_support");
    written.push(o.out.join("gen_support/mod.rs"));
    for file in 0..o.files {
        let len = 3 + file % 3;
        let mut funcs: Vec<Func> = Vec::new();
        let mut callees: Vec<(usize, Vec<PKind>)> = Vec::new();
        let mut code = String::new();
        let mut tests = String::new();
        let base = made;
        let mut skipped = Vec::new();
        while funcs.len() < per_file && made < o.count {
            let idx = made;
            // parameters
            let ns = rng.below(4);
            let nsl = if ns == 0 {
                1 + rng.below(2)
            } else {
                rng.below(3)
            };
            let mut params = Vec::new();
            for i in 0..ns {
                params.push((format!("x{i}"), PKind::Scalar));
            }
            for i in 0..nsl.min(2) {
                params.push((format!("w{i}"), PKind::Slice));
            }
            let passive = rng.chance(0.1);
            if passive {
                let at = rng.below(params.len() + 1);
                params.insert(at, ("c".to_string(), PKind::Passive));
            }
            let depth = 2 + rng.below(2) as u32;
            let mut g = FnGen {
                rng: &mut rng,
                scopes: vec![params
                    .iter()
                    .map(|(n, k)| {
                        (
                            n.clone(),
                            match k {
                                PKind::Slice => Sym::Arr { buf: false },
                                _ => Sym::F { mutable: false },
                            },
                        )
                    })
                    .collect()],
                names: 0,
                callees: &callees,
                len,
                loop_depth: 0,
                stats: &mut stats,
                allow: &o.allow,
                in_cond: 0,
                iterating: Vec::new(),
            };
            let (body, ret) = g.body(depth);
            let f = Func {
                name: fname(idx),
                params: params.clone(),
                body,
                ret,
                callable: !passive,
            };
            // test points
            let it = Interp {
                funcs: &funcs,
                base,
            };
            let n = n_flat(&f, len);
            let mut pts = Vec::new();
            for _ in 0..60 {
                let x: Vec<f64> = (0..n).map(|_| rng.uniform(-2.0, 2.0)).collect();
                if good_point(&it, &f, &x, len) {
                    pts.push(x);
                    if pts.len() == o.points {
                        break;
                    }
                }
            }
            if pts.len() < o.points.min(2) {
                rejected += 1;
                continue;
            }
            made += 1;
            total_points += pts.len();
            let src = print_func(&f);
            // A skipped function is still generated (the random stream, so every later
            // program, does not depend on the skip list) but printed as a comment, and so
            // are the functions that call it.
            let calls_skipped = calls_of(&f).iter().any(|c| skipped.contains(&fname(*c)));
            if o.skip.contains(&f.name) || calls_skipped {
                // a macro bug: kept out of the suite until it is fixed
                let why = if calls_skipped && !o.skip.contains(&f.name) {
                    "calls a function that is left out"
                } else {
                    "a macro bug, see tools/genprog/README.md"
                };
                let _ = writeln!(code, "// {} is left out: {why}", f.name);
                skipped.push(f.name.clone());
                for l in src.lines() {
                    let _ = writeln!(code, "// {l}");
                }
                code.push('\n');
            } else {
                code.push_str(&src);
                code.push('\n');
                emit_test(&f, &pts, len, &mut tests);
            }
            if f.callable {
                callees.push((idx, params.iter().map(|p| p.1).collect()));
            }
            funcs.push(f);
        }
        total_skipped += skipped.len();
        let mut text = String::new();
        let _ = writeln!(
            text,
            "//! Generated differential tests: {} random programs in the `#[differentiate]`\n\
             //! subset, each checked at points chosen away from branch switches and kinks\n\
             //! (see tools/genprog/README.md).\n\
             //!\n\
             //! GENERATED by tools/genprog; do not edit. Regenerate every `tests/gen_*.rs` with\n\
             //! `{cmd}`\n\
             //! (it runs rustfmt on its output).\n",
            funcs.len() - skipped.len()
        );
        text.push_str("#![allow(clippy::all, unused)]\n\nmod gen_support;\n\nuse autodiff::differentiate;\n\n");
        text.push_str(&code);
        text.push_str(&tests);
        let path = o.out.join(format!("gen_{}.rs", file + 1));
        std::fs::write(&path, text).expect("write a test file");
        written.push(path);
    }
    let status = std::process::Command::new("rustfmt")
        .arg("--edition")
        .arg("2021")
        .args(&written)
        .status();
    match status {
        Ok(s) if s.success() => {}
        _ => eprintln!("warning: rustfmt failed; run `rustfmt --edition 2021` on the output"),
    }
    let mut keys: Vec<_> = stats.into_iter().collect();
    keys.sort();
    eprintln!(
        "{made} programs ({total_skipped} left out), {total_points} points, \
         {rejected} candidates rejected (no good points)"
    );
    for (k, v) in keys {
        eprint!("{k}={v} ");
    }
    eprintln!();
}
