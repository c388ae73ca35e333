//! Files the entry point links or writes: the `/etc` redirections into
//! `/run/host`, `/etc/timezone`, and the Kerberos, PKCS #11 and RPM snippets.

use std::io;
use std::path::{Component, Path, PathBuf};

use nix::errno::Errno;
use tracing::{debug, warn};

use super::{InitError, Sys};

/// Every file Toolbx writes starts like this, so people know whom to blame.
pub(crate) const HEADER: &str = "# Written by Toolbx\n# https://containertoolbx.org/\n";

/// Where a resolved `/etc/localtime` may live; the host's tree comes first
/// because that is where the redirected link normally leads.
const ZONEINFO_ROOTS: [&str; 2] = ["/run/host/usr/share/zoneinfo", "/usr/share/zoneinfo"];

/// Like Go's `utils.PathExists`: anything but `ENOENT` counts as present,
/// so a permission problem surfaces later with a precise error.
pub(crate) fn path_exists(sys: &dyn Sys, path: &Path) -> bool {
    !matches!(sys.stat(path), Err(e) if e.kind() == io::ErrorKind::NotFound)
}

/// Whether `readlink(2)` succeeds, upstream's test for "already a link".
pub(crate) fn is_symlink(sys: &dyn Sys, path: &Path) -> bool {
    sys.read_link(path).is_ok()
}

/// Whether `path` is already exactly a link to `target`.
fn links_to(sys: &dyn Sys, path: &Path, target: &Path) -> bool {
    sys.read_link(path).is_ok_and(|dest| dest == target)
}

