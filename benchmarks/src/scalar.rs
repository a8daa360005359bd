//! The scalar interface that the peers' generic re-implementations are written
//! against, implemented for `f64`, num-dual's `DualDVec64` (forward mode, one
//! derivative slot per input) and `reverse::Var` (a tape).
//!
//! Neither peer implements `num_traits::Float` for its type (`reverse::Var` has
//! no `max`, no zero without a tape; `DualDVec64` is not `Copy`), so the generic
//! code uses only what both have: arithmetic with `Self` and with `f64` on the
//! right, a handful of float functions, and `cst` to make a constant.

use num_dual::{Dual2DVec64, DualDVec64, DualNum};
use std::ops::{Add, Div, Mul, Neg, Sub};

/// A differentiable scalar for the generic peer implementations.
pub trait Scalar:
    Clone
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + Add<f64, Output = Self>
    + Sub<f64, Output = Self>
    + Mul<f64, Output = Self>
    + Div<f64, Output = Self>
{
    /// The primal value.
    fn val(&self) -> f64;
    /// A constant `c` usable together with `self` (same tape / derivative size).
    fn cst(&self, c: f64) -> Self;
    fn exp(&self) -> Self;
    fn ln(&self) -> Self;
    fn sqrt(&self) -> Self;
    fn tanh(&self) -> Self;
    fn powi(&self, n: i32) -> Self;
    /// The larger of the two by value (derivative of the one taken).
    fn max_s(self, other: Self) -> Self {
        if other.val() > self.val() {
            other
        } else {
            self
        }
    }
}

impl Scalar for f64 {
    #[inline]
    fn val(&self) -> f64 {
        *self
    }
    #[inline]
    fn cst(&self, c: f64) -> Self {
        c
    }
    #[inline]
    fn exp(&self) -> Self {
        f64::exp(*self)
    }
    #[inline]
    fn ln(&self) -> Self {
        f64::ln(*self)
    }
    #[inline]
    fn sqrt(&self) -> Self {
        f64::sqrt(*self)
    }
    #[inline]
    fn tanh(&self) -> Self {
        f64::tanh(*self)
    }
    #[inline]
    fn powi(&self, n: i32) -> Self {
        f64::powi(*self, n)
    }
}

/// num-dual's first-order (`DualDVec64`: a gradient vector per number) and
/// second-order (`Dual2DVec64`, for `hessian`: also a Hessian matrix) forward
/// modes.
macro_rules! num_dual_scalar {
    ($($t:ty),*) => {$(
        impl Scalar for $t {
            #[inline]
            fn val(&self) -> f64 {
                self.re
            }
            #[inline]
            fn cst(&self, c: f64) -> Self {
                <$t>::from_re(c)
            }
            #[inline]
            fn exp(&self) -> Self {
                DualNum::exp(self)
            }
            #[inline]
            fn ln(&self) -> Self {
                DualNum::ln(self)
            }
            #[inline]
            fn sqrt(&self) -> Self {
                DualNum::sqrt(self)
            }
            #[inline]
            fn tanh(&self) -> Self {
                DualNum::tanh(self)
            }
            #[inline]
            fn powi(&self, n: i32) -> Self {
                DualNum::powi(self, n)
            }
        }
    )*};
}
num_dual_scalar!(DualDVec64, Dual2DVec64);

impl<'a> Scalar for reverse::Var<'a> {
    #[inline]
    fn val(&self) -> f64 {
        self.val
    }
    #[inline]
    fn cst(&self, c: f64) -> Self {
        self.tape.add_var(c)
    }
    #[inline]
    fn exp(&self) -> Self {
        reverse::Var::exp(self)
    }
    #[inline]
    fn ln(&self) -> Self {
        reverse::Var::ln(self)
    }
    #[inline]
    fn sqrt(&self) -> Self {
        reverse::Var::sqrt(self)
    }
    #[inline]
    fn tanh(&self) -> Self {
        reverse::Var::tanh(self)
    }
    #[inline]
    fn powi(&self, n: i32) -> Self {
        reverse::Var::powi(self, n)
    }
}

/// Value and gradient of `f` by num-dual's `gradient` (forward mode with a
/// dynamically sized derivative vector: one pass carrying all n directions).
pub fn num_dual_gradient<F>(params: &[f64], f: F) -> (f64, Vec<f64>)
where
    F: Fn(&[DualDVec64]) -> DualDVec64,
{
    let x = nalgebra::DVector::from_column_slice(params);
    let (v, g) = num_dual::gradient(|v: nalgebra::DVector<DualDVec64>| f(v.as_slice()), &x);
    (v, g.as_slice().to_vec())
}

