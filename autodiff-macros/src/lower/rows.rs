//! Nested float buffers: `[[F; N]; M]`, `&[[F; N]]`, `&[[F; N]; M]`,
//! `Vec<[F; N]>`, and the jagged `&[Vec<F>]`, `Vec<Vec<F>>`.
//!
//! Before lowering, every active nested parameter `x` (and every local nested
//! float array `let m = [[0.0; N]; M];`) is read through one flat buffer, so the
//! back end only ever sees the one-dimensional buffers it already handles:
//!
//! | written | becomes |
//! |---|---|
//! | `x[i][j]` | `x__flat[(i) * N + (j)]` (jagged: `x__flat[x__off[i] + (j)]`) |
//! | `&x[i]`, `x[i].iter()` | the row view `x__flat[(i) * N..(i) * N + N]` |
//! | `x[i].len()` | `N` (jagged: `x__off[i + 1] - x__off[i]`) |
//! | `x.iter()`, `for r in x` | `x__flat.chunks_exact(N)` (jagged: an index loop over the rows; `x.iter().map(\|r\| e)` → `(0..x.len()).map(\|k\| { let r = &row_k; e })`, also `enumerate().map` and `fold`) |
//! | `x.as_flattened()`, `x.iter().flatten()` | `x__flat`, `x__flat.iter()` |
//! | `x.len()`, `x.is_empty()`, `g(x)`, `g(&x)` | unchanged (the rows; the whole buffer and its shadow `dx`) |
//!
//! A parameter's flat buffer is bound at entry (`let x__flat: &[F] =
//! __private::flat(&x[..]);`, its shadow `flat_mut(&mut dx[..])`: no copy); a
//! jagged one is gathered into one buffer with its row offsets (one allocation)
//! and its adjoint scattered back into `dx` on exit. A local nested array is
//! declared flat (`[0.0; N * M]`, a literal's elements row after row, a copy
//! `let m = a;` through the flat buffers). `_jacobian` takes the flat buffer as
//! the input in the parameter's place, and `order = 2` makes it dual numbers
//! (`second.rs`). Any other use of a nested buffer is an error that says what to
//! write: nothing is guessed.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, ToTokens};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;
use syn::{Expr, FnArg, Pat, Type};

use super::types::strip_ty;
use crate::attr::Config;
use crate::diag::Diag;
use crate::ir::FloatTy;

/// The shape of a nested buffer type.
#[derive(Clone, Debug)]
pub enum NestShape {
    /// Rows of `N` floats: `&[[F; N]]`, `Vec<[F; N]>` (`m: None`), `[[F; N]; M]`,
    /// `&[[F; N]; M]` (`m: Some(M)`).
    Rows {
        n: TokenStream,
        m: Option<TokenStream>,
    },
    /// Rows of any length: `&[Vec<F>]`, `&Vec<Vec<F>>`, `Vec<Vec<F>>`.
    Jagged,
}

/// One nested buffer the body reads through a flat buffer.
pub struct NestedBuf {
    pub name: String,
    pub shape: NestShape,
    /// `x__flat`
    pub flat: syn::Ident,
    /// `x__off`: the jagged buffer's row offsets (`M + 1` of them).
    pub off: syn::Ident,
    /// Passed whole to a call (`g(x)`): the flat shadow is accumulated apart and
    /// added into `dx` on exit, so no `&mut` borrows of `dx` overlap.
    pub whole: bool,
    /// A local array (`let m = [[..]; M]`), not a parameter.
    pub local: bool,
}

/// The shape of `ty` when it is a nested buffer of the float type `float`.
pub fn nest_shape(ty: &Type, float: &FloatTy) -> Option<NestShape> {
    let ty = strip_ty(ty);
    // the rows' type
    let row = |t: &Type| -> Option<NestShape> {
        match strip_ty(t) {
            Type::Array(a) if float.matches(&a.elem) => Some(NestShape::Rows {
                n: a.len.to_token_stream(),
                m: None,
            }),
            Type::Path(p) if vec_elem(p).is_some_and(|e| float.matches(e)) => {
                Some(NestShape::Jagged)
            }
            _ => None,
        }
    };
    // `[[F; N]; M]`: rows of `N`, `M` of them
    let array = |a: &syn::TypeArray| match row(&a.elem)? {
        NestShape::Rows { n, .. } => Some(NestShape::Rows {
            n,
            m: Some(a.len.to_token_stream()),
        }),
        NestShape::Jagged => None,
    };
    match ty {
        Type::Reference(r) if r.mutability.is_none() => match strip_ty(&r.elem) {
            Type::Slice(s) => row(&s.elem),
            Type::Array(a) => array(a),
            Type::Path(p) => row(vec_elem(p)?),
            _ => None,
        },
        Type::Array(a) => array(a),
        Type::Path(p) => row(vec_elem(p)?),
        _ => None,
    }
}

