//! Which values carry derivatives, and which primal values the reverse sweep reads.
//!
//! *Varied* (depends on an active parameter) is propagated forward and *useful*
//! (reaches the returned value) backward, both to a fixed point so that loops
//! are covered; a variable is active when it is both. *Needed* marks the
//! variables whose primal value the reverse sweep reads (operands of nonlinear
//! rules, indices, loop bounds, call arguments): only those are saved when the
//! forward sweep overwrites them (Tapenade's to-be-recorded analysis).

use crate::ir::*;
use crate::rules::partials;

pub struct Analysis {
    pub active: Vec<bool>,
    pub needed: Vec<bool>,
    /// Pre-order positions of the statements whose reverse reads each variable's value.
    pub uses: Vec<Vec<usize>>,
    /// Pre-order position of every statement, keyed by address.
    pub pos: std::collections::BTreeMap<usize, usize>,
    /// `(first, last)` positions inside each loop body.
    pub loops: Vec<(usize, usize)>,
    /// Position of each variable's binding (`None` for parameters).
    pub decl: Vec<Option<usize>>,
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
    /// Position of the loop statement, and the end of its body.
    pub start: usize,
    pub end: usize,
    /// Positions spanned by the block the loop stands in (it runs whenever that block does).
    pub parent: (usize, usize),
}

pub fn analyze(f: &Func) -> Analysis {
    let n = f.vars.len();
    let root = view_roots(f);
    let mut varied = vec![false; n];
    let mut useful = vec![false; n];
    let mut assigned = vec![false; n];
    let mut loop_var = vec![false; n];
    for (i, v) in f.vars.iter().enumerate() {
        if v.is_param && v.wrt {
            varied[i] = true;
        }
    }
    walk(&f.body, &mut |s| match s {
        Stmt::Assign {
            var, init: false, ..
        } => assigned[*var] = true,
        Stmt::Store { buf, .. } => assigned[*buf] = true,
        Stmt::For { var, .. } => loop_var[*var] = true,
        _ => {}
    });
    // varied: forward to a fixed point
    loop {
        let mut changed = false;
        walk(&f.body, &mut |s| {
            let Some((dst, src)) = def_use(s) else {
                return;
            };
            if !varied[dst] && f.vars[dst].kind != Kind::Passive && src.iter().any(|v| varied[*v]) {
                varied[dst] = true;
                changed = true;
            }
        });
        if !changed {
            break;
        }
    }
    // useful: backward to a fixed point
    useful[f.ret] = true;
    loop {
        let mut changed = false;
        walk(&f.body, &mut |s| {
            let Some((dst, src)) = def_use(s) else {
                return;
            };
            if useful[dst] {
                for v in src {
                    if !useful[v] && f.vars[v].kind != Kind::Passive {
                        useful[v] = true;
                        changed = true;
                    }
                }
            }
        });
        if !changed {
            break;
        }
    }
    let active: Vec<bool> = (0..n)
        .map(|i| varied[i] && useful[i] && f.vars[i].kind != Kind::Passive)
        .collect();

    // has_rev: blocks whose reverse sweep does something (bottom-up).
    let mut has_rev = vec![false; f.n_blocks];
    let mut pos = std::collections::BTreeMap::new();
    let mut loops = Vec::new();
    let mut blocks = Vec::new();
    number(&f.body, &mut 0, &mut pos, &mut loops, &mut blocks);
    let kills = find_kills(f, &pos, &blocks);
    let mut decl = vec![None; n];
    walk(&f.body, &mut |s| {
        let at = pos.get(&(s as *const Stmt as usize)).copied();
        match s {
            Stmt::Let { var, .. } | Stmt::Decl { var } => decl[*var] = at,
            // the loop variable is bound inside the body; the records before the loop
            Stmt::For { var, last, .. } => {
                decl[*var] = at.map(|p| p + 1);
                if let Some(l) = last {
                    decl[*l] = at;
                }
            }
            Stmt::While { count, .. } => decl[*count] = at,
            _ => {}
        }
    });
    let views = plan_views(f, &assigned, &root);
    let mut a = Analysis {
        active,
        needed: vec![false; n],
        uses: vec![Vec::new(); n],
        pos,
        loops,
        decl,
        kills,
        assigned,
        has_rev: Vec::new(),
        loop_var,
        views,
        root,
    };
    mark_rev(&f.body, &a, &mut has_rev);
    a.has_rev = has_rev.clone();

    // needed: iterate, since saving a value makes its own inputs needed in turn.
    loop {
        let before = a.needed.clone();
        let mut uses = vec![Vec::new(); n];
        let mut u = Uses {
            uses: &mut uses,
            root: &a.root,
            at: 0,
        };
        collect_needed(&f.body, &a, &mut u);
        // Recomputed passive lets read their inputs in the reverse sweep (and so do
        // cheap float lets recomputed from unchanging values, and views).
        walk(&f.body, &mut |s| {
            let Stmt::Let { var, rhs, .. } = s else {
                return;
            };
            u.at = a.pos_of(s);
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
                    mark_reads(lo, &mut u);
                    mark_reads(hi, &mut u);
                }
                return;
            }
            if !a.needed[*var] || !a.recomputable_let(*var, rhs) {
                return;
            }
            match rhs {
                Rhs::Passive(p) => mark_reads(p, &mut u),
                Rhs::Op(_, args) => args.iter().for_each(|o| mark_operand(o, &mut u)),
                _ => {}
            }
        });
        for u in uses.iter_mut() {
            u.sort_unstable();
            u.dedup();
        }
        a.needed = uses.iter().map(|u| !u.is_empty()).collect();
        a.uses = uses;
        // A needed variable that is overwritten makes its block's reverse non-empty.
        let mut has_rev = vec![false; f.n_blocks];
        mark_rev(&f.body, &a, &mut has_rev);
        a.has_rev = has_rev;
        if a.needed == before {
            break;
        }
    }
    a
}

