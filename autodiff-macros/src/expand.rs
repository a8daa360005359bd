//! Orchestration: attribute → lowering → analysis → generation → emission, with a
//! fallback expansion (the original function plus stubs) when the input has errors.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, ToTokens};

use crate::activity::analyze;
use crate::attr::parse_config;
use crate::diag::Diag;
use crate::emit::{array_len, Gen};
use crate::ir::*;
use crate::lower::lower_fn;
use crate::reverse::RevState;

/// The whole expansion of `#[differentiate(attr)] item`, on `proc_macro2` tokens.
///
/// Never panics: any problem becomes a spanned `compile_error!`.
pub fn differentiate(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut diag = Diag::default();
    let config = parse_config(attr, &mut diag);
    let func: syn::ItemFn = match syn::parse2::<syn::ItemFn>(item.clone()) {
        Ok(f) => f,
        Err(_) => {
            // An associated function or method parses as ImplItemFn when it has no body tokens
            // that ItemFn rejects; try that, then give up with a clear message.
            match syn::parse2::<syn::ImplItemFn>(item.clone()) {
                Ok(m) => syn::ItemFn {
                    attrs: m.attrs,
                    vis: m.vis,
                    sig: m.sig,
                    block: Box::new(m.block),
                },
                Err(_) => {
                    let span = item
                        .clone()
                        .into_iter()
                        .next()
                        .map(|t| t.span())
                        .unwrap_or_else(Span::call_site);
                    diag.error(
                        span,
                        "`#[differentiate]` can only be applied to a function (`fn`)",
                    );
                    let errors = diag.to_compile_errors();
                    return quote!(#errors #item);
                }
            }
        }
    };
    let lowered = lower_fn(&func.sig, &func.block, &config, &mut diag);
    if diag.has_errors() {
        let errors = diag.to_compile_errors();
        let stubs = lowered.map(|f| emit_stubs(&func, &f)).unwrap_or_default();
        return quote!(#errors #func #stubs);
    }
    let Some(ir) = lowered else {
        let errors = diag.to_compile_errors();
        return quote!(#errors #func);
    };
    let analysis = analyze(&ir);
    let gen = Gen {
        f: &ir,
        a: &analysis,
    };
    let tangent = gen.gen_tangent_body();
    let st = RevState::default();
    let adjoint = gen.gen_adjoint_body(&st);
    let sigs = Signatures::new(&func, &ir, &gen);
    let items = sigs.emit(&func, &gen, tangent, adjoint);
    // Calling only `f_grad` is a use of `f`: do not report the original as dead code.
    quote!(#[allow(dead_code)] #func #items)
}

struct Signatures {
    fwd_params: Vec<TokenStream>,
    adj_params: Vec<TokenStream>,
    grad_params: Vec<TokenStream>,
    /// `let` statements creating zeroed shadows inside `_grad`, and the gradient value.
    grad_init: Vec<TokenStream>,
    grad_out: Vec<TokenStream>,
    grad_ty: Vec<TokenStream>,
}

impl Signatures {
    fn new(func: &syn::ItemFn, ir: &Func, gen: &Gen) -> Self {
        let f = gen.fty();
        let z = gen.zero();
        let mut s = Signatures {
            fwd_params: vec![],
            adj_params: vec![],
            grad_params: vec![],
            grad_init: vec![],
            grad_out: vec![],
            grad_ty: vec![],
        };
        for (arg, p) in func.sig.inputs.iter().zip(ir.params.iter()) {
            let (pat, ty) = match arg {
                syn::FnArg::Receiver(r) => {
                    let t = r.to_token_stream();
                    s.fwd_params.push(t.clone());
                    s.adj_params.push(t.clone());
                    s.grad_params.push(t);
                    continue;
                }
                syn::FnArg::Typed(pt) => (&pt.pat, &pt.ty),
            };
            let attrs = match arg {
                syn::FnArg::Typed(pt) => &pt.attrs,
                _ => continue,
            };
            s.fwd_params.push(quote!(#(#attrs)* #pat: #ty));
            s.adj_params.push(quote!(#(#attrs)* #pat: #ty));
            s.grad_params.push(quote!(#(#attrs)* #pat: #ty));
            let Some(v) = p.var else { continue };
            let var = &ir.vars[v];
            if !var.wrt {
                continue;
            }
            let d = format_ident!("d{}", p.ident);
            let g = format_ident!("__grad_{}", p.ident);
            let x = &p.ident;
            match var.kind {
                Kind::Float => {
                    s.fwd_params.push(quote!(#d: #ty));
                    s.adj_params.push(quote!(#d: &mut #ty));
                    s.grad_init
                        .push(quote!(let mut #g: #f = #z; let #d = &mut #g;));
                    s.grad_ty.push(quote!(#f));
                }
                Kind::Buf => {
                    s.fwd_params.push(quote!(#d: #ty));
                    let aty = gen.adjoint_shadow_ty(v, ty);
                    s.adj_params.push(quote!(#d: #aty));
                    match var.buf {
                        Some(BufRepr::SliceParam) => {
                            s.grad_init.push(quote!(let mut #g = ::std::vec![#z; #x.len()]; let #d = &mut #g[..];));
                            s.grad_ty.push(quote!(::std::vec::Vec<#f>));
                        }
                        _ => {
                            let n = array_len(ty)
                                .map(|e| e.to_token_stream())
                                .unwrap_or_else(|| quote!(#x.len()));
                            s.grad_init
                                .push(quote!(let mut #g = [#z; #n]; let #d = &mut #g;));
                            s.grad_ty.push(quote!([#f; #n]));
                        }
                    }
                }
                Kind::Passive => continue,
            }
            s.grad_out.push(quote!(#g));
        }
        s
    }

    fn emit(
        &self,
        func: &syn::ItemFn,
        gen: &Gen,
        tangent: TokenStream,
        adjoint: TokenStream,
    ) -> TokenStream {
        let f = gen.fty();
        let one = gen.one();
        let vis = &func.vis;
        let name = &func.sig.ident;
        let (fwd_name, adj_name, grad_name) = names(name);
        let generics = &func.sig.generics;
        let where_clause = &generics.where_clause;
        let unsafety = &func.sig.unsafety;
        let (fp, ap, gp) = (&self.fwd_params, &self.adj_params, &self.grad_params);
        let init = &self.grad_init;
        let (gty, gout) = if self.grad_ty.len() == 1 {
            let (t, o) = (&self.grad_ty[0], &self.grad_out[0]);
            (quote!(#t), quote!(#o))
        } else {
            let (t, o) = (&self.grad_ty, &self.grad_out);
            (quote!((#(#t),*)), quote!((#(#o),*)))
        };
        let allow = quote!(#[allow(unreachable_code, unused_mut, unused_variables, unused_assignments, unused_parens, unused_braces, non_snake_case, clippy::all, clippy::pedantic, clippy::nursery)]);
        let fwd_doc = format!(" Forward (tangent) mode of [`{name}`]: returns `({name}(..), directional derivative)`. Generated by `#[differentiate]`.");
        let adj_doc = format!(" Reverse (adjoint) mode of [`{name}`]: returns `{name}(..)` and adds `dret` times the gradient to the shadows. Generated by `#[differentiate]`.");
        let grad_doc =
            format!(" Value and gradient of [`{name}`]. Generated by `#[differentiate]`.");
        quote! {
            #[doc = #fwd_doc]
            #allow
            #[inline]
            #vis #unsafety fn #fwd_name #generics (#(#fp),*) -> (#f, #f) #where_clause {
                #tangent
            }
            #[doc = #adj_doc]
            #allow
            #[inline]
            #vis #unsafety fn #adj_name #generics (#(#ap,)* dret: #f) -> #f #where_clause {
                #adjoint
            }
            #[doc = #grad_doc]
            #allow
            #[inline]
            #vis #unsafety fn #grad_name #generics (#(#gp),*) -> (#f, #gty) #where_clause {
                #(#init)*
                let dret: #f = #one;
                // The adjoint body again rather than a call to `_adjoint`: an associated
                // function would need `Self::` and a free function must not have it,
                // which the attribute cannot tell apart.
                let __value = { #adjoint };
                (__value, #gout)
            }
        }
    }
}

fn names(name: &syn::Ident) -> (syn::Ident, syn::Ident, syn::Ident) {
    (
        format_ident!("{}_fwd", name),
        format_ident!("{}_adjoint", name),
        format_ident!("{}_grad", name),
    )
}

/// Generated functions with the right signatures and no body, so an error in `f`
/// does not cascade into "cannot find function `f_grad`" at every call site.
fn emit_stubs(func: &syn::ItemFn, ir: &Func) -> TokenStream {
    let analysis = crate::activity::Analysis {
        active: ir.vars.iter().map(|v| v.wrt).collect(),
        needed: vec![false; ir.vars.len()],
        uses: vec![Vec::new(); ir.vars.len()],
        pos: Default::default(),
        loops: Vec::new(),
        decl: vec![None; ir.vars.len()],
        kills: Vec::new(),
        assigned: vec![false; ir.vars.len()],
        has_rev: vec![false; ir.n_blocks],
        loop_var: vec![false; ir.vars.len()],
        root: (0..ir.vars.len()).collect(),
        views: vec![None; ir.vars.len()],
    };
    let gen = Gen {
        f: ir,
        a: &analysis,
    };
    let sigs = Signatures::new(func, ir, &gen);
    let body = quote!(::core::unimplemented!(
        "`#[differentiate]` reported an error"
    ));
    sigs.emit(func, &gen, body.clone(), body)
}
