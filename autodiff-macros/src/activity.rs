//! Which values carry derivatives, and which primal values the reverse sweep reads.
//!
//! *Varied* (depends on an active parameter) is propagated forward and *useful*
//! (reaches the returned value) backward, both to a fixed point so that loops
//! are covered; a variable is active when it is both. *Needed* marks the
//! variables whose primal value the reverse sweep reads (operands of nonlinear
//! rules, indices, loop bounds, call arguments): only those are saved when the
//! forward sweep overwrites them (Tapenade's to-be-recorded analysis).
//!
//! Facts about statements are keyed by [`StmtId`], which orders statements as the
//! program runs them once: a use and an overwrite, a loop body, a binding are
//! compared as ids and [`Extent`]s.

use crate::ir::*;
use crate::rules::partials;

pub struct Analysis {
    pub active: Vec<bool>,
    pub needed: Vec<bool>,
    /// The statements whose reverse reads each variable's value.
    pub uses: Vec<Vec<StmtId>>,
    /// The statements of each loop body.
    pub loops: Vec<Extent>,
    /// Where each variable is bound (`None` for parameters); a loop's variable is bound
    /// where its body starts.
    pub decl: Vec<Option<StmtId>>,
    /// Loops that overwrite a whole local buffer.
    pub kills: Vec<Kill>,
    /// Reassigned somewhere after its binding (by `Assign` or `Store`).
    pub assigned: Vec<bool>,
    /// Per block id: does its reverse sweep do anything?
    pub has_rev: Vec<bool>,
    /// Loop variables of `for` loops (rebound by the reversed loop).
    pub loop_var: Vec<bool>,
    /// The buffer each variable finally refers to: itself, or for a view (of a view ..)
    /// the buffer it views. Reading a view reads its root.
    pub root: Vec<VarId>,
    /// How the reverse sweep reaches each view.
    pub views: Vec<Option<ViewPlan>>,
}

/// How the reverse sweep reaches a view `&base[lo..hi]`. It never stores the view
/// (a borrow of the base): only its integer bounds, when they change later.
#[derive(Clone, Copy, Debug)]
pub struct ViewPlan {
    /// Its bounds read values that change (a counter `k` of `&w[k..k + 2]`): the forward
    /// sweep keeps them in locals, pushed when the view's block ends.
    pub saved: bool,
    /// Nothing after the view writes its root: the reverse reads it through a slice
    /// `&root[lo..hi]` made where its block's reverse begins. Otherwise the reverse
    /// reads `root[lo + i]`, after the restores of the writes.
    pub primal_slice: bool,
    /// Nothing after the view touches the root's adjoint other than through the view:
    /// its adjoint is a slice `&mut droot[lo..hi]` held over its block's reverse.
    /// Otherwise each access is `droot[lo + i]`, so no borrow outlives one statement.
    pub shadow_slice: bool,
}

/// `for i in 0..n { ..; buf[i] = ..; }` over a `vec![..; n]` buffer: after it, no
/// element holds an older value.
pub struct Kill {
    pub buf: VarId,
    /// The loop statement, and the end of its body.
    pub start: StmtId,
    pub end: StmtId,
    /// The block the loop stands in (it runs whenever that block does).
    pub parent: Extent,
}

pub fn analyze(f: &Func) -> Analysis {
    let n = f.vars.len();
    let (assigned, loop_var) = find_writes(f);
    let layout = Layout::of(f);
    let root = view_roots(f);
    let views = plan_views(f, &assigned, &root);
    let mut a = Analysis {
        active: analyze_active(f),
        needed: vec![false; n],
        uses: vec![Vec::new(); n],
        loops: layout.loops,
        decl: layout.decl,
        kills: find_kills(f, &layout.blocks),
        assigned,
        has_rev: Vec::new(),
        loop_var,
        root,
        views,
    };
    a.has_rev = mark_rev(f, &a);
    analyze_needed(f, &mut a);
    a
}

/// Which variables are reassigned after their binding, and which are `for` loop variables.
fn find_writes(f: &Func) -> (Vec<bool>, Vec<bool>) {
    let n = f.vars.len();
    let (mut assigned, mut loop_var) = (vec![false; n], vec![false; n]);
    f.body.walk(&mut |_, s| {
        if let Some(v) = s.overwrites() {
            assigned[v] = true;
        }
        for b in s.binds() {
            loop_var[b.var] |= b.in_body;
        }
    });
    (assigned, loop_var)
}

