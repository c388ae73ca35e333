//! Interrupted and concurrent use with real podman: nothing half-made is
//! left, signals reach the command in the container, races end cleanly.

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{As, Cleanup, IMAGE, binary, modes, text};

/// Starts toolbox in a process group of its own, as a shell job would be,
/// so a signal can go to the whole group as the terminal's Ctrl-C does.
fn spawn_job(user: &As, path_prefix: Option<&std::path::Path>, args: &[&str]) -> Child {
    let mut cmd = user.command(binary().to_str().unwrap(), args);
    if let Some(prefix) = path_prefix {
        cmd.env(
            "PATH",
            format!(
                "{}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                prefix.display()
            ),
        );
    }
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    cmd.spawn().unwrap()
}

/// The toolbox process itself, under runuser for the rootless user.
fn job_group(child: &Child) -> nix::unistd::Pid {
    nix::unistd::Pid::from_raw(child.id() as i32)
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A PATH directory whose `podman` waits before `create` and `pull`, so a
/// signal can land in the middle of them.
fn slow_podman() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("tbx-st-slow")
        .tempdir_in("/var/tmp")
        .unwrap();
    let script = "#!/bin/sh\n\
        for a in \"$@\"; do case \"$a\" in create|pull) touch \"$(dirname \"$0\")/started\"; sleep 2; break ;; --log-level|error|debug) ;; *) break ;; esac; done\n\
        exec /usr/bin/podman \"$@\"\n";
    let path = dir.path().join("podman");
    std::fs::write(&path, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    dir
}

#[test]
#[ignore = "needs podman"]
fn interrupted_create_leaves_no_container() {
    for mode in modes() {
        let user = As::new(mode);
        let name = "tbx-st-interrupted";
        let _clean = Cleanup::new(&user, &[name]);
        let slow = slow_podman();
        let child = spawn_job(
            &user,
            Some(slow.path()),
            &["-y", "create", "-i", IMAGE, name],
        );
        wait_for("podman create to start", || {
            slow.path().join("started").exists()
        });
        nix::sys::signal::killpg(job_group(&child), nix::sys::signal::Signal::SIGINT).unwrap();
        let out = child.wait_with_output().unwrap();
        // Died of the signal, as a shell expects (runuser reports 130).
        let by_signal = out.status.signal() == Some(2) || out.status.code() == Some(130);
        assert!(
            by_signal,
            "[{mode:?}] status {:?}: {}",
            out.status,
            text(&out.stderr)
        );
        assert!(
            !text(&out.stdout).contains("Created container"),
            "[{mode:?}]"
        );
        assert!(!user.has_container(name), "[{mode:?}] left a container");
    }
}

#[test]
#[ignore = "needs podman"]
fn signal_during_run_goes_to_the_command() {
    for mode in modes() {
        let user = As::new(mode);
        let name = "tbx-st-sigint";
        let _clean = Cleanup::new(&user, &[name]);
        user.create(name, IMAGE);
        assert!(user.toolbox(&["run", "-c", name, "true"]).status.success());
        let marker = format!("/tmp/tbx-st-sigint-{}", user.name);
        let _ = std::fs::remove_file(&marker);
        let script = format!("trap 'echo got-INT; exit 3' INT; touch {marker}; sleep 20 & wait");
        let child = spawn_job(&user, None, &["run", "-c", name, "sh", "-c", &script]);
        wait_for("the command to start", || {
            std::path::Path::new(&marker).exists()
        });
        nix::sys::signal::killpg(job_group(&child), nix::sys::signal::Signal::SIGINT).unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            text(&out.stdout),
            "got-INT\n",
            "[{mode:?}] {}",
            text(&out.stderr)
        );
        assert_eq!(
            out.status.code(),
            Some(3),
            "[{mode:?}] the command's status, not toolbox's death"
        );
        let _ = std::fs::remove_file(&marker);
    }
}

#[test]
#[ignore = "needs podman"]
fn two_creates_of_one_name_at_once() {
    for mode in modes() {
        let user = As::new(mode);
        let name = "tbx-st-race";
        let _clean = Cleanup::new(&user, &[name]);
        let a = spawn_job(&user, None, &["-y", "create", "-i", IMAGE, name]);
        let b = spawn_job(&user, None, &["-y", "create", "-i", IMAGE, name]);
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        let wins = [&a, &b].iter().filter(|o| o.status.success()).count();
        assert_eq!(
            wins,
            1,
            "[{mode:?}] exactly one wins: {} / {}",
            text(&a.stderr),
            text(&b.stderr)
        );
        let loser = if a.status.success() { &b } else { &a };
        assert_eq!(loser.status.code(), Some(1));
        assert_eq!(
            text(&loser.stderr),
            format!(
                "Error: container {name} already exists\nEnter with: toolbox enter {name}\nRun 'toolbox --help' for usage.\n"
            ),
            "[{mode:?}]"
        );
    }
}

