//! `match` and `loop`, desugared into the `if`/`else` chains and `while` loops the
//! rest of lowering handles:
//!
//! - `match s { P1 if g => a, P2 => b, _ => c }` becomes
//!   `{ let m = s; if matches!(m, P1) && g { a } else if matches!(m, P2) { b } else { c } }`;
//!   a name bound to the whole value (`v => ..`, `a if a <= 1.0 => ..`) is `m`
//!   itself, names inside a pattern of a passive value (`Some(k) => ..`) are
//!   bound by destructuring it again in the arm. The last arm is the `else`: the
//!   original `match` is exhaustive (it is compiled too).
//! - `loop { .. break v; .. }` becomes `let r; while true { .. { r = v; break; } .. }`.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::visit_mut::VisitMut;
use syn::{Expr, Pat};

use super::*;
use crate::ir::*;

impl Lowerer<'_> {
    /// `match` as a statement.
    pub(super) fn lower_match_stmt(&mut self, m: &syn::ExprMatch, out: &mut Block) -> Exits {
        let exits = match self.desugar_match(m) {
            Some(block) => self.lower_expr_stmt(&block, out),
            None => Exits::default(),
        };
        // the desugared block was a temporary tree
        self.kcache.clear();
        exits
    }

    /// `match` as a float value.
    pub(super) fn lower_match_value(&mut self, m: &syn::ExprMatch, out: &mut Block) -> Operand {
        let value = match self.desugar_match(m) {
            Some(block) => self.lower_value(&block, out),
            None => Operand::Const(self.zero_pexpr()),
        };
        self.kcache.clear();
        value
    }

    /// The block `{ let m = s; if .. else .. }` a `match` means.
    fn desugar_match(&mut self, m: &syn::ExprMatch) -> Option<Expr> {
        let span = m.match_token.span;
        let scrut = format_ident!("__match{}", self.vars.len(), span = Span::mixed_site());
        let scrut = Ident::new(&scrut.to_string(), span);
        let passive = self.kinds(&m.expr).class != kinds::Class::Float;
        let mut chain: Option<Expr> = None;
        for (i, arm) in m.arms.iter().enumerate().rev() {
            let last = i + 1 == m.arms.len();
            let (test, binds) = self.arm_test(&arm.pat, &scrut, passive)?;
            let body = &arm.body;
            let bound_body: Expr = syn::parse_quote_spanned!(span=> { #binds #body });
            let cond = match (&arm.guard, test) {
                (None, t) => t,
                (Some((_, g)), Some(t)) => Some(quote_spanned!(span=> #t && { #binds #g })),
                (Some((_, g)), None) => Some(quote_spanned!(span=> { #binds #g })),
            };
            chain = Some(match (cond, chain) {
                // the last arm, and an arm that always matches, is the `else`
                (_, None) if last => bound_body,
                (None, _) => bound_body,
                (Some(c), None) => syn::parse_quote_spanned!(span=> if #c #bound_body),
                (Some(c), Some(rest)) => {
                    syn::parse_quote_spanned!(span=> if #c #bound_body else { #rest })
                }
            });
        }
        let chain = chain?;
        let e = &m.expr;
        Some(syn::parse_quote_spanned!(span=> { let #scrut = #e; #chain }))
    }

    /// The test of an arm (`None`: always matches) and the `let`s binding its names.
    fn arm_test(
        &mut self,
        pat: &Pat,
        scrut: &Ident,
        passive: bool,
    ) -> Option<(Option<TokenStream>, TokenStream)> {
        match pat {
            Pat::Wild(_) => Some((None, quote!())),
            Pat::Ident(pi) if pi.subpat.is_none() && pi.by_ref.is_none() => {
                // a name for the whole value, unless it is a unit variant or a constant
                let name = pi.ident.to_string();
                if name.starts_with(char::is_uppercase) {
                    return Some((Some(quote!(matches!(#scrut, #pat))), quote!()));
                }
                let id = &pi.ident;
                Some((None, quote!(let #id = #scrut;)))
            }
            _ => {
                let mut names = Vec::new();
                scope::pat_idents(pat, &mut names);
                names.retain(|n| !n.to_string().starts_with(char::is_uppercase));
                if !passive {
                    self.diag.error_spanned(
                        pat,
                        "`#[differentiate]` matches a float with `_`, a name and guards (`a if a <= 1.0 => ..`), not with patterns",
                    );
                    return None;
                }
                let test = quote!(matches!(#scrut, #pat));
                if names.is_empty() {
                    return Some((Some(test), quote!()));
                }
                // destructure the passive value again inside the arm
                let mut p = pat.clone();
                StripAt.visit_pat_mut(&mut p);
                // one simple `let` each: passive `let`s are recomputed in the reverse sweep
                let binds = names.iter().map(
                    |n| quote!(let #n = match #scrut { #p => #n, _ => ::core::unreachable!() };),
                );
                Some((Some(test), quote!(#(#binds)*)))
            }
        }
    }

    /// `loop` as a statement: `while true`, its `break`s as they are.
    pub(super) fn lower_loop_stmt(&mut self, l: &syn::ExprLoop, out: &mut Block) -> Exits {
        if breaks_with_value(&l.body) {
            // a value nobody reads: still computed
            let _ = self.lower_loop_value(l, out);
            return Exits::default();
        }
        let w = while_true(l, &l.body);
        self.lower_while(&w, out)
    }

    /// `loop` as a value: `let r; while true { .. { r = v; break; } .. } r`.
    pub(super) fn lower_loop_value(&mut self, l: &syn::ExprLoop, out: &mut Block) -> Operand {
        let span = l.loop_token.span;
        let result = Ident::new(&format!("__loop{}", self.vars.len()), span);
        let mut body = l.body.clone();
        BreakValue {
            result: &result,
            depth: 0,
        }
        .visit_block_mut(&mut body);
        let w = while_true(l, &body);
        let block: Expr = syn::parse_quote_spanned!(span=> { let #result; #w #result });
        self.lower_value(&block, out)
    }
}

fn while_true(l: &syn::ExprLoop, body: &syn::Block) -> syn::ExprWhile {
    let span = l.loop_token.span;
    syn::ExprWhile {
        attrs: l.attrs.clone(),
        label: l.label.clone(),
        while_token: syn::Token![while](span),
        cond: Box::new(syn::parse_quote_spanned!(span=> true)),
        body: body.clone(),
    }
}

/// Does a `break` of this loop (not of a nested one) carry a value?
fn breaks_with_value(b: &syn::Block) -> bool {
    struct V(bool, usize);
    impl<'a> syn::visit::Visit<'a> for V {
        fn visit_expr_break(&mut self, e: &'a syn::ExprBreak) {
            if self.1 == 0 && e.expr.is_some() {
                self.0 = true;
            }
        }
        fn visit_expr_loop(&mut self, e: &'a syn::ExprLoop) {
            self.1 += 1;
            syn::visit::visit_expr_loop(self, e);
            self.1 -= 1;
        }
        fn visit_expr_while(&mut self, e: &'a syn::ExprWhile) {
            self.1 += 1;
            syn::visit::visit_expr_while(self, e);
            self.1 -= 1;
        }
        fn visit_expr_for_loop(&mut self, e: &'a syn::ExprForLoop) {
            self.1 += 1;
            syn::visit::visit_expr_for_loop(self, e);
            self.1 -= 1;
        }
        fn visit_expr_closure(&mut self, _: &'a syn::ExprClosure) {}
    }
    let mut v = V(false, 0);
    syn::visit::Visit::visit_block(&mut v, b);
    v.0
}

/// Rewrites `break v` of this loop into `{ r = v; break; }`.
struct BreakValue<'a> {
    result: &'a Ident,
    depth: usize,
}

impl VisitMut for BreakValue<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        match e {
            Expr::Break(b) if self.depth == 0 && b.expr.is_some() && b.label.is_none() => {
                if let Some(v) = b.expr.take() {
                    let r = self.result;
                    let span = b.break_token.span;
                    *e = syn::parse_quote_spanned!(span=> { #r = #v; break })
                }
            }
            Expr::Loop(_) | Expr::While(_) | Expr::ForLoop(_) => {
                self.depth += 1;
                syn::visit_mut::visit_expr_mut(self, e);
                self.depth -= 1;
            }
            Expr::Closure(_) => {}
            _ => syn::visit_mut::visit_expr_mut(self, e),
        }
    }
}

/// `name @ pat` → `name` for the re-destructuring of a pattern (its bindings only).
struct StripAt;

impl VisitMut for StripAt {
    fn visit_pat_mut(&mut self, p: &mut Pat) {
        if let Pat::Ident(pi) = p {
            pi.subpat = None;
        }
        syn::visit_mut::visit_pat_mut(self, p);
    }
}
