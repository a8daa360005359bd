#!/usr/bin/env bash
# Compile-time cost of `#[differentiate]`.
#
# Generates two throwaway crates with the same 100 functions (five templates:
# scalar arithmetic with float methods, slice loops with `+=`, a local
# `vec![0.0; n]` buffer, if/else, and calls between the others), one with every
# function annotated `#[differentiate]` and one without, in a shared workspace
# under benchmarks/target/compile_time (override: COMPILE_TIME_DIR). Both depend
# on `autodiff = { path = <repo root> }`.
#
# Dependencies are built once; then each crate alone is rebuilt after touching
# its src/lib.rs, REPS times (default 3) in debug and in release, and the median
# wall time is reported. Code size: the rlib, its .text (`size`), the LLVM IR
# (`cargo rustc -- --emit=llvm-ir`: total lines and `define`d functions) and,
# when RUSTC_BOOTSTRAP=1 is accepted, the macro-expanded source
# (`-Zunpretty=expanded`).
#
# Usage: benchmarks/compile_time/run.sh        (prints a markdown report)
#        REPS=5 JOBS=1 benchmarks/compile_time/run.sh
#        GEN_ONLY=1 benchmarks/compile_time/run.sh   (write the crates, build nothing)
#        AUTODIFF_REV=HEAD benchmarks/compile_time/run.sh
#
# AUTODIFF_REV measures a committed revision (exported with `git archive` into
# the throwaway directory) instead of the working tree, e.g. while the working
# tree is being edited.
#
# Note: cargo builds proc macros without optimisation in both profiles (the
# default `build-override`), so the expansion time is the same in debug and
# release; the difference between the two comes from compiling the output.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
dir="${COMPILE_TIME_DIR:-$repo/benchmarks/target/compile_time}"
reps="${REPS:-3}"
jobs="${JOBS:-}"
nfun_per_template=20 # 5 templates x 20 = 100 functions

jflag=()
if [[ -n "$jobs" ]]; then jflag=(-j "$jobs"); fi

log() { echo "[compile_time] $*" >&2; }

# ---------------------------------------------------------------- generation
gen_functions() {
    # Emits the 100 functions, each preceded by a `#[differentiate]` line.
    local i c1 c2 c3 k
    for ((i = 0; i < nfun_per_template; i++)); do
        # Varying constants (deterministic), written as float literals.
        c1="$((i * 37 % 97 + 3)).$((i * 13 % 10))"
        c2="0.$((i * 7 % 89 + 10))"
        c3="$((i % 5 + 1)).$((i * 3 % 10))5"
        k="$((i % 4 + 2))"
        cat <<EOF
/// Scalar arithmetic with float methods ($i).
#[differentiate]
pub fn scal_$i(x: f64, y: f64) -> f64 {
    let a = x * $c2 + y.sin() * $c3;
    let b = (a * a + $c1).sqrt();
    let c = b.exp() / (1.0 + y * y);
    let d = a.atan2(b) + c.ln_1p() - (x * $c2).cos();
    a * b - d * c.tanh() + x.powi($k) + y.hypot(a)
}

/// A loop over two slices with \`+=\` ($i).
#[differentiate]
pub fn dot_$i(w: &[f64], x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len() {
        s += w[i] * x[i] * $c3 + (w[i] - $c2).tanh();
    }
    let mut t = 0.0;
    for (wi, xi) in w.iter().zip(x.iter()) {
        t += wi * wi * $c2 - xi.abs();
    }
    s * $c1 + t.exp().ln_1p()
}

/// A local buffer written then read by index ($i).
#[differentiate]
pub fn buf_$i(x: &[f64], a: f64) -> f64 {
    let n = x.len();
    let mut h = vec![0.0; n];
    for i in 0..n {
        h[i] = (x[i] * a + $c2).tanh();
    }
    let mut acc = 0.0;
    for i in 1..n {
        acc += h[i] * h[i - 1] * $c3;
    }
    let mut j = 0;
    while j < n {
        acc -= h[j].powi($k) / ($c1 + j as f64);
        j += 1;
    }
    acc
}

/// Branches on an active value ($i).
#[differentiate]
pub fn branch_$i(x: f64, y: f64) -> f64 {
    let r = if x > $c2 {
        x * y + $c3
    } else {
        (x - y).abs() * $c1 + 1.0
    };
    let mut z = r * r;
    if z < $c1 {
        z *= y.exp();
    } else {
        z = z.sqrt() - y.sin();
    }
    z.max(x * $c2).min(y + $c1)
}

/// Calls the other four ($i).
#[differentiate]
pub fn call_$i(w: &[f64], x: &[f64], a: f64) -> f64 {
    let d = dot_$i(w, x);
    let b = buf_$i(x, a);
    let s = scal_$i(d, a);
    let mut t = branch_$i(b, a * $c2);
    for i in 0..x.len() {
        t += x[i] * w[i] / $c1;
    }
    s + t * $c3
}

EOF
    done
}

