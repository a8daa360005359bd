//! `syn::ItemFn` → [`ir::Func`](crate::ir::Func): the only place that matches on syntax and names.
//!
//! Lowering infers a kind for every value (float, float buffer, passive) from
//! what it can see, flattens float expressions into three-address statements,
//! turns `break`/`continue`/`return` into flags and guards (so both generators
//! only see structured control flow), and records every unsupported construct
//! as a spanned error without stopping.

use std::collections::BTreeMap;

use proc_macro2::{Ident, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, ToTokens};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;
use syn::{BinOp, Expr, FnArg, Pat, ReturnType, Stmt as SynStmt, Type, UnOp};

use crate::attr::Config;
use crate::diag::Diag;
use crate::ir::*;
use crate::rules::{binop_tokens, compound_op, compound_tokens, method_op, Op, SUPPORTED_METHODS};

/// Methods on a float that give a passive (non-float) result.
fn is_passive_float_method(name: &str) -> bool {
    matches!(
        name,
        "is_nan"
            | "is_finite"
            | "is_infinite"
            | "is_normal"
            | "is_sign_positive"
            | "is_sign_negative"
            | "to_bits"
            | "partial_cmp"
            | "total_cmp"
            | "classify"
            | "to_string"
    )
}

struct LoopCtx {
    brk: Option<VarId>,
    cont: Option<VarId>,
}

/// Which early exits a lowered statement may take.
#[derive(Clone, Copy, Default)]
struct Exits {
    brk: bool,
    cont: bool,
    ret: bool,
}

impl Exits {
    fn any(self) -> bool {
        self.brk || self.cont || self.ret
    }
    fn or(self, o: Exits) -> Exits {
        Exits {
            brk: self.brk || o.brk,
            cont: self.cont || o.cont,
            ret: self.ret || o.ret,
        }
    }
}

pub struct Lowerer<'d> {
    diag: &'d mut Diag,
    vars: Vec<Var>,
    scopes: Vec<Vec<(String, VarId)>>,
    used_names: BTreeMap<String, usize>,
    float: FloatTy,
    generic_float: Option<String>,
    blocks: usize,
    block_stack: Vec<usize>,
    loop_depth: usize,
    loops: Vec<LoopCtx>,
    /// `(return value, returned flag)` when the body returns early.
    early_ret: Option<(VarId, VarId)>,
}

/// Lowers a function; `None` when it cannot be lowered at all (errors are in `diag`).
pub fn lower_fn(
    sig: &syn::Signature,
    block: &syn::Block,
    config: &Config,
    diag: &mut Diag,
) -> Option<Func> {
    let float = float_of_return(sig, diag)?;
    let generic_float = match &float {
        FloatTy::Generic(i) => Some(i.to_string()),
        _ => None,
    };
    let mut lw = Lowerer {
        diag,
        vars: Vec::new(),
        scopes: vec![Vec::new()],
        used_names: BTreeMap::new(),
        float,
        generic_float,
        blocks: 1,
        block_stack: vec![0],
        loop_depth: 0,
        loops: Vec::new(),
        early_ret: None,
    };
    if sig.asyncness.is_some() {
        lw.diag.error(
            sig.asyncness.span(),
            "`#[differentiate]` cannot differentiate an `async fn`; remove `async`",
        );
    }
    if let Some(c) = &sig.constness {
        lw.diag.error(
            c.span(),
            "`#[differentiate]` cannot differentiate a `const fn`; remove `const`",
        );
    }
    let params = lw.lower_params(sig, config);
    let mut body = Block {
        id: 0,
        stmts: Vec::new(),
    };
    // Reserve the names users see first, so that generated names never clash with them.
    let mut names = Vec::new();
    collect_idents(block.to_token_stream(), &mut names);
    for n in names {
        lw.used_names.entry(n).or_insert(0);
    }
    let has_return = contains_return(block);
    if has_return {
        let ret = lw.new_var("__ret", Kind::Float, Span::call_site(), None);
        let flag = lw.new_var("__returned", Kind::Passive, Span::call_site(), None);
        let zero = lw.zero_tokens();
        body.stmts.push(Stmt::Let {
            var: ret,
            rhs: Rhs::Op(Op::Copy, vec![Operand::Const(PExpr::constant(zero))]),
            mutable: true,
        });
        body.stmts.push(Stmt::new_flag(flag));
        lw.early_ret = Some((ret, flag));
    }
    for p in &params {
        lw.used_names.insert(format!("d{}", p.ident), 1);
    }
    let tail = lw.lower_block_into(&block.stmts, &mut body, true);
    let ret = match (lw.early_ret, tail) {
        (Some((ret, _)), Some(op)) => {
            body.stmts.push(Stmt::Assign {
                var: ret,
                rhs: Rhs::Op(Op::Copy, vec![op]),
                init: false,
            });
            ret
        }
        (Some((ret, _)), None) => ret,
        (None, Some(Operand::Var(v))) if lw.vars[v].kind == Kind::Float => v,
        (None, Some(op)) => {
            let v = lw.new_var("__ret", Kind::Float, block.span(), None);
            body.stmts.push(Stmt::Let {
                var: v,
                rhs: Rhs::Op(Op::Copy, vec![op]),
                mutable: false,
            });
            v
        }
        (None, None) => {
            let span = block
                .stmts
                .last()
                .map(|s| s.span())
                .unwrap_or_else(|| block.span());
            lw.diag.error(
                span,
                "expected the function body to end in a float expression (or `return`)",
            );
            return None;
        }
    };
    Some(Func {
        vars: lw.vars,
        params,
        body,
        ret,
        float: lw.float,
        n_blocks: lw.blocks,
    })
}

fn collect_idents(ts: TokenStream, out: &mut Vec<String>) {
    for tt in ts {
        match tt {
            TokenTree::Ident(i) => out.push(i.to_string()),
            TokenTree::Group(g) => collect_idents(g.stream(), out),
            _ => {}
        }
    }
}

