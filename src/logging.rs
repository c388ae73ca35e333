//! Logging set-up from `--log-level`, `-v` and `--log-podman`.
//!
//! Lines go to stderr without timestamps. Off a terminal they are logfmt
//! (`level=debug msg="…"`), which the host parses back out of the entry
//! point's `podman logs`; on a terminal a 4-letter level starts the line.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::sync::OnceLock;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, format::Writer};
use tracing_subscriber::registry::LookupSpan;

/// A level as upstream (logrus) names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// `panic`
    Panic,
    /// `fatal`
    Fatal,
    /// `error`, the default
    Error,
    /// `warn` / `warning`
    Warn,
    /// `info`
    Info,
    /// `debug`
    Debug,
    /// `trace`
    Trace,
}

impl LogLevel {
    /// Parses upstream's words, ignoring case.
    pub fn parse(text: &str) -> Option<LogLevel> {
        Some(match text.to_ascii_lowercase().as_str() {
            "panic" => LogLevel::Panic,
            "fatal" => LogLevel::Fatal,
            "error" => LogLevel::Error,
            "warn" | "warning" => LogLevel::Warn,
            "info" => LogLevel::Info,
            "debug" => LogLevel::Debug,
            "trace" => LogLevel::Trace,
            _ => return None,
        })
    }

    /// The spelling podman's `--log-level` takes (logrus names).
    pub fn podman_name(self) -> &'static str {
        match self {
            LogLevel::Panic => "panic",
            LogLevel::Fatal => "fatal",
            LogLevel::Error => "error",
            LogLevel::Warn => "warning",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }

    fn filter(self) -> tracing::level_filters::LevelFilter {
        use tracing::level_filters::LevelFilter;
        match self {
            LogLevel::Panic | LogLevel::Fatal | LogLevel::Error => LevelFilter::ERROR,
            LogLevel::Warn => LevelFilter::WARN,
            LogLevel::Info => LevelFilter::INFO,
            LogLevel::Debug => LevelFilter::DEBUG,
            LogLevel::Trace => LevelFilter::TRACE,
        }
    }
}

static SETTINGS: OnceLock<(LogLevel, bool)> = OnceLock::new();

/// stderr that swallows write errors: tracing-subscriber reports a failed
/// write with eprintln!, which panics on a full or closed stderr.
struct QuietStderr;

impl std::io::Write for QuietStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = std::io::stderr().write_all(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs the subscriber. `log_podman` hands our level to podman.
pub fn init(level: LogLevel, log_podman: bool) {
    let _ = SETTINGS.set((level, log_podman));
    crate::exec::set_show_child_stderr(level >= LogLevel::Debug);
    let logfmt = !std::io::stderr().is_terminal();
    let _ = tracing_subscriber::fmt()
        .with_max_level(level.filter())
        .with_writer(|| QuietStderr)
        .event_format(LineFormat { logfmt })
        .try_init();
}

/// The level in force.
pub fn level() -> LogLevel {
    SETTINGS.get().map(|s| s.0).unwrap_or(LogLevel::Error)
}

/// Whether debug output is on.
pub fn debugging() -> bool {
    level() >= LogLevel::Debug
}

/// The `--log-level` value every podman call gets.
pub fn podman_level() -> &'static str {
    match SETTINGS.get() {
        Some((level, true)) => level.podman_name(),
        _ => "error",
    }
}

struct LineFormat {
    logfmt: bool,
}

impl<S, N> FormatEvent<S, N> for LineFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let mut msg = String::new();
        event.record(&mut MessageVisitor(&mut msg));
        let level = *event.metadata().level();
        if self.logfmt {
            writeln!(
                writer,
                "level={} msg={}",
                logrus_name(level),
                logfmt_quote(&msg)
            )
        } else {
            writeln!(writer, "{} {}", short_name(level), msg)
        }
    }
}

struct MessageVisitor<'a>(&'a mut String);

impl tracing::field::Visit for MessageVisitor<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
}

fn logrus_name(level: Level) -> &'static str {
    match level {
        Level::ERROR => "error",
        Level::WARN => "warning",
        Level::INFO => "info",
        Level::DEBUG => "debug",
        Level::TRACE => "trace",
    }
}

fn short_name(level: Level) -> &'static str {
    match level {
        Level::ERROR => "ERRO",
        Level::WARN => "WARN",
        Level::INFO => "INFO",
        Level::DEBUG => "DEBU",
        Level::TRACE => "TRAC",
    }
}

/// Quotes a logfmt value when it needs it, as logrus does.
pub fn logfmt_quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._/@^+".contains(c));
    if plain {
        text.to_string()
    } else {
        let mut out = String::with_capacity(text.len() + 2);
        out.push('"');
        for c in text.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_upstream_words() {
        assert_eq!(LogLevel::parse("WARNING"), Some(LogLevel::Warn));
        assert_eq!(LogLevel::parse("fatal"), Some(LogLevel::Fatal));
        assert_eq!(LogLevel::parse("foo"), None);
        assert_eq!(LogLevel::Warn.podman_name(), "warning");
    }

    #[test]
    fn quotes_like_logrus() {
        assert_eq!(logfmt_quote("plain"), "plain");
        assert_eq!(logfmt_quote("two words"), "\"two words\"");
        assert_eq!(logfmt_quote("say \"hi\""), "\"say \\\"hi\\\"\"");
        assert_eq!(logfmt_quote(""), "\"\"");
    }
}