/// Active: varied (depends on an active parameter, propagated forward) and useful
/// (reaches the returned value, propagated backward), both to a fixed point.
fn analyze_active(f: &Func) -> Vec<bool> {
    let n = f.vars.len();
    let float = |v: VarId| f.vars[v].kind != Kind::Passive;
    let mut varied: Vec<bool> = f.vars.iter().map(|v| v.is_param && v.wrt).collect();
    fixed_point(f, &mut |dst, src| {
        let reached = !varied[dst] && float(dst) && src.iter().any(|v| varied[*v]);
        varied[dst] |= reached;
        reached
    });
    let mut useful = vec![false; n];
    useful[f.ret] = true;
    for v in &f.out.params {
        useful[*v] = true;
    }
    fixed_point(f, &mut |dst, src| {
        let mut changed = false;
        if useful[dst] {
            for v in src {
                if !useful[*v] && float(*v) {
                    useful[*v] = true;
                    changed = true;
                }
            }
        }
        changed
    });
    (0..n).map(|i| varied[i] && useful[i] && float(i)).collect()
}

/// Applies `step` to every statement's data flow until no step changes anything.
fn fixed_point(f: &Func, step: &mut impl FnMut(VarId, &[VarId]) -> bool) {
    loop {
        let mut changed = false;
        f.body.walk(&mut |_, s| {
            if let Some((dst, src)) = s.flow() {
                changed |= step(dst, &src);
            }
        });
        if !changed {
            break;
        }
    }
}

/// Where blocks, loop bodies and bindings lie in statement order.
struct Layout {
    /// Per block id.
    blocks: Vec<Extent>,
    loops: Vec<Extent>,
    decl: Vec<Option<StmtId>>,
}

impl Layout {
    fn of(f: &Func) -> Layout {
        let mut l = Layout {
            blocks: vec![Extent::default(); f.n_blocks],
            loops: Vec::new(),
            decl: vec![None; f.vars.len()],
        };
        l.visit(&f.body, &mut StmtId::default());
        l
    }

    /// `next`: the id after the last statement seen.
    fn visit(&mut self, b: &Block, next: &mut StmtId) {
        let start = *next;
        for (id, s) in b.iter() {
            *next = id.next();
            for bind in s.binds() {
                self.decl[bind.var] = Some(if bind.in_body { id.next() } else { id });
            }
            for nested in s.blocks() {
                let first = *next;
                self.visit(nested, next);
                if matches!(s, Stmt::For { .. } | Stmt::While { .. }) {
                    self.loops.push(Extent {
                        start: first,
                        end: *next,
                    });
                }
            }
        }
        if self.blocks.len() <= b.id {
            self.blocks.resize(b.id + 1, Extent::default());
        }
        self.blocks[b.id] = Extent { start, end: *next };
    }
}

/// Needed, to a fixed point: saving a value makes its own inputs needed in turn.
fn analyze_needed(f: &Func, a: &mut Analysis) {
    loop {
        let before = a.needed.clone();
        let mut uses = vec![Vec::new(); f.vars.len()];
        let mut u = Uses {
            uses: &mut uses,
            root: &a.root,
            at: StmtId::default(),
        };
        collect_needed(&f.body, a, &mut u);
        mark_recomputed_reads(f, a, &mut u);
        for u in uses.iter_mut() {
            u.sort_unstable();
            u.dedup();
        }
        a.needed = uses.iter().map(|u| !u.is_empty()).collect();
        a.uses = uses;
        // A needed variable that is overwritten makes its block's reverse non-empty.
        a.has_rev = mark_rev(f, a);
        if a.needed == before {
            break;
        }
    }
}

/// Recomputed passive lets read their inputs in the reverse sweep (and so do cheap
/// float lets recomputed from unchanging values, and views).
fn mark_recomputed_reads(f: &Func, a: &Analysis, u: &mut Uses) {
    f.body.walk(&mut |id, s| {
        let Stmt::Let { var, rhs, .. } = s else {
            return;
        };
        u.at = id;
        if let Rhs::View { base, lo, hi } = rhs {
            if !a.needed[*var] && !a.active[*var] {
                return;
            }
            // The reverse slices the base again: a read of it for a needed view,
            // and the base's own bounds for a view of a view.
            if a.needed[*var] || a.root[*base] != *base {
                u.mark(*base);
            }
            // The bounds are evaluated again, unless the forward sweep kept them.
            if a.views[*var].is_some_and(|p| !p.saved) {
                u.mark_reads(lo);
                u.mark_reads(hi);
            }
            return;
        }
        if !a.needed[*var] || !a.recomputable_let(*var, rhs) {
            return;
        }
        match rhs {
            Rhs::Passive(p) => u.mark_reads(p),
            Rhs::Op(_, args) => args.iter().for_each(|o| u.mark_operand(o)),
            _ => {}
        }
    });
}

