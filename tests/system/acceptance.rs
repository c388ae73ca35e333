//! The acceptance cases from public bug reports (B01-B33), each replayed
//! against real podman as root and as the rootless test user. Cases that
//! other files cover are named there: B06 and B17 `create_from_an_untagged_image_id`,
//! B07 `image_without_the_label_is_usable_but_not_listed`, B09
//! `run_falls_back_to_home_when_workdir_is_missing`, B16 `rm_rules`, B22
//! `foreign_container_next_to_the_native_one`, B26
//! `try_foreign_create_without_a_usable_emulator`.

use std::path::Path;

use crate::harness::{self, As, Cleanup, IMAGE, binary, modes, on_tty, on_tty_after, text};

fn lines(bytes: &[u8]) -> Vec<String> {
    text(bytes).lines().map(str::to_string).collect()
}

const USAGE: &str = "Run 'toolbox --help' for usage.";

/// Tags the test image under `name` for the test, untagged on drop.
struct Tag<'a>(&'a As, String);

impl<'a> Tag<'a> {
    fn new(user: &'a As, name: &str) -> Tag<'a> {
        user.podman_ok(&["tag", IMAGE, name]);
        Tag(user, name.to_string())
    }
}

impl Drop for Tag<'_> {
    fn drop(&mut self) {
        let _ = self.0.podman(&["untag", &self.1, &self.1]);
    }
}

#[test]
#[ignore = "needs podman"]
fn b01_unknown_distro_and_release_errors() {
    for mode in modes() {
        let user = As::new(mode);
        for (args, first, second) in [
            (
                &["create", "--distro", "alpine", "--release", "35"][..],
                "Error: invalid argument for '--distro'",
                "Distribution alpine is unsupported.",
            ),
            (
                &["--assumeyes", "create", "--distro", "foo"],
                "Error: invalid argument for '--distro'",
                "Distribution foo is unsupported.",
            ),
            (
                &["--assumeyes", "create", "--distro", "ubuntu"],
                "Error: option '--release' is needed",
                "Distribution ubuntu doesn't match the host.",
            ),
            (
                &[
                    "--assumeyes",
                    "create",
                    "--distro",
                    "arch",
                    "--release",
                    "foo",
                ],
                "Error: invalid argument for '--release'",
                "The release must be 'latest'.",
            ),
        ] {
            let out = user.toolbox(args);
            assert_eq!(out.status.code(), Some(1), "[{mode:?}] {args:?}");
            assert_eq!(text(&out.stdout), "", "[{mode:?}] {args:?}");
            assert_eq!(
                lines(&out.stderr),
                [first, second, USAGE],
                "[{mode:?}] {args:?}"
            );
        }
        // Arch needs no release; latest and rolling mean the same.
        let _tag = Tag::new(&user, "quay.io/toolbx/arch-toolbox:latest");
        for release in [None, Some("latest"), Some("rolling")] {
            let _clean = Cleanup::new(&user, &["arch-toolbox-latest"]);
            let mut args = vec!["--assumeyes", "create", "--distro", "arch"];
            if let Some(r) = release {
                args.extend(["--release", r]);
            }
            let out = user.toolbox(&args);
            assert_eq!(
                text(&out.stdout),
                "Created container: arch-toolbox-latest\nEnter with: toolbox enter arch-toolbox-latest\n",
                "[{mode:?}] {release:?}: {}",
                text(&out.stderr)
            );
            let image = user.podman_ok(&[
                "inspect",
                "--format",
                "{{.ImageName}}",
                "arch-toolbox-latest",
            ]);
            assert_eq!(image, "quay.io/toolbx/arch-toolbox:latest");
        }
    }
}

