//! Parse errors, version and help texts, worded as upstream's.

use crate::common::{TestEnv, stderr, stdout};

#[test]
fn version_matches_upstream_pattern() {
    let env = TestEnv::new();
    let out = env.run(&["--version"]);
    assert!(out.status.success());
    let text = stdout(&out);
    let line = text.trim_end();
    assert_eq!(text.lines().count(), 1);
    let version = line.strip_prefix("toolbox version 0.").expect(line);
    assert!(
        version
            .split('.')
            .all(|p| !p.is_empty() && !p.starts_with('0')),
        "{line}"
    );
    assert!(stderr(&out).is_empty());
}

#[test]
fn full_or_closed_stdout_or_stderr_is_no_panic() {
    // assert_cmd gives no say over stdout, so plain std here.
    let version = || {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin!("toolbox"));
        cmd.arg("--version").env_clear();
        cmd
    };
    let full = std::fs::File::options()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = version().stdout(full).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "Error: failed to write to standard output: No space left on device (os error 28)\n"
    );
    // A reader that went away is no error at all, as for list.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = version().stdout(writer).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stderr(&out), "");

    // Nor does a full stderr: the error still gives its exit code.
    let empty = tempfile::tempdir().unwrap();
    let full = std::fs::File::options()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let status = std::process::Command::new(assert_cmd::cargo::cargo_bin!("toolbox"))
        .args(["--log-level", "debug", "rm", "a", "b"])
        .env_clear()
        .env("PATH", empty.path())
        .stderr(full)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
}

#[test]
fn unknown_flag_on_every_command() {
    let env = TestEnv::new();
    for cmd in [
        "",
        "create",
        "enter",
        "help",
        "init-container",
        "list",
        "rm",
        "rmi",
        "run",
    ] {
        let mut args: Vec<&str> = cmd.split_whitespace().collect();
        args.push("--foo");
        let out = env.run(&args);
        assert_eq!(out.status.code(), Some(1), "{cmd}");
        assert!(stdout(&out).is_empty());
        assert_eq!(
            stderr(&out),
            "Error: unknown flag: --foo\nRun 'toolbox --help' for usage.\n",
            "{cmd}"
        );
    }
}

#[test]
fn unknown_command() {
    let env = TestEnv::new();
    let out = env.run(&["foo"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "Error: unknown command \"foo\" for \"toolbox\"\nRun 'toolbox --help' for usage.\n"
    );
}

#[test]
fn bare_toolbox_is_missing_command() {
    let env = TestEnv::new();
    let out = env.run(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).is_empty());
    assert_eq!(stderr(&out).lines().count(), 7);
    assert!(
        stderr(&out)
            .starts_with("Error: missing command\n\ncreate    Create a new Toolbx container\n")
    );
}

#[test]
fn help_without_man_prints_fallback() {
    let env = TestEnv::new();
    for args in [&["--help"][..], &["help"], &["create", "--help"]] {
        let out = env.run(args);
        assert!(out.status.success(), "{args:?}");
        assert_eq!(stdout(&out).lines().count(), 8, "{args:?}");
        assert!(
            stdout(&out)
                .starts_with("toolbox - Tool for interactive command line environments on Linux\n")
        );
        assert!(stderr(&out).is_empty());
    }
}

#[test]
fn bad_log_level() {
    let env = TestEnv::new();
    env.podman("exit 0");
    let out = env.run(&["--log-level", "foo", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "Error: failed to parse log-level: not a valid logrus Level: \"foo\"\n"
    );
}

#[test]
fn completion_argument_errors() {
    let env = TestEnv::new();
    let out = env.run(&["completion"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "Error: accepts 1 arg(s), received 0\nRun 'toolbox --help' for usage.\n"
    );
    let out = env.run(&["completion", "powershell"]);
    assert_eq!(
        stderr(&out),
        "Error: invalid argument \"powershell\" for \"toolbox completion\"\nRun 'toolbox --help' for usage.\n"
    );
    let out = env.run(&["completion", "bash"]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("toolbox"));
    // No podman on PATH: completion must not need it.
    assert!(env.calls().is_empty());
}

#[test]
fn init_container_flags() {
    let env = TestEnv::new();
    env.podman("exit 0");
    let out = env.run(&["init-container"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "Error: required flag(s) \"home\", \"shell\", \"uid\", \"user\" not set\n"
    );
    let out = env.run(&[
        "init-container",
        "--home",
        "/h",
        "--shell",
        "/bin/sh",
        "--uid",
        "1",
        "--user",
        "u",
    ]);
    assert_eq!(
        stderr(&out),
        "Error: the 'init-container' command can only be used inside containers\nRun 'toolbox --help' for usage.\n"
    );
}
