//! `syn::ItemFn` → [`ir::Func`](crate::ir::Func): the only place that matches on syntax and names.
//!
//! Lowering infers a kind for every value (float, float buffer, passive) from
//! what it can see, flattens float expressions into three-address statements,
//! turns `break`/`continue`/`return` into flags and guards (so both generators
//! only see structured control flow), and records every unsupported construct
//! as a spanned error without stopping.

mod call;
mod check;
mod closure;
mod control;
mod expr;
mod iter;
mod kinds;
mod loops;
mod output;
mod precision;
mod rows;
mod scope;
mod stmt;
mod structs;
mod tuple;
mod types;
pub(crate) use types::pretty;

use std::collections::BTreeMap;

use proc_macro2::{Ident, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{Expr, Stmt as SynStmt};

use crate::attr::Config;
use crate::diag::Diag;
use crate::ir::*;
use crate::rules::Op;

use crate::rules::{binop_tokens, compound_op, compound_tokens, method_op, SUPPORTED_METHODS};
use check::{unsupported, unsupported_span};
use kinds::is_passive_float_method;
use loops::contains_return;
use scope::{pat_idents, replace_ident};
use types::{float_of_return, TyClass};

struct LoopCtx {
    brk: Option<VarId>,
    cont: Option<VarId>,
}

/// Which early exits a lowered statement may take.
#[derive(Clone, Copy, Default)]
struct Exits {
    brk: bool,
    cont: bool,
    ret: bool,
}

impl Exits {
    fn any(self) -> bool {
        self.brk || self.cont || self.ret
    }
    fn or(self, o: Exits) -> Exits {
        Exits {
            brk: self.brk || o.brk,
            cont: self.cont || o.cont,
            ret: self.ret || o.ret,
        }
    }
}

pub struct Lowerer<'d> {
    diag: &'d mut Diag,
    vars: Vec<Var>,
    scopes: Vec<Vec<(String, VarId)>>,
    used_names: BTreeMap<String, usize>,
    float: FloatTy,
    generic_float: Option<String>,
    blocks: usize,
    block_stack: Vec<usize>,
    loop_depth: usize,
    loops: Vec<LoopCtx>,
    /// `(return value, returned flag)` when the body returns early.
    early_ret: Option<(VarId, VarId)>,
    /// The classification's memo (see `kinds.rs`).
    kcache: kinds::KindCache,
    /// Per variable: what lowering knows beyond its IR kind.
    facts: Vec<kinds::VarFacts>,
    /// Local closures, inlined where they are called.
    closures: Vec<closure::ClosureDef>,
    /// The window or chunk size of the chain being lowered (`lower/iter.rs`).
    view_size: Option<PExpr>,
    /// The views a chain reads (`w[a..b].iter()` as its source or zipped), by the
    /// address of their expression (`lower/iter.rs`).
    chain_slice: Vec<(usize, VarId)>,
    /// What the function returns: anything but a float makes `return` a bare exit
    /// (the value is stored into the output buffer first, see `output.rs`).
    ret_shape: RetShape,
    /// Names assigned anywhere in the body (`x = ..`, `x += ..`, `&mut x`): a float
    /// parameter left out of `wrt` that is assigned may still carry a derivative.
    assigned_names: Vec<String>,
    /// Struct parameters named in `wrt(..)` (`lower/structs.rs`).
    structs: Vec<structs::StructParam>,
    /// Nested float buffers read through flat buffers (`lower/rows.rs`).
    nested: Vec<rows::NestedBuf>,
}

