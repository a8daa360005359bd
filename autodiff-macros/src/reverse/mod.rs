//! IR → the body of `f_adjoint`: a forward sweep that saves only what the reverse
//! sweep will need and lose, then the reverse sweep.
//!
//! Two steps: [`plan`] decides, once, from the IR and the analysis, what is stored,
//! recomputed, undone and fused (keyed by statement id and variable); emission
//! ([`block`], [`stmt`], [`call`], [`places`]) writes the code the plan describes.
//! What emission still chooses is local to the code it writes: the form of an
//! update (`s += e` passes `s̄` through), the names of locals, and which views a
//! statement's reverse names and so must bind.
//!
//! # What is stored, and why
//!
//! - Straight-line code at the top of the function stores nothing: every
//!   temporary has its own name, so the reverse sweep reads the primal values
//!   directly. A top-level reassignment of a needed variable saves the old
//!   value in a local (`__s*`), never on a heap tape (`Save::Local`).
//! - A value is saved when an assignment or store overwrites it **and** the
//!   reverse sweep reads it before that point (`Analysis::save_before`): a use
//!   earlier in the function, or in a loop that also contains the overwrite and
//!   encloses the variable's binding (a variable bound inside a loop body is a
//!   fresh one each iteration). `s += w[i] * x[i]` needs no old `s`; inputs that
//!   never change (parameters, read-only buffers) are read again, not stored.
//!   Floats go on one typed tape (`__tape: Vec<F>`), other values on a stack of
//!   their own (the plan's `Save` for each assignment and store).
//! - Cheaper than storing: values recomputable from unchanging inputs (passive
//!   `let`s, arithmetic, elements of unchanging buffers, views) are recomputed at
//!   the start of their block's reverse; integer counter steps (`k += 1`) are
//!   undone by the inverse step; a loop that rewrites a whole scratch buffer
//!   (`for i in 0..n { b[i] = .. }` over `vec![..; n]`) makes older values dead, so
//!   later partial updates of it store nothing (`Analysis::kills`).
//! - Variables bound inside a loop body or branch are out of scope in the
//!   reverse sweep: the needed ones that cannot be recomputed are pushed when the
//!   block ends and popped when its reverse begins (the plan's `Keep` for each
//!   variable bound in a nested block).
//! - A view `&w[lo..hi]` is never stored (it borrows `w`): the reverse sweep slices
//!   `w` and its adjoint again where the view's block reverses, with the bounds as
//!   they were when the view was made (evaluated again when they read only
//!   unchanging values, else kept in locals `__lo_v`/`__hi_v` and pushed with the
//!   block's other values). When something after the view touches the adjoint of
//!   `w` otherwise (`w[0]`, a second view, `g(w[0], v)`), the view's adjoint is
//!   reached as `dw[lo + i]` instead of through a long-lived `&mut dw[lo..hi]`; when
//!   something after it writes `w`, its elements are read as `w[lo + i]` after the
//!   restores, and a statement that names the view (`v.len()`) gets a short borrow
//!   of its own. Reading a view counts as reading `w` for what must be saved. (This
//!   is decided by the analysis, `ViewPlan`, since what the reverse reads depends on
//!   it; the plan carries it.)
//! - A branch whose condition reads only unchanging values is re-evaluated;
//!   otherwise its decision goes on `__flags: Vec<bool>`, pushed after the branch
//!   runs so that the reverse pops it before anything the branch pushed (the
//!   plan's `Branch`). A `while` loop's trip count and the last index of an
//!   early-exited `for` loop are recorded.
//! - Before each `for` loop the tapes reserve `trip count × pushes per
//!   iteration` (counted by the plan for each block), so they do not grow one
//!   push at a time.
//! - A `#[checkpoint]` loop stores nothing per iteration: the forward sweep saves
//!   the loop's state (what its body assigns of what is declared outside it) at the
//!   start of each segment of ⌈√n⌉ (or `every = k`) iterations and drops what an
//!   iteration pushes; the reverse sweep restores each segment's state, runs the
//!   segment forward again with the usual saves, and reverses it, last segment
//!   first: O(√n) memory for one more forward pass (`checkpoint.rs`).
//! - A call of a function named in `inline(..)` calls its split pair
//!   (`g__split` in the forward sweep, `g__rev` in the reverse sweep): the values
//!   its reverse reads are kept (a local at the top level, else on the float
//!   tape, `split.rs`), so `g`'s forward sweep is not run a second time by
//!   `g_adjoint`.
//! - The last loop with reverse work runs its reverse inside its forward pass,
//!   iteration by iteration (one pass over the data, as a hand-written gradient
//!   does), when that is equivalent: the outer floats it writes are accumulators
//!   (`s += ..`, read nowhere else in it), the outer buffers it writes are
//!   per-iteration scratch (rewritten by a fill loop before any use), and the
//!   statements after it have a reverse that reads only values fixed before it
//!   (`total / n`), which is then hoisted in front of it. Its body's values stay
//!   in scope, so they are neither stored nor recomputed (`fuse.rs`).
//! - In that fused loop, a parameter's shadow that is only updated as
//!   `dx[i + c] += e` (constant `c ≥ 0`, the largest `c` unconditionally) is kept
//!   in locals across iterations: `dx[i + K]` is loaded when iteration `i` starts
//!   and `dx[i]` stored when it ends, so Rosenbrock's `dx[i + 1]`, updated in
//!   iteration `i` and again in `i + 1`, never waits on memory. The additions are
//!   the same, in the same order: results are bit for bit those of updates in
//!   memory (`carry.rs`).
//!
//! # Where each decision lives
//!
//! - `activity.rs`: which values are active and which the reverse sweep reads
//!   (`needed`, `uses`); whether an overwrite destroys a value read later
//!   (`Analysis::save_before`); loops that kill a buffer; which `let`s and branch
//!   conditions can be evaluated again; how views are reached (`ViewPlan`).
//! - `plan.rs`: per statement, where an overwritten value goes (`Save`) and how a
//!   branch is replayed (`Branch`); per block, its scope and its pushes per
//!   execution; per variable bound in a nested block, how its value comes back
//!   (`Keep`).
//! - `fuse.rs`: which loop runs fused, and its per-iteration scratch buffers;
//!   `carry.rs`: which of its shadow updates stay in locals across iterations.
//! - `stmt.rs` (one statement), `block.rs` (a block: its statements, the values
//!   its bindings keep, the fused loop), `call.rs` (adjoint calls), `places.rs`
//!   (where values and adjoints are found, contributions): the code, from the plan.

