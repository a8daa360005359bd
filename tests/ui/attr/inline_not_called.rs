use autodiff::differentiate;

#[differentiate]
fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

// a misspelt name would change nothing: it is an error
#[differentiate(inline(sigmod))]
fn f(x: f64) -> f64 {
    sigmoid(x) * x
}

fn main() {}
