//! `toolbox create` against a fake podman: argv, messages, refusals.

use crate::common::{TestEnv, stderr, stdout, user_name};

/// A podman that knows one local image and no containers.
const KNOWS_LOCAL_IMAGE: &str = r#"
case "$1" in
container) exit 1 ;;
image) [ "$3" = "localhost/toolbox-testenv:amd64" ] && exit 0; exit 1 ;;
inspect) echo '[{"Id":"x","RepoTags":["localhost/toolbox-testenv:amd64"],"Architecture":"amd64"}]'; exit 0 ;;
create) exit 0 ;;
esac
exit 99
"#;

fn dbus(env: &TestEnv) -> String {
    let sock = env.dir.path().join("system_bus_socket");
    std::fs::write(&sock, "").unwrap();
    format!("unix:path={}", sock.display())
}

#[test]
fn create_from_local_image_prints_upstream_lines() {
    let env = TestEnv::new();
    env.podman(KNOWS_LOCAL_IMAGE);
    let out = env
        .cmd()
        .env("DBUS_SYSTEM_BUS_ADDRESS", dbus(&env))
        .args(["create", "-i", "localhost/toolbox-testenv:amd64"])
        .output()
        .unwrap();
    assert_eq!(stderr(&out), "");
    assert_eq!(
        stdout(&out),
        "Created container: toolbox-testenv-amd64\nEnter with: toolbox enter toolbox-testenv-amd64\n"
    );
    let calls = env.calls();
    assert_eq!(calls[0], "container exists toolbox-testenv-amd64");
    // One inspect says that the image is there and of which architecture.
    assert_eq!(
        calls[1],
        "inspect --format json --type image localhost/toolbox-testenv:amd64"
    );
    let create = &calls[2];
    assert!(
        create.starts_with("create --cgroupns host --dns none --env TOOLBOX_PATH="),
        "{create}"
    );
    for word in [
        "--label com.github.containers.toolbox=true",
        "--name toolbox-testenv-amd64",
        "--pid host",
        "--privileged",
        "--volume /:/run/host:rslave",
        ":/usr/bin/toolbox:ro",
        "localhost/toolbox-testenv:amd64 toolbox --log-level debug init-container --gid",
    ] {
        assert!(create.contains(word), "{word} missing in {create}");
    }
    assert!(
        create.ends_with(&format!("--user {}", user_name())),
        "{create}"
    );
}

