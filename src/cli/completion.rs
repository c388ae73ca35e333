//! `toolbox completion bash|fish|zsh` (hidden, spec: cli.md §12.1). Needs
//! no podman, no sub-IDs and never migrates: packaging runs it in chroots.

use anyhow::Result;
use clap::{Args, CommandFactory};

use crate::cli::Cli;
use crate::error::with_usage;

/// Arguments of `toolbox completion`.
#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell: bash, fish or zsh.
    #[arg(value_name = "SHELL")]
    pub shell: Vec<String>,
}

/// Writes the completion script for a shell.
pub fn script(shell: clap_complete::Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "toolbox", &mut out);
    out
}

/// Runs `toolbox completion`.
pub fn run(args: &CompletionArgs) -> Result<()> {
    if args.shell.len() != 1 {
        return Err(with_usage(format!(
            "accepts 1 arg(s), received {}",
            args.shell.len()
        )));
    }
    let shell = match args.shell[0].as_str() {
        "bash" => clap_complete::Shell::Bash,
        "fish" => clap_complete::Shell::Fish,
        "zsh" => clap_complete::Shell::Zsh,
        other => {
            return Err(with_usage(format!(
                "invalid argument {other:?} for \"toolbox completion\""
            )));
        }
    };
    use std::io::Write;
    std::io::stdout().write_all(&script(shell))?;
    Ok(())
}
