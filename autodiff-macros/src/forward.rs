//! IR → the body of `f_fwd`: the primal code with a tangent beside every active value.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::emit::{bound, Gen};
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
                    let f = self.fty();
                    let z = self.zero();
                    quote!(let mut #d: #f = #z;)
                }
            })
            .collect();
        let body = self.gen_tangent_block(&self.f.body);
        let ret = self.ident(self.f.ret);
        let dret = if self.a.active[self.f.ret] {
            let t = self.tangent_ident(self.f.ret);
            quote!(#t)
        } else {
            self.zero()
        };
        let checks = self.shadow_length_checks();
        quote! {
            #(#checks)*
            #(#rebind)*
            #(#body)*
            (#ret, #dret)
        }
    }

    fn gen_tangent_block(&self, b: &Block) -> Vec<TokenStream> {
        b.stmts.iter().map(|s| self.gen_tangent_stmt(s)).collect()
    }

    /// `Σ ∂ᵢ·ẋᵢ` over active operands (zero when none is active).
    pub fn gen_tangent_sum(
        &self,
        op: crate::rules::Op,
        args: &[Operand],
        out: &TokenStream,
    ) -> TokenStream {
        let ins: Vec<TokenStream> = args.iter().map(|o| self.primal(o)).collect();
        let mut terms: Vec<(bool, TokenStream)> = Vec::new();
        for (i, d) in partials(op).iter().enumerate() {
            let (Some(d), Some(arg)) = (d, args.get(i)) else {
                continue;
            };
            let Some(t) = self.tangent(arg) else { continue };
            terms.push(self.scale(d, t, &ins, out));
        }
        let mut it = terms.into_iter();
        let Some((neg, first)) = it.next() else {
            return self.zero();
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
            Stmt::Let { var, rhs, mutable } => {
                let v = self.ident(*var);
                let m = self.let_mut(*var, *mutable);
                let active = self.a.active[*var];
                let dv = self.tangent_ident(*var);
                match rhs {
                    Rhs::Op(op, args) => {
                        let p = self.primal_op(*op, args);
                        if active {
                            let t = self.gen_tangent_sum(*op, args, &quote!(#v));
                            let ty = self.let_ty(rhs);
                            quote! { let #m #v #ty = #p; let #m #dv #ty = #t; }
                        } else {
                            let ty = self.let_ty(rhs);
                            quote! { let #m #v #ty = #p; }
                        }
                    }
                    Rhs::Call(c) => {
                        if active {
                            let call = self.gen_fwd_call(c);
                            quote! { let (#m #v, #m #dv) = #call; }
                        } else {
                            let call = self.gen_primal_call(c);
                            quote! { let #m #v = #call; }
                        }
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
                        let (pv, tv) = if *array {
                            let te = self.tangent(elem).unwrap_or_else(|| self.zero());
                            (quote!([#e; #l]), quote!([#te; #l]))
                        } else {
                            let te = self.tangent(elem).unwrap_or_else(|| self.zero());
                            (
                                quote!(::std::vec![#e; #l]),
                                quote!(::std::vec![#te; #v.len()]),
                            )
                        };
                        if active {
                            let ty = self.let_ty(rhs);
                            quote! { let mut #v #ty = #pv; let mut #dv #ty = #tv; }
                        } else {
                            let ty = self.let_ty(rhs);
                            quote! { let mut #v #ty = #pv; }
                        }
                    }
                }
            }
            Stmt::Decl { var } if self.f.vars[*var].kind == Kind::Passive => {
                let v = self.ident(*var);
                quote! { let mut #v; }
            }
            Stmt::Decl { var } => {
                let v = self.ident(*var);
                let z = self.zero();
                let f = self.fty();
                if self.a.active[*var] {
                    let dv = self.tangent_ident(*var);
                    quote! { let mut #v: #f = #z; let mut #dv: #f = #z; }
                } else {
                    quote! { let mut #v: #f = #z; }
                }
            }
            Stmt::Assign { var, rhs, .. } => {
                let v = self.ident(*var);
                let dv = self.tangent_ident(*var);
                let active = self.a.active[*var];
                match rhs {
                    Rhs::Op(op, args) => {
                        let p = self.primal_op(*op, args);
                        if !active {
                            return quote! { #v = #p; };
                        }
                        let reads_self = args
                            .iter()
                            .any(|o| matches!(o, Operand::Var(x) if x == var));
                        let reads_out = partials(*op).iter().flatten().any(|d| {
                            let mut out = false;
                            d.reads(&mut |r| out |= r.is_none());
                            out
                        });
                        if reads_self && !reads_out {
                            // The tangent reads the old value: update it before the primal.
                            let t = self.gen_tangent_sum(*op, args, &quote!(#v));
                            quote! { #dv = #t; #v = #p; }
                        } else if reads_self {
                            let t = self.gen_tangent_sum(*op, args, &quote!(__p));
                            quote! { { let __p = #p; let __dp = #t; #v = __p; #dv = __dp; } }
                        } else {
                            let t = self.gen_tangent_sum(*op, args, &quote!(#v));
                            quote! { #v = #p; #dv = #t; }
                        }
                    }
                    Rhs::Call(c) => {
                        if active {
                            let call = self.gen_fwd_call(c);
                            quote! { { let (__p, __dp) = #call; #v = __p; #dv = __dp; } }
                        } else {
                            let call = self.gen_primal_call(c);
                            quote! { #v = #call; }
                        }
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
            Stmt::Store { buf, index, value } => {
                let b = self.ident(*buf);
                let i = &index.tokens;
                let p = self.primal(value);
                if self.a.active[*buf] {
                    let db = self.tangent_ident(*buf);
                    let t = self.tangent(value).unwrap_or_else(|| self.zero());
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
                let ex = exit.as_ref().map(|e| {
                    let e = &e.tokens;
                    quote!(if #e { break; })
                });
                quote! { for #i in #r { #(#b)* #ex } }
            }
            Stmt::While {
                cond, body, exit, ..
            } => {
                let c = &cond.tokens;
                let b = self.gen_tangent_block(body);
                let ex = exit.as_ref().map(|e| {
                    let e = &e.tokens;
                    quote!(if #e { break; })
                });
                quote! { while #c { #(#b)* #ex } }
            }
            Stmt::Passive(t) => t.clone(),
        }
    }

    pub fn range_tokens(&self, r: &Range) -> TokenStream {
        let Range::Range {
            lo,
            hi,
            inclusive,
            rev,
        } = r;
        let (lo, hi) = (bound(lo), bound(hi));
        let base = if *inclusive {
            quote!(#lo..=#hi)
        } else {
            quote!(#lo..#hi)
        };
        if *rev {
            quote!((#base).rev())
        } else {
            base
        }
    }

    pub fn callee_tokens(&self, c: &Call, suffix: &str) -> TokenStream {
        match &c.callee {
            Callee::Path {
                prefix,
                name,
                generics,
            } => {
                let n = if suffix.is_empty() {
                    name.clone()
                } else {
                    format_ident!("{}{}", name, suffix)
                };
                quote!(#prefix #n #generics)
            }
            Callee::Method { recv, name } => {
                let n = if suffix.is_empty() {
                    name.clone()
                } else {
                    format_ident!("{}{}", name, suffix)
                };
                let r = &recv.tokens;
                quote!(#r.#n)
            }
        }
    }

    pub fn gen_primal_call(&self, c: &Call) -> TokenStream {
        let callee = self.callee_tokens(c, "");
        let args: Vec<TokenStream> = c
            .args
            .iter()
            .map(|a| match a {
                CallArg::Float(o) => self.primal(o),
                CallArg::Buf { var, by_ref } => self.buf_arg(*var, *by_ref),
                CallArg::Passive(p) => p.tokens.clone(),
            })
            .collect();
        quote!(#callee(#(#args),*))
    }

    pub fn buf_arg(&self, var: VarId, by_ref: bool) -> TokenStream {
        let b = self.ident(var);
        if by_ref {
            quote!(&#b)
        } else {
            quote!(#b)
        }
    }

    /// A zero shadow for a buffer that carries no derivative (the callee still takes one).
    pub fn zero_buffer(&self, var: VarId) -> TokenStream {
        let b = self.ident(var);
        match self.f.vars[var].buf {
            Some(BufRepr::ArrayParam) | Some(BufRepr::LocalArray) => {
                quote!(::autodiff::__private::zeros_like_array(&#b))
            }
            Some(BufRepr::ArrayRefParam) => quote!(::autodiff::__private::zeros_like_array(#b)),
            _ => quote!(::autodiff::__private::zeros_like(&#b[..])),
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
