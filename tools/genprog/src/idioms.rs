//! The idiomatic forms of issue 10, the shapes of the third suite (`IDIOMS`, each
//! `--allow`ed on its own): iterator chains over slices, arrays, local buffers,
//! views and ranges; local closures; `match` on integers, booleans and floats
//! (through guards); `loop` with `break` and `break value`; assertions; `const`
//! items at the top of the body; and the float methods `to_degrees`,
//! `to_radians`, `copysign` and `clamp`. Nothing here draws from the random
//! stream unless one of `IDIOMS` is on, so the first two suites stay byte for
//! byte the same.
//!
//! The interpreter evaluates every form as Rust does: `sum` folds with `+` from
//! `-0.0` (the neutral element of `f64: Sum` since Rust 1.81; an empty sum is
//! `-0.0`), `product` with `*` from `1.0`, `fold` as written, all left to right
//! over the adapted sequence.

use super::*;

/// The shapes of the third suite (`--allow`), off unless named.
pub(crate) const IDIOMS: &[&str] = &[
    "iter_chain",
    "range_chain",
    "closure",
    "match_int",
    "match_bool",
    "match_float",
    "loop_break",
    "assert",
    "body_const",
    "angle",
    "copysign",
    "clamp",
    "chain_cond",
    "closure_cond",
];

/// How often `new_stmt` picks each idiom (against 3 for most second-suite shapes).
const STMT_WEIGHTS: &[(&str, usize)] = &[
    ("iter_chain", 5),
    ("range_chain", 3),
    ("closure", 4),
    ("match_int", 3),
    ("match_bool", 2),
    ("match_float", 3),
    ("loop_break", 3),
    ("assert", 2),
    ("angle", 1),
    ("copysign", 1),
    ("clamp", 1),
];

// ---------------------------------------------------------------------------
// The AST
// ---------------------------------------------------------------------------

/// An iterator chain: a source, adapters, a consumer.
#[derive(Clone, Debug)]
pub(crate) struct Chain {
    src: Src,
    stages: Vec<Stage>,
    cons: Cons,
}

#[derive(Clone, Debug)]
enum Src {
    /// `a.iter()`
    Iter(String),
    /// `(lo..hi)`, or `(lo..=hi)` with the flag
    Range(IE, IE, bool),
}

#[derive(Clone, Debug)]
enum ZipArg {
    /// `b.iter()`
    Iter(String),
    /// `&b` (a local buffer)
    Ref(String),
    /// `lo..hi`
    Range(IE, IE),
}

#[derive(Clone, Debug)]
enum Stage {
    Copied,
    Cloned,
    Enumerate,
    Rev,
    Zip(ZipArg),
    Skip(IE),
    Take(IE),
    StepBy(IE),
    Map(Pat, E),
}

/// The pattern of a closure parameter.
#[derive(Clone, Debug)]
enum Pat {
    Name(String),
    /// `&v`
    Ref(String),
    /// `v: f64`
    Typed(String),
    Wild,
    Pair(Box<Pat>, Box<Pat>),
}

#[derive(Clone, Debug)]
enum Cons {
    /// `.sum::<f64>()`, or `.sum()` without the flag (where the type is known)
    Sum(bool),
    Product(bool),
    /// `.fold(init, |acc, p| body)`
    Fold(E, String, Pat, E),
}

/// An argument of a local closure.
#[derive(Clone, Debug)]
pub(crate) enum CArg {
    F(E),
    I(IE),
}

/// What a `match` inspects.
#[derive(Clone, Debug)]
pub(crate) enum Scrut {
    Int(IE),
    Bool(Cond),
    Float(E),
}

#[derive(Clone, Debug)]
pub(crate) enum MPat {
    Lit(usize),
    Or(Vec<usize>),
    /// `a..=b`
    Range(usize, usize),
    Wild,
    /// `k` or `k if <guard>` on an integer
    IBind(String, Option<Cond>),
    Bool(bool),
    /// `a` or `a if <guard>` on a float
    FBind(String, Option<Cond>),
}

/// The type of a chain's elements, or of a closure parameter.
#[derive(Clone, Debug, PartialEq)]
enum Ty {
    /// `&f64`
    Ref,
    F,
    /// an integer; the flag: an index of every slice
    I(bool),
    P(Box<Ty>, Box<Ty>),
}

// ---------------------------------------------------------------------------
// Printing
// ---------------------------------------------------------------------------

pub(crate) fn pchain(c: &Chain) -> String {
    let rev = c.stages.iter().any(|s| matches!(s, Stage::Rev));
    let mut s = match &c.src {
        Src::Iter(a) if nest::nested(a).is_some() => nest::flat_iter(a, rev),
        Src::Iter(a) => format!("{a}.iter()"),
        Src::Range(lo, hi, incl) => {
            format!("({}..{}{})", pie(lo), if *incl { "=" } else { "" }, pie(hi))
        }
    };
    for st in &c.stages {
        let _ = match st {
            Stage::Copied => write!(s, ".copied()"),
            Stage::Cloned => write!(s, ".cloned()"),
            Stage::Enumerate => write!(s, ".enumerate()"),
            Stage::Rev => write!(s, ".rev()"),
            Stage::Zip(ZipArg::Iter(b) | ZipArg::Ref(b)) if nest::nested(b).is_some() => {
                write!(s, ".zip({})", nest::flat_iter(b, rev))
            }
            Stage::Zip(ZipArg::Iter(b)) => write!(s, ".zip({b}.iter())"),
            Stage::Zip(ZipArg::Ref(b)) => write!(s, ".zip(&{b})"),
            Stage::Zip(ZipArg::Range(lo, hi)) => write!(s, ".zip({}..{})", pie(lo), pie(hi)),
            Stage::Skip(n) => write!(s, ".skip({})", pie(n)),
            Stage::Take(n) => write!(s, ".take({})", pie(n)),
            Stage::StepBy(n) => write!(s, ".step_by({})", pie(n)),
            Stage::Map(p, e) => write!(s, ".map(|{}| {})", ppat(p), pe(e)),
        };
    }
    let _ = match &c.cons {
        Cons::Sum(t) => write!(s, ".sum{}()", if *t { "::<f64>" } else { "" }),
        Cons::Product(t) => write!(s, ".product{}()", if *t { "::<f64>" } else { "" }),
        Cons::Fold(init, acc, p, body) => {
            write!(s, ".fold({}, |{acc}, {}| {})", pe(init), ppat(p), pe(body))
        }
    };
    s
}

fn ppat(p: &Pat) -> String {
    match p {
        Pat::Name(n) => n.clone(),
        Pat::Ref(n) => format!("&{n}"),
        Pat::Typed(n) => format!("{n}: f64"),
        Pat::Wild => "_".to_string(),
        Pat::Pair(a, b) => format!("({}, {})", ppat(a), ppat(b)),
    }
}

pub(crate) fn pscrut(s: &Scrut) -> String {
    match s {
        Scrut::Int(i) => pie(i),
        Scrut::Bool(c) => pc(c),
        Scrut::Float(e) => pe(e),
    }
}