#[test]
#[ignore = "needs podman"]
fn two_runs_on_a_stopped_container_at_once() {
    for mode in modes() {
        let user = As::new(mode);
        let name = "tbx-st-runrace";
        let _clean = Cleanup::new(&user, &[name]);
        user.create(name, IMAGE);
        let jobs: Vec<Child> = (0..2)
            .map(|i| {
                spawn_job(
                    &user,
                    None,
                    &["run", "-c", name, "echo", &format!("job{i}")],
                )
            })
            .collect();
        for (i, job) in jobs.into_iter().enumerate() {
            let out = job.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "[{mode:?}] job{i}: {}",
                text(&out.stderr)
            );
            assert_eq!(text(&out.stdout), format!("job{i}\n"), "[{mode:?}]");
        }
    }
}

#[test]
#[ignore = "needs podman"]
fn rm_while_someone_is_inside() {
    for mode in modes() {
        let user = As::new(mode);
        let name = "tbx-st-busy";
        let _clean = Cleanup::new(&user, &[name]);
        user.create(name, IMAGE);
        // Wait for the command itself, not just the container: killing the
        // login shell while it still reads the user's profile can leave
        // the profile's own state behind (pyenv's rehash lock in root's
        // home made every later login shell wait 60 s).
        let marker = format!("/tmp/tbx-st-busy-{}", user.name);
        let _ = std::fs::remove_file(&marker);
        let script = format!("touch {marker}; exec sleep 30");
        let job = spawn_job(&user, None, &["run", "-c", name, "sh", "-c", &script]);
        wait_for("the command to run", || {
            std::path::Path::new(&marker).exists()
        });
        let _ = std::fs::remove_file(&marker);
        let out = user.toolbox(&["rm", name]);
        assert_eq!(out.status.code(), Some(1), "[{mode:?}]");
        assert_eq!(
            text(&out.stderr),
            format!("Error: container {name} is running\n")
        );
        assert!(user.has_container(name));
        let out = user.toolbox(&["rm", "--force", name]);
        assert!(out.status.success(), "[{mode:?}] {}", text(&out.stderr));
        let done = job.wait_with_output().unwrap();
        assert!(
            !done.status.success(),
            "[{mode:?}] the command inside ends with its container"
        );
        assert!(!user.has_container(name));
    }
}

/// A tmpfs of `size` mounted on a fresh directory, unmounted on drop.
struct SmallDisk(tempfile::TempDir);

impl SmallDisk {
    fn new(size: &str) -> SmallDisk {
        let dir = tempfile::Builder::new()
            .prefix("tbx-st-disk")
            .tempdir_in("/var/tmp")
            .unwrap();
        let status = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0755"),
                "tmpfs",
            ])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(status.success(), "mounting a tmpfs");
        SmallDisk(dir)
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.0.path())
            .status();
    }
}

#[test]
#[ignore = "needs podman and root"]
fn disk_full_during_pull_leaves_no_image() {
    for mode in modes() {
        let disk = SmallDisk::new("24m");
        let user = As::new(mode).isolated_empty(disk.0.path());
        let name = "tbx-st-diskfull";
        let _clean = Cleanup::new(&user, &[name]);
        let out = user.toolbox(&[
            "-y",
            "create",
            "--distro",
            "fedora",
            "--release",
            "40",
            name,
        ]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "[{mode:?}] {}",
            text(&out.stderr)
        );
        assert_eq!(
            text(&out.stderr),
            "Error: failed to pull image registry.fedoraproject.org/fedora-toolbox:40\nIf it was a private image, log in with: podman login registry.fedoraproject.org\nUse 'toolbox --verbose ...' for further details.\n",
            "[{mode:?}]"
        );
        assert_eq!(
            user.podman_ok(&["images", "-q"]),
            "",
            "[{mode:?}] no partial image"
        );
        assert!(!user.has_container(name));
    }
}

#[test]
#[ignore = "needs podman"]
fn unreachable_registry_is_named() {
    for mode in modes() {
        let user = As::new(mode);
        let name = "tbx-st-noregistry";
        let _clean = Cleanup::new(&user, &[name]);
        // Port 9 (discard) on loopback: nothing listens there.
        let out = user.toolbox(&["-y", "create", "-i", "127.0.0.1:9/tbx-st/none:1", name]);
        assert_eq!(out.status.code(), Some(1), "[{mode:?}]");
        assert_eq!(
            text(&out.stderr),
            "Error: failed to pull image 127.0.0.1:9/tbx-st/none:1\nIf it was a private image, log in with: podman login 127.0.0.1:9\nUse 'toolbox --verbose ...' for further details.\n",
            "[{mode:?}]"
        );
        let out = user.toolbox(&[
            "-y",
            "create",
            "-i",
            "127.0.0.1:9/tbx-st/none:1",
            "--arch",
            "arm64",
            name,
        ]);
        assert_eq!(out.status.code(), Some(1), "[{mode:?}]");
        let err = text(&out.stderr);
        assert!(
            err.starts_with("Error: failed to inspect image 127.0.0.1:9/tbx-st/none:1 for architecture arm64\nthe registry of 127.0.0.1:9/tbx-st/none:1 could not be reached"),
            "[{mode:?}] {err}"
        );
        assert!(!user.has_container(name));
    }
}

