//! The allocator of the lockdrop binary: a bump arena for start-up, the C
//! library's malloc beyond it. Start-up allocates a few hundred small blocks
//! and frees them all at exec; musl's mallocng spent ~120 instructions per
//! malloc/free pair on them, a quarter of an `--exec` start (bench/results.md).
//! Here a block costs a compare-and-swap, a free costs nothing (the newest
//! block gives its bytes back, so a Vec that grows in a loop reuses them),
//! and memory past the arena (a 100k-line /etc/passwd, a supervisor running
//! for months) comes from and returns to malloc as before. Only main.rs
//! installs it; the test harnesses keep the system allocator.
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

const SIZE: usize = 64 * 1024;

#[repr(C, align(64))]
struct Arena(UnsafeCell<[u8; SIZE]>);

// SAFETY: the bytes are handed out in disjoint blocks through the atomic
// `NEXT`; no two callers ever receive overlapping ranges.
unsafe impl Sync for Arena {}

static ARENA: Arena = Arena(UnsafeCell::new([0; SIZE]));
/// Offset of the first free byte in the arena.
static NEXT: AtomicUsize = AtomicUsize::new(0);

pub struct Bump;

fn base() -> usize {
    ARENA.0.get() as usize
}

/// The arena offset of `p`, when it points into the arena.
fn offset(p: *mut u8) -> Option<usize> {
    (p as usize).checked_sub(base()).filter(|o| *o < SIZE)
}

// SAFETY: every block returned is either a disjoint, suitably aligned range
// of the arena reserved by a successful compare-and-swap of NEXT, or comes
// from System; dealloc/realloc tell the two apart by address.
unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let mut cur = NEXT.load(Relaxed);
        loop {
            let start = (base() + cur + l.align() - 1) & !(l.align() - 1);
            let end = start - base() + l.size();
            if end > SIZE {
                // SAFETY: forwarded with the caller's layout.
                return unsafe { System.alloc(l) };
            }
            match NEXT.compare_exchange_weak(cur, end, Relaxed, Relaxed) {
                Ok(_) => return start as *mut u8,
                Err(now) => cur = now,
            }
        }
    }

    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        match offset(p) {
            // The newest block gives its bytes back; older ones stay used.
            Some(o) => {
                let _ = NEXT.compare_exchange(o + l.size(), o, Relaxed, Relaxed);
            }
            // SAFETY: p came from System.alloc with this layout.
            None => unsafe { System.dealloc(p, l) },
        }
    }

    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let Some(o) = offset(p) else {
            // SAFETY: p came from System with layout l.
            return unsafe { System.realloc(p, l, new) };
        };
        // The newest block grows (or shrinks) in place.
        if o + new <= SIZE
            && NEXT
                .compare_exchange(o + l.size(), o + new, Relaxed, Relaxed)
                .is_ok()
        {
            return p;
        }
        // SAFETY: the caller guarantees new > 0 and a valid layout with l's alignment.
        let n = unsafe { self.alloc(Layout::from_size_align_unchecked(new, l.align())) };
        if !n.is_null() {
            // SAFETY: both blocks are valid for the copied length and disjoint.
            unsafe {
                std::ptr::copy_nonoverlapping(p, n, l.size().min(new));
                self.dealloc(p, l);
            }
        }
        n
    }
}
