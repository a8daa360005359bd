//! Calls of `inline(..)` callees: the callee's forward sweep runs once, at the
//! call, and hands its reverse sweep the values it needs.
//!
//! A `#[differentiate]` function with scalar parameters and a float result also
//! gets a split pair (`split.rs` at the crate root): `g__split(args) -> (value,
//! saved)` is its forward sweep, returning the values its reverse sweep reads,
//! and `g__rev(args, shadows, saved, ḡ)` is that reverse sweep. A caller naming
//! `g` in `inline(..)` calls `g__split` where it would call `g` and `g__rev`
//! where it would call `g_adjoint`, so `g`'s transcendental functions are not
//! evaluated a second time in the reverse sweep (as a hand-written gradient
//! reuses `σ(x)` for `σ'(x) = σ(1 − σ)`). The saved values of a call in the
//! function body stay in a local (`__sv*`); those of a call in a loop body or a
//! branch go on the float tape, pushed after the call and popped where its
//! reverse runs (before the statement's own restore, which was pushed first), as
//! every other value the tape keeps.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::Rev;
use crate::ir::*;

/// A call that uses its callee's split pair.
pub(super) struct SplitCall {
    /// The saved values' local, `__svN`.
    pub saved: proc_macro2::Ident,
    /// `g__split(args)`.
    pub call: TokenStream,
    /// After the call: the push, for a call in a nested block.
    pub keep: TokenStream,
    /// Where its reverse begins: the pop, for a call in a nested block.
    pub take: TokenStream,
}

impl Rev<'_> {
    /// The split call for `c` when `inline(..)` names its callee and every argument
    /// is a float or passive value (a buffer argument means a callee without a
    /// split pair).
    pub(super) fn split_call(&self, c: &Call) -> Option<SplitCall> {
        let name = match &c.callee {
            Callee::Path { name, .. } | Callee::Method { name, .. } => name.to_string(),
        };
        let eligible = self.st.split.contains(&name)
            && self.plan.fused.is_none()
            && c.args
                .iter()
                .all(|a| matches!(a, CallArg::Float(_) | CallArg::Passive(_)));
        if !eligible {
            return None;
        }
        let n = self.st.next_slot();
        let saved = format_ident!("__sv{}", n);
        let callee = self.g.callee_tokens(c, "__split");
        let args = self.g.call_args(c);
        let (keep, take) = if self.st.nested.get() {
            self.st.uses_tape.set(true);
            (
                quote!(::autodiff::__private::Saved::push_to(#saved, &mut __tape);),
                quote!(let #saved = ::autodiff::__private::Saved::pop_from(&mut __tape);),
            )
        } else {
            (quote!(), quote!())
        };
        Some(SplitCall {
            saved,
            call: quote!(#callee(#(#args),*)),
            keep,
            take,
        })
    }
}
