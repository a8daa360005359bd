use autodiff::differentiate;

#[differentiate(order = 2)]
fn g(x: f64) -> f64 {
    x * x * x
}

#[differentiate(order = 2)]
fn h(x: f64) -> f64 {
    let (_, d) = g_grad(x);
    d * x
}

fn main() {
    let _ = h_grad(1.0);
}
