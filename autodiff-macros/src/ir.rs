//! The structured intermediate representation both generators walk.
//!
//! Expressions are flattened into three-address statements on numbered
//! variables; control flow (`if`, `for`, `while`) keeps its structure. Passive
//! code (integers, booleans, comparisons, anything that carries no derivative)
//! is kept as syn expressions whose variable references are already renamed to
//! their unique emitted names.
//!
//! After lowering, [`Func::numbered`] gives every statement a [`StmtId`], and the
//! later stages key what they know about a statement by it. What a statement
//! binds, writes and reads is answered here ([`Stmt::binds`], [`Stmt::writes`],
//! [`Stmt::reads`], [`Stmt::flow`]), once for the analysis and both generators.

use proc_macro2::{Ident, TokenStream};

use crate::rules::Op;

/// Index into [`Func::vars`].
pub type VarId = usize;

/// A statement's position in a pre-order walk of the function body (a statement
/// comes before the statements of its nested blocks), assigned once after lowering
/// by [`Func::numbered`]. Ids compare in program order, and the statements of a
/// block and of its nested blocks form one contiguous [`Extent`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct StmtId(pub usize);

/// The half-open range of statement ids `start..end`: a block with its nested blocks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Extent {
    pub start: StmtId,
    pub end: StmtId,
}

/// What a value is, as far as differentiation is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A float scalar (of the function's float type, or of the other one after a
    /// cast, [`Var::ty`]): may carry a derivative.
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
    /// `&mut [F]` parameter: an out-parameter, an output of the function.
    OutSlice,
    /// `&mut [F; N]` parameter: an out-parameter.
    OutArray,
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
    /// A temporary made by lowering (not a user's binding): copies of it may be folded.
    pub tmp: bool,
    /// For a view `&base[lo..hi]`: its base and range.
    pub view: Option<(VarId, PExpr, PExpr)>,
    /// The float type of a float scalar that is not the function's: `f32` in an
    /// `f64` function after `x as f32`, and the reverse (set by lowering,
    /// `lower/precision.rs`). `None`: the function's float type.
    pub ty: Option<FloatTy>,
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
    /// A literal, a name, a call, a field or a parenthesised expression: used as an
    /// operand (a range bound) without parentheses.
    pub atomic: bool,
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
        /// `#[checkpoint]`: the reverse sweep re-runs the loop segment by segment
        /// from saved states instead of storing every iteration (`reverse/stmt.rs`).
        checkpoint: Option<Checkpoint>,
    },
    While {
        cond: PExpr,
        body: Block,
        exit: Option<PExpr>,
        /// The trip count, for replaying the loop backwards.
        count: VarId,
        /// `#[checkpoint]` (segments starting at the square iteration numbers,
        /// since the trip count is not known ahead), `every = k`, `#[recompute]`.
        checkpoint: Option<Checkpoint>,
    },
    /// Passive code copied through unchanged (only in the forward sweep).
    Passive(TokenStream),
}

/// How a `#[checkpoint]` loop is cut into segments.
#[derive(Clone, Debug)]
pub enum Checkpoint {
    /// `#[checkpoint]`: segments of ⌈√n⌉ iterations for a trip count `n`.
    Sqrt,
    /// `#[checkpoint(every = k)]`: segments of `k` iterations.
    Every(PExpr),
    /// `#[recompute]`: only the loop's starting state is saved; the reverse of
    /// each iteration re-runs the loop up to it (O(1) states, O(n²) time).
    Recompute,
}

#[derive(Clone, Debug, Default)]
pub struct Block {
    pub id: usize,
    pub stmts: Vec<Stmt>,
    /// The id of each statement of `stmts` (empty until [`Func::numbered`]).
    pub ids: Vec<StmtId>,
}

/// A variable a statement binds.
#[derive(Clone, Copy, Debug)]
pub struct Binding {
    pub var: VarId,
    /// A `for` loop's variable: bound inside the loop body (and bound again by the
    /// reversed loop), not where the loop statement stands.
    pub in_body: bool,
}

/// How the generated functions spell the float type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FloatTy {
    F64,
    F32,
    /// A generic parameter bounded by `Float`.
    Generic(Ident),
}

