//! Parameters as structs: a value seen as one vector of floats.

use num_traits::Float;

/// A value made of floats (and possibly other, carried-along data) that can be
/// seen as one vector of `F`: a model's parameters, or their gradient, which
/// has the same type.
///
/// The floats are every float field in declaration order, recursively:
/// `write_floats` and `read_floats` use the same order and `float_len` counts
/// them. `zero_like` is a value of the same shape (same buffer lengths) with
/// every float zero and everything else copied, as a gradient starts.
///
/// Implemented for `f32`, `f64`, and element-wise for `Vec<T>`, `[T; N]`,
/// `Box<T>` and tuples of `Differentiable` values; `#[derive(Differentiable)]`
/// (from the `autodiff` crate) implements it for structs. The optimisers'
/// `step_struct`/`minimize_struct` and [`check_gradient_struct`](crate::check_gradient_struct)
/// take such values.
///
/// # Example
///
/// ```
/// use autodiff_runtime::Differentiable;
///
/// let w = vec![[1.0_f64, 2.0], [3.0, 4.0]];
/// assert_eq!(w.float_len(), 4);
/// let mut flat = vec![0.0; 4];
/// w.write_floats(&mut flat);
/// assert_eq!(flat, [1.0, 2.0, 3.0, 4.0]);
///
/// let mut g = w.zero_like();
/// assert_eq!(g, vec![[0.0, 0.0], [0.0, 0.0]]);
/// g.read_floats(&[5.0, 6.0, 7.0, 8.0]);
/// assert_eq!(g[1], [7.0, 8.0]);
/// ```
pub trait Differentiable<F: Float>: Sized {
    /// The same shape with every float zero; other data is copied.
    fn zero_like(&self) -> Self;

    /// How many floats `write_floats` writes.
    fn float_len(&self) -> usize;

    /// Writes the floats, in declaration order, into `out[..self.float_len()]`.
    ///
    /// # Panics
    ///
    /// If `out` is shorter than `float_len()`.
    fn write_floats(&self, out: &mut [F]);

    /// Reads the floats from `src[..self.float_len()]`, in the order
    /// `write_floats` writes them; the shape and other data are unchanged.
    ///
    /// # Panics
    ///
    /// If `src` is shorter than `float_len()`.
    fn read_floats(&mut self, src: &[F]);

    /// The floats as a new vector.
    ///
    /// ```
    /// use autodiff_runtime::Differentiable;
    /// assert_eq!((1.0_f32, [2.0, 3.0]).to_floats(), vec![1.0, 2.0, 3.0]);
    /// ```
    fn to_floats(&self) -> Vec<F> {
        let mut out = vec![F::zero(); self.float_len()];
        self.write_floats(&mut out);
        out
    }
}

macro_rules! scalar {
    ($($t:ty),*) => {$(
        impl Differentiable<$t> for $t {
            #[inline]
            fn zero_like(&self) -> Self {
                0.0
            }
            #[inline]
            fn float_len(&self) -> usize {
                1
            }
            #[inline]
            fn write_floats(&self, out: &mut [$t]) {
                out[0] = *self;
            }
            #[inline]
            fn read_floats(&mut self, src: &[$t]) {
                *self = src[0];
            }
        }
    )*};
}
scalar!(f32, f64);

/// Writes each element after the other.
fn write_seq<'a, F: Float, T: Differentiable<F> + 'a>(
    items: impl Iterator<Item = &'a T>,
    out: &mut [F],
) {
    let mut at = 0;
    for item in items {
        let n = item.float_len();
        item.write_floats(&mut out[at..at + n]);
        at += n;
    }
}

fn read_seq<'a, F: Float, T: Differentiable<F> + 'a>(
    items: impl Iterator<Item = &'a mut T>,
    src: &[F],
) {
    let mut at = 0;
    for item in items {
        let n = item.float_len();
        item.read_floats(&src[at..at + n]);
        at += n;
    }
}