gen_callers() {
    # gen_callers ANNOTATED(0|1): with the `callers` feature, one non-inline
    # public function per generated function that calls it (and, annotated,
    # its _fwd, _adjoint and _grad). The generated derivatives are `#[inline]`,
    # so without a caller they are not codegenned in the defining crate.
    local annotated="$1" i
    echo
    echo '/// Calls every function (feature `callers`), so that all are codegenned.'
    echo '#[cfg(feature = "callers")]'
    echo 'pub mod callers {'
    echo '    use super::*;'
    for ((i = 0; i < nfun_per_template; i++)); do
        if [[ $annotated == 0 ]]; then
            cat <<EOF
    pub fn use_scal_$i(a: f64, b: f64) -> f64 { scal_$i(a, b) }
    pub fn use_dot_$i(w: &[f64], x: &[f64]) -> f64 { dot_$i(w, x) }
    pub fn use_buf_$i(x: &[f64], a: f64) -> f64 { buf_$i(x, a) }
    pub fn use_branch_$i(a: f64, b: f64) -> f64 { branch_$i(a, b) }
    pub fn use_call_$i(w: &[f64], x: &[f64], a: f64) -> f64 { call_$i(w, x, a) }
EOF
        else
            cat <<EOF
    pub fn use_scal_$i(a: f64, b: f64) -> f64 {
        let (da, db) = (&mut 0.0, &mut 0.0);
        let (v, t) = scal_${i}_fwd(a, 1.0, b, 0.5);
        let (g, (ga, gb)) = scal_${i}_grad(a, b);
        scal_$i(a, b) + v + t + scal_${i}_adjoint(a, da, b, db, 1.0) + *da + *db + g + ga + gb
    }
    pub fn use_dot_$i(w: &[f64], x: &[f64]) -> f64 {
        let (mut dw, mut dx) = (vec![0.0; w.len()], vec![0.0; x.len()]);
        let (v, t) = dot_${i}_fwd(w, x, x, w);
        let (g, (gw, gx)) = dot_${i}_grad(w, x);
        dot_$i(w, x) + v + t + dot_${i}_adjoint(w, &mut dw, x, &mut dx, 1.0) + dw[0] + dx[0] + g + gw[0] + gx[0]
    }
    pub fn use_buf_$i(x: &[f64], a: f64) -> f64 {
        let (mut dx, da) = (vec![0.0; x.len()], &mut 0.0);
        let (v, t) = buf_${i}_fwd(x, x, a, 1.0);
        let (g, (gx, ga)) = buf_${i}_grad(x, a);
        buf_$i(x, a) + v + t + buf_${i}_adjoint(x, &mut dx, a, da, 1.0) + dx[0] + *da + g + gx[0] + ga
    }
    pub fn use_branch_$i(a: f64, b: f64) -> f64 {
        let (da, db) = (&mut 0.0, &mut 0.0);
        let (v, t) = branch_${i}_fwd(a, 1.0, b, 0.5);
        let (g, (ga, gb)) = branch_${i}_grad(a, b);
        branch_$i(a, b) + v + t + branch_${i}_adjoint(a, da, b, db, 1.0) + *da + *db + g + ga + gb
    }
    pub fn use_call_$i(w: &[f64], x: &[f64], a: f64) -> f64 {
        let (mut dw, mut dx, da) = (vec![0.0; w.len()], vec![0.0; x.len()], &mut 0.0);
        let (v, t) = call_${i}_fwd(w, x, x, w, a, 1.0);
        let (g, (gw, gx, ga)) = call_${i}_grad(w, x, a);
        call_$i(w, x, a) + v + t + call_${i}_adjoint(w, &mut dw, x, &mut dx, a, da, 1.0) + dw[0] + dx[0] + *da + g + gw[0] + gx[0] + ga
    }
EOF
        fi
    done
    echo '}'
}

