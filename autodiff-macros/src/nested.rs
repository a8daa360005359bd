//! Nested differentiation: a differentiated function whose body calls generated
//! derivatives (`g_grad`, `g_fwd`, `g_adjoint` of an `order = 2`
//! function `g`), e.g. the loss after one gradient step.
//!
//! The body is not lowered to the IR. It runs, as written, on the dual number
//! `Dual<F>` (the rewrite of `second.rs`), with every call of `g`, `g_fwd`,
//! `g_grad` or `g_adjoint` turned into a call of its dual copy — so the
//! derivative of `g_grad(x)` along a tangent is `g`'s Hessian times it
//! (forward over reverse), of `g_fwd` its second directional derivative
//! (forward over forward). `h_fwd` is one such run; `h_adjoint` and `h_grad`
//! run it once per active input (reverse over reverse and over forward, at
//! the cost of a forward-mode gradient: n runs for n inputs).
//!
//! Soundness does not rest on a classification here: every float value of the
//! body is a dual number, so a value that reaches code the rewrite does not
//! know (another function taking `f64`, a method dual numbers lack) is a type
//! error, never a silently passive value.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::visit::Visit;
use syn::visit_mut::VisitMut;

use crate::diag::Diag;
use crate::emit::Gen;
use crate::ir::*;
use crate::second::Rewrite;

/// The suffixes of generated derivatives whose calls make a body nested.
const SUFFIXES: &[&str] = &["_grad", "_fwd", "_adjoint"];

fn derivative_name(name: &str) -> Option<&str> {
    SUFFIXES
        .iter()
        .find_map(|s| name.strip_suffix(s))
        .filter(|base| !base.is_empty())
}

/// The functions `g` whose derivatives the body calls (`g_grad(..)`,
/// `self.g_fwd(..)`), if any.
pub fn nested_callees(block: &syn::Block) -> Vec<String> {
    struct Finder(Vec<String>);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
            if let syn::Expr::Path(p) = &*c.func {
                if let Some(seg) = p.path.segments.last() {
                    if let Some(base) = derivative_name(&seg.ident.to_string()) {
                        self.0.push(base.to_string());
                    }
                }
            }
            syn::visit::visit_expr_call(self, c);
        }
        fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
            if let Some(base) = derivative_name(&m.method.to_string()) {
                self.0.push(base.to_string());
            }
            syn::visit::visit_expr_method_call(self, m);
        }
    }
    let mut f = Finder(Vec::new());
    f.visit_block(block);
    f.0.sort();
    f.0.dedup();
    f.0
}

/// A cast to the other float type (`x as f32` in a body on `f64`) would read the
/// value of a dual number and drop its derivative: rejected (the body is not
/// classified, so also a cast of an integer, `i as f32`, which is rare here).
fn reject_float_casts(func: &syn::ItemFn, ir: &Func, diag: &mut Diag) {
    struct Casts<'a> {
        base: &'a str,
        found: Vec<syn::Type>,
    }
    impl<'ast> Visit<'ast> for Casts<'_> {
        fn visit_expr_cast(&mut self, c: &'ast syn::ExprCast) {
            if let syn::Type::Path(p) = &*c.ty {
                if ["f32", "f64"]
                    .iter()
                    .any(|n| p.path.is_ident(n) && *n != self.base)
                {
                    self.found.push((*c.ty).clone());
                }
            }
            syn::visit::visit_expr_cast(self, c);
        }
    }
    let base = match &ir.float {
        FloatTy::F64 => "f64",
        FloatTy::F32 => "f32",
        FloatTy::Generic(_) => "",
    };
    let mut v = Casts {
        base,
        found: Vec::new(),
    };
    v.visit_block(&func.block);
    for ty in v.found {
        diag.error_spanned(
            &ty,
            format!("`#[differentiate]` does not support casts to `{}` in a function that calls generated derivatives (its body runs on dual numbers); compute in the function's float type", crate::lower::pretty(&ty)),
        );
    }
}

/// One active parameter: its tangent slot(s) in the flattened input.
struct Active<'a> {
    p: &'a Param,
    len: TokenStream,
}

