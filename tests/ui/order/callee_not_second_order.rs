use autodiff::differentiate;

#[differentiate]
fn g(x: f64) -> f64 {
    x.sin()
}

// The second-order code calls `g`'s dual copies, which only `order = 2` writes.
#[differentiate(order = 2)]
fn f(x: f64) -> f64 {
    g(x) * x
}

fn main() {}
