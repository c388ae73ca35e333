//! `toolbox rmi` (spec: cli.md §10).

use anyhow::{Result, anyhow};
use clap::Args;

use crate::cli::parse_go_bool;
use crate::cli::rm::Failures;
use crate::error::with_usage;
use crate::podman;

/// Flags of `toolbox rmi`.
#[derive(Debug, Args)]
pub struct RmiArgs {
    /// Remove all Toolbx images
    #[arg(short = 'a', long, num_args = 0..=1, require_equals = true,
          default_missing_value = "true", default_value = "false", value_parser = parse_go_bool)]
    pub all: bool,
    /// Force the removal of Toolbx images that are used by Toolbx containers
    #[arg(short = 'f', long, num_args = 0..=1, require_equals = true,
          default_missing_value = "true", default_value = "false", value_parser = parse_go_bool)]
    pub force: bool,
    /// Images to remove.
    #[arg(value_name = "IMAGE")]
    pub images: Vec<String>,
}

fn remove(name: &str, force: bool, failures: &mut Failures) -> Result<()> {
    match podman::rmi(name, force).map_err(|e| anyhow!("{e}"))? {
        0 => {}
        1 => failures.report(format!("image {name} not found")),
        2 => failures.report(format!("image {name} has dependent children")),
        _ => failures.report(format!("failed to remove image {name}")),
    }
    Ok(())
}

/// Runs `toolbox rmi`.
pub fn run(args: &RmiArgs) -> Result<()> {
    let mut failures = Failures::new();
    if args.all {
        let list = podman::images().map_err(|e| {
            tracing::debug!("Listing images: {e}");
            anyhow!("failed to get images")
        })?;
        // Ours: each ID once, however many names it has (cli.md §16 #2).
        for image in list.iter().filter(|i| podman::is_toolbx(&i.labels)) {
            remove(&image.id, args.force, &mut failures)?;
        }
        return failures.finish();
    }
    if args.images.is_empty() {
        return Err(with_usage("missing argument for \"rmi\""));
    }
    for name in &args.images {
        match podman::inspect_image(name) {
            Err(e) => {
                tracing::debug!("Inspecting image {name}: {e}");
                failures.report(format!("failed to inspect image {name}"));
            }
            Ok(info) if !podman::is_toolbx(&info.config.labels) => {
                failures.report(format!("{name} is not a Toolbx image"));
            }
            Ok(_) => remove(name, args.force, &mut failures)?,
        }
    }
    failures.finish()
}