#[test]
#[ignore = "needs podman"]
fn b02_rhel_releases_and_the_ubi_path() {
    for mode in modes() {
        let user = As::new(mode);
        for (release, image, container) in [
            (
                "7.9",
                "registry.access.redhat.com/ubi7/toolbox:7.9",
                "rhel-toolbox-7.9",
            ),
            (
                "9.4",
                "registry.access.redhat.com/ubi9/toolbox:9.4",
                "rhel-toolbox-9.4",
            ),
        ] {
            let out = user.toolbox(&[
                "--log-level",
                "debug",
                "create",
                "--distro",
                "rhel",
                "--release",
                release,
            ]);
            let err = text(&out.stderr);
            assert!(err.contains(&format!("Resolved container name {container}, image toolbox:{release} (full name {image})")), "[{mode:?}] {err}");
            assert!(
                err.ends_with("Error: image required to create Toolbx container.\nUse option '--assumeyes' to download the image.\nRun 'toolbox --help' for usage.\n"),
                "[{mode:?}] {err}"
            );
            assert_eq!(out.status.code(), Some(1));
        }
        for (release, hint) in [
            ("8", "The release must be in the '<major>.<minor>' format."),
            (
                "8.0.0",
                "The release must be in the '<major>.<minor>' format.",
            ),
            (
                "8.2foo",
                "The release must be in the '<major>.<minor>' format.",
            ),
            ("-2.1", "The release must be a positive number."),
        ] {
            let out = user.toolbox(&[
                "--assumeyes",
                "create",
                "--distro",
                "rhel",
                "--release",
                release,
            ]);
            assert_eq!(
                lines(&out.stderr),
                ["Error: invalid argument for '--release'", hint, USAGE],
                "[{mode:?}] {release}"
            );
        }
        let out = user.toolbox(&[
            "--log-level",
            "debug",
            "create",
            "--distro",
            "fedora",
            "--release",
            "f40",
        ]);
        assert!(
            text(&out.stderr)
                .contains("(full name registry.fedoraproject.org/fedora-toolbox:40), release 40"),
            "[{mode:?}] {}",
            text(&out.stderr)
        );
    }
}

#[test]
#[ignore = "needs podman"]
fn b03_container_names_podman_would_reject() {
    let regex_line = "Container names must match '[a-zA-Z0-9][a-zA-Z0-9_.-]*'.";
    for mode in modes() {
        let user = As::new(mode);
        for (args, option) in [
            (vec!["--assumeyes", "create", "dev:box"], "CONTAINER"),
            (
                vec!["--assumeyes", "create", "--container", "dev:box"],
                "--container",
            ),
            (vec!["--assumeyes", "create", "ßox"], "CONTAINER"),
            (vec!["create", ".hidden"], "CONTAINER"),
            (vec!["create", "box\n"], "CONTAINER"),
        ] {
            let out = user.toolbox(&args);
            assert_eq!(out.status.code(), Some(1), "[{mode:?}] {args:?}");
            assert_eq!(
                lines(&out.stderr),
                [
                    format!("Error: invalid argument for '{option}'"),
                    regex_line.to_string(),
                    USAGE.to_string()
                ],
                "[{mode:?}] {args:?}"
            );
        }
        let out = user.toolbox(&["create", "--image", "ßpeci@l.N@m€"]);
        assert_eq!(
            lines(&out.stderr),
            [
                "Error: invalid argument for '--image'",
                "Container name ßpeci@l.N@m€ generated from image is invalid.",
                regex_line,
                USAGE
            ],
            "[{mode:?}]"
        );
    }
}

#[test]
#[ignore = "needs podman"]
fn b05_names_from_unusual_image_references() {
    for mode in modes() {
        let user = As::new(mode);
        let _clean = Cleanup::new(&user, &["dev-tools-2024.1", "fedora-toolbox-40"]);
        let _a = Tag::new(&user, "localhost:5000/team/dev-tools:2024.1");
        let out = user.toolbox(&["create", "--image", "localhost:5000/team/dev-tools:2024.1"]);
        assert_eq!(
            text(&out.stdout),
            "Created container: dev-tools-2024.1\nEnter with: toolbox enter dev-tools-2024.1\n",
            "[{mode:?}] {}",
            text(&out.stderr)
        );
        let _b = Tag::new(&user, "quay.io/someone/fedora-toolbox:40");
        let out = user.toolbox(&["create", "--image", "quay.io/someone/fedora-toolbox:40"]);
        assert_eq!(
            text(&out.stdout),
            "Created container: fedora-toolbox-40\nEnter with: toolbox enter fedora-toolbox-40\n",
            "[{mode:?}] {}",
            text(&out.stderr)
        );
    }
}

