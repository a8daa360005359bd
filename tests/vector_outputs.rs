//! Vector-valued functions: `[F; M]` and tuple return values, `&mut [F]` out-parameters, `_jacobian`.
#![allow(clippy::needless_range_loop)]

mod common;
use autodiff::differentiate;

#[differentiate]
fn polar(r: f64, t: f64) -> [f64; 2] {
    [r * t.cos(), r * t.sin()]
}

#[differentiate]
fn pair(x: f64, y: f64) -> (f64, f64) {
    (x * y, x.sin() + y)
}

#[differentiate(wrt(p))]
fn residuals(p: &[f64], t: &[f64], y: &[f64], out: &mut [f64]) {
    for i in 0..t.len() {
        out[i] = p[0] * (-p[1] * t[i]).exp() - y[i];
    }
}

#[test]
fn smoke() {
    let (v, dv) = polar_fwd(2.0, 1.0, 0.5, 0.0);
    assert_eq!(v, polar(2.0, 0.5));
    assert!((dv[0] - 0.5f64.cos()).abs() < 1e-15);
    let (mut dr, mut dt) = (0.0, 0.0);
    let v2 = polar_adjoint(2.0, &mut dr, 0.5, &mut dt, [1.0, 0.0]);
    assert_eq!(v2, v);
    assert!((dr - 0.5f64.cos()).abs() < 1e-15);
    assert!((dt + 2.0 * 0.5f64.sin()).abs() < 1e-15);
    let (v3, j) = polar_jacobian(2.0, 0.5);
    assert_eq!(v3, v);
    println!("{j:?}");
    let (pv, pd) = pair_fwd(1.0, 1.0, 2.0, 0.0);
    println!("{pv:?} {pd:?}");
    let (mut dx, mut dy) = (0.0, 0.0);
    let _ = pair_adjoint(1.0, &mut dx, 2.0, &mut dy, (1.0, 1.0));
    println!("{dx} {dy}");
    let p = [2.0, 0.3];
    let t = [0.0, 1.0, 2.0];
    let y = [1.0, 1.0, 1.0];
    let mut out = [0.0; 3];
    let j = residuals_jacobian(&p, &t, &y, &mut out);
    println!("{out:?} {j:?}");
    let mut dout = [1.0, 0.0, 0.0];
    let mut dp = [0.0; 2];
    residuals_adjoint(&p, &mut dp, &t, &y, &mut out, &mut dout);
    println!("{dp:?} {dout:?}");
}