mod block;
mod call;
mod carry;
mod checkpoint;
mod fuse;
mod places;
mod plan;
mod split;
mod stmt;

use std::cell::{Cell, RefCell};

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::emit::Gen;
use crate::ir::*;
use plan::Plan;

/// The names emission hands out and what the generated function must declare, in
/// the order emission meets them.
#[derive(Default)]
pub struct RevState {
    slot: Cell<usize>,
    uses_tape: Cell<bool>,
    uses_flags: Cell<bool>,
    stacks: RefCell<Vec<VarId>>,
    /// Floats of blocks outside loops kept in function locals (`Keep::Local`).
    keeps: RefCell<Vec<VarId>>,
    /// Callees named in `inline(..)`: their calls use the split pair (`split.rs`).
    pub split: Vec<String>,
    /// The statements being emitted are in a nested block (a loop body, a branch).
    pub(super) nested: Cell<bool>,
}

impl RevState {
    /// The number of the next top-level local (`__s*`, `__c*`).
    fn next_slot(&self) -> usize {
        let k = self.slot.get();
        self.slot.set(k + 1);
        k
    }

    /// The function local that keeps `v` (`Keep::Local`).
    fn declare_keep(&self, v: VarId, g: &Gen) -> proc_macro2::Ident {
        let mut keeps = self.keeps.borrow_mut();
        if !keeps.contains(&v) {
            keeps.push(v);
        }
        keep_ident(g, v)
    }

    /// `v` has a stack of its own.
    fn declare_stack(&self, v: VarId) {
        let mut stacks = self.stacks.borrow_mut();
        if !stacks.contains(&v) {
            stacks.push(v);
        }
    }
}

/// The reverse generator: the shared renderer, the plan it follows, and the names
/// handed out so far.
struct Rev<'a> {
    g: &'a Gen<'a>,
    plan: &'a Plan,
    st: &'a RevState,
}

