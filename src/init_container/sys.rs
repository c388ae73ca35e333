//! The boundary between the entry point's logic and the operating system.
//!
//! Everything `init-container` does to the container (files, links, mounts,
//! child processes, the environment, the clock) goes through [`Sys`], so the
//! whole sequence can be replayed against an in-memory fake by unprivileged
//! tests, and [`RealSys`] stays a thin layer with no decisions of its own.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::{self, DirBuilder, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::errno::Errno;
use nix::mount::MsFlags;
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};

use crate::exec::{Cmd, ExecError};

/// What kind of file a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A directory.
    Dir,
    /// A regular file.
    File,
    /// A symbolic link (only ever returned by [`Sys::lstat`]).
    Symlink,
    /// A Unix domain socket.
    Socket,
    /// Anything else: devices, FIFOs.
    Other,
}

/// The part of `stat(2)` the entry point looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    /// The file's kind.
    pub kind: FileKind,
    /// Its permission bits (`st_mode & 0o7777`).
    pub mode: u32,
}

/// Every privileged or file-system operation of the entry point.
///
/// Paths are absolute. Errors are the raw ones from the kernel so that
/// callers can tell `ENOENT` and `EBUSY` apart the way upstream does.
pub trait Sys {
    /// An environment variable, if set (lossily decoded).
    fn env_var(&self, key: &str) -> Option<String>;
    /// Sets an environment variable for the rest of this process's logic.
    fn set_env_var(&mut self, key: &str, value: &str);
    /// Blocks for `duration`.
    fn sleep(&mut self, duration: Duration);
    /// This process's ID (a host PID, because containers run with `--pid host`).
    fn getpid(&self) -> u32;

    /// `stat(2)`: follows symbolic links.
    fn stat(&self, path: &Path) -> io::Result<Meta>;
    /// `lstat(2)`: does not follow a final symbolic link.
    fn lstat(&self, path: &Path) -> io::Result<Meta>;
    /// `readlink(2)`.
    fn read_link(&self, path: &Path) -> io::Result<PathBuf>;
    /// `realpath(3)`: resolves every symbolic link; fails if the result is missing.
    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf>;
    /// Reads a whole file.
    fn read_file(&self, path: &Path) -> io::Result<Vec<u8>>;

    /// Creates or truncates an empty file (mode 0666 less the umask when
    /// new). Truncating also gives it a fresh mtime, which the stamp needs:
    /// the host checks it is newer than the entry point.
    fn create_file(&mut self, path: &Path) -> io::Result<()>;
    /// Creates an empty file (mode 0666 less the umask) if there is none;
    /// an existing one keeps its contents. For bind targets: a bind that
    /// then fails must not leave the file emptied.
    fn ensure_file(&mut self, path: &Path) -> io::Result<()>;
    /// Replaces `path` with `contents` and exactly `mode`, through a
    /// temporary file and `rename(2)` so readers never see a partial file.
    fn write_file_atomic(&mut self, path: &Path, contents: &[u8], mode: u32) -> io::Result<()>;
    /// Removes a file, a symbolic link or an empty directory.
    fn remove(&mut self, path: &Path) -> io::Result<()>;
    /// `mkdir -p` with `mode` (less the umask) for the directories it creates.
    fn create_dir_all(&mut self, path: &Path, mode: u32) -> io::Result<()>;
    /// Creates the symbolic link `link` pointing to `target`.
    fn symlink(&mut self, target: &Path, link: &Path) -> io::Result<()>;
    /// `chown(2)`.
    fn chown(&mut self, path: &Path, uid: u32, gid: u32) -> io::Result<()>;

    /// Recursively binds `source` on `target`; with `rslave`, also makes the
    /// new mount a recursive slave so host mounts propagate in but not out.
    fn bind_mount(&mut self, source: &Path, target: &Path, rslave: bool) -> nix::Result<()>;
    /// Runs a program from `PATH` to completion; non-zero exit is an error.
    fn run(&mut self, program: &str, args: &[&str]) -> Result<(), ExecError>;

    /// Creates the inotify instance used to follow host changes.
    fn watch_init(&mut self) -> nix::Result<()>;
    /// Adds a directory to that inotify instance.
    fn watch_add(&mut self, path: &Path) -> nix::Result<()>;
    /// Mounts a binfmt_misc instance at `target`.
    fn mount_binfmt_misc(&mut self, target: &Path) -> nix::Result<()>;
    /// Unmounts `target`.
    fn unmount(&mut self, target: &Path) -> nix::Result<()>;
    /// The names in a directory.
    fn list_dir(&self, path: &Path) -> io::Result<Vec<String>>;
    /// Writes `data` to an existing file with exactly one write(2), as
    /// binfmt_misc's `register` needs.
    fn write_register(&mut self, path: &Path, data: &[u8]) -> io::Result<()>;
    /// Checks that a file can serve as the emulator (static ELF of the
    /// host's architecture), returning its canonical path.
    fn check_emulator(&self, path: &Path) -> Result<PathBuf, crate::arch::elf::EmulatorError>;
}

