//! Casts between float types: which float scalars of a function on `F` hold the
//! other float type `G` (`f32` in an `f64` function, or `f64` in an `f32` one),
//! and the places that must hold `F`.
//!
//! Lowering marks the result of each `x as G` ([`Op::Cast`], with [`Var::ty`] its
//! target); this pass gives every other float variable the type of what it is
//! computed from, as rustc infers it: an op's result and its operands have one
//! type (Rust has no mixed float arithmetic), a buffer element and a call's
//! result are `F`. What must be `F` and is `G` (an argument of a differentiated
//! call, a value stored into a buffer, a buffer's fill value, the returned value)
//! is an error here, with the span of the value, rather than a type error in
//! generated code. A cast whose operand turns out to have its target type already
//! (`x as f64` of an `f64`) becomes a copy.

use proc_macro2::Span;

use super::Lowerer;
use crate::ir::*;
use crate::rules::Op;

/// The two float types, as nodes of the union-find over variables.
const NODE_F: usize = 0;
const NODE_G: usize = 1;

struct Types {
    parent: Vec<usize>,
}

impl Types {
    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    /// Merges the classes of `a` and `b`; `false` when that would make `F` and `G` one.
    fn union(&mut self, a: usize, b: usize) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return true;
        }
        let (rf, rg) = (self.find(NODE_F), self.find(NODE_G));
        if (ra == rf && rb == rg) || (ra == rg && rb == rf) {
            return false;
        }
        // the type nodes stay roots
        if rb == rf || rb == rg {
            self.parent[ra] = rb;
        } else {
            self.parent[rb] = ra;
        }
        true
    }

    fn is_g(&mut self, x: usize) -> bool {
        self.find(x) == self.find(NODE_G)
    }
}

fn node(v: VarId) -> usize {
    v + 2
}

