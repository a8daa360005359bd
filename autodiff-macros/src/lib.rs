//! The `#[differentiate]` attribute and `#[derive(Differentiable)]` of the [`autodiff`](https://docs.rs/autodiff) crate.
//!
//! This crate is the procedural-macro shim; the documentation, with examples,
//! lives on `autodiff::differentiate` and `autodiff::Differentiable`, which
//! re-export it.
//!
//! Two macros:
//!
//! - `#[differentiate]` (`expand.rs`): a struct parameter named in `wrt(..)`
//!   is lowered by `lower/structs.rs`, which turns each field path the body
//!   reads into a typed synthetic parameter bound at entry (`let p__w: &[F] =
//!   &p.w[..];`, the shadow from `dp` likewise), so the rest of the macro sees
//!   slices and floats; the struct itself, passed to a call, is a buffer-like
//!   variable whose shadow is `dp`.
//! - `#[derive(Differentiable)]` (`derive.rs`): implements
//!   `autodiff::Differentiable<F>` field by field from the fields' types as
//!   written (floats, `Vec`, arrays, `Box`, tuples, nested `Differentiable`
//!   types; carried fields cloned; `#[differentiable(skip)]`), refusing floats
//!   behind types it cannot see into.
//!
//! How the macro is built (its phases and the file that owns each) is in
//! `docs/architecture.md` at the repository root.

mod activity;
mod attr;
mod derive;
mod diag;
mod emit;
mod expand;
mod forward;
mod ir;
mod jacobian;
mod lower;
mod nested;
mod reverse;
mod rules;
mod second;
mod simplify;
mod split;

use proc_macro::TokenStream;

/// Writes the forward (`f_fwd`), adjoint (`f_adjoint`) and gradient (`f_grad`)
/// versions of a numeric function; for a vector-valued one (returning `[F; M]` or
/// a tuple of floats, or writing `&mut [F]` out-parameters) `f_fwd`, `f_adjoint`
/// and the dense Jacobian `f_jacobian`. See `autodiff::differentiate` for the full
/// documentation.
#[proc_macro_attribute]
pub fn differentiate(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::differentiate(attr.into(), item.into()).into()
}
#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod snapshots;
#[cfg(test)]
mod soundness;

/// Implements `autodiff::Differentiable<F>` for a struct. See
/// `autodiff::Differentiable` (the derive's re-export) for the documentation.
#[proc_macro_derive(Differentiable, attributes(differentiable))]
pub fn derive_differentiable(item: TokenStream) -> TokenStream {
    derive::derive(item.into()).into()
}
