//! `toolbox help` and `--help`: the manual page, as upstream shows it
//! (spec: cli.md §11).

use std::ffi::OsString;

use anyhow::{Result, anyhow};
use clap::Args;

use crate::cli::{Cli, Command};
use crate::exec::{Cmd, ExecError, Io};

/// Arguments of `toolbox help`.
#[derive(Debug, Args)]
pub struct HelpArgs {
    /// The command whose manual to show.
    #[arg(value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// The text shown when `man` is missing.
pub const FALLBACK: &str = "toolbox - Tool for interactive command line environments on Linux

Common commands are:
create    Create a new Toolbx container
enter     Enter an existing Toolbx container
list      List all existing Toolbx containers and images

Go to https://containertoolbx.org/ for further information.";

/// The page for `toolbox [CMD] --help`. Option values are skipped, unlike
/// upstream's first-word rule (cli.md §16 #6), because clap knows them.
pub fn page_for(command: Option<&Command>) -> String {
    match command {
        Some(c) => format!("toolbox-{}", c.name()),
        None => "toolbox".to_string(),
    }
}

/// Handles `--help` on any command.
pub fn show_for_flag(cli: &Cli, args: &[OsString]) -> Result<()> {
    if crate::host::in_container() {
        if !crate::host::in_toolbx_container() {
            crate::errln!("Error: this is not a Toolbx container");
            return Ok(());
        }
        // The host has the manuals; a failure there is printed, exit 0.
        match std::env::var_os("TOOLBOX_PATH") {
            Some(path) => {
                if let Err(e) = crate::forward::to_host(std::path::Path::new(&path), args) {
                    crate::error::report(&e);
                }
            }
            None => crate::errln!("Error: TOOLBOX_PATH not set"),
        }
        return Ok(());
    }
    show_page(&page_for(cli.command.as_ref()))
}

/// Runs `toolbox help [CMD]`.
pub fn run(args: &HelpArgs) -> Result<()> {
    let page = match args.command.first().map(String::as_str) {
        None => "toolbox".to_string(),
        Some(word) if word == crate::host::base_name() || word == "toolbox" => {
            "toolbox".to_string()
        }
        Some(word) => format!("toolbox-{word}"),
    };
    show_page(&page)
}

/// Execs `man PAGE` with stderr on stdout, or prints the fallback text.
pub fn show_page(page: &str) -> Result<()> {
    if crate::exec::lookup("man").is_none() {
        return crate::output::out_or_fail(format_args!("{FALLBACK}\n"));
    }
    redirect_stderr_to_stdout();
    match Cmd::new("man")
        .arg(page)
        .stdin(Io::Inherit)
        .stdout(Io::Inherit)
        .stderr(Io::Inherit)
        .exec()
    {
        ExecError::NotFound { .. } => crate::output::out_or_fail(format_args!("{FALLBACK}\n")),
        _ => Err(anyhow!("failed to invoke man(1)")),
    }
}

fn redirect_stderr_to_stdout() {
    use std::os::fd::AsRawFd;
    // man-db writes "No manual entry" to stderr; upstream shows it on stdout.
    let _ = nix::unistd::dup2(std::io::stdout().as_raw_fd(), std::io::stderr().as_raw_fd());
}
