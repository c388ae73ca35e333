//! The only place that builds child processes.
//!
//! Every program is looked up through `PATH` (so tests can put fakes first),
//! its argv is logged at debug level shell-quoted so it can be pasted, and
//! failures keep the raw `io::Error` so callers can match `NotFound` or
//! `ENOEXEC` through [`ExecError::raw_os_error`].

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};

/// When set, children inherit our stderr instead of having it captured
/// (upstream shows helper output only at debug level).
static SHOW_CHILD_STDERR: AtomicBool = AtomicBool::new(false);

/// How much of a child's stderr is kept for error messages.
const STDERR_TAIL: usize = 2048;

/// Makes children inherit stderr (debug level) or not.
pub fn set_show_child_stderr(show: bool) {
    SHOW_CHILD_STDERR.store(show, Ordering::Relaxed);
}

/// Whether children currently inherit stderr.
pub fn show_child_stderr() -> bool {
    SHOW_CHILD_STDERR.load(Ordering::Relaxed)
}

/// Why a child process could not be run or did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The program is not on `PATH`.
    #[error("{program}(1) not found")]
    NotFound {
        /// The program's name.
        program: String,
    },
    /// The program was found but could not be started.
    #[error("failed to invoke {program}(1): {source}")]
    Spawn {
        /// The program's name.
        program: String,
        /// The raw error from the kernel.
        #[source]
        source: io::Error,
    },
    /// The program ran and exited unsuccessfully.
    #[error("{program}(1) failed with {}{}", describe_status(*.status), stderr_suffix(.stderr))]
    Failed {
        /// The program's name.
        program: String,
        /// Its exit status.
        status: ExitStatus,
        /// The tail of what it wrote to stderr, if captured.
        stderr: String,
    },
}

impl ExecError {
    /// The raw errno of a failed start, e.g. `ENOEXEC` for an unknown binary format.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            ExecError::Spawn { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }

    /// The exit code of a child that ran and failed, as a shell reports it.
    pub fn exit_code(&self) -> Option<i32> {
        match self {
            ExecError::Failed { status, .. } => Some(status_code(*status)),
            _ => None,
        }
    }

    /// Captured stderr of a failed child.
    pub fn stderr(&self) -> &str {
        match self {
            ExecError::Failed { stderr, .. } => stderr,
            _ => "",
        }
    }
}

fn describe_status(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(sig)) => format!("signal {sig}"),
        _ => "unknown status".to_string(),
    }
}

fn stderr_suffix(stderr: &str) -> String {
    let trimmed = stderr.trim();
    if trimmed.is_empty() {
        String::new()
    } else {
        format!(": {trimmed}")
    }
}

/// A child's status as a shell would report it: the code, or 128 + signal.
pub fn status_code(status: ExitStatus) -> i32 {
    match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(sig)) => 128 + sig,
        _ => 1,
    }
}

/// Where a child's standard stream goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Io {
    /// `/dev/null`.
    Null,
    /// Our own stream.
    Inherit,
    /// Captured into memory.
    Capture,
}

impl Io {
    fn stdio(self) -> Stdio {
        match self {
            Io::Null => Stdio::null(),
            Io::Inherit => Stdio::inherit(),
            Io::Capture => Stdio::piped(),
        }
    }
}

/// A command line to run, built apart from running it.
#[derive(Debug, Clone)]
pub struct Cmd {
    program: String,
    args: Vec<OsString>,
    stdin: Io,
    stdout: Io,
    stderr: Option<Io>,
    env: Vec<(OsString, OsString)>,
    own_group: bool,
}

impl Cmd {
    /// A command for `program`, looked up through `PATH` when run.
    /// Defaults: stdin and stdout from `/dev/null`, stderr captured unless
    /// debugging.
    pub fn new(program: &str) -> Self {
        Cmd {
            program: program.to_string(),
            args: Vec::new(),
            stdin: Io::Null,
            stdout: Io::Null,
            stderr: None,
            env: Vec::new(),
            own_group: false,
        }
    }

    /// Runs the child in a process group of its own, so the terminal's
    /// Ctrl-C reaches toolbox alone, which then decides (see
    /// `crate::interrupt`).
    pub fn own_process_group(mut self) -> Self {
        self.own_group = true;
        self
    }

