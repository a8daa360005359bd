//! Central finite differences over a flat parameter vector.

/// Step for coordinate value `v`: about the cube root of machine epsilon,
/// scaled by the magnitude of `v`.
#[inline]
pub fn step(v: f64) -> f64 {
    6.0e-6 * v.abs().max(1.0)
}

/// Central differences of `f` at `params` into `grad` (same length):
/// `grad[i] = (f(p + h eᵢ) − f(p − h eᵢ)) / 2h`. `params` is perturbed in place
/// and restored exactly.
pub fn central<F: FnMut(&[f64]) -> f64>(params: &mut [f64], grad: &mut [f64], mut f: F) {
    assert_eq!(params.len(), grad.len());
    for i in 0..params.len() {
        let v = params[i];
        let h = step(v);
        params[i] = v + h;
        let fp = f(params);
        params[i] = v - h;
        let fm = f(params);
        params[i] = v;
        // the step actually taken, as represented in floating point
        let hh = (v + h) - (v - h);
        grad[i] = (fp - fm) / hh;
    }
}
