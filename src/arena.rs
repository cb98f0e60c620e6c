//! The wasm build's allocator: a bump arena that `wasm.rs` empties between calls.
//!
//! Every call of the module is independent: its arguments, its working values and its result
//! live until the glue has read the result, and nothing survives to the next call (the module
//! has no caches). So allocation is a pointer bump, freeing is a no-op (or a step back for the
//! newest block, which also lets the newest block grow in place), and the whole heap is
//! released at once before the next call's arguments are written. Compared with dlmalloc this
//! drops about 7 KB of code and most of the time spent in malloc and free. Linear memory only
//! grows, as with any wasm allocator, up to the largest single call's need.
//!
//! The logic is generic over the memory it grows ([`Memory`]) so the native tests can run it
//! over a plain buffer.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;

pub(crate) const PAGE: usize = 65_536;

/// Linear memory that grows by pages at its end.
pub(crate) trait Memory {
    /// The address just past the memory.
    fn end(&self) -> usize;
    /// Adds `pages` pages at the end; false when it cannot.
    fn grow(&self, pages: usize) -> bool;
}

pub(crate) struct Arena<M> {
    memory: M,
    /// Where the heap starts (0 until the first allocation).
    base: Cell<usize>,
    /// The first free byte.
    next: Cell<usize>,
    /// The end of the memory the arena owns.
    end: Cell<usize>,
    /// Set when a call has returned: the next allocation (the next call's first argument)
    /// empties the arena first, by which time the glue has read the result.
    reset_pending: Cell<bool>,
}

impl<M: Memory> Arena<M> {
    pub(crate) const fn new(memory: M) -> Self {
        Self {
            memory,
            base: Cell::new(0),
            next: Cell::new(0),
            end: Cell::new(0),
            reset_pending: Cell::new(false),
        }
    }

    /// Releases every block at the next allocation: what a call leaves (its result) stays
    /// readable until then.
    pub(crate) fn reset_before_next_alloc(&self) {
        self.reset_pending.set(true);
    }

    /// Releases every block at once.
    pub(crate) fn reset(&self) {
        self.next.set(self.base.get());
    }

    /// Bytes handed out since the last reset.
    #[cfg(test)]
    pub(crate) fn used(&self) -> usize {
        self.next.get() - self.base.get()
    }

    /// Makes the arena own memory up to `needed` (an address); false when memory cannot grow.
    fn reserve(&self, needed: usize) -> bool {
        if self.base.get() == 0 {
            // The heap starts at the end of the memory as it is (the module's data and stack
            // come before it); only this allocator grows memory, so it stays contiguous.
            let end = self.memory.end();
            self.base.set(end);
            self.next.set(end);
            self.end.set(end);
        }
        let end = self.end.get();
        if needed <= end {
            return true;
        }
        let pages = (needed - end).div_ceil(PAGE);
        if !self.memory.grow(pages) {
            return false;
        }
        self.end.set(self.memory.end());
        true
    }

    // Not inlined: a call per allocation site keeps the module small (inlined, the module grew
    // by a fifth).
    #[inline(never)]
    fn bump(&self, layout: Layout) -> *mut u8 {
        if self.reset_pending.replace(false) {
            self.reset();
        }
        if !self.reserve(0) {
            return std::ptr::null_mut();
        }
        let align = layout.align();
        let Some(start) = self
            .next
            .get()
            .checked_add(align - 1)
            .map(|a| a & !(align - 1))
        else {
            return std::ptr::null_mut();
        };
        let Some(stop) = start.checked_add(layout.size()) else {
            return std::ptr::null_mut();
        };
        if !self.reserve(stop) {
            return std::ptr::null_mut();
        }
        self.next.set(stop);
        start as *mut u8
    }
}

// SAFETY: the blocks handed out are disjoint ranges of memory the arena owns, aligned as asked,
// and none is handed out again before `reset`, which runs (through `reset_before_next_alloc`,
// set by `wasm.rs` when a call returns) only when no block is in use. The module is single-threaded (wasm32-unknown-unknown without the atomics feature).
unsafe impl<M: Memory> GlobalAlloc for Arena<M> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.bump(layout)
    }

    #[inline(never)]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // The newest block steps back; any other waits for the reset.
        if ptr as usize + layout.size() == self.next.get() {
            self.next.set(ptr as usize);
        }
    }

    #[inline(never)]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = ptr as usize;
        if old + layout.size() == self.next.get() {
            // The newest block grows (or shrinks) in place.
            let Some(stop) = old.checked_add(new_size) else {
                return std::ptr::null_mut();
            };
            if !self.reserve(stop) {
                return std::ptr::null_mut();
            }
            self.next.set(stop);
            return ptr;
        }
        if new_size <= layout.size() {
            return ptr;
        }
        // SAFETY: the caller guarantees `new_size` with `layout.align()` is a valid layout.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        let new = self.bump(new_layout);
        if !new.is_null() {
            // SAFETY: both blocks are valid for `layout.size()` bytes and do not overlap (the
            // new one was bumped past the old one).
            unsafe { std::ptr::copy_nonoverlapping(ptr, new, layout.size()) };
        }
        new
    }
}

