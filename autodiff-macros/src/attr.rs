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
    /// `order = 2`: also `f_hvp` and `f_hessian`, and `f_fwd`/`f_adjoint` callable
    /// from other second-order functions. `None`: first order.
    pub order: Option<(Ident, u8)>,
    /// `inline(g, h)`: calls of these functions use their split pair, so their
    /// reverse sweeps reuse the values their forward sweeps computed (`split.rs`).
    pub inline: Vec<Ident>,
}

struct Args(Punctuated<Arg, Token![,]>);

enum Arg {
    /// `wrt(..)` or `inline(..)`.
    Wrt(Ident, Punctuated<Ident, Token![,]>),
    Order(Ident, syn::LitInt),
}

impl Parse for Args {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        Ok(Args(Punctuated::parse_terminated(input)?))
    }
}

impl Parse for Arg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key: Ident = input.parse()?;
        if key == "order" {
            input.parse::<Token![=]>()?;
            return Ok(Arg::Order(key, input.parse()?));
        }
        if key != "wrt" && key != "inline" {
            return Err(syn::Error::new(
                key.span(),
                format!(
                    "unknown `#[differentiate]` argument `{key}`; expected `wrt(..)`, `order = 2` or `inline(..)`"
                ),
            ));
        }
        if !input.peek(syn::token::Paren) {
            let msg = if key == "wrt" {
                "expected a parenthesised list of parameters: `wrt(x, y)`"
            } else {
                "expected a parenthesised list of functions: `inline(sigmoid)`"
            };
            return Err(syn::Error::new(key.span(), msg));
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
                let (key, names) = match arg {
                    Arg::Wrt(key, names) if key == "inline" => {
                        if !config.inline.is_empty() {
                            diag.error(key.span(), "`inline` is given more than once");
                        } else if names.is_empty() {
                            diag.error(
                                key.span(),
                                "`inline()` is empty; name at least one function",
                            );
                        }
                        config.inline.extend(names);
                        continue;
                    }
                    Arg::Wrt(key, names) => (key, names),
                    Arg::Order(key, n) => {
                        order(&mut config, key, &n, diag);
                        continue;
                    }
                };
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

/// `order = 1` (the default) or `order = 2`.
fn order(config: &mut Config, key: Ident, n: &syn::LitInt, diag: &mut Diag) {
    if config.order.is_some() {
        diag.error(key.span(), "`order` is given more than once");
        return;
    }
    match n.base10_parse::<u8>() {
        Ok(k @ (1 | 2)) => config.order = Some((key, k)),
        _ => diag.error(
            n.span(),
            format!("`order = {n}` is not supported; `order` is 1 (the default) or 2"),
        ),
    }
}
