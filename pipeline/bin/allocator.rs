//! The binary's allocator: jemalloc, for every allocation of the process (the C libraries'
//! too).
//!
//! A commit runs two queries at once, and their record batches are made on one thread
//! and freed on another. glibc's malloc then waits on the lock of the arena a batch came
//! from, and its workers sleep and wake on it: on the 1 M-instance day-2 commit
//! (`make bench ARGS="load"`), the transforms took 16.3 s with glibc and 10.8 s with
//! jemalloc, at a peak of 432 against 449 MiB. mimalloc took 13.5 s at 749 MiB, and with
//! its purge delay at 0, 15.5 s at 558 MiB. The heap a phase frees is handed back to
//! the system between phases (`orglake::run::heap`).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's settings, read when it starts: a background thread hands pages unused for a
/// second back to the system (the default keeps them ten seconds, in each of its arenas),
/// so that one phase's freed memory does not sit under the next. On the 1 M-instance day 2
/// this lowered the peak from 455 to 441 MiB at the same transform time. The symbol is
/// the unprefixed `malloc_conf` of Linux builds; on macOS, where jemalloc's symbols are
/// prefixed, it is not read and jemalloc keeps its defaults.
#[cfg(not(target_env = "msvc"))]
#[unsafe(export_name = "malloc_conf")]
static MALLOC_CONF: &[u8; 60] = b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0\0";
