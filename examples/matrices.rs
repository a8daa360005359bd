//! Vectors and matrices from the lecture: x ∈ ℝⁿ, C = AB, and the gradient of a
//! scalar function of C with respect to A and B, computed by `#[differentiate]`
//! and checked against the matrix-calculus formulas ∇_A = G Bᵀ, ∇_B = Aᵀ G
//! (G = ∂L/∂C).
//!
//! Run with `cargo run --release --example matrices`.

use autodiff::differentiate;

/// C = AB for row-major A (n×k) and B (k×m), into `c` (n×m).
fn matmul(a: &[f64], b: &[f64], c: &mut [f64], n: usize, k: usize, m: usize) {
    for i in 0..n {
        for j in 0..m {
            let mut s = 0.0;
            for t in 0..k {
                s += a[i * k + t] * b[t * m + j];
            }
            c[i * m + j] = s;
        }
    }
}

/// L(A, B) = ½‖AB − Y‖²: how far the product is from a target Y.
#[differentiate(wrt(a, b))]
fn loss(a: &[f64], b: &[f64], y: &[f64], n: usize, k: usize, m: usize) -> f64 {
    let mut total = 0.0;
    for i in 0..n {
        for j in 0..m {
            let mut s = 0.0;
            for t in 0..k {
                s += a[i * k + t] * b[t * m + j];
            }
            let r = s - y[i * m + j];
            total += 0.5 * r * r;
        }
    }
    total
}

fn show(name: &str, x: &[f64], rows: usize, cols: usize) {
    println!("{name} =");
    for r in 0..rows {
        let row: Vec<String> = (0..cols)
            .map(|c| format!("{:8.3}", x[r * cols + c]))
            .collect();
        println!("  [{}]", row.join(" "));
    }
}

fn main() {
    // a vector: x = np.arange(4)
    let x: Vec<f64> = (0..4).map(|i| i as f64).collect();
    println!("x = {x:?}  (x ∈ ℝ⁴)\n");

    let (n, k, m) = (2, 3, 2);
    let a = [1.0, 2.0, 0.5, -1.0, 0.0, 3.0];
    let b = [0.5, -1.0, 1.5, 2.0, -0.5, 1.0];
    let y = [1.0, 0.0, 0.0, 1.0];
    let mut c = vec![0.0; n * m];
    matmul(&a, &b, &mut c, n, k, m);
    show("A (2×3)", &a, n, k);
    show("B (3×2)", &b, k, m);
    show("C = AB (2×2)", &c, n, m);

    let (value, (ga, gb)) = loss_grad(&a, &b, &y, n, k, m);
    println!("\nL = ½‖AB − Y‖² = {value:.4}");

    // the matrix-calculus answer: G = AB − Y, ∇_A = G Bᵀ, ∇_B = Aᵀ G
    let g: Vec<f64> = c.iter().zip(&y).map(|(c, y)| c - y).collect();
    let mut ga_ref = vec![0.0; n * k];
    let mut gb_ref = vec![0.0; k * m];
    for i in 0..n {
        for t in 0..k {
            for j in 0..m {
                ga_ref[i * k + t] += g[i * m + j] * b[t * m + j];
                gb_ref[t * m + j] += a[i * k + t] * g[i * m + j];
            }
        }
    }
    show("∇_A L (generated)", &ga, n, k);
    show("∇_A L = (AB − Y) Bᵀ", &ga_ref, n, k);
    show("∇_B L (generated)", &gb, k, m);
    show("∇_B L = Aᵀ (AB − Y)", &gb_ref, k, m);
    let err = ga
        .iter()
        .zip(&ga_ref)
        .chain(gb.iter().zip(&gb_ref))
        .map(|(p, q)| (p - q).abs())
        .fold(0.0, f64::max);
    println!("\nlargest difference: {err:.1e}");
}