/// The shape of a parameter's type, which decides its shadows' types.
#[derive(Clone, Debug)]
pub enum ParamTy {
    /// `self`, `&self`: passed through.
    Receiver,
    /// The function's float type `F`.
    Float,
    /// `&[F]`.
    Slice,
    /// `[F; N]` or `&[F; N]`, with `N` as written.
    Array { len: TokenStream },
    /// `&mut [F]` (`len: None`) or `&mut [F; N]`: an out-parameter, never active;
    /// its shadow `dout` carries the output's tangent or cotangent.
    Out { len: Option<TokenStream> },
    /// Anything else: passed through, never differentiated.
    Passive,
    /// A struct (`&S`, `S`, `&self`) named in `wrt(..)`; its shadow has type `ty`
    /// (the struct without the reference). Its variable is the struct passed whole
    /// to calls; its fields are [`ParamTy::Field`] parameters.
    /// `whole`: the struct itself is passed to a call (`g(p, x)`, `self.g(x)`).
    Struct {
        ty: TokenStream,
        by_ref: bool,
        whole: bool,
    },
    /// A nested float buffer (`&[[F; N]]`, `[[F; N]; M]`, `&[Vec<F>]`, ..., see
    /// `lower/rows.rs`): the body reads it through its flat buffer, a
    /// [`FieldKind::Flat`] field; the variable itself is the rows (`x.len()`, passed
    /// whole to calls with its shadow). `adj_ty` is its shadow's type in `_adjoint`
    /// (`&mut [[F; N]]`), `grad_ty` the gradient's and `grad_zero` a zero gradient
    /// (an expression reading the parameter).
    Nested {
        adj_ty: TokenStream,
        grad_ty: TokenStream,
        grad_zero: TokenStream,
        /// The gradient is borrowed as a slice (`&mut g[..]`), not as the array.
        slice: bool,
    },
    /// A field path `root.access` of a struct parameter, read through a synthetic
    /// parameter bound at entry (see `lower/structs.rs`); not in the signatures.
    Field {
        root: Ident,
        access: TokenStream,
        kind: FieldKind,
        /// The struct is also passed whole (or a field path by reference) to a
        /// call: the adjoint accumulates this field's shadow in a local and adds
        /// it in at the end, so no `&mut` borrows of `dp` overlap.
        deferred: bool,
    },
}

/// What a struct parameter's field path is, as its uses tell.
#[derive(Clone, Debug)]
pub enum FieldKind {
    /// A float: `let p__b: F = p.b;`
    Float,
    /// A float behind a pointer (`*p.b` of a `Box<F>`): `let p__b__deref: F = *p.b;`
    DerefFloat,
    /// A float buffer: `let p__w: &[F] = &p.w[..];`
    Buf,
    /// Only passed by reference to calls (`g(&p.l1)`): `let p__l1 = &p.l1;`
    Passed,
    /// The flat buffer of the nested buffer `root` (`lower/rows.rs`): `let
    /// x__flat: &[F] = x.as_flattened();`, or for rows of any length (`jagged`)
    /// gathered with its row offsets `x__off` (its adjoint scattered back on exit).
    Flat { jagged: bool },
    /// An integer of this type (no shadow): `let p__n: usize = p.n;`; of any
    /// integer type when empty (a cast operand):
    /// `let p__n = ::autodiff::__private::integer(p.n);`
    Int(TokenStream),
}

impl PartialEq for FieldKind {
    fn eq(&self, o: &Self) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(o)
    }
}

#[derive(Clone, Debug)]
pub struct Param {
    pub var: Option<VarId>,
    /// The parameter's name (`self` for a receiver).
    pub ident: Ident,
    /// The declaration as written (`#[attr] mut x: f64`, `&self`), repeated in every
    /// generated signature.
    pub decl: TokenStream,
    /// The type as written (empty for a receiver).
    pub ty: TokenStream,
    pub shape: ParamTy,
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
    /// The outputs besides a float return value: an array or tuple return value
    /// (then `ret` is a local `[F; M]` buffer holding it) and out-parameters.
    pub out: Outputs,
    /// Generate tangents as `K` lanes side by side (`__private::Lanes<F, K>`): the
    /// vector forward mode of `_jacobian`. `None` everywhere else.
    pub lanes: Option<usize>,
}

/// What the function returns.
#[derive(Clone, Debug, Default)]
pub enum RetShape {
    /// `-> F`: `ret` is a float.
    #[default]
    Float,
    /// `-> [F; M]`, with `M` as written: `ret` is a local array holding it.
    Array { len: TokenStream },
    /// `-> (F, F, ..)` with this many elements: `ret` is a local `[F; n]` holding them.
    Tuple(usize),
    /// `-> ()`: the results are in out-parameters; `ret` is a passive placeholder.
    Unit,
}

