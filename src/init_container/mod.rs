//! `toolbox init-container`: the entry point of every Toolbx container.
//!
//! It runs as container-root, makes the container look like part of the host
//! (links into `/run/host/etc`, bind mounts, a user matching the host's),
//! then writes the "initialized" stamp the host waits for and keeps
//! following the host's time zone. The order of the steps is the contract
//! with existing containers and with the host side (podman.md §8), so
//! [`initialize`] is one straight sequence over a [`Sys`] that tests fake.

mod cdi;
mod emulation;
mod files;
mod mounts;
mod sys;
mod user;
mod watch;

#[cfg(test)]
mod fake;
#[cfg(test)]
mod tests;

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::errno::Errno;
use tracing::debug;

use crate::exec::ExecError;

pub use emulation::EmulationOptions;
pub use sys::{FileKind, Meta, RealSys, Sys};
pub use user::UserLookupError;

/// The flags of `init-container`, already validated by the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitOptions {
    /// The host user's numerical ID.
    pub uid: u32,
    /// The host user's group ID (the caller defaults it to `uid`).
    pub gid: u32,
    /// The host user's login name.
    pub user: String,
    /// The host user's home directory.
    pub home: PathBuf,
    /// The host user's login shell.
    pub shell: PathBuf,
    /// Make `/home` a symbolic link to `/var/home`.
    pub home_link: bool,
    /// Make `/media` a symbolic link to `/run/media`.
    pub media_link: bool,
    /// Make `/mnt` a symbolic link to `/var/mnt`.
    pub mnt_link: bool,
    /// For a foreign-architecture container: how to run its binaries.
    pub emulation: Option<EmulationOptions>,
}