/// `T` of `Vec<T>`.
fn vec_elem(p: &syn::TypePath) -> Option<&Type> {
    let seg = p.path.segments.last()?;
    if seg.ident != "Vec" {
        return None;
    }
    match &seg.arguments {
        syn::PathArguments::AngleBracketed(a) if a.args.len() == 1 => match &a.args[0] {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        },
        _ => None,
    }
}

/// The active nested parameters of `sig` and the local nested float arrays of the
/// body, and the body rewritten to read them through flat buffers (`None` when
/// there are none).
pub fn rewrite(
    sig: &syn::Signature,
    block: &syn::Block,
    config: &Config,
    float: &FloatTy,
    diag: &mut Diag,
) -> (Vec<NestedBuf>, Option<syn::Block>) {
    let mut bufs = Vec::new();
    for arg in &sig.inputs {
        let FnArg::Typed(pt) = arg else { continue };
        let Pat::Ident(pi) = &*pt.pat else { continue };
        let active = config.wrt.as_ref().is_none_or(|w| w.contains(&pi.ident));
        if let (true, Some(shape)) = (active, nest_shape(&pt.ty, float)) {
            bufs.push(new_buf(&pi.ident.to_string(), shape, false));
        }
    }
    let mut locals = LocalArrays {
        // `let m = a;` copies a nested array parameter (rows of `N`, `M` of them)
        sources: bufs
            .iter()
            .filter(|b| matches!(b.shape, NestShape::Rows { m: Some(_), .. }))
            .map(|b| (b.name.clone(), b.shape.clone()))
            .collect(),
        ..LocalArrays::default()
    };
    locals.visit_block(block);
    let candidates: Vec<(String, NestShape)> = locals
        .found
        .iter()
        .filter(|(name, _)| {
            locals.bindings.iter().filter(|n| *n == name).count() == 1
                && !locals.in_macro.contains(name)
                && !bufs.iter().any(|b| b.name == *name)
        })
        .cloned()
        .collect();
    // A local array is read flat only when every use of it can be: otherwise it
    // is left as written (and what reads it is checked as ever). It is tried with
    // the buffers accepted so far and the candidates after it (`let m2 = m;`
    // copies one), then alone.
    for (k, (name, shape)) in candidates.iter().enumerate() {
        let accepted = |with_later: bool| {
            let mut known: Vec<NestedBuf> = bufs
                .iter()
                .map(|b| new_buf(&b.name, b.shape.clone(), b.local))
                .collect();
            known.push(new_buf(name, shape.clone(), true));
            if with_later {
                known.extend(
                    candidates[k + 1..]
                        .iter()
                        .map(|(n, s)| new_buf(n, s.clone(), true)),
                );
            }
            let mut scratch = Diag::default();
            Rewriter {
                bufs: known,
                diag: &mut scratch,
            }
            .visit_block_mut(&mut block.clone());
            scratch.is_empty()
        };
        if accepted(true) || accepted(false) {
            bufs.push(new_buf(name, shape.clone(), true));
        }
    }
    if bufs.is_empty() {
        return (bufs, None);
    }
    let mut block = block.clone();
    let mut rw = Rewriter { bufs, diag };
    rw.visit_block_mut(&mut block);
    (rw.bufs, Some(block))
}

fn new_buf(name: &str, shape: NestShape, local: bool) -> NestedBuf {
    NestedBuf {
        name: name.to_string(),
        shape,
        flat: format_ident!("{}__flat", name),
        off: format_ident!("{}__off", name),
        whole: false,
        local,
    }
}

/// Local nested arrays with float elements (`let m = [[0.0; N]; M];`, `let m:
/// [[f64; N]; M] = ..;`, `let m = [[a, b], [c, d]];`), every name a pattern binds,
/// and the names macros mention (a local used in a macro is left as it is).
#[derive(Default)]
struct LocalArrays {
    /// Nested arrays a `let m = a;` may copy, with their shapes.
    sources: Vec<(String, NestShape)>,
    found: Vec<(String, NestShape)>,
    bindings: Vec<String>,
    in_macro: Vec<String>,
}

