//! The process allocator: mimalloc, tuned to hand freed memory back at once.
//!
//! glibc's malloc spent about a quarter of the CPU of large member changes in its own
//! bookkeeping (BENCHMARKS.md, "Full outbound sync of the tree"). mimalloc removes that, but by
//! default it keeps freed pages for 10 ms (100 ms in arenas) and asks for transparent huge
//! pages, which raised the server's peak RSS by half; purging at once (and building without
//! THP, the `no_thp` feature) keeps the footprint of glibc's.

use libmimalloc_sys::{mi_option_get, mi_option_set, mi_option_t};

/// `mi_option_purge_delay` in the bundled mimalloc v3 (`include/mimalloc.h`); the binding
/// names no constant for it.
const PURGE_DELAY: mi_option_t = 15;

/// Purge freed memory immediately, unless the operator chose a delay with mimalloc's own
/// `MIMALLOC_PURGE_DELAY`. Call first thing in `main`: the option is read on every purge
/// decision, so it holds from then on.
pub fn return_freed_memory_at_once() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: a plain setter of mimalloc's global option table, valid for any index below
    // `_mi_option_last`.
    unsafe { mi_option_set(PURGE_DELAY, 0) }
}

/// The purge delay in force, in milliseconds.
pub fn purge_delay_ms() -> i64 {
    // SAFETY: see above.
    i64::from(unsafe { mi_option_get(PURGE_DELAY) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_purge_delay_index_is_mimallocs_and_is_set_to_zero() {
        // mimalloc's documented default for purge_delay is 10 ms; another index would not hold
        // it (unless MIMALLOC_PURGE_DELAY is set in the environment).
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(purge_delay_ms(), 10);
            return_freed_memory_at_once();
            assert_eq!(purge_delay_ms(), 0);
        }
    }
}
