//! The reverse sweep's plan: what the forward sweep stores and where, what the
//! reverse sweep recomputes or undoes instead, how it knows which branch ran, and
//! which loop runs fused. Decided once, from the IR and the analysis, keyed by
//! statement id and variable; emission only reads it.

use super::fuse::{plan_fusion, Fusion};
use crate::activity::{recomputable_cond, Analysis, ViewPlan};
use crate::ir::*;

pub struct Plan {
    /// By statement id.
    stmts: Vec<StmtPlan>,
    /// By block id.
    blocks: Vec<BlockPlan>,
    /// By variable: how the reverse of a nested block gets back a value bound in it.
    keeps: Vec<Keep>,
    /// By variable: how the reverse reaches a view (decided by the analysis, whose
    /// reads depend on it).
    views: Vec<Option<ViewPlan>>,
    /// By variable: a view whose bounds the forward sweep keeps in locals.
    kept_bounds: Vec<bool>,
    pub fused: Option<Fusion>,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct StmtPlan {
    /// Reverse-sweep work, its own or in its nested blocks.
    pub has_rev: bool,
    /// An assignment or store: what happens to the value it overwrites.
    pub save: Save,
    /// A branch with reverse work: how the reverse sweep knows which side ran.
    pub branch: Branch,
}

/// The value an assignment or store overwrites, when the reverse sweep reads it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Save {
    /// Not read again, or the statement overwrites nothing.
    #[default]
    No,
    /// A counter step over unchanging amounts (`k += 1`): undone by the inverse step.
    Undo,
    /// In a local of its own (the function body runs once).
    Local,
    /// On the float tape `__tape`.
    Tape,
    /// On the variable's own stack (a passive value).
    Stack,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Branch {
    /// The condition reads only unchanging values: evaluated again.
    #[default]
    Recompute,
    /// Kept in a local (the function body runs once).
    Local,
    /// Pushed on `__flags`.
    Flag,
}

/// Where a block stands, which decides what happens to the values bound in it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Scope {
    /// The function body: its bindings stay in scope for the reverse sweep.
    #[default]
    Function,
    /// The body of the fused loop: its reverse runs right after its forward, in the
    /// same scope, so its bindings need no keeping.
    FusedBody,
    /// Any other block: its reverse runs in a scope of its own, later.
    Nested,
}

#[derive(Clone, Debug, Default)]
pub struct BlockPlan {
    pub has_rev: bool,
    pub scope: Scope,
    /// Tape and flag pushes per execution (a branch counts its larger side, a loop
    /// its own reserve), for the `reserve` before a loop around the block.
    pub tape_pushes: usize,
    pub flag_pushes: usize,
    /// Views bound here whose elements are read at offsets of a base written after
    /// them: a reverse statement that names one binds it again briefly.
    pub loose: Vec<VarId>,
}

/// How the reverse of a nested block gets back a value bound in it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Keep {
    /// Not read by the reverse sweep.
    #[default]
    Nothing,
    /// Evaluated again where the block's reverse begins.
    Recompute,
    /// Pushed on the float tape when the block ends.
    Tape,
    /// A float bound in a block that no loop encloses (it runs at most once): copied
    /// into a local of the function (`__keep_x`) when the block ends.
    Local,
    /// Pushed on the variable's own stack when the block ends.
    Stack,
    /// A view: its bounds pushed (`bounds`, when they change later) and the view
    /// sliced again (`reslice`, when its elements are read through it).
    View { bounds: bool, reslice: bool },
}

impl Plan {
    pub fn new(f: &Func, a: &Analysis) -> Plan {
        let mut n_stmts = 0;
        f.body.walk(&mut |id, _| n_stmts = n_stmts.max(id.0 + 1));
        let mut p = Plan {
            stmts: vec![StmtPlan::default(); n_stmts],
            blocks: vec![BlockPlan::default(); f.n_blocks],
            keeps: vec![Keep::Nothing; f.vars.len()],
            views: a.views.clone(),
            kept_bounds: Vec::new(),
            fused: plan_fusion(f, a),
        };
        // The reverse reaches the view, and its bounds change after it is made.
        p.kept_bounds = (0..f.vars.len())
            .map(|v| (a.needed[v] || a.active[v]) && p.view(v).saved)
            .collect();
        Planner {
            f,
            a,
            p: &mut p,
            loops: 0,
        }
        .plan_block(&f.body, Scope::Function);
        p
    }

    pub fn stmt(&self, id: StmtId) -> StmtPlan {
        self.stmts.get(id.0).copied().unwrap_or_default()
    }

    pub fn block(&self, b: &Block) -> &BlockPlan {
        static NONE: BlockPlan = BlockPlan {
            has_rev: false,
            scope: Scope::Nested,
            tape_pushes: 0,
            flag_pushes: 0,
            loose: Vec::new(),
        };
        self.blocks.get(b.id).unwrap_or(&NONE)
    }

    pub fn keep(&self, v: VarId) -> Keep {
        self.keeps[v]
    }

    /// How the reverse sweep reaches view `v` (a view always has a plan).
    pub fn view(&self, v: VarId) -> ViewPlan {
        self.views[v].unwrap_or(ViewPlan {
            saved: false,
            primal_slice: false,
            shadow_slice: false,
        })
    }

    /// Does the forward sweep keep the bounds of view `v` in locals?
    pub fn keeps_bounds(&self, v: VarId) -> bool {
        self.kept_bounds[v]
    }
}

struct Planner<'a> {
    f: &'a Func,
    a: &'a Analysis,
    p: &'a mut Plan,
    /// Loops around the block being planned.
    loops: usize,
}

/// Tape and flag pushes per execution.
#[derive(Clone, Copy, Default)]
struct Pushes {
    tape: usize,
    flags: usize,
}

