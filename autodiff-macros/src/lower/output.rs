//! Vector outputs: a function returning `[F; M]` or a tuple of floats is lowered as
//! one that writes its value into a local `[F; M]` buffer, which then is the
//! function's output (its tangent is returned by `_fwd`, its adjoint seeded from
//! `dret` by `_adjoint`).
//!
//! Before lowering, the body is rewritten on syntax: every returned value (the
//! tail, the tails of `if`/`else`, blocks and `match` arms in tail position, and
//! `return v`) becomes stores into the buffer, element by element (`[a, b]` →
//! `out[0] = a; out[1] = b;`, a local array `r` → a copy loop, a tuple variable `p`
//! → `out[0] = p.0; ..`), and `return v` becomes `{ ..stores; return; }`. The rest
//! of lowering then sees ordinary stores into a local buffer, so branches, loops
//! and early returns need nothing new.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Expr, Stmt as SynStmt};

use super::Lowerer;
use crate::diag::Diag;
use crate::ir::*;

/// The name the rewritten body gives the output buffer (renamed like every binding).
pub(super) const OUT_NAME: &str = "__ad_out";

/// The body of a function returning `shape` (an array or a tuple), its returned
/// values rewritten into stores into [`OUT_NAME`].
pub(super) fn rewrite_returns(block: &syn::Block, shape: &RetShape, diag: &mut Diag) -> syn::Block {
    let mut w = Writer { shape, diag };
    let mut block = block.clone();
    w.visit_block_mut(&mut block);
    w.rewrite_tail(&mut block);
    block
}

struct Writer<'a> {
    shape: &'a RetShape,
    diag: &'a mut Diag,
}

