use autodiff::differentiate;

#[differentiate(inline)]
fn f(x: f64) -> f64 {
    x * x
}

fn main() {}
