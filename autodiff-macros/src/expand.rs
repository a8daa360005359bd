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
    let Some(mut func) = parse_item(&item, &mut diag) else {
        let errors = diag.check().err().unwrap_or_default();
        return Err(quote!(#errors #item));
    };
    // `#[checkpoint]` on loops is read by the lowering, and not left in the code
    let annotated = func.block.clone();
    strip_checkpoints(&mut func.block);
    let nested = crate::nested::nested_callees(&func.block);
    if !nested.is_empty() {
        return expand_nested(&func, &config, &nested, diag);
    }
    let lowered = lower_fn(&func.sig, &annotated, &config, &mut diag);
    let second_order = config.order.as_ref().is_some_and(|(_, k)| *k == 2);
    if let (true, Some(ir)) = (second_order, &lowered) {
        crate::second::check(&func, ir, &mut diag);
    }
    if let Some(ir) = lowered.as_ref().filter(|ir| ir.out.is_vector()) {
        for p in &ir.params {
            if let ParamTy::Field {
                root,
                kind: FieldKind::Flat { .. },
                deferred: true,
                ..
            } = &p.shape
            {
                diag.error(
                    root.span(),
                    format!("a vector-valued function cannot pass the nested buffer `{root}` whole to a call yet; pass it flat (`{root}.as_flattened()`) or index it"),
                );
            }
        }
    }
    if let Some(ir) = &lowered {
        check_inline(ir, &config.inline, &mut diag);
    }
    let ir = match (diag.check(), lowered) {
        (Ok(()), Some(ir)) => fold_copies(ir).numbered(),
        (checked, lowered) => {
            let errors = checked.err().unwrap_or_default();
            let stubs = lowered
                .map(|f| emit_stubs(&func, &f, second_order))
                .unwrap_or_default();
            return Err(quote!(#errors #func #stubs));
        }
    };
    let analysis = analyze(&ir);
    let gen = Gen {
        f: &ir,
        a: &analysis,
    };
    let items = emit_items(&func, &gen, second_order, &config.inline)?;
    // Calling only `f_grad` is a use of `f`: do not report the original as dead code.
    Ok(quote!(#[allow(dead_code)] #func #items))
}

/// Every name in `inline(..)` is a function the body calls with differentiated
/// arguments (a misspelt name would silently change nothing).
fn check_inline(ir: &Func, inline: &[syn::Ident], diag: &mut Diag) {
    let mut called = Vec::new();
    ir.body.walk_unnumbered(&mut |s| {
        let rhs = match s {
            Stmt::Let { rhs, .. } | Stmt::Assign { rhs, .. } => rhs,
            _ => return,
        };
        if let Rhs::Call(c) = rhs {
            let (Callee::Path { name, .. } | Callee::Method { name, .. }) = &c.callee;
            let scalars = (c.args.iter()).all(|a| !matches!(a, CallArg::Buf { .. }));
            called.push((name.to_string(), scalars));
        }
    });
    for name in inline {
        let calls: Vec<bool> = (called.iter())
            .filter(|(n, _)| name == n)
            .map(|(_, s)| *s)
            .collect();
        if calls.is_empty() {
            diag.error(
                name.span(),
                format!("`inline({name})`: the body calls no function `{name}` with differentiated arguments"),
            );
        } else if !calls.contains(&true) {
            diag.error(
                name.span(),
                format!("`inline({name})`: every call of `{name}` passes a buffer; only functions of scalars (floats and passive values) have the split pair `inline` uses"),
            );
        }
    }
}

/// The binding of a nested buffer's flat buffer (`lower/rows.rs`): `let x__flat:
/// &[F] = flat(&x[..]);`, or for rows of any length the rows gathered, with their
/// offsets `x__off`.
pub(crate) fn flat_primal(
    name: &syn::Ident,
    root: &syn::Ident,
    jagged: bool,
    f: &TokenStream,
) -> TokenStream {
    if !jagged {
        return quote!(let #name: &[#f] = ::autodiff::__private::flat(&#root[..]););
    }
    let off = format_ident!("{}__off", root);
    let acc = format_ident!("__acc_{}", name);
    quote!(
        let #off: ::std::vec::Vec<usize> = ::autodiff::__private::row_offsets(&#root[..]);
        let #acc: ::std::vec::Vec<#f> = #root.concat();
        let #name: &[#f] = &#acc[..];
    )
}

/// The attributes choosing how a loop's reverse gets its values (`reverse/checkpoint.rs`).
pub(crate) const LOOP_ATTRS: [&str; 3] = ["checkpoint", "recompute", "store"];

/// Removes [`LOOP_ATTRS`] from every `for` and `while` loop of `block`.
fn strip_checkpoints(block: &mut syn::Block) {
    fn strip(attrs: &mut Vec<syn::Attribute>) {
        attrs.retain(|a| !LOOP_ATTRS.iter().any(|n| a.path().is_ident(n)));
    }
    struct Strip;
    impl syn::visit_mut::VisitMut for Strip {
        fn visit_expr_for_loop_mut(&mut self, f: &mut syn::ExprForLoop) {
            strip(&mut f.attrs);
            syn::visit_mut::visit_expr_for_loop_mut(self, f);
        }
        fn visit_expr_while_mut(&mut self, w: &mut syn::ExprWhile) {
            strip(&mut w.attrs);
            syn::visit_mut::visit_expr_while_mut(self, w);
        }
    }
    syn::visit_mut::VisitMut::visit_block_mut(&mut Strip, block);
}

/// A body calling generated derivatives (`g_grad(x)`): run on dual numbers
/// (`nested.rs`) instead of lowered.
fn expand_nested(
    func: &syn::ItemFn,
    config: &crate::attr::Config,
    callees: &[String],
    mut diag: Diag,
) -> Result<TokenStream, TokenStream> {
    if let Some((key, 2)) = &config.order {
        diag.error(
            key.span(),
            "`order = 2` is not supported on a function that calls generated derivatives (nested differentiation gives it first derivatives)",
        );
    }
    let lowered = crate::lower::lower_signature(&func.sig, &func.block, config, &mut diag);
    let stubs = |ir: &Func| emit_stubs(func, ir, false);
    let ir = match (diag.check(), lowered) {
        (Ok(()), Some(ir)) => ir,
        (checked, lowered) => {
            let errors = checked.err().unwrap_or_default();
            let stubs = lowered.as_ref().map(stubs).unwrap_or_default();
            return Err(quote!(#errors #func #stubs));
        }
    };
    let analysis = stub_analysis(&ir);
    let gen = Gen {
        f: &ir,
        a: &analysis,
    };
    let mut diag = Diag::default();
    let bodies = crate::nested::bodies(func, &gen, callees, &mut diag);
    let (tangent, adjoint) = match (diag.check(), bodies) {
        (Ok(()), Some(b)) => b,
        (checked, _) => {
            let errors = checked.err().unwrap_or_default();
            let stubs = stubs(&ir);
            return Err(quote!(#errors #func #stubs));
        }
    };
    let items = Signatures::new(&ir, &gen).emit(func, &gen, tangent, adjoint);
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
/// With `order = 2` also `f_hvp`, `f_hessian` and the dual-number copies
/// second-order callers use (`second.rs`).
fn emit_items(
    func: &syn::ItemFn,
    gen: &Gen,
    second_order: bool,
    inline: &[syn::Ident],
) -> Result<TokenStream, TokenStream> {
    let tangent = gen.gen_tangent_body();
    // Split calls (`inline(..)`) in first-order code only: `order = 2` rewrites
    // this adjoint onto dual numbers, whose callees have no dual split pairs; and
    // not around checkpointed loops, whose replays manage the tapes they know.
    let mut checkpoints = false;
    gen.f.body.walk(&mut |_, s| {
        checkpoints |= matches!(
            s,
            Stmt::For {
                checkpoint: Some(_),
                ..
            } | Stmt::While {
                checkpoint: Some(_),
                ..
            }
        );
    });
    let mut st = RevState::default();
    if !second_order && !checkpoints {
        st.split = inline.iter().map(|i| i.to_string()).collect();
    }
    let parts = gen.gen_adjoint_parts(&st);
    let adjoint = parts.body();
    let mut sigs = Signatures::new(gen.f, gen);
    let pair = crate::split::emit(func, gen, &sigs.adj_params, Some(&parts));
    sigs.adjoint_parts = Some(parts);
    let first = sigs.emit(func, gen, tangent, adjoint.clone());
    let second = if second_order {
        crate::second::emit(func, gen, &first, &adjoint, false).map_err(|e| {
            let e = e.to_compile_error();
            quote!(#e #func)
        })?
    } else {
        TokenStream::new()
    };
    Ok(quote!(#first #pair #second))
}

struct Signatures {
    fwd_params: Vec<TokenStream>,
    adj_params: Vec<TokenStream>,
    grad_params: Vec<TokenStream>,
    /// `let` statements creating zeroed shadows inside `_grad`, and the gradient value.
    grad_init: Vec<TokenStream>,
    grad_out: Vec<TokenStream>,
    grad_ty: Vec<TokenStream>,
    /// Struct parameters' field bindings at the start of `_fwd`, and of `_adjoint`
    /// and `_grad` (`lower/structs.rs`).
    fwd_prelude: Vec<TokenStream>,
    adj_prelude: Vec<TokenStream>,
    /// Deferred field shadows added into the shadow struct at the end of `_adjoint`.
    adj_post: Vec<TokenStream>,
    /// The same bindings field by field, for `_jacobian`'s sweeps.
    fields: Vec<crate::jacobian::FieldBind>,
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
            fwd_prelude: vec![],
            adj_prelude: vec![],
            adj_post: vec![],
            fields: vec![],
            stub: false,
            adjoint_parts: None,
        };
        for p in &ir.params {
            if let ParamTy::Field {
                root,
                access,
                kind,
                deferred,
            } = &p.shape
            {
                s.field_prelude(&p.ident, root, access, kind, *deferred, gen);
                continue;
            }
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
                ParamTy::Struct { ty, by_ref, .. } => {
                    let (fwd_ty, borrow) = if *by_ref {
                        (quote!(&#ty), quote!(#x))
                    } else {
                        (quote!(#ty), quote!(&#x))
                    };
                    s.fwd_params.push(quote!(#d: #fwd_ty));
                    s.adj_params.push(quote!(#d: &mut #ty));
                    s.grad_init.push(quote!(
                        let mut #g: #ty = <#ty as ::autodiff::Differentiable<#f>>::zero_like(#borrow);
                        let #d = &mut #g;
                    ));
                    s.grad_ty.push(quote!(#ty));
                }
                ParamTy::Nested {
                    adj_ty,
                    grad_ty,
                    grad_zero,
                    slice,
                } => {
                    s.fwd_params.push(quote!(#d: #ty));
                    s.adj_params.push(quote!(#d: #adj_ty));
                    let borrow = if *slice {
                        quote!(&mut #g[..])
                    } else {
                        quote!(&mut #g)
                    };
                    s.grad_init
                        .push(quote!(let mut #g: #grad_ty = #grad_zero; let #d = #borrow;));
                    s.grad_ty.push(grad_ty.clone());
                }
                ParamTy::Receiver
                | ParamTy::Passive
                | ParamTy::Field { .. }
                | ParamTy::Out { .. } => continue,
            }
            s.grad_out.push(quote!(#g));
        }
        s
    }

    /// `let p__w: &[F] = &p.w[..];` and its shadow's binding, in each function.
    fn field_prelude(
        &mut self,
        name: &syn::Ident,
        root: &syn::Ident,
        access: &TokenStream,
        kind: &FieldKind,
        deferred: bool,
        gen: &Gen,
    ) {
        let f = gen.fty();
        let z = gen.zero();
        let d = format_ident!("d{}", name);
        let acc = format_ident!("__acc_{}", name);
        let droot = format_ident!("d{}", root);
        let mut post = None;
        // the primal binding, then the shadow's in `_fwd` and in `_adjoint`
        let (primal, fwd, adj) = match kind {
            FieldKind::Float | FieldKind::DerefFloat => {
                let star = (*kind == FieldKind::DerefFloat).then(|| quote!(*));
                let adj = if deferred {
                    post =
                        Some(gen.accumulate(&quote!(#star #droot #access), false, &quote!(#acc)));
                    quote!(let mut #acc: #f = #z; let #d: &mut #f = &mut #acc;)
                } else {
                    quote!(let #d: &mut #f = &mut #star #droot #access;)
                };
                (
                    quote!(let #name: #f = #star #root #access;),
                    quote!(let #d: #f = #star #droot #access;),
                    adj,
                )
            }
            FieldKind::Buf => {
                let adj = if deferred {
                    let add = gen.accumulate(&quote!(*__t), false, &quote!(*__a));
                    post = Some(quote!(
                        for (__t, __a) in #droot #access [..].iter_mut().zip(#acc.iter()) { #add }
                    ));
                    quote!(let mut #acc = ::std::vec![#z; #name.len()]; let #d: &mut [#f] = &mut #acc[..];)
                } else {
                    quote!(let #d: &mut [#f] = &mut #droot #access [..];)
                };
                (
                    quote!(let #name: &[#f] = &#root #access [..];),
                    quote!(let #d: &[#f] = &#droot #access [..];),
                    adj,
                )
            }
            FieldKind::Flat { jagged: false } => {
                let adj = if deferred {
                    let add = gen.accumulate(&quote!(*__t), false, &quote!(*__a));
                    post = Some(quote!(
                        for (__t, __a) in ::autodiff::__private::flat_mut(&mut #droot[..]).iter_mut().zip(#acc.iter()) { #add }
                    ));
                    quote!(let mut #acc = ::std::vec![#z; #name.len()]; let #d: &mut [#f] = &mut #acc[..];)
                } else {
                    quote!(let #d: &mut [#f] = ::autodiff::__private::flat_mut(&mut #droot[..]);)
                };
                (
                    flat_primal(name, root, false, &f),
                    quote!(let #d: &[#f] = ::autodiff::__private::flat(&#droot[..]);),
                    adj,
                )
            }
            FieldKind::Flat { jagged: true } => {
                // gathered into one buffer with the rows' offsets; the adjoint
                // scattered back into the rows on exit
                let off = format_ident!("{}__off", root);
                let d_acc = format_ident!("__dacc_{}", name);
                let add = gen.accumulate(&quote!(*__t), false, &quote!(*__a));
                post = Some(quote!(
                    for (__r, __o) in #droot.iter_mut().zip(#off.windows(2)) {
                        for (__t, __a) in __r.iter_mut().zip(#d_acc[__o[0]..__o[1]].iter()) { #add }
                    }
                ));
                let check = quote!(::autodiff::__private::check_rows(&#root[..], &#droot[..], ::core::stringify!(#droot)););
                (
                    flat_primal(name, root, true, &f),
                    quote!(#check let #d_acc: ::std::vec::Vec<#f> = #droot.concat(); let #d: &[#f] = &#d_acc[..];),
                    quote!(#check let mut #d_acc = ::std::vec![#z; #name.len()]; let #d: &mut [#f] = &mut #d_acc[..];),
                )
            }
            FieldKind::Passed => (
                quote!(let #name = &#root #access;),
                quote!(let #d = &#droot #access;),
                quote!(let #d = &mut #droot #access;),
            ),
            FieldKind::Int(ty) => {
                let b = if ty.is_empty() {
                    quote!(let #name = ::autodiff::__private::integer(#root #access);)
                } else {
                    quote!(let #name: #ty = #root #access;)
                };
                (b, quote!(), quote!())
            }
        };
        self.fwd_prelude.push(quote!(#primal #fwd));
        self.adj_prelude.push(quote!(#primal #adj));
        self.adj_post.extend(post.clone());
        self.fields.push(crate::jacobian::FieldBind {
            root: root.clone(),
            primal,
            fwd,
            adj,
            post,
        });
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
        let (fpre, apre, apost) = (&self.fwd_prelude, &self.adj_prelude, &self.adj_post);
        let adj_body = if apost.is_empty() {
            adjoint.clone()
        } else {
            quote!(let __value = { #adjoint }; #(#apost)* __value)
        };
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
                #(#fpre)*
                #tangent
            }
            #[doc = #adj_doc]
            #allow
            #[inline]
            #vis #unsafety fn #adj_name #generics (#(#ap,)* #dret_param) -> #rty #where_clause {
                #(#apre)*
                #adj_body
            }
        };
        if gen.f.out.is_vector() {
            let bodies = (!self.stub).then_some((&tangent, &adjoint));
            let jac = crate::jacobian::emit_jacobian(
                func,
                gen,
                bodies,
                self.adjoint_parts.as_ref(),
                &self.fields,
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
                #(#apre)*
                let dret: #f = #one;
                // The adjoint body again rather than a call to `_adjoint`: an associated
                // function would need `Self::` and a free function must not have it,
                // which the attribute cannot tell apart.
                let __value = { #adjoint };
                #(#apost)*
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
fn emit_stubs(func: &syn::ItemFn, ir: &Func, second_order: bool) -> TokenStream {
    let analysis = stub_analysis(ir);
    let gen = Gen {
        f: ir,
        a: &analysis,
    };
    let mut sigs = Signatures::new(ir, &gen);
    sigs.stub = true;
    sigs.fwd_prelude.clear();
    sigs.adj_prelude.clear();
    sigs.adj_post.clear();
    let body = quote!(::core::unimplemented!(
        "`#[differentiate]` reported an error"
    ));
    let first = sigs.emit(func, &gen, body.clone(), body.clone());
    let second = if second_order {
        crate::second::emit(func, &gen, &first, &body, true).unwrap_or_default()
    } else {
        TokenStream::new()
    };
    let pair = crate::split::emit(func, &gen, &sigs.adj_params, None);
    quote!(#first #pair #second)
}

/// An analysis for emitting signatures only (stubs, nested bodies).
fn stub_analysis(ir: &Func) -> crate::activity::Analysis {
    crate::activity::Analysis {
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
    }
}