/// A PATH directory with links to everything on the usual PATH but
/// `skip`, so a program can be made missing.
fn path_without(skip: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("tbx-st-path")
        .tempdir_in("/var/tmp")
        .unwrap();
    for d in ["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"] {
        for entry in std::fs::read_dir(d).into_iter().flatten().flatten() {
            let name = entry.file_name();
            let link = dir.path().join(&name);
            if name != skip && !link.exists() {
                let _ = std::os::unix::fs::symlink(entry.path(), link);
            }
        }
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

#[test]
#[ignore = "needs podman"]
fn b08_skopeo_missing_still_prompts_without_a_size() {
    for mode in modes() {
        let user = As::new(mode);
        let name = "tbx-st-b08";
        let image = "registry.fedoraproject.org/fedora-toolbox:40";
        let _clean = Cleanup::new(&user, &[name]);
        let _ = user.podman(&["rmi", image]);
        let path = path_without("skopeo");
        let line = format!(
            "env PATH={} {} create --distro fedora --release 40 {name}",
            path.path().display(),
            binary().display()
        );
        let (screen, code) = on_tty(&user, &line, "y\n");
        assert_eq!(code, Some(0), "[{mode:?}] {screen}");
        assert!(
            screen.contains("Image required to create Toolbx container.\n"),
            "[{mode:?}] {screen}"
        );
        assert!(
            screen.contains(&format!("Download {image}? [y/N]: ")),
            "[{mode:?}] {screen}"
        );
        assert!(
            screen.contains(&format!("Created container: {name}")),
            "[{mode:?}] {screen}"
        );
    }
}

#[test]
#[ignore = "needs podman"]
fn b10_run_exit_status() {
    for mode in modes() {
        let user = As::new(mode);
        let name = "tbx-st-b10";
        let _clean = Cleanup::new(&user, &[name]);
        user.create(name, IMAGE);
        for (cmd, code) in [
            (&["true"][..], 0),
            (&["false"], 1),
            (&["/bin/sh", "-c", "exit 33"], 33),
            (&["cp", "/nonexistent", "/nonexistent-dir/x"], 1),
            (&["/bin/sh", "-c", "kill -TERM $$"], 143),
        ] {
            let mut args = vec!["run", "-c", name];
            args.extend_from_slice(cmd);
            let out = user.toolbox(&args);
            assert_eq!(
                out.status.code(),
                Some(code),
                "[{mode:?}] {cmd:?}: {}",
                text(&out.stderr)
            );
            assert_eq!(text(&out.stdout), "", "[{mode:?}] {cmd:?}");
            if code != 1 || cmd[0] != "cp" {
                assert_eq!(
                    text(&out.stderr),
                    "",
                    "[{mode:?}] {cmd:?}: no extra toolbox output"
                );
            }
        }
    }
}

#[test]
#[ignore = "needs podman"]
fn b12_host_shell_missing_in_the_container() {
    for mode in modes() {
        let user = As::new(mode);
        let name = "tbx-st-b12";
        let other = "tbx-st-b12-other";
        let _clean = Cleanup::new(&user, &[name, other]);
        user.create(name, IMAGE);
        let line = format!(
            "env SHELL=/usr/bin/fish {} enter {name}",
            binary().display()
        );
        // Typed once the fallback shell is there: the first try, with the
        // missing shell, would swallow it.
        let (screen, code) = on_tty_after(
            &user,
            &line,
            "echo IN-BASH:$0\nexit\n",
            std::time::Duration::from_secs(4),
        );
        assert_eq!(code, Some(0), "[{mode:?}] {screen}");
        assert!(screen.contains(&format!("Error: command /usr/bin/fish not found in container {name}\nUsing /bin/bash instead.")), "[{mode:?}] {screen}");
        assert!(screen.contains("IN-BASH:"), "[{mode:?}] {screen}");
        // SHELL unset: the host's passwd entry gives the shell.
        let out = user
            .command(
                binary().to_str().unwrap(),
                &["-y", "create", "-i", IMAGE, other],
            )
            .env_remove("SHELL")
            .output()
            .unwrap();
        assert!(out.status.success(), "[{mode:?}] {}", text(&out.stderr));
        let out = user
            .command(
                binary().to_str().unwrap(),
                &["run", "-c", name, "/usr/bin/fish"],
            )
            .env("SHELL", "/usr/bin/fish")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(127), "[{mode:?}]");
        assert_eq!(
            lines(&out.stderr).last().map(String::as_str),
            Some(format!("Error: command /usr/bin/fish not found in container {name}").as_str())
        );
    }
}

#[test]
#[ignore = "needs podman"]
fn b18_list_output() {
    for mode in modes() {
        let user = As::new(mode);
        let long = format!("tbx-st-{}", "l".repeat(53));
        let (running, helper) = ("tbx-st-b18-running", "tbx-st-b18-src");
        let mut clean = Cleanup::new(&user, &[&long, running, helper]);
        user.podman_ok(&["create", "--name", helper, IMAGE, "true"]);
        let nameless = user.podman_ok(&["commit", "--quiet", helper]);
        clean.image(&nameless);
        let _copy = Tag::new(&user, "localhost/tbx-st-b18-copy:1");
        user.create(&long, IMAGE);
        user.create(running, IMAGE);
        assert!(
            user.toolbox(&["run", "-c", running, "true"])
                .status
                .success()
        );

        let out = user.toolbox(&["list"]);
        let listing = text(&out.stdout);
        assert!(
            !listing.contains('\x1b'),
            "[{mode:?}] no colour through a pipe"
        );
        let all: Vec<&str> = listing.lines().collect();
        let blank = all
            .iter()
            .position(|l| l.is_empty())
            .expect("a blank line between the tables");
        let (images, containers) = (&all[..blank], &all[blank + 1..]);
        assert!(
            images[0].starts_with("IMAGE ID      IMAGE NAME"),
            "{listing}"
        );
        assert!(
            images
                .iter()
                .any(|l| l.starts_with(&format!("{}  <none>", &nameless[..12]))),
            "{listing}"
        );
        let image_id = user.podman_ok(&["image", "inspect", "--format", "{{.Id}}", IMAGE]);
        let rows_of_image = images
            .iter()
            .filter(|l| l.starts_with(&image_id[..12]))
            .count();
        assert!(rows_of_image >= 2, "one row per name: {listing}");
        assert!(
            containers[0].starts_with("CONTAINER ID  CONTAINER NAME"),
            "{listing}"
        );
        let header_name_col = containers[0].find("CONTAINER NAME").unwrap();
        let created_col = containers[0].find("CREATED").unwrap();
        assert!(
            created_col >= header_name_col + long.len() + 2,
            "columns fit the long name: {listing}"
        );
        let long_row = containers.iter().find(|l| l.contains(&long)).unwrap();
        assert_eq!(long_row.find(&long), Some(header_name_col), "{listing}");
        let names: Vec<&str> = containers[1..]
            .iter()
            .map(|l| l[header_name_col..].split("  ").next().unwrap())
            .collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted, "sorted by name");
        assert!(all.iter().all(|l| !l.ends_with(' ')));
        // On a terminal the running container is bold green.
        let (screen, _) = on_tty(
            &user,
            &format!("{} list --containers", binary().display()),
            "",
        );
        let row = screen.lines().find(|l| l.contains(running)).unwrap();
        assert!(
            row.starts_with("\x1b[1;32m") && row.ends_with("\x1b[0m"),
            "[{mode:?}] {row:?}"
        );
        let images_only = text(&user.toolbox(&["list", "--images"]).stdout);
        assert!(!images_only.contains("CONTAINER ID"));
        let containers_only = text(&user.toolbox(&["list", "--containers"]).stdout);
        assert!(!containers_only.contains("IMAGE ID"));
    }
}

