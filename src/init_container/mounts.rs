//! The bind mounts that share host state with the container (podman.md §8.3).

use std::io;
use std::path::Path;

use tracing::debug;

use super::{FileKind, InitError, Sys};

/// One bind mount: the path inside, the host path (under `/run/host`), and
/// whether host mounts below it must keep propagating in.
struct Bind {
    target: &'static str,
    source: &'static str,
    rslave: bool,
}

const fn bind(target: &'static str, source: &'static str, rslave: bool) -> Bind {
    Bind {
        target,
        source,
        rslave,
    }
}

/// In upstream's order; `/tmp` and `/var/mnt` are slaves so that USB sticks
/// and the like mounted on the host later still show up inside.
const BINDS: [Bind; 15] = [
    bind("/etc/machine-id", "/run/host/etc/machine-id", false),
    bind("/run/libvirt", "/run/host/run/libvirt", false),
    bind(
        "/run/systemd/journal",
        "/run/host/run/systemd/journal",
        false,
    ),
    bind(
        "/run/systemd/resolve",
        "/run/host/run/systemd/resolve",
        false,
    ),
    bind(
        "/run/systemd/sessions",
        "/run/host/run/systemd/sessions",
        false,
    ),
    bind("/run/systemd/system", "/run/host/run/systemd/system", false),
    bind("/run/systemd/users", "/run/host/run/systemd/users", false),
    bind("/run/udev/data", "/run/host/run/udev/data", false),
    bind("/run/udev/tags", "/run/host/run/udev/tags", false),
    bind("/tmp", "/run/host/tmp", true),
    bind("/var/lib/flatpak", "/run/host/var/lib/flatpak", false),
    bind("/var/lib/libvirt", "/run/host/var/lib/libvirt", false),
    bind(
        "/var/lib/systemd/coredump",
        "/run/host/var/lib/systemd/coredump",
        false,
    ),
    bind("/var/log/journal", "/run/host/var/log/journal", false),
    bind("/var/mnt", "/run/host/var/mnt", true),
];

/// Steps 10 and 11: the table, then hiding SELinux so tools inside act as
/// if it were disabled (its policy is the host's, not the image's).
pub(crate) fn bind_all(sys: &mut dyn Sys) -> Result<(), InitError> {
    for b in &BINDS {
        mount_bind(sys, Path::new(b.target), Path::new(b.source), b.rslave)?;
    }
    if super::files::path_exists(sys, Path::new("/sys/fs/selinux")) {
        mount_bind(
            sys,
            Path::new("/sys/fs/selinux"),
            Path::new("/usr/share/empty"),
            false,
        )?;
    }
    Ok(())
}

/// Binds `source` on `target`, creating a target of the right kind first.
/// A missing source is not an error: hosts differ in what they have.
fn mount_bind(
    sys: &mut dyn Sys,
    target: &Path,
    source: &Path,
    rslave: bool,
) -> Result<(), InitError> {
    if !prepare_target(sys, target, source)? {
        return Ok(());
    }
    debug!("Binding {} to {}", target.display(), source.display());
    sys.bind_mount(source, target, rslave)
        .map_err(|e| InitError::Bind {
            target: target.to_path_buf(),
            from: source.to_path_buf(),
            source: e,
        })
}

/// Makes `target` a bind target of the same kind as `source`: a directory,
/// or an (existing contents kept) file in a directory. `false` when the
/// source does not exist, which callers take as nothing to bind.
pub(crate) fn prepare_target(
    sys: &mut dyn Sys,
    target: &Path,
    source: &Path,
) -> Result<bool, InitError> {
    let meta = match sys.stat(source) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => {
            return Err(InitError::Stat {
                path: source.to_path_buf(),
                source: e,
            });
        }
    };

    match meta.kind {
        FileKind::Dir => {
            debug!("Creating directory {}", target.display());
            create_dir(sys, target)?;
        }
        FileKind::File | FileKind::Socket => {
            debug!("Creating regular file {}", target.display());
            if let Some(parent) = target.parent() {
                create_dir(sys, parent)?;
            }
            sys.ensure_file(target).map_err(|e| InitError::CreateFile {
                path: target.to_path_buf(),
                source: e,
            })?;
        }
        FileKind::Symlink | FileKind::Other => {}
    }

    Ok(true)
}

fn create_dir(sys: &mut dyn Sys, path: &Path) -> Result<(), InitError> {
    sys.create_dir_all(path, 0o755)
        .map_err(|e| InitError::CreateDir {
            path: path.to_path_buf(),
            source: e,
        })
}
