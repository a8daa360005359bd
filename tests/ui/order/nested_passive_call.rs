use autodiff::differentiate;

#[differentiate(order = 2)]
fn g(x: f64) -> f64 {
    x * x * x
}

fn helper(v: f64) -> f64 {
    v.sqrt()
}

// A nested body runs on dual numbers: a differentiated value reaching a
// function that takes a plain `f64` does not compile (it is never taken passive).
#[differentiate]
fn h(x: f64) -> f64 {
    let (_, d) = g_grad(x);
    helper(d) * x
}

fn main() {}
