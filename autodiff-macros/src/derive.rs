//! `#[derive(Differentiable)]`: the facade's `Differentiable<F>` for a struct, field
//! by field in declaration order, from the fields' types as written.
//!
//! Each field's type is read structurally: the float `F`, `Vec<_>`, `[_; N]`,
//! `Box<_>` and tuples of those are walked element by element; a type known to
//! hold no float (integers, `bool`, `String`, containers of those) is carried
//! along (cloned by `zero_like`); any other named type is taken for a nested
//! `Differentiable` (a bound the compiler checks, so a wrong guess does not
//! compile). A float behind a type the derive cannot see into (`Option<f64>`,
//! `Rc<f64>`, `HashMap<K, f64>`) is an error: its floats would be silently left
//! out. `#[differentiable(skip)]` carries a field of any type along.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Data, DeriveInput, Fields, GenericArgument, PathArguments, Type};

use crate::diag::Diag;

pub fn derive(input: TokenStream) -> TokenStream {
    let mut diag = Diag::default();
    let out = match syn::parse2::<DeriveInput>(input) {
        Ok(item) => expand(&item, &mut diag),
        Err(e) => return e.to_compile_error(),
    };
    match diag.check() {
        Ok(()) => out.unwrap_or_default(),
        Err(errors) => errors,
    }
}

/// What a type is, as far as its floats go.
enum Shape {
    /// The float type itself.
    Float,
    /// No floats: cloned by `zero_like`, skipped by the rest.
    Carried,
    /// `Vec<T>`, `Box<[T]>`: elements in order.
    Seq(Box<Shape>),
    /// `[T; N]`.
    Array(Box<Shape>),
    /// `Box<T>`.
    Boxed(Box<Shape>),
    /// `(A, B, ..)`.
    Tuple(Vec<Shape>),
    /// Another type, which must implement `Differentiable<F>`.
    Nested(Type),
}

struct Ctx<'a> {
    float: TokenStream,
    /// The float when it is a type parameter.
    float_param: Option<String>,
    params: Vec<String>,
    diag: &'a mut Diag,
    bounds: Vec<Type>,
}

