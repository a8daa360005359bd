//! The derivative rules of the lecture, computed by `#[differentiate]` and
//! printed beside their analytic values: the constant rule, the power rule,
//! eˣ, ln x, the product and quotient rules, partial derivatives and the
//! gradient ∇(2x + 5y) = [2, 5], the chain rule and the multivariate chain rule.
//!
//! Run with `cargo run --release --example derivatives`.

use autodiff::differentiate;

#[differentiate]
fn constant(x: f64) -> f64 {
    let c = 7.0;
    c + 0.0 * x
}

#[differentiate]
fn power(x: f64) -> f64 {
    x.powf(3.5)
}

#[differentiate]
fn exponential(x: f64) -> f64 {
    x.exp()
}

#[differentiate]
fn logarithm(x: f64) -> f64 {
    x.ln()
}

#[differentiate]
fn product(x: f64) -> f64 {
    // f(x) g(x) with f = x², g = sin x
    (x * x) * x.sin()
}

#[differentiate]
fn quotient(x: f64) -> f64 {
    // f(x) / g(x) with f = x, g = 1 + x²
    x / (1.0 + x * x)
}

/// The lecture's gradient example.
#[differentiate]
fn plane(x: f64, y: f64) -> f64 {
    2.0 * x + 5.0 * y
}

/// u = g(x) = x² + 1
#[differentiate]
fn inner(x: f64) -> f64 {
    x * x + 1.0
}

/// y = f(u) = ln u, so dy/dx = (1/u) · 2x: the chain rule across two functions.
#[differentiate]
fn chain(x: f64) -> f64 {
    inner(x).ln()
}

/// y = u₁ · u₂ with u₁ = x₁ + x₂ and u₂ = x₁ x₂:
/// ∂y/∂x₁ = ∂y/∂u₁ · ∂u₁/∂x₁ + ∂y/∂u₂ · ∂u₂/∂x₁ = u₂ + u₁ x₂.
#[differentiate]
fn u1(x1: f64, x2: f64) -> f64 {
    x1 + x2
}

#[differentiate]
fn u2(x1: f64, x2: f64) -> f64 {
    x1 * x2
}

#[differentiate]
fn multivariate(x1: f64, x2: f64) -> f64 {
    u1(x1, x2) * u2(x1, x2)
}

fn row(rule: &str, at: f64, analytic: f64, generated: f64) {
    println!(
        "{rule:<34} x = {at:<5} analytic {analytic:>12.6}   generated {generated:>12.6}   |diff| {:.1e}",
        (analytic - generated).abs()
    );
}

fn main() {
    println!("One variable: d/dx at a point, analytic rule beside the generated derivative\n");
    let x = 1.5;
    row("constant rule: D c = 0", x, 0.0, constant_grad(x).1);
    row(
        "power rule: D x^3.5 = 3.5 x^2.5",
        x,
        3.5 * x.powf(2.5),
        power_grad(x).1,
    );
    row("D e^x = e^x", x, x.exp(), exponential_grad(x).1);
    row("D ln x = 1/x", x, 1.0 / x, logarithm_grad(x).1);
    row(
        "product rule: (x² sin x)'",
        x,
        2.0 * x * x.sin() + x * x * x.cos(),
        product_grad(x).1,
    );
    row(
        "quotient rule: (x / (1+x²))'",
        x,
        ((1.0 + x * x) - x * 2.0 * x) / ((1.0 + x * x) * (1.0 + x * x)),
        quotient_grad(x).1,
    );

    println!("\nPartial derivatives and the gradient of f(x, y) = 2x + 5y");
    let (value, (dfdx, dfdy)) = plane_grad(1.0, 2.0);
    println!("  f(1, 2) = {value}, ∇f = [{dfdx}, {dfdy}]   (lecture: [2, 5])");
    let (_, along_x) = plane_fwd(1.0, 1.0, 2.0, 0.0);
    let (_, along_y) = plane_fwd(1.0, 0.0, 2.0, 1.0);
    println!("  forward mode, one direction at a time: ∂f/∂x = {along_x}, ∂f/∂y = {along_y}");

    println!("\nChain rule: y = ln(u), u = x² + 1, dy/dx = dy/du · du/dx");
    row(
        "chain rule",
        x,
        (1.0 / (x * x + 1.0)) * 2.0 * x,
        chain_grad(x).1,
    );

    println!("\nMultivariate chain rule: y = u₁ u₂, u₁ = x₁ + x₂, u₂ = x₁ x₂");
    let (x1, x2) = (2.0, 3.0);
    let (uu1, uu2) = (x1 + x2, x1 * x2);
    let (_, (g1, g2)) = multivariate_grad(x1, x2);
    println!(
        "  ∂y/∂x₁ = u₂·1 + u₁·x₂ = {}   generated {g1}",
        uu2 + uu1 * x2
    );
    println!(
        "  ∂y/∂x₂ = u₂·1 + u₁·x₁ = {}   generated {g2}",
        uu2 + uu1 * x1
    );
}
