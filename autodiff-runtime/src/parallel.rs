//! Data-parallel gradients: a batch objective summed over chunks of samples
//! on all cores (feature `rayon`), with a fixed reduction order.

use core::ops::Range;

use num_traits::Float;
use rayon::prelude::*;

/// Value and gradient of a sum over `samples` samples, computed chunk by
/// chunk on all cores.
///
/// `objective(range, params, grad)` returns the value of the samples in
/// `range` and *adds* their gradient into `grad` (which starts zeroed) — the
/// shape of a generated `_adjoint` called on a slice of the data. The chunks
/// are `chunk` samples long (the last may be shorter) whatever the number of
/// threads, and their values and gradients are added in chunk order, so the
/// result is the same from run to run and on any machine, and equal bit for
/// bit to [`batch_gradient`] with the same `chunk`. Against one call over all
/// samples it differs only by the reassociation of the sums.
///
/// The gradient of all chunks is **added** into `grad` (as an adjoint would);
/// the value is returned.
///
/// # Example
///
/// ```
/// use autodiff_runtime::{batch_gradient, par_batch_gradient};
///
/// // Σᵢ (w·xᵢ − yᵢ)² over 1000 samples of one feature
/// let xs: Vec<f64> = (0..1000).map(|i| i as f64 / 1000.0).collect();
/// let ys: Vec<f64> = xs.iter().map(|x| 3.0 * x).collect();
/// let chunk_loss = |r: std::ops::Range<usize>, w: &[f64], g: &mut [f64]| {
///     let mut total = 0.0;
///     for i in r {
///         let e = w[0] * xs[i] - ys[i];
///         total += e * e;
///         g[0] += 2.0 * e * xs[i];
///     }
///     total
/// };
/// let mut g = [0.0];
/// let v = par_batch_gradient(&[1.0], &mut g, xs.len(), 128, chunk_loss);
/// let mut g_serial = [0.0];
/// let v_serial = batch_gradient(&[1.0], &mut g_serial, xs.len(), 128, chunk_loss);
/// assert_eq!((v, g), (v_serial, g_serial)); // bit for bit
/// ```
///
/// # Panics
///
/// If `chunk` is 0.
pub fn par_batch_gradient<F, O>(
    params: &[F],
    grad: &mut [F],
    samples: usize,
    chunk: usize,
    objective: O,
) -> F
where
    F: Float + Send + Sync,
    O: Fn(Range<usize>, &[F], &mut [F]) -> F + Sync,
{
    let parts: Vec<(F, Vec<F>)> = chunks(samples, chunk)
        .into_par_iter()
        .map(|r| {
            let mut g = vec![F::zero(); grad.len()];
            let v = objective(r, params, &mut g);
            (v, g)
        })
        .collect();
    reduce(parts, grad)
}

/// [`par_batch_gradient`] on one thread: the same chunks, added in the same
/// order, so the same result bit for bit.
///
/// # Panics
///
/// If `chunk` is 0.
pub fn batch_gradient<F, O>(
    params: &[F],
    grad: &mut [F],
    samples: usize,
    chunk: usize,
    objective: O,
) -> F
where
    F: Float,
    O: Fn(Range<usize>, &[F], &mut [F]) -> F,
{
    let parts: Vec<(F, Vec<F>)> = chunks(samples, chunk)
        .into_iter()
        .map(|r| {
            let mut g = vec![F::zero(); grad.len()];
            let v = objective(r, params, &mut g);
            (v, g)
        })
        .collect();
    reduce(parts, grad)
}

fn chunks(samples: usize, chunk: usize) -> Vec<Range<usize>> {
    assert!(chunk > 0, "the chunk size must be positive");
    (0..samples.div_ceil(chunk))
        .map(|c| c * chunk..((c + 1) * chunk).min(samples))
        .collect()
}

/// Values and gradients added in chunk order.
fn reduce<F: Float>(parts: Vec<(F, Vec<F>)>, grad: &mut [F]) -> F {
    let mut value = F::zero();
    let mut total = vec![F::zero(); grad.len()];
    for (v, g) in parts {
        value = value + v;
        for (t, x) in total.iter_mut().zip(&g) {
            *t = *t + *x;
        }
    }
    for (g, t) in grad.iter_mut().zip(&total) {
        *g = *g + *t;
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_every_sample_once() {
        assert_eq!(chunks(10, 4), vec![0..4, 4..8, 8..10]);
        assert_eq!(chunks(8, 4), vec![0..4, 4..8]);
        assert!(chunks(0, 4).is_empty());
        assert_eq!(chunks(3, 100), vec![0..3]);
    }

    #[test]
    fn parallel_equals_serial_bit_for_bit_and_adds_into_grad() {
        let xs: Vec<f64> = (0..10_001)
            .map(|i| ((i * 7919) % 1000) as f64 / 997.0)
            .collect();
        let f = |r: Range<usize>, w: &[f64], g: &mut [f64]| {
            let mut t = 0.0;
            for i in r {
                let e = (w[0] * xs[i]).sin() + w[1] - xs[i] * xs[i];
                t += e * e;
                g[0] += 2.0 * e * (w[0] * xs[i]).cos() * xs[i];
                g[1] += 2.0 * e;
            }
            t
        };
        let w = [0.7, -0.2];
        for chunk in [1, 7, 256, 20_000] {
            let mut gp = [1.0, 2.0];
            let mut gs = [1.0, 2.0];
            let vp = par_batch_gradient(&w, &mut gp, xs.len(), chunk, f);
            let vs = batch_gradient(&w, &mut gs, xs.len(), chunk, f);
            assert_eq!(vp.to_bits(), vs.to_bits());
            assert_eq!(gp, gs);
            // against one serial call: the same sums, reassociated
            let mut g1 = [0.0, 0.0];
            let v1 = f(0..xs.len(), &w, &mut g1);
            assert!((vp - v1).abs() <= 1e-12 * v1.abs());
            assert!((gp[0] - 1.0 - g1[0]).abs() <= 1e-10 * g1[0].abs().max(1.0));
            assert!((gp[1] - 2.0 - g1[1]).abs() <= 1e-10 * g1[1].abs().max(1.0));
        }
    }
}
