//! Collects spanned errors so that one build reports every problem at once.
//!
//! As serde_derive's `Ctxt`: the sink is consumed by [`Diag::check`], which combines
//! every error into one token stream, so generation cannot start with errors
//! pending and no error can be dropped on the way.

use proc_macro2::{Span, TokenStream};

#[derive(Default)]
#[must_use = "a `Diag` must be consumed by `check()`"]
pub struct Diag {
    errors: Vec<syn::Error>,
    /// `(span, message)` of each error, so that a construct reached twice (its
    /// soundness checked in two positions) is reported once.
    seen: Vec<(String, String)>,
}

impl Diag {
    /// No error was reported.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn error(&mut self, span: Span, msg: impl std::fmt::Display) {
        self.push(syn::Error::new(span, msg));
    }

    /// An error covering every token of `node` (a `.span()` on stable covers only the first).
    pub fn error_spanned(&mut self, node: impl quote::ToTokens, msg: impl std::fmt::Display) {
        self.push(syn::Error::new_spanned(node, msg));
    }

    pub fn push(&mut self, err: syn::Error) {
        let key = (format!("{:?}", err.span()), err.to_string());
        if !self.seen.contains(&key) {
            self.seen.push(key);
            self.errors.push(err);
        }
    }

    /// `Ok` when nothing was reported; otherwise every error, combined, as
    /// `compile_error!` invocations.
    pub fn check(self) -> Result<(), TokenStream> {
        let mut errors = self.errors.into_iter();
        let Some(mut first) = errors.next() else {
            return Ok(());
        };
        for e in errors {
            first.combine(e);
        }
        Err(first.to_compile_error())
    }
}