/// Why the entry point stopped. The texts are upstream's, because the host
/// shows them to users as the reason a container failed to start.
///
/// Where upstream's message embeds the cause, so does `Display`; the cause
/// is still available as the error's source, so print these with `{}`, not
/// with an alternate (`{:#}`) chain ([`run`] already flattens them).
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// A marker file in `/run` could not be created.
    #[error("failed to create {path}")]
    CreateMarker {
        /// The marker.
        path: &'static str,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// `TOOLBX_FAIL_ENTRY_POINT` asked for a failure.
    #[error(
        "TOOLBX_FAIL_ENTRY_POINT is set{}",
        if *.level > 1 { "\nThis environment variable should only be set when testing." } else { "" }
    )]
    FailEntryPoint {
        /// The variable's value.
        level: u64,
    },
    /// The NVIDIA CDI spec could not be read or parsed.
    #[error("failed to load Container Device Interface for NVIDIA")]
    CdiLoad,
    /// A mount in the CDI spec lacks a path.
    #[error("invalid mount in Container Device Interface for NVIDIA")]
    CdiMount,
    /// A mount in the CDI spec could not be made.
    #[error("failed to apply mount from Container Device Interface for NVIDIA")]
    CdiApplyMount,
    /// A hook in the CDI spec is malformed.
    #[error("invalid hook in Container Device Interface for NVIDIA")]
    CdiHook,
    /// The CDI spec's create-symlinks hook failed.
    #[error("failed to create symlinks for Container Device Interface for NVIDIA")]
    CdiSymlinks,
    /// The CDI spec's update-ldcache hook failed.
    #[error("failed to update ldcache for Container Device Interface for NVIDIA")]
    CdiLdCache,
    /// A path could not be replaced by a symbolic link.
    #[error("failed to redirect {} to {}: {source}", .path.display(), .target.display())]
    Redirect {
        /// The path being replaced.
        path: PathBuf,
        /// Where it was to point.
        target: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The path to replace is a mount point.
    #[error("failed to redirect {p} to {}: {p} is a mount point", .target.display(), p = .path.display())]
    RedirectMountPoint {
        /// The path being replaced.
        path: PathBuf,
        /// Where it was to point.
        target: PathBuf,
        /// The underlying `EBUSY`.
        #[source]
        source: io::Error,
    },
    /// `/etc/localtime` could not be resolved for a reason other than absence.
    #[error("failed to resolve /etc/localtime: {0}")]
    ResolveLocalTime(#[source] io::Error),
    /// `/etc/localtime` resolves outside the known zoneinfo trees.
    #[error("/etc/localtime points to unknown location")]
    UnknownLocalTime,
    /// `/etc/timezone` could not be written.
    #[error("failed to create new /etc/timezone: {0}")]
    WriteTimeZone(#[source] io::Error),
    /// A path could not be examined.
    #[error("failed to stat {}", .path.display())]
    Stat {
        /// The path.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A directory could not be created.
    #[error("failed to create directory {}: {source}", .path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A file to bind over could not be created.
    #[error("failed to create regular file {}: {source}", .path.display())]
    CreateFile {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A bind mount failed.
    #[error("failed to bind {} to {}", .target.display(), .from.display())]
    Bind {
        /// The mount point.
        target: PathBuf,
        /// What was to be mounted there.
        from: PathBuf,
        /// The error from `mount(2)`.
        #[source]
        source: Errno,
    },
    /// Neither `sudo` nor `wheel` exists in the container.
    #[error("failed to get group for sudo: group for sudo not found")]
    NoSudoGroup,
    /// `useradd` failed.
    #[error("failed to add user {user} with UID {uid}: {source}")]
    AddUser {
        /// The login name.
        user: String,
        /// The user ID.
        uid: u32,
        /// Why `useradd` failed.
        #[source]
        source: ExecError,
    },
    /// `usermod` failed.
    #[error("failed to modify user {user} with UID {uid}: {source}")]
    ModifyUser {
        /// The login name.
        user: String,
        /// The user ID.
        uid: u32,
        /// Why `usermod` failed.
        #[source]
        source: ExecError,
    },
    /// `passwd --delete root` failed.
    #[error("failed to remove password for root: {0}")]
    RemoveRootPassword(#[source] ExecError),
    /// The user just added cannot be found.
    #[error("failed to look up user ID {uid}: {source}")]
    LookupUid {
        /// The user ID.
        uid: u32,
        /// Why the lookup failed.
        #[source]
        source: UserLookupError,
    },
    /// The Toolbx runtime directory could not be created.
    #[error("failed to create runtime directory {}: {source}", .path.display())]
    CreateRuntimeDir {
        /// The directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The Toolbx runtime directory could not be given to the user.
    #[error("failed to change ownership of the runtime directory {}: {source}", .path.display())]
    ChownRuntimeDir {
        /// The directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The Kerberos snippet could not be written.
    #[error("failed to configure Kerberos to use KCM as the default credential cache")]
    Kerberos(#[source] io::Error),
    /// The p11-kit module file could not be written.
    #[error("failed to configure PKCS #11 to read from the host: {0}")]
    Pkcs11Module(#[source] io::Error),
    /// The sshd snippet could not be written.
    #[error("failed to configure sshd(8) to set P11_KIT_SERVER_ADDRESS: {0}")]
    Pkcs11Sshd(#[source] io::Error),
    /// The profile.d snippet could not be written.
    #[error("failed to configure su(1) to set P11_KIT_SERVER_ADDRESS: {0}")]
    Pkcs11Su(#[source] io::Error),
    /// The sudoers snippet could not be written.
    #[error("failed to configure sudo(8) to set P11_KIT_SERVER_ADDRESS: {0}")]
    Pkcs11Sudo(#[source] io::Error),
    /// The image lacks `/etc/profile.d`, needed to pass the p11-kit socket on.
    #[error(
        "directory /etc/profile.d not found in container\n\
         The shell start-up scripts must include files from /etc/profile.d in\n\
         containers.\n\
         Go to https://containertoolbx.org/ for further information."
    )]
    ProfileDNotFound,
    /// The image lacks `/etc/sudoers.d`, needed to pass the p11-kit socket on.
    #[error(
        "directory /etc/sudoers.d not found in container\n\
         The sudoers(5) policy must include files from /etc/sudoers.d in\n\
         containers with /etc/pkcs11/modules and p11-kit-client.so.\n\
         Go to https://containertoolbx.org/ for further information."
    )]
    SudoersDNotFound,
    /// The RPM macro file could not be written.
    #[error("failed to configure RPM to ignore bind mounts: {0}")]
    Rpm(#[source] io::Error),
    /// inotify could not be set up.
    #[error("failed to create Watcher: {0}")]
    CreateWatcher(#[source] Errno),
    /// `/run/host/etc` could not be watched.
    #[error("failed to add path: {0}")]
    AddWatch(#[source] Errno),
    /// The stamp file could not be created.
    #[error("failed to create initialization stamp")]
    CreateStamp(#[source] io::Error),
    /// The stamp file could not be given to the user.
    #[error("failed to change ownership of initialization stamp")]
    ChownStamp(#[source] io::Error),
    /// binfmt_misc could not be mounted in the container.
    #[error("failed to mount binfmt_misc: {0}")]
    MountBinfmt(#[source] Errno),
    /// The mounted binfmt_misc could not be listed.
    #[error("failed to read binfmt_misc: {0}")]
    ReadBinfmt(#[source] io::Error),
    /// The mounted instance is not provably the container's own.
    #[error(
        "refusing to register binfmt_misc handler: this container shares the host's binfmt_misc"
    )]
    SharedBinfmt,
    /// The registration was refused.
    #[error("failed to register binfmt_misc handler for {arch}: {source}")]
    Register {
        /// OCI architecture.
        arch: &'static str,
        /// The raw error of the write.
        #[source]
        source: io::Error,
    },
    /// The entry read back is not what was registered.
    #[error("the binfmt_misc handler for {0} did not register as enabled with the F and C flags")]
    RegisterReadback(&'static str),
    /// No usable emulator is visible in the container.
    #[error(
        "Cannot run container for architecture {arch}:\nThe host system does not have the required support: No {arch} statically linked QEMU emulator binary found\nLooked for {}; install qemu-user-static on the host, then restart the container.",
        .looked_for.display()
    )]
    NoEmulator {
        /// OCI architecture.
        arch: &'static str,
        /// The path recorded at create time, under /run/host.
        looked_for: PathBuf,
    },
    /// No handler matched a foreign binary (ENOEXEC).
    #[error(
        "QEMU emulation for architecture {0} is not working\nPlease verify that:\n  1. QEMU user-mode emulation is installed on the host system: qemu-user-static package\n  2. binfmt_misc is properly configured on the host system"
    )]
    EmulationNotWorking(&'static str),
    /// A handler matched but its interpreter is not reachable (ENOENT).
    #[error(
        "QEMU emulation for architecture {0} is not working: the binfmt_misc handler's interpreter is not reachable in the container\nRegister the host's handler with the F (fix binary) flag, e.g. through the qemu-user-static package."
    )]
    InterpreterUnreachable(&'static str),
    /// Running the foreign `true` failed otherwise.
    #[error("failed to test QEMU emulation for architecture {arch}: {source}")]
    EmulationTest {
        /// OCI architecture.
        arch: &'static str,
        /// Why.
        #[source]
        source: ExecError,
    },
}

const DELAY_ENTRY_POINT: &str = "TOOLBX_DELAY_ENTRY_POINT";
const FAIL_ENTRY_POINT: &str = "TOOLBX_FAIL_ENTRY_POINT";
const HOST_ETC: &str = "/run/host/etc";

/// Runs the entry point for real: initialize with [`RealSys`], write the
/// stamp, then follow host changes forever. Returns only on failure.
///
/// The returned error carries exactly upstream's message and no source
/// chain, because the top level prints chains with `{:#}` and the host
/// shows that line to users; the causes go to the debug log instead.
pub fn run(opts: &InitOptions) -> anyhow::Result<()> {
    let mut sys = RealSys::new();
    if let Err(err) = initialize(opts, &mut sys) {
        let mut cause = std::error::Error::source(&err);
        while let Some(c) = cause {
            debug!("Initializing container failed: {c}");
            cause = c.source();
        }
        return Err(anyhow::Error::msg(err.to_string()));
    }
    debug!("Listening to file system and ticker events");
    watch::listen(&mut sys)
}

/// The ordered initialisation (podman.md §8.2 steps 3-21, ending with the
/// stamp), testable with a fake [`Sys`].
pub fn initialize(opts: &InitOptions, sys: &mut dyn Sys) -> Result<(), InitError> {
    ensure_xdg_runtime_dir(opts.uid, sys);
    create_markers(sys)?;

    if let Some(seconds) = positive_env(sys, DELAY_ENTRY_POINT) {
        debug!("Adding a delay of {}", go_duration(seconds));
        sys.sleep(Duration::from_secs(seconds));
    }

    if let Some(level) = positive_env(sys, FAIL_ENTRY_POINT) {
        return Err(InitError::FailEntryPoint { level });
    }

    // Before anything of the image runs: useradd and friends are foreign
    // binaries in a foreign container.
    if let Some(emulation) = &opts.emulation {
        emulation::set_up(emulation, sys)?;
    }

    if files::path_exists(sys, Path::new(HOST_ETC)) {
        debug!("Path {HOST_ETC} exists");
        files::redirect_host_etc(sys)?;
    }

    if opts.media_link && !files::is_symlink(sys, Path::new("/media")) {
        files::redirect(sys, Path::new("/media"), Path::new("/run/media"), true)?;
    }

    if opts.mnt_link && !files::is_symlink(sys, Path::new("/mnt")) {
        files::redirect(sys, Path::new("/mnt"), Path::new("/var/mnt"), true)?;
    }

    mounts::bind_all(sys)?;
    user::configure_users(opts, sys)?;

    let entry = user::lookup_uid(sys, opts.uid).map_err(|source| InitError::LookupUid {
        uid: opts.uid,
        source,
    })?;
    let runtime_dir = runtime_directory(sys, entry.uid, entry.gid)?;

    cdi::configure(sys, &runtime_dir)?;

    files::configure_kerberos(sys)?;
    files::configure_pkcs11(sys, &runtime_dir)?;
    files::configure_rpm(sys)?;

    // The ticker itself lives in `watch::listen`; the line keeps the log
    // the same as upstream's.
    debug!("Setting up daily ticker");
    set_up_watch(sys)?;

    debug!("Finished initializing container");
    create_stamp(opts, sys, &runtime_dir)
}

/// Step 3. An empty value is treated like an unset one, because it would
/// otherwise make the runtime directory the relative path `toolbox`.
fn ensure_xdg_runtime_dir(uid: u32, sys: &mut dyn Sys) {
    if sys
        .env_var("XDG_RUNTIME_DIR")
        .is_some_and(|dir| !dir.is_empty())
    {
        return;
    }
    debug!("XDG_RUNTIME_DIR is unset");
    let dir = format!("/run/user/{uid}");
    sys.set_env_var("XDG_RUNTIME_DIR", &dir);
    debug!("XDG_RUNTIME_DIR set to {dir}");
}

/// Step 4. `/run/.toolboxenv` is the legacy name third parties still test.
fn create_markers(sys: &mut dyn Sys) -> Result<(), InitError> {
    for (what, path) in [
        ("legacy /run/.toolboxenv", "/run/.toolboxenv"),
        ("/run/.toolbxenv", "/run/.toolbxenv"),
    ] {
        debug!("Creating {what}");
        sys.create_file(Path::new(path))
            .map_err(|source| InitError::CreateMarker { path, source })?;
    }
    Ok(())
}

/// A test hook's value: only a positive integer counts, as with Go's Atoi.
fn positive_env(sys: &dyn Sys, key: &str) -> Option<u64> {
    let value = sys.env_var(key)?;
    match value.parse::<i64>() {
        Ok(n) if n > 0 => u64::try_from(n).ok(),
        _ => None,
    }
}

/// Whole seconds spelled the way Go's `time.Duration` prints them, so the
/// log line matches upstream's (`5s`, `1m30s`, `1h0m0s`).
fn go_duration(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

/// `$RT` (podman.md §1.5), created for and owned by the user.
fn runtime_directory(sys: &mut dyn Sys, uid: u32, gid: u32) -> Result<PathBuf, InitError> {
    let base = if uid == 0 {
        PathBuf::from("/run")
    } else {
        PathBuf::from(sys.env_var("XDG_RUNTIME_DIR").unwrap_or_default())
    };
    let path = base.join("toolbox");
    debug!("Creating runtime directory {}", path.display());
    if let Err(source) = sys.create_dir_all(&path, 0o700) {
        return Err(InitError::CreateRuntimeDir { path, source });
    }
    if let Err(source) = sys.chown(&path, uid, gid) {
        return Err(InitError::ChownRuntimeDir { path, source });
    }
    Ok(path)
}

/// Step 19. Running out of inotify resources only costs time zone
/// following, so it must not stop the container from starting.
fn set_up_watch(sys: &mut dyn Sys) -> Result<(), InitError> {
    debug!("Setting up watches for file system events");
    match sys.watch_init() {
        Ok(()) => {}
        Err(e @ (Errno::EMFILE | Errno::ENFILE | Errno::ENOMEM)) => {
            debug!("Setting up watches for file system events: failed to create Watcher: {e}");
            return Ok(());
        }
        Err(e) => return Err(InitError::CreateWatcher(e)),
    }
    match sys.watch_add(Path::new(HOST_ETC)) {
        Ok(()) => Ok(()),
        Err(e @ (Errno::ENOMEM | Errno::ENOSPC)) => {
            debug!("Setting up watches for file system events: failed to add path: {e}");
            Ok(())
        }
        Err(e) => Err(InitError::AddWatch(e)),
    }
}

/// Step 21: the file the host polls for before it runs anything inside.
fn create_stamp(
    opts: &InitOptions,
    sys: &mut dyn Sys,
    runtime_dir: &Path,
) -> Result<(), InitError> {
    let stamp = runtime_dir.join(format!("container-initialized-{}", sys.getpid()));
    debug!("Creating initialization stamp {}", stamp.display());
    sys.create_file(&stamp).map_err(InitError::CreateStamp)?;
    sys.chown(&stamp, opts.uid, opts.gid)
        .map_err(InitError::ChownStamp)
}
