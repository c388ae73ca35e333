//! Facts about where toolbox runs: the user, the binary, the container
//! markers, the runtime directory and subordinate IDs.
//!
//! User look-ups read `/etc/passwd` and fall back to `getent(1)` rather than
//! calling `getpwuid(3)`: the binary is linked statically, and glibc's NSS
//! would dlopen modules that may not match it (or, in a container of another
//! architecture, not exist at all).

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{Context, Result, anyhow};

use crate::exec::Cmd;

/// `/run/.containerenv`: we are inside a container.
pub const CONTAINERENV: &str = "/run/.containerenv";

/// Markers of a Toolbx container.
pub const TOOLBXENV: [&str; 2] = ["/run/.toolbxenv", "/run/.toolboxenv"];

/// The basename of the running binary after symlinks, for hints.
pub fn base_name() -> String {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        executable()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "toolbox".to_string())
    })
    .clone()
}

/// The resolved absolute path of the running binary.
pub fn executable() -> std::io::Result<PathBuf> {
    std::env::current_exe()?.canonicalize()
}

/// Whether we run inside a container.
pub fn in_container() -> bool {
    Path::new(CONTAINERENV).exists()
}

/// Whether we run inside a Toolbx container.
pub fn in_toolbx_container() -> bool {
    TOOLBXENV.iter().any(|p| Path::new(p).exists())
}

/// The current user as toolbox needs it.
#[derive(Debug, Clone)]
pub struct User {
    /// Login name.
    pub name: String,
    /// Numeric user ID.
    pub uid: u32,
    /// Numeric primary group ID.
    pub gid: u32,
    /// Home directory: `$HOME`, else the passwd entry.
    pub home: PathBuf,
    /// The passwd entry's login shell, if known.
    pub passwd_shell: Option<PathBuf>,
}

/// One parsed passwd line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry {
    /// Name.
    pub name: String,
    /// UID.
    pub uid: u32,
    /// GID.
    pub gid: u32,
    /// Home.
    pub home: PathBuf,
    /// Shell.
    pub shell: PathBuf,
}

/// Parses one `passwd(5)` line.
pub fn parse_passwd_line(line: &[u8]) -> Option<PasswdEntry> {
    let fields: Vec<&[u8]> = line.split(|b| *b == b':').collect();
    if fields.len() < 7 {
        return None;
    }
    let num = |f: &[u8]| std::str::from_utf8(f).ok()?.trim().parse::<u32>().ok();
    Some(PasswdEntry {
        name: String::from_utf8_lossy(fields[0]).into_owned(),
        uid: num(fields[2])?,
        gid: num(fields[3])?,
        home: PathBuf::from(OsString::from_vec(fields[5].to_vec())),
        shell: PathBuf::from(OsString::from_vec(
            fields[6].strip_suffix(b"\n").unwrap_or(fields[6]).to_vec(),
        )),
    })
}

/// The passwd entry for `uid`: `/etc/passwd` first, then `getent passwd`.
pub fn passwd_by_uid(uid: u32) -> Option<PasswdEntry> {
    if let Ok(text) = std::fs::read("/etc/passwd")
        && let Some(e) = text
            .split(|b| *b == b'\n')
            .filter_map(parse_passwd_line)
            .find(|e| e.uid == uid)
    {
        return Some(e);
    }
    getent_passwd(uid).ok()
}

/// The `/etc/passwd` entry for a login name.
pub fn passwd_by_name(name: &str) -> Option<PasswdEntry> {
    let text = std::fs::read("/etc/passwd").ok()?;
    text.split(|b| *b == b'\n')
        .filter_map(parse_passwd_line)
        .find(|e| e.name == name)
}

/// `getent passwd UID`, with upstream's error texts.
pub fn getent_passwd(uid: u32) -> Result<PasswdEntry> {
    let out = Cmd::new("getent")
        .args(["passwd", &uid.to_string()])
        .stdout(crate::exec::Io::Capture)
        .run()
        .map_err(|e| match e {
            crate::exec::ExecError::NotFound { .. } => anyhow!("getent(1) not found"),
            _ => anyhow!("failed to invoke getent(1)"),
        })?;
    let line = out.stdout.split(|b| *b == b'\n').next().unwrap_or_default();
    if line.is_empty() {
        return Err(anyhow!("no getent(1) output"));
    }
    parse_passwd_line(line).ok_or_else(|| anyhow!("invalid getent(1) output"))
}

