//! `let v = w.to_vec();` of a float slice is a local float buffer: it may take differentiated values by index, with no warning.
#![deny(warnings)]
use autodiff::differentiate;

#[differentiate(wrt(w))]
fn f(w: &[f64], data: &[f64]) -> f64 {
    let mut st = data.to_vec();
    for i in 0..st.len() {
        st[i] *= w[i];
    }
    st[0]
}

fn main() {
    let (_, g) = f_grad(&[1.0, 2.0], &[3.0, 4.0]);
    assert_eq!(g, vec![3.0, 0.0]);
}
