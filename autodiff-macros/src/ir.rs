//! The structured intermediate representation both generators walk.
//!
//! Expressions are flattened into three-address statements on numbered
//! variables; control flow (`if`, `for`, `while`) keeps its structure. Passive
//! code (integers, booleans, comparisons, anything that carries no derivative)
//! is kept as syn expressions whose variable references are already renamed to
//! their unique emitted names.

use proc_macro2::{Ident, TokenStream};

use crate::rules::Op;

/// Index into [`Func::vars`].
pub type VarId = usize;

/// What a value is, as far as differentiation is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A float scalar of the function's float type: may carry a derivative.
    Float,
    /// A float buffer: slice or array parameter, local `vec!` or array.
    Buf,
    /// Anything else: integers, booleans, structs, strings. Never differentiated.
    Passive,
}

/// How a buffer is stored, which decides how shadows are created and passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BufRepr {
    /// `&[F]` parameter.
    SliceParam,
    /// `[F; N]` parameter (by value).
    ArrayParam,
    /// `&[F; N]` parameter.
    ArrayRefParam,
    /// local `vec![..; n]`.
    LocalVec,
    /// local `[..; N]`.
    LocalArray,
    /// `&w[a..b]`: a view into another buffer (read-only; its adjoint is the same
    /// range of the base's adjoint).
    View,
}

#[derive(Clone, Debug)]
pub struct Var {
    /// The identifier used in generated code (unique in the function).
    pub ident: Ident,
    pub kind: Kind,
    pub buf: Option<BufRepr>,
    /// Block in which the binding is made (0 = function body).
    pub block: usize,
    pub is_param: bool,
    /// Active parameter (differentiated with respect to).
    pub wrt: bool,
    /// A parameter already rejected with an error: later errors about it are follow-ons.
    pub poisoned: bool,
    /// `let c;` without a type, until its first assignment says what it holds.
    pub undecided: bool,
    /// A slice element bound by reference in the user's loop (`for e in x.iter()`) but by value here.
    pub by_ref_elem: bool,
    /// For a view `&base[lo..hi]`: its base and range.
    pub view: Option<(VarId, PExpr, PExpr)>,
}

/// An operand of a three-address statement.
#[derive(Clone, Debug)]
pub enum Operand {
    Var(VarId),
    /// `buf[index]`, read where it is used (also in the reverse sweep).
    Load(VarId, PExpr),
    /// A value that carries no derivative (literal, constant, passive expression).
    Const(PExpr),
}

/// A passive expression: tokens plus the variables it reads.
#[derive(Clone, Debug)]
pub struct PExpr {
    pub tokens: TokenStream,
    pub reads: Vec<VarId>,
}

#[derive(Clone, Debug)]
pub struct Call {
    /// The callee path or method receiver form.
    pub callee: Callee,
    pub args: Vec<CallArg>,
}

#[derive(Clone, Debug)]
pub enum Callee {
    /// `path::g(..)`: the tokens of the path; the last identifier gets `_fwd`/`_adjoint`.
    Path {
        prefix: TokenStream,
        name: Ident,
        generics: TokenStream,
    },
    /// `recv.g(..)` with a passive receiver (e.g. `self`).
    Method { recv: PExpr, name: Ident },
}

#[derive(Clone, Debug)]
pub enum CallArg {
    /// A float scalar argument: gets a shadow.
    Float(Operand),
    /// A buffer argument `&b`, `b` or `&mut b`: gets a shadow.
    Buf { var: VarId, by_ref: bool },
    /// Passed through.
    Passive(PExpr),
}

#[derive(Clone, Debug)]
pub enum Rhs {
    /// One op of the rule table.
    Op(Op, Vec<Operand>),
    /// A call of a differentiable function.
    Call(Call),
    /// A passive value (only for passive variables).
    Passive(PExpr),
    /// `v += amount` / `v -= amount` on a passive integer: undone in the reverse sweep
    /// by the inverse step instead of a stored copy.
    Step { add: bool, amount: PExpr },
    /// `vec![elem; len]` or `[elem; len]`.
    Fill {
        elem: Operand,
        len: PExpr,
        array: bool,
    },
    /// `&base[lo..hi]`.
    View { base: VarId, lo: PExpr, hi: PExpr },
}

