//! Nested-buffer twins (`--nested-twins`): for a function whose active parameters
//! include slices, a twin `fN_n` taking every slice `w: &[f64]` (of the file's
//! length `L = M * N`) as a nested buffer of rows of `N` (one of seven parameter
//! forms, picked from the function's number), reading `w[k]` as `w[k / N][k % N]`,
//! `w.len()` as `w.len() * N`, iterating it by rows (`for r in w { for e in
//! r.iter() { .. } }`) or flattened (`w.iter().flatten()`, `w.as_flattened()`),
//! passing it whole to the twin of a callee (`g_n(w)`, `g_n(&w)`) or flattened
//! (`g(w.as_flattened())`). Its local arrays `[f64; L]` become `[[f64; N]; M]`
//! (`[[0.0; N]; M]`, `[[e, e, ..], ..]`) or unannotated literals `[e, e, ..]`.
//! The twin computes the same function of the same flat vector, so it is tested
//! with the same checks at the same points; it draws no random numbers.
//!
//! The printers of `main.rs` consult `NEST` (set only while a twin is printed), so
//! without the flag nothing they print changes.

use super::*;
use std::cell::RefCell;

/// The parameter form of a nested slice.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Form {
    /// `&[[f64; N]]`
    SliceRows,
    /// `[[f64; N]; M]`
    Arr,
    /// `&[[f64; N]; M]`
    ArrRef,
    /// `Vec<[f64; N]>`
    VecRows,
    /// `&[Vec<f64>]`
    Jag,
    /// `&Vec<Vec<f64>>`
    JagRef,
    /// `Vec<Vec<f64>>`
    JagVec,
}

use Form::*;

const FORMS: [Form; 7] = [SliceRows, Arr, Jag, ArrRef, VecRows, JagRef, JagVec];

impl Form {
    pub(crate) fn jagged(self) -> bool {
        matches!(self, Jag | JagRef | JagVec)
    }
    /// A parameter by value (its iteration is `w.iter()`, its call argument `&w`).
    fn by_value(self) -> bool {
        matches!(self, Arr | VecRows | JagVec)
    }
    pub(crate) fn ty(self, n: usize, m: usize) -> String {
        match self {
            SliceRows => format!("&[[f64; {n}]]"),
            Arr => format!("[[f64; {n}]; {m}]"),
            ArrRef => format!("&[[f64; {n}]; {m}]"),
            VecRows => format!("Vec<[f64; {n}]>"),
            Jag => "&[Vec<f64>]".to_string(),
            JagRef => "&Vec<Vec<f64>>".to_string(),
            JagVec => "Vec<Vec<f64>>".to_string(),
        }
    }
    /// The caller's argument for a callee's twin parameter of form `callee`, if the
    /// caller's parameter `w` of this form can be passed whole.
    fn pass(self, callee: Form, w: &str) -> Option<String> {
        let by_ref = || format!("&{w}");
        match (callee, self) {
            (SliceRows, SliceRows | ArrRef) => Some(w.to_string()),
            (SliceRows, Arr | VecRows) => Some(by_ref()),
            (Arr, Arr) => Some(w.to_string()),
            (ArrRef, Arr) => Some(by_ref()),
            (ArrRef, ArrRef) => Some(w.to_string()),
            (Jag, Jag | JagRef) => Some(w.to_string()),
            (Jag, JagVec) => Some(by_ref()),
            (JagRef, JagRef) => Some(w.to_string()),
            (JagRef, JagVec) => Some(by_ref()),
            _ => None,
        }
    }
    /// The test's value of this form from the flat `x[r]`.
    pub(crate) fn build(self, x: &str, n: usize, m: usize) -> String {
        match self {
            SliceRows => format!("&nest_rows::<{n}>(&{x})"),
            VecRows => format!("nest_rows::<{n}>(&{x})"),
            Arr => format!("nest_arr::<{n}, {m}>(&{x})"),
            ArrRef => format!("&nest_arr::<{n}, {m}>(&{x})"),
            Jag | JagRef => format!("&nest_jag(&{x}, {n})"),
            JagVec => format!("nest_jag(&{x}, {n})"),
        }
    }
    /// An owned shadow of this form from the flat `d[r]`.
    pub(crate) fn shadow(self, x: &str, n: usize, m: usize) -> String {
        match self {
            SliceRows | VecRows => format!("nest_rows::<{n}>(&{x})"),
            Arr | ArrRef => format!("nest_arr::<{n}, {m}>(&{x})"),
            Jag | JagRef | JagVec => format!("nest_jag(&{x}, {n})"),
        }
    }
}

