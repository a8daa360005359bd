//! Compile-fail cases for `#[differentiate]`: every error the macro reports, checked
//! against its `.stderr`; and pass cases for what generated code must not break.
//! Regenerate with `TRYBUILD=overwrite cargo test --test ui`, then read the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/**/*.rs");
    t.pass("tests/ui-pass/*.rs");
}
