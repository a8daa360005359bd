use autodiff::Differentiable;

#[derive(Clone, Differentiable)]
struct Model {
    w: Vec<f64>,
    #[differentiable(frozen)]
    b: f64,
    f: fn(f64) -> f64,
}

fn main() {}