/// What inotify events the host watch asks for: the same set as fsnotify,
/// so renames (how `timedatectl` replaces `/etc/localtime`) are seen.
pub(crate) fn watch_mask() -> AddWatchFlags {
    AddWatchFlags::IN_MOVED_TO
        | AddWatchFlags::IN_MOVED_FROM
        | AddWatchFlags::IN_CREATE
        | AddWatchFlags::IN_ATTRIB
        | AddWatchFlags::IN_MODIFY
        | AddWatchFlags::IN_MOVE_SELF
        | AddWatchFlags::IN_DELETE
        | AddWatchFlags::IN_DELETE_SELF
}

/// The real operating system.
#[derive(Debug, Default)]
pub struct RealSys {
    /// Variables "set" by the entry point. Edition 2024 makes
    /// `std::env::set_var` unsafe and the crate denies unsafe code; nothing
    /// the entry point spawns needs them, so an overlay is enough.
    env_overrides: HashMap<String, String>,
    inotify: Option<Inotify>,
}

impl RealSys {
    /// A fresh handle with no environment overrides and no watch.
    pub fn new() -> Self {
        Self::default()
    }

    /// The inotify instance set up by [`Sys::watch_init`], if that worked.
    pub fn inotify(&self) -> Option<&Inotify> {
        self.inotify.as_ref()
    }
}

/// `open(O_WRONLY|O_CREAT[|O_TRUNC], 0666)`, closed at once.
fn open_for_create(path: &Path, truncate: bool) -> io::Result<()> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(truncate)
        .mode(0o666)
        .open(path)
        .map(drop)
}

fn meta_of(md: &fs::Metadata) -> Meta {
    let ft = md.file_type();
    let kind = if ft.is_symlink() {
        FileKind::Symlink
    } else if ft.is_dir() {
        FileKind::Dir
    } else if ft.is_file() {
        FileKind::File
    } else if std::os::unix::fs::FileTypeExt::is_socket(&ft) {
        FileKind::Socket
    } else {
        FileKind::Other
    };
    Meta {
        kind,
        mode: md.mode() & 0o7777,
    }
}

/// A name next to `path` that no other writer picks, so the final
/// `rename(2)` stays within one file system.
fn temp_sibling(path: &Path) -> io::Result<PathBuf> {
    let parent = path
        .parent()
        .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
    let base = path
        .file_name()
        .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
    let mut name = OsString::from(".");
    name.push(base);
    name.push(format!(".toolbx-{}.tmp", std::process::id()));
    Ok(parent.join(name))
}

impl Sys for RealSys {
    fn env_var(&self, key: &str) -> Option<String> {
        if let Some(value) = self.env_overrides.get(key) {
            return Some(value.clone());
        }
        std::env::var_os(key).map(|v| v.to_string_lossy().into_owned())
    }

    fn set_env_var(&mut self, key: &str, value: &str) {
        self.env_overrides
            .insert(key.to_string(), value.to_string());
    }

    fn sleep(&mut self, duration: Duration) {
        std::thread::sleep(duration);
    }

    fn getpid(&self) -> u32 {
        std::process::id()
    }

    fn stat(&self, path: &Path) -> io::Result<Meta> {
        fs::metadata(path).map(|md| meta_of(&md))
    }