    /// Appends one argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_os_string());
        self
    }

    /// Appends arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        self
    }

    /// Sets stdin.
    pub fn stdin(mut self, io: Io) -> Self {
        self.stdin = io;
        self
    }

    /// Sets stdout.
    pub fn stdout(mut self, io: Io) -> Self {
        self.stdout = io;
        self
    }

    /// Sets stderr, overriding the debug-level default.
    pub fn stderr(mut self, io: Io) -> Self {
        self.stderr = Some(io);
        self
    }

    /// Sets an environment variable for the child.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.env
            .push((key.as_ref().to_os_string(), value.as_ref().to_os_string()));
        self
    }

    /// The program name.
    pub fn program(&self) -> &str {
        &self.program
    }

    /// The arguments after the program name.
    pub fn get_args(&self) -> &[OsString] {
        &self.args
    }

    /// The argv as one shell-quoted line, for logs.
    pub fn display(&self) -> String {
        let mut words = vec![quote(OsStr::new(&self.program))];
        words.extend(self.args.iter().map(|a| quote(a)));
        words.join(" ")
    }

    fn stderr_io(&self) -> Io {
        self.stderr.unwrap_or(if show_child_stderr() {
            Io::Inherit
        } else {
            Io::Capture
        })
    }

    fn resolve(&self) -> Result<PathBuf, ExecError> {
        lookup(&self.program).ok_or_else(|| ExecError::NotFound {
            program: self.program.clone(),
        })
    }

    fn command(&self, path: &Path) -> std::process::Command {
        #[allow(clippy::disallowed_methods)]
        let mut cmd = std::process::Command::new(path);
        // argv[0] stays the bare name, as a shell would run it.
        cmd.arg0(&self.program);
        cmd.args(&self.args);
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd.stdin(self.stdin.stdio());
        cmd.stdout(self.stdout.stdio());
        cmd.stderr(self.stderr_io().stdio());
        if self.own_group {
            cmd.process_group(0);
        }
        cmd
    }

    /// Starts the child.
    pub fn spawn(&self) -> Result<Child, ExecError> {
        let path = self.resolve()?;
        tracing::debug!("Running {}", self.display());
        self.command(&path)
            .spawn()
            .map_err(|source| self.spawn_error(source))
    }

    fn spawn_error(&self, source: io::Error) -> ExecError {
        if source.kind() == io::ErrorKind::NotFound {
            ExecError::NotFound {
                program: self.program.clone(),
            }
        } else {
            ExecError::Spawn {
                program: self.program.clone(),
                source,
            }
        }
    }

    /// Runs the child to completion and returns its output, whatever its status.
    pub fn output(&self) -> Result<Output, ExecError> {
        let child = self.spawn()?;
        child
            .wait_with_output()
            .map_err(|source| self.spawn_error(source))
    }

    /// Runs the child and returns its status, whatever it is.
    pub fn status(&self) -> Result<ExitStatus, ExecError> {
        Ok(self.output()?.status)
    }

    /// Runs the child; a non-zero status is an [`ExecError::Failed`] with
    /// the tail of its stderr.
    pub fn run(&self) -> Result<Output, ExecError> {
        let output = self.output()?;
        if output.status.success() {
            Ok(output)
        } else {
            Err(ExecError::Failed {
                program: self.program.clone(),
                status: output.status,
                stderr: tail(&output.stderr),
            })
        }
    }

    /// Runs the child and returns its stdout as text.
    pub fn run_stdout(&self) -> Result<String, ExecError> {
        let out = self.clone().stdout(Io::Capture).run()?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Replaces this process with the child. Returns only on failure.
    pub fn exec(&self) -> ExecError {
        let path = match self.resolve() {
            Ok(p) => p,
            Err(e) => return e,
        };
        tracing::debug!("Executing {}", self.display());
        let source = self.command(&path).exec();
        self.spawn_error(source)
    }
}

/// The last 2 KiB (`STDERR_TAIL`) of a child's stderr, as text.
pub fn tail(bytes: &[u8]) -> String {
    let start = bytes.len().saturating_sub(STDERR_TAIL);
    String::from_utf8_lossy(&bytes[start..]).into_owned()
}

/// Finds a program on `PATH`, or takes a path as it is.
pub fn lookup(program: &str) -> Option<PathBuf> {
    which::which(program).ok()
}

/// Quotes one word so that a shell reads it back unchanged.
pub fn quote(word: &OsStr) -> String {
    let text = word.to_string_lossy();
    shlex::try_quote(&text)
        .map(|q| q.into_owned())
        .unwrap_or_else(|_| format!("{text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_program_is_not_found() {
        let err = Cmd::new("toolbox-no-such-program").run().unwrap_err();
        assert!(matches!(err, ExecError::NotFound { .. }));
        assert_eq!(err.to_string(), "toolbox-no-such-program(1) not found");
    }

    #[test]
    fn failure_keeps_code_and_stderr() {
        let err = Cmd::new("sh")
            .args(["-c", "echo oops >&2; exit 3"])
            .run()
            .unwrap_err();
        assert_eq!(err.exit_code(), Some(3));
        assert_eq!(err.stderr().trim(), "oops");
    }

    #[test]
    fn signal_death_is_128_plus_signal() {
        let status = Cmd::new("sh").args(["-c", "kill -9 $$"]).status().unwrap();
        assert_eq!(status_code(status), 137);
    }

    #[test]
    fn stdout_is_captured() {
        let out = Cmd::new("sh")
            .args(["-c", "printf hi"])
            .run_stdout()
            .unwrap();
        assert_eq!(out, "hi");
    }

    #[test]
    fn enoexec_is_kept_raw() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("junk");
        std::fs::write(&path, b"\x7fELF garbage that is no program").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        let err = Cmd::new(path.to_str().unwrap()).run().unwrap_err();
        assert_eq!(err.raw_os_error(), Some(nix::libc::ENOEXEC));
    }

    #[test]
    fn display_quotes_words() {
        let cmd = Cmd::new("podman").args(["exec", "a b", ""]);
        assert_eq!(cmd.display(), "podman exec 'a b' ''");
    }
}
