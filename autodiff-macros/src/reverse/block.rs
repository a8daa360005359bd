//! A block's forward and reverse code: its statements' parts in order (the reverse
//! in reverse order), the values its bindings keep for its reverse, and the fused
//! loop with the reverse of what follows it hoisted in front.

use proc_macro2::TokenStream;
use quote::quote;

use super::plan::{Keep, Scope};
use super::{Part, Rev};
use crate::ir::*;

/// A block's code as it is assembled.
#[derive(Default)]
struct BlockOut {
    fwd: Vec<TokenStream>,
    /// Each statement's reverse, in forward order.
    rev_parts: Vec<Vec<TokenStream>>,
    /// Pushes when the block ends, and the matching pops where its reverse begins.
    block_end_push: Vec<TokenStream>,
    block_start: Vec<TokenStream>,
    /// Values evaluated again where the block's reverse begins.
    recompute: Vec<TokenStream>,
    adj_decls: Vec<TokenStream>,
    /// With a fused loop: where its reverse-ready prelude ends in `fwd`, and the
    /// reverse of the statements after it (hoisted in front of it).
    fused_at: Option<usize>,
    tail_rev: Vec<Vec<TokenStream>>,
}

impl BlockOut {
    fn finish(mut self) -> Part {
        if let Some(at) = self.fused_at {
            let hoisted: Vec<TokenStream> = self.tail_rev.into_iter().rev().flatten().collect();
            self.fwd.splice(at..at, hoisted);
        }
        self.fwd.extend(self.block_end_push);
        self.block_start.reverse();
        let mut rev = self.block_start;
        rev.extend(self.recompute);
        rev.extend(self.adj_decls);
        for r in self.rev_parts.into_iter().rev() {
            rev.extend(r);
        }
        Part { fwd: self.fwd, rev }
    }
}

impl Rev<'_> {
    /// `pre`: for the function body with a fused loop, the code emitted right before
    /// that loop (the adjoints' declarations and the seed).
    pub(super) fn gen_block(&self, b: &Block, pre: &[TokenStream]) -> Part {
        let bp = self.plan.block(b);
        let fused_at = match bp.scope {
            Scope::Function => self.plan.fused.as_ref().map(|x| x.at),
            _ => None,
        };
        let mut out = BlockOut::default();
        let outer = self.st.nested.replace(bp.scope == Scope::Nested);
        for (k, (id, s)) in b.iter().enumerate() {
            if fused_at == Some(k) {
                out.fwd.extend(pre.iter().cloned());
                out.fused_at = Some(out.fwd.len());
                out.fwd.push(self.gen_fused_loop(s));
                continue;
            }
            let p = self.gen_stmt(id, s);
            out.fwd.extend(p.fwd);
            let r = self.bind_views(&bp.loose, p.rev);
            if out.fused_at.is_some() {
                out.tail_rev.push(r);
                continue;
            }
            out.rev_parts.push(r);
            if !bp.has_rev {
                continue;
            }
            match bp.scope {
                Scope::Function => {}
                // Its values stay in scope: only the adjoints are declared.
                Scope::FusedBody => self.gen_adjoint_decls(s, &mut out),
                Scope::Nested => self.gen_keeps(s, &bp.loose, &mut out),
            }
        }
        self.st.nested.set(outer);
        out.finish()
    }

    fn gen_adjoint_decls(&self, s: &Stmt, out: &mut BlockOut) {
        for b in s.binds().into_iter().filter(|b| !b.in_body) {
            if self.g.a.active[b.var] {
                out.adj_decls.push(self.adjoint_decl(b.var));
            }
        }
    }

    /// The adjoints of what `s` binds, and the values its block's reverse gets back.
    fn gen_keeps(&self, s: &Stmt, loose: &[VarId], out: &mut BlockOut) {
        self.gen_adjoint_decls(s, out);
        for b in s.binds().into_iter().filter(|b| !b.in_body) {
            let v = b.var;
            let x = self.g.ident(v);
            match self.plan.keep(v) {
                Keep::Nothing => {}
                Keep::View { bounds, reslice } => {
                    if bounds {
                        self.st.declare_stack(v);
                        let s = self.g.stack_ident(v);
                        let (l, h) = self.bound_idents(v);
                        out.block_end_push.push(quote!(#s.push((#l, #h));));
                        out.block_start
                            .push(quote!(let (#l, #h) = ::autodiff::__private::pop(&mut #s);));
                    }
                    if reslice {
                        let view = self.view_slice(v, false);
                        out.recompute.push(quote!(let #x = #view;));
                    }
                }
                Keep::Recompute => {
                    let t = match s {
                        Stmt::Let {
                            rhs: Rhs::Passive(p),
                            ..
                        } => p.tokens.clone(),
                        Stmt::Let {
                            rhs: Rhs::Op(op, args),
                            ..
                        } => self.rev_primal_op(v, *op, args),
                        _ => TokenStream::new(),
                    };
                    let t = self.bind_views_expr(loose, t);
                    out.recompute.push(quote!(let #x = #t;));
                }
                Keep::Tape => {
                    self.st.uses_tape.set(true);
                    out.block_end_push.push(quote!(__tape.push(#x);));
                    out.block_start
                        .push(quote!(let mut #x = ::autodiff::__private::pop(&mut __tape);));
                }
                Keep::Local => {
                    let k = self.st.declare_keep(v, self.g);
                    out.block_end_push.push(quote!(#k = #x;));
                    out.block_start.push(quote!(let mut #x = #k;));
                }
                Keep::Stack => {
                    self.st.declare_stack(v);
                    let s = self.g.stack_ident(v);
                    out.block_end_push.push(quote!(#s.push(#x);));
                    out.block_start
                        .push(quote!(let mut #x = ::autodiff::__private::pop(&mut #s);));
                }
            }
        }
    }
}
