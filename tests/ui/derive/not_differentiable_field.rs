use autodiff::Differentiable;

#[derive(Clone)]
struct Config {
    rate: f64,
}

// A field of another type is taken for a nested `Differentiable`: when it is
// not one, the derived impl does not compile (mark it `#[differentiable(skip)]`).
#[derive(Clone, Differentiable)]
struct Model {
    w: Vec<f64>,
    config: Config,
}

fn main() {}