/// The tangent and adjoint bodies of a nested function, for `Signatures::emit`.
pub fn bodies(
    func: &syn::ItemFn,
    gen: &Gen,
    callees: &[String],
    diag: &mut Diag,
) -> Option<(TokenStream, TokenStream)> {
    let ir = gen.f;
    reject_float_casts(func, ir, diag);
    let mut rw = Rewrite::nested(ir, callees);
    let d = rw.dual_ty();
    let (zero, one) = (gen.zero(), gen.one());

    // the body as a closure over the float parameters (a `return` in it returns
    // from the closure; `self` is captured)
    let mut closure_params = Vec::new();
    let mut plain_args = Vec::new();
    let signature = ir
        .params
        .iter()
        .filter(|p| !matches!(p.shape, ParamTy::Field { .. }));
    for (p, arg) in signature.zip(&func.sig.inputs) {
        let syn::FnArg::Typed(pt) = arg else { continue };
        let mut pt = pt.clone();
        pt.attrs.clear();
        rw.visit_pat_type_mut(&mut pt);
        closure_params.push(pt);
        plain_args.push(p);
    }
    let mut body = (*func.block).clone();
    rw.visit_block_mut(&mut body);
    let use_traits = crate::second::use_traits();
    let closure = quote! {
        #use_traits
        let __run = |#(#closure_params),*| -> #d { #body };
    };

    let active: Vec<Active> = ir
        .params
        .iter()
        .filter(|p| p.var.is_some_and(|v| ir.vars[v].wrt))
        .filter_map(|p| {
            let len = crate::second::input_len(p)?;
            Some(Active { p, len })
        })
        .collect();
    if active.is_empty() {
        diag.error(
            func.sig.ident.span(),
            "a function calling generated derivatives needs an active float parameter",
        );
        return None;
    }

    // the call of the closure, its float arguments made dual: `tangent(p, i)` is
    // the tangent of element `i` of parameter `p` (tokens of an `F`)
    let call = |tangent: &dyn Fn(&Param, TokenStream) -> TokenStream| -> TokenStream {
        let mut lets = Vec::new();
        let mut args = Vec::new();
        for p in &plain_args {
            let x = &p.ident;
            let holder = format_ident!("__dual_{}", x);
            let by_ref = crate::second::by_ref(p);
            let wrap = |e: TokenStream| if by_ref { quote!(&#e) } else { e };
            match &p.shape {
                ParamTy::Float => {
                    let t = tangent(p, quote!(0usize));
                    args.push(quote!(::autodiff::__private::Dual::new(#x, #t)));
                }
                ParamTy::Slice => {
                    let t = tangent(p, quote!(__i));
                    lets.push(quote! {
                        let #holder: ::std::vec::Vec<#d> = (0..#x.len())
                            .map(|__i| ::autodiff::__private::Dual::new(#x[__i], #t))
                            .collect();
                    });
                    args.push(wrap(quote!(#holder)));
                }
                ParamTy::Array { len } => {
                    let t = tangent(p, quote!(__i));
                    lets.push(quote! {
                        let #holder: [#d; #len] = ::core::array::from_fn(|__i| {
                            ::autodiff::__private::Dual::new(#x[__i], #t)
                        });
                    });
                    args.push(wrap(quote!(#holder)));
                }
                _ => args.push(quote!(#x)),
            }
        }
        quote!({ #(#lets)* __run(#(#args),*) })
    };
    let is_active = |p: &Param| active.iter().any(|a| std::ptr::eq(a.p, p));

    // `_fwd`: one run along (dx, dy, ..)
    let fwd_call = call(&|p, i| {
        if is_active(p) {
            let dx = format_ident!("d{}", p.ident);
            match p.shape {
                ParamTy::Float => quote!(#dx),
                _ => quote!(#dx[#i]),
            }
        } else {
            zero.clone()
        }
    });
    let tangent = quote! {
        #closure
        let __r: #d = #fwd_call;
        (__r.v, __r.d)
    };

    // `_adjoint`: one run per active input, along the unit vector e_k
    let mut offset = quote!(0usize);
    let mut offsets = Vec::new();
    for a in &active {
        offsets.push(offset.clone());
        let len = &a.len;
        offset = quote!(#offset + #len);
    }
    let total = offset;
    let unit_call = call(
        &|p, i| match active.iter().position(|a| std::ptr::eq(a.p, p)) {
            Some(j) => {
                let o = &offsets[j];
                quote!(if #o + #i == __k { #one } else { #zero })
            }
            None => zero.clone(),
        },
    );
    let mut scatter = Vec::new();
    for (a, o) in active.iter().zip(&offsets) {
        let dx = format_ident!("d{}", a.p.ident);
        let len = &a.len;
        scatter.push(match a.p.shape {
            ParamTy::Float => quote!(if __k == #o { *#dx = *#dx + dret * __r.d; }),
            _ => quote! {
                if #o <= __k && __k < #o + #len {
                    #dx[__k - #o] = #dx[__k - #o] + dret * __r.d;
                }
            },
        });
    }
    let adjoint = quote! {
        #closure
        let __n: usize = #total;
        let mut __value = #zero;
        // at least once: the value of a function of empty slices
        for __k in 0..__n.max(1) {
            let __r: #d = #unit_call;
            __value = __r.v;
            #(#scatter)*
        }
        __value
    };
    Some((tangent, adjoint))
}