/// A statement's or block's code.
#[derive(Default)]
struct Part {
    fwd: Vec<TokenStream>,
    /// In execution order of the reverse sweep.
    rev: Vec<TokenStream>,
}

/// The adjoint body in pieces: `checks`, then `pre` (the forward sweep, binding
/// `__value`), then `row` (the adjoints declared and seeded from `dret` and the
/// out-parameters' shadows, the reverse sweep, the shadows updated), then `post`,
/// then `__value`.
pub struct AdjointParts {
    pub checks: TokenStream,
    pub pre: TokenStream,
    pub row: TokenStream,
    pub post: TokenStream,
    /// The reverse sweep changes no primal value and pops nothing (no tape, stack,
    /// flag or restore): `row` can run again after one `pre`, once per seed.
    pub rerunnable: bool,
    /// Besides, `row` reads of `pre` only variables of the function body (no kept
    /// locals, no fused loop): it can run in a function of its own given those
    /// values (the split pair, `split.rs`).
    pub separable: bool,
}

impl AdjointParts {
    /// The whole body of `f_adjoint`.
    pub fn body(&self) -> TokenStream {
        let (checks, pre, row, post) = (&self.checks, &self.pre, &self.row, &self.post);
        quote!(#checks #pre #row #post __value)
    }
}

impl Gen<'_> {
    /// The whole adjoint body ([`AdjointParts::body`]).
    #[allow(dead_code)] // `expand.rs` uses the parts; other generators the body
    pub fn gen_adjoint_body(&self, st: &RevState) -> TokenStream {
        self.gen_adjoint_parts(st).body()
    }

    pub fn gen_adjoint_parts(&self, st: &RevState) -> AdjointParts {
        let plan = Plan::new(self.f, self.a);
        Rev {
            g: self,
            plan: &plan,
            st,
        }
        .gen_body()
    }
}