/// The twin of a function: its form and row length.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Twin {
    pub(crate) form: Form,
    pub(crate) n: usize,
    pub(crate) m: usize,
}

pub(crate) struct Nest {
    twin: Twin,
    /// the nested slice parameters
    params: Vec<String>,
    /// local arrays printed as `[[f64; N]; M]`
    locals: Vec<String>,
    /// local arrays `[e; L]` printed as the literal `[e, e, ..]`
    literals: Vec<String>,
    /// the twins of earlier functions (by name)
    twins: HashMap<String, Twin>,
    /// row forms (`for r in w { for e in r.iter() .. }`) where they fit
    rows: bool,
    fresh: usize,
    /// why the twin cannot be written
    fail: Option<String>,
}

thread_local! {
    static NEST: RefCell<Option<Nest>> = const { RefCell::new(None) };
}

fn with<T>(f: impl FnOnce(&mut Nest) -> T) -> Option<T> {
    NEST.with(|n| n.borrow_mut().as_mut().map(f))
}

/// Is `a` printed as a nested buffer? (`Some(jagged)`)
pub(crate) fn nested(a: &str) -> Option<bool> {
    with(|n| {
        if n.params.iter().any(|p| p == a) {
            Some(n.twin.form.jagged())
        } else if n.locals.iter().any(|p| p == a) {
            Some(false)
        } else {
            None
        }
    })
    .flatten()
}

pub(crate) fn row_len() -> usize {
    with(|n| n.twin.n).unwrap_or(1)
}

pub(crate) fn literal(a: &str) -> bool {
    with(|n| n.literals.iter().any(|p| p == a)).unwrap_or(false)
}

pub(crate) fn fail(why: &str) {
    with(|n| {
        if n.fail.is_none() {
            n.fail = Some(why.to_string());
        }
    });
}

pub(crate) fn fresh(p: &str) -> String {
    with(|n| {
        n.fresh += 1;
        format!("{p}_{}", n.fresh)
    })
    .unwrap_or_default()
}

pub(crate) fn rows() -> bool {
    with(|n| n.rows).unwrap_or(false)
}

pub(crate) fn active() -> bool {
    with(|_| ()).is_some()
}

/// The signature of a nested parameter in the twin.
pub(crate) fn param_ty(a: &str) -> Option<String> {
    with(|n| {
        n.params
            .iter()
            .any(|p| p == a)
            .then(|| n.twin.form.ty(n.twin.n, n.twin.m))
    })
    .flatten()
}

/// `a[k]` of a nested buffer: `a[k / N][k % N]`.
pub(crate) fn elem(a: &str, i: &Ix) -> String {
    let n = row_len();
    match i {
        Ix::Const(c) => format!("{a}[{}][{}]", c / n, c % n),
        i => {
            let k = ix(i);
            let k = if k.contains(' ') && !k.starts_with('(') {
                format!("({k})")
            } else {
                k
            };
            format!("{a}[{k} / {n}][{k} % {n}]")
        }
    }
}

/// `a.len()` of the flat buffer.
pub(crate) fn flat_len(a: &str) -> String {
    match nested(a) {
        Some(_) => format!("{a}.len() * {}", row_len()),
        None => format!("{a}.len()"),
    }
}

