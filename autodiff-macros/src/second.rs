//! Second order (`order = 2`): forward mode over the generated reverse mode.
//!
//! `f_adjoint`'s code is rewritten with its float type `F` replaced by the dual
//! number `Dual<F>` of `autodiff::__private` (a `Float` whose operations carry a
//! tangent): float types become `Dual<F>`, float literals dual constants, casts
//! to `F` conversions, `F::name` paths `<Dual<F>>::name`, and calls of other
//! differentiated functions calls of their dual copies (`g_adjoint_dual`).
//! Running that code on `x + v·ε` leaves `∇f(x) + (H·v)·ε` in the shadows: the
//! Hessian-vector product in one sweep at about the cost of two to three
//! gradients. `f_hessian` runs it once per active input.
//!
//! The rewrite works on the generated code, so everything first-order reverse
//! mode differentiates (loops, branches, buffers, calls, iterator chains) has a
//! second order too, with the same derivative conventions. What it cannot
//! rewrite fails to compile in the generated code; it never changes a value.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::visit::Visit;
use syn::visit_mut::VisitMut;

use crate::diag::Diag;
use crate::emit::Gen;
use crate::ir::*;

/// The float type being replaced by its dual number.
pub(crate) struct Rewrite {
    base: Ident,
    /// `f64`/`f32` (literals are floats of this type) rather than a generic `T`.
    concrete: bool,
    /// Names of differentiated callees: `g`, `g_adjoint`, `g_fwd` call `*_dual`.
    callees: Vec<String>,
    /// Local closures (`let sq = |v| ..`): called with dual numbers as they are.
    closures: Vec<String>,
    /// Calls of unknown functions take values of dual arguments (`f_adjoint`'s
    /// code, where soundness made them passive); off for nested bodies, whose
    /// dual arguments must reach such a function as they are (a type error).
    values_to_foreign: bool,
}

