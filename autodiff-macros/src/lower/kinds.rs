//! The one classification of expressions: what the macro can tell of a value from
//! its syntax alone (a float, a float buffer, proven not a float, or unknown), and
//! whether it reads a differentiated value.
//!
//! Every decision of the front end about an expression comes from [`Lowerer::kinds`];
//! the soundness rule (an expression that may carry a derivative is differentiated
//! or rejected, never copied through as a constant) is enforced in `check.rs` from
//! these facts. The classification never answers "passive" for what it cannot see:
//! that is [`Class::Unknown`], and an unknown value that may carry a derivative is
//! an error.

use std::cell::RefCell;
use std::collections::HashMap;

use proc_macro2::TokenStream;
use syn::{BinOp, Expr, Pat, Stmt as SynStmt, UnOp};

use super::types::{is_float_prim, is_int_prim, TyClass};
use super::{block_tail, method_op, strip_paren, Lowerer};
use crate::ir::{Kind, PExpr, VarId};

/// What a value is, as far as the syntax tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// A float scalar of the function's float type.
    Float,
    /// A float buffer: slice, array, local `vec!`/array, view.
    Buf,
    /// Proven not a float: integers, booleans, comparisons, lengths, `()`, values of
    /// parameters whose type is not a float type. It carries no derivative.
    NonFloat,
    /// Cannot be told: a field, an opaque call, an iterator, a closure, a tuple…
    Unknown,
}

/// The facts about one expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kinds {
    pub class: Class,
    /// Names a float or float-buffer variable anywhere (also as `w.len()`).
    pub mentions: bool,
    /// Reads the value of a float variable or a buffer element (not just a length):
    /// not a constant, and not safe to re-evaluate in the reverse sweep.
    pub reads: bool,
    /// May carry a derivative: reads a value that depends on an active input,
    /// through anything but a non-float (a comparison, an integer cast, a length).
    pub varied: bool,
}

impl Kinds {
    pub const fn of(class: Class) -> Self {
        Kinds {
            class,
            mentions: false,
            reads: false,
            varied: false,
        }
    }

    pub(super) fn merge(self, o: Kinds) -> Kinds {
        Kinds {
            class: self.class,
            mentions: self.mentions || o.mentions,
            reads: self.reads || o.reads,
            varied: self.varied || o.varied,
        }
    }

    /// The same facts with another class; a non-float carries no derivative.
    pub(super) fn as_class(self, class: Class) -> Kinds {
        Kinds {
            class,
            varied: self.varied && class != Class::NonFloat,
            ..self
        }
    }

    /// The IR's kind of a value of this class.
    pub fn kind(self) -> Kind {
        match self.class {
            Class::Float => Kind::Float,
            Class::Buf => Kind::Buf,
            Class::NonFloat | Class::Unknown => Kind::Passive,
        }
    }

    /// May carry a derivative, and is neither a float, a buffer, nor proven non-float:
    /// copying it through would be a silent wrong gradient.
    pub fn is_unsound(self) -> bool {
        self.class == Class::Unknown && self.varied
    }

    pub(super) fn either_float(l: Class, r: Class) -> Class {
        match (l, r) {
            (Class::Float, _) | (_, Class::Float) => Class::Float,
            (Class::NonFloat, Class::NonFloat) => Class::NonFloat,
            _ => Class::Unknown,
        }
    }
}

/// Memoised classifications, and the names bound inside a block being classified
/// before lowering binds them.
#[derive(Default)]
pub struct KindCache {
    /// Keyed by node address; only valid while the syntax tree is borrowed, so it is
    /// cleared whenever a binding changes what a name means.
    memo: RefCell<HashMap<usize, Kinds>>,
    overlay: RefCell<Vec<(String, Kinds)>>,
}

impl KindCache {
    pub fn clear(&self) {
        self.memo.borrow_mut().clear();
    }

