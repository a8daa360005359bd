use autodiff::Differentiable;

#[derive(Differentiable)]
enum Layer {
    Dense(Vec<f64>),
    Scale(f64),
}

fn main() {}