impl Analysis {
    /// Does the statement's own code (not its nested blocks) have reverse-sweep work?
    fn own_rev(&self, id: StmtId, s: &Stmt) -> bool {
        match s {
            Stmt::Let { var, .. } => self.active[*var],
            Stmt::Assign { var, .. } | Stmt::Store { buf: var, .. } => {
                self.active[*var] || s.overwrites().is_some_and(|v| self.save_before(v, id))
            }
            _ => false,
        }
    }

    /// Does this statement have reverse-sweep work, its own or in its nested blocks?
    pub fn stmt_has_rev(&self, id: StmtId, s: &Stmt) -> bool {
        self.own_rev(id, s) || s.blocks().iter().any(|b| self.block_has_rev(b))
    }

    pub fn block_has_rev(&self, b: &Block) -> bool {
        self.has_rev.get(b.id).copied().unwrap_or(false)
    }

    /// Can a `let` inside a loop or branch be re-evaluated at the start of its block's
    /// reverse sweep instead of being stored? Yes when it is never reassigned, reads
    /// only values that never change, and is cheap: passive code, an element of an
    /// unchanging buffer, or an op the rule table marks cheap (arithmetic; `exp`, `sin`,
    /// … are stored rather than redone).
    pub fn recomputable_let(&self, v: VarId, rhs: &Rhs) -> bool {
        if self.assigned[v] {
            return false;
        }
        let stable = |p: &PExpr| p.reads.iter().all(|r| !self.changes(*r));
        let operand = |o: &Operand| match o {
            Operand::Var(u) => !self.assigned[*u],
            Operand::Load(b, i) => !self.changes(*b) && stable(i),
            Operand::Const(p) => stable(p),
        };
        match rhs {
            Rhs::Passive(p) => stable(p),
            // A view is its bounds: the reverse slices its base again, which the
            // analysis keeps as it was (a read of the view is a read of its base).
            Rhs::View { .. } => self.views[v].is_some_and(|p| !p.saved),
            Rhs::Op(op, args) => op.cheap() && args.iter().all(operand),
            _ => false,
        }
    }

    /// Is `v` (or, for a view, the buffer it views) reassigned somewhere?
    pub fn changes(&self, v: VarId) -> bool {
        self.assigned[v] || self.root.get(v).is_some_and(|r| self.assigned[*r])
    }

    /// Must the forward sweep save `v` before statement `s` overwrites it? Only when
    /// the reverse sweep reads a value of `v` that `s` destroys: a use before `s`, or a
    /// use in a loop that also contains `s` (the next iteration overwrites it).
    pub fn save_before(&self, v: VarId, s: StmtId) -> bool {
        self.save_before_within(v, s, None)
    }

    /// As [`Analysis::save_before`], counting only uses inside `outer` (a loop body)
    /// and not that loop's repetition: for per-iteration scratch of a fused loop,
    /// whose previous iterations' values are dead.
    pub fn save_before_within(&self, v: VarId, p: StmtId, outer: Option<Extent>) -> bool {
        // Only loops around the binding repeat it: a variable bound inside a loop body
        // is a fresh variable in each iteration.
        let decl = self.decl[v];
        // A loop that overwrites every element of a buffer (`for i in 0..n { b[i] = .. }`
        // over `vec![..; n]`) and surely runs between a use and `s` makes the use read
        // other values than the ones `s` destroys.
        let killed_between = |from: StmtId, to: StmtId| {
            self.kills
                .iter()
                .any(|k| k.buf == v && from < k.start && k.end <= to && k.parent.contains(p))
        };
        let inside = |u: StmtId| match outer {
            Some(o) => o.contains(u),
            None => true,
        };
        self.uses[v].iter().filter(|&&u| inside(u)).any(|&u| {
            (u <= p && !killed_between(u, p))
                || self.loops.iter().filter(|&&l| Some(l) != outer).any(|l| {
                    l.contains(u)
                        && l.contains(p)
                        && !decl.is_some_and(|d| l.contains(d))
                        && !killed_between(l.start.prev(), p)
                })
        })
    }

