//! A call argument whose type the macro cannot see (a field) must be bound with its type first.
use autodiff::differentiate;

#[differentiate]
fn g(a: f64, b: f64) -> f64 {
    a * b
}

pub struct S {
    k: f64,
}

impl S {
    #[differentiate]
    pub fn h(&self, x: f64) -> f64 {
        g(self.k, x)
    }
}

fn main() {}
