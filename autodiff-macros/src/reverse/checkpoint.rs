//! `#[checkpoint]` loops: bounded memory for long loops.
//!
//! A loop over `lo..hi` marked `#[checkpoint]` (segments of ⌈√n⌉ iterations) or
//! `#[checkpoint(every = k)]` is not stored iteration by iteration. The forward
//! sweep runs it once, saving at the start of every segment the loop's state:
//! the segment's first index and every variable declared outside the loop that
//! its body assigns (floats, integers, buffers). What an iteration pushes on the
//! tapes is dropped at its end. The reverse sweep takes the segments from last to
//! first: it restores the segment's state, runs the segment forward again, this
//! time storing as an ordinary loop does, and runs its reverse. Memory is one
//! state per segment plus one segment's tape: O(√n) for `#[checkpoint]`, instead
//! of O(n); the price is one more forward pass over the loop (as JAX's
//! `checkpoint` and Tapenade's checkpoints). The gradient is the stored loop's,
//! bit for bit: each iteration computes the same values in the same order.
//!
//! A `while` loop's trip count is found as it runs: `#[checkpoint]` saves the
//! state at iterations 0, 1, 4, 9, .. (√n states, segments of at most 2√n + 1
//! iterations), and segments are replayed by count, the condition not evaluated
//! again.
//!
//! `#[recompute]` saves only the starting state: the reverse of iteration `k`
//! restores it and re-runs iterations `lo..k` first (O(1) states, O(n²) time,
//! for short loops over large states). `#[store]` is the default, said
//! explicitly.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::{Part, Rev};
use crate::emit::bound;
use crate::ir::*;

/// What both strategies write: the body's forward and reverse, the loop's state
/// (its snapshot, the names it is taken back into, the restores), and the tapes
/// whose pushes a forward run without its reverse drops.
struct Pieces {
    fwd: Vec<TokenStream>,
    rev: Vec<TokenStream>,
    snap: Vec<TokenStream>,
    saved: Vec<Ident>,
    restore: Vec<TokenStream>,
    tapes: Vec<TokenStream>,
    marks: Vec<Ident>,
}

