//! Local closures (`let sq = |v: f64| v * v;`), inlined where they are called:
//! the call `sq(e)` is lowered as the block `{ let v = e; v * v }`, so no closure
//! is left in the generated code. A closure reads its captures when it is called,
//! which is what inlining does; one that would read another variable of the same
//! name by then (a capture shadowed before the call), that changes what it
//! captures, or that moves its captures, is rejected.

use quote::ToTokens;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{Expr, Pat};

use super::kinds::{Class, Kinds};
use super::*;
use crate::ir::*;
use crate::rules::Op;

/// A closure bound by `let`, waiting to be inlined.
pub(super) struct ClosureDef {
    pub expr: syn::ExprClosure,
    /// Every name the body reads from outside, and the variable it meant then.
    captures: Vec<(String, Option<VarId>)>,
}

impl Lowerer<'_> {
    /// `let name = |params| body;`: recorded, nothing emitted.
    pub(super) fn lower_let_closure(
        &mut self,
        name: &Ident,
        c: &syn::ExprClosure,
        out: &mut Block,
    ) {
        let params: Vec<String> = closure_param_names(c);
        let mut names = Vec::new();
        collect_idents(c.body.to_token_stream(), &mut names);
        names.retain(|n| !params.contains(n));
        names.sort();
        names.dedup();
        let captures: Vec<(String, Option<VarId>)> = names
            .into_iter()
            .map(|n| {
                let v = self.lookup(&n);
                (n, v)
            })
            .collect();
        let float_capture = captures
            .iter()
            .any(|(_, v)| v.is_some_and(|v| self.vars[v].kind != Kind::Passive));
        if c.capture.is_some() && float_capture {
            self.diag.error_spanned(
                c.capture,
                "`#[differentiate]` inlines closures where they are called; a `move` closure of differentiated values would read them as they were when it was made: remove `move`",
            );
        }
        if let Some(at) = super::loops::closure_returns(c) {
            self.diag.error_spanned(
                at,
                "`#[differentiate]` inlines closures where they are called, so a `return` (or `?`) inside one would return from the function; compute the value with `if`/`else` instead",
            );
        }
        if let Some(at) = writes_captured(c, &params) {
            self.diag.error_spanned(
                at,
                "`#[differentiate]` cannot differentiate a closure that changes what it captures; write the assignment in the function body, or return the new value from the closure",
            );
        }
        // It is also emitted as written, for its passive uses (an index `w[idx(k)]`,
        // a condition `f(x).is_finite()`), which need no derivative.
        // (Only with typed parameters: unused in the generated code, an untyped one
        // could not be inferred.)
        let typed = c.inputs.iter().all(|p| matches!(p, Pat::Type(_)));
        let passive = typed.then(|| self.passive(&Expr::Closure(c.clone())));
        let id = self.new_var(&name.to_string(), Kind::Passive, name.span(), None);
        self.facts[id].closure = Some(self.closures.len());
        if let Some(p) = passive {
            out.stmts.push(Stmt::Let {
                var: id,
                rhs: Rhs::Passive(p),
                mutable: false,
            });
        }
        self.closures.push(ClosureDef {
            expr: c.clone(),
            captures,
        });
        self.bind(&name.to_string(), id);
    }

    /// The closure a call's callee names, if it is one.
    pub(super) fn closure_of(&self, func: &Expr) -> Option<usize> {
        self.lookup_path(func).and_then(|v| self.facts[v].closure)
    }

    /// The kinds of a call of a local closure: its body's, with the parameters
    /// bound to the arguments' kinds.
    pub(super) fn closure_call_kinds(&self, idx: usize, args: &[Kinds]) -> Kinds {
        let Some(def) = self.closures.get(idx) else {
            return Kinds::of(Class::Unknown);
        };
        let names = closure_param_names(&def.expr);
        let n = names.len();
        self.kcache.push_names(
            names.into_iter().zip(
                args.iter()
                    .copied()
                    .chain(std::iter::repeat(Kinds::of(Class::Unknown))),
            ),
        );
        let k = self.kinds(&def.expr.body);
        self.kcache.pop(n);
        k
    }

    /// `c(args)`: the closure's body with its parameters bound to the arguments.
    pub(super) fn lower_closure_call(
        &mut self,
        idx: usize,
        call: &syn::ExprCall,
        out: &mut Block,
    ) -> Operand {
        let Some(def) = self.closures.get(idx) else {
            return Operand::Const(self.zero_pexpr());
        };
        let (expr, captures) = (def.expr.clone(), def.captures.clone());
        for (name, was) in &captures {
            if self.lookup(name) != *was {
                self.diag.error_spanned(
                    &call.func,
                    format!("`#[differentiate]` inlines this closure here, where `{name}` is another variable than where the closure was made; rename one of them"),
                );
                return Operand::Const(self.zero_pexpr());
            }
        }
        if expr.inputs.len() != call.args.len() {
            self.diag.error_spanned(
                call,
                format!("this closure takes {} argument(s)", expr.inputs.len()),
            );
            return Operand::Const(self.zero_pexpr());
        }
        // the arguments, in the caller's scope
        let mut values = Vec::new();
        for a in &call.args {
            let v = if self.kinds(a).class == Class::Float {
                Ok(self.lower_value(a, out))
            } else {
                self.check_sound(a);
                Err(self.passive(a))
            };
            values.push(v);
        }
        self.scopes.push(Vec::new());
        for (pat, v) in expr.inputs.iter().zip(values) {
            self.bind_closure_param(pat, v, out);
        }
        let result = if self.kinds(&expr.body).class == Class::Float {
            self.lower_value(&expr.body, out)
        } else {
            self.diag.error_spanned(
                &expr.body,
                "`#[differentiate]` calls closures that compute a float; this one computes something else",
            );
            Operand::Const(self.zero_pexpr())
        };
        self.scopes.pop();
        self.kcache.clear();
        result
    }

    fn bind_closure_param(&mut self, pat: &Pat, v: Result<Operand, PExpr>, out: &mut Block) {
        let pat = match pat {
            Pat::Type(t) => &*t.pat,
            p => p,
        };
        let Pat::Ident(pi) = pat else {
            self.diag.error(
                pat.span(),
                "`#[differentiate]` binds closure parameters to plain names",
            );
            return;
        };
        let name = pi.ident.to_string();
        let id = match v {
            Ok(op) => {
                let id = self.new_var(&name, Kind::Float, pi.ident.span(), None);
                out.stmts.push(Stmt::Let {
                    var: id,
                    rhs: Rhs::Op(Op::Copy, vec![op]),
                    mutable: pi.mutability.is_some(),
                });
                id
            }
            Err(p) => {
                let id = self.new_var(&name, Kind::Passive, pi.ident.span(), None);
                out.stmts.push(Stmt::Let {
                    var: id,
                    rhs: Rhs::Passive(p),
                    mutable: pi.mutability.is_some(),
                });
                id
            }
        };
        self.bind(&name, id);
    }
}

