//! Loops: `for` over ranges and slices, `while`, and their exit flags.

use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{Expr, Pat};

use super::*;
use crate::ir::*;
use crate::rules::Op;

impl Lowerer<'_> {
    pub(super) fn lower_for(&mut self, f: &syn::ExprForLoop, out: &mut Block) -> Exits {
        if let Some(l) = &f.label {
            self.diag.error(
                l.span(),
                "`#[differentiate]` does not support labelled loops",
            );
        }
        let checkpoint = self.loop_checkpoint(&f.attrs);
        if checkpoint.is_some() && (self.block_stack.len() > 1 || self.loop_depth > 0) {
            self.diag.error_spanned(
                &f.expr,
                "`#[checkpoint]` and `#[recompute]` apply to a loop at the top of the function body, not inside another loop or a branch",
            );
        }
        let not_a_range = |lw: &mut Self| {
            if checkpoint.is_some() {
                lw.diag.error_spanned(
                    &f.expr,
                    "`#[checkpoint]` and `#[recompute]` apply to a `for` loop over a range (`for i in 0..n`) that computes float values",
                );
            }
        };
        if self.is_passive_loop(f) {
            not_a_range(self);
            return self.lower_passive_loop(f, out);
        }
        if !is_simple_for(&f.expr) {
            if let Some(chain) = super::iter::parse_for_chain(f) {
                not_a_range(self);
                return self.lower_for_chain(f, &chain, out);
            }
        }
        let Some(plan) = self.plan_for(f) else {
            return Exits::default();
        };
        if checkpoint.is_some() && matches!(plan.range, Range::Range { rev: true, .. }) {
            self.diag.error_spanned(
                &f.expr,
                "`#[checkpoint]` and `#[recompute]` need a loop over an increasing range (`lo..hi` or `lo..=hi`), not `.rev()`",
            );
        }
        let (brk_flag, cont_flag) = self.loop_flags(&f.body, out);
        let mut body = self.enter_loop(brk_flag, cont_flag);
        let loop_var = self.new_var(&plan.index_name, Kind::Passive, plan.span, None);
        if !plan.index_name.starts_with("__") {
            self.bind(&plan.index_name, loop_var);
        }
        if let Some(c) = cont_flag {
            body.stmts.push(Stmt::set_flag(c, false));
        }
        self.bind_loop_elems(&plan, loop_var, &mut body);
        let ex = self.end_loop(&f.body, &mut body);
        let exit = self.exit_cond(brk_flag, ex.ret);
        let last = if exit.is_some() {
            let l = self.new_var("__last", Kind::Passive, plan.span, None);
            Some(l)
        } else {
            None
        };
        if checkpoint.is_some() && exit.is_some() {
            self.diag.error_spanned(
                &f.body,
                "a `#[checkpoint]` or `#[recompute]` loop cannot leave early (`break`, `return`): its reverse sweep runs it again",
            );
        }
        if checkpoint.is_some() {
            self.check_checkpoint_body(&body);
        }
        out.stmts.push(Stmt::For {
            var: loop_var,
            range: plan.range,
            body,
            exit,
            last,
            checkpoint,
        });
        Exits {
            ret: ex.ret,
            ..Default::default()
        }
    }

    /// `#[checkpoint]`, `#[checkpoint(every = k)]`, `#[recompute]` or `#[store]`
    /// (the default, said explicitly) on the loop.
    fn loop_checkpoint(&mut self, attrs: &[syn::Attribute]) -> Option<Checkpoint> {
        let modes: Vec<_> = attrs
            .iter()
            .filter(|a| {
                crate::expand::LOOP_ATTRS
                    .iter()
                    .any(|n| a.path().is_ident(n))
            })
            .collect();
        if modes.len() > 1 {
            self.diag.error_spanned(
                modes[1],
                "a loop is stored, recomputed or checkpointed: one of `#[store]`, `#[recompute]`, `#[checkpoint]`",
            );
        }
        if let Some(a) = modes.first().filter(|a| !a.path().is_ident("checkpoint")) {
            if !matches!(a.meta, syn::Meta::Path(_)) {
                self.diag
                    .error_spanned(a, "`#[store]` and `#[recompute]` take no arguments");
            }
            return a
                .path()
                .is_ident("recompute")
                .then_some(Checkpoint::Recompute);
        }
        let attr = *modes.first()?;
        match &attr.meta {
            syn::Meta::Path(_) => Some(Checkpoint::Sqrt),
            syn::Meta::List(l) => match syn::parse2::<syn::MetaNameValue>(l.tokens.clone()) {
                Ok(nv) if nv.path.is_ident("every") => Some(Checkpoint::Every(
                    self.index_expr(&nv.value, "a checkpoint segment length"),
                )),
                _ => {
                    self.diag.error_spanned(
                        attr,
                        "expected `#[checkpoint]` or `#[checkpoint(every = k)]`",
                    );
                    None
                }
            },
            syn::Meta::NameValue(_) => {
                self.diag.error_spanned(
                    attr,
                    "expected `#[checkpoint]` or `#[checkpoint(every = k)]`",
                );
                None
            }
        }
    }

    /// A checkpointed loop's body runs again in the reverse sweep from the states
    /// saved at the segments' starts, which hold the variables its statements
    /// assign: passive code that could change anything else (an expression
    /// statement, a passive loop, an assignment copied through) is rejected.
    fn check_checkpoint_body(&mut self, body: &Block) {
        let mut bad: Option<Span> = None;
        body.walk_unnumbered(&mut |s| {
            if let Stmt::Passive(t) = s {
                let first = t.clone().into_iter().next().map(|t| t.to_string());
                let is_let_or_macro = match first.as_deref() {
                    Some("let") | Some("const") => true,
                    _ => {
                        let toks: Vec<_> = t.clone().into_iter().take(4).collect();
                        toks.iter().any(
                            |t| matches!(t, proc_macro2::TokenTree::Punct(p) if p.as_char() == '!'),
                        ) && !toks.iter().any(
                            |t| matches!(t, proc_macro2::TokenTree::Punct(p) if p.as_char() == '='),
                        )
                    }
                };
                if !is_let_or_macro && bad.is_none() {
                    bad = t.clone().into_iter().next().map(|t| t.span());
                }
            }
        });
        if let Some(span) = bad {
            self.diag.error(
                span,
                "a `#[checkpoint]` or `#[recompute]` loop runs its body again in the reverse sweep: it may bind values, assign variables and call macros such as `assert!`, but not contain other passive statements (method calls on outer values, passive loops); move them out of the loop",
            );
        }
    }

    /// A loop that names no float variable is copied through as passive code, unless
    /// it returns the function's value or changes a variable declared outside it (the
    /// reverse sweep could not replay that change: `for _ in 0..m { k += 1; }` inside
    /// a float loop).
    fn is_passive_loop(&self, f: &syn::ExprForLoop) -> bool {
        let changes_outer = super::assigned_names(&f.body)
            .iter()
            .any(|n| self.lookup(n).is_some());
        !self.block_kinds(&f.body).mentions
            && !self.touches_float(&f.expr)
            && !contains_return(&f.body)
            && !changes_outer
    }

    /// `let x = w[i];` for each element a slice loop binds.
    fn bind_loop_elems(&mut self, plan: &ForPlan, loop_var: VarId, body: &mut Block) {
        let idx_ident = self.vars[loop_var].ident.clone();
        for (name, buf, by_ref, elem_span) in &plan.elems {
            let index = PExpr::var(&idx_ident, loop_var);
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
                // an element of a passive container: a non-float only if its type says so
                self.facts[id].opaque = !self.facts[*buf].int_elems;
                let b = self.vars[*buf].ident.clone();
                let tokens = if *by_ref {
                    quote!(&#b[#idx_ident])
                } else {
                    quote!(#b[#idx_ident])
                };
                body.stmts.push(Stmt::Let {
                    var: id,
                    rhs: Rhs::Passive(PExpr::compound(tokens, vec![*buf, loop_var])),
                    mutable: false,
                });
                self.bind(name, id);
            }
        }
    }

    /// The flags a loop's `break` and `continue` set, declared before it in `out`.
    pub(super) fn loop_flags(
        &mut self,
        body: &syn::Block,
        out: &mut Block,
    ) -> (Option<VarId>, Option<VarId>) {
        let (brk, cont) = loop_exits(body);
        let returns = self.early_ret.is_some() && contains_return(body);
        let brk_flag = self.flag_var("__brk", brk || returns, out);
        let cont_flag = self.flag_var("__cont", cont, out);
        (brk_flag, cont_flag)
    }

    /// A new loop body, entered.
    pub(super) fn enter_loop(&mut self, brk: Option<VarId>, cont: Option<VarId>) -> Block {
        let block = self.new_block();
        self.loop_depth += 1;
        self.enter(&block);
        self.loops.push(LoopCtx { brk, cont });
        block
    }

    /// Lowers the loop's statements into its body and leaves it.
    pub(super) fn end_loop(&mut self, body: &syn::Block, block: &mut Block) -> Exits {
        let (_, ex) = self.lower_stmts(&body.stmts, block, false);
        self.loops.pop();
        self.leave();
        self.loop_depth -= 1;
        ex
    }

    pub(super) fn exit_cond(&mut self, brk: Option<VarId>, ret: bool) -> Option<PExpr> {
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
        Some(PExpr::compound(quote!(#(#idents)||*), flags))
    }

    pub(super) fn flag_var(&mut self, name: &str, needed: bool, out: &mut Block) -> Option<VarId> {
        if !needed {
            return None;
        }
        let id = self.new_var(name, Kind::Passive, Span::call_site(), None);
        out.stmts.push(Stmt::new_flag(id));
        Some(id)
    }

    pub(super) fn lower_passive_loop(&mut self, f: &syn::ExprForLoop, out: &mut Block) -> Exits {
        // Copied through; the names it binds are its own.
        let p = self.passive_tokens(f.to_token_stream());
        let t = p.tokens;
        out.stmts.push(Stmt::Passive(quote!(#t)));
        if contains_return(&f.body) {
            self.diag.error(f.span(), "`#[differentiate]` does not support `return` inside a loop that computes no float value");
        }
        Exits::default()
    }

    pub(super) fn lower_while(&mut self, w: &syn::ExprWhile, out: &mut Block) -> Exits {
        if let Some(l) = &w.label {
            self.diag.error(
                l.span(),
                "`#[differentiate]` does not support labelled loops",
            );
        }
        let checkpoint = self.loop_checkpoint(&w.attrs);
        if checkpoint.is_some() && (self.block_stack.len() > 1 || self.loop_depth > 0) {
            self.diag.error_spanned(
                &w.cond,
                "`#[checkpoint]` and `#[recompute]` apply to a loop at the top of the function body, not inside another loop or a branch",
            );
        }
        let cond = self.lower_cond(&w.cond, true);
        let (brk_flag, cont_flag) = self.loop_flags(&w.body, out);
        let count = self.new_var("__trips", Kind::Passive, w.span(), None);
        let mut body = self.enter_loop(brk_flag, cont_flag);
        if let Some(c) = cont_flag {
            body.stmts.push(Stmt::set_flag(c, false));
        }
        let ex = self.end_loop(&w.body, &mut body);
        let exit = self.exit_cond(brk_flag, ex.ret);
        if checkpoint.is_some() && exit.is_some() {
            self.diag.error_spanned(
                &w.body,
                "a `#[checkpoint]` or `#[recompute]` loop cannot leave early (`break`, `return`): its reverse sweep runs it again",
            );
        }
        if checkpoint.is_some() {
            self.check_checkpoint_body(&body);
        }
        out.stmts.push(Stmt::While {
            cond,
            body,
            exit,
            count,
            checkpoint,
        });
        Exits {
            ret: ex.ret,
            ..Default::default()
        }
    }

    /// Ranges and the slice iterators of the contract become index loops.
    pub(super) fn plan_for(&mut self, f: &syn::ExprForLoop) -> Option<ForPlan> {
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
            return self.plan_range_for(f, r, rev);
        }
        self.plan_slice_for(f, expr)
    }

    /// `for i in a..b`, `a..=b`, `(a..b).rev()`.
    fn plan_range_for(
        &mut self,
        f: &syn::ExprForLoop,
        r: &syn::ExprRange,
        rev: bool,
    ) -> Option<ForPlan> {
        let span = f.pat.span();
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
        Some(ForPlan {
            index_name: name,
            span,
            range: Range::Range {
                lo,
                hi,
                inclusive,
                rev,
            },
            elems: vec![],
        })
    }

    /// `for x in w.iter()`, `&w`, `.enumerate()`, `.zip(..)`: index loops over slices.
    fn plan_slice_for(&mut self, f: &syn::ExprForLoop, expr: &Expr) -> Option<ForPlan> {
        let span = f.pat.span();
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
                atomic: true,
            },
            inclusive: false,
            rev: false,
        };
        let (index_name, elems) = if enumerate {
            let [i, x] = self.pair_pat(
                &f.pat,
                "expected `(i, x)` as the pattern of an `enumerate()` loop",
            )?;
            let index_name = match i {
                Pat::Ident(pi) => pi.ident.to_string(),
                Pat::Wild(_) => "__i".to_string(),
                other => {
                    self.diag.error(other.span(), "expected an index name");
                    return None;
                }
            };
            let (n, by_ref) = self.elem_pat(x)?;
            (index_name, vec![(n, first, by_ref, x.span())])
        } else if let Some(s) = second {
            let [a, b] =
                self.pair_pat(&f.pat, "expected `(a, b)` as the pattern of a `zip` loop")?;
            let (n1, r1) = self.elem_pat(a)?;
            let (n2, r2) = self.elem_pat(b)?;
            let elems = vec![(n1, first, r1, a.span()), (n2, s, r2, b.span())];
            ("__i".to_string(), elems)
        } else {
            let (n, by_ref) = self.elem_pat(&f.pat)?;
            ("__i".to_string(), vec![(n, first, by_ref, f.pat.span())])
        };
        Some(ForPlan {
            index_name,
            span,
            range,
            elems,
        })
    }

    /// The two patterns of `(a, b)`, or an error.
    fn pair_pat<'p>(&mut self, p: &'p Pat, msg: &str) -> Option<[&'p Pat; 2]> {
        match p {
            Pat::Tuple(t) if t.elems.len() == 2 => Some([&t.elems[0], &t.elems[1]]),
            _ => {
                self.diag.error(p.span(), msg);
                None
            }
        }
    }

    /// `x` → (name, by_ref = true); `&x` → (name, false).
    pub(super) fn elem_pat(&mut self, p: &Pat) -> Option<(String, bool)> {
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
    pub(super) fn slice_of(&self, e: &Expr) -> Option<VarId> {
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

    pub(super) fn unsupported_iter(&mut self, e: &Expr) {
        let target: TokenStream = match strip_paren(e) {
            Expr::MethodCall(m) => m.method.to_token_stream(),
            other => other.to_token_stream(),
        };
        self.diag.error_spanned(
            target,
            "`#[differentiate]` cannot differentiate a `for` over this iterator; supported: ranges (`a..b`, `a..=b`, `(a..b).rev()`), `x.iter()`, `&x`, `x.windows(n)`, `x.chunks(n)`, `x.chunks_exact(n)`, and those through `copied`, `cloned`, `enumerate`, `zip`, `rev`, `skip`, `take`, `step_by` and `map`",
        );
    }

    // ---- float expressions ----
}

pub(super) struct ForPlan {
    index_name: String,
    span: Span,
    range: Range,
    /// (element name, buffer, binds a reference, span)
    elems: Vec<(String, VarId, bool, Span)>,
}

pub(super) fn contains_return(block: &syn::Block) -> bool {
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

/// Does a closure's body `return` (or `?`) from the closure? Inlined, that would
/// return from the function instead.
pub(super) fn closure_returns(c: &syn::ExprClosure) -> Option<proc_macro2::TokenStream> {
    struct V(Option<proc_macro2::TokenStream>);
    impl<'a> Visit<'a> for V {
        fn visit_expr_return(&mut self, r: &'a syn::ExprReturn) {
            self.0
                .get_or_insert_with(|| r.return_token.to_token_stream());
        }
        fn visit_expr_try(&mut self, t: &'a syn::ExprTry) {
            self.0
                .get_or_insert_with(|| t.question_token.to_token_stream());
        }
        fn visit_expr_closure(&mut self, _: &'a syn::ExprClosure) {}
        fn visit_item(&mut self, _: &'a syn::Item) {}
    }
    let mut v = V(None);
    v.visit_expr(&c.body);
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

/// The loop forms `plan_for` lowers itself (ranges, `.rev()` of a range, `x.iter()`,
/// `&x`, `x`, `.enumerate()` and `.zip(..)` of those): their expansion stays as it was.
fn is_simple_for(e: &Expr) -> bool {
    let slice = |e: &Expr| match strip_paren(e) {
        Expr::MethodCall(m) => {
            m.method == "iter"
                && m.args.is_empty()
                && matches!(strip_paren(&m.receiver), Expr::Path(_))
        }
        Expr::Reference(r) => {
            r.mutability.is_none() && matches!(strip_paren(&r.expr), Expr::Path(_))
        }
        Expr::Path(_) => true,
        _ => false,
    };
    match strip_paren(e) {
        Expr::Range(_) => true,
        Expr::MethodCall(m) if m.method == "rev" && m.args.is_empty() => {
            matches!(strip_paren(&m.receiver), Expr::Range(_))
        }
        Expr::MethodCall(m) if m.method == "enumerate" && m.args.is_empty() => slice(&m.receiver),
        Expr::MethodCall(m) if m.method == "zip" && m.args.len() == 1 => {
            slice(&m.receiver) && m.args.first().is_some_and(slice)
        }
        other => slice(other),
    }
}
