//! Checks and messages: the constructs outside the subset, and the soundness check
//! of every expression copied through as passive code.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{Expr, Stmt as SynStmt};

use super::kinds::Class;
use super::{block_tail, strip_paren, Lowerer};
use crate::ir::*;
use crate::rules::SUPPORTED_METHODS;

impl Lowerer<'_> {
    /// A passive expression that must not read a float value (an index, a bound): the
    /// reverse sweep evaluates it again, when float variables may hold other values.
    pub(super) fn index_expr(&mut self, e: &Expr, what: &str) -> PExpr {
        if self.kinds(e).reads {
            self.diag.error_spanned(
                e,
                format!("`#[differentiate]` cannot use a differentiated value as {what}; indices and loop bounds must be integers computed from passive values"),
            );
        }
        self.passive(e)
    }

    /// The soundness check of an expression that is copied through as passive code:
    /// reports every sub-expression that may carry a derivative but is neither a
    /// float, a buffer nor proven non-float (where it arises, not at every parent),
    /// and every write to a float variable inside it. Returns whether it reported.
    pub(super) fn check_sound(&mut self, e: &Expr) -> bool {
        let mut w = SoundWalk {
            lw: self,
            errs: Vec::new(),
            in_chain: 0,
        };
        w.visit_expr(e);
        let errs = w.errs;
        let any = !errs.is_empty();
        for err in errs {
            self.diag.push(err);
        }
        any
    }

    /// Why `e`, which may carry a derivative, cannot be differentiated.
    fn unsound_message(&self, e: &Expr) -> (TokenStream, String) {
        let f = self.float_ty_tokens();
        let whole = e.to_token_stream();
        let msg = match e {
            Expr::MethodCall(m) => {
                let name = m.method.to_string();
                let span = m.method.to_token_stream();
                let recv = self.kinds(&m.receiver).class;
                if super::kinds::ITERATOR_METHODS.contains(&name.as_str()) {
                    return (span, format!("`#[differentiate]` does not differentiate the iterator method `{name}` here; chains of `iter`, `copied`, `cloned`, `enumerate`, `zip`, `rev`, `skip`, `take`, `step_by` and `map` ending in `sum`, `product` or `fold` are differentiated, anything else needs the loop (`for i in 0..x.len()`)"));
                }
                return match recv {
                    Class::Buf => (span, format!("`#[differentiate]` does not support the method `{name}` on a float buffer; write the loop (`for i in 0..x.len()`)")),
                    _ => (span, format!("`#[differentiate]` does not support the method `{name}` on a differentiated value; supported: {SUPPORTED_METHODS}")),
                };
            }
            Expr::Call(c) => {
                let func = c.func.to_token_stream();
                let path = pretty_tokens(&func);
                if self.is_float_from(e) {
                    return (func, format!("`#[differentiate]` cannot convert a differentiated value with `{path}`; it is a float already (use it as it is, or `i as {f}` for an integer)"));
                }
                if let Expr::Path(p) = &*c.func {
                    if self.is_float_type_path(&p.path) {
                        return (func, format!("`#[differentiate]` does not support `{path}` on differentiated values; supported float functions: {SUPPORTED_METHODS}"));
                    }
                    if self.lookup_path(&c.func).is_some() {
                        return (func, format!("`#[differentiate]` cannot call the closure `{path}` with differentiated values; write a separate `#[differentiate]` function and call it"));
                    }
                    if path.starts_with(char::is_uppercase) && !path.contains("::") {
                        return (func, format!("`#[differentiate]` cannot differentiate through `{path}(..)` of a differentiated value; bind each float with its own `let`"));
                    }
                    return (func, format!("`#[differentiate]` cannot differentiate through the call of `{path}`, which is not a differentiable function; compute the float with supported operations"));
                }
                if matches!(strip_paren(&c.func), Expr::Closure(_)) {
                    return (func, "`#[differentiate]` cannot differentiate through a closure used as a value; bind it with `let` and call it (`let f = |v: f64| ..; f(x)`), or write a separate `#[differentiate]` function".to_string());
                }
                "`#[differentiate]` can only call functions by path (`g(x)`, `m::g(x)`)".to_string()
            }
            Expr::Field(f) if matches!(f.member, syn::Member::Unnamed(_)) => "`#[differentiate]` does not support tuples of differentiated values (`t.0`); bind each float with its own `let`".to_string(),
            Expr::Field(_) => "`#[differentiate]` cannot read a field of a differentiated value; bind each float with its own `let`".to_string(),
            Expr::Closure(c) => {
                return (c.or1_token.to_token_stream(), "`#[differentiate]` cannot differentiate through a closure used as a value; bind it with `let` and call it (`let f = |v: f64| ..; f(x)`), or write a separate `#[differentiate]` function".to_string());
            }
            Expr::Macro(m) => {
                return (m.mac.path.to_token_stream(), format!("`#[differentiate]` cannot differentiate through the macro `{}!`; only `vec![..; n]` may take differentiated values", m.mac.path.to_token_stream()));
            }
            Expr::Array(_) | Expr::Repeat(_) => format!("`#[differentiate]` cannot build an array of differentiated values here; use a local buffer (`let mut v = [0.0; N]; v[0] = ..;`) or a `vec![x; n]` of `{f}`"),
            Expr::Tuple(_) => "`#[differentiate]` does not support tuples of differentiated values; bind each float with its own `let` (tuples of floats cannot be built or destructured)".to_string(),
            Expr::Struct(_) => "`#[differentiate]` cannot build a struct from differentiated values; pass the floats separately".to_string(),
            Expr::Cast(c) => {
                let ty = pretty_tokens(&c.ty.to_token_stream());
                if super::types::is_float_prim(&c.ty) {
                    // only in a generic function: elsewhere a cast to a float type is lowered
                    return (c.ty.to_token_stream(), format!("`#[differentiate]` cannot cast a differentiated value of the generic float type `{f}` to `{ty}`; casts between float types are supported in functions on `f64` or `f32`"));
                }
                return (c.ty.to_token_stream(), format!("`#[differentiate]` cannot cast a differentiated value to `{ty}`"));
            }
            Expr::Reference(_) => "`#[differentiate]` cannot differentiate through a `&mut` borrow of a differentiated value; return the new value instead".to_string(),
            Expr::Range(_) => "`#[differentiate]` cannot make a range of differentiated values; ranges are of integers".to_string(),
            Expr::Index(_) => "`#[differentiate]` can index float slices, arrays and local buffers by name only (`x[i]`)".to_string(),
            other => match unsupported(other) {
                Some(m) => return (span_tokens(unsupported_span(other)), m),
                None => "`#[differentiate]` cannot tell what this expression of differentiated values is; compute floats with the supported operations (see the `#[differentiate]` documentation)".to_string(),
            },
        };
        (whole, msg)
    }

    /// Pushes the names a `let` binds, with their classes, for a walk inside a block;
    /// returns how many were pushed.
    pub(super) fn push_let_overlay(&self, l: &syn::Local) -> usize {
        self.kcache.push_let(self, l)
    }

    pub(super) fn pop_overlay(&self, n: usize) {
        self.kcache.pop(n);
    }
}

