//! Problem 5: ADBench's LSTM loss, following ADBench's C++ reference
//! (src/cpp/shared/lstm.h): `sigmoid`, the per-layer `lstm_model` step,
//! `lstm_predict`, and `lstm_objective` whose log-sum-exp adds 2 to the sum
//! before the log (ADBench's quirk, kept so the golden values match).
//!
//! Parameter layout: `main_params` = per layer a weight block then a bias block,
//! each `[forget, ingate, outgate, change]` × b (8·l·b values);
//! `extra_params` = `[in_weight, out_weight, out_bias]` × b (3·b values);
//! `state` = per layer `[hidden, cell]` × b (2·l·b, passive); `sequence`: c·b (passive).
//! Gradient layout (as in the golden file): `[main_params, extra_params]`.

use crate::scalar::{self, Scalar};
use autodiff::differentiate;
use std::path::Path;

/// One LSTM instance as read from an ADBench file.
#[derive(Debug, Clone)]
pub struct Data {
    /// layers
    pub l: usize,
    /// characters (time steps)
    pub c: usize,
    /// bits per character (hidden size)
    pub b: usize,
    pub main_params: Vec<f64>,
    pub extra_params: Vec<f64>,
    pub state: Vec<f64>,
    pub sequence: Vec<f64>,
}

impl Data {
    /// `[main_params, extra_params]` flattened (the gradient layout).
    pub fn params(&self) -> Vec<f64> {
        let mut p = self.main_params.clone();
        p.extend_from_slice(&self.extra_params);
        p
    }

    /// Number of active parameters: 8lb + 3b.
    pub fn n_params(&self) -> usize {
        8 * self.l * self.b + 3 * self.b
    }
}

/// Reads an ADBench LSTM file: `l c b`, 2l lines of 4b main parameters, 3 lines
/// of b extra parameters, 2l lines of b state, c lines of b sequence values.
pub fn load(path: &Path) -> Data {
    let v = crate::util::read_numbers(path);
    let (l, c, b) = (v[0] as usize, v[1] as usize, v[2] as usize);
    let mut at = 3;
    let mut take = |len: usize| {
        let s = v[at..at + len].to_vec();
        at += len;
        s
    };
    let main_params = take(8 * l * b);
    let extra_params = take(3 * b);
    let state = take(2 * l * b);
    let sequence = take(c * b);
    Data {
        l,
        c,
        b,
        main_params,
        extra_params,
        state,
        sequence,
    }
}

/// Loads `data/lstm/<name>` of the ADBench folder, e.g. `"lstm_l2_c1024.txt"`.
pub fn load_adbench(name: &str) -> Data {
    load(&crate::util::adbench_dir().join("data/lstm").join(name))
}

// ---------------------------------------------------------------------------
// The objective, in the macro's subset.
// `#[differentiate]` on `sigmoid` and `lstm_logsumexp`, and
// `#[differentiate(wrt(main_params, extra_params), inline(sigmoid))]` on
// `lstm_objective` (its reverse sweep reuses the sigmoids' forward values).
// ---------------------------------------------------------------------------

/// Logistic function 1 / (1 + e^(−x)).
#[differentiate]
pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// ADBench's LSTM log-sum-exp: log(Σ exp(vᵢ) + 2) (sic: the "+2" quirk).
#[differentiate]
pub fn lstm_logsumexp(v: &[f64]) -> f64 {
    let n = v.len();
    let mut sum = 0.0;
    for i in 0..n {
        sum += v[i].exp();
    }
    sum += 2.0;
    sum.ln()
}