impl Planner<'_> {
    fn plan_block(&mut self, b: &Block, scope: Scope) -> Pushes {
        let has_rev = self.a.block_has_rev(b);
        let fused_at = match scope {
            Scope::Function => self.p.fused.as_ref().map(|x| x.at),
            _ => None,
        };
        let mut pushes = Pushes::default();
        for (k, (id, s)) in b.iter().enumerate() {
            let inner = if fused_at == Some(k) {
                Scope::FusedBody
            } else {
                Scope::Nested
            };
            let own = self.plan_stmt(id, s, scope == Scope::Function, inner);
            // The fused loop reserves nothing, and the statements after it reverse
            // before it: neither counts towards the block.
            if fused_at.is_some_and(|at| k >= at) {
                continue;
            }
            pushes.tape += own.tape;
            pushes.flags += own.flags;
            if scope == Scope::Nested && has_rev {
                pushes.tape += self.plan_keeps(s);
            }
        }
        let loose = b
            .stmts
            .iter()
            .filter_map(|s| match s {
                Stmt::Let {
                    var,
                    rhs: Rhs::View { .. },
                    ..
                } if self.a.needed[*var] && !self.p.view(*var).primal_slice => Some(*var),
                _ => None,
            })
            .collect();
        if self.p.blocks.len() <= b.id {
            self.p.blocks.resize(b.id + 1, BlockPlan::default());
        }
        self.p.blocks[b.id] = BlockPlan {
            has_rev,
            scope,
            tape_pushes: pushes.tape,
            flag_pushes: pushes.flags,
            loose,
        };
        pushes
    }

    /// Plans the statement and its nested blocks (`inner`: their scope); returns its
    /// own pushes per execution.
    fn plan_stmt(&mut self, id: StmtId, s: &Stmt, top: bool, inner: Scope) -> Pushes {
        let mut plan = StmtPlan {
            has_rev: self.a.stmt_has_rev(id, s),
            ..StmtPlan::default()
        };
        let mut pushes = Pushes::default();
        match s {
            Stmt::Assign { var, rhs, init } => {
                let saved = !*init && self.a.save_before(*var, id);
                plan.save = match rhs {
                    _ if !saved => Save::No,
                    Rhs::Step { amount, .. }
                        if amount.reads.iter().all(|r| !self.a.changes(*r)) =>
                    {
                        Save::Undo
                    }
                    _ => self.save_in(*var, top),
                };
            }
            Stmt::Store { buf, .. } => {
                // Per-iteration scratch of the fused loop: earlier iterations' values are dead.
                let outer = match &self.p.fused {
                    Some(x) if x.scratch.contains(buf) => x.body,
                    _ => None,
                };
                if self.a.save_before_within(*buf, id, outer) {
                    plan.save = self.save_in(*buf, top);
                }
            }
            Stmt::If { cond, then, els } => {
                let (t, e) = (self.plan_block(then, inner), self.plan_block(els, inner));
                pushes.tape = t.tape.max(e.tape);
                pushes.flags = t.flags.max(e.flags);
                plan.branch = if recomputable_cond(cond, self.a) {
                    Branch::Recompute
                } else if top {
                    Branch::Local
                } else {
                    Branch::Flag
                };
                if plan.has_rev && plan.branch == Branch::Flag {
                    pushes.flags += 1;
                }
            }
            Stmt::For { body, .. } | Stmt::While { body, .. } => {
                self.loops += 1;
                self.plan_block(body, inner);
                self.loops -= 1;
            }
            Stmt::Let { .. } | Stmt::Decl { .. } | Stmt::Passive(_) => {}
        }
        if plan.save == Save::Tape {
            pushes.tape += 1;
        }
        self.p.stmts[id.0] = plan;
        pushes
    }

    /// Where an overwritten value of `v` is kept: a float of another type than the
    /// function's (`__tape` holds `F`) on a stack of its own.
    fn save_in(&self, v: VarId, top: bool) -> Save {
        if top {
            Save::Local
        } else if self.f.vars[v].kind == Kind::Passive || self.f.vars[v].ty.is_some() {
            Save::Stack
        } else {
            Save::Tape
        }
    }

    /// Plans how the values the statement binds in a nested block come back for the
    /// block's reverse; returns the tape pushes that takes.
    fn plan_keeps(&mut self, s: &Stmt) -> usize {
        let mut tape = 0;
        for b in s.binds().into_iter().filter(|b| !b.in_body) {
            let rhs = match s {
                Stmt::Let { rhs, .. } => Some(rhs),
                _ => None,
            };
            let keep = self.keep_of(b.var, rhs);
            tape += usize::from(keep == Keep::Tape);
            self.p.keeps[b.var] = keep;
        }
        tape
    }

    fn keep_of(&self, v: VarId, rhs: Option<&Rhs>) -> Keep {
        let (a, var) = (self.a, &self.f.vars[v]);
        // An active buffer's adjoint is made with its length.
        let needs_len = a.active[v] && var.kind == Kind::Buf;
        if !a.needed[v] && !needs_len {
            return Keep::Nothing;
        }
        if var.view.is_some() {
            // Its bounds as they were when it was made, never the view itself.
            let view = self.p.view(v);
            return Keep::View {
                bounds: view.saved,
                reslice: a.needed[v] && view.primal_slice,
            };
        }
        match rhs {
            Some(rhs) if a.recomputable_let(v, rhs) => Keep::Recompute,
            _ if var.kind == Kind::Float && self.loops == 0 => Keep::Local,
            _ if var.kind == Kind::Float && var.ty.is_none() => Keep::Tape,
            _ => Keep::Stack,
        }
    }
}
