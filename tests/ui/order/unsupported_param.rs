use autodiff::differentiate;

// `order = 2` converts float parameters to dual numbers; it cannot see into an
// `Option<f64>`.
#[differentiate(order = 2, wrt(x))]
fn f(x: f64, scale: Option<f64>) -> f64 {
    let s = match scale {
        Some(_) => 2.0,
        None => 1.0,
    };
    s * x * x
}

fn main() {}
