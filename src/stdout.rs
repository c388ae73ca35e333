//! Writing to standard output without panicking.
//!
//! `println!` panics when stdout is closed or full (`toolbox --version |
//! true`, `>/dev/full`). Where the output is the whole point (`--version`,
//! the help text) the failure is an error; where it only reports work
//! already done (`Created container: …`), it is ignored, as Go's fmt does.

use std::fmt;
use std::io::{self, Write};

/// Writes `text` to stdout and flushes it.
pub fn write(text: fmt::Arguments<'_>) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_fmt(text)?;
    out.flush()
}

/// [`write()`] as an error for the user, naming the stream; the I/O error
/// stays in the chain so that a closed pipe ends quietly (`error::report`).
pub fn write_or_fail(text: fmt::Arguments<'_>) -> anyhow::Result<()> {
    write(text).map_err(|e| anyhow::Error::new(e).context("failed to write to standard output"))
}

/// `println!` that returns the write error instead of panicking.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::stdout::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}