impl<'a> syn::visit::Visit<'a> for LocalArrays {
    fn visit_local(&mut self, l: &'a syn::Local) {
        let (ident, ty) = match &l.pat {
            Pat::Ident(pi) => (Some(&pi.ident), None),
            Pat::Type(pt) => match &*pt.pat {
                Pat::Ident(pi) => (Some(&pi.ident), Some(&*pt.ty)),
                _ => (None, None),
            },
            _ => (None, None),
        };
        if let (Some(ident), Some(init)) = (ident, &l.init) {
            let shape = match ty {
                Some(Type::Array(a)) => match &*a.elem {
                    Type::Array(r) if is_float_ty(&r.elem) => Some(NestShape::Rows {
                        n: r.len.to_token_stream(),
                        m: Some(a.len.to_token_stream()),
                    }),
                    _ => None,
                },
                Some(_) => None,
                None => literal_shape(&init.expr).or_else(|| match &*init.expr {
                    Expr::Path(p) => p.path.get_ident().and_then(|src| {
                        self.sources
                            .iter()
                            .chain(self.found.iter())
                            .find(|(n, _)| src == n)
                            .map(|(_, s)| s.clone())
                    }),
                    _ => None,
                }),
            };
            if let Some(shape) = shape {
                self.found.push((ident.to_string(), shape.clone()));
            }
        }
        syn::visit::visit_local(self, l);
    }

    fn visit_pat_ident(&mut self, p: &'a syn::PatIdent) {
        self.bindings.push(p.ident.to_string());
        syn::visit::visit_pat_ident(self, p);
    }

    fn visit_macro(&mut self, m: &'a syn::Macro) {
        let name = super::structs::macro_name(m);
        // their arguments are rewritten, unless a format string names a local
        // (`{m:?}`) or they do not parse as expressions
        let parser = syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated;
        let parses = || syn::parse::Parser::parse2(parser, m.tokens.clone()).is_ok();
        let readable = (name == "vec" || (super::structs::takes_exprs(&name) && parses()))
            && !captures_a_name(&m.tokens.to_string());
        if !readable {
            let mut names = Vec::new();
            super::collect_idents(m.tokens.clone(), &mut names);
            self.in_macro.extend(names);
        }
    }
}

/// A format string naming a variable inline (`"{m:?}"`, `"{m}"`): the macro would
/// read it by its name.
fn captures_a_name(tokens: &str) -> bool {
    let b = tokens.as_bytes();
    b.windows(2)
        .any(|w| w[0] == b'{' && (w[1].is_ascii_alphabetic() || w[1] == b'_'))
}

fn is_float_ty(t: &Type) -> bool {
    super::types::is_float_prim(strip_ty(t))
}

