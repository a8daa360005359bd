//! Struct parameters named in `wrt(..)`: `p: &S`, `p: S`, `&self`.
//!
//! The macro cannot see `S`'s definition, so before lowering, every field path
//! the body reads (`p.w`, `p.l1.w`) becomes a synthetic parameter (`p__w`,
//! `p__l1__w`) of the kind its uses tell:
//!
//! | use | kind | bound at entry |
//! |---|---|---|
//! | `p.w[i]`, `p.w.len()`, `p.w.iter()`, `&p.w` | float buffer | `let p__w: &[F] = &p.w[..];` |
//! | `&p.l1` as a call argument | passed through (struct or buffer) | `let p__l1 = &p.l1;` |
//! | `0..p.n`, `x[p.n]`, `p.n as F`, `let n: u32 = p.n` | integer | `let p__n: usize = p.n;` |
//! | anything else (arithmetic) | float | `let p__b: F = p.b;` |
//!
//! with the shadows bound the same way from `dp` (`&mut dp.w[..]` in the
//! adjoint: disjoint field borrows). Every binding is typed, so a wrong guess
//! does not compile: never a silent wrong gradient. A path used both as an
//! integer and a float cannot be told and is an error. The struct itself,
//! passed whole to a differentiated call (`g(p, x)`), is a buffer-like
//! variable whose shadow is `dp`; its other bare uses are errors.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, ToTokens};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Expr, FnArg, Member, Pat, Type};

use crate::attr::Config;
use crate::diag::Diag;
use crate::ir::FieldKind;

/// One struct parameter and the field paths its body reads.
pub struct StructParam {
    pub name: String,
    /// The type without the reference (`Linear<T>`, `Self`).
    pub ty: TokenStream,
    pub by_ref: bool,
    pub fields: Vec<FieldUse>,
    /// Passed whole to a call (`g(p)`, `self.g(x)`).
    pub whole: bool,
    /// A use of the struct itself was rejected: it is lowered as passive, so its
    /// other uses are not reported again.
    pub rejected: bool,
}

pub struct FieldUse {
    /// `.l1.w`
    pub access: TokenStream,
    /// `p__l1__w`
    pub ident: Ident,
    /// `access`, with a `*` in front for a deref'd box
    key: String,
    pub kind: FieldKind,
    int_use: Option<Span>,
    float_use: Option<Span>,
}

/// The struct parameters of `sig` named in `wrt(..)`, and the body with their
/// field paths replaced by synthetic names.
pub fn rewrite(
    sig: &syn::Signature,
    block: &syn::Block,
    config: &Config,
    diag: &mut Diag,
) -> (Vec<StructParam>, Option<syn::Block>) {
    let Some(wrt) = &config.wrt else {
        return (Vec::new(), None);
    };
    let mut params = Vec::new();
    let floats: Vec<String> = sig
        .generics
        .type_params()
        .filter(|p| {
            p.bounds.iter().any(|b| {
                matches!(b, syn::TypeParamBound::Trait(t)
                    if t.path.segments.last().is_some_and(|s| s.ident == "Float"))
            })
        })
        .map(|p| p.ident.to_string())
        .collect();
    for arg in &sig.inputs {
        match arg {
            FnArg::Receiver(r) if wrt.iter().any(|w| w == "self") => {
                if r.mutability.is_some() && r.reference.is_some() {
                    continue; // rejected by the receiver's lowering
                }
                params.push(StructParam {
                    name: "self".into(),
                    ty: quote!(Self),
                    by_ref: r.reference.is_some(),
                    fields: Vec::new(),
                    whole: false,
                    rejected: false,
                });
            }
            FnArg::Typed(pt) => {
                let Pat::Ident(pi) = &*pt.pat else { continue };
                if !wrt.contains(&pi.ident) {
                    continue;
                }
                if let Some((ty, by_ref)) = struct_type(&pt.ty, &floats) {
                    params.push(StructParam {
                        name: pi.ident.to_string(),
                        ty,
                        by_ref,
                        fields: Vec::new(),
                        whole: false,
                        rejected: false,
                    });
                }
            }
            _ => {}
        }
    }
    if params.is_empty() {
        return (params, None);
    }
    let mut block = block.clone();
    Rewriter {
        params: &mut params,
        diag,
    }
    .visit_block_mut(&mut block);
    for p in &params {
        for f in &p.fields {
            if let (Some(i), Some(_)) = (f.int_use, f.float_use) {
                diag.error(
                    i,
                    format!(
                        "`#[differentiate]` cannot tell whether the field `{}{}` is a float or an integer: it is used as both; bind it with its type first (`let n: usize = {}{};`)",
                        p.name,
                        pretty(&f.access),
                        p.name,
                        pretty(&f.access),
                    ),
                );
            }
        }
    }
    (params, Some(block))
}

