//! Real podman, as root and as the rootless test user.
//!
//! The binary under test is copied to a world-readable place, since it is
//! bind-mounted into containers and run by the test user. Each test names
//! its containers `tbx-st-…` and removes them, whatever happens, through
//! [`Cleanup`].

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The rootless test user the environment scripts create.
pub const TEST_USER: &str = "tbxtest";
/// The local Toolbx image built by tests/env/build-images.
pub const IMAGE: &str = "localhost/toolbox-testenv:amd64";
/// The same image for arm64.
pub const IMAGE_ARM64: &str = "localhost/toolbox-testenv:arm64";
const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Who runs toolbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// root, rootful podman.
    Rootful,
    /// The test user, rootless podman.
    Rootless,
}

/// The modes to test: both, unless `TOOLBOX_SYSTEM_MODES` names one.
pub fn modes() -> Vec<Mode> {
    match std::env::var("TOOLBOX_SYSTEM_MODES").as_deref() {
        Ok("rootful") => vec![Mode::Rootful],
        Ok("rootless") => vec![Mode::Rootless],
        _ => vec![Mode::Rootful, Mode::Rootless],
    }
}

/// The binary under test, copied where every user can run it.
pub fn binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let src = PathBuf::from(env!("CARGO_BIN_EXE_toolbox"));
        let dir = PathBuf::from("/var/tmp/toolbox-system-tests");
        std::fs::create_dir_all(&dir).unwrap();
        set_mode(&dir, 0o755);
        let dst = dir.join("toolbox");
        let tmp = dir.join(format!("toolbox.{}", std::process::id()));
        std::fs::copy(&src, &tmp).unwrap();
        set_mode(&tmp, 0o755);
        std::fs::rename(&tmp, &dst).unwrap();
        dst
    })
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A user to run things as.
#[derive(Debug, Clone)]
pub struct As {
    /// The mode.
    pub mode: Mode,
    /// Login name.
    pub name: String,
    /// UID.
    pub uid: u32,
    /// Home directory.
    pub home: PathBuf,
    /// A storage.conf of its own, for tests that touch everything the
    /// user has (`rm --all`), so the user's real containers are safe.
    pub storage_conf: Option<PathBuf>,
    /// A config directory of its own: rootless podman reads the user's
    /// ~/.config/containers/storage.conf before CONTAINERS_STORAGE_CONF.
    pub config_home: Option<PathBuf>,
}

impl As {
    /// The user for a mode.
    pub fn new(mode: Mode) -> As {
        let name = match mode {
            Mode::Rootful => "root",
            Mode::Rootless => TEST_USER,
        };
        As::named(mode, name)
    }

    /// Another user the environment scripts create (tests/env/setup-all).
    pub fn named(mode: Mode, name: &str) -> As {
        let entry = toolbox::host::passwd_by_name(name)
            .unwrap_or_else(|| panic!("user {name} missing: run tests/env/rootless-user"));
        As {
            mode,
            name: name.to_string(),
            uid: entry.uid,
            home: entry.home,
            storage_conf: None,
            config_home: None,
        }
    }

    /// The same user with podman storage of its own under `dir`, holding
    /// only the test image (loaded from the environment's cache).
    pub fn isolated(&self, dir: &Path) -> As {
        let user = self.isolated_empty(dir);
        let archive = "/var/cache/toolbox-testenv/image-amd64.oci.tar";
        user.podman_ok(&["load", "-q", "-i", archive]);
        user
    }

    /// The same user with empty podman storage of its own under `dir`.
    pub fn isolated_empty(&self, dir: &Path) -> As {
        let root = dir.join(format!("storage-{}", self.name));
        std::fs::create_dir_all(&root).unwrap();
        let chown = |p: &Path| {
            let _ = Command::new("chown")
                .arg("-R")
                .arg(&self.name)
                .arg(p)
                .status();
        };
        set_mode(dir, 0o755);
        let conf = root.join("storage.conf");
        std::fs::write(
            &conf,
            format!(
                "[storage]\ndriver = \"overlay\"\ngraphroot = \"{0}/graph\"\nrunroot = \"{0}/run\"\n",
                root.display()
            ),
        )
        .unwrap();
        let config = root.join("config");
        let containers = config.join("containers");
        std::fs::create_dir_all(&containers).unwrap();
        std::fs::copy(&conf, containers.join("storage.conf")).unwrap();
        // Keep the user's engine settings (cgroup manager, events logger).
        let engine = self.home.join(".config/containers/containers.conf");
        if engine.exists() {
            std::fs::copy(&engine, containers.join("containers.conf")).unwrap();
        }
        chown(&root);
        let user = As {
            storage_conf: Some(conf),
            config_home: Some(config),
            ..self.clone()
        };
        let graph = user.podman_ok(&["info", "--format", "{{.Store.GraphRoot}}"]);
        assert!(
            Path::new(&graph).starts_with(&root),
            "podman did not take the isolated storage: {graph}"
        );
        user
    }