#[test]
#[ignore = "needs podman"]
fn interrupted_pull_leaves_no_image_and_no_container() {
    for mode in modes() {
        let user = As::new(mode);
        let name = "tbx-st-pullint";
        let image = "registry.fedoraproject.org/fedora-toolbox:40";
        let _clean = Cleanup::new(&user, &[name]);
        let _ = user.podman(&["rmi", image]);
        let slow = slow_podman();
        let child = spawn_job(
            &user,
            Some(slow.path()),
            &[
                "-y",
                "create",
                "--distro",
                "fedora",
                "--release",
                "40",
                name,
            ],
        );
        wait_for("podman pull to start", || {
            slow.path().join("started").exists()
        });
        nix::sys::signal::killpg(job_group(&child), nix::sys::signal::Signal::SIGINT).unwrap();
        let out = child.wait_with_output().unwrap();
        let by_signal = out.status.signal() == Some(2) || out.status.code() == Some(130);
        assert!(
            by_signal,
            "[{mode:?}] status {:?}: {}",
            out.status,
            text(&out.stderr)
        );
        assert!(!user.has_image(image), "[{mode:?}] no image");
        assert!(!user.has_container(name), "[{mode:?}] no container");
        // Put the image back for the other tests.
        user.restore_fedora_40(name);
    }
}

#[test]
#[ignore = "needs podman"]
fn ctrl_c_at_the_download_prompt_creates_nothing() {
    for mode in modes() {
        let user = As::new(mode);
        let name = "tbx-st-promptint";
        let image = "registry.fedoraproject.org/fedora-toolbox:40";
        let _clean = Cleanup::new(&user, &[name]);
        let _ = user.podman(&["rmi", image]);
        let line = format!(
            "{} create --distro fedora --release 40 {name}",
            binary().display()
        );
        // Ctrl-C typed at the prompt: the terminal sends SIGINT.
        let (screen, code) =
            crate::harness::on_tty_after(&user, &line, "\x03", Duration::from_secs(3));
        assert!(
            screen.contains(&format!("Download {image}? [y/N]: ")),
            "[{mode:?}] {screen}"
        );
        assert!(!screen.contains("Created container"), "[{mode:?}] {screen}");
        assert_eq!(code, Some(130), "[{mode:?}] died of SIGINT: {screen}");
        assert!(!user.has_image(image), "[{mode:?}]");
        assert!(!user.has_container(name), "[{mode:?}]");
        user.restore_fedora_40(name);
    }
}

#[test]
#[ignore = "needs podman"]
fn inside_a_container_commands_go_to_the_host() {
    for mode in modes() {
        let user = As::new(mode);
        let name = "tbx-st-forward";
        let _clean = Cleanup::new(&user, &[name]);
        user.create(name, IMAGE);
        // No flatpak-spawn in the image: upstream's message.
        let out = user.toolbox(&["run", "-c", name, "toolbox", "list"]);
        assert_eq!(out.status.code(), Some(1), "[{mode:?}]");
        assert_eq!(
            text(&out.stderr),
            "Error: flatpak-spawn(1) not found\n",
            "[{mode:?}]"
        );
        // A stand-in flatpak-spawn shows what would go to the host. It is
        // written in the home directory, which the container shares.
        let script = user.home.join("tbx-st-flatpak-spawn");
        std::fs::write(
            &script,
            "#!/bin/sh\nfor a in \"$@\"; do echo \"$a\"; done\nexit 7\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let install = format!(
            "sudo -n cp {} /usr/local/bin/flatpak-spawn",
            script.display()
        );
        let out = user.toolbox(&["run", "-c", name, "sh", "-c", &install]);
        assert!(out.status.success(), "[{mode:?}] {}", text(&out.stderr));
        let _ = std::fs::remove_file(&script);
        let out = user.toolbox(&["run", "-c", name, "toolbox", "list", "-c"]);
        assert_eq!(out.status.code(), Some(7), "[{mode:?}] its status is ours");
        let argv = text(&out.stdout);
        let words: Vec<&str> = argv.lines().collect();
        let host = words.iter().position(|w| *w == "--host").expect("--host");
        assert!(
            words[..host].iter().all(|w| w.starts_with("--env=")),
            "[{mode:?}] {argv}"
        );
        assert!(
            words[..host]
                .iter()
                .any(|w| w.starts_with("--env=TOOLBOX_PATH=")),
            "[{mode:?}] {argv}"
        );
        assert_eq!(
            &words[host + 1..],
            [binary().to_str().unwrap(), "list", "-c"],
            "[{mode:?}] {argv}"
        );
        // Parse errors are still local, and --version needs no host.
        let out = user.toolbox(&["run", "-c", name, "toolbox", "list", "--foo"]);
        assert_eq!(
            text(&out.stderr),
            "Error: unknown flag: --foo\nRun 'toolbox --help' for usage.\n"
        );
        let out = user.toolbox(&["run", "-c", name, "toolbox", "--version"]);
        assert!(
            text(&out.stdout).starts_with("toolbox version 0."),
            "[{mode:?}]"
        );
    }
}
