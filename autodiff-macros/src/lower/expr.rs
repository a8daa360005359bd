//! Float expressions flattened into three-address statements.

use proc_macro2::Span;
use quote::{quote, ToTokens};
use syn::spanned::Spanned;
use syn::{BinOp, Expr, UnOp};

use super::kinds::Class;
use super::*;
use crate::ir::*;
use crate::rules::Op;

impl Lowerer<'_> {
    /// Lowers an expression of float kind to an operand, emitting statements for its parts.
    pub(super) fn lower_value(&mut self, e: &Expr, out: &mut Block) -> Operand {
        if let Some(msg) = unsupported(e) {
            self.diag.error(unsupported_span(e), msg);
            return Operand::Const(self.zero_pexpr());
        }
        let k = self.kinds(e);
        if k.is_unsound() {
            if !self.check_sound(e) {
                self.diag.error_spanned(
                    e,
                    "`#[differentiate]` does not support this expression on differentiated values",
                );
            }
            return Operand::Const(self.zero_pexpr());
        }
        // Constant: reads no float value (a length, a literal, a passive value), so it
        // may also be evaluated again in the reverse sweep.
        if !k.reads && !matches!(e, Expr::If(_) | Expr::Block(_)) {
            let p = self.passive(e);
            return match e {
                Expr::Lit(_) | Expr::Path(_) => Operand::Const(p),
                _ => {
                    let t = p.tokens;
                    Operand::Const(PExpr {
                        tokens: quote!((#t)),
                        reads: p.reads,
                        atomic: true,
                    })
                }
            };
        }
        match e {
            Expr::Paren(p) => self.lower_value(&p.expr, out),
            Expr::Group(g) => self.lower_value(&g.expr, out),
            Expr::Path(_) => match self.lookup_path(e) {
                Some(v) if self.facts[v].place.is_some() => self.place_load(v),
                Some(v) if self.vars[v].kind == Kind::Float => Operand::Var(v),
                Some(v) if self.vars[v].kind == Kind::Buf => {
                    self.diag.error(
                        e.span(),
                        format!(
                            "expected a float, found the buffer `{}`; index it (`{}[i]`)",
                            self.vars[v].ident, self.vars[v].ident
                        ),
                    );
                    Operand::Const(self.zero_pexpr())
                }
                _ => Operand::Const(self.passive(e)),
            },
            Expr::Unary(u) => match u.op {
                UnOp::Neg(_) => {
                    let a = self.lower_value(&u.expr, out);
                    self.emit_op(Op::Neg, vec![a], e.span(), out)
                }
                UnOp::Deref(_) => self.lower_value(&u.expr, out),
                _ => {
                    self.diag.error(e.span(), "expected a float expression");
                    Operand::Const(self.zero_pexpr())
                }
            },
            Expr::Reference(r) => self.lower_value(&r.expr, out),
            Expr::Binary(b) => self.lower_binary(b, out),
            Expr::Cast(c) => {
                let target = if self.float.matches(&c.ty) {
                    Some(self.float.clone())
                } else {
                    self.other_float(&c.ty)
                };
                if let Some(ty) = target {
                    let a = self.lower_value(&c.expr, out);
                    // A buffer element is of the function's type; a variable may be of
                    // either, which `precision.rs` tells (and then makes a cast to its
                    // own type a copy).
                    let same = ty == self.float
                        && (matches!(a, Operand::Load(..) | Operand::Const(_))
                            || matches!(self.float, FloatTy::Generic(_)));
                    if same {
                        return a;
                    }
                    let t = self.emit_op(Op::Cast, vec![a], e.span(), out);
                    if let Operand::Var(v) = t {
                        self.vars[v].ty = Some(ty);
                    }
                    t
                } else {
                    self.diag.error(
                        c.ty.span(),
                        format!(
                            "`#[differentiate]` cannot cast a differentiated value to `{}`",
                            c.ty.to_token_stream()
                        ),
                    );
                    Operand::Const(self.zero_pexpr())
                }
            }
            Expr::Index(ix) => match self.lookup_path(&ix.expr) {
                Some(b) if self.vars[b].kind == Kind::Buf => {
                    let index = self.index_expr(&ix.index, "an index");
                    Operand::Load(b, index)
                }
                _ => {
                    self.diag.error(ix.expr.span(), "`#[differentiate]` can index float slices, arrays and local buffers by name only (`x[i]`)");
                    Operand::Const(self.zero_pexpr())
                }
            },
            Expr::Field(f) => match self.lower_tuple_field(f, out) {
                Some(op) => op,
                None => {
                    if !self.check_sound(e) {
                        self.diag.error_spanned(e, "`#[differentiate]` does not support this expression on differentiated values");
                    }
                    Operand::Const(self.zero_pexpr())
                }
            },
            Expr::MethodCall(m) => self.lower_method(m, out),
            Expr::Call(c) => self.lower_call(c, out),
            Expr::If(i) => self.lower_if_value(i, out),
            Expr::Match(m) => self.lower_match_value(m, out),
            Expr::Loop(l) => self.lower_loop_value(l, out),
            Expr::Block(b) => self.lower_block_value(b, out),
            Expr::Macro(m) => {
                self.diag.error(m.mac.path.span(), format!("`#[differentiate]` cannot differentiate through the macro `{}!`; only `vec![..; n]` may take differentiated values", m.mac.path.to_token_stream()));
                Operand::Const(self.zero_pexpr())
            }
            other => {
                if !self.check_sound(other) {
                    self.diag.error_spanned(other, "`#[differentiate]` does not support this expression on differentiated values");
                }
                Operand::Const(self.zero_pexpr())
            }
        }
    }

    /// `a + b`, `a - b`, `a * b`, `a / b`, `a % b` of floats.
    fn lower_binary(&mut self, b: &syn::ExprBinary, out: &mut Block) -> Operand {
        let op = match b.op {
            BinOp::Add(_) => Op::Add,
            BinOp::Sub(_) => Op::Sub,
            BinOp::Mul(_) => Op::Mul,
            BinOp::Div(_) => Op::Div,
            BinOp::Rem(_) => Op::Rem,
            _ => {
                self.diag.error(
                    b.op.span(),
                    "expected a float expression here; comparisons and logic give a `bool`",
                );
                return Operand::Const(self.zero_pexpr());
            }
        };
        let l = self.lower_value(&b.left, out);
        let r = self.lower_value(&b.right, out);
        self.emit_op(op, vec![l, r], b.span(), out)
    }

    /// `{ ..; tail }` as a float value.
    fn lower_block_value(&mut self, b: &syn::ExprBlock, out: &mut Block) -> Operand {
        self.check_block_label(b);
        self.scopes.push(Vec::new());
        let (tail, ex) = self.lower_stmts(&b.block.stmts, out, true);
        self.scopes.pop();
        if ex.any() {
            self.diag.error(b.span(), "`#[differentiate]` does not support `break`, `continue` or `return` inside a block used as a value");
        }
        tail.unwrap_or_else(|| {
            self.diag
                .error(b.span(), "expected this block to end in a float expression");
            Operand::Const(self.zero_pexpr())
        })
    }

    /// The element an `iter_mut()` alias stands for.
    pub(super) fn place_load(&self, v: VarId) -> Operand {
        match &self.facts[v].place {
            Some((b, i)) => Operand::Load(*b, i.clone()),
            None => Operand::Var(v),
        }
    }

    pub(super) fn emit_op(
        &mut self,
        op: Op,
        args: Vec<Operand>,
        span: Span,
        out: &mut Block,
    ) -> Operand {
        let t = self.new_tmp(span);
        out.stmts.push(Stmt::Let {
            var: t,
            rhs: Rhs::Op(op, args),
            mutable: false,
        });
        Operand::Var(t)
    }

    pub(super) fn lower_method(&mut self, m: &syn::ExprMethodCall, out: &mut Block) -> Operand {
        if let Some(chain) = super::iter::parse_chain(m) {
            return self.lower_chain(&chain, out);
        }
        let name = m.method.to_string();
        let recv_kind = self.kind_of(&m.receiver);
        // `self.k.max(x)`: a float method of a value of unknown type with float arguments.
        let float_method_of_unknown = self.kinds(&m.receiver).class == Class::Unknown
            && m.args.iter().any(|a| self.kind_of(a) == Kind::Float);
        if recv_kind == Kind::Float || float_method_of_unknown {
            if let Some(op) = method_op(&name) {
                let recv = self.lower_value(&m.receiver, out);
                let mut args = vec![recv];
                for a in &m.args {
                    if op == Op::Powi {
                        let p = self.index_expr(a, "an integer exponent");
                        args.push(Operand::Const(p));
                    } else {
                        args.push(self.lower_value(a, out));
                    }
                }
                if args.len() != op.arity() {
                    self.diag.error(
                        m.span(),
                        format!("`{name}` takes {} argument(s)", op.arity() - 1),
                    );
                    return Operand::Const(self.zero_pexpr());
                }
                return self.emit_op(op, args, m.span(), out);
            }
            if is_passive_float_method(&name) {
                self.diag
                    .error(m.method.span(), format!("`{name}` does not return a float"));
            } else {
                self.diag.error(
                    m.method.span(),
                    format!("`#[differentiate]` does not support the method `{name}` on a differentiated value; supported: {SUPPORTED_METHODS}"),
                );
            }
            return Operand::Const(self.zero_pexpr());
        }
        if recv_kind == Kind::Buf {
            self.diag.error(
                m.method.span(),
                format!("`#[differentiate]` does not support the method `{name}` on a float buffer; write the loop (`for i in 0..x.len()`)"),
            );
            return Operand::Const(self.zero_pexpr());
        }
        // A method of a passive receiver (e.g. `self.g(x)`): a differentiable call.
        let recv = self.passive(&m.receiver);
        let args = self.lower_call_args(m.args.iter(), out);
        let call = Call {
            callee: Callee::Method {
                recv,
                name: m.method.clone(),
            },
            args,
        };
        self.emit_call(call, m.span(), out)
    }

    pub(super) fn lower_if_value(&mut self, i: &syn::ExprIf, out: &mut Block) -> Operand {
        let result = self.new_tmp(i.span());
        out.stmts.push(Stmt::Decl { var: result });
        let cond = self.lower_cond(&i.cond, false);
        let mut then = self.new_block();
        self.enter(&then);
        let (tail, ex1) = self.lower_stmts(&i.then_branch.stmts, &mut then, true);
        match tail {
            Some(op) => then.stmts.push(Stmt::Assign {
                var: result,
                rhs: Rhs::Op(Op::Copy, vec![op]),
                init: true,
            }),
            None => self.diag.error(
                i.then_branch.span(),
                "expected this branch to end in a float expression",
            ),
        }
        self.leave();
        let mut els = self.new_block();
        let mut ex2 = Exits::default();
        match &i.else_branch {
            Some((_, e)) => {
                self.enter(&els);
                let tail = match &**e {
                    Expr::Block(b) => {
                        let (t, ex) = self.lower_stmts(&b.block.stmts, &mut els, true);
                        ex2 = ex;
                        t
                    }
                    other => Some(self.lower_value(other, &mut els)),
                };
                match tail {
                    Some(op) => els.stmts.push(Stmt::Assign {
                        var: result,
                        rhs: Rhs::Op(Op::Copy, vec![op]),
                        init: true,
                    }),
                    None => self.diag.error(
                        e.span(),
                        "expected this branch to end in a float expression",
                    ),
                }
                self.leave();
            }
            None => self.diag.error(
                i.span(),
                "an `if` used as a float value needs an `else` branch",
            ),
        }
        if ex1.any() || ex2.any() {
            self.diag.error(i.span(), "`#[differentiate]` does not support `break`, `continue` or `return` inside an `if` used as a value; use an `if` statement");
        }
        out.stmts.push(Stmt::If { cond, then, els });
        Operand::Var(result)
    }
}
