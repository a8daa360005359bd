//! Statements: `let`, assignments, `if`, blocks, early exits.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, ToTokens};
use syn::spanned::Spanned;
use syn::{Expr, Pat, Stmt as SynStmt, UnOp};

use super::kinds::Class;
use super::*;
use crate::ir::*;
use crate::rules::Op;

impl Lowerer<'_> {
    /// Lowers statements into `out`; returns the tail value when `want_tail`.
    pub(super) fn lower_block_into(
        &mut self,
        stmts: &[SynStmt],
        out: &mut Block,
        want_tail: bool,
    ) -> Option<Operand> {
        let (res, _) = self.lower_stmts(stmts, out, want_tail);
        res
    }

    pub(super) fn lower_stmts(
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
                    let k = self.kinds(e);
                    let control = matches!(
                        e,
                        Expr::If(_)
                            | Expr::ForLoop(_)
                            | Expr::While(_)
                            | Expr::Block(_)
                            | Expr::Match(_)
                            | Expr::Loop(_)
                    );
                    // a block that is a constant (`{ self.k }`) is a value too
                    let constant_block =
                        matches!(e, Expr::Block(_)) && !k.mentions && k.class == Class::Unknown;
                    if !control || k.kind() != Kind::Passive || constant_block {
                        let k = self.kinds(e);
                        if k.kind() == Kind::Passive && !k.reads && !k.is_unsound() {
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

    pub(super) fn guard_cond(&mut self, e: Exits) -> PExpr {
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
        PExpr::compound(quote!(!(#(#idents)||*)), flags)
    }

    pub(super) fn lower_stmt(&mut self, stmt: &SynStmt, out: &mut Block) -> Exits {
        // Classifications are memoised by node address: a temporary tree a
        // statement before made and dropped (a macro's arguments, a desugared
        // `match`) may have left entries at addresses new nodes now take.
        self.kcache.clear();
        match stmt {
            SynStmt::Local(local) => {
                self.lower_let(local, out);
                Exits::default()
            }
            // A `const` at the top of the body is visible to both sweeps.
            SynStmt::Item(syn::Item::Const(c))
                if self.block_stack.len() == 1 && self.loop_depth == 0 =>
            {
                out.stmts.push(Stmt::Passive(c.to_token_stream()));
                Exits::default()
            }
            SynStmt::Item(syn::Item::Const(c)) => {
                self.diag.error(c.const_token.span, "`#[differentiate]` supports `const` items at the top of the function body; move this one there");
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

    pub(super) fn lower_macro_stmt(&mut self, mac: &syn::Macro, out: &mut Block) {
        if super::kinds::is_assert_macro(&mac.path) {
            return self.lower_assert(mac, out);
        }
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

    /// `assert!(..)`, `assert_eq!(..)`, `debug_assert!(..)` and friends only read
    /// their arguments: copied through (forward sweep only) once each is sound.
    fn lower_assert(&mut self, mac: &syn::Macro, out: &mut Block) {
        let parser = syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated;
        let Ok(args) = syn::parse::Parser::parse2(parser, mac.tokens.clone()) else {
            self.diag
                .error_spanned(&mac.path, "expected the arguments of an assertion");
            return;
        };
        let mut renamed = Vec::new();
        for a in &args {
            if self.check_sound(a) {
                return;
            }
            renamed.push(self.passive(a).tokens);
        }
        let path = &mac.path;
        out.stmts
            .push(Stmt::Passive(quote!(#path!(#(#renamed),*);)));
        // the arguments were a temporary tree
        self.kcache.clear();
    }

    pub(super) fn lower_let(&mut self, local: &syn::Local, out: &mut Block) {
        if let Some(stmts) = self
            .desugar_to_vec(local)
            .or_else(|| self.desugar_array_literal(local))
        {
            for s in &stmts {
                self.lower_stmt(s, out);
            }
            // a temporary tree: what was classified by address in it is stale
            self.kcache.clear();
            return;
        }
        if let Some(init) = local.init.as_ref().filter(|i| i.diverge.is_none()) {
            if self.is_float_tuple(&init.expr) {
                return self.lower_let_tuple(&local.pat, &init.expr, out);
            }
        }
        let (pat, ty) = match &local.pat {
            Pat::Type(pt) => (&*pt.pat, Some(&*pt.ty)),
            p => (p, None),
        };
        let (ident, mutable) = match pat {
            Pat::Ident(pi) if pi.subpat.is_none() && pi.by_ref.is_none() => {
                (pi.ident.clone(), pi.mutability.is_some())
            }
            Pat::Wild(_) => return self.lower_let_wild(local, out),
            other => return self.lower_let_pattern(local, other, ty, out),
        };
        let binding = Binding { ident, mutable, ty };
        let Some(init) = &local.init else {
            return self.lower_let_deferred(&binding, out);
        };
        if let Expr::Closure(c) = strip_paren(&init.expr) {
            return self.lower_let_closure(&binding.ident, c, out);
        }
        if let Some((_, els)) = &init.diverge {
            self.diag.error(
                els.span(),
                "`#[differentiate]` does not support `let .. else`",
            );
        }
        let k = self.kinds(&init.expr);
        if let Some(t) = ty.filter(|t| self.other_float_container(t)) {
            if k.is_unsound() || k.class == Class::Buf {
                // `let b: Vec<f32> = vec![0.0; n];` in an `f64` function: a float
                // buffer, and float buffers hold `F` (a passive one is fine)
                let f = self.float_ty_tokens();
                self.diag.error_spanned(
                    t,
                    format!("`#[differentiate]` does not support a buffer of type `{}` in a function on `{f}`; float buffers hold `{f}` (cast the elements back: `.. as {f}`)", super::types::pretty(t)),
                );
                let id = self.new_var(
                    &binding.ident.to_string(),
                    Kind::Passive,
                    binding.ident.span(),
                    None,
                );
                self.vars[id].poisoned = true;
                self.bind(&binding.ident.to_string(), id);
                return;
            }
        }
        // The kind: an annotation wins, then the initialiser's kind.
        let annotated = ty.map(|t| match self.classify_ty(t) {
            TyClass::Float => Kind::Float,
            TyClass::OtherFloat if self.other_float(t).is_some() => Kind::Float,
            TyClass::Buf(_) => Kind::Buf,
            _ => Kind::Passive,
        });
        match annotated.unwrap_or_else(|| self.kind_of(&init.expr)) {
            Kind::Float => self.lower_let_float(&binding, &init.expr, out),
            Kind::Buf => self.lower_let_buffer(&binding, &init.expr, out),
            Kind::Passive => self.lower_let_passive(&binding, &init.expr, out),
        }
    }

    /// A tuple literal whose every element is proven not a float (`(i, w.len() - i)`
    /// reads a float slice only through its length).
    fn all_non_float(&self, e: &Expr) -> bool {
        match strip_paren(e) {
            Expr::Tuple(t) => t.elems.iter().all(|x| self.all_non_float(x)),
            x => {
                let k = self.kinds(x);
                k.class == Class::NonFloat && !k.is_unsound()
            }
        }
    }

    /// `let v = w.to_vec();` of a float slice or buffer `w`, and `let v = a;` of a
    /// float array taken by value: a local buffer filled element by element
    /// (`vec![0.0; w.len()]` and a copy loop), so that it may then take
    /// differentiated values.
    fn desugar_to_vec(&mut self, local: &syn::Local) -> Option<Vec<SynStmt>> {
        let Pat::Ident(pi) = &local.pat else {
            return None;
        };
        if pi.subpat.is_some() || pi.by_ref.is_some() {
            return None;
        }
        let init = local.init.as_ref().filter(|i| i.diverge.is_none())?;
        let recv = match strip_paren(&init.expr) {
            Expr::MethodCall(m)
                if m.method == "to_vec" && m.args.is_empty() && m.turbofish.is_none() =>
            {
                strip_paren(&m.receiver)
            }
            // `let m = a;` of a float array (a parameter or local, copied) or a local
            // `Vec` (moved: a copy is the same, it is not read after)
            p @ Expr::Path(_) => {
                let arr = self.lookup_path(p).is_some_and(|v| {
                    matches!(
                        self.vars[v].buf,
                        Some(BufRepr::ArrayParam | BufRepr::LocalArray | BufRepr::LocalVec)
                    )
                });
                if !arr {
                    return None;
                }
                p
            }
            _ => return None,
        };
        if !matches!(recv, Expr::Path(_)) || self.kinds(recv).class != Class::Buf {
            return None;
        }
        let span = init.expr.span();
        let i = Ident::new("to_vec_index", span);
        let (v, moved) = fill_name(&pi.ident, &recv.to_token_stream(), span);
        let alloc: SynStmt = syn::parse_quote_spanned!(span=> let mut #v = vec![0.0; #recv.len()];);
        let copy: SynStmt = syn::parse_quote_spanned!(span=>
            for #i in 0..#recv.len() {
                #v[#i] = #recv[#i];
            }
        );
        let mut stmts = vec![alloc, copy];
        stmts.extend(moved);
        self.kcache.clear();
        Some(stmts)
    }

    /// `let v = [a, b, c];` of floats, one of them differentiated: a local array
    /// filled element by element (`let mut v = [0.0; 3]; v[0] = a; ..`), so that
    /// it is a float buffer like any other (a nested literal `[[c, -s], [s, c]]`
    /// arrives here flattened, `lower/rows.rs`).
    fn desugar_array_literal(&mut self, local: &syn::Local) -> Option<Vec<SynStmt>> {
        let (pi, ty) = match &local.pat {
            Pat::Ident(pi) => (pi, None),
            Pat::Type(pt) => match &*pt.pat {
                Pat::Ident(pi) => (pi, Some(&*pt.ty)),
                _ => return None,
            },
            _ => return None,
        };
        if pi.subpat.is_some() || pi.by_ref.is_some() {
            return None;
        }
        let init = local.init.as_ref().filter(|i| i.diverge.is_none())?;
        let Expr::Array(a) = strip_paren(&init.expr) else {
            return None;
        };
        let floats = a.elems.iter().all(|e| {
            let k = self.kinds(e);
            matches!(k.class, Class::Float | Class::NonFloat) && !k.is_unsound()
        });
        let active = a
            .elems
            .iter()
            .any(|e| self.kinds(e).class == Class::Float && self.kinds(e).varied);
        // a mutable array of floats is a buffer even when it starts constant
        // (`let mut m = [1.0, 0.0];`, later written with differentiated values)
        let any_float = a.elems.iter().any(|e| self.kinds(e).class == Class::Float);
        let mutable = pi.mutability.is_some() && any_float;
        if !floats
            || !(active || mutable)
            || ty.is_some_and(|t| !matches!(self.classify_ty(t), TyClass::Buf(_)))
        {
            return None;
        }
        let n = a.elems.len();
        let span = a.span();
        let (v, moved) = fill_name(&pi.ident, &a.to_token_stream(), span);
        let ty = ty.map(|t| quote!(: #t));
        let mut stmts: Vec<SynStmt> =
            vec![syn::parse_quote_spanned!(span=> let mut #v #ty = [0.0; #n];)];
        for (i, e) in a.elems.iter().enumerate() {
            stmts.push(syn::parse_quote_spanned!(e.span()=> #v[#i] = #e;));
        }
        stmts.extend(moved);
        // the statements are a temporary tree: classifications by address are stale
        self.kcache.clear();
        Some(stmts)
    }

    /// `let _ = e;`
    fn lower_let_wild(&mut self, local: &syn::Local, out: &mut Block) {
        let Some(init) = &local.init else { return };
        if self.kinds(&init.expr).class == Class::Float {
            let _ = self.lower_value(&init.expr, out);
        } else {
            self.check_sound(&init.expr);
            let p = self.passive(&init.expr);
            let t = p.tokens;
            out.stmts.push(Stmt::Passive(quote!(let _ = #t;)));
        }
    }

    /// `let (a, b) = ..;` and other patterns: passive code only.
    fn lower_let_pattern(
        &mut self,
        local: &syn::Local,
        pat: &Pat,
        ty: Option<&syn::Type>,
        out: &mut Block,
    ) {
        if let Some((_, els)) = local.init.as_ref().and_then(|i| i.diverge.as_ref()) {
            self.diag.error(
                els.span(),
                "`#[differentiate]` does not support `let .. else`",
            );
            return;
        }
        if let Some(i) = local
            .init
            .as_ref()
            .filter(|i| self.touches_float(&i.expr) && !self.all_non_float(&i.expr))
        {
            self.diag.error(
                pat.span(),
                "`#[differentiate]` cannot destructure a differentiated value; bind each float with its own `let`",
            );
            // and say why the value itself is not differentiated (`x.split_at(1)`)
            if !matches!(strip_paren(&i.expr), Expr::Tuple(_) | Expr::Array(_)) {
                self.check_sound(&i.expr);
            }
            return;
        }
        // A tuple pattern of names: one passive `let` for the value and one per
        // name (`__tuple.0`), so that the reverse sweep can recompute or save each
        // like any passive local (a loop's offsets `let (a, b) = (i * n, ..);`).
        if let (Some(i), Some(leaves)) = (local.init.as_ref(), tuple_leaves(pat)) {
            self.check_sound(&i.expr);
            let p = self.passive(&i.expr);
            let p = match ty {
                Some(t) => {
                    let tk = p.tokens;
                    PExpr::compound(quote!({ let __v: #t = #tk; __v }), p.reads)
                }
                None => p,
            };
            let tmp = self.new_var("__tuple", Kind::Passive, pat.span(), None);
            out.stmts.push(Stmt::Let {
                var: tmp,
                rhs: Rhs::Passive(p),
                mutable: false,
            });
            let t = self.vars[tmp].ident.clone();
            let mut bound = Vec::new();
            for (ident, mutable, path) in leaves {
                let id = self.new_var(&ident.to_string(), Kind::Passive, ident.span(), None);
                let index = path.into_iter().map(syn::Index::from);
                out.stmts.push(Stmt::Let {
                    var: id,
                    rhs: Rhs::Passive(PExpr::compound(quote!(#t #(.#index)*), vec![tmp])),
                    mutable,
                });
                bound.push((ident.to_string(), id));
            }
            // bound after every element is read: `let (a, b) = (b, a);` swaps
            for (name, id) in bound {
                self.bind(&name, id);
            }
            return;
        }
        // Another passive destructuring binding: copy through, binding the names.
        let init = local.init.as_ref().map(|i| self.passive(&i.expr));
        let mut names = Vec::new();
        pat_idents(pat, &mut names);
        let mut pat_ts = pat.to_token_stream();
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

    /// `let v;` / `let v: T;`, assigned later.
    fn lower_let_deferred(&mut self, b: &Binding, out: &mut Block) {
        let name = b.ident.to_string();
        let span = b.ident.span();
        match b.ty.map(|t| self.classify_ty(t)) {
            Some(TyClass::Float) => {
                let id = self.new_var(&name, Kind::Float, span, None);
                self.bind(&name, id);
                out.stmts.push(Stmt::Decl { var: id });
            }
            Some(TyClass::OtherFloat) if b.ty.is_some_and(|t| self.other_float(t).is_some()) => {
                let id = self.new_var(&name, Kind::Float, span, None);
                self.vars[id].ty = b.ty.and_then(|t| self.other_float(t));
                self.bind(&name, id);
                out.stmts.push(Stmt::Decl { var: id });
            }
            None => {
                // `let c;`: the first assignment decides whether it is a float.
                let id = self.new_var(&name, Kind::Passive, span, None);
                self.vars[id].undecided = true;
                self.bind(&name, id);
                out.stmts.push(Stmt::Decl { var: id });
            }
            Some(_) => {
                let id = self.new_var(&name, Kind::Passive, span, None);
                self.bind(&name, id);
                let new = self.vars[id].ident.clone();
                let ty_ts = b.ty.map(|t| quote!(: #t));
                let m = if b.mutable { quote!(mut) } else { quote!() };
                // Deferred passive binding: emitted as written.
                out.stmts.push(Stmt::Passive(quote!(let #m #new #ty_ts;)));
            }
        }
    }

    /// `let v = <float expression>;`
    fn lower_let_float(&mut self, b: &Binding, init: &Expr, out: &mut Block) {
        let name = b.ident.to_string();
        let op = self.lower_value(init, out);
        let id = self.new_var(&name, Kind::Float, b.ident.span(), None);
        // `let h: f32 = ..;`: the type as written (the function's is the default)
        self.vars[id].ty = b.ty.and_then(|t| self.other_float(t));
        out.stmts.push(Stmt::Let {
            var: id,
            rhs: Rhs::Op(Op::Copy, vec![op]),
            mutable: b.mutable,
        });
        self.bind(&name, id);
    }

    /// `let v = vec![..; n];`, `[..; N]`, `&w[a..b]`.
    fn lower_let_buffer(&mut self, b: &Binding, init: &Expr, out: &mut Block) {
        let name = b.ident.to_string();
        let span = b.ident.span();
        if self.kinds(init).is_unsound() {
            // `let v: Vec<f64> = x.iter().map(..).collect();`
            self.check_sound(init);
            let id = self.new_var(&name, Kind::Passive, span, None);
            self.vars[id].poisoned = true;
            self.bind(&name, id);
            return;
        }
        let Some((rhs, repr)) = self.lower_buffer_init(init, out) else {
            let id = self.new_var(&name, Kind::Passive, span, None);
            self.bind(&name, id);
            return;
        };
        let id = self.new_var(&name, Kind::Buf, span, Some(repr));
        if let Rhs::View { base, lo, hi } = &rhs {
            self.vars[id].view = Some((*base, lo.clone(), hi.clone()));
        };
        out.stmts.push(Stmt::Let {
            var: id,
            rhs,
            mutable: b.mutable,
        });
        self.bind(&name, id);
    }

    /// `let n = <passive expression>;`: copied through once it is shown sound.
    fn lower_let_passive(&mut self, b: &Binding, init: &Expr, out: &mut Block) {
        let name = b.ident.to_string();
        let span = b.ident.span();
        let k = self.kinds(init);
        if k.is_unsound() || k.class == Class::Buf {
            if !self.check_sound(init) {
                self.diag.error_spanned(
                    init,
                    format!(
                        "`#[differentiate]` cannot tell the type of `{name}`; annotate it (`let {name}: {} = ..;`) or compute it with supported operations",
                        self.float_ty_tokens()
                    ),
                );
            }
            // Bound, poisoned, so that its uses are not reported again.
            let id = self.new_var(&name, Kind::Float, span, None);
            self.vars[id].poisoned = true;
            self.bind(&name, id);
            return;
        }
        self.check_sound(init);
        let p = self.passive(init);
        let id = self.new_var(&name, Kind::Passive, span, None);
        self.facts[id].opaque = b.ty.is_none() && k.class == Class::Unknown;
        self.facts[id].field = b.ty.is_none()
            && matches!(strip_paren(init), Expr::Field(f) if matches!(f.member, syn::Member::Named(_)));
        self.bind(&name, id);
        let p = match b.ty {
            // Keep the annotation: inference may need it.
            Some(t) => {
                let tk = p.tokens;
                PExpr::compound(quote!({ let __v: #t = #tk; __v }), p.reads)
            }
            None => p,
        };
        out.stmts.push(Stmt::Let {
            var: id,
            rhs: Rhs::Passive(p),
            mutable: b.mutable,
        });
    }

    pub(super) fn lower_buffer_init(
        &mut self,
        e: &Expr,
        out: &mut Block,
    ) -> Option<(Rhs, BufRepr)> {
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

    pub(super) fn lower_expr_stmt(&mut self, e: &Expr, out: &mut Block) -> Exits {
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
            Expr::Match(m) => self.lower_match_stmt(m, out),
            Expr::Loop(l) => self.lower_loop_stmt(l, out),
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
                    // the returned value is already stored (`output.rs`), or there is none
                    None if !matches!(self.ret_shape, RetShape::Float) => {}
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
                    // A value computed and dropped: a differentiable call is lowered (for
                    // its errors); anything else is copied through if it is sound.
                    match other {
                        Expr::Call(_) | Expr::MethodCall(_)
                            if self.kind_of(other) == Kind::Float =>
                        {
                            let _ = self.lower_value(other, out);
                        }
                        _ => {
                            self.check_sound(other);
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
    pub(super) fn lower_loop_exit(
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

    pub(super) fn check_block_label(&mut self, b: &syn::ExprBlock) {
        if let Some(l) = &b.label {
            self.diag.error(
                l.span(),
                "`#[differentiate]` does not support labelled blocks",
            );
        }
    }

    pub(super) fn lower_assign(
        &mut self,
        left: &Expr,
        op: Option<Op>,
        right: &Expr,
        span: Span,
        out: &mut Block,
    ) {
        let left = strip_paren(left);
        match left {
            Expr::Index(ix) => self.lower_assign_index(ix, op, right, span, out),
            Expr::Path(_) if self.lookup_path(left).is_some() => {
                let Some(v) = self.lookup_path(left) else {
                    return;
                };
                match self.vars[v].kind {
                    Kind::Float => self.lower_assign_float(v, op, right, out),
                    Kind::Buf => {
                        self.diag.error(left.span(), "`#[differentiate]` cannot reassign a whole buffer; assign its elements by index");
                    }
                    Kind::Passive
                        if self.vars[v].undecided && self.kind_of(right) == Kind::Float =>
                    {
                        self.vars[v].kind = Kind::Float;
                        self.vars[v].undecided = false;
                        self.kcache.clear();
                        self.lower_assign(left, op, right, span, out);
                    }
                    Kind::Passive => self.lower_assign_passive(v, left, op, right, out),
                }
            }
            Expr::Unary(u)
                if matches!(u.op, UnOp::Deref(_))
                    && self
                        .lookup_path(&u.expr)
                        .is_some_and(|v| self.facts[v].place.is_some()) =>
            {
                if let Some((buf, index)) = self
                    .lookup_path(&u.expr)
                    .and_then(|v| self.facts[v].place.clone())
                {
                    self.store_place(buf, index, op, right, span, out);
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
                if !self.check_sound(right) {
                    self.copy_assign(other, op, right, out);
                }
            }
        }
    }

    /// `left op= right` copied through as passive code.
    fn copy_assign(&mut self, left: &Expr, op: Option<Op>, right: &Expr, out: &mut Block) {
        let l = self.passive(left);
        let r = self.passive(right);
        let (lt, rt) = (l.tokens, r.tokens);
        let opt = op.map(compound_tokens).unwrap_or(quote!(=));
        out.stmts.push(Stmt::Passive(quote!(#lt #opt #rt;)));
    }

    /// `b[i] op= right`: a store into a local float buffer, or passive code.
    fn lower_assign_index(
        &mut self,
        ix: &syn::ExprIndex,
        op: Option<Op>,
        right: &Expr,
        span: Span,
        out: &mut Block,
    ) {
        let left = Expr::Index(ix.clone());
        let Some(buf) = self.lookup_path(&ix.expr) else {
            if self.touches_float(right) {
                self.diag.error(ix.expr.span(), "`#[differentiate]` can only store differentiated values into a local buffer (`vec![..]` or `[..; N]`) by index");
            } else {
                self.copy_assign(&left, op, right, out);
            }
            return;
        };
        let var = &self.vars[buf];
        if var.poisoned {
            return;
        }
        if var.kind != Kind::Buf {
            if self.touches_float(right) && self.kind_of(right) == Kind::Float {
                self.diag.error(ix.expr.span(), format!("`#[differentiate]` cannot store a differentiated value into `{}`, which is not a float buffer", var.ident));
            } else if !self.check_sound(right) && !self.check_sound(&ix.index) {
                self.copy_assign(&left, op, right, out);
            }
            return;
        }
        if var.buf == Some(BufRepr::View) {
            self.diag.error_spanned(ix, format!("`#[differentiate]` cannot assign through the view `{}`; assign to the buffer it views", var.ident));
            return;
        }
        if var.is_param && !var.buf.is_some_and(BufRepr::is_out) {
            self.diag.error_spanned(ix, format!("`#[differentiate]` cannot assign to an element of the parameter `{}`; copy it into a local buffer (`let mut b = vec![0.0; n];`) first", var.ident));
            return;
        }
        let index = self.index_expr(&ix.index, "an index");
        self.store_place(buf, index, op, right, span, out);
    }

    /// `buf[index] op= right` (also `*e op= right` for `e` of `for e in
    /// b.iter_mut()`): a store into a local buffer.
    fn store_place(
        &mut self,
        buf: VarId,
        index: PExpr,
        op: Option<Op>,
        right: &Expr,
        span: Span,
        out: &mut Block,
    ) {
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

    /// `v op= right` for a float variable (also a `mut` parameter).
    fn lower_assign_float(&mut self, v: VarId, op: Option<Op>, right: &Expr, out: &mut Block) {
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
    }

    /// `n op= right` for a passive variable: a counter step (undone in the reverse
    /// sweep) or a passive assignment.
    fn lower_assign_passive(
        &mut self,
        v: VarId,
        left: &Expr,
        op: Option<Op>,
        right: &Expr,
        out: &mut Block,
    ) {
        self.vars[v].undecided = false;
        if self.touches_float(right) && self.kind_of(right) == Kind::Float {
            let name = &self.vars[v].ident;
            self.diag.error(
                left.span(),
                format!(
                    "`#[differentiate]` cannot tell that `{name}` holds a float; annotate its `let` with the float type (`let mut {name}: {} = ..;`)",
                    self.float_ty_tokens()
                ),
            );
            return;
        }
        if self.check_sound(right) {
            return;
        }
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
                PExpr::compound(quote!(#id #ot (#rt)), reads)
            }
        };
        out.stmts.push(Stmt::Assign {
            var: v,
            rhs: Rhs::Passive(rhs),
            init: false,
        });
    }

    pub(super) fn lower_if_stmt(&mut self, i: &syn::ExprIf, out: &mut Block) -> Exits {
        let cond = self.lower_cond(&i.cond, false);
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

    /// The condition of an `if` (`looping: false`) or a `while`.
    pub(super) fn lower_cond(&mut self, c: &Expr, looping: bool) -> PExpr {
        if let Expr::Let(l) = c {
            let msg = if looping {
                "`#[differentiate]` does not support `while let`; use `while` on a boolean"
            } else {
                "`#[differentiate]` does not support `if let`; use `if`/`else` on a boolean"
            };
            self.diag.error(l.span(), msg);
        }
        if !self.check_sound(c) && self.kind_of(c) != Kind::Passive {
            self.diag.error(c.span(), "expected a boolean condition");
        }
        self.passive(c)
    }
}

/// The name a simple `let` binds, and how.
struct Binding<'a> {
    ident: Ident,
    mutable: bool,
    ty: Option<&'a syn::Type>,
}

/// The names of a pattern made only of tuples, parentheses, names and `_`,
/// each with its mutability and its path of tuple indices; `None` for other
/// patterns (and for a bare name, which is not destructuring).
fn tuple_leaves(pat: &Pat) -> Option<Vec<(syn::Ident, bool, Vec<usize>)>> {
    fn walk(p: &Pat, path: &mut Vec<usize>, out: &mut Vec<(syn::Ident, bool, Vec<usize>)>) -> bool {
        match p {
            Pat::Paren(q) => walk(&q.pat, path, out),
            Pat::Wild(_) => true,
            Pat::Ident(pi) if pi.subpat.is_none() && pi.by_ref.is_none() => {
                out.push((pi.ident.clone(), pi.mutability.is_some(), path.clone()));
                true
            }
            Pat::Tuple(t) => t.elems.iter().enumerate().all(|(i, e)| {
                path.push(i);
                let ok = walk(e, path, out);
                path.pop();
                ok
            }),
            _ => false,
        }
    }
    let Pat::Tuple(_) = pat else { return None };
    let mut out = Vec::new();
    walk(pat, &mut Vec::new(), &mut out).then_some(out)
}

/// The name a desugared `let v = ..;` fills element by element, and the `let`
/// that then moves it to `v`: another name when the source `from` reads `v`
/// itself (`let w = w.to_vec();`, `let p = [p, 2.0 * p];`), whose fill loop would
/// otherwise read the new, zeroed `v`.
fn fill_name(v: &Ident, from: &TokenStream, span: Span) -> (Ident, Option<SynStmt>) {
    if !mentions_name(from, v) {
        return (v.clone(), None);
    }
    let tmp = format_ident!("{}__copy", v);
    let moved = syn::parse_quote_spanned!(span=> let mut #v = #tmp;);
    (tmp, Some(moved))
}

/// Does `tokens` name `ident` (anywhere, also inside groups)?
fn mentions_name(tokens: &TokenStream, ident: &Ident) -> bool {
    tokens.clone().into_iter().any(|t| match t {
        proc_macro2::TokenTree::Ident(i) => i == *ident,
        proc_macro2::TokenTree::Group(g) => mentions_name(&g.stream(), ident),
        _ => false,
    })
}
