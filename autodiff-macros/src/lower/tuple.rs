//! Tuples of floats, taken apart at compile time: `let (a, b) = (x, y);`,
//! `let (s, c) = x.sin_cos();`, `let p = (x, 2.0 * x); p.0 * p.1`. Every element
//! becomes a variable of its own (all of them evaluated before any is bound, as
//! Rust does); a tuple variable is the list of its elements' variables, and
//! `p.0` reads the first. No tuple is left in the generated code.

use syn::spanned::Spanned;
use syn::{Expr, Member, Pat};

use super::kinds::{Class, Kinds};
use super::*;
use crate::ir::*;
use crate::rules::Op;

/// An element of a tuple value, lowered.
#[derive(Clone)]
pub(super) enum TElem {
    Float(Operand),
    Passive(PExpr),
    Tuple(Vec<TElem>),
}

impl Lowerer<'_> {
    /// Is `e` a tuple this module takes apart: a literal with a float inside,
    /// `x.sin_cos()` of a float, or a tuple variable?
    pub(super) fn is_float_tuple(&self, e: &Expr) -> bool {
        match strip_paren(e) {
            Expr::Tuple(t) => t
                .elems
                .iter()
                .any(|x| self.is_float_tuple(x) || matches!(self.kinds(x).class, Class::Float)),
            Expr::MethodCall(m) => is_sin_cos(m) && self.kinds(&m.receiver).class == Class::Float,
            Expr::Path(_) => self.tuple_var(e).is_some(),
            _ => false,
        }
    }

    /// The elements of a tuple variable named by `e`.
    pub(super) fn tuple_var(&self, e: &Expr) -> Option<&Vec<VarId>> {
        self.lookup_path(e)
            .and_then(|v| self.facts[v].tuple.as_ref())
    }

    /// The variable `p.0` (also `p.1.0`) reads, when `p` is a tuple variable.
    pub(super) fn tuple_field(&self, f: &syn::ExprField) -> Option<VarId> {
        let Member::Unnamed(i) = &f.member else {
            return None;
        };
        let elems = match strip_paren(&f.base) {
            Expr::Field(inner) => {
                let v = self.tuple_field(inner)?;
                self.facts[v].tuple.as_ref()?
            }
            base => self.tuple_var(base)?,
        };
        elems.get(i.index as usize).copied()
    }

    /// The kinds of `p.0`, `x.sin_cos().1`, or `None` when it is another field.
    pub(super) fn tuple_field_kinds(&self, f: &syn::ExprField) -> Option<Kinds> {
        if let Some(v) = self.tuple_field(f) {
            return Some(self.var_kinds(v));
        }
        match (strip_paren(&f.base), &f.member) {
            (Expr::MethodCall(m), Member::Unnamed(i)) if is_sin_cos(m) && i.index < 2 => {
                let r = self.kinds(&m.receiver);
                (r.class == Class::Float).then_some(r)
            }
            _ => None,
        }
    }

    /// `p.0` or `x.sin_cos().0` as a float operand.
    pub(super) fn lower_tuple_field(
        &mut self,
        f: &syn::ExprField,
        out: &mut Block,
    ) -> Option<Operand> {
        if let Some(v) = self.tuple_field(f) {
            return Some(match self.vars[v].kind {
                Kind::Passive => Operand::Const(PExpr::var(&self.vars[v].ident.clone(), v)),
                _ => Operand::Var(v),
            });
        }
        let (Expr::MethodCall(m), Member::Unnamed(i)) = (strip_paren(&f.base), &f.member) else {
            return None;
        };
        if !is_sin_cos(m) || i.index > 1 {
            return None;
        }
        let r = self.lower_value(&m.receiver, out);
        let op = if i.index == 0 { Op::Sin } else { Op::Cos };
        Some(self.emit_op(op, vec![r], f.span(), out))
    }

    /// The elements of a tuple-valued expression, every one lowered.
    pub(super) fn lower_tuple(&mut self, e: &Expr, out: &mut Block) -> Option<Vec<TElem>> {
        match strip_paren(e) {
            Expr::Tuple(t) => {
                let mut elems = Vec::new();
                for x in &t.elems {
                    elems.push(self.lower_tuple_elem(x, out)?);
                }
                Some(elems)
            }
            Expr::MethodCall(m) if is_sin_cos(m) => {
                let r = self.lower_value(&m.receiver, out);
                // each partial reads the other's value (see the rows in rules.rs)
                let c0 = self.emit_op(Op::CosValue, vec![r.clone()], m.span(), out);
                let s = self.emit_op(Op::SinGivenCos, vec![r.clone(), c0], m.span(), out);
                let c = self.emit_op(Op::CosGivenSin, vec![r, s.clone()], m.span(), out);
                Some(vec![TElem::Float(s), TElem::Float(c)])
            }
            path @ Expr::Path(_) => {
                let elems = self.tuple_var(path)?.clone();
                Some(elems.into_iter().map(|v| self.var_elem(v)).collect())
            }
            other => {
                self.diag.error_spanned(other, "`#[differentiate]` takes apart tuple literals, `x.sin_cos()` and tuple variables");
                None
            }
        }
    }

    fn var_elem(&self, v: VarId) -> TElem {
        if let Some(elems) = &self.facts[v].tuple {
            return TElem::Tuple(elems.iter().map(|e| self.var_elem(*e)).collect());
        }
        match self.vars[v].kind {
            Kind::Passive => TElem::Passive(PExpr::var(&self.vars[v].ident, v)),
            _ => TElem::Float(Operand::Var(v)),
        }
    }

    fn lower_tuple_elem(&mut self, x: &Expr, out: &mut Block) -> Option<TElem> {
        if self.is_float_tuple(x) {
            return self.lower_tuple(x, out).map(TElem::Tuple);
        }
        let k = self.kinds(x);
        if k.class == Class::Float {
            return Some(TElem::Float(self.lower_value(x, out)));
        }
        if self.check_sound(x) {
            return None;
        }
        Some(TElem::Passive(self.passive(x)))
    }

    /// Binds a pattern to a lowered tuple element.
    pub(super) fn bind_tuple(&mut self, pat: &Pat, elem: TElem, mutable: bool, out: &mut Block) {
        match (pat, elem) {
            (Pat::Type(t), e) => self.bind_tuple(&t.pat, e, mutable, out),
            (Pat::Paren(p), e) => self.bind_tuple(&p.pat, e, mutable, out),
            (Pat::Wild(_), _) => {}
            (Pat::Tuple(t), TElem::Tuple(elems)) if t.elems.len() == elems.len() => {
                for (p, e) in t.elems.iter().zip(elems) {
                    self.bind_tuple(p, e, mutable, out);
                }
            }
            (Pat::Ident(pi), e) if pi.subpat.is_none() => {
                let m = mutable || pi.mutability.is_some();
                let id = self.bind_elem_var(&pi.ident.to_string(), pi.ident.span(), e, m, out);
                self.bind(&pi.ident.to_string(), id);
            }
            (other, _) => {
                self.diag.error_spanned(
                    other,
                    "`#[differentiate]` binds the elements of a tuple to names and tuple patterns (`(a, b)`)",
                );
            }
        }
    }

    /// A new variable holding one element (a tuple variable for a nested tuple).
    fn bind_elem_var(
        &mut self,
        name: &str,
        span: proc_macro2::Span,
        e: TElem,
        mutable: bool,
        out: &mut Block,
    ) -> VarId {
        match e {
            TElem::Float(op) => {
                let id = self.new_var(name, Kind::Float, span, None);
                out.stmts.push(Stmt::Let {
                    var: id,
                    rhs: Rhs::Op(Op::Copy, vec![op]),
                    mutable,
                });
                id
            }
            TElem::Passive(p) => {
                let id = self.new_var(name, Kind::Passive, span, None);
                out.stmts.push(Stmt::Let {
                    var: id,
                    rhs: Rhs::Passive(p),
                    mutable,
                });
                id
            }
            TElem::Tuple(elems) => {
                let id = self.new_var(name, Kind::Passive, span, None);
                let mut ids = Vec::new();
                for (i, e) in elems.into_iter().enumerate() {
                    ids.push(self.bind_elem_var(&format!("{name}_{i}"), span, e, mutable, out));
                }
                self.facts[id].tuple = Some(ids);
                id
            }
        }
    }

    /// `let pat = <tuple>;`
    pub(super) fn lower_let_tuple(&mut self, pat: &Pat, init: &Expr, out: &mut Block) {
        if let Some(elems) = self.lower_tuple(init, out) {
            self.bind_tuple(pat, TElem::Tuple(elems), false, out);
        }
        self.kcache.clear();
    }
}

fn is_sin_cos(m: &syn::ExprMethodCall) -> bool {
    m.method == "sin_cos" && m.args.is_empty()
}