/// The flat elements of a nested buffer as an iterator (`&f64` items) in a chain;
/// `rev`: the chain is reversed (`Flatten` is no `ExactSizeIterator`).
pub(crate) fn flat_iter(a: &str, rev: bool) -> String {
    match nested(a) {
        Some(true) => {
            fail("an iterator chain over jagged rows (not supported by design)");
            format!("{a}.iter().flatten()")
        }
        Some(false) if rows() || rev => format!("{a}.as_flattened().iter()"),
        _ => format!("{a}.iter().flatten()"),
    }
}

/// A view `&a[lo..hi]` of a nested buffer.
pub(crate) fn flat_view(a: &str) -> String {
    if nested(a) == Some(true) {
        fail("a view of jagged rows");
    }
    format!("{a}.as_flattened()")
}

/// The rows of `a` for a `for` loop.
pub(crate) fn rows_of(a: &str) -> String {
    let by_value =
        with(|n| !n.params.iter().any(|p| p == a) || n.twin.form.by_value()).unwrap_or(true);
    if by_value {
        format!("{a}.iter()")
    } else {
        a.to_string()
    }
}

/// A call `fK(args)` in a twin: the callee's twin with the nested parameters
/// passed whole, or the callee with them flattened.
pub(crate) fn call(callee: &str, args: &[Arg]) -> String {
    let slices: Vec<&String> = args
        .iter()
        .filter_map(|a| match a {
            Arg::Slice(n, _) => Some(n),
            _ => None,
        })
        .collect();
    let plain = |a: &Arg| match a {
        Arg::F(e) => pe(e),
        Arg::Slice(n, true) => format!("&{n}"),
        Arg::Slice(n, false) => n.clone(),
    };
    if !slices.iter().any(|s| nested(s).is_some()) {
        let a: Vec<String> = args.iter().map(plain).collect();
        return format!("{callee}({})", a.join(", "));
    }
    // the callee's twin, when every slice argument is a nested parameter it takes
    // (not under `--order2`: a nested buffer passed whole to a call is a
    // deliberate compile error there, so the callee takes it flattened)
    let whole = with(|n| {
        if order2() {
            return None;
        }
        let t = *n.twins.get(callee)?;
        if t.n != n.twin.n || t.m != n.twin.m {
            return None;
        }
        let mut out = Vec::new();
        for (k, a) in args.iter().enumerate() {
            // (one nested buffer passed twice does not compile: README.md, bug A)
            let again = |s: &String| {
                args[..k]
                    .iter()
                    .any(|b| matches!(b, Arg::Slice(o, _) if o == s))
            };
            match a {
                Arg::Slice(s, _) if n.params.contains(s) && !again(s) => {
                    out.push(n.twin.form.pass(t.form, s)?)
                }
                Arg::Slice(..) => return None,
                Arg::F(_) => out.push(String::new()),
            }
        }
        Some(out)
    })
    .flatten();
    if let Some(whole) = whole {
        let a: Vec<String> = args
            .iter()
            .zip(whole)
            .map(|(a, w)| if w.is_empty() { plain(a) } else { w })
            .collect();
        return format!("{callee}_n({})", a.join(", "));
    }
    let a: Vec<String> = args
        .iter()
        .map(|a| match a {
            Arg::Slice(s, _) if nested(s).is_some() => {
                if nested(s) == Some(true) {
                    fail("jagged rows passed to a callee without a twin");
                }
                format!("{s}.as_flattened()")
            }
            a => plain(a),
        })
        .collect();
    format!("{callee}({})", a.join(", "))
}

/// Does a loop body `break` (the row form would only leave the inner loop)?
pub(crate) fn breaks(body: &[S]) -> bool {
    body.iter().any(|s| match s {
        S::Break | S::BreakV(_) => true,
        S::If(_, a, b) => breaks(a) || breaks(b),
        S::For(_, b) | S::While { body: b, .. } | S::Loop { body: b, .. } => breaks(b),
        S::Match(_, arms) => arms.iter().any(|(_, b)| breaks(b)),
        _ => false,
    })
}

