use autodiff::{differentiate, Differentiable};

#[derive(Clone, Copy, Differentiable)]
struct P {
    w: [f64; 2],
}

impl P {
    #[differentiate(wrt(self))]
    fn total(&self) -> f64 {
        self.w[0] + self.w[1]
    }
}

// The struct is read through its fields or passed to differentiated calls;
// `p.total()` is `P::total(p)` for `p: &P`, but a struct taken by value
// cannot be lent to it.
#[differentiate(wrt(p))]
fn f(p: &P) -> f64 {
    let q = p;
    p.total() + q.w[0]
}

#[differentiate(wrt(p))]
fn g(p: P) -> f64 {
    p.total() * p.w[0]
}

fn main() {}
