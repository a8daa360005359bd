//! Adjoints in registers across iterations of the fused loop.
//!
//! Rosenbrock's fused loop adds to `dx[i]` and `dx[i + 1]` in iteration `i`, and
//! iteration `i + 1` adds to `dx[i + 1]` again: a read-modify-write through memory
//! that each iteration waits for. When every access of a parameter's shadow in the
//! loop is an update `d[i + c] += e` / `-= e` with a constant `c ≥ 0`, and the
//! largest `c` is updated unconditionally, the loop keeps `d[i] ..= d[i + K]` in
//! locals: it loads `d[i + K]` when iteration `i` starts, stores `d[i]` when it
//! ends (no later iteration touches it) and passes the rest on. The same
//! additions run in the same order on the same values, so the results are bit for
//! bit those of the updates in memory; only the loads and stores between them go.
//!
//! This works on the emitted tokens of the loop body, and gives up (the loop stays
//! as it was) on anything it does not recognise: another use of the shadow (a
//! read, a call that takes it, a whole-slice operation), an index other than the
//! loop variable plus an integer literal, `break`, `continue`, `return` or `?` in
//! the body, or a range other than an ascending `lo..hi`.

use proc_macro2::{Delimiter, Group, Ident, Literal, Spacing, TokenStream, TokenTree};
use quote::{format_ident, quote};

/// At most this many consecutive elements (`d[i] ..= d[i + MAX]`) are carried.
const MAX_OFFSET: usize = 4;

/// What the body does with one shadow.
struct Uses {
    /// The largest offset updated, and whether some update with it is unconditional
    /// (at the top level of the loop body).
    max: usize,
    max_top: bool,
}

