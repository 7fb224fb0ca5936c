//! The global allocator of the binary and the benches: mimalloc. The
//! compiler allocates millions of small values (model records, Kubernetes
//! objects, YAML strings) on several threads; glibc's allocator spent a
//! quarter of `compile --all` in malloc/free.
//!
//! Requests with the alignment every mimalloc block has (a machine word)
//! take `mi_malloc`'s fast path; the `mimalloc` crate sends every request
//! through `mi_malloc_aligned`, which was 6% of `compile --all`.

use libmimalloc_sys as mi;
use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

/// mimalloc as a `#[global_allocator]`.
pub struct Mimalloc;

/// Every block mimalloc returns is aligned to at least a machine word.
const WORD: usize = std::mem::size_of::<usize>();

// SAFETY: each method forwards to the mimalloc function with the same
// contract; plain `mi_malloc` / `mi_zalloc` / `mi_realloc` are used only for
// alignments every mimalloc block already has.
unsafe impl GlobalAlloc for Mimalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= WORD {
            mi::mi_malloc(layout.size()).cast()
        } else {
            mi::mi_malloc_aligned(layout.size(), layout.align()).cast()
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= WORD {
            mi::mi_zalloc(layout.size()).cast()
        } else {
            mi::mi_zalloc_aligned(layout.size(), layout.align()).cast()
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        mi::mi_free(ptr.cast::<c_void>());
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if layout.align() <= WORD {
            mi::mi_realloc(ptr.cast::<c_void>(), new_size).cast()
        } else {
            mi::mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align()).cast()
        }
    }
}

extern "C" {
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

/// `mi_option_purge_delay` (mimalloc.h's `mi_option_t`).
const PURGE_DELAY: std::ffi::c_int = 15;

/// Tell the allocator the process is about to exit: it no longer hands
/// freed memory back to the system. At exit mimalloc purged every freed
/// 64 KiB range with its own `madvise` (some fifty for a trivial `check`,
/// about 0.1 ms of its 3 ms), memory the exit unmaps anyway.
pub fn exiting() {
    // SAFETY: sets one option value; mimalloc reads options atomically.
    unsafe { mi_option_set(PURGE_DELAY, -1) }
}