/// Lowers a function; `None` when it cannot be lowered at all (errors are in `diag`).
pub fn lower_fn(
    sig: &syn::Signature,
    block: &syn::Block,
    config: &Config,
    diag: &mut Diag,
) -> Option<Func> {
    let (float, ret_shape) = float_of_return(sig, diag)?;
    let (structs, struct_rewritten) = structs::rewrite(sig, block, config, diag);
    let block = struct_rewritten.as_ref().unwrap_or(block);
    let (nested, rows_rewritten) = rows::rewrite(sig, block, config, &float, diag);
    let block = rows_rewritten.as_ref().unwrap_or(block);
    let rewritten;
    let block = if matches!(ret_shape, RetShape::Array { .. } | RetShape::Tuple(_)) {
        rewritten = output::rewrite_returns(block, &ret_shape, diag);
        &rewritten
    } else {
        block
    };
    let mut lw = Lowerer::new(diag, float, block);
    lw.structs = structs;
    lw.nested = nested;
    lw.ret_shape = ret_shape.clone();
    lw.check_signature(sig);
    let params = lw.lower_params(sig, config);
    // Reserve the names users see first, so that generated names never clash with them.
    let mut names = Vec::new();
    collect_idents(block.to_token_stream(), &mut names);
    for n in names {
        lw.used_names.entry(n).or_insert(0);
    }
    let mut body = Block {
        id: 0,
        stmts: Vec::new(),
        ids: Vec::new(),
    };
    let out_buf = match &ret_shape {
        RetShape::Array { .. } | RetShape::Tuple(_) => {
            Some(lw.declare_output_buffer(&ret_shape, &mut body))
        }
        RetShape::Float => None,
        // a placeholder nothing reads
        RetShape::Unit => Some(lw.new_var("__ad_unit", Kind::Passive, Span::call_site(), None)),
    };
    if contains_return(block) {
        lw.declare_early_return(&mut body, out_buf);
    }
    for p in &params {
        lw.used_names.insert(format!("d{}", p.ident), 1);
    }
    let ret = match out_buf {
        Some(ret) => {
            lw.lower_block_into(&block.stmts, &mut body, false);
            ret
        }
        None => {
            let tail = lw.lower_block_into(&block.stmts, &mut body, true);
            lw.lower_return_value(block, tail, &mut body)?
        }
    };
    lw.infer_precision(
        &mut body,
        matches!(ret_shape, RetShape::Float).then_some(ret),
    );
    let out_params = params
        .iter()
        .filter(|p| matches!(p.shape, ParamTy::Out { .. }))
        .filter_map(|p| p.var)
        .collect();
    Some(Func {
        vars: lw.vars,
        params,
        body,
        ret,
        float: lw.float,
        n_blocks: lw.blocks,
        out: Outputs {
            ret: ret_shape,
            params: out_params,
        },
        lanes: None,
    })
}

/// Only the signature: the parameters, their shapes and activity, and the float
/// type, for a function whose body is not lowered (nested differentiation,
/// `nested.rs`). The body is empty and `ret` a placeholder.
pub fn lower_signature(
    sig: &syn::Signature,
    block: &syn::Block,
    config: &Config,
    diag: &mut Diag,
) -> Option<Func> {
    let (float, ret_shape) = float_of_return(sig, diag)?;
    if !matches!(ret_shape, RetShape::Float) {
        diag.error_spanned(
            &sig.output,
            "a function calling generated derivatives (nested differentiation) must return one float",
        );
        return None;
    }
    let mut lw = Lowerer::new(diag, float, block);
    lw.check_signature(sig);
    let params = lw.lower_params(sig, config);
    let ret = lw.new_var("__ret", Kind::Float, sig.ident.span(), None);
    Some(Func {
        vars: lw.vars,
        params,
        body: Block::default(),
        ret,
        float: lw.float,
        n_blocks: lw.blocks,
        out: Outputs::default(),
        lanes: None,
    })
}

impl<'d> Lowerer<'d> {
    fn new(diag: &'d mut Diag, float: FloatTy, block: &syn::Block) -> Self {
        let generic_float = match &float {
            FloatTy::Generic(i) => Some(i.to_string()),
            _ => None,
        };
        Lowerer {
            diag,
            vars: Vec::new(),
            scopes: vec![Vec::new()],
            used_names: BTreeMap::new(),
            float,
            generic_float,
            blocks: 1,
            block_stack: vec![0],
            loop_depth: 0,
            loops: Vec::new(),
            early_ret: None,
            kcache: kinds::KindCache::default(),
            facts: Vec::new(),
            closures: Vec::new(),
            view_size: None,
            chain_slice: Vec::new(),
            ret_shape: RetShape::Float,
            assigned_names: assigned_names(block),
            structs: Vec::new(),
            nested: Vec::new(),
        }
    }
}

