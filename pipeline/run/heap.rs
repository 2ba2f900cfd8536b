//! Handing the heap a phase freed back to the system before the next phase starts.
//!
//! glibc's malloc keeps memory a program frees for its next allocations; only the top of
//! each arena is returned on its own, so a phase that built and dropped many small objects
//! (the scan's responses, sessions and buffers of ten thousand accounts) leaves the
//! resident set near its high-water mark while the next phase (the commit) adds its own.
//! `malloc_trim` returns every free page of every arena. It is called between phases, when
//! the phase's own work has ended (it is thread-safe, so a task still running elsewhere
//! is not a hazard), and costs milliseconds. Elsewhere than glibc it does nothing.

/// Returns the heap freed so far to the system (glibc's `malloc_trim(0)`); a no-op on
/// other C libraries.
pub fn return_freed_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free pages malloc owns; it takes malloc's own
    // locks and may be called from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The heap the program holds now (glibc's `mallinfo2`: bytes in use in the arenas and in
/// blocks of their own), in MiB; the resident set above it is free memory malloc keeps.
/// `None` on other C libraries.
pub fn in_use_mib() -> Option<u64> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallinfo2 only reads malloc's statistics, under malloc's own locks.
        let info = unsafe { libc::mallinfo2() };
        Some(((info.uordblks + info.hblkhd) >> 20) as u64)
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    None
}