/// The variable a statement defines and the float variables its value comes from.
fn def_use(s: &Stmt) -> Option<(VarId, Vec<VarId>)> {
    match s {
        Stmt::Let { var, rhs, .. } | Stmt::Assign { var, rhs, .. } => Some((*var, rhs_vars(rhs))),
        Stmt::Store { buf, value, .. } => Some((*buf, value.var().into_iter().collect())),
        _ => None,
    }
}

/// Float variables read by a right-hand side (operands, loaded buffers, buffer arguments).
fn rhs_vars(rhs: &Rhs) -> Vec<VarId> {
    let mut v: Vec<VarId> = rhs.operands().iter().filter_map(|o| o.var()).collect();
    v.extend(rhs.buffers());
    v
}

pub fn walk<'a>(b: &'a Block, f: &mut impl FnMut(&'a Stmt)) {
    walk_stmts(&b.stmts, f)
}

/// [`walk`] over some statements of a block.
pub fn walk_stmts<'a>(stmts: &'a [Stmt], f: &mut impl FnMut(&'a Stmt)) {
    for s in stmts {
        f(s);
        match s {
            Stmt::If { then, els, .. } => {
                walk(then, f);
                walk(els, f);
            }
            Stmt::For { body, .. } | Stmt::While { body, .. } => walk(body, f),
            _ => {}
        }
    }
}