/// The local arrays of length `len` (statements only; one in a block value stays flat).
fn arrays(body: &[S], len: usize, out: &mut Vec<String>) {
    for s in body {
        match s {
            S::Buf {
                name,
                array: true,
                len: RangeHi::Lit(l),
                ..
            } if *l == len => out.push(name.clone()),
            S::Arr { name, n, .. } if *n == len => out.push(name.clone()),
            S::If(_, a, b) => {
                arrays(a, len, out);
                arrays(b, len, out);
            }
            S::For(_, b) | S::While { body: b, .. } | S::Loop { body: b, .. } => {
                arrays(b, len, out)
            }
            S::Match(_, arms) => arms.iter().for_each(|(_, b)| arrays(b, len, out)),
            _ => {}
        }
    }
}

/// The twin's form and row length: that of a callee's twin it can pass its
/// parameters to, else from its number.
pub(crate) fn choose(f: &Func, num: usize, len: usize, twins: &HashMap<String, Twin>) -> Twin {
    for c in calls_of(f) {
        if let Some(t) = twins.get(&fname(c)) {
            let callers: Vec<Form> = FORMS
                .iter()
                .copied()
                .filter(|k| k.pass(t.form, "w").is_some())
                .collect();
            if !callers.is_empty() {
                return Twin {
                    form: callers[num % callers.len()],
                    n: t.n,
                    m: t.m,
                };
            }
        }
    }
    let n = if num.is_multiple_of(2) || !len.is_multiple_of(3) {
        2
    } else {
        3
    };
    Twin {
        form: FORMS[(num / 2) % FORMS.len()],
        n,
        m: len / n,
    }
}

/// Print `f`'s twin, or say why it cannot be written.
pub(crate) fn print_nested(
    f: &Func,
    t: Twin,
    num: usize,
    twins: &HashMap<String, Twin>,
) -> Result<String, String> {
    let params: Vec<String> = f
        .params
        .iter()
        .filter(|p| p.1 == PKind::Slice)
        .map(|p| p.0.clone())
        .collect();
    let mut all = Vec::new();
    arrays(&f.body, t.n * t.m, &mut all);
    let (mut locals, mut literals) = (Vec::new(), Vec::new());
    for (k, a) in all.iter().enumerate() {
        if (k + num) % 3 == 2 {
            literals.push(a.clone());
        } else {
            locals.push(a.clone());
        }
    }
    NEST.with(|n| {
        *n.borrow_mut() = Some(Nest {
            twin: t,
            params,
            locals,
            literals,
            twins: twins.clone(),
            rows: num % 2 == 1,
            fresh: 0,
            fail: None,
        })
    });
    let src = print_func(f);
    let nest = NEST.with(|n| n.borrow_mut().take()).expect("set above");
    match nest.fail {
        Some(why) => Err(why),
        None => Ok(src),
    }
}

/// The conversions of the tests, written once in a file with twins.
pub(crate) const HELPERS: &str = r#"
/// A flat test vector as rows of `N`.
fn nest_rows<const N: usize>(x: &[f64]) -> Vec<[f64; N]> {
    x.chunks_exact(N).map(|c| c.try_into().unwrap()).collect()
}

/// A flat test vector as `[[f64; N]; M]`.
fn nest_arr<const N: usize, const M: usize>(x: &[f64]) -> [[f64; N]; M] {
    let mut a = [[0.0; N]; M];
    a.as_flattened_mut().copy_from_slice(x);
    a
}

/// A flat test vector as rows of `n` in `Vec`s.
fn nest_jag(x: &[f64], n: usize) -> Vec<Vec<f64>> {
    x.chunks_exact(n).map(|c| c.to_vec()).collect()
}

/// Rows back to the flat vector.
fn nest_flat<R: AsRef<[f64]>>(r: &[R]) -> Vec<f64> {
    r.iter().flat_map(|r| r.as_ref().iter().copied()).collect()
}

"#;
pub(crate) fn rows_count() -> usize {
    with(|n| n.twin.m).unwrap_or(1)
}

