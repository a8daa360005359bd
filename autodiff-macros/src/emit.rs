//! What forward and reverse generation share: names, rendering of operands, rule
//! partials, ranges and calls.

use proc_macro2::{Ident, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, ToTokens};

use crate::activity::Analysis;
use crate::ir::*;
use crate::rules::{Form, Op, D};

/// Shared by the forward and reverse generators.
pub struct Gen<'a> {
    pub f: &'a Func,
    pub a: &'a Analysis,
}

impl<'a> Gen<'a> {
    pub fn fty(&self) -> TokenStream {
        self.fty_in(&self.f.float)
    }

    /// How the float type `t` is spelled.
    pub fn fty_in(&self, t: &FloatTy) -> TokenStream {
        match t {
            FloatTy::F64 => quote!(f64),
            FloatTy::F32 => quote!(f32),
            FloatTy::Generic(i) => quote!(#i),
        }
    }

    /// The float type of `v` (see [`Func::ty_of`]).
    pub fn ty_of(&self, v: VarId) -> &FloatTy {
        self.f.ty_of(v)
    }

    /// The float type of an operand: a variable's own, the function's for a buffer
    /// element, `None` for a constant (whose literal takes the type it meets).
    pub fn operand_ty(&self, o: &Operand) -> Option<&FloatTy> {
        match o {
            Operand::Var(v) => Some(self.ty_of(*v)),
            Operand::Load(..) => Some(&self.f.float),
            Operand::Const(_) => None,
        }
    }

    /// `t as G` when a term of type `from` flows into a value of type `to` (a cast's
    /// rule, both ways); `t` itself otherwise.
    pub fn convert(&self, t: TokenStream, from: Option<&FloatTy>, to: &FloatTy) -> TokenStream {
        match from {
            Some(from) if from != to => self.cast(t, to),
            _ => t,
        }
    }

    /// `t as G`, parenthesised unless `t` is a name, a literal or an element `b[i]`.
    fn cast(&self, t: TokenStream, to: &FloatTy) -> TokenStream {
        let ty = self.fty_in(to);
        let mut it = t.clone().into_iter();
        let atomic = match (it.next(), it.next(), it.next()) {
            (Some(TokenTree::Ident(_) | TokenTree::Literal(_)), None, None) => true,
            (Some(TokenTree::Ident(_)), Some(TokenTree::Group(g)), None) => {
                g.delimiter() == proc_macro2::Delimiter::Bracket
            }
            _ => false,
        };
        if atomic {
            quote!(#t as #ty)
        } else {
            quote!((#t) as #ty)
        }
    }

    pub fn zero(&self) -> TokenStream {
        self.zero_in(&self.f.float)
    }

    pub fn zero_in(&self, t: &FloatTy) -> TokenStream {
        match t {
            FloatTy::F64 | FloatTy::F32 => quote!(0.0),
            FloatTy::Generic(i) => quote!(<#i as ::autodiff::__private::Zero>::zero()),
        }
    }

    /// The starting value of an adjoint: `-0.0`, the additive identity of IEEE floats
    /// (`-0.0 + x == x` for every `x`, while `0.0 + -0.0 == 0.0`), so the compiler can
    /// fold `adjoint = -0.0; adjoint += x` into `adjoint = x` without fast-math.
    pub fn adj_zero(&self) -> TokenStream {
        self.adj_zero_in(&self.f.float)
    }

    pub fn adj_zero_in(&self, t: &FloatTy) -> TokenStream {
        match t {
            FloatTy::F64 | FloatTy::F32 => quote!(-0.0),
            FloatTy::Generic(i) => quote!(-<#i as ::autodiff::__private::Zero>::zero()),
        }
    }

    /// The type of a tangent in `_fwd`: `F`, or `Lanes<F, K>` in the vector forward mode.
    pub fn tan_ty(&self) -> TokenStream {
        let f = self.fty();
        match self.f.lanes {
            Some(k) => {
                let k = proc_macro2::Literal::usize_unsuffixed(k);
                quote!(::autodiff::__private::Lanes<#f, #k>)
            }
            None => f,
        }
    }

    /// The type of `v`'s tangent: [`Gen::tan_ty`] in `v`'s float type (a function
    /// with casts has no lanes, [`Func::lanes_ok`]).
    pub fn tan_ty_of(&self, v: VarId) -> TokenStream {
        match (self.f.lanes, &self.f.vars[v].ty) {
            (None, Some(t)) => self.fty_in(t),
            _ => self.tan_ty(),
        }
    }

    /// A zero tangent of `v`.
    pub fn tan_zero_of(&self, v: VarId) -> TokenStream {
        match (self.f.lanes, &self.f.vars[v].ty) {
            (None, Some(t)) => self.zero_in(t),
            _ => self.tan_zero(),
        }
    }

    /// A zero tangent.
    pub fn tan_zero(&self) -> TokenStream {
        match self.f.lanes {
            Some(_) => {
                let t = self.tan_ty();
                quote!(<#t>::zero())
            }
            None => self.zero(),
        }
    }

    pub fn one(&self) -> TokenStream {
        match &self.f.float {
            FloatTy::F64 | FloatTy::F32 => quote!(1.0),
            FloatTy::Generic(i) => quote!(<#i as ::autodiff::__private::One>::one()),
        }
    }

    fn lit(&self, t: &FloatTy, x: f64) -> TokenStream {
        let l = proc_macro2::Literal::f64_unsuffixed(x);
        match t {
            FloatTy::F64 | FloatTy::F32 => quote!(#l),
            FloatTy::Generic(i) => quote!(::autodiff::__private::lit::<#i>(#l)),
        }
    }

    /// `F::name(args..)` of the float type `t`, spelled so that no trait import is needed.
    pub fn method(&self, t: &FloatTy, name: &str, args: &[TokenStream]) -> TokenStream {
        let m = Ident::new(name, Span::call_site());
        match t {
            FloatTy::F64 => quote!(f64::#m(#(#args),*)),
            FloatTy::F32 => quote!(f32::#m(#(#args),*)),
            FloatTy::Generic(i) => quote!(<#i as ::autodiff::__private::Float>::#m(#(#args),*)),
        }
    }

    pub fn ident(&self, v: VarId) -> &Ident {
        &self.f.vars[v].ident
    }

    /// The tangent of `v` in `_fwd` (active parameters: the documented `dx`; a passive
    /// parameter that an assignment makes active has a local one).
    pub fn tangent_ident(&self, v: VarId) -> Ident {
        let var = &self.f.vars[v];
        if var.is_param && (var.wrt || var.buf.is_some_and(BufRepr::is_out)) {
            format_ident!("d{}", var.ident)
        } else {
            format_ident!("__d_{}", var.ident.to_string().trim_start_matches('_'))
        }
    }

    /// The adjoint of `v` in `_adjoint` (buffer parameters: the documented `dw`).
    pub fn adjoint_ident(&self, v: VarId) -> Ident {
        let var = &self.f.vars[v];
        if var.is_param && var.kind == Kind::Buf {
            format_ident!("d{}", var.ident)
        } else {
            format_ident!("__b_{}", var.ident.to_string().trim_start_matches('_'))
        }
    }

    pub fn stack_ident(&self, v: VarId) -> Ident {
        format_ident!(
            "__stack_{}",
            self.f.vars[v].ident.to_string().trim_start_matches('_')
        )
    }

    pub fn primal(&self, o: &Operand) -> TokenStream {
        match o {
            Operand::Var(v) => self.ident(*v).to_token_stream(),
            Operand::Load(b, i) => {
                let b = self.ident(*b);
                let i = &i.tokens;
                quote!(#b[#i])
            }
            Operand::Const(p) => p.tokens.clone(),
        }
    }

    /// The tangent of an operand, `None` when it carries no derivative.
    pub fn tangent(&self, o: &Operand) -> Option<TokenStream> {
        if !self.a.is_active_operand(o) {
            return None;
        }
        Some(match o {
            Operand::Var(v) => self.tangent_ident(*v).to_token_stream(),
            Operand::Load(b, i) => {
                let d = self.tangent_ident(*b);
                let i = &i.tokens;
                quote!(#d[#i])
            }
            Operand::Const(_) => return None,
        })
    }

    /// The primal value of `op(args)`, whose result is `var`.
    pub fn primal_op(&self, var: VarId, op: Op, args: &[Operand]) -> TokenStream {
        let a: Vec<TokenStream> = args.iter().map(|o| self.primal(o)).collect();
        self.op_of(op, self.ty_of(var), &a)
    }

    /// `op(a..)` computing a value of the float type `t`.
    pub fn op_of(&self, op: Op, t: &FloatTy, a: &[TokenStream]) -> TokenStream {
        match op.form() {
            Form::Identity => a[0].clone(),
            Form::Neg => {
                let x = &a[0];
                quote!(-#x)
            }
            Form::Binary(sym) => {
                let (l, r) = (&a[0], &a[1]);
                let sym: TokenStream = sym.parse().unwrap_or_default();
                quote!(#l #sym #r)
            }
            Form::Method(name) => self.method(t, name, a),
            Form::Cast => self.cast(a[0].clone(), t),
            Form::Helper(name) => {
                let h = Ident::new(name, Span::call_site());
                quote!(::autodiff::__private::#h(#(#a),*))
            }
        }
    }

    /// Renders a partial of an op computing a value of the float type `t`; `ins` are
    /// the operands' values, `out` the result's.
    pub fn render(
        &self,
        d: &D,
        t: &FloatTy,
        ins: &[TokenStream],
        out: &TokenStream,
    ) -> TokenStream {
        match d {
            D::In(i) => ins.get(*i).cloned().unwrap_or_default(),
            D::Out => out.clone(),
            D::One => self.lit(t, 1.0),
            D::Lit(x) => self.lit(t, *x),
            D::Neg(a) => {
                let a = self.render(a, t, ins, out);
                quote!((-#a))
            }
            D::Add(l, r) => self.bin(l, r, quote!(+), t, ins, out),
            D::Sub(l, r) => self.bin(l, r, quote!(-), t, ins, out),
            D::Mul(l, r) => self.bin(l, r, quote!(*), t, ins, out),
            D::Div(l, r) => self.bin(l, r, quote!(/), t, ins, out),
            D::Method(name, args) => {
                let args: Vec<TokenStream> =
                    args.iter().map(|a| self.render(a, t, ins, out)).collect();
                self.method(t, name, &args)
            }
            D::Helper(name, args) => {
                let args: Vec<TokenStream> =
                    args.iter().map(|a| self.render(a, t, ins, out)).collect();
                let h = Ident::new(name, Span::call_site());
                quote!(::autodiff::__private::#h(#(#args),*))
            }
        }
    }

    fn bin(
        &self,
        l: &D,
        r: &D,
        op: TokenStream,
        t: &FloatTy,
        ins: &[TokenStream],
        out: &TokenStream,
    ) -> TokenStream {
        let l = self.render(l, t, ins, out);
        let r = self.render(r, t, ins, out);
        quote!((#l #op #r))
    }

    /// `∂ * t`, simplified where ∂ is ±1; `ty` is the float type of the op's result.
    pub fn scale(
        &self,
        d: &D,
        ty: &FloatTy,
        t: TokenStream,
        ins: &[TokenStream],
        out: &TokenStream,
    ) -> (bool, TokenStream) {
        match d {
            D::One => (false, t),
            D::Neg(inner) if matches!(**inner, D::One) => (true, t),
            // lanes of tangents are scaled on the right (`Lanes * F`)
            d if self.f.lanes.is_some() => {
                let p = self.render(d, ty, ins, out);
                (false, quote!(#t * (#p)))
            }
            d => {
                let p = self.render(d, ty, ins, out);
                (false, quote!(#p * #t))
            }
        }
    }

    /// `target += t` (or `-=`); generic floats have no `AddAssign` bound, so they get `target = target + t`.
    pub fn accumulate(&self, target: &TokenStream, neg: bool, t: &TokenStream) -> TokenStream {
        match (&self.f.float, neg) {
            (FloatTy::Generic(_), false) => quote!(#target = #target + #t;),
            (FloatTy::Generic(_), true) => quote!(#target = #target - #t;),
            (_, false) => quote!(#target += #t;),
            (_, true) => quote!(#target -= #t;),
        }
    }

    /// [`Gen::let_ty`] for the tangent of the binding of `var`.
    pub fn tan_let_ty(&self, var: VarId, rhs: &Rhs) -> TokenStream {
        if self.f.lanes.is_none() {
            return self.let_ty(var, rhs);
        }
        let t = self.tan_ty();
        match rhs {
            Rhs::Op(crate::rules::Op::Copy, args)
                if matches!(args.as_slice(), [Operand::Const(_)]) =>
            {
                quote!(: #t)
            }
            Rhs::Fill {
                elem: Operand::Const(_),
                array: false,
                ..
            } => quote!(: ::std::vec::Vec<#t>),
            Rhs::Fill {
                elem: Operand::Const(_),
                array: true,
                len,
            } => {
                let n = &len.tokens;
                quote!(: [#t; #n])
            }
            _ => quote!(),
        }
    }

    /// `: F` for a binding of `var` whose initialiser is a bare float constant
    /// (`let s: f64 = 0.5;`), where dropping the annotation would leave the literal's
    /// type ambiguous (`F`: `var`'s float type; buffers are of the function's).
    pub fn let_ty(&self, var: VarId, rhs: &Rhs) -> TokenStream {
        let f = self.fty_in(self.ty_of(var));
        match rhs {
            Rhs::Op(crate::rules::Op::Copy, args)
                if matches!(args.as_slice(), [Operand::Const(_)]) =>
            {
                quote!(: #f)
            }
            Rhs::Fill {
                elem: Operand::Const(_),
                array: false,
                ..
            } => quote!(: ::std::vec::Vec<#f>),
            // `[0.0; N]`: without the element type a method call on an element may not
            // resolve (`b[1].ln_1p()` with a user trait of the same name in scope).
            Rhs::Fill {
                elem: Operand::Const(_),
                array: true,
                len,
            } => {
                let n = &len.tokens;
                quote!(: [#f; #n])
            }
            _ => quote!(),
        }
    }

    /// `mut` for a binding that is declared mutable or reassigned later.
    pub fn let_mut(&self, var: VarId, mutable: bool) -> TokenStream {
        if mutable || self.a.assigned[var] {
            quote!(mut)
        } else {
            quote!()
        }
    }

    /// `&buf[lo..hi]` for a view of `buf` (or of its shadow).
    pub fn slice_of(&self, buf: impl ToTokens, lo: &PExpr, hi: &PExpr) -> TokenStream {
        let (l, h) = (bound(lo), bound(hi));
        quote!(#buf[#l..#h])
    }

    /// `assert_eq!(dw.len(), w.len())` for every active slice parameter: a wrong-sized
    /// shadow fails with a clear message instead of an index panic deep inside, and
    /// the compiler learns that one bounds check covers both slices.
    pub fn shadow_length_checks(&self) -> Vec<TokenStream> {
        self.f
            .params
            .iter()
            // not a struct (or a field passed through), whose type is not seen, nor
            // a nested buffer, whose flat buffer is checked
            .filter(|p| {
                !matches!(
                    p.shape,
                    ParamTy::Struct { .. }
                        | ParamTy::Nested { .. }
                        | ParamTy::Field {
                            kind: FieldKind::Passed,
                            ..
                        }
                )
            })
            .filter_map(|p| p.var)
            .filter(|v| {
                let var = &self.f.vars[*v];
                (var.wrt && var.buf == Some(BufRepr::SliceParam))
                    || var.buf == Some(BufRepr::OutSlice)
            })
            .map(|v| {
                let x = self.ident(v);
                let d = self.tangent_ident(v);
                let msg = format!("the shadow `{d}` must have the length of `{x}`");
                quote!(::core::assert_eq!(#d.len(), #x.len(), #msg);)
            })
            .collect()
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
        let args = self.call_args(c);
        quote!(#callee(#(#args),*))
    }

    /// The arguments of the primal call `c`.
    pub fn call_args(&self, c: &Call) -> Vec<TokenStream> {
        c.args
            .iter()
            .map(|a| match a {
                CallArg::Float(o) => self.primal(o),
                CallArg::Buf { var, by_ref } => self.buf_arg(*var, *by_ref),
                CallArg::Passive(p) => p.tokens.clone(),
            })
            .collect()
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
}

impl Gen<'_> {
    /// `for e in dout.iter_mut() { *e = 0 }` for each out-parameter's shadow: the
    /// tangent of an out-parameter's entry value is zero (`_fwd`), and its cotangent
    /// is consumed (`_adjoint`).
    pub fn zero_out_shadows(&self) -> Vec<TokenStream> {
        let z = self.tan_zero();
        (self.f.out.params.iter())
            .map(|v| {
                let d = self.tangent_ident(*v);
                quote!(for __e in #d.iter_mut() { *__e = #z; })
            })
            .collect()
    }

    /// The elements `v[0], v[1], ..` of a tuple output held in the local buffer `v`.
    pub fn tuple_of(&self, v: &TokenStream, n: usize) -> TokenStream {
        let elems = (0..n).map(|i| {
            let i = proc_macro2::Literal::usize_unsuffixed(i);
            quote!(#v[#i])
        });
        quote!((#(#elems,)*))
    }

    /// The returned value and its tangent (or cotangent) types, by the return shape:
    /// `F`, `[F; M]`, `(F, ..)`, `()`.
    pub fn ret_ty(&self) -> TokenStream {
        let f = self.fty();
        match &self.f.out.ret {
            RetShape::Float => f,
            RetShape::Array { len } => quote!([#f; #len]),
            RetShape::Tuple(n) => {
                let fs = (0..*n).map(|_| f.clone());
                quote!((#(#fs,)*))
            }
            RetShape::Unit => quote!(()),
        }
    }
}

/// `if exit { break; }` after each iteration of a loop that can leave early.
pub fn exit_check(exit: Option<&PExpr>) -> Option<TokenStream> {
    exit.map(|e| {
        let e = &e.tokens;
        quote!(if #e { break; })
    })
}

/// A range bound, parenthesised unless it is atomic.
pub fn bound(p: &PExpr) -> TokenStream {
    let t = &p.tokens;
    if p.atomic {
        t.clone()
    } else {
        quote!((#t))
    }
}
