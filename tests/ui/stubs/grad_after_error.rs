//! Calls to `f_grad`, `f_fwd` and `f_adjoint` after an erroneous `f` add no error of their own.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64, y: f64) -> f64 {
    x.fract() * y
}

fn main() {
    let (_v, (_gx, _gy)): (f64, (f64, f64)) = f_grad(1.0, 2.0);
    let (_v, _d) = f_fwd(1.0, 1.0, 2.0, 0.0);
    let (mut dx, mut dy) = (0.0, 0.0);
    let _v: f64 = f_adjoint(1.0, &mut dx, 2.0, &mut dy, 1.0);
}
