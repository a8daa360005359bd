//! Types and parameters: which types are floats, float buffers or passive, and the
//! function's parameters lowered to variables.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote, ToTokens};
use syn::spanned::Spanned;
use syn::{FnArg, Pat, ReturnType, Type};

use super::Lowerer;
use crate::attr::Config;
use crate::diag::Diag;
use crate::ir::*;

/// The function's float type and the shape of its return value: a float, an array
/// `[F; M]`, a tuple of floats, or `()` when out-parameters hold the results.
pub(super) fn float_of_return(
    sig: &syn::Signature,
    diag: &mut Diag,
) -> Option<(FloatTy, RetShape)> {
    let generics: Vec<String> = sig
        .generics
        .type_params()
        .map(|p| p.ident.to_string())
        .collect();
    const WANT: &str = "`#[differentiate]` needs a function that returns a float (`f64`, `f32` or a generic `T: Float`), an array `[F; M]` or a tuple of floats, or that writes its results into `&mut [F]` out-parameters";
    match &sig.output {
        ReturnType::Default => match out_param_float(sig, &generics) {
            Some(f) => Some((f, RetShape::Unit)),
            None => {
                diag.error(
                    sig.ident.span(),
                    format!("{WANT}; `{}` returns `()`", sig.ident),
                );
                None
            }
        },
        ReturnType::Type(_, ty) => {
            if let Some(f) = float_ty_of(ty, &generics) {
                return Some((f, RetShape::Float));
            }
            match strip_ty(ty) {
                Type::Array(a) => {
                    if let Some(f) = float_ty_of(&a.elem, &generics) {
                        return Some((
                            f,
                            RetShape::Array {
                                len: a.len.to_token_stream(),
                            },
                        ));
                    }
                }
                Type::Tuple(t) if t.elems.is_empty() => {
                    if let Some(f) = out_param_float(sig, &generics) {
                        return Some((f, RetShape::Unit));
                    }
                }
                Type::Tuple(t) => {
                    let floats: Vec<Option<FloatTy>> =
                        t.elems.iter().map(|e| float_ty_of(e, &generics)).collect();
                    if let Some(Some(f)) = floats.first() {
                        let one = floats.iter().all(|g| g.as_ref().is_some_and(|g| g.same(f)));
                        if one {
                            return Some((f.clone(), RetShape::Tuple(floats.len())));
                        }
                    }
                    diag.error(
                        ty.span(),
                        format!(
                            "`#[differentiate]` returns tuples of floats of one type (`(f64, f64)`), found `{}`",
                            pretty(ty)
                        ),
                    );
                    return None;
                }
                _ => {}
            }
            diag.error(ty.span(), format!("{WANT}, found `{}`", pretty(ty)));
            None
        }
    }
}

/// The float type of the first out-parameter (`&mut [F]`, `&mut [F; N]`), if any.
fn out_param_float(sig: &syn::Signature, generics: &[String]) -> Option<FloatTy> {
    sig.inputs.iter().find_map(|a| match a {
        FnArg::Typed(pt) => match strip_ty(&pt.ty) {
            Type::Reference(r) if r.mutability.is_some() => match strip_ty(&r.elem) {
                Type::Slice(s) => float_ty_of(&s.elem, generics),
                Type::Array(a) => float_ty_of(&a.elem, generics),
                _ => None,
            },
            _ => None,
        },
        FnArg::Receiver(_) => None,
    })
}

pub(super) fn float_ty_of(ty: &Type, generics: &[String]) -> Option<FloatTy> {
    match ty {
        Type::Paren(p) => float_ty_of(&p.elem, generics),
        Type::Group(g) => float_ty_of(&g.elem, generics),
        Type::Path(p) if p.qself.is_none() && p.path.segments.len() == 1 => {
            let seg = &p.path.segments[0];
            if !seg.arguments.is_none() {
                return None;
            }
            let name = seg.ident.to_string();
            match name.as_str() {
                "f64" => Some(FloatTy::F64),
                "f32" => Some(FloatTy::F32),
                _ if generics.contains(&name) => Some(FloatTy::Generic(seg.ident.clone())),
                _ => None,
            }
        }
        _ => None,
    }
}

