//! Reverse mode of code that needs no tape must not allocate: a counting global
//! allocator (per thread, so parallel tests do not interfere) around the calls.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use autodiff::differentiate;

struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

fn bump() {
    let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump();
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump();
        System.alloc_zeroed(layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump();
        System.realloc(ptr, layout, new_size)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made on this thread while running `f`.
fn allocations<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let before = ALLOCS.with(Cell::get);
    let r = f();
    (ALLOCS.with(Cell::get) - before, r)
}

#[differentiate]
fn straight_line(x: f64, y: f64) -> f64 {
    let a = x * y + x.sin();
    let b = a.exp() / (1.0 + y * y);
    let mut c = b - a;
    c *= x;
    c.tanh() + b.sqrt()
}

#[differentiate]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..a.len() {
        s += a[i] * b[i];
    }
    s
}

#[differentiate]
fn zip_dot(w: &[f64], x: &[f64]) -> f64 {
    let mut s = 0.0;
    for (wi, xi) in w.iter().zip(x.iter()) {
        s += wi * xi;
    }
    s
}

#[differentiate]
fn iter_sum_sq(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for xi in x.iter() {
        s += xi * xi;
    }
    s
}

#[test]
fn counter_sees_allocations() {
    let (n, v) = allocations(|| vec![1.0f64; 8]);
    assert!(n >= 1, "the counting allocator does not count");
    drop(v);
}

#[test]
fn straight_line_adjoint_does_not_allocate() {
    let (mut dx, mut dy) = (0.0, 0.0);
    straight_line_adjoint(0.3, &mut dx, -0.7, &mut dy, 1.0);
    let (n, v) = allocations(|| straight_line_adjoint(0.3, &mut dx, -0.7, &mut dy, 1.0));
    assert_eq!(v, straight_line(0.3, -0.7));
    assert_eq!(n, 0, "straight_line_adjoint allocated {n} times");
    let (n, _) = allocations(|| straight_line_grad(0.3, -0.7));
    assert_eq!(n, 0, "straight_line_grad allocated {n} times");
    let (n, _) = allocations(|| straight_line_fwd(0.3, 1.0, -0.7, 0.0));
    assert_eq!(n, 0, "straight_line_fwd allocated {n} times");
}

#[test]
fn dot_product_adjoint_does_not_allocate() {
    let a: Vec<f64> = (0..64).map(|i| (i as f64 * 0.37).sin()).collect();
    let b: Vec<f64> = (0..64).map(|i| (i as f64 * 0.11).cos()).collect();
    let (mut da, mut db) = (vec![0.0; 64], vec![0.0; 64]);
    dot_adjoint(&a, &mut da, &b, &mut db, 1.0);
    let (n, v) = allocations(|| dot_adjoint(&a, &mut da, &b, &mut db, 1.0));
    assert_eq!(v, dot(&a, &b));
    assert_eq!(n, 0, "dot_adjoint allocated {n} times");
    assert_eq!(da, b.iter().map(|x| 2.0 * x).collect::<Vec<_>>());
    let (n, _) = allocations(|| dot_fwd(&a, &b, &b, &a));
    assert_eq!(n, 0, "dot_fwd allocated {n} times");
}

#[test]
fn iterator_loop_adjoints_do_not_allocate() {
    let w = [0.5, -1.0, 2.0, 0.25];
    let x = [0.1, 0.2, -0.3, 0.4];
    let (mut dw, mut dx) = ([0.0; 4], [0.0; 4]);
    zip_dot_adjoint(&w, &mut dw, &x, &mut dx, 1.0);
    let (n, v) = allocations(|| zip_dot_adjoint(&w, &mut dw, &x, &mut dx, 1.0));
    assert_eq!(v, zip_dot(&w, &x));
    assert_eq!(n, 0, "zip_dot_adjoint allocated {n} times");
    iter_sum_sq_adjoint(&x, &mut dx, 1.0);
    let (n, v) = allocations(|| iter_sum_sq_adjoint(&x, &mut dx, 1.0));
    assert_eq!(v, iter_sum_sq(&x));
    assert_eq!(n, 0, "iter_sum_sq_adjoint allocated {n} times");
}
