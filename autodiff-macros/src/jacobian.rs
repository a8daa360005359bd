//! `f_jacobian` of a vector-valued function: the dense Jacobian, row-major, rows the
//! outputs in order (the returned value's elements, then each out-parameter's),
//! columns the active inputs in parameter order (slices and arrays element by
//! element, struct parameters by their floats in `Differentiable` order: their
//! tangents and shadows are structs, seeded with `read_floats` from a flat
//! buffer and read out with `write_floats`, the body reading them through the
//! fields' bindings of `expand.rs`).
//!
//! With no more inputs than outputs it runs forward sweeps: the tangent body
//! generated with [`LANES`] tangents side by side (`__private::Lanes`), one sweep
//! per [`LANES`] input columns (a vector forward mode, as Enzyme's `Dualv`), or,
//! when the body calls other differentiated functions (whose `g_fwd` takes one
//! tangent), the ordinary tangent body once per column. Otherwise it runs reverse
//! sweeps, one per output row: after a single forward sweep when the reverse
//! sweep restores and pops nothing, else the whole adjoint body per row. The bodies are inlined, as `_grad` inlines the
//! adjoint body, because the attribute cannot tell whether `f_fwd` must be called
//! as `Self::f_fwd`. Each sweep starts from the entry values of the out-parameters
//! (saved once), so a body that reads them (`out[i] += ..`) sees the same values in
//! every sweep; a parameter the body reassigns (`mut x`) is copied afresh per sweep.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::emit::Gen;
use crate::ir::*;
use crate::reverse::AdjointParts;

/// An active input or an output, as the Jacobian code handles it.
struct Slot {
    /// The parameter's name and its shadow's (`x`, `dx`).
    x: syn::Ident,
    d: syn::Ident,
    /// The local holding the seed or the accumulated shadow (`__jac_x`).
    buf: syn::Ident,
    shape: SlotShape,
}

enum SlotShape {
    Float,
    /// `&[F]`: a `Vec<F>` local passed as `&v[..]` / `&mut v[..]`.
    Slice,
    /// `[F; N]` (`by_ref: false`) or `&[F; N]`.
    Array {
        len: TokenStream,
        by_ref: bool,
    },
    /// A struct parameter (`&S`, `S`, `&self`): its columns are its floats in the
    /// order of `Differentiable::write_floats`, `len` of them (a local). Its
    /// shadow is a struct `S` (`__jac_buf_p`), set from and read into a flat
    /// buffer (`__jac_seed_p`, zero between uses); the body reads it through the
    /// fields' bindings ([`FieldBind`]).
    Struct {
        ty: TokenStream,
        /// `p` itself, or `&p` for a struct taken by value.
        borrow: TokenStream,
        len: syn::Ident,
        seed: syn::Ident,
    },
}

/// A struct field's bindings (`expand.rs`): the primal (`let p__w: &[F] =
/// &p.w[..];`), its shadow's in `_fwd` and in `_adjoint` (from `dp`), and what
/// the adjoint adds into `dp` at the end (a deferred field's local shadow).
pub struct FieldBind {
    pub root: syn::Ident,
    pub primal: TokenStream,
    pub fwd: TokenStream,
    pub adj: TokenStream,
    pub post: Option<TokenStream>,
}