#[cfg(target_arch = "wasm32")]
pub(crate) struct Wasm;

#[cfg(target_arch = "wasm32")]
impl Memory for Wasm {
    fn end(&self) -> usize {
        core::arch::wasm32::memory_size(0) * PAGE
    }

    fn grow(&self, pages: usize) -> bool {
        core::arch::wasm32::memory_grow(0, pages) != usize::MAX
    }
}

// SAFETY: see the GlobalAlloc impl: one thread.
#[cfg(target_arch = "wasm32")]
unsafe impl Sync for Arena<Wasm> {}

#[cfg(target_arch = "wasm32")]
#[global_allocator]
pub(crate) static ARENA: Arena<Wasm> = Arena::new(Wasm);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    /// Memory over a fixed buffer: starts with one page, grows up to `limit` pages.
    struct Buffer {
        start: usize,
        pages: Cell<usize>,
        limit: usize,
        _buf: Vec<u8>,
    }

    impl Buffer {
        fn new(limit: usize) -> Self {
            let buf = vec![0u8; (limit + 1) * PAGE];
            let start = (buf.as_ptr() as usize).div_ceil(PAGE) * PAGE;
            Self {
                start,
                pages: Cell::new(1),
                limit,
                _buf: buf,
            }
        }
    }

    impl Memory for Buffer {
        fn end(&self) -> usize {
            self.start + self.pages.get() * PAGE
        }
        fn grow(&self, pages: usize) -> bool {
            if self.pages.get() + pages > self.limit {
                return false;
            }
            self.pages.set(self.pages.get() + pages);
            true
        }
    }

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn blocks_are_aligned_disjoint_and_released_by_reset() {
        let arena = Arena::new(Buffer::new(8));
        // SAFETY (all blocks below): valid layouts; blocks used only within their sizes.
        unsafe {
            let a = arena.alloc(layout(3, 1));
            let b = arena.alloc(layout(16, 8));
            let c = arena.alloc(layout(100_000, 16));
            assert!(!a.is_null() && !b.is_null() && !c.is_null());
            assert_eq!(b as usize % 8, 0);
            assert_eq!(c as usize % 16, 0);
            assert!(a as usize + 3 <= b as usize && b as usize + 16 <= c as usize);
            std::ptr::write_bytes(c, 7, 100_000);
            let used = arena.used();
            assert!(used >= 100_019, "{used}");
            // Freeing an older block does nothing; the newest one steps back.
            arena.dealloc(b, layout(16, 8));
            assert_eq!(arena.used(), used);
            arena.dealloc(c, layout(100_000, 16));
            assert_eq!(arena.used(), c as usize - a as usize);
            arena.reset();
            assert_eq!(arena.used(), 0);
            assert_eq!(arena.alloc(layout(3, 1)), a);
        }
    }

    #[test]
    fn a_pending_reset_waits_for_the_next_allocation() {
        let arena = Arena::new(Buffer::new(8));
        // SAFETY: as above.
        unsafe {
            let first = arena.alloc(layout(8, 8));
            let result = arena.alloc(layout(32, 1));
            std::ptr::write_bytes(result, 9, 32);
            arena.reset_before_next_alloc();
            // The result of the call that just returned is still there (the glue reads it, then
            // frees it, before the next call allocates its first argument).
            assert_eq!(result.read(), 9);
            arena.dealloc(result, layout(32, 1));
            assert_eq!(
                arena.alloc(layout(8, 8)),
                first,
                "the next allocation starts afresh"
            );
            assert_eq!(arena.used(), 8);
        }
    }

    #[test]
    fn realloc_grows_the_newest_block_in_place_and_copies_others() {
        let arena = Arena::new(Buffer::new(8));
        // SAFETY: as above.
        unsafe {
            let a = arena.alloc(layout(4, 4));
            a.cast::<u32>().write(0xdead_beef);
            let grown = arena.realloc(a, layout(4, 4), 200_000);
            assert_eq!(grown, a, "the newest block grows where it is");
            assert_eq!(grown.cast::<u32>().read(), 0xdead_beef);
            let b = arena.alloc(layout(8, 8));
            b.cast::<u64>().write(42);
            let _c = arena.alloc(layout(1, 1));
            let moved = arena.realloc(b, layout(8, 8), 64);
            assert_ne!(moved, b, "an older block moves");
            assert_eq!(moved.cast::<u64>().read(), 42);
            assert_eq!(moved as usize % 8, 0);
            // Shrinking an older block keeps it.
            assert_eq!(arena.realloc(a, layout(200_000, 4), 10), a);
        }
    }

    #[test]
    fn running_out_of_memory_is_a_null_pointer() {
        let arena = Arena::new(Buffer::new(2));
        // SAFETY: as above.
        unsafe {
            assert!(arena.alloc(layout(10 * PAGE, 1)).is_null());
            assert!(!arena.alloc(layout(PAGE / 2, 1)).is_null());
            assert!(arena.alloc(layout(isize::MAX as usize - 8, 1)).is_null());
        }
    }
}