struct SoundWalk<'a, 'b> {
    lw: &'a Lowerer<'b>,
    errs: Vec<syn::Error>,
    /// Inside an iterator chain the macro can differentiate (a float), copied through
    /// as part of passive code: its adapters are fine, writes are still reported.
    in_chain: usize,
}

impl<'ast> Visit<'ast> for SoundWalk<'_, '_> {
    fn visit_expr(&mut self, e: &'ast Expr) {
        let lw = self.lw;
        // A write to differentiated state inside code that is copied through.
        let target = match e {
            Expr::Assign(a) => Some(&*a.left),
            Expr::Binary(b) if super::compound_op(&b.op).is_some() => Some(&*b.left),
            _ => None,
        };
        if let Some(t) = target {
            if lw.kinds(t).mentions || lw.kinds(e).varied {
                self.errs.push(syn::Error::new_spanned(e, "`#[differentiate]` cannot assign to a float variable inside this expression; write the assignment as a statement of its own"));
                return;
            }
        }
        if let Expr::Reference(r) = e {
            if r.mutability.is_some() && lw.kinds(&r.expr).mentions {
                self.errs.push(syn::Error::new_spanned(e, "`#[differentiate]` cannot differentiate through a `&mut` borrow of a differentiated value; return the new value instead"));
                return;
            }
        }
        if let Expr::MethodCall(m) = e {
            if lw.is_float_chain(m) {
                self.in_chain += 1;
                syn::visit::visit_expr(self, e);
                self.in_chain -= 1;
                return;
            }
        }
        let k = lw.kinds(e);
        if self.in_chain == 0
            && k.is_unsound()
            && !matches!(e, Expr::Path(_))
            && !self.has_unsound_child(e)
        {
            let (at, msg) = lw.unsound_message(e);
            self.errs.push(syn::Error::new_spanned(at, msg));
            return;
        }
        match e {
            Expr::Closure(c) => {
                let n = lw.kcache.push_closure(c);
                syn::visit::visit_expr_closure(self, c);
                lw.pop_overlay(n);
            }
            _ => syn::visit::visit_expr(self, e),
        }
    }

