//! `toolbox enter` (spec: cli.md §6).

use anyhow::{Result, anyhow};
use clap::Args;

use crate::context::Ctx;
use crate::error::{ExitError, usage_hint, with_usage};
use crate::podman;
use crate::resolve::{self, Request};
use crate::session::{self, ExecRequest, Lookup};

/// Flags of `toolbox enter`.
#[derive(Debug, Args)]
pub struct EnterArgs {
    /// Enter a Toolbx container with the given name
    #[arg(
        short = 'c',
        long,
        allow_hyphen_values = true,
        value_name = "CONTAINER"
    )]
    pub container: Option<String>,
    /// Enter a Toolbx container for a different operating system distribution than the host
    #[arg(short = 'd', long, allow_hyphen_values = true, value_name = "DISTRO")]
    pub distro: Option<String>,
    /// Enter a Toolbx container for a different operating system release than the host
    #[arg(short = 'r', long, allow_hyphen_values = true, value_name = "RELEASE")]
    pub release: Option<String>,
    /// Enter a Toolbx container for a different architecture than the host
    #[arg(
        short = 'a',
        long,
        allow_hyphen_values = true,
        value_name = "ARCHITECTURE"
    )]
    pub arch: Option<String>,
    /// The container's name; extra words are ignored as upstream does.
    #[arg(value_name = "CONTAINER")]
    pub names: Vec<String>,
}

/// Runs `toolbox enter`.
pub fn run(args: &EnterArgs, ctx: &Ctx) -> Result<()> {
    let given_name = args
        .names
        .first()
        .map(String::as_str)
        .or(args.container.as_deref().filter(|c| !c.is_empty()));
    let (container, arg_name) = match (args.names.first(), &args.container) {
        (Some(n), _) => (n.as_str(), "CONTAINER"),
        (None, Some(n)) => (n.as_str(), "--container"),
        (None, None) => ("", "--container"),
    };
    let release = args.release.as_deref().unwrap_or("");
    let default_mode = given_name.is_none() && release.is_empty();
    let req = Request {
        container,
        container_arg: arg_name,
        distro: args.distro.as_deref().unwrap_or(""),
        release,
        image: "",
    };
    let mut resolved = resolve::resolve(&req, &ctx.config, &ctx.host).map_err(with_usage)?;
    let arch_given = args.arch.as_deref().is_some_and(|a| !a.is_empty());
    let arch = crate::foreign::resolve(args.arch.as_deref(), "")?;
    if let Some(arch) = arch
        && container.is_empty()
    {
        resolved.container =
            crate::foreign::container_name(&resolved.container, &resolved.image, arch);
    }
    let shell = crate::host::login_shell(&ctx.user)?;
    let mut name = resolved.container.clone();
    let want_arch = arch.map_or(crate::arch::host_oci_name(), |a| a.oci_name());
    let exec_for = |name: &str| ExecRequest {
        container: name.to_string(),
        command: vec![shell.clone().into_os_string(), "-l".into()],
        login: false,
        shell_fallback: true,
        osc: true,
        preserve_fds: 0,
    };
    if let Some(result) = session::run_if_known(ctx, &exec_for(&name), arch_given.then_some(arch)) {
        return result;
    }
    let info = match session::lookup_checked(&name, arch_given.then_some(arch))? {
        Lookup::Found(info) => *info,
        Lookup::Missing => {
            let all: Vec<podman::PsEntry> = podman::ps()
                .map_err(|_| not_found_select(&name))?
                .into_iter()
                .filter(|c| podman::is_toolbx(&c.labels))
                .collect();
            // The one-container fallback never crosses architectures.
            let same_arch = |c: &podman::PsEntry| {
                c.labels
                    .get("toolbox-arch")
                    .map_or(crate::arch::host_oci_name(), String::as_str)
                    == want_arch
            };
            match all.as_slice() {
                [] => {
                    let yes = ctx.assumeyes
                        || crate::prompt::ask("No Toolbx containers found. Create now? [y/N] ");
                    if !yes {
                        let _ = crate::outln!(
                            "A container can be created later with the 'create' command.\n{}",
                            usage_hint()
                        );
                        return Ok(());
                    }
                    if !crate::cli::create::create_container(ctx, &resolved, arch, None)? {
                        // Ours: declining the download ends quietly (cli.md §16 #8).
                        return Ok(());
                    }
                }
                [other] if default_mode && same_arch(other) => {
                    let other = other.name().to_string();
                    crate::errln!(
                        "Error: container {name} not found\nEntering container {other} instead.\nUse the 'create' command to create a different Toolbx.\n{}",
                        usage_hint()
                    );
                    name = other;
                }
                _ => return Err(not_found_select(&name)),
            }
            match session::lookup(&name)? {
                Lookup::Found(info) => *info,
                Lookup::Missing => return Err(anyhow!("failed to inspect container {name}")),
            }
        }
    };
    session::run_in_container(ctx, info, &exec_for(&name))
}

fn not_found_select(name: &str) -> anyhow::Error {
    anyhow::Error::new(ExitError::new(
        1,
        format!(
            "container {name} not found\nUse the '--container' option to select a Toolbx.\n{}",
            usage_hint()
        ),
    ))
}
