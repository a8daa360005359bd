//! IR → the body of `f_fwd`: the primal code with a tangent beside every active value.

use proc_macro2::TokenStream;
use quote::quote;

use crate::emit::{exit_check, Gen};
use crate::ir::*;
use crate::rules::partials;

impl Gen<'_> {
    pub fn gen_tangent_body(&self) -> TokenStream {
        // A reassigned (`mut`) float parameter has a reassigned tangent; one outside
        // `wrt(..)` has none passed in, and starts from zero.
        let rebind: Vec<TokenStream> = self
            .f
            .vars
            .iter()
            .enumerate()
            .filter(|(i, v)| {
                v.is_param && v.kind == Kind::Float && self.a.active[*i] && self.a.assigned[*i]
            })
            .map(|(i, v)| {
                let d = self.tangent_ident(i);
                if v.wrt {
                    quote!(let mut #d = #d;)
                } else {
                    let t = self.tan_ty();
                    let z = self.tan_zero();
                    quote!(let mut #d: #t = #z;)
                }
            })
            .collect();
        let body = self.gen_tangent_block(&self.f.body);
        let ret = self.ident(self.f.ret);
        let active = self.a.active[self.f.ret];
        let t = self.tangent_ident(self.f.ret);
        let z = self.tan_zero();
        let value = match &self.f.out.ret {
            RetShape::Float if active => quote!((#ret, #t)),
            RetShape::Float => quote!((#ret, #z)),
            RetShape::Array { .. } if active => quote!((#ret, #t)),
            RetShape::Array { len } => quote!((#ret, [#z; #len])),
            RetShape::Tuple(n) => {
                let v = self.tuple_of(&quote!(#ret), *n);
                let dv = if active {
                    self.tuple_of(&quote!(#t), *n)
                } else {
                    let zs = (0..*n).map(|_| z.clone());
                    quote!((#(#zs,)*))
                };
                quote!((#v, #dv))
            }
            RetShape::Unit => quote!(()),
        };
        let checks = self.shadow_length_checks();
        let zero_outs = self.zero_out_shadows();
        quote! {
            #(#checks)*
            #(#zero_outs)*
            #(#rebind)*
            #(#body)*
            #value
        }
    }

    fn gen_tangent_block(&self, b: &Block) -> Vec<TokenStream> {
        b.stmts.iter().map(|s| self.gen_tangent_stmt(s)).collect()
    }

    /// `Σ ∂ᵢ·ẋᵢ` over active operands (zero when none is active), the tangent of
    /// `var = op(args)`; a term of another float type than `var`'s (a cast's) is
    /// converted to it.
    pub fn gen_tangent_sum(
        &self,
        var: VarId,
        op: crate::rules::Op,
        args: &[Operand],
        out: &TokenStream,
    ) -> TokenStream {
        let ins: Vec<TokenStream> = args.iter().map(|o| self.primal(o)).collect();
        let ty = self.ty_of(var);
        let mut terms: Vec<(bool, TokenStream)> = Vec::new();
        for (i, d) in partials(op).iter().enumerate() {
            let (Some(d), Some(arg)) = (d, args.get(i)) else {
                continue;
            };
            let Some(t) = self.tangent(arg) else { continue };
            let (neg, t) = self.scale(d, ty, t, &ins, out);
            terms.push((neg, self.convert(t, self.operand_ty(arg), ty)));
        }
        let mut it = terms.into_iter();
        let Some((neg, first)) = it.next() else {
            return self.tan_zero_of(var);
        };
        let mut acc = if neg { quote!(-#first) } else { first };
        for (neg, t) in it {
            acc = if neg {
                quote!(#acc - #t)
            } else {
                quote!(#acc + #t)
            };
        }
        acc
    }

    fn gen_tangent_stmt(&self, s: &Stmt) -> TokenStream {
        match s {
            Stmt::Let { var, rhs, mutable } => self.gen_tangent_let(*var, rhs, *mutable),
            Stmt::Decl { var } => self.gen_tangent_decl(*var),
            Stmt::Assign { var, rhs, .. } => self.gen_tangent_assign(s, *var, rhs),
            Stmt::Store { buf, index, value } => {
                let b = self.ident(*buf);
                let i = &index.tokens;
                let p = self.primal(value);
                if self.a.active[*buf] {
                    let db = self.tangent_ident(*buf);
                    let t = self.tangent(value).unwrap_or_else(|| self.tan_zero());
                    quote! { #db[#i] = #t; #b[#i] = #p; }
                } else {
                    quote! { #b[#i] = #p; }
                }
            }
            Stmt::If { cond, then, els } => {
                let c = &cond.tokens;
                let t = self.gen_tangent_block(then);
                let e = self.gen_tangent_block(els);
                if e.is_empty() {
                    quote! { if #c { #(#t)* } }
                } else {
                    quote! { if #c { #(#t)* } else { #(#e)* } }
                }
            }
            Stmt::For {
                var,
                range,
                body,
                exit,
                ..
            } => {
                let i = self.ident(*var);
                let r = self.range_tokens(range);
                let b = self.gen_tangent_block(body);
                let ex = exit_check(exit.as_ref());
                quote! { for #i in #r { #(#b)* #ex } }
            }
            Stmt::While {
                cond, body, exit, ..
            } => {
                let c = &cond.tokens;
                let b = self.gen_tangent_block(body);
                let ex = exit_check(exit.as_ref());
                quote! { while #c { #(#b)* #ex } }
            }
            Stmt::Passive(t) => t.clone(),
        }
    }

    fn gen_tangent_let(&self, var: VarId, rhs: &Rhs, mutable: bool) -> TokenStream {
        let v = self.ident(var);
        let m = self.let_mut(var, mutable);
        let active = self.a.active[var];
        let dv = self.tangent_ident(var);
        let ty = self.let_ty(var, rhs);
        let tty = self.tan_let_ty(var, rhs);
        match rhs {
            Rhs::Op(op, args) => {
                let p = self.primal_op(var, *op, args);
                if active {
                    let t = self.gen_tangent_sum(var, *op, args, &quote!(#v));
                    quote! { let #m #v #ty = #p; let #m #dv #tty = #t; }
                } else {
                    quote! { let #m #v #ty = #p; }
                }
            }
            Rhs::Call(c) if active => {
                let call = self.gen_fwd_call(c);
                quote! { let (#m #v, #m #dv) = #call; }
            }
            Rhs::Call(c) => {
                let call = self.gen_primal_call(c);
                quote! { let #m #v = #call; }
            }
            Rhs::Passive(p) => {
                let t = &p.tokens;
                quote! { let #m #v = #t; }
            }
            Rhs::Step { .. } => quote! {},
            Rhs::View { base, lo, hi } => {
                let view = self.slice_of(self.ident(*base), lo, hi);
                if active {
                    let dview = self.slice_of(self.tangent_ident(*base), lo, hi);
                    quote! { let #v = &#view; let #dv = &#dview; }
                } else {
                    quote! { let #v = &#view; }
                }
            }
            Rhs::Fill { elem, len, array } => {
                let e = self.primal(elem);
                let l = &len.tokens;
                let te = self.tangent(elem).unwrap_or_else(|| self.tan_zero());
                let (pv, tv) = if *array {
                    (quote!([#e; #l]), quote!([#te; #l]))
                } else {
                    (
                        quote!(::std::vec![#e; #l]),
                        quote!(::std::vec![#te; #v.len()]),
                    )
                };
                if active {
                    quote! { let mut #v #ty = #pv; let mut #dv #tty = #tv; }
                } else {
                    quote! { let mut #v #ty = #pv; }
                }
            }
        }
    }

    fn gen_tangent_decl(&self, var: VarId) -> TokenStream {
        let v = self.ident(var);
        if self.f.vars[var].kind == Kind::Passive {
            return quote! { let mut #v; };
        }
        let ty = self.ty_of(var);
        let (z, f) = (self.zero_in(ty), self.fty_in(ty));
        if self.a.active[var] {
            let dv = self.tangent_ident(var);
            let (t, tz) = (self.tan_ty_of(var), self.tan_zero_of(var));
            quote! { let mut #v: #f = #z; let mut #dv: #t = #tz; }
        } else {
            quote! { let mut #v: #f = #z; }
        }
    }

    fn gen_tangent_assign(&self, s: &Stmt, var: VarId, rhs: &Rhs) -> TokenStream {
        let v = self.ident(var);
        let dv = self.tangent_ident(var);
        let active = self.a.active[var];
        match rhs {
            Rhs::Op(op, args) if active => self.gen_tangent_update(s, var, *op, args),
            Rhs::Op(op, args) => {
                let p = self.primal_op(var, *op, args);
                quote! { #v = #p; }
            }
            Rhs::Call(c) if active => {
                let call = self.gen_fwd_call(c);
                quote! { { let (__p, __dp) = #call; #v = __p; #dv = __dp; } }
            }
            Rhs::Call(c) => {
                let call = self.gen_primal_call(c);
                quote! { #v = #call; }
            }
            Rhs::Passive(p) => {
                let t = &p.tokens;
                quote! { #v = #t; }
            }
            Rhs::Step { add, amount } => {
                let t = &amount.tokens;
                if *add {
                    quote! { #v += #t; }
                } else {
                    quote! { #v -= #t; }
                }
            }
            Rhs::Fill { .. } | Rhs::View { .. } => quote! {},
        }
    }

    /// `v = op(args)` for an active `v`, with its tangent: in an order that reads the
    /// old value of `v` where the tangent needs it.
    fn gen_tangent_update(
        &self,
        s: &Stmt,
        var: VarId,
        op: crate::rules::Op,
        args: &[Operand],
    ) -> TokenStream {
        let v = self.ident(var);
        let dv = self.tangent_ident(var);
        let p = self.primal_op(var, op, args);
        let reads_self = s.reads().contains(&var);
        let reads_out = partials(op).iter().flatten().any(|d| {
            let mut out = false;
            d.reads(&mut |r| out |= r.is_none());
            out
        });
        if reads_self && !reads_out {
            // The tangent reads the old value: update it before the primal.
            let t = self.gen_tangent_sum(var, op, args, &quote!(#v));
            quote! { #dv = #t; #v = #p; }
        } else if reads_self {
            let t = self.gen_tangent_sum(var, op, args, &quote!(__p));
            quote! { { let __p = #p; let __dp = #t; #v = __p; #dv = __dp; } }
        } else {
            let t = self.gen_tangent_sum(var, op, args, &quote!(#v));
            quote! { #v = #p; #dv = #t; }
        }
    }

    fn gen_fwd_call(&self, c: &Call) -> TokenStream {
        let callee = self.callee_tokens(c, "_fwd");
        let mut args = Vec::new();
        for a in &c.args {
            match a {
                CallArg::Float(o) => {
                    args.push(self.primal(o));
                    args.push(self.tangent(o).unwrap_or_else(|| self.zero()));
                }
                CallArg::Buf { var, by_ref } => {
                    args.push(self.buf_arg(*var, *by_ref));
                    let is_array = matches!(
                        self.f.vars[*var].buf,
                        Some(BufRepr::ArrayParam) | Some(BufRepr::LocalArray)
                    );
                    if self.a.active[*var] {
                        let d = self.tangent_ident(*var);
                        args.push(if *by_ref { quote!(&#d) } else { quote!(#d) });
                    } else {
                        let z = self.zero_buffer(*var);
                        args.push(if is_array && !*by_ref { z } else { quote!(&#z) });
                    }
                }
                CallArg::Passive(p) => args.push(p.tokens.clone()),
            }
        }
        quote!(#callee(#(#args),*))
    }
}