/// Points the host's /etc/localtime elsewhere for a while.
struct HostZone(std::path::PathBuf);

impl HostZone {
    fn set(zone: &str) -> HostZone {
        let old = std::fs::read_link("/etc/localtime").unwrap();
        let tmp = Path::new("/etc/.localtime.tbx-st");
        let _ = std::fs::remove_file(tmp);
        std::os::unix::fs::symlink(format!("/usr/share/zoneinfo/{zone}"), tmp).unwrap();
        std::fs::rename(tmp, "/etc/localtime").unwrap();
        HostZone(old)
    }
}

impl Drop for HostZone {
    fn drop(&mut self) {
        let tmp = Path::new("/etc/.localtime.tbx-st");
        let _ = std::fs::remove_file(tmp);
        let _ = std::os::unix::fs::symlink(&self.0, tmp);
        let _ = std::fs::rename(tmp, "/etc/localtime");
    }
}

#[test]
#[ignore = "needs podman and root"]
fn b20_time_zone_follows_the_host() {
    let host_zone = std::fs::read_link("/etc/localtime").unwrap();
    let zone = host_zone
        .to_string_lossy()
        .split("zoneinfo/")
        .nth(1)
        .unwrap()
        .to_string();
    for mode in modes() {
        let user = As::new(mode);
        let name = "tbx-st-b20";
        let _clean = Cleanup::new(&user, &[name]);
        user.create(name, IMAGE);
        // The host's file, or, as the test image has no zone files of its
        // own, the host's zone file that it points to.
        let out = user.toolbox(&["run", "-c", name, "readlink", "/etc/localtime"]);
        let link = text(&out.stdout);
        assert!(
            link == "/run/host/etc/localtime\n"
                || link == format!("/run/host/usr/share/zoneinfo/{zone}\n"),
            "[{mode:?}] {link}"
        );
        let out = user.toolbox(&["run", "-c", name, "cat", "/etc/timezone"]);
        assert_eq!(text(&out.stdout), format!("{zone}\n"), "[{mode:?}]");
        let host_abbrev = std::process::Command::new("date")
            .arg("+%Z")
            .output()
            .unwrap();
        let out = user.toolbox(&["run", "-c", name, "date", "+%Z"]);
        assert_eq!(text(&out.stdout), text(&host_abbrev.stdout), "[{mode:?}]");
        // The host changes zone while the container runs.
        let _zone = HostZone::set("Asia/Tokyo");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let out = user.toolbox(&["run", "-c", name, "cat", "/etc/timezone"]);
            if text(&out.stdout) == "Asia/Tokyo\n" {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "[{mode:?}] /etc/timezone did not follow: {}",
                text(&out.stdout)
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        let out = user.toolbox(&["run", "-c", name, "date", "+%Z"]);
        assert_eq!(text(&out.stdout), "JST\n", "[{mode:?}]");
    }
}

/// The host laid out as ostree hosts are, `/home -> var/home`, for as
/// long as this lives: the real `/home` waits beside it and comes back on
/// drop (tests/env/setup-all also puts it back after a cut-off run).
struct HomeIsALink;

const SAVED_HOME: &str = "/home.tbx-st-b21";

impl HomeIsALink {
    fn set() -> HomeIsALink {
        assert!(Path::new("/var/home").is_dir(), "run tests/env/setup-all");
        assert!(!Path::new(SAVED_HOME).exists(), "{SAVED_HOME} left over");
        std::fs::rename("/home", SAVED_HOME).unwrap();
        std::os::unix::fs::symlink("var/home", "/home").unwrap();
        HomeIsALink
    }
}

impl Drop for HomeIsALink {
    fn drop(&mut self) {
        if std::fs::symlink_metadata("/home").is_ok_and(|m| m.file_type().is_symlink()) {
            let _ = std::fs::remove_file("/home");
            let _ = std::fs::rename(SAVED_HOME, "/home");
        }
    }
}

#[test]
#[ignore = "needs podman and root"]
fn b21_unusual_home_directories() {
    // Each mode's user: root, and rootless users from tests/env/setup-all.
    let users = |rootless: &str| -> Vec<As> {
        modes()
            .into_iter()
            .map(|mode| match mode {
                harness::Mode::Rootful => As::new(mode),
                harness::Mode::Rootless => As::named(mode, rootless),
            })
            .collect()
    };
    let name = "tbx-st-b21";

    // B: a home outside /home is bind-mounted at the same path, the
    // container's passwd entry matches, and no fallback message shows.
    // A container made now, and what `sh -c script` printed in it.
    let fresh_run = |user: &As, script: &str| {
        let clean = Cleanup::new(user, &[name]);
        user.create(name, IMAGE);
        (
            clean,
            user.toolbox(&["run", "-c", name, "sh", "-c", script]),
        )
    };

    for user in users("tbxsrv") {
        let home = user.home.display().to_string();
        let (_clean, out) = fresh_run(
            &user,
            r#"echo "$HOME"; pwd; getent passwd "$USER" | cut -d: -f6"#,
        );
        assert_eq!(
            text(&out.stdout),
            format!("{home}\n{home}\n{home}\n"),
            "[{}] {}",
            user.name,
            text(&out.stderr)
        );
        assert_eq!(text(&out.stderr), "", "[{}]", user.name);
        assert!(out.status.success(), "[{}]", user.name);
    }

    // A: with /home a relative link to var/home on the host, the container
    // has the same link and $HOME and the working directory are kept.
    let _layout = HomeIsALink::set();
    for user in users("tbxostree") {
        let home = user.home.display().to_string();
        let (_clean, out) = fresh_run(&user, r#"readlink /home; echo "$HOME"; pwd"#);
        assert_eq!(
            text(&out.stdout),
            format!("var/home\n{home}\n{home}\n"),
            "[{}] {}",
            user.name,
            text(&out.stderr)
        );
        assert_eq!(text(&out.stderr), "", "[{}]", user.name);
    }
}

#[test]
#[ignore = "needs podman and qemu-user-static"]
fn b24_arch_values_and_aliases() {
    for mode in modes() {
        let user = As::new(mode);
        let foreign = "fedora-toolbox-44-arm64";
        let mut clean = Cleanup::new(&user, &[foreign, "n44", "fedora-toolbox-44"]);
        clean.image("registry.fedoraproject.org/fedora-toolbox:44-arm64");
        let base = [
            "--assumeyes",
            "create",
            "--distro",
            "fedora",
            "--release",
            "44",
        ];
        let with = |extra: &[&str]| {
            let mut v: Vec<&str> = base.to_vec();
            v.extend_from_slice(extra);
            user.toolbox(&v)
        };
        let out = with(&["--arch", "aarch64"]);
        assert_eq!(
            text(&out.stdout),
            format!("Created container: {foreign}\nEnter with: toolbox enter {foreign}\n"),
            "[{mode:?}] {}",
            text(&out.stderr)
        );
        for flag in [["--arch", "aarch64"], ["-a", "arm64"]] {
            let out = user.toolbox(&[
                "run",
                flag[0],
                flag[1],
                "--distro",
                "fedora",
                "--release",
                "44",
                "uname",
                "-m",
            ]);
            assert_eq!(text(&out.stdout), "aarch64\n", "[{mode:?}] {flag:?}");
        }
        for bad in ["ARM64", "sparc64"] {
            let out = with(&["--arch", bad]);
            assert_eq!(out.status.code(), Some(1));
            assert_eq!(
                lines(&out.stderr).first().map(String::as_str),
                Some(format!("Error: architecture '{bad}' is not supported by Toolbx").as_str()),
                "[{mode:?}]"
            );
        }
        let out = with(&["--arch", "", "--container", "n44"]);
        assert!(out.status.success(), "[{mode:?}] {}", text(&out.stderr));
        let label = user.podman_ok(&[
            "inspect",
            "--format",
            "{{index .Config.Labels \"toolbox-arch\"}}",
            "n44",
        ]);
        assert_eq!(label, "amd64");
        for native in ["amd64", "x86_64"] {
            let _ = user.podman(&["rm", "--force", "fedora-toolbox-44"]);
            let out = with(&["--arch", native]);
            assert_eq!(
                text(&out.stdout),
                "Created container: fedora-toolbox-44\nEnter with: toolbox enter\n",
                "[{mode:?}] {native}: {}",
                text(&out.stderr)
            );
        }
    }
}

#[test]
#[ignore = "needs podman"]
fn b31_configuration_errors_and_defaults() {
    for mode in modes() {
        let user = As::new(mode);
        let dir = tempfile::Builder::new()
            .prefix("tbx-st-conf")
            .tempdir_in("/var/tmp")
            .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let conf_dir = dir.path().join("containers");
        std::fs::create_dir_all(&conf_dir).unwrap();
        let conf = conf_dir.join("toolbox.conf");
        let _ = std::process::Command::new("chown")
            .arg("-R")
            .arg(&user.name)
            .arg(dir.path())
            .status();
        let run = |args: &[&str]| {
            user.command(binary().to_str().unwrap(), args)
                .env("XDG_CONFIG_HOME", dir.path())
                .output()
                .unwrap()
        };
        std::fs::write(&conf, "[general\n").unwrap();
        let out = run(&["list"]);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(
            lines(&out.stderr)[0],
            format!("Error: failed to parse file {}", conf.display()),
            "[{mode:?}]"
        );
        std::fs::write(&conf, "[general]\ndistro = \"foo\"\n").unwrap();
        let out = run(&["list"]);
        assert_eq!(
            text(&out.stderr),
            "Error: failed to resolve container name\n",
            "[{mode:?}]"
        );
        std::fs::write(
            &conf,
            "[general]\nimage = \"quay.io/toolbx/ubuntu-toolbox:22.04\"\n",
        )
        .unwrap();
        let out = run(&["--log-level", "debug", "create"]);
        assert!(
            text(&out.stderr).contains("Resolved container name ubuntu-toolbox-22.04, image quay.io/toolbx/ubuntu-toolbox:22.04"),
            "[{mode:?}] {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr)
                .contains("inspect --format json --type image quay.io/toolbx/ubuntu-toolbox:22.04"),
            "[{mode:?}]"
        );
        if mode == crate::harness::Mode::Rootless {
            std::fs::write(&conf, "[general]\n").unwrap();
            std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o000)).unwrap();
            let out = run(&["list"]);
            assert_eq!(
                lines(&out.stderr)[0],
                format!("Error: failed to read file {}", conf.display())
            );
        }
        std::fs::remove_file(&conf).unwrap();
        assert!(
            run(&["list"]).status.success(),
            "a missing file is no error"
        );
    }
}