/// The fused loop `for i in lo..hi { body }` with each eligible shadow in `shadows`
/// carried in locals, or `None` when none is eligible. `f`/`zero`: the float type
/// and its zero, for the locals' declarations.
pub fn carry_loop(
    i: &Ident,
    lo: &TokenStream,
    hi: &TokenStream,
    body: &[TokenStream],
    shadows: &[Ident],
    f: &TokenStream,
    zero: &TokenStream,
) -> Option<TokenStream> {
    let body: TokenStream = body.iter().cloned().collect();
    if has_exit(&body) {
        return None;
    }
    let carried: Vec<(&Ident, usize)> = shadows
        .iter()
        .filter_map(|d| {
            let mut u = Uses {
                max: 0,
                max_top: false,
            };
            scan(&body, d, i, true, &mut u)?;
            (u.max >= 1 && u.max <= MAX_OFFSET && u.max_top).then_some((d, u.max))
        })
        .collect();
    if carried.is_empty() {
        return None;
    }
    let mut body = body;
    let (mut decls, mut preload, mut enter, mut leave, mut flush) =
        (vec![], vec![], vec![], vec![], vec![]);
    for &(d, k) in &carried {
        body = rewrite(body, d, i);
        let c = |j: usize| format_ident!("__carry_{}_{}", d, j);
        let (c0, ck, lk) = (c(0), c(k), Literal::usize_unsuffixed(k));
        enter.push(quote!(let mut #ck: #f = #d[#i + #lk];));
        // `d[i]` is final when iteration `i` ends; the others move down one place
        leave.push(quote!(#d[#i] = #c0;));
        for j in 0..k {
            let (cj, cn, lj) = (c(j), c(j + 1), Literal::usize_unsuffixed(j));
            decls.push(quote!(let mut #cj: #f = #zero;));
            preload.push(quote!(#cj = #d[__lo + #lj];));
            leave.push(quote!(#cj = #cn;));
            flush.push(quote!(#d[__hi + #lj] = #cj;));
        }
    }
    Some(quote! {{
        let __lo = #lo;
        let __hi = #hi;
        #(#decls)*
        if __lo < __hi { #(#preload)* }
        for #i in __lo..__hi {
            #(#enter)*
            #body
            #(#leave)*
        }
        if __lo < __hi { #(#flush)* }
    }})
}

/// `break`, `continue`, `return` or `?` anywhere in `ts`: an iteration could end
/// before its carried adjoints are stored.
fn has_exit(ts: &TokenStream) -> bool {
    ts.clone().into_iter().any(|t| match t {
        TokenTree::Ident(id) => id == "break" || id == "continue" || id == "return",
        TokenTree::Punct(p) => p.as_char() == '?',
        TokenTree::Group(g) => has_exit(&g.stream()),
        TokenTree::Literal(_) => false,
    })
}

/// The offset `c` of an index `[i]` or `[i + c]`.
fn offset(index: &Group, i: &Ident) -> Option<usize> {
    if index.delimiter() != Delimiter::Bracket {
        return None;
    }
    let t: Vec<TokenTree> = index.stream().into_iter().collect();
    match t.as_slice() {
        [TokenTree::Ident(v)] if v == i => Some(0),
        [TokenTree::Ident(v), TokenTree::Punct(p), TokenTree::Literal(l)]
            if v == i && p.as_char() == '+' =>
        {
            let s = l.to_string();
            s.strip_suffix("usize").unwrap_or(&s).parse().ok()
        }
        _ => None,
    }
}

/// `+=` or `-=` at `t[k..]`.
fn is_update(t: &[TokenTree], k: usize) -> bool {
    match (t.get(k), t.get(k + 1)) {
        (Some(TokenTree::Punct(op)), Some(TokenTree::Punct(eq))) => {
            matches!(op.as_char(), '+' | '-')
                && op.spacing() == Spacing::Joint
                && eq.as_char() == '='
        }
        _ => false,
    }
}

/// Records every use of `d` in `ts`; `None` if one is not an update `d[i + c] op= e`
/// (at a statement's start: after `;`, a brace or nothing).
fn scan(ts: &TokenStream, d: &Ident, i: &Ident, top: bool, u: &mut Uses) -> Option<()> {
    let t: Vec<TokenTree> = ts.clone().into_iter().collect();
    for (k, tt) in t.iter().enumerate() {
        match tt {
            TokenTree::Ident(id) if id == d => {
                let starts =
                    k == 0 || matches!(&t[k - 1], TokenTree::Punct(p) if p.as_char() == ';');
                let Some(TokenTree::Group(g)) = t.get(k + 1) else {
                    return None;
                };
                let c = offset(g, i)?;
                if !starts || !is_update(&t, k + 2) {
                    return None;
                }
                if c > u.max {
                    (u.max, u.max_top) = (c, top);
                } else if c == u.max {
                    u.max_top |= top;
                }
            }
            TokenTree::Group(g) => {
                // the index group right after `d` was checked above
                let after_d = k > 0 && matches!(&t[k - 1], TokenTree::Ident(id) if id == d);
                if !after_d {
                    scan(&g.stream(), d, i, false, u)?;
                }
            }
            _ => {}
        }
    }
    Some(())
}

/// `d[i + c]` → `__carry_d_c` throughout `ts` (every use was checked by `scan`).
fn rewrite(ts: TokenStream, d: &Ident, i: &Ident) -> TokenStream {
    let t: Vec<TokenTree> = ts.into_iter().collect();
    let mut out = Vec::with_capacity(t.len());
    let mut k = 0;
    while k < t.len() {
        match (&t[k], t.get(k + 1)) {
            (TokenTree::Ident(id), Some(TokenTree::Group(g))) if id == d => {
                if let Some(c) = offset(g, i) {
                    out.push(TokenTree::Ident(format_ident!("__carry_{}_{}", d, c)));
                    k += 2;
                    continue;
                }
                out.push(t[k].clone());
            }
            (TokenTree::Group(g), _) => {
                let mut n = Group::new(g.delimiter(), rewrite(g.stream(), d, i));
                n.set_span(g.span());
                out.push(TokenTree::Group(n));
            }
            _ => out.push(t[k].clone()),
        }
        k += 1;
    }
    out.into_iter().collect()
}