pub(crate) fn pmpat(p: &MPat) -> String {
    let guard = |n: &str, g: &Option<Cond>| match g {
        Some(c) => format!("{n} if {}", pc(c)),
        None => n.to_string(),
    };
    match p {
        MPat::Lit(n) => n.to_string(),
        MPat::Or(v) => v
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(" | "),
        MPat::Range(a, b) => format!("{a}..={b}"),
        MPat::Wild => "_".to_string(),
        MPat::IBind(n, g) | MPat::FBind(n, g) => guard(n, g),
        MPat::Bool(b) => b.to_string(),
    }
}

/// A `sum()` or `product()` without its type: a `let` of it needs one.
pub(crate) fn untyped(e: &E) -> bool {
    matches!(e, E::Chain(c) if matches!(c.cons, Cons::Sum(false) | Cons::Product(false)))
}

/// The expressions and integer expressions inside a chain.
pub(crate) fn chain_parts(c: &Chain) -> (Vec<&E>, Vec<&IE>) {
    let (mut es, mut is) = (Vec::new(), Vec::new());
    if let Src::Range(a, b, _) = &c.src {
        is.push(a);
        is.push(b);
    }
    for s in &c.stages {
        match s {
            Stage::Zip(ZipArg::Range(a, b)) => {
                is.push(a);
                is.push(b);
            }
            Stage::Skip(n) | Stage::Take(n) | Stage::StepBy(n) => is.push(n),
            Stage::Map(_, e) => es.push(e),
            _ => {}
        }
    }
    if let Cons::Fold(init, _, _, body) = &c.cons {
        es.push(init);
        es.push(body);
    }
    (es, is)
}

// ---------------------------------------------------------------------------
// The interpreter
// ---------------------------------------------------------------------------

/// An element of an iterator.
#[derive(Clone, Debug)]
enum It {
    F(f64),
    I(i64),
    P(Box<It>, Box<It>),
}

fn bind(p: &Pat, it: &It, env: &mut Env) {
    match (p, it) {
        (Pat::Name(n) | Pat::Ref(n) | Pat::Typed(n), It::F(v)) => {
            env.insert(n.clone(), Val::F(*v));
        }
        (Pat::Name(n), It::I(k)) => {
            env.insert(n.clone(), Val::I(*k));
        }
        (Pat::Wild, _) => {}
        (Pat::Pair(a, b), It::P(x, y)) => {
            bind(a, x, env);
            bind(b, y, env);
        }
        (p, it) => unreachable!("{p:?} binds {it:?}"),
    }
}

/// The value of a scrutinee.
enum SV {
    I(i64),
    B(bool),
    F(f64),
}

impl Interp<'_> {
    fn floats_of(&self, a: &str, env: &Env) -> Vec<It> {
        self.arr(env, a).iter().map(|v| It::F(*v)).collect()
    }

    fn ints_of(&self, lo: &IE, hi: &IE, incl: bool, env: &Env, t: &mut Trace) -> Vec<It> {
        let lo = self.int(lo, env, t);
        let hi = self.int(hi, env, t) + incl as i64;
        (lo..hi).map(It::I).collect()
    }

    /// A chain, element by element in the order Rust visits them.
    pub(crate) fn eval_chain(&self, c: &Chain, env: &Env, t: &mut Trace) -> f64 {
        let mut items = match &c.src {
            Src::Iter(a) => self.floats_of(a, env),
            Src::Range(lo, hi, incl) => self.ints_of(lo, hi, *incl, env, t),
        };
        for st in &c.stages {
            items = match st {
                Stage::Copied | Stage::Cloned => items,
                Stage::Enumerate => items
                    .into_iter()
                    .enumerate()
                    .map(|(k, it)| It::P(Box::new(It::I(k as i64)), Box::new(it)))
                    .collect(),
                Stage::Rev => items.into_iter().rev().collect(),
                Stage::Zip(z) => {
                    let other = match z {
                        ZipArg::Iter(b) | ZipArg::Ref(b) => self.floats_of(b, env),
                        ZipArg::Range(lo, hi) => self.ints_of(lo, hi, false, env, t),
                    };
                    items
                        .into_iter()
                        .zip(other)
                        .map(|(a, b)| It::P(Box::new(a), Box::new(b)))
                        .collect()
                }
                Stage::Skip(n) => {
                    let n = self.int(n, env, t) as usize;
                    items.into_iter().skip(n).collect()
                }
                Stage::Take(n) => {
                    let n = self.int(n, env, t) as usize;
                    items.into_iter().take(n).collect()
                }
                Stage::StepBy(n) => {
                    let n = self.int(n, env, t) as usize;
                    items.into_iter().step_by(n).collect()
                }
                // (Rust runs the closure lazily; it reads no state that changes, so
                // running it on every element first gives the same values)
                Stage::Map(p, e) => items
                    .iter()
                    .map(|it| {
                        let mut inner = env.clone();
                        bind(p, it, &mut inner);
                        It::F(self.eval(e, &inner, t))
                    })
                    .collect(),
            };
        }
        let f = |it: &It| match it {
            It::F(v) => *v,
            other => unreachable!("a sum of {other:?}"),
        };
        match &c.cons {
            Cons::Sum(_) => {
                let mut acc = -0.0;
                for it in &items {
                    acc = t.val(acc + f(it));
                }
                acc
            }
            Cons::Product(_) => {
                let mut acc = 1.0;
                for it in &items {
                    acc = t.val(acc * f(it));
                }
                acc
            }
            Cons::Fold(init, a, p, body) => {
                let mut acc = self.eval(init, env, t);
                for it in &items {
                    let mut inner = env.clone();
                    inner.insert(a.clone(), Val::F(acc));
                    bind(p, it, &mut inner);
                    acc = self.eval(body, &inner, t);
                }
                acc
            }
        }
    }

    /// A local closure called with `args`: its body reads the captures as they are now.
    pub(crate) fn call_closure(&self, n: &str, args: &[CArg], env: &Env, t: &mut Trace) -> f64 {
        let c = match env.get(n) {
            Some(Val::C(c)) => c.clone(),
            other => panic!("{n}: {other:?}"),
        };
        let mut inner = env.clone();
        for ((p, _), a) in c.0.iter().zip(args) {
            let v = match a {
                CArg::F(e) => Val::F(self.eval(e, env, t)),
                CArg::I(i) => Val::I(self.int(i, env, t)),
            };
            inner.insert(p.clone(), v);
        }
        self.eval(&c.1, &inner, t)
    }

    /// The arm a `match` takes (the first whose pattern and guard hold), and the
    /// name its pattern binds.
    pub(crate) fn match_arm<'p>(
        &self,
        sc: &Scrut,
        pats: impl Iterator<Item = &'p MPat>,
        env: &Env,
        t: &mut Trace,
    ) -> (usize, Option<(String, Val)>) {
        let v = match sc {
            Scrut::Int(i) => SV::I(self.int(i, env, t)),
            Scrut::Bool(c) => SV::B(self.cond(c, env, t)),
            Scrut::Float(e) => SV::F(self.eval(e, env, t)),
        };
        for (k, p) in pats.enumerate() {
            let guarded = |n: &String, val: Val, g: &Option<Cond>, t: &mut Trace| match g {
                None => Some(Some((n.clone(), val))),
                Some(c) => {
                    let mut inner = env.clone();
                    inner.insert(n.clone(), val.clone());
                    self.cond(c, &inner, t).then(|| Some((n.clone(), val)))
                }
            };
            let hit = match (p, &v) {
                (MPat::Lit(n), SV::I(x)) => (*x == *n as i64).then_some(None),
                (MPat::Or(ns), SV::I(x)) => ns.iter().any(|n| *x == *n as i64).then_some(None),
                (MPat::Range(a, b), SV::I(x)) => {
                    (*a as i64 <= *x && *x <= *b as i64).then_some(None)
                }
                (MPat::Wild, _) => Some(None),
                (MPat::Bool(b), SV::B(x)) => (b == x).then_some(None),
                (MPat::IBind(n, g), SV::I(x)) => guarded(n, Val::I(*x), g, t),
                (MPat::FBind(n, g), SV::F(x)) => guarded(n, Val::F(*x), g, t),
                (p, _) => unreachable!("{p:?}"),
            };
            if let Some(b) = hit {
                return (k, b);
            }
        }
        unreachable!("no arm of a match applies")
    }
}