/// Value, gradient and dense row-major Hessian of `f` by num-dual's `hessian`
/// (`Dual2Vec`: every number carries an n-vector and an n×n matrix).
pub fn num_dual_hessian<F>(params: &[f64], f: F) -> (f64, Vec<f64>, Vec<f64>)
where
    F: Fn(&[Dual2DVec64]) -> Dual2DVec64,
{
    let x = nalgebra::DVector::from_column_slice(params);
    let (v, g, h) = num_dual::hessian(|v: nalgebra::DVector<Dual2DVec64>| f(v.as_slice()), &x);
    // symmetric: column-major storage is the row-major Hessian
    (v, g.as_slice().to_vec(), h.as_slice().to_vec())
}

/// Value and gradient of `f` with the `reverse` crate: a fresh tape, one
/// forward recording pass, one reverse sweep.
pub fn reverse_gradient<F>(params: &[f64], f: F) -> (f64, Vec<f64>)
where
    F: for<'a> Fn(&[reverse::Var<'a>]) -> reverse::Var<'a>,
{
    use reverse::Gradient;
    let tape = reverse::Tape::new();
    let vars = tape.add_vars(params);
    let out = f(&vars);
    let g = out.grad().wrt(&vars);
    (out.val, g)
}

/// `ad_trait`'s reverse-mode `adr`, wrapped: `adr` only mixes with its own
/// `F64` wrapper, not with plain `f64`, so the newtype supplies the `f64`
/// arithmetic the generic code uses.
#[cfg(feature = "ad_trait")]
pub mod ad_trait_peer {
    use super::Scalar;
    use ad_trait::differentiable_function::{
        DerivativeMethodTrait, DifferentiableFunctionTrait, ReverseAD,
    };
    use ad_trait::reverse_ad::adr::adr;
    use ad_trait::AD;
    use std::ops::{Add, Div, Mul, Neg, Sub};

    /// A scalar recorded on ad_trait's global computation graph.
    #[derive(Clone, Copy, Debug)]
    pub struct Adr(pub adr);

    macro_rules! ops {
        ($($tr:ident $m:ident),*) => {$(
            impl $tr for Adr {
                type Output = Adr;
                #[inline]
                fn $m(self, o: Adr) -> Adr {
                    Adr($tr::$m(self.0, o.0))
                }
            }
            impl $tr<f64> for Adr {
                type Output = Adr;
                #[inline]
                fn $m(self, o: f64) -> Adr {
                    Adr($tr::$m(self.0, ad_trait::F64(o)))
                }
            }
        )*};
    }
    ops!(Add add, Sub sub, Mul mul, Div div);

    impl Neg for Adr {
        type Output = Adr;
        #[inline]
        fn neg(self) -> Adr {
            Adr(-self.0)
        }
    }

    impl Scalar for Adr {
        #[inline]
        fn val(&self) -> f64 {
            self.0.value()
        }
        #[inline]
        fn cst(&self, c: f64) -> Self {
            Adr(<adr as AD>::constant(c))
        }
        #[inline]
        fn exp(&self) -> Self {
            Adr(simba::scalar::ComplexField::exp(self.0))
        }
        #[inline]
        fn ln(&self) -> Self {
            Adr(simba::scalar::ComplexField::ln(self.0))
        }
        #[inline]
        fn sqrt(&self) -> Self {
            Adr(simba::scalar::ComplexField::sqrt(self.0))
        }
        #[inline]
        fn tanh(&self) -> Self {
            Adr(simba::scalar::ComplexField::tanh(self.0))
        }
        #[inline]
        fn powi(&self, n: i32) -> Self {
            Adr(simba::scalar::ComplexField::powi(self.0, n))
        }
    }

    struct Func<F> {
        f: F,
        n: usize,
    }

    impl<F: Fn(&[Adr]) -> Adr> DifferentiableFunctionTrait<adr> for Func<F> {
        const NAME: &'static str = "benchmark objective";
        fn call(&self, inputs: &[adr], _freeze: bool) -> Vec<adr> {
            let x: Vec<Adr> = inputs.iter().map(|&v| Adr(v)).collect();
            vec![(self.f)(&x).0]
        }
        fn num_inputs(&self) -> usize {
            self.n
        }
        fn num_outputs(&self) -> usize {
            1
        }
    }

    /// Value and gradient of `f` with ad_trait's `ReverseAD` (resets the global graph,
    /// records, sweeps back).
    pub fn gradient<F: Fn(&[Adr]) -> Adr>(params: &[f64], f: F) -> (f64, Vec<f64>) {
        let func = Func { f, n: params.len() };
        let (v, j) = ReverseAD::new().derivative(params, &func);
        (v[0], j.row(0).iter().copied().collect())
    }
}
