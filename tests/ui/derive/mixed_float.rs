use autodiff::Differentiable;

#[derive(Clone, Differentiable)]
struct Mixed {
    w: Vec<f64>,
    b: f32,
}

fn main() {}
