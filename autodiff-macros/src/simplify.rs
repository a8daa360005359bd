//! IR → IR: folds the copies lowering leaves behind. Lowering flattens
//! `let v = a * b;` into `let t = a * b; let v = t;`; this pass makes it
//! `let v = a * b;` again (and `v = t;` likewise), so both generators see one
//! statement and the expansion reads as the user wrote it.

use crate::ir::*;
use crate::rules::Op;

/// Folds every `let t = op(..); let v = t;` (or `v = t;`) where `t` is a temporary
/// of lowering read nowhere else into `let v = op(..);` (or `v = op(..);`).
pub fn fold_copies(mut f: Func) -> Func {
    let mut uses = vec![0usize; f.vars.len()];
    count_uses(&f.body, &mut uses);
    uses[f.ret] += 1;
    fold_block(&mut f.body, &f.vars, &uses);
    f
}

fn count_uses(b: &Block, uses: &mut [usize]) {
    let read = |p: &PExpr, uses: &mut [usize]| p.reads.iter().for_each(|v| uses[*v] += 1);
    for s in &b.stmts {
        match s {
            Stmt::Let { rhs, .. } | Stmt::Assign { rhs, .. } => {
                for o in rhs.operands() {
                    if let Some(v) = o.var() {
                        uses[v] += 1;
                    }
                    if let Operand::Load(_, i) | Operand::Const(i) = o {
                        read(i, uses);
                    }
                }
                if let Rhs::Passive(p) | Rhs::Step { amount: p, .. } = rhs {
                    read(p, uses);
                }
            }
            Stmt::Store { index, value, .. } => {
                read(index, uses);
                if let Some(v) = value.var() {
                    uses[v] += 1;
                }
            }
            Stmt::If { cond, then, els } => {
                read(cond, uses);
                count_uses(then, uses);
                count_uses(els, uses);
            }
            Stmt::For {
                range: Range::Range { lo, hi, .. },
                body,
                exit,
                ..
            } => {
                read(lo, uses);
                read(hi, uses);
                exit.iter().for_each(|e| read(e, uses));
                count_uses(body, uses);
            }
            Stmt::While {
                cond, body, exit, ..
            } => {
                read(cond, uses);
                exit.iter().for_each(|e| read(e, uses));
                count_uses(body, uses);
            }
            Stmt::Decl { .. } | Stmt::Passive(_) => {}
        }
    }
}

fn fold_block(b: &mut Block, vars: &[Var], uses: &[usize]) {
    let stmts = std::mem::take(&mut b.stmts);
    for mut s in stmts {
        match &mut s {
            Stmt::If { then, els, .. } => {
                fold_block(then, vars, uses);
                fold_block(els, vars, uses);
            }
            Stmt::For { body, .. } | Stmt::While { body, .. } => fold_block(body, vars, uses),
            _ => {}
        }
        let foldable = matches!(
            (b.stmts.last(), &s),
            (Some(Stmt::Let { var: t, .. }), Stmt::Let { rhs, .. } | Stmt::Assign { rhs, .. })
                if vars[*t].tmp && uses[*t] == 1 && copies(rhs, *t)
        );
        let prev = if foldable {
            match b.stmts.pop() {
                Some(Stmt::Let { rhs, .. }) => Some(rhs),
                other => {
                    b.stmts.extend(other);
                    None
                }
            }
        } else {
            None
        };
        let s = match (prev, s) {
            (Some(rhs), Stmt::Let { var, mutable, .. }) => Stmt::Let { var, rhs, mutable },
            (Some(rhs), Stmt::Assign { var, init, .. }) => Stmt::Assign { var, rhs, init },
            (_, s) => s,
        };
        b.stmts.push(s);
    }
}

/// Is `rhs` the copy `t`?
fn copies(rhs: &Rhs, t: VarId) -> bool {
    matches!(rhs, Rhs::Op(Op::Copy, args) if matches!(args.as_slice(), [Operand::Var(a)] if *a == t))
}
