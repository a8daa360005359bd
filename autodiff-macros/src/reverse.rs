//! IR → the body of `f_adjoint`: a forward sweep that saves only what the reverse
//! sweep will need and lose, then the reverse sweep.
//!
//! # What is stored, and why
//!
//! - Straight-line code at the top of the function stores nothing: every
//!   temporary has its own name, so the reverse sweep reads the primal values
//!   directly. A top-level reassignment of a needed variable saves the old
//!   value in a local (`__s*`), never on a heap tape.
//! - A value is saved when an assignment or store overwrites it **and** the
//!   reverse sweep reads it before that point (`Analysis::save_before`): a use
//!   earlier in the function, or in a loop that also contains the overwrite and
//!   encloses the variable's binding (a variable bound inside a loop body is a
//!   fresh one each iteration). `s += w[i] * x[i]` needs no old `s`; inputs that
//!   never change (parameters, read-only buffers) are read again, not stored.
//!   Floats go on one typed tape (`__tape: Vec<F>`), other values on a stack of
//!   their own.
//! - Cheaper than storing: values recomputable from unchanging inputs (passive
//!   `let`s, arithmetic, elements of unchanging buffers, views) are recomputed at
//!   the start of their block's reverse; integer counter steps (`k += 1`) are
//!   undone by the inverse step; a loop that rewrites a whole scratch buffer
//!   (`for i in 0..n { b[i] = .. }` over `vec![..; n]`) makes older values dead, so
//!   later partial updates of it store nothing.
//! - Variables bound inside a loop body or branch are out of scope in the
//!   reverse sweep: the needed ones that cannot be recomputed are pushed when the
//!   block ends and popped when its reverse begins.
//! - A view `&w[lo..hi]` is never stored (it borrows `w`): the reverse sweep slices
//!   `w` and its adjoint again where the view's block reverses, with the bounds as
//!   they were when the view was made (evaluated again when they read only
//!   unchanging values, else kept in locals `__lo_v`/`__hi_v` and pushed with the
//!   block's other values). When something after the view touches the adjoint of
//!   `w` otherwise (`w[0]`, a second view, `g(w[0], v)`), the view's adjoint is
//!   reached as `dw[lo + i]` instead of through a long-lived `&mut dw[lo..hi]`; when
//!   something after it writes `w`, its elements are read as `w[lo + i]` after the
//!   restores, and a statement that names the view (`v.len()`) gets a short borrow
//!   of its own. Reading a view counts as reading `w` for what must be saved.
//! - A branch whose condition reads only unchanging values is re-evaluated;
//!   otherwise its decision goes on `__flags: Vec<bool>`, pushed after the branch
//!   runs so that the reverse pops it before anything the branch pushed. A
//!   `while` loop's trip count and the last index of an early-exited `for` loop
//!   are recorded.
//! - Before each `for` loop the tapes reserve `trip count × pushes per
//!   iteration`, so they do not grow one push at a time.
//! - The last loop with reverse work runs its reverse inside its forward pass,
//!   iteration by iteration (one pass over the data, as a hand-written gradient
//!   does), when that is equivalent: the outer floats it writes are accumulators
//!   (`s += ..`, read nowhere else in it), the outer buffers it writes are
//!   per-iteration scratch (rewritten by a fill loop before any use), and the
//!   statements after it have a reverse that reads only values fixed before it
//!   (`total / n`), which is then hoisted in front of it. Its body's values stay
//!   in scope, so they are neither stored nor recomputed.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::activity::recomputable_cond;
use crate::emit::Gen;
use crate::ir::*;
use crate::rules::{partials, Op};
use std::cell::Cell;

/// Counters and what the generated function must declare.
#[derive(Default)]
pub struct RevState {
    slot: Cell<usize>,
    pub uses_tape: Cell<bool>,
    pub uses_flags: Cell<bool>,
    pub stacks: std::cell::RefCell<Vec<VarId>>,
    /// Scratch buffers of a fused loop, and the loop body's positions: their stores
    /// save only what the same iteration's reverse reads.
    pub scratch: std::cell::RefCell<Vec<VarId>>,
    pub scratch_loop: Cell<Option<(usize, usize)>>,
}

/// One scaled contribution: (subtract it, `∂ * g`).
type Term = (bool, TokenStream);

struct Part {
    fwd: Vec<TokenStream>,
    /// In execution order of the reverse sweep.
    rev: Vec<TokenStream>,
    /// Float-tape and flag pushes per execution (branches: the larger side).
    tape_pushes: usize,
    flag_pushes: usize,
}

