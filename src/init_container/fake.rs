//! An in-memory [`Sys`] for unprivileged tests: a file tree with symbolic
//! links resolved like the kernel does, and a log of every change.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::ffi::OsString;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::path::{Component, Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

use nix::errno::Errno;

use super::{FileKind, Meta, Sys};
use crate::exec::{Cmd, ExecError};

/// One file in the fake tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node {
    Dir { mode: u32 },
    File { data: Vec<u8>, mode: u32 },
    Symlink(PathBuf),
    Socket,
}

#[derive(Debug, Default)]
pub(crate) struct FakeSys {
    pub(crate) nodes: BTreeMap<PathBuf, Node>,
    pub(crate) owners: BTreeMap<PathBuf, (u32, u32)>,
    pub(crate) env: HashMap<String, String>,
    pub(crate) mount_points: HashSet<PathBuf>,
    /// Programs that exit 1 with `boom` on stderr.
    pub(crate) failing: HashSet<String>,
    pub(crate) watch_init_error: Option<Errno>,
    pub(crate) watch_add_error: Option<Errno>,
    /// Every mutation and child process, in order.
    pub(crate) log: Vec<String>,
    /// What mounting binfmt_misc fails with, if it does.
    pub(crate) binfmt_mount_error: Option<Errno>,
    /// Entries a mount shows besides `register` and `status` (a shared
    /// instance).
    pub(crate) binfmt_existing: Vec<(String, String)>,
    /// The raw errno exec of `true` fails with, if it does.
    pub(crate) true_errno: Option<i32>,
}

fn err(errno: Errno) -> io::Error {
    io::Error::from_raw_os_error(errno as i32)
}

impl FakeSys {
    pub(crate) fn new() -> Self {
        let mut sys = FakeSys::default();
        sys.nodes
            .insert(PathBuf::from("/"), Node::Dir { mode: 0o755 });
        sys
    }

    /// Adds a directory and its missing parents.
    pub(crate) fn dir(&mut self, path: &str) -> &mut Self {
        let mut cur = PathBuf::from("/");
        for c in Path::new(path).components().skip(1) {
            cur.push(c);
            self.nodes
                .entry(cur.clone())
                .or_insert(Node::Dir { mode: 0o755 });
        }
        self
    }

    fn parent_dir(&mut self, path: &str) {
        if let Some(parent) = Path::new(path).parent() {
            self.dir(&parent.to_string_lossy());
        }
    }

    /// Adds a regular file (and its parents).
    pub(crate) fn file(&mut self, path: &str, data: &str) -> &mut Self {
        self.parent_dir(path);
        self.nodes.insert(
            PathBuf::from(path),
            Node::File {
                data: data.as_bytes().to_vec(),
                mode: 0o644,
            },
        );
        self
    }

    /// Adds a symbolic link (and its parents).
    pub(crate) fn link(&mut self, path: &str, dest: &str) -> &mut Self {
        self.parent_dir(path);
        self.nodes
            .insert(PathBuf::from(path), Node::Symlink(PathBuf::from(dest)));
        self
    }

    /// Adds a socket (and its parents).
    pub(crate) fn socket(&mut self, path: &str) -> &mut Self {
        self.parent_dir(path);
        self.nodes.insert(PathBuf::from(path), Node::Socket);
        self
    }

    pub(crate) fn text(&self, path: &str) -> Option<String> {
        match self.nodes.get(Path::new(path)) {
            Some(Node::File { data, .. }) => Some(String::from_utf8_lossy(data).into_owned()),
            _ => None,
        }
    }

    pub(crate) fn mode(&self, path: &str) -> Option<u32> {
        match self.nodes.get(Path::new(path)) {
            Some(Node::File { mode, .. } | Node::Dir { mode }) => Some(*mode),
            _ => None,
        }
    }

    pub(crate) fn dest(&self, path: &str) -> Option<String> {
        match self.nodes.get(Path::new(path)) {
            Some(Node::Symlink(d)) => Some(d.to_string_lossy().into_owned()),
            _ => None,
        }
    }