fn contains_return(block: &syn::Block) -> bool {
    struct V(bool);
    impl<'a> Visit<'a> for V {
        fn visit_expr_return(&mut self, _: &'a syn::ExprReturn) {
            self.0 = true;
        }
        fn visit_expr_closure(&mut self, _: &'a syn::ExprClosure) {}
        fn visit_item(&mut self, _: &'a syn::Item) {}
    }
    let mut v = V(false);
    v.visit_block(block);
    v.0
}

/// `(break, continue)` directly targeting this loop (not nested loops).
fn loop_exits(block: &syn::Block) -> (bool, bool) {
    struct V(bool, bool);
    impl<'a> Visit<'a> for V {
        fn visit_expr_break(&mut self, _: &'a syn::ExprBreak) {
            self.0 = true;
        }
        fn visit_expr_continue(&mut self, _: &'a syn::ExprContinue) {
            self.1 = true;
        }
        fn visit_expr_for_loop(&mut self, _: &'a syn::ExprForLoop) {}
        fn visit_expr_while(&mut self, _: &'a syn::ExprWhile) {}
        fn visit_expr_loop(&mut self, _: &'a syn::ExprLoop) {}
        fn visit_expr_closure(&mut self, _: &'a syn::ExprClosure) {}
        fn visit_item(&mut self, _: &'a syn::Item) {}
    }
    let mut v = V(false, false);
    v.visit_block(block);
    (v.0, v.1)
}

fn float_of_return(sig: &syn::Signature, diag: &mut Diag) -> Option<FloatTy> {
    let generics: Vec<String> = sig
        .generics
        .type_params()
        .map(|p| p.ident.to_string())
        .collect();
    match &sig.output {
        ReturnType::Default => {
            diag.error(
                sig.ident.span(),
                format!(
                    "`#[differentiate]` needs a function that returns a float (`f64`, `f32` or a generic `T: Float`); `{}` returns `()`",
                    sig.ident
                ),
            );
            None
        }
        ReturnType::Type(_, ty) => match float_ty_of(ty, &generics) {
            Some(f) => Some(f),
            None => {
                diag.error(
                    ty.span(),
                    format!(
                        "`#[differentiate]` needs a function that returns a float (`f64`, `f32` or a generic `T: Float`), found `{}`",
                        ty.to_token_stream()
                    ),
                );
                None
            }
        },
    }
}

fn float_ty_of(ty: &Type, generics: &[String]) -> Option<FloatTy> {
    match ty {
        Type::Paren(p) => float_ty_of(&p.elem, generics),
        Type::Group(g) => float_ty_of(&g.elem, generics),
        Type::Path(p) if p.qself.is_none() && p.path.segments.len() == 1 => {
            let seg = &p.path.segments[0];
            if !seg.arguments.is_none() {
                return None;
            }
            let name = seg.ident.to_string();
            match name.as_str() {
                "f64" => Some(FloatTy::F64),
                "f32" => Some(FloatTy::F32),
                _ if generics.contains(&name) => Some(FloatTy::Generic(seg.ident.clone())),
                _ => None,
            }
        }
        _ => None,
    }
}

impl FloatTy {
    fn matches(&self, ty: &Type) -> bool {
        match (self, strip_ty(ty)) {
            (FloatTy::F64, Type::Path(p)) => p.path.is_ident("f64"),
            (FloatTy::F32, Type::Path(p)) => p.path.is_ident("f32"),
            (FloatTy::Generic(g), Type::Path(p)) => p.path.is_ident(g),
            _ => false,
        }
    }
}

fn strip_ty(ty: &Type) -> &Type {
    match ty {
        Type::Paren(p) => strip_ty(&p.elem),
        Type::Group(g) => strip_ty(&g.elem),
        t => t,
    }
}

fn is_float_prim(ty: &Type) -> bool {
    matches!(strip_ty(ty), Type::Path(p) if p.path.is_ident("f64") || p.path.is_ident("f32"))
}

/// Classification of a parameter or annotated type.
enum TyClass {
    Float,
    Buf(BufRepr),
    /// A float type other than the function's (mixed precision).
    OtherFloat,
    /// A container of floats in a form the contract does not cover (`&Vec<F>`, `&mut [F]`).
    UnsupportedFloatContainer,
    Passive,
}

impl Lowerer<'_> {
    fn classify_ty(&self, ty: &Type) -> TyClass {
        let ty = strip_ty(ty);
        if self.float.matches(ty) {
            return TyClass::Float;
        }
        if is_float_prim(ty) {
            return TyClass::OtherFloat;
        }
        match ty {
            Type::Reference(r) => {
                let inner = strip_ty(&r.elem);
                match inner {
                    Type::Slice(s) if self.float.matches(&s.elem) => {
                        if r.mutability.is_some() {
                            TyClass::UnsupportedFloatContainer
                        } else {
                            TyClass::Buf(BufRepr::SliceParam)
                        }
                    }
                    Type::Array(a) if self.float.matches(&a.elem) => {
                        if r.mutability.is_some() {
                            TyClass::UnsupportedFloatContainer
                        } else {
                            TyClass::Buf(BufRepr::ArrayRefParam)
                        }
                    }
                    _ if self.float.matches(inner) => TyClass::UnsupportedFloatContainer,
                    Type::Path(p) if self.is_vec_of_float(p) => TyClass::UnsupportedFloatContainer,
                    _ => TyClass::Passive,
                }
            }
            Type::Array(a) if self.float.matches(&a.elem) => TyClass::Buf(BufRepr::ArrayParam),
            Type::Path(p) if self.is_vec_of_float(p) => TyClass::Buf(BufRepr::LocalVec),
            _ => TyClass::Passive,
        }
    }

    fn is_vec_of_float(&self, p: &syn::TypePath) -> bool {
        let Some(seg) = p.path.segments.last() else {
            return false;
        };
        if seg.ident != "Vec" {
            return false;
        }
        match &seg.arguments {
            syn::PathArguments::AngleBracketed(a) => a.args.iter().any(|g| match g {
                syn::GenericArgument::Type(t) => self.float.matches(t),
                _ => false,
            }),
            _ => false,
        }
    }

    fn lower_params(&mut self, sig: &syn::Signature, config: &Config) -> Vec<Param> {
        let mut params = Vec::new();
        let mut rejected = false;
        let mut wrt_found: Vec<bool> = config
            .wrt
            .as_ref()
            .map(|w| vec![false; w.len()])
            .unwrap_or_default();
        for arg in &sig.inputs {
            match arg {
                FnArg::Receiver(r) => {
                    if r.mutability.is_some() && r.reference.is_some() {
                        self.diag.error_spanned(
                            r,
                            "`#[differentiate]` does not support `&mut self` methods; take `&self` and return the new value",
                        );
                    }
                    let id = self.new_var("self", Kind::Passive, r.span(), None);
                    self.vars[id].is_param = true;
                    self.vars[id].ident = Ident::new("self", r.self_token.span);
                    self.bind("self", id);
                    params.push(Param {
                        var: Some(id),
                        ident: Ident::new("self", r.self_token.span),
                    });
                }
                FnArg::Typed(pt) => {
                    let (ident, _mutable) = match &*pt.pat {
                        Pat::Ident(pi) if pi.subpat.is_none() && pi.by_ref.is_none() => {
                            (pi.ident.clone(), pi.mutability.is_some())
                        }
                        other => {
                            let class = self.classify_ty(&pt.ty);
                            if !matches!(class, TyClass::Passive) {
                                self.diag.error(
                                    other.span(),
                                    "`#[differentiate]` needs a plain name for a float parameter; destructure it in the body",
                                );
                            }
                            params.push(Param {
                                var: None,
                                ident: format_ident!("__arg{}", params.len()),
                            });
                            continue;
                        }
                    };
                    let listed = config
                        .wrt
                        .as_ref()
                        .and_then(|w| w.iter().position(|n| *n == ident));
                    if let Some(i) = listed {
                        wrt_found[i] = true;
                    }
                    let class = self.classify_ty(&pt.ty);
                    let rejected_before = rejected;
                    let (kind, buf) = match class {
                        TyClass::Float => (Kind::Float, None),
                        TyClass::Buf(r) => (Kind::Buf, Some(r)),
                        TyClass::OtherFloat => {
                            rejected = true;
                            if listed.is_some() || config.wrt.is_none() {
                                self.diag.error_spanned(
                                    &pt.ty,
                                    format!(
                                        "parameter `{ident}` has type `{}` but the function returns `{}`; `#[differentiate]` needs one float type per function",
                                        pretty(&pt.ty),
                                        self.float_ty_tokens()
                                    ),
                                );
                            }
                            (Kind::Passive, None)
                        }
                        TyClass::UnsupportedFloatContainer => {
                            rejected = true;
                            if listed.is_some() || config.wrt.is_none() {
                                self.diag.error_spanned(
                                    &pt.ty,
                                    format!(
                                        "`#[differentiate]` does not support a parameter of type `{}`; use `&[{f}]`, `[{f}; N]` or `&[{f}; N]`",
                                        pretty(&pt.ty),
                                        f = self.float_ty_tokens()
                                    ),
                                );
                            }
                            (Kind::Passive, None)
                        }
                        TyClass::Passive => {
                            if let Some(i) = listed {
                                let name = &config.wrt.as_ref().map(|w| w[i].clone());
                                if let Some(name) = name {
                                    self.diag.error(
                                        name.span(),
                                        format!(
                                            "`wrt` names `{name}`, which is not a float parameter; only `{f}`, `&[{f}]` and `[{f}; N]` parameters can be differentiated",
                                            f = self.float_ty_tokens()
                                        ),
                                    );
                                }
                            }
                            (Kind::Passive, None)
                        }
                    };
                    let rejected_here = rejected && !rejected_before;
                    let buf = if kind == Kind::Buf { buf } else { None };
                    let active =
                        kind != Kind::Passive && (config.wrt.is_none() || listed.is_some());
                    // A float parameter left out of `wrt` is data: passive.
                    let kind = if kind == Kind::Float && !active {
                        Kind::Float
                    } else {
                        kind
                    };
                    let id = self.new_var(&ident.to_string(), kind, ident.span(), buf);
                    self.vars[id].ident = ident.clone();
                    self.vars[id].is_param = true;
                    self.vars[id].wrt = active;
                    self.vars[id].poisoned = rejected_here;
                    self.bind(&ident.to_string(), id);
                    params.push(Param {
                        var: Some(id),
                        ident,
                    });
                }
            }
        }
        if let Some(w) = &config.wrt {
            for (i, found) in wrt_found.iter().enumerate() {
                if !found {
                    self.diag.error(
                        w[i].span(),
                        format!(
                            "`wrt` names `{}`, which is not a parameter of `{}`",
                            w[i], sig.ident
                        ),
                    );
                }
            }
        }
        if !rejected
            && !params
                .iter()
                .any(|p| p.var.map(|v| self.vars[v].wrt).unwrap_or(false))
            && config.wrt.is_none()
        {
            self.diag.error(
                sig.ident.span(),
                format!(
                    "`{}` has no float parameter to differentiate; `#[differentiate]` needs a parameter of type `{f}`, `&[{f}]` or `[{f}; N]`",
                    sig.ident,
                    f = self.float_ty_tokens()
                ),
            );
        }
        params
    }

    pub fn float_ty_tokens(&self) -> TokenStream {
        match &self.float {
            FloatTy::F64 => quote!(f64),
            FloatTy::F32 => quote!(f32),
            FloatTy::Generic(i) => quote!(#i),
        }
    }

    fn zero_pexpr(&self) -> PExpr {
        PExpr::constant(self.zero_tokens())
    }

    fn zero_tokens(&self) -> TokenStream {
        match &self.float {
            FloatTy::F64 | FloatTy::F32 => quote!(0.0),
            FloatTy::Generic(i) => quote!(<#i as ::autodiff::__private::Zero>::zero()),
        }
    }

    // ---- variables and scopes ----

    fn new_var(&mut self, name: &str, kind: Kind, span: Span, buf: Option<BufRepr>) -> VarId {
        let count = self.used_names.entry(name.to_string()).or_insert(0);
        *count += 1;
        let ident = if *count == 1 && !name.starts_with("__") {
            Ident::new(name, span)
        } else {
            let mut n = *count;
            loop {
                let candidate = format!("{}_{}", name.trim_start_matches("__"), n);
                let candidate = if name.starts_with("__") {
                    format!("__{candidate}")
                } else {
                    candidate
                };
                if !self.used_names.contains_key(&candidate) {
                    self.used_names.insert(candidate.clone(), 1);
                    break Ident::new(&candidate, span);
                }
                n += 1;
            }
        };
        self.vars.push(Var {
            ident,
            kind,
            buf,
            block: self.block_stack.last().copied().unwrap_or(0),
            is_param: false,
            wrt: false,
            poisoned: false,
            undecided: false,
            by_ref_elem: false,
            view: None,
        });
        self.vars.len() - 1
    }

    fn new_tmp(&mut self, span: Span) -> VarId {
        self.new_var("__t", Kind::Float, span, None)
    }

    fn bind(&mut self, name: &str, id: VarId) {
        if let Some(s) = self.scopes.last_mut() {
            s.push((name.to_string(), id));
        }
    }

    fn lookup(&self, name: &str) -> Option<VarId> {
        for scope in self.scopes.iter().rev() {
            for (n, id) in scope.iter().rev() {
                if n == name {
                    return Some(*id);
                }
            }
        }
        None
    }

    fn lookup_path(&self, e: &Expr) -> Option<VarId> {
        match e {
            Expr::Path(p)
                if p.qself.is_none()
                    && p.path.segments.len() == 1
                    && p.path.segments[0].arguments.is_none() =>
            {
                self.lookup(&p.path.segments[0].ident.to_string())
            }
            Expr::Paren(p) => self.lookup_path(&p.expr),
            Expr::Group(g) => self.lookup_path(&g.expr),
            _ => None,
        }
    }

    fn new_block(&mut self) -> Block {
        let id = self.blocks;
        self.blocks += 1;
        Block {
            id,
            stmts: Vec::new(),
        }
    }

    fn enter(&mut self, b: &Block) {
        self.block_stack.push(b.id);
        self.scopes.push(Vec::new());
    }

    fn leave(&mut self) {
        self.block_stack.pop();
        self.scopes.pop();
    }

    // ---- kinds ----

    /// Does the expression read any float or float-buffer variable?
    fn touches_float(&self, e: &Expr) -> bool {
        let mut found = false;
        self.for_each_var(e.to_token_stream(), &mut |id| {
            if self.vars[id].kind != Kind::Passive {
                found = true;
            }
        });
        found
    }

    fn for_each_var(&self, ts: TokenStream, f: &mut impl FnMut(VarId)) {
        let mut prev_dot = false;
        for tt in ts {
            match &tt {
                TokenTree::Ident(i) => {
                    if !prev_dot {
                        if let Some(id) = self.lookup(&i.to_string()) {
                            f(id);
                        }
                    }
                    prev_dot = false;
                }
                TokenTree::Group(g) => {
                    self.for_each_var(g.stream(), f);
                    prev_dot = false;
                }
                TokenTree::Punct(p) => prev_dot = p.as_char() == '.' || p.as_char() == ':',
                TokenTree::Literal(_) => prev_dot = false,
            }
        }
    }

    fn is_float_type_path(&self, p: &syn::Path) -> bool {
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

    fn kind_of(&self, e: &Expr) -> Kind {
        match e {
            Expr::Lit(l) => match &l.lit {
                syn::Lit::Float(_) => Kind::Float,
                _ => Kind::Passive,
            },
            Expr::Path(p) => {
                if let Some(id) = self.lookup_path(e) {
                    self.vars[id].kind
                } else if self.is_float_type_path(&p.path) && p.path.segments.len() > 1 {
                    Kind::Float
                } else {
                    Kind::Passive
                }
            }
            Expr::Binary(b) => match b.op {
                BinOp::Add(_) | BinOp::Sub(_) | BinOp::Mul(_) | BinOp::Div(_) | BinOp::Rem(_) => {
                    if self.kind_of(&b.left) == Kind::Float || self.kind_of(&b.right) == Kind::Float
                    {
                        Kind::Float
                    } else {
                        Kind::Passive
                    }
                }
                _ => Kind::Passive,
            },
            Expr::Unary(u) => match u.op {
                UnOp::Neg(_) | UnOp::Deref(_) => self.kind_of(&u.expr),
                _ => Kind::Passive,
            },
            Expr::Paren(p) => self.kind_of(&p.expr),
            Expr::Group(g) => self.kind_of(&g.expr),
            Expr::Reference(r) => self.kind_of(&r.expr),
            Expr::Cast(c) => {
                if self.float.matches(&c.ty) || is_float_prim(&c.ty) {
                    Kind::Float
                } else {
                    Kind::Passive
                }
            }
            Expr::MethodCall(m) => {
                let name = m.method.to_string();
                if name == "len" || is_passive_float_method(&name) {
                    return Kind::Passive;
                }
                let rk = self.kind_of(&m.receiver);
                if method_op(&name).is_some() && rk == Kind::Float {
                    return Kind::Float;
                }
                if rk == Kind::Buf {
                    return Kind::Passive;
                }
                if rk == Kind::Float {
                    // An unknown method on a float: lowering rejects it with a precise error,
                    // and `T::from(x).unwrap()` on a constant stays a float.
                    return Kind::Float;
                }
                if m.args.iter().any(|a| self.kind_of(a) != Kind::Passive) {
                    Kind::Float
                } else {
                    Kind::Passive
                }
            }
            Expr::Call(c) => {
                if let Expr::Path(p) = &*c.func {
                    if self.is_float_type_path(&p.path) {
                        return Kind::Float;
                    }
                }
                if c.args.iter().any(|a| self.kind_of(a) != Kind::Passive) {
                    Kind::Float
                } else {
                    Kind::Passive
                }
            }
            Expr::Index(i) => {
                if self.kind_of(&i.expr) != Kind::Buf {
                    Kind::Passive
                } else if matches!(strip_paren(&i.index), Expr::Range(_)) {
                    Kind::Buf
                } else {
                    Kind::Float
                }
            }
            Expr::If(i) => match block_tail(&i.then_branch) {
                Some(t) => {
                    let k = self.kind_of(t);
                    if k == Kind::Passive {
                        if let Some((_, els)) = &i.else_branch {
                            return self.kind_of(els);
                        }
                    }
                    k
                }
                None => Kind::Passive,
            },
            Expr::Block(b) => block_tail(&b.block)
                .map(|t| self.kind_of(t))
                .unwrap_or(Kind::Passive),
            Expr::Macro(m) if m.mac.path.is_ident("vec") => {
                let tokens = &m.mac.tokens;
                match syn::parse2::<syn::ExprRepeat>(quote!([#tokens])) {
                    Ok(r) if self.kind_of(&r.expr) == Kind::Float => Kind::Buf,
                    _ => Kind::Passive,
                }
            }
            Expr::Repeat(r) => {
                if self.kind_of(&r.expr) == Kind::Float {
                    Kind::Buf
                } else {
                    Kind::Passive
                }
            }
            _ => Kind::Passive,
        }
    }

    // ---- passive expressions ----

    /// Renames variable references to their emitted names and records what is read.
    fn passive(&mut self, e: &Expr) -> PExpr {
        let mut e = e.clone();
        let mut reads = Vec::new();
        let mut r = Renamer {
            lw: self,
            reads: &mut reads,
            local: Vec::new(),
        };
        r.visit_expr_mut(&mut e);
        reads.sort_unstable();
        reads.dedup();
        PExpr {
            tokens: e.to_token_stream(),
            reads,
        }
    }

    fn passive_tokens(&mut self, ts: TokenStream) -> PExpr {
        let mut reads = Vec::new();
        let tokens = self.rename_tokens(ts, &mut reads);
        reads.sort_unstable();
        reads.dedup();
        PExpr { tokens, reads }
    }

    fn rename_tokens(&self, ts: TokenStream, reads: &mut Vec<VarId>) -> TokenStream {
        let mut out = Vec::new();
        let mut prev_dot = false;
        for tt in ts {
            match tt {
                TokenTree::Ident(i) => {
                    let mut replaced = TokenTree::Ident(i.clone());
                    if !prev_dot {
                        if let Some(id) = self.lookup(&i.to_string()) {
                            reads.push(id);
                            let mut ni = self.vars[id].ident.clone();
                            ni.set_span(i.span());
                            replaced = TokenTree::Ident(ni);
                        }
                    }
                    out.push(replaced);
                    prev_dot = false;
                }
                TokenTree::Group(g) => {
                    let mut ng = proc_macro2::Group::new(
                        g.delimiter(),
                        self.rename_tokens(g.stream(), reads),
                    );
                    ng.set_span(g.span());
                    out.push(TokenTree::Group(ng));
                    prev_dot = false;
                }
                TokenTree::Punct(p) => {
                    prev_dot = p.as_char() == '.';
                    out.push(TokenTree::Punct(p));
                }
                other => {
                    prev_dot = false;
                    out.push(other);
                }
            }
        }
        out.into_iter().collect()
    }

    /// A passive expression that must not read a float value (an index, a bound).
    fn index_expr(&mut self, e: &Expr, what: &str) -> PExpr {
        if self.touches_float_value(e) {
            self.diag.error_spanned(
                e,
                format!("`#[differentiate]` cannot use a differentiated value as {what}; indices and loop bounds must be integers computed from passive values"),
            );
        }
        self.passive(e)
    }

    /// Does `e` read a float value (not just a buffer's length)?
    fn touches_float_value(&self, e: &Expr) -> bool {
        struct V<'a, 'b> {
            lw: &'a Lowerer<'b>,
            found: bool,
        }
        impl<'ast> Visit<'ast> for V<'_, '_> {
            fn visit_expr(&mut self, e: &'ast Expr) {
                match e {
                    Expr::MethodCall(m) if m.method == "len" => {}
                    Expr::Cast(c) if !self.lw.float.matches(&c.ty) && !is_float_prim(&c.ty) => {
                        // `x as usize` of a float: an integer, but derived from a value
                        if self.lw.touches_float(&c.expr) && self.lw.kind_of(&c.expr) == Kind::Float
                        {
                            self.found = true;
                        }
                    }
                    Expr::Path(_) => {
                        if let Some(id) = self.lw.lookup_path(e) {
                            if self.lw.vars[id].kind == Kind::Float {
                                self.found = true;
                            }
                        }
                    }
                    Expr::Index(i) => {
                        if self.lw.kind_of(&i.expr) == Kind::Buf {
                            self.found = true;
                        }
                        self.visit_expr(&i.index);
                    }
                    _ => syn::visit::visit_expr(self, e),
                }
            }
        }
        let mut v = V {
            lw: self,
            found: false,
        };
        v.visit_expr(e);
        v.found
    }

    // ---- blocks and statements ----

    /// Lowers statements into `out`; returns the tail value when `want_tail`.
    fn lower_block_into(
        &mut self,
        stmts: &[SynStmt],
        out: &mut Block,
        want_tail: bool,
    ) -> Option<Operand> {
        let (res, _) = self.lower_stmts(stmts, out, want_tail);
        res
    }

    fn lower_stmts(
        &mut self,
        stmts: &[SynStmt],
        out: &mut Block,
        want_tail: bool,
    ) -> (Option<Operand>, Exits) {
        let mut exits = Exits::default();
        for (i, stmt) in stmts.iter().enumerate() {
            let last = i + 1 == stmts.len();
            if last && want_tail {
                if let SynStmt::Expr(e, None) = stmt {
                    if !matches!(
                        e,
                        Expr::If(_) | Expr::ForLoop(_) | Expr::While(_) | Expr::Block(_)
                    ) || self.kind_of(e) != Kind::Passive
                    {
                        if self.kind_of(e) == Kind::Passive && !self.touches_float(e) {
                            if let Expr::Return(_) = e {
                            } else {
                                let p = self.passive(e);
                                return (Some(Operand::Const(p)), exits);
                            }
                        }
                        if !matches!(e, Expr::Return(_)) {
                            let op = self.lower_value(e, out);
                            return (Some(op), exits);
                        }
                    }
                }
            }
            let e = self.lower_stmt(stmt, out);
            exits = exits.or(e);
            if e.any() && !last {
                // Guard the rest of the block by the flags the statement may have set.
                let cond = self.guard_cond(e);
                let mut rest = self.new_block();
                self.block_stack.push(rest.id);
                let (res, e2) = self.lower_stmts(&stmts[i + 1..], &mut rest, want_tail);
                self.block_stack.pop();
                exits = exits.or(e2);
                if res.is_some() {
                    // A tail value after an early exit: only possible with `return`s, handled by the caller.
                    if let (Some((ret, _)), Some(op)) = (self.early_ret, res) {
                        rest.stmts.push(Stmt::Assign {
                            var: ret,
                            rhs: Rhs::Op(Op::Copy, vec![op]),
                            init: false,
                        });
                    }
                }
                let els = self.new_block();
                out.stmts.push(Stmt::If {
                    cond,
                    then: rest,
                    els,
                });
                return (None, exits);
            }
        }
        (None, exits)
    }

    fn guard_cond(&mut self, e: Exits) -> PExpr {
        let mut flags = Vec::new();
        if e.brk {
            if let Some(b) = self.loops.last().and_then(|l| l.brk) {
                flags.push(b);
            }
        }
        if e.cont {
            if let Some(c) = self.loops.last().and_then(|l| l.cont) {
                flags.push(c);
            }
        }
        if e.ret {
            if let Some((_, f)) = self.early_ret {
                flags.push(f);
            }
        }
        let idents: Vec<&Ident> = flags.iter().map(|f| &self.vars[*f].ident).collect();
        PExpr {
            tokens: quote!(!(#(#idents)||*)),
            reads: flags,
        }
    }

    fn lower_stmt(&mut self, stmt: &SynStmt, out: &mut Block) -> Exits {
        match stmt {
            SynStmt::Local(local) => {
                self.lower_let(local, out);
                Exits::default()
            }
            SynStmt::Item(item) => {
                self.diag.error(item.span(), "`#[differentiate]` does not support items inside the function body; move them outside");
                Exits::default()
            }
            SynStmt::Expr(e, _) => self.lower_expr_stmt(e, out),
            SynStmt::Macro(m) => {
                self.lower_macro_stmt(&m.mac, out);
                Exits::default()
            }
        }
    }

    fn lower_macro_stmt(&mut self, mac: &syn::Macro, out: &mut Block) {
        let mut touches = false;
        self.for_each_var(mac.tokens.clone(), &mut |id| {
            if self.vars[id].kind != Kind::Passive {
                touches = true;
            }
        });
        if touches {
            self.diag.error(
                mac.path.span(),
                format!(
                    "`#[differentiate]` cannot differentiate through the macro `{}!`; only `vec![..; n]` may take differentiated values",
                    mac.path.to_token_stream()
                ),
            );
            return;
        }
        let p = self.passive_tokens(mac.to_token_stream());
        let t = p.tokens;
        out.stmts.push(Stmt::Passive(quote!(#t;)));
    }

    fn lower_let(&mut self, local: &syn::Local, out: &mut Block) {
        let (pat, ty) = match &local.pat {
            Pat::Type(pt) => (&*pt.pat, Some(&*pt.ty)),
            p => (p, None),
        };
        let (ident, mutable) = match pat {
            Pat::Ident(pi) if pi.subpat.is_none() && pi.by_ref.is_none() => {
                (pi.ident.clone(), pi.mutability.is_some())
            }
            Pat::Wild(_) => {
                if let Some(init) = &local.init {
                    if self.touches_float(&init.expr) {
                        let _ = self.lower_value(&init.expr, out);
                    } else {
                        let p = self.passive(&init.expr);
                        let t = p.tokens;
                        out.stmts.push(Stmt::Passive(quote!(let _ = #t;)));
                    }
                }
                return;
            }
            other => {
                if local
                    .init
                    .as_ref()
                    .map(|i| self.touches_float(&i.expr))
                    .unwrap_or(false)
                {
                    self.diag.error(
                        other.span(),
                        "`#[differentiate]` cannot destructure a differentiated value; bind each float with its own `let`",
                    );
                } else {
                    // A passive destructuring binding: copy through, binding the names.
                    let init = local.init.as_ref().map(|i| self.passive(&i.expr));
                    let mut names = Vec::new();
                    pat_idents(other, &mut names);
                    let mut pat_ts = other.to_token_stream();
                    for n in &names {
                        let id = self.new_var(&n.to_string(), Kind::Passive, n.span(), None);
                        let new = self.vars[id].ident.clone();
                        pat_ts = replace_ident(pat_ts, n, &new);
                        self.bind(&n.to_string(), id);
                    }
                    let ty_ts = ty.map(|t| quote!(: #t));
                    let init_ts = init.map(|p| {
                        let t = p.tokens;
                        quote!(= #t)
                    });
                    out.stmts
                        .push(Stmt::Passive(quote!(let #pat_ts #ty_ts #init_ts;)));
                }
                return;
            }
        };
        if let Some(init) = &local.init {
            if let Some((_, els)) = &init.diverge {
                self.diag.error(
                    els.span(),
                    "`#[differentiate]` does not support `let .. else`",
                );
            }
        }
        let name = ident.to_string();
        // The kind: an annotation wins, then the initialiser's kind.
        let annotated = ty.map(|t| match self.classify_ty(t) {
            TyClass::Float => Kind::Float,
            TyClass::Buf(_) => Kind::Buf,
            _ => Kind::Passive,
        });
        let init_kind = local.init.as_ref().map(|i| self.kind_of(&i.expr));
        let kind = annotated.or(init_kind).unwrap_or(Kind::Passive);
        match (&local.init, kind) {
            (None, Kind::Float) => {
                let id = self.new_var(&name, Kind::Float, ident.span(), None);
                self.bind(&name, id);
                out.stmts.push(Stmt::Decl { var: id });
            }
            (None, _) if ty.is_none() => {
                // `let c;`: the first assignment decides whether it is a float.
                let id = self.new_var(&name, Kind::Passive, ident.span(), None);
                self.vars[id].undecided = true;
                self.bind(&name, id);
                out.stmts.push(Stmt::Decl { var: id });
            }
            (None, _) => {
                let id = self.new_var(&name, Kind::Passive, ident.span(), None);
                self.bind(&name, id);
                let new = self.vars[id].ident.clone();
                let ty_ts = ty.map(|t| quote!(: #t));
                let m = if mutable { quote!(mut) } else { quote!() };
                // Deferred passive binding: emitted as written.
                out.stmts.push(Stmt::Passive(quote!(let #m #new #ty_ts;)));
            }
            (Some(init), Kind::Float) => {
                let op = self.lower_value(&init.expr, out);
                let id = self.new_var(&name, Kind::Float, ident.span(), None);
                out.stmts.push(Stmt::Let {
                    var: id,
                    rhs: Rhs::Op(Op::Copy, vec![op]),
                    mutable,
                });
                simplify_copy_let(out, &self.vars);
                self.bind(&name, id);
            }
            (Some(init), Kind::Buf) => {
                let rhs = self.lower_buffer_init(&init.expr, out);
                match rhs {
                    Some((rhs, repr)) => {
                        let id = self.new_var(&name, Kind::Buf, ident.span(), Some(repr));
                        if let Rhs::View { base, lo, hi } = &rhs {
                            self.vars[id].view = Some((*base, lo.clone(), hi.clone()));
                        };
                        out.stmts.push(Stmt::Let {
                            var: id,
                            rhs,
                            mutable,
                        });
                        self.bind(&name, id);
                    }
                    None => {
                        let id = self.new_var(&name, Kind::Passive, ident.span(), None);
                        self.bind(&name, id);
                    }
                }
            }
            (Some(init), _) => {
                if self.touches_float(&init.expr) && !self.is_passive_of_floats(&init.expr) {
                    match unsupported(&init.expr) {
                        Some(msg) => self.diag.error(unsupported_span(&init.expr), msg),
                        None => {
                            let before = self.diag.count();
                            self.check_passive_expr(&init.expr);
                            if self.diag.count() == before {
                                self.diag.error_spanned(
                                    &init.expr,
                                    format!(
                                        "`#[differentiate]` cannot tell the type of `{name}`; annotate it (`let {name}: {} = ..;`) or compute it with supported operations",
                                        self.float_ty_tokens()
                                    ),
                                );
                            }
                        }
                    }
                    return;
                }
                self.check_passive_expr(&init.expr);
                let p = self.passive(&init.expr);
                let id = self.new_var(&name, Kind::Passive, ident.span(), None);
                self.bind(&name, id);
                let p = match ty {
                    // Keep the annotation: inference may need it.
                    Some(t) => {
                        let tk = p.tokens;
                        PExpr {
                            tokens: quote!({ let __v: #t = #tk; __v }),
                            reads: p.reads,
                        }
                    }
                    None => p,
                };
                out.stmts.push(Stmt::Let {
                    var: id,
                    rhs: Rhs::Passive(p),
                    mutable,
                });
            }
        }
    }

    /// Passive values legitimately computed from floats: comparisons, logic,
    /// integer casts, lengths, `is_nan()` and friends.
    fn is_passive_of_floats(&self, e: &Expr) -> bool {
        match e {
            Expr::Binary(b) => match b.op {
                BinOp::Eq(_)
                | BinOp::Ne(_)
                | BinOp::Lt(_)
                | BinOp::Le(_)
                | BinOp::Gt(_)
                | BinOp::Ge(_) => true,
                BinOp::And(_) | BinOp::Or(_) => {
                    self.is_passive_of_floats(&b.left) && self.is_passive_of_floats(&b.right)
                }
                _ => self.is_passive_of_floats(&b.left) && self.is_passive_of_floats(&b.right),
            },
            Expr::Unary(u) => !matches!(u.op, UnOp::Deref(_)) && self.is_passive_of_floats(&u.expr),
            Expr::Paren(p) => self.is_passive_of_floats(&p.expr),
            Expr::Group(g) => self.is_passive_of_floats(&g.expr),
            Expr::Cast(c) => !self.float.matches(&c.ty) && !is_float_prim(&c.ty),
            Expr::MethodCall(m) => {
                let n = m.method.to_string();
                n == "len" || is_passive_float_method(&n) || !self.touches_float(e)
            }
            Expr::Path(_) => self
                .lookup_path(e)
                .map(|v| self.vars[v].kind == Kind::Passive)
                .unwrap_or(true),
            Expr::Index(i) => self.kind_of(&i.expr) != Kind::Buf,
            _ => !self.touches_float(e),
        }
    }

    /// Errors for constructs in a passive expression that read differentiated values unsafely.
    fn check_passive_expr(&mut self, e: &Expr) {
        struct V<'a, 'b> {
            lw: &'a Lowerer<'b>,
            errs: Vec<syn::Error>,
        }
        impl<'ast> Visit<'ast> for V<'_, '_> {
            fn visit_expr(&mut self, e: &'ast Expr) {
                match e {
                    Expr::MethodCall(m) => {
                        let name = m.method.to_string();
                        if self.lw.kind_of(&m.receiver) == Kind::Float
                            && self.lw.touches_float(&m.receiver)
                            && method_op(&name).is_none()
                            && !is_passive_float_method(&name)
                        {
                            self.errs.push(syn::Error::new(
                                m.method.span(),
                                format!("`#[differentiate]` does not support the method `{name}` on a differentiated value; supported: {SUPPORTED_METHODS}"),
                            ));
                        }
                        syn::visit::visit_expr(self, e)
                    }
                    Expr::Reference(r)
                        if r.mutability.is_some() && self.lw.touches_float(&r.expr) =>
                    {
                        self.errs.push(syn::Error::new_spanned(
                            r,
                            "`#[differentiate]` cannot differentiate through a `&mut` borrow of a differentiated value; return the new value instead",
                        ));
                    }
                    Expr::Closure(c) if self.lw.touches_float(&c.body) => {
                        self.errs.push(syn::Error::new_spanned(c, "`#[differentiate]` cannot differentiate through a closure; write a separate `#[differentiate]` function and call it"));
                    }
                    _ => syn::visit::visit_expr(self, e),
                }
            }
        }
        let mut v = V {
            lw: self,
            errs: Vec::new(),
        };
        v.visit_expr(e);
        for err in v.errs {
            self.diag.push(err);
        }
    }

    fn lower_buffer_init(&mut self, e: &Expr, out: &mut Block) -> Option<(Rhs, BufRepr)> {
        match e {
            Expr::Reference(r) if r.mutability.is_none() => {
                let Expr::Index(ix) = strip_paren(&r.expr) else {
                    self.diag.error_spanned(
                        e,
                        "`#[differentiate]` supports views of float buffers as `&w[a..b]`",
                    );
                    return None;
                };
                let (Some(base), Expr::Range(range)) =
                    (self.lookup_path(&ix.expr), strip_paren(&ix.index))
                else {
                    self.diag.error_spanned(e, "`#[differentiate]` supports views of float buffers as `&w[a..b]` on a named buffer");
                    return None;
                };
                let (Some(lo), Some(hi)) = (&range.start, &range.end) else {
                    self.diag.error_spanned(
                        range,
                        "`#[differentiate]` needs both bounds of a view (`&w[a..b]`)",
                    );
                    return None;
                };
                if matches!(range.limits, syn::RangeLimits::Closed(_)) {
                    self.diag.error_spanned(range, "`#[differentiate]` supports views `&w[a..b]`; write `a..b + 1` for an inclusive end");
                    return None;
                }
                let lo = self.index_expr(lo, "a view bound");
                let hi = self.index_expr(hi, "a view bound");
                Some((Rhs::View { base, lo, hi }, BufRepr::View))
            }
            Expr::Macro(m) if m.mac.path.is_ident("vec") => {
                let tokens = &m.mac.tokens;
                match syn::parse2::<syn::ExprRepeat>(quote!([#tokens])) {
                    Ok(rep) => {
                        let elem = self.lower_value(&rep.expr, out);
                        let len = self.index_expr(&rep.len, "a buffer length");
                        Some((
                            Rhs::Fill {
                                elem,
                                len,
                                array: false,
                            },
                            BufRepr::LocalVec,
                        ))
                    }
                    Err(_) => {
                        self.diag.error(m.span(), "`#[differentiate]` supports float buffers created as `vec![value; len]`");
                        None
                    }
                }
            }
            Expr::Repeat(rep) => {
                let elem = self.lower_value(&rep.expr, out);
                let len = self.passive(&rep.len);
                Some((
                    Rhs::Fill {
                        elem,
                        len,
                        array: true,
                    },
                    BufRepr::LocalArray,
                ))
            }
            Expr::Paren(p) => self.lower_buffer_init(&p.expr, out),
            other => {
                self.diag.error(
                    other.span(),
                    "`#[differentiate]` supports local float buffers created as `vec![value; len]` or `[value; N]`; copy a slice element by element",
                );
                None
            }
        }
    }

    fn lower_expr_stmt(&mut self, e: &Expr, out: &mut Block) -> Exits {
        match e {
            Expr::Assign(a) => {
                self.lower_assign(&a.left, None, &a.right, a.span(), out);
                Exits::default()
            }
            Expr::Binary(b) if compound_op(&b.op).is_some() => {
                self.lower_assign(&b.left, compound_op(&b.op), &b.right, b.span(), out);
                Exits::default()
            }
            Expr::If(i) => self.lower_if_stmt(i, out),
            Expr::ForLoop(f) => self.lower_for(f, out),
            Expr::While(w) => self.lower_while(w, out),
            Expr::Block(b) => {
                self.check_block_label(b);
                self.scopes.push(Vec::new());
                let (_, ex) = self.lower_stmts(&b.block.stmts, out, false);
                self.scopes.pop();
                ex
            }
            Expr::Break(b) => {
                if b.label.is_none() {
                    if let Some(v) = &b.expr {
                        self.diag.error_spanned(
                            v,
                            "`#[differentiate]` does not support `break` with a value",
                        );
                    }
                }
                self.lower_loop_exit(b, b.label.as_ref(), true, out)
            }
            Expr::Continue(c) => self.lower_loop_exit(c, c.label.as_ref(), false, out),
            Expr::Return(r) => {
                let Some((ret, flag)) = self.early_ret else {
                    return Exits::default();
                };
                match &r.expr {
                    Some(v) => {
                        let op = self.lower_value(v, out);
                        out.stmts.push(Stmt::Assign {
                            var: ret,
                            rhs: Rhs::Op(Op::Copy, vec![op]),
                            init: false,
                        });
                    }
                    None => self.diag.error(
                        r.span(),
                        "a `#[differentiate]` function must return a float value",
                    ),
                }
                out.stmts.push(Stmt::set_flag(flag, true));
                Exits {
                    ret: true,
                    ..Default::default()
                }
            }
            Expr::Macro(m) => {
                self.lower_macro_stmt(&m.mac, out);
                Exits::default()
            }
            other => {
                if let Some(msg) = unsupported(other) {
                    self.diag.error(unsupported_span(other), msg);
                    return Exits::default();
                }
                if self.touches_float(other) {
                    // A value computed and dropped: lower it for its errors, emit nothing that matters.
                    self.check_passive_expr(other);
                    match other {
                        Expr::Call(_) | Expr::MethodCall(_)
                            if self.kind_of(other) == Kind::Float =>
                        {
                            let _ = self.lower_value(other, out);
                        }
                        _ => {
                            let p = self.passive(other);
                            let t = p.tokens;
                            out.stmts.push(Stmt::Passive(quote!(#t;)));
                        }
                    }
                } else {
                    let p = self.passive(other);
                    let t = p.tokens;
                    out.stmts.push(Stmt::Passive(quote!(#t;)));
                }
                Exits::default()
            }
        }
    }

    /// `break` / `continue`: set the loop's flag; the rest of the body is guarded by it.
    fn lower_loop_exit(
        &mut self,
        node: &impl ToTokens,
        label: Option<&syn::Lifetime>,
        is_break: bool,
        out: &mut Block,
    ) -> Exits {
        let what = if is_break { "break" } else { "continue" };
        let flag = self
            .loops
            .last()
            .and_then(|l| if is_break { l.brk } else { l.cont });
        if let Some(l) = label {
            self.diag.error_spanned(
                l,
                format!("`#[differentiate]` does not support labelled `{what}`"),
            );
            return Exits::default();
        }
        let Some(flag) = flag else {
            self.diag.error_spanned(
                node,
                format!("`#[differentiate]` found `{what}` outside of a loop"),
            );
            return Exits::default();
        };
        out.stmts.push(Stmt::set_flag(flag, true));
        Exits {
            brk: is_break,
            cont: !is_break,
            ret: false,
        }
    }

    fn check_block_label(&mut self, b: &syn::ExprBlock) {
        if let Some(l) = &b.label {
            self.diag.error(
                l.span(),
                "`#[differentiate]` does not support labelled blocks",
            );
        }
    }

    fn lower_assign(
        &mut self,
        left: &Expr,
        op: Option<Op>,
        right: &Expr,
        span: Span,
        out: &mut Block,
    ) {
        let left = strip_paren(left);
        match left {
            Expr::Index(ix) => {
                if self
                    .lookup_path(&ix.expr)
                    .map(|b| self.vars[b].poisoned)
                    .unwrap_or(false)
                {
                    return;
                }
                let Some(buf) = self.lookup_path(&ix.expr) else {
                    if self.touches_float(right) {
                        self.diag.error(ix.expr.span(), "`#[differentiate]` can only store differentiated values into a local buffer (`vec![..]` or `[..; N]`) by index");
                    } else {
                        let l = self.passive(left);
                        let r = self.passive(right);
                        let (lt, rt) = (l.tokens, r.tokens);
                        let opt = op.map(compound_tokens).unwrap_or(quote!(=));
                        out.stmts.push(Stmt::Passive(quote!(#lt #opt #rt;)));
                    }
                    return;
                };
                if self.vars[buf].kind != Kind::Buf {
                    if self.touches_float(right) && self.kind_of(right) == Kind::Float {
                        self.diag.error(ix.expr.span(), format!("`#[differentiate]` cannot store a differentiated value into `{}`, which is not a float buffer", self.vars[buf].ident));
                        return;
                    }
                    let l = self.passive(left);
                    let r = self.passive(right);
                    let (lt, rt) = (l.tokens, r.tokens);
                    let opt = op.map(compound_tokens).unwrap_or(quote!(=));
                    out.stmts.push(Stmt::Passive(quote!(#lt #opt #rt;)));
                    return;
                }
                if self.vars[buf].buf == Some(BufRepr::View) {
                    self.diag.error_spanned(left, format!("`#[differentiate]` cannot assign through the view `{}`; assign to the buffer it views", self.vars[buf].ident));
                    return;
                }
                if self.vars[buf].is_param {
                    self.diag.error_spanned(left, format!("`#[differentiate]` cannot assign to an element of the parameter `{}`; copy it into a local buffer (`let mut b = vec![0.0; n];`) first", self.vars[buf].ident));
                    return;
                }
                let index = self.index_expr(&ix.index, "an index");
                let value = self.lower_value(right, out);
                let value = match op {
                    None => value,
                    Some(o) => {
                        let cur = Operand::Load(buf, index.clone());
                        let t = self.new_tmp(span);
                        out.stmts.push(Stmt::Let {
                            var: t,
                            rhs: Rhs::Op(o, vec![cur, value]),
                            mutable: false,
                        });
                        Operand::Var(t)
                    }
                };
                out.stmts.push(Stmt::Store { buf, index, value });
            }
            Expr::Path(_) if self.lookup_path(left).is_some() => {
                let Some(v) = self.lookup_path(left) else {
                    return;
                };
                match self.vars[v].kind {
                    Kind::Float => {
                        if self.vars[v].is_param && self.vars[v].wrt {
                            // allowed for `mut x: f64` parameters; rustc checks mutability
                        }
                        let value = self.lower_value(right, out);
                        let rhs = match op {
                            None => Rhs::Op(Op::Copy, vec![value]),
                            Some(o) => Rhs::Op(o, vec![Operand::Var(v), value]),
                        };
                        out.stmts.push(Stmt::Assign {
                            var: v,
                            rhs,
                            init: false,
                        });
                        simplify_copy_assign(out, &self.vars);
                    }
                    Kind::Buf => {
                        self.diag.error(left.span(), "`#[differentiate]` cannot reassign a whole buffer; assign its elements by index");
                    }
                    Kind::Passive
                        if self.vars[v].undecided && self.kind_of(right) == Kind::Float =>
                    {
                        self.vars[v].kind = Kind::Float;
                        self.vars[v].undecided = false;
                        self.lower_assign(left, op, right, span, out);
                    }
                    Kind::Passive => {
                        self.vars[v].undecided = false;
                        if self.touches_float(right) && self.kind_of(right) == Kind::Float {
                            self.diag.error(
                                left.span(),
                                format!(
                                    "`#[differentiate]` cannot tell that `{}` holds a float; annotate its `let` with the float type (`let mut {}: {} = ..;`)",
                                    self.vars[v].ident, self.vars[v].ident, self.float_ty_tokens()
                                ),
                            );
                            return;
                        }
                        self.check_passive_expr(right);
                        let r = self.passive(right);
                        if matches!(op, Some(Op::Add | Op::Sub)) && !r.reads.contains(&v) {
                            let add = op == Some(Op::Add);
                            out.stmts.push(Stmt::Assign {
                                var: v,
                                rhs: Rhs::Step { add, amount: r },
                                init: false,
                            });
                            return;
                        }
                        let rhs = match op {
                            None => r,
                            Some(o) => {
                                let id = &self.vars[v].ident;
                                let ot = binop_tokens(o);
                                let rt = r.tokens;
                                let mut reads = r.reads;
                                reads.push(v);
                                PExpr {
                                    tokens: quote!(#id #ot (#rt)),
                                    reads,
                                }
                            }
                        };
                        out.stmts.push(Stmt::Assign {
                            var: v,
                            rhs: Rhs::Passive(rhs),
                            init: false,
                        });
                    }
                }
            }
            Expr::Unary(u) if matches!(u.op, UnOp::Deref(_)) && self.touches_float(&u.expr) => {
                self.diag.error_spanned(left, "`#[differentiate]` cannot assign through a reference to a differentiated value; return the new value instead");
            }
            other => {
                if self.touches_float(right) && self.kind_of(right) == Kind::Float {
                    self.diag.error(other.span(), "`#[differentiate]` can only assign differentiated values to local variables and local buffer elements");
                    return;
                }
                let l = self.passive(other);
                let r = self.passive(right);
                let (lt, rt) = (l.tokens, r.tokens);
                let opt = op.map(compound_tokens).unwrap_or(quote!(=));
                out.stmts.push(Stmt::Passive(quote!(#lt #opt #rt;)));
            }
        }
    }

    fn lower_if_stmt(&mut self, i: &syn::ExprIf, out: &mut Block) -> Exits {
        let cond = self.lower_cond(&i.cond);
        let mut then = self.new_block();
        self.enter(&then);
        let (_, e1) = self.lower_stmts(&i.then_branch.stmts, &mut then, false);
        self.leave();
        let mut els = self.new_block();
        let mut e2 = Exits::default();
        if let Some((_, e)) = &i.else_branch {
            self.enter(&els);
            e2 = match &**e {
                Expr::Block(b) => self.lower_stmts(&b.block.stmts, &mut els, false).1,
                Expr::If(inner) => self.lower_if_stmt(inner, &mut els),
                other => self.lower_expr_stmt(other, &mut els),
            };
            self.leave();
        }
        out.stmts.push(Stmt::If { cond, then, els });
        e1.or(e2)
    }

    fn lower_cond(&mut self, c: &Expr) -> PExpr {
        if let Expr::Let(l) = c {
            self.diag.error(
                l.span(),
                "`#[differentiate]` does not support `if let`; use `if`/`else` on a boolean",
            );
        }
        self.check_passive_expr(c);
        if self.kind_of(c) != Kind::Passive {
            self.diag.error(c.span(), "expected a boolean condition");
        }
        self.passive(c)
    }

    fn lower_for(&mut self, f: &syn::ExprForLoop, out: &mut Block) -> Exits {
        if let Some(l) = &f.label {
            self.diag.error(
                l.span(),
                "`#[differentiate]` does not support labelled loops",
            );
        }
        // A loop that touches no float value is passive code.
        if !self.touches_float(&f.body_expr_tokens()) && !self.touches_float(&f.expr) {
            return self.lower_passive_loop(f, out);
        }
        let Some(plan) = self.plan_for(f) else {
            return Exits::default();
        };
        let (brk, cont) = loop_exits(&f.body);
        let brk_flag = self.flag_var(
            "__brk",
            brk || (self.early_ret.is_some() && contains_return(&f.body)),
            out,
        );
        let cont_flag = self.flag_var("__cont", cont, out);
        let mut body = self.new_block();
        self.loop_depth += 1;
        self.enter(&body);
        self.loops.push(LoopCtx {
            brk: brk_flag,
            cont: cont_flag,
        });
        let loop_var = self.new_var(&plan.index_name, Kind::Passive, plan.span, None);
        if !plan.index_name.starts_with("__") {
            self.bind(&plan.index_name, loop_var);
        }
        if let Some(c) = cont_flag {
            body.stmts.push(Stmt::set_flag(c, false));
        }
        for (name, buf, by_ref, elem_span) in &plan.elems {
            let idx_ident = self.vars[loop_var].ident.clone();
            let index = PExpr {
                tokens: quote!(#idx_ident),
                reads: vec![loop_var],
            };
            if self.vars[*buf].kind == Kind::Buf {
                let id = self.new_var(name, Kind::Float, *elem_span, None);
                // bound as a value: `*e` in the user's code reads it
                self.vars[id].by_ref_elem = *by_ref;
                body.stmts.push(Stmt::Let {
                    var: id,
                    rhs: Rhs::Op(Op::Copy, vec![Operand::Load(*buf, index)]),
                    mutable: false,
                });
                self.bind(name, id);
            } else {
                let id = self.new_var(name, Kind::Passive, *elem_span, None);
                let b = self.vars[*buf].ident.clone();
                let tokens = if *by_ref {
                    quote!(&#b[#idx_ident])
                } else {
                    quote!(#b[#idx_ident])
                };
                body.stmts.push(Stmt::Let {
                    var: id,
                    rhs: Rhs::Passive(PExpr {
                        tokens,
                        reads: vec![*buf, loop_var],
                    }),
                    mutable: false,
                });
                self.bind(name, id);
            }
        }
        let (_, ex) = self.lower_stmts(&f.body.stmts, &mut body, false);
        self.loops.pop();
        self.leave();
        self.loop_depth -= 1;
        let exit = self.exit_cond(brk_flag, ex.ret);
        let last = if exit.is_some() {
            let l = self.new_var("__last", Kind::Passive, plan.span, None);
            Some(l)
        } else {
            None
        };
        out.stmts.push(Stmt::For {
            var: loop_var,
            range: plan.range,
            body,
            exit,
            last,
        });
        Exits {
            ret: ex.ret,
            ..Default::default()
        }
    }

    fn exit_cond(&mut self, brk: Option<VarId>, ret: bool) -> Option<PExpr> {
        let mut flags = Vec::new();
        if let Some(b) = brk {
            flags.push(b);
        }
        if ret {
            if let Some((_, f)) = self.early_ret {
                flags.push(f);
            }
        }
        if flags.is_empty() {
            return None;
        }
        let idents: Vec<&Ident> = flags.iter().map(|f| &self.vars[*f].ident).collect();
        Some(PExpr {
            tokens: quote!(#(#idents)||*),
            reads: flags,
        })
    }

    fn flag_var(&mut self, name: &str, needed: bool, out: &mut Block) -> Option<VarId> {
        if !needed {
            return None;
        }
        let id = self.new_var(name, Kind::Passive, Span::call_site(), None);
        out.stmts.push(Stmt::new_flag(id));
        Some(id)
    }

    fn lower_passive_loop(&mut self, f: &syn::ExprForLoop, out: &mut Block) -> Exits {
        // Copied through; the names it binds are its own.
        let p = self.passive_tokens(f.to_token_stream());
        let t = p.tokens;
        out.stmts.push(Stmt::Passive(quote!(#t)));
        if contains_return(&f.body) {
            self.diag.error(f.span(), "`#[differentiate]` does not support `return` inside a loop that computes no float value");
        }
        Exits::default()
    }

    fn lower_while(&mut self, w: &syn::ExprWhile, out: &mut Block) -> Exits {
        if let Some(l) = &w.label {
            self.diag.error(
                l.span(),
                "`#[differentiate]` does not support labelled loops",
            );
        }
        let cond = self.lower_cond(&w.cond);
        let (brk, cont) = loop_exits(&w.body);
        let brk_flag = self.flag_var(
            "__brk",
            brk || (self.early_ret.is_some() && contains_return(&w.body)),
            out,
        );
        let cont_flag = self.flag_var("__cont", cont, out);
        let count = self.new_var("__trips", Kind::Passive, w.span(), None);
        let mut body = self.new_block();
        self.loop_depth += 1;
        self.enter(&body);
        self.loops.push(LoopCtx {
            brk: brk_flag,
            cont: cont_flag,
        });
        if let Some(c) = cont_flag {
            body.stmts.push(Stmt::set_flag(c, false));
        }
        let (_, ex) = self.lower_stmts(&w.body.stmts, &mut body, false);
        self.loops.pop();
        self.leave();
        self.loop_depth -= 1;
        let exit = self.exit_cond(brk_flag, ex.ret);
        out.stmts.push(Stmt::While {
            cond,
            body,
            exit,
            count,
        });
        Exits {
            ret: ex.ret,
            ..Default::default()
        }
    }

    /// Ranges and the slice iterators of the contract become index loops.
    fn plan_for(&mut self, f: &syn::ExprForLoop) -> Option<ForPlan> {
        let span = f.pat.span();
        let mut expr = strip_paren(&f.expr);
        let mut rev = false;
        if let Expr::MethodCall(m) = expr {
            if m.method == "rev"
                && m.args.is_empty()
                && matches!(strip_paren(&m.receiver), Expr::Range(_))
            {
                rev = true;
                expr = strip_paren(&m.receiver);
            }
        }
        if let Expr::Range(r) = expr {
            let name = match &*f.pat {
                Pat::Ident(pi) => pi.ident.to_string(),
                Pat::Wild(_) => "__i".to_string(),
                other => {
                    self.diag
                        .error(other.span(), "expected a loop variable name");
                    return None;
                }
            };
            let (Some(lo), Some(hi)) = (&r.start, &r.end) else {
                self.diag.error(
                    r.span(),
                    "`#[differentiate]` needs a bounded range (`a..b` or `a..=b`) in a `for` loop",
                );
                return None;
            };
            let lo = self.index_expr(lo, "a loop bound");
            let hi = self.index_expr(hi, "a loop bound");
            let inclusive = matches!(r.limits, syn::RangeLimits::Closed(_));
            return Some(ForPlan {
                index_name: name,
                span,
                range: Range::Range {
                    lo,
                    hi,
                    inclusive,
                    rev,
                },
                elems: vec![],
            });
        }
        // Slice iteration forms.
        let mut enumerate = false;
        let mut zip_with: Option<&Expr> = None;
        let mut base = expr;
        if let Expr::MethodCall(m) = base {
            if m.method == "enumerate" && m.args.is_empty() {
                enumerate = true;
                base = strip_paren(&m.receiver);
            } else if m.method == "zip" && m.args.len() == 1 {
                zip_with = m.args.first();
                base = strip_paren(&m.receiver);
            }
        }
        let first = self.slice_of(base);
        let second = zip_with.and_then(|z| self.slice_of(strip_paren(z)));
        let Some(first) = first else {
            self.unsupported_iter(&f.expr);
            return None;
        };
        if zip_with.is_some() && second.is_none() {
            self.unsupported_iter(&f.expr);
            return None;
        }
        let (lo, hi_tokens, hi_reads) = {
            let a = self.vars[first].ident.clone();
            match second {
                Some(s) => {
                    let b = self.vars[s].ident.clone();
                    (quote!(0), quote!(#a.len().min(#b.len())), vec![first, s])
                }
                None => (quote!(0), quote!(#a.len()), vec![first]),
            }
        };
        let range = Range::Range {
            lo: PExpr::constant(lo),
            hi: PExpr {
                tokens: hi_tokens,
                reads: hi_reads,
            },
            inclusive: false,
            rev: false,
        };
        let mut elems = Vec::new();
        let index_name;
        if enumerate {
            let Pat::Tuple(t) = &*f.pat else {
                self.diag.error(
                    f.pat.span(),
                    "expected `(i, x)` as the pattern of an `enumerate()` loop",
                );
                return None;
            };
            if t.elems.len() != 2 {
                self.diag.error(
                    f.pat.span(),
                    "expected `(i, x)` as the pattern of an `enumerate()` loop",
                );
                return None;
            }
            index_name = match &t.elems[0] {
                Pat::Ident(pi) => pi.ident.to_string(),
                Pat::Wild(_) => "__i".to_string(),
                other => {
                    self.diag.error(other.span(), "expected an index name");
                    return None;
                }
            };
            let (n, by_ref) = self.elem_pat(&t.elems[1])?;
            elems.push((n, first, by_ref, t.elems[1].span()));
        } else if let Some(s) = second {
            let Pat::Tuple(t) = &*f.pat else {
                self.diag.error(
                    f.pat.span(),
                    "expected `(a, b)` as the pattern of a `zip` loop",
                );
                return None;
            };
            if t.elems.len() != 2 {
                self.diag.error(
                    f.pat.span(),
                    "expected `(a, b)` as the pattern of a `zip` loop",
                );
                return None;
            }
            index_name = "__i".to_string();
            let (n1, r1) = self.elem_pat(&t.elems[0])?;
            let (n2, r2) = self.elem_pat(&t.elems[1])?;
            elems.push((n1, first, r1, t.elems[0].span()));
            elems.push((n2, s, r2, t.elems[1].span()));
        } else {
            index_name = "__i".to_string();
            let (n, by_ref) = self.elem_pat(&f.pat)?;
            elems.push((n, first, by_ref, f.pat.span()));
        }
        Some(ForPlan {
            index_name,
            span,
            range,
            elems,
        })
    }

    /// `x` → (name, by_ref = true); `&x` → (name, false).
    fn elem_pat(&mut self, p: &Pat) -> Option<(String, bool)> {
        match p {
            Pat::Ident(pi) => Some((pi.ident.to_string(), true)),
            Pat::Reference(r) => match &*r.pat {
                Pat::Ident(pi) => Some((pi.ident.to_string(), false)),
                other => {
                    self.diag.error(other.span(), "expected a name");
                    None
                }
            },
            Pat::Wild(_) => Some(("__elem".to_string(), true)),
            other => {
                self.diag.error(
                    other.span(),
                    "expected a name or `&name` for the loop element",
                );
                None
            }
        }
    }

    /// `x.iter()`, `&x`, `x` for a slice-like variable.
    fn slice_of(&self, e: &Expr) -> Option<VarId> {
        match e {
            Expr::MethodCall(m) if m.method == "iter" && m.args.is_empty() => {
                self.lookup_path(&m.receiver)
            }
            Expr::Reference(r) if r.mutability.is_none() => self.lookup_path(&r.expr),
            Expr::Path(_) => self
                .lookup_path(e)
                .filter(|v| self.vars[*v].kind == Kind::Buf || self.vars[*v].is_param),
            _ => None,
        }
    }

    fn unsupported_iter(&mut self, e: &Expr) {
        let target: TokenStream = match strip_paren(e) {
            Expr::MethodCall(m) => m.method.to_token_stream(),
            other => other.to_token_stream(),
        };
        self.diag.error_spanned(
            target,
            "`#[differentiate]` cannot differentiate a `for` over this iterator; supported: ranges (`a..b`, `a..=b`, `(a..b).rev()`), `x.iter()`, `&x`, `x.iter().enumerate()` and `a.iter().zip(b.iter())`",
        );
    }

    // ---- float expressions ----

    /// Lowers an expression of float kind to an operand, emitting statements for its parts.
    fn lower_value(&mut self, e: &Expr, out: &mut Block) -> Operand {
        if let Some(msg) = unsupported(e) {
            self.diag.error(unsupported_span(e), msg);
            return Operand::Const(self.zero_pexpr());
        }
        // Constant: nothing differentiable inside.
        if !self.touches_float(e) && !matches!(e, Expr::If(_) | Expr::Block(_)) {
            self.check_passive_expr(e);
            let p = self.passive(e);
            return match e {
                Expr::Lit(_) | Expr::Path(_) => Operand::Const(p),
                _ => {
                    let t = p.tokens;
                    Operand::Const(PExpr {
                        tokens: quote!((#t)),
                        reads: p.reads,
                    })
                }
            };
        }
        match e {
            Expr::Paren(p) => self.lower_value(&p.expr, out),
            Expr::Group(g) => self.lower_value(&g.expr, out),
            Expr::Path(_) => match self.lookup_path(e) {
                Some(v) if self.vars[v].kind == Kind::Float => Operand::Var(v),
                Some(v) if self.vars[v].kind == Kind::Buf => {
                    self.diag.error(
                        e.span(),
                        format!(
                            "expected a float, found the buffer `{}`; index it (`{}[i]`)",
                            self.vars[v].ident, self.vars[v].ident
                        ),
                    );
                    Operand::Const(self.zero_pexpr())
                }
                _ => Operand::Const(self.passive(e)),
            },
            Expr::Unary(u) => match u.op {
                UnOp::Neg(_) => {
                    let a = self.lower_value(&u.expr, out);
                    self.emit_op(Op::Neg, vec![a], e.span(), out)
                }
                UnOp::Deref(_) => self.lower_value(&u.expr, out),
                _ => {
                    self.diag.error(e.span(), "expected a float expression");
                    Operand::Const(self.zero_pexpr())
                }
            },
            Expr::Reference(r) => self.lower_value(&r.expr, out),
            Expr::Binary(b) => {
                let op = match b.op {
                    BinOp::Add(_) => Op::Add,
                    BinOp::Sub(_) => Op::Sub,
                    BinOp::Mul(_) => Op::Mul,
                    BinOp::Div(_) => Op::Div,
                    BinOp::Rem(_) => Op::Rem,
                    _ => {
                        self.diag.error(
                            b.op.span(),
                            "expected a float expression here; comparisons and logic give a `bool`",
                        );
                        return Operand::Const(self.zero_pexpr());
                    }
                };
                let l = self.lower_value(&b.left, out);
                let r = self.lower_value(&b.right, out);
                self.emit_op(op, vec![l, r], e.span(), out)
            }
            Expr::Cast(c) => {
                if self.float.matches(&c.ty) {
                    self.lower_value(&c.expr, out)
                } else {
                    self.diag.error(
                        c.ty.span(),
                        format!(
                            "`#[differentiate]` cannot cast a differentiated value to `{}`",
                            c.ty.to_token_stream()
                        ),
                    );
                    Operand::Const(self.zero_pexpr())
                }
            }
            Expr::Index(ix) => match self.lookup_path(&ix.expr) {
                Some(b) if self.vars[b].kind == Kind::Buf => {
                    let index = self.index_expr(&ix.index, "an index");
                    Operand::Load(b, index)
                }
                _ => {
                    self.diag.error(ix.expr.span(), "`#[differentiate]` can index float slices, arrays and local buffers by name only (`x[i]`)");
                    Operand::Const(self.zero_pexpr())
                }
            },
            Expr::MethodCall(m) => self.lower_method(m, out),
            Expr::Call(c) => self.lower_call(c, out),
            Expr::If(i) => self.lower_if_value(i, out),
            Expr::Block(b) => {
                self.check_block_label(b);
                self.scopes.push(Vec::new());
                let (tail, ex) = self.lower_stmts(&b.block.stmts, out, true);
                self.scopes.pop();
                if ex.any() {
                    self.diag.error(b.span(), "`#[differentiate]` does not support `break`, `continue` or `return` inside a block used as a value");
                }
                tail.unwrap_or_else(|| {
                    self.diag
                        .error(b.span(), "expected this block to end in a float expression");
                    Operand::Const(self.zero_pexpr())
                })
            }
            Expr::Macro(m) => {
                self.diag.error(m.mac.path.span(), format!("`#[differentiate]` cannot differentiate through the macro `{}!`; only `vec![..; n]` may take differentiated values", m.mac.path.to_token_stream()));
                Operand::Const(self.zero_pexpr())
            }
            other => {
                let before = self.diag.count();
                self.check_passive_expr(other);
                if self.diag.count() == before {
                    self.diag.error_spanned(other, "`#[differentiate]` does not support this expression on differentiated values");
                }
                Operand::Const(self.zero_pexpr())
            }
        }
    }

    fn emit_op(&mut self, op: Op, args: Vec<Operand>, span: Span, out: &mut Block) -> Operand {
        let t = self.new_tmp(span);
        out.stmts.push(Stmt::Let {
            var: t,
            rhs: Rhs::Op(op, args),
            mutable: false,
        });
        Operand::Var(t)
    }

    fn float_method_path(&self, func: &Expr) -> Option<(String, Span)> {
        let Expr::Path(p) = func else { return None };
        if p.path.segments.len() < 2 {
            return None;
        }
        let last = p.path.segments.last()?;
        let name = last.ident.to_string();
        method_op(&name)?;
        let prefix: Vec<String> = p
            .path
            .segments
            .iter()
            .take(p.path.segments.len() - 1)
            .map(|s| s.ident.to_string())
            .collect();
        let ok = prefix.iter().any(|s| {
            s == "f64" || s == "f32" || s == "Float" || Some(s) == self.generic_float.as_ref()
        }) || p.qself.is_some();
        if ok {
            Some((name, last.ident.span()))
        } else {
            None
        }
    }

    fn lower_method(&mut self, m: &syn::ExprMethodCall, out: &mut Block) -> Operand {
        let name = m.method.to_string();
        let recv_kind = self.kind_of(&m.receiver);
        if recv_kind == Kind::Float {
            if let Some(op) = method_op(&name) {
                let recv = self.lower_value(&m.receiver, out);
                let mut args = vec![recv];
                for a in &m.args {
                    if op == Op::Powi {
                        let p = self.index_expr(a, "an integer exponent");
                        args.push(Operand::Const(p));
                    } else {
                        args.push(self.lower_value(a, out));
                    }
                }
                if args.len() != op.arity() {
                    self.diag.error(
                        m.span(),
                        format!("`{name}` takes {} argument(s)", op.arity() - 1),
                    );
                    return Operand::Const(self.zero_pexpr());
                }
                return self.emit_op(op, args, m.span(), out);
            }
            if is_passive_float_method(&name) {
                self.diag
                    .error(m.method.span(), format!("`{name}` does not return a float"));
            } else {
                self.diag.error(
                    m.method.span(),
                    format!("`#[differentiate]` does not support the method `{name}` on a differentiated value; supported: {SUPPORTED_METHODS}"),
                );
            }
            return Operand::Const(self.zero_pexpr());
        }
        if recv_kind == Kind::Buf {
            self.diag.error(
                m.method.span(),
                format!("`#[differentiate]` does not support the method `{name}` on a float buffer; write the loop (`for i in 0..x.len()`)"),
            );
            return Operand::Const(self.zero_pexpr());
        }
        // A method of a passive receiver (e.g. `self.g(x)`): a differentiable call.
        let recv = self.passive(&m.receiver);
        let args = self.lower_call_args(m.args.iter(), out);
        let call = Call {
            callee: Callee::Method {
                recv,
                name: m.method.clone(),
            },
            args,
        };
        self.emit_call(call, m.span(), out)
    }

    fn lower_call(&mut self, c: &syn::ExprCall, out: &mut Block) -> Operand {
        if let Some((name, span)) = self.float_method_path(&c.func) {
            let Some(op) = method_op(&name) else {
                return Operand::Const(self.zero_pexpr());
            };
            let mut args = Vec::new();
            for (i, a) in c.args.iter().enumerate() {
                if op == Op::Powi && i == 1 {
                    let p = self.index_expr(a, "an integer exponent");
                    args.push(Operand::Const(p));
                } else {
                    args.push(self.lower_value(a, out));
                }
            }
            if args.len() != op.arity() {
                self.diag
                    .error(span, format!("`{name}` takes {} argument(s)", op.arity()));
                return Operand::Const(self.zero_pexpr());
            }
            return self.emit_op(op, args, c.span(), out);
        }
        let Expr::Path(p) = &*c.func else {
            self.diag.error(
                c.func.span(),
                "`#[differentiate]` can only call functions by path (`g(x)`, `m::g(x)`)",
            );
            return Operand::Const(self.zero_pexpr());
        };
        if p.qself.is_some() {
            self.diag.error(c.func.span(), "`#[differentiate]` does not support qualified paths (`<T as Trait>::f`) for differentiable calls");
            return Operand::Const(self.zero_pexpr());
        }
        let Some(last) = p.path.segments.last() else {
            return Operand::Const(self.zero_pexpr());
        };
        if self.is_float_type_path(&p.path) {
            self.diag.error(
                last.ident.span(),
                format!("`#[differentiate]` does not support `{}` on differentiated values; supported float functions: {SUPPORTED_METHODS}", p.path.to_token_stream()),
            );
            return Operand::Const(self.zero_pexpr());
        }
        let mut prefix = TokenStream::new();
        if let Some(c) = &p.path.leading_colon {
            c.to_tokens(&mut prefix);
        }
        for seg in p.path.segments.iter().take(p.path.segments.len() - 1) {
            seg.to_tokens(&mut prefix);
            quote!(::).to_tokens(&mut prefix);
        }
        let generics = match &last.arguments {
            syn::PathArguments::AngleBracketed(a) => quote!(::#a),
            syn::PathArguments::None => quote!(),
            syn::PathArguments::Parenthesized(_) => {
                self.diag
                    .error(last.span(), "unexpected parenthesised arguments");
                quote!()
            }
        };
        let args = self.lower_call_args(c.args.iter(), out);
        let call = Call {
            callee: Callee::Path {
                prefix,
                name: last.ident.clone(),
                generics,
            },
            args,
        };
        self.emit_call(call, c.span(), out)
    }

    fn lower_call_args<'a>(
        &mut self,
        args: impl Iterator<Item = &'a Expr>,
        out: &mut Block,
    ) -> Vec<CallArg> {
        let mut res = Vec::new();
        for a in args {
            let inner = strip_paren(a);
            let (by_ref, target, mutable) = match inner {
                Expr::Reference(r) => (true, strip_paren(&r.expr), r.mutability.is_some()),
                other => (false, other, false),
            };
            if let Some(v) = self.lookup_path(target) {
                if self.vars[v].kind == Kind::Buf {
                    if mutable {
                        self.diag.error(a.span(), "`#[differentiate]` cannot pass a float buffer by `&mut`; return the new value instead");
                    }
                    res.push(CallArg::Buf { var: v, by_ref });
                    continue;
                }
            }
            match self.kind_of(a) {
                Kind::Float => {
                    if mutable {
                        self.check_passive_expr(a);
                        continue;
                    }
                    if by_ref {
                        self.diag.error_spanned(
                            a,
                            "`#[differentiate]` passes float scalars by value; remove the `&`",
                        );
                    }
                    let op = self.lower_value(target, out);
                    res.push(CallArg::Float(op));
                }
                Kind::Buf => {
                    self.diag.error(a.span(), "`#[differentiate]` can pass float buffers to calls by name only (`g(&buf)`)");
                }
                Kind::Passive => {
                    if self.touches_float(a) && !self.is_passive_of_floats(a) {
                        let before = self.diag.count();
                        self.check_passive_expr(a);
                        if self.diag.count() == before {
                            self.diag.error_spanned(
                                a,
                                "`#[differentiate]` cannot pass this expression of differentiated values to a call; pass a float, a float slice, a view `&w[a..b]` or a local buffer (`let mut v = [0.0; N]; v[0] = ..;`)",
                            );
                        }
                        continue;
                    }
                    self.check_passive_expr(a);
                    res.push(CallArg::Passive(self.passive(a)));
                }
            }
        }
        res
    }

    fn emit_call(&mut self, call: Call, span: Span, out: &mut Block) -> Operand {
        let t = self.new_tmp(span);
        out.stmts.push(Stmt::Let {
            var: t,
            rhs: Rhs::Call(call),
            mutable: false,
        });
        Operand::Var(t)
    }

    fn lower_if_value(&mut self, i: &syn::ExprIf, out: &mut Block) -> Operand {
        let result = self.new_var("__t", Kind::Float, i.span(), None);
        out.stmts.push(Stmt::Decl { var: result });
        let cond = self.lower_cond(&i.cond);
        let mut then = self.new_block();
        self.enter(&then);
        let (tail, ex1) = self.lower_stmts(&i.then_branch.stmts, &mut then, true);
        match tail {
            Some(op) => then.stmts.push(Stmt::Assign {
                var: result,
                rhs: Rhs::Op(Op::Copy, vec![op]),
                init: true,
            }),
            None => self.diag.error(
                i.then_branch.span(),
                "expected this branch to end in a float expression",
            ),
        }
        self.leave();
        let mut els = self.new_block();
        let mut ex2 = Exits::default();
        match &i.else_branch {
            Some((_, e)) => {
                self.enter(&els);
                let tail = match &**e {
                    Expr::Block(b) => {
                        let (t, ex) = self.lower_stmts(&b.block.stmts, &mut els, true);
                        ex2 = ex;
                        t
                    }
                    other => Some(self.lower_value(other, &mut els)),
                };
                match tail {
                    Some(op) => els.stmts.push(Stmt::Assign {
                        var: result,
                        rhs: Rhs::Op(Op::Copy, vec![op]),
                        init: true,
                    }),
                    None => self.diag.error(
                        e.span(),
                        "expected this branch to end in a float expression",
                    ),
                }
                self.leave();
            }
            None => self.diag.error(
                i.span(),
                "an `if` used as a float value needs an `else` branch",
            ),
        }
        if ex1.any() || ex2.any() {
            self.diag.error(i.span(), "`#[differentiate]` does not support `break`, `continue` or `return` inside an `if` used as a value; use an `if` statement");
        }
        simplify_if_copies(&mut then, &mut els, result, &self.vars);
        out.stmts.push(Stmt::If { cond, then, els });
        Operand::Var(result)
    }
}

struct ForPlan {
    index_name: String,
    span: Span,
    range: Range,
    /// (element name, buffer, binds a reference, span)
    elems: Vec<(String, VarId, bool, Span)>,
}

trait BodyTokens {
    fn body_expr_tokens(&self) -> Expr;
}

impl BodyTokens for syn::ExprForLoop {
    fn body_expr_tokens(&self) -> Expr {
        Expr::Block(syn::ExprBlock {
            attrs: vec![],
            label: None,
            block: self.body.clone(),
        })
    }
}

/// Replaces `let t = op(..); let v = t;` (a temp copied into a fresh binding) by `let v = op(..)`.
fn simplify_copy_let(out: &mut Block, vars: &[Var]) {
    let n = out.stmts.len();
    if n < 2 {
        return;
    }
    let (head, tail) = out.stmts.split_at_mut(n - 1);
    let (
        Stmt::Let {
            var: t, rhs: trhs, ..
        },
        Stmt::Let {
            var: v,
            rhs: Rhs::Op(Op::Copy, args),
            ..
        },
    ) = (&mut head[n - 2], &mut tail[0])
    else {
        return;
    };
    if !matches!(args.as_slice(), [Operand::Var(a)] if a == t)
        || !vars[*t].ident.to_string().starts_with("__t")
    {
        return;
    }
    let rhs = std::mem::replace(trhs, Rhs::Passive(PExpr::constant(quote!())));
    let v = *v;
    let mutable = matches!(&tail[0], Stmt::Let { mutable: true, .. });
    out.stmts.truncate(n - 2);
    out.stmts.push(Stmt::Let {
        var: v,
        rhs,
        mutable,
    });
}

/// Same for `let t = op(..); v = t;`.
fn simplify_copy_assign(out: &mut Block, vars: &[Var]) {
    let n = out.stmts.len();
    if n < 2 {
        return;
    }
    let (head, tail) = out.stmts.split_at_mut(n - 1);
    let (
        Stmt::Let {
            var: t, rhs: trhs, ..
        },
        Stmt::Assign {
            var: v,
            rhs: Rhs::Op(Op::Copy, args),
            init,
        },
    ) = (&mut head[n - 2], &mut tail[0])
    else {
        return;
    };
    if !matches!(args.as_slice(), [Operand::Var(a)] if a == t)
        || !vars[*t].ident.to_string().starts_with("__t")
    {
        return;
    }
    let rhs = std::mem::replace(trhs, Rhs::Passive(PExpr::constant(quote!())));
    let (v, init) = (*v, *init);
    out.stmts.truncate(n - 2);
    out.stmts.push(Stmt::Assign { var: v, rhs, init });
}

fn simplify_if_copies(then: &mut Block, els: &mut Block, result: VarId, vars: &[Var]) {
    for b in [then, els] {
        let n = b.stmts.len();
        if n >= 2 {
            if let Stmt::Assign { var, .. } = &b.stmts[n - 1] {
                if *var == result {
                    simplify_copy_assign(b, vars);
                }
            }
        }
    }
}

fn block_tail(b: &syn::Block) -> Option<&Expr> {
    match b.stmts.last() {
        Some(SynStmt::Expr(e, None)) => Some(e),
        _ => None,
    }
}

fn strip_paren(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => strip_paren(&p.expr),
        Expr::Group(g) => strip_paren(&g.expr),
        e => e,
    }
}

/// Constructs outside the contract, with the message saying what to use instead.
fn unsupported(e: &Expr) -> Option<String> {
    let what = match e {
        Expr::Match(_) => return Some("`#[differentiate]` cannot differentiate through `match`; use `if`/`else`".into()),
        Expr::Loop(_) => return Some("`#[differentiate]` cannot differentiate through `loop`; use `while` or `for`".into()),
        Expr::Closure(_) => return Some("`#[differentiate]` cannot differentiate through a closure; write a separate `#[differentiate]` function and call it".into()),
        Expr::Unsafe(_) => return Some("`#[differentiate]` cannot differentiate through `unsafe` code".into()),
        Expr::Async(_) | Expr::Await(_) => "`async`/`.await`",
        Expr::TryBlock(_) | Expr::Try(_) => "`?`",
        Expr::Yield(_) => "`yield`",
        Expr::Const(_) => "a `const` block",
        _ => return None,
    };
    Some(format!("`#[differentiate]` does not support {what}"))
}

fn unsupported_span(e: &Expr) -> Span {
    match e {
        Expr::Match(m) => m.match_token.span,
        Expr::Loop(l) => l.loop_token.span,
        Expr::Closure(c) => c.or1_token.span,
        Expr::Unsafe(u) => u.unsafe_token.span,
        other => other.span(),
    }
}

fn pat_idents(p: &Pat, out: &mut Vec<Ident>) {
    match p {
        Pat::Ident(pi) => out.push(pi.ident.clone()),
        Pat::Tuple(t) => t.elems.iter().for_each(|e| pat_idents(e, out)),
        Pat::TupleStruct(t) => t.elems.iter().for_each(|e| pat_idents(e, out)),
        Pat::Reference(r) => pat_idents(&r.pat, out),
        Pat::Type(t) => pat_idents(&t.pat, out),
        Pat::Slice(s) => s.elems.iter().for_each(|e| pat_idents(e, out)),
        Pat::Struct(s) => s.fields.iter().for_each(|f| pat_idents(&f.pat, out)),
        _ => {}
    }
}

fn replace_ident(ts: TokenStream, from: &Ident, to: &Ident) -> TokenStream {
    ts.into_iter()
        .map(|tt| match tt {
            TokenTree::Ident(i) if i == *from => {
                let mut n = to.clone();
                n.set_span(i.span());
                TokenTree::Ident(n)
            }
            TokenTree::Group(g) => {
                let mut ng =
                    proc_macro2::Group::new(g.delimiter(), replace_ident(g.stream(), from, to));
                ng.set_span(g.span());
                TokenTree::Group(ng)
            }
            other => other,
        })
        .collect()
}

/// Renames variable references inside a passive expression.
struct Renamer<'a, 'b> {
    lw: &'a Lowerer<'b>,
    reads: &'a mut Vec<VarId>,
    /// Names bound inside the expression (closure parameters) that shadow outer ones.
    local: Vec<String>,
}

impl VisitMut for Renamer<'_, '_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        // `*e` of a slice element bound by `for e in x.iter()`: the element is a value here.
        if let Expr::Unary(u) = e {
            if matches!(u.op, UnOp::Deref(_)) {
                if let Some(v) = self.lw.lookup_path(&u.expr) {
                    if self.lw.vars[v].by_ref_elem {
                        *e = (*u.expr).clone();
                        self.visit_expr_mut(e);
                        return;
                    }
                }
            }
        }
        match e {
            Expr::Path(p)
                if p.qself.is_none()
                    && p.path.segments.len() == 1
                    && p.path.segments[0].arguments.is_none() =>
            {
                let name = p.path.segments[0].ident.to_string();
                if self.local.contains(&name) {
                    return;
                }
                if let Some(id) = self.lw.lookup(&name) {
                    self.reads.push(id);
                    let span = p.path.segments[0].ident.span();
                    let mut ni = self.lw.vars[id].ident.clone();
                    ni.set_span(span);
                    p.path.segments[0].ident = ni;
                }
            }
            Expr::Closure(c) => {
                let mut names = Vec::new();
                for i in &c.inputs {
                    pat_idents(i, &mut names);
                }
                let n = self.local.len();
                self.local.extend(names.iter().map(|i| i.to_string()));
                self.visit_expr_mut(&mut c.body);
                self.local.truncate(n);
            }
            Expr::Macro(m) => {
                let ts = self.lw.rename_tokens(m.mac.tokens.clone(), self.reads);
                m.mac.tokens = ts;
            }
            _ => syn::visit_mut::visit_expr_mut(self, e),
        }
    }

    fn visit_expr_field_mut(&mut self, f: &mut syn::ExprField) {
        self.visit_expr_mut(&mut f.base);
    }

    fn visit_expr_method_call_mut(&mut self, m: &mut syn::ExprMethodCall) {
        self.visit_expr_mut(&mut m.receiver);
        for a in m.args.iter_mut() {
            self.visit_expr_mut(a);
        }
    }
}

/// A type as a person writes it (`&Vec<f64>`, not `& Vec < f64 >`).
fn pretty(ty: &Type) -> String {
    let s = ty.to_token_stream().to_string();
    s.replace(" < ", "<")
        .replace("< ", "<")
        .replace(" <", "<")
        .replace(" >", ">")
        .replace("& ", "&")
        .replace(" ,", ",")
        .replace(" ;", ";")
        .replace("[ ", "[")
        .replace(" ]", "]")
        .replace("&mut[", "&mut [")
}