/// `[[e; N]; M]` or `[[a, b], [c, d]]` (rows of one length).
fn literal_shape(e: &Expr) -> Option<NestShape> {
    match e {
        Expr::Repeat(outer) => match &*outer.expr {
            Expr::Repeat(inner) => Some(NestShape::Rows {
                n: inner.len.to_token_stream(),
                m: Some(outer.len.to_token_stream()),
            }),
            _ => None,
        },
        Expr::Array(rows) => {
            let lens: Vec<usize> = rows
                .elems
                .iter()
                .map(|r| match r {
                    Expr::Array(r) => Some(r.elems.len()),
                    _ => None,
                })
                .collect::<Option<_>>()?;
            let n = *lens.first()?;
            (n > 0 && lens.iter().all(|l| *l == n)).then(|| NestShape::Rows {
                n: quote!(#n),
                m: Some({
                    let m = lens.len();
                    quote!(#m)
                }),
            })
        }
        _ => None,
    }
}

struct Rewriter<'d> {
    bufs: Vec<NestedBuf>,
    diag: &'d mut Diag,
}

impl Rewriter<'_> {
    /// The nested buffer `e` names.
    fn root(&self, e: &Expr) -> Option<usize> {
        match e {
            Expr::Path(p) if p.qself.is_none() && p.path.segments.len() == 1 => {
                let id = &p.path.segments[0].ident;
                self.bufs.iter().position(|b| *id == b.name)
            }
            Expr::Paren(p) => self.root(&p.expr),
            _ => None,
        }
    }

    /// The nested buffer `x` or `&x` names: one passed or iterated whole.
    fn whole(&self, e: &Expr) -> Option<usize> {
        match e {
            Expr::Reference(r) if r.mutability.is_none() => self.root(&r.expr),
            e => self.root(e),
        }
    }

    /// `x[i]` with `x` a nested buffer (not a range index): the buffer and `i`.
    fn row_of<'e>(&self, e: &'e Expr) -> Option<(usize, &'e Expr)> {
        match e {
            Expr::Index(ix) if !matches!(*ix.index, Expr::Range(_)) => {
                self.root(&ix.expr).map(|b| (b, &*ix.index))
            }
            Expr::Paren(p) => self.row_of(&p.expr),
            _ => None,
        }
    }

    /// Where row `i` starts in the flat buffer.
    fn start(&self, b: usize, i: &Expr) -> TokenStream {
        let buf = &self.bufs[b];
        match &buf.shape {
            NestShape::Rows { n, .. } => quote!((#i) * (#n)),
            NestShape::Jagged => {
                let off = &buf.off;
                quote!(#off[#i])
            }
        }
    }

    /// `x__flat[lo..hi]`: row `i`.
    fn row_view(&self, b: usize, i: &Expr, span: Span) -> Expr {
        let buf = &self.bufs[b];
        let flat = &buf.flat;
        let lo = self.start(b, i);
        let hi = match &buf.shape {
            NestShape::Rows { n, .. } => quote!(#lo + (#n)),
            NestShape::Jagged => {
                let off = &buf.off;
                quote!(#off[(#i) + 1])
            }
        };
        syn::parse_quote_spanned!(span=> #flat[#lo..#hi])
    }

    /// `x[i].len()`
    fn row_len(&self, b: usize, i: &Expr) -> Expr {
        let buf = &self.bufs[b];
        match &buf.shape {
            NestShape::Rows { n, .. } => syn::parse_quote!((#n)),
            NestShape::Jagged => {
                let off = &buf.off;
                syn::parse_quote!((#off[(#i) + 1] - #off[#i]))
            }
        }
    }

    fn misuse(&mut self, b: usize, node: &dyn ToTokens) {
        let buf = &self.bufs[b];
        let rows = match buf.shape {
            NestShape::Rows { .. } => ", `x.iter()`",
            NestShape::Jagged => ", `for row in x`, `x.iter().map(|row| ..)`",
        };
        let msg = format!(
            "`#[differentiate]` reads the nested buffer parameter `{x}` by element (`{x}[i][j]`), by row (`&{x}[i]`, `{x}[i].iter()`, `{x}[i].len()`){rows}, by `{x}.len()`, or passes it whole to a differentiated function (`g({x})`); not otherwise",
            x = buf.name,
            rows = rows.replace('x', &buf.name),
        );
        self.diag.error_spanned(node, msg);
    }

    /// `x.iter().map(|r| e)`, `x.iter().enumerate().map(|(i, r)| e)` and
    /// `x.iter().fold(init, |acc, r| e)` over a jagged buffer: the same chain over
    /// the row indices, each row bound as a view (`(0..x.len()).map(|k| { let r =
    /// &x__flat[..]; e })`).
    fn jagged_chain(&mut self, m: &syn::ExprMethodCall) -> Option<Expr> {
        let (root, enumerate) = match &*m.receiver {
            Expr::MethodCall(i) if i.method == "iter" && i.args.is_empty() => {
                (self.root(&i.receiver)?, false)
            }
            Expr::MethodCall(en) if en.method == "enumerate" && en.args.is_empty() => {
                match &*en.receiver {
                    Expr::MethodCall(i) if i.method == "iter" && i.args.is_empty() => {
                        (self.root(&i.receiver)?, true)
                    }
                    _ => return None,
                }
            }
            _ => return None,
        };
        if !matches!(self.bufs[root].shape, NestShape::Jagged) {
            return None;
        }
        let (which, closure) = match (m.method.to_string().as_str(), m.args.len()) {
            ("map", 1) => (0, &m.args[0]),
            ("fold", 2) if !enumerate => (1, &m.args[1]),
            _ => return None,
        };
        let Expr::Closure(c) = closure else {
            return None;
        };
        let (index, row): (Pat, Pat) = if enumerate {
            match c.inputs.first() {
                Some(Pat::Tuple(t)) if t.elems.len() == 2 && c.inputs.len() == 1 => {
                    (t.elems[0].clone(), t.elems[1].clone())
                }
                _ => return None,
            }
        } else {
            // the row is the closure's only parameter (`map`), or its second (`fold`)
            let row = c.inputs.iter().nth(which)?.clone();
            (syn::parse_quote!(__ad_unused), row)
        };
        let k = match &index {
            Pat::Ident(pi) if enumerate => pi.ident.clone(),
            _ => format_ident!("{}__row", self.bufs[root].name),
        };
        let kx: Expr = syn::parse_quote!(#k);
        let view = self.row_view(root, &kx, m.span());
        let mut body = (*c.body).clone();
        self.visit_expr_mut(&mut body);
        let name = syn::Ident::new(&self.bufs[root].name, Span::call_site());
        let method = &m.method;
        let span = m.span();
        Some(if which == 1 {
            let mut init = m.args[0].clone();
            self.visit_expr_mut(&mut init);
            let acc = &c.inputs[0];
            syn::parse_quote_spanned!(span=> (0..#name.len()).#method(#init, |#acc, #k| { let #row = &#view; #body }))
        } else {
            syn::parse_quote_spanned!(span=> (0..#name.len()).#method(|#k| { let #row = &#view; #body }))
        })
    }

    /// `for pat in x` (and `&x`, `x.iter()`, `x.iter().enumerate()`) over a jagged
    /// buffer: an index loop over its rows, the row bound as a view.
    fn jagged_for(&mut self, f: &mut syn::ExprForLoop) -> bool {
        let (b, enumerate) = match &*f.expr {
            e @ Expr::Reference(_) => (self.whole(e), false),
            Expr::MethodCall(m) if m.method == "iter" && m.args.is_empty() => {
                (self.root(&m.receiver), false)
            }
            Expr::MethodCall(m) if m.method == "enumerate" && m.args.is_empty() => {
                match &*m.receiver {
                    Expr::MethodCall(i) if i.method == "iter" && i.args.is_empty() => {
                        (self.root(&i.receiver), true)
                    }
                    _ => (None, false),
                }
            }
            e => (self.root(e), false),
        };
        let Some(b) = b.filter(|b| matches!(self.bufs[*b].shape, NestShape::Jagged)) else {
            return false;
        };
        let row_index = Pat::Ident(syn::PatIdent {
            attrs: Vec::new(),
            by_ref: None,
            mutability: None,
            ident: format_ident!("{}__row", self.bufs[b].name),
            subpat: None,
        });
        let (index, row): (Pat, Pat) = match (&*f.pat, enumerate) {
            (Pat::Tuple(t), true) if t.elems.len() == 2 => {
                let index = match &t.elems[0] {
                    Pat::Wild(_) => row_index.clone(),
                    i => i.clone(),
                };
                (index, t.elems[1].clone())
            }
            (p, false) => (row_index, p.clone()),
            _ => {
                let node = f.pat.clone();
                self.misuse(b, &node);
                return true;
            }
        };
        let Pat::Ident(pi) = &index else {
            let node = f.pat.clone();
            self.misuse(b, &node);
            return true;
        };
        let id = &pi.ident;
        let i: Expr = syn::parse_quote!(#id);
        let view = self.row_view(b, &i, f.expr.span());
        let name = syn::Ident::new(&self.bufs[b].name, Span::call_site());
        let mut body = f.body.clone();
        self.visit_block_mut(&mut body);
        let stmts = &body.stmts;
        *f.expr = syn::parse_quote!(0..#name.len());
        f.body = syn::parse_quote!({ let #row = &#view; #(#stmts)* });
        *f.pat = index;
        true
    }
}

impl VisitMut for Rewriter<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        match e {
            Expr::Index(_) => self.visit_index(e),
            Expr::MethodCall(_) => self.visit_method(e),
            Expr::Call(c) => {
                self.visit_expr_mut(&mut c.func);
                self.visit_args(c.args.iter_mut());
            }
            Expr::Assign(a) if self.row_of(&a.left).is_some() => {
                let node = a.clone();
                let b = self.row_of(&a.left).map_or(0, |r| r.0);
                let n = self.bufs[b].name.clone();
                self.diag.error_spanned(
                    &node.left,
                    format!("`#[differentiate]` cannot assign a whole row of the nested buffer `{n}`; assign its elements (`{n}[i][j] = ..`)"),
                );
            }
            Expr::Path(_) => {
                if let Some(b) = self.root(e) {
                    let node = e.clone();
                    self.misuse(b, &node);
                }
            }
            Expr::Macro(m) => self.visit_macro(&mut m.mac),
            _ => syn::visit_mut::visit_expr_mut(self, e),
        }
    }

    fn visit_local_mut(&mut self, l: &mut syn::Local) {
        // the local nested array itself: declared flat
        let name = match &l.pat {
            Pat::Ident(pi) => Some(pi.ident.to_string()),
            Pat::Type(pt) => match &*pt.pat {
                Pat::Ident(pi) => Some(pi.ident.to_string()),
                _ => None,
            },
            _ => None,
        };
        if let Some(b) = name.and_then(|n| self.bufs.iter().position(|b| b.local && b.name == n)) {
            self.declare_flat(l, b);
            return;
        }
        // `let r = x[i];`: the row bound by reference, a view
        if let Some(init) = &mut l.init {
            if self.row_of(&init.expr).is_some() {
                let span = init.expr.span();
                self.visit_expr_mut(&mut init.expr);
                let view = &init.expr;
                *init.expr = syn::parse_quote_spanned!(span=> &#view);
                self.visit_pat_mut(&mut l.pat);
                return;
            }
        }
        syn::visit_mut::visit_local_mut(self, l);
    }

    fn visit_pat_ident_mut(&mut self, p: &mut syn::PatIdent) {
        if let Some(b) = self.bufs.iter().find(|b| p.ident == b.name && !b.local) {
            let msg = format!(
                "`#[differentiate]`: this shadows the differentiated nested buffer `{}`; choose another name",
                b.name
            );
            self.diag.error(p.ident.span(), msg);
        }
        syn::visit_mut::visit_pat_ident_mut(self, p);
    }

    fn visit_stmt_macro_mut(&mut self, m: &mut syn::StmtMacro) {
        self.visit_macro(&mut m.mac);
    }

    fn visit_expr_for_loop_mut(&mut self, f: &mut syn::ExprForLoop) {
        if self.jagged_for(f) {
            return;
        }
        // `for row in x` / `for row in &x`: the rows
        let iterable = self.whole(&f.expr);
        if let Some(b) = iterable {
            if let NestShape::Rows { n, .. } = &self.bufs[b].shape {
                let (flat, n) = (&self.bufs[b].flat, n.clone());
                let span = f.expr.span();
                *f.expr = syn::parse_quote_spanned!(span=> #flat.chunks_exact(#n));
            }
        } else {
            self.visit_expr_mut(&mut f.expr);
        }
        self.visit_pat_mut(&mut f.pat);
        self.visit_block_mut(&mut f.body);
    }
}

impl Rewriter<'_> {
    /// A method call: on a nested buffer (`x.len()`, `x.iter()`, `x.as_flattened()`),
    /// on its rows (`x[i].len()`), a chain over jagged rows, `x.iter().flatten()`.
    fn visit_method(&mut self, e: &mut Expr) {
        let span = e.span();
        let Expr::MethodCall(m) = e else { return };
        let name = m.method.to_string();
        if let Some(b) = self.root(&m.receiver) {
            let flat = self.bufs[b].flat.clone();
            let rows = matches!(self.bufs[b].shape, NestShape::Rows { .. });
            match name.as_str() {
                "len" | "is_empty" if m.args.is_empty() => {
                    if self.bufs[b].local {
                        if let NestShape::Rows { m: Some(len), .. } = &self.bufs[b].shape {
                            *e = if name == "len" {
                                syn::parse_quote_spanned!(span=> (#len))
                            } else {
                                syn::parse_quote_spanned!(span=> ((#len) == 0))
                            };
                        }
                    }
                }
                "iter" if rows && m.args.is_empty() => {
                    let NestShape::Rows { n, .. } = &self.bufs[b].shape else {
                        return;
                    };
                    let n = n.clone();
                    *e = syn::parse_quote_spanned!(span=> #flat.chunks_exact(#n));
                }
                "as_flattened" if rows && m.args.is_empty() => {
                    *e = syn::parse_quote_spanned!(span=> #flat);
                }
                _ => {
                    let node = m.clone();
                    self.misuse(b, &node);
                }
            }
            return;
        }
        // `x.iter().map(|r| ..)` over jagged rows
        if let Some(new) = self.jagged_chain(m) {
            *e = new;
            return;
        }
        // `x.iter().flatten()`
        if name == "flatten" && m.args.is_empty() {
            if let Expr::MethodCall(inner) = &*m.receiver {
                if let Some(b) = self.root(&inner.receiver) {
                    if inner.method == "iter" && inner.args.is_empty() {
                        let flat = &self.bufs[b].flat;
                        *e = syn::parse_quote_spanned!(span=> #flat.iter());
                        return;
                    }
                }
            }
        }
        // `x[i].len()`
        if name == "len" && m.args.is_empty() {
            if let Some((b, i)) = self.row_of(&m.receiver) {
                let mut i = i.clone();
                self.visit_expr_mut(&mut i);
                *e = self.row_len(b, &i);
                return;
            }
        }
        self.visit_expr_mut(&mut m.receiver);
        self.visit_args(m.args.iter_mut());
    }

    /// `x[i][j]`, `x[i][a..b]`, a row `x[i]`, or an index of something else.
    fn visit_index(&mut self, e: &mut Expr) {
        let span = e.span();
        let Expr::Index(outer) = &*e else { return };
        if let Some((b, i)) = self.row_of(&outer.expr) {
            let (mut i, mut j) = (i.clone(), (*outer.index).clone());
            self.visit_expr_mut(&mut i);
            self.visit_expr_mut(&mut j);
            let lo = self.start(b, &i);
            let flat = self.bufs[b].flat.clone();
            *e = match &j {
                // `x[i][a..b]`: a view of a row
                Expr::Range(r) => {
                    let a = r.start.as_ref().map_or(quote!(0), |a| quote!(#a));
                    let z = match &r.end {
                        Some(z) => quote!(#z),
                        None => self.row_len(b, &i).to_token_stream(),
                    };
                    let z = match r.limits {
                        syn::RangeLimits::Closed(_) => quote!((#z) + 1),
                        syn::RangeLimits::HalfOpen(_) => z,
                    };
                    syn::parse_quote_spanned!(span=> #flat[#lo + (#a)..#lo + (#z)])
                }
                _ => syn::parse_quote_spanned!(span=> #flat[#lo + (#j)]),
            };
        } else if let Some((b, i)) = self.row_of(e) {
            let mut i = i.clone();
            self.visit_expr_mut(&mut i);
            *e = self.row_view(b, &i, span);
        } else if let Some(b) = self.root(&outer.expr) {
            let n = self.bufs[b].name.clone();
            let node = outer.clone();
            self.diag.error_spanned(
                &node,
                format!("`#[differentiate]` cannot take a range of rows of the nested buffer `{n}`; index its rows (`&{n}[i]`) or pass it whole"),
            );
        } else {
            syn::visit_mut::visit_expr_mut(self, e);
        }
    }

    /// A call argument: `x` or `&x` passes the nested buffer whole.
    fn visit_arg(&mut self, a: &mut Expr) {
        match self.whole(a) {
            Some(b) if !self.bufs[b].local => self.bufs[b].whole = true,
            _ => {
                // `g(m.as_flattened())`: the flat buffer, by reference
                if let Expr::MethodCall(m) = &*a {
                    if let Some(b) = self.root(&m.receiver) {
                        if m.method == "as_flattened"
                            && m.args.is_empty()
                            && matches!(self.bufs[b].shape, NestShape::Rows { .. })
                        {
                            // (a parameter's flat buffer is a slice already; a local's
                            // an array)
                            let flat = &self.bufs[b].flat;
                            *a = if self.bufs[b].local {
                                syn::parse_quote_spanned!(m.span()=> &#flat)
                            } else {
                                syn::parse_quote_spanned!(m.span()=> #flat)
                            };
                            return;
                        }
                    }
                }
                self.visit_expr_mut(a)
            }
        }
    }

    /// The arguments of a call: a nested buffer passed whole twice would need two
    /// shadows of it at once.
    fn visit_args<'e>(&mut self, args: impl Iterator<Item = &'e mut Expr>) {
        let mut whole = Vec::new();
        for a in args {
            if let Some(b) = self.whole(a).filter(|b| !self.bufs[*b].local) {
                if whole.contains(&b) {
                    let n = self.bufs[b].name.clone();
                    self.diag.error_spanned(
                        &*a,
                        format!("`#[differentiate]` cannot pass the nested buffer `{n}` twice to one call; pass it once, or flat (`{n}.as_flattened()`) to a function of slices"),
                    );
                }
                whole.push(b);
            }
            self.visit_arg(a);
        }
    }

    /// `vec![..]` and the assertion and printing macros: their expressions are
    /// rewritten like the body; other macros are passed through (a parameter is
    /// still there by its name; a local mentioned in one is not read flat).
    fn visit_macro(&mut self, mac: &mut syn::Macro) {
        let name = super::structs::macro_name(mac);
        let tokens = mac.tokens.clone();
        if name == "vec" {
            if let Ok(mut e) = syn::parse2::<Expr>(quote!([#tokens])) {
                self.visit_expr_mut(&mut e);
                match e {
                    Expr::Array(a) => mac.tokens = a.elems.to_token_stream(),
                    Expr::Repeat(r) => {
                        let (x, n) = (&r.expr, &r.len);
                        mac.tokens = quote!(#x; #n);
                    }
                    _ => {}
                }
            }
        } else if super::structs::takes_exprs(&name) {
            let parser = syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated;
            if let Ok(mut args) = syn::parse::Parser::parse2(parser, tokens) {
                for e in args.iter_mut() {
                    self.visit_expr_mut(e);
                }
                mac.tokens = args.to_token_stream();
            }
        }
    }

    /// `let m = [[e; N]; M];` → `let m__flat = [e; (N) * (M)];`, and the literal
    /// `[[a, b], [c, d]]` → `[a, b, c, d]`.
    fn declare_flat(&mut self, l: &mut syn::Local, b: usize) {
        let NestShape::Rows { n, m: Some(m) } = self.bufs[b].shape.clone() else {
            return;
        };
        let Some(init) = &mut l.init else { return };
        let span = init.expr.span();
        // `let m = a;`: a copy of another nested array, through its flat buffer
        let source = match &*init.expr {
            Expr::Path(_) => self.root(&init.expr),
            _ => None,
        };
        if let Some(src) = source {
            let (sflat, local) = (self.bufs[src].flat.clone(), self.bufs[src].local);
            *init.expr = if local {
                syn::parse_quote_spanned!(span=> #sflat)
            } else {
                syn::parse_quote_spanned!(span=> #sflat.to_vec())
            };
            self.rename_flat(l, b);
            return;
        }
        self.visit_expr_mut(&mut init.expr);
        let new: Option<Expr> = match &*init.expr {
            Expr::Repeat(outer) => match &*outer.expr {
                Expr::Repeat(inner) => {
                    let x = &inner.expr;
                    Some(syn::parse_quote_spanned!(span=> [#x; (#n) * (#m)]))
                }
                _ => None,
            },
            Expr::Array(rows) => {
                let elems: Vec<&Expr> = rows
                    .elems
                    .iter()
                    .filter_map(|r| match r {
                        Expr::Array(r) => Some(r.elems.iter()),
                        _ => None,
                    })
                    .flatten()
                    .collect();
                Some(syn::parse_quote_spanned!(span=> [#(#elems),*]))
            }
            _ => None,
        };
        let Some(new) = new else {
            let name = self.bufs[b].name.clone();
            self.diag.error_spanned(
                &init.expr,
                format!("`#[differentiate]` can make the nested array `{name}` from `[[x; N]; M]` or a literal `[[a, b], [c, d]]` only"),
            );
            return;
        };
        *init.expr = new;
        self.rename_flat(l, b);
    }

    /// `m` → `m__flat` in the `let`, and its type `[[T; N]; M]` → `[T; N * M]`.
    fn rename_flat(&self, l: &mut syn::Local, b: usize) {
        let NestShape::Rows { n, m: Some(m) } = self.bufs[b].shape.clone() else {
            return;
        };
        let flat = self.bufs[b].flat.clone();
        let rename =
            |pi: &mut syn::PatIdent| pi.ident = syn::Ident::new(&flat.to_string(), pi.ident.span());
        match &mut l.pat {
            Pat::Ident(pi) => rename(pi),
            Pat::Type(pt) => {
                if let Pat::Ident(pi) = &mut *pt.pat {
                    rename(pi);
                }
                let elem = match &*pt.ty {
                    Type::Array(a) => match &*a.elem {
                        Type::Array(r) => Some(r.elem.clone()),
                        _ => None,
                    },
                    _ => None,
                };
                if let Some(elem) = elem {
                    *pt.ty = syn::parse_quote!([#elem; (#n) * (#m)]);
                }
            }
            _ => {}
        }
    }
}
