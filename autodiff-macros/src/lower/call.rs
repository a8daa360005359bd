//! Calls: float functions in path form, and calls of differentiable functions.

use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};
use syn::spanned::Spanned;
use syn::Expr;

use super::kinds::Class;
use super::*;
use crate::ir::*;
use crate::rules::Op;

impl Lowerer<'_> {
    pub(super) fn float_method_path(&self, func: &Expr) -> Option<(String, Span)> {
        let Expr::Path(p) = func else { return None };
        if p.path.segments.len() < 2 {
            return None;
        }
        let last = p.path.segments.last()?;
        let name = last.ident.to_string();
        method_op(&name)?;
        let prefix: Vec<String> = p
            .path
            .segments
            .iter()
            .take(p.path.segments.len() - 1)
            .map(|s| s.ident.to_string())
            .collect();
        let ok = prefix.iter().any(|s| {
            s == "f64" || s == "f32" || s == "Float" || Some(s) == self.generic_float.as_ref()
        }) || p.qself.is_some();
        if ok {
            Some((name, last.ident.span()))
        } else {
            None
        }
    }

    pub(super) fn lower_call(&mut self, c: &syn::ExprCall, out: &mut Block) -> Operand {
        if let Some(idx) = self.closure_of(&c.func) {
            return self.lower_closure_call(idx, c, out);
        }
        if let Some(cast) = self.cast_of_from(c) {
            let v = self.lower_value(&cast, out);
            // `cast` was a temporary tree
            self.kcache.clear();
            return v;
        }
        if let Some((name, span)) = self.float_method_path(&c.func) {
            let Some(op) = method_op(&name) else {
                return Operand::Const(self.zero_pexpr());
            };
            let mut args = Vec::new();
            for (i, a) in c.args.iter().enumerate() {
                if op == Op::Powi && i == 1 {
                    let p = self.index_expr(a, "an integer exponent");
                    args.push(Operand::Const(p));
                } else {
                    args.push(self.lower_value(a, out));
                }
            }
            if args.len() != op.arity() {
                self.diag
                    .error(span, format!("`{name}` takes {} argument(s)", op.arity()));
                return Operand::Const(self.zero_pexpr());
            }
            return self.emit_op(op, args, c.span(), out);
        }
        let Expr::Path(p) = &*c.func else {
            self.diag.error(
                c.func.span(),
                "`#[differentiate]` can only call functions by path (`g(x)`, `m::g(x)`)",
            );
            return Operand::Const(self.zero_pexpr());
        };
        if p.qself.is_some() {
            self.diag.error(c.func.span(), "`#[differentiate]` does not support qualified paths (`<T as Trait>::f`) for differentiable calls");
            return Operand::Const(self.zero_pexpr());
        }
        let Some(last) = p.path.segments.last() else {
            return Operand::Const(self.zero_pexpr());
        };
        if self.is_float_type_path(&p.path) {
            self.diag.error(
                last.ident.span(),
                format!("`#[differentiate]` does not support `{}` on differentiated values; supported float functions: {SUPPORTED_METHODS}", p.path.to_token_stream()),
            );
            return Operand::Const(self.zero_pexpr());
        }
        let mut prefix = TokenStream::new();
        if let Some(c) = &p.path.leading_colon {
            c.to_tokens(&mut prefix);
        }
        for seg in p.path.segments.iter().take(p.path.segments.len() - 1) {
            seg.to_tokens(&mut prefix);
            quote!(::).to_tokens(&mut prefix);
        }
        let generics = match &last.arguments {
            syn::PathArguments::AngleBracketed(a) => quote!(::#a),
            syn::PathArguments::None => quote!(),
            syn::PathArguments::Parenthesized(_) => {
                self.diag
                    .error(last.span(), "unexpected parenthesised arguments");
                quote!()
            }
        };
        let args = self.lower_call_args(c.args.iter(), out);
        let call = Call {
            callee: Callee::Path {
                prefix,
                name: last.ident.clone(),
                generics,
            },
            args,
        };
        self.emit_call(call, c.span(), out)
    }

    /// `f64::from(h)` (also `f32::from`) of a differentiated float: the cast
    /// `(h) as f64`, lowered as such (`precision.rs` gives `h` its type).
    fn cast_of_from(&self, c: &syn::ExprCall) -> Option<Expr> {
        let Expr::Path(p) = &*c.func else { return None };
        let segs = &p.path.segments;
        let ty = segs.first()?.ident.to_string();
        let direct = p.qself.is_none()
            && segs.len() == 2
            && segs[1].ident == "from"
            && matches!(ty.as_str(), "f64" | "f32");
        if !direct || c.args.len() != 1 || self.kinds(&c.args[0]).class != kinds::Class::Float {
            return None;
        }
        let (arg, target) = (&c.args[0], &segs[0].ident);
        Some(syn::parse_quote_spanned!(c.func.span()=> ((#arg) as #target)))
    }

    pub(super) fn lower_call_args<'a>(
        &mut self,
        args: impl Iterator<Item = &'a Expr>,
        out: &mut Block,
    ) -> Vec<CallArg> {
        let mut res = Vec::new();
        for a in args {
            let inner = strip_paren(a);
            let (by_ref, target, mutable) = match inner {
                Expr::Reference(r) => (true, strip_paren(&r.expr), r.mutability.is_some()),
                other => (false, other, false),
            };
            if let Some(v) = self.lookup_path(target) {
                if self.vars[v].kind == Kind::Buf {
                    if mutable {
                        self.diag.error(a.span(), "`#[differentiate]` cannot pass a float buffer by `&mut`; return the new value instead");
                    } else if self.vars[v].buf.is_some_and(BufRepr::is_out) {
                        // The callee could write it, which this function's sweeps would not see.
                        self.diag.error(a.span(), format!("`#[differentiate]` cannot pass the out-parameter `{}` to a call; bind a view to read it (`let v = &{0}[..];`, then pass `v`), or write its elements here", self.vars[v].ident));
                    }
                    res.push(CallArg::Buf { var: v, by_ref });
                    continue;
                }
            }
            let k = self.kinds(a);
            match k.class {
                Class::Float => {
                    if mutable {
                        self.check_sound(a);
                        continue;
                    }
                    if by_ref {
                        self.diag.error_spanned(
                            a,
                            "`#[differentiate]` passes float scalars by value; remove the `&`",
                        );
                    }
                    let op = self.lower_value(target, out);
                    res.push(CallArg::Float(op));
                }
                Class::Buf => {
                    self.diag.error(a.span(), "`#[differentiate]` can pass float buffers to calls by name only (`g(&buf)`)");
                }
                Class::Unknown if k.is_unsound() => {
                    let literal =
                        matches!(target, Expr::Array(_) | Expr::Tuple(_) | Expr::Repeat(_));
                    if literal || !self.check_sound(a) {
                        self.diag.error_spanned(
                            a,
                            "`#[differentiate]` cannot pass this expression of differentiated values to a call; pass a float, a float slice, a view `&w[a..b]` or a local buffer (`let mut v = [0.0; N]; v[0] = ..;`)",
                        );
                    }
                }
                // A field (`self.k`, or a name bound from one) next to float arguments
                // is taken for a float of the model: it gets a zero shadow. If it is
                // not a float, the generated call does not compile (never a silent
                // guess); an integer field is bound with its type (`let n: usize = ..`).
                Class::Unknown if !by_ref && self.is_field_value(target) => {
                    let p = self.passive(target);
                    res.push(CallArg::Float(Operand::Const(p)));
                }
                Class::Unknown if !by_ref => {
                    // A float argument needs a shadow and any other none: the callee's
                    // signature depends on what this is, and the syntax does not say.
                    let f = self.float_ty_tokens();
                    self.diag.error_spanned(
                        a,
                        format!("`#[differentiate]` cannot tell whether this argument is a float (which gets a shadow in the differentiated call) or not; bind it with its type first (`let v: {f} = ..;` or `let n: usize = ..;`)"),
                    );
                }
                Class::Unknown | Class::NonFloat => {
                    self.check_sound(a);
                    res.push(CallArg::Passive(self.passive(a)));
                }
            }
        }
        res
    }

    /// `self.k`, `p.w`, or a name bound (untyped) from such a field.
    fn is_field_value(&self, e: &Expr) -> bool {
        match strip_paren(e) {
            Expr::Field(f) => {
                matches!(f.member, syn::Member::Named(_)) && !self.kinds(&f.base).reads
            }
            p @ Expr::Path(_) => self.lookup_path(p).is_some_and(|v| self.facts[v].field),
            _ => false,
        }
    }

    pub(super) fn emit_call(&mut self, call: Call, span: Span, out: &mut Block) -> Operand {
        let t = self.new_tmp(span);
        out.stmts.push(Stmt::Let {
            var: t,
            rhs: Rhs::Call(call),
            mutable: false,
        });
        Operand::Var(t)
    }
}
