//! A long time loop (issue 15, bounded memory): the Lotka–Volterra
//! predator–prey equations integrated by explicit Euler over many steps, with
//! a loss on the path. The same objective with the loop stored (the default)
//! and `#[checkpoint]`ed (segments of ⌈√n⌉ steps), for the time and memory
//! price of checkpointing.

use autodiff::differentiate;

/// Step size.
pub const DT: f64 = 1e-3;

/// The rates `[a, b, c, d]` and start `[x0, y0]` as one parameter vector.
pub fn params() -> Vec<f64> {
    vec![1.1, 0.4, 0.1, 0.4, 10.0, 10.0]
}

macro_rules! lotka_volterra {
    ($(#[$doc:meta])* $name:ident $(, #[$attr:meta])?) => {
        $(#[$doc])*
        #[differentiate(wrt(p))]
        pub fn $name(p: &[f64], steps: usize) -> f64 {
            let (a, b, c, d) = (p[0], p[1], p[2], p[3]);
            let mut x = p[4];
            let mut y = p[5];
            let mut path = 0.0;
            $(#[$attr])?
            for _t in 0..steps {
                let dx = a * x - b * x * y;
                let dy = c * x * y - d * y;
                x += DT * dx;
                y += DT * dy;
                path += DT * (x - 10.0) * (x - 10.0);
            }
            path + x * y
        }
    };
}

lotka_volterra!(
    /// Stored: the reverse sweep reads every step's saved state.
    lotka_volterra
);
lotka_volterra!(
    /// Checkpointed: one state per segment of ⌈√n⌉ steps.
    lotka_volterra_checkpointed, #[checkpoint]
);
