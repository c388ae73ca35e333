//! What every host-side command knows after pre-run.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::config::Config;
use crate::distro::HostDistro;
use crate::host::User;

/// The state pre-run establishes (spec: cli.md §2.1, §2.6).
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The current user.
    pub user: User,
    /// The host distro and release.
    pub host: HostDistro,
    /// toolbox.conf values.
    pub config: Config,
    /// The default container name.
    pub default_container: String,
    /// `-y`
    pub assumeyes: bool,
    /// Path of this binary, exported as `TOOLBOX_PATH`.
    pub toolbox_path: PathBuf,
    /// The working directory at start.
    pub cwd: PathBuf,
    /// The original argv, for forwarding to the host.
    pub argv: Vec<OsString>,
}

impl Ctx {
    /// The `Enter with:` command for a container.
    pub fn enter_command(&self, name: &str) -> String {
        let base = crate::host::base_name();
        if name == self.default_container {
            format!("{base} enter")
        } else {
            format!("{base} enter {name}")
        }
    }
}
