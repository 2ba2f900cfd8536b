//! The allocator's arenas, capped before the first thread starts.
//!
//! glibc's malloc gives threads up to eight arenas per core, and memory freed in one arena
//! is reused only by allocations in that arena. A commit's tokio workers and DataFusion
//! tasks move between threads, so each arena comes to hold the high-water mark of the work
//! that passed through it, and the resident set is their sum. One arena per core (at least
//! two) keeps that sum down: on the 1 M-instance day-2 commit (`make bench ARGS="load"`),
//! 429 against 493 MiB peak RSS at the same commit time; one arena in all came to 378 MiB
//! but was 20 % slower. A cap set by the operator (`MALLOC_ARENA_MAX`, or `arena_max` in
//! `GLIBC_TUNABLES`) is left alone.

/// Caps glibc's malloc arenas at one per core (at least two), unless the environment sets a
/// cap; returns the cap set, if any. A no-op on other C libraries.
pub fn cap_arenas() -> Option<usize> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let set_by_operator = std::env::var_os("MALLOC_ARENA_MAX").is_some()
            || std::env::var("GLIBC_TUNABLES").is_ok_and(|t| t.contains("arena_max"));
        if set_by_operator {
            return None;
        }
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get()).max(2);
        let arenas = libc::c_int::try_from(cores).unwrap_or(libc::c_int::MAX);
        // SAFETY: mallopt only sets a malloc parameter; it is called before any other thread
        // exists, and a value it rejects is reported by its return value, not undefined.
        let accepted = unsafe { libc::mallopt(libc::M_ARENA_MAX, arenas) };
        (accepted == 1).then_some(cores)
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    None
}
