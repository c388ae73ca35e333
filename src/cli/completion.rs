//! `toolbox completion bash|fish|zsh` (hidden, spec: cli.md §12.1). Needs
//! no podman, no sub-IDs and never migrates: packaging runs it in chroots.
//!
//! The script is clap_complete's registration for its environment
//! protocol: the shell calls `TOOLBOX_COMPLETE=<shell> toolbox -- <words>`
//! back, and [`crate::cli::complete`] answers with container names, image
//! names and flag values. The committed copies under `completions/` are
//! this output; `tests/it/completion.rs` fails when they drift.

use anyhow::Result;
use clap::Args;

use crate::cli::complete::Shell;
use crate::error::with_usage;

/// Arguments of `toolbox completion`.
#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell: bash, fish or zsh.
    #[arg(value_name = "SHELL")]
    pub shell: Vec<String>,
}

/// The completion script for a shell.
pub fn script(shell: Shell) -> Vec<u8> {
    shell.script()
}

/// Runs `toolbox completion`.
pub fn run(args: &CompletionArgs) -> Result<()> {
    if args.shell.len() != 1 {
        return Err(with_usage(format!(
            "accepts 1 arg(s), received {}",
            args.shell.len()
        )));
    }
    let Some(shell) = Shell::from_name(&args.shell[0]) else {
        return Err(with_usage(format!(
            "invalid argument {:?} for \"toolbox completion\"",
            args.shell[0]
        )));
    };
    crate::output::out_or_fail(format_args!("{}", String::from_utf8_lossy(&script(shell))))
}
