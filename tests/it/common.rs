//! `TestEnv`: an isolated HOME/XDG and a bin dir of fake programs.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

pub struct TestEnv {
    pub dir: tempfile::TempDir,
    pub bin: PathBuf,
    pub home: PathBuf,
    pub log: PathBuf,
}

/// The answer of the fake podman to `version --format json`, and a
/// no-op `system migrate`, shared by every fake.
pub const PODMAN_PRELUDE: &str = r#"#!/bin/sh
printf '%s\n' "$*" >> "$FAKE_LOG"
while [ "$1" = --log-level ]; do shift 2; done
case "$1" in
version) echo '{"Client":{"Version":"4.3.1"}}'; exit 0 ;;
system) exit 0 ;;
esac
"#;

impl TestEnv {
    pub fn new() -> TestEnv {
        let dir = tempfile::tempdir().expect("tempdir");
        let bin = dir.path().join("bin");
        let home = dir.path().join("home");
        fs::create_dir_all(&bin).unwrap();
        fs::create_dir_all(home.join(".config")).unwrap();
        fs::create_dir_all(dir.path().join("run")).unwrap();
        let log = dir.path().join("calls.log");
        fs::write(&log, "").unwrap();
        // Programs the binary or the fakes need, without the real podman.
        for tool in ["sh", "cat", "printf", "kill", "sleep"] {
            if let Ok(p) = which(tool) {
                std::os::unix::fs::symlink(p, bin.join(tool)).unwrap();
            }
        }
        TestEnv {
            dir,
            bin,
            home,
            log,
        }
    }

    /// Puts an executable script named `name` first on PATH.
    pub fn fake(&self, name: &str, body: &str) -> &Self {
        let path = self.bin.join(name);
        fs::write(&path, body).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        self
    }

    /// A fake podman: the prelude, then `body` handling the rest.
    pub fn podman(&self, body: &str) -> &Self {
        self.fake("podman", &format!("{PODMAN_PRELUDE}{body}\n"))
    }

    pub fn cmd(&self) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::cargo_bin("toolbox").unwrap();
        cmd.env_clear()
            .env("PATH", &self.bin)
            .env("HOME", &self.home)
            .env("USER", "tester")
            .env("SHELL", "/bin/sh")
            .env("XDG_RUNTIME_DIR", self.dir.path().join("run"))
            .env("FAKE_LOG", &self.log)
            .current_dir(&self.home);
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    /// The podman calls made, one line each, without the log-level prefix
    /// and the pre-run `version`.
    pub fn calls(&self) -> Vec<String> {
        self.raw_calls()
            .into_iter()
            .filter(|l| l != "version --format json" && l != "system migrate")
            .collect()
    }

    /// Every podman call, `version` and `system migrate` included (for
    /// commands that must make neither), without the log-level prefix.
    pub fn raw_calls(&self) -> Vec<String> {
        fs::read_to_string(&self.log)
            .unwrap()
            .lines()
            .map(|l| {
                l.strip_prefix("--log-level error ")
                    .unwrap_or(l)
                    .to_string()
            })
            .collect()
    }

    /// A podman that lists the [`PS`] containers and [`IMAGES`] images and
    /// runs the shell text `rest` for any other call.
    pub fn podman_with_lists(&self, rest: &str) -> &Self {
        self.podman(&format!(
            "case \"$1\" in\nps) cat <<'J'\n{PS}\nJ\nexit 0 ;;\nimages) cat <<'J'\n{IMAGES}\nJ\nexit 0 ;;\nesac\n{rest}"
        ))
    }
}

/// A stamp file that says the entry point with `pid` has initialised,
/// where the binary looks for it: `/run/toolbox` for root, else the test's
/// `$XDG_RUNTIME_DIR/toolbox`. Removed when dropped.
pub struct Stamp(PathBuf, std::process::Child);

impl Stamp {
    /// A stamp for a `sleep` child standing in for the entry point: a PID
    /// that exists while the test runs and that no real container uses.
    pub fn new(env: &TestEnv) -> Stamp {
        let child = std::process::Command::new("sleep")
            .arg("300")
            .spawn()
            .unwrap();
        let rt = if nix_is_root() {
            PathBuf::from("/run/toolbox")
        } else {
            env.dir.path().join("run/toolbox")
        };
        fs::create_dir_all(&rt).unwrap();
        let path = rt.join(format!("container-initialized-{}", child.id()));
        fs::write(&path, "").unwrap();
        Stamp(path, child)
    }

    pub fn pid(&self) -> u32 {
        self.1.id()
    }

    /// A container name unique to this stamp.
    pub fn name(&self) -> String {
        format!("box{}", self.pid())
    }
}

impl Drop for Stamp {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
        let _ = self.1.kill();
        let _ = self.1.wait();
    }
}

/// The name the binary finds for the user running the tests.
pub fn user_name() -> String {
    let uid = fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
        .unwrap();
    toolbox::host::passwd_by_uid(uid)
        .map(|e| e.name)
        .unwrap_or_else(|| "tester".into())
}

fn nix_is_root() -> bool {
    fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

fn which(tool: &str) -> Result<PathBuf, ()> {
    for dir in ["/usr/bin", "/bin"] {
        let p = Path::new(dir).join(tool);
        if p.exists() {
            return Ok(p);
        }
    }
    Err(())
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `podman ps` output: Toolbx containers `alpha` (running) and `beta`
/// (old label), and one that is not Toolbx's.
pub const PS: &str = r#"[
 {"Id":"1111111111111111","Names":["alpha"],"Image":"localhost/a:1","Created":1,"State":"running","Labels":{"com.github.containers.toolbox":"true"}},
 {"Id":"2222222222222222","Names":["other"],"Image":"busybox","Created":1,"State":"exited","Labels":{}},
 {"Id":"3333333333333333","Names":["beta"],"Image":"localhost/b:1","Created":1,"State":"exited","Labels":{"com.github.debarshiray.toolbox":"true"}}
]"#;

/// `podman images` output: two Toolbx images (one nameless) and another.
pub const IMAGES: &str = r#"[
 {"Id":"aaaaaaaaaaaaaaaa","Names":["localhost/a:1","localhost/a-copy:1"],"Created":1,"Labels":{"com.github.containers.toolbox":"true"}},
 {"Id":"bbbbbbbbbbbbbbbb","Names":null,"Created":1,"Labels":{"com.github.containers.toolbox":"true"}},
 {"Id":"cccccccccccccccc","Names":["busybox"],"Created":1,"Labels":null}
]"#;
