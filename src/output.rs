//! Writing to standard output and standard error without panicking.
//!
//! `println!` and `eprintln!` panic when their stream is closed or full
//! (`toolbox --version | true`, `2>/dev/full`), which would stop toolbox
//! half-way, e.g. between two removals of `rm`. Where stdout is the whole
//! point (`--version`, the help text) a failed write is an error; where it
//! only reports work already done (`Created container: …`), and for every
//! message on stderr, it is ignored, as Go's fmt does.

use std::fmt;
use std::io::{self, Write};

/// Writes `text` to stdout and flushes it.
pub fn out(text: fmt::Arguments<'_>) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_fmt(text)?;
    out.flush()
}

/// [`out`] as an error for the user, naming the stream; the I/O error
/// stays in the chain so that a closed pipe ends quietly (`error::report`).
pub fn out_or_fail(text: fmt::Arguments<'_>) -> anyhow::Result<()> {
    out(text).map_err(|e| anyhow::Error::new(e).context("failed to write to standard output"))
}

/// Writes `text` to stderr, ignoring failure: there is nowhere left to
/// report it.
pub fn err(text: fmt::Arguments<'_>) {
    let _ = io::stderr().lock().write_fmt(text);
}

/// `println!` that returns the write error instead of panicking.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::output::out(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprintln!` that never panics.
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::output::err(format_args!("{}\n", format_args!($($arg)*)))
    };
}
