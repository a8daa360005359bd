//! A `&mut self` method is rejected; the error points at the receiver.
use autodiff::differentiate;

struct Model {
    scale: f64,
}

impl Model {
    #[differentiate]
    fn energy(&mut self, x: f64) -> f64 {
        self.scale * x * x
    }
}

fn main() {}