impl Writer<'_> {
    /// The block with its tail value (if any) written into the buffer.
    fn rewrite_tail(&mut self, b: &mut syn::Block) {
        if let Some(SynStmt::Expr(e, None)) = b.stmts.last() {
            let e = e.clone();
            b.stmts.pop();
            b.stmts.extend(self.writes(&e));
        }
    }

    /// Statements storing the value of `e` into the buffer.
    fn writes(&mut self, e: &Expr) -> Vec<SynStmt> {
        let span = e.span();
        let out = syn::Ident::new(OUT_NAME, Span::call_site());
        let stmt = |ts: TokenStream| -> Vec<SynStmt> {
            match syn::parse2::<syn::Block>(quote_spanned!(span=> { #ts })) {
                Ok(b) => b.stmts,
                Err(_) => Vec::new(),
            }
        };
        match (e, self.shape) {
            (Expr::Paren(p), _) => self.writes(&p.expr),
            (Expr::Group(g), _) => self.writes(&g.expr),
            // Diverging: nothing is returned here.
            (Expr::Return(_), _) => vec![SynStmt::Expr(e.clone(), None)],
            (Expr::Macro(m), _) if diverges(&m.mac) => vec![SynStmt::Expr(e.clone(), None)],
            (Expr::Array(a), RetShape::Array { .. }) => {
                let stores = a.elems.iter().enumerate().map(|(i, x)| {
                    let i = proc_macro2::Literal::usize_unsuffixed(i);
                    quote_spanned!(x.span()=> #out[#i] = #x;)
                });
                stmt(quote_spanned!(span=> #(#stores)*))
            }
            (Expr::Repeat(r), RetShape::Array { len }) => {
                let x = &r.expr;
                let (v, k) = (format_ident!("ad_out_v"), format_ident!("ad_out_k"));
                stmt(quote_spanned!(span=> let #v = #x; for #k in 0..#len { #out[#k] = #v; }))
            }
            (Expr::Path(p), RetShape::Array { len }) => {
                let k = format_ident!("ad_out_k");
                stmt(quote_spanned!(span=> for #k in 0..#len { #out[#k] = #p[#k]; }))
            }
            (Expr::Tuple(t), RetShape::Tuple(_)) => {
                let stores = t.elems.iter().enumerate().map(|(i, x)| {
                    let i = proc_macro2::Literal::usize_unsuffixed(i);
                    quote_spanned!(x.span()=> #out[#i] = #x;)
                });
                stmt(quote_spanned!(span=> #(#stores)*))
            }
            (Expr::Path(_) | Expr::MethodCall(_), RetShape::Tuple(n)) => {
                // `p` a tuple variable, `x.sin_cos()`: taken apart by a `let`.
                let names: Vec<syn::Ident> =
                    (0..*n).map(|i| format_ident!("ad_out_e{}", i)).collect();
                let stores = names.iter().enumerate().map(|(i, x)| {
                    let i = proc_macro2::Literal::usize_unsuffixed(i);
                    quote_spanned!(span=> #out[#i] = #x;)
                });
                stmt(quote_spanned!(span=> let (#(#names,)*) = #e; #(#stores)*))
            }
            (Expr::Block(b), _) if b.label.is_none() => {
                let mut b = b.clone();
                self.rewrite_tail(&mut b.block);
                vec![SynStmt::Expr(Expr::Block(b), None)]
            }
            (Expr::If(i), _) => {
                let mut i = i.clone();
                self.rewrite_if(&mut i);
                vec![SynStmt::Expr(Expr::If(i), None)]
            }
            (Expr::Match(m), _) => {
                let mut m = m.clone();
                for arm in &mut m.arms {
                    let stmts = self.writes(&arm.body);
                    let body: Expr = syn::parse_quote_spanned!(arm.body.span()=> { #(#stmts)* });
                    *arm.body = body;
                    arm.comma = Some(Default::default());
                }
                vec![SynStmt::Expr(Expr::Match(m), None)]
            }
            _ => {
                let what = match self.shape {
                    RetShape::Tuple(_) => "a tuple literal `(a, b)`, a tuple variable",
                    _ => "an array literal `[a, b]`, `[v; M]`, a local array",
                };
                self.diag.error(
                    span,
                    format!("`#[differentiate]` cannot tell the elements of this returned value; return {what}, or an `if`/`match` of them"),
                );
                Vec::new()
            }
        }
    }

    fn rewrite_if(&mut self, i: &mut syn::ExprIf) {
        self.rewrite_tail(&mut i.then_branch);
        if let Some((_, els)) = &mut i.else_branch {
            match &mut **els {
                Expr::If(inner) => self.rewrite_if(inner),
                Expr::Block(b) => self.rewrite_tail(&mut b.block),
                other => {
                    let stmts = self.writes(other);
                    *other = syn::parse_quote_spanned!(other.span()=> { #(#stmts)* });
                }
            }
        }
    }
}

/// `panic!`, `unreachable!`, `todo!`, `unimplemented!`: a macro that returns nothing.
fn diverges(m: &syn::Macro) -> bool {
    m.path.segments.last().is_some_and(|s| {
        matches!(
            s.ident.to_string().as_str(),
            "panic" | "unreachable" | "todo" | "unimplemented"
        )
    })
}

impl VisitMut for Writer<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        match e {
            // A closure's `return` returns from the closure.
            Expr::Closure(_) => {}
            Expr::Return(r) => {
                if let Some(v) = r.expr.take() {
                    let mut v = *v;
                    self.visit_expr_mut(&mut v);
                    let stmts = self.writes(&v);
                    let span = r.return_token.span;
                    *e = syn::parse_quote_spanned!(span=> { #(#stmts)* return; });
                }
            }
            _ => syn::visit_mut::visit_expr_mut(self, e),
        }
    }

    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

impl Lowerer<'_> {
    /// `let mut __ad_out: [F; M] = [0.0; M];` at the top of the body: the buffer the
    /// rewritten body stores its returned value into.
    pub(super) fn declare_output_buffer(&mut self, shape: &RetShape, body: &mut Block) -> VarId {
        let len = match shape {
            RetShape::Array { len } => len.clone(),
            RetShape::Tuple(n) => proc_macro2::Literal::usize_unsuffixed(*n).into_token_stream(),
            RetShape::Float | RetShape::Unit => TokenStream::new(),
        };
        let id = self.new_var(
            OUT_NAME,
            Kind::Buf,
            Span::call_site(),
            Some(BufRepr::LocalArray),
        );
        self.bind(OUT_NAME, id);
        body.stmts.push(Stmt::Let {
            var: id,
            rhs: Rhs::Fill {
                elem: Operand::Const(self.zero_pexpr()),
                len: PExpr::constant(len),
                array: true,
            },
            mutable: true,
        });
        id
    }
}

use quote::ToTokens;