impl Lowerer<'_> {
    /// `async fn` and `const fn` cannot be differentiated.
    fn check_signature(&mut self, sig: &syn::Signature) {
        if sig.asyncness.is_some() {
            self.diag.error(
                sig.asyncness.span(),
                "`#[differentiate]` cannot differentiate an `async fn`; remove `async`",
            );
        }
        if let Some(c) = &sig.constness {
            self.diag.error(
                c.span(),
                "`#[differentiate]` cannot differentiate a `const fn`; remove `const`",
            );
        }
    }

    /// `let mut __ret = 0.0; let mut __returned = false;` for a body with `return`
    /// (only the flag when the value goes elsewhere: `output`).
    fn declare_early_return(&mut self, body: &mut Block, output: Option<VarId>) {
        let flag_only = output.is_some();
        let ret =
            output.unwrap_or_else(|| self.new_var("__ret", Kind::Float, Span::call_site(), None));
        let flag = self.new_var("__returned", Kind::Passive, Span::call_site(), None);
        if flag_only {
            body.stmts.push(Stmt::new_flag(flag));
            self.early_ret = Some((ret, flag));
            return;
        }
        let zero = self.zero_tokens();
        body.stmts.push(Stmt::Let {
            var: ret,
            rhs: Rhs::Op(Op::Copy, vec![Operand::Const(PExpr::constant(zero))]),
            mutable: true,
        });
        body.stmts.push(Stmt::new_flag(flag));
        self.early_ret = Some((ret, flag));
    }

    /// The variable holding the returned value: the tail's, or `__ret`.
    fn lower_return_value(
        &mut self,
        block: &syn::Block,
        tail: Option<Operand>,
        body: &mut Block,
    ) -> Option<VarId> {
        Some(match (self.early_ret, tail) {
            (Some((ret, _)), Some(op)) => {
                body.stmts.push(Stmt::Assign {
                    var: ret,
                    rhs: Rhs::Op(Op::Copy, vec![op]),
                    init: false,
                });
                ret
            }
            (Some((ret, _)), None) => ret,
            (None, Some(Operand::Var(v))) if self.vars[v].kind == Kind::Float => v,
            (None, Some(op)) => {
                let v = self.new_var("__ret", Kind::Float, block.span(), None);
                body.stmts.push(Stmt::Let {
                    var: v,
                    rhs: Rhs::Op(Op::Copy, vec![op]),
                    mutable: false,
                });
                v
            }
            (None, None) => {
                let span = block
                    .stmts
                    .last()
                    .map(|s| s.span())
                    .unwrap_or_else(|| block.span());
                self.diag.error(
                    span,
                    "expected the function body to end in a float expression (or `return`)",
                );
                return None;
            }
        })
    }
}

fn collect_idents(ts: TokenStream, out: &mut Vec<String>) {
    for tt in ts {
        match tt {
            TokenTree::Ident(i) => out.push(i.to_string()),
            TokenTree::Group(g) => collect_idents(g.stream(), out),
            _ => {}
        }
    }
}

fn block_tail(b: &syn::Block) -> Option<&Expr> {
    match b.stmts.last() {
        Some(SynStmt::Expr(e, None)) => Some(e),
        _ => None,
    }
}

fn strip_paren(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => strip_paren(&p.expr),
        Expr::Group(g) => strip_paren(&g.expr),
        e => e,
    }
}

/// Names assigned anywhere in the body, or borrowed mutably.
fn assigned_names(block: &syn::Block) -> Vec<String> {
    struct V(Vec<String>);
    impl V {
        fn target(&mut self, e: &Expr) {
            if let Some(i) = strip_paren(e).as_path_ident() {
                self.0.push(i);
            }
        }
    }
    impl<'a> Visit<'a> for V {
        fn visit_expr_assign(&mut self, a: &'a syn::ExprAssign) {
            self.target(&a.left);
            syn::visit::visit_expr_assign(self, a);
        }
        fn visit_expr_binary(&mut self, b: &'a syn::ExprBinary) {
            if compound_op(&b.op).is_some() {
                self.target(&b.left);
            }
            syn::visit::visit_expr_binary(self, b);
        }
        fn visit_expr_reference(&mut self, r: &'a syn::ExprReference) {
            if r.mutability.is_some() {
                self.target(&r.expr);
            }
            syn::visit::visit_expr_reference(self, r);
        }
    }
    let mut v = V(Vec::new());
    v.visit_block(block);
    v.0.sort();
    v.0.dedup();
    v.0
}

trait PathIdent {
    fn as_path_ident(&self) -> Option<String>;
}

impl PathIdent for Expr {
    /// `x` as a name.
    fn as_path_ident(&self) -> Option<String> {
        match self {
            Expr::Path(p) if p.qself.is_none() => p.path.get_ident().map(|i| i.to_string()),
            _ => None,
        }
    }
}
