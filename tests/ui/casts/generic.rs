//! A generic `T: Float` function has no cast to another float type: rejected
//! with the message that says where casts are supported.
use autodiff::{differentiate, Float};

#[differentiate]
fn f<T: Float>(x: T) -> T {
    let h = x as f32;
    T::from(h).unwrap() * x
}

fn main() {}
