//! An error in a vector-valued function leaves `_fwd`, `_adjoint` and `_jacobian` declared with their signatures: only the error is reported.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64, out: &mut [f64]) -> [f64; 2] {
    out[0] = x;
    [x.fract(), x]
}

fn main() {
    let mut out = [0.0; 1];
    let (_, _j): ([f64; 2], Vec<f64>) = f_jacobian(1.0, &mut out);
    let (_, _t): ([f64; 2], [f64; 2]) = f_fwd(1.0, 1.0, &mut out, &mut [0.0]);
    let mut dx = 0.0;
    let _: [f64; 2] = f_adjoint(1.0, &mut dx, &mut out, &mut [0.0], [1.0, 0.0]);
}