// ---------------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------------

fn bx(e: E) -> Box<E> {
    Box::new(e)
}

impl FnGen<'_> {
    fn any_chain(&self) -> bool {
        self.allowed("iter_chain") || self.allowed("range_chain")
    }

    fn any_match(&self) -> bool {
        ["match_int", "match_bool", "match_float"]
            .iter()
            .any(|k| self.allowed(k))
    }

    fn closures(&self) -> Vec<(String, Vec<bool>)> {
        self.scopes
            .iter()
            .flatten()
            .filter_map(|(n, s)| match s {
                Sym::Clo(k) => Some((n.clone(), k.clone())),
                _ => None,
            })
            .collect()
    }

    /// The idioms `new_stmt` may pick here, with their weights.
    pub(crate) fn idiom_kinds(&self, _top: bool, kinds: &mut Vec<&'static str>) {
        for (k, w) in STMT_WEIGHTS {
            let ok = match *k {
                "loop_break" => self.loop_depth < 2,
                _ => true,
            };
            if ok && self.allowed(k) {
                for _ in 0..*w {
                    kinds.push(k);
                }
            }
        }
    }

    /// An idiom at statement level; false if it does not apply here.
    pub(crate) fn idiom_stmt(&mut self, k: &str, d: u32, out: &mut Vec<S>, _top: bool) -> bool {
        match k {
            "iter_chain" | "range_chain" => self.chain_stmt(k == "range_chain", d, out),
            "closure" => self.closure_stmt(d, out),
            "match_int" | "match_bool" | "match_float" => self.match_stmt(k, d, out),
            "loop_break" => self.loop_stmt(d, out),
            "assert" => self.assert_stmt(d, out),
            "angle" | "copysign" | "clamp" => {
                let e = self.float_method(k, d);
                self.add_to(e, out);
                true
            }
            _ => false,
        }
    }

    /// May a chain be generated here? In a condition (a passive position) only
    /// with `chain_cond`.
    fn chain_ok(&self) -> bool {
        self.any_chain() && (self.in_cond == 0 || self.allowed("chain_cond"))
    }

    /// May a closure be called here? In a condition only with `closure_cond`.
    fn closure_ok(&self) -> bool {
        self.in_cond == 0 || self.allowed("closure_cond")
    }

    /// Expression kinds (numbered from 10) for `new_expr`.
    pub(crate) fn idiom_expr_kinds(&self, kinds: &mut Vec<u8>) {
        if self.chain_ok() && self.in_chain < 2 {
            // (in conditions a third as often)
            kinds.push(10);
            if self.in_cond == 0 {
                kinds.extend([10, 10]);
            }
        }
        if self.closure_ok() && !self.closures().is_empty() {
            kinds.extend([11, 11]);
        }
        if self.any_match() && self.in_cond == 0 {
            kinds.extend([12, 12]);
        }
        for (k, n) in [("angle", 13), ("copysign", 14), ("clamp", 15)] {
            if self.allowed(k) {
                kinds.push(n);
            }
        }
    }

    pub(crate) fn idiom_expr(&mut self, k: u8, d: u32) -> Option<E> {
        match k {
            10 => {
                let range = self.pick_range();
                self.chain_of(range, d)
            }
            11 => {
                let cs = self.closures();
                let (n, kinds) = self.rng.pick(&cs).clone();
                Some(self.closure_call(&n, &kinds, d))
            }
            12 => {
                let ks: Vec<&str> = ["match_int", "match_bool", "match_float"]
                    .into_iter()
                    .filter(|k| self.allowed(k))
                    .collect();
                let k = *self.rng.pick(&ks);
                self.match_value(k, d)
            }
            13 => Some(self.float_method("angle", d)),
            14 => Some(self.float_method("copysign", d)),
            _ => Some(self.float_method("clamp", d)),
        }
    }

    /// Leaf kinds (numbered from 10) for `new_leaf`.
    pub(crate) fn idiom_leaf_kinds(&self, kinds: &mut Vec<u8>) {
        if self.chain_ok() && self.in_chain == 0 && self.in_cond == 0 {
            kinds.push(10);
        }
        if self.closure_ok() && !self.closures().is_empty() {
            kinds.push(11);
        }
        if !self.body_consts.is_empty() {
            kinds.extend([12, 12]);
        }
    }

    pub(crate) fn idiom_leaf(&mut self, k: u8) -> Option<E> {
        match k {
            10 => {
                let range = self.pick_range();
                self.chain_of(range, 1)
            }
            11 => {
                let cs = self.closures();
                let (n, kinds) = self.rng.pick(&cs).clone();
                Some(self.closure_call(&n, &kinds, 0))
            }
            _ => {
                self.count("body_const_read");
                Some(E::Named(self.rng.pick(&self.body_consts).clone()))
            }
        }
    }

    // ---- iterator chains ----

    /// A range chain rather than one over a slice?
    fn pick_range(&mut self) -> bool {
        match (self.allowed("iter_chain"), self.allowed("range_chain")) {
            (true, true) => self.rng.chance(0.35),
            (false, r) => r,
            _ => false,
        }
    }

    fn chain_of(&mut self, range: bool, d: u32) -> Option<E> {
        let sources = !self.arrays().is_empty() || !self.views().is_empty();
        let range = range || !sources;
        if range && !self.allowed("range_chain") {
            return None;
        }
        self.in_chain += 1;
        let c = if range {
            self.range_chain(d)
        } else {
            self.iter_chain(d)
        };
        self.in_chain -= 1;
        self.count(if range { "range_chain" } else { "iter_chain" });
        Some(E::Chain(Box::new(c)))
    }

    fn iter_chain(&mut self, d: u32) -> Chain {
        let mut srcs: Vec<(String, usize)> =
            self.arrays().into_iter().map(|a| (a, self.len)).collect();
        srcs.extend(self.views());
        let (a, alen) = match self.chain_src.take() {
            Some(v) => v,
            None => self.rng.pick(&srcs).clone(),
        };
        if alen != self.len {
            self.count("chain_of_view");
        }
        // an enumerate index is an index of every slice
        let safe = alen <= self.len;
        let mut ty = Ty::Ref;
        let mut stages = Vec::new();
        let (mut zipped, mut enumerated, mut mapped) = (false, false, false);
        for _ in 0..self.rng.below(4) {
            match self.rng.below(10) {
                0 | 1 if ty == Ty::Ref => {
                    let s = if self.rng.chance(0.7) {
                        Stage::Copied
                    } else {
                        Stage::Cloned
                    };
                    self.count("chain_copied");
                    stages.push(s);
                    ty = Ty::F;
                }
                2 if !enumerated => {
                    self.count("chain_enumerate");
                    stages.push(Stage::Enumerate);
                    ty = Ty::P(Box::new(Ty::I(safe)), Box::new(ty));
                    enumerated = true;
                }
                3 if !zipped => {
                    self.count("chain_zip");
                    let (z, zt) = self.zip_arg(&srcs);
                    stages.push(Stage::Zip(z));
                    ty = Ty::P(Box::new(ty), Box::new(zt));
                    zipped = true;
                }
                4 => {
                    self.count("chain_rev");
                    stages.push(Stage::Rev);
                }
                5 => {
                    let n = self.count_arg("skip");
                    stages.push(Stage::Skip(n));
                }
                6 => {
                    let n = self.count_arg("take");
                    stages.push(Stage::Take(n));
                }
                7 => {
                    let n = self.count_arg("step_by");
                    stages.push(Stage::StepBy(n));
                }
                8 | 9 if !mapped => {
                    let (p, e) = self.map_closure(&ty, d);
                    stages.push(Stage::Map(p, e));
                    ty = Ty::F;
                    mapped = true;
                }
                _ => {}
            }
        }
        let cons = self.consumer(&mut stages, &ty, d);
        Chain {
            src: Src::Iter(a),
            stages,
            cons,
        }
    }

    /// `(lo..hi).map(|i| ..)`, `(lo..=hi).rev().map(..)`, `(0..n).fold(..)`:
    /// ranges take `.rev()` first and `.map` only.
    fn range_chain(&mut self, d: u32) -> Chain {
        let arrays = self.arrays();
        let lens = self.visible(|s| matches!(s, Sym::Count { len_eq: true, .. }));
        let incl = self.rng.chance(0.25);
        let lo = IE::Lit(if self.rng.chance(0.7) {
            0
        } else {
            1 + self.rng.below(2)
        });
        // every element is an index of every slice
        let hi = if incl {
            match self.rng.below(2) {
                0 if !arrays.is_empty() => IE::Bin(
                    "-",
                    Box::new(IE::Len(self.rng.pick(&arrays).clone())),
                    Box::new(IE::Lit(1)),
                ),
                _ => IE::Lit(self.rng.below(self.len)),
            }
        } else {
            match self.rng.below(4) {
                0 if !arrays.is_empty() => IE::Len(self.rng.pick(&arrays).clone()),
                1 if !lens.is_empty() => IE::Var(self.rng.pick(&lens).clone()),
                2 => IE::Lit(1 + self.rng.below(self.len)),
                _ => IE::Lit(self.len),
            }
        };
        let mut stages = Vec::new();
        if self.rng.chance(0.35) {
            self.count("range_rev");
            stages.push(Stage::Rev);
        }
        let mut ty = Ty::I(true);
        if self.rng.chance(0.8) {
            let (p, e) = self.map_closure(&ty, d);
            stages.push(Stage::Map(p, e));
            ty = Ty::F;
            if self.rng.chance(0.2) {
                let (p, e) = self.map_closure(&ty, d.min(1));
                stages.push(Stage::Map(p, e));
            }
        }
        let cons = self.consumer(&mut stages, &ty, d);
        Chain {
            src: Src::Range(lo, hi, incl),
            stages,
            cons,
        }
    }

    /// The other side of a `zip`: another buffer (`b.iter()`, `&b`) or `0..n`.
    fn zip_arg(&mut self, srcs: &[(String, usize)]) -> (ZipArg, Ty) {
        let arrays = self.arrays();
        if self.rng.chance(0.15) {
            let hi = if arrays.is_empty() {
                IE::Lit(self.len)
            } else {
                IE::Len(self.rng.pick(&arrays).clone())
            };
            return (ZipArg::Range(IE::Lit(0), hi), Ty::I(true));
        }
        let (b, _) = self.rng.pick(srcs).clone();
        if self.bufs().contains(&b) && self.rng.chance(0.5) {
            (ZipArg::Ref(b), Ty::Ref)
        } else {
            (ZipArg::Iter(b), Ty::Ref)
        }
    }

    /// The argument of `skip`, `take` or `step_by` (never 0 for `step_by`).
    fn count_arg(&mut self, what: &'static str) -> IE {
        self.count(what);
        let ints = self.ints();
        let arrays = self.arrays();
        match what {
            "skip" => match self.rng.below(12) {
                0..=7 => IE::Lit(self.rng.below(3)),
                8 | 9 if !ints.is_empty() => IE::Var(self.rng.pick(&ints).clone()),
                // past the end of the slices: an empty sequence
                10 => IE::Lit(self.len),
                _ => IE::Lit(1),
            },
            "take" => match self.rng.below(10) {
                0..=5 => IE::Lit(1 + self.rng.below(self.len)),
                6 | 7 if !ints.is_empty() => IE::Bin(
                    "+",
                    Box::new(IE::Var(self.rng.pick(&ints).clone())),
                    Box::new(IE::Lit(1)),
                ),
                8 if !arrays.is_empty() => IE::Bin(
                    "-",
                    Box::new(IE::Len(self.rng.pick(&arrays).clone())),
                    Box::new(IE::Lit(1)),
                ),
                _ => IE::Lit(self.len + 1),
            },
            _ => match self.rng.below(5) {
                0 if !ints.is_empty() => IE::Bin(
                    "+",
                    Box::new(IE::Var(self.rng.pick(&ints).clone())),
                    Box::new(IE::Lit(1)),
                ),
                _ => IE::Lit(1 + self.rng.below(3)),
            },
        }
    }

    /// `sum`, `product` or `fold`; a `map` to floats first where the elements are not.
    fn consumer(&mut self, stages: &mut Vec<Stage>, ty: &Ty, d: u32) -> Cons {
        let floats = matches!(ty, Ty::F | Ty::Ref);
        let k = self.rng.below(8);
        if k >= 5 || (!floats && k >= 4) {
            return self.fold_cons(ty, d);
        }
        if !floats {
            let (p, e) = self.map_closure(ty, d);
            stages.push(Stage::Map(p, e));
        }
        if k == 4 {
            self.count("chain_product");
            Cons::Product(true)
        } else {
            self.count("chain_sum");
            Cons::Sum(true)
        }
    }

    fn fold_cons(&mut self, ty: &Ty, d: u32) -> Cons {
        self.count("chain_fold");
        let init = match self.rng.below(4) {
            0 => E::Lit(0.0),
            1 => E::Lit(1.0),
            2 => E::Lit(self.rng.lit(-1.0, 1.0)),
            _ => self.expr(d.min(1)),
        };
        // with a literal `init` the accumulator is a `{float}` until the body is
        // checked: it is only an operand of arithmetic then
        let typed = !is_const(&init);
        let acc = self.fresh("acc");
        self.scopes.push(Vec::new());
        let (p, binds) = self.pattern(ty, true);
        let body = self.elem_body(&binds, d.min(2));
        self.scopes.pop();
        let a = E::Var(acc.clone());
        let nb = match self.rng.below(5) {
            0 | 1 => bin("+", a, body),
            2 => {
                let m = self.rng.op(&["sin", "tanh", "cos"]);
                bin(
                    "*",
                    a,
                    bin("+", E::Lit(1.0), bin("*", E::Lit(0.3), m1(m, body))),
                )
            }
            3 => bin("+", bin("*", E::Lit(self.rng.lit(0.3, 0.9)), a), body),
            _ if typed && self.rng.chance(0.5) => {
                let m = self.rng.op(&["max", "min"]);
                self.count(m);
                E::M2(m, bx(a), bx(body), false)
            }
            _ => bin("-", a, body),
        };
        Cons::Fold(init, acc, p, nb)
    }

    /// `|p| body` for elements of type `ty`.
    fn map_closure(&mut self, ty: &Ty, d: u32) -> (Pat, E) {
        self.count("chain_map");
        self.scopes.push(Vec::new());
        let (p, binds) = self.pattern(ty, true);
        let body = self.elem_body(&binds, d);
        self.scopes.pop();
        (p, body)
    }

    /// A pattern for `ty`, its names declared in the current scope.
    fn pattern(&mut self, ty: &Ty, top: bool) -> (Pat, Vec<(String, Ty)>) {
        match ty {
            Ty::Ref => {
                let v = self.fresh("v");
                if self.rng.chance(0.5) {
                    // `v` of a `&f64`: read as `*v` (or bare, `v * v`)
                    self.declare(&v, Sym::Elem);
                    (Pat::Name(v.clone()), vec![(v, Ty::Ref)])
                } else {
                    self.declare(&v, Sym::F { mutable: false });
                    (Pat::Ref(v.clone()), vec![(v, Ty::F)])
                }
            }
            Ty::F => {
                let v = self.fresh("v");
                self.declare(&v, Sym::F { mutable: false });
                let p = if top && self.rng.chance(0.15) {
                    Pat::Typed(v.clone())
                } else {
                    Pat::Name(v.clone())
                };
                (p, vec![(v, Ty::F)])
            }
            Ty::I(safe) => {
                let i = self.fresh("i");
                let s = if *safe {
                    Sym::Int
                } else {
                    Sym::Count {
                        mutable: false,
                        len_eq: false,
                    }
                };
                self.declare(&i, s);
                (Pat::Name(i.clone()), vec![(i, ty.clone())])
            }
            Ty::P(a, b) => {
                let (pa, mut ba) = if matches!(**a, Ty::I(_)) && self.rng.chance(0.2) {
                    (Pat::Wild, vec![])
                } else {
                    self.pattern(a, false)
                };
                let (pb, bb) = self.pattern(b, false);
                ba.extend(bb);
                (Pat::Pair(Box::new(pa), Box::new(pb)), ba)
            }
        }
    }

    /// An expression reading the bound name `b`; a `&f64` element bare when `bare`.
    fn use_of(&mut self, b: &(String, Ty), bare: bool) -> E {
        match &b.1 {
            Ty::Ref if bare && self.rng.chance(0.5) => E::Bare(b.0.clone()),
            Ty::Ref => E::Elem(b.0.clone()),
            Ty::F => E::Var(b.0.clone()),
            Ty::I(safe) => {
                let arrays = self.arrays();
                if *safe && !arrays.is_empty() && self.rng.chance(0.6) {
                    E::Idx(self.rng.pick(&arrays).clone(), Ix::Var(b.0.clone()))
                } else {
                    bin("*", E::Lit(self.rng.lit(0.1, 0.6)), E::IntF(b.0.clone()))
                }
            }
            Ty::P(..) => unreachable!(),
        }
    }

    /// The body of a closure over the bound names: a float that reads one of them.
    fn elem_body(&mut self, binds: &[(String, Ty)], d: u32) -> E {
        if binds.is_empty() {
            return self.expr(d);
        }
        let b1 = self.rng.pick(binds).clone();
        match self.rng.below(7) {
            0 => {
                let b2 = self.rng.pick(binds).clone();
                let x = self.use_of(&b1, true);
                let y = self.use_of(&b2, true);
                bin(self.rng.op(&["*", "+", "-", "*"]), x, y)
            }
            1 | 2 => {
                let e = self.expr(d);
                let x = self.use_of(&b1, !is_const(&e));
                let op = self.rng.op(&["*", "+", "-"]);
                if self.rng.chance(0.5) {
                    bin(op, x, e)
                } else {
                    bin(op, e, x)
                }
            }
            3 => {
                let m = self.rng.op(&["sin", "cos", "tanh", "atan"]);
                if self.rng.chance(0.4) {
                    let x = self.use_of(&b1, true);
                    m1(m, x)
                } else {
                    let e = self.expr(d);
                    let x = self.use_of(&b1, !is_const(&e));
                    m1(m, bin("*", x, e))
                }
            }
            4 => {
                let x = self.use_of(&b1, false);
                let mut cs: Vec<(String, Vec<bool>)> =
                    self.closures().into_iter().filter(|c| !c.1[0]).collect();
                if !self.closure_ok() {
                    cs.clear();
                }
                if cs.is_empty() {
                    let e = self.expr(d);
                    bin("*", x, e)
                } else {
                    let (n, kinds) = self.rng.pick(&cs).clone();
                    let mut call = self.closure_call(&n, &kinds, d.min(1));
                    if let E::CallC(_, args) = &mut call {
                        args[0] = CArg::F(x);
                    }
                    call
                }
            }
            _ => {
                let e = self.expr(d);
                let x = self.use_of(&b1, !is_const(&e));
                bin("+", e, x)
            }
        }
    }

    /// `let c = chain;`, `s = chain;`, `s += chain;`, or a chain in a loop.
    fn chain_stmt(&mut self, range: bool, d: u32, out: &mut Vec<S>) -> bool {
        let form = self.rng.below(6);
        if form == 5 && self.loop_depth < 2 {
            // inside a loop, reading its index
            self.count("chain_in_loop");
            let i = self.fresh("i");
            let arrays = self.arrays();
            let hi = if !arrays.is_empty() && self.rng.chance(0.5) {
                RangeHi::Len(self.rng.pick(&arrays).clone())
            } else {
                RangeHi::Lit(self.len)
            };
            self.scopes.push(vec![(i.clone(), Sym::Int)]);
            self.loop_depth += 1;
            let mut body = Vec::new();
            if let Some(e) = self.chain_of(range, d) {
                if self.rng.chance(0.5) {
                    let r = self.fresh("c");
                    body.push(S::Let(r.clone(), false, e));
                    self.declare(&r, Sym::F { mutable: false });
                    let u = bin("*", E::Var(r.clone()), self.expr(d.min(1)));
                    self.add_to(u, &mut body);
                } else {
                    self.add_to(e, &mut body);
                }
            }
            let n = self.rng.below(2);
            self.inner_stmts(n, d, &mut body);
            self.loop_depth -= 1;
            self.scopes.pop();
            out.push(S::For(
                For::Range {
                    i,
                    lo: 0,
                    hi,
                    incl: false,
                    rev: self.rng.chance(0.3),
                },
                body,
            ));
            return true;
        }
        let arrays = self.arrays();
        if !range && !arrays.is_empty() && self.rng.chance(0.25) {
            // a view made for the chain: `let v = &w[1..3]; v.iter()..`
            let a = self.rng.pick(&arrays).clone();
            let v = self.fresh("v");
            let (lo, hi, len) = self.view_range(&a);
            out.push(S::View {
                name: v.clone(),
                base: a.clone(),
                lo,
                hi,
            });
            self.declare_view(&v, &a, len);
            self.count("chain_view");
            self.chain_src = Some((v, len));
        }
        let Some(mut e) = self.chain_of(range, d) else {
            return false;
        };
        let target = self.target();
        match (form, target) {
            (2, Some(t)) => {
                if self.rng.chance(0.5) {
                    untype(&mut e);
                }
                self.count("chain_assign");
                out.push(S::Set(t, "=", e));
            }
            (3, Some(t)) => out.push(S::Set(t, "+=", e)),
            _ => {
                if self.rng.chance(0.4) {
                    untype(&mut e);
                }
                let mutable = self.rng.chance(0.3);
                let n = self.fresh("c");
                out.push(S::Let(n.clone(), mutable, e));
                self.declare(&n, Sym::F { mutable });
            }
        }
        true
    }

    /// Chains as call arguments (`g(w.iter().sum(), x)`).
    pub(crate) fn chain_arg(&mut self, args: &mut [Arg]) {
        if !self.chain_ok() || self.in_chain > 0 || !self.rng.chance(0.3) {
            return;
        }
        let fs: Vec<usize> = (0..args.len())
            .filter(|k| matches!(args[*k], Arg::F(_)))
            .collect();
        if fs.is_empty() {
            return;
        }
        let k = *self.rng.pick(&fs);
        let range = self.pick_range();
        if let Some(mut e) = self.chain_of(range, 1) {
            if self.rng.chance(0.5) {
                untype(&mut e);
            }
            self.count("chain_arg");
            args[k] = Arg::F(e);
        }
    }

    // ---- local closures ----

    /// What a closure may capture: no name that is assigned later (Rust would not
    /// let the closure borrow it), so no `mut` float and no buffer that is written.
    fn capture_scopes(&self) -> Vec<Vec<(String, Sym)>> {
        self.scopes
            .iter()
            .map(|sc| {
                sc.iter()
                    .filter(|(n, s)| match s {
                        Sym::F { mutable } | Sym::Count { mutable, .. } => !mutable,
                        Sym::Arr { buf } => !buf || self.readonly.contains(n),
                        Sym::Elem
                        | Sym::Int
                        | Sym::P
                        | Sym::Bool
                        | Sym::View { .. }
                        | Sym::Clo(_) => true,
                    })
                    .cloned()
                    .collect()
            })
            .collect()
    }

    /// `let cl = |p: f64, q: usize| ..;` then `s += cl(..)`.
    fn closure_stmt(&mut self, d: u32, out: &mut Vec<S>) -> bool {
        let name = self.fresh("cl");
        let mut params = vec![(self.fresh("p"), false)];
        if self.rng.chance(0.3) {
            let int = self.rng.chance(0.4);
            params.push((self.fresh("p"), int));
        }
        let captures = self.capture_scopes();
        let saved = std::mem::replace(&mut self.scopes, captures);
        self.scopes.push(Vec::new());
        let mut binds = Vec::new();
        for (p, int) in &params {
            let (s, t) = if *int {
                (Sym::Int, Ty::I(true))
            } else {
                (Sym::F { mutable: false }, Ty::F)
            };
            self.declare(p, s);
            binds.push((p.clone(), t));
        }
        let body = self.elem_body(&binds, d.min(2));
        self.scopes = saved;
        let kinds: Vec<bool> = params.iter().map(|p| p.1).collect();
        out.push(S::Closure {
            name: name.clone(),
            params,
            body,
        });
        self.declare(&name, Sym::Clo(kinds.clone()));
        self.count("closure");
        let call = self.closure_call(&name, &kinds, d);
        self.add_to(call, out);
        true
    }

    fn closure_call(&mut self, n: &str, kinds: &[bool], d: u32) -> E {
        let mut args = Vec::new();
        for int in kinds {
            if *int {
                let ints = self.ints();
                let i = if !ints.is_empty() && self.rng.chance(0.7) {
                    IE::Var(self.rng.pick(&ints).clone())
                } else {
                    IE::Lit(self.rng.below(self.len))
                };
                args.push(CArg::I(i));
            } else {
                args.push(CArg::F(self.expr(d.min(1))));
            }
        }
        self.count("closure_call");
        E::CallC(n.to_string(), args)
    }

    // ---- match ----

    /// A scrutinee and the arms' patterns, each with the name it binds.
    #[allow(clippy::type_complexity)]
    fn match_head(&mut self, k: &str, d: u32) -> (Scrut, Vec<(MPat, Option<(String, Ty)>)>) {
        let ints = self.all_ints();
        let arrays = self.arrays();
        let k = if k == "match_int" && ints.is_empty() && arrays.is_empty() {
            if self.allowed("match_float") {
                "match_float"
            } else {
                "match_bool"
            }
        } else {
            k
        };
        match k {
            "match_int" => {
                self.count("match_int");
                let sc = match self.rng.below(4) {
                    0 | 1 if !ints.is_empty() => IE::Var(self.rng.pick(&ints).clone()),
                    2 if !ints.is_empty() => IE::Bin(
                        "%",
                        Box::new(IE::Var(self.rng.pick(&ints).clone())),
                        Box::new(IE::Lit(2 + self.rng.below(2))),
                    ),
                    _ if !arrays.is_empty() => IE::Len(self.rng.pick(&arrays).clone()),
                    _ => IE::Var(self.rng.pick(&ints).clone()),
                };
                let mut arms = Vec::new();
                let mut v = 0;
                for _ in 0..1 + self.rng.below(3) {
                    let p = match self.rng.below(3) {
                        0 => {
                            v += 1;
                            MPat::Lit(v - 1)
                        }
                        1 => {
                            let w = v + 1 + self.rng.below(2);
                            let p = MPat::Or(vec![v, w]);
                            v = w + 1;
                            p
                        }
                        _ => {
                            let w = v + 1 + self.rng.below(2);
                            let p = MPat::Range(v, w);
                            v = w + 1;
                            p
                        }
                    };
                    arms.push((p, None));
                    if self.rng.chance(0.3) {
                        v += 1;
                    }
                }
                match self.rng.below(5) {
                    0 => {
                        let n = self.fresh("n");
                        arms.push((MPat::IBind(n.clone(), None), Some((n, Ty::I(false)))));
                    }
                    1 => {
                        let n = self.fresh("n");
                        let g = if self.rng.chance(0.5) {
                            Cond::ICmp(
                                IE::Bin("%", Box::new(IE::Var(n.clone())), Box::new(IE::Lit(2))),
                                "==",
                                IE::Lit(0),
                            )
                        } else {
                            Cond::ICmp(IE::Var(n.clone()), ">", IE::Lit(v + self.rng.below(2)))
                        };
                        self.count("match_guard");
                        arms.push((MPat::IBind(n.clone(), Some(g)), Some((n, Ty::I(false)))));
                        arms.push((MPat::Wild, None));
                    }
                    _ => arms.push((MPat::Wild, None)),
                }
                (Scrut::Int(sc), arms)
            }
            "match_bool" => {
                self.count("match_bool");
                let bools = self.bools();
                let c = if !bools.is_empty() && self.rng.chance(0.4) {
                    Cond::Bool(self.rng.pick(&bools).clone(), false)
                } else {
                    self.cond(d.min(2))
                };
                let first = self.rng.chance(0.5);
                let second = if self.rng.chance(0.6) {
                    MPat::Bool(!first)
                } else {
                    MPat::Wild
                };
                (
                    Scrut::Bool(c),
                    vec![(MPat::Bool(first), None), (second, None)],
                )
            }
            _ => {
                self.count("match_float");
                let mut e = self.expr(d.min(2));
                if is_const(&e) {
                    // `match 0.5 { a if .. => a.sin() }`: `a` is an ambiguous `{float}`;
                    // `f64::tanh(0.5)` is an `f64`
                    e = E::M1("tanh", bx(e), true);
                } else if opaque(&e) {
                    // a `const` or a field: the macro cannot see that it is a float
                    e = bin("*", E::Lit(1.0), e);
                }
                let a = self.fresh("a");
                let floats = self.floats();
                let n = 1 + self.rng.below(2);
                let mut cuts: Vec<f64> = (0..n).map(|_| self.rng.lit(-1.5, 1.5)).collect();
                cuts.sort_by(|x, y| x.partial_cmp(y).unwrap());
                let mut arms = Vec::new();
                for c in cuts {
                    let rhs = if !floats.is_empty() && self.rng.chance(0.2) {
                        E::Var(self.rng.pick(&floats).clone())
                    } else {
                        E::Lit(c)
                    };
                    let va = E::Var(a.clone());
                    let g = match self.rng.below(4) {
                        0 | 1 => Cond::Le(va, "<=", rhs),
                        2 => Cond::Cmp {
                            a: va,
                            lt: true,
                            b: rhs,
                        },
                        _ => Cond::Le(va, ">=", rhs),
                    };
                    arms.push((MPat::FBind(a.clone(), Some(g)), Some((a.clone(), Ty::F))));
                }
                if self.rng.chance(0.6) {
                    arms.push((MPat::FBind(a.clone(), None), Some((a, Ty::F))));
                } else {
                    arms.push((MPat::Wild, None));
                }
                (Scrut::Float(e), arms)
            }
        }
    }

    fn match_value(&mut self, k: &str, d: u32) -> Option<E> {
        let (sc, heads) = self.match_head(k, d);
        let mut arms = Vec::new();
        for (p, b) in heads {
            self.scopes.push(Vec::new());
            let e = match &b {
                Some(b) => {
                    let s = match b.1 {
                        Ty::F => Sym::F { mutable: false },
                        _ => Sym::Count {
                            mutable: false,
                            len_eq: false,
                        },
                    };
                    self.declare(&b.0, s);
                    self.elem_body(std::slice::from_ref(b), d.min(2))
                }
                None => self.expr(d.min(2)),
            };
            self.scopes.pop();
            arms.push((p, e));
        }
        self.count("match_value");
        Some(E::Match(Box::new(sc), arms))
    }

    fn match_stmt(&mut self, k: &str, d: u32, out: &mut Vec<S>) -> bool {
        if self.rng.chance(0.45) {
            let Some(e) = self.match_value(k, d) else {
                return false;
            };
            let y = self.fresh("y");
            let mutable = self.rng.chance(0.3);
            out.push(S::Let(y.clone(), mutable, e));
            self.declare(&y, Sym::F { mutable });
            return true;
        }
        let (sc, heads) = self.match_head(k, d);
        let mut arms = Vec::new();
        for (p, b) in heads {
            if b.is_none() && self.rng.chance(0.2) {
                arms.push((p, vec![]));
                continue;
            }
            self.scopes.push(Vec::new());
            let mut body = Vec::new();
            if let Some(b) = &b {
                let s = match b.1 {
                    Ty::F => Sym::F { mutable: false },
                    _ => Sym::Count {
                        mutable: false,
                        len_eq: false,
                    },
                };
                self.declare(&b.0, s);
                let u = self.elem_body(std::slice::from_ref(b), d.min(1));
                self.add_to(u, &mut body);
            }
            let n = self.rng.below(2);
            body.extend(self.block_of(n, d));
            self.scopes.pop();
            arms.push((p, body));
        }
        self.count("match_stmt");
        out.push(S::Match(sc, arms));
        true
    }

    // ---- loop ----

    /// A value for `break value`: a float that is not a literal.
    pub(crate) fn break_value(&mut self, d: u32) -> E {
        let floats = self.floats();
        if self.rng.chance(0.4) {
            return E::Var(self.rng.pick(&floats).clone());
        }
        let e = self.expr(d.min(2));
        if is_const(&e) {
            bin("+", E::Var(self.rng.pick(&floats).clone()), e)
        } else if opaque(&e) {
            // (`break K;` does not compile: the macro cannot see that `K` is a float)
            bin("*", E::Lit(1.0), e)
        } else {
            e
        }
    }

    /// `let mut k = 0; [let r =] loop { k += 1; ..; if c { break [v]; } if k >= N { break [v]; } }`
    fn loop_stmt(&mut self, d: u32, out: &mut Vec<S>) -> bool {
        let k = self.fresh("k");
        let max = 2 + self.rng.below(4);
        let value = self.rng.chance(0.5);
        out.push(S::LetI(k.clone(), true, IE::Lit(0)));
        self.scopes.push(Vec::new());
        self.loop_depth += 1;
        // (a `continue` would skip the counter's test at the end)
        let cont = std::mem::replace(&mut self.cont_ok, false);
        let vl = std::mem::replace(&mut self.value_loop, value.then_some(self.loop_depth));
        let mut body = vec![S::SetI(k.clone(), "+=", IE::Lit(1))];
        self.carried(d, &mut body);
        let n = self.rng.below(3);
        self.inner_stmts(n, d, &mut body);
        let brk = |g: &mut Self| {
            if value {
                S::BreakV(g.break_value(d))
            } else {
                S::Break
            }
        };
        if self.rng.chance(0.5) {
            // a data-dependent exit
            self.count("loop_float_exit");
            self.in_cond += 1;
            let c = self.cmp_cond(d.min(1));
            self.in_cond -= 1;
            let s = brk(self);
            body.push(S::If(c, vec![s], vec![]));
        }
        let s = brk(self);
        body.push(S::If(
            Cond::ICmp(IE::Var(k), ">=", IE::Lit(max)),
            vec![s],
            vec![],
        ));
        self.value_loop = vl;
        self.cont_ok = cont;
        self.loop_depth -= 1;
        self.scopes.pop();
        let bind = if value {
            self.count("loop_value");
            let r = self.fresh("r");
            let m = self.rng.chance(0.3);
            self.declare(&r, Sym::F { mutable: m });
            Some((r, m, self.rng.chance(0.3)))
        } else {
            self.count("loop_stmt");
            None
        };
        out.push(S::Loop { bind, body });
        true
    }

    // ---- assertions, `const` items, float methods ----

    /// `assert!`/`debug_assert!` of something that holds at every test point.
    fn assert_stmt(&mut self, d: u32, out: &mut Vec<S>) -> bool {
        let mac = if self.rng.chance(0.35) {
            "debug_assert"
        } else {
            "assert"
        };
        let arrays = self.arrays();
        let ints = self.ints();
        let msg = self.rng.chance(0.25);
        self.count("assert");
        // (the arguments of an assertion are passive, like a condition)
        self.in_cond += 1;
        let c = self.assert_cond(d, &arrays, &ints, out);
        self.in_cond -= 1;
        if let Some(c) = c {
            out.push(S::Assert(mac, c, msg));
        }
        true
    }

    fn assert_cond(
        &mut self,
        d: u32,
        arrays: &[String],
        ints: &[String],
        out: &mut Vec<S>,
    ) -> Option<Cond> {
        Some(match self.rng.below(7) {
            0 if !arrays.is_empty() => Cond::Empty(self.rng.pick(arrays).clone(), true),
            1 if !arrays.is_empty() => {
                let a = IE::Len(self.rng.pick(arrays).clone());
                out.push(S::AssertEq(a, IE::Lit(self.len)));
                return None;
            }
            2 if !arrays.is_empty() => {
                let a = IE::Len(self.rng.pick(arrays).clone());
                if !ints.is_empty() && self.rng.chance(0.5) {
                    Cond::ICmp(IE::Var(self.rng.pick(ints).clone()), "<", a)
                } else {
                    Cond::ICmp(a, ">=", IE::Lit(1 + self.rng.below(self.len)))
                }
            }
            3 => Cond::Class(self.expr(d.min(2)), "is_finite", false),
            4 => Cond::Class(self.expr(d.min(2)), "is_nan", true),
            _ => {
                self.count("assert_float");
                match self.rng.below(3) {
                    0 => {
                        let m = self.rng.op(&["sin", "cos", "tanh"]);
                        Cond::Cmp {
                            a: m1(m, self.expr(d.min(2))),
                            lt: true,
                            b: E::Lit(1.5),
                        }
                    }
                    1 => Cond::Cmp {
                        a: sq(self.expr(d.min(2))),
                        lt: false,
                        b: E::Lit(-1.0),
                    },
                    _ => Cond::Le(m1("exp", self.bounded(d.min(1))), ">=", E::Lit(0.1)),
                }
            }
        })
    }

    /// `const C1: f64 = ..;` (and `const L1: usize = ..;`) at the top of the body.
    pub(crate) fn body_const_items(&mut self, out: &mut Vec<S>) {
        if !self.allowed("body_const") || !self.rng.chance(0.6) {
            return;
        }
        let mut items = Vec::new();
        let mut nl = 0;
        for _ in 0..1 + self.rng.below(2) {
            if self.rng.chance(0.75) {
                let name = format!("C{}", self.body_consts.len() + 1);
                items.push(S::ConstItem(
                    name.clone(),
                    CItem::F(self.rng.lit(-1.5, 1.5)),
                ));
                self.body_consts.push(name);
            } else {
                nl += 1;
                let name = format!("L{nl}");
                items.push(S::ConstItem(name.clone(), CItem::U(self.rng.below(3))));
                self.scopes[0].push((name, Sym::Int));
            }
            self.count("body_const");
        }
        out.splice(0..0, items);
    }

    /// `to_radians`, `to_degrees`, `copysign`, `clamp` (with `lo < hi`).
    fn float_method(&mut self, k: &str, d: u32) -> E {
        let path = self.rng.chance(0.15);
        match k {
            "angle" => {
                if self.rng.chance(0.5) {
                    self.count("to_radians");
                    E::M1("to_radians", bx(self.expr(d)), path)
                } else {
                    self.count("to_degrees");
                    let e = E::M1("to_degrees", bx(self.expr(d)), path);
                    bin("*", E::Lit(self.rng.lit(0.01, 0.05)), e)
                }
            }
            "copysign" => {
                self.count("copysign");
                E::M2("copysign", bx(self.expr(d)), bx(self.expr(d)), path)
            }
            _ => {
                self.count("clamp");
                let x = self.expr(d);
                let (lo, hi) = if self.rng.chance(0.6) {
                    let lo = self.rng.lit(-1.5, 0.5);
                    let hi = ((lo + self.rng.lit(0.3, 1.5)) * 100.0).round() / 100.0;
                    (E::Lit(lo), E::Lit(hi))
                } else {
                    // bounds that carry derivatives, `m - c < m + c`
                    self.count("clamp_active_bounds");
                    let m = self.expr(d.min(1));
                    let c = E::Lit(self.rng.lit(0.2, 1.0));
                    (bin("-", m.clone(), c.clone()), bin("+", m, c))
                };
                E::Clamp(bx(x), bx(lo), bx(hi), path)
            }
        }
    }
}

/// `.sum()` / `.product()` without the turbofish (the caller gives the type).
fn untype(e: &mut E) {
    if let E::Chain(c) = e {
        match &mut c.cons {
            Cons::Sum(t) | Cons::Product(t) => *t = false,
            Cons::Fold(..) => {}
        }
    }
}
