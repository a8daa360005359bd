use std::collections::HashMap;
use std::rc::Rc;

use autodiff::Differentiable;

// Each of these holds floats the derive cannot see into: rejected, never left
// out of the gradient.
#[derive(Clone, Differentiable)]
struct Model {
    w: Vec<f64>,
    bias: Option<f64>,
    shared: Rc<Vec<f64>>,
    table: HashMap<String, f64>,
}

fn main() {}