impl Analysis {
    /// Does this statement have reverse-sweep work of its own (not counting nested blocks)?
    pub fn stmt_has_rev(&self, s: &Stmt) -> bool {
        match s {
            Stmt::Let { var, .. } => self.active[*var],
            Stmt::Assign { var, init, .. } => {
                self.active[*var] || (!*init && self.save_before(*var, s))
            }
            Stmt::Store { buf, .. } => self.active[*buf] || self.save_before(*buf, s),
            Stmt::If { then, els, .. } => self.has_rev[then.id] || self.has_rev[els.id],
            Stmt::For { body, .. } | Stmt::While { body, .. } => self.has_rev[body.id],
            Stmt::Decl { .. } | Stmt::Passive(_) => false,
        }
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

    pub fn pos_of(&self, s: &Stmt) -> usize {
        self.pos
            .get(&(s as *const Stmt as usize))
            .copied()
            .unwrap_or(0)
    }

    /// Must the forward sweep save `v` before statement `s` overwrites it? Only when
    /// the reverse sweep reads a value of `v` that `s` destroys: a use before `s`, or a
    /// use in a loop that also contains `s` (the next iteration overwrites it).
    pub fn save_before(&self, v: VarId, s: &Stmt) -> bool {
        self.save_before_within(v, s, None)
    }

    /// As [`Analysis::save_before`], counting only uses inside `outer` (a loop body's
    /// positions) and not that loop's repetition: for per-iteration scratch of a
    /// fused loop, whose previous iterations' values are dead.
    pub fn save_before_within(&self, v: VarId, s: &Stmt, outer: Option<(usize, usize)>) -> bool {
        let p = self.pos_of(s);
        // Only loops around the binding repeat it: a variable bound inside a loop body
        // is a fresh variable in each iteration.
        let decl = self.decl[v];
        // A loop that overwrites every element of a buffer (`for i in 0..n { b[i] = .. }`
        // over `vec![..; n]`) and surely runs between a use and `s` makes the use read
        // other values than the ones `s` destroys.
        let killed_between = |from: usize, to: usize| {
            self.kills.iter().any(|k| {
                k.buf == v && from < k.start && k.end <= to && k.parent.0 <= p && p < k.parent.1
            })
        };
        let inside = |u: usize| match outer {
            Some((lo, hi)) => lo <= u && u < hi,
            None => true,
        };
        self.uses[v].iter().filter(|&&u| inside(u)).any(|&u| {
            (u <= p && !killed_between(u, p))
                || self
                    .loops
                    .iter()
                    .filter(|&&l| Some(l) != outer)
                    .any(|&(lo, hi)| {
                        lo <= u
                            && u < hi
                            && lo <= p
                            && p < hi
                            && !decl.is_some_and(|d| lo <= d && d < hi)
                            && !killed_between(lo.saturating_sub(1), p)
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

fn mark_rev(b: &Block, a: &Analysis, has_rev: &mut Vec<bool>) -> bool {
    let mut any = false;
    for s in &b.stmts {
        let r = match s {
            Stmt::If { then, els, .. } => {
                let t = mark_rev(then, a, has_rev);
                let e = mark_rev(els, a, has_rev);
                t || e
            }
            Stmt::For { body, .. } | Stmt::While { body, .. } => mark_rev(body, a, has_rev),
            Stmt::Let { var, .. } => a.active[*var],
            Stmt::Assign { var, init, .. } => a.active[*var] || (!*init && a.save_before(*var, s)),
            Stmt::Store { buf, .. } => a.active[*buf] || a.save_before(*buf, s),
            _ => false,
        };
        any |= r;
    }
    if let Some(h) = has_rev.get_mut(b.id) {
        *h = any;
    }
    any
}

/// Where each variable's value is read by the reverse sweep.
struct Uses<'a> {
    uses: &'a mut Vec<Vec<usize>>,
    /// A read of a view is a read of the buffer it views.
    root: &'a [VarId],
    /// Position of the statement being scanned.
    at: usize,
}

impl Uses<'_> {
    fn mark(&mut self, v: VarId) {
        self.uses[v].push(self.at);
        let r = self.root.get(v).copied().unwrap_or(v);
        if r != v {
            self.uses[r].push(self.at);
        }
    }
}

fn mark_reads(p: &PExpr, needed: &mut Uses) {
    for r in &p.reads {
        needed.mark(*r);
    }
}

fn mark_operand(o: &Operand, needed: &mut Uses) {
    match o {
        Operand::Var(v) => needed.mark(*v),
        Operand::Load(b, i) => {
            needed.mark(*b);
            mark_reads(i, needed);
        }
        Operand::Const(p) => mark_reads(p, needed),
    }
}

/// Numbers statements in pre-order and records each loop body's span.
fn number(
    b: &Block,
    next: &mut usize,
    pos: &mut std::collections::BTreeMap<usize, usize>,
    loops: &mut Vec<(usize, usize)>,
    blocks: &mut Vec<(usize, (usize, usize))>,
) {
    let start = *next;
    for s in &b.stmts {
        pos.insert(s as *const Stmt as usize, *next);
        *next += 1;
        match s {
            Stmt::If { then, els, .. } => {
                number(then, next, pos, loops, blocks);
                number(els, next, pos, loops, blocks);
            }
            Stmt::For { body, .. } | Stmt::While { body, .. } => {
                let first = *next;
                number(body, next, pos, loops, blocks);
                loops.push((first, *next));
            }
            _ => {}
        }
    }
    blocks.push((b.id, (start, *next)));
}

fn find_kills(
    f: &Func,
    pos: &std::collections::BTreeMap<usize, usize>,
    blocks: &[(usize, (usize, usize))],
) -> Vec<Kill> {
    // the length each local buffer was created with
    let mut lens: Vec<Option<&PExpr>> = vec![None; f.vars.len()];
    walk(&f.body, &mut |s| {
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
    let mut kills = Vec::new();
    let visit = |b: &Block, kills: &mut Vec<Kill>| {
        let parent = blocks
            .iter()
            .find(|(id, _)| *id == b.id)
            .map(|(_, r)| *r)
            .unwrap_or((0, 0));
        for s in &b.stmts {
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
                continue;
            };
            if !lo.is_zero() {
                continue;
            }
            for t in &body.stmts {
                if let Stmt::Store { buf, index: ix, .. } = t {
                    // the only store to `buf` in the body, and a direct one (it runs every iteration)
                    let mut stores = 0;
                    walk(body, &mut |s| {
                        if matches!(s, Stmt::Store { buf: b2, .. } if b2 == buf) {
                            stores += 1;
                        }
                    });
                    if stores == 1 && ix.is_var(*var) && lens[*buf].is_some_and(|l| l.same(hi)) {
                        let start = pos.get(&(s as *const Stmt as usize)).copied().unwrap_or(0);
                        let end = blocks
                            .iter()
                            .find(|(id, _)| *id == body.id)
                            .map(|(_, r)| r.1)
                            .unwrap_or(start);
                        kills.push(Kill {
                            buf: *buf,
                            start,
                            end,
                            parent,
                        });
                    }
                }
            }
        }
    };
    let mut bs = Vec::new();
    all_blocks(&f.body, &mut bs);
    for b in bs {
        visit(b, &mut kills);
    }
    kills
}

fn collect_needed(b: &Block, a: &Analysis, needed: &mut Uses) {
    for s in &b.stmts {
        needed.at = a.pos_of(s);
        match s {
            Stmt::Let { var, rhs, .. } | Stmt::Assign { var, rhs, .. } if a.active[*var] => {
                match rhs {
                    Rhs::Op(op, args) => {
                        for (i, d) in partials(*op).iter().enumerate() {
                            let Some(arg) = args.get(i) else { continue };
                            if !a.is_active_operand(arg) {
                                continue;
                            }
                            if let Operand::Load(_, idx) = arg {
                                mark_reads(idx, needed);
                            }
                            if let Some(d) = d {
                                d.reads(&mut |r| match r {
                                    Some(j) => {
                                        if let Some(o) = args.get(j) {
                                            mark_operand(o, needed);
                                        }
                                    }
                                    None => needed.mark(*var),
                                });
                            }
                        }
                    }
                    Rhs::Call(c) => {
                        if let Callee::Method { recv, .. } = &c.callee {
                            mark_reads(recv, needed);
                        }
                        for arg in &c.args {
                            match arg {
                                CallArg::Float(o) => mark_operand(o, needed),
                                CallArg::Buf { var, .. } => needed.mark(*var),
                                CallArg::Passive(p) => mark_reads(p, needed),
                            }
                        }
                    }
                    Rhs::Fill { len, .. } => mark_reads(len, needed),
                    // The adjoint's range: evaluated again unless the forward sweep kept it.
                    Rhs::View { lo, hi, .. } if a.views[*var].is_some_and(|p| !p.saved) => {
                        mark_reads(lo, needed);
                        mark_reads(hi, needed);
                    }
                    Rhs::View { .. } => {}
                    Rhs::Passive(_) | Rhs::Step { .. } => {}
                }
            }
            Stmt::Store { buf, index, value } if a.active[*buf] || a.save_before(*buf, s) => {
                mark_reads(index, needed);
                if let Operand::Load(..) = value {
                    mark_operand(value, needed);
                }
            }
            Stmt::If { cond, then, els } if a.has_rev[then.id] || a.has_rev[els.id] => {
                if recomputable_cond(cond, a) {
                    mark_reads(cond, needed);
                }
                collect_needed(then, a, needed);
                collect_needed(els, a, needed);
            }
            Stmt::For {
                range, body, last, ..
            } if a.has_rev[body.id] => {
                let Range::Range { lo, hi, .. } = range;
                mark_reads(lo, needed);
                mark_reads(hi, needed);
                if let Some(l) = last {
                    needed.mark(*l);
                }
                collect_needed(body, a, needed);
            }
            Stmt::While { body, count, .. } if a.has_rev[body.id] => {
                needed.mark(*count);
                collect_needed(body, a, needed);
            }
            _ => {}
        }
    }
}

/// A branch condition can be re-evaluated in the reverse sweep when everything it
/// reads is never reassigned; otherwise the decision is recorded.
pub fn recomputable_cond(cond: &PExpr, a: &Analysis) -> bool {
    cond.reads.iter().all(|r| !a.changes(*r))
}

fn all_blocks<'a>(b: &'a Block, out: &mut Vec<&'a Block>) {
    out.push(b);
    for s in &b.stmts {
        match s {
            Stmt::If { then, els, .. } => {
                all_blocks(then, out);
                all_blocks(els, out);
            }
            Stmt::For { body, .. } | Stmt::While { body, .. } => all_blocks(body, out),
            _ => {}
        }
    }
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

/// Buffers whose elements or adjoint a statement reaches (not counting nested blocks).
fn buffers_reached(s: &Stmt) -> Vec<VarId> {
    let mut v = Vec::new();
    match s {
        Stmt::Let { rhs, .. } | Stmt::Assign { rhs, .. } => {
            for o in rhs.operands() {
                if let Operand::Load(b, _) = o {
                    v.push(*b);
                }
            }
            // making a view reaches nothing; its uses do
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

/// How the reverse sweep reaches each view, from what follows it in its block (the
/// only statements that can use it).
fn plan_views(f: &Func, assigned: &[bool], root: &[VarId]) -> Vec<Option<ViewPlan>> {
    let mut plans = vec![None; f.vars.len()];
    let changes = |r: &VarId| assigned[*r] || assigned[root[*r]];
    let mut blocks = Vec::new();
    all_blocks(&f.body, &mut blocks);
    for b in blocks {
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
            walk_stmts(&b.stmts[k + 1..], &mut |t| {
                writes |= matches!(t, Stmt::Store { buf, .. } if root[*buf] == r);
                shares |= buffers_reached(t).iter().any(|u| u != var && root[*u] == r);
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