impl<F: Float, T: Differentiable<F>> Differentiable<F> for Vec<T> {
    fn zero_like(&self) -> Self {
        self.iter().map(T::zero_like).collect()
    }
    fn float_len(&self) -> usize {
        self.iter().map(T::float_len).sum()
    }
    fn write_floats(&self, out: &mut [F]) {
        write_seq(self.iter(), out);
    }
    fn read_floats(&mut self, src: &[F]) {
        read_seq(self.iter_mut(), src);
    }
}

impl<F: Float, T: Differentiable<F>, const N: usize> Differentiable<F> for [T; N] {
    fn zero_like(&self) -> Self {
        std::array::from_fn(|i| self[i].zero_like())
    }
    fn float_len(&self) -> usize {
        self.iter().map(T::float_len).sum()
    }
    fn write_floats(&self, out: &mut [F]) {
        write_seq(self.iter(), out);
    }
    fn read_floats(&mut self, src: &[F]) {
        read_seq(self.iter_mut(), src);
    }
}

impl<F: Float, T: Differentiable<F>> Differentiable<F> for Box<T> {
    fn zero_like(&self) -> Self {
        Box::new((**self).zero_like())
    }
    fn float_len(&self) -> usize {
        (**self).float_len()
    }
    fn write_floats(&self, out: &mut [F]) {
        (**self).write_floats(out);
    }
    fn read_floats(&mut self, src: &[F]) {
        (**self).read_floats(src);
    }
}

impl<F: Float, T: Differentiable<F>> Differentiable<F> for Box<[T]> {
    fn zero_like(&self) -> Self {
        self.iter().map(T::zero_like).collect()
    }
    fn float_len(&self) -> usize {
        self.iter().map(T::float_len).sum()
    }
    fn write_floats(&self, out: &mut [F]) {
        write_seq(self.iter(), out);
    }
    fn read_floats(&mut self, src: &[F]) {
        read_seq(self.iter_mut(), src);
    }
}

macro_rules! tuple {
    ($(($($t:ident $i:tt),+))*) => {$(
        impl<F: Float, $($t: Differentiable<F>),+> Differentiable<F> for ($($t,)+) {
            fn zero_like(&self) -> Self {
                ($(self.$i.zero_like(),)+)
            }
            fn float_len(&self) -> usize {
                0 $(+ self.$i.float_len())+
            }
            fn write_floats(&self, out: &mut [F]) {
                let mut at = 0;
                $(
                    let n = self.$i.float_len();
                    self.$i.write_floats(&mut out[at..at + n]);
                    at += n;
                )+
                let _ = at;
            }
            fn read_floats(&mut self, src: &[F]) {
                let mut at = 0;
                $(
                    let n = self.$i.float_len();
                    self.$i.read_floats(&src[at..at + n]);
                    at += n;
                )+
                let _ = at;
            }
        }
    )*};
}
tuple! {
    (A 0)
    (A 0, B 1)
    (A 0, B 1, C 2)
    (A 0, B 1, C 2, D 3)
    (A 0, B 1, C 2, D 3, E 4)
    (A 0, B 1, C 2, D 3, E 4, G 5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_round_trip() {
        let v: (f64, Vec<[f64; 2]>, Box<f64>) = (1.0, vec![[2.0, 3.0], [4.0, 5.0]], Box::new(6.0));
        assert_eq!(v.float_len(), 6);
        assert_eq!(v.to_floats(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let mut z = v.zero_like();
        assert_eq!(z.to_floats(), vec![0.0; 6]);
        assert_eq!(z.1.len(), 2);
        z.read_floats(&[6.0, 5.0, 4.0, 3.0, 2.0, 1.0]);
        assert_eq!(z.1[1], [3.0, 2.0]);
        assert_eq!(*z.2, 1.0);
    }

    #[test]
    fn ragged_vectors_keep_their_lengths() {
        let v: Vec<Vec<f32>> = vec![vec![1.0], vec![], vec![2.0, 3.0]];
        let z = v.zero_like();
        assert_eq!(z.iter().map(Vec::len).collect::<Vec<_>>(), [1, 0, 2]);
        let mut w = v.clone();
        w.read_floats(&[7.0, 8.0, 9.0]);
        assert_eq!(w, vec![vec![7.0], vec![], vec![8.0, 9.0]]);
    }
}
