use autodiff::differentiate;

// An error in the body is reported once: `f_hvp` and `f_hessian` still exist.
#[differentiate(order = 2)]
fn f(x: f64) -> f64 {
    let v = vec![x];
    v.iter().filter(|a| **a > 0.0).sum()
}

fn main() {
    let _ = f_hvp(1.0, 1.0);
    let _ = f_hessian(1.0);
}
