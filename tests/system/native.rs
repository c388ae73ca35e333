//! The native daily loop: create, run, enter's pieces, list, rm, rmi.

use std::os::unix::ffi::OsStrExt;

use crate::harness::{As, Cleanup, IMAGE, IMAGE_ARM64, modes, on_tty, text};

fn lines(bytes: &[u8]) -> Vec<String> {
    text(bytes).lines().map(str::to_string).collect()
}

#[test]
#[ignore = "needs podman"]
fn run_behaves_like_upstream() {
    for mode in modes() {
        let user = As::new(mode);
        let name = "tbx-st-run";
        let _clean = Cleanup::new(&user, &[name]);
        user.create(name, IMAGE);

        let out = user.toolbox(&["run", "-c", name, "uname", "-m"]);
        assert_eq!(
            text(&out.stdout),
            "x86_64\n",
            "[{mode:?}] {}",
            text(&out.stderr)
        );

        let out = user.toolbox(&["run", "-c", name, "id", "-un"]);
        assert_eq!(text(&out.stdout), format!("{}\n", user.name), "[{mode:?}]");

        let out = user.toolbox(&["run", "-c", name, "sudo", "-n", "true"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "[{mode:?}] sudo: {}",
            text(&out.stderr)
        );

        let out = user.toolbox(&["run", "-c", name, "sudo", "-n", "id", "-u"]);
        assert_eq!(text(&out.stdout), "0\n", "[{mode:?}]");

        // The host's working directory, here a subdirectory of HOME.
        let sub = user.home.join("tbx-st-workdir");
        let _ = std::fs::create_dir_all(&sub);
        let _ = std::process::Command::new("chown")
            .arg(&user.name)
            .arg(&sub)
            .status();
        let out = user.toolbox_in(&sub, &["run", "-c", name, "pwd"]);
        assert_eq!(
            text(&out.stdout),
            format!("{}\n", sub.display()),
            "[{mode:?}]"
        );
        let _ = std::fs::remove_dir(&sub);

        // The container sees the host's /etc through /run/host.
        let out = user.toolbox(&["run", "-c", name, "readlink", "/etc/resolv.conf"]);
        assert_eq!(
            text(&out.stdout),
            "/run/host/etc/resolv.conf\n",
            "[{mode:?}]"
        );
        let out = user.toolbox(&["run", "-c", name, "test", "-e", "/run/.toolboxenv"]);
        assert!(out.status.success(), "[{mode:?}] marker");
    }
}

#[test]
#[ignore = "needs podman"]
fn run_exit_codes_and_messages() {
    for mode in modes() {
        let user = As::new(mode);
        let name = "tbx-st-codes";
        let _clean = Cleanup::new(&user, &[name]);
        user.create(name, IMAGE);

        let out = user.toolbox(&["run", "-c", name, "false"]);
        assert_eq!(out.status.code(), Some(1), "[{mode:?}]");
        assert_eq!(text(&out.stderr), "", "[{mode:?}]");

        let out = user.toolbox(&["run", "-c", name, "sh", "-c", "exit 33"]);
        assert_eq!(out.status.code(), Some(33), "[{mode:?}]");

        let out = user.toolbox(&["run", "-c", name, "nosuchcommand"]);
        assert_eq!(out.status.code(), Some(127), "[{mode:?}]");
        assert_eq!(
            lines(&out.stderr).last().map(String::as_str),
            Some(format!("Error: command nosuchcommand not found in container {name}").as_str()),
            "[{mode:?}] {}",
            text(&out.stderr)
        );

        let out = user.toolbox(&["run", "-c", name, "/etc"]);
        assert_eq!(out.status.code(), Some(126), "[{mode:?}]");
        assert_eq!(
            lines(&out.stderr).last().map(String::as_str),
            Some(format!("Error: failed to invoke command /etc in container {name}").as_str()),
            "[{mode:?}]"
        );

        // Ours: a present command's own 127 passes through (cli.md §16 #3).
        let out = user.toolbox(&["run", "-c", name, "sh", "-c", "exit 127"]);
        assert_eq!(out.status.code(), Some(127), "[{mode:?}]");
        assert_eq!(text(&out.stderr), "", "[{mode:?}]");

        let out = user.toolbox(&["run", "-c", "tbx-st-nonexistent", "true"]);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(
            text(&out.stderr),
            "Error: container tbx-st-nonexistent not found\nUse the 'create' command to create a Toolbx.\nRun 'toolbox --help' for usage.\n"
        );
    }
}

#[test]
#[ignore = "needs podman"]
fn run_passes_argv_verbatim() {
    for mode in modes() {
        let user = As::new(mode);
        let name = "tbx-st-argv";
        let _clean = Cleanup::new(&user, &[name]);
        user.create(name, IMAGE);
        let out = user.toolbox(&[
            "run", "-c", name, "printf", "[%s]", "a b", "", "*", "'q'", "\"d\"", "$HOME", "-x",
            "--",
        ]);
        assert_eq!(
            text(&out.stdout),
            "[a b][][*]['q'][\"d\"][$HOME][-x][--]",
            "[{mode:?}]"
        );

        // Bytes that are not UTF-8 survive podman's JSON.
        use std::os::unix::ffi::OsStringExt;
        let raw = std::ffi::OsString::from_vec(vec![b'x', 0xff, 0xfe, b'y']);
        let args = [
            std::ffi::OsString::from("run"),
            "-c".into(),
            name.into(),
            "printf".into(),
            "%s".into(),
            raw.clone(),
        ];
        let out = user.toolbox(&args);
        assert_eq!(
            out.stdout,
            raw.as_bytes(),
            "[{mode:?}] {}",
            text(&out.stderr)
        );

        // ... also next to a long command line, and with backslashes and
        // printf's own escapes among them (`grep x $(find ...)` with one
        // Latin-1 file name among thousands).
        let tricky = std::ffi::OsString::from_vec(b"\\c\\x41%s\xe9\n".to_vec());
        let mut args: Vec<std::ffi::OsString> = ["run", "-c", name, "sh", "-c"]
            .map(std::ffi::OsString::from)
            .to_vec();
        args.push(r#"echo $#; printf %s "$1" | od -An -tx1 | tr -d ' \n'"#.into());
        args.push("sh".into());
        args.push(tricky.clone());
        args.extend((0..30000).map(|i| std::ffi::OsString::from(i.to_string())));
        let out = user.toolbox(&args);
        let hex: String = tricky
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            text(&out.stdout),
            format!("30001\n{hex}"),
            "[{mode:?}] {}",
            text(&out.stderr)
        );
    }
}

#[test]
#[ignore = "needs podman"]
fn run_falls_back_to_home_when_workdir_is_missing() {
    for mode in modes() {
        let user = As::new(mode);
        let name = "tbx-st-workdir";
        let _clean = Cleanup::new(&user, &[name]);
        user.create(name, IMAGE);
        // /var/tmp of the host is not mounted in the container.
        let dir = std::path::PathBuf::from(format!("/var/tmp/tbx-st-missing-{}", user.name));
        std::fs::create_dir_all(&dir).unwrap();
        let _ = std::process::Command::new("chown")
            .arg(&user.name)
            .arg(&dir)
            .status();
        let out = user.toolbox_in(&dir, &["run", "-c", name, "pwd"]);
        assert!(out.status.success(), "[{mode:?}] {}", text(&out.stderr));
        assert_eq!(
            text(&out.stdout),
            format!("{}\n", user.home.display()),
            "[{mode:?}]"
        );
        let err = lines(&out.stderr);
        assert_eq!(
            err[err.len() - 2..],
            [
                format!(
                    "Error: directory {} not found in container {name}",
                    dir.display()
                ),
                format!("Using {} instead.", user.home.display()),
            ],
            "[{mode:?}]"
        );
        let _ = std::fs::remove_dir(&dir);
    }
}

#[test]
#[ignore = "needs podman"]
fn create_refusals_leave_nothing() {
    for mode in modes() {
        let user = As::new(mode);
        let name = "tbx-st-exists";
        let _clean = Cleanup::new(&user, &[name]);
        user.create(name, IMAGE);
        let out = user.toolbox(&["-y", "create", "-i", IMAGE, name]);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(
            text(&out.stderr),
            format!(
                "Error: container {name} already exists\nEnter with: toolbox enter {name}\nRun 'toolbox --help' for usage.\n"
            )
        );

        let before = user.podman_ok(&["ps", "-a", "--format", "{{.Names}}"]);
        for args in [
            &["-y", "create", "dev:box"][..],
            &["-y", "create", "--distro", "foo"],
            &["-y", "create", "--image", "ßpeci@l.N@m€"],
            &["-y", "create", "-i", "tbx-st-no-such-image:1"],
        ] {
            let out = user.toolbox(args);
            assert_eq!(out.status.code(), Some(1), "[{mode:?}] {args:?}");
        }
        let out = user.toolbox(&["-y", "create", "-i", "tbx-st-no-such-image:1"]);
        assert_eq!(
            text(&out.stderr),
            "Error: image tbx-st-no-such-image:1 not found in local storage and known registries\n"
        );
        assert_eq!(
            user.podman_ok(&["ps", "-a", "--format", "{{.Names}}"]),
            before
        );
    }
}

#[test]
#[ignore = "needs podman"]
fn create_from_an_untagged_image_id() {
    for mode in modes() {
        let user = As::new(mode);
        let helper = "tbx-st-commit-src";
        let mut clean = Cleanup::new(&user, &[helper]);
        user.podman_ok(&["create", "--name", helper, IMAGE, "true"]);
        let id = user.podman_ok(&["commit", "--quiet", helper]);
        assert_eq!(id.len(), 64, "{id}");
        clean.image(&id);
        clean.container(&id);
        let out = user.toolbox(&["-y", "create", "-i", &id]);
        assert_eq!(
            text(&out.stdout),
            format!("Created container: {id}\nEnter with: toolbox enter {id}\n"),
            "[{mode:?}] {}",
            text(&out.stderr)
        );
        // Listed under <none>, and the container is listed.
        let out = user.toolbox(&["list"]);
        let listing = text(&out.stdout);
        assert!(
            listing.contains(&format!("{}  <none>", &id[..12])),
            "[{mode:?}] {listing}"
        );
        assert!(listing.contains(&format!("{}  ", &id[..12])));
        let out = user.toolbox(&["run", "-c", &id, "true"]);
        assert!(out.status.success(), "[{mode:?}] {}", text(&out.stderr));
        // A dependent container keeps the image from plain rmi; both stay.
        let out = user.toolbox(&["rmi", &id]);
        assert_eq!(out.status.code(), Some(1), "[{mode:?}]");
        assert_eq!(
            text(&out.stderr),
            format!("Error: image {id} has dependent children\n")
        );
        assert!(user.has_image(&id));
        assert!(user.has_container(&id));
        let out = user.toolbox(&["rmi", "--force", &id]);
        assert!(out.status.success(), "[{mode:?}] {}", text(&out.stderr));
        assert!(!user.has_image(&id));
    }
}

#[test]
#[ignore = "needs podman"]
fn image_without_the_label_is_usable_but_not_listed() {
    for mode in modes() {
        let user = As::new(mode);
        let helper = "tbx-st-nolabel-src";
        let name = "tbx-st-nolabel";
        let image = "localhost/tbx-st-nolabel:1";
        let mut clean = Cleanup::new(&user, &[helper, name]);
        clean.image(image);
        user.podman_ok(&["create", "--name", helper, IMAGE, "true"]);
        user.podman_ok(&[
            "commit",
            "--quiet",
            "--change",
            "LABEL com.github.containers.toolbox=false",
            helper,
            image,
        ]);
        user.create(name, image);
        let images = text(&user.toolbox(&["list", "-i"]).stdout);
        assert!(!images.contains("tbx-st-nolabel"), "[{mode:?}] {images}");
        let containers = text(&user.toolbox(&["list", "-c"]).stdout);
        assert!(containers.contains(name), "[{mode:?}] {containers}");
        let out = user.toolbox(&["rmi", image]);
        assert_eq!(
            text(&out.stderr),
            format!("Error: {image} is not a Toolbx image\n")
        );
        assert_eq!(out.status.code(), Some(1));
    }
}

#[test]
#[ignore = "needs podman"]
fn rm_rules() {
    for mode in modes() {
        // --all must not reach the user's real containers: storage of its own.
        let dir = tempfile::Builder::new()
            .prefix("tbx-st-rm")
            .tempdir_in("/var/tmp")
            .unwrap();
        let user = As::new(mode).isolated(dir.path());
        let (a, b, plain) = ("tbx-st-rm-a", "tbx-st-rm-b", "tbx-st-rm-plain");
        let _clean = Cleanup::new(&user, &[a, b, plain]);
        user.create(a, IMAGE);
        user.create(b, IMAGE);
        // The image carries the Toolbx label; this container overrides it.
        user.podman_ok(&[
            "create",
            "--name",
            plain,
            "--label",
            "com.github.containers.toolbox=false",
            IMAGE,
            "true",
        ]);
        // Start `a` through toolbox, then removing it without --force fails.
        assert!(user.toolbox(&["run", "-c", a, "true"]).status.success());
        let out = user.toolbox(&["rm", a]);
        assert_eq!(out.status.code(), Some(1), "[{mode:?}]");
        assert_eq!(
            text(&out.stderr),
            format!("Error: container {a} is running\n")
        );
        assert!(user.has_container(a));
        // A non-Toolbx container is refused by name.
        let out = user.toolbox(&["rm", plain]);
        assert_eq!(
            text(&out.stderr),
            format!("Error: {plain} is not a Toolbx container\n")
        );
        // --force --all removes every Toolbx container, and only those.
        let out = user.toolbox(&["rm", "--force", "--all"]);
        assert!(out.status.success(), "[{mode:?}] {}", text(&out.stderr));
        assert_eq!(text(&out.stdout), "");
        assert!(!user.has_container(a));
        assert!(!user.has_container(b));
        assert!(user.has_container(plain));
    }
}

#[test]
#[ignore = "needs podman"]
fn static_binary_is_the_entry_point_of_an_arm64_image() {
    for mode in modes() {
        let user = As::new(mode);
        let name = "tbx-st-arm64";
        let _clean = Cleanup::new(&user, &[name]);
        // Without --arch, a foreign image is refused, naming the way out.
        let out = user.toolbox(&["-y", "create", "-i", IMAGE_ARM64, name]);
        assert_eq!(out.status.code(), Some(1), "[{mode:?}]");
        assert_eq!(
            text(&out.stderr),
            format!(
                "Error: image {IMAGE_ARM64} is for architecture arm64, not amd64\nUse --arch arm64 to create a container for it, or choose another image.\n"
            ),
            "[{mode:?}]"
        );
        assert!(!user.has_container(name));
        let out = user.toolbox(&["-y", "create", "-i", IMAGE_ARM64, "--arch", "arm64", name]);
        assert!(out.status.success(), "[{mode:?}] {}", text(&out.stderr));
        // The image has no x86_64 loader or libc at all.
        let out = user.toolbox(&[
            "run",
            "-c",
            name,
            "sh",
            "-c",
            "test -e /lib64/ld-linux-x86-64.so.2 || echo none",
        ]);
        assert_eq!(
            text(&out.stdout),
            "none\n",
            "[{mode:?}] {}",
            text(&out.stderr)
        );
        let out = user.toolbox(&["run", "-c", name, "uname", "-m"]);
        assert_eq!(text(&out.stdout), "aarch64\n", "[{mode:?}]");
        let log = user.podman(&["logs", name]);
        assert!(
            text(&log.stderr).contains("Listening to file system and ticker events"),
            "[{mode:?}]"
        );
    }
}

#[test]
#[ignore = "needs podman"]
fn entry_point_failures_are_reported() {
    for mode in modes() {
        let user = As::new(mode);
        let name = "tbx-st-fail";
        let _clean = Cleanup::new(&user, &[name]);
        let out = user
            .command(
                crate::harness::binary().to_str().unwrap(),
                &["-y", "create", "-i", IMAGE, name],
            )
            .env("TOOLBX_FAIL_ENTRY_POINT", "2")
            .output()
            .unwrap();
        assert!(out.status.success(), "[{mode:?}] {}", text(&out.stderr));
        let out = user.toolbox(&["run", "-c", name, "true"]);
        assert_eq!(out.status.code(), Some(1), "[{mode:?}]");
        assert_eq!(
            text(&out.stderr),
            "Error: TOOLBX_FAIL_ENTRY_POINT is set\nThis environment variable should only be set when testing.\n",
            "[{mode:?}]"
        );
    }
}

#[test]
#[ignore = "needs podman"]
fn stopped_container_starts_again() {
    for mode in modes() {
        let user = As::new(mode);
        let name = "tbx-st-restart";
        let _clean = Cleanup::new(&user, &[name]);
        user.create(name, IMAGE);
        assert!(user.toolbox(&["run", "-c", name, "true"]).status.success());
        user.podman_ok(&["stop", "--time", "0", name]);
        let out = user.toolbox(&["run", "-c", name, "echo", "again"]);
        assert_eq!(
            text(&out.stdout),
            "again\n",
            "[{mode:?}] {}",
            text(&out.stderr)
        );
    }
}

#[test]
#[ignore = "needs podman"]
fn list_is_empty_without_toolbx_things_of_ours() {
    // Only checks the format of what is there: header lines and no
    // trailing spaces; the user may hold other Toolbx images.
    for mode in modes() {
        let user = As::new(mode);
        let out = user.toolbox(&["list"]);
        assert!(out.status.success(), "[{mode:?}] {}", text(&out.stderr));
        let listing = text(&out.stdout);
        assert!(
            listing.starts_with("IMAGE ID      IMAGE NAME"),
            "[{mode:?}] {listing}"
        );
        assert!(listing.lines().all(|l| !l.ends_with(' ')));
    }
}

#[test]
#[ignore = "needs podman"]
fn enter_gives_a_login_shell_on_a_tty() {
    for mode in modes() {
        let user = As::new(mode);
        let name = "tbx-st-enter";
        let _clean = Cleanup::new(&user, &[name]);
        user.create(name, IMAGE);
        let bin = crate::harness::binary().display().to_string();
        let (screen, code) = on_tty(
            &user,
            &format!("{bin} enter {name}"),
            "echo INSIDE:$(id -un):$(hostname):$PWD\nexit 7\n",
        );
        assert_eq!(code, Some(7), "[{mode:?}] {screen}");
        assert!(
            screen.contains(&format!(
                "INSIDE:{}:toolbx:{}",
                user.name,
                user.home.display()
            )),
            "[{mode:?}] {screen}"
        );
        // Terminals track the container through OSC 777.
        assert!(screen.contains(&format!(
            "\x1b]777;container;push;{name};toolbox;{}",
            user.uid
        )));
        assert!(screen.contains(&format!("\x1b]777;container;pop;;;{}", user.uid)));
    }
}

#[test]
#[ignore = "needs podman"]
fn create_downloads_through_the_registry_after_the_prompt() {
    for mode in modes() {
        let user = As::new(mode);
        let name = "tbx-st-f40";
        let image = "registry.fedoraproject.org/fedora-toolbox:40";
        let _clean = Cleanup::new(&user, &[name]);
        // Untag it if present (the test images keep the layers), so the
        // download really happens, from the local registry.
        let _ = user.podman(&["rmi", image]);
        let bin = crate::harness::binary().display().to_string();
        let (screen, code) = on_tty(
            &user,
            &format!("{bin} create --distro fedora --release 40 {name}"),
            "y\n",
        );
        assert_eq!(code, Some(0), "[{mode:?}] {screen}");
        assert!(
            screen.contains("Image required to create Toolbx container.\n"),
            "[{mode:?}] {screen}"
        );
        // skopeo here reports no layer sizes, so the prompt has none.
        assert!(
            screen.contains(&format!("Download {image}? [y/N]: ")),
            "[{mode:?}] {screen}"
        );
        assert!(
            screen.contains(&format!("Created container: {name}\n")),
            "[{mode:?}] {screen}"
        );
        assert!(user.has_image(image));
        let out = user.toolbox(&["run", "-c", name, "true"]);
        assert!(out.status.success(), "[{mode:?}] {}", text(&out.stderr));

        // Declining leaves nothing behind.
        let _ = user.podman(&["rm", "--force", name]);
        let _ = user.podman(&["rmi", image]);
        let (screen, code) = on_tty(
            &user,
            &format!("{bin} create --distro fedora --release 40 {name}"),
            "n\n",
        );
        assert_eq!(code, Some(0), "[{mode:?}] {screen}");
        assert!(!screen.contains("Created container"), "[{mode:?}] {screen}");
        assert!(!user.has_image(image));
        assert!(!user.has_container(name));
        // Put the image back for the next user of this storage.
        user.restore_fedora_40(name);
    }
}
