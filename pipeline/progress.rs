//! How a run tells the caller how far it has come. The library only reports; the binary
//! draws (a progress bar on a terminal), a test or an embedding program may count or ignore.
//!
//! A base module: it imports nothing of the crate.

/// Receives the progress of a run's long phases (one at a time).
pub trait Progress: Send + Sync {
    /// A phase of `total` steps begins, for example `accounts`.
    fn begin(&self, phase: &'static str, total: u64);
    /// The phase has `steps` more steps than it had (a phase whose total grows while it
    /// runs begins with what it knows, perhaps 0).
    fn grow(&self, steps: u64) {
        let _ = steps;
    }
    /// `steps` more steps of the phase are done.
    fn advance(&self, steps: u64);
    /// The phase is over.
    fn end(&self);
}

/// Progress nobody watches.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {
    fn begin(&self, _phase: &'static str, _total: u64) {}
    fn advance(&self, _steps: u64) {}
    fn end(&self) {}
}
