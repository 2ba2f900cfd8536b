//! The process's peak resident memory per phase of a commit, sampled: a thread reads the
//! resident set (`/proc/self/status`) every few milliseconds and keeps the largest value
//! since the phase began. (Resetting the kernel's own high-water mark instead would also
//! reset the peak that `wait4` reports for the whole process.) Where `/proc` is not
//! readable (not Linux) there is no figure, and nothing fails.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// How often the resident set is read.
const EVERY: Duration = Duration::from_millis(5);

/// Samples the resident set until dropped.
pub struct PeakSampler {
    peak_bytes: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl PeakSampler {
    /// Starts sampling; `None` where the resident set cannot be read.
    pub fn start() -> Option<Self> {
        let first = resident_bytes()?;
        let peak_bytes = Arc::new(AtomicU64::new(first));
        let stop = Arc::new(AtomicBool::new(false));
        let (peak, stopped) = (peak_bytes.clone(), stop.clone());
        std::thread::Builder::new()
            .name("orglake-peak-rss".into())
            .spawn(move || {
                while !stopped.load(Ordering::Relaxed) {
                    if let Some(now) = resident_bytes() {
                        peak.fetch_max(now, Ordering::Relaxed);
                    }
                    std::thread::sleep(EVERY);
                }
            })
            .ok()?;
        Some(PeakSampler { peak_bytes, stop })
    }

    /// The peak since the sampler started or the last `take`, in MiB; the next period
    /// starts at the current resident set.
    pub fn take(&self) -> u64 {
        let now = resident_bytes().unwrap_or(0);
        let peak = self.peak_bytes.swap(now, Ordering::Relaxed).max(now);
        peak >> 20
    }
}

impl Drop for PeakSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The resident set now, in MiB; `None` where it cannot be read.
pub fn resident_mib() -> Option<u64> {
    resident_bytes().map(|bytes| bytes >> 20)
}

/// The resident set now, in bytes (`VmRSS` of `/proc/self/status`, in KiB).
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: u64 = line["VmRSS:".len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib << 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn a_block_touched_and_freed_between_takes_shows_in_the_next_take_only() {
        let sampler = PeakSampler::start().expect("Linux has /proc/self/statm");
        let before = sampler.take();
        let block = vec![1u8; 256 << 20];
        std::hint::black_box(&block);
        std::thread::sleep(EVERY * 10);
        drop(block);
        let with_block = sampler.take();
        assert!(with_block >= before + 200, "{before} -> {with_block} MiB");
        std::thread::sleep(EVERY * 4);
        assert!(sampler.take() < with_block, "the next period starts lower");
    }
}