#[derive(Clone, Debug)]
pub enum Range {
    /// `lo..hi` / `lo..=hi`, optionally `.rev()`.
    Range {
        lo: PExpr,
        hi: PExpr,
        inclusive: bool,
        rev: bool,
    },
}

#[derive(Clone, Debug)]
pub enum Stmt {
    /// A fresh binding.
    Let { var: VarId, rhs: Rhs, mutable: bool },
    /// A deferred binding `let v;` (assigned later by `Assign`).
    Decl { var: VarId },
    /// Reassignment of an existing variable. `init` marks the first assignment of a
    /// deferred binding (nothing is overwritten).
    Assign { var: VarId, rhs: Rhs, init: bool },
    /// `buf[index] = value`.
    Store {
        buf: VarId,
        index: PExpr,
        value: Operand,
    },
    If {
        cond: PExpr,
        then: Block,
        els: Block,
    },
    For {
        var: VarId,
        range: Range,
        body: Block,
        /// Checked after each iteration when the body can leave early (lowered `break`/`return`).
        exit: Option<PExpr>,
        /// Records the last index run, for replaying an early-exited loop backwards.
        last: Option<VarId>,
    },
    While {
        cond: PExpr,
        body: Block,
        exit: Option<PExpr>,
        /// The trip count, for replaying the loop backwards.
        count: VarId,
    },
    /// Passive code copied through unchanged (only in the forward sweep).
    Passive(TokenStream),
}

#[derive(Clone, Debug, Default)]
pub struct Block {
    pub id: usize,
    pub stmts: Vec<Stmt>,
}

/// How the generated functions spell the float type.
#[derive(Clone, Debug)]
pub enum FloatTy {
    F64,
    F32,
    /// A generic parameter bounded by `Float`.
    Generic(Ident),
}

#[derive(Clone, Debug)]
pub struct Param {
    pub var: Option<VarId>,
    /// The parameter's name (`self` for a receiver).
    pub ident: Ident,
}

#[derive(Clone, Debug)]
pub struct Func {
    pub vars: Vec<Var>,
    pub params: Vec<Param>,
    pub body: Block,
    /// The variable holding the returned value.
    pub ret: VarId,
    pub float: FloatTy,
    pub n_blocks: usize,
}

impl PExpr {
    /// A passive expression that reads no variable.
    pub fn constant(tokens: TokenStream) -> Self {
        PExpr {
            tokens,
            reads: Vec::new(),
        }
    }
}

impl Stmt {
    /// `let mut flag = false;` for a lowered `break`, `continue` or `return`.
    pub fn new_flag(var: VarId) -> Self {
        Stmt::Let {
            var,
            rhs: Rhs::Passive(PExpr::constant(quote::quote!(false))),
            mutable: true,
        }
    }

    /// `flag = true;` / `flag = false;`
    pub fn set_flag(var: VarId, value: bool) -> Self {
        let tokens = if value {
            quote::quote!(true)
        } else {
            quote::quote!(false)
        };
        Stmt::Assign {
            var,
            rhs: Rhs::Passive(PExpr::constant(tokens)),
            init: false,
        }
    }
}

impl Operand {
    pub fn var(&self) -> Option<VarId> {
        match self {
            Operand::Var(v) | Operand::Load(v, _) => Some(*v),
            Operand::Const(_) => None,
        }
    }
}

impl Rhs {
    /// Float operands read by the right-hand side.
    pub fn operands(&self) -> Vec<&Operand> {
        match self {
            Rhs::Op(_, args) => args.iter().collect(),
            Rhs::Call(c) => c
                .args
                .iter()
                .filter_map(|a| match a {
                    CallArg::Float(o) => Some(o),
                    _ => None,
                })
                .collect(),
            Rhs::Passive(_) | Rhs::Step { .. } => Vec::new(),
            Rhs::Fill { elem, .. } => vec![elem],
            Rhs::View { .. } => Vec::new(),
        }
    }

    /// Buffers passed whole (to calls) or viewed.
    pub fn buffers(&self) -> Vec<VarId> {
        match self {
            Rhs::View { base, .. } => vec![*base],
            Rhs::Call(c) => c
                .args
                .iter()
                .filter_map(|a| match a {
                    CallArg::Buf { var, .. } => Some(*var),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}