impl Gen<'_> {
    pub fn gen_adjoint_body(&self, st: &RevState) -> TokenStream {
        let ret = self.ident(self.f.ret);
        let mut decls = Vec::new();
        let f = self.fty();
        // adjoints of active scalar parameters and top-level variables
        for (i, v) in self.f.vars.iter().enumerate() {
            if !self.a.active[i] || v.block != 0 || self.a.loop_var[i] {
                continue;
            }
            if v.is_param && v.kind == Kind::Buf {
                continue;
            }
            decls.push(self.adjoint_decl(i));
        }
        let seed = if self.a.active[self.f.ret] {
            let b = self.adjoint_ident(self.f.ret);
            self.accumulate(&quote!(#b), false, &quote!(dret))
        } else {
            quote!()
        };
        let fuse = self.fusable_tail_loop().map(|(k, scratch)| {
            *st.scratch.borrow_mut() = scratch;
            st.scratch_loop
                .set(self.loop_body_range(&self.f.body.stmts[k]));
            k
        });
        let mut pre = Vec::new();
        if fuse.is_some() {
            pre.append(&mut decls);
            pre.push(seed.clone());
        }
        let part =
            self.gen_adjoint_block_with(&self.f.body, st, true, false, fuse.map(|k| (k, &pre[..])));
        let fwd = part.fwd;
        let rev = part.rev;
        let seed = if fuse.is_some() { quote!() } else { seed };
        let mut finish = Vec::new();
        for p in &self.f.params {
            let Some(v) = p.var else { continue };
            // A parameter outside `wrt(..)` made active by an assignment has no shadow.
            if self.a.active[v] && self.f.vars[v].kind == Kind::Float && self.f.vars[v].wrt {
                let b = self.adjoint_ident(v);
                let d = format_ident!("d{}", p.ident);
                finish.push(self.accumulate(&quote!(*#d), false, &quote!(#b)));
            }
        }
        let mut tapes = Vec::new();
        if st.uses_tape.get() {
            tapes.push(quote!(let mut __tape: ::std::vec::Vec<#f> = ::std::vec::Vec::new();));
        }
        if st.uses_flags.get() {
            tapes.push(quote!(let mut __flags: ::std::vec::Vec<bool> = ::std::vec::Vec::new();));
        }
        for v in st.stacks.borrow().iter() {
            let s = self.stack_ident(*v);
            tapes.push(quote!(let mut #s = ::std::vec::Vec::new();));
        }
        let checks = self.shadow_length_checks();
        quote! {
            #(#checks)*
            #(#tapes)*
            #(#fwd)*
            let __value = #ret;
            #(#decls)*
            #seed
            #(#rev)*
            #(#finish)*
            __value
        }
    }

    /// A top-level loop whose reverse can run inside it, iteration by iteration
    /// (Rosenbrock, a sum of losses over data): it is the last statement with
    /// reverse work, so every adjoint it reads is final when it starts, and the only
    /// outer floats it writes are accumulators (`s += e`) read nowhere else in it, whose
    /// adjoints the reverse leaves unchanged. Its primal and adjoint then share one
    /// pass over the data, as a hand-written gradient does.
    fn fusable_tail_loop(&self) -> Option<(usize, Vec<VarId>)> {
        let stmts = &self.f.body.stmts;
        let k = stmts.iter().rposition(|s| {
            self.a.stmt_has_rev(s) && matches!(s, Stmt::For { .. } | Stmt::While { .. })
        })?;
        if !self.tail_reverse_can_run_first(k) {
            return None;
        }
        let body = match &stmts[k] {
            Stmt::For {
                body, exit: None, ..
            }
            | Stmt::While {
                body, exit: None, ..
            } => body,
            _ => return None,
        };
        let mut inside = vec![false; self.f.vars.len()];
        crate::activity::walk(body, &mut |s| match s {
            Stmt::Let { var, .. } | Stmt::Decl { var } => inside[*var] = true,
            Stmt::For { var, last, .. } => {
                inside[*var] = true;
                if let Some(l) = last {
                    inside[*l] = true;
                }
            }
            Stmt::While { count, .. } => inside[*count] = true,
            _ => {}
        });
        let mut accumulators = Vec::new();
        let mut ok = true;
        let mut scratch = Vec::new();
        crate::activity::walk(body, &mut |s| match s {
            // Per-iteration scratch: its old values are dead once the iteration's
            // reverse has run, so nothing needs saving.
            Stmt::Store { buf, .. }
                if !inside[*buf]
                    && self.a.active[*buf]
                    && self.scratch_of_iteration(*buf, &stmts[k], body) =>
            {
                scratch.push(*buf)
            }
            // The reverse would restore it in the middle of the forward pass.
            Stmt::Assign {
                var, init: false, ..
            } if !inside[*var] && self.a.save_before(*var, s) => ok = false,
            Stmt::Store { buf, .. } if !inside[*buf] && self.a.save_before(*buf, s) => ok = false,
            Stmt::Assign { var, rhs, .. } if !inside[*var] && self.a.active[*var] => match rhs {
                Rhs::Op(Op::Add | Op::Sub, args) => match args.as_slice() {
                    [Operand::Var(a), b] if a == var && b.var() != Some(*var) => {
                        accumulators.push(*var)
                    }
                    _ => ok = false,
                },
                _ => ok = false,
            },
            Stmt::Store { buf, .. } if !inside[*buf] && self.a.active[*buf] => ok = false,
            _ => {}
        });
        if !ok {
            return None;
        }
        // An accumulator read anywhere but its own `+=` would change its adjoint.
        let mut reads_acc = false;
        crate::activity::walk(body, &mut |s| {
            let mut check = |v: VarId| reads_acc |= accumulators.contains(&v);
            match s {
                Stmt::Let { rhs, .. } | Stmt::Assign { rhs, .. } => {
                    let own = matches!(s, Stmt::Assign { var, .. } if accumulators.contains(var));
                    for (i, o) in rhs.operands().iter().enumerate() {
                        if own && i == 0 {
                            continue;
                        }
                        if let Some(v) = o.var() {
                            check(v);
                        }
                        if let Operand::Load(_, p) | Operand::Const(p) = o {
                            p.reads.iter().for_each(|r| check(*r));
                        }
                    }
                    if let Rhs::Passive(p) | Rhs::Step { amount: p, .. } = rhs {
                        p.reads.iter().for_each(|r| check(*r));
                    }
                    rhs.buffers().into_iter().for_each(&mut check);
                }
                Stmt::Store { index, value, .. } => {
                    index.reads.iter().for_each(|r| check(*r));
                    if let Some(v) = value.var() {
                        check(v);
                    }
                }
                Stmt::If { cond, .. } | Stmt::While { cond, .. } => {
                    cond.reads.iter().for_each(|r| check(*r))
                }
                Stmt::For {
                    range: Range::Range { lo, hi, .. },
                    ..
                } => lo
                    .reads
                    .iter()
                    .chain(hi.reads.iter())
                    .for_each(|r| check(*r)),
                _ => {}
            }
        });
        if reads_acc {
            return None;
        }
        Some((k, scratch))
    }

    /// Can the reverse of the statements after the loop at `k` run before the loop?
    /// Only when it reads values fixed before the loop (the mean `total / n`, calls
    /// on inputs) and restores nothing.
    fn tail_reverse_can_run_first(&self, k: usize) -> bool {
        let stmts = &self.f.body.stmts;
        let start = self.a.pos_of(&stmts[k]);
        // positions where each variable is (re)assigned
        let mut assigned_from = vec![usize::MAX; self.f.vars.len()];
        crate::activity::walk(&self.f.body, &mut |s| {
            let p = self.a.pos_of(s);
            if let Stmt::Assign { var, .. } | Stmt::Store { buf: var, .. } = s {
                if p >= start {
                    assigned_from[*var] = assigned_from[*var].min(p);
                }
            }
        });
        let fixed_before = |v: VarId| {
            assigned_from[v] == usize::MAX && !matches!(self.a.decl[v], Some(d) if d >= start)
        };
        for s in &stmts[k + 1..] {
            if !self.a.stmt_has_rev(s) {
                continue;
            }
            let simple = match s {
                Stmt::Let { rhs, .. } => matches!(rhs, Rhs::Op(..) | Rhs::Call(..)),
                Stmt::Assign { var, rhs, init } => {
                    matches!(rhs, Rhs::Op(..) | Rhs::Call(..))
                        && (*init || !self.a.save_before(*var, s))
                }
                _ => false,
            };
            if !simple {
                return false;
            }
            let p = self.a.pos_of(s);
            let reads_late = self
                .a
                .uses
                .iter()
                .enumerate()
                .any(|(v, us)| us.contains(&p) && !fixed_before(v));
            if reads_late {
                return false;
            }
        }
        true
    }

    /// A buffer declared before the loop and used as per-iteration scratch: fully
    /// rewritten (a fill loop directly in the body) before any use in the body, and
    /// used nowhere outside the loop. Then each iteration's reverse consumes exactly
    /// the adjoints its own reads produced.
    fn scratch_of_iteration(&self, buf: VarId, l: &Stmt, body: &Block) -> bool {
        let lo = self.a.pos_of(l);
        let Some(hi) = body.stmts.last().map(|_| {
            let mut end = lo;
            crate::activity::walk(body, &mut |s| end = end.max(self.a.pos_of(s)));
            end + 1
        }) else {
            return false;
        };
        let direct: Vec<usize> = body.stmts.iter().map(|s| self.a.pos_of(s)).collect();
        let Some(kill) = self
            .a
            .kills
            .iter()
            .filter(|k| k.buf == buf && direct.contains(&k.start))
            .map(|k| k.end)
            .min()
        else {
            return false;
        };
        self.a.uses[buf]
            .iter()
            .all(|&u| u > lo && u < hi && u >= kill)
    }

    /// The positions of a loop's body, as recorded in `Analysis::loops`.
    fn loop_body_range(&self, l: &Stmt) -> Option<(usize, usize)> {
        let first = self.a.pos_of(l) + 1;
        self.a.loops.iter().copied().find(|&(lo, _)| lo == first)
    }

    /// `for i in r { forward(body); reverse(body) }`.
    fn gen_fused_loop(&self, s: &Stmt, st: &RevState) -> TokenStream {
        match s {
            Stmt::For {
                var, range, body, ..
            } => {
                let i = self.ident(*var);
                let r = self.range_tokens(range);
                let bp = self.gen_adjoint_block_with(body, st, false, true, None);
                let (f, rv) = (&bp.fwd, &bp.rev);
                quote!(for #i in #r { #(#f)* #(#rv)* })
            }
            Stmt::While { cond, body, .. } => {
                let c = &cond.tokens;
                let bp = self.gen_adjoint_block_with(body, st, false, true, None);
                let (f, rv) = (&bp.fwd, &bp.rev);
                quote!(while #c { #(#f)* #(#rv)* })
            }
            _ => quote!(),
        }
    }

    fn adjoint_decl(&self, v: VarId) -> TokenStream {
        let b = self.adjoint_ident(v);
        let z = self.adj_zero();
        let f = self.fty();
        match self.f.vars[v].kind {
            Kind::Buf => {
                let x = self.ident(v);
                if self.f.vars[v].view.is_some() {
                    // Reached at an offset of the base's adjoint instead when something
                    // else touches that adjoint meanwhile.
                    if !self.view_plan(v).shadow_slice {
                        return quote!();
                    }
                    let view = self.view_slice(v, true);
                    return quote!(let #b = #view;);
                }
                match self.f.vars[v].buf {
                    Some(BufRepr::LocalArray) => {
                        quote!(let mut #b = ::autodiff::__private::zeros_like_array(&#x);)
                    }
                    _ => quote!(let mut #b = ::std::vec![#z; #x.len()];),
                }
            }
            _ => quote!(let mut #b: #f = #z;),
        }
    }

    fn pop(&self, what: TokenStream) -> TokenStream {
        quote!(::autodiff::__private::pop(&mut #what))
    }

    /// Is `v` (declared in a nested block) re-evaluated rather than stored?
    fn recomputed(&self, v: VarId, rhs: &Rhs) -> bool {
        self.a.recomputable_let(v, rhs)
    }

    fn save(
        &self,
        v: VarId,
        top: bool,
        st: &RevState,
        value: TokenStream,
    ) -> (TokenStream, TokenStream, usize) {
        if top {
            let k = st.slot.get();
            st.slot.set(k + 1);
            let s = format_ident!("__s{}", k);
            (quote!(let #s = #value;), quote!(#s), 0)
        } else if self.f.vars[v].kind == Kind::Passive {
            let s = self.stack_ident(v);
            let mut stacks = st.stacks.borrow_mut();
            if !stacks.contains(&v) {
                stacks.push(v);
            }
            (quote!(#s.push(#value);), self.pop(quote!(#s)), 0)
        } else {
            st.uses_tape.set(true);
            (quote!(__tape.push(#value);), self.pop(quote!(__tape)), 1)
        }
    }

    fn gen_adjoint_block(&self, b: &Block, st: &RevState, top: bool) -> Part {
        self.gen_adjoint_block_with(b, st, top, false, None)
    }

    /// `in_scope`: the block's reverse runs right after its forward, in the same scope
    /// (a fused loop body), so its locals need no storing. `fuse`: at this statement
    /// index, emit `pre` and the fused form of the loop.
    fn gen_adjoint_block_with(
        &self,
        b: &Block,
        st: &RevState,
        top: bool,
        in_scope: bool,
        fuse: Option<(usize, &[TokenStream])>,
    ) -> Part {
        let mut fwd = Vec::new();
        let mut rev_parts: Vec<Vec<TokenStream>> = Vec::new();
        let mut tape_pushes = 0;
        let mut flag_pushes = 0;
        // Variables bound in this (nested) block that its reverse needs.
        let mut block_end_push = Vec::new();
        let mut block_start = Vec::new();
        let mut recompute = Vec::new();
        let mut adj_decls = Vec::new();
        let has_rev = self.a.has_rev.get(b.id).copied().unwrap_or(false);
        // With a fused loop: where its reverse-ready prelude goes, and the reverse of
        // the statements after it (hoisted in front of it).
        let mut fused_at = None;
        let mut tail_rev: Vec<Vec<TokenStream>> = Vec::new();
        // Views of this block read at offsets of a base that is written after them: the
        // reverse of a statement that names one (`v.len()`) gets its own short borrow.
        let loose: Vec<VarId> = b
            .stmts
            .iter()
            .filter_map(|s| match s {
                Stmt::Let {
                    var,
                    rhs: Rhs::View { .. },
                    ..
                } if self.a.needed[*var] && !self.view_plan(*var).primal_slice => Some(*var),
                _ => None,
            })
            .collect();
        for (k, s) in b.stmts.iter().enumerate() {
            if let Some((at, pre)) = fuse {
                if at == k {
                    fwd.extend(pre.iter().cloned());
                    fused_at = Some(fwd.len());
                    fwd.push(self.gen_fused_loop(s, st));
                    continue;
                }
            }
            let p = self.gen_adjoint_stmt(s, st, top);
            fwd.extend(p.fwd);
            let r = self.bind_views(&loose, p.rev);
            if fused_at.is_some() {
                tail_rev.push(r);
                continue;
            }
            rev_parts.push(r);
            tape_pushes += p.tape_pushes;
            flag_pushes += p.flag_pushes;
            if top || !has_rev {
                continue;
            }
            if in_scope {
                if let Stmt::Let { var, .. } | Stmt::Decl { var } = s {
                    if self.a.active[*var] {
                        adj_decls.push(self.adjoint_decl(*var));
                    }
                }
                continue;
            }
            let bound: Vec<(VarId, Option<&Rhs>)> = match s {
                Stmt::Let { var, rhs, .. } => vec![(*var, Some(rhs))],
                Stmt::Decl { var } => vec![(*var, None)],
                Stmt::For { last: Some(l), .. } => vec![(*l, None)],
                Stmt::While { count, .. } => vec![(*count, None)],
                _ => vec![],
            };
            for (v, rhs) in bound {
                if self.a.active[v] {
                    adj_decls.push(self.adjoint_decl(v));
                }
                let needs_len = self.a.active[v] && self.f.vars[v].kind == Kind::Buf;
                if !self.a.needed[v] && !needs_len {
                    continue;
                }
                let x = self.ident(v);
                if self.f.vars[v].view.is_some() {
                    // Its bounds as they were when it was made, never the view itself.
                    let plan = self.view_plan(v);
                    if plan.saved {
                        let s = self.stack_ident(v);
                        {
                            let mut stacks = st.stacks.borrow_mut();
                            if !stacks.contains(&v) {
                                stacks.push(v);
                            }
                        }
                        let (l, h) = self.bound_idents(v);
                        block_end_push.push(quote!(#s.push((#l, #h));));
                        block_start
                            .push(quote!(let (#l, #h) = ::autodiff::__private::pop(&mut #s);));
                    }
                    if self.a.needed[v] && plan.primal_slice {
                        let view = self.view_slice(v, false);
                        recompute.push(quote!(let #x = #view;));
                    }
                    continue;
                }
                if let Some(rhs) = rhs {
                    if self.recomputed(v, rhs) {
                        let t = match rhs {
                            Rhs::Passive(p) => p.tokens.clone(),
                            Rhs::Op(op, args) => self.rev_primal_op(*op, args),
                            _ => TokenStream::new(),
                        };
                        let t = self.bind_views_expr(&loose, t);
                        recompute.push(quote!(let #x = #t;));
                        continue;
                    }
                }
                match self.f.vars[v].kind {
                    Kind::Float => {
                        st.uses_tape.set(true);
                        tape_pushes += 1;
                        block_end_push.push(quote!(__tape.push(#x);));
                        block_start
                            .push(quote!(let mut #x = ::autodiff::__private::pop(&mut __tape);));
                    }
                    _ => {
                        let s = self.stack_ident(v);
                        {
                            let mut stacks = st.stacks.borrow_mut();
                            if !stacks.contains(&v) {
                                stacks.push(v);
                            }
                        }
                        block_end_push.push(quote!(#s.push(#x);));
                        block_start.push(quote!(let mut #x = ::autodiff::__private::pop(&mut #s);));
                    }
                }
            }
        }
        if let Some(at) = fused_at {
            let hoisted: Vec<TokenStream> = tail_rev.into_iter().rev().flatten().collect();
            fwd.splice(at..at, hoisted);
        }
        fwd.extend(block_end_push);
        block_start.reverse();
        let mut rev = Vec::new();
        rev.extend(block_start);
        rev.extend(recompute);
        rev.extend(adj_decls);
        for r in rev_parts.into_iter().rev() {
            rev.extend(r);
        }
        Part {
            fwd,
            rev,
            tape_pushes,
            flag_pushes,
        }
    }

    /// `{ let v = &base[lo..hi]; rev }` for each of `views` that `rev` names.
    fn bind_views(&self, views: &[VarId], rev: Vec<TokenStream>) -> Vec<TokenStream> {
        let all: TokenStream = rev.iter().cloned().collect();
        let binds = self.view_bindings(views, &all);
        if binds.is_empty() {
            rev
        } else {
            vec![quote!({ #(#binds)* #all })]
        }
    }

    /// An expression `e` with the views it names bound around it.
    fn bind_views_expr(&self, views: &[VarId], e: TokenStream) -> TokenStream {
        let binds = self.view_bindings(views, &e);
        if binds.is_empty() {
            e
        } else {
            quote!({ #(#binds)* #e })
        }
    }

    fn view_bindings(&self, views: &[VarId], code: &TokenStream) -> Vec<TokenStream> {
        views
            .iter()
            .filter(|v| crate::emit::mentions(code, self.ident(**v)))
            .map(|v| {
                let x = self.ident(*v);
                let view = self.view_slice(*v, false);
                quote!(let #x = #view;)
            })
            .collect()
    }

    /// Reverse-sweep contributions `x̄ᵢ += ∂ᵢ·g` of `op(args)`.
    fn contributions(
        &self,
        op: crate::rules::Op,
        args: &[Operand],
        g: &TokenStream,
        out: &TokenStream,
        old: Option<(VarId, &TokenStream)>,
    ) -> Vec<TokenStream> {
        let ins: Vec<TokenStream> = args
            .iter()
            .map(|o| match (o, old) {
                (Operand::Var(v), Some((dst, old))) if *v == dst => old.clone(),
                _ => self.rev_primal(o),
            })
            .collect();
        // Contributions to one target (`x * x`) are summed first: one update, not two.
        let mut groups: Vec<(String, TokenStream, Vec<Term>)> = Vec::new();
        for (i, d) in partials(op).iter().enumerate() {
            let (Some(d), Some(arg)) = (d, args.get(i)) else {
                continue;
            };
            let Some(target) = self.adjoint(arg) else {
                continue;
            };
            let term = self.scale(d, g.clone(), &ins, out);
            let key = target.to_string();
            match groups.iter_mut().find(|(k, _, _)| *k == key) {
                Some((_, _, terms)) => terms.push(term),
                None => groups.push((key, target, vec![term])),
            }
        }
        groups
            .into_iter()
            .map(|(_, target, terms)| {
                if let [(neg, t)] = terms.as_slice() {
                    return self.accumulate(&target, *neg, t);
                }
                let mut it = terms.into_iter();
                let (neg0, t0) = it.next().unwrap_or((false, quote!()));
                let mut sum = if neg0 { quote!(-#t0) } else { t0 };
                for (neg, t) in it {
                    sum = if neg {
                        quote!(#sum - #t)
                    } else {
                        quote!(#sum + #t)
                    };
                }
                self.accumulate(&target, false, &quote!((#sum)))
            })
            .collect()
    }

    fn gen_adjoint_call(&self, c: &Call, g: &TokenStream) -> TokenStream {
        let callee = self.callee_tokens(c, "_adjoint");
        let mut args = Vec::new();
        // An adjoint passed twice (`g(x, x)`, `g(b[0], &b[1..3])`) cannot be borrowed
        // mutably twice: the repeats accumulate into temporaries that are added in after
        // the call. Buffers count by the buffer they view.
        let mut seen: Vec<VarId> = Vec::new();
        let mut temps = Vec::new();
        let mut merge = Vec::new();
        for a in &c.args {
            match a {
                CallArg::Float(o) => {
                    args.push(self.rev_primal(o));
                    let key = match o {
                        Operand::Var(v) => Some(*v),
                        Operand::Load(v, _) => Some(self.a.root[*v]),
                        Operand::Const(_) => None,
                    };
                    match self.adjoint(o) {
                        Some(t) if key.is_some_and(|k| seen.contains(&k)) => {
                            let tmp = format_ident!("__dup{}", temps.len());
                            let z = self.zero();
                            temps.push(quote!(let mut #tmp = #z;));
                            args.push(quote!(&mut #tmp));
                            merge.push(self.accumulate(&t, false, &quote!(#tmp)));
                        }
                        Some(t) => {
                            seen.extend(key);
                            args.push(quote!(&mut #t));
                        }
                        None => {
                            let z = self.zero();
                            args.push(quote!(&mut #z));
                        }
                    }
                }
                CallArg::Buf { var, by_ref } => {
                    args.push(self.buf_arg(*var, *by_ref));
                    if self.a.active[*var] {
                        let key = self.a.root[*var];
                        // the shadow as a value to accumulate into, and as the argument
                        let (whole, arg) = match self.view_span(*var) {
                            Some((root, start, end)) if !self.view_plan(*var).shadow_slice => {
                                let d = self.adjoint_ident(root);
                                (quote!(#d[#start..#end]), quote!(&mut #d[#start..#end]))
                            }
                            _ => {
                                let d = self.adjoint_ident(*var);
                                let by_place = self.f.vars[*var].is_param
                                    || self.f.vars[*var].buf == Some(BufRepr::View);
                                (
                                    quote!(#d),
                                    if by_place {
                                        quote!(&mut *#d)
                                    } else {
                                        quote!(&mut #d)
                                    },
                                )
                            }
                        };
                        if seen.contains(&key) {
                            let tmp = format_ident!("__dup{}", temps.len());
                            let z = self.zero_buffer(*var);
                            temps.push(quote!(let mut #tmp = #z;));
                            args.push(quote!(&mut #tmp));
                            let acc = self.accumulate(&quote!(*__t), false, &quote!(*__a));
                            merge.push(
                                quote!(for (__t, __a) in #whole.iter_mut().zip(#tmp.iter()) { #acc }),
                            );
                            continue;
                        }
                        seen.push(key);
                        args.push(arg);
                    } else {
                        let z = self.zero_buffer(*var);
                        args.push(quote!(&mut #z));
                    }
                }
                CallArg::Passive(p) => args.push(p.tokens.clone()),
            }
        }
        if temps.is_empty() {
            quote!(let _ = #callee(#(#args,)* #g);)
        } else {
            quote!({ #(#temps)* let _ = #callee(#(#args,)* #g); #(#merge)* })
        }
    }

    fn gen_adjoint_stmt(&self, s: &Stmt, st: &RevState, top: bool) -> Part {
        let mut part = Part {
            fwd: Vec::new(),
            rev: Vec::new(),
            tape_pushes: 0,
            flag_pushes: 0,
        };
        match s {
            Stmt::Let { var, rhs, mutable } => {
                let v = self.ident(*var);
                let m = self.let_mut(*var, *mutable);
                let active = self.a.active[*var];
                let bv = self.adjoint_ident(*var);
                match rhs {
                    Rhs::Op(op, args) => {
                        let p = self.primal_op(*op, args);
                        let ty = self.let_ty(rhs);
                        part.fwd.push(quote!(let #m #v #ty = #p;));
                        if active {
                            part.rev.extend(self.contributions(
                                *op,
                                args,
                                &quote!(#bv),
                                &quote!(#v),
                                None,
                            ));
                        }
                    }
                    Rhs::Call(c) => {
                        let call = self.gen_primal_call(c);
                        part.fwd.push(quote!(let #m #v = #call;));
                        if active {
                            part.rev.push(self.gen_adjoint_call(c, &quote!(#bv)));
                        }
                    }
                    Rhs::Passive(p) => {
                        let t = &p.tokens;
                        part.fwd.push(quote!(let #m #v = #t;));
                    }
                    Rhs::Step { .. } => {}
                    Rhs::View { base, lo, hi } => {
                        let reversed = self.a.needed[*var] || active;
                        if reversed && self.view_plan(*var).saved {
                            // The reverse sweep needs the bounds as they are now.
                            let (l, h) = self.bound_idents(*var);
                            let (lo, hi) = (crate::emit::bound(lo), crate::emit::bound(hi));
                            let b = self.ident(*base);
                            part.fwd
                                .push(quote!(let #l: usize = #lo; let #h: usize = #hi; let #v = &#b[#l..#h];));
                        } else {
                            let view = self.slice_of(self.ident(*base), lo, hi);
                            part.fwd.push(quote!(let #v = &#view;));
                        }
                    }
                    Rhs::Fill { elem, len, array } => {
                        let e = self.primal(elem);
                        let l = &len.tokens;
                        part.fwd.push(if *array {
                            quote!(let mut #v = [#e; #l];)
                        } else {
                            {
                                let ty = self.let_ty(rhs);
                                quote!(let mut #v #ty = ::std::vec![#e; #l];)
                            }
                        });
                        if active {
                            if let Some(t) = self.adjoint(elem) {
                                let acc = self.accumulate(&t, false, &quote!(*__e));
                                part.rev.push(quote!(for __e in #bv.iter() { #acc }));
                            }
                        }
                    }
                }
            }
            Stmt::Decl { var } => {
                let v = self.ident(*var);
                let z = self.zero();
                let f = self.fty();
                if self.f.vars[*var].kind == Kind::Passive {
                    part.fwd.push(quote!(let mut #v;));
                } else {
                    part.fwd.push(quote!(let mut #v: #f = #z;));
                }
            }
            Stmt::Assign { var, rhs, init } => {
                let v = self.ident(*var);
                let active = self.a.active[*var];
                let saved = !*init && self.a.save_before(*var, s);
                // A counter step over unchanging amounts is undone, not stored.
                let inverse = match rhs {
                    Rhs::Step { add, amount }
                        if amount.reads.iter().all(|r| !self.a.changes(*r)) =>
                    {
                        let t = &amount.tokens;
                        Some(if *add {
                            quote!(#v -= #t;)
                        } else {
                            quote!(#v += #t;)
                        })
                    }
                    _ => None,
                };
                let mut restore = None;
                if saved && inverse.is_none() {
                    let (f, r, n) = self.save(*var, top, st, quote!(#v));
                    part.fwd.push(f);
                    part.tape_pushes += n;
                    restore = Some(r);
                }
                let bv = self.adjoint_ident(*var);
                let z = self.adj_zero();
                match rhs {
                    Rhs::Op(op, args) => {
                        let p = self.primal_op(*op, args);
                        part.fwd.push(quote!(#v = #p;));
                        // `s += e` / `s -= e`: ∂s_new/∂s_old = 1, so the adjoint of `s` passes through
                        // unchanged and only `e` receives a contribution.
                        let accumulates = matches!(op, Op::Add | Op::Sub)
                            && matches!(args.first(), Some(Operand::Var(x)) if x == var)
                            && !matches!(args.get(1), Some(Operand::Var(x)) if x == var);
                        if active && accumulates {
                            let contrib =
                                self.contributions(*op, &args[..], &quote!(#bv), &quote!(#v), None);
                            // skip the first operand (the variable itself)
                            let rest: Vec<TokenStream> = match self.a.is_active_operand(&args[0]) {
                                true => contrib.into_iter().skip(1).collect(),
                                false => contrib,
                            };
                            part.rev.extend(rest);
                            if let Some(r) = restore {
                                part.rev.push(quote!(#v = #r;));
                            }
                        } else if active {
                            let old = restore.as_ref().map(|_| quote!(__old));
                            let contrib = self.contributions(
                                *op,
                                args,
                                &quote!(__g),
                                &quote!(#v),
                                old.as_ref().map(|o| (*var, o)),
                            );
                            let get_old = restore.as_ref().map(|r| quote!(let __old = #r;));
                            let put_old = restore.as_ref().map(|_| quote!(#v = __old;));
                            part.rev.push(quote! {{
                                let __g = #bv;
                                #bv = #z;
                                #get_old
                                #(#contrib)*
                                #put_old
                            }});
                        } else if let Some(r) = restore {
                            part.rev.push(quote!(#v = #r;));
                        }
                    }
                    Rhs::Call(c) => {
                        let call = self.gen_primal_call(c);
                        part.fwd.push(quote!(#v = #call;));
                        // The callee's adjoint recomputes with the arguments' values at the call.
                        let put_old = restore.as_ref().map(|r| quote!(#v = #r;));
                        if active {
                            let call = self.gen_adjoint_call(c, &quote!(__g));
                            part.rev.push(quote! {{
                                let __g = #bv;
                                #bv = #z;
                                #put_old
                                #call
                            }});
                        } else if let Some(p) = put_old {
                            part.rev.push(p);
                        }
                    }
                    Rhs::Passive(p) => {
                        let t = &p.tokens;
                        part.fwd.push(quote!(#v = #t;));
                        if let Some(r) = restore {
                            part.rev.push(quote!(#v = #r;));
                        }
                    }
                    Rhs::Step { add, amount } => {
                        let t = &amount.tokens;
                        part.fwd.push(if *add {
                            quote!(#v += #t;)
                        } else {
                            quote!(#v -= #t;)
                        });
                        if let Some(r) = restore {
                            part.rev.push(quote!(#v = #r;));
                        } else if saved {
                            part.rev.extend(inverse);
                        }
                    }
                    Rhs::Fill { .. } | Rhs::View { .. } => {}
                }
            }
            Stmt::Store { buf, index, value } => {
                let b = self.ident(*buf);
                let i = &index.tokens;
                let mut restore = None;
                let outer = if st.scratch.borrow().contains(buf) {
                    st.scratch_loop.get()
                } else {
                    None
                };
                if self.a.save_before_within(*buf, s, outer) {
                    let (f, r, n) = self.save(*buf, top, st, quote!(#b[#i]));
                    part.fwd.push(f);
                    part.tape_pushes += n;
                    restore = Some(r);
                }
                let p = self.primal(value);
                part.fwd.push(quote!(#b[#i] = #p;));
                let put_old = restore.map(|r| quote!(#b[#i] = #r;));
                if self.a.active[*buf] {
                    let bb = self.adjoint_ident(*buf);
                    let z = self.adj_zero();
                    let acc = self
                        .adjoint(value)
                        .map(|t| self.accumulate(&t, false, &quote!(__g)));
                    part.rev.push(quote! {{
                        let __g = #bb[#i];
                        #bb[#i] = #z;
                        #acc
                        #put_old
                    }});
                } else if let Some(p) = put_old {
                    part.rev.push(p);
                }
            }
            Stmt::If { cond, then, els } => {
                let t = self.gen_adjoint_block(then, st, false);
                let e = self.gen_adjoint_block(els, st, false);
                let c = &cond.tokens;
                let has_rev = self.a.stmt_has_rev(s);
                let (tf, ef) = (&t.fwd, &e.fwd);
                part.tape_pushes = t.tape_pushes.max(e.tape_pushes);
                part.flag_pushes = t.flag_pushes.max(e.flag_pushes);
                if !has_rev {
                    part.fwd.push(if ef.is_empty() {
                        quote!(if #c { #(#tf)* })
                    } else {
                        quote!(if #c { #(#tf)* } else { #(#ef)* })
                    });
                    return part;
                }
                let branches = if ef.is_empty() {
                    quote!({ #(#tf)* })
                } else {
                    quote!({ #(#tf)* } else { #(#ef)* })
                };
                let rc = if recomputable_cond(cond, self.a) {
                    part.fwd.push(quote!(if #c #branches));
                    quote!(#c)
                } else if top {
                    let k = st.slot.get();
                    st.slot.set(k + 1);
                    let s = format_ident!("__c{}", k);
                    part.fwd.push(quote!(let #s = #c; if #s #branches));
                    quote!(#s)
                } else {
                    st.uses_flags.set(true);
                    part.flag_pushes += 1;
                    // Pushed after the branches run, so that the reverse sweep pops the
                    // decision before anything the taken branch pushed.
                    part.fwd
                        .push(quote!(let __c = #c; if __c #branches __flags.push(__c);));
                    self.pop(quote!(__flags))
                };
                let (tr, er) = (&t.rev, &e.rev);
                part.rev.push(if er.is_empty() {
                    quote!(if #rc { #(#tr)* })
                } else {
                    quote!(if #rc { #(#tr)* } else { #(#er)* })
                });
            }
            Stmt::For {
                var,
                range,
                body,
                exit,
                last,
            } => {
                let i = self.ident(*var);
                let r = self.range_tokens(range);
                let bp = self.gen_adjoint_block(body, st, false);
                let bf = &bp.fwd;
                let has_rev = self.a.has_rev[body.id];
                let ex = exit.as_ref().map(|e| {
                    let e = &e.tokens;
                    quote!(if #e { break; })
                });
                if !has_rev {
                    part.fwd.push(quote!(for #i in #r { #(#bf)* #ex }));
                    return part;
                }
                let mut reserve = Vec::new();
                if bp.tape_pushes > 0 {
                    let n = proc_macro2::Literal::usize_unsuffixed(bp.tape_pushes);
                    reserve.push(
                        quote!(__tape.reserve(::autodiff::__private::trip_count(&(#r)) * #n);),
                    );
                }
                if bp.flag_pushes > 0 {
                    let n = proc_macro2::Literal::usize_unsuffixed(bp.flag_pushes);
                    reserve.push(
                        quote!(__flags.reserve(::autodiff::__private::trip_count(&(#r)) * #n);),
                    );
                }
                let br = &bp.rev;
                let Range::Range {
                    lo,
                    hi,
                    inclusive,
                    rev,
                } = range;
                let (lo, hi) = (crate::emit::bound(lo), crate::emit::bound(hi));
                match last {
                    Some(l) if exit.is_some() => {
                        let l = self.ident(*l);
                        part.fwd.push(quote! {
                            let mut #l = ::core::option::Option::None;
                            #(#reserve)*
                            for #i in #r { #l = ::core::option::Option::Some(#i); #(#bf)* #ex }
                        });
                        let rr = match (rev, inclusive) {
                            (false, _) => quote!((#lo..=__l).rev()),
                            (true, false) => quote!(__l..#hi),
                            (true, true) => quote!(__l..=#hi),
                        };
                        part.rev.push(quote! {
                            if let ::core::option::Option::Some(__l) = #l {
                                for #i in #rr { #(#br)* }
                            }
                        });
                    }
                    _ => {
                        part.fwd.push(quote! {
                            #(#reserve)*
                            for #i in #r { #(#bf)* #ex }
                        });
                        let rr = match (rev, inclusive) {
                            (false, false) => quote!((#lo..#hi).rev()),
                            (false, true) => quote!((#lo..=#hi).rev()),
                            (true, false) => quote!(#lo..#hi),
                            (true, true) => quote!(#lo..=#hi),
                        };
                        part.rev.push(quote!(for #i in #rr { #(#br)* }));
                    }
                }
            }
            Stmt::While {
                cond,
                body,
                exit,
                count,
            } => {
                let c = &cond.tokens;
                let bp = self.gen_adjoint_block(body, st, false);
                let bf = &bp.fwd;
                let ex = exit.as_ref().map(|e| {
                    let e = &e.tokens;
                    quote!(if #e { break; })
                });
                if !self.a.has_rev[body.id] {
                    part.fwd.push(quote!(while #c { #(#bf)* #ex }));
                    return part;
                }
                let n = self.ident(*count);
                part.fwd.push(quote! {
                    let mut #n: usize = 0;
                    while #c { #n += 1; #(#bf)* #ex }
                });
                let br = &bp.rev;
                part.rev.push(quote!(for _ in 0..#n { #(#br)* }));
            }
            Stmt::Passive(t) => part.fwd.push(t.clone()),
        }
        part
    }
}
