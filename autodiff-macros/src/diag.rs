//! Collects spanned errors so that one build reports every problem at once.

use proc_macro2::{Span, TokenStream};

#[derive(Default)]
pub struct Diag {
    errors: Vec<syn::Error>,
}

impl Diag {
    pub fn error(&mut self, span: Span, msg: impl std::fmt::Display) {
        self.errors.push(syn::Error::new(span, msg));
    }

    /// An error covering every token of `node` (a `.span()` on stable covers only the first).
    pub fn error_spanned(&mut self, node: impl quote::ToTokens, msg: impl std::fmt::Display) {
        self.errors.push(syn::Error::new_spanned(node, msg));
    }

    pub fn push(&mut self, err: syn::Error) {
        self.errors.push(err);
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    pub fn to_compile_errors(&self) -> TokenStream {
        self.errors
            .iter()
            .map(syn::Error::to_compile_error)
            .collect()
    }
}
