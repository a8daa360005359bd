//! The reverse of a call: `g_adjoint(args, shadows, ḡ)`, which recomputes `g`'s
//! forward sweep with the arguments' values at the call.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::Rev;
use crate::ir::*;

/// The arguments of an adjoint call. An adjoint passed twice (`g(x, x)`,
/// `g(b[0], &b[1..3])`) cannot be borrowed mutably twice: the repeats accumulate
/// into temporaries (`temps`) that are added in after the call (`merge`). Buffers
/// count by the buffer they view.
#[derive(Default)]
struct AdjointArgs {
    args: Vec<TokenStream>,
    /// Roots whose adjoint is already passed.
    seen: Vec<VarId>,
    temps: Vec<TokenStream>,
    merge: Vec<TokenStream>,
}

impl AdjointArgs {
    /// A fresh zeroed temporary `__dupN` passed instead of an adjoint passed already.
    fn duplicate(&mut self, zero: TokenStream) -> proc_macro2::Ident {
        let tmp = format_ident!("__dup{}", self.temps.len());
        self.temps.push(quote!(let mut #tmp = #zero;));
        self.args.push(quote!(&mut #tmp));
        tmp
    }
}

impl Rev<'_> {
    /// `g_adjoint(args, shadows, ḡ)`, or with the saved values of a split call
    /// (`split.rs`) `g__rev(args, shadows, saved, ḡ)`.
    pub(super) fn gen_adjoint_call(
        &self,
        c: &Call,
        g: &TokenStream,
        saved: Option<&proc_macro2::Ident>,
    ) -> TokenStream {
        let suffix = if saved.is_some() { "__rev" } else { "_adjoint" };
        let callee = self.g.callee_tokens(c, suffix);
        let mut out = AdjointArgs::default();
        for a in &c.args {
            match a {
                CallArg::Float(o) => self.float_arg(o, &mut out),
                CallArg::Buf { var, by_ref } => self.buf_arg(*var, *by_ref, &mut out),
                CallArg::Passive(p) => out.args.push(p.tokens.clone()),
            }
        }
        let AdjointArgs {
            mut args,
            temps,
            merge,
            ..
        } = out;
        args.extend(saved.map(|s| quote!(#s)));
        if temps.is_empty() {
            quote!(let _ = #callee(#(#args,)* #g);)
        } else {
            quote!({ #(#temps)* let _ = #callee(#(#args,)* #g); #(#merge)* })
        }
    }

    /// A float argument and its adjoint (`&mut` a zero when it has none).
    fn float_arg(&self, o: &Operand, out: &mut AdjointArgs) {
        out.args.push(self.rev_primal(o));
        let key = match o {
            Operand::Var(v) => Some(*v),
            Operand::Load(v, _) => Some(self.g.a.root[*v]),
            Operand::Const(_) => None,
        };
        match self.adjoint(o) {
            Some(t) if key.is_some_and(|k| out.seen.contains(&k)) => {
                let tmp = out.duplicate(self.g.zero());
                out.merge.push(self.g.accumulate(&t, false, &quote!(#tmp)));
            }
            Some(t) => {
                out.seen.extend(key);
                out.args.push(quote!(&mut #t));
            }
            None => {
                let z = self.g.zero();
                out.args.push(quote!(&mut #z));
            }
        }
    }

    /// A buffer argument and its adjoint (`&mut` a zero buffer when it has none).
    fn buf_arg(&self, var: VarId, by_ref: bool, out: &mut AdjointArgs) {
        let g = self.g;
        out.args.push(g.buf_arg(var, by_ref));
        if !g.a.active[var] {
            let z = g.zero_buffer(var);
            out.args.push(quote!(&mut #z));
            return;
        }
        let key = g.a.root[var];
        let (whole, arg) = self.buf_shadow(var);
        if out.seen.contains(&key) {
            let tmp = out.duplicate(g.zero_buffer(var));
            let acc = g.accumulate(&quote!(*__t), false, &quote!(*__a));
            out.merge
                .push(quote!(for (__t, __a) in #whole.iter_mut().zip(#tmp.iter()) { #acc }));
            return;
        }
        out.seen.push(key);
        out.args.push(arg);
    }

    /// A buffer's shadow as a value to accumulate into, and as the argument.
    fn buf_shadow(&self, var: VarId) -> (TokenStream, TokenStream) {
        let g = self.g;
        match self.view_span(var) {
            Some((root, start, end)) if !self.plan.view(var).shadow_slice => {
                let d = g.adjoint_ident(root);
                let (start, end) = (&start.tokens, &end.tokens);
                (quote!(#d[#start..#end]), quote!(&mut #d[#start..#end]))
            }
            _ => {
                let d = g.adjoint_ident(var);
                let by_place = g.f.vars[var].is_param || g.f.vars[var].buf == Some(BufRepr::View);
                let arg = if by_place {
                    quote!(&mut *#d)
                } else {
                    quote!(&mut #d)
                };
                (quote!(#d), arg)
            }
        }
    }
}
