//! The run's progress drawn as a bar on a terminal: a tracing span per phase, which the
//! `tracing-indicatif` layer installed by [`crate::logging`] draws above the log lines.

use std::sync::Mutex;

use indicatif::ProgressStyle;
use orglake::progress::Progress;
use tracing::Span;
use tracing_indicatif::span_ext::IndicatifSpanExt;

/// A bar per phase while it runs (drawn only when the terminal layer is installed).
#[derive(Debug, Default)]
pub struct ProgressBar {
    phase: Mutex<Option<Span>>,
}

impl ProgressBar {
    fn with_phase(&self, f: impl FnOnce(&mut Option<Span>)) {
        // A poisoned lock only means a panic elsewhere; the bar is cosmetic.
        let mut phase = self.phase.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut phase);
    }
}

impl Progress for ProgressBar {
    fn begin(&self, phase: &'static str, total: u64) {
        self.with_phase(|current| {
            let span = tracing::info_span!("scan", phase);
            if let Ok(style) =
                ProgressStyle::with_template("{spinner} {msg} [{wide_bar}] {pos}/{len} ({elapsed}, about {eta} left)")
            {
                span.pb_set_style(&style.progress_chars("=> "));
            }
            span.pb_set_length(total);
            span.pb_set_message(phase);
            span.pb_start();
            *current = Some(span);
        });
    }

    fn grow(&self, steps: u64) {
        self.with_phase(|current| {
            if let Some(span) = current {
                span.pb_inc_length(steps);
            }
        });
    }

    fn advance(&self, steps: u64) {
        self.with_phase(|current| {
            if let Some(span) = current {
                span.pb_inc(steps);
            }
        });
    }

    fn end(&self) {
        self.with_phase(|current| *current = None);
    }
}
