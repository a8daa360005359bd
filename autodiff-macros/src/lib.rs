//! The `#[differentiate]` attribute of the [`autodiff`](https://docs.rs/autodiff) crate.
//!
//! This crate is the procedural-macro shim; the documentation, with examples,
//! lives on `autodiff::differentiate`, which re-exports it. How the macro is built
//! (its phases and the file that owns each) is in `docs/architecture.md` at the
//! repository root.

mod activity;
mod attr;
mod diag;
mod emit;
mod expand;
mod forward;
mod ir;
mod jacobian;
mod lower;
mod reverse;
mod rules;
mod simplify;

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
