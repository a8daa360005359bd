//! `#[differentiate(..)]` arguments → [`Config`].

use proc_macro2::{Ident, TokenStream};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::Token;

use crate::diag::Diag;

/// What the attribute asked for.
#[derive(Default, Debug)]
pub struct Config {
    /// `wrt(a, b)`: exactly these parameters are active. `None`: every float parameter.
    pub wrt: Option<Vec<Ident>>,
}

struct Args(Punctuated<Arg, Token![,]>);

enum Arg {
    Wrt(Ident, Punctuated<Ident, Token![,]>),
}

impl Parse for Args {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        Ok(Args(Punctuated::parse_terminated(input)?))
    }
}

impl Parse for Arg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key: Ident = input.parse()?;
        if key != "wrt" {
            return Err(syn::Error::new(
                key.span(),
                format!("unknown `#[differentiate]` argument `{key}`; expected `wrt(..)`"),
            ));
        }
        if !input.peek(syn::token::Paren) {
            return Err(syn::Error::new(
                key.span(),
                "expected a parenthesised list of parameters: `wrt(x, y)`",
            ));
        }
        let content;
        syn::parenthesized!(content in input);
        // `self` is a keyword: `wrt(self)` makes a method's receiver active.
        let names = Punctuated::parse_terminated_with(&content, syn::ext::IdentExt::parse_any)?;
        Ok(Arg::Wrt(key, names))
    }
}

pub fn parse_config(attr: TokenStream, diag: &mut Diag) -> Config {
    let mut config = Config::default();
    if attr.is_empty() {
        return config;
    }
    match syn::parse2::<Args>(attr) {
        Ok(args) => {
            for arg in args.0 {
                let Arg::Wrt(key, names) = arg;
                if config.wrt.is_some() {
                    diag.error(key.span(), "`wrt` is given more than once");
                    continue;
                }
                if names.is_empty() {
                    diag.error(
                        key.span(),
                        "`wrt()` is empty; name at least one float parameter",
                    );
                }
                config.wrt = Some(names.into_iter().collect());
            }
        }
        Err(e) => diag.push(e),
    }
    config
}
