//! `toolbox rm` (spec: cli.md §9).

use anyhow::{Result, anyhow};
use clap::Args;

use crate::cli::parse_go_bool;
use crate::error::{ExitError, with_usage};
use crate::podman;

/// Flags of `toolbox rm`.
#[derive(Debug, Args)]
pub struct RmArgs {
    /// Remove all Toolbx containers
    #[arg(short = 'a', long, num_args = 0..=1, require_equals = true,
          default_missing_value = "true", default_value = "false", value_parser = parse_go_bool)]
    pub all: bool,
    /// Force the removal of running and paused Toolbx containers
    #[arg(short = 'f', long, num_args = 0..=1, require_equals = true,
          default_missing_value = "true", default_value = "false", value_parser = parse_go_bool)]
    pub force: bool,
    /// Containers to remove.
    #[arg(value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

/// Reports one failed item and remembers that something failed.
pub struct Failures(bool);

impl Failures {
    /// Nothing failed yet.
    pub fn new() -> Self {
        Failures(false)
    }

    /// Prints `Error: msg` and records the failure.
    pub fn report(&mut self, msg: impl std::fmt::Display) {
        crate::errln!("Error: {msg}");
        self.0 = true;
    }

    /// Upstream exits 0 after errors (issue #1731); we exit 1 once every
    /// item was tried (cli.md §16 #1).
    pub fn finish(self) -> Result<()> {
        if self.0 {
            Err(anyhow::Error::new(ExitError::silent(1)))
        } else {
            Ok(())
        }
    }
}

impl Default for Failures {
    fn default() -> Self {
        Self::new()
    }
}

fn remove(name: &str, force: bool, failures: &mut Failures) -> Result<()> {
    match podman::rm(name, force).map_err(|e| anyhow!("{e}"))? {
        0 => {}
        1 => failures.report(format!("container {name} not found")),
        2 => failures.report(format!("container {name} is running")),
        _ => failures.report(format!("failed to remove container {name}")),
    }
    Ok(())
}

/// Runs `toolbox rm`.
pub fn run(args: &RmArgs) -> Result<()> {
    let mut failures = Failures::new();
    if args.all {
        let list = podman::ps().map_err(|e| {
            tracing::debug!("Listing containers: {e}");
            anyhow!("failed to get containers")
        })?;
        for c in list.iter().filter(|c| podman::is_toolbx(&c.labels)) {
            remove(&c.id, args.force, &mut failures)?;
        }
        return failures.finish();
    }
    if args.containers.is_empty() {
        return Err(with_usage("missing argument for \"rm\""));
    }
    for name in &args.containers {
        match podman::inspect_container(name) {
            Err(e) => {
                tracing::debug!("Inspecting container {name}: {e}");
                failures.report(format!("failed to inspect container {name}"));
            }
            Ok(info) if !podman::is_toolbx(&info.config.labels) => {
                failures.report(format!("{name} is not a Toolbx container"));
            }
            Ok(_) => remove(name, args.force, &mut failures)?,
        }
    }
    failures.finish()
}