    fn visit_block(&mut self, b: &'ast syn::Block) {
        let mut pushed = 0;
        for s in &b.stmts {
            self.visit_stmt(s);
            if let SynStmt::Local(l) = s {
                pushed += self.lw.push_let_overlay(l);
            }
        }
        self.lw.pop_overlay(pushed);
    }

    fn visit_stmt_macro(&mut self, m: &'ast syn::StmtMacro) {
        let k = self.lw.token_kinds(m.mac.tokens.clone());
        if k.varied {
            self.errs.push(syn::Error::new_spanned(&m.mac.path, format!("`#[differentiate]` cannot differentiate through the macro `{}!`; only `vec![..; n]` may take differentiated values", m.mac.path.to_token_stream())));
        }
    }

    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

impl SoundWalk<'_, '_> {
    /// Does a direct sub-expression already explain why `e` is unsound?
    fn has_unsound_child(&self, e: &Expr) -> bool {
        struct Children<'a, 'b> {
            lw: &'a Lowerer<'b>,
            found: bool,
        }
        impl<'ast> Visit<'ast> for Children<'_, '_> {
            fn visit_expr(&mut self, e: &'ast Expr) {
                // only the direct children: do not descend
                let mut_borrow = matches!(e, Expr::Reference(r)
                    if r.mutability.is_some() && self.lw.kinds(&r.expr).mentions);
                if mut_borrow || (self.lw.kinds(e).is_unsound() && !matches!(e, Expr::Path(_))) {
                    self.found = true;
                }
            }
            fn visit_block(&mut self, _: &'ast syn::Block) {}
            fn visit_item(&mut self, _: &'ast syn::Item) {}
        }
        if matches!(e, Expr::Closure(_) | Expr::Macro(_)) {
            return false;
        }
        // An iterator chain is reported at its first iterator method, not at the
        // closure it is given or the array it iterates.
        let iter_method = |e: &Expr| match strip_paren(e) {
            Expr::MethodCall(m) => {
                super::kinds::ITERATOR_METHODS.contains(&m.method.to_string().as_str())
            }
            _ => false,
        };
        if let Expr::MethodCall(m) = e {
            if iter_method(e) {
                // the first method the chain does not support is where it stops
                if super::iter::is_supported_iter(&m.receiver) {
                    return false;
                }
                return matches!(strip_paren(&m.receiver), Expr::MethodCall(_))
                    && self.lw.kinds(&m.receiver).is_unsound();
            }
        }
        let mut c = Children {
            lw: self.lw,
            found: false,
        };
        match e {
            Expr::Block(b) => {
                return block_tail(&b.block).is_some_and(|t| self.lw.kinds(t).is_unsound())
            }
            _ => syn::visit::visit_expr(&mut c, e),
        }
        c.found
    }
}

fn span_tokens(span: Span) -> TokenStream {
    let mut i = proc_macro2::Ident::new("x", span);
    i.set_span(span);
    i.to_token_stream()
}

fn pretty_tokens(t: &TokenStream) -> String {
    t.to_string()
        .replace(" :: ", "::")
        .replace(":: ", "::")
        .replace(" ::", "::")
        .replace("< ", "<")
        .replace(" <", "<")
        .replace(" >", ">")
}

/// Constructs outside the contract, with the message saying what to use instead.
pub(super) fn unsupported(e: &Expr) -> Option<String> {
    let what = match e {
        Expr::Closure(_) => return Some("`#[differentiate]` cannot differentiate through a closure used as a value; bind it with `let` and call it (`let f = |v: f64| ..; f(x)`), or write a separate `#[differentiate]` function".into()),
        Expr::Unsafe(_) => return Some("`#[differentiate]` cannot differentiate through `unsafe` code".into()),
        Expr::Async(_) | Expr::Await(_) => "`async`/`.await`",
        Expr::TryBlock(_) | Expr::Try(_) => "`?`",
        Expr::Yield(_) => "`yield`",
        Expr::Const(_) => "a `const` block",
        _ => return None,
    };
    Some(format!("`#[differentiate]` does not support {what}"))
}

pub(super) fn unsupported_span(e: &Expr) -> Span {
    match e {
        Expr::Match(m) => m.match_token.span,
        Expr::Loop(l) => l.loop_token.span,
        Expr::Closure(c) => c.or1_token.span,
        Expr::Unsafe(u) => u.unsafe_token.span,
        other => other.span(),
    }
}