fn closure_param_names(c: &syn::ExprClosure) -> Vec<String> {
    let mut names = Vec::new();
    for i in &c.inputs {
        scope::pat_idents(i, &mut names);
    }
    names.into_iter().map(|i| i.to_string()).collect()
}

/// An assignment (or `&mut`) in the body to a name the closure does not bind.
fn writes_captured(c: &syn::ExprClosure, params: &[String]) -> Option<Expr> {
    struct V<'a> {
        params: &'a [String],
        found: Option<Expr>,
    }
    impl V<'_> {
        fn target(&mut self, e: &Expr, whole: &Expr) {
            if let Expr::Path(p) = strip_paren(e) {
                if let Some(i) = p.path.get_ident() {
                    if !self.params.contains(&i.to_string()) && self.found.is_none() {
                        self.found = Some(whole.clone());
                    }
                }
            }
        }
    }
    impl<'a> Visit<'a> for V<'_> {
        fn visit_expr(&mut self, e: &'a Expr) {
            match e {
                Expr::Assign(a) => self.target(&a.left, e),
                Expr::Binary(b) if crate::rules::compound_op(&b.op).is_some() => {
                    self.target(&b.left, e)
                }
                Expr::Reference(r) if r.mutability.is_some() => self.target(&r.expr, e),
                _ => {}
            }
            syn::visit::visit_expr(self, e);
        }
    }
    struct Lets(Vec<String>);
    impl<'a> Visit<'a> for Lets {
        fn visit_local(&mut self, l: &'a syn::Local) {
            let mut names = Vec::new();
            scope::pat_idents(&l.pat, &mut names);
            self.0.extend(names.into_iter().map(|i| i.to_string()));
            syn::visit::visit_local(self, l);
        }
    }
    let mut lets = Lets(params.to_vec());
    lets.visit_expr(&c.body);
    let mut v = V {
        params: &lets.0,
        found: None,
    };
    v.visit_expr(&c.body);
    v.found
}
