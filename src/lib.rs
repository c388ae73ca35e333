//! `toolbox`: a drop-in replacement for Toolbx, written in Rust.
//!
//! The binary is thin; this library parses the command line, runs upstream's
//! pre-run steps, forwards from inside a container to the host, and
//! dispatches to `cli::*`.

pub mod arch;
pub mod cli;
pub mod config;
pub mod context;
pub mod distro;
pub mod error;
pub mod exec;
pub mod fastpath;
pub mod foreign;
pub mod forward;
pub mod host;
pub mod init_container;
pub mod interrupt;
pub mod logging;
pub mod migrate;
pub mod output;
pub mod podman;
pub mod progress;
pub mod prompt;
pub mod resolve;
pub mod session;
pub mod skopeo;

use std::ffi::OsString;
use std::process::ExitCode;

use anyhow::{Result, anyhow};

use cli::{Cli, Command};
use context::Ctx;
use error::ExitError;
use logging::LogLevel;

/// The version as upstream's format wants it: `0.N`, or `0.N.M` with M ≥ 1.
pub fn version_string() -> String {
    let major = env!("CARGO_PKG_VERSION_MAJOR");
    let minor = env!("CARGO_PKG_VERSION_MINOR");
    match env!("CARGO_PKG_VERSION_PATCH") {
        "0" => format!("{major}.{minor}"),
        patch => format!("{major}.{minor}.{patch}"),
    }
}

/// Runs toolbox with the process's arguments.
pub fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let code = match run(args) {
        Ok(()) => 0,
        Err(err) => error::report(&err),
    };
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// Runs toolbox with the given argv.
pub fn run(args: Vec<OsString>) -> Result<()> {
    if let Some(result) = cli::complete::early(&args) {
        return result;
    }
    let cli = cli::parse(&args)?;
    if cli.help {
        return cli::help::show_for_flag(&cli, &args);
    }
    if cli.version {
        return output::out_or_fail(format_args!("toolbox version {}\n", version_string()));
    }
    let Some(command) = &cli.command else {
        prerun_logging(&cli)?;
        return Err(anyhow::Error::new(ExitError::new(
            1,
            format!(
                "missing command\n\ncreate    Create a new Toolbx container\nenter     Enter an existing Toolbx container\nlist      List all existing Toolbx containers and images\n\n{}",
                error::usage_hint()
            ),
        )));
    };
    prerun_logging(&cli)?;
    tracing::debug!(
        "toolbox {} (Rust implementation, crate {}{})",
        version_string(),
        env!("CARGO_PKG_VERSION"),
        option_env!("TOOLBOX_COMMIT")
            .map(|c| format!(", commit {c}"))
            .unwrap_or_default()
    );
    match command {
        Command::Completion(args) => return cli::completion::run(args),
        Command::InitContainer(args) => return cli::init_container::run(args),
        _ => {}
    }
    let ctx = prerun(&cli, command, args)?;
    if host::in_container() {
        return forward::to_host(&ctx.toolbox_path, &ctx.argv);
    }
    match command {
        Command::Create(a) => cli::create::run(a, &ctx),
        Command::Enter(a) => cli::enter::run(a, &ctx),
        Command::Help(a) => cli::help::run(a),
        Command::List(a) => cli::list::run(a),
        Command::Rm(a) => cli::rm::run(a),
        Command::Rmi(a) => cli::rmi::run(a),
        Command::Run(a) => cli::run::run(a, &ctx),
        Command::Completion(_) | Command::InitContainer(_) => Ok(()),
    }
}

fn prerun_logging(cli: &Cli) -> Result<()> {
    let level = if cli.verbose > 0 {
        LogLevel::Debug
    } else {
        LogLevel::parse(&cli.log_level).ok_or_else(|| {
            anyhow!(
                "failed to parse log-level: not a valid logrus Level: {:?}",
                cli.log_level
            )
        })?
    };
    logging::init(level, cli.log_podman || cli.verbose > 1);
    Ok(())
}

/// Pre-run steps 2 to 5 (spec: cli.md §2.6), for host-side commands.
fn prerun(cli: &Cli, command: &Command, argv: Vec<OsString>) -> Result<Ctx> {
    let user = host::current_user()?;
    let inside = host::in_container();
    // Ours: help needs neither sub-IDs nor a migration (cli.md §16 #7).
    let light = matches!(command, Command::Help(_));
    if !inside && user.uid != 0 && !light {
        host::check_subids(&user)?;
    }
    let toolbox_path = match std::env::var_os("TOOLBOX_PATH") {
        Some(p) => std::path::PathBuf::from(p),
        None if inside => return Err(anyhow!("TOOLBOX_PATH not set")),
        None => {
            let exe = host::executable()
                .map_err(|e| anyhow!("failed to resolve absolute path to the executable: {e}"))?;
            // SAFETY-free: set before any thread is started.
            set_env("TOOLBOX_PATH", &exe);
            exe
        }
    };
    if !inside && !light {
        migrate::check(&user)?;
    }
    let cwd =
        std::env::current_dir().map_err(|e| anyhow!("failed to get the working directory: {e}"))?;
    // Upstream's line first; what is wrong in the file on the next.
    let config = config::load().map_err(|e| match std::error::Error::source(&e) {
        Some(cause) => anyhow!("{e}\n{}", cause.to_string().trim_end()),
        None => anyhow!("{e}"),
    })?;
    let host_distro = distro::detect_host();
    let default_container = resolve::resolve(&resolve::Request::default(), &config, &host_distro)
        .map_err(|e| {
            tracing::debug!("Resolving the default container: {e}");
            anyhow!("failed to resolve container name")
        })?
        .container;
    Ok(Ctx {
        user,
        host: host_distro,
        config,
        default_container,
        assumeyes: cli.assumeyes,
        toolbox_path,
        cwd,
        argv,
    })
}

#[allow(unsafe_code)]
fn set_env(key: &str, value: &std::path::Path) {
    // SAFETY: called during start-up, before toolbox starts any thread, so
    // no other thread can read the environment concurrently.
    unsafe { std::env::set_var(key, value) };
}