impl Lowerer<'_> {
    /// The other float type `G` when `ty` is it (`f32` in an `f64` function); `None`
    /// for the function's own type, other types, and in generic functions, where
    /// casts between float types do not apply.
    pub(super) fn other_float(&self, ty: &syn::Type) -> Option<FloatTy> {
        let ty = super::types::strip_ty(ty);
        let syn::Type::Path(p) = ty else { return None };
        match (&self.float, p.path.get_ident()?.to_string().as_str()) {
            (FloatTy::F64, "f32") => Some(FloatTy::F32),
            (FloatTy::F32, "f64") => Some(FloatTy::F64),
            _ => None,
        }
    }

    /// `Vec<G>`, `[G; N]`, `&[G]`, `&mut [G]`: a container of the other float type.
    pub(super) fn other_float_container(&self, ty: &syn::Type) -> bool {
        match super::types::strip_ty(ty) {
            syn::Type::Reference(r) => self.other_float_container(&r.elem),
            syn::Type::Slice(s) => self.other_float(&s.elem).is_some(),
            syn::Type::Array(a) => self.other_float(&a.elem).is_some(),
            syn::Type::Path(p) => p.path.segments.last().is_some_and(|s| {
                s.ident == "Vec"
                    && matches!(&s.arguments, syn::PathArguments::AngleBracketed(a)
                        if a.args.iter().any(|g| matches!(g, syn::GenericArgument::Type(t) if self.other_float(t).is_some())))
            }),
            _ => false,
        }
    }

    /// The type `G` of a function on `f64` or `f32`.
    fn other_of(&self) -> Option<FloatTy> {
        match self.float {
            FloatTy::F64 => Some(FloatTy::F32),
            FloatTy::F32 => Some(FloatTy::F64),
            FloatTy::Generic(_) => None,
        }
    }

    /// Gives every float variable of `body` its float type ([`Var::ty`]) and
    /// reports the values of type `G` in places that hold `F`.
    pub(super) fn infer_precision(&mut self, body: &mut Block, ret: Option<VarId>) {
        let Some(g) = self.other_of() else { return };
        let mut casts = false;
        body.walk_all(&mut |s| {
            casts |= matches!(
                s,
                Stmt::Let {
                    rhs: Rhs::Op(Op::Cast, _),
                    ..
                } | Stmt::Assign {
                    rhs: Rhs::Op(Op::Cast, _),
                    ..
                }
            );
        });
        if !casts && self.vars.iter().all(|v| v.ty.is_none()) {
            return;
        }
        let mut t = Types {
            parent: (0..self.vars.len() + 2).collect(),
        };
        let own = self.float.clone();
        for (v, var) in self.vars.iter().enumerate() {
            match &var.ty {
                Some(ty) if *ty == own => t.union(node(v), NODE_F),
                Some(_) => t.union(node(v), NODE_G),
                None if var.is_param && var.kind == Kind::Float => t.union(node(v), NODE_F),
                None => true,
            };
        }
        // What rustc would infer: an op's operands and result share a type.
        let mut mixed: Vec<Span> = Vec::new();
        let mut sites: Vec<(VarId, Site)> = Vec::new();
        body.walk_all(&mut |s| match s {
            Stmt::Let { var, rhs, .. } | Stmt::Assign { var, rhs, .. } => match rhs {
                Rhs::Op(Op::Cast, _) => {}
                Rhs::Op(_, args) => {
                    for a in args {
                        let other = match a {
                            Operand::Var(x) => node(*x),
                            Operand::Load(..) => NODE_F,
                            Operand::Const(_) => continue,
                        };
                        if !t.union(node(*var), other) {
                            mixed.push(self.vars[*var].ident.span());
                        }
                    }
                }
                Rhs::Call(c) => {
                    sites.push((*var, Site::CallResult));
                    for a in &c.args {
                        if let CallArg::Float(Operand::Var(x)) = a {
                            sites.push((*x, Site::CallArg));
                        }
                    }
                }
                Rhs::Fill {
                    elem: Operand::Var(x),
                    ..
                } => sites.push((*x, Site::Fill)),
                // `[0.0f32; 3]`: a buffer of `G` from the start
                Rhs::Fill {
                    elem: Operand::Const(p),
                    ..
                } if is_literal_of(&p.tokens, &g) => sites.push((*var, Site::Fill)),
                _ => {}
            },
            Stmt::Store {
                value: Operand::Var(x),
                ..
            } => sites.push((*x, Site::Store)),
            _ => {}
        });
        if let Some(r) = ret {
            sites.push((r, Site::Return));
        }
        let (f_name, g_name) = (ty_name(&own), ty_name(&g));
        if let Some(span) = mixed.first() {
            self.diag.error(
                *span,
                format!("`#[differentiate]` cannot combine `{f_name}` and `{g_name}` values in one operation; convert one with `as` (`x as {f_name}`)"),
            );
        }
        for (v, site) in sites {
            let literal = matches!(site, Site::Fill) && self.vars[v].kind == Kind::Buf;
            if literal || t.is_g(node(v)) {
                let var = &self.vars[v];
                let span = var.ident.span();
                // a user's variable by its name; a temporary's span is its expression
                let (value, back) = if var.tmp {
                    (format!("an `{g_name}` value"), format!("`.. as {f_name}`"))
                } else {
                    let n = &var.ident;
                    (
                        format!("`{n}`, an `{g_name}` value,"),
                        format!("`{n} as {f_name}`"),
                    )
                };
                let msg = match site {
                    Site::CallArg => format!("`#[differentiate]` cannot pass {value} to a differentiated call, whose float parameters are `{f_name}`; cast it back ({back})"),
                    Site::CallResult => format!("`#[differentiate]` cannot use the `{f_name}` result of a differentiated call as `{g_name}`; cast it (`g(..) as {g_name}`)"),
                    Site::Store => format!("`#[differentiate]` cannot store {value} into a float buffer, which holds `{f_name}`; cast it back ({back})"),
                    Site::Fill => format!("`#[differentiate]` does not support buffers of `{g_name}` in a function on `{f_name}`; float buffers hold `{f_name}` (cast the elements back: `.. as {f_name}`)"),
                    Site::Return => format!("`#[differentiate]` cannot return {value} from a function on `{f_name}`; cast it back ({back})"),
                };
                self.diag.error(span, msg);
            } else {
                t.union(node(v), NODE_F);
            }
        }
        for v in 0..self.vars.len() {
            let is_g = self.vars[v].kind == Kind::Float && t.is_g(node(v));
            self.vars[v].ty = is_g.then(|| g.clone());
        }
        // `x as f64` of a value that is `f64` already: a copy.
        let vars = &self.vars;
        body.walk_all_mut(&mut |s| {
            if let Stmt::Let { var, rhs, .. } | Stmt::Assign { var, rhs, .. } = s {
                if let Rhs::Op(op @ Op::Cast, args) = rhs {
                    let from = match args.first() {
                        Some(Operand::Var(x)) => vars[*x].ty.is_some(),
                        Some(Operand::Load(..)) => false,
                        _ => return,
                    };
                    if from == vars[*var].ty.is_some() {
                        *op = Op::Copy;
                    }
                }
            }
        });
    }
}

/// A place that holds the function's float type.
#[derive(Clone, Copy)]
enum Site {
    CallArg,
    CallResult,
    Store,
    Fill,
    Return,
}

/// Is `tokens` a float literal with the suffix of `t` (`0.0f32`)?
fn is_literal_of(tokens: &proc_macro2::TokenStream, t: &FloatTy) -> bool {
    let suffix = ty_name(t);
    match syn::parse2::<syn::Lit>(tokens.clone()) {
        Ok(syn::Lit::Float(l)) => l.suffix() == suffix,
        Ok(syn::Lit::Int(l)) => l.suffix() == suffix,
        _ => false,
    }
}

fn ty_name(t: &FloatTy) -> String {
    match t {
        FloatTy::F64 => "f64".into(),
        FloatTy::F32 => "f32".into(),
        FloatTy::Generic(i) => i.to_string(),
    }
}
