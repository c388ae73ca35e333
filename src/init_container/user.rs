//! The host user inside the container: `/etc/passwd` and `/etc/group`
//! parsing, and `useradd`/`usermod`/`passwd`.
//!
//! The databases are read directly instead of through NSS, because this
//! binary is statically linked against glibc and NSS modules would be
//! `dlopen`ed from whatever foreign image the container runs.

use std::io;
use std::path::{Path, PathBuf};

use tracing::debug;

use super::{InitError, InitOptions, Sys};

const PASSWD: &str = "/etc/passwd";
const GROUP: &str = "/etc/group";

/// Candidate groups whose members may use sudo, in order of preference.
const SUDO_GROUPS: [&str; 2] = ["sudo", "wheel"];

/// One line of `/etc/passwd`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PasswdEntry {
    pub(crate) name: String,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    pub(crate) home: String,
    pub(crate) shell: String,
}

/// One line of `/etc/group`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GroupEntry {
    pub(crate) name: String,
    pub(crate) gid: u32,
    pub(crate) members: Vec<String>,
}

/// Why a user could not be found.
#[derive(Debug, thiserror::Error)]
pub enum UserLookupError {
    /// The database could not be read.
    #[error("failed to read /etc/passwd: {0}")]
    Read(#[source] io::Error),
    /// No entry has that ID (Go's wording, which the host may show).
    #[error("user: unknown userid {0}")]
    UnknownUid(u32),
}

/// Lines that carry data: not blank, not comments, not NIS compat entries
/// (`+`/`-`), which name other databases rather than users.
fn data_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(|line| line.trim_end_matches('\r'))
        .filter(|line| !line.is_empty() && !line.starts_with(['#', '+', '-']))
}

/// Parses `/etc/passwd`, skipping malformed lines; like Go's parser, a
/// missing shell field is tolerated.
pub(crate) fn parse_passwd(text: &str) -> Vec<PasswdEntry> {
    data_lines(text)
        .filter_map(|line| {
            let fields: Vec<&str> = line.splitn(7, ':').collect();
            if fields.len() < 6 || fields[0].is_empty() {
                return None;
            }
            Some(PasswdEntry {
                name: fields[0].to_string(),
                uid: fields[2].parse().ok()?,
                gid: fields[3].parse().ok()?,
                home: fields[5].to_string(),
                shell: fields.get(6).copied().unwrap_or_default().to_string(),
            })
        })
        .collect()
}

/// Parses `/etc/group`, skipping malformed lines; a missing member list
/// (no trailing `:`) is taken as empty, as glibc does.
pub(crate) fn parse_group(text: &str) -> Vec<GroupEntry> {
    data_lines(text)
        .filter_map(|line| {
            let fields: Vec<&str> = line.splitn(4, ':').collect();
            if fields.len() < 3 || fields[0].is_empty() {
                return None;
            }
            Some(GroupEntry {
                name: fields[0].to_string(),
                gid: fields[2].parse().ok()?,
                members: fields
                    .get(3)
                    .copied()
                    .unwrap_or_default()
                    .split(',')
                    .filter(|m| !m.is_empty())
                    .map(str::to_string)
                    .collect(),
            })
        })
        .collect()
}

fn read_passwd(sys: &dyn Sys) -> io::Result<Vec<PasswdEntry>> {
    let bytes = sys.read_file(Path::new(PASSWD))?;
    Ok(parse_passwd(&String::from_utf8_lossy(&bytes)))
}

/// Finds the user with `uid` (step 13), re-reading the database because
/// `useradd`/`usermod` just changed it.
pub(crate) fn lookup_uid(sys: &dyn Sys, uid: u32) -> Result<PasswdEntry, UserLookupError> {
    read_passwd(sys)
        .map_err(UserLookupError::Read)?
        .into_iter()
        .find(|e| e.uid == uid)
        .ok_or(UserLookupError::UnknownUid(uid))
}

/// Whether a user called `name` exists. An unreadable database counts as
/// "no", so `useradd` gets to report the real problem.
fn user_exists(sys: &dyn Sys, name: &str) -> bool {
    match read_passwd(sys) {
        Ok(entries) => entries.iter().any(|e| e.name == name),
        Err(e) => {
            debug!("Failed to read {PASSWD}: {e}");
            false
        }
    }
}

/// The group that grants sudo in this image: `sudo` (Debian family) or
/// `wheel` (Fedora family).
pub(crate) fn sudo_group(sys: &dyn Sys) -> Result<&'static str, InitError> {
    debug!("Looking up group for sudo");
    let groups = match sys.read_file(Path::new(GROUP)) {
        Ok(bytes) => parse_group(&String::from_utf8_lossy(&bytes)),
        Err(e) => {
            debug!("Failed to read {GROUP}: {e}");
            Vec::new()
        }
    };
    let group = SUDO_GROUPS
        .into_iter()
        .find(|candidate| groups.iter().any(|g| g.name == *candidate))
        .ok_or(InitError::NoSudoGroup)?;
    debug!("Group for sudo is {group}");
    Ok(group)
}