impl FloatTy {
    /// The same float type?
    fn same(&self, o: &FloatTy) -> bool {
        match (self, o) {
            (FloatTy::F64, FloatTy::F64) | (FloatTy::F32, FloatTy::F32) => true,
            (FloatTy::Generic(a), FloatTy::Generic(b)) => a == b,
            _ => false,
        }
    }

    pub(super) fn matches(&self, ty: &Type) -> bool {
        match (self, strip_ty(ty)) {
            (FloatTy::F64, Type::Path(p)) => p.path.is_ident("f64"),
            (FloatTy::F32, Type::Path(p)) => p.path.is_ident("f32"),
            (FloatTy::Generic(g), Type::Path(p)) => p.path.is_ident(g),
            _ => false,
        }
    }
}

pub(super) fn strip_ty(ty: &Type) -> &Type {
    match ty {
        Type::Paren(p) => strip_ty(&p.elem),
        Type::Group(g) => strip_ty(&g.elem),
        t => t,
    }
}

pub(super) fn is_float_prim(ty: &Type) -> bool {
    matches!(strip_ty(ty), Type::Path(p) if p.path.is_ident("f64") || p.path.is_ident("f32"))
}

/// `#[attr] pat: ty`, as written.
fn typed_decl(pt: &syn::PatType) -> TokenStream {
    let (attrs, pat, ty) = (&pt.attrs, &pt.pat, &pt.ty);
    quote!(#(#attrs)* #pat: #ty)
}

/// The element count of an array type `[F; N]` or `&[F; N]`.
fn array_len(ty: &Type) -> Option<&syn::Expr> {
    match strip_ty(ty) {
        Type::Array(a) => Some(&a.len),
        Type::Reference(r) => array_len(&r.elem),
        _ => None,
    }
}

/// `&[usize]`, `[i32; N]`, `Vec<bool>`, `&Vec<u8>`: a container whose elements are not floats.
fn int_container(ty: &Type) -> bool {
    match strip_ty(ty) {
        Type::Reference(r) => int_container(&r.elem),
        Type::Slice(s) => is_int_prim(&s.elem),
        Type::Array(a) => is_int_prim(&a.elem),
        Type::Path(p) => p.path.segments.last().is_some_and(|s| {
            s.ident == "Vec"
                && matches!(&s.arguments, syn::PathArguments::AngleBracketed(a)
                    if a.args.iter().any(|g| matches!(g, syn::GenericArgument::Type(t) if is_int_prim(t))))
        }),
        _ => false,
    }
}

/// `usize`, `i32`, `bool`, …: a primitive that is not a float.
pub(super) fn is_int_prim(ty: &Type) -> bool {
    matches!(strip_ty(ty), Type::Path(p) if p.path.get_ident().is_some_and(|i| matches!(
        i.to_string().as_str(),
        "usize" | "isize" | "u8" | "u16" | "u32" | "u64" | "u128" | "i8" | "i16" | "i32" | "i64" | "i128" | "bool" | "char"
    )))
}

/// Classification of a parameter or annotated type.
pub(super) enum TyClass {
    Float,
    Buf(BufRepr),
    /// A float type other than the function's (mixed precision).
    OtherFloat,
    /// A nested float buffer (`&[[F; N]]`, `&[Vec<F>]`, ...) not read through a flat
    /// buffer: not active, or in a function whose body is not lowered.
    Nested,
    /// A container of floats in a form the contract does not cover (`&Vec<F>`, `&mut [F]`).
    UnsupportedFloatContainer,
    Passive,
}

impl Lowerer<'_> {
    pub(super) fn classify_ty(&self, ty: &Type) -> TyClass {
        let ty = strip_ty(ty);
        if self.float.matches(ty) {
            return TyClass::Float;
        }
        if is_float_prim(ty) {
            return TyClass::OtherFloat;
        }
        match ty {
            Type::Reference(r) => {
                let inner = strip_ty(&r.elem);
                match inner {
                    Type::Slice(s) if self.float.matches(&s.elem) => {
                        if r.mutability.is_some() {
                            TyClass::UnsupportedFloatContainer
                        } else {
                            TyClass::Buf(BufRepr::SliceParam)
                        }
                    }
                    Type::Array(a) if self.float.matches(&a.elem) => {
                        if r.mutability.is_some() {
                            TyClass::UnsupportedFloatContainer
                        } else {
                            TyClass::Buf(BufRepr::ArrayRefParam)
                        }
                    }
                    _ if self.float.matches(inner) => TyClass::UnsupportedFloatContainer,
                    // `&Vec<F>`: read like a slice
                    Type::Path(p) if self.is_vec_of_float(p) && r.mutability.is_none() => {
                        TyClass::Buf(BufRepr::SliceParam)
                    }
                    Type::Path(p) if self.is_vec_of_float(p) => TyClass::UnsupportedFloatContainer,
                    _ => TyClass::Passive,
                }
            }
            Type::Array(a) if self.float.matches(&a.elem) => TyClass::Buf(BufRepr::ArrayParam),
            Type::Path(p) if self.is_vec_of_float(p) => TyClass::Buf(BufRepr::LocalVec),
            _ => TyClass::Passive,
        }
    }

    /// [`Lowerer::classify_ty`] for a parameter, where `&mut [F]` and `&mut [F; N]` are
    /// out-parameters.
    fn classify_param_ty(&self, ty: &Type) -> TyClass {
        if let Type::Reference(r) = strip_ty(ty) {
            if r.mutability.is_some() {
                match strip_ty(&r.elem) {
                    Type::Slice(s) if self.float.matches(&s.elem) => {
                        return TyClass::Buf(BufRepr::OutSlice)
                    }
                    Type::Array(a) if self.float.matches(&a.elem) => {
                        return TyClass::Buf(BufRepr::OutArray)
                    }
                    _ => {}
                }
            }
        }
        if super::rows::nest_shape(ty, &self.float).is_some() {
            return TyClass::Nested;
        }
        self.classify_ty(ty)
    }

    pub(super) fn is_vec_of_float(&self, p: &syn::TypePath) -> bool {
        let Some(seg) = p.path.segments.last() else {
            return false;
        };
        if seg.ident != "Vec" {
            return false;
        }
        match &seg.arguments {
            syn::PathArguments::AngleBracketed(a) => a.args.iter().any(|g| match g {
                syn::GenericArgument::Type(t) => self.float.matches(t),
                _ => false,
            }),
            _ => false,
        }
    }

    pub(super) fn lower_params(&mut self, sig: &syn::Signature, config: &Config) -> Vec<Param> {
        let mut params = Vec::new();
        let mut rejected = false;
        let mut wrt_found = vec![false; config.wrt.as_ref().map_or(0, |w| w.len())];
        let mut fields = Vec::new();
        for arg in &sig.inputs {
            let p = match arg {
                FnArg::Receiver(r) => {
                    let listed = config
                        .wrt
                        .as_ref()
                        .and_then(|w| w.iter().position(|n| n == "self"));
                    if let Some(i) = listed {
                        wrt_found[i] = true;
                    }
                    match self.structs.iter().position(|s| s.name == "self") {
                        Some(si) => {
                            self.lower_struct_param(si, r.span(), r.to_token_stream(), &mut fields)
                        }
                        None => {
                            if let Some(i) = listed {
                                let name = config.wrt.as_ref().map(|w| w[i].clone());
                                if let Some(name) = name {
                                    self.diag.error(
                                        name.span(),
                                        "`wrt(self)` needs a `&self` or `self` receiver",
                                    );
                                }
                            }
                            self.lower_receiver(r)
                        }
                    }
                }
                FnArg::Typed(pt) => match &*pt.pat {
                    Pat::Ident(pi) if pi.subpat.is_none() && pi.by_ref.is_none() => {
                        let listed = config
                            .wrt
                            .as_ref()
                            .and_then(|w| w.iter().position(|n| *n == pi.ident));
                        if let Some(i) = listed {
                            wrt_found[i] = true;
                        }
                        if let Some(bi) = self
                            .nested
                            .iter()
                            .position(|b| !b.local && pi.ident == b.name)
                        {
                            let p = self.lower_nested_param(bi, pt, &pi.ident, &mut fields);
                            params.push(p);
                            continue;
                        }
                        if let Some(si) = self.structs.iter().position(|s| pi.ident == s.name) {
                            let p = self.lower_struct_param(
                                si,
                                pi.ident.span(),
                                typed_decl(pt),
                                &mut fields,
                            );
                            params.push(p);
                            continue;
                        }
                        let wrt = config.wrt.is_none() || listed.is_some();
                        let (p, bad) = self.lower_typed_param(pt, &pi.ident, wrt, listed, config);
                        rejected |= bad;
                        p
                    }
                    other => self.lower_pattern_param(pt, other, params.len()),
                },
            };
            params.push(p);
        }
        params.extend(fields);
        self.check_wrt_names(sig, config, &wrt_found);
        let any_active = params
            .iter()
            .any(|p| p.var.is_some_and(|v| self.vars[v].wrt));
        if !rejected && !any_active && config.wrt.is_none() {
            self.diag.error(
                sig.ident.span(),
                format!(
                    "`{}` has no float parameter to differentiate; `#[differentiate]` needs a parameter of type `{f}`, `&[{f}]` or `[{f}; N]`",
                    sig.ident,
                    f = self.float_ty_tokens()
                ),
            );
        }
        params
    }

    /// A struct parameter named in `wrt(..)` (`lower/structs.rs`): the struct as a
    /// whole (a buffer-like variable whose shadow is `dp`, passed to calls) and one
    /// synthetic parameter per field path the body reads, pushed to `fields`.
    fn lower_struct_param(
        &mut self,
        si: usize,
        span: proc_macro2::Span,
        decl: TokenStream,
        fields: &mut Vec<Param>,
    ) -> Param {
        let name = self.structs[si].name.clone();
        let ident = Ident::new(&name, span);
        let rejected = self.structs[si].rejected;
        let (kind, buf) = if rejected {
            (Kind::Passive, None)
        } else {
            (Kind::Buf, Some(BufRepr::SliceParam))
        };
        let id = self.new_var(&name, kind, span, buf);
        self.vars[id].ident = ident.clone();
        self.vars[id].is_param = true;
        self.vars[id].wrt = !rejected;
        self.bind(&name, id);
        let deferred = self.structs[si].whole
            || self.structs[si]
                .fields
                .iter()
                .any(|f| f.kind == FieldKind::Passed);
        let uses: Vec<(Ident, TokenStream, FieldKind)> = self.structs[si]
            .fields
            .iter()
            .map(|f| (f.ident.clone(), f.access.clone(), f.kind.clone()))
            .collect();
        for (fid, access, kind) in uses {
            let (k, buf) = match kind {
                FieldKind::Float | FieldKind::DerefFloat => (Kind::Float, None),
                FieldKind::Buf | FieldKind::Passed | FieldKind::Flat { .. } => {
                    (Kind::Buf, Some(BufRepr::SliceParam))
                }
                FieldKind::Int(_) => (Kind::Passive, None),
            };
            let v = self.new_var(&fid.to_string(), k, fid.span(), buf);
            self.vars[v].ident = fid.clone();
            self.vars[v].is_param = true;
            self.vars[v].wrt = k != Kind::Passive;
            self.bind(&fid.to_string(), v);
            fields.push(Param {
                var: Some(v),
                ident: fid,
                decl: TokenStream::new(),
                ty: TokenStream::new(),
                shape: ParamTy::Field {
                    root: ident.clone(),
                    access,
                    kind,
                    deferred,
                },
            });
        }
        let s = &self.structs[si];
        Param {
            var: Some(id),
            ident,
            decl,
            ty: s.ty.clone(),
            shape: ParamTy::Struct {
                ty: s.ty.clone(),
                by_ref: s.by_ref,
                whole: s.whole,
            },
        }
    }

    /// An active nested buffer (`lower/rows.rs`): the rows themselves (a buffer-like
    /// variable whose shadow is `dx`, for `x.len()` and calls), and its flat buffer,
    /// a synthetic field pushed to `fields` (with the row offsets of a jagged one).
    fn lower_nested_param(
        &mut self,
        bi: usize,
        pt: &syn::PatType,
        ident: &Ident,
        fields: &mut Vec<Param>,
    ) -> Param {
        let name = ident.to_string();
        let id = self.new_var(&name, Kind::Buf, ident.span(), Some(BufRepr::SliceParam));
        self.vars[id].ident = ident.clone();
        self.vars[id].is_param = true;
        self.vars[id].wrt = true;
        self.bind(&name, id);
        let (flat, off, whole) = {
            let b = &self.nested[bi];
            (b.flat.clone(), b.off.clone(), b.whole)
        };
        let shape = self.nested[bi].shape.clone();
        let jagged = matches!(shape, super::rows::NestShape::Jagged);
        let v = self.new_var(
            &flat.to_string(),
            Kind::Buf,
            ident.span(),
            Some(BufRepr::SliceParam),
        );
        self.vars[v].ident = flat.clone();
        self.vars[v].is_param = true;
        self.vars[v].wrt = true;
        self.bind(&flat.to_string(), v);
        if jagged {
            let o = self.new_var(&off.to_string(), Kind::Passive, ident.span(), None);
            self.vars[o].ident = off.clone();
            self.vars[o].is_param = true;
            self.facts[o].int_elems = true;
            self.bind(&off.to_string(), o);
        }
        fields.push(Param {
            var: Some(v),
            ident: flat,
            decl: TokenStream::new(),
            ty: TokenStream::new(),
            shape: ParamTy::Field {
                root: ident.clone(),
                access: TokenStream::new(),
                kind: FieldKind::Flat { jagged },
                deferred: whole,
            },
        });
        let f = self.float_ty_tokens();
        let z = self.zero_tokens();
        let (adj_ty, grad_ty, grad_zero, slice) = match shape {
            super::rows::NestShape::Rows { n, m: None } => (
                quote!(&mut [[#f; #n]]),
                quote!(::std::vec::Vec<[#f; #n]>),
                quote!(::std::vec![[#z; #n]; #ident.len()]),
                true,
            ),
            super::rows::NestShape::Rows { n, m: Some(m) } => (
                quote!(&mut [[#f; #n]; #m]),
                quote!([[#f; #n]; #m]),
                quote!([[#z; #n]; #m]),
                false,
            ),
            super::rows::NestShape::Jagged => (
                quote!(&mut [::std::vec::Vec<#f>]),
                quote!(::std::vec::Vec<::std::vec::Vec<#f>>),
                quote!(#ident.iter().map(|__r| ::std::vec![#z; __r.len()]).collect::<::std::vec::Vec<_>>()),
                true,
            ),
        };
        Param {
            var: Some(id),
            ident: ident.clone(),
            decl: typed_decl(pt),
            ty: pt.ty.to_token_stream(),
            shape: ParamTy::Nested {
                adj_ty,
                grad_ty,
                grad_zero,
                slice,
            },
        }
    }

    /// `self`, `&self` (passive).
    fn lower_receiver(&mut self, r: &syn::Receiver) -> Param {
        if r.mutability.is_some() && r.reference.is_some() {
            self.diag.error_spanned(
                r,
                "`#[differentiate]` does not support `&mut self` methods; take `&self` and return the new value",
            );
        }
        let id = self.new_var("self", Kind::Passive, r.span(), None);
        self.vars[id].is_param = true;
        self.vars[id].ident = Ident::new("self", r.self_token.span);
        self.bind("self", id);
        Param {
            var: Some(id),
            ident: Ident::new("self", r.self_token.span),
            decl: r.to_token_stream(),
            ty: TokenStream::new(),
            shape: ParamTy::Receiver,
        }
    }

    /// A parameter bound by a pattern (`(a, b): (usize, usize)`): passive only.
    fn lower_pattern_param(&mut self, pt: &syn::PatType, pat: &Pat, index: usize) -> Param {
        if !matches!(self.classify_ty(&pt.ty), TyClass::Passive) {
            self.diag.error(
                pat.span(),
                "`#[differentiate]` needs a plain name for a float parameter; destructure it in the body",
            );
        }
        Param {
            var: None,
            ident: format_ident!("__arg{}", index),
            decl: typed_decl(pt),
            ty: pt.ty.to_token_stream(),
            shape: ParamTy::Passive,
        }
    }

    /// `x: T`: a float, a float buffer or passive, active when `wrt`; also whether it
    /// was rejected (a float type the function cannot take).
    fn lower_typed_param(
        &mut self,
        pt: &syn::PatType,
        ident: &Ident,
        wrt: bool,
        listed: Option<usize>,
        config: &Config,
    ) -> (Param, bool) {
        let (kind, buf, rejected) = match self.classify_param_ty(&pt.ty) {
            TyClass::Float => (Kind::Float, None, false),
            // a `Vec<F>` parameter is read like a slice; its shadows are slices too
            TyClass::Buf(BufRepr::LocalVec) => (Kind::Buf, Some(BufRepr::SliceParam), false),
            TyClass::Buf(r) if r.is_out() => {
                if let Some(name) = listed.and_then(|i| config.wrt.as_ref().map(|w| w[i].clone())) {
                    self.diag.error(
                        name.span(),
                        format!(
                            "`wrt` names `{name}`, an out-parameter (`{}`): it is an output of the function, differentiated by its shadow `d{name}`; `wrt` lists inputs only",
                            pretty(&pt.ty)
                        ),
                    );
                }
                (Kind::Buf, Some(r), false)
            }
            TyClass::Buf(r) => (Kind::Buf, Some(r), false),
            TyClass::OtherFloat => {
                if wrt {
                    self.diag.error_spanned(
                        &pt.ty,
                        format!(
                            "parameter `{ident}` has type `{}` but the function returns `{f}`; `#[differentiate]` differentiates with respect to parameters of the function's float type (take `{f}` and cast it in the body: `{ident} as {}`)",
                            pretty(&pt.ty),
                            pretty(&pt.ty),
                            f = self.float_ty_tokens()
                        ),
                    );
                }
                (Kind::Passive, None, true)
            }
            TyClass::UnsupportedFloatContainer => {
                if wrt {
                    self.diag.error_spanned(
                        &pt.ty,
                        format!(
                            "`#[differentiate]` does not support a parameter of type `{}`; use `&[{f}]`, `[{f}; N]` or `&[{f}; N]` for an input, `&mut [{f}]` or `&mut [{f}; N]` for an output",
                            pretty(&pt.ty),
                            f = self.float_ty_tokens()
                        ),
                    );
                }
                (Kind::Passive, None, true)
            }
            TyClass::Nested if wrt => {
                self.diag.error_spanned(
                    &pt.ty,
                    format!(
                        "`#[differentiate]` does not support a nested buffer parameter (`{}`) in a function calling generated derivatives; pass it flat (`&[{}]`)",
                        pretty(&pt.ty),
                        self.float_ty_tokens()
                    ),
                );
                (Kind::Passive, None, true)
            }
            TyClass::Nested | TyClass::Passive => {
                if let Some(name) = listed.and_then(|i| config.wrt.as_ref().map(|w| w[i].clone())) {
                    self.diag.error(
                        name.span(),
                        format!(
                            "`wrt` names `{name}`, which is not a float parameter; only `{f}`, `&[{f}]`, `[{f}; N]` and struct (`&S`, `S`) parameters can be differentiated",
                            f = self.float_ty_tokens()
                        ),
                    );
                }
                (Kind::Passive, None, false)
            }
        };
        // A float parameter left out of `wrt` is data: a float that is not active.
        // An out-parameter is an output, never an active input.
        let is_out = buf.is_some_and(BufRepr::is_out);
        let active = kind != Kind::Passive && wrt && !is_out;
        let id = self.new_var(&ident.to_string(), kind, ident.span(), buf);
        self.facts[id].int_elems = kind == Kind::Passive && int_container(&pt.ty);
        self.vars[id].ident = ident.clone();
        self.vars[id].is_param = true;
        self.vars[id].wrt = active;
        self.vars[id].poisoned = rejected;
        self.bind(&ident.to_string(), id);
        let shape = match (kind, buf) {
            (Kind::Float, _) => ParamTy::Float,
            (Kind::Buf, Some(BufRepr::SliceParam)) => ParamTy::Slice,
            (Kind::Buf, Some(BufRepr::OutSlice)) => ParamTy::Out { len: None },
            (Kind::Buf, Some(BufRepr::OutArray)) => ParamTy::Out {
                len: array_len(&pt.ty).map(|e| e.to_token_stream()),
            },
            (Kind::Buf, Some(_)) => ParamTy::Array {
                len: array_len(&pt.ty)
                    .map(|e| e.to_token_stream())
                    .unwrap_or_default(),
            },
            _ => ParamTy::Passive,
        };
        let param = Param {
            var: Some(id),
            ident: ident.clone(),
            decl: typed_decl(pt),
            ty: pt.ty.to_token_stream(),
            shape,
        };
        (param, rejected)
    }

    /// Every name in `wrt(..)` must be a parameter.
    fn check_wrt_names(&mut self, sig: &syn::Signature, config: &Config, found: &[bool]) {
        let Some(w) = &config.wrt else { return };
        for (name, found) in w.iter().zip(found) {
            if !found {
                self.diag.error(
                    name.span(),
                    format!(
                        "`wrt` names `{}`, which is not a parameter of `{}`",
                        name, sig.ident
                    ),
                );
            }
        }
    }

    pub fn float_ty_tokens(&self) -> TokenStream {
        match &self.float {
            FloatTy::F64 => quote!(f64),
            FloatTy::F32 => quote!(f32),
            FloatTy::Generic(i) => quote!(#i),
        }
    }

    pub(super) fn zero_pexpr(&self) -> PExpr {
        PExpr::constant(self.zero_tokens())
    }

    pub(super) fn zero_tokens(&self) -> TokenStream {
        match &self.float {
            FloatTy::F64 | FloatTy::F32 => quote!(0.0),
            FloatTy::Generic(i) => quote!(<#i as ::autodiff::__private::Zero>::zero()),
        }
    }

    // ---- variables and scopes ----
}

/// A type as a person writes it (`&Vec<f64>`, not `& Vec < f64 >`).
pub(crate) fn pretty(ty: &Type) -> String {
    let s = ty.to_token_stream().to_string();
    s.replace(" < ", "<")
        .replace("< ", "<")
        .replace(" <", "<")
        .replace(" >", ">")
        .replace("& ", "&")
        .replace(" ,", ",")
        .replace(" ;", ";")
        .replace("[ ", "[")
        .replace(" ]", "]")
        .replace("&mut[", "&mut [")
}