/// The current user.
pub fn current_user() -> Result<User> {
    let uid = nix::unistd::getuid().as_raw();
    let gid = nix::unistd::getgid().as_raw();
    let entry = passwd_by_uid(uid);
    let name = entry
        .as_ref()
        .map(|e| e.name.clone())
        .or_else(|| std::env::var("USER").ok())
        .ok_or_else(|| anyhow!("failed to get the current user: unknown user ID {uid}"))?;
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .or_else(|| entry.as_ref().map(|e| e.home.clone()))
        .ok_or_else(|| anyhow!("failed to get the current user: no home directory"))?;
    Ok(User {
        name,
        uid,
        gid,
        home,
        passwd_shell: entry.map(|e| e.shell),
    })
}

/// The user's login shell: `$SHELL`, else the passwd entry through getent,
/// with upstream's error text.
pub fn login_shell(user: &User) -> Result<PathBuf> {
    if let Some(shell) = std::env::var_os("SHELL").filter(|s| !s.is_empty()) {
        return Ok(PathBuf::from(shell));
    }
    if let Some(shell) = &user.passwd_shell {
        return Ok(shell.clone());
    }
    getent_passwd(user.uid)
        .map(|e| e.shell)
        .context("failed to get the current user's login shell")
}

/// Toolbx's runtime directory: `/run/toolbox` for root, else
/// `$XDG_RUNTIME_DIR/toolbox`. Upstream silently uses a relative path when
/// the variable is unset; we refuse (spec: cli.md §16 #9).
pub fn runtime_dir(uid: u32) -> Result<PathBuf> {
    if uid == 0 {
        return Ok(PathBuf::from("/run/toolbox"));
    }
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()) {
        Some(dir) if Path::new(&dir).is_absolute() => Ok(Path::new(&dir).join("toolbox")),
        _ => Err(anyhow!(
            "XDG_RUNTIME_DIR is not set to an absolute path\nLog in through a session manager, or set it to /run/user/{uid}."
        )),
    }
}

/// Creates the runtime directory (0700) owned by the user.
pub fn ensure_runtime_dir(user: &User) -> Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let dir = runtime_dir(user.uid)?;
    if !dir.is_dir() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|e| anyhow!("failed to create runtime directory {}: {e}", dir.display()))?;
        nix::unistd::chown(
            &dir,
            Some(nix::unistd::Uid::from_raw(user.uid)),
            Some(nix::unistd::Gid::from_raw(user.gid)),
        )
        .map_err(|e| {
            anyhow!(
                "failed to change ownership of the runtime directory {}: {e}",
                dir.display()
            )
        })?;
    }
    Ok(dir)
}

/// Whether `/etc/subuid`-style text has a range for the user (by name or
/// numeric UID). The name `ALL` never counts, as with libsubid.
pub fn has_subid_range(text: &str, name: &str, uid: u32) -> bool {
    if name == "ALL" {
        return false;
    }
    let uid = uid.to_string();
    text.lines().any(|line| {
        let mut parts = line.trim().split(':');
        let owner = parts.next().unwrap_or("");
        let count = parts.nth(1).and_then(|c| c.trim().parse::<u64>().ok());
        (owner == name || owner == uid) && count.is_some_and(|c| c > 0)
    })
}

/// The sub-ID check of upstream's pre-run.
pub fn check_subids(user: &User) -> Result<()> {
    let read = |p| std::fs::read_to_string(p).unwrap_or_default();
    if has_subid_range(&read("/etc/subuid"), &user.name, user.uid)
        && has_subid_range(&read("/etc/subgid"), &user.name, user.uid)
    {
        return Ok(());
    }
    Err(anyhow::Error::new(crate::error::ExitError::new(
        1,
        format!(
            "Missing subgid and/or subuid ranges for user {}\nSee the podman(1), subgid(5), subuid(5) and usermod(8) manuals for more\ninformation.",
            user.name
        ),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwd_line() {
        let e = parse_passwd_line(b"tbx:x:1000:1001:T:/home/tbx:/bin/bash").unwrap();
        assert_eq!((e.uid, e.gid), (1000, 1001));
        assert_eq!(e.home, PathBuf::from("/home/tbx"));
        assert_eq!(e.shell, PathBuf::from("/bin/bash"));
        assert!(parse_passwd_line(b"broken:x:1").is_none());
    }

    #[test]
    fn subid_ranges() {
        let text = "alice:100000:65536\n1001:200000:65536\nALL:1:2\nzero:5:0\n";
        assert!(has_subid_range(text, "alice", 1000));
        assert!(has_subid_range(text, "bob", 1001));
        assert!(!has_subid_range(text, "carol", 1002));
        assert!(!has_subid_range(text, "ALL", 5));
        assert!(!has_subid_range(text, "zero", 7));
    }
}