impl Pieces {
    /// The reverse of a checkpointed loop: the segments last to first, each
    /// restored from its saved state (`(start, state..)` on `states`), run forward
    /// storing and reversed; `pat` binds the loop index (`i` or `_`), `end` holds
    /// the trip's end.
    fn replay_segments(&self, pat: &TokenStream, states: &Ident, end: &Ident) -> TokenStream {
        let (bf, br, saved, restore) = (&self.fwd, &self.rev, &self.saved, &self.restore);
        quote! {
            while let ::core::option::Option::Some((__ck_start, #(#saved),*)) = #states.pop() {
                #(#restore)*
                for #pat in __ck_start..#end { #(#bf)* }
                for #pat in (__ck_start..#end).rev() { #(#br)* }
                #end = __ck_start;
            }
        }
    }

    /// The reverse of a recomputed loop over `lo..end`: for each iteration `k`,
    /// last first, the starting state (`states`) restored, `lo..k` run again
    /// dropping their pushes, then iteration `k` run storing and reversed.
    fn replay_each(
        &self,
        pat: &TokenStream,
        lo: &TokenStream,
        end: &TokenStream,
        states: &Ident,
    ) -> TokenStream {
        let (bf, br, saved, restore) = (&self.fwd, &self.rev, &self.saved, &self.restore);
        let dropping = self.dropping();
        quote! {
            for __ck_k in (#lo..#end).rev() {
                let (#(#saved,)*) = ::core::clone::Clone::clone(&#states);
                #(#restore)*
                for #pat in #lo..__ck_k { #dropping }
                for #pat in __ck_k..__ck_k + 1 { #(#bf)* }
                for #pat in __ck_k..__ck_k + 1 { #(#br)* }
            }
        }
    }

    /// One iteration run forward, its pushes dropped at its end.
    fn dropping(&self) -> TokenStream {
        let (bf, tapes, marks) = (&self.fwd, &self.tapes, &self.marks);
        quote! {
            #(let #marks = #tapes.len();)*
            #(#bf)*
            #(#tapes.truncate(#marks);)*
        }
    }
}

impl Rev<'_> {
    fn pieces(&self, body: &Block, name: &str) -> Pieces {
        let bp = self.gen_block(body, &[]);
        // the loop's state: what its body assigns of what is declared outside it
        let state = self.loop_state(body);
        let is_buf = |v: &VarId| self.g.f.vars[*v].kind == Kind::Buf;
        let snap = state
            .iter()
            .map(|v| {
                let x = self.g.ident(*v);
                if is_buf(v) {
                    quote!(#x.to_vec())
                } else {
                    quote!(::core::clone::Clone::clone(&#x))
                }
            })
            .collect();
        let saved: Vec<_> = (0..state.len())
            .map(|k| format_ident!("__ck_s{}_{}", k, name))
            .collect();
        let restore = state
            .iter()
            .zip(&saved)
            .map(|(v, s)| {
                let x = self.g.ident(*v);
                if is_buf(v) {
                    quote!(#x.copy_from_slice(&#s);)
                } else {
                    quote!(#x = #s;)
                }
            })
            .collect();
        // every tape and stack that exists (one declared before the loop may be
        // pushed in it too)
        let mut tapes = Vec::new();
        if self.st.uses_tape.get() {
            tapes.push(quote!(__tape));
        }
        if self.st.uses_flags.get() {
            tapes.push(quote!(__flags));
        }
        for v in self.st.stacks.borrow().iter() {
            let s = self.g.stack_ident(*v);
            tapes.push(quote!(#s));
        }
        let marks = (0..tapes.len())
            .map(|k| format_ident!("__ck_m{}_{}", k, name))
            .collect();
        Pieces {
            fwd: bp.fwd,
            rev: bp.rev,
            snap,
            saved,
            restore,
            tapes,
            marks,
        }
    }

    pub(super) fn gen_checkpointed_for(
        &self,
        var: VarId,
        range: &Range,
        body: &Block,
        how: &Checkpoint,
    ) -> Part {
        let i = self.g.ident(var);
        let Range::Range {
            lo, hi, inclusive, ..
        } = range;
        let (lo, hi) = (bound(lo), bound(hi));
        let hi = if *inclusive { quote!((#hi) + 1) } else { hi };
        let name = i.to_string();
        let name = name.trim_start_matches('_');
        let (states, end, every, t) = (
            format_ident!("__ck_{}", name),
            format_ident!("__ck_end_{}", name),
            format_ident!("__ck_every_{}", name),
            format_ident!("__ck_t_{}", name),
        );
        let p = self.pieces(body, name);
        let snap = &p.snap;
        let dropping = p.dropping();
        let mut part = Part::default();
        let every_expr = match how {
            Checkpoint::Sqrt => quote!(::autodiff::__private::checkpoint_every(
                ::autodiff::__private::trip_count(&(#lo..#end))
            )),
            Checkpoint::Every(k) => {
                let k = &k.tokens;
                quote!(::core::cmp::max((#k) as usize, 1))
            }
            Checkpoint::Recompute => {
                // the starting state only; iteration `k`'s reverse re-runs `lo..k`
                part.fwd.push(quote! {
                    let #end = #hi;
                    let #states = (#(#snap,)*);
                    for #i in #lo..#end { #dropping }
                });
                part.rev
                    .push(p.replay_each(&quote!(#i), &lo, &quote!(#end), &states));
                return part;
            }
        };
        part.fwd.push(quote! {
            let #end = #hi;
            let #every: usize = #every_expr;
            let mut #states = ::std::vec::Vec::new();
            let mut #t: usize = 0;
            for #i in #lo..#end {
                if #t % #every == 0 {
                    #states.push((#i, #(#snap),*));
                }
                #t += 1;
                #dropping
            }
        });
        let replay = p.replay_segments(&quote!(#i), &states, &end);
        part.rev.push(quote! {
            let mut #end = #end;
            #replay
        });
        part
    }

    /// A `while` loop: the trip count is not known ahead, so `#[checkpoint]`
    /// saves the state at iterations 0, 1, 4, 9, 16, .. (√n states, segments of
    /// at most 2√n + 1 iterations); the reverse replays each segment by count.
    pub(super) fn gen_checkpointed_while(
        &self,
        cond: &PExpr,
        body: &Block,
        count: VarId,
        how: &Checkpoint,
    ) -> Part {
        let t = self.g.ident(count);
        let name = t.to_string();
        let name = name.trim_start_matches('_');
        let (states, end, next, root) = (
            format_ident!("__ck_{}", name),
            format_ident!("__ck_end_{}", name),
            format_ident!("__ck_next_{}", name),
            format_ident!("__ck_root_{}", name),
        );
        let p = self.pieces(body, name);
        let snap = &p.snap;
        let dropping = p.dropping();
        let c = &cond.tokens;
        let mut part = Part::default();
        if let Checkpoint::Recompute = how {
            // the starting state only; iteration `k`'s reverse re-runs `0..k` by count
            part.fwd.push(quote! {
                let #states = (#(#snap,)*);
                let mut #t: usize = 0;
                while #c { #t += 1; #dropping }
            });
            part.rev
                .push(p.replay_each(&quote!(_), &quote!(0usize), &quote!(#t), &states));
            return part;
        }
        let (init, due, advance) = match how {
            Checkpoint::Every(k) => {
                let k = &k.tokens;
                (
                    quote!(let #next: usize = ::core::cmp::max((#k) as usize, 1);),
                    quote!(#t % #next == 0),
                    quote!(),
                )
            }
            // at the squares 0, 1, 4, 9, ..
            _ => (
                quote!(let mut #next: usize = 0; let mut #root: usize = 0;),
                quote!(#t == #next),
                quote!(#root += 1; #next = #root * #root;),
            ),
        };
        part.fwd.push(quote! {
            let mut #states = ::std::vec::Vec::new();
            let mut #t: usize = 0;
            #init
            while #c {
                if #due {
                    #states.push((#t, #(#snap),*));
                    #advance
                }
                #t += 1;
                #dropping
            }
        });
        let replay = p.replay_segments(&quote!(_), &states, &end);
        part.rev.push(quote! {
            let mut #end = #t;
            #replay
        });
        part
    }

    /// The variables declared outside `body` that it assigns (also through a
    /// buffer passed to a call), in order of first appearance.
    fn loop_state(&self, body: &Block) -> Vec<VarId> {
        let inside: Vec<usize> = body.all_blocks().iter().map(|b| b.id).collect();
        let mut out = Vec::new();
        let add = |v: VarId, out: &mut Vec<VarId>| {
            if !inside.contains(&self.g.f.vars[v].block) && !out.contains(&v) {
                out.push(v);
            }
        };
        body.walk(&mut |_, s| {
            if let Some(v) = s.assigns() {
                add(v, &mut out);
            }
            let rhs = match s {
                Stmt::Let { rhs, .. } | Stmt::Assign { rhs, .. } => Some(rhs),
                _ => None,
            };
            if let Some(Rhs::Call(c)) = rhs {
                for a in &c.args {
                    if let CallArg::Buf { var, .. } = a {
                        if self.g.f.vars[*var].view.is_none() && !self.g.f.vars[*var].is_param {
                            add(*var, &mut out);
                        }
                    }
                }
            }
        });
        out
    }
}