write_crate() {
    # write_crate NAME ANNOTATED(0|1)
    local name="$1" annotated="$2"
    mkdir -p "$dir/$name/src"
    cat >"$dir/$name/Cargo.toml" <<EOF
[package]
name = "$name"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
autodiff = { path = "$autodiff_src" }

[features]
callers = []
EOF
    {
        echo "//! Generated by benchmarks/compile_time/run.sh: 100 functions, $([[ $annotated == 1 ]] && echo 'annotated with #[differentiate]' || echo 'not annotated')."
        echo "#![allow(clippy::all)]"
        if [[ $annotated == 1 ]]; then
            echo "use autodiff::differentiate;"
            echo
            gen_functions
        else
            echo
            gen_functions | grep -v '^#\[differentiate\]$'
        fi
        gen_callers "$annotated"
    } >"$dir/$name/src/lib.rs"
}

mkdir -p "$dir"
autodiff_src="$repo"
if [[ -n "${AUTODIFF_REV:-}" ]]; then
    rev=$(git -C "$repo" rev-parse --short "$AUTODIFF_REV")
    autodiff_src="$dir/autodiff-$rev"
    if [[ ! -d "$autodiff_src" ]]; then
        mkdir -p "$autodiff_src"
        git -C "$repo" archive --format=tar "$rev" -- Cargo.toml Cargo.lock README.md docs src autodiff-macros autodiff-runtime |
            tar -x -C "$autodiff_src"
    fi
    log "measuring autodiff at $rev ($autodiff_src)"
fi
cat >"$dir/Cargo.toml" <<EOF
# Generated by benchmarks/compile_time/run.sh (throwaway).
[workspace]
members = ["with_macro", "without_macro"]
exclude = ["${autodiff_src#"$dir"/}"]
resolver = "2"
EOF
# Same dependency versions as the main crate.
if [[ -f "$repo/Cargo.lock" && ! -f "$dir/Cargo.lock" ]]; then
    cp "$repo/Cargo.lock" "$dir/Cargo.lock"
fi
write_crate with_macro 1
write_crate without_macro 0
nfun=$(grep -c '^#\[differentiate\]$' "$dir/with_macro/src/lib.rs")
log "generated $nfun functions in $dir/{with_macro,without_macro}/src/lib.rs"
if [[ -n "${GEN_ONLY:-}" ]]; then exit 0; fi

cd "$dir"
export CARGO_TARGET_DIR="$dir/target"
# Whole-crate rebuilds: incremental reuse would hide codegen in debug.
export CARGO_INCREMENTAL=0

# Two variants of each crate: `lib` (the functions only: the generated
# derivatives are `#[inline]`, so they are type-checked, turned into MIR and
# stored in the metadata, but codegenned only where called) and `callers`
# (plus a caller of every function and derivative, so that all are codegenned).
variant_flags() { [[ $1 == callers ]] && echo "--features callers" || true; }
profile_flags() { [[ $1 == release ]] && echo "--release" || true; }