/// The outputs of a function: its return value and its out-parameters.
#[derive(Clone, Debug, Default)]
pub struct Outputs {
    pub ret: RetShape,
    /// The out-parameters (`&mut [F]`, `&mut [F; N]`), in parameter order.
    pub params: Vec<VarId>,
}

impl Func {
    /// Can the tangent code run in the vector forward mode? Not through calls, whose
    /// `g_fwd` takes one tangent, nor through casts between float types (lanes of
    /// `F` do not convert with `as`).
    pub fn lanes_ok(&self) -> bool {
        let mut ok = true;
        self.body.walk(&mut |_, s| {
            if let Stmt::Let {
                rhs: Rhs::Call(_) | Rhs::Op(Op::Cast, _),
                ..
            }
            | Stmt::Assign {
                rhs: Rhs::Call(_) | Rhs::Op(Op::Cast, _),
                ..
            } = s
            {
                ok = false;
            }
        });
        ok
    }

    /// The float type of the variable `v`: its own ([`Var::ty`]) or the function's.
    pub fn ty_of(&self, v: VarId) -> &FloatTy {
        self.vars[v].ty.as_ref().unwrap_or(&self.float)
    }
}

impl Outputs {
    /// Vector-valued: anything but a lone float return value (no `_grad`, a `_jacobian`).
    pub fn is_vector(&self) -> bool {
        !matches!(self.ret, RetShape::Float) || !self.params.is_empty()
    }
}

impl BufRepr {
    /// An out-parameter (`&mut [F]`, `&mut [F; N]`).
    pub fn is_out(self) -> bool {
        matches!(self, BufRepr::OutSlice | BufRepr::OutArray)
    }
}

impl PExpr {
    /// A passive expression that reads no variable.
    pub fn constant(tokens: TokenStream) -> Self {
        // one token: a literal, a name, a group
        let atomic = tokens.clone().into_iter().nth(1).is_none();
        PExpr {
            tokens,
            reads: Vec::new(),
            atomic,
        }
    }

    /// A passive expression that is not atomic.
    pub fn compound(tokens: TokenStream, reads: Vec<VarId>) -> Self {
        PExpr {
            tokens,
            reads,
            atomic: false,
        }
    }

    /// The variable `v` itself (a loop index, a flag).
    pub fn var(ident: &Ident, v: VarId) -> Self {
        PExpr {
            tokens: quote::quote!(#ident),
            reads: vec![v],
            atomic: true,
        }
    }

    /// Is this exactly the variable `v`?
    pub fn is_var(&self, v: VarId) -> bool {
        self.reads == [v] && self.tokens.clone().into_iter().nth(1).is_none()
    }

    /// Is this the literal `0`?
    pub fn is_zero(&self) -> bool {
        let mut it = self.tokens.clone().into_iter();
        matches!((it.next(), it.next()), (Some(proc_macro2::TokenTree::Literal(l)), None) if l.to_string() == "0")
    }

    /// The same expression (same tokens, structurally, reading the same variables)?
    pub fn same(&self, o: &PExpr) -> bool {
        self.reads == o.reads && tokens_eq(&self.tokens, &o.tokens)
    }
}

/// Structural equality of token streams (spans ignored).
fn tokens_eq(a: &TokenStream, b: &TokenStream) -> bool {
    use proc_macro2::TokenTree as T;
    let (mut a, mut b) = (a.clone().into_iter(), b.clone().into_iter());
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (Some(T::Ident(x)), Some(T::Ident(y))) if x == y => {}
            (Some(T::Punct(x)), Some(T::Punct(y))) if x.as_char() == y.as_char() => {}
            (Some(T::Literal(x)), Some(T::Literal(y))) if x.to_string() == y.to_string() => {}
            (Some(T::Group(x)), Some(T::Group(y)))
                if x.delimiter() == y.delimiter() && tokens_eq(&x.stream(), &y.stream()) => {}
            _ => return false,
        }
    }
}

impl StmtId {
    /// The id right after this one.
    pub fn next(self) -> StmtId {
        StmtId(self.0 + 1)
    }

    /// The id right before this one (the first stays the first).
    pub fn prev(self) -> StmtId {
        StmtId(self.0.saturating_sub(1))
    }
}