impl Rev<'_> {
    fn gen_body(&self) -> AdjointParts {
        let g = self.g;
        let ret = g.ident(g.f.ret);
        let mut decls = self.top_adjoint_decls();
        let mut seed = self.seed();
        let value = match &g.f.out.ret {
            RetShape::Float | RetShape::Array { .. } => quote!(#ret),
            RetShape::Tuple(n) => g.tuple_of(&quote!(#ret), *n),
            RetShape::Unit => quote!(()),
        };
        // With a fused loop, the adjoints are declared and seeded right before it.
        let mut pre = Vec::new();
        if self.plan.fused.is_some() {
            pre.append(&mut decls);
            pre.push(std::mem::take(&mut seed));
        }
        let Part { fwd, rev } = self.gen_block(&g.f.body, &pre);
        let (keep, put_back) = self.keep_out_params();
        let mut finish = self.param_adjoints();
        finish.extend(g.zero_out_shadows());
        let tapes = self.tape_decls();
        let checks = g.shadow_length_checks();
        let st = self.st;
        let mut restores = false;
        g.f.body.walk(&mut |id, s| {
            restores |= self.plan.stmt(id).save != plan::Save::No
                || matches!(
                    s,
                    Stmt::For {
                        checkpoint: Some(_),
                        ..
                    } | Stmt::While {
                        checkpoint: Some(_),
                        ..
                    }
                );
        });
        let rerunnable = self.plan.fused.is_none()
            && !st.uses_tape.get()
            && !st.uses_flags.get()
            && st.stacks.borrow().is_empty()
            && !restores;
        let own_scope = self.plan.fused.is_none() && st.keeps.borrow().is_empty();
        AdjointParts {
            checks: quote!(#(#checks)*),
            pre: quote! {
                #(#tapes)*
                #(#fwd)*
                let __value = #value;
                #(#keep)*
            },
            row: quote! {
                #(#decls)*
                #seed
                #(#rev)*
                #(#finish)*
            },
            post: quote!(#(#put_back)*),
            rerunnable,
            separable: rerunnable && own_scope,
        }
    }

    /// The reverse sweep restores the values that out-parameter stores overwrote
    /// (it reads them): the results are kept after the forward sweep and written
    /// back after the reverse sweep.
    fn keep_out_params(&self) -> (Vec<TokenStream>, Vec<TokenStream>) {
        let g = self.g;
        let mut restored = Vec::new();
        g.f.body.walk(&mut |id, s| {
            if let Stmt::Store { buf, .. } = s {
                let save = self.plan.stmt(id).save;
                if g.f.out.params.contains(buf)
                    && !matches!(save, plan::Save::No | plan::Save::Undo)
                {
                    restored.push(*buf);
                }
            }
        });
        let (mut keep, mut put_back) = (Vec::new(), Vec::new());
        for v in &g.f.out.params {
            if !restored.contains(v) {
                continue;
            }
            let x = g.ident(*v);
            let k = format_ident!("__kept_{}", x);
            if g.f.vars[*v].buf == Some(BufRepr::OutArray) {
                keep.push(quote!(let #k = *#x;));
                put_back.push(quote!(*#x = #k;));
            } else {
                keep.push(quote!(let #k = #x.to_vec();));
                put_back.push(quote!(#x.copy_from_slice(&#k);));
            }
        }
        (keep, put_back)
    }

    /// `r̄ += dret` for the returned value (elementwise for an array or tuple).
    fn seed(&self) -> TokenStream {
        let g = self.g;
        if !g.a.active[g.f.ret] {
            return quote!();
        }
        let b = g.adjoint_ident(g.f.ret);
        match &g.f.out.ret {
            RetShape::Float => g.accumulate(&quote!(#b), false, &quote!(dret)),
            RetShape::Array { len } => {
                let acc = g.accumulate(&quote!(#b[__k]), false, &quote!(dret[__k]));
                quote!(for __k in 0..#len { #acc })
            }
            RetShape::Tuple(n) => (0..*n)
                .map(|i| {
                    let i = proc_macro2::Literal::usize_unsuffixed(i);
                    g.accumulate(&quote!(#b[#i]), false, &quote!(dret.#i))
                })
                .collect(),
            RetShape::Unit => quote!(),
        }
    }

    /// Adjoints of active scalar parameters and top-level variables.
    fn top_adjoint_decls(&self) -> Vec<TokenStream> {
        let a = self.g.a;
        (self.g.f.vars.iter().enumerate())
            .filter(|(i, v)| a.active[*i] && v.block == 0 && !a.loop_var[*i])
            .filter(|(_, v)| !(v.is_param && v.kind == Kind::Buf))
            .map(|(i, _)| self.adjoint_decl(i))
            .collect()
    }

    /// `*dx += x̄` for each active float parameter.
    fn param_adjoints(&self) -> Vec<TokenStream> {
        let g = self.g;
        let mut finish = Vec::new();
        for p in &g.f.params {
            let Some(v) = p.var else { continue };
            // A parameter outside `wrt(..)` made active by an assignment has no shadow.
            if g.a.active[v] && g.f.vars[v].kind == Kind::Float && g.f.vars[v].wrt {
                let b = g.adjoint_ident(v);
                let d = format_ident!("d{}", p.ident);
                finish.push(g.accumulate(&quote!(*#d), false, &quote!(#b)));
            }
        }
        finish
    }

    /// The tapes and stacks emission used.
    fn tape_decls(&self) -> Vec<TokenStream> {
        let (st, f) = (self.st, self.g.fty());
        let mut tapes = Vec::new();
        if st.uses_tape.get() {
            tapes.push(quote!(let mut __tape: ::std::vec::Vec<#f> = ::std::vec::Vec::new();));
        }
        if st.uses_flags.get() {
            tapes.push(quote!(let mut __flags: ::std::vec::Vec<bool> = ::std::vec::Vec::new();));
        }
        for v in st.keeps.borrow().iter() {
            let k = keep_ident(self.g, *v);
            let t = self.g.ty_of(*v);
            let (f, z) = (self.g.fty_in(t), self.g.zero_in(t));
            tapes.push(quote!(let mut #k: #f = #z;));
        }
        for v in st.stacks.borrow().iter() {
            let s = self.g.stack_ident(*v);
            tapes.push(quote!(let mut #s = ::std::vec::Vec::new();));
        }
        tapes
    }
}

fn keep_ident(g: &Gen, v: VarId) -> proc_macro2::Ident {
    format_ident!("__keep_{}", g.ident(v).to_string().trim_start_matches('_'))
}