    /// Walks `path` like path resolution in the kernel; the result may name
    /// a missing last component.
    fn resolve(&self, path: &Path, follow_last: bool) -> io::Result<PathBuf> {
        let mut pending: VecDeque<OsString> = components(path);
        let mut cur = PathBuf::from("/");
        let mut hops = 0;
        while let Some(comp) = pending.pop_front() {
            if comp == ".." {
                cur.pop();
                continue;
            }
            let next = cur.join(&comp);
            let last = pending.is_empty();
            match self.nodes.get(&next) {
                Some(Node::Symlink(dest)) if !last || follow_last => {
                    hops += 1;
                    if hops > 40 {
                        return Err(err(Errno::ELOOP));
                    }
                    let mut expanded = components(dest);
                    expanded.extend(pending);
                    pending = expanded;
                    if dest.is_absolute() {
                        cur = PathBuf::from("/");
                    }
                }
                Some(Node::Dir { .. }) => cur = next,
                Some(_) if last => cur = next,
                Some(_) => return Err(err(Errno::ENOTDIR)),
                None if last => cur = next,
                None => return Err(err(Errno::ENOENT)),
            }
        }
        Ok(cur)
    }

    fn existing(&self, path: &Path, follow_last: bool) -> io::Result<(PathBuf, &Node)> {
        let p = self.resolve(path, follow_last)?;
        match self.nodes.get(&p) {
            Some(node) => Ok((p, node)),
            None => Err(err(Errno::ENOENT)),
        }
    }

    fn require_parent_dir(&self, path: &Path) -> io::Result<()> {
        match path.parent().map(|p| self.existing(p, true)) {
            Some(Ok((_, Node::Dir { .. }))) => Ok(()),
            Some(Ok(_)) => Err(err(Errno::ENOTDIR)),
            Some(Err(e)) => Err(e),
            None => Err(err(Errno::EEXIST)),
        }
    }

    /// What `useradd`/`usermod` would leave in `/etc/passwd`.
    fn apply_user_tool(&mut self, program: &str, args: &[&str]) {
        let value = |flag: &str| {
            args.iter()
                .position(|a| *a == flag)
                .and_then(|i| args.get(i + 1))
                .copied()
                .unwrap_or_default()
        };
        let Some(user) = args.last() else { return };
        let uid = value("--uid");
        let home = value(if program == "useradd" {
            "--home-dir"
        } else {
            "--home"
        });
        let shell = value("--shell");
        let old = self.text("/etc/passwd").unwrap_or_default();
        let mut lines: Vec<String> = old
            .lines()
            .filter(|l| !l.starts_with(&format!("{user}:")))
            .map(str::to_string)
            .collect();
        lines.push(format!("{user}::{uid}:{uid}::{home}:{shell}"));
        self.nodes.insert(
            PathBuf::from("/etc/passwd"),
            Node::File {
                data: (lines.join("\n") + "\n").into_bytes(),
                mode: 0o644,
            },
        );
    }
}

fn components(path: &Path) -> VecDeque<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect()
}

fn meta(node: &Node) -> Meta {
    match node {
        Node::Dir { mode } => Meta {
            kind: FileKind::Dir,
            mode: *mode,
        },
        Node::File { mode, .. } => Meta {
            kind: FileKind::File,
            mode: *mode,
        },
        Node::Symlink(_) => Meta {
            kind: FileKind::Symlink,
            mode: 0o777,
        },
        Node::Socket => Meta {
            kind: FileKind::Socket,
            mode: 0o755,
        },
    }
}

impl Sys for FakeSys {
    fn env_var(&self, key: &str) -> Option<String> {
        self.env.get(key).cloned()
    }

    fn set_env_var(&mut self, key: &str, value: &str) {
        self.env.insert(key.to_string(), value.to_string());
    }

    fn sleep(&mut self, duration: Duration) {
        self.log.push(format!("sleep {}s", duration.as_secs()));
    }

    fn getpid(&self) -> u32 {
        4242
    }

    fn stat(&self, path: &Path) -> io::Result<Meta> {
        self.existing(path, true).map(|(_, n)| meta(n))
    }