/// ADBench `lstm_objective`: l layers, c characters, b bits.
#[differentiate(wrt(main_params, extra_params), inline(sigmoid))]
pub fn lstm_objective(
    l: usize,
    c: usize,
    b: usize,
    main_params: &[f64],
    extra_params: &[f64],
    state: &[f64],
    sequence: &[f64],
) -> f64 {
    // the state is copied (ADBench passes it by value)
    let mut st = vec![0.0; 2 * l * b];
    for i in 0..2 * l * b {
        st[i] = state[i];
    }
    let mut ypred = vec![0.0; b];
    let mut ynorm = vec![0.0; b];
    let mut total = 0.0;
    let mut count = 0;
    for t in 0..c - 1 {
        // lstm_predict: input scaling; layer 0 reads it, layer i reads layer i−1's hidden
        for i in 0..b {
            ypred[i] = sequence[t * b + i] * extra_params[i];
        }
        for li in 0..l {
            let w = 8 * li * b; // weights: forget, ingate, outgate, change
            let bs = w + 4 * b; // biases, same order
            let h = 2 * li * b; // this layer's hidden
            let cl = h + b; // this layer's cell
                            // lstm_model
            for i in 0..b {
                let input = if li == 0 {
                    ypred[i]
                } else {
                    st[2 * (li - 1) * b + i]
                };
                let forget = sigmoid(input * main_params[w + i] + main_params[bs + i]);
                let ingate = sigmoid(st[h + i] * main_params[w + b + i] + main_params[bs + b + i]);
                let outgate =
                    sigmoid(input * main_params[w + 2 * b + i] + main_params[bs + 2 * b + i]);
                let change =
                    (st[h + i] * main_params[w + 3 * b + i] + main_params[bs + 3 * b + i]).tanh();
                st[cl + i] = st[cl + i] * forget + ingate * change;
                st[h + i] = outgate * st[cl + i].tanh();
            }
        }
        // output layer
        for i in 0..b {
            ypred[i] = st[2 * (l - 1) * b + i] * extra_params[b + i] + extra_params[2 * b + i];
        }
        let lse = lstm_logsumexp(&ypred);
        for i in 0..b {
            ynorm[i] = ypred[i] - lse;
        }
        for i in 0..b {
            total += sequence[(t + 1) * b + i] * ynorm[i];
        }
        count += b;
    }
    -total / count as f64
}

/// Values recorded per (time step, layer, unit) by the hand gradient's forward pass.
const REC: usize = 8;

/// Hand-written reverse mode (backpropagation through time): overwrites
/// `dmain_params` and `dextra_params` with the gradient, returns the loss.
pub fn lstm_objective_hand(
    l: usize,
    c: usize,
    b: usize,
    main_params: &[f64],
    dmain_params: &mut [f64],
    extra_params: &[f64],
    dextra_params: &mut [f64],
    state: &[f64],
    sequence: &[f64],
) -> f64 {
    let steps = c - 1;
    dmain_params.fill(0.0);
    dextra_params.fill(0.0);
    let (in_w, rest) = extra_params.split_at(b);
    let (out_w, out_b) = rest.split_at(b);

    // forward, recording [input, h_prev, c_prev, forget, ingate, outgate, change, tanh(c)]
    let mut rec = vec![0.0; steps * l * b * REC];
    let mut probs = vec![0.0; steps * b]; // exp(ypred) / (Σ exp + 2)
    let mut st = state[..2 * l * b].to_vec();
    let mut input = vec![0.0; b];
    let mut total = 0.0;
    for t in 0..steps {
        let x = &sequence[t * b..(t + 1) * b];
        for i in 0..b {
            input[i] = x[i] * in_w[i];
        }
        for li in 0..l {
            let wp = &main_params[8 * li * b..8 * li * b + 4 * b];
            let bp = &main_params[8 * li * b + 4 * b..8 * (li + 1) * b];
            let r = &mut rec[(t * l + li) * b * REC..(t * l + li + 1) * b * REC];
            let (hs, cs) = st[2 * li * b..2 * (li + 1) * b].split_at_mut(b);
            for i in 0..b {
                let inp = input[i];
                let hp = hs[i];
                let cp = cs[i];
                let f = sigmoid(inp * wp[i] + bp[i]);
                let ig = sigmoid(hp * wp[b + i] + bp[b + i]);
                let o = sigmoid(inp * wp[2 * b + i] + bp[2 * b + i]);
                let ch = (hp * wp[3 * b + i] + bp[3 * b + i]).tanh();
                let cn = cp * f + ig * ch;
                let tc = cn.tanh();
                let hn = o * tc;
                cs[i] = cn;
                hs[i] = hn;
                input[i] = hn; // the next layer's input
                let ri = &mut r[i * REC..(i + 1) * REC];
                ri[0] = inp;
                ri[1] = hp;
                ri[2] = cp;
                ri[3] = f;
                ri[4] = ig;
                ri[5] = o;
                ri[6] = ch;
                ri[7] = tc;
            }
        }
        // output layer and loss: input holds the last layer's hidden
        let y = &sequence[(t + 1) * b..(t + 2) * b];
        let pr = &mut probs[t * b..(t + 1) * b];
        let mut se = 2.0;
        let mut sy = 0.0;
        let mut yp = 0.0;
        for i in 0..b {
            let o = input[i] * out_w[i] + out_b[i];
            let e = o.exp();
            pr[i] = e;
            se += e;
            sy += y[i];
            yp += y[i] * o;
        }
        let lse = se.ln();
        total += yp - sy * lse;
        let inv = 1.0 / se;
        for p in pr.iter_mut() {
            *p *= inv;
        }
    }
    let count = (steps * b) as f64;
    let loss = -total / count;

    // backward
    let s = -1.0 / count;
    let (din_w, drest) = dextra_params.split_at_mut(b);
    let (dout_w, dout_b) = drest.split_at_mut(b);
    let mut dh_carry = vec![0.0; l * b];
    let mut dc_carry = vec![0.0; l * b];
    let mut dh = vec![0.0; b]; // gradient into the current layer's new hidden
    for t in (0..steps).rev() {
        let y = &sequence[(t + 1) * b..(t + 2) * b];
        let pr = &probs[t * b..(t + 1) * b];
        let mut sy = 0.0;
        for v in y {
            sy += v;
        }
        let rl = &rec[(t * l + l - 1) * b * REC..(t * l + l) * b * REC];
        for i in 0..b {
            let dy = s * (y[i] - sy * pr[i]);
            let hl = rl[i * REC + 5] * rl[i * REC + 7];
            dout_w[i] += dy * hl;
            dout_b[i] += dy;
            dh[i] = dy * out_w[i];
        }
        for li in (0..l).rev() {
            let wp = &main_params[8 * li * b..8 * li * b + 4 * b];
            let (dwp, dbp) = dmain_params[8 * li * b..8 * (li + 1) * b].split_at_mut(4 * b);
            let r = &rec[(t * l + li) * b * REC..(t * l + li + 1) * b * REC];
            let dhc = &mut dh_carry[li * b..(li + 1) * b];
            let dcc = &mut dc_carry[li * b..(li + 1) * b];
            for i in 0..b {
                let ri = &r[i * REC..(i + 1) * REC];
                let (inp, hp, cp, f, ig, o, ch, tc) =
                    (ri[0], ri[1], ri[2], ri[3], ri[4], ri[5], ri[6], ri[7]);
                let dhn = dh[i] + dhc[i];
                let dc = dcc[i] + dhn * o * (1.0 - tc * tc);
                let dfz = dc * cp * f * (1.0 - f);
                let diz = dc * ch * ig * (1.0 - ig);
                let doz = dhn * tc * o * (1.0 - o);
                let dcz = dc * ig * (1.0 - ch * ch);
                dwp[i] += dfz * inp;
                dbp[i] += dfz;
                dwp[b + i] += diz * hp;
                dbp[b + i] += diz;
                dwp[2 * b + i] += doz * inp;
                dbp[2 * b + i] += doz;
                dwp[3 * b + i] += dcz * hp;
                dbp[3 * b + i] += dcz;
                dhc[i] = diz * wp[b + i] + dcz * wp[3 * b + i];
                dcc[i] = dc * f;
                // gradient into this layer's input: the layer below's hidden, or the scaled input
                dh[i] = dfz * wp[i] + doz * wp[2 * b + i];
            }
        }
        let x = &sequence[t * b..(t + 1) * b];
        for i in 0..b {
            din_w[i] += dh[i] * x[i];
        }
    }
    loss
}

