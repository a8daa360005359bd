//! The macro never panics: `expand::differentiate` on a corpus of functions, in
//! and outside the supported subset, and on random mutations of them (token
//! deletions, duplications, swaps, insertions, truncated bodies, random attribute
//! arguments). Every expansion must return normally, and when the input is an
//! item the output must parse as a Rust file (the expansion, or `compile_error!`
//! plus items).
//!
//! A seeded hand-rolled mutator keeps failures reproducible. The default run does
//! `AUTODIFF_FUZZ_CASES` = 2000 cases; set it higher for a long run, e.g.
//! `AUTODIFF_FUZZ_CASES=200000 cargo test -q -p autodiff-macros --release fuzz`
//! (`AUTODIFF_FUZZ_SEED` picks another stream).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::str::FromStr;

use proc_macro2::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};

/// `(attribute arguments, item)`.
const CORPUS: &[(&str, &str)] = &[
    // in the subset
    ("", "fn f(x: f64, y: f64) -> f64 { 2.0 * x + 5.0 * y }"),
    ("", "pub fn f(x: f64) -> f64 { let a = x.sin(); let mut b = a * x; b += 1.0; b.exp() / (1.0 + x * x) }"),
    ("wrt(w, b)", "fn loss(w: &[f64], b: f64, x: &[f64], y: f64) -> f64 { let mut s = b; for i in 0..w.len() { s += w[i] * x[i]; } (s - y) * (s - y) }"),
    ("", "fn cube<T: Float>(x: T) -> T { x * x * x }"),
    ("", "fn g<T>(x: T) -> T where T: num_traits::Float { T::sin(x) * T::from(2.0).unwrap() }"),
    ("", "fn f(x: f32) -> f32 { x.powi(3) + x.powf(0.5) + f32::atan2(x, 1.0) }"),
    ("", "fn f(x: f64, n: usize) -> f64 { let mut t = 1.0; for _ in 0..n { t *= x; } t }"),
    ("", "fn f(x: f64) -> f64 { let mut s = x; let mut k = 0; while s < 10.0 && k < 100 { s = s * 1.5 + 0.1; k += 1; } s }"),
    ("", "fn f(x: f64) -> f64 { if x > 0.0 { return x.ln(); } else if x < -1.0 { x * x } else { -x } }"),
    ("", "fn f(w: &[f64]) -> f64 { let mut b = vec![0.0; w.len()]; for (i, e) in w.iter().enumerate() { b[i] = e * e; } let mut s = 0.0; for e in &b { s += *e; } s }"),
    ("", "fn f(a: &[f64], c: &[f64]) -> f64 { let mut s = 0.0; for (x, y) in a.iter().zip(c.iter()) { s += x * y; } s }"),
    ("", "fn f(w: [f64; 3]) -> f64 { let mut b = [0.0; 3]; for i in (0..3).rev() { b[i] = w[i].tanh(); } b[0] + b[2] }"),
    ("", "fn f(x: &[f64; 2], y: f64) -> f64 { x[0].hypot(x[1]).max(y).min(3.0).abs() }"),
    ("", "fn f(x: f64) -> f64 { let v = if x < 0.5 { x.exp2() } else { x.log2() + x.log10() }; v.mul_add(x, 1.0) }"),
    ("", "fn f(x: f64) -> f64 { for i in 0..=3 { if i == 2 { continue; } if x > 5.0 { break; } } x.ln_1p() + x.exp_m1() + x.recip() + x.signum() + x.floor() + x.ceil() + x.round() + x.trunc() }"),
    ("", "fn f(x: f64) -> f64 { std::f64::consts::PI * x + (3 as f64) * x.cbrt() + x.asinh() + x.acosh() + x.atanh() + x % 2.0 + x.log(3.0) }"),
    ("", "fn f(x: f64, y: f64) -> f64 { g(x, y) * h(&[x, y]) }"),
    // outside the subset
    ("", "fn f(x: f64) -> f64 { match x > 0.0 { true => x, false => -x } }"),
    ("", "fn f(x: f64) -> f64 { let mut s = x; loop { s *= 2.0; if s > 10.0 { break; } } s }"),
    ("", "fn f(x: f64) -> f64 { let g = |t: f64| t * x; g(2.0) }"),
    ("", "fn f(x: f64) -> f64 { unsafe { x * 2.0 } }"),
    ("", "fn f(x: f64) -> f64 { println!(\"{}\", x); assert!(x > 0.0); format!(\"{x}\").len() as f64 * x }"),
    ("", "async fn f(x: f64) -> f64 { x }"),
    ("", "const fn f(x: f64) -> f64 { x }"),
    ("", "fn f(x: f64) -> f32 { x as f32 }"),
    ("", "fn f(x: f64) { let _ = x; }"),
    ("", "fn f(x: f64) -> (f64, f64) { (x, x) }"),
    ("", "fn f(x: f64) -> Option<f64> { Some(x) }"),
    ("", "fn f(p: Point, x: f64) -> f64 { p.x * x + p.scale(x) }"),
    ("", "fn f((a, b): (f64, f64), x: f64) -> f64 { a * b * x }"),
    ("", "fn f(x: f64) -> f64 { fn inner(y: f64) -> f64 { y } struct S; inner(x) }"),
    ("", "fn f(x: f64) -> f64 { 'outer: for i in 0..3 { 'inner: while x > 0.0 { break 'outer; } } x }"),
    ("", "fn f(x: Option<f64>) -> f64 { let Some(y) = x else { return 0.0 }; y }"),
    ("", "fn f(x: f64, o: Option<f64>) -> f64 { if let Some(y) = o { x * y } else { x } }"),
    ("", "fn f(x: f64, w: &[f64]) -> f64 { let a = &w[..]; let b = &w[1..]; let c = &w[..=1]; for i in .. { } a[0] * x }"),
    ("", "fn f(x: &mut f64) -> f64 { *x *= 2.0; *x }"),
    ("", "fn f(x: f64) -> f64 { let mut y = x; let r = &mut y; *r += 1.0; y }"),
    ("", "fn f(x: f64, w: &[f64]) -> f64 { w[x as usize] * x + w.iter().map(|v| v * x).sum::<f64>() }"),
    ("", "fn f(x: f64) -> f64 { let t = (x, 2.0 * x); t.0 * t.1 }"),
    ("", "fn f(self, x: f64) -> f64 { self.a * x }"),
    ("", "fn f(&self, x: f64) -> f64 { self.a * x }"),
    ("", "fn f(&mut self, x: f64) -> f64 { self.a = x; x }"),
    ("", "fn f(self: &Self, x: f64) -> f64 { x }"),
    ("", "pub(crate) unsafe extern \"C\" fn f(x: f64) -> f64 { x }"),
    ("", "fn f<'a, const N: usize>(x: &'a [f64; N]) -> f64 where [f64; N]: Sized { x[0] }"),
    ("", "fn f(x: impl Into<f64>) -> f64 { x.into() }"),
    ("", "fn f(x: f64, ...) -> f64 { x }"),
    ("", "#[inline] #[must_use] #[doc = \"d\"] fn f(#[allow(unused)] x: f64) -> f64 { x }"),
    ("", "fn f(x: f64) -> f64 { x? }"),
    ("", "fn f(x: f64) -> f64 { let y: f64 = x.foo(); y.bar::<f64>() + x.sin().cos().unknown() }"),
    ("", "fn f(x: f64) -> f64 { let [a, b] = [x, x]; let S { v } = s(); a + b + v }"),
    ("", "fn f(x: f64) -> f64 { x + { return 1.0; } }"),
    ("", "fn f(x: f64) -> f64 { let v = vec![x, x]; let w = vec![x; 0]; let z = [x; 2]; v[0] + w[0] + z[1] }"),
    ("", "fn f(x: f64) -> f64 { let mut b = vec![0.0; 2]; b = vec![1.0; 2]; b.push(x); b[0] }"),
    ("", "fn f(x: f64) -> f64 { while let Some(_) = None::<f64> {} x }"),
    ("", "fn f(x: f64) -> f64 { let r = 0..; let q = ..3; let s = ..; x }"),
    ("", "fn f(x: f64) -> f64 { yield x; x.await; x }"),
    ("", "fn f(x: f64) -> f64 { (x as i32 as f64) + (-x) as f64 + !true as i32 as f64 }"),
    ("", "struct S { x: f64 }"),
    ("", "impl S { fn f(&self, x: f64) -> f64 { x } }"),
    ("", "const C: f64 = 1.0;"),
    ("", "mod m { fn f(x: f64) -> f64 { x } }"),
    ("", ""),
    ("", "fn"),
    ("", "fn f"),
    ("", "fn f(x: f64) -> f64"),
    ("", "fn f(x: f64) -> f64;"),
    // weird attribute arguments
    ("wrt(x)", "fn f(x: f64, y: f64) -> f64 { x * y }"),
    ("wrt()", "fn f(x: f64, y: f64) -> f64 { x * y }"),
    ("wrt(z)", "fn f(x: f64, y: f64) -> f64 { x * y }"),
    ("wrt(n)", "fn f(x: f64, n: usize) -> f64 { x * n as f64 }"),
    ("wrt(x, x)", "fn f(x: f64, y: f64) -> f64 { x * y }"),
    ("wrt", "fn f(x: f64) -> f64 { x }"),
    ("wrt = x", "fn f(x: f64) -> f64 { x }"),
    ("wrt(x), wrt(y)", "fn f(x: f64, y: f64) -> f64 { x * y }"),
    ("foo(bar), 1, \"s\"", "fn f(x: f64) -> f64 { x }"),
    ("wrt(1.0)", "fn f(x: f64) -> f64 { x }"),
    ("wrt(self)", "fn f(&self, x: f64) -> f64 { x }"),
    ("wrt(x,,)", "fn f(x: f64) -> f64 { x }"),
    ("wrt[x]", "fn f(x: f64) -> f64 { x }"),
    ("::wrt(x)", "fn f(x: f64) -> f64 { x }"),
];