    /// A command run as this user, with a login-like environment and the
    /// home directory as working directory.
    pub fn command<S: AsRef<OsStr>>(&self, program: &str, args: &[S]) -> Command {
        let mut cmd = match self.mode {
            Mode::Rootful => Command::new(program),
            Mode::Rootless => {
                let mut c = Command::new("/usr/sbin/runuser");
                c.args(["-u", &self.name, "--", program]);
                c
            }
        };
        cmd.args(args)
            .env_clear()
            .env("PATH", PATH)
            .env("HOME", &self.home)
            .env("USER", &self.name)
            .env("LOGNAME", &self.name)
            .env("SHELL", "/bin/bash")
            .env("LANG", "C.UTF-8")
            .current_dir(&self.home)
            .stdin(std::process::Stdio::null());
        if self.mode == Mode::Rootless {
            cmd.env("XDG_RUNTIME_DIR", format!("/run/user/{}", self.uid));
        }
        // Root reads CONTAINERS_STORAGE_CONF; rootless podman takes that
        // file as the system's, whose graphroot it ignores, and reads its
        // own from the config directory instead.
        match (self.mode, &self.storage_conf, &self.config_home) {
            (Mode::Rootful, Some(conf), _) => {
                cmd.env("CONTAINERS_STORAGE_CONF", conf);
            }
            (Mode::Rootless, _, Some(config)) => {
                cmd.env("XDG_CONFIG_HOME", config);
            }
            _ => {}
        }
        cmd
    }

    /// Runs the binary under test.
    pub fn toolbox<S: AsRef<OsStr>>(&self, args: &[S]) -> Output {
        self.toolbox_in(&self.home, args)
    }

    /// Runs the binary under test in a working directory.
    pub fn toolbox_in<S: AsRef<OsStr>>(&self, cwd: &Path, args: &[S]) -> Output {
        let bin = binary().to_str().unwrap().to_string();
        self.command(&bin, args).current_dir(cwd).output().unwrap()
    }

    /// Runs podman.
    pub fn podman<S: AsRef<OsStr>>(&self, args: &[S]) -> Output {
        self.command("podman", args).output().unwrap()
    }

    /// podman's stdout, which must succeed.
    pub fn podman_ok<S: AsRef<OsStr>>(&self, args: &[S]) -> String {
        let out = self.podman(args);
        assert!(out.status.success(), "podman failed: {}", text(&out.stderr));
        text(&out.stdout).trim().to_string()
    }

    /// Whether podman has this container.
    pub fn has_container(&self, name: &str) -> bool {
        self.podman(&["container", "exists", name]).status.success()
    }

    /// Whether podman has this image.
    pub fn has_image(&self, name: &str) -> bool {
        self.podman(&["image", "exists", name]).status.success()
    }

    /// Pulls fedora-toolbox:40 back from the local registry (through a
    /// container `name`), for tests that removed it to watch a download.
    pub fn restore_fedora_40(&self, name: &str) {
        let out = self.toolbox(&[
            "-y",
            "create",
            "--distro",
            "fedora",
            "--release",
            "40",
            name,
        ]);
        assert!(
            out.status.success(),
            "[{:?}] {}",
            self.mode,
            text(&out.stderr)
        );
    }

    /// Creates a Toolbx container from the test image, asserting success.
    pub fn create(&self, name: &str, image: &str) {
        let out = self.toolbox(&["-y", "create", "-i", image, name]);
        assert_eq!(
            text(&out.stdout),
            format!("Created container: {name}\nEnter with: toolbox enter {name}\n"),
            "[{:?}] create {name}: {}",
            self.mode,
            text(&out.stderr)
        );
        assert!(out.status.success());
    }
}

/// Lossy text of output bytes.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Removes containers and images a test made, even when it panics.
pub struct Cleanup {
    user: As,
    containers: Vec<String>,
    images: Vec<String>,
}

impl Cleanup {
    /// Removes `containers` (and later-added images) as `user` on drop.
    pub fn new(user: &As, containers: &[&str]) -> Cleanup {
        let c = Cleanup {
            user: user.clone(),
            containers: containers.iter().map(|s| s.to_string()).collect(),
            images: Vec::new(),
        };
        c.run();
        c
    }

    /// Also removes this image.
    pub fn image(&mut self, image: &str) {
        self.images.push(image.to_string());
    }

    /// Also removes this container.
    pub fn container(&mut self, name: &str) {
        self.containers.push(name.to_string());
    }

    fn run(&self) {
        for c in &self.containers {
            let _ = self.user.podman(&["rm", "--force", "--time", "0", c]);
        }
        for i in &self.images {
            let _ = self.user.podman(&["rmi", "--force", i]);
        }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        self.run();
    }
}

/// Runs a command line under a pseudo-terminal with `input` typed in,
/// returning what the terminal showed (CRs removed) and the exit code.
pub fn on_tty(user: &As, line: &str, input: &str) -> (String, Option<i32>) {
    on_tty_after(user, line, input, std::time::Duration::ZERO)
}

/// [`on_tty`], typing the input only after `delay`, as a person would once
/// a prompt shows; the session is killed after a minute, so a hang fails.
pub fn on_tty_after(
    user: &As,
    line: &str,
    input: &str,
    delay: std::time::Duration,
) -> (String, Option<i32>) {
    use std::io::Write;
    let mut child = user
        .command("script", &["-qec", line, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let pid = child.id();
    let input = input.to_string();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watch = done.clone();
    std::thread::spawn(move || {
        std::thread::sleep(delay);
        let _ = stdin.write_all(input.as_bytes());
        // Keep the pty open a while, then give up on a hung session.
        for _ in 0..600 {
            if watch.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let _ = Command::new("kill").arg(pid.to_string()).status();
        drop(stdin);
    });
    let out = child.wait_with_output().unwrap();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    (text(&out.stdout).replace('\r', ""), out.status.code())
}
