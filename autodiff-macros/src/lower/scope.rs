//! Variables, scopes and renaming: every binding gets a unique emitted name, and
//! passive code is copied through with its references renamed.

use proc_macro2::{Ident, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Expr, Pat, UnOp};

use super::Lowerer;
use crate::ir::*;

impl Lowerer<'_> {
    pub(super) fn new_var(
        &mut self,
        name: &str,
        kind: Kind,
        span: Span,
        buf: Option<BufRepr>,
    ) -> VarId {
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
            tmp: false,
            view: None,
            ty: None,
        });
        self.facts.push(Default::default());
        self.vars.len() - 1
    }

    pub(super) fn new_tmp(&mut self, span: Span) -> VarId {
        let t = self.new_var("__t", Kind::Float, span, None);
        self.vars[t].tmp = true;
        t
    }

    pub(super) fn bind(&mut self, name: &str, id: VarId) {
        // A name now means another variable: classifications made before are stale.
        self.kcache.clear();
        if let Some(s) = self.scopes.last_mut() {
            s.push((name.to_string(), id));
        }
    }

    pub(super) fn lookup(&self, name: &str) -> Option<VarId> {
        for scope in self.scopes.iter().rev() {
            for (n, id) in scope.iter().rev() {
                if n == name {
                    return Some(*id);
                }
            }
        }
        None
    }

    pub(super) fn lookup_path(&self, e: &Expr) -> Option<VarId> {
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

    pub(super) fn new_block(&mut self) -> Block {
        let id = self.blocks;
        self.blocks += 1;
        Block {
            id,
            stmts: Vec::new(),
            ids: Vec::new(),
        }
    }

    pub(super) fn enter(&mut self, b: &Block) {
        self.block_stack.push(b.id);
        self.scopes.push(Vec::new());
    }

    pub(super) fn leave(&mut self) {
        self.kcache.clear();
        self.block_stack.pop();
        self.scopes.pop();
    }

    // ---- kinds ----

    pub(super) fn for_each_var(&self, ts: TokenStream, f: &mut impl FnMut(VarId)) {
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

    /// Renames variable references to their emitted names and records what is read.
    pub(super) fn passive(&mut self, e: &Expr) -> PExpr {
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
        let atomic = matches!(
            e,
            Expr::Lit(_)
                | Expr::Path(_)
                | Expr::MethodCall(_)
                | Expr::Call(_)
                | Expr::Field(_)
                | Expr::Paren(_)
        );
        PExpr {
            tokens: e.to_token_stream(),
            reads,
            atomic,
        }
    }

    pub(super) fn passive_tokens(&mut self, ts: TokenStream) -> PExpr {
        let mut reads = Vec::new();
        let tokens = self.rename_tokens(ts, &mut reads);
        reads.sort_unstable();
        reads.dedup();
        PExpr::compound(tokens, reads)
    }

    pub(super) fn rename_tokens(&self, ts: TokenStream, reads: &mut Vec<VarId>) -> TokenStream {
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
}

pub(super) fn pat_idents(p: &Pat, out: &mut Vec<Ident>) {
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

pub(super) fn replace_ident(ts: TokenStream, from: &Ident, to: &Ident) -> TokenStream {
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
        // `*e` (or `e`) of `for e in b.iter_mut()`: the element `b[i]`
        let alias = match e {
            Expr::Unary(u) if matches!(u.op, UnOp::Deref(_)) => self.lw.lookup_path(&u.expr),
            Expr::Path(_) => self.lw.lookup_path(e),
            _ => None,
        };
        if let Some((b, i)) = alias.and_then(|v| self.lw.facts[v].place.clone()) {
            self.reads.push(b);
            self.reads.extend(i.reads.iter().copied());
            let bi = self.lw.vars[b].ident.clone();
            let it = &i.tokens;
            *e = syn::parse_quote!(#bi[#it]);
            return;
        }
        // `p.0` of a tuple taken apart: its element's variable.
        if let Expr::Field(f) = e {
            if let Some(v) = self.lw.tuple_field(f) {
                self.reads.push(v);
                let mut ident = self.lw.vars[v].ident.clone();
                ident.set_span(f.member.span());
                *e = syn::parse_quote!(#ident);
                return;
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