#[test]
fn existing_container_is_refused() {
    let env = TestEnv::new();
    env.podman("case \"$1\" in container) exit 0 ;; esac; exit 99");
    let out = env.run(&["create", "box"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "Error: container box already exists\nEnter with: toolbox enter box\nRun 'toolbox --help' for usage.\n"
    );
}

#[test]
fn non_interactive_download_is_refused_and_nothing_pulled() {
    let env = TestEnv::new();
    env.podman("case \"$1\" in container|image) exit 1 ;; esac; exit 99");
    let out = env.run(&["create", "--distro", "fedora", "--release", "40"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "Error: image required to create Toolbx container.\nUse option '--assumeyes' to download the image.\nRun 'toolbox --help' for usage.\n"
    );
    assert!(
        !env.calls()
            .iter()
            .any(|c| c.starts_with("pull") || c.starts_with("create"))
    );
}

#[test]
fn pull_failure_names_the_registry() {
    let env = TestEnv::new();
    env.podman("case \"$1\" in container|image) exit 1 ;; pull) exit 125 ;; esac; exit 99");
    let out = env.run(&["-y", "create", "-i", "foo.org/bar"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "Error: failed to pull image foo.org/bar\nIf it was a private image, log in with: podman login foo.org\nUse 'toolbox --verbose ...' for further details.\n"
    );
    assert!(!env.calls().iter().any(|c| c.starts_with("create")));
}

#[test]
fn bad_input_is_refused_before_podman_changes_anything() {
    let env = TestEnv::new();
    env.podman("exit 99");
    let cases: &[(&[&str], &str)] = &[
        (
            &["create", "--distro", "alpine", "--release", "35"],
            "Error: invalid argument for '--distro'\nDistribution alpine is unsupported.\n",
        ),
        (
            &["create", "--distro", "ubuntu"],
            "Error: option '--release' is needed\nDistribution ubuntu doesn't match the host.\n",
        ),
        (
            &["create", "--distro", "arch", "--release", "foo"],
            "Error: invalid argument for '--release'\nThe release must be 'latest'.\n",
        ),
        (
            &["create", "--release", "-3"],
            "Error: invalid argument for '--release'\nThe release must be a positive integer.\n",
        ),
        (
            &["create", "dev:box"],
            "Error: invalid argument for 'CONTAINER'\nContainer names must match '[a-zA-Z0-9][a-zA-Z0-9_.-]*'.\n",
        ),
        (
            &["create", "--container", "ßox"],
            "Error: invalid argument for '--container'\nContainer names must match '[a-zA-Z0-9][a-zA-Z0-9_.-]*'.\n",
        ),
        (
            &["create", "--image", "ßpeci@l.N@m€"],
            "Error: invalid argument for '--image'\nContainer name ßpeci@l.N@m€ generated from image is invalid.\nContainer names must match '[a-zA-Z0-9][a-zA-Z0-9_.-]*'.\n",
        ),
        (
            &["create", "--image", "foo@sha256:abcdef"],
            "Error: invalid argument for '--image'\nContainer name foo@sha256-abcdef generated from image is invalid.\nContainer names must match '[a-zA-Z0-9][a-zA-Z0-9_.-]*'.\n",
        ),
        (
            &["create", "--distro", "fedora", "--image", "x"],
            "Error: options --distro and --image cannot be used together\n",
        ),
        (
            &["create", "--image", "x", "--release", "1"],
            "Error: options --image and --release cannot be used together\n",
        ),
        (
            &["create", "--authfile", "/nonexistent/auth.json"],
            "Error: file /nonexistent/auth.json not found\n'podman login' can be used to create the file.\n",
        ),
    ];
    for (args, expected) in cases {
        let out = env.run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(
            stderr(&out),
            format!("{expected}Run 'toolbox --help' for usage.\n"),
            "{args:?}"
        );
        assert!(stdout(&out).is_empty());
    }
    assert!(env.calls().is_empty(), "{:?}", env.calls());
}

#[test]
fn toolbox_conf_image_is_the_default() {
    let env = TestEnv::new();
    env.podman(KNOWS_LOCAL_IMAGE);
    let conf = env.home.join(".config/containers");
    std::fs::create_dir_all(&conf).unwrap();
    std::fs::write(
        conf.join("toolbox.conf"),
        "[general]\nimage = \"localhost/toolbox-testenv:amd64\"\n",
    )
    .unwrap();
    let out = env
        .cmd()
        .env("DBUS_SYSTEM_BUS_ADDRESS", dbus(&env))
        .arg("create")
        .output()
        .unwrap();
    assert_eq!(stderr(&out), "");
    // The configured image makes the default container, so the hint is short.
    assert_eq!(
        stdout(&out),
        "Created container: toolbox-testenv-amd64\nEnter with: toolbox enter\n"
    );
}

#[test]
fn broken_toolbox_conf_names_the_file() {
    let env = TestEnv::new();
    env.podman("exit 0");
    let conf = env.home.join(".config/containers");
    std::fs::create_dir_all(&conf).unwrap();
    std::fs::write(conf.join("toolbox.conf"), "[general\n").unwrap();
    let out = env.run(&["list"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(
        err.lines().next().unwrap(),
        format!(
            "Error: failed to parse file {}",
            conf.join("toolbox.conf").display()
        )
    );
    // A distro no one supports is refused, never replaced by Fedora.
    std::fs::write(conf.join("toolbox.conf"), "[general]\ndistro = \"foo\"\n").unwrap();
    let out = env.run(&["create"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "Error: failed to resolve container name\n");
    let out = env.run(&["-v", "create"]);
    assert!(
        stderr(&out).contains("Distribution foo is unsupported."),
        "{}",
        stderr(&out)
    );
}