/// Tokens inserted by the mutator: keywords and punctuation that reach odd paths.
const INSERTS: &[&str] = &[
    "match",
    "loop",
    "unsafe",
    "async",
    "await",
    "return",
    "break",
    "continue",
    "let",
    "mut",
    "if",
    "else",
    "for",
    "in",
    "while",
    "fn",
    "self",
    "Self",
    "impl",
    "where",
    "as",
    "ref",
    "move",
    "&",
    "&mut",
    "*",
    "?",
    "!",
    "..",
    "..=",
    "::",
    ";",
    ",",
    ":",
    "=",
    "+=",
    "*=",
    "-",
    "'a",
    "'a:",
    "#[attr]",
    "vec![0.0; 2]",
    "[0.0; 3]",
    "f64",
    "f32",
    "usize",
    "T",
    "x",
    "y",
    "w",
    "0",
    "1.0",
    "1e308",
    "-0.0",
    "\"s\"",
    "b'c'",
    "()",
    "{}",
    "[]",
    "(x, y)",
    "x.iter()",
    "0..",
    "..3",
    "|a| a",
    "x[0]",
    "x.len()",
    "g(x)",
    "g_fwd(x, 1.0)",
    "std::f64::consts::PI",
    "i as f64",
    "x.sin()",
    "x.powi(2)",
    "x.mul_add(x, x)",
    "f64::max(x, x)",
    "dret",
    "__t_1",
];

