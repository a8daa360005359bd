use autodiff::differentiate;

#[differentiate(order = 2)]
fn polar(r: f64, t: f64) -> [f64; 2] {
    [r * t.cos(), r * t.sin()]
}

fn main() {}
