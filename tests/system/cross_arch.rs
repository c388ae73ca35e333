//! Foreign-architecture containers with the real qemu-user-static, the real
//! binfmt_misc and the local registry's manifest lists.

use std::path::Path;

use crate::harness::{As, Cleanup, Mode, binary, modes, text};

/// Every entry of the host's binfmt_misc, name and text.
fn host_binfmt() -> Vec<(String, String)> {
    toolbox::arch::binfmt::host_instance_snapshot(Path::new("/proc/sys/fs/binfmt_misc")).unwrap()
}

const FOREIGN: &str = "arm64";
const NATIVE_IMAGE: &str = "registry.fedoraproject.org/fedora-toolbox:40";

#[test]
#[ignore = "needs podman and qemu-user-static"]
fn foreign_container_next_to_the_native_one() {
    let before = host_binfmt();
    for mode in modes() {
        let user = As::new(mode);
        let foreign = "fedora-toolbox-40-arm64";
        let native = "fedora-toolbox-40";
        let mut clean = Cleanup::new(&user, &[foreign, native]);
        clean.image("registry.fedoraproject.org/fedora-toolbox:40-arm64");
        let _ = user.podman(&["rmi", "registry.fedoraproject.org/fedora-toolbox:40-arm64"]);

        let out = user.toolbox(&[
            "-y",
            "create",
            "--distro",
            "fedora",
            "--release",
            "40",
            "--arch",
            FOREIGN,
        ]);
        assert_eq!(
            text(&out.stdout),
            format!("Created container: {foreign}\nEnter with: toolbox enter {foreign}\n"),
            "[{mode:?}] {}",
            text(&out.stderr)
        );
        let out = user.toolbox(&["-y", "create", "--distro", "fedora", "--release", "40"]);
        assert!(out.status.success(), "[{mode:?}] {}", text(&out.stderr));

        // The foreign copy has its own name; the native tag stays native.
        let arch_of = |image: &str| {
            user.podman_ok(&["image", "inspect", "--format", "{{.Architecture}}", image])
        };
        assert_eq!(
            arch_of("registry.fedoraproject.org/fedora-toolbox:40-arm64"),
            "arm64"
        );
        assert_eq!(arch_of(NATIVE_IMAGE), "amd64");
        let label = user.podman_ok(&[
            "inspect",
            "--format",
            "{{index .Config.Labels \"toolbox-arch\"}}",
            foreign,
        ]);
        assert_eq!(label, "arm64");
        let label = user.podman_ok(&[
            "inspect",
            "--format",
            "{{index .Config.Labels \"toolbox-arch\"}}",
            native,
        ]);
        assert_eq!(label, "amd64");

        let run = |args: &[&str]| {
            let mut all = vec!["run", "--distro", "fedora", "--release", "40"];
            all.extend_from_slice(args);
            user.toolbox(&all)
        };
        let out = run(&["--arch", FOREIGN, "uname", "-m"]);
        assert_eq!(
            text(&out.stdout),
            "aarch64\n",
            "[{mode:?}] {}",
            text(&out.stderr)
        );
        let out = run(&["uname", "-m"]);
        assert_eq!(text(&out.stdout), "x86_64\n", "[{mode:?}]");
        let out = run(&["--arch", "aarch64", "sudo", "-n", "id", "-u"]);
        assert_eq!(
            text(&out.stdout),
            "0\n",
            "[{mode:?}] sudo: {}",
            text(&out.stderr)
        );
        let out = run(&["--arch", FOREIGN, "id", "-un"]);
        assert_eq!(text(&out.stdout), format!("{}\n", user.name), "[{mode:?}]");

        if mode == Mode::Rootless {
            // Its own binfmt_misc instance, holding only its own entry.
            let out = run(&["--arch", FOREIGN, "ls", "/proc/sys/fs/binfmt_misc"]);
            assert_eq!(
                text(&out.stdout),
                "qemu-aarch64\nregister\nstatus\n",
                "[{mode:?}]"
            );
            let out = run(&[
                "--arch",
                FOREIGN,
                "cat",
                "/proc/sys/fs/binfmt_misc/qemu-aarch64",
            ]);
            let entry = text(&out.stdout);
            assert!(entry.starts_with("enabled\n"), "{entry}");
            assert!(
                entry.contains("interpreter /run/host/usr/bin/qemu-aarch64-static\n"),
                "{entry}"
            );
            let flags = entry.lines().find(|l| l.starts_with("flags: ")).unwrap();
            assert!(flags.contains('C') && flags.contains('F'), "{flags}");
        }

        // Stop and start: the entry point registers again.
        user.podman_ok(&["stop", "--time", "0", foreign]);
        let out = run(&["--arch", FOREIGN, "uname", "-m"]);
        assert_eq!(
            text(&out.stdout),
            "aarch64\n",
            "[{mode:?}] after restart: {}",
            text(&out.stderr)
        );

        // A name picks the container; --arch must agree with its label.
        let out = user.toolbox(&["run", "-c", native, "--arch", FOREIGN, "true"]);
        assert_eq!(out.status.code(), Some(1), "[{mode:?}]");
        assert!(
            text(&out.stderr).starts_with(&format!(
                "Error: container {native} is for amd64, not arm64\n"
            )),
            "[{mode:?}] {}",
            text(&out.stderr)
        );
    }
    assert_eq!(before, host_binfmt(), "the host's binfmt_misc changed");
}