/// Step 12: the `/home` link, the user with an empty password in the sudo
/// group, and root without a password, so `sudo` works with no prompt.
pub(crate) fn configure_users(opts: &InitOptions, sys: &mut dyn Sys) -> Result<(), InitError> {
    if opts.home_link {
        link_home(sys)?;
    }

    let group = sudo_group(sys)?;
    let home = opts.home.to_string_lossy();
    let shell = opts.shell.to_string_lossy();
    let uid = opts.uid.to_string();
    let user = opts.user.as_str();

    // podman's keep-id may already have added a bare entry (home `/`,
    // shell `/bin/sh`), which then only needs to be completed.
    let exists = user_exists(sys, user);
    let (program, args): (&str, Vec<&str>) = if exists {
        debug!("Modifying user {user} with UID {uid}:");
        (
            "usermod",
            vec![
                "--append",
                "--groups",
                group,
                "--home",
                &home,
                "--password",
                "",
                "--shell",
                &shell,
                "--uid",
                &uid,
                user,
            ],
        )
    } else {
        debug!("Adding user {user} with UID {uid}:");
        (
            "useradd",
            vec![
                "--groups",
                group,
                "--home-dir",
                &home,
                "--no-create-home",
                "--password",
                "",
                "--shell",
                &shell,
                "--uid",
                &uid,
                user,
            ],
        )
    };
    debug!("{program}");
    for arg in &args {
        debug!("{arg}");
    }
    sys.run(program, &args).map_err(|source| {
        let (user, uid) = (user.to_string(), opts.uid);
        if exists {
            InitError::ModifyUser { user, uid, source }
        } else {
            InitError::AddUser { user, uid, source }
        }
    })?;

    debug!("Removing password for user root");
    sys.run("passwd", &["--delete", "root"]).map_err(|e| {
        debug!("Removing password for user root failed: {}", e.stderr());
        InitError::RemoveRootPassword(e)
    })
}

/// `/home` → `/var/home`, as on image-based hosts (Silverblue and friends).
///
/// Upstream recreates the link on every start; an exact link is kept
/// here, and only its target directory is made sure of.
fn link_home(sys: &mut dyn Sys) -> Result<(), InitError> {
    let (home, var_home) = (Path::new("/home"), Path::new("/var/home"));
    let text = home_link_text(sys);
    if sys.read_link(home).is_ok_and(|dest| dest == text) {
        return sys
            .create_dir_all(var_home, 0o755)
            .map_err(|source| InitError::Redirect {
                path: home.to_path_buf(),
                target: var_home.to_path_buf(),
                source,
            });
    }
    super::files::redirect_as(sys, home, var_home, &text, true)
}

/// The host's own `/home` link text (ostree hosts have the relative
/// `var/home`), so `readlink /home` says the same inside as outside;
/// upstream always writes `/var/home`, which is where that falls back.
fn home_link_text(sys: &dyn Sys) -> PathBuf {
    let absolute = PathBuf::from("/var/home");
    match sys.read_link(Path::new("/run/host/home")) {
        Ok(text)
            if Path::new("/")
                .join(&text)
                .components()
                .eq(absolute.components()) =>
        {
            text
        }
        _ => absolute,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwd_parses_and_skips_junk() {
        let text = "root:x:0:0:root:/root:/bin/bash\n\
                    # comment\n\
                    \n\
                    +nisuser::::::\n\
                    broken:x:notanumber:0::/:/bin/sh\n\
                    short:x:1:1\n\
                    alice:x:1000:1001:Alice A,,,:/var/home/alice:/usr/bin/zsh\r\n\
                    empty:x:1002:1002:::\n\
                    noshell:x:1003:1003::/home/noshell\n";
        let entries = parse_passwd(text);
        assert_eq!(
            entries,
            vec![
                PasswdEntry {
                    name: "root".into(),
                    uid: 0,
                    gid: 0,
                    home: "/root".into(),
                    shell: "/bin/bash".into()
                },
                PasswdEntry {
                    name: "alice".into(),
                    uid: 1000,
                    gid: 1001,
                    home: "/var/home/alice".into(),
                    shell: "/usr/bin/zsh".into()
                },
                PasswdEntry {
                    name: "empty".into(),
                    uid: 1002,
                    gid: 1002,
                    home: "".into(),
                    shell: "".into()
                },
                PasswdEntry {
                    name: "noshell".into(),
                    uid: 1003,
                    gid: 1003,
                    home: "/home/noshell".into(),
                    shell: "".into()
                },
            ]
        );
    }

    #[test]
    fn group_parses_members() {
        let text = "root:x:0:\nsudo:x:27:alice,bob\n-nis\nbad:x:y:\nwheel:x:10\nadm:*:4:syslog,\n";
        let groups = parse_group(text);
        assert_eq!(
            groups,
            vec![
                GroupEntry {
                    name: "root".into(),
                    gid: 0,
                    members: vec![]
                },
                GroupEntry {
                    name: "sudo".into(),
                    gid: 27,
                    members: vec!["alice".into(), "bob".into()]
                },
                GroupEntry {
                    name: "wheel".into(),
                    gid: 10,
                    members: vec![]
                },
                GroupEntry {
                    name: "adm".into(),
                    gid: 4,
                    members: vec!["syslog".into()]
                },
            ]
        );
    }
}
