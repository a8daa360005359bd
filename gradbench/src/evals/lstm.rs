//! `lstm`: ADBench's diagonal-weight LSTM over a bit-encoded text, with its
//! log-sum-exp that adds 2 to the sum.

use crate::protocol::{measure, parse, Evaluated, Runs};
use autodiff::differentiate;
use serde::Deserialize;
use serde_json::{json, Value};

/// One workload, the nested JSON arrays flattened row-major.
#[derive(Debug, Clone)]
pub struct Lstm {
    /// layers
    pub l: usize,
    /// bits per character
    pub b: usize,
    /// 2l·4b: per layer a weight row and a bias row (forget, ingate, outgate, change)
    pub main_params: Vec<f64>,
    /// 3·b: input weight, output weight, output bias
    pub extra_params: Vec<f64>,
    /// 2l·b: per layer hidden then cell
    pub state: Vec<f64>,
    /// c·b bits
    pub sequence: Vec<f64>,
}

#[derive(Deserialize)]
struct Input {
    main_params: Vec<Vec<f64>>,
    extra_params: Vec<Vec<f64>>,
    state: Vec<Vec<f64>>,
    sequence: Vec<Vec<f64>>,
}

impl Lstm {
    fn from_input(i: Input) -> Result<Lstm, String> {
        let b = i.extra_params.first().map_or(0, Vec::len);
        let l = i.main_params.len() / 2;
        let ok = |rows: &[Vec<f64>], count: Option<usize>, len: usize| {
            count.is_none_or(|c| rows.len() == c) && rows.iter().all(|r| r.len() == len)
        };
        if b == 0
            || l == 0
            || !ok(&i.main_params, Some(2 * l), 4 * b)
            || !ok(&i.extra_params, Some(3), b)
            || !ok(&i.state, Some(2 * l), b)
            || !ok(&i.sequence, None, b)
            || i.sequence.len() < 2
        {
            return Err("inconsistent lstm input shapes".into());
        }
        Ok(Lstm {
            l,
            b,
            main_params: i.main_params.concat(),
            extra_params: i.extra_params.concat(),
            state: i.state.concat(),
            sequence: i.sequence.concat(),
        })
    }

    pub fn objective(&self) -> f64 {
        objective(
            self.l,
            self.b,
            &self.main_params,
            &self.extra_params,
            &self.state,
            &self.sequence,
        )
    }

    /// The objective and its gradient w.r.t. (main_params, extra_params).
    pub fn gradient(&self) -> (f64, (Vec<f64>, Vec<f64>)) {
        objective_grad(
            self.l,
            self.b,
            &self.main_params,
            &self.extra_params,
            &self.state,
            &self.sequence,
        )
    }
}

/// 1 / (1 + e^(−x)).
#[differentiate]
pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// −(1 / ((c−1)·b)) Σ_t Σ_j sequence[t+1][j] · log-softmax(predict(sequence[t]))_j,
/// the state carried across time steps.
#[differentiate(wrt(main_params, extra_params), inline(sigmoid))]
pub fn objective(
    l: usize,
    b: usize,
    main_params: &[f64],
    extra_params: &[f64],
    state: &[f64],
    sequence: &[f64],
) -> f64 {
    let c = sequence.len() / b;
    let mut st = state.to_vec();
    let mut y = vec![0.0; b];
    let mut total = 0.0;
    for t in 0..c - 1 {
        let x = &sequence[t * b..(t + 1) * b];
        for j in 0..b {
            y[j] = x[j] * extra_params[j];
        }
        for layer in 0..l {
            let w = &main_params[2 * layer * 4 * b..(2 * layer + 1) * 4 * b];
            let bias = &main_params[(2 * layer + 1) * 4 * b..(2 * layer + 2) * 4 * b];
            let (hid, cell) = (2 * layer * b, (2 * layer + 1) * b);
            for j in 0..b {
                let u = y[j];
                let h = st[hid + j];
                let forget = sigmoid(u * w[j] + bias[j]);
                let ingate = sigmoid(h * w[b + j] + bias[b + j]);
                let outgate = sigmoid(u * w[2 * b + j] + bias[2 * b + j]);
                let change = (h * w[3 * b + j] + bias[3 * b + j]).tanh();
                st[cell + j] = st[cell + j] * forget + ingate * change;
                st[hid + j] = outgate * st[cell + j].tanh();
                // the next layer's input
                y[j] = st[hid + j];
            }
        }
        let mut sum_exp = 0.0;
        for j in 0..b {
            y[j] = y[j] * extra_params[b + j] + extra_params[2 * b + j];
            sum_exp += y[j].exp();
        }
        let lse = (sum_exp + 2.0).ln();
        let next = &sequence[(t + 1) * b..(t + 2) * b];
        for j in 0..b {
            total += next[j] * (y[j] - lse);
        }
    }
    -total / ((c - 1) * b) as f64
}

pub fn evaluate(function: &str, input: &Value) -> Evaluated {
    let runs = Runs::of(input)?;
    let m = Lstm::from_input(parse(input)?)?;
    match function {
        "objective" => {
            let (y, t) = measure(runs, || m.objective());
            Ok((json!(y), t))
        }
        "jacobian" => {
            let ((_, (dmain, dextra)), t) = measure(runs, || m.gradient());
            let mut g = dmain;
            g.extend_from_slice(&dextra);
            Ok((json!(g), t))
        }
        _ => super::unknown("lstm", function),
    }
}
