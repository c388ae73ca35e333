//! `toolbox run` (spec: cli.md §7).

use std::ffi::OsString;

use anyhow::Result;
use clap::Args;

use crate::context::Ctx;
use crate::error::with_usage;
use crate::resolve::{self, Request};
use crate::session::{self, ExecRequest, Lookup};

/// Flags of `toolbox run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Run command inside a Toolbx container with the given name
    #[arg(
        short = 'c',
        long,
        allow_hyphen_values = true,
        value_name = "CONTAINER"
    )]
    pub container: Option<String>,
    /// Run command inside a Toolbx container for a different operating system distribution than the host
    #[arg(short = 'd', long, allow_hyphen_values = true, value_name = "DISTRO")]
    pub distro: Option<String>,
    /// Pass down to command N additional file descriptors (in addition to 0, 1, 2)
    #[arg(long = "preserve-fds", default_value_t = 0, value_name = "N", allow_hyphen_values = true, value_parser = crate::cli::parse_go_uint)]
    pub preserve_fds: u32,
    /// Run command inside a Toolbx container for a different operating system release than the host
    #[arg(short = 'r', long, allow_hyphen_values = true, value_name = "RELEASE")]
    pub release: Option<String>,
    /// Run command inside a Toolbx container for a different architecture than the host
    #[arg(
        short = 'a',
        long,
        allow_hyphen_values = true,
        value_name = "ARCHITECTURE"
    )]
    pub arch: Option<String>,
    /// The command and its arguments, passed on verbatim.
    #[arg(trailing_var_arg = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

/// Runs `toolbox run`.
pub fn run(args: &RunArgs, ctx: &Ctx) -> Result<()> {
    if args.command.is_empty() {
        return Err(with_usage("missing argument for \"run\""));
    }
    let req = Request {
        container: args.container.as_deref().unwrap_or(""),
        container_arg: "--container",
        distro: args.distro.as_deref().unwrap_or(""),
        release: args.release.as_deref().unwrap_or(""),
        image: "",
    };
    let resolved = resolve::resolve(&req, &ctx.config, &ctx.host).map_err(with_usage)?;
    let arch = crate::foreign::resolve(args.arch.as_deref(), "")?;
    let mut name = resolved.container;
    if let Some(arch) = arch
        && req.container.is_empty()
    {
        name = crate::foreign::container_name(&name, &resolved.image, arch);
    }
    let arch_given = args.arch.as_deref().is_some_and(|a| !a.is_empty());
    let exec = ExecRequest {
        container: name.clone(),
        command: args.command.clone(),
        login: true,
        shell_fallback: false,
        osc: false,
        preserve_fds: args.preserve_fds,
    };
    if let Some(result) = session::run_if_known(ctx, &exec, arch_given.then_some(arch)) {
        return result;
    }
    let info = match session::lookup_checked(&name, arch_given.then_some(arch))? {
        Lookup::Found(info) => *info,
        Lookup::Missing => {
            return Err(with_usage(format!(
                "container {name} not found\nUse the 'create' command to create a Toolbx."
            )));
        }
    };
    session::run_in_container(ctx, info, &exec)
}
