//! Forwarding a command from inside a Toolbx container to the host, as
//! upstream does through `flatpak-spawn --host` (spec: cli.md §2.8).

use anyhow::{Result, anyhow};

use std::ffi::OsString;
use std::path::Path;

use crate::error::ExitError;
use crate::exec::{Cmd, ExecError, Io};

/// The environment forwarded to `podman exec` and `flatpak-spawn`, in order.
pub const FORWARDED_ENV: [&str; 43] = [
    "COLORTERM",
    "CONTAINERS_STORAGE_CONF",
    "DBUS_SESSION_BUS_ADDRESS",
    "DBUS_SYSTEM_BUS_ADDRESS",
    "DESKTOP_SESSION",
    "DISPLAY",
    "HISTCONTROL",
    "HISTFILE",
    "HISTFILESIZE",
    "HISTIGNORE",
    "HISTSIZE",
    "HISTTIMEFORMAT",
    "HOME",
    "KDE_FULL_SESSION",
    "KDE_SESSION_VERSION",
    "KONSOLE_DBUS_SESSION",
    "KONSOLE_DBUS_WINDOW",
    "KONSOLE_PROFILE_NAME",
    "KONSOLE_VERSION",
    "LANG",
    "SHELL",
    "SSH_AUTH_SOCK",
    "TERM",
    "TOOLBOX_PATH",
    "USER",
    "VTE_VERSION",
    "WAYLAND_DISPLAY",
    "XAUTHORITY",
    "XDG_CACHE_HOME",
    "XDG_CONFIG_HOME",
    "XDG_CURRENT_DESKTOP",
    "XDG_DATA_DIRS",
    "XDG_DATA_HOME",
    "XDG_MENU_PREFIX",
    "XDG_RUNTIME_DIR",
    "XDG_SEAT",
    "XDG_SESSION_CLASS",
    "XDG_SESSION_DESKTOP",
    "XDG_SESSION_ID",
    "XDG_SESSION_TYPE",
    "XDG_STATE_HOME",
    "XDG_VTNR",
    "XTERM_VERSION",
];

/// `--env=NAME=VALUE` for every forwarded variable that is set.
pub fn env_options() -> Vec<std::ffi::OsString> {
    FORWARDED_ENV
        .iter()
        .filter_map(|name| {
            std::env::var_os(name).map(|value| {
                let mut opt = std::ffi::OsString::from(format!("--env={name}="));
                opt.push(value);
                opt
            })
        })
        .collect()
}

/// Runs the same command on the host and exits with its status.
pub fn to_host(toolbox_path: &Path, argv: &[OsString]) -> Result<()> {
    if !crate::host::in_toolbx_container() {
        return Err(anyhow!("this is not a Toolbx container"));
    }
    let status = Cmd::new("flatpak-spawn")
        .args(env_options())
        .arg("--host")
        .arg(toolbox_path)
        .args(argv.iter().skip(1))
        .stdin(Io::Inherit)
        .stdout(Io::Inherit)
        .stderr(Io::Inherit)
        .status()
        .map_err(|e| match e {
            ExecError::NotFound { .. } => anyhow!("flatpak-spawn(1) not found"),
            _ => anyhow!("failed to invoke flatpak-spawn(1)"),
        })?;
    match crate::exec::status_code(status) {
        0 => Ok(()),
        code => Err(anyhow::Error::new(ExitError::silent(code))),
    }
}