/// An amd64-only image in the local registry whose tag names no
/// architecture, reachable through the registry.fedoraproject.org mirror.
fn single_arch_image() -> String {
    let status = std::process::Command::new("skopeo")
        .args([
            "copy",
            "--quiet",
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            "docker://127.0.0.1:5000/fedora-toolbox:40-amd64",
            "docker://127.0.0.1:5000/tbx-st-single:1",
        ])
        .status()
        .unwrap();
    assert!(status.success(), "pushing the single-arch test image");
    "registry.fedoraproject.org/tbx-st-single:1".to_string()
}

/// A directory with links to exactly the given programs, to run toolbox
/// with a PATH that lacks some of them.
fn restricted_path(programs: &[&str], extra: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("tbx-st-path")
        .tempdir_in("/var/tmp")
        .unwrap();
    for p in programs {
        let target = which(p);
        std::os::unix::fs::symlink(target, dir.path().join(p)).unwrap();
    }
    for (name, body) in extra {
        let path = dir.path().join(name);
        std::fs::write(&path, body).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn which(program: &str) -> std::path::PathBuf {
    for dir in ["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"] {
        let p = Path::new(dir).join(program);
        if p.exists() {
            return p;
        }
    }
    panic!("{program} not installed")
}

const BASICS: [&str; 8] = [
    "podman",
    "sh",
    "getent",
    "conmon",
    "crun",
    "runc",
    "catatonit",
    "newuidmap",
];

fn toolbox_with_path(user: &As, path: &Path, args: &[&str]) -> std::process::Output {
    user.command(binary().to_str().unwrap(), args)
        .env("PATH", path)
        .output()
        .unwrap()
}

fn basics() -> Vec<&'static str> {
    BASICS
        .iter()
        .copied()
        .filter(|p| {
            ["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"]
                .iter()
                .any(|d| Path::new(d).join(p).exists())
        })
        .collect()
}

#[test]
#[ignore = "needs podman and qemu-user-static"]
fn try_foreign_create_without_a_usable_emulator() {
    for mode in modes() {
        let user = As::new(mode);
        let name = "tbx-st-noqemu";
        let _clean = Cleanup::new(&user, &[name]);
        let before = user.podman_ok(&["images", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}"]);
        let mut with_skopeo = basics();
        with_skopeo.push("skopeo");
        let args = [
            "-y",
            "create",
            "--distro",
            "fedora",
            "--release",
            "40",
            "--arch",
            "arm64",
            name,
        ];

        let none = restricted_path(&with_skopeo, &[]);
        let out = toolbox_with_path(&user, none.path(), &args);
        assert_eq!(out.status.code(), Some(1), "[{mode:?}]");
        assert_eq!(
            text(&out.stderr),
            "Error: Cannot create container for architecture arm64\nThe host system does not have the required support: No arm64 statically linked QEMU emulator binary found\nInstall a statically linked qemu-aarch64, e.g. the qemu-user-static package of your distribution.\n",
            "[{mode:?}]"
        );

        let script = restricted_path(
            &with_skopeo,
            &[("qemu-aarch64-static", "#!/bin/sh\nexit 0\n")],
        );
        let out = toolbox_with_path(&user, script.path(), &args);
        assert_eq!(out.status.code(), Some(1));
        let err = text(&out.stderr);
        assert!(
            err.starts_with("Error: Cannot create container for architecture arm64\n"),
            "{err}"
        );
        assert!(
            err.contains("qemu-aarch64-static is not an ELF file"),
            "[{mode:?}] {err}"
        );

        let dynamic = restricted_path(&with_skopeo, &[]);
        std::fs::copy("/bin/true", dynamic.path().join("qemu-aarch64")).unwrap();
        let out = toolbox_with_path(&user, dynamic.path(), &args);
        let err = text(&out.stderr);
        assert!(
            err.contains("is dynamically linked, but a statically linked one is required"),
            "[{mode:?}] {err}"
        );

        // skopeo missing: native still works, foreign says what it needs.
        let mut no_skopeo = basics();
        no_skopeo.push("qemu-aarch64-static");
        let noskopeo = restricted_path(&no_skopeo, &[]);
        let _ = user.podman(&["rmi", "registry.fedoraproject.org/fedora-toolbox:40-arm64"]);
        let out = toolbox_with_path(&user, noskopeo.path(), &args);
        assert_eq!(out.status.code(), Some(1), "[{mode:?}]");
        assert_eq!(
            text(&out.stderr),
            "Error: Cannot inspect image registry.fedoraproject.org/fedora-toolbox:40 for architecture arm64: skopeo is not installed.\nSkopeo is required for creating non-native architecture containers.\n",
            "[{mode:?}]"
        );
        let out = toolbox_with_path(
            &user,
            noskopeo.path(),
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
        assert!(
            out.status.success(),
            "[{mode:?}] native without skopeo: {}",
            text(&out.stderr)
        );
        let _ = user.podman(&["rm", "--force", name]);

        // A single-architecture image of another architecture, under a
        // tag that does not name it.
        let single = single_arch_image();
        let out = user.toolbox(&["-y", "create", "-i", &single, "--arch", "arm64", name]);
        assert_eq!(out.status.code(), Some(1), "[{mode:?}]");
        assert_eq!(
            text(&out.stderr),
            format!(
                "Error: image {single} is a single-architecture image for amd64, but arm64 was requested\n"
            ),
            "[{mode:?}]"
        );
        // A local image of another architecture is named as such.
        let out = user.toolbox(&[
            "-y",
            "create",
            "-i",
            "localhost/toolbox-testenv:amd64",
            "--arch",
            "arm64",
            name,
        ]);
        assert_eq!(
            text(&out.stderr),
            "Error: image localhost/toolbox-testenv:amd64 is for architecture amd64, not arm64\nLeave out --arch to create a native container from it, or choose another image.\n",
            "[{mode:?}]"
        );
        // An architecture the manifest list does not have.
        let out = user.toolbox(&[
            "-y",
            "create",
            "--distro",
            "fedora",
            "--release",
            "40",
            "--arch",
            "s390x",
            name,
        ]);
        let err = text(&out.stderr);
        assert!(
            err.ends_with("Error: image registry.fedoraproject.org/fedora-toolbox:40 has no s390x variant; available: amd64, arm64\n")
                || err.contains("Cannot create container for architecture s390x"),
            "[{mode:?}] {err}"
        );
        assert!(!user.has_container(name));
        let after = user.podman_ok(&["images", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}"]);
        assert_eq!(before.lines().filter(|l| l.contains("40-arm64")).count(), 0);
        assert_eq!(
            after.lines().filter(|l| l.contains("40-arm64")).count(),
            0,
            "no half-pulled image"
        );
        drop(none);
    }
}

/// One container per architecture the test images cover beyond arm64
/// (tests/env/setup-all builds them): the right `uname -m` and sudo.
#[test]
#[ignore = "needs podman and qemu-user-static"]
fn every_architecture_of_the_test_images() {
    let before = host_binfmt();
    // (Debian arch of the image, --arch value, uname -m, 32 or 64 bits)
    let cases = [
        ("armhf", "armv7", "armv7l", "32"),
        ("ppc64el", "ppc64le", "ppc64le", "64"),
        ("s390x", "s390x", "s390x", "64"),
        // 32-bit x86 runs natively; the kernel's machine shows through.
        ("i386", "i686", "x86_64", "32"),
    ];
    for mode in modes() {
        let user = As::new(mode);
        for (debian, arch, uname, bits) in cases {
            let image = format!("localhost/toolbox-testenv:{debian}");
            assert!(
                user.has_image(&image),
                "[{mode:?}] {image} missing: run tests/env/setup-all"
            );
            let name = format!("tbx-st-arch-{debian}");
            let _clean = Cleanup::new(&user, &[&name]);
            let out = user.toolbox(&["-y", "create", "-i", &image, "--arch", arch, &name]);
            assert!(
                out.status.success(),
                "[{mode:?}] {debian}: {}",
                text(&out.stderr)
            );
            let out = user.toolbox(&[
                "run",
                "-c",
                &name,
                "--arch",
                arch,
                "sh",
                "-c",
                "uname -m; getconf LONG_BIT; sudo -n id -u",
            ]);
            assert_eq!(
                text(&out.stdout),
                format!("{uname}\n{bits}\n0\n"),
                "[{mode:?}] {debian}: {}",
                text(&out.stderr)
            );
        }
    }
    assert_eq!(before, host_binfmt(), "the host's binfmt_misc changed");
}