# ------------------------------------------------------- dependencies first
log "building dependencies (debug and release)"
for crate in with_macro without_macro; do
    for profile in debug release; do
        for variant in lib callers; do
            # shellcheck disable=SC2046
            cargo build -q -p "$crate" $(profile_flags $profile) $(variant_flags $variant) "${jflag[@]}"
        done
    done
done

# ------------------------------------------------------------------- timing
now_ms() { echo $(($(date +%s%N) / 1000000)); }

median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

declare -A T   # T[crate,profile,variant] = median ms
declare -A ALL # all repetitions
declare -A S   # sizes
for variant in lib callers; do
    for profile in debug release; do
        for crate in without_macro with_macro; do
            times=()
            for ((r = 0; r < reps; r++)); do
                touch "$crate/src/lib.rs"
                t0=$(now_ms)
                # shellcheck disable=SC2046
                cargo build -q -p "$crate" $(profile_flags $profile) $(variant_flags $variant) "${jflag[@]}"
                t1=$(now_ms)
                times+=($((t1 - t0)))
            done
            T[$crate,$profile,$variant]=$(printf '%s\n' "${times[@]}" | median)
            ALL[$crate,$profile,$variant]="${times[*]}"
            log "$variant $profile $crate: ${times[*]} ms (median ${T[$crate,$profile,$variant]})"
            # Sizes of the artifact just built.
            rlib="$CARGO_TARGET_DIR/$profile/lib$crate.rlib"
            S[$crate,rlib,$profile,$variant]=$(stat -c %s "$rlib")
            S[$crate,text,$profile,$variant]=$(size -t "$rlib" | awk 'END {print $1}')
        done
    done
done

# LLVM IR (stable: --emit=llvm-ir) of the `callers` variant; `define` lines are
# the functions codegenned in the crate. Last, since the extra flag rebuilds.
for crate in without_macro with_macro; do
    for profile in debug release; do
        rm -f "$CARGO_TARGET_DIR/$profile/deps/$crate"-*.ll
        touch "$crate/src/lib.rs"
        # shellcheck disable=SC2046
        cargo rustc -q -p "$crate" --lib $(profile_flags $profile) $(variant_flags callers) -- --emit=llvm-ir,link
        ll=$(ls -t "$CARGO_TARGET_DIR/$profile/deps/$crate"-*.ll | head -1)
        S[$crate,ll_lines,$profile]=$(wc -l <"$ll")
        S[$crate,ll_defs,$profile]=$(grep -c '^define ' "$ll" || true)
    done
done

# Macro-expanded source, when the toolchain accepts RUSTC_BOOTSTRAP=1.
expanded=1
for crate in without_macro with_macro; do
    touch "$crate/src/lib.rs"
    if RUSTC_BOOTSTRAP=1 cargo rustc -q -p "$crate" --lib -- -Zunpretty=expanded \
        >"$dir/$crate.expanded.rs" 2>/dev/null; then
        S[$crate,exp_lines]=$(wc -l <"$dir/$crate.expanded.rs")
        S[$crate,exp_bytes]=$(wc -c <"$dir/$crate.expanded.rs")
    else
        expanded=0
    fi
done
# Source lines of the functions alone (before the `callers` module).
src_lines() { sed '/^\/\/\/ Calls every function/,$d' "$1/src/lib.rs" | wc -l; }

# ------------------------------------------------------------------ report
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f×", a / b; else printf "—"}'; }
kib() { awk -v a="$1" 'BEGIN {printf "%.1f KiB", a / 1024}'; }
# per FORMAT SCALE A B: (A - B) / nfun / SCALE
per() { awk -v f="$1" -v s="$2" -v a="$3" -v b="$4" -v n="$nfun" 'BEGIN {printf f, (a - b) / n / s}'; }
row() { # row LABEL B_SHOWN A_SHOWN A B PER
    echo "| $1 | $2 | $3 | $(ratio "$4" "$5") | $6 |"
}

rustc_v=$(rustc --version)
load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "### Compile-time cost of \`#[differentiate]\` ($nfun functions)"
echo
if [[ -n "${AUTODIFF_REV:-}" ]]; then
    what="autodiff at commit $rev"
