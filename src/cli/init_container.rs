//! `toolbox init-container`: flags and checks; the work is in
//! `crate::init_container` (spec: cli.md §13, podman.md §8).

use anyhow::{Result, anyhow};
use clap::Args;

use crate::arch::Arch;
use crate::cli::parse_go_bool;
use crate::error::with_usage;
use crate::init_container::{EmulationOptions, InitOptions};

/// Flags of `toolbox init-container`, including the ones baked into
/// containers made by every earlier Toolbx release.
#[derive(Debug, Args)]
pub struct InitContainerArgs {
    /// Create a user inside the Toolbx container whose numerical group ID is GID
    #[arg(long, allow_hyphen_values = true, value_name = "GID", value_parser = crate::cli::parse_go_int)]
    pub gid: Option<u32>,
    /// Create a user inside the Toolbx container whose login directory is HOME
    #[arg(long, allow_hyphen_values = true, value_name = "HOME")]
    pub home: Option<String>,
    /// Make /home a symbolic link to /var/home
    #[arg(long = "home-link", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", default_value = "false", value_parser = parse_go_bool)]
    pub home_link: bool,
    /// Make /media a symbolic link to /run/media
    #[arg(long = "media-link", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", default_value = "false", value_parser = parse_go_bool)]
    pub media_link: bool,
    /// Make /mnt a symbolic link to /var/mnt
    #[arg(long = "mnt-link", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", default_value = "false", value_parser = parse_go_bool)]
    pub mnt_link: bool,
    /// Deprecated, does nothing
    #[arg(long = "monitor-host", hide = true, num_args = 0..=1, require_equals = true,
          default_missing_value = "true", value_parser = parse_go_bool)]
    pub monitor_host: Option<bool>,
    /// Create a user inside the Toolbx container whose login shell is SHELL
    #[arg(long, allow_hyphen_values = true, value_name = "SHELL")]
    pub shell: Option<String>,
    /// Create a user inside the Toolbx container whose numerical user ID is UID
    #[arg(long, allow_hyphen_values = true, value_name = "UID", value_parser = crate::cli::parse_go_int)]
    pub uid: Option<u32>,
    /// Create a user inside the Toolbx container whose login name is USER
    #[arg(long, allow_hyphen_values = true, value_name = "USER")]
    pub user: Option<String>,
    /// Specify the Toolbx container's architecture (an OCI name; the patch series' numbers are accepted too)
    #[arg(long, allow_hyphen_values = true, value_name = "ARCHITECTURE")]
    pub arch: Option<String>,
    /// Register an emulator using binfmt_misc with PATH as the interpreter for a non-native architecture container
    #[arg(
        long = "arch-emulator-path",
        allow_hyphen_values = true,
        value_name = "PATH"
    )]
    pub arch_emulator_path: Option<String>,
}

/// The emulation a container's entry point was told to set up: `None` for
/// the host's own architecture, which is also the default, so containers
/// made before `--arch` existed keep starting (cross-arch.md B1).
fn emulation(args: &InitContainerArgs) -> Result<Option<EmulationOptions>> {
    let Some(value) = args.arch.as_deref().filter(|v| !v.is_empty() && *v != "0") else {
        return Ok(None);
    };
    // Names first: `386` is a name, not one of the series' numbers 1-3.
    let arch = Arch::parse(value)
        .or_else(|| value.parse::<u32>().ok().and_then(Arch::from_series_id))
        .ok_or_else(|| anyhow!("Toolbx does not support architecture '{value}'"))?;
    if Arch::host() == Some(arch) {
        return Ok(None);
    }
    Ok(Some(EmulationOptions {
        arch,
        emulator: args
            .arch_emulator_path
            .as_deref()
            .filter(|p| !p.is_empty())
            .map(Into::into),
    }))
}

/// Runs `toolbox init-container`.
pub fn run(args: &InitContainerArgs) -> Result<()> {
    if args.monitor_host.is_some() {
        crate::errln!("Flag --monitor-host has been deprecated, it does nothing");
    }
    let mut missing = Vec::new();
    if args.home.is_none() {
        missing.push("\"home\"");
    }
    if args.shell.is_none() {
        missing.push("\"shell\"");
    }
    if args.uid.is_none() {
        missing.push("\"uid\"");
    }
    if args.user.is_none() {
        missing.push("\"user\"");
    }
    if !missing.is_empty() {
        return Err(anyhow!("required flag(s) {} not set", missing.join(", ")));
    }
    if !crate::host::in_container() {
        return Err(with_usage(
            "the 'init-container' command can only be used inside containers",
        ));
    }
    let uid = args.uid.unwrap_or_default();
    let opts = InitOptions {
        uid,
        gid: args.gid.unwrap_or(uid),
        user: args.user.clone().unwrap_or_default(),
        home: args.home.clone().unwrap_or_default().into(),
        shell: args.shell.clone().unwrap_or_default().into(),
        home_link: args.home_link,
        media_link: args.media_link,
        mnt_link: args.mnt_link,
        emulation: emulation(args)?,
    };
    crate::init_container::run(&opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(arch: Option<&str>) -> InitContainerArgs {
        InitContainerArgs {
            gid: None,
            home: None,
            home_link: false,
            media_link: false,
            mnt_link: false,
            monitor_host: None,
            shell: None,
            uid: None,
            user: None,
            arch: arch.map(str::to_string),
            arch_emulator_path: Some("/usr/bin/qemu-x-static".into()),
        }
    }

    #[test]
    fn arch_values_and_series_numbers() {
        let host = Arch::host().unwrap();
        assert_eq!(emulation(&args(None)).unwrap(), None);
        assert_eq!(emulation(&args(Some(""))).unwrap(), None);
        assert_eq!(emulation(&args(Some(host.oci_name()))).unwrap(), None);
        let foreign = if host == Arch::S390x {
            Arch::Arm64
        } else {
            Arch::S390x
        };
        assert_eq!(
            emulation(&args(Some(foreign.oci_name())))
                .unwrap()
                .unwrap()
                .arch,
            foreign
        );
        if host != Arch::I386 && !Arch::I386.runs_natively_on(host) {
            assert_eq!(
                emulation(&args(Some("386"))).unwrap().unwrap().arch,
                Arch::I386
            );
        }
        if host != Arch::Arm64 {
            assert_eq!(
                emulation(&args(Some("1"))).unwrap().unwrap().arch,
                Arch::Arm64
            );
        }
        assert!(emulation(&args(Some("mips"))).is_err());
    }
}
