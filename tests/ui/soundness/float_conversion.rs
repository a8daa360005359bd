//! Converting a differentiated value with `T::from` is rejected: it is a float already.
use autodiff::{differentiate, Float};

#[differentiate]
fn f<T: Float>(x: T) -> T {
    T::from(x).unwrap() * x
}

fn main() {}