    pub fn is_active_operand(&self, o: &Operand) -> bool {
        match o {
            Operand::Var(v) | Operand::Load(v, _) => self.active[*v],
            Operand::Const(_) => false,
        }
    }
}

/// Per block id: does its reverse sweep do anything (bottom-up)?
fn mark_rev(f: &Func, a: &Analysis) -> Vec<bool> {
    let mut has_rev = vec![false; f.n_blocks];
    mark_block_rev(&f.body, a, &mut has_rev);
    has_rev
}

fn mark_block_rev(b: &Block, a: &Analysis, has_rev: &mut Vec<bool>) -> bool {
    let mut any = false;
    for (id, s) in b.iter() {
        let nested = s
            .blocks()
            .into_iter()
            .fold(false, |r, nb| mark_block_rev(nb, a, has_rev) | r);
        any |= nested || a.own_rev(id, s);
    }
    if let Some(h) = has_rev.get_mut(b.id) {
        *h = any;
    }
    any
}

/// Where each variable's value is read by the reverse sweep.
struct Uses<'a> {
    uses: &'a mut Vec<Vec<StmtId>>,
    /// A read of a view is a read of the buffer it views.
    root: &'a [VarId],
    /// The statement being scanned.
    at: StmtId,
}

impl Uses<'_> {
    fn mark(&mut self, v: VarId) {
        self.uses[v].push(self.at);
        let r = self.root.get(v).copied().unwrap_or(v);
        if r != v {
            self.uses[r].push(self.at);
        }
    }

    fn mark_reads(&mut self, p: &PExpr) {
        for r in &p.reads {
            self.mark(*r);
        }
    }

    fn mark_operand(&mut self, o: &Operand) {
        match o {
            Operand::Var(v) => self.mark(*v),
            Operand::Load(b, i) => {
                self.mark(*b);
                self.mark_reads(i);
            }
            Operand::Const(p) => self.mark_reads(p),
        }
    }
}

/// The length each local `vec!` buffer was created with.
fn fill_lengths(f: &Func) -> Vec<Option<&PExpr>> {
    let mut lens = vec![None; f.vars.len()];
    f.body.walk(&mut |_, s| {
        if let Stmt::Let {
            var,
            rhs: Rhs::Fill {
                len, array: false, ..
            },
            ..
        } = s
        {
            lens[*var] = Some(len);
        }
    });
    lens
}

fn find_kills(f: &Func, extents: &[Extent]) -> Vec<Kill> {
    let lens = fill_lengths(f);
    let mut kills = Vec::new();
    for b in f.body.all_blocks() {
        let parent = extents.get(b.id).copied().unwrap_or_default();
        for (id, s) in b.iter() {
            kills.extend(loop_kills(id, s, &lens, extents, parent));
        }
    }
    kills
}

/// The buffers a loop `for i in 0..n` rewrites whole: a `vec![..; n]` stored to at
/// `[i]` once, directly in the body (so every iteration stores).
fn loop_kills(
    id: StmtId,
    s: &Stmt,
    lens: &[Option<&PExpr>],
    extents: &[Extent],
    parent: Extent,
) -> Vec<Kill> {
    let Stmt::For {
        var,
        range:
            Range::Range {
                lo,
                hi,
                inclusive: false,
                rev: false,
            },
        body,
        exit: None,
        ..
    } = s
    else {
        return Vec::new();
    };
    if !lo.is_zero() {
        return Vec::new();
    }
    let mut kills = Vec::new();
    for t in &body.stmts {
        let Stmt::Store { buf, index: ix, .. } = t else {
            continue;
        };
        let mut stores = 0;
        body.walk(&mut |_, s| {
            stores += usize::from(matches!(s, Stmt::Store { buf: b2, .. } if b2 == buf))
        });
        if stores == 1 && ix.is_var(*var) && lens[*buf].is_some_and(|l| l.same(hi)) {
            kills.push(Kill {
                buf: *buf,
                start: id,
                end: extents.get(body.id).map_or(id, |e| e.end),
                parent,
            });
        }
    }
    kills
}

