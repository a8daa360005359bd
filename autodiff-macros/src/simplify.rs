//! IR → IR: folds the copies lowering leaves behind (`let t = op(..); let v = t;`).

use quote::quote;

use crate::ir::*;
use crate::rules::Op;

/// Replaces `let t = op(..); let v = t;` (a temp copied into a fresh binding) by `let v = op(..)`.
pub fn simplify_copy_let(out: &mut Block, vars: &[Var]) {
    let n = out.stmts.len();
    if n < 2 {
        return;
    }
    let (head, tail) = out.stmts.split_at_mut(n - 1);
    let (
        Stmt::Let {
            var: t, rhs: trhs, ..
        },
        Stmt::Let {
            var: v,
            rhs: Rhs::Op(Op::Copy, args),
            ..
        },
    ) = (&mut head[n - 2], &mut tail[0])
    else {
        return;
    };
    if !matches!(args.as_slice(), [Operand::Var(a)] if a == t) || !vars[*t].tmp {
        return;
    }
    let rhs = std::mem::replace(trhs, Rhs::Passive(PExpr::constant(quote!())));
    let v = *v;
    let mutable = matches!(&tail[0], Stmt::Let { mutable: true, .. });
    out.stmts.truncate(n - 2);
    out.stmts.push(Stmt::Let {
        var: v,
        rhs,
        mutable,
    });
}

/// Same for `let t = op(..); v = t;`.
pub fn simplify_copy_assign(out: &mut Block, vars: &[Var]) {
    let n = out.stmts.len();
    if n < 2 {
        return;
    }
    let (head, tail) = out.stmts.split_at_mut(n - 1);
    let (
        Stmt::Let {
            var: t, rhs: trhs, ..
        },
        Stmt::Assign {
            var: v,
            rhs: Rhs::Op(Op::Copy, args),
            init,
        },
    ) = (&mut head[n - 2], &mut tail[0])
    else {
        return;
    };
    if !matches!(args.as_slice(), [Operand::Var(a)] if a == t) || !vars[*t].tmp {
        return;
    }
    let rhs = std::mem::replace(trhs, Rhs::Passive(PExpr::constant(quote!())));
    let (v, init) = (*v, *init);
    out.stmts.truncate(n - 2);
    out.stmts.push(Stmt::Assign { var: v, rhs, init });
}

pub fn simplify_if_copies(then: &mut Block, els: &mut Block, result: VarId, vars: &[Var]) {
    for b in [then, els] {
        let n = b.stmts.len();
        if n >= 2 {
            if let Stmt::Assign { var, .. } = &b.stmts[n - 1] {
                if *var == result {
                    simplify_copy_assign(b, vars);
                }
            }
        }
    }
}