/// `filepath.Join`-like lexical join: `Path::join` would drop `base` when
/// `rest` is absolute, which is exactly the case this is needed for.
pub(crate) fn join_clean(base: &Path, rest: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for component in base.components().chain(rest.components()) {
        match component {
            Component::Normal(part) => out.push(part),
            Component::ParentDir => {
                out.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

/// Replaces `path` with a symbolic link to `target` (the "redirect"
/// routine of podman.md §8.2). With `folder`, `target` is created first so
/// the link is never dangling.
pub(crate) fn redirect(
    sys: &mut dyn Sys,
    path: &Path,
    target: &Path,
    folder: bool,
) -> Result<(), InitError> {
    debug!(
        "Preparing to redirect {} to {}",
        path.display(),
        target.display()
    );
    let sanitized = sanitize_target(sys, target);
    redirect_as(sys, path, target, &sanitized, folder)
}

/// [`redirect`] with the link's own text given: `text` is what the link
/// holds (it may be relative), `target` the absolute place it reaches.
pub(crate) fn redirect_as(
    sys: &mut dyn Sys,
    path: &Path,
    target: &Path,
    text: &Path,
    folder: bool,
) -> Result<(), InitError> {
    let fail = |source: io::Error| InitError::Redirect {
        path: path.to_path_buf(),
        target: target.to_path_buf(),
        source,
    };

    match sys.remove(path) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(Errno::EBUSY as i32) => {
            return Err(InitError::RedirectMountPoint {
                path: path.to_path_buf(),
                target: target.to_path_buf(),
                source: e,
            });
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(fail(e)),
    }

    if folder {
        sys.create_dir_all(target, 0o755).map_err(fail)?;
    }

    debug!("Redirecting {} to {}", path.display(), text.display());
    sys.symlink(text, path).map_err(fail)
}

/// A host link that dangles inside the container because its absolute
/// destination is only reachable under `/run/host` (typically
/// `/etc/resolv.conf` → `/run/systemd/resolve/stub-resolv.conf`) is
/// followed through `/run/host` instead. Anything else is kept as it is.
fn sanitize_target(sys: &dyn Sys, target: &Path) -> PathBuf {
    let t = target.display();
    match sys.lstat(target) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            warn!("{t} not found");
            return target.to_path_buf();
        }
        Err(e) => {
            warn!("Failed to lstat {t}: {e}");
            return target.to_path_buf();
        }
        Ok(meta) if meta.kind != super::FileKind::Symlink => {
            debug!("{t} isn't a symbolic link");
            return target.to_path_buf();
        }
        Ok(_) => debug!("{t} is a symbolic link"),
    }

    match sys.canonicalize(target) {
        Ok(_) => return target.to_path_buf(),
        Err(e) => warn!("Failed to resolve {t}: {e}"),
    }

    let destination = match sys.read_link(target) {
        Ok(d) => d,
        Err(e) => {
            warn!("Failed to get the destination of {t}: {e}");
            return target.to_path_buf();
        }
    };
    debug!("{t} points to {}", destination.display());

    if destination.is_absolute() {
        debug!("Prepending /run/host to {}", destination.display());
        join_clean(Path::new("/run/host"), &destination)
    } else {
        target.to_path_buf()
    }
}

/// Step 7: point the name-resolution and time files at the host's copies,
/// so later host changes (new network, new time zone) are seen live.
///
/// Unlike upstream, which leaves `/etc/host.conf` and `/etc/hosts` alone
/// when they are *any* symbolic link, all four use the same rule (redirect
/// unless already exactly the right link), so a stale link from an image
/// is not kept forever.
pub(crate) fn redirect_host_etc(sys: &mut dyn Sys) -> Result<(), InitError> {
    for name in ["host.conf", "hosts", "localtime"] {
        redirect_etc(sys, name)?;
    }
    update_time_zone(sys)?;
    redirect_etc(sys, "resolv.conf")
}

fn redirect_etc(sys: &mut dyn Sys, name: &str) -> Result<(), InitError> {
    let path = Path::new("/etc").join(name);
    let target = Path::new("/run/host/etc").join(name);
    if links_to(sys, &path, &target) {
        return Ok(());
    }
    redirect(sys, &path, &target, false)
}

/// After the host's `/etc/localtime` changed: point ours at it again (when
/// the image lacks the zone files, the link goes to the host's zone file
/// itself, which the change has replaced) and rewrite `/etc/timezone`.
pub(crate) fn follow_host_localtime(sys: &mut dyn Sys) -> Result<(), InitError> {
    redirect_etc(sys, "localtime")?;
    update_time_zone(sys)
}

/// Rewrites `/etc/timezone` from where `/etc/localtime` leads, for programs
/// that read the zone name rather than the zone file.
pub(crate) fn update_time_zone(sys: &mut dyn Sys) -> Result<(), InitError> {
    let zone = match sys.canonicalize(Path::new("/etc/localtime")) {
        Ok(resolved) => {
            debug!("Resolved /etc/localtime to {}", resolved.display());
            time_zone_from_path(&resolved)?
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => "UTC".to_string(),
        Err(e) => return Err(InitError::ResolveLocalTime(e)),
    };
    // Atomic rather than upstream's remove-then-write, so a reader racing
    // a host time zone change never finds the file missing.
    sys.write_file_atomic(
        Path::new("/etc/timezone"),
        format!("{zone}\n").as_bytes(),
        0o664,
    )
    .map_err(InitError::WriteTimeZone)
}

/// The zone name of a fully resolved `/etc/localtime`, e.g.
/// `/run/host/usr/share/zoneinfo/Europe/Prague` ⇒ `Europe/Prague`.
///
/// Prefixes are matched by whole components, so `/usr/share/zoneinfo-x`
/// is an unknown location rather than a `../zoneinfo-x/…` zone.
pub(crate) fn time_zone_from_path(path: &Path) -> Result<String, InitError> {
    ZONEINFO_ROOTS
        .iter()
        .find_map(|root| path.strip_prefix(root).ok())
        .map(|zone| zone.to_string_lossy().into_owned())
        .ok_or(InitError::UnknownLocalTime)
}

/// Step 15: make Kerberos use the host's KCM credential cache, unless the
/// image (or the user) already decided.
pub(crate) fn configure_kerberos(sys: &mut dyn Sys) -> Result<(), InitError> {
    const PREFIX: &str = "Configuring Kerberos to use KCM as the default credential cache";
    const DIR: &str = "/etc/krb5.conf.d";
    const FILE: &str = "/etc/krb5.conf.d/kcm_default_ccache";
    debug!("{PREFIX}");

    if !path_exists(sys, Path::new(DIR)) {
        debug!("{PREFIX}: directory {DIR} not found");
        debug!("{PREFIX}: skipping");
        return Ok(());
    }
    if path_exists(sys, Path::new(FILE)) {
        debug!("{PREFIX}: file {FILE} already exists");
        debug!("{PREFIX}: skipping");
        return Ok(());
    }

    let contents = format!(
        "{HEADER}#\n\
         # # To disable the KCM credential cache, comment out the following lines.\n\
         \n\
         [libdefaults]\n    default_ccache_name = KCM:\n"
    );
    sys.write_file_atomic(Path::new(FILE), contents.as_bytes(), 0o644)
        .map_err(InitError::Kerberos)
}

/// Where each supported distribution ships p11-kit's client module.
const P11_KIT_CLIENT_PATHS: [(&str, &[&str]); 4] = [
    ("arch", &["/usr/lib/pkcs11/p11-kit-client.so"]),
    ("fedora", &["/usr/lib64/pkcs11/p11-kit-client.so"]),
    ("rhel", &["/usr/lib64/pkcs11/p11-kit-client.so"]),
    (
        "ubuntu",
        &[
            "/usr/lib/aarch64-linux-gnu/pkcs11/p11-kit-client.so",
            "/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so",
        ],
    ),
];

/// The container's `os-release` `ID`, if it can be read.
fn os_release_id(sys: &dyn Sys) -> Option<String> {
    let text = ["/etc/os-release", "/usr/lib/os-release"]
        .iter()
        .find_map(|p| sys.read_file(Path::new(p)).ok())?;
    let text = String::from_utf8_lossy(&text);
    text.lines().find_map(|line| {
        let value = line.trim().strip_prefix("ID=")?;
        let value = value.trim();
        let unquoted = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
            .unwrap_or(value);
        Some(unquoted.to_string())
    })
}

/// Whether the container has p11-kit's client module; unknown
/// distributions are probed at every known location.
fn p11_kit_client_present(sys: &dyn Sys, prefix: &str) -> bool {
    let id = os_release_id(sys);
    let known = id
        .as_deref()
        .and_then(|id| P11_KIT_CLIENT_PATHS.iter().find(|(d, _)| *d == id));
    let candidates: Vec<&str> = match known {
        Some((_, paths)) => paths.to_vec(),
        None => {
            debug!(
                "{prefix}: failed to find {} in the list of supported distributions",
                id.as_deref().unwrap_or("")
            );
            P11_KIT_CLIENT_PATHS
                .iter()
                .flat_map(|(_, paths)| paths.iter().copied())
                .collect()
        }
    };
    candidates.iter().any(|p| path_exists(sys, Path::new(p)))
}

/// Step 16: let programs inside use the host's CA certificates through the
/// p11-kit server socket the host shares in `$RT/pkcs11`.
pub(crate) fn configure_pkcs11(sys: &mut dyn Sys, runtime_dir: &Path) -> Result<(), InitError> {
    const PREFIX: &str = "Configuring PKCS #11 to read from the host";
    const MODULES: &str = "/etc/pkcs11/modules";
    debug!("{PREFIX}");

    if !path_exists(sys, Path::new(MODULES)) {
        debug!("{PREFIX}: directory {MODULES} not found");
        debug!("{PREFIX}: skipping");
        return Ok(());
    }
    if !p11_kit_client_present(sys, PREFIX) {
        debug!("{PREFIX}: p11-kit-client.so not found");
        debug!("{PREFIX}: skipping");
        return Ok(());
    }
    let socket = runtime_dir.join("pkcs11");
    if !path_exists(sys, &socket) {
        debug!("{PREFIX}: socket {} not found", socket.display());
        debug!("{PREFIX}: skipping");
        return Ok(());
    }
    let socket = socket.display();

    let module =
        format!("{HEADER}\nmodule: p11-kit-client.so\nserver-address: unix:path={socket}\n");
    sys.write_file_atomic(
        Path::new("/etc/pkcs11/modules/p11-kit-trust.module"),
        module.as_bytes(),
        0o644,
    )
    .map_err(InitError::Pkcs11Module)?;

    configure_pkcs11_sshd(sys, &socket.to_string())?;
    configure_pkcs11_su(sys, &socket.to_string())?;
    configure_pkcs11_sudo(sys)
}

/// A directory that must be a directory; `Ok(None)` when it is missing
/// or is something else.
fn stat_dir(sys: &dyn Sys, dir: &str, prefix: &str) -> Result<Option<u32>, InitError> {
    match sys.stat(Path::new(dir)) {
        Ok(meta) if meta.kind == super::FileKind::Dir => Ok(Some(meta.mode)),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => {
            debug!("{prefix}: failed to stat {dir}: {source}");
            Err(InitError::Stat {
                path: PathBuf::from(dir),
                source,
            })
        }
    }
}

fn configure_pkcs11_sshd(sys: &mut dyn Sys, socket: &str) -> Result<(), InitError> {
    const PREFIX: &str = "Configuring sshd(8) to set P11_KIT_SERVER_ADDRESS";
    const DIR: &str = "/etc/ssh/sshd_config.d";
    debug!("{PREFIX}");
    let Some(mode) = stat_dir(sys, DIR, PREFIX)? else {
        debug!("{PREFIX}: directory {DIR} not found");
        debug!("{PREFIX}: skipping");
        return Ok(());
    };
    let contents = format!("{HEADER}\nSetEnv P11_KIT_SERVER_ADDRESS=unix:path={socket}\n");
    sys.write_file_atomic(
        &Path::new(DIR).join("90-toolbx.conf"),
        contents.as_bytes(),
        mode & 0o666,
    )
    .map_err(InitError::Pkcs11Sshd)
}

fn configure_pkcs11_su(sys: &mut dyn Sys, socket: &str) -> Result<(), InitError> {
    const PREFIX: &str = "Configuring su(1) to set P11_KIT_SERVER_ADDRESS";
    const DIR: &str = "/etc/profile.d";
    debug!("{PREFIX}");
    if stat_dir(sys, DIR, PREFIX)?.is_none() {
        return Err(InitError::ProfileDNotFound);
    }
    let contents = format!(
        "# shellcheck shell=sh\n#\n{HEADER}\nexport P11_KIT_SERVER_ADDRESS=unix:path={socket}\n"
    );
    sys.write_file_atomic(
        &Path::new(DIR).join("toolbx-pkcs11.sh"),
        contents.as_bytes(),
        0o644,
    )
    .map_err(InitError::Pkcs11Su)
}

fn configure_pkcs11_sudo(sys: &mut dyn Sys) -> Result<(), InitError> {
    const PREFIX: &str = "Configuring sudo(8) to set P11_KIT_SERVER_ADDRESS";
    const DIR: &str = "/etc/sudoers.d";
    debug!("{PREFIX}");
    if stat_dir(sys, DIR, PREFIX)?.is_none() {
        return Err(InitError::SudoersDNotFound);
    }
    let contents = format!("{HEADER}\nDefaults env_keep += \"P11_KIT_SERVER_ADDRESS\"\n");
    sys.write_file_atomic(
        &Path::new(DIR).join("90-toolbx-pkcs11"),
        contents.as_bytes(),
        0o440,
    )
    .map_err(InitError::Pkcs11Sudo)
}

/// Step 17: keep RPM from touching paths that are bind mounts from the host.
pub(crate) fn configure_rpm(sys: &mut dyn Sys) -> Result<(), InitError> {
    const DIR: &str = "/usr/lib/rpm/macros.d";
    if !path_exists(sys, Path::new(DIR)) {
        return Ok(());
    }
    debug!("Configuring RPM to ignore bind mounts");
    let contents = format!(
        "{HEADER}\n%_netsharedpath /dev:/media:/mnt:/proc:/sys:/tmp:/var/lib/flatpak:/var/lib/libvirt\n"
    );
    sys.write_file_atomic(
        &Path::new(DIR).join("macros.toolbox"),
        contents.as_bytes(),
        0o644,
    )
    .map_err(InitError::Rpm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_clean_keeps_base_for_absolute_rest() {
        assert_eq!(
            join_clean(
                Path::new("/run/host"),
                Path::new("/run/systemd/resolve/stub-resolv.conf")
            ),
            Path::new("/run/host/run/systemd/resolve/stub-resolv.conf")
        );
        assert_eq!(
            join_clean(Path::new("/run/host"), Path::new("/a/../b/./c")),
            Path::new("/run/host/b/c")
        );
    }

    #[test]
    fn zone_from_host_and_container_trees() {
        assert_eq!(
            time_zone_from_path(Path::new("/run/host/usr/share/zoneinfo/Europe/Prague")).unwrap(),
            "Europe/Prague"
        );
        assert_eq!(
            time_zone_from_path(Path::new("/usr/share/zoneinfo/America/New_York")).unwrap(),
            "America/New_York"
        );
        assert_eq!(
            time_zone_from_path(Path::new("/usr/share/zoneinfo/posix/Etc/UTC")).unwrap(),
            "posix/Etc/UTC"
        );
    }

    #[test]
    fn zone_from_unknown_location_fails() {
        for path in [
            "/etc/zones/Europe/Prague",
            "/usr/share/zoneinfo-x/Europe/Prague",
        ] {
            let err = time_zone_from_path(Path::new(path)).unwrap_err();
            assert_eq!(err.to_string(), "/etc/localtime points to unknown location");
        }
    }
}