    fn lstat(&self, path: &Path) -> io::Result<Meta> {
        self.existing(path, false).map(|(_, n)| meta(n))
    }

    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        match self.existing(path, false)? {
            (_, Node::Symlink(dest)) => Ok(dest.clone()),
            _ => Err(err(Errno::EINVAL)),
        }
    }

    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        self.existing(path, true).map(|(p, _)| p)
    }

    fn read_file(&self, path: &Path) -> io::Result<Vec<u8>> {
        match self.existing(path, true)? {
            (_, Node::File { data, .. }) => Ok(data.clone()),
            (_, Node::Dir { .. }) => Err(err(Errno::EISDIR)),
            _ => Err(err(Errno::ENXIO)),
        }
    }

    fn create_file(&mut self, path: &Path) -> io::Result<()> {
        let p = self.resolve(path, true)?;
        self.require_parent_dir(&p)?;
        let mode = match self.nodes.get(&p) {
            Some(Node::Dir { .. }) => return Err(err(Errno::EISDIR)),
            Some(Node::File { mode, .. }) => *mode,
            _ => 0o644,
        };
        self.nodes.insert(
            p,
            Node::File {
                data: Vec::new(),
                mode,
            },
        );
        self.log.push(format!("create {}", path.display()));
        Ok(())
    }

    /// Logged as `create` too: to the sequence it is the same step.
    fn ensure_file(&mut self, path: &Path) -> io::Result<()> {
        let p = self.resolve(path, true)?;
        if let Some(Node::File { .. }) = self.nodes.get(&p) {
            self.log.push(format!("create {}", path.display()));
            return Ok(());
        }
        self.create_file(path)
    }

    fn write_file_atomic(&mut self, path: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
        let parent = path.parent().ok_or_else(|| err(Errno::EINVAL))?;
        let (dir, node) = self.existing(parent, true)?;
        if !matches!(node, Node::Dir { .. }) {
            return Err(err(Errno::ENOTDIR));
        }
        let target = dir.join(path.file_name().ok_or_else(|| err(Errno::EINVAL))?);
        if let Some(Node::Dir { .. }) = self.nodes.get(&target) {
            return Err(err(Errno::EISDIR));
        }
        self.nodes.insert(
            target,
            Node::File {
                data: contents.to_vec(),
                mode,
            },
        );
        self.log.push(format!("write {} {mode:o}", path.display()));
        Ok(())
    }

    fn remove(&mut self, path: &Path) -> io::Result<()> {
        if self.mount_points.contains(path) {
            return Err(err(Errno::EBUSY));
        }
        let (p, node) = self.existing(path, false)?;
        if matches!(node, Node::Dir { .. })
            && self.nodes.keys().any(|k| k != &p && k.starts_with(&p))
        {
            return Err(err(Errno::ENOTEMPTY));
        }
        self.nodes.remove(&p);
        self.log.push(format!("remove {}", path.display()));
        Ok(())
    }

    fn create_dir_all(&mut self, path: &Path, mode: u32) -> io::Result<()> {
        let mut cur = PathBuf::from("/");
        for comp in components(path) {
            cur.push(comp);
            match self.existing(&cur, true) {
                Ok((p, Node::Dir { .. })) => cur = p,
                Ok(_) => return Err(err(Errno::EEXIST)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    let p = self.resolve(&cur, true)?;
                    self.nodes.insert(p.clone(), Node::Dir { mode });
                    cur = p;
                }
                Err(e) => return Err(e),
            }
        }
        self.log.push(format!("mkdir {} {mode:o}", path.display()));
        Ok(())
    }

    fn symlink(&mut self, target: &Path, link: &Path) -> io::Result<()> {
        let p = self.resolve(link, false)?;
        if self.nodes.contains_key(&p) {
            return Err(err(Errno::EEXIST));
        }
        self.require_parent_dir(&p)?;
        self.nodes.insert(p, Node::Symlink(target.to_path_buf()));
        self.log.push(format!(
            "symlink {} -> {}",
            link.display(),
            target.display()
        ));
        Ok(())
    }

    fn chown(&mut self, path: &Path, uid: u32, gid: u32) -> io::Result<()> {
        let (p, _) = self.existing(path, true)?;
        self.owners.insert(p, (uid, gid));
        self.log
            .push(format!("chown {} {uid}:{gid}", path.display()));
        Ok(())
    }

    fn bind_mount(&mut self, source: &Path, target: &Path, rslave: bool) -> nix::Result<()> {
        self.existing(target, true).map_err(|_| Errno::ENOENT)?;
        self.log.push(format!(
            "bind {} {}{}",
            source.display(),
            target.display(),
            if rslave { " rslave" } else { "" }
        ));
        Ok(())
    }

    fn run(&mut self, program: &str, args: &[&str]) -> Result<(), ExecError> {
        self.log
            .push(format!("run {}", Cmd::new(program).args(args).display()));
        if program.ends_with("/true")
            && let Some(errno) = self.true_errno
        {
            return Err(ExecError::Spawn {
                program: program.to_string(),
                source: io::Error::from_raw_os_error(errno),
            });
        }
        if self.failing.contains(program) {
            return Err(ExecError::Failed {
                program: program.to_string(),
                status: ExitStatus::from_raw(1 << 8),
                stderr: "boom\n".to_string(),
            });
        }
        if program == "useradd" || program == "usermod" {
            self.apply_user_tool(program, args);
        }
        Ok(())
    }

    fn watch_init(&mut self) -> nix::Result<()> {
        if let Some(e) = self.watch_init_error {
            return Err(e);
        }
        self.log.push("watch init".to_string());
        Ok(())
    }

    fn mount_binfmt_misc(&mut self, target: &Path) -> nix::Result<()> {
        if let Some(e) = self.binfmt_mount_error {
            return Err(e);
        }
        let dir = target.to_string_lossy().into_owned();
        self.dir(&dir);
        self.file(&format!("{dir}/register"), "");
        self.file(&format!("{dir}/status"), "enabled\n");
        for (name, text) in self.binfmt_existing.clone() {
            self.file(&format!("{dir}/{name}"), &text);
        }
        self.log.push(format!("mount binfmt_misc {dir}"));
        Ok(())
    }

    fn unmount(&mut self, target: &Path) -> nix::Result<()> {
        let prefix = target.to_path_buf();
        self.nodes
            .retain(|p, _| p == &prefix || !p.starts_with(&prefix));
        self.log.push(format!("umount {}", target.display()));
        Ok(())
    }

    fn list_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        let (dir, _) = self.existing(path, true)?;
        Ok(self
            .nodes
            .keys()
            .filter(|p| p.parent() == Some(dir.as_path()))
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect())
    }

    fn write_register(&mut self, path: &Path, data: &[u8]) -> io::Result<()> {
        self.existing(path, true)?;
        let text = String::from_utf8_lossy(data).into_owned();
        let (name, entry) =
            crate::arch::binfmt::kernel_entry_text(&text).map_err(|_| err(Errno::EINVAL))?;
        let dir = path
            .parent()
            .unwrap_or(Path::new("/"))
            .to_string_lossy()
            .into_owned();
        if self
            .nodes
            .contains_key(&PathBuf::from(format!("{dir}/{name}")))
        {
            return Err(err(Errno::EEXIST));
        }
        self.file(&format!("{dir}/{name}"), &entry);
        self.log.push(format!("register {text}"));
        Ok(())
    }

    fn check_emulator(&self, path: &Path) -> Result<PathBuf, crate::arch::elf::EmulatorError> {
        match self.existing(path, true) {
            Ok((p, Node::File { data, .. })) if data.starts_with(b"static") => Ok(p),
            Ok((p, _)) => Err(crate::arch::elf::EmulatorError::NotElf {
                path: path.to_path_buf(),
                resolved: p,
            }),
            Err(_) => Err(crate::arch::elf::EmulatorError::Missing {
                path: path.to_path_buf(),
            }),
        }
    }

    fn watch_add(&mut self, path: &Path) -> nix::Result<()> {
        if let Some(e) = self.watch_add_error {
            return Err(e);
        }
        self.existing(path, true).map_err(|_| Errno::ENOENT)?;
        self.log.push(format!("watch {}", path.display()));
        Ok(())
    }
}