fn pretty(t: &TokenStream) -> String {
    t.to_string().replace(' ', "")
}

/// `&S` or `S` for a named type that is not a float, a buffer or a known
/// non-float (`usize`, `String`, `Vec<_>`, `[_; N]`).
fn struct_type(ty: &Type, floats: &[String]) -> Option<(TokenStream, bool)> {
    match ty {
        Type::Paren(p) => struct_type(&p.elem, floats),
        Type::Group(g) => struct_type(&g.elem, floats),
        Type::Reference(r) if r.mutability.is_none() => {
            struct_type(&r.elem, floats).and_then(|(t, by_ref)| (!by_ref).then_some((t, true)))
        }
        Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            let name = last.ident.to_string();
            let known = matches!(
                name.as_str(),
                "f64"
                    | "f32"
                    | "usize"
                    | "isize"
                    | "u8"
                    | "u16"
                    | "u32"
                    | "u64"
                    | "u128"
                    | "i8"
                    | "i16"
                    | "i32"
                    | "i64"
                    | "i128"
                    | "bool"
                    | "char"
                    | "String"
                    | "str"
                    | "Vec"
                    | "Option"
                    | "Box"
                    | "Rc"
                    | "Arc"
            );
            // The function's float type parameter (`T: Float`) is not a struct.
            let float_param =
                p.path.segments.len() == 1 && last.arguments.is_none() && floats.contains(&name);
            (!known && !float_param).then(|| (ty.to_token_stream(), false))
        }
        _ => None,
    }
}

struct Rewriter<'a> {
    params: &'a mut Vec<StructParam>,
    diag: &'a mut Diag,
}

/// How a field path is used where it appears.
#[derive(Clone, Copy, PartialEq)]
enum Use {
    Float,
    Buf,
    /// `&p.x` passed to a call.
    Pass,
    Int,
    /// A cast operand: an integer of any type.
    AnyInt,
    /// `*p.b`
    Deref,
}

/// `Linear<T>` as an expression path, `Linear::<T>`.
fn type_path(ty: &TokenStream) -> Option<syn::Path> {
    let Ok(Type::Path(tp)) = syn::parse2::<Type>(ty.clone()) else {
        return None;
    };
    if tp.qself.is_some() {
        return None;
    }
    let mut path = tp.path;
    for seg in path.segments.iter_mut() {
        if let syn::PathArguments::AngleBracketed(a) = &mut seg.arguments {
            a.colon2_token = Some(Default::default());
        }
    }
    Some(path)
}

fn is_arith(op: &syn::BinOp) -> bool {
    use syn::BinOp::*;
    matches!(
        op,
        Add(_)
            | Sub(_)
            | Mul(_)
            | Div(_)
            | Rem(_)
            | Shl(_)
            | Shr(_)
            | BitAnd(_)
            | BitOr(_)
            | BitXor(_)
    )
}

/// Slice methods: a receiver calling one is a float buffer; any other method
/// (`exp`, `max`, `pow`) takes its receiver for a float, a guess the typed
/// binding checks.
fn is_buffer_method(name: &str) -> bool {
    matches!(
        name,
        "len"
            | "is_empty"
            | "iter"
            | "first"
            | "last"
            | "windows"
            | "chunks"
            | "chunks_exact"
            | "to_vec"
            | "get"
            | "split_at"
            | "split_first"
            | "split_last"
            | "as_slice"
            | "into_iter"
            | "rchunks"
            | "concat"
    )
}