impl Extent {
    pub fn contains(&self, id: StmtId) -> bool {
        self.start <= id && id < self.end
    }
}

impl Func {
    /// The function with every statement numbered in pre-order ([`StmtId`]).
    pub fn numbered(mut self) -> Func {
        number(&mut self.body, &mut 0);
        self
    }
}

fn number(b: &mut Block, next: &mut usize) {
    b.ids.clear();
    for s in &mut b.stmts {
        b.ids.push(StmtId(*next));
        *next += 1;
        for nested in s.blocks_mut() {
            number(nested, next);
        }
    }
}

impl Block {
    /// The statements with their ids.
    pub fn iter(&self) -> impl Iterator<Item = (StmtId, &Stmt)> {
        debug_assert_eq!(self.ids.len(), self.stmts.len(), "a numbered function");
        self.stmts
            .iter()
            .enumerate()
            .map(|(k, s)| (self.ids.get(k).copied().unwrap_or_default(), s))
    }

    /// Every statement with its id, in pre-order (each before its nested blocks).
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(StmtId, &'a Stmt)) {
        self.walk_from(0, f)
    }

    /// [`Block::walk`] over the statements from index `k` on (and their nested blocks).
    pub fn walk_from<'a>(&'a self, k: usize, f: &mut impl FnMut(StmtId, &'a Stmt)) {
        for (id, s) in self.iter().skip(k) {
            f(id, s);
            for nested in s.blocks() {
                nested.walk(f);
            }
        }
    }

    /// Every statement, in pre-order, before [`Func::numbered`] gave them ids.
    pub fn walk_unnumbered<'a>(&'a self, f: &mut impl FnMut(&'a Stmt)) {
        for s in &self.stmts {
            f(s);
            for nested in s.blocks() {
                nested.walk_unnumbered(f);
            }
        }
    }

    /// This block and every block nested in it, in pre-order.
    pub fn all_blocks(&self) -> Vec<&Block> {
        let mut out = vec![self];
        for s in &self.stmts {
            for nested in s.blocks() {
                out.extend(nested.all_blocks());
            }
        }
        out
    }
}

impl Stmt {
    /// The blocks nested directly in this statement.
    pub fn blocks(&self) -> Vec<&Block> {
        match self {
            Stmt::If { then, els, .. } => vec![then, els],
            Stmt::For { body, .. } | Stmt::While { body, .. } => vec![body],
            _ => Vec::new(),
        }
    }

    fn blocks_mut(&mut self) -> Vec<&mut Block> {
        match self {
            Stmt::If { then, els, .. } => vec![then, els],
            Stmt::For { body, .. } | Stmt::While { body, .. } => vec![body],
            _ => Vec::new(),
        }
    }

    /// The variables this statement binds: `let v = ..`, `let v;`, a `for` loop's
    /// variable, and the records lowering adds to a loop (the last index of an
    /// early-exited `for`, a `while` loop's trip count).
    pub fn binds(&self) -> Vec<Binding> {
        let here = |var| Binding {
            var,
            in_body: false,
        };
        match self {
            Stmt::Let { var, .. } | Stmt::Decl { var } => vec![here(*var)],
            Stmt::For { var, last, .. } => {
                let mut b = vec![Binding {
                    var: *var,
                    in_body: true,
                }];
                b.extend(last.map(here));
                b
            }
            Stmt::While { count, .. } => vec![here(*count)],
            _ => Vec::new(),
        }
    }

    /// The variable (`v = ..`) or buffer (`b[i] = ..`) this statement assigns after
    /// its binding.
    pub fn assigns(&self) -> Option<VarId> {
        match self {
            Stmt::Assign { var, .. } | Stmt::Store { buf: var, .. } => Some(*var),
            _ => None,
        }
    }

    /// [`Stmt::assigns`], unless it is the first assignment of a deferred `let v;`
    /// (which overwrites nothing).
    pub fn overwrites(&self) -> Option<VarId> {
        match self {
            Stmt::Assign { init: true, .. } => None,
            _ => self.assigns(),
        }
    }

    /// The data flow activity follows: the variable whose value the statement
    /// defines, and the float variables that value comes from (operands, loaded
    /// buffers, buffers passed whole or viewed).
    pub fn flow(&self) -> Option<(VarId, Vec<VarId>)> {
        match self {
            Stmt::Let { var, rhs, .. } | Stmt::Assign { var, rhs, .. } => {
                let mut from: Vec<VarId> = rhs.operands().iter().filter_map(|o| o.var()).collect();
                from.extend(rhs.buffers());
                Some((*var, from))
            }
            Stmt::Store { buf, value, .. } => Some((*buf, value.var().into_iter().collect())),
            _ => None,
        }
    }

