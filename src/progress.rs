//! The spinner shown while pulling and creating (spec: cli.md §2.7).

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// A spinner that exists only when stdout is a terminal and the log level
/// is below debug; otherwise nothing is drawn, since scripts read stdout.
pub struct Spinner(Option<ProgressBar>);

impl Spinner {
    /// Starts a spinner with the given prefix, e.g. `Pulling <image>: `.
    pub fn start(prefix: &str) -> Spinner {
        if !std::io::stdout().is_terminal() || crate::logging::debugging() {
            return Spinner(None);
        }
        let bar = ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stdout());
        bar.set_style(
            ProgressStyle::with_template("{prefix}{spinner}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner())
                .tick_chars("|/-\\ "),
        );
        bar.set_prefix(prefix.to_string());
        bar.enable_steady_tick(Duration::from_millis(500));
        Spinner(Some(bar))
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        if let Some(bar) = self.0.take() {
            bar.finish_and_clear();
        }
    }
}
