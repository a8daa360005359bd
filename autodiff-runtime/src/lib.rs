//! Optimisers, stopping rules, reports and gradient checking over generated gradients.