    fn lstat(&self, path: &Path) -> io::Result<Meta> {
        fs::symlink_metadata(path).map(|md| meta_of(&md))
    }

    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        fs::read_link(path)
    }

    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        fs::canonicalize(path)
    }

    fn read_file(&self, path: &Path) -> io::Result<Vec<u8>> {
        fs::read(path)
    }

    fn create_file(&mut self, path: &Path) -> io::Result<()> {
        open_for_create(path, true)
    }

    fn ensure_file(&mut self, path: &Path) -> io::Result<()> {
        open_for_create(path, false)
    }

    fn write_file_atomic(&mut self, path: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
        let temp = temp_sibling(path)?;
        let result = (|| {
            let mut file = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&temp)?;
            file.write_all(contents)?;
            // Explicitly, because the umask would otherwise trim the mode.
            file.set_permissions(Permissions::from_mode(mode))?;
            file.sync_all()?;
            fs::rename(&temp, path)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result
    }

    fn remove(&mut self, path: &Path) -> io::Result<()> {
        // Like Go's os.Remove: try both, and report the rmdir error unless
        // the path was not a directory at all.
        let unlink = match fs::remove_file(path) {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        match fs::remove_dir(path) {
            Ok(()) => Ok(()),
            Err(rmdir) if rmdir.raw_os_error() == Some(Errno::ENOTDIR as i32) => Err(unlink),
            Err(rmdir) => Err(rmdir),
        }
    }

    fn create_dir_all(&mut self, path: &Path, mode: u32) -> io::Result<()> {
        DirBuilder::new().recursive(true).mode(mode).create(path)
    }

    fn symlink(&mut self, target: &Path, link: &Path) -> io::Result<()> {
        std::os::unix::fs::symlink(target, link)
    }

    fn chown(&mut self, path: &Path, uid: u32, gid: u32) -> io::Result<()> {
        std::os::unix::fs::chown(path, Some(uid), Some(gid))
    }

    fn bind_mount(&mut self, source: &Path, target: &Path, rslave: bool) -> nix::Result<()> {
        // mount(8) --rbind -o rslave does exactly these two calls: the
        // propagation type cannot be set in the same call as MS_BIND.
        nix::mount::mount(
            Some(source),
            target,
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None::<&str>,
        )?;
        if rslave {
            nix::mount::mount(
                None::<&str>,
                target,
                None::<&str>,
                MsFlags::MS_SLAVE | MsFlags::MS_REC,
                None::<&str>,
            )?;
        }
        Ok(())
    }

    fn run(&mut self, program: &str, args: &[&str]) -> Result<(), ExecError> {
        Cmd::new(program).args(args).run().map(drop)
    }

    fn watch_init(&mut self) -> nix::Result<()> {
        self.inotify = Some(Inotify::init(InitFlags::IN_CLOEXEC)?);
        Ok(())
    }

    fn watch_add(&mut self, path: &Path) -> nix::Result<()> {
        match &self.inotify {
            Some(inotify) => inotify.add_watch(path, watch_mask()).map(drop),
            None => Err(Errno::EBADF),
        }
    }

    fn mount_binfmt_misc(&mut self, target: &Path) -> nix::Result<()> {
        nix::mount::mount(
            Some("binfmt_misc"),
            target,
            Some("binfmt_misc"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
            None::<&str>,
        )
    }

    fn unmount(&mut self, target: &Path) -> nix::Result<()> {
        nix::mount::umount(target)
    }

    fn list_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        fs::read_dir(path)?
            .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect()
    }

    fn write_register(&mut self, path: &Path, data: &[u8]) -> io::Result<()> {
        use std::io::Write;
        let mut file = fs::OpenOptions::new().write(true).open(path)?;
        let written = file.write(data)?;
        if written == data.len() {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "short write to binfmt_misc",
            ))
        }
    }

    fn check_emulator(&self, path: &Path) -> Result<PathBuf, crate::arch::elf::EmulatorError> {
        let host = crate::arch::Arch::host().ok_or(crate::arch::elf::EmulatorError::Missing {
            path: path.to_path_buf(),
        })?;
        crate::arch::elf::check_emulator(path, host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_file_refreshes_the_stamp_and_ensure_file_keeps_contents() {
        let dir = tempfile::tempdir().unwrap();
        let old = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        // A stamp left by an earlier entry point with the same PID: the
        // new one must look new, or the host waits for it in vain.
        let stamp = dir.path().join("container-initialized-42");
        fs::File::create(&stamp).unwrap().set_modified(old).unwrap();
        RealSys::new().create_file(&stamp).unwrap();
        assert!(fs::metadata(&stamp).unwrap().modified().unwrap() > old);
        // A bind target keeps what it had.
        let target = dir.path().join("issue");
        fs::write(&target, "Debian 12\n").unwrap();
        RealSys::new().ensure_file(&target).unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "Debian 12\n");
        let fresh = dir.path().join("new");
        RealSys::new().ensure_file(&fresh).unwrap();
        assert_eq!(fs::read(&fresh).unwrap(), b"");
    }

    #[test]
    fn atomic_write_sets_exact_mode_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        fs::write(&path, "old").unwrap();
        let mut sys = RealSys::new();
        sys.write_file_atomic(&path, b"new\n", 0o664).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new\n");
        assert_eq!(sys.stat(&path).unwrap().mode, 0o664);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn remove_handles_files_links_and_dirs_like_go() {
        let dir = tempfile::tempdir().unwrap();
        let mut sys = RealSys::new();
        let file = dir.path().join("file");
        let sub = dir.path().join("sub");
        let link = dir.path().join("link");
        fs::write(&file, "").unwrap();
        fs::create_dir(&sub).unwrap();
        sys.symlink(&sub, &link).unwrap();
        sys.remove(&link).unwrap();
        assert!(sub.is_dir());
        sys.remove(&file).unwrap();
        fs::write(sub.join("x"), "").unwrap();
        let err = sys.remove(&sub).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(Errno::ENOTEMPTY as i32));
        fs::remove_file(sub.join("x")).unwrap();
        sys.remove(&sub).unwrap();
        let err = sys.remove(&sub).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn env_overlay_wins() {
        let mut sys = RealSys::new();
        sys.set_env_var("TOOLBX_TEST_OVERLAY_VARIABLE", "x");
        assert_eq!(
            sys.env_var("TOOLBX_TEST_OVERLAY_VARIABLE").as_deref(),
            Some("x")
        );
    }

    #[test]
    fn lstat_sees_links_and_stat_follows() {
        let dir = tempfile::tempdir().unwrap();
        let mut sys = RealSys::new();
        let link = dir.path().join("link");
        sys.symlink(dir.path(), &link).unwrap();
        assert_eq!(sys.lstat(&link).unwrap().kind, FileKind::Symlink);
        assert_eq!(sys.stat(&link).unwrap().kind, FileKind::Dir);
    }
}