    /// Binds the names of a `let` for a walk inside its block; returns how many.
    pub fn push_let(&self, lw: &Lowerer, l: &syn::Local) -> usize {
        let (pat, ty) = match &l.pat {
            Pat::Type(pt) => (&*pt.pat, Some(&*pt.ty)),
            p => (p, None),
        };
        let init = l.init.as_ref().map(|i| lw.kinds(&i.expr));
        let mut names = Vec::new();
        super::scope::pat_idents(pat, &mut names);
        let k = lw.let_kinds(ty, init, matches!(pat, Pat::Ident(_)));
        let n = names.len();
        self.overlay
            .borrow_mut()
            .extend(names.into_iter().map(|i| (i.to_string(), k)));
        n
    }

    /// Binds names to given kinds for a walk; returns how many.
    pub fn push_names(&self, names: impl Iterator<Item = (String, Kinds)>) -> usize {
        let mut ov = self.overlay.borrow_mut();
        let before = ov.len();
        ov.extend(names);
        ov.len() - before
    }

    /// Binds a closure's parameters (values of unknown type) for a walk of its body.
    pub fn push_closure(&self, c: &syn::ExprClosure) -> usize {
        let names = closure_params(c);
        let n = names.len();
        self.overlay
            .borrow_mut()
            .extend(names.into_iter().map(|s| (s, Kinds::of(Class::Unknown))));
        n
    }

    pub fn pop(&self, n: usize) {
        let mut ov = self.overlay.borrow_mut();
        let keep = ov.len().saturating_sub(n);
        ov.truncate(keep);
    }
}

/// What lowering knows of a passive variable beyond its IR kind.
#[derive(Clone, Debug, Default)]
pub struct VarFacts {
    /// Its type could not be told (bound from a field, an opaque call…).
    pub opaque: bool,
    /// A container of integers or booleans (`&[usize]`): its elements are non-floats.
    pub int_elems: bool,
    /// A local closure (`lower/closure.rs`), inlined where it is called.
    pub closure: Option<usize>,
    /// A tuple taken apart (`lower/tuple.rs`): its elements' variables.
    pub tuple: Option<Vec<VarId>>,
    /// Bound (without a type) from a named field (`let k = self.k;`).
    pub field: bool,
    /// An element of `for e in b.iter_mut()`: the place `b[i]` it stands for.
    pub place: Option<(VarId, PExpr)>,
}

const PASSIVE_FLOAT_METHODS: &[&str] = &[
    "is_nan",
    "is_finite",
    "is_infinite",
    "is_normal",
    "is_subnormal",
    "is_sign_positive",
    "is_sign_negative",
    "partial_cmp",
    "total_cmp",
    "classify",
];

/// Iterator adapters and consumers, and slice methods that make iterators: not
/// differentiated (yet), whatever they are called on.
pub const ITERATOR_METHODS: &[&str] = &[
    "iter",
    "iter_mut",
    "into_iter",
    "windows",
    "chunks",
    "chunks_exact",
    "rchunks",
    "map",
    "sum",
    "product",
    "fold",
    "reduce",
    "filter",
    "filter_map",
    "for_each",
    "zip",
    "enumerate",
    "rev",
    "skip",
    "take",
    "step_by",
    "chain",
    "cloned",
    "copied",
    "collect",
    "max_by",
    "min_by",
    "max_by_key",
    "min_by_key",
    "last",
    "next",
    "nth",
    "scan",
    "flat_map",
    "flatten",
    "any",
    "all",
    "position",
    "find",
    "try_fold",
    "inspect",
    "peekable",
    "cycle",
    "skip_while",
    "take_while",
    "map_while",
    "sum_by",
    "count",
];

/// Methods of a float buffer that give a non-float and read no element's value
/// as a float.
const PASSIVE_BUF_METHODS: &[&str] = &["len", "is_empty"];

/// Methods of a float buffer whose result is a non-float (a comparison of elements).
const COMPARING_BUF_METHODS: &[&str] = &["contains", "starts_with", "ends_with"];

/// Methods on a float that give a non-float result.
pub fn is_passive_float_method(name: &str) -> bool {
    PASSIVE_FLOAT_METHODS.contains(&name)
}

