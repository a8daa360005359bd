//! Where the reverse sweep finds primal values and adjoints: views sliced again
//! with the planned bounds, elements of a view reached through its base, and the
//! contributions `x̄ᵢ += ∂ᵢ·g` of one op.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote, ToTokens};

use super::Rev;
use crate::emit::bound;
use crate::ir::*;
use crate::rules::{partials, Op};

/// One scaled contribution: (subtract it, `∂ * g`).
type Term = (bool, TokenStream);

/// Where an adjoint accumulates: a variable's adjoint, or an element of a buffer's
/// adjoint at an index (compared structurally).
enum Place {
    Var(VarId),
    Elem(VarId, PExpr),
}

impl Place {
    fn same(&self, o: &Place) -> bool {
        match (self, o) {
            (Place::Var(a), Place::Var(b)) => a == b,
            (Place::Elem(a, i), Place::Elem(b, j)) => a == b && i.same(j),
            _ => false,
        }
    }
}

impl Rev<'_> {
    /// The place an operand's adjoint accumulates into.
    pub(super) fn adjoint(&self, o: &Operand) -> Option<TokenStream> {
        self.adjoint_place(o).map(|p| self.render_place(&p))
    }

    /// [`Rev::adjoint`] as a key: an element of a view whose adjoint is reached
    /// through its base's is that element of the base's adjoint.
    fn adjoint_place(&self, o: &Operand) -> Option<Place> {
        if !self.g.a.is_active_operand(o) {
            return None;
        }
        match o {
            Operand::Var(v) => Some(Place::Var(*v)),
            Operand::Load(b, i) => Some(match self.view_span(*b) {
                Some((root, start, _)) if !self.plan.view(*b).shadow_slice => {
                    Place::Elem(root, offset(&start, i))
                }
                _ => Place::Elem(*b, i.clone()),
            }),
            Operand::Const(_) => None,
        }
    }

    fn render_place(&self, p: &Place) -> TokenStream {
        match p {
            Place::Var(v) => self.g.adjoint_ident(*v).to_token_stream(),
            Place::Elem(b, i) => {
                let d = self.g.adjoint_ident(*b);
                let i = &i.tokens;
                quote!(#d[#i])
            }
        }
    }

    /// The primal value of an operand as the reverse sweep reads it: an element of a
    /// view whose base is written later is read from the base, after its restores.
    pub(super) fn rev_primal(&self, o: &Operand) -> TokenStream {
        match o {
            Operand::Load(b, i) => match self.view_span(*b) {
                Some((root, start, _)) if !self.plan.view(*b).primal_slice => {
                    let r = self.g.ident(root);
                    let at = offset(&start, i).tokens;
                    quote!(#r[#at])
                }
                _ => self.g.primal(o),
            },
            _ => self.g.primal(o),
        }
    }

    /// `var = op(args)` as the reverse sweep reads it.
    pub(super) fn rev_primal_op(&self, var: VarId, op: Op, args: &[Operand]) -> TokenStream {
        let a: Vec<TokenStream> = args.iter().map(|o| self.rev_primal(o)).collect();
        self.g.op_of(op, self.g.ty_of(var), &a)
    }

    /// The locals that keep a view's bounds when they change after it is made.
    pub(super) fn bound_idents(&self, v: VarId) -> (Ident, Ident) {
        let n = self.g.f.vars[v].ident.to_string();
        let n = n.trim_start_matches('_');
        (format_ident!("__lo_{}", n), format_ident!("__hi_{}", n))
    }

    /// A view's buffer and range within it (through views of views), as the reverse
    /// sweep computes them: its bounds again, or the kept ones.
    pub(super) fn view_span(&self, v: VarId) -> Option<(VarId, PExpr, PExpr)> {
        let (base, lo, hi) = self.g.f.vars[v].view.as_ref()?;
        let (lo, hi) = if self.plan.view(v).saved {
            let (l, h) = self.bound_idents(v);
            (PExpr::constant(quote!(#l)), PExpr::constant(quote!(#h)))
        } else {
            let bounded = |p: &PExpr| PExpr::compound(bound(p), p.reads.clone());
            (bounded(lo), bounded(hi))
        };
        // a chain of views is finite (each base is an earlier binding)
        if *base < v {
            if let Some((root, start, _)) = self.view_span(*base) {
                return Some((root, offset(&start, &lo), offset(&start, &hi)));
            }
        }
        Some((*base, lo, hi))
    }

    /// `&buf[start..end]` of a view's buffer in the reverse sweep (`shadow`: of its adjoint).
    pub(super) fn view_slice(&self, v: VarId, shadow: bool) -> Option<TokenStream> {
        let (root, start, end) = self.view_span(v)?;
        let (start, end) = (&start.tokens, &end.tokens);
        Some(if shadow {
            let d = self.g.adjoint_ident(root);
            quote!(&mut #d[#start..#end])
        } else {
            let r = self.g.ident(root);
            quote!(&#r[#start..#end])
        })
    }

    /// The declaration of `v`'s adjoint, zeroed (nothing for a view reached through
    /// its base's adjoint).
    pub(super) fn adjoint_decl(&self, v: VarId) -> TokenStream {
        let g = self.g;
        let b = g.adjoint_ident(v);
        let z = g.adj_zero();
        let var = &g.f.vars[v];
        let (bz, f) = (g.adj_zero_in(g.ty_of(v)), g.fty_in(g.ty_of(v)));
        match var.kind {
            Kind::Buf if var.view.is_some() => {
                // Reached at an offset of the base's adjoint instead when something
                // else touches that adjoint meanwhile.
                if !self.plan.view(v).shadow_slice {
                    return quote!();
                }
                let view = self.view_slice(v, true);
                quote!(let #b = #view;)
            }
            Kind::Buf => {
                let x = g.ident(v);
                match var.buf {
                    Some(BufRepr::LocalArray) => {
                        quote!(let mut #b = ::autodiff::__private::zeros_like_array(&#x);)
                    }
                    _ => quote!(let mut #b = ::std::vec![#z; #x.len()];),
                }
            }
            _ => quote!(let mut #b: #f = #bz;),
        }
    }

    /// `{ let v = &base[lo..hi]; rev }` for each of `views` that `rev` names.
    pub(super) fn bind_views(&self, views: &[VarId], rev: Vec<TokenStream>) -> Vec<TokenStream> {
        let all: TokenStream = rev.iter().cloned().collect();
        let binds = self.view_bindings(views, &all);
        if binds.is_empty() {
            rev
        } else {
            vec![quote!({ #(#binds)* #all })]
        }
    }

    /// An expression `e` with the views it names bound around it.
    pub(super) fn bind_views_expr(&self, views: &[VarId], e: TokenStream) -> TokenStream {
        let binds = self.view_bindings(views, &e);
        if binds.is_empty() {
            e
        } else {
            quote!({ #(#binds)* #e })
        }
    }

    fn view_bindings(&self, views: &[VarId], code: &TokenStream) -> Vec<TokenStream> {
        views
            .iter()
            .filter(|v| mentions(code, self.g.ident(**v)))
            .map(|v| {
                let x = self.g.ident(*v);
                let view = self.view_slice(*v, false);
                quote!(let #x = #view;)
            })
            .collect()
    }

    /// Reverse-sweep contributions `x̄ᵢ += ∂ᵢ·g` of `var = op(args)`; `old`: the value
    /// the statement overwrote, for an operand that is the assigned variable itself.
    /// A term flowing into an operand of another float type than `var`'s (a cast's)
    /// is converted to the operand's.
    pub(super) fn contributions(
        &self,
        var: VarId,
        op: Op,
        args: &[Operand],
        g: &TokenStream,
        out: &TokenStream,
        old: Option<(VarId, &TokenStream)>,
    ) -> Vec<TokenStream> {
        let ins: Vec<TokenStream> = args
            .iter()
            .map(|o| match (o, old) {
                (Operand::Var(v), Some((dst, old))) if *v == dst => old.clone(),
                _ => self.rev_primal(o),
            })
            .collect();
        // Contributions to one place (`x * x`, or two views' elements that are one
        // element of their base) are summed first: one update, not two.
        let mut groups: Vec<(Place, Vec<Term>)> = Vec::new();
        for (i, d) in partials(op).iter().enumerate() {
            let (Some(d), Some(arg)) = (d, args.get(i)) else {
                continue;
            };
            let Some(place) = self.adjoint_place(arg) else {
                continue;
            };
            let ty = self.g.ty_of(var);
            let (neg, t) = self.g.scale(d, ty, g.clone(), &ins, out);
            let term = match self.g.operand_ty(arg) {
                Some(to) => (neg, self.g.convert(t, Some(ty), to)),
                None => (neg, t),
            };
            match groups.iter_mut().find(|(p, _)| p.same(&place)) {
                Some((_, terms)) => terms.push(term),
                None => groups.push((place, vec![term])),
            }
        }
        groups
            .into_iter()
            .map(|(place, terms)| self.accumulate_terms(&self.render_place(&place), terms))
            .collect()
    }

    /// `target += t₁ ± t₂ …`.
    fn accumulate_terms(&self, target: &TokenStream, terms: Vec<Term>) -> TokenStream {
        if let [(neg, t)] = terms.as_slice() {
            return self.g.accumulate(target, *neg, t);
        }
        let mut it = terms.into_iter();
        let (neg0, t0) = it.next().unwrap_or((false, quote!()));
        let mut sum = if neg0 { quote!(-#t0) } else { t0 };
        for (neg, t) in it {
            sum = if neg {
                quote!(#sum - #t)
            } else {
                quote!(#sum + #t)
            };
        }
        self.g.accumulate(target, false, &quote!((#sum)))
    }

    pub(super) fn pop(&self, what: TokenStream) -> TokenStream {
        quote!(::autodiff::__private::pop(&mut #what))
    }
}

/// `start + i` as an index, folded when both are plain integers (`dw[2]`, not
/// `dw[1 + 1]`); it reads what both read.
fn offset(start: &PExpr, i: &PExpr) -> PExpr {
    let int = |t: &TokenStream| match syn::parse2::<syn::LitInt>(t.clone()) {
        Ok(l) if l.suffix().is_empty() || l.suffix() == "usize" => l.base10_parse::<usize>().ok(),
        _ => None,
    };
    let (s, i_) = (&start.tokens, bound_tokens(&i.tokens));
    let tokens = match (int(s), int(&i_)) {
        (Some(a), Some(b)) => match a.checked_add(b) {
            Some(n) => proc_macro2::Literal::usize_unsuffixed(n).to_token_stream(),
            None => quote!(#s + #i_),
        },
        (Some(0), _) => i_,
        (_, Some(0)) => s.clone(),
        _ => quote!(#s + #i_),
    };
    let mut reads = start.reads.clone();
    reads.extend(&i.reads);
    PExpr::compound(tokens, reads)
}

/// Does generated code name `id` anywhere?
fn mentions(ts: &TokenStream, id: &Ident) -> bool {
    ts.clone().into_iter().any(|t| match t {
        proc_macro2::TokenTree::Ident(i) => i == *id,
        proc_macro2::TokenTree::Group(g) => mentions(&g.stream(), id),
        _ => false,
    })
}

/// [`bound`] for tokens made here (an index): parenthesised unless it parses as
/// a literal, a name, a call, a field or a parenthesised expression.
fn bound_tokens(t: &TokenStream) -> TokenStream {
    match syn::parse2::<syn::Expr>(t.clone()) {
        Ok(
            syn::Expr::Lit(_)
            | syn::Expr::Path(_)
            | syn::Expr::MethodCall(_)
            | syn::Expr::Call(_)
            | syn::Expr::Field(_)
            | syn::Expr::Paren(_),
        ) => t.clone(),
        _ => quote!((#t)),
    }
}