fn dual_of(base: &Ident) -> TokenStream {
    quote!(::autodiff::__private::Dual<#base>)
}

impl Rewrite {
    fn new(f: &Func) -> Self {
        let base = match &f.float {
            FloatTy::F64 => format_ident!("f64"),
            FloatTy::F32 => format_ident!("f32"),
            FloatTy::Generic(i) => i.clone(),
        };
        let concrete = !matches!(f.float, FloatTy::Generic(_));
        let mut callees = Vec::new();
        for block in f.body.all_blocks() {
            for s in &block.stmts {
                let (Stmt::Let { rhs, .. } | Stmt::Assign { rhs, .. }) = s else {
                    continue;
                };
                if let Rhs::Call(c) = rhs {
                    let name = match &c.callee {
                        Callee::Path { name, .. } | Callee::Method { name, .. } => name,
                    };
                    for suffix in ["", "_adjoint", "_fwd", "_grad"] {
                        callees.push(format!("{name}{suffix}"));
                    }
                }
            }
        }
        Rewrite {
            base,
            concrete,
            callees,
            closures: Vec::new(),
            values_to_foreign: true,
        }
    }

    /// For a nested body (`nested.rs`): calls of `g`, `g_fwd`, `g_grad` and
    /// `g_adjoint` for each `g` in `bases` call the dual copies.
    pub(crate) fn nested(f: &Func, bases: &[String]) -> Self {
        let mut rw = Rewrite::new(f);
        rw.callees = bases
            .iter()
            .flat_map(|b| ["", "_adjoint", "_fwd", "_grad"].map(|s| format!("{b}{s}")))
            .collect();
        rw.values_to_foreign = false;
        rw
    }

    pub(crate) fn dual_ty(&self) -> TokenStream {
        self.dual()
    }

    fn dual(&self) -> TokenStream {
        dual_of(&self.base)
    }

    fn is_base(&self, ty: &syn::Type) -> bool {
        match ty {
            syn::Type::Path(p) => p.qself.is_none() && p.path.is_ident(&self.base),
            syn::Type::Paren(p) => self.is_base(&p.elem),
            syn::Type::Group(g) => self.is_base(&g.elem),
            _ => false,
        }
    }

    fn renamed(&self, ident: &Ident) -> Option<Ident> {
        let s = ident.to_string();
        self.callees
            .contains(&s)
            .then(|| format_ident!("{}_dual", ident, span = ident.span()))
    }

    /// `F::from(e)`: a conversion to the dual type (`From` and `NumCast::from`
    /// would be ambiguous on it).
    fn float_from(&mut self, c: &mut syn::ExprCall) -> Option<syn::Expr> {
        let syn::Expr::Path(p) = &*c.func else {
            return None;
        };
        let segs = &p.path.segments;
        let is = p.qself.is_none()
            && p.path.leading_colon.is_none()
            && segs.len() == 2
            && segs[0].ident == self.base
            && segs[1].ident == "from"
            && c.args.len() == 1;
        if !is {
            return None;
        }
        let mut arg = c.args[0].clone();
        self.visit_expr_mut(&mut arg);
        let (b, d) = (&self.base, self.dual());
        Some(if self.concrete {
            syn::parse_quote!(::autodiff::__private::to_dual::<#b, _>(#arg))
        } else {
            syn::parse_quote!(<#d as ::autodiff::__private::NumCast>::from(#arg))
        })
    }

    /// A call of a function the rewrite knows nothing about (not differentiated,
    /// not a local closure, not a constructor): its arguments pass their values
    /// and a float result comes back as a constant ([`Passive`] in `dual.rs`).
    /// Soundness already made every such call passive.
    fn foreign(&self, p: &syn::ExprPath) -> bool {
        let Some(last) = p.path.segments.last() else {
            return false;
        };
        let name = last.ident.to_string();
        // free functions only: `Vec::new()`, `Some(x)` and `T::zero()` are not
        let lower = p.path.segments.iter().all(|s| {
            s.ident
                .to_string()
                .starts_with(|c: char| c.is_lowercase() || c == '_')
        });
        let first_is_base = p.qself.is_none()
            && p.path.leading_colon.is_none()
            && p.path.segments[0].ident == self.base;
        let closure = p.path.segments.len() == 1 && self.closures.contains(&name);
        lower && !first_is_base && !closure && p.qself.is_none()
    }

    fn block(&mut self, tokens: &TokenStream) -> syn::Result<syn::Block> {
        let mut b: syn::Block = syn::parse2(quote!({ #tokens }))?;
        self.visit_block_mut(&mut b);
        Ok(b)
    }
}

/// Primitive scalar types: a cast to one of them reads the value of a dual number.
const PRIMITIVES: &[&str] = &[
    "f32", "f64", "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128",
    "usize",
];

/// A constant's name (`K`, `N_2`): a path of one upper-case identifier. Inside
/// the function it names a `const` item (a variable would be snake case).
fn const_name(p: &syn::ExprPath) -> bool {
    let Some(id) = p.path.get_ident() else {
        return false;
    };
    let s = id.to_string();
    p.qself.is_none()
        && s.chars().any(|c| c.is_ascii_uppercase())
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// `self.k`, `self.p.k`: a field of the receiver, which stays a plain value.
fn self_field(e: &syn::Expr) -> bool {
    match e {
        syn::Expr::Field(f) => {
            matches!(f.member, syn::Member::Named(_)) && self_field_base(&f.base)
        }
        syn::Expr::Paren(p) => self_field(&p.expr),
        _ => false,
    }
}

fn self_field_base(e: &syn::Expr) -> bool {
    match e {
        syn::Expr::Path(p) => p.qself.is_none() && p.path.is_ident("self"),
        _ => self_field(e),
    }
}

impl Rewrite {
    /// `std::f64::consts::PI`, `core::f64::consts::E`, `f64::consts::TAU`.
    fn float_const(&self, p: &syn::ExprPath) -> bool {
        let segs: Vec<&syn::PathSegment> = p.path.segments.iter().collect();
        self.concrete
            && p.qself.is_none()
            && segs
                .windows(2)
                .any(|w| w[0].ident == self.base && w[1].ident == "consts")
    }
}

impl VisitMut for Rewrite {
    fn visit_type_mut(&mut self, t: &mut syn::Type) {
        if self.is_base(t) {
            let d = self.dual();
            *t = syn::parse_quote!(#d);
            return;
        }
        // an array length is a constant expression: left as it is
        if let syn::Type::Array(a) = t {
            self.visit_type_mut(&mut a.elem);
            return;
        }
        syn::visit_mut::visit_type_mut(self, t);
    }

    fn visit_expr_mut(&mut self, e: &mut syn::Expr) {
        match e {
            // a float constant of `std` is a dual constant
            syn::Expr::Path(p) if self.float_const(p) => {
                let b = &self.base;
                *e = syn::parse_quote!(::autodiff::__private::Dual::<#b>::cst(#p));
                return;
            }
            // a `const` item: a float one is a dual constant, others stay themselves
            syn::Expr::Path(p) if const_name(p) => {
                *e = syn::parse_quote!((&&::autodiff::__private::passive(#p)).lift());
                return;
            }
            // a float field of `self` read as a value or a receiver is a dual
            // constant (`let mut s: f64 = self.k; s += x;`, `self.k.max(x)`,
            // `x.mul_add(y, self.k)`); another `Copy` field its value (`self.n`), any
            // other a reference to it (`self.v.len()`, `match self.mode { .. }`)
            syn::Expr::Field(_) if self_field(e) => {
                *e = syn::parse_quote!((&&&::autodiff::__private::passive(&#e)).field_value());
                return;
            }
            // places and borrows of a field stay as they are
            syn::Expr::Reference(r) if self_field(&r.expr) => return,
            syn::Expr::Index(i) if self_field(&i.expr) => {
                self.visit_expr_mut(&mut i.index);
                return;
            }
            syn::Expr::Assign(a) if self_field(&a.left) => {
                self.visit_expr_mut(&mut a.right);
                return;
            }
            syn::Expr::Binary(bin) if is_compound(&bin.op) && self_field(&bin.left) => {
                self.visit_expr_mut(&mut bin.right);
                return;
            }
            // `[x; N]`: the length is a constant expression
            syn::Expr::Repeat(r) => {
                self.visit_expr_mut(&mut r.expr);
                return;
            }
            // `b[i] += b[j] * x`: on `f64` the right side is evaluated before the
            // place is borrowed; `AddAssign` on a dual number borrows the place
            // first, so the right side is evaluated into a temporary
            syn::Expr::Binary(bin)
                if is_compound(&bin.op)
                    && !matches!(&*bin.left, syn::Expr::Path(_))
                    && !matches!(&*bin.right, syn::Expr::Lit(_) | syn::Expr::Path(_)) =>
            {
                self.visit_expr_mut(&mut bin.left);
                self.visit_expr_mut(&mut bin.right);
                let (l, op, r) = (&bin.left, &bin.op, &bin.right);
                *e = syn::parse_quote!({ let __rhs = #r; #l #op __rhs; });
                return;
            }
            syn::Expr::Lit(l) if self.concrete && matches!(l.lit, syn::Lit::Float(_)) => {
                let (b, lit) = (&self.base, &l.lit);
                *e = syn::parse_quote!(::autodiff::__private::Dual::<#b>::cst(#lit));
                return;
            }
            syn::Expr::Cast(c) => {
                self.visit_expr_mut(&mut c.expr);
                let inner = &c.expr;
                if self.is_base(&c.ty) {
                    let b = &self.base;
                    *e = syn::parse_quote!(::autodiff::__private::to_dual::<#b, _>(#inner));
                } else if let syn::Type::Path(p) = &*c.ty {
                    if PRIMITIVES.iter().any(|n| p.path.is_ident(n)) {
                        let ty = &c.ty;
                        *e = syn::parse_quote!((::autodiff::__private::primal(#inner) as #ty));
                    }
                }
                return;
            }
            syn::Expr::Path(p) if p.qself.is_none() && p.path.segments.len() >= 2 => {
                let first = &p.path.segments[0];
                if p.path.leading_colon.is_none()
                    && first.ident == self.base
                    && first.arguments.is_empty()
                {
                    let d = self.dual();
                    let rest = p.path.segments.iter().skip(1);
                    *e = syn::parse_quote!(<#d>::#(#rest)::*);
                    return;
                }
            }
            syn::Expr::Call(c) => {
                if let Some(arg) = self.float_from(c) {
                    *e = arg;
                    return;
                }
                if let syn::Expr::Path(p) = &mut *c.func {
                    let last = p.path.segments.last().map(|s| s.ident.to_string());
                    let private = p.path.segments.iter().any(|s| s.ident == "__private");
                    if private && last.as_deref() == Some("lit") {
                        // `lit::<F>(0.5)` takes a plain `f64`: only its type changes
                        syn::visit_mut::visit_expr_path_mut(self, p);
                        return;
                    }
                    if let Some(seg) = p.path.segments.last_mut() {
                        if let Some(n) = self.renamed(&seg.ident) {
                            seg.ident = n;
                        } else if !private && self.foreign(p) {
                            syn::visit_mut::visit_expr_call_mut(self, c);
                            for a in c.args.iter_mut() {
                                if self.values_to_foreign && !matches!(a, syn::Expr::Closure(_)) {
                                    *a = syn::parse_quote!((&&::autodiff::__private::passive(#a)).arg());
                                }
                            }
                            *e = syn::parse_quote!((&&::autodiff::__private::passive(#c)).lift());
                            return;
                        }
                    }
                }
            }
            syn::Expr::MethodCall(m) => {
                if let Some(n) = self.renamed(&m.method) {
                    m.method = n;
                }
            }
            _ => {}
        }
        syn::visit_mut::visit_expr_mut(self, e);
    }

    /// Macro arguments (`vec![0.0; n]`, `assert!(x > 0.0)`) are rewritten when
    /// they parse as expressions.
    fn visit_macro_mut(&mut self, m: &mut syn::Macro) {
        use syn::parse::Parser;
        let repeat = |input: syn::parse::ParseStream| {
            let elem: syn::Expr = input.parse()?;
            input.parse::<syn::Token![;]>()?;
            let len: syn::Expr = input.parse()?;
            Ok((elem, len))
        };
        if let Ok((mut elem, len)) = repeat.parse2(m.tokens.clone()) {
            self.visit_expr_mut(&mut elem);
            m.tokens = quote!(#elem; #len);
            return;
        }
        let list = syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated;
        if let Ok(mut args) = list.parse2(m.tokens.clone()) {
            for a in args.iter_mut() {
                self.visit_expr_mut(a);
            }
            m.tokens = args.to_token_stream();
        }
    }

    /// `const K: F = 1.5;` cannot hold a dual number (its operations are not
    /// `const`): it becomes a `let`.
    fn visit_stmt_mut(&mut self, s: &mut syn::Stmt) {
        if let syn::Stmt::Local(l) = s {
            let closure = l
                .init
                .as_ref()
                .is_some_and(|i| matches!(&*i.expr, syn::Expr::Closure(_)));
            if let (true, syn::Pat::Ident(pi)) = (closure, &l.pat) {
                self.closures.push(pi.ident.to_string());
            }
        }
        if let syn::Stmt::Item(syn::Item::Const(c)) = s {
            if mentions(&c.ty, &self.base) {
                let (ident, mut ty, mut expr) = (&c.ident, (*c.ty).clone(), (*c.expr).clone());
                self.visit_type_mut(&mut ty);
                self.visit_expr_mut(&mut expr);
                *s = syn::parse_quote!(#[allow(non_upper_case_globals)] let #ident: #ty = #expr;);
                return;
            }
            // another constant (`const N: usize = 3;`) stays a constant expression
            return;
        }
        syn::visit_mut::visit_stmt_mut(self, s);
    }
}

/// `+=`, `-=`, `*=`, ...
fn is_compound(op: &syn::BinOp) -> bool {
    use syn::BinOp as B;
    matches!(
        op,
        B::AddAssign(_)
            | B::SubAssign(_)
            | B::MulAssign(_)
            | B::DivAssign(_)
            | B::RemAssign(_)
            | B::BitXorAssign(_)
            | B::BitAndAssign(_)
            | B::BitOrAssign(_)
            | B::ShlAssign(_)
            | B::ShrAssign(_)
    )
}

/// Does the type mention `base` anywhere?
fn mentions(ty: &syn::Type, base: &Ident) -> bool {
    struct Finder<'a>(&'a Ident, bool);
    impl<'ast> Visit<'ast> for Finder<'_> {
        fn visit_ident(&mut self, i: &'ast Ident) {
            self.1 |= i == self.0;
        }
    }
    let mut f = Finder(base, false);
    f.visit_type(ty);
    f.1
}

/// Rejects, before generation, parameters whose float values the second-order
/// functions could not convert to dual numbers.
pub fn check(func: &syn::ItemFn, ir: &Func, diag: &mut Diag) {
    let rw = Rewrite::new(ir);
    if ir.out.is_vector() {
        diag.error_spanned(
            &func.sig.output,
            "`order = 2` is for functions returning one float; a vector-valued function has `_jacobian`",
        );
    }
    for p in &ir.params {
        if let ParamTy::Struct {
            ty, whole: true, ..
        } = &p.shape
        {
            // its dual copy is `S<Dual<T>>`: only a struct generic over the float type has one
            if !struct_holds_duals(ty, &rw.base) {
                let x = &p.ident;
                diag.error(
                    x.span(),
                    format!("`order = 2` cannot pass the differentiated struct `{x}` of type `{}` whole to a call: second-order code passes it as dual numbers, and only a struct generic over its float type (`struct S<T: Float>`) has a copy on them; read its fields in the body (`{x}.w[i]`, `{x}.b`) or pass a buffer field (`g(&{x}.w)`)", ty.to_string().replace(' ', "")),
                );
            }
        }
        if let ParamTy::Field {
            root,
            kind: FieldKind::Flat { .. },
            deferred: true,
            ..
        } = &p.shape
        {
            diag.error(
                root.span(),
                format!("`order = 2` cannot pass the nested buffer `{root}` whole to a call yet; pass it flat (`{root}.as_flattened()`) or index it"),
            );
        }
    }
    // The dual copies compute on `Dual<F>`, which has no `as` to another float type.
    let mut casts = Vec::new();
    ir.body.walk_all(&mut |s| {
        if let Stmt::Let {
            var,
            rhs: Rhs::Op(crate::rules::Op::Cast, _),
            ..
        }
        | Stmt::Assign {
            var,
            rhs: Rhs::Op(crate::rules::Op::Cast, _),
            ..
        } = s
        {
            casts.push(ir.vars[*var].ident.span());
        }
    });
    for span in casts {
        diag.error(
            span,
            format!(
                "`order = 2` does not support casts between float types of differentiated values yet; compute in `{}` (the first-order functions support them)",
                rw.base
            ),
        );
    }
    let signature = ir
        .params
        .iter()
        .filter(|p| !matches!(p.shape, ParamTy::Field { .. }));
    for (p, arg) in signature.zip(&func.sig.inputs) {
        let syn::FnArg::Typed(pt) = arg else { continue };
        if matches!(p.shape, ParamTy::Passive) && mentions(&pt.ty, &rw.base) {
            diag.error_spanned(
                &pt.ty,
                format!(
                    "`order = 2` does not support a parameter of type `{}`; second-order functions take `{b}`, `&[{b}]`, `Vec<{b}>` and `[{b}; N]` float parameters",
                    crate::lower::pretty(&pt.ty),
                    b = rw.base
                ),
            );
        }
    }
}

/// How one parameter enters the second-order functions.
struct P<'a> {
    p: &'a Param,
    wrt: bool,
    by_ref: bool,
    /// A nested buffer's flat buffer (`x__flat`) and whether its rows vary in length.
    flat: Option<(Ident, bool)>,
    /// A struct parameter's field paths (`ParamTy::Field` rooted at it).
    fields: Vec<&'a Param>,
    /// The float type (`f64`, `T`).
    base: TokenStream,
}

impl P<'_> {
    /// `v<name>`: the direction of the Hessian-vector product.
    fn v(&self) -> Ident {
        format_ident!("v{}", self.p.ident)
    }

    fn g(&self) -> Ident {
        format_ident!("__grad_{}", self.p.ident)
    }

    /// How many active inputs it contributes (tokens of a `usize`).
    fn len(&self) -> TokenStream {
        let x = &self.p.ident;
        match &self.p.shape {
            ParamTy::Nested { .. } => quote!(::autodiff::__private::nested_len(&#x[..])),
            ParamTy::Struct { .. } => {
                let (tr, borrow) = (self.differentiable(), self.borrow());
                quote!(#tr::float_len(#borrow))
            }
            _ => input_len(self.p).unwrap_or_else(|| quote!(0usize)),
        }
    }

    /// A nested buffer's direction, flattened (`__vflat_x`).
    fn vflat(&self) -> Ident {
        format_ident!("__vflat_{}", self.p.ident)
    }

    /// The type of its direction `v<name>` (`&S` of `p: &S`, else the parameter's type).
    fn dir_ty(&self) -> TokenStream {
        match &self.p.shape {
            ParamTy::Struct {
                ty, by_ref: true, ..
            } => quote!(&#ty),
            _ => self.p.ty.clone(),
        }
    }

    /// A struct parameter's `<S as ::autodiff::Differentiable<F>>`.
    fn differentiable(&self) -> TokenStream {
        match &self.p.shape {
            ParamTy::Struct { ty, .. } => {
                let b = &self.base;
                quote!(<#ty as ::autodiff::Differentiable<#b>>)
            }
            _ => TokenStream::new(),
        }
    }

    /// The struct parameter as it came in, a reference (`__plain_p`), bound before
    /// `p` itself may become its dual copy.
    fn plain(&self) -> Ident {
        format_ident!("__plain_{}", self.p.ident)
    }

    /// The struct parameter as a reference (`p` of `p: &S`, `&p` of `p: S`).
    fn borrow(&self) -> TokenStream {
        let x = &self.p.ident;
        match &self.p.shape {
            ParamTy::Struct { by_ref: false, .. } => quote!(&#x),
            _ => quote!(#x),
        }
    }
}

/// How many float inputs a float, slice or array parameter holds (tokens of a
/// `usize`); `None` for other parameters.
pub(crate) fn input_len(p: &Param) -> Option<TokenStream> {
    let x = &p.ident;
    match &p.shape {
        ParamTy::Float => Some(quote!(1usize)),
        ParamTy::Slice => Some(quote!(#x.len())),
        ParamTy::Array { len } => Some(quote!((#len))),
        _ => None,
    }
}

/// Is the parameter's type a reference (`&[F]`, `&[F; N]`), so that a dual
/// copy of it is passed as `&copy`?
pub(crate) fn by_ref(p: &Param) -> bool {
    p.ty.clone()
        .into_iter()
        .next()
        .is_some_and(|t| matches!(t, proc_macro2::TokenTree::Punct(ref q) if q.as_char() == '&'))
}

/// `f` as a hidden item on dual numbers: renamed `<name>_dual`, its signature
/// and body rewritten, the traits the rewritten code calls imported.
fn dual_copy(rw: &mut Rewrite, mut f: syn::ItemFn) -> TokenStream {
    f.sig.ident = format_ident!("{}_dual", f.sig.ident);
    for arg in f.sig.inputs.iter_mut() {
        rw.visit_fn_arg_mut(arg);
    }
    rw.visit_return_type_mut(&mut f.sig.output);
    rw.visit_block_mut(&mut f.block);
    let use_traits = use_traits();
    f.block.stmts.insert(0, syn::parse_quote!(#use_traits));
    quote!(#[doc(hidden)] #[inline] #[allow(dead_code)] #f)
}

/// The traits the rewritten code calls methods of.
pub(crate) fn use_traits() -> TokenStream {
    quote! {
        use ::autodiff::__private::{
            FieldCopy as _, FieldFloat as _, FieldRef as _, Float as _, One as _, PassiveArg as _, PassiveDualArg as _, PassiveFloatResult as _,
            PassiveResult as _, Zero as _,
        };
    }
}

/// `f_dual`, `f_fwd_dual`, `f_adjoint_dual`, `f_grad_dual`, `f_hvp` and
/// `f_hessian`; `first` is the first-order items (`f_fwd`, `f_adjoint`, `f_grad`).
/// `stub`: the fallback expansion after an error (`adjoint` is `unimplemented!()`).
pub fn emit(
    func: &syn::ItemFn,
    gen: &Gen,
    first: &TokenStream,
    adjoint: &TokenStream,
    stub: bool,
) -> syn::Result<TokenStream> {
    let ir = gen.f;
    let mut rw = Rewrite::new(ir);
    let body = rw.block(adjoint)?;
    let b = gen.fty();
    let d = rw.dual();
    let (zero, one) = (gen.zero(), gen.one());
    let name = &func.sig.ident;
    let vis = &func.vis;
    let generics = &func.sig.generics;
    let where_clause = &generics.where_clause;
    let unsafety = &func.sig.unsafety;
    let allow = quote!(#[allow(unreachable_code, unused_mut, unused_variables, unused_assignments, unused_parens, unused_braces, unused_imports, non_snake_case, while_true, clippy::all, clippy::pedantic, clippy::nursery)]);
    let use_float = use_traits();

    // the primal, `f_fwd`, `f_adjoint` and `f_grad` on dual numbers, for
    // second-order and nested callers
    let mut primal = func.clone();
    primal.attrs.clear();
    primal.attrs.push(syn::parse_quote!(#allow));
    // A struct whose type does not name the float type (`Linear` of `f64`
    // fields, `Self`) cannot hold dual numbers: no dual copies, so a caller
    // needing them does not compile (`f_hvp` and `f_hessian` work on its fields).
    let mut copies = Vec::new();
    if dual_structs(ir, &rw.base) {
        copies.push(dual_copy(&mut rw, primal));
        let file: syn::File = syn::parse2(first.clone())?;
        for item in file.items {
            let syn::Item::Fn(mut f) = item else { continue };
            f.attrs.retain(|a| a.path().is_ident("allow"));
            copies.push(dual_copy(&mut rw, f));
        }
    }

    let ps = second_order_params(ir, &b);
    let active: Vec<&P> = ps.iter().filter(|q| q.wrt).collect();

    // inputs as dual numbers (`x + v·ε` for active ones, constants for float data),
    // zeroed dual shadows, then the rewritten adjoint with `dret = 1`
    let setup = dual_inputs(&ps, &d, &zero);
    let run = quote! {
        #use_float
        #(#setup)*
        let dret: #d = ::autodiff::__private::Dual::new(#one, #zero);
        let __value: #d = #body;
    };
    let part = |q: &P, field: TokenStream| output_part(q, &b, field);
    let tuple = |items: Vec<TokenStream>| {
        if items.len() == 1 {
            items[0].clone()
        } else {
            quote!((#(#items),*))
        }
    };
    let (gty, gval): (Vec<_>, Vec<_>) = active.iter().map(|q| part(q, quote!(v))).unzip();
    let (_, hval): (Vec<_>, Vec<_>) = active.iter().map(|q| part(q, quote!(d))).unzip();
    let (gty, gval, hval) = (tuple(gty), tuple(gval), tuple(hval));
    // H·v flattened, for the Hessian's rows
    let hflat: Vec<TokenStream> = active
        .iter()
        .map(|q| {
            let g = q.g();
            match &q.p.shape {
                ParamTy::Float => quote!(__row.push(#g.d);),
                // in the order of `Differentiable`'s flattening
                ParamTy::Struct { ty, .. } => {
                    let (tr, (_, h)) = (q.differentiable(), part(q, quote!(d)));
                    quote!({ let __h: #ty = #h; __row.extend(#tr::to_floats(&__h)); })
                }
                _ => quote!(__row.extend(#g.iter().map(|__e| __e.d));),
            }
        })
        .collect();

    let mut hvp_params = Vec::new();
    for q in &ps {
        hvp_params.push(q.p.decl.clone());
        if q.wrt {
            let (v, ty) = (q.v(), q.dir_ty());
            hvp_params.push(quote!(#v: #ty));
        }
    }
    let plain: Vec<&TokenStream> = ps.iter().map(|q| &q.p.decl).collect();
    let vflats = flat_directions(&active, &b);
    let hvp_name = format_ident!("{}_hvp", name);
    let hess_name = format_ident!("{}_hessian", name);
    let hvp_doc = format!(" Value, gradient and Hessian-vector product `H·v` of [`{name}`] (forward over reverse mode). Generated by `#[differentiate(order = 2)]`.");
    let hess_doc = format!(" Value, gradient and dense Hessian of [`{name}`], row-major over the active inputs in parameter order (one Hessian-vector product per input). Generated by `#[differentiate(order = 2)]`.");

    // `f_hessian`: the directions are unit vectors, one run per active input
    let n_total: Vec<TokenStream> = active.iter().map(|q| q.len()).collect();
    let units = unit_directions(&active, &b, &one, &zero);

    // a stub of a struct function has no setup, which could report follow-on
    // errors (a struct without a dual copy passed whole)
    let structs = ir
        .params
        .iter()
        .any(|p| matches!(p.shape, ParamTy::Struct { .. }));
    if stub && structs {
        return Ok(quote! {
            #(#copies)*
            #[doc = #hvp_doc]
            #allow
            #vis #unsafety fn #hvp_name #generics (#(#hvp_params),*) -> (#b, #gty, #gty) #where_clause {
                #adjoint
            }
            #[doc = #hess_doc]
            #allow
            #vis #unsafety fn #hess_name #generics (#(#plain),*) -> (#b, #gty, ::std::vec::Vec<#b>) #where_clause {
                #adjoint
            }
        });
    }
    Ok(quote! {
        #(#copies)*
        #[doc = #hvp_doc]
        #allow
        #[inline]
        #vis #unsafety fn #hvp_name #generics (#(#hvp_params),*) -> (#b, #gty, #gty) #where_clause {
            #(#vflats)*
            #run
            (__value.v, #gval, #hval)
        }
        #[doc = #hess_doc]
        #allow
        #vis #unsafety fn #hess_name #generics (#(#plain),*) -> (#b, #gty, ::std::vec::Vec<#b>) #where_clause {
            let __n: usize = 0usize #(+ #n_total)*;
            let mut __hessian: ::std::vec::Vec<#b> = ::std::vec::Vec::with_capacity(__n * __n);
            let mut __first = ::core::option::Option::None;
            for __k in 0..__n.max(1) {
                #(#units)*
                let mut __row: ::std::vec::Vec<#b> = ::std::vec::Vec::with_capacity(__n);
                {
                    #run
                    #(#hflat)*
                    if __k == 0 {
                        __first = ::core::option::Option::Some((__value.v, #gval));
                    }
                }
                if __n > 0 {
                    __hessian.extend(__row);
                }
            }
            match __first {
                ::core::option::Option::Some((__value, __grad)) => (__value, __grad, __hessian),
                ::core::option::Option::None => ::core::unreachable!("the Hessian loop runs at least once"),
            }
        }
    })
}

/// Can every struct parameter's type hold dual numbers (`Linear<T>` of a
/// generic `T`, whose dual copy is `Linear<Dual<T>>`)?
fn dual_structs(ir: &Func, base: &Ident) -> bool {
    ir.params.iter().all(|p| match &p.shape {
        ParamTy::Struct { ty, .. } => struct_holds_duals(ty, base),
        _ => true,
    })
}

/// Does the struct type name the float type (`Linear<T>`), so that it has a
/// copy on dual numbers (`Linear<Dual<T>>`)?
fn struct_holds_duals(ty: &TokenStream, base: &Ident) -> bool {
    syn::parse2::<syn::Type>(ty.clone()).is_ok_and(|t| mentions(&t, base))
}

/// The parameters as the second-order functions take them: which are active,
/// passed by reference, and a nested buffer's flat buffer.
fn second_order_params<'a>(ir: &'a Func, base: &TokenStream) -> Vec<P<'a>> {
    ir.params
        .iter()
        .filter(|p| !matches!(p.shape, ParamTy::Field { .. }))
        .map(|p| P {
            p,
            base: base.clone(),
            fields: ir
                .params
                .iter()
                .filter(|q| {
                    matches!(&q.shape, ParamTy::Field { root, kind, .. }
                        if *root == p.ident && !matches!(kind, FieldKind::Flat { .. }))
                })
                .collect(),
            wrt: p.var.is_some_and(|v| ir.vars[v].wrt)
                && matches!(
                    p.shape,
                    ParamTy::Float
                        | ParamTy::Slice
                        | ParamTy::Array { .. }
                        | ParamTy::Nested { .. }
                        | ParamTy::Struct { .. }
                ),
            by_ref: by_ref(p),
            flat: ir.params.iter().find_map(|q| match &q.shape {
                ParamTy::Field {
                    root,
                    kind: FieldKind::Flat { jagged },
                    ..
                } if *root == p.ident => Some((q.ident.clone(), *jagged)),
                _ => None,
            }),
        })
        .collect()
}

/// A gradient's (`field` `v`) or `H·v`'s (`d`) type and value for one active
/// parameter, in `_grad`'s shape, from its dual shadow.
fn output_part(q: &P, b: &TokenStream, field: TokenStream) -> (TokenStream, TokenStream) {
    let g = q.g();
    match &q.p.shape {
        ParamTy::Float => (quote!(#b), quote!(#g.#field)),
        ParamTy::Slice => (
            quote!(::std::vec::Vec<#b>),
            quote!(#g.iter().map(|__e| __e.#field).collect::<::std::vec::Vec<#b>>()),
        ),
        ParamTy::Array { len } => (
            quote!([#b; #len]),
            quote!(::core::array::from_fn::<#b, { #len }, _>(|__i| #g[__i].#field)),
        ),
        ParamTy::Nested {
            grad_ty, grad_zero, ..
        } => (
            grad_ty.clone(),
            quote!({
                let mut __o: #grad_ty = #grad_zero;
                ::autodiff::__private::fill_rows(&mut __o[..], #g.iter().map(|__e| __e.#field));
                __o
            }),
        ),
        ParamTy::Struct { ty, .. } => {
            // a zero struct of the parameter's shape, its fields' derivatives written in
            // the struct passed whole (`g(p, x)`) and its fields' derivatives summed
            let (tr, plain) = (q.differentiable(), q.plain());
            let tangent = field.to_string() == "d";
            let mut sets = Vec::new();
            if let ParamTy::Struct { whole: true, .. } = &q.p.shape {
                let g = q.g();
                sets.push({
                    let add = format_ident!("__add_{}", q.p.ident);
                    quote!(#add(&mut __o, &#g, #tangent);)
                });
            }
            for f in &q.fields {
                let ParamTy::Field { access, kind, .. } = &f.shape else {
                    continue;
                };
                let g = format_ident!("__grad_{}", f.ident);
                sets.push(match kind {
                    FieldKind::Float => quote!(__o #access = __o #access + #g.#field;),
                    FieldKind::DerefFloat => quote!(*__o #access = *__o #access + #g.#field;),
                    FieldKind::Buf => quote! {
                        for (__t, __e) in __o #access [..].iter_mut().zip(#g.iter()) {
                            *__t = *__t + __e.#field;
                        }
                    },
                    FieldKind::Passed => {
                        let add = format_ident!("__add_{}", f.ident);
                        quote!(#add(&mut __o #access, &#g, #tangent);)
                    }
                    _ => continue,
                });
            }
            (
                quote!(#ty),
                quote!({
                    let mut __o: #ty = #tr::zero_like(#plain);
                    #(#sets)*
                    __o
                }),
            )
        }
        _ => (TokenStream::new(), TokenStream::new()),
    }
}

/// `f_hvp`'s nested directions, checked against their buffers and flattened.
fn flat_directions(active: &[&P], b: &TokenStream) -> Vec<TokenStream> {
    active
        .iter()
        .filter(|q| q.flat.is_some())
        .map(|q| {
            let (x, v, vf) = (&q.p.ident, q.v(), q.vflat());
            let msg = format!("the direction `{v}` must have the shape of `{x}`");
            quote! {
                ::autodiff::__private::check_rows(&#x[..], &#v[..], #msg);
                let #vf: ::std::vec::Vec<#b> = ::autodiff::__private::flat_rows(&#v[..]);
            }
        })
        .collect()
}

/// The `let`s that make the inputs dual numbers (`x + v·ε` for active ones,
/// constants for float data) and create zeroed dual shadows `dx` for the active
/// ones.
fn dual_inputs(ps: &[P], d: &TokenStream, zero: &TokenStream) -> Vec<TokenStream> {
    let mut setup = Vec::new();
    for q in ps {
        let (x, v) = (&q.p.ident, q.v());
        let tangent = |i: TokenStream| {
            if q.wrt {
                quote!(::autodiff::__private::Dual::new(#x[#i], #v[#i]))
            } else {
                quote!(::autodiff::__private::Dual::new(#x[#i], #zero))
            }
        };
        let holder = format_ident!("__dual_{}", x);
        let bind = if q.by_ref {
            quote!(let #x = &#holder;)
        } else {
            quote!(let mut #x = #holder;)
        };
        match &q.p.shape {
            ParamTy::Nested { .. } => {
                // its flat buffer as dual numbers, and a flat dual shadow
                let Some((flat, jagged)) = &q.flat else {
                    continue;
                };
                let (vf, g) = (q.vflat(), q.g());
                let dflat = format_ident!("d{}", flat);
                let holder = format_ident!("__dual_{}", flat);
                if *jagged {
                    let off = format_ident!("{}__off", x);
                    setup.push(quote!(let #off: ::std::vec::Vec<usize> = ::autodiff::__private::row_offsets(&#x[..]);));
                }
                setup.push(quote! {
                    let #holder: ::std::vec::Vec<#d> = ::autodiff::__private::flat_rows(&#x[..])
                        .into_iter()
                        .zip(#vf.iter())
                        .map(|(__a, __t)| ::autodiff::__private::Dual::new(__a, *__t))
                        .collect();
                    let #flat = &#holder[..];
                    let mut #g: ::std::vec::Vec<#d> = ::std::vec![<#d as ::autodiff::__private::Zero>::zero(); #flat.len()];
                    let #dflat = &mut #g[..];
                });
            }
            ParamTy::Float => {
                let t = if q.wrt { quote!(#v) } else { zero.clone() };
                setup.push(quote!(let mut #x: #d = ::autodiff::__private::Dual::new(#x, #t);));
            }
            ParamTy::Slice => {
                let e = tangent(quote!(__i));
                if q.wrt {
                    let msg = format!("the direction `{v}` must have the length of `{x}`");
                    setup.push(quote!(::core::assert_eq!(#v.len(), #x.len(), #msg);));
                }
                setup.push(quote! {
                    let #holder: ::std::vec::Vec<#d> = (0..#x.len()).map(|__i| #e).collect();
                    #bind
                });
            }
            ParamTy::Array { len } => {
                let e = tangent(quote!(__i));
                setup.push(quote! {
                    let #holder: [#d; #len] = ::core::array::from_fn(|__i| #e);
                    #bind
                });
            }
            ParamTy::Struct { .. } => setup.extend(struct_fields(q, d)),
            _ => {}
        }
    }
    for q in ps.iter().filter(|q| q.wrt) {
        let (x, g) = (&q.p.ident, q.g());
        let dx = format_ident!("d{}", x);
        let z = quote!(<#d as ::autodiff::__private::Zero>::zero());
        setup.push(match &q.p.shape {
            ParamTy::Float => quote!(let mut #g: #d = #z; let #dx = &mut #g;),
            ParamTy::Slice => {
                quote!(let mut #g: ::std::vec::Vec<#d> = ::std::vec![#z; #x.len()]; let #dx = &mut #g[..];)
            }
            ParamTy::Array { len } => quote!(let mut #g: [#d; #len] = [#z; #len]; let #dx = &mut #g;),
            ParamTy::Struct { .. } => {
                let shadows = q.fields.iter().filter_map(|f| {
                    let ParamTy::Field { kind, .. } = &f.shape else {
                        return None;
                    };
                    let (x, g, dx) = (&f.ident, format_ident!("__grad_{}", f.ident), format_ident!("d{}", f.ident));
                    match kind {
                        FieldKind::Float | FieldKind::DerefFloat => {
                            Some(quote!(let mut #g: #d = #z; let #dx = &mut #g;))
                        }
                        FieldKind::Buf => Some(
                            quote!(let mut #g: ::std::vec::Vec<#d> = ::std::vec![#z; #x.len()]; let #dx = &mut #g[..];),
                        ),
                        // its zero shadow made with its dual copy (`struct_fields`)
                        FieldKind::Passed => Some(quote!(let #dx = &mut #g;)),
                        _ => None,
                    }
                });
                // its zero shadow made with its dual copy (`struct_fields`)
                let whole = matches!(q.p.shape, ParamTy::Struct { whole: true, .. })
                    .then(|| quote!(let #dx = &mut #g;));
                quote!(#(#shadows)* #whole)
            }
            _ => TokenStream::new(),
        });
    }
    setup
}

/// A struct parameter's field paths as dual numbers (`p.w[i] + vp.w[i]·ε`),
/// bound to the names the adjoint's code reads (`p__w`, `p__b`), and its integer
/// fields as the first-order functions bind them.
fn struct_fields(q: &P, d: &TokenStream) -> Vec<TokenStream> {
    let (x, v, plain) = (&q.p.ident, q.v(), q.plain());
    let borrow = q.borrow();
    let mut setup = vec![quote!(let #plain = #borrow;)];
    for f in &q.fields {
        let ParamTy::Field { access, kind, .. } = &f.shape else {
            continue;
        };
        let name = &f.ident;
        setup.push(match kind {
            FieldKind::Float => {
                quote!(let #name: #d = ::autodiff::__private::Dual::new(#x #access, #v #access);)
            }
            FieldKind::DerefFloat => {
                quote!(let #name: #d = ::autodiff::__private::Dual::new(*#x #access, *#v #access);)
            }
            FieldKind::Buf => {
                let holder = format_ident!("__dual_{}", name);
                let path = format!("{x}{}", access.to_string().replace(' ', ""));
                let msg = format!("the direction `{v}` must have the shape of `{x}` (`{path}`)");
                quote! {
                    ::core::assert_eq!(#v #access.len(), #x #access.len(), #msg);
                    let #holder: ::std::vec::Vec<#d> = #x #access[..]
                        .iter()
                        .zip(#v #access[..].iter())
                        .map(|(__a, __t)| ::autodiff::__private::Dual::new(*__a, *__t))
                        .collect();
                    let #name = &#holder[..];
                }
            }
            FieldKind::Int(ty) if ty.is_empty() => {
                quote!(let #name = ::autodiff::__private::integer(#x #access);)
            }
            FieldKind::Int(ty) => quote!(let #name: #ty = #x #access;),
            // passed by reference to a call: its copy on dual numbers (`Vec<Dual<F>>`,
            // `S<Dual<T>>`), or a type error naming it
            FieldKind::Passed => {
                let holder = format_ident!("__dual_{}", name);
                let (g, add) = (format_ident!("__grad_{}", name), format_ident!("__add_{}", name));
                let call = quote_spanned!(name.span()=> ::autodiff::__private::dualize(&#x #access, &#v #access));
                quote! {
                    let (#holder, mut #g, #add) = #call;
                    let #name = &#holder;
                }
            }
            FieldKind::Flat { .. } => continue,
        });
    }
    // passed whole to a call: `p` becomes its dual copy
    if let ParamTy::Struct {
        whole: true,
        by_ref,
        ..
    } = &q.p.shape
    {
        let (holder, g, add) = (
            format_ident!("__dual_{}", x),
            q.g(),
            format_ident!("__add_{}", x),
        );
        let (vb, bind) = if *by_ref {
            (quote!(#v), quote!(let #x = &#holder;))
        } else {
            (quote!(&#v), quote!(let #x = #holder;))
        };
        setup.push(quote! {
            let (#holder, mut #g, #add) = ::autodiff::__private::dualize(#plain, #vb);
            #bind
        });
    }
    setup
}

/// The `let`s binding each active parameter's direction `v<name>` to the
/// `__k`-th unit vector of the flattened active inputs (for `f_hessian`).
fn unit_directions(
    active: &[&P],
    b: &TokenStream,
    one: &TokenStream,
    zero: &TokenStream,
) -> Vec<TokenStream> {
    let mut units = Vec::new();
    let mut offset = quote!(0usize);
    for q in active {
        let (v, len) = (q.v(), q.len());
        let holder = format_ident!("__unit_{}", q.p.ident);
        let unit = quote!(if #offset + __i == __k { #one } else { #zero });
        match &q.p.shape {
            ParamTy::Nested { .. } => {
                let vf = q.vflat();
                units.push(quote! {
                    let #vf: ::std::vec::Vec<#b> = (0..#len).map(|__i| #unit).collect();
                });
            }
            ParamTy::Float => {
                units.push(quote!(let #v: #b = { let __i = 0usize; #unit };));
            }
            ParamTy::Slice => {
                let bind = if q.by_ref {
                    quote!(let #v = &#holder;)
                } else {
                    quote!(let #v = #holder;)
                };
                units.push(quote! {
                    let #holder: ::std::vec::Vec<#b> = (0..#len).map(|__i| #unit).collect();
                    #bind
                });
            }
            ParamTy::Array { len: n } => {
                let bind = if q.by_ref {
                    quote!(let #v = &#holder;)
                } else {
                    quote!(let #v = #holder;)
                };
                units.push(quote! {
                    let #holder: [#b; #n] = ::core::array::from_fn(|__i| #unit);
                    #bind
                });
            }
            ParamTy::Struct { ty, by_ref, .. } => {
                // the unit vector read into a struct of the parameter's shape
                let (tr, borrow) = (q.differentiable(), q.borrow());
                let bind = if *by_ref {
                    quote!(let #v = &#holder;)
                } else {
                    quote!(let #v = #holder;)
                };
                units.push(quote! {
                    let mut #holder: #ty = #tr::zero_like(#borrow);
                    {
                        let __u: ::std::vec::Vec<#b> = (0..#len).map(|__i| #unit).collect();
                        #tr::read_floats(&mut #holder, &__u[..]);
                    }
                    #bind
                });
            }
            _ => {}
        }
        offset = quote!(#offset + #len);
    }
    units
}