/// `f_jacobian`, running `bodies` (the tangent and the adjoint body); `None`: the
/// fallback expansion's stub.
pub fn emit_jacobian(
    func: &syn::ItemFn,
    gen: &Gen,
    bodies: Option<(&TokenStream, &TokenStream)>,
    parts: Option<&AdjointParts>,
    fields: &[FieldBind],
    allow: &TokenStream,
) -> TokenStream {
    let f = gen.fty();
    let (z, one) = (gen.zero(), gen.one());
    let ir = gen.f;
    let name = &func.sig.ident;
    let jac_name = format_ident!("{}_jacobian", name);
    let vis = &func.vis;
    let generics = &func.sig.generics;
    let where_clause = &generics.where_clause;
    let unsafety = &func.sig.unsafety;
    let params: Vec<&TokenStream> = ir
        .params
        .iter()
        .filter(|p| !matches!(p.shape, ParamTy::Field { .. }))
        .map(|p| &p.decl)
        .collect();

    let mut inputs = Vec::new();
    let mut outs = Vec::new();
    let mut fresh = Vec::new();
    // nested buffers' flat buffers, bound at entry
    let mut flat = Vec::new();
    // struct parameters' field bindings: at entry, in each forward sweep, in
    // each reverse sweep and after it
    let (mut struct_primal, mut struct_fwd) = (Vec::new(), Vec::new());
    let (mut struct_adj, mut struct_post) = (Vec::new(), Vec::new());
    for p in &ir.params {
        let Some(v) = p.var else { continue };
        if let ParamTy::Nested { .. } = p.shape {
            // its flat buffer is the input, in the nested buffer's place
            let field = ir.params.iter().find_map(|q| match &q.shape {
                ParamTy::Field {
                    root,
                    kind: FieldKind::Flat { jagged },
                    ..
                } if *root == p.ident => Some((q.ident.clone(), *jagged)),
                _ => None,
            });
            if let Some((x, jagged)) = field {
                flat.push(crate::expand::flat_primal(&x, &p.ident, jagged, &f));
                inputs.push(Slot {
                    d: format_ident!("d{}", x),
                    buf: format_ident!("__jac_buf_{}", x),
                    x,
                    shape: SlotShape::Slice,
                });
            }
            continue;
        }
        let x = p.ident.clone();
        let d = format_ident!("d{}", p.ident);
        let buf = format_ident!("__jac_buf_{}", p.ident);
        if reassigned(p) {
            fresh.push(quote!(let mut #x = ::core::clone::Clone::clone(&#x);));
        }
        let shape = match &p.shape {
            ParamTy::Out { len } => {
                outs.push(Slot {
                    x,
                    d,
                    buf,
                    shape: match len {
                        Some(len) => SlotShape::Array {
                            len: len.clone(),
                            by_ref: true,
                        },
                        None => SlotShape::Slice,
                    },
                });
                continue;
            }
            _ if !ir.vars[v].wrt => continue,
            ParamTy::Float => SlotShape::Float,
            ParamTy::Slice => SlotShape::Slice,
            ParamTy::Array { len } => SlotShape::Array {
                len: len.clone(),
                by_ref: ir.vars[v].buf == Some(BufRepr::ArrayRefParam),
            },
            ParamTy::Struct { ty, by_ref, .. } => {
                // its fields are bound once at entry, their shadows per sweep
                let own = fields.iter().filter(|b| b.root == p.ident);
                struct_primal.extend(own.clone().map(|b| b.primal.clone()));
                struct_fwd.extend(own.clone().map(|b| b.fwd.clone()));
                struct_adj.extend(own.clone().map(|b| b.adj.clone()));
                struct_post.extend(own.filter_map(|b| b.post.clone()));
                SlotShape::Struct {
                    ty: ty.clone(),
                    borrow: if *by_ref { quote!(#x) } else { quote!(&#x) },
                    len: format_ident!("__jac_len_{}", p.ident),
                    seed: format_ident!("__jac_seed_{}", p.ident),
                }
            }
            // (nested buffers are their flat buffers, above)
            ParamTy::Receiver
            | ParamTy::Passive
            | ParamTy::Nested { .. }
            | ParamTy::Field { .. } => continue,
        };
        inputs.push(Slot { x, d, buf, shape });
    }

    let len_of = |s: &Slot| match &s.shape {
        SlotShape::Float => quote!(1usize),
        SlotShape::Struct { len, .. } => quote!(#len),
        _ => {
            let x = &s.x;
            quote!(#x.len())
        }
    };
    let n_terms: Vec<TokenStream> = inputs.iter().map(len_of).collect();
    let (ret_rows, ret_len) = match &ir.out.ret {
        RetShape::Float => (quote!(1usize), Some(quote!(1usize))),
        RetShape::Array { len } => (quote!(#len), Some(quote!(#len))),
        RetShape::Tuple(k) => {
            let k = proc_macro2::Literal::usize_unsuffixed(*k);
            (quote!(#k), Some(quote!(#k)))
        }
        RetShape::Unit => (quote!(0usize), None),
    };
    let m_terms: Vec<TokenStream> = outs.iter().map(len_of).collect();

    // Locals: a zeroed buffer per input and per output, and the out-parameters' entry values.
    let alloc = |s: &Slot| {
        let (x, b) = (&s.x, &s.buf);
        match &s.shape {
            SlotShape::Float => quote!(let mut #b: #f = #z;),
            SlotShape::Slice => quote!(let mut #b = ::std::vec![#z; #x.len()];),
            SlotShape::Array { len, .. } => quote!(let mut #b: [#f; #len] = [#z; #len];),
            SlotShape::Struct {
                ty,
                borrow,
                len,
                seed,
            } => {
                let skipped = zero_read_fields(ir, s, &quote!(#b), &z);
                quote! {
                    let mut #b: #ty = <#ty as ::autodiff::Differentiable<#f>>::zero_like(#borrow);
                    #(#skipped)*
                    let mut #seed: ::std::vec::Vec<#f> = ::std::vec![#z; #len];
                }
            }
        }
    };
    // the struct parameters' lengths, before the column count
    let struct_lens: Vec<TokenStream> = inputs
        .iter()
        .filter_map(|s| match &s.shape {
            SlotShape::Struct { ty, borrow, len, .. } => Some(
                quote!(let #len: usize = <#ty as ::autodiff::Differentiable<#f>>::float_len(#borrow);),
            ),
            _ => None,
        })
        .collect();
    let in_alloc: Vec<TokenStream> = inputs.iter().map(alloc).collect();
    let out_alloc: Vec<TokenStream> = outs.iter().map(alloc).collect();
    let entry: Vec<TokenStream> = outs
        .iter()
        .map(|s| {
            let x = &s.x;
            let e = format_ident!("__jac_entry_{}", s.x);
            quote!(let #e = #x.to_vec();)
        })
        .collect();
    let restore: Vec<TokenStream> = outs
        .iter()
        .map(|s| {
            let x = &s.x;
            let e = format_ident!("__jac_entry_{}", s.x);
            quote!(#x.copy_from_slice(&#e);)
        })
        .collect();

    // Forward sweeps: seed column `__jac_col` (`__jac_at`: the first column of the input).
    let mut fwd_seed = Vec::new();
    let mut fwd_unseed = Vec::new();
    for s in &inputs {
        let (d, b) = (&s.d, &s.buf);
        let len = len_of(s);
        match &s.shape {
            SlotShape::Float => {
                fwd_seed.push(quote!(let #d: #f = if __jac_col == __jac_at { #one } else { #z };))
            }
            SlotShape::Struct { ty, seed, .. } => {
                // the seed written into the shadow struct, and taken out again after the sweep
                let read = quote!(<#ty as ::autodiff::Differentiable<#f>>::read_floats(&mut #b, &#seed[..]););
                fwd_seed.push(quote! {
                    if __jac_col >= __jac_at && __jac_col < __jac_at + #len {
                        #seed[__jac_col - __jac_at] = #one;
                        #read
                        #seed[__jac_col - __jac_at] = #z;
                    }
                    let #d = &#b;
                });
                fwd_unseed.push(quote! {
                    if __jac_col >= __jac_at && __jac_col < __jac_at + #len { #read }
                });
            }
            shape => {
                fwd_seed.push(quote! {
                    let __jac_hit = __jac_col >= __jac_at && __jac_col < __jac_at + #len;
                    if __jac_hit { #b[__jac_col - __jac_at] = #one; }
                });
                fwd_seed.push(match shape {
                    SlotShape::Array { by_ref: false, .. } => quote!(let #d = #b;),
                    SlotShape::Array { by_ref: true, .. } => quote!(let #d = &#b;),
                    _ => quote!(let #d = &#b[..];),
                });
                fwd_unseed.push(quote! {
                    if __jac_col >= __jac_at && __jac_col < __jac_at + #len { #b[__jac_col - __jac_at] = #z; }
                });
            }
        }
        fwd_seed.push(quote!(__jac_at += #len;));
        fwd_unseed.push(quote!(__jac_at += #len;));
    }
    let out_shadow = |s: &Slot| {
        let (d, b) = (&s.d, &s.buf);
        match s.shape {
            SlotShape::Slice => quote!(let #d = &mut #b[..];),
            _ => quote!(let #d = &mut #b;),
        }
    };
    let fwd_outs: Vec<TokenStream> = outs
        .iter()
        .map(out_shadow)
        .chain(struct_fwd.iter().cloned())
        .collect();
    // The column: the tangent of the returned value, then of each out-parameter.
    let mut fwd_column = Vec::new();
    let put = quote!(__jac[__jac_row * __jac_n + __jac_col]);
    match &ir.out.ret {
        RetShape::Float => fwd_column.push(quote! { #put = __jac_res.1; __jac_row += 1; }),
        RetShape::Array { len } => fwd_column.push(quote! {
            for __jac_k in 0..#len { __jac[(__jac_row + __jac_k) * __jac_n + __jac_col] = __jac_res.1[__jac_k]; }
            __jac_row += #len;
        }),
        RetShape::Tuple(k) => {
            for i in 0..*k {
                let i = proc_macro2::Literal::usize_unsuffixed(i);
                fwd_column.push(quote! { #put = __jac_res.1.#i; __jac_row += 1; });
            }
        }
        RetShape::Unit => {}
    }
    for s in &outs {
        let b = &s.buf;
        fwd_column.push(quote! {
            for __jac_t in #b.iter() { #put = *__jac_t; __jac_row += 1; }
        });
    }
    let fwd_value = match &ir.out.ret {
        RetShape::Unit => quote!(),
        _ => quote!(__jac_value = __jac_res.0;),
    };

    // Reverse sweeps: seed row `__jac_row`.
    let rev_dret = match &ir.out.ret {
        RetShape::Float => quote!(let dret: #f = if __jac_row == 0 { #one } else { #z };),
        RetShape::Array { len } => quote! {
            let mut dret: [#f; #len] = [#z; #len];
            if __jac_row < #len { dret[__jac_row] = #one; }
        },
        RetShape::Tuple(k) => {
            let elems = (0..*k).map(|i| quote!(if __jac_row == #i { #one } else { #z }));
            quote!(let dret = (#(#elems,)*);)
        }
        RetShape::Unit => quote!(),
    };
    let mut rev_seed_outs = Vec::new();
    let ret_count = ret_len.clone().unwrap_or_else(|| quote!(0usize));
    rev_seed_outs.push(quote!(let mut __jac_at: usize = #ret_count;));
    for s in &outs {
        let b = &s.buf;
        let len = len_of(s);
        rev_seed_outs.push(quote! {
            if __jac_row >= __jac_at && __jac_row < __jac_at + #len { #b[__jac_row - __jac_at] = #one; }
            __jac_at += #len;
        });
    }
    let rev_shadows: Vec<TokenStream> = inputs
        .iter()
        .map(|s| {
            let (d, b) = (&s.d, &s.buf);
            match s.shape {
                SlotShape::Slice => quote!(let #d = &mut #b[..];),
                SlotShape::Float | SlotShape::Array { .. } | SlotShape::Struct { .. } => {
                    quote!(let #d = &mut #b;)
                }
            }
        })
        .chain(outs.iter().map(out_shadow))
        .chain(struct_adj.iter().cloned())
        .collect();
    // The row: each input's accumulated shadow, which is then zeroed for the next row.
    let mut rev_row = vec![quote!(let mut __jac_at: usize = 0;)];
    for s in &inputs {
        let b = &s.buf;
        rev_row.push(match &s.shape {
            SlotShape::Float => quote! {
                __jac[__jac_row * __jac_n + __jac_at] = #b; #b = #z; __jac_at += 1;
            },
            SlotShape::Struct { ty, len, seed, .. } => quote! {
                let __jac_k = __jac_row * __jac_n + __jac_at;
                <#ty as ::autodiff::Differentiable<#f>>::write_floats(&#b, &mut __jac[__jac_k..__jac_k + #len]);
                <#ty as ::autodiff::Differentiable<#f>>::read_floats(&mut #b, &#seed[..]);
                __jac_at += #len;
            },
            _ => quote! {
                for __jac_g in #b.iter_mut() {
                    __jac[__jac_row * __jac_n + __jac_at] = *__jac_g; *__jac_g = #z; __jac_at += 1;
                }
            },
        });
    }
    let rev_value = match &ir.out.ret {
        RetShape::Unit => quote!(),
        _ => quote!(__jac_value = __jac_res;),
    };

    let rty = gen.ret_ty();
    let value_init = match &ir.out.ret {
        RetShape::Float => quote!(let mut __jac_value: #f = #z;),
        RetShape::Array { len } => quote!(let mut __jac_value: [#f; #len] = [#z; #len];),
        RetShape::Tuple(k) => {
            let zs = (0..*k).map(|_| z.clone());
            quote!(let mut __jac_value: #rty = (#(#zs,)*);)
        }
        RetShape::Unit => quote!(),
    };
    let (jac_ret, result) = match &ir.out.ret {
        RetShape::Unit => (quote!(::std::vec::Vec<#f>), quote!(__jac)),
        _ => (
            quote!((#rty, ::std::vec::Vec<#f>)),
            quote!((__jac_value, __jac)),
        ),
    };
    let doc_text = format!(
        " Value and dense Jacobian of [`{name}`], row-major: one row per output (the returned value's elements, then each out-parameter's), one column per active input element in parameter order. Out-parameters are written. Generated by `#[differentiate]`."
    );
    let doc = &doc_text;
    let Some((tangent, adjoint)) = bodies else {
        // the fallback expansion's stub
        return quote! {
            #[doc = #doc]
            #allow
            #vis #unsafety fn #jac_name #generics (#(#params),*) -> #jac_ret #where_clause {
                ::core::unimplemented!("`#[differentiate]` reported an error")
            }
        };
    };
    let reverse = match parts.filter(|p| p.rerunnable) {
        // one forward sweep, then one reverse sweep per output
        Some(p) => {
            let (pre, row, post) = (&p.pre, &p.row, &p.post);
            let value = match &ir.out.ret {
                RetShape::Unit => quote!(),
                _ => quote!(__jac_value = __value;),
            };
            quote! {
                #(#restore)*
                #(#fresh)*
                #pre
                for __jac_row in 0..__jac_m {
                    #rev_dret
                    #(#rev_seed_outs)*
                    #(#rev_shadows)*
                    { #row }
                    #(#struct_post)*
                    #(#rev_row)*
                }
                #post
                #value
            }
        }
        // one whole adjoint (forward and reverse sweep) per output
        None => quote! {
            for __jac_row in 0..__jac_m.max(1) {
                #(#restore)*
                #(#fresh)*
                #rev_dret
                #(#rev_seed_outs)*
                #(#rev_shadows)*
                let __jac_res = { #adjoint };
                #(#struct_post)*
                if __jac_row < __jac_m {
                    #(#rev_row)*
                }
                #rev_value
            }
        },
    };
    // (a struct field passed to a call, or a nested buffer's, has no lanes form)
    let lane_fields = ir.params.iter().all(|p| {
        !matches!(
            &p.shape,
            ParamTy::Field {
                kind: FieldKind::Passed | FieldKind::Flat { .. },
                root,
                ..
            } if inputs.iter().any(|s| s.x == *root && matches!(s.shape, SlotShape::Struct { .. }))
        )
    });
    let lanes = (ir.lanes_ok() && lane_fields)
        .then(|| gen_lanes_forward(gen, &inputs, &outs, &restore, &fresh, &len_of));
    // A struct passed to a call: the callee reads fields of the tangent struct
    // the body does not, which `zero_like` may have copied (a skipped float field,
    // [`zero_read_fields`]); one more sweep with no seed checks that no such
    // tangent reaches the outputs (it would be in every column).
    let leak_check = inputs
        .iter()
        .any(|s| matches!(s.shape, SlotShape::Struct { .. }))
        .then(|| leak_check(ir, &outs, &z));
    let sweeps = match leak_check {
        Some(_) => quote!(0..__jac_n + 1),
        None => quote!(0..__jac_n.max(1)),
    };
    let leak_check = leak_check.map(|c| quote!(else { #c }));
    let forward = match lanes {
        Some(lanes) => lanes,
        // one forward sweep per input (at least one, for the value)
        None => quote! {
                for __jac_col in #sweeps {
                    #(#restore)*
                    #(#fresh)*
                    let mut __jac_at: usize = 0;
                    #(#fwd_seed)*
                    #(#fwd_outs)*
                    let __jac_res = { #tangent };
                    if __jac_col < __jac_n {
                        let mut __jac_row: usize = 0;
                        #(#fwd_column)*
                        let mut __jac_at: usize = 0;
                        #(#fwd_unseed)*
                    } #leak_check
                    #fwd_value
                }
        },
    };
    quote! {
        #[doc = #doc]
        #allow
        #vis #unsafety fn #jac_name #generics (#(#params),*) -> #jac_ret #where_clause {
            #(#flat)*
            #(#struct_primal)*
            #(#struct_lens)*
            let __jac_n: usize = 0usize #(+ #n_terms)*;
            let __jac_m: usize = #ret_rows #(+ #m_terms)*;
            let mut __jac = ::autodiff::__private::zeroed_vec(#z, __jac_m * __jac_n);
            #(#entry)*
            #value_init
            #(#in_alloc)*
            #(#out_alloc)*
            if __jac_n <= __jac_m {
                #forward
            } else {
                #reverse
            }
            #result
        }
    }
}

/// Input columns per forward sweep of the vector forward mode.
const LANES: usize = 4;

/// The forward sweeps of the vector forward mode: [`LANES`] input columns per sweep,
/// each tangent a `Lanes<F, LANES>`.
fn gen_lanes_forward(
    gen: &Gen,
    inputs: &[Slot],
    outs: &[Slot],
    restore: &[TokenStream],
    fresh: &[TokenStream],
    len_of: &dyn Fn(&Slot) -> TokenStream,
) -> TokenStream {
    let ir = gen.f;
    let lf = Func {
        lanes: Some(LANES),
        ..ir.clone()
    };
    let lg = Gen { f: &lf, a: gen.a };
    let tangent = lg.gen_tangent_body();
    let (lt, lz) = (lg.tan_ty(), lg.tan_zero());
    let (f, z, one) = (gen.fty(), gen.zero(), gen.one());
    let k = proc_macro2::Literal::usize_unsuffixed(LANES);
    let lbuf = |s: &Slot| format_ident!("__jac_lanes_{}", s.x);
    let alloc = |s: &Slot| {
        let (x, b) = (&s.x, lbuf(s));
        match &s.shape {
            SlotShape::Float => quote!(),
            SlotShape::Slice => quote!(let mut #b = ::std::vec![#lz; #x.len()];),
            SlotShape::Array { len, .. } => quote!(let mut #b: [#lt; #len] = [#lz; #len];),
            // a shadow struct per lane
            SlotShape::Struct { ty, borrow, .. } => {
                let skipped = zero_read_fields(ir, s, &quote!(#b[__jac_l]), &z);
                quote! {
                    let mut #b: [#ty; #k] = ::core::array::from_fn(|_| {
                        <#ty as ::autodiff::Differentiable<#f>>::zero_like(#borrow)
                    });
                    for __jac_l in 0..#k {
                        #(#skipped)*
                    }
                }
            }
        }
    };
    let allocs: Vec<TokenStream> = inputs.iter().chain(outs).map(alloc).collect();
    let mut seeds = Vec::new();
    for s in inputs {
        let (d, b, len) = (&s.d, lbuf(s), len_of(s));
        seeds.push(match &s.shape {
            SlotShape::Float => quote!(let #d: #lt = <#lt>::seed(__jac_at, __jac_c0);),
            SlotShape::Struct { ty, seed, .. } => {
                let read = quote!(<#ty as ::autodiff::Differentiable<#f>>::read_floats(&mut #b[__jac_l], &#seed[..]););
                let fields = lane_field_tangents(ir, s, &lt);
                quote! {
                    // lane `l` seeds column `c0 + l` (and clears the last sweep's seed)
                    for __jac_l in 0..#k {
                        let __jac_c = __jac_c0 + __jac_l;
                        if __jac_c >= __jac_at && __jac_c < __jac_at + #len {
                            #seed[__jac_c - __jac_at] = #one;
                            #read
                            #seed[__jac_c - __jac_at] = #z;
                        } else if __jac_c >= __jac_at + #k && __jac_c - #k < __jac_at + #len {
                            #read
                        }
                    }
                    #(#fields)*
                }
            }
            shape => {
                let bind = match shape {
                    SlotShape::Array { by_ref: false, .. } => quote!(let #d = #b;),
                    SlotShape::Array { by_ref: true, .. } => quote!(let #d = &#b;),
                    _ => quote!(let #d = &#b[..];),
                };
                quote! {
                    for (__jac_j, __jac_e) in #b.iter_mut().enumerate() {
                        *__jac_e = <#lt>::seed(__jac_at + __jac_j, __jac_c0);
                    }
                    #bind
                }
            }
        });
        seeds.push(quote!(__jac_at += #len;));
    }
    let out_shadows: Vec<TokenStream> = outs
        .iter()
        .map(|s| {
            let (d, b) = (&s.d, lbuf(s));
            match s.shape {
                SlotShape::Slice => quote!(let #d = &mut #b[..];),
                _ => quote!(let #d = &mut #b;),
            }
        })
        .collect();
    let put = quote!(__jac[__jac_row * __jac_n + __jac_col]);
    let mut column = Vec::new();
    match &ir.out.ret {
        RetShape::Float => column.push(quote! { #put = __jac_res.1.0[__jac_l]; __jac_row += 1; }),
        RetShape::Array { len } => column.push(quote! {
            for __jac_k in 0..#len { __jac[(__jac_row + __jac_k) * __jac_n + __jac_col] = __jac_res.1[__jac_k].0[__jac_l]; }
            __jac_row += #len;
        }),
        RetShape::Tuple(n) => {
            for i in 0..*n {
                let i = proc_macro2::Literal::usize_unsuffixed(i);
                column.push(quote! { #put = __jac_res.1.#i.0[__jac_l]; __jac_row += 1; });
            }
        }
        RetShape::Unit => {}
    }
    for s in outs {
        let b = lbuf(s);
        column.push(quote! {
            for __jac_t in #b.iter() { #put = __jac_t.0[__jac_l]; __jac_row += 1; }
        });
    }
    let value = match &ir.out.ret {
        RetShape::Unit => quote!(),
        _ => quote!(__jac_value = __jac_res.0;),
    };
    quote! {
        #(#allocs)*
        // one forward sweep per #k input columns (at least one, for the value)
        let mut __jac_c0: usize = 0;
        loop {
            #(#restore)*
            #(#fresh)*
            let mut __jac_at: usize = 0;
            #(#seeds)*
            #(#out_shadows)*
            let __jac_res = { #tangent };
            for __jac_l in 0..#k {
                let __jac_col = __jac_c0 + __jac_l;
                if __jac_col < __jac_n {
                    let mut __jac_row: usize = 0;
                    #(#column)*
                }
            }
            #value
            __jac_c0 += #k;
            if __jac_c0 >= __jac_n {
                break;
            }
        }
    }
}

/// After a forward sweep with no seed: every output tangent is zero, or the
/// sweep panics (a struct's tangent outside its floats reached the outputs).
fn leak_check(ir: &Func, outs: &[Slot], z: &TokenStream) -> TokenStream {
    let mut tangents = Vec::new();
    match &ir.out.ret {
        RetShape::Float => tangents.push(quote!(::core::iter::once(&__jac_res.1))),
        RetShape::Array { .. } => tangents.push(quote!(__jac_res.1.iter())),
        RetShape::Tuple(k) => {
            let each = (0..*k).map(|i| {
                let i = proc_macro2::Literal::usize_unsuffixed(i);
                quote!(&__jac_res.1.#i)
            });
            tangents.push(quote!([#(#each),*].into_iter()));
        }
        RetShape::Unit => {}
    }
    for s in outs {
        let b = &s.buf;
        tangents.push(quote!(#b.iter()));
    }
    let msg = "a struct's tangent outside its floats reached an output of the function: a called function reads a field of the struct that `Differentiable` leaves out (`#[differentiable(skip)]`) as a differentiated float; pass that value as a parameter of its own";
    quote! {
        // (NaN is not a leak: a NaN tangent of a zero seed comes from the values)
        let __jac_leak = false #(|| #tangents.any(|__jac_t| *__jac_t != #z && *__jac_t == *__jac_t))*;
        ::core::assert!(!__jac_leak, #msg);
    }
}

/// Zeroes, in the tangent struct `target` made by `zero_like`, the fields of the
/// struct `s` the body reads: `zero_like` copies a `#[differentiable(skip)]`
/// field (data, not among the floats), which `read_floats` then leaves alone, so
/// a skipped float field would carry its value as its tangent through every
/// forward sweep. (A skipped field the body only passes to a call is not seen
/// here.)
fn zero_read_fields(
    ir: &Func,
    s: &Slot,
    target: &TokenStream,
    z: &TokenStream,
) -> Vec<TokenStream> {
    let mut out = Vec::new();
    for p in &ir.params {
        let ParamTy::Field {
            root, access, kind, ..
        } = &p.shape
        else {
            continue;
        };
        if *root != s.x {
            continue;
        }
        out.push(match kind {
            FieldKind::Float => quote!(#target #access = #z;),
            FieldKind::DerefFloat => quote!(*#target #access = #z;),
            FieldKind::Buf => {
                quote!(for __jac_e in #target #access [..].iter_mut() { *__jac_e = #z; })
            }
            FieldKind::Int(_) | FieldKind::Passed | FieldKind::Flat { .. } => continue,
        });
    }
    out
}

/// The lanes tangents of the struct `s`'s fields, gathered from its shadow
/// structs `__jac_lanes_p[l]`, one per lane: `Lanes([b_0.w[k], .., b_3.w[k]])`.
fn lane_field_tangents(ir: &Func, s: &Slot, lt: &TokenStream) -> Vec<TokenStream> {
    let b = format_ident!("__jac_lanes_{}", s.x);
    let lanes = quote!(::autodiff::__private::Lanes);
    let mut out = Vec::new();
    for p in &ir.params {
        let ParamTy::Field {
            root, access, kind, ..
        } = &p.shape
        else {
            continue;
        };
        if *root != s.x {
            continue;
        }
        let (x, d) = (&p.ident, format_ident!("d{}", p.ident));
        match kind {
            FieldKind::Float | FieldKind::DerefFloat => {
                let star = (*kind == FieldKind::DerefFloat).then(|| quote!(*));
                out.push(quote!(
                    let #d: #lt = #lanes(::core::array::from_fn(|__jac_l| #star #b[__jac_l] #access));
                ));
            }
            FieldKind::Buf => {
                let acc = format_ident!("__jac_acc_{}", p.ident);
                out.push(quote! {
                    let #acc: ::std::vec::Vec<#lt> = (0..#x.len())
                        .map(|__jac_k| #lanes(::core::array::from_fn(|__jac_l| #b[__jac_l] #access [__jac_k])))
                        .collect();
                    let #d: &[#lt] = &#acc[..];
                });
            }
            // (no tangent; `Passed` and `Flat` fields take the other forward sweeps)
            FieldKind::Int(_) | FieldKind::Passed | FieldKind::Flat { .. } => {}
        }
    }
    out
}

/// A parameter bound `mut` (the body may reassign it): copied afresh for each sweep.
fn reassigned(p: &Param) -> bool {
    match syn::parse2::<syn::FnArg>(p.decl.clone()) {
        Ok(syn::FnArg::Typed(pt)) => {
            matches!(&*pt.pat, syn::Pat::Ident(pi) if pi.mutability.is_some())
        }
        _ => false,
    }
}