fn expand(item: &DeriveInput, diag: &mut Diag) -> Option<TokenStream> {
    let fields = match &item.data {
        Data::Struct(s) => &s.fields,
        Data::Enum(e) => {
            diag.error(
                e.enum_token.span,
                "`#[derive(Differentiable)]` supports structs only; an enum's floats depend on its variant, so it has no fixed vector of floats",
            );
            return None;
        }
        Data::Union(u) => {
            diag.error(
                u.union_token.span,
                "`#[derive(Differentiable)]` supports structs only, not unions",
            );
            return None;
        }
    };
    let params: Vec<String> = item
        .generics
        .type_params()
        .map(|p| p.ident.to_string())
        .collect();
    let (float, float_param) = float_of(item, fields, diag)?;
    let mut cx = Ctx {
        float,
        float_param,
        params,
        diag,
        bounds: Vec::new(),
    };
    let mut members = Vec::new();
    let mut shapes = Vec::new();
    for (i, field) in fields.iter().enumerate() {
        let member = match &field.ident {
            Some(id) => quote!(#id),
            None => {
                let idx = syn::Index::from(i);
                quote!(#idx)
            }
        };
        let shape = if skipped(field, cx.diag) {
            Shape::Carried
        } else {
            cx.shape(&field.ty)
        };
        members.push(member);
        shapes.push(shape);
    }
    let f = cx.float.clone();
    let tr = quote!(::autodiff::Differentiable<#f>);
    let zero_fields: Vec<TokenStream> = members
        .iter()
        .zip(&shapes)
        .map(|(m, s)| {
            let z = cx.zero(s, quote!(&self.#m), 0);
            quote!(#m: #z)
        })
        .collect();
    let lens: Vec<TokenStream> = members
        .iter()
        .zip(&shapes)
        .map(|(m, s)| cx.len(s, quote!(&self.#m), 0))
        .collect();
    let writes: Vec<TokenStream> = members
        .iter()
        .zip(&shapes)
        .map(|(m, s)| cx.write(s, quote!(&self.#m), 0))
        .collect();
    let reads: Vec<TokenStream> = members
        .iter()
        .zip(&shapes)
        .map(|(m, s)| cx.read(s, quote!(&mut self.#m), 0))
        .collect();
    let construct = match fields {
        Fields::Named(_) | Fields::Unnamed(_) => quote!(Self { #(#zero_fields),* }),
        Fields::Unit => quote!(Self),
    };
    let name = &item.ident;
    let (impl_g, ty_g, where_c) = item.generics.split_for_impl();
    let mut preds: Vec<TokenStream> = where_c
        .map(|w| w.predicates.iter().map(|p| p.to_token_stream()).collect())
        .unwrap_or_default();
    for b in &cx.bounds {
        preds.push(quote!(#b: #tr));
    }
    if cx.float_param.is_some() {
        preds.push(quote!(#f: ::autodiff::Float));
    }
    let dual = dualize_impl(item, fields, &members, &shapes, &cx);
    Some(quote! {
        #dual
        #[automatically_derived]
        #[allow(unused_variables, unused_mut, clippy::all)]
        impl #impl_g #tr for #name #ty_g where #(#preds,)* {
            fn zero_like(&self) -> Self {
                #construct
            }
            fn float_len(&self) -> usize {
                0usize #(+ #lens)*
            }
            fn write_floats(&self, __out: &mut [#f]) {
                let mut __at = 0usize;
                #(#writes)*
            }
            fn read_floats(&mut self, __src: &[#f]) {
                let mut __at = 0usize;
                #(#reads)*
            }
        }
    })
}

/// For a struct generic over its float type `T`, the hidden
/// `Dualize<T>` (`__private`, `src/dual.rs`): the struct as `S<Dual<T>>`, which
/// second-order code (`order = 2`) passes to the dual copies of differentiated
/// calls. Not for a struct of a concrete float type, which cannot hold dual numbers.
fn dualize_impl(
    item: &DeriveInput,
    fields: &Fields,
    members: &[TokenStream],
    shapes: &[Shape],
    cx: &Ctx,
) -> Option<TokenStream> {
    let t = cx.float_param.as_ref()?;
    let t = syn::Ident::new(t, Span::call_site());
    let mut nested = Vec::new();
    for s in shapes {
        s.nested_types(&mut nested);
    }
    // a nested type must be generic over `T` too (its copy on `Dual<T>`)
    let mentions = |ty: &Type| {
        let text = ty.to_token_stream().to_string();
        text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .any(|w| t == w)
    };
    if !nested.iter().all(mentions) || matches!(fields, Fields::Unit) {
        return None;
    }
    let name = &item.ident;
    let (impl_g, ty_g, where_c) = item.generics.split_for_impl();
    let tr = quote!(::autodiff::__private::Dualize<#t>);
    let dual_of = |ty: &Type| -> Type {
        let mut ty = ty.clone();
        DualSubst(&t).visit_type_mut(&mut ty);
        ty
    };
    let this: Type = syn::parse2(quote!(#name #ty_g)).ok()?;
    let dual_ty = dual_of(&this);
    let Type::Path(mut path) = dual_ty.clone() else {
        return None;
    };
    for seg in path.path.segments.iter_mut() {
        if let PathArguments::AngleBracketed(a) = &mut seg.arguments {
            a.colon2_token = Some(Default::default());
        }
    }
    let ctor = &path.path;
    let mut preds: Vec<TokenStream> = where_c
        .map(|w| w.predicates.iter().map(|p| p.to_token_stream()).collect())
        .unwrap_or_default();
    preds.push(quote!(#t: ::autodiff::Float));
    for ty in &nested {
        let d = dual_of(ty);
        preds.push(quote!(#ty: ::autodiff::__private::Dualize<#t, Dual = #d>));
    }
    let mut duals = Vec::new();
    let mut zeros = Vec::new();
    let mut adds = Vec::new();
    for (m, s) in members.iter().zip(shapes) {
        let d = cx.dual(s, quote!(&self.#m), quote!(&__t.#m), 0);
        let z = cx.dual_zero(s, quote!(&self.#m), 0);
        duals.push(quote!(#m: #d));
        zeros.push(quote!(#m: #z));
        adds.push(cx.add_parts(s, quote!(&mut self.#m), quote!(&__d.#m), 0));
    }
    Some(quote! {
        #[automatically_derived]
        #[doc(hidden)]
        #[allow(unused_variables, unused_mut, clippy::all)]
        impl #impl_g #tr for #name #ty_g where #(#preds,)* {
            type Dual = #dual_ty;
            fn dualize(&self, __t: &Self) -> Self::Dual {
                #ctor { #(#duals),* }
            }
            fn dual_zero(&self) -> Self::Dual {
                #ctor { #(#zeros),* }
            }
            fn add_parts(&mut self, __d: &Self::Dual, __tangent: bool) {
                #(#adds)*
            }
        }
    })
}

/// Replaces the float type parameter `T` by `Dual<T>` in a type.
struct DualSubst<'a>(&'a syn::Ident);

impl syn::visit_mut::VisitMut for DualSubst<'_> {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if let Type::Path(p) = ty {
            if p.qself.is_none() && p.path.is_ident(self.0) {
                let t = self.0;
                *ty = syn::parse_quote!(::autodiff::__private::Dual<#t>);
                return;
            }
        }
        // an array length is a constant expression: left as it is
        if let Type::Array(a) = ty {
            self.visit_type_mut(&mut a.elem);
            return;
        }
        syn::visit_mut::visit_type_mut(self, ty);
    }
}

impl Shape {
    fn nested_types(&self, out: &mut Vec<Type>) {
        match self {
            Shape::Float | Shape::Carried => {}
            Shape::Seq(s) | Shape::Array(s) | Shape::Boxed(s) => s.nested_types(out),
            Shape::Tuple(items) => items.iter().for_each(|s| s.nested_types(out)),
            Shape::Nested(ty) => out.push(ty.clone()),
        }
    }
}

impl Ctx<'_> {
    /// `Dualize::dualize` of `e` along `t` (reference expressions).
    fn dual(&self, s: &Shape, e: TokenStream, t: TokenStream, depth: usize) -> TokenStream {
        let f = &self.float;
        let (v, w) = (format_ident!("__e{}", depth), format_ident!("__t{}", depth));
        match s {
            Shape::Float => quote!(::autodiff::__private::Dual::new(*(#e), *(#t))),
            Shape::Carried => quote!(::core::clone::Clone::clone(#e)),
            Shape::Seq(inner) => {
                let d = self.dual(inner, quote!(#v), quote!(#w), depth + 1);
                quote!({
                    ::core::assert_eq!((#e).len(), (#t).len(), "the direction of a struct parameter must have its shape");
                    (#e).iter().zip((#t).iter()).map(|(#v, #w)| #d).collect()
                })
            }
            Shape::Array(inner) => {
                let i = format_ident!("__i{}", depth);
                let d = self.dual(inner, quote!(&(#e)[#i]), quote!(&(#t)[#i]), depth + 1);
                quote!(::core::array::from_fn(|#i| #d))
            }
            Shape::Boxed(inner) => {
                let d = self.dual(inner, quote!(&**(#e)), quote!(&**(#t)), depth + 1);
                quote!(::std::boxed::Box::new(#d))
            }
            Shape::Tuple(items) => {
                let ds = items.iter().enumerate().map(|(i, s)| {
                    let i = syn::Index::from(i);
                    self.dual(s, quote!(&(#e).#i), quote!(&(#t).#i), depth + 1)
                });
                quote!((#(#ds,)*))
            }
            Shape::Nested(ty) => {
                quote_spanned!(ty.span()=> <#ty as ::autodiff::__private::Dualize<#f>>::dualize(#e, #t))
            }
        }
    }

    /// `Dualize::dual_zero` of `e` (a reference expression).
    fn dual_zero(&self, s: &Shape, e: TokenStream, depth: usize) -> TokenStream {
        let f = &self.float;
        let v = format_ident!("__e{}", depth);
        match s {
            Shape::Float => {
                quote!(::autodiff::__private::Dual::cst(<#f as ::autodiff::num_traits::Zero>::zero()))
            }
            Shape::Carried => quote!(::core::clone::Clone::clone(#e)),
            Shape::Seq(inner) => {
                let z = self.dual_zero(inner, quote!(#v), depth + 1);
                quote!((#e).iter().map(|#v| #z).collect())
            }
            Shape::Array(inner) => {
                let i = format_ident!("__i{}", depth);
                let z = self.dual_zero(inner, quote!(&(#e)[#i]), depth + 1);
                quote!(::core::array::from_fn(|#i| #z))
            }
            Shape::Boxed(inner) => {
                let z = self.dual_zero(inner, quote!(&**(#e)), depth + 1);
                quote!(::std::boxed::Box::new(#z))
            }
            Shape::Tuple(items) => {
                let zs = items.iter().enumerate().map(|(i, s)| {
                    let i = syn::Index::from(i);
                    self.dual_zero(s, quote!(&(#e).#i), depth + 1)
                });
                quote!((#(#zs,)*))
            }
            Shape::Nested(ty) => {
                quote_spanned!(ty.span()=> <#ty as ::autodiff::__private::Dualize<#f>>::dual_zero(#e))
            }
        }
    }

    /// `Dualize::add_parts` into `e` (a `&mut` expression) from `d` (a reference
    /// to its dual copy); `__tangent` picks the part.
    fn add_parts(&self, s: &Shape, e: TokenStream, d: TokenStream, depth: usize) -> TokenStream {
        let f = &self.float;
        let (v, w) = (format_ident!("__e{}", depth), format_ident!("__d{}", depth));
        match s {
            Shape::Float => quote! {
                {
                    let __p: #f = if __tangent { (#d).d } else { (#d).v };
                    *(#e) = *(#e) + __p;
                }
            },
            Shape::Carried => quote!(),
            Shape::Seq(inner) | Shape::Array(inner) => {
                let a = self.add_parts(inner, quote!(#v), quote!(#w), depth + 1);
                quote!(for (#v, #w) in (#e).iter_mut().zip((#d).iter()) { #a })
            }
            Shape::Boxed(inner) => {
                self.add_parts(inner, quote!(&mut **(#e)), quote!(&**(#d)), depth + 1)
            }
            Shape::Tuple(items) => {
                let adds = items.iter().enumerate().map(|(i, s)| {
                    let i = syn::Index::from(i);
                    self.add_parts(s, quote!(&mut (#e).#i), quote!(&(#d).#i), depth + 1)
                });
                quote!(#(#adds)*)
            }
            Shape::Nested(ty) => {
                quote_spanned!(ty.span()=> <#ty as ::autodiff::__private::Dualize<#f>>::add_parts(#e, #d, __tangent);)
            }
        }
    }
}

/// `#[differentiable(skip)]` on a field.
fn skipped(field: &syn::Field, diag: &mut Diag) -> bool {
    let mut skip = false;
    for attr in &field.attrs {
        if !attr.path().is_ident("differentiable") {
            continue;
        }
        let r = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("skip") {
                skip = true;
                Ok(())
            } else {
                Err(meta.error("unknown `differentiable` option; the only one is `skip`"))
            }
        });
        if let Err(e) = r {
            diag.error(e.span(), e.to_string());
        }
    }
    skip
}

/// The float type: a type parameter bounded by `Float`, else the one of `f64`
/// and `f32` the fields mention, else `f64`.
fn float_of(
    item: &DeriveInput,
    fields: &Fields,
    diag: &mut Diag,
) -> Option<(TokenStream, Option<String>)> {
    let is_float_bound = |b: &syn::TypeParamBound| {
        matches!(b, syn::TypeParamBound::Trait(t)
            if t.path.segments.last().is_some_and(|s| s.ident == "Float"))
    };
    let mut generic = None;
    for p in item.generics.type_params() {
        if p.bounds.iter().any(is_float_bound) {
            generic.get_or_insert(p.ident.clone());
        }
    }
    if let Some(w) = &item.generics.where_clause {
        for pred in &w.predicates {
            if let syn::WherePredicate::Type(t) = pred {
                if let Type::Path(p) = &t.bounded_ty {
                    if let Some(id) = p.path.get_ident() {
                        if t.bounds.iter().any(is_float_bound) {
                            generic.get_or_insert(id.clone());
                        }
                    }
                }
            }
        }
    }
    if let Some(g) = generic {
        return Some((quote!(#g), Some(g.to_string())));
    }
    let mut seen: Vec<(String, Span)> = Vec::new();
    for field in fields {
        prims_in(&field.ty, &mut seen);
    }
    let has = |n: &str| seen.iter().find(|(s, _)| s == n).map(|(_, sp)| *sp);
    match (has("f64"), has("f32")) {
        (Some(_), Some(sp)) => {
            diag.error(
                sp,
                "`#[derive(Differentiable)]` needs one float type per struct; this struct has both `f64` and `f32` fields (mark a field `#[differentiable(skip)]` to carry it along)",
            );
            None
        }
        (None, Some(_)) => Some((quote!(f32), None)),
        _ => Some((quote!(f64), None)),
    }
}

/// Every `f64`/`f32` mentioned in `ty`.
fn prims_in(ty: &Type, out: &mut Vec<(String, Span)>) {
    struct V<'a>(&'a mut Vec<(String, Span)>);
    impl<'ast> syn::visit::Visit<'ast> for V<'_> {
        fn visit_type_path(&mut self, p: &'ast syn::TypePath) {
            if let Some(id) = p.path.get_ident() {
                if id == "f64" || id == "f32" {
                    self.0.push((id.to_string(), id.span()));
                }
            }
            syn::visit::visit_type_path(self, p);
        }
    }
    syn::visit::Visit::visit_type(&mut V(out), ty);
}

const PASSIVE: &[&str] = &[
    "usize",
    "isize",
    "u8",
    "u16",
    "u32",
    "u64",
    "u128",
    "i8",
    "i16",
    "i32",
    "i64",
    "i128",
    "bool",
    "char",
    "String",
    "str",
    "PhantomData",
];

/// Containers the derive cannot see into (their floats would be lost).
const OPAQUE: &[&str] = &[
    "Option",
    "Result",
    "Rc",
    "Arc",
    "RefCell",
    "Cell",
    "Mutex",
    "RwLock",
    "HashMap",
    "BTreeMap",
    "HashSet",
    "BTreeSet",
    "VecDeque",
    "LinkedList",
    "BinaryHeap",
    "Weak",
    "Cow",
];

impl Ctx<'_> {
    fn is_float(&self, ty: &Type) -> bool {
        match strip(ty) {
            Type::Path(p) if p.qself.is_none() => {
                let f = self.float.to_string();
                p.path.get_ident().is_some_and(|i| *i == f)
            }
            _ => false,
        }
    }

    /// Whether `ty` surely holds no float of any kind.
    fn surely_passive(&self, ty: &Type) -> bool {
        match strip(ty) {
            Type::Tuple(t) => t.elems.iter().all(|e| self.surely_passive(e)),
            Type::Array(a) => self.surely_passive(&a.elem),
            Type::Slice(s) => self.surely_passive(&s.elem),
            Type::Reference(r) => self.surely_passive(&r.elem),
            Type::Path(p) if p.qself.is_none() => {
                let Some(last) = p.path.segments.last() else {
                    return false;
                };
                let name = last.ident.to_string();
                if name == "PhantomData" {
                    return true;
                }
                let args_passive = match &last.arguments {
                    PathArguments::None => true,
                    PathArguments::AngleBracketed(a) => a.args.iter().all(|g| match g {
                        GenericArgument::Type(t) => self.surely_passive(t),
                        _ => true,
                    }),
                    PathArguments::Parenthesized(_) => false,
                };
                let container =
                    OPAQUE.contains(&name.as_str()) || matches!(name.as_str(), "Vec" | "Box");
                (PASSIVE.contains(&name.as_str()) || container) && args_passive
            }
            _ => false,
        }
    }

    fn shape(&mut self, ty: &Type) -> Shape {
        let ty = strip(ty);
        if self.is_float(ty) {
            return Shape::Float;
        }
        if self.surely_passive(ty) {
            return Shape::Carried;
        }
        match ty {
            Type::Array(a) => Shape::Array(Box::new(self.shape(&a.elem))),
            Type::Tuple(t) if t.elems.is_empty() => Shape::Carried,
            Type::Tuple(t) => Shape::Tuple(t.elems.iter().map(|e| self.shape(e)).collect()),
            Type::Path(p) if p.qself.is_none() => {
                let last = p.path.segments.last().expect("a path has a segment");
                let name = last.ident.to_string();
                let single = match &last.arguments {
                    PathArguments::AngleBracketed(a) if a.args.len() == 1 => match &a.args[0] {
                        GenericArgument::Type(t) => Some(t),
                        _ => None,
                    },
                    _ => None,
                };
                if p.path.get_ident().is_some_and(|i| i == "f64" || i == "f32") {
                    self.diag.error_spanned(
                        ty,
                        format!(
                            "this struct's float type is `{}`, but this field is `{}`; `#[derive(Differentiable)]` needs one float type per struct (mark the field `#[differentiable(skip)]` to carry it along)",
                            self.float,
                            ty.to_token_stream()
                        ),
                    );
                    return Shape::Carried;
                }
                match (name.as_str(), single) {
                    ("Vec", Some(t)) => return Shape::Seq(Box::new(self.shape(t))),
                    ("Box", Some(Type::Slice(s))) => {
                        return Shape::Seq(Box::new(self.shape(&s.elem)))
                    }
                    ("Box", Some(t)) => return Shape::Boxed(Box::new(self.shape(t))),
                    _ => {}
                }
                if OPAQUE.contains(&name.as_str()) {
                    self.diag.error_spanned(
                        ty,
                        format!(
                            "`#[derive(Differentiable)]` cannot see into `{name}`, which may hold floats (`{}`); they would be left out of the gradient. Use `F`, `Vec<_>`, `[_; N]`, `Box<_>` or a nested `Differentiable` struct, or mark the field `#[differentiable(skip)]` if it is not a parameter",
                            pretty(ty)
                        ),
                    );
                    return Shape::Carried;
                }
                if self.mentions_param(ty) {
                    self.bounds.push(ty.clone());
                }
                Shape::Nested(ty.clone())
            }
            _ => {
                self.diag.error_spanned(
                    ty,
                    format!(
                        "`#[derive(Differentiable)]` cannot tell the floats of a field of type `{}`; use `F`, `Vec<_>`, `[_; N]`, `Box<_>` or a nested `Differentiable` struct, or mark the field `#[differentiable(skip)]`",
                        pretty(ty)
                    ),
                );
                Shape::Carried
            }
        }
    }

    fn mentions_param(&self, ty: &Type) -> bool {
        let text = ty.to_token_stream().to_string();
        text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .any(|w| self.params.iter().any(|p| p == w))
    }

    /// `zero_like` of `e` (a reference expression).
    fn zero(&self, s: &Shape, e: TokenStream, depth: usize) -> TokenStream {
        let f = &self.float;
        let v = format_ident!("__e{}", depth);
        match s {
            Shape::Float => quote!(<#f as ::autodiff::num_traits::Zero>::zero()),
            Shape::Carried => quote!(::core::clone::Clone::clone(#e)),
            Shape::Seq(inner) => {
                let z = self.zero(inner, quote!(#v), depth + 1);
                quote!((#e).iter().map(|#v| #z).collect())
            }
            Shape::Array(inner) => {
                let i = format_ident!("__i{}", depth);
                let z = self.zero(inner, quote!(&(#e)[#i]), depth + 1);
                quote!(::core::array::from_fn(|#i| #z))
            }
            Shape::Boxed(inner) => {
                let z = self.zero(inner, quote!(&**(#e)), depth + 1);
                quote!(::std::boxed::Box::new(#z))
            }
            Shape::Tuple(items) => {
                let zs = items.iter().enumerate().map(|(i, s)| {
                    let i = syn::Index::from(i);
                    self.zero(s, quote!(&(#e).#i), depth + 1)
                });
                quote!((#(#zs,)*))
            }
            Shape::Nested(ty) => {
                quote_spanned!(ty.span()=> <#ty as ::autodiff::Differentiable<#f>>::zero_like(#e))
            }
        }
    }

    fn len(&self, s: &Shape, e: TokenStream, depth: usize) -> TokenStream {
        let f = &self.float;
        let v = format_ident!("__e{}", depth);
        match s {
            Shape::Float => quote!(1usize),
            Shape::Carried => quote!(0usize),
            Shape::Seq(inner) | Shape::Array(inner) => match &**inner {
                Shape::Float => quote!((#e).len()),
                Shape::Carried => quote!(0usize),
                _ => {
                    let l = self.len(inner, quote!(#v), depth + 1);
                    quote!((#e).iter().map(|#v| #l).sum::<usize>())
                }
            },
            Shape::Boxed(inner) => self.len(inner, quote!(&**(#e)), depth + 1),
            Shape::Tuple(items) => {
                let ls = items.iter().enumerate().map(|(i, s)| {
                    let i = syn::Index::from(i);
                    self.len(s, quote!(&(#e).#i), depth + 1)
                });
                quote!((0usize #(+ #ls)*))
            }
            Shape::Nested(ty) => {
                quote_spanned!(ty.span()=> <#ty as ::autodiff::Differentiable<#f>>::float_len(#e))
            }
        }
    }

    fn write(&self, s: &Shape, e: TokenStream, depth: usize) -> TokenStream {
        let f = &self.float;
        let v = format_ident!("__e{}", depth);
        match s {
            Shape::Float => quote! { __out[__at] = *(#e); __at += 1; },
            Shape::Carried => quote!(),
            Shape::Seq(inner) | Shape::Array(inner) => match &**inner {
                Shape::Float => quote! {
                    let __n = (#e).len();
                    __out[__at..__at + __n].copy_from_slice(&(#e)[..]);
                    __at += __n;
                },
                Shape::Carried => quote!(),
                _ => {
                    let w = self.write(inner, quote!(#v), depth + 1);
                    quote!(for #v in (#e).iter() { #w })
                }
            },
            Shape::Boxed(inner) => self.write(inner, quote!(&**(#e)), depth + 1),
            Shape::Tuple(items) => {
                let ws = items.iter().enumerate().map(|(i, s)| {
                    let i = syn::Index::from(i);
                    self.write(s, quote!(&(#e).#i), depth + 1)
                });
                quote!(#(#ws)*)
            }
            Shape::Nested(ty) => quote_spanned! {ty.span()=>
                let __n = <#ty as ::autodiff::Differentiable<#f>>::float_len(#e);
                <#ty as ::autodiff::Differentiable<#f>>::write_floats(#e, &mut __out[__at..__at + __n]);
                __at += __n;
            },
        }
    }

    fn read(&self, s: &Shape, e: TokenStream, depth: usize) -> TokenStream {
        let f = &self.float;
        let v = format_ident!("__e{}", depth);
        match s {
            Shape::Float => quote! { *(#e) = __src[__at]; __at += 1; },
            Shape::Carried => quote!(),
            Shape::Seq(inner) | Shape::Array(inner) => match &**inner {
                Shape::Float => quote! {
                    let __n = (#e).len();
                    (#e)[..].copy_from_slice(&__src[__at..__at + __n]);
                    __at += __n;
                },
                Shape::Carried => quote!(),
                _ => {
                    let r = self.read(inner, quote!(#v), depth + 1);
                    quote!(for #v in (#e).iter_mut() { #r })
                }
            },
            Shape::Boxed(inner) => self.read(inner, quote!(&mut **(#e)), depth + 1),
            Shape::Tuple(items) => {
                let rs = items.iter().enumerate().map(|(i, s)| {
                    let i = syn::Index::from(i);
                    self.read(s, quote!(&mut (#e).#i), depth + 1)
                });
                quote!(#(#rs)*)
            }
            Shape::Nested(ty) => quote_spanned! {ty.span()=>
                let __n = <#ty as ::autodiff::Differentiable<#f>>::float_len(#e);
                <#ty as ::autodiff::Differentiable<#f>>::read_floats(#e, &__src[__at..__at + __n]);
                __at += __n;
            },
        }
    }
}

fn strip(ty: &Type) -> &Type {
    match ty {
        Type::Paren(p) => strip(&p.elem),
        Type::Group(g) => strip(&g.elem),
        t => t,
    }
}

fn pretty(ty: &Type) -> String {
    ty.to_token_stream()
        .to_string()
        .replace(" < ", "<")
        .replace("< ", "<")
        .replace(" <", "<")
        .replace(" >", ">")
        .replace(" ,", ",")
}
