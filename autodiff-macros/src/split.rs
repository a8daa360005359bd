//! The split pair of a scalar function: `g__split` (its forward sweep, returning
//! its value and the values its reverse sweep reads) and `g__rev` (that reverse
//! sweep, given them), for callers that name `g` in `inline(..)` (see
//! `reverse/split.rs` for the caller's side).
//!
//! Every function whose parameters are scalars or passed through (no buffers, no
//! struct parameters, no out-parameters) and whose result is one float gets the
//! pair, since a caller cannot see whether its callee has one. When `g`'s reverse
//! sweep reads only float variables of its body (straight-line code and loops or
//! branches that keep nothing for it), `g__split` returns those variables and
//! `g__rev` binds them before running the reverse sweep; otherwise `g__split`
//! is the function as written, saving nothing, and `g__rev` is `g_adjoint`'s whole body, so the pair is never
//! less correct than the calls it replaces. An identifier the reverse sweep reads
//! and the pair does not bind is a compile error in the generated code, never a
//! different value: every name the forward sweep binds and the reverse sweep reads
//! must be a saved variable, or the pair falls back.

use proc_macro2::{TokenStream, TokenTree};
use quote::{format_ident, quote};

use crate::emit::Gen;
use crate::ir::*;
use crate::reverse::AdjointParts;

/// The signature shape a split pair needs: scalars in, one float out.
fn has_pair(ir: &Func) -> bool {
    matches!(ir.out.ret, RetShape::Float)
        && ir.out.params.is_empty()
        && ir.params.iter().all(|p| {
            matches!(
                p.shape,
                ParamTy::Receiver | ParamTy::Float | ParamTy::Passive
            )
        })
}

/// `g__split` and `g__rev` when `g`'s signature has the pair's shape (else
/// nothing). `adj_params` are `g_adjoint`'s parameters before `dret`; `parts` its
/// body (`None`: stubs).
pub fn emit(
    func: &syn::ItemFn,
    gen: &Gen,
    adj_params: &[TokenStream],
    parts: Option<&AdjointParts>,
) -> TokenStream {
    if !has_pair(gen.f) {
        return TokenStream::new();
    }
    let allow = quote!(#[allow(dead_code, unreachable_code, unused_mut, unused_variables, unused_assignments, unused_parens, unused_braces, non_snake_case, while_true, clippy::all, clippy::pedantic, clippy::nursery)]);
    let f = gen.fty();
    let name = &func.sig.ident;
    let (split, rev) = (
        format_ident!("{}__split", name),
        format_ident!("{}__rev", name),
    );
    let vis = &func.vis;
    let generics = &func.sig.generics;
    let where_clause = &generics.where_clause;
    let unsafety = &func.sig.unsafety;
    let inputs = &func.sig.inputs;
    let saved = parts.and_then(|p| saved_vars(gen, p));
    let (names, tys): (Vec<_>, Vec<_>) = saved
        .iter()
        .flatten()
        .map(|v| (gen.ident(*v).clone(), gen.fty_in(gen.ty_of(*v))))
        .unzip();
    let (split_body, rev_body) = match (parts, &saved) {
        (None, _) => (
            quote!(::core::unimplemented!()),
            quote!(::core::unimplemented!()),
        ),
        (Some(p), Some(_)) => {
            let (pre, row, post) = (&p.pre, &p.row, &p.post);
            (
                quote!(#pre (__value, (#(#names,)*))),
                quote!(let (#(#names,)*) = __saved; #row #post),
            )
        }
        (Some(p), None) => {
            // the primal as written (`pre` may hold reverse work: a fused loop)
            let (block, body) = (&func.block, p.body());
            (quote!(((|| #block)(), ())), quote!(let _ = { #body };))
        }
    };
    quote! {
        #[doc(hidden)]
        #allow
        #[inline]
        #vis #unsafety fn #split #generics (#inputs) -> (#f, (#(#tys,)*)) #where_clause {
            #split_body
        }
        #[doc(hidden)]
        #allow
        #[inline]
        #vis #unsafety fn #rev #generics (#(#adj_params,)* __saved: (#(#tys,)*), dret: #f) #where_clause {
            #rev_body
        }
    }
}

/// The float variables of the function body that the reverse sweep reads, when
/// those are all it reads of the forward sweep's bindings.
fn saved_vars(gen: &Gen, parts: &AdjointParts) -> Option<Vec<VarId>> {
    if !parts.separable {
        return None;
    }
    // items declared in the body (`const K: f64 = 2.0;`) are names the reverse
    // sweep may read that no `let` binds
    let mut pre = Vec::new();
    idents(&parts.pre, &mut pre);
    const ITEMS: [&str; 11] = [
        "const",
        "static",
        "fn",
        "struct",
        "enum",
        "union",
        "use",
        "type",
        "trait",
        "mod",
        "macro_rules",
    ];
    if pre.iter().any(|i| ITEMS.iter().any(|k| i == k)) {
        return None;
    }
    let mut read = Vec::new();
    idents(&parts.row, &mut read);
    idents(&parts.post, &mut read);
    let mut bound = Vec::new();
    let_bound(&parts.pre, &mut bound);
    let f = gen.f;
    let mut saved = Vec::new();
    for b in bound.iter().filter(|b| read.contains(b)) {
        let mut vars = (0..f.vars.len()).filter(|&v| gen.ident(v) == b);
        let v = vars.next()?;
        let ok = vars.next().is_none()
            && !f.vars[v].is_param
            && f.vars[v].block == 0
            && f.vars[v].kind == Kind::Float;
        if !ok {
            return None;
        }
        if !saved.contains(&v) {
            saved.push(v);
        }
    }
    // a tuple the float tape takes (`__private::Saved`): up to 8 of `F`
    let own = |v: &VarId| f.ty_of(*v) == &f.float;
    (saved.len() <= 8 && saved.iter().all(own)).then_some(saved)
}

/// Every identifier in `t`.
fn idents(t: &TokenStream, out: &mut Vec<proc_macro2::Ident>) {
    for tt in t.clone() {
        match tt {
            TokenTree::Ident(i) => out.push(i),
            TokenTree::Group(g) => idents(&g.stream(), out),
            _ => {}
        }
    }
}

/// Every identifier a `let` pattern in `t` binds (at any depth; more than the
/// function body's, which only makes the pair fall back more often).
fn let_bound(t: &TokenStream, out: &mut Vec<proc_macro2::Ident>) {
    let mut in_pattern = false;
    for tt in t.clone() {
        match tt {
            TokenTree::Ident(i) if i == "let" => in_pattern = true,
            TokenTree::Ident(i) if in_pattern && i != "mut" && i != "ref" => out.push(i),
            TokenTree::Ident(_) if in_pattern => {}
            TokenTree::Punct(p) if in_pattern && matches!(p.as_char(), '=' | ':' | ';') => {
                in_pattern = false;
            }
            TokenTree::Group(g) if in_pattern => {
                idents(&g.stream(), out);
            }
            TokenTree::Group(g) => let_bound(&g.stream(), out),
            _ => {}
        }
    }
}