/// Generic re-implementation for the peers; `p` = `[main_params, extra_params]`.
pub fn lstm_objective_generic<S: Scalar>(data: &Data, p: &[S]) -> S {
    let (l, c, b) = (data.l, data.c, data.b);
    let (main, extra) = p.split_at(8 * l * b);
    let seq = &data.sequence;
    let zero = p[0].cst(0.0);
    let mut st: Vec<S> = data.state.iter().map(|&v| p[0].cst(v)).collect();
    let sig = |x: S| -> S { x.cst(1.0) / ((-x).exp() + 1.0) };
    let mut input: Vec<S> = vec![zero.clone(); b];
    let mut total = zero.clone();
    for t in 0..c - 1 {
        for i in 0..b {
            input[i] = extra[i].clone() * seq[t * b + i];
        }
        for li in 0..l {
            let w = 8 * li * b;
            let bs = w + 4 * b;
            let h = 2 * li * b;
            let cl = h + b;
            for i in 0..b {
                let inp = input[i].clone();
                let hp = st[h + i].clone();
                let f = sig(inp.clone() * main[w + i].clone() + main[bs + i].clone());
                let ig = sig(hp.clone() * main[w + b + i].clone() + main[bs + b + i].clone());
                let o = sig(inp * main[w + 2 * b + i].clone() + main[bs + 2 * b + i].clone());
                let ch = (hp * main[w + 3 * b + i].clone() + main[bs + 3 * b + i].clone()).tanh();
                let cn = st[cl + i].clone() * f + ig * ch;
                let hn = o * cn.tanh();
                st[cl + i] = cn;
                st[h + i] = hn.clone();
                input[i] = hn;
            }
        }
        let mut se = zero.clone();
        let mut ypred = Vec::with_capacity(b);
        for i in 0..b {
            let y = input[i].clone() * extra[b + i].clone() + extra[2 * b + i].clone();
            se = se + y.exp();
            ypred.push(y);
        }
        let lse = (se + 2.0).ln();
        for (i, y) in ypred.into_iter().enumerate() {
            total = total + (y - lse.clone()) * seq[(t + 1) * b + i];
        }
    }
    -total / ((c - 1) * b) as f64
}

