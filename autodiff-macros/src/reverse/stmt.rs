//! One statement's forward-sweep code (the primal, plus the saves the plan asks
//! for) and reverse-sweep code, one function per kind of statement.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::plan::{Branch, Save};
use super::{Part, Rev};
use crate::emit::{bound, exit_check};
use crate::ir::*;
use crate::rules::Op;

impl Rev<'_> {
    pub(super) fn gen_stmt(&self, id: StmtId, s: &Stmt) -> Part {
        match s {
            Stmt::Let { var, rhs, mutable } => self.gen_let(*var, rhs, *mutable),
            Stmt::Decl { var } => self.gen_decl(*var),
            Stmt::Assign { var, rhs, .. } => self.gen_assign(id, *var, rhs),
            Stmt::Store { buf, index, value } => self.gen_store(id, *buf, index, value),
            Stmt::If { cond, then, els } => self.gen_if(id, cond, then, els),
            Stmt::For {
                var,
                range,
                body,
                checkpoint: Some(how),
                ..
            } => self.gen_checkpointed_for(*var, range, body, how),
            Stmt::For {
                var,
                range,
                body,
                exit,
                last,
                checkpoint: None,
            } => self.gen_for(*var, range, body, exit.as_ref(), *last),
            Stmt::While {
                cond,
                body,
                count,
                checkpoint: Some(how),
                ..
            } => self.gen_checkpointed_while(cond, body, *count, how),
            Stmt::While {
                cond,
                body,
                exit,
                count,
                checkpoint: None,
            } => self.gen_while(cond, body, exit.as_ref(), *count),
            Stmt::Passive(t) => Part {
                fwd: vec![t.clone()],
                rev: Vec::new(),
            },
        }
    }

    fn gen_let(&self, var: VarId, rhs: &Rhs, mutable: bool) -> Part {
        let g = self.g;
        let v = g.ident(var);
        let m = g.let_mut(var, mutable);
        let active = g.a.active[var];
        let bv = g.adjoint_ident(var);
        let mut part = Part::default();
        match rhs {
            Rhs::Op(op, args) => {
                let p = g.primal_op(var, *op, args);
                let ty = g.let_ty(var, rhs);
                part.fwd.push(quote!(let #m #v #ty = #p;));
                if active {
                    part.rev.extend(self.contributions(
                        var,
                        *op,
                        args,
                        &quote!(#bv),
                        &quote!(#v),
                        None,
                    ));
                }
            }
            Rhs::Call(c) => match self.split_call(c).filter(|_| active) {
                Some(sc) => {
                    let (sv, call, keep, take) = (&sc.saved, &sc.call, &sc.keep, &sc.take);
                    part.fwd.push(quote!(let (#m #v, #sv) = #call; #keep));
                    let rev = self.gen_adjoint_call(c, &quote!(#bv), Some(sv));
                    part.rev.push(quote!(#take #rev));
                }
                None => {
                    let call = g.gen_primal_call(c);
                    part.fwd.push(quote!(let #m #v = #call;));
                    if active {
                        part.rev.push(self.gen_adjoint_call(c, &quote!(#bv), None));
                    }
                }
            },
            Rhs::Passive(p) => {
                let t = &p.tokens;
                part.fwd.push(quote!(let #m #v = #t;));
            }
            Rhs::Step { .. } => {}
            Rhs::View { base, lo, hi } => part.fwd.push(self.gen_let_view(var, *base, lo, hi)),
            Rhs::Fill { elem, len, array } => {
                let e = g.primal(elem);
                let l = &len.tokens;
                // `[0.0; 3]` keeps its element type: an element's method in a
                // condition (`b[1].exp() > 0.5`) would be on an ambiguous `{float}`
                let ty = g.let_ty(var, rhs);
                part.fwd.push(if *array {
                    quote!(let mut #v #ty = [#e; #l];)
                } else {
                    quote!(let mut #v #ty = ::std::vec![#e; #l];)
                });
                if let Some(t) = self.adjoint(elem).filter(|_| active) {
                    let acc = g.accumulate(&t, false, &quote!(*__e));
                    part.rev.push(quote!(for __e in #bv.iter() { #acc }));
                }
            }
        }
        part
    }

    /// `let v = &base[lo..hi];`, keeping the bounds in locals when the plan says so.
    fn gen_let_view(&self, var: VarId, base: VarId, lo: &PExpr, hi: &PExpr) -> TokenStream {
        let v = self.g.ident(var);
        if self.plan.keeps_bounds(var) {
            // The reverse sweep needs the bounds as they are now.
            let (l, h) = self.bound_idents(var);
            let (lo, hi) = (bound(lo), bound(hi));
            let b = self.g.ident(base);
            quote!(let #l: usize = #lo; let #h: usize = #hi; let #v = &#b[#l..#h];)
        } else {
            let view = self.g.slice_of(self.g.ident(base), lo, hi);
            quote!(let #v = &#view;)
        }
    }

    fn gen_decl(&self, var: VarId) -> Part {
        let g = self.g;
        let v = g.ident(var);
        let (z, f) = (g.zero_in(g.ty_of(var)), g.fty_in(g.ty_of(var)));
        let fwd = if g.f.vars[var].kind == Kind::Passive {
            quote!(let mut #v;)
        } else {
            quote!(let mut #v: #f = #z;)
        };
        Part {
            fwd: vec![fwd],
            rev: Vec::new(),
        }
    }

    /// Saves `value` (the old value of `v`) where the plan says; returns the forward
    /// code and the expression that gives it back in the reverse sweep.
    fn save(&self, v: VarId, save: Save, value: TokenStream) -> Option<(TokenStream, TokenStream)> {
        let st = self.st;
        match save {
            Save::No | Save::Undo => None,
            Save::Local => {
                let s = format_ident!("__s{}", st.next_slot());
                Some((quote!(let #s = #value;), quote!(#s)))
            }
            Save::Stack => {
                st.declare_stack(v);
                let s = self.g.stack_ident(v);
                Some((quote!(#s.push(#value);), self.pop(quote!(#s))))
            }
            Save::Tape => {
                st.uses_tape.set(true);
                Some((quote!(__tape.push(#value);), self.pop(quote!(__tape))))
            }
        }
    }

    fn gen_assign(&self, id: StmtId, var: VarId, rhs: &Rhs) -> Part {
        let g = self.g;
        let v = g.ident(var);
        let save = self.plan.stmt(id).save;
        let mut part = Part::default();
        let restore = self.save(var, save, quote!(#v)).map(|(f, r)| {
            part.fwd.push(f);
            r
        });
        match rhs {
            Rhs::Op(op, args) => self.gen_assign_op(var, *op, args, restore, &mut part),
            Rhs::Call(c) => {
                // The callee's adjoint recomputes with the arguments' values at the
                // call, unless it is split: then it gets the values its forward saved.
                let put_old = restore.as_ref().map(|r| quote!(#v = #r;));
                let split = self.split_call(c).filter(|_| g.a.active[var]);
                if let Some(sc) = &split {
                    let (sv, call, keep) = (&sc.saved, &sc.call, &sc.keep);
                    let r = format_ident!("{}_value", sv);
                    part.fwd.push(quote!(let (#r, #sv) = #call; #v = #r; #keep));
                } else {
                    let call = g.gen_primal_call(c);
                    part.fwd.push(quote!(#v = #call;));
                }
                if g.a.active[var] {
                    let take = split.as_ref().map(|sc| &sc.take);
                    let call =
                        self.gen_adjoint_call(c, &quote!(__g), split.as_ref().map(|sc| &sc.saved));
                    // the saved values were pushed after the old value: popped first
                    part.rev
                        .push(self.take_adjoint(var, quote!(#take #put_old #call)));
                } else {
                    part.rev.extend(put_old);
                }
            }
            Rhs::Passive(p) => {
                let t = &p.tokens;
                part.fwd.push(quote!(#v = #t;));
                part.rev.extend(restore.map(|r| quote!(#v = #r;)));
            }
            Rhs::Step { add, amount } => {
                let t = &amount.tokens;
                let (step, inverse) = if *add {
                    (quote!(#v += #t;), quote!(#v -= #t;))
                } else {
                    (quote!(#v -= #t;), quote!(#v += #t;))
                };
                part.fwd.push(step);
                if let Some(r) = restore {
                    part.rev.push(quote!(#v = #r;));
                } else if save == Save::Undo {
                    part.rev.push(inverse);
                }
            }
            Rhs::Fill { .. } | Rhs::View { .. } => {}
        }
        part
    }

    /// `{ let __g = v̄; v̄ = 0; rest }`: the adjoint of `v` taken for the statement that
    /// overwrote `v`.
    fn take_adjoint(&self, var: VarId, rest: TokenStream) -> TokenStream {
        let bv = self.g.adjoint_ident(var);
        let z = self.g.adj_zero_in(self.g.ty_of(var));
        quote! {{
            let __g = #bv;
            #bv = #z;
            #rest
        }}
    }

    fn gen_assign_op(
        &self,
        var: VarId,
        op: Op,
        args: &[Operand],
        restore: Option<TokenStream>,
        part: &mut Part,
    ) {
        let g = self.g;
        let v = g.ident(var);
        let bv = g.adjoint_ident(var);
        let p = g.primal_op(var, op, args);
        part.fwd.push(quote!(#v = #p;));
        let put_old = restore.as_ref().map(|r| quote!(#v = #r;));
        if !g.a.active[var] {
            part.rev.extend(put_old);
            return;
        }
        // `s += e` / `s -= e`: ∂s_new/∂s_old = 1, so the adjoint of `s` passes through
        // unchanged and only `e` receives a contribution.
        let accumulates = matches!(op, Op::Add | Op::Sub)
            && matches!(args.first(), Some(Operand::Var(x)) if *x == var)
            && !matches!(args.get(1), Some(Operand::Var(x)) if *x == var);
        if accumulates {
            let contrib = self.contributions(var, op, args, &quote!(#bv), &quote!(#v), None);
            // skip the first operand (the variable itself)
            let skip = usize::from(g.a.is_active_operand(&args[0]));
            part.rev.extend(contrib.into_iter().skip(skip));
            part.rev.extend(put_old);
            return;
        }
        let old = restore.as_ref().map(|_| quote!(__old));
        let contrib = self.contributions(
            var,
            op,
            args,
            &quote!(__g),
            &quote!(#v),
            old.as_ref().map(|o| (var, o)),
        );
        let get_old = restore.as_ref().map(|r| quote!(let __old = #r;));
        let put_old = restore.as_ref().map(|_| quote!(#v = __old;));
        part.rev
            .push(self.take_adjoint(var, quote!(#get_old #(#contrib)* #put_old)));
    }

    fn gen_store(&self, id: StmtId, buf: VarId, index: &PExpr, value: &Operand) -> Part {
        let g = self.g;
        let b = g.ident(buf);
        let i = &index.tokens;
        let mut part = Part::default();
        let restore = self
            .save(buf, self.plan.stmt(id).save, quote!(#b[#i]))
            .map(|(f, r)| {
                part.fwd.push(f);
                r
            });
        let p = g.primal(value);
        part.fwd.push(quote!(#b[#i] = #p;));
        let put_old = restore.map(|r| quote!(#b[#i] = #r;));
        if g.a.active[buf] {
            let bb = g.adjoint_ident(buf);
            let z = g.adj_zero();
            let acc = self
                .adjoint(value)
                .map(|t| g.accumulate(&t, false, &quote!(__g)));
            part.rev.push(quote! {{
                let __g = #bb[#i];
                #bb[#i] = #z;
                #acc
                #put_old
            }});
        } else {
            part.rev.extend(put_old);
        }
        part
    }

    fn gen_if(&self, id: StmtId, cond: &PExpr, then: &Block, els: &Block) -> Part {
        let t = self.gen_block(then, &[]);
        let e = self.gen_block(els, &[]);
        let c = &cond.tokens;
        let (tf, ef) = (&t.fwd, &e.fwd);
        let mut part = Part::default();
        let plan = self.plan.stmt(id);
        if !plan.has_rev {
            part.fwd.push(if ef.is_empty() {
                quote!(if #c { #(#tf)* })
            } else {
                quote!(if #c { #(#tf)* } else { #(#ef)* })
            });
            return part;
        }
        let branches = if ef.is_empty() {
            quote!({ #(#tf)* })
        } else {
            quote!({ #(#tf)* } else { #(#ef)* })
        };
        let rc = match plan.branch {
            Branch::Recompute => {
                part.fwd.push(quote!(if #c #branches));
                quote!(#c)
            }
            Branch::Local => {
                let s = format_ident!("__c{}", self.st.next_slot());
                part.fwd.push(quote!(let #s = #c; if #s #branches));
                quote!(#s)
            }
            Branch::Flag => {
                self.st.uses_flags.set(true);
                // Pushed after the branches run, so that the reverse sweep pops the
                // decision before anything the taken branch pushed.
                part.fwd
                    .push(quote!(let __c = #c; if __c #branches __flags.push(__c);));
                self.pop(quote!(__flags))
            }
        };
        let (tr, er) = (&t.rev, &e.rev);
        part.rev.push(if er.is_empty() {
            quote!(if #rc { #(#tr)* })
        } else {
            quote!(if #rc { #(#tr)* } else { #(#er)* })
        });
        part
    }

    fn gen_for(
        &self,
        var: VarId,
        range: &Range,
        body: &Block,
        exit: Option<&PExpr>,
        last: Option<VarId>,
    ) -> Part {
        let i = self.g.ident(var);
        let r = self.g.range_tokens(range);
        let bp = self.gen_block(body, &[]);
        let bf = &bp.fwd;
        let ex = exit_check(exit);
        let mut part = Part::default();
        if !self.plan.block(body).has_rev {
            part.fwd.push(quote!(for #i in #r { #(#bf)* #ex }));
            return part;
        }
        let reserve = self.reserve(body, &r);
        let br = &bp.rev;
        let Range::Range {
            lo,
            hi,
            inclusive,
            rev,
        } = range;
        let (lo, hi) = (bound(lo), bound(hi));
        match last {
            Some(l) if exit.is_some() => {
                let l = self.g.ident(l);
                part.fwd.push(quote! {
                    let mut #l = ::core::option::Option::None;
                    #(#reserve)*
                    for #i in #r { #l = ::core::option::Option::Some(#i); #(#bf)* #ex }
                });
                let rr = match (rev, inclusive) {
                    (false, _) => quote!((#lo..=__l).rev()),
                    (true, false) => quote!(__l..#hi),
                    (true, true) => quote!(__l..=#hi),
                };
                part.rev.push(quote! {
                    if let ::core::option::Option::Some(__l) = #l {
                        for #i in #rr { #(#br)* }
                    }
                });
            }
            _ => {
                part.fwd.push(quote! {
                    #(#reserve)*
                    for #i in #r { #(#bf)* #ex }
                });
                let rr = match (rev, inclusive) {
                    (false, false) => quote!((#lo..#hi).rev()),
                    (false, true) => quote!((#lo..=#hi).rev()),
                    (true, false) => quote!(#lo..#hi),
                    (true, true) => quote!(#lo..=#hi),
                };
                part.rev.push(quote!(for #i in #rr { #(#br)* }));
            }
        }
        part
    }

    /// `__tape.reserve(trip count × pushes per iteration)`, and the same for `__flags`.
    fn reserve(&self, body: &Block, range: &TokenStream) -> Vec<TokenStream> {
        let bp = self.plan.block(body);
        let mut reserve = Vec::new();
        for (n, stack) in [
            (bp.tape_pushes, quote!(__tape)),
            (bp.flag_pushes, quote!(__flags)),
        ] {
            if n > 0 {
                let n = proc_macro2::Literal::usize_unsuffixed(n);
                reserve.push(
                    quote!(#stack.reserve(::autodiff::__private::trip_count(&(#range)) * #n);),
                );
            }
        }
        reserve
    }

    fn gen_while(&self, cond: &PExpr, body: &Block, exit: Option<&PExpr>, count: VarId) -> Part {
        let c = &cond.tokens;
        let bp = self.gen_block(body, &[]);
        let bf = &bp.fwd;
        let ex = exit_check(exit);
        let mut part = Part::default();
        if !self.plan.block(body).has_rev {
            part.fwd.push(quote!(while #c { #(#bf)* #ex }));
            return part;
        }
        let n = self.g.ident(count);
        part.fwd.push(quote! {
            let mut #n: usize = 0;
            while #c { #n += 1; #(#bf)* #ex }
        });
        let br = &bp.rev;
        part.rev.push(quote!(for _ in 0..#n { #(#br)* }));
        part
    }

    /// `for i in r { forward(body); reverse(body) }`.
    pub(super) fn gen_fused_loop(&self, s: &Stmt) -> TokenStream {
        match s {
            Stmt::For {
                var, range, body, ..
            } => {
                let i = self.g.ident(*var);
                let r = self.g.range_tokens(range);
                let bp = self.gen_block(body, &[]);
                let (f, rv) = (&bp.fwd, &bp.rev);
                if let Range::Range {
                    lo,
                    hi,
                    inclusive: false,
                    rev: false,
                } = range
                {
                    let all: Vec<TokenStream> = f.iter().chain(rv).cloned().collect();
                    let carried = super::carry::carry_loop(
                        i,
                        &bound(lo),
                        &bound(hi),
                        &all,
                        &self.shadow_params(),
                        &self.g.fty(),
                        &self.g.zero(),
                    );
                    if let Some(l) = carried {
                        return l;
                    }
                }
                quote!(for #i in #r { #(#f)* #(#rv)* })
            }
            Stmt::While { cond, body, .. } => {
                let c = &cond.tokens;
                let bp = self.gen_block(body, &[]);
                let (f, rv) = (&bp.fwd, &bp.rev);
                quote!(while #c { #(#f)* #(#rv)* })
            }
            _ => quote!(),
        }
    }

    /// The shadows of the buffer parameters (`dx` of `x: &[f64]`), which the fused
    /// loop may carry in locals (`carry.rs`).
    fn shadow_params(&self) -> Vec<syn::Ident> {
        let vars = self.g.f.vars.iter().enumerate();
        vars.filter(|(_, var)| var.is_param && var.wrt && var.kind == Kind::Buf)
            .map(|(v, _)| self.g.adjoint_ident(v))
            .collect()
    }
}
