//! Orchestration: attribute → lowering → analysis → generation → emission, with a
//! fallback expansion (the original function plus stubs) when the input has errors.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};

use crate::activity::analyze;
use crate::attr::parse_config;
use crate::diag::Diag;
use crate::emit::Gen;
use crate::ir::*;
use crate::lower::lower_fn;
use crate::reverse::RevState;
use crate::simplify::fold_copies;

/// The whole expansion of `#[differentiate(attr)] item`, on `proc_macro2` tokens.
///
/// Never panics: any problem becomes a spanned `compile_error!`.
pub fn differentiate(attr: TokenStream, item: TokenStream) -> TokenStream {
    try_expand(attr, item).unwrap_or_else(|fallback| fallback)
}

/// The stages, one line each; `Err` is the fallback expansion: the errors, the
/// original item and (when the signature could be lowered) stubs of every
/// generated function, so callers see no follow-on errors.
fn try_expand(attr: TokenStream, item: TokenStream) -> Result<TokenStream, TokenStream> {
    let mut diag = Diag::default();
    let config = parse_config(attr, &mut diag);
    let Some(func) = parse_item(&item, &mut diag) else {
        let errors = diag.check().err().unwrap_or_default();
        return Err(quote!(#errors #item));
    };
    let lowered = lower_fn(&func.sig, &func.block, &config, &mut diag);
    let ir = match (diag.check(), lowered) {
        (Ok(()), Some(ir)) => fold_copies(ir).numbered(),
        (checked, lowered) => {
            let errors = checked.err().unwrap_or_default();
            let stubs = lowered.map(|f| emit_stubs(&func, &f)).unwrap_or_default();
            return Err(quote!(#errors #func #stubs));
        }
    };
    let analysis = analyze(&ir);
    let gen = Gen {
        f: &ir,
        a: &analysis,
    };
    let items = emit_items(&func, &gen);
    // Calling only `f_grad` is a use of `f`: do not report the original as dead code.
    Ok(quote!(#[allow(dead_code)] #func #items))
}

/// The item as a function: a free function, or an associated function or method
/// (which parses as `ImplItemFn` when `ItemFn` rejects it).
fn parse_item(item: &TokenStream, diag: &mut Diag) -> Option<syn::ItemFn> {
    if let Ok(f) = syn::parse2::<syn::ItemFn>(item.clone()) {
        return Some(f);
    }
    if let Ok(m) = syn::parse2::<syn::ImplItemFn>(item.clone()) {
        return Some(syn::ItemFn {
            attrs: m.attrs,
            vis: m.vis,
            sig: m.sig,
            block: Box::new(m.block),
        });
    }
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
    None
}

/// `f_fwd`, `f_adjoint` and `f_grad`.
fn emit_items(func: &syn::ItemFn, gen: &Gen) -> TokenStream {
    let tangent = gen.gen_tangent_body();
    let parts = gen.gen_adjoint_parts(&RevState::default());
    let adjoint = parts.body();
    let mut sigs = Signatures::new(gen.f, gen);
    sigs.adjoint_parts = Some(parts);
    sigs.emit(func, gen, tangent, adjoint)
}

struct Signatures {
    fwd_params: Vec<TokenStream>,
    adj_params: Vec<TokenStream>,
    grad_params: Vec<TokenStream>,
    /// `let` statements creating zeroed shadows inside `_grad`, and the gradient value.
    grad_init: Vec<TokenStream>,
    grad_out: Vec<TokenStream>,
    grad_ty: Vec<TokenStream>,
    /// The fallback expansion: bodies are `unimplemented!()`.
    stub: bool,
    /// The adjoint body in pieces, for `_jacobian`'s reverse sweeps.
    adjoint_parts: Option<crate::reverse::AdjointParts>,
}

impl Signatures {
    fn new(ir: &Func, gen: &Gen) -> Self {
        let f = gen.fty();
        let z = gen.zero();
        let mut s = Signatures {
            fwd_params: vec![],
            adj_params: vec![],
            grad_params: vec![],
            grad_init: vec![],
            grad_out: vec![],
            grad_ty: vec![],
            stub: false,
            adjoint_parts: None,
        };
        for p in &ir.params {
            let (decl, ty) = (&p.decl, &p.ty);
            s.fwd_params.push(decl.clone());
            s.adj_params.push(decl.clone());
            s.grad_params.push(decl.clone());
            let Some(v) = p.var else { continue };
            if let ParamTy::Out { len } = &p.shape {
                // The output's tangent (`_fwd`) or cotangent (`_adjoint`).
                let d = format_ident!("d{}", p.ident);
                let ty = match len {
                    Some(n) => quote!(&mut [#f; #n]),
                    None => quote!(&mut [#f]),
                };
                s.fwd_params.push(quote!(#d: #ty));
                s.adj_params.push(quote!(#d: #ty));
                continue;
            }
            if !ir.vars[v].wrt {
                continue;
            }
            let d = format_ident!("d{}", p.ident);
            let g = format_ident!("__grad_{}", p.ident);
            let x = &p.ident;
            match &p.shape {
                ParamTy::Float => {
                    s.fwd_params.push(quote!(#d: #ty));
                    s.adj_params.push(quote!(#d: &mut #ty));
                    s.grad_init
                        .push(quote!(let mut #g: #f = #z; let #d = &mut #g;));
                    s.grad_ty.push(quote!(#f));
                }
                ParamTy::Slice => {
                    s.fwd_params.push(quote!(#d: #ty));
                    s.adj_params.push(quote!(#d: &mut [#f]));
                    s.grad_init.push(
                        quote!(let mut #g = ::std::vec![#z; #x.len()]; let #d = &mut #g[..];),
                    );
                    s.grad_ty.push(quote!(::std::vec::Vec<#f>));
                }
                ParamTy::Array { len, .. } => {
                    s.fwd_params.push(quote!(#d: #ty));
                    s.adj_params.push(quote!(#d: &mut [#f; #len]));
                    s.grad_init
                        .push(quote!(let mut #g = [#z; #len]; let #d = &mut #g;));
                    s.grad_ty.push(quote!([#f; #len]));
                }
                ParamTy::Receiver | ParamTy::Passive | ParamTy::Out { .. } => continue,
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
        let rty = gen.ret_ty();
        let (fwd_ret, dret_param) = match &gen.f.out.ret {
            RetShape::Unit => (quote!(()), quote!()),
            _ => (quote!((#rty, #rty)), quote!(dret: #rty)),
        };
        let allow = quote!(#[allow(unreachable_code, unused_mut, unused_variables, unused_assignments, unused_parens, unused_braces, non_snake_case, while_true, clippy::all, clippy::pedantic, clippy::nursery)]);
        let fwd_doc = format!(" Forward (tangent) mode of [`{name}`]: returns `({name}(..), directional derivative)`. Generated by `#[differentiate]`.");
        let adj_doc = format!(" Reverse (adjoint) mode of [`{name}`]: returns `{name}(..)` and adds `dret` times the gradient to the shadows. Generated by `#[differentiate]`.");
        let grad_doc =
            format!(" Value and gradient of [`{name}`]. Generated by `#[differentiate]`.");
        let (fwd_doc, adj_doc) = if gen.f.out.is_vector() {
            (
                format!(" Forward (tangent) mode of [`{name}`]: returns its value and the output tangent `J·v` for the input tangents `v`, and writes out-parameters and their tangents. Generated by `#[differentiate]`."),
                format!(" Reverse (adjoint) mode of [`{name}`]: returns its value, writes its out-parameters, and adds `Jᵀ·dret` (and `Jᵀ·dout` for each out-parameter, whose shadow is zero on exit) to the shadows. Generated by `#[differentiate]`."),
            )
        } else {
            (fwd_doc, adj_doc)
        };
        let items = quote! {
            #[doc = #fwd_doc]
            #allow
            #[inline]
            #vis #unsafety fn #fwd_name #generics (#(#fp),*) -> #fwd_ret #where_clause {
                #tangent
            }
            #[doc = #adj_doc]
            #allow
            #[inline]
            #vis #unsafety fn #adj_name #generics (#(#ap,)* #dret_param) -> #rty #where_clause {
                #adjoint
            }
        };
        if gen.f.out.is_vector() {
            let bodies = (!self.stub).then_some((&tangent, &adjoint));
            let jac = crate::jacobian::emit_jacobian(
                func,
                gen,
                bodies,
                self.adjoint_parts.as_ref(),
                &allow,
            );
            return quote!(#items #jac);
        }
        quote! {
            #items
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
    let mut sigs = Signatures::new(ir, &gen);
    sigs.stub = true;
    let body = quote!(::core::unimplemented!(
        "`#[differentiate]` reported an error"
    ));
    sigs.emit(func, &gen, body.clone(), body)
}
