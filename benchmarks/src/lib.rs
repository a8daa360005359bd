//! Benchmark problems for `autodiff`: objectives written in the subset that
//! `#[differentiate]` supports, hand-written reverse-mode gradients, and peer
//! gradients (num-dual forward dual numbers, the `reverse` tape, central finite
//! differences).
//!
//! Every problem module has the same shape:
//!
//! - `data`/`load` helpers that build or read inputs;
//! - the **objective** (plain Rust over `&[f64]`, `usize` sizes and `&[usize]`
//!   labels, returning `f64`), ready for `#[differentiate(wrt(...))]`;
//! - `*_hand`: a hand-written reverse-mode gradient. It takes the same
//!   arguments as the generated `_adjoint` would (each shadow right after its
//!   parameter), **overwrites** the shadows with the gradient and returns the
//!   objective value;
//! - `*_generic`: a re-implementation over [`scalar::Scalar`] for the peers;
//! - `*_num_dual`, `*_reverse`, `*_fd`: peer gradients, each returning the value
//!   (where the method gives it) and the flat gradient in parameter order.

// The objectives are written with index loops on purpose: that is the subset
// `#[differentiate]` reads, and the shape of ADBench's C++ references.
#![allow(clippy::needless_range_loop, clippy::manual_memcpy)]
// Objectives take every size and input as a parameter, as the macro requires.
#![allow(clippy::too_many_arguments)]

pub mod ba;
pub mod fd;
pub mod gmm;
pub mod lstm;
pub mod mlp;
pub mod ode;
pub mod rng;
pub mod rosenbrock;
pub mod scalar;
pub mod softmax;
pub mod util;

#[cfg(all(test, feature = "ad_trait"))]
mod ad_trait_tests {
    use crate::util::{assert_grad_close, rho};
    use crate::{gmm, lstm, mlp, rosenbrock, softmax};

    #[test]
    fn ad_trait_matches_hand() {
        for n in rosenbrock::SIZES {
            let x = rosenbrock::data(n);
            let mut g = vec![0.0; n];
            let f = rosenbrock::rosenbrock_hand(&x, &mut g);
            let (fv, ga) = rosenbrock::rosenbrock_ad_trait(&x);
            assert!(rho(fv, f) < 1e-12);
            assert_grad_close("rosenbrock ad_trait", &ga, &g, 1e-8);
        }
        let d = softmax::data(softmax::BATCH, softmax::D, softmax::K);
        let (f, g) = softmax::softmax_loss_hand_flat(&d);
        let (fv, ga) = softmax::softmax_loss_ad_trait(&d, &d.params());
        assert!(rho(fv, f) < 1e-12);
        assert_grad_close("softmax ad_trait", &ga, &g, 1e-8);

        let d = mlp::data(mlp::BATCH, mlp::D, mlp::H, mlp::K);
        let (f, g) = mlp::mlp_loss_hand_flat(&d);
        let (fv, ga) = mlp::mlp_loss_ad_trait(&d, &d.params());
        assert!(rho(fv, f) < 1e-12);
        assert_grad_close("mlp ad_trait", &ga, &g, 1e-8);

        for file in ["1k/gmm_d2_K5.txt", "1k/gmm_d10_K5.txt"] {
            let d = gmm::load_adbench(file);
            let mut g = vec![0.0; d.n_params()];
            let f = gmm::gmm_objective_hand_flat(&d, &mut g);
            let (fv, ga) = gmm::gmm_objective_ad_trait(&d, &d.params());
            assert!(rho(fv, f) < 1e-12);
            assert_grad_close("gmm ad_trait", &ga, &g, 1e-8);
        }

        let d = lstm::load_adbench("lstm_l2_c1024.txt");
        let mut g = vec![0.0; d.n_params()];
        let f = lstm::lstm_objective_hand_flat(&d, &mut g);
        let (fv, ga) = lstm::lstm_objective_ad_trait(&d, &d.params());
        assert!(rho(fv, f) < 1e-12);
        assert_grad_close("lstm ad_trait", &ga, &g, 1e-8);
    }
}
