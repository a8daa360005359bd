use autodiff::differentiate;

// `norm` takes a slice: it has no split pair, so `inline(norm)` is a compile
// error rather than a silent fallback
#[differentiate]
fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

#[differentiate(inline(norm))]
fn f(x: f64) -> f64 {
    let v = [x, 2.0 * x];
    norm(&v) * x
}

fn main() {}
