//! The attribute on a struct is rejected; the error points at the item.
use autodiff::differentiate;

#[differentiate]
struct Point {
    x: f64,
}

fn main() {}