/// Macros that produce `()` and only read their arguments.
pub(super) fn is_assert_macro(path: &syn::Path) -> bool {
    path.get_ident().is_some_and(|i| {
        matches!(
            i.to_string().as_str(),
            "assert"
                | "assert_eq"
                | "assert_ne"
                | "debug_assert"
                | "debug_assert_eq"
                | "debug_assert_ne"
        )
    })
}

impl Lowerer<'_> {
    pub(super) fn is_float_type_path(&self, p: &syn::Path) -> bool {
        let Some(first) = p.segments.first() else {
            return false;
        };
        let n = first.ident.to_string();
        n == "f64"
            || n == "f32"
            || Some(&n) == self.generic_float.as_ref()
            || n == "Float"
            || (n == "std" || n == "core")
                && p.segments
                    .iter()
                    .any(|s| s.ident == "f64" || s.ident == "f32")
            || (n == "num_traits" || n == "autodiff")
    }

    /// The classification of `e` in the current scope (memoised).
    pub(super) fn kinds(&self, e: &Expr) -> Kinds {
        let key = e as *const Expr as usize;
        if let Some(k) = self.kcache.memo.borrow().get(&key) {
            return *k;
        }
        let k = self.compute_kinds(e);
        // Inside a block being classified, names mean what the overlay says: not memoised.
        if self.kcache.overlay.borrow().is_empty() {
            self.kcache.memo.borrow_mut().insert(key, k);
        }
        k
    }

    /// The IR kind of `e`.
    pub(super) fn kind_of(&self, e: &Expr) -> Kind {
        self.kinds(e).kind()
    }

    /// Does `e` name any float or float-buffer variable (also through `.len()`)?
    pub(super) fn touches_float(&self, e: &Expr) -> bool {
        self.kinds(e).mentions
    }

    /// May the variable carry a derivative? Active parameters, float parameters that
    /// the body reassigns, and every float local (conservatively).
    pub(super) fn may_vary(&self, id: VarId) -> bool {
        let v = &self.vars[id];
        // A rejected binding: its uses are follow-on errors.
        if v.kind == Kind::Passive || (v.poisoned && !v.is_param) {
            return false;
        }
        if let Some((base, _, _)) = &v.view {
            return self.may_vary(*base);
        }
        // An out-parameter holds what the body stores into it.
        let out = v.buf.is_some_and(crate::ir::BufRepr::is_out);
        out || !(v.is_param && !v.wrt && !self.assigned_names.contains(&v.ident.to_string()))
    }

    pub(super) fn var_kinds(&self, id: VarId) -> Kinds {
        let v = &self.vars[id];
        // A rejected binding: its uses are follow-on errors.
        if v.poisoned && !v.is_param {
            return Kinds::of(Class::Unknown);
        }
        // `e` of `for e in b.iter_mut()`: the element `b[i]`
        if let Some((b, _)) = &self.facts[id].place {
            return Kinds {
                class: Class::Float,
                mentions: true,
                reads: true,
                varied: self.may_vary(*b),
            };
        }
        // a tuple variable as a whole is no float: only its fields are read
        if self.facts[id].tuple.is_some() {
            return Kinds {
                class: Class::Unknown,
                mentions: true,
                reads: true,
                varied: true,
            };
        }
        match v.kind {
            Kind::Float | Kind::Buf => Kinds {
                class: if v.kind == Kind::Float {
                    Class::Float
                } else {
                    Class::Buf
                },
                mentions: true,
                reads: true,
                varied: self.may_vary(id),
            },
            Kind::Passive if v.undecided || self.facts[id].opaque => Kinds::of(Class::Unknown),
            Kind::Passive => Kinds::of(Class::NonFloat),
        }
    }

    /// Facts read off tokens (macro arguments, constructs the classifier does not open):
    /// a token naming a float variable reads it.
    pub(super) fn token_kinds(&self, ts: TokenStream) -> Kinds {
        let mut k = Kinds::of(Class::Unknown);
        self.for_each_var(ts, &mut |id| {
            if self.vars[id].kind != Kind::Passive {
                k.mentions = true;
                k.reads = true;
            }
            k.varied |= self.may_vary(id);
        });
        k
    }

    pub(super) fn compute_kinds(&self, e: &Expr) -> Kinds {
        use Class::*;
        match e {
            Expr::Lit(l) => match &l.lit {
                syn::Lit::Float(_) => Kinds::of(Float),
                syn::Lit::Int(i) if matches!(i.suffix(), "f32" | "f64") => Kinds::of(Float),
                _ => Kinds::of(NonFloat),
            },
            Expr::Path(p) => self.path_kinds(e, p),
            Expr::Binary(b) => {
                let (l, r) = (self.kinds(&b.left), self.kinds(&b.right));
                let both = l.merge(r);
                match b.op {
                    BinOp::Add(_)
                    | BinOp::Sub(_)
                    | BinOp::Mul(_)
                    | BinOp::Div(_)
                    | BinOp::Rem(_) => both.as_class(Kinds::either_float(l.class, r.class)),
                    // comparisons, logic, bit operations, compound assignment
                    _ => both.as_class(NonFloat),
                }
            }
            Expr::Unary(u) => {
                let k = self.kinds(&u.expr);
                match u.op {
                    UnOp::Neg(_) | UnOp::Deref(_) => k,
                    _ => k.as_class(NonFloat),
                }
            }
            Expr::Paren(p) => self.kinds(&p.expr),
            Expr::Group(g) => self.kinds(&g.expr),
            // `&mut x` is rejected where it is used (a call argument, an assignment
            // through it); as a value it is `x`.
            Expr::Reference(r) => self.kinds(&r.expr),
            Expr::Cast(c) => {
                let k = self.kinds(&c.expr);
                if self.float.matches(&c.ty) {
                    k.as_class(Float)
                } else if self.other_float(&c.ty).is_some() {
                    // the other float type (`x as f32` in an `f64` function): a float
                    // of its own precision (`precision.rs`)
                    k.as_class(Float)
                } else if is_float_prim(&c.ty) {
                    // in a generic function: `as` does not apply
                    k.as_class(Unknown)
                } else if is_int_prim(&c.ty) {
                    k.as_class(NonFloat)
                } else {
                    k.as_class(Unknown)
                }
            }
            Expr::MethodCall(m) => self.method_kinds(m),
            Expr::Call(c) => self.call_kinds(c),
            Expr::Index(i) => {
                let base = self.kinds(&i.expr);
                let idx = self.kinds(&i.index);
                let both = base.merge(Kinds {
                    varied: false,
                    ..idx
                });
                match base.class {
                    Buf if matches!(strip_paren(&i.index), Expr::Range(_)) => both.as_class(Buf),
                    Buf => both.as_class(Float),
                    NonFloat if self.int_elems_of(&i.expr) => both.as_class(NonFloat),
                    _ => both.as_class(Unknown),
                }
            }
            Expr::If(i) => self.if_kinds(i),
            Expr::Block(b) => self.block_kinds(&b.block),
            Expr::Match(m) => self.match_kinds(m),
            // a `loop` that breaks with a value computes it from what its body reads
            Expr::Loop(l) => {
                let body = self.block_kinds(&l.body);
                let class = if body.mentions { Float } else { Unknown };
                Kinds {
                    varied: body.varied || body.mentions,
                    ..body
                }
                .as_class(class)
            }
            Expr::Macro(m) if m.mac.path.is_ident("vec") => self.vec_kinds(m),
            Expr::Macro(m) => {
                let k = self.token_kinds(m.mac.tokens.clone());
                if is_assert_macro(&m.mac.path) {
                    k.as_class(NonFloat)
                } else {
                    k
                }
            }
            Expr::Repeat(r) => {
                let k = self.kinds(&r.expr);
                let class = match k.class {
                    _ if k.is_unsound() => Buf,
                    Float => Buf,
                    NonFloat => NonFloat,
                    _ => Unknown,
                };
                k.as_class(class)
            }
            Expr::Array(a) => self.all_kinds(a.elems.iter()),
            Expr::Tuple(t) => self.all_kinds(t.elems.iter()),
            Expr::Field(f) => match self.tuple_field_kinds(f) {
                Some(k) => k,
                None => self.kinds(&f.base).as_class(Unknown),
            },
            Expr::Struct(s) => {
                let mut k = Kinds::of(Unknown);
                for f in &s.fields {
                    k = k.merge(self.kinds(&f.expr));
                }
                if let Some(rest) = &s.rest {
                    k = k.merge(self.kinds(rest));
                }
                k.as_class(Unknown)
            }
            Expr::Closure(c) => {
                let n = self.kcache.push_closure(c);
                let body = self.kinds(&c.body);
                self.kcache.pop(n);
                body.as_class(Unknown)
            }
            Expr::Assign(a) => self
                .kinds(&a.left)
                .merge(self.kinds(&a.right))
                .as_class(NonFloat),
            Expr::Range(r) => {
                let mut k = Kinds::of(NonFloat);
                for end in [&r.start, &r.end].into_iter().flatten() {
                    let ek = self.kinds(end);
                    k = k.merge(ek);
                    if ek.class != NonFloat {
                        k.class = Unknown;
                    }
                }
                k.as_class(k.class)
            }
            Expr::Let(l) => self.kinds(&l.expr).as_class(NonFloat),
            Expr::Return(_) | Expr::Break(_) | Expr::Continue(_) => self
                .token_kinds(quote::ToTokens::to_token_stream(e))
                .as_class(NonFloat),
            Expr::ForLoop(_) | Expr::While(_) => self
                .token_kinds(quote::ToTokens::to_token_stream(e))
                .as_class(NonFloat),
            // `match`, `loop` (may break with a value), `unsafe`, struct literals, `?`, …
            other => self.token_kinds(quote::ToTokens::to_token_stream(other)),
        }
    }

    /// An `if` as a value: its branches'; the condition only decides between them.
    fn if_kinds(&self, i: &syn::ExprIf) -> Kinds {
        use Class::*;
        let cond = self.kinds(&i.cond);
        let then = self.block_kinds(&i.then_branch);
        let els = match &i.else_branch {
            Some((_, e)) => self.kinds(e),
            None => Kinds::of(NonFloat),
        };
        let class = match (then.class, els.class) {
            (Float, _) | (_, Float) => Float,
            (Buf, _) | (_, Buf) => Buf,
            (NonFloat, NonFloat) => NonFloat,
            _ => Unknown,
        };
        let cond = Kinds {
            varied: false,
            ..cond
        };
        then.merge(els).merge(cond).as_class(class)
    }

    /// `vec![e; n]`: a float buffer when `e` is a float.
    fn vec_kinds(&self, m: &syn::ExprMacro) -> Kinds {
        use Class::*;
        let tokens = &m.mac.tokens;
        match syn::parse2::<syn::ExprRepeat>(quote::quote!([#tokens])) {
            Ok(r) => {
                // A temporary tree: classified without memoising its nodes.
                let k = self.kinds_unmemoised(&r.expr);
                let len = self.kinds_unmemoised(&r.len);
                let class = if k.class == Float || k.is_unsound() {
                    Buf
                } else {
                    Unknown
                };
                k.merge(len).as_class(class)
            }
            Err(_) => self.token_kinds(tokens.clone()),
        }
    }

    fn kinds_unmemoised(&self, e: &Expr) -> Kinds {
        // An overlay entry that names nothing disables memoisation for the duration.
        self.kcache
            .overlay
            .borrow_mut()
            .push((String::new(), Kinds::of(Class::Unknown)));
        let k = self.kinds(e);
        self.kcache.overlay.borrow_mut().pop();
        k
    }

    pub(super) fn all_kinds<'a>(&self, elems: impl Iterator<Item = &'a Expr>) -> Kinds {
        let mut k = Kinds::of(Class::NonFloat);
        for e in elems {
            let ek = self.kinds(e);
            if ek.class != Class::NonFloat {
                k.class = Class::Unknown;
            }
            k = k.merge(ek);
        }
        k.as_class(k.class)
    }

    pub(super) fn path_kinds(&self, e: &Expr, p: &syn::ExprPath) -> Kinds {
        if let Some(name) = p.path.get_ident().filter(|_| p.qself.is_none()) {
            let name = name.to_string();
            if let Some((_, k)) = self
                .kcache
                .overlay
                .borrow()
                .iter()
                .rev()
                .find(|(n, _)| *n == name)
            {
                return *k;
            }
        }
        if let Some(id) = self.lookup_path(e) {
            return self.var_kinds(id);
        }
        if self.is_float_type_path(&p.path) && p.path.segments.len() > 1 {
            // `std::f64::consts::PI`, `T::EPSILON`
            return Kinds::of(Class::Float);
        }
        // A `const`, a `static`, an enum variant: its type is not visible.
        Kinds::of(Class::Unknown)
    }

    /// The value of a block: its tail, with the block's own `let`s in scope.
    pub(super) fn block_kinds(&self, b: &syn::Block) -> Kinds {
        let mut pushed = 0;
        let mut side = Kinds::of(Class::NonFloat);
        for s in &b.stmts {
            let k = match s {
                SynStmt::Local(l) => {
                    let k = l.init.as_ref().map(|i| self.kinds(&i.expr));
                    pushed += self.kcache.push_let(self, l);
                    k
                }
                SynStmt::Expr(e, _) => Some(self.kinds(e)),
                SynStmt::Macro(m) => Some(self.token_kinds(m.mac.tokens.clone())),
                SynStmt::Item(_) => None,
            };
            if let Some(k) = k {
                side = side.merge(Kinds { varied: false, ..k });
            }
        }
        let tail = block_tail(b)
            .map(|t| self.kinds(t))
            .unwrap_or(Kinds::of(Class::NonFloat));
        self.kcache.pop(pushed);
        tail.merge(side).as_class(tail.class)
    }

    /// Like an `if` chain: the arms' values, with a name for the whole value bound
    /// to the scrutinee's kinds.
    fn match_kinds(&self, m: &syn::ExprMatch) -> Kinds {
        use Class::*;
        let scrut = self.kinds(&m.expr);
        let mut all = Kinds {
            varied: false,
            ..scrut
        };
        let mut classes = Vec::new();
        for arm in &m.arms {
            let mut names = Vec::new();
            super::scope::pat_idents(&arm.pat, &mut names);
            let whole = matches!(&arm.pat, Pat::Ident(pi) if pi.subpat.is_none());
            let k = if whole { scrut } else { Kinds::of(Unknown) };
            let n = self
                .kcache
                .push_names(names.into_iter().map(|i| (i.to_string(), k)));
            if let Some((_, g)) = &arm.guard {
                all = all.merge(Kinds {
                    varied: false,
                    ..self.kinds(g)
                });
            }
            let body = self.kinds(&arm.body);
            self.kcache.pop(n);
            classes.push(body.class);
            all = all.merge(body);
        }
        let class = if classes.contains(&Float) {
            Float
        } else if classes.contains(&Buf) {
            Buf
        } else if classes.iter().all(|c| *c == NonFloat) {
            NonFloat
        } else {
            Unknown
        };
        all.as_class(class)
    }

    /// The class a `let` gives the name it binds.
    fn let_kinds(&self, ty: Option<&syn::Type>, init: Option<Kinds>, simple: bool) -> Kinds {
        match (ty.map(|t| self.classify_ty(t)), init) {
            (Some(TyClass::Float), Some(k)) => k.as_class(Class::Float),
            (Some(TyClass::Float), None) => Kinds::of(Class::Float),
            // `let h: f32 = ..;` in an `f64` function: a float of the other type
            (Some(TyClass::OtherFloat), Some(k))
                if ty.is_some_and(|t| self.other_float(t).is_some()) =>
            {
                k.as_class(Class::Float)
            }
            (Some(TyClass::OtherFloat), None)
                if ty.is_some_and(|t| self.other_float(t).is_some()) =>
            {
                Kinds::of(Class::Float)
            }
            (Some(TyClass::Buf(_)), _) => Kinds::of(Class::Buf),
            (Some(_), _) => Kinds::of(Class::NonFloat),
            (None, Some(k)) if simple => k,
            (None, Some(k)) => k.as_class(Class::Unknown),
            (None, None) => Kinds::of(Class::Unknown),
        }
    }

    /// The merged facts of call arguments, and whether one is a float or a buffer.
    fn args_kinds<'a>(&self, args: impl Iterator<Item = &'a Expr>) -> (Kinds, bool) {
        let mut all = Kinds::of(Class::NonFloat);
        let mut float_arg = false;
        for a in args {
            let k = self.kinds(a);
            float_arg |= matches!(k.class, Class::Float | Class::Buf);
            all = all.merge(k);
        }
        (all, float_arg)
    }

    pub(super) fn method_kinds(&self, m: &syn::ExprMethodCall) -> Kinds {
        use Class::*;
        let name = m.method.to_string();
        let recv = self.kinds(&m.receiver);
        let (args, float_arg) = self.args_kinds(m.args.iter());
        let all = recv.merge(args);
        if PASSIVE_BUF_METHODS.contains(&name.as_str()) && m.args.is_empty() && recv.class == Buf {
            return Kinds {
                class: NonFloat,
                mentions: true,
                reads: false,
                varied: false,
            };
        }
        if recv.class == Float && is_passive_float_method(&name) {
            return all.as_class(NonFloat);
        }
        if recv.class == Buf && COMPARING_BUF_METHODS.contains(&name.as_str()) {
            return all.as_class(NonFloat);
        }
        if self.is_float_chain(m) {
            return all.as_class(Float);
        }
        // `(0..n).map(|i| w[i]).sum()`: an iterator, unless it is a method of a
        // passive value (`self.sum(x)`, a differentiable call).
        let method_of_value =
            recv.class == NonFloat && matches!(strip_paren(&m.receiver), Expr::Path(_));
        if ITERATOR_METHODS.contains(&name.as_str()) && !method_of_value {
            return all.as_class(Unknown);
        }
        if method_op(&name).is_some() {
            match recv.class {
                Float => return all.as_class(Float),
                // `self.k.max(x)`: a float method of a value whose type is not visible;
                // if it is not a float, the generated `f64::max(self.k, x)` does not compile.
                Unknown if float_arg => return all.as_class(Float),
                _ => {}
            }
        }
        if matches!(name.as_str(), "unwrap" | "expect") && self.is_float_from(&m.receiver) {
            // `T::from(n).unwrap()` of a non-float is a constant; of a float, unknown.
            return recv.as_class(if recv.varied { Unknown } else { Float });
        }
        match recv.class {
            // iterators, `first`, `get`, … of a buffer; unknown methods of a float
            Float | Buf => all.as_class(Unknown),
            // `self.g(x)`: a method of a passive value with float arguments is a
            // differentiable call (`self.g_fwd(..)`), which fails to compile unless
            // `g` is differentiable.
            NonFloat | Unknown if float_arg && !recv.varied => all.as_class(Float),
            NonFloat | Unknown => all.as_class(Unknown),
        }
    }

    /// A chain `lower/iter.rs` desugars whose elements are floats: a float buffer as
    /// its source, a closure computing a float, or a float `fold` seed.
    pub(super) fn is_float_chain(&self, m: &syn::ExprMethodCall) -> bool {
        if super::iter::parse_chain(m).is_none() {
            return false;
        }
        let mut e = &m.receiver;
        let mut float = m
            .args
            .iter()
            .take(1)
            .any(|init| m.method == "fold" && self.kinds(init).class == Class::Float);
        if let Some(syn::GenericArgument::Type(t)) =
            m.turbofish.as_ref().and_then(|t| t.args.first())
        {
            return self.float.matches(t) || self.other_float(t).is_some();
        }
        while let Expr::MethodCall(inner) = strip_paren(e) {
            for a in &inner.args {
                let k = match strip_paren(a) {
                    Expr::Closure(c) => {
                        let n = self.kcache.push_closure(c);
                        let k = self.kinds(&c.body);
                        self.kcache.pop(n);
                        k
                    }
                    // `.zip(w.iter())`
                    Expr::MethodCall(z) if z.method == "iter" => self.kinds(&z.receiver),
                    other => self.kinds(other),
                };
                float |= matches!(k.class, Class::Float | Class::Buf);
            }
            float |= self.kinds(&inner.receiver).class == Class::Buf;
            e = &inner.receiver;
        }
        float
            || matches!(strip_paren(e), Expr::Reference(r) if self.kinds(&r.expr).class == Class::Buf)
    }

    /// `T::from(..)`, `f64::from(..)`, `NumCast::from(..)`: a conversion into the float type.
    pub(super) fn is_float_from(&self, e: &Expr) -> bool {
        let Expr::Call(c) = strip_paren(e) else {
            return false;
        };
        match &*c.func {
            Expr::Path(p) => self.is_float_from_path(&p.path),
            _ => false,
        }
    }

    pub(super) fn is_float_from_path(&self, p: &syn::Path) -> bool {
        let n = p.segments.len();
        n >= 2
            && p.segments[n - 1].ident == "from"
            && (self.is_float_type_path(p) || p.segments.iter().any(|s| s.ident == "NumCast"))
    }

    pub(super) fn call_kinds(&self, c: &syn::ExprCall) -> Kinds {
        use Class::*;
        let (args, float_arg) = self.args_kinds(c.args.iter());
        let Expr::Path(p) = &*c.func else {
            return self.kinds(&c.func).merge(args).as_class(Unknown);
        };
        if self.float_method_path(&c.func).is_some() {
            return args.as_class(Float);
        }
        if self.is_float_from_path(&p.path) {
            // `T::from(n)` is an `Option<T>`; `f64::from(n)` a float.
            let direct = p.path.segments.len() == 2
                && matches!(p.path.segments[0].ident.to_string().as_str(), "f64" | "f32");
            // `f64::from(h)` of a differentiated float: the cast `h as f64`
            if direct && c.args.len() == 1 && self.kinds(&c.args[0]).class == Float {
                return args.as_class(Float);
            }
            return args.as_class(if direct && !args.varied {
                Float
            } else {
                Unknown
            });
        }
        if self.is_float_type_path(&p.path) {
            // `T::zero()`, `f64::max_value()`; anything else of a float type on a
            // differentiated value is unknown.
            return args.as_class(if args.varied || float_arg {
                Unknown
            } else {
                Float
            });
        }
        if let Some(idx) = self.closure_of(&c.func) {
            // a local closure, inlined: its body's kind
            let each: Vec<Kinds> = c.args.iter().map(|a| self.kinds(a)).collect();
            let body = self.closure_call_kinds(idx, &each);
            return args.merge(body).as_class(body.class);
        }
        if self.lookup_path(&c.func).is_some() {
            return args.as_class(Unknown);
        }
        let constructor = p
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident.to_string().starts_with(char::is_uppercase));
        if constructor || is_std_path(&p.path) {
            return args.as_class(Unknown);
        }
        // A call of a plain function with an argument that may carry a derivative is a
        // differentiable call: its arguments are checked where it is lowered.
        if float_arg || args.varied {
            args.as_class(Float)
        } else {
            args.as_class(Unknown)
        }
    }

    /// Is `e` (a path) a container of non-floats, as its parameter type says?
    pub(super) fn int_elems_of(&self, e: &Expr) -> bool {
        self.lookup_path(e)
            .is_some_and(|id| self.facts[id].int_elems)
    }
}

/// `std::..`, `core::..`, `Box::new`, `Into::into`: library code, not differentiable calls.
fn is_std_path(p: &syn::Path) -> bool {
    let first = p
        .segments
        .first()
        .map(|s| s.ident.to_string())
        .unwrap_or_default();
    matches!(
        first.as_str(),
        "std"
            | "core"
            | "alloc"
            | "Box"
            | "Vec"
            | "Option"
            | "Result"
            | "String"
            | "Into"
            | "From"
            | "Default"
            | "Clone"
            | "Iterator"
            | "IntoIterator"
            | "drop"
    )
}

fn closure_params(c: &syn::ExprClosure) -> Vec<String> {
    let mut names = Vec::new();
    for i in &c.inputs {
        super::scope::pat_idents(i, &mut names);
    }
    names.into_iter().map(|i| i.to_string()).collect()
}
