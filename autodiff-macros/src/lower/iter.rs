//! Iterator chains over float buffers and ranges (`x.iter().map(|v| v * v).sum()`,
//! `.zip(..)`, `.enumerate()`, `.skip(n)`, `.take(n)`, `.step_by(n)`, `.rev()`,
//! `.fold(init, |acc, v| ..)`, `.product()`), desugared into the index loop a
//! careful person writes: `let mut acc = 0.0; for k in 0..n { acc = acc + f(x[k]); }`.
//! No iterator object or closure is left in the generated code; the closures'
//! bodies are lowered in place, with their parameters bound to the elements.

use std::borrow::Cow;

use proc_macro2::Span;
use quote::quote;
use syn::spanned::Spanned;
use syn::{Expr, Pat};

use super::*;
use crate::ir::*;
use crate::rules::Op;

/// A chain: where its elements come from, what is done to them, what consumes them.
pub(super) struct Chain<'a> {
    base: Base<'a>,
    stages: Vec<Stage<'a>>,
    consumer: Consumer<'a>,
    span: Span,
}

enum Base<'a> {
    /// `x.iter()`, `&x`, `x.iter().copied()`: the buffer named by the path.
    Buf(&'a Expr),
    /// `w[a..b].iter()`: a view made before the loop.
    Slice(&'a Expr),
    /// `b.iter_mut()` of a local buffer (in `for` loops): its elements as places.
    BufMut(&'a Expr),
    /// `x.windows(n)`, `x.chunks(n)`, `x.chunks_exact(n)`: views of the buffer.
    Views(&'a Expr, &'a Expr, Views),
    /// `a..b`, `a..=b`.
    Range(&'a syn::ExprRange),
}

enum Stage<'a> {
    Zip(Base<'a>),
    Enumerate,
    Rev,
    Skip(&'a Expr),
    Take(&'a Expr),
    StepBy(&'a Expr),
    Map(Cow<'a, syn::ExprClosure>),
}

/// How a slice is cut into views.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Views {
    Windows,
    Chunks,
    ChunksExact,
}

enum Consumer<'a> {
    /// A `for` loop's body.
    Each,
    Sum,
    Product,
    Fold(&'a Expr, Cow<'a, syn::ExprClosure>),
}

/// The loop of a chain.
enum ChainRange {
    /// The user's range (`(a..b).map(..)`).
    Direct(Range),
    /// `0..n`: the counts after the source and each stage, and the stages' arguments.
    Counted(Vec<PExpr>, Vec<Option<PExpr>>),
}

/// An element of the chain, as lowered inside the loop.
#[derive(Clone)]
enum Elem {
    Float(Operand),
    Int(PExpr),
    /// `&buf[lo..hi]`.
    View(VarId, PExpr, PExpr),
    /// `&mut buf[i]`.
    Place(VarId, PExpr),
    Pair(Box<Elem>, Box<Elem>),
}

/// `sum`, `product` and `fold` of a chain of the supported adapters, or `None`.
pub(super) fn parse_chain(m: &syn::ExprMethodCall) -> Option<Chain<'_>> {
    let name = m.method.to_string();
    let consumer = match (name.as_str(), m.args.len()) {
        ("sum", 0) => Consumer::Sum,
        ("product", 0) => Consumer::Product,
        ("fold", 2) => match &m.args[1] {
            Expr::Closure(c) if c.inputs.len() == 2 => Consumer::Fold(&m.args[0], Cow::Borrowed(c)),
            // `fold(f64::NEG_INFINITY, f64::max)`: a function of two floats
            Expr::Path(p) => Consumer::Fold(
                &m.args[0],
                Cow::Owned(syn::parse_quote!(|__acc, __v| #p(__acc, __v))),
            ),
            _ => return None,
        },
        _ => return None,
    };
    let (base, stages) = parse_iter(&m.receiver)?;
    Some(Chain {
        base,
        stages,
        consumer,
        span: m.method.span(),
    })
}

/// Is `e` an iterator of the supported forms (so that a method on it that is not
/// supported is where a chain stops being differentiable)?
pub(super) fn is_supported_iter(e: &Expr) -> bool {
    parse_iter(e).is_some()
}

/// The source and adapters of an iterator expression.
fn parse_iter(e: &Expr) -> Option<(Base<'_>, Vec<Stage<'_>>)> {
    match strip_paren(e) {
        Expr::Range(r) if r.start.is_some() && r.end.is_some() => Some((Base::Range(r), vec![])),
        // `.zip(y)` of a slice
        path @ Expr::Path(_) => Some((Base::Buf(path), vec![])),
        Expr::Reference(r) if r.mutability.is_none() => {
            let inner = strip_paren(&r.expr);
            matches!(inner, Expr::Path(_)).then_some((Base::Buf(inner), vec![]))
        }
        Expr::MethodCall(m) => {
            let name = m.method.to_string();
            let arg = m.args.first();
            let views = match name.as_str() {
                "windows" => Some(Views::Windows),
                "chunks" => Some(Views::Chunks),
                "chunks_exact" => Some(Views::ChunksExact),
                _ => None,
            };
            if let (Some(v), Some(n), Expr::Path(_)) = (views, arg, strip_paren(&m.receiver)) {
                return Some((Base::Views(strip_paren(&m.receiver), n, v), vec![]));
            }
            if name == "iter_mut"
                && m.args.is_empty()
                && matches!(strip_paren(&m.receiver), Expr::Path(_))
            {
                return Some((Base::BufMut(strip_paren(&m.receiver)), vec![]));
            }
            if matches!(name.as_str(), "iter" | "into_iter") && m.args.is_empty() {
                let recv = strip_paren(&m.receiver);
                return match recv {
                    Expr::Path(_) => Some((Base::Buf(recv), vec![])),
                    Expr::Index(ix) if matches!(strip_paren(&ix.index), Expr::Range(_)) => {
                        Some((Base::Slice(recv), vec![]))
                    }
                    Expr::Range(_) => parse_iter(recv),
                    _ => None,
                };
            }
            let (base, mut stages) = parse_iter(&m.receiver)?;
            let stage = match (name.as_str(), m.args.len(), arg) {
                ("copied" | "cloned", 0, _) => None,
                ("enumerate", 0, _) => Some(Stage::Enumerate),
                ("rev", 0, _) => Some(Stage::Rev),
                ("skip", 1, Some(n)) => Some(Stage::Skip(n)),
                ("take", 1, Some(n)) => Some(Stage::Take(n)),
                ("step_by", 1, Some(n)) => Some(Stage::StepBy(n)),
                ("map", 1, Some(Expr::Closure(c))) if c.inputs.len() == 1 => {
                    Some(Stage::Map(Cow::Borrowed(c)))
                }
                // `.map(f64::exp)`, `.map(sigmoid)`: a function of one float
                ("map", 1, Some(Expr::Path(p))) => {
                    Some(Stage::Map(Cow::Owned(syn::parse_quote!(|__v| #p(__v)))))
                }
                ("zip", 1, Some(other)) => match parse_iter(other)? {
                    // the other side is a plain slice or range (its count and elements need
                    // nothing bound before the loop)
                    (b, s)
                        if s.is_empty()
                            && matches!(b, Base::Buf(_) | Base::Range(_) | Base::Slice(_)) =>
                    {
                        Some(Stage::Zip(b))
                    }
                    _ => return None,
                },
                _ => return None,
            };
            stages.extend(stage);
            Some((base, stages))
        }
        _ => None,
    }
}

/// A `for` loop over an iterator the simple loop forms do not cover
/// (`.rev()`/`.skip(n)`/.. of a slice iterator, `windows`, `chunks`, `map`).
pub(super) fn parse_for_chain(f: &syn::ExprForLoop) -> Option<Chain<'_>> {
    let (base, stages) = parse_iter(&f.expr)?;
    Some(Chain {
        base,
        stages,
        consumer: Consumer::Each,
        span: f.for_token.span,
    })
}

impl Lowerer<'_> {
    /// `for pat in chain { body }` as `for k in 0..n { let pat = elem(k); body }`.
    pub(super) fn lower_for_chain(
        &mut self,
        f: &syn::ExprForLoop,
        c: &Chain,
        out: &mut Block,
    ) -> Exits {
        let k = self.new_var("__k", Kind::Passive, c.span, None);
        let Some(range) = self.chain_range(c, k, out) else {
            return Exits::default();
        };
        let (brk_flag, cont_flag) = self.loop_flags(&f.body, out);
        let mut body = self.enter_loop(brk_flag, cont_flag);
        if let Some(flag) = cont_flag {
            body.stmts.push(Stmt::set_flag(flag, false));
        }
        let kid = self.vars[k].ident.clone();
        let elem = match &range {
            ChainRange::Direct(_) => self.map_elems(c, Elem::Int(PExpr::var(&kid, k)), &mut body),
            ChainRange::Counted(counts, args) => self.chain_elem(c, counts, args, k, &mut body),
        };
        if let Some(e) = elem {
            self.bind_elem(&f.pat, e, &mut body);
        }
        let ex = self.end_loop(&f.body, &mut body);
        let exit = self.exit_cond(brk_flag, ex.ret);
        let last = exit
            .is_some()
            .then(|| self.new_var("__last", Kind::Passive, c.span, None));
        out.stmts.push(Stmt::For {
            var: k,
            range: self.chain_loop_range(range),
            body,
            exit,
            last,
            checkpoint: None,
        });
        Exits {
            ret: ex.ret,
            ..Default::default()
        }
    }

    fn chain_loop_range(&self, range: ChainRange) -> Range {
        match range {
            ChainRange::Direct(r) => r,
            ChainRange::Counted(counts, _) => Range::Range {
                lo: PExpr::constant(quote!(0)),
                hi: counts
                    .last()
                    .cloned()
                    .unwrap_or_else(|| PExpr::constant(quote!(0))),
                inclusive: false,
                rev: false,
            },
        }
    }

    /// `let mut acc = init; for k in 0..n { acc = acc ⊕ elem(k); }`; returns `acc`.
    pub(super) fn lower_chain(&mut self, c: &Chain, out: &mut Block) -> Operand {
        let zero = self.zero_pexpr();
        let one = PExpr::constant(match &self.float {
            FloatTy::F64 | FloatTy::F32 => quote!(1.0),
            FloatTy::Generic(i) => quote!(<#i as ::autodiff::__private::One>::one()),
        });
        let init = match &c.consumer {
            Consumer::Each => return Operand::Const(zero),
            Consumer::Sum => Operand::Const(zero),
            Consumer::Product => Operand::Const(one),
            Consumer::Fold(init, _) => self.lower_value(init, out),
        };
        let acc = self.new_var("__acc", Kind::Float, c.span, None);
        out.stmts.push(Stmt::Let {
            var: acc,
            rhs: Rhs::Op(Op::Copy, vec![init]),
            mutable: true,
        });
        let k = self.new_var("__k", Kind::Passive, c.span, None);
        let Some(range) = self.chain_range(c, k, out) else {
            return Operand::Var(acc);
        };
        let mut body = self.new_block();
        self.enter(&body);
        let elem = match (&c.base, &range) {
            (Base::Range(_), _) => self.map_elems(
                c,
                Elem::Int(PExpr::var(&self.vars[k].ident.clone(), k)),
                &mut body,
            ),
            (_, ChainRange::Counted(counts, args)) => {
                self.chain_elem(c, counts, args, k, &mut body)
            }
            _ => None,
        };
        let value = match (&c.consumer, elem) {
            (Consumer::Sum, Some(Elem::Float(v))) => {
                Some(Rhs::Op(Op::Add, vec![Operand::Var(acc), v]))
            }
            (Consumer::Product, Some(Elem::Float(v))) => {
                Some(Rhs::Op(Op::Mul, vec![Operand::Var(acc), v]))
            }
            (Consumer::Fold(_, f), Some(e)) => {
                let v = self.apply_fold(f, acc, e, &mut body);
                v.map(|v| Rhs::Op(Op::Copy, vec![v]))
            }
            (_, Some(_)) => {
                self.diag.error(
                    c.span,
                    "`#[differentiate]` sums and multiplies float elements only; `map` each element to a float first",
                );
                None
            }
            (_, None) => None,
        };
        if let Some(rhs) = value {
            body.stmts.push(Stmt::Assign {
                var: acc,
                rhs,
                init: false,
            });
        }
        self.leave();
        let range = self.chain_loop_range(range);
        out.stmts.push(Stmt::For {
            var: k,
            range,
            body,
            exit: None,
            last: None,
            checkpoint: None,
        });
        Operand::Var(acc)
    }

    /// The loop a chain runs: over its range itself (`(a..b).map(..)`, `.rev()` first),
    /// or over `0..n` with the counts of a slice chain.
    fn chain_range(&mut self, c: &Chain, _k: VarId, out: &mut Block) -> Option<ChainRange> {
        let Base::Range(r) = &c.base else {
            let (counts, args) = self.chain_counts(c, out)?;
            return Some(ChainRange::Counted(counts, args));
        };
        let rev = matches!(c.stages.first(), Some(Stage::Rev));
        let later = if rev { &c.stages[1..] } else { &c.stages[..] };
        if !later.iter().all(|s| matches!(s, Stage::Map(_))) {
            self.diag.error(
                c.span,
                "`#[differentiate]` takes `.rev()` and `.map(..)` on a range in an iterator chain; iterate a slice for the other adapters, or change the range's bounds",
            );
            return None;
        }
        let (lo, hi) = (r.start.as_deref()?, r.end.as_deref()?);
        Some(ChainRange::Direct(Range::Range {
            lo: self.index_expr(lo, "a range bound"),
            hi: self.index_expr(hi, "a range bound"),
            inclusive: matches!(r.limits, syn::RangeLimits::Closed(_)),
            rev,
        }))
    }

    /// The `map` stages of a range chain, applied to its value.
    fn map_elems(&mut self, c: &Chain, mut elem: Elem, body: &mut Block) -> Option<Elem> {
        for s in &c.stages {
            if let Stage::Map(f) = s {
                elem = self.apply_map(f, elem, body)?;
            }
        }
        Some(elem)
    }

    /// The element count after the base and after each stage (bound to passive
    /// `let`s before the loop when a stage changes it), and each stage's argument.
    #[allow(clippy::type_complexity)]
    fn chain_counts(
        &mut self,
        c: &Chain,
        out: &mut Block,
    ) -> Option<(Vec<PExpr>, Vec<Option<PExpr>>)> {
        let mut counts = vec![self.base_count(&c.base, out)?];
        let mut args = Vec::new();
        for s in &c.stages {
            let mut arg = None;
            let prev = counts.last()?.clone();
            let (p, pr) = (prev.tokens.clone(), prev.reads.clone());
            let next = match s {
                Stage::Zip(b) => {
                    let other = self.base_count(b, out)?;
                    let o = &other.tokens;
                    let mut reads = pr;
                    reads.extend(other.reads.iter().copied());
                    Some(PExpr::compound(quote!(#p.min(#o)), reads))
                }
                Stage::Skip(n) | Stage::Take(n) | Stage::StepBy(n) => {
                    let a = self.bind_count(n, "an iterator adapter's count", out);
                    arg = Some(a.clone());
                    let at = &a.tokens;
                    let mut reads = pr;
                    reads.extend(a.reads.iter().copied());
                    let t = match s {
                        Stage::Skip(_) => quote!(#p.saturating_sub(#at)),
                        Stage::Take(_) => quote!(#p.min(#at)),
                        _ => quote!((#p + #at - 1) / #at),
                    };
                    Some(PExpr::compound(t, reads))
                }
                Stage::Enumerate | Stage::Rev | Stage::Map(_) => None,
            };
            let next = match next {
                Some(e) => self.bind_passive("__n", e, out),
                None => prev,
            };
            counts.push(next);
            args.push(arg);
        }
        Some((counts, args))
    }

    /// The length of a chain's source (and the size of its views, bound once).
    fn base_count(&mut self, b: &Base, out: &mut Block) -> Option<PExpr> {
        match b {
            Base::Slice(e) => {
                // `let __slice = &w[a..b];`, as a `let`-bound view
                let r: Expr = syn::parse_quote!(&#e);
                let made = self.lower_buffer_init(&r, out);
                self.kcache.clear();
                let (rhs, repr) = made?;
                let id = self.new_var("__slice", Kind::Buf, c_span(e), Some(repr));
                if let Rhs::View { base, lo, hi } = &rhs {
                    self.vars[id].view = Some((*base, lo.clone(), hi.clone()));
                }
                out.stmts.push(Stmt::Let {
                    var: id,
                    rhs,
                    mutable: false,
                });
                // keyed by the view expression: the source and a zipped view
                self.chain_slice.push((*e as *const Expr as usize, id));
                let ident = self.vars[id].ident.clone();
                Some(PExpr {
                    tokens: quote!(#ident.len()),
                    reads: vec![id],
                    atomic: true,
                })
            }
            Base::Views(e, n, how) => {
                let v = self.chain_buffer(e)?;
                let size = self.bind_count(n, "a window or chunk size", out);
                let id = self.vars[v].ident.clone();
                let nt = &size.tokens;
                let t = match how {
                    Views::Windows => quote!((#id.len() + 1).saturating_sub(#nt)),
                    Views::Chunks => quote!((#id.len() + #nt - 1) / #nt),
                    Views::ChunksExact => quote!(#id.len() / #nt),
                };
                let mut reads = vec![v];
                reads.extend(size.reads.iter().copied());
                self.view_size = Some(size);
                Some(self.bind_passive("__n", PExpr::compound(t, reads), out))
            }
            Base::Buf(e) | Base::BufMut(e) => {
                let v = self.chain_buffer(e)?;
                let id = self.vars[v].ident.clone();
                Some(PExpr {
                    tokens: quote!(#id.len()),
                    reads: vec![v],
                    atomic: true,
                })
            }
            Base::Range(r) => {
                let (Some(lo), Some(hi)) = (&r.start, &r.end) else {
                    return None;
                };
                let lo = self.bind_count(lo, "a range bound", out);
                let hi = self.bind_count(hi, "a range bound", out);
                let (l, h) = (&lo.tokens, &hi.tokens);
                // a range zipped with a slice: positions are `usize`
                let t = if matches!(r.limits, syn::RangeLimits::Closed(_)) {
                    quote!(((#h) as usize + 1).saturating_sub((#l) as usize))
                } else {
                    quote!(((#h) as usize).saturating_sub((#l) as usize))
                };
                let mut reads = lo.reads.clone();
                reads.extend(hi.reads.iter().copied());
                Some(self.bind_passive("__n", PExpr::compound(t, reads), out))
            }
        }
    }

    /// The float buffer a chain reads, or an error.
    fn chain_buffer(&mut self, e: &Expr) -> Option<VarId> {
        match self.lookup_path(e) {
            Some(v) if self.vars[v].kind == Kind::Buf => Some(v),
            _ => {
                self.diag.error_spanned(
                    e,
                    "`#[differentiate]` differentiates iterator chains over float slices, arrays, local buffers and ranges; this is none of them",
                );
                None
            }
        }
    }

    /// An integer argument, checked and bound to a passive `let` unless it is a name
    /// or a literal.
    fn bind_count(&mut self, e: &Expr, what: &str, out: &mut Block) -> PExpr {
        let p = self.index_expr(e, what);
        if p.atomic {
            p
        } else {
            self.bind_passive("__c", p, out)
        }
    }

    /// `let __name = p;` (passive); returns the new name as an expression.
    fn bind_passive(&mut self, name: &str, p: PExpr, out: &mut Block) -> PExpr {
        let v = self.new_var(name, Kind::Passive, Span::call_site(), None);
        out.stmts.push(Stmt::Let {
            var: v,
            rhs: Rhs::Passive(p),
            mutable: false,
        });
        let id = self.vars[v].ident.clone();
        PExpr::var(&id, v)
    }

    /// The element at loop counter `k`: the position at each stage is computed from
    /// the consumer back to the source, then the values forward from the source.
    fn chain_elem(
        &mut self,
        c: &Chain,
        counts: &[PExpr],
        args: &[Option<PExpr>],
        k: VarId,
        body: &mut Block,
    ) -> Option<Elem> {
        let kid = self.vars[k].ident.clone();
        // pos[i]: the position in the sequence after stage i (pos[0]: the source's)
        let mut pos = vec![PExpr::var(&kid, k); c.stages.len() + 1];
        for i in (0..c.stages.len()).rev() {
            let p = pos[i + 1].clone();
            let t = &p.tokens;
            let mut reads = p.reads.clone();
            pos[i] = match &c.stages[i] {
                Stage::Skip(_) | Stage::StepBy(_) | Stage::Rev => {
                    let a = match &c.stages[i] {
                        Stage::Rev => counts[i].clone(),
                        _ => args[i].clone()?,
                    };
                    reads.extend(a.reads.iter().copied());
                    let at = &a.tokens;
                    let t = if p.atomic { quote!(#t) } else { quote!((#t)) };
                    let tokens = match &c.stages[i] {
                        Stage::Skip(_) => quote!(#t + #at),
                        Stage::StepBy(_) => quote!(#t * #at),
                        _ => quote!(#at - 1 - #t),
                    };
                    reads.sort_unstable();
                    reads.dedup();
                    PExpr::compound(tokens, reads)
                }
                _ => p,
            };
        }
        let mut elem = self.base_elem(&c.base, &pos[0])?;
        for (i, s) in c.stages.iter().enumerate() {
            elem = match s {
                Stage::Zip(b) => {
                    let other = self.base_elem(b, &pos[i])?;
                    Elem::Pair(Box::new(elem), Box::new(other))
                }
                Stage::Enumerate => Elem::Pair(Box::new(Elem::Int(pos[i].clone())), Box::new(elem)),
                Stage::Map(f) => self.apply_map(f, elem, body)?,
                Stage::Rev | Stage::Skip(_) | Stage::Take(_) | Stage::StepBy(_) => elem,
            };
        }
        Some(elem)
    }

    fn base_elem(&mut self, b: &Base, at: &PExpr) -> Option<Elem> {
        match b {
            Base::Slice(e) => {
                let key = *e as *const Expr as usize;
                let (_, v) = *self.chain_slice.iter().rev().find(|(k, _)| *k == key)?;
                Some(Elem::Float(Operand::Load(v, at.clone())))
            }
            Base::Views(e, _, how) => {
                let v = self.chain_buffer(e)?;
                let size = self.view_size.clone()?;
                let (p, n) = (&at.tokens, &size.tokens);
                let p = if at.atomic { quote!(#p) } else { quote!((#p)) };
                let id = self.vars[v].ident.clone();
                let (lo, hi) = match how {
                    Views::Windows => (quote!(#p), quote!(#p + #n)),
                    Views::Chunks => (quote!(#p * #n), quote!((#p * #n + #n).min(#id.len()))),
                    Views::ChunksExact => (quote!(#p * #n), quote!(#p * #n + #n)),
                };
                let mut reads = at.reads.clone();
                reads.extend(size.reads.iter().copied());
                reads.push(v);
                reads.sort_unstable();
                reads.dedup();
                Some(Elem::View(
                    v,
                    PExpr::compound(lo, reads.clone()),
                    PExpr::compound(hi, reads),
                ))
            }
            Base::Buf(e) => {
                let v = self.chain_buffer(e)?;
                Some(Elem::Float(Operand::Load(v, at.clone())))
            }
            Base::BufMut(e) => {
                let v = self.chain_buffer(e)?;
                let var = &self.vars[v];
                let out = var.buf.is_some_and(BufRepr::is_out);
                if (var.is_param && !out) || var.buf == Some(BufRepr::View) {
                    self.diag.error_spanned(
                        e,
                        "`#[differentiate]` writes through `iter_mut()` into local buffers only (`let mut b = vec![..; n];`)",
                    );
                    return None;
                }
                Some(Elem::Place(v, at.clone()))
            }
            Base::Range(r) => {
                let lo = r.start.as_deref()?;
                let lo = self.passive(lo);
                let (l, a) = (&lo.tokens, &at.tokens);
                let mut reads = lo.reads.clone();
                reads.extend(at.reads.iter().copied());
                Some(Elem::Int(PExpr::compound(
                    quote!(((#l) as usize + #a)),
                    reads,
                )))
            }
        }
    }

    /// A `return` (or `?`) in a closure lowered in place would return from the function.
    fn reject_closure_return(&mut self, f: &syn::ExprClosure) -> Option<()> {
        match super::loops::closure_returns(f) {
            Some(at) => {
                self.diag.error_spanned(
                    at,
                    "`#[differentiate]` lowers the closures of an iterator chain in place, so a `return` (or `?`) inside one would return from the function; compute the value with `if`/`else` instead",
                );
                None
            }
            None => Some(()),
        }
    }

    /// `map(|p| body)`: binds `p` to the element and lowers the body in place.
    fn apply_map(&mut self, f: &syn::ExprClosure, elem: Elem, body: &mut Block) -> Option<Elem> {
        self.reject_closure_return(f)?;
        let pat = f.inputs.first()?;
        self.bind_elem(pat, elem, body)?;
        Some(self.closure_value(&f.body, body))
    }

    /// `fold(init, |acc, p| body)`: `acc` is the accumulator itself.
    fn apply_fold(
        &mut self,
        f: &syn::ExprClosure,
        acc: VarId,
        elem: Elem,
        body: &mut Block,
    ) -> Option<Operand> {
        self.reject_closure_return(f)?;
        let (a, p) = (f.inputs.first()?, f.inputs.iter().nth(1)?);
        match pat_name(a) {
            Some(name) => self.bind(&name, acc),
            None if matches!(a, Pat::Wild(_)) => {}
            None => {
                self.diag
                    .error(a.span(), "expected a name for the accumulator");
                return None;
            }
        }
        self.bind_elem(p, elem, body)?;
        match self.closure_value(&f.body, body) {
            Elem::Float(v) => Some(v),
            _ => {
                self.diag.error_spanned(
                    &f.body,
                    "expected a float: the new value of the accumulator",
                );
                None
            }
        }
    }

    /// A closure body's value: a float, or an integer (passive).
    fn closure_value(&mut self, e: &Expr, body: &mut Block) -> Elem {
        if self.kinds(e).class == super::kinds::Class::Float {
            Elem::Float(self.lower_value(e, body))
        } else {
            self.check_sound(e);
            Elem::Int(self.passive(e))
        }
    }

    /// Binds a closure parameter's pattern to an element.
    fn bind_elem(&mut self, pat: &Pat, elem: Elem, body: &mut Block) -> Option<()> {
        match (pat, elem) {
            (Pat::Type(t), e) => self.bind_elem(&t.pat, e, body),
            (Pat::Reference(r), e) => self.bind_elem(&r.pat, e, body),
            (Pat::Paren(p), e) => self.bind_elem(&p.pat, e, body),
            (Pat::Wild(_), _) => Some(()),
            (Pat::Tuple(t), Elem::Pair(a, b)) if t.elems.len() == 2 => {
                self.bind_elem(&t.elems[0], *a, body)?;
                self.bind_elem(&t.elems[1], *b, body)
            }
            (Pat::Ident(pi), Elem::Float(v)) if pi.subpat.is_none() => {
                let name = pi.ident.to_string();
                let id = self.new_var(&name, Kind::Float, pi.ident.span(), None);
                // `*v` of an element bound by reference reads it
                self.vars[id].by_ref_elem = true;
                body.stmts.push(Stmt::Let {
                    var: id,
                    rhs: Rhs::Op(Op::Copy, vec![v]),
                    mutable: false,
                });
                self.bind(&name, id);
                Some(())
            }
            (Pat::Ident(pi), Elem::View(base, lo, hi)) if pi.subpat.is_none() => {
                let name = pi.ident.to_string();
                let id = self.new_var(&name, Kind::Buf, pi.ident.span(), Some(BufRepr::View));
                self.vars[id].view = Some((base, lo.clone(), hi.clone()));
                body.stmts.push(Stmt::Let {
                    var: id,
                    rhs: Rhs::View { base, lo, hi },
                    mutable: false,
                });
                self.bind(&name, id);
                Some(())
            }
            (Pat::Ident(pi), Elem::Place(buf, index)) if pi.subpat.is_none() => {
                // an alias of `buf[index]`: reads load it, `*e = v` stores into it
                let name = pi.ident.to_string();
                let id = self.new_var(&name, Kind::Passive, pi.ident.span(), None);
                self.facts[id].place = Some((buf, index));
                self.bind(&name, id);
                Some(())
            }
            (Pat::Ident(pi), Elem::Int(p)) if pi.subpat.is_none() => {
                let name = pi.ident.to_string();
                let id = self.new_var(&name, Kind::Passive, pi.ident.span(), None);
                body.stmts.push(Stmt::Let {
                    var: id,
                    rhs: Rhs::Passive(p),
                    mutable: false,
                });
                self.bind(&name, id);
                Some(())
            }
            (other, _) => {
                self.diag.error(
                    other.span(),
                    "`#[differentiate]` binds iterator elements to names, `&name`, `(i, v)` or `(a, b)` patterns",
                );
                None
            }
        }
    }
}

fn pat_name(p: &Pat) -> Option<String> {
    match p {
        Pat::Ident(pi) if pi.subpat.is_none() => Some(pi.ident.to_string()),
        Pat::Type(t) => pat_name(&t.pat),
        _ => None,
    }
}

fn c_span(e: &Expr) -> Span {
    e.span()
}
