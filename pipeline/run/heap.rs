//! Handing the heap a phase freed back to the system before the next phase starts.
//!
//! The binary's allocator is jemalloc (`pipeline/bin/allocator.rs`). It keeps the pages a
//! program frees for its next allocations and returns them only after they have been
//! unused for seconds, so a phase that built and dropped many objects (the scan's
//! responses, a bucket's hash tables) would leave the resident set near its high-water
//! mark while the next phase (the commit, the CSV exports) adds its own. Purging every
//! arena between phases returns them at once, and costs milliseconds. Where jemalloc is
//! not the allocator (a build for MSVC), both functions do nothing.

/// Returns the heap freed so far to the system (jemalloc's `arena.<all>.purge`).
pub fn return_freed_heap() {
    #[cfg(not(target_env = "msvc"))]
    {
        // Arena 4096 is jemalloc's MALLCTL_ARENAS_ALL: every arena.
        let name = b"arena.4096.purge\0";
        // SAFETY: a purge takes no value and returns none: null pointers and zero lengths
        // are what it expects, and the name is a NUL-terminated string that outlives the call.
        let status = unsafe {
            tikv_jemalloc_sys::mallctl(
                name.as_ptr().cast(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                0,
            )
        };
        if status != 0 {
            tracing::debug!(status, "jemalloc did not purge its arenas");
        }
    }
}

/// The heap the program holds now (jemalloc's `stats.allocated`: bytes in live
/// allocations), in MiB; the resident set above it is free memory the allocator keeps.
/// `None` where jemalloc is not the allocator.
pub fn in_use_mib() -> Option<u64> {
    #[cfg(not(target_env = "msvc"))]
    {
        // The statistics are a snapshot, taken when the epoch advances.
        tikv_jemalloc_ctl::epoch::advance().ok()?;
        tikv_jemalloc_ctl::stats::allocated::read()
            .ok()
            .map(|bytes| (bytes >> 20) as u64)
    }
    #[cfg(target_env = "msvc")]
    None
}