#[test]
#[ignore = "needs podman"]
fn b32_completion_without_podman_or_subids() {
    let empty = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let out = std::process::Command::new(binary())
            .args(["completion", shell])
            .env_clear()
            .env("PATH", empty.path())
            .env("HOME", empty.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains("toolbox"), "{shell}");
        assert_eq!(text(&out.stderr), "");
    }
    assert!(
        !empty
            .path()
            .join(".config/toolbox/podman-system-migrate")
            .exists(),
        "no stamp written"
    );
    for (args, msg) in [
        (
            &["completion", "powershell"][..],
            "Error: invalid argument \"powershell\" for \"toolbox completion\"",
        ),
        (&["completion"], "Error: accepts 1 arg(s), received 0"),
    ] {
        let out = std::process::Command::new(binary())
            .args(args)
            .env("PATH", empty.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(lines(&out.stderr), [msg, USAGE]);
    }
}

#[test]
#[ignore = "needs podman"]
fn b33_migration_stamp() {
    for mode in modes() {
        let user = As::new(mode);
        let stamp = user.home.join(".config/toolbox/podman-system-migrate");
        let version = user.podman_ok(&["version", "--format", "{{.Client.Version}}"]);
        std::fs::write(&stamp, "4.0.0\n").unwrap();
        let out = user.toolbox(&["list"]);
        assert!(out.status.success(), "[{mode:?}] {}", text(&out.stderr));
        assert_eq!(
            std::fs::read_to_string(&stamp).unwrap(),
            format!("{version}\n"),
            "[{mode:?}] migrated once"
        );
        let before = std::fs::metadata(&stamp).unwrap().modified().unwrap();
        assert!(user.toolbox(&["list"]).status.success());
        assert_eq!(
            std::fs::metadata(&stamp).unwrap().modified().unwrap(),
            before,
            "[{mode:?}] no second migration"
        );
        // A downgrade does not migrate either.
        std::fs::write(&stamp, "99.0.0\n").unwrap();
        assert!(user.toolbox(&["list"]).status.success());
        assert_eq!(std::fs::read_to_string(&stamp).unwrap(), "99.0.0\n");
        std::fs::write(&stamp, format!("{version}\n")).unwrap();
        let _ = std::process::Command::new("chown")
            .arg(&user.name)
            .arg(&stamp)
            .status();
    }
}