    /// Every variable the statement's own code reads (not counting its nested
    /// blocks): operands, indices, passive expressions, conditions, loop bounds, and
    /// the variable itself for a step `v += k`.
    pub fn reads(&self) -> Vec<VarId> {
        let mut r = Vec::new();
        match self {
            Stmt::Let { rhs, .. } => rhs.reads(&mut r),
            Stmt::Assign { var, rhs, .. } => {
                if let Rhs::Step { .. } = rhs {
                    r.push(*var);
                }
                rhs.reads(&mut r);
            }
            Stmt::Store { index, value, .. } => {
                r.extend(&index.reads);
                value.reads(&mut r);
            }
            Stmt::If { cond, .. } => r.extend(&cond.reads),
            Stmt::For {
                range: Range::Range { lo, hi, .. },
                exit,
                ..
            } => {
                r.extend(lo.reads.iter().chain(&hi.reads));
                r.extend(exit.iter().flat_map(|e| &e.reads));
            }
            Stmt::While { cond, exit, .. } => {
                r.extend(&cond.reads);
                r.extend(exit.iter().flat_map(|e| &e.reads));
            }
            Stmt::Decl { .. } | Stmt::Passive(_) => {}
        }
        r
    }

    /// The buffers whose elements or adjoint the statement reaches (not counting its
    /// nested blocks). Making a view reaches nothing; its uses do.
    pub fn buffers(&self) -> Vec<VarId> {
        let mut v = Vec::new();
        match self {
            Stmt::Let { rhs, .. } | Stmt::Assign { rhs, .. } => {
                for o in rhs.operands() {
                    if let Operand::Load(b, _) = o {
                        v.push(*b);
                    }
                }
                if !matches!(rhs, Rhs::View { .. }) {
                    v.extend(rhs.buffers());
                }
            }
            Stmt::Store { buf, value, .. } => {
                v.push(*buf);
                if let Operand::Load(b, _) = value {
                    v.push(*b);
                }
            }
            _ => {}
        }
        v
    }

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

    /// The variables reading the operand reads (a load: the buffer and its index's).
    pub fn reads(&self, out: &mut Vec<VarId>) {
        match self {
            Operand::Var(v) => out.push(*v),
            Operand::Load(b, i) => {
                out.push(*b);
                out.extend(&i.reads);
            }
            Operand::Const(p) => out.extend(&p.reads),
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

    /// Every variable evaluating the right-hand side reads.
    pub fn reads(&self, out: &mut Vec<VarId>) {
        match self {
            Rhs::Op(_, args) => args.iter().for_each(|o| o.reads(out)),
            Rhs::Call(c) => {
                if let Callee::Method { recv, .. } = &c.callee {
                    out.extend(&recv.reads);
                }
                for a in &c.args {
                    match a {
                        CallArg::Float(o) => o.reads(out),
                        CallArg::Buf { var, .. } => out.push(*var),
                        CallArg::Passive(p) => out.extend(&p.reads),
                    }
                }
            }
            Rhs::Passive(p) | Rhs::Step { amount: p, .. } => out.extend(&p.reads),
            Rhs::Fill { elem, len, .. } => {
                elem.reads(out);
                out.extend(&len.reads);
            }
            Rhs::View { base, lo, hi } => {
                out.push(*base);
                out.extend(lo.reads.iter().chain(&hi.reads));
            }
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

impl Block {
    /// Every statement, nested ones included (ids need not be assigned yet).
    pub fn walk_all(&self, f: &mut impl FnMut(&Stmt)) {
        for s in &self.stmts {
            f(s);
            for b in s.blocks() {
                b.walk_all(f);
            }
        }
    }

    pub fn walk_all_mut(&mut self, f: &mut impl FnMut(&mut Stmt)) {
        for s in &mut self.stmts {
            f(s);
            match s {
                Stmt::If { then, els, .. } => {
                    then.walk_all_mut(f);
                    els.walk_all_mut(f);
                }
                Stmt::For { body, .. } | Stmt::While { body, .. } => body.walk_all_mut(f),
                _ => {}
            }
        }
    }
}