impl Rewriter<'_> {
    /// `p.a.b` rooted at a struct parameter: (param index, members).
    fn chain(&self, e: &Expr) -> Option<(usize, Vec<Member>)> {
        let mut members = Vec::new();
        let mut cur = e;
        loop {
            match cur {
                Expr::Field(f) => {
                    members.push(f.member.clone());
                    cur = &f.base;
                }
                Expr::Paren(p) if members.is_empty() => cur = &p.expr,
                Expr::Path(p) if !members.is_empty() => {
                    let root = p.path.get_ident()?.to_string();
                    let i = self.params.iter().position(|s| s.name == root)?;
                    members.reverse();
                    return Some((i, members));
                }
                _ => return None,
            }
        }
    }

    fn root(&self, e: &Expr) -> Option<usize> {
        match e {
            Expr::Path(p) if p.qself.is_none() => {
                let id = p.path.get_ident()?.to_string();
                self.params.iter().position(|s| s.name == id)
            }
            Expr::Paren(p) => self.root(&p.expr),
            _ => None,
        }
    }

    /// Records a use of the chain `e` and replaces it by its synthetic name.
    fn replace(&mut self, e: &mut Expr, how: Use) -> bool {
        let Some((pi, mut members)) = self.chain(e) else {
            return false;
        };
        // `*p.b`: the float in a `Box`, a field of its own
        let deref = matches!(how, Use::Deref);
        if deref {
            members.push(Member::Named(Ident::new("deref", Span::call_site())));
        }
        let span = e.span();
        let p = &mut self.params[pi];
        let n = members.len() - usize::from(deref);
        let access: TokenStream = members[..n].iter().map(|m| quote!(.#m)).collect();
        let key = if deref {
            format!("*{access}")
        } else {
            access.to_string()
        };
        let suffix: Vec<String> = members
            .iter()
            .map(|m| match m {
                Member::Named(i) => i.to_string(),
                Member::Unnamed(i) => i.index.to_string(),
            })
            .collect();
        let ident = Ident::new(
            &format!("{}__{}", p.name.trim_start_matches("r#"), suffix.join("__")),
            span,
        );
        let idx = match p.fields.iter().position(|f| f.key == key) {
            Some(i) => i,
            None => {
                p.fields.push(FieldUse {
                    key,
                    access,
                    ident: ident.clone(),
                    kind: FieldKind::Passed,
                    int_use: None,
                    float_use: None,
                });
                p.fields.len() - 1
            }
        };
        let f = &mut p.fields[idx];
        match how {
            Use::Buf => f.kind = FieldKind::Buf,
            Use::Pass => {}
            Use::Deref => f.kind = FieldKind::DerefFloat,
            Use::Float => {
                f.float_use.get_or_insert(span);
                if f.kind != FieldKind::Buf && !matches!(f.kind, FieldKind::Int(_)) {
                    f.kind = FieldKind::Float;
                }
            }
            Use::Int | Use::AnyInt => {
                f.int_use.get_or_insert(span);
                let usize_use =
                    how == Use::Int || matches!(&f.kind, FieldKind::Int(t) if !t.is_empty());
                if f.kind != FieldKind::Buf {
                    f.kind = FieldKind::Int(if usize_use { quote!(usize) } else { quote!() });
                }
            }
        }
        let id = f.ident.clone();
        *e = syn::parse_quote_spanned!(span=> #id);
        true
    }

    /// An integer use with a type as written (`let n: u32 = p.n`).
    fn replace_int(&mut self, e: &mut Expr, ty: &Type) -> bool {
        if !self.replace(e, Use::Int) {
            return false;
        }
        if let Expr::Path(p) = e {
            let name = p.path.get_ident().map(|i| i.to_string());
            for s in self.params.iter_mut() {
                for f in &mut s.fields {
                    if Some(f.ident.to_string()) == name && f.kind != FieldKind::Buf {
                        f.kind = FieldKind::Int(ty.to_token_stream());
                    }
                }
            }
        }
        true
    }

    fn visit_arg(&mut self, a: &mut Expr) {
        if let Expr::Reference(r) = a {
            if r.mutability.is_none() && self.chain(&r.expr).is_some() {
                // `&p.w` → `p__w` (itself a reference)
                let mut inner = (*r.expr).clone();
                self.replace(&mut inner, Use::Pass);
                *a = inner;
                return;
            }
        }
        if let Some(pi) = self.root(a) {
            self.params[pi].whole = true; // the struct passed whole
            return;
        }
        if self.replace(a, Use::Float) {
            return;
        }
        self.visit_expr_mut(a);
    }

    /// An index, a range bound or a cast operand: field paths in its integer
    /// arithmetic are integers.
    fn int_position(&mut self, e: &mut Expr) {
        if self.replace(e, Use::Int) {
            return;
        }
        match e {
            Expr::Binary(b) if is_arith(&b.op) => {
                self.int_position(&mut b.left);
                self.int_position(&mut b.right);
            }
            Expr::Paren(p) => self.int_position(&mut p.expr),
            _ => self.visit_expr_mut(e),
        }
    }
}

impl VisitMut for Rewriter<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        match e {
            Expr::Index(ix) => {
                if !self.replace(&mut ix.expr, Use::Buf) {
                    self.visit_expr_mut(&mut ix.expr);
                }
                match &mut *ix.index {
                    Expr::Range(_) => self.visit_expr_mut(&mut ix.index),
                    other => self.int_position(other),
                }
            }
            Expr::MethodCall(m) => {
                let name = m.method.to_string();
                let how = if is_buffer_method(&name) {
                    Use::Buf
                } else {
                    Use::Float
                };
                if !self.replace(&mut m.receiver, how) {
                    if let Some(pi) = self.root(&m.receiver) {
                        // `self.g(x)`: `Self::g(self, x)`, a call with the struct passed whole.
                        let p = &mut self.params[pi];
                        if p.name == "self" {
                            p.whole = true;
                            let recv = (*m.receiver).clone();
                            let method = &m.method;
                            let turbofish = &m.turbofish;
                            let mut args: Vec<Expr> = vec![recv];
                            args.extend(m.args.iter().cloned());
                            let mut call: Expr = syn::parse_quote_spanned!(m.span()=> Self::#method #turbofish(#(#args),*));
                            self.visit_expr_mut(&mut call);
                            *e = call;
                            return;
                        }
                        // `p.g(x)` on `p: &S`: `S::g(p, x)`
                        if let Some(path) = self.params[pi]
                            .by_ref
                            .then(|| type_path(&self.params[pi].ty))
                            .flatten()
                        {
                            self.params[pi].whole = true;
                            let recv = (*m.receiver).clone();
                            let method = &m.method;
                            let turbofish = &m.turbofish;
                            let mut args: Vec<Expr> = vec![recv];
                            args.extend(m.args.iter().cloned());
                            let mut call: Expr = syn::parse_quote_spanned!(m.span()=> #path::#method #turbofish(#(#args),*));
                            self.visit_expr_mut(&mut call);
                            *e = call;
                            return;
                        }
                        self.params[pi].rejected = true;
                        let p = &self.params[pi];
                        self.diag.error(
                            m.method.span(),
                            format!(
                                "`#[differentiate]` cannot call a method on the differentiated struct `{}` taken by value; take it by reference (`&S`) or read its fields (`{0}.w[i]`) (method `{}`)",
                                p.name, m.method
                            ),
                        );
                        return;
                    }
                    self.visit_expr_mut(&mut m.receiver);
                }
                for a in m.args.iter_mut() {
                    self.visit_arg(a);
                }
            }
            Expr::Call(c) => {
                self.visit_expr_mut(&mut c.func);
                for a in c.args.iter_mut() {
                    self.visit_arg(a);
                }
            }
            Expr::Range(r) => {
                for b in [&mut r.start, &mut r.end].into_iter().flatten() {
                    self.int_position(b);
                }
            }
            Expr::Cast(c) => {
                if !self.replace(&mut c.expr, Use::AnyInt) {
                    self.int_position(&mut c.expr);
                }
            }
            Expr::Reference(r) if self.chain(&r.expr).is_some() => {
                let mut inner = (*r.expr).clone();
                self.replace(&mut inner, Use::Buf);
                *e = inner;
            }
            Expr::Unary(u)
                if matches!(u.op, syn::UnOp::Deref(_)) && self.chain(&u.expr).is_some() =>
            {
                let mut inner = (*u.expr).clone();
                self.replace(&mut inner, Use::Deref);
                *e = inner;
            }
            Expr::Field(_) if self.chain(e).is_some() => {
                self.replace(e, Use::Float);
            }
            Expr::Path(_) if self.root(e).is_some() => {
                let pi = self.root(e).unwrap_or(0);
                self.params[pi].rejected = true;
                let name = &self.params[pi].name;
                self.diag.error_spanned(
                    &*e,
                    format!(
                        "`#[differentiate]` can use the differentiated struct `{name}` through its fields (`{name}.w[i]`, `{name}.b`) or pass it whole to a differentiated function (`g({name}, x)`), not otherwise"
                    ),
                );
            }
            Expr::Macro(m) => self.visit_macro(&mut m.mac),
            _ => syn::visit_mut::visit_expr_mut(self, e),
        }
    }

    fn visit_local_mut(&mut self, l: &mut syn::Local) {
        if let (Pat::Type(pt), Some(init)) = (&l.pat, &mut l.init) {
            if super::types::is_int_prim(&pt.ty) {
                let ty = (*pt.ty).clone();
                if self.replace_int(&mut init.expr, &ty) {
                    return;
                }
            }
        }
        syn::visit_mut::visit_local_mut(self, l);
    }

    fn visit_pat_ident_mut(&mut self, p: &mut syn::PatIdent) {
        if self.params.iter().any(|s| p.ident == s.name) {
            self.diag.error(
                p.ident.span(),
                format!(
                    "`#[differentiate]`: this shadows the differentiated struct parameter `{}`; choose another name",
                    p.ident
                ),
            );
        }
        syn::visit_mut::visit_pat_ident_mut(self, p);
    }

    fn visit_stmt_macro_mut(&mut self, m: &mut syn::StmtMacro) {
        self.visit_macro(&mut m.mac);
    }

    fn visit_expr_for_loop_mut(&mut self, f: &mut syn::ExprForLoop) {
        // `for e in p.w`: the field is iterated, a buffer
        if !self.replace(&mut f.expr, Use::Buf) {
            self.visit_expr_mut(&mut f.expr);
        }
        self.visit_pat_mut(&mut f.pat);
        self.visit_block_mut(&mut f.body);
    }
}

impl Rewriter<'_> {
    /// The arguments of `vec!`, the assertions and the printing macros are
    /// expressions, rewritten like the body; another macro that mentions the
    /// struct is an error (its tokens cannot be read).
    fn visit_macro(&mut self, mac: &mut syn::Macro) {
        use syn::punctuated::Punctuated;
        let name = macro_name(mac);
        let tokens = mac.tokens.clone();
        if name == "vec" {
            match syn::parse2::<Expr>(quote!([#tokens])) {
                Ok(Expr::Repeat(mut r)) => {
                    self.visit_expr_mut(&mut r.expr);
                    self.int_position(&mut r.len);
                    let (e, n) = (&r.expr, &r.len);
                    mac.tokens = quote!(#e; #n);
                    return;
                }
                Ok(Expr::Array(mut a)) => {
                    for e in a.elems.iter_mut() {
                        self.visit_expr_mut(e);
                    }
                    mac.tokens = a.elems.to_token_stream();
                    return;
                }
                _ => {}
            }
        }
        let expr_args = takes_exprs(&name);
        if expr_args {
            let parser = Punctuated::<Expr, syn::Token![,]>::parse_terminated;
            if let Ok(mut args) = syn::parse::Parser::parse2(parser, tokens.clone()) {
                for e in args.iter_mut() {
                    self.visit_expr_mut(e);
                }
                mac.tokens = args.to_token_stream();
                return;
            }
        }
        let mut mentions = None;
        for t in tokens {
            mention(&t, self.params, &mut mentions);
        }
        if let Some(span) = mentions {
            self.diag.error(
                span,
                format!("`#[differentiate]` cannot read a differentiated struct's fields inside `{name}!`; bind the field first (`let w = &p.w;`)"),
            );
        }
    }
}

/// The last segment of a macro's path (`assert_eq` of `std::assert_eq!`).
pub(super) fn macro_name(mac: &syn::Macro) -> String {
    mac.path
        .segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default()
}

/// The assertion and printing macros, whose arguments are expressions.
pub(super) fn takes_exprs(name: &str) -> bool {
    matches!(
        name,
        "assert"
            | "assert_eq"
            | "assert_ne"
            | "debug_assert"
            | "debug_assert_eq"
            | "debug_assert_ne"
            | "println"
            | "eprintln"
            | "print"
            | "eprint"
            | "panic"
            | "unreachable"
            | "format"
            | "dbg"
            | "todo"
            | "unimplemented"
    )
}

fn mention(t: &proc_macro2::TokenTree, params: &[StructParam], out: &mut Option<Span>) {
    match t {
        proc_macro2::TokenTree::Ident(i) if params.iter().any(|p| *i == p.name) => {
            out.get_or_insert(i.span());
        }
        proc_macro2::TokenTree::Group(g) => {
            for t in g.stream() {
                mention(&t, params, out);
            }
        }
        _ => {}
    }
}