else
    what="autodiff working tree at $(git -C "$repo" rev-parse --short HEAD)$(git -C "$repo" diff --quiet HEAD -- src autodiff-macros autodiff-runtime || echo ' (modified)')"
fi
echo "$what, $rustc_v, $(nproc) cores (load average at the end: $load), ${jobs:+\`-j $jobs\`, }\`CARGO_INCREMENTAL=0\`; build times are the median of $reps rebuilds of the crate alone (dependencies prebuilt, \`touch src/lib.rs\`)."
echo
echo "| metric | without | with \`#[differentiate]\` | ratio | added per function |"
echo "|---|---:|---:|---:|---:|"
for variant in lib callers; do
    for profile in debug release; do
        a=${T[with_macro,$profile,$variant]} b=${T[without_macro,$profile,$variant]}
        label="build time, $profile"
        [[ $variant == callers ]] && label="build time, $profile, all derivatives called"
        row "$label" "$b ms" "$a ms" "$a" "$b" "$(per '%+.1f ms' 1 "$a" "$b")"
    done
done
for profile in debug release; do
    a=${S[with_macro,rlib,$profile,lib]} b=${S[without_macro,rlib,$profile,lib]}
    row "rlib size, $profile" "$(kib "$b")" "$(kib "$a")" "$a" "$b" "$(per '%+.2f KiB' 1024 "$a" "$b")"
done
for profile in debug release; do
    a=${S[with_macro,text,$profile,callers]} b=${S[without_macro,text,$profile,callers]}
    row "object code (\`size\` text), $profile, all called" "$(kib "$b")" "$(kib "$a")" "$a" "$b" "$(per '%+.2f KiB' 1024 "$a" "$b")"
done
for profile in debug release; do
    a=${S[with_macro,ll_lines,$profile]} b=${S[without_macro,ll_lines,$profile]}
    row "LLVM IR lines, $profile, all called" "$b" "$a" "$a" "$b" "$(per '%+.0f' 1 "$a" "$b")"
    a=${S[with_macro,ll_defs,$profile]} b=${S[without_macro,ll_defs,$profile]}
    row "LLVM IR \`define\`s, $profile, all called" "$b" "$a" "$a" "$b" "$(per '%+.1f' 1 "$a" "$b")"
done
if [[ $expanded == 1 ]]; then
    a=${S[with_macro,exp_lines]} b=${S[without_macro,exp_lines]}
    row "expanded source lines (\`-Zunpretty=expanded\`)" "$b" "$a" "$a" "$b" "$(per '%+.0f' 1 "$a" "$b")"
    a=${S[with_macro,exp_bytes]} b=${S[without_macro,exp_bytes]}
    row "expanded source size" "$(kib "$b")" "$(kib "$a")" "$a" "$b" "$(per '%+.2f KiB' 1024 "$a" "$b")"
fi
echo
echo "- Source: $(src_lines without_macro) lines of functions ($(src_lines with_macro) with the attributes and the \`use\`)."
echo "- The generated \`_fwd\`/\`_adjoint\`/\`_grad\` are \`#[inline]\`: the plain build type-checks them and stores their MIR in the rlib's metadata but codegens them only where they are called. The \"all derivatives called\" rows add (feature \`callers\`) one public caller per function that calls it and, with the macro, its \`_fwd\`, \`_adjoint\` and \`_grad\`, so their codegen is included; object code and LLVM IR are measured on that variant."
echo "- Cargo builds proc macros unoptimised in both profiles (default \`build-override\`), so the expansion itself costs the same in debug and release."
echo "- All build times (ms):"
for variant in lib callers; do
    for profile in debug release; do
        echo "  $variant $profile: without ${ALL[without_macro,$profile,$variant]}; with ${ALL[with_macro,$profile,$variant]}"
    done
done
echo "- Generated crates: \`${dir#"$repo"/}\`."