const ATTRS: &[&str] = &[
    "",
    "wrt(x)",
    "wrt(x, y)",
    "wrt(w, b)",
    "wrt()",
    "wrt",
    "wrt(zz)",
    "wrt(self)",
    "x",
    "1",
    "wrt(x) extra",
    "wrt(x,)",
    "wrt((x))",
    "wrt(x::y)",
    "= 3",
    "wrt{x}",
    "wrt(x)(y)",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn ts(s: &str) -> TokenStream {
    TokenStream::from_str(s).expect("corpus entries tokenize")
}

fn random_token(rng: &mut Rng) -> TokenStream {
    match rng.below(8) {
        0 => TokenTree::Ident(Ident::new("zz", Span::call_site())).into(),
        1 => TokenTree::Literal(Literal::f64_suffixed(rng.below(100) as f64 / 7.0)).into(),
        2 => TokenTree::Punct(Punct::new(
            [
                '+', '-', '*', '/', '<', '>', '=', '%', '#', '@', '$', '^', '~',
            ][rng.below(13)],
            if rng.below(2) == 0 {
                Spacing::Alone
            } else {
                Spacing::Joint
            },
        ))
        .into(),
        _ => ts(INSERTS[rng.below(INSERTS.len())]),
    }
}

/// One random edit somewhere in the tree of `stream`.
fn mutate(stream: TokenStream, rng: &mut Rng) -> TokenStream {
    let mut toks: Vec<TokenTree> = stream.into_iter().collect();
    let groups: Vec<usize> = (0..toks.len())
        .filter(|&i| matches!(toks[i], TokenTree::Group(_)))
        .collect();
    // descend into a group half of the time
    if !groups.is_empty() && rng.below(2) == 0 {
        let i = groups[rng.below(groups.len())];
        if let TokenTree::Group(g) = &toks[i] {
            let mut ng = Group::new(g.delimiter(), mutate(g.stream(), rng));
            ng.set_span(g.span());
            toks[i] = TokenTree::Group(ng);
        }
        return toks.into_iter().collect();
    }
    let n = toks.len();
    match rng.below(8) {
        0 if n > 0 => {
            toks.remove(rng.below(n));
        }
        1 if n > 0 => {
            let i = rng.below(n);
            let t = toks[i].clone();
            toks.insert(i, t);
        }
        2 if n > 1 => {
            let (i, j) = (rng.below(n), rng.below(n));
            toks.swap(i, j);
        }
        3 if n > 0 => {
            // a truncated body or signature
            toks.truncate(rng.below(n));
        }
        4 if n > 0 => {
            // replace a token by a group of different delimiters
            let i = rng.below(n);
            let d = [
                Delimiter::Parenthesis,
                Delimiter::Brace,
                Delimiter::Bracket,
                Delimiter::None,
            ][rng.below(4)];
            let inner: TokenStream = toks[i].clone().into();
            toks[i] = TokenTree::Group(Group::new(d, inner));
        }
        _ => {
            let i = rng.below(n + 1);
            let new: Vec<TokenTree> = random_token(rng).into_iter().collect();
            for (k, t) in new.into_iter().enumerate() {
                toks.insert(i + k, t);
            }
        }
    }
    toks.into_iter().collect()
}

/// Every group (at any depth) of `s`.
fn groups_of(s: &TokenStream, out: &mut Vec<Group>) {
    for t in s.clone() {
        if let TokenTree::Group(g) = t {
            groups_of(&g.stream(), out);
            out.push(g);
        }
    }
}

/// Replaces one group of `s` (chosen by a random walk) by `donor`: grafts the
/// block or argument list of another corpus entry, which mostly keeps the item
/// parseable and so reaches the lowering with unusual code.
fn splice(s: TokenStream, donor: &Group, rng: &mut Rng) -> TokenStream {
    let mut toks: Vec<TokenTree> = s.into_iter().collect();
    let groups: Vec<usize> = (0..toks.len())
        .filter(|&i| matches!(toks[i], TokenTree::Group(_)))
        .collect();
    if groups.is_empty() {
        return toks.into_iter().collect();
    }
    let i = groups[rng.below(groups.len())];
    if let TokenTree::Group(g) = &toks[i] {
        let inner: Vec<Group> = {
            let mut v = Vec::new();
            groups_of(&g.stream(), &mut v);
            v
        };
        toks[i] = if inner.is_empty() || rng.below(3) == 0 {
            TokenTree::Group(Group::new(g.delimiter(), donor.stream()))
        } else {
            TokenTree::Group(Group::new(g.delimiter(), splice(g.stream(), donor, rng)))
        };
    }
    toks.into_iter().collect()
}

/// `None` when the expansion is fine, else what went wrong.
fn run_one(attr: &TokenStream, item: &TokenStream) -> Option<String> {
    let (a, i) = (attr.clone(), item.clone());
    let out = match catch_unwind(AssertUnwindSafe(|| crate::expand::differentiate(a, i))) {
        Ok(out) => out,
        Err(e) => {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            return Some(format!("panic: {msg}"));
        }
    };
    // When the input is an item, the output must be items too.
    if syn::parse2::<syn::Item>(item.clone()).is_ok() {
        if let Err(e) = syn::parse2::<syn::File>(out.clone()) {
            return Some(format!("output does not parse: {e}\n  output: {out}"));
        }
    }
    None
}

/// Deletes tokens (at any depth) while the failure persists.
fn minimize(attr: &TokenStream, item: TokenStream) -> TokenStream {
    fn candidates(s: &TokenStream) -> Vec<TokenStream> {
        let toks: Vec<TokenTree> = s.clone().into_iter().collect();
        let mut out = Vec::new();
        for i in 0..toks.len() {
            let mut t = toks.clone();
            t.remove(i);
            out.push(t.into_iter().collect());
            if let TokenTree::Group(g) = &toks[i] {
                for inner in candidates(&g.stream()) {
                    let mut t = toks.clone();
                    t[i] = TokenTree::Group(Group::new(g.delimiter(), inner));
                    out.push(t.into_iter().collect());
                }
            }
        }
        out
    }
    let mut cur = item;
    'outer: loop {
        for c in candidates(&cur) {
            if run_one(attr, &c).is_some() {
                cur = c;
                continue 'outer;
            }
        }
        return cur;
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn corpus_never_panics() {
    for (attr, item) in CORPUS {
        if let Some(err) = run_one(&ts(attr), &ts(item)) {
            panic!("#[differentiate({attr})] {item}\n{err}");
        }
    }
}

#[test]
fn mutations_never_panic() {
    let cases = env_u64("AUTODIFF_FUZZ_CASES", 2000);
    let mut rng = Rng(env_u64("AUTODIFF_FUZZ_SEED", 1));
    // silence the default hook's backtrace for caught panics; report them below
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut failures: Vec<(String, String, String)> = Vec::new();
    let mut functions = 0usize;
    for _ in 0..cases {
        let (a, i) = CORPUS[rng.below(CORPUS.len())];
        let attr = if rng.below(4) == 0 {
            let a = ts(ATTRS[rng.below(ATTRS.len())]);
            if rng.below(2) == 0 {
                mutate(a, &mut rng)
            } else {
                a
            }
        } else {
            ts(a)
        };
        let mut item = ts(i);
        if rng.below(2) == 0 {
            let mut donors = Vec::new();
            groups_of(&ts(CORPUS[rng.below(CORPUS.len())].1), &mut donors);
            if !donors.is_empty() {
                let d = donors[rng.below(donors.len())].clone();
                item = splice(item, &d, &mut rng);
            }
        }
        let edits = if rng.below(3) == 0 {
            0
        } else {
            1 + rng.below(3) * rng.below(2)
        };
        for _ in 0..edits {
            item = mutate(item, &mut rng);
        }
        functions += syn::parse2::<syn::ItemFn>(item.clone()).is_ok() as usize;
        if let Some(err) = run_one(&attr, &item) {
            if failures.len() < 5 {
                let small = minimize(&attr, item);
                let err = run_one(&attr, &small).unwrap_or(err);
                failures.push((attr.to_string(), small.to_string(), err));
            } else {
                failures.push((attr.to_string(), item.to_string(), err));
            }
        }
    }
    std::panic::set_hook(hook);
    if std::env::var_os("AUTODIFF_FUZZ_VERBOSE").is_some() {
        eprintln!(
            "fuzz: {cases} cases ({functions} still parse as a function), {} failures",
            failures.len()
        );
    }
    if !failures.is_empty() {
        let mut msg = format!(
            "{} of {cases} cases failed; first minimized:\n",
            failures.len()
        );
        for (a, i, e) in failures.iter().take(5) {
            msg.push_str(&format!("#[differentiate({a})] {i}\n  {e}\n"));
        }
        panic!("{msg}");
    }
}