/// What the reverse sweep of the statements of `b` reads (see [`Analysis::needed`]).
fn collect_needed(b: &Block, a: &Analysis, u: &mut Uses) {
    for (id, s) in b.iter() {
        u.at = id;
        match s {
            Stmt::Let { var, rhs, .. } | Stmt::Assign { var, rhs, .. } if a.active[*var] => {
                needed_by_rhs(*var, rhs, a, u)
            }
            Stmt::Store { buf, index, value } if a.active[*buf] || a.save_before(*buf, id) => {
                u.mark_reads(index);
                if let Operand::Load(..) = value {
                    u.mark_operand(value);
                }
            }
            Stmt::If { cond, then, els } if a.block_has_rev(then) || a.block_has_rev(els) => {
                if recomputable_cond(cond, a) {
                    u.mark_reads(cond);
                }
                collect_needed(then, a, u);
                collect_needed(els, a, u);
            }
            Stmt::For {
                range, body, last, ..
            } if a.block_has_rev(body) => {
                let Range::Range { lo, hi, .. } = range;
                u.mark_reads(lo);
                u.mark_reads(hi);
                if let Some(l) = last {
                    u.mark(*l);
                }
                collect_needed(body, a, u);
            }
            Stmt::While { body, count, .. } if a.block_has_rev(body) => {
                u.mark(*count);
                collect_needed(body, a, u);
            }
            _ => {}
        }
    }
}

/// What the adjoint of an active `var = rhs` reads.
fn needed_by_rhs(var: VarId, rhs: &Rhs, a: &Analysis, u: &mut Uses) {
    match rhs {
        Rhs::Op(op, args) => {
            for (i, d) in partials(*op).iter().enumerate() {
                let Some(arg) = args.get(i) else { continue };
                if !a.is_active_operand(arg) {
                    continue;
                }
                if let Operand::Load(_, idx) = arg {
                    u.mark_reads(idx);
                }
                if let Some(d) = d {
                    d.reads(&mut |r| match r {
                        Some(j) => {
                            if let Some(o) = args.get(j) {
                                u.mark_operand(o);
                            }
                        }
                        None => u.mark(var),
                    });
                }
            }
        }
        Rhs::Call(c) => {
            if let Callee::Method { recv, .. } = &c.callee {
                u.mark_reads(recv);
            }
            for arg in &c.args {
                match arg {
                    CallArg::Float(o) => u.mark_operand(o),
                    CallArg::Buf { var, .. } => u.mark(*var),
                    CallArg::Passive(p) => u.mark_reads(p),
                }
            }
        }
        Rhs::Fill { len, .. } => u.mark_reads(len),
        // The adjoint's range: evaluated again unless the forward sweep kept it.
        Rhs::View { lo, hi, .. } if a.views[var].is_some_and(|p| !p.saved) => {
            u.mark_reads(lo);
            u.mark_reads(hi);
        }
        Rhs::View { .. } | Rhs::Passive(_) | Rhs::Step { .. } => {}
    }
}

/// A branch condition can be re-evaluated in the reverse sweep when everything it
/// reads is never reassigned; otherwise the decision is recorded.
pub fn recomputable_cond(cond: &PExpr, a: &Analysis) -> bool {
    cond.reads.iter().all(|r| !a.changes(*r))
}

/// The buffer each variable finally refers to: itself, or what a view (of a view ..) views.
fn view_roots(f: &Func) -> Vec<VarId> {
    (0..f.vars.len())
        .map(|v| {
            let mut r = v;
            // bounded: a view's base is an earlier binding, but never loop on bad input
            for _ in 0..f.vars.len() {
                match &f.vars[r].view {
                    Some((b, _, _)) if *b != r && *b < f.vars.len() => r = *b,
                    _ => break,
                }
            }
            r
        })
        .collect()
}

/// How the reverse sweep reaches each view, from what follows it in its block (the
/// only statements that can use it).
fn plan_views(f: &Func, assigned: &[bool], root: &[VarId]) -> Vec<Option<ViewPlan>> {
    let mut plans = vec![None; f.vars.len()];
    let changes = |r: &VarId| assigned[*r] || assigned[root[*r]];
    for b in f.body.all_blocks() {
        for (k, s) in b.stmts.iter().enumerate() {
            let Stmt::Let {
                var,
                rhs: Rhs::View { lo, hi, .. },
                ..
            } = s
            else {
                continue;
            };
            let r = root[*var];
            let (mut writes, mut shares) = (false, false);
            b.walk_from(k + 1, &mut |_, t| {
                writes |= matches!(t, Stmt::Store { buf, .. } if root[*buf] == r);
                shares |= t.buffers().iter().any(|u| u != var && root[*u] == r);
            });
            plans[*var] = Some(ViewPlan {
                saved: lo.reads.iter().chain(&hi.reads).any(changes),
                primal_slice: !writes,
                shadow_slice: !shares,
            });
        }
    }
    plans
}