/// The initializer (with its annotation) of a local array `[e; L]` in a twin, if
/// it is printed otherwise than flat: `[[e, e, ..], ..]` or `[e, e, ..]`.
pub(crate) fn local_array(name: &str, len: usize, elems: &[E]) -> Option<String> {
    let all: Vec<String> = if elems.len() == 1 {
        vec![pe(&elems[0]); len]
    } else {
        elems.iter().map(pe).collect()
    };
    let konst = elems.iter().all(is_const);
    if nested(name).is_some() {
        let (n, m) = (row_len(), rows_count());
        if konst && elems.len() == 1 {
            return Some(format!(": [[f64; {n}]; {m}] = [[{}; {n}]; {m}]", all[0]));
        }
        let rows: Vec<String> = all
            .chunks(n)
            .map(|r| format!("[{}]", r.join(", ")))
            .collect();
        let annot = if konst {
            format!(": [[f64; {n}]; {m}]")
        } else {
            String::new()
        };
        return Some(format!("{annot} = [{}]", rows.join(", ")));
    }
    if literal(name) && !konst {
        return Some(format!(" = [{}]", all.join(", ")));
    }
    None
}

/// Does the loop run over a nested buffer?
pub(crate) fn nested_for(f: &For) -> bool {
    match f {
        For::Iter { arr, .. } | For::Enum { arr, .. } => nested(arr).is_some(),
        For::Zip { arr1, arr2, .. } => nested(arr1).is_some() || nested(arr2).is_some(),
        For::Range { .. } => false,
    }
}

/// A `for` loop over a nested buffer: by rows (an inner loop over the row's
/// elements) when the body does not `break`, else over the flattened elements.
pub(crate) fn print_for(f: &For, body: &[S], out: &mut String, ind: usize) {
    let pad = "    ".repeat(ind);
    let by_rows = rows() && !breaks(body);
    let n = row_len();
    let flat = |a: &str| {
        if nested(a).is_some() {
            format!("{a}.iter().flatten()")
        } else {
            format!("{a}.iter()")
        }
    };
    let inner = match f {
        For::Iter { e, arr, .. } if by_rows => {
            let r = fresh("row");
            let _ = writeln!(out, "{pad}for {r} in {} {{", rows_of(arr));
            let _ = writeln!(out, "{pad}    for {e} in {r}.iter() {{");
            true
        }
        For::Enum { i, e, arr } if by_rows => {
            let (r, ri, ci) = (fresh("row"), fresh("ri"), fresh("ci"));
            let _ = writeln!(out, "{pad}for ({ri}, {r}) in {arr}.iter().enumerate() {{");
            let _ = writeln!(out, "{pad}    for ({ci}, {e}) in {r}.iter().enumerate() {{");
            let _ = writeln!(out, "{pad}        let {i} = {ri} * {n} + {ci};");
            true
        }
        For::Iter { e, arr, .. } => {
            let _ = writeln!(out, "{pad}for {e} in {} {{", flat(arr));
            false
        }
        For::Enum { i, e, arr } => {
            let _ = writeln!(out, "{pad}for ({i}, {e}) in {}.enumerate() {{", flat(arr));
            false
        }
        For::Zip { a, arr1, b, arr2 } => {
            let _ = writeln!(
                out,
                "{pad}for ({a}, {b}) in {}.zip({}) {{",
                flat(arr1),
                flat(arr2)
            );
            false
        }
        For::Range { .. } => unreachable!("not over a buffer"),
    };
    let deeper = if inner { ind + 2 } else { ind + 1 };
    for s in body {
        ps(s, out, deeper);
    }
    if inner {
        let _ = writeln!(out, "{pad}    }}");
    }
    let _ = writeln!(out, "{pad}}}");
}

/// A form of rows of a fixed length, for a twin that cannot take jagged rows.
pub(crate) fn fixed(t: Twin, num: usize) -> Twin {
    let fixed = [SliceRows, Arr, ArrRef, VecRows];
    Twin {
        form: fixed[num % fixed.len()],
        ..t
    }
}
