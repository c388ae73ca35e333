//! Exit codes and the top-level error print.
//!
//! Errors carry their exit code as [`ExitError`] inside `anyhow`, like
//! upstream's `exitError`; everything else exits 1. An `ExitError` without a
//! message prints nothing (the status of a command run in a container).

use std::fmt;

/// An error with its own exit status.
#[derive(Debug)]
pub struct ExitError {
    /// The status to exit with.
    pub code: i32,
    /// What to print after `Error: `, if anything.
    pub msg: Option<String>,
}

impl ExitError {
    /// An error that prints `msg` and exits with `code`.
    pub fn new(code: i32, msg: impl Into<String>) -> Self {
        ExitError {
            code,
            msg: Some(msg.into()),
        }
    }

    /// An error that prints nothing and exits with `code`.
    pub fn silent(code: i32) -> Self {
        ExitError { code, msg: None }
    }
}

impl fmt::Display for ExitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.msg.as_deref().unwrap_or(""))
    }
}

impl std::error::Error for ExitError {}

/// The usage hint upstream appends to argument errors.
pub fn usage_hint() -> String {
    format!("Run '{} --help' for usage.", crate::host::base_name())
}

/// An exit-1 error followed by the usage hint line.
pub fn with_usage(msg: impl fmt::Display) -> anyhow::Error {
    anyhow::Error::new(ExitError::new(1, format!("{msg}\n{}", usage_hint())))
}

/// Prints an error the way upstream does and returns the exit code.
pub fn report(err: &anyhow::Error) -> i32 {
    for cause in err.chain() {
        if let Some(io) = cause.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::BrokenPipe
        {
            return 0;
        }
    }
    if let Some(exit) = err.downcast_ref::<ExitError>() {
        if let Some(msg) = &exit.msg {
            crate::errln!("Error: {msg}");
        }
        return exit.code;
    }
    crate::errln!("Error: {err:#}");
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silent_error_keeps_code() {
        let err = anyhow::Error::new(ExitError::silent(42));
        assert_eq!(report(&err), 42);
    }

    #[test]
    fn plain_error_is_exit_1() {
        assert_eq!(report(&anyhow::anyhow!("boom")), 1);
    }

    #[test]
    fn broken_pipe_is_success() {
        let err = anyhow::Error::new(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert_eq!(report(&err), 0);
    }
}
