use autodiff::differentiate;

#[differentiate(order = 2)]
fn g(x: f64) -> f64 {
    x * x * x
}

// A nested body (it calls `g_grad`) returns one float.
#[differentiate]
fn h(x: f64) -> [f64; 2] {
    let (v, d) = g_grad(x);
    [v, d]
}

fn main() {}
