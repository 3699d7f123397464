//! The native tests' allocator: counts, per thread, how many allocations a piece of code makes
//! and the most heap it holds at once, to bound what a parser spends on hostile input.
//!
//! It must never panic: a panic inside an allocator cannot be reported (reporting allocates) and
//! aborts the whole test binary, hiding which test failed and why. So the counters are
//! `const`-initialised `Cell`s read with `try_with`, and a measured closure that panics (a
//! failing assertion, a property test's failing case) still restores the counters it found.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// What a measured closure did to the heap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeapUse {
    /// Allocations and reallocations made.
    pub count_total: u64,
    /// The most bytes held at once beyond what was held when measuring began.
    pub bytes_max: u64,
    /// Bytes still held when measuring ended beyond what was held when it began (what the
    /// measured code kept), never below 0.
    pub bytes_kept: u64,
}

#[derive(Clone, Copy)]
struct Counters {
    measuring: bool,
    count_total: u64,
    bytes_now: i64,
    bytes_max: i64,
}

const IDLE: Counters = Counters {
    measuring: false,
    count_total: 0,
    bytes_now: 0,
    bytes_max: 0,
};

thread_local! {
    static COUNTERS: Cell<Counters> = const { Cell::new(IDLE) };
}

/// Adds an allocation of `grown` bytes (negative: freed) to this thread's counters, if measuring.
fn record(grown: i64, counted: bool) {
    // `try_with` fails only while the thread's locals are being torn down: nothing to count.
    let _ = COUNTERS.try_with(|cell| {
        let mut c = cell.get();
        if c.measuring {
            c.count_total = c.count_total.wrapping_add(u64::from(counted));
            c.bytes_now = c.bytes_now.wrapping_add(grown);
            c.bytes_max = c.bytes_max.max(c.bytes_now);
            cell.set(c);
        }
    });
}

fn size_of(layout: Layout) -> i64 {
    i64::try_from(layout.size()).unwrap_or(i64::MAX)
}

pub struct CountingAllocator;

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(size_of(layout), true);
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record(size_of(layout), true);
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        record(-size_of(layout), false);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = i64::try_from(new_size).unwrap_or(i64::MAX);
        record(new.wrapping_sub(size_of(layout)), true);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

// Linked into every test binary that uses this crate, replacing its allocator.
#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Restores the counters a measurement found, also when the measured closure panics.
struct Restore(Counters);

impl Drop for Restore {
    fn drop(&mut self) {
        let outer = self.0;
        let _ = COUNTERS.try_with(|cell| cell.set(outer));
    }
}

/// Runs `f` on this thread, with the heap it used. Measurements nest: an outer one is paused
/// while an inner one runs.
pub fn measure<T>(f: impl FnOnce() -> T) -> (T, HeapUse) {
    let outer = COUNTERS.with(|cell| {
        let outer = cell.get();
        cell.set(Counters {
            measuring: true,
            ..IDLE
        });
        outer
    });
    let restore = Restore(outer);
    let out = f();
    let used = COUNTERS.with(Cell::get);
    drop(restore);
    let used = HeapUse {
        count_total: used.count_total,
        bytes_max: u64::try_from(used.bytes_max).unwrap_or(0),
        bytes_kept: u64::try_from(used.bytes_now).unwrap_or(0),
    };
    (out, used)
}
