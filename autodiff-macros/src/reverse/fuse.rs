//! Which loop, if any, runs its reverse inside its forward pass, iteration by
//! iteration (part of the plan).

use crate::activity::Analysis;
use crate::ir::*;
use crate::rules::Op;

/// The fused loop.
pub struct Fusion {
    /// Its index among the function body's statements.
    pub at: usize,
    /// Buffers declared before it that it uses as per-iteration scratch: their stores
    /// save only what the same iteration's reverse reads.
    pub scratch: Vec<VarId>,
    /// Its body's statements.
    pub body: Option<Extent>,
}

/// A top-level loop whose reverse can run inside it, iteration by iteration
/// (Rosenbrock, a sum of losses over data): it is the last statement with
/// reverse work, so every adjoint it reads is final when it starts, and the only
/// outer floats it writes are accumulators (`s += e`) read nowhere else in it, whose
/// adjoints the reverse leaves unchanged. Its primal and adjoint then share one
/// pass over the data, as a hand-written gradient does.
pub fn plan_fusion(f: &Func, a: &Analysis) -> Option<Fusion> {
    let stmts: Vec<(StmtId, &Stmt)> = f.body.iter().collect();
    let k = stmts.iter().rposition(|(id, s)| {
        a.stmt_has_rev(*id, s) && matches!(s, Stmt::For { .. } | Stmt::While { .. })
    })?;
    if !tail_reverse_can_run_first(f, a, k) {
        return None;
    }
    let (id, l) = stmts[k];
    let body = match l {
        Stmt::For {
            body,
            exit: None,
            checkpoint: None,
            ..
        }
        | Stmt::While {
            body,
            exit: None,
            checkpoint: None,
            ..
        } => body,
        _ => return None,
    };
    let (accumulators, scratch) = outer_writes(f, a, id, body)?;
    if reads_accumulator(body, &accumulators) {
        return None;
    }
    Some(Fusion {
        at: k,
        scratch,
        body: loop_body(a, id),
    })
}

/// What a statement of the loop body writes outside the body.
enum OuterWrite {
    None,
    Scratch(VarId),
    Accumulator(VarId),
    /// Rules out fusion.
    Other,
}

/// The accumulators and per-iteration scratch buffers of the loop `l`, or `None`
/// when it writes anything else declared outside it.
fn outer_writes(
    f: &Func,
    a: &Analysis,
    l: StmtId,
    body: &Block,
) -> Option<(Vec<VarId>, Vec<VarId>)> {
    let mut inside = vec![false; f.vars.len()];
    body.walk(&mut |_, s| {
        for b in s.binds() {
            inside[b.var] = true;
        }
    });
    let (mut accumulators, mut scratch) = (Vec::new(), Vec::new());
    let mut ok = true;
    body.walk(&mut |id, s| match outer_write(a, l, body, &inside, id, s) {
        OuterWrite::None => {}
        OuterWrite::Scratch(b) => scratch.push(b),
        OuterWrite::Accumulator(v) => accumulators.push(v),
        OuterWrite::Other => ok = false,
    });
    ok.then_some((accumulators, scratch))
}

fn outer_write(
    a: &Analysis,
    l: StmtId,
    body: &Block,
    inside: &[bool],
    id: StmtId,
    s: &Stmt,
) -> OuterWrite {
    match s {
        // Per-iteration scratch: its old values are dead once the iteration's
        // reverse has run, so nothing needs saving.
        Stmt::Store { buf, .. }
            if !inside[*buf] && a.active[*buf] && scratch_of_iteration(a, *buf, l, body) =>
        {
            OuterWrite::Scratch(*buf)
        }
        // The reverse would restore it in the middle of the forward pass.
        Stmt::Assign {
            var, init: false, ..
        } if !inside[*var] && a.save_before(*var, id) => OuterWrite::Other,
        Stmt::Store { buf, .. } if !inside[*buf] && a.save_before(*buf, id) => OuterWrite::Other,
        Stmt::Assign { var, rhs, .. } if !inside[*var] && a.active[*var] => match rhs {
            Rhs::Op(Op::Add | Op::Sub, args) => match args.as_slice() {
                [Operand::Var(x), y] if x == var && y.var() != Some(*var) => {
                    OuterWrite::Accumulator(*var)
                }
                _ => OuterWrite::Other,
            },
            _ => OuterWrite::Other,
        },
        Stmt::Store { buf, .. } if !inside[*buf] && a.active[*buf] => OuterWrite::Other,
        _ => OuterWrite::None,
    }
}

/// Is an accumulator read anywhere but by its own `+=`? That would change its adjoint.
fn reads_accumulator(body: &Block, accumulators: &[VarId]) -> bool {
    let mut reads = false;
    body.walk(&mut |_, s| {
        let r = match s {
            Stmt::Assign {
                var,
                rhs: Rhs::Op(_, args),
                ..
            } if accumulators.contains(var) => {
                let mut r = Vec::new();
                args.iter().skip(1).for_each(|o| o.reads(&mut r));
                r
            }
            _ => s.reads(),
        };
        reads |= r.iter().any(|v| accumulators.contains(v));
    });
    reads
}

/// Can the reverse of the statements after the loop at index `k` run before the
/// loop? Only when it reads values fixed before the loop (the mean `total / n`, calls
/// on inputs) and restores nothing.
fn tail_reverse_can_run_first(f: &Func, a: &Analysis, k: usize) -> bool {
    let Some(start) = f.body.ids.get(k).copied() else {
        return false;
    };
    // where each variable is first (re)assigned from the loop on
    let mut assigned_from: Vec<Option<StmtId>> = vec![None; f.vars.len()];
    f.body.walk(&mut |p, s| {
        if let Some(v) = s.assigns() {
            if p >= start {
                assigned_from[v] = Some(assigned_from[v].map_or(p, |q| q.min(p)));
            }
        }
    });
    let fixed_before =
        |v: VarId| assigned_from[v].is_none() && !matches!(a.decl[v], Some(d) if d >= start);
    for (p, s) in f.body.iter().skip(k + 1) {
        if !a.stmt_has_rev(p, s) {
            continue;
        }
        let simple = match s {
            Stmt::Let { rhs, .. } => matches!(rhs, Rhs::Op(..) | Rhs::Call(..)),
            Stmt::Assign { var, rhs, init } => {
                matches!(rhs, Rhs::Op(..) | Rhs::Call(..)) && (*init || !a.save_before(*var, p))
            }
            _ => false,
        };
        if !simple {
            return false;
        }
        let reads_late = a
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

/// A buffer declared before the loop `l` and used as per-iteration scratch: fully
/// rewritten (a fill loop directly in the body) before any use in the body, and
/// used nowhere outside the loop. Then each iteration's reverse consumes exactly
/// the adjoints its own reads produced.
fn scratch_of_iteration(a: &Analysis, buf: VarId, l: StmtId, body: &Block) -> bool {
    if body.stmts.is_empty() {
        return false;
    }
    let mut end = l;
    body.walk(&mut |id, _| end = end.max(id));
    let kill = a
        .kills
        .iter()
        .filter(|k| k.buf == buf && body.ids.contains(&k.start))
        .map(|k| k.end)
        .min();
    let Some(kill) = kill else {
        return false;
    };
    a.uses[buf].iter().all(|&u| u > l && u <= end && u >= kill)
}

/// The body of loop `l`, as recorded in `Analysis::loops`.
fn loop_body(a: &Analysis, l: StmtId) -> Option<Extent> {
    a.loops.iter().copied().find(|e| e.start == l.next())
}