/// The plain objective on a flat `[main_params, extra_params]`.
pub fn lstm_objective_flat(data: &Data, p: &[f64]) -> f64 {
    let (main, extra) = p.split_at(8 * data.l * data.b);
    lstm_objective(
        data.l,
        data.c,
        data.b,
        main,
        extra,
        &data.state,
        &data.sequence,
    )
}

/// Hand gradient into a flat `[main_params, extra_params]` buffer (overwritten); returns the value.
pub fn lstm_objective_hand_flat(data: &Data, grad: &mut [f64]) -> f64 {
    let (dm, de) = grad.split_at_mut(8 * data.l * data.b);
    lstm_objective_hand(
        data.l,
        data.c,
        data.b,
        &data.main_params,
        dm,
        &data.extra_params,
        de,
        &data.state,
        &data.sequence,
    )
}

/// num-dual: value and gradient over `[main_params, extra_params]`.
pub fn lstm_objective_num_dual(data: &Data, params: &[f64]) -> (f64, Vec<f64>) {
    scalar::num_dual_gradient(params, |p| lstm_objective_generic(data, p))
}

/// `reverse` tape: value and gradient over `[main_params, extra_params]`.
pub fn lstm_objective_reverse(data: &Data, params: &[f64]) -> (f64, Vec<f64>) {
    scalar::reverse_gradient(params, |p| lstm_objective_generic(data, p))
}

/// Central finite differences over `[main_params, extra_params]`.
pub fn lstm_objective_fd(data: &Data, params: &mut [f64], grad: &mut [f64]) {
    crate::fd::central(params, grad, |p| lstm_objective_flat(data, p));
}

/// ad_trait's `ReverseAD` (global graph): value and gradient.
#[cfg(feature = "ad_trait")]
pub fn lstm_objective_ad_trait(data: &Data, params: &[f64]) -> (f64, Vec<f64>) {
    scalar::ad_trait_peer::gradient(params, |p| lstm_objective_generic(data, p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::{assert_grad_close, max_rho, read_golden, rho};

    fn data() -> Data {
        load_adbench("lstm_l2_c1024.txt")
    }

    #[test]
    fn golden_l2_c1024() {
        let data = data();
        assert_eq!((data.l, data.c, data.b), (2, 1024, 14));
        let f_gold = read_golden("lstm_l2_c1024_F_Manual.txt")[0];
        let j_gold = read_golden("lstm_l2_c1024_J_Manual.txt");
        let f = lstm_objective_flat(&data, &data.params());
        let mut g = vec![f64::NAN; data.n_params()];
        let fh = lstm_objective_hand_flat(&data, &mut g);
        let rf = rho(f, f_gold).max(rho(fh, f_gold));
        let rj = max_rho(&g, &j_gold);
        eprintln!("lstm l2c1024: rho(F) = {rf:e}, max rho(J) = {rj:e}");
        assert!(rf < 1e-8, "objective {f} / {fh} vs golden {f_gold}");
        assert!(rj < 1e-8, "gradient rho {rj:e}");
    }

    #[test]
    fn peers_match_hand() {
        let data = data();
        let mut g = vec![0.0; data.n_params()];
        let f = lstm_objective_hand_flat(&data, &mut g);
        let mut p = data.params();
        assert!(rho(lstm_objective_generic(&data, &p), f) < 1e-12);
        let (fv, gr) = lstm_objective_reverse(&data, &p);
        assert!(rho(fv, f) < 1e-12);
        assert_grad_close("reverse", &gr, &g, 1e-8);
        let (fv, gd) = lstm_objective_num_dual(&data, &p);
        assert!(rho(fv, f) < 1e-12);
        assert_grad_close("num_dual", &gd, &g, 1e-8);
        let mut fd = vec![0.0; p.len()];
        lstm_objective_fd(&data, &mut p, &mut fd);
        assert_grad_close("fd", &fd, &g, 1e-6);
    }
}
