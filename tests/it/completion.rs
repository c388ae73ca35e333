//! Shell completion: the committed scripts, cobra's `__complete` protocol
//! (spec: cli.md §12) and clap_complete's `TOOLBOX_COMPLETE` protocol, all
//! against a fake podman, and never a migration.

use std::path::Path;

use crate::common::{TestEnv, stderr, stdout};

/// A TestEnv whose podman lists two Toolbx containers (`alpha`, `beta`)
/// and three Toolbx image names; any other call fails.
fn with_podman() -> TestEnv {
    let env = TestEnv::new();
    env.podman_with_lists("exit 99");
    env
}

fn assert_no_prerun(env: &TestEnv) {
    let calls = env.raw_calls();
    assert!(
        calls
            .iter()
            .all(|c| !c.starts_with("system") && !c.starts_with("version")),
        "completion ran pre-run podman calls: {calls:?}"
    );
}

/// `toolbox __complete ARGS…`: (stdout, stderr), asserting exit 0.
fn cobra(env: &TestEnv, args: &[&str]) -> (String, String) {
    let mut argv = vec!["__complete"];
    argv.extend_from_slice(args);
    let out = env.run(&argv);
    assert!(out.status.success(), "{argv:?}: {}", stderr(&out));
    (stdout(&out), stderr(&out))
}

const NO_FILE_COMP: &str = "Completion ended with directive: ShellCompDirectiveNoFileComp\n";

#[test]
fn committed_scripts_match_the_generated_ones() {
    // No podman on PATH at all: generating a script must not need it.
    let env = TestEnv::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (shell, file) in [
        ("bash", "completions/bash/toolbox"),
        ("zsh", "completions/zsh/_toolbox"),
        ("fish", "completions/fish/toolbox.fish"),
    ] {
        let out = env.run(&["completion", shell]);
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        assert!(stderr(&out).is_empty(), "{shell}: {}", stderr(&out));
        let committed = std::fs::read_to_string(root.join(file)).unwrap_or_default();
        assert!(
            committed == stdout(&out),
            "{file} is out of date; regenerate it with:\n    cargo run -- completion {shell} > {file}"
        );
    }
    assert!(env.raw_calls().is_empty());
}

#[test]
fn enter_offers_toolbx_container_names() {
    let env = with_podman();
    let (out, err) = cobra(&env, &["enter", ""]);
    assert_eq!(out, "alpha\nbeta\n:4\n");
    assert_eq!(err, NO_FILE_COMP);
    // Only the first positional is a container.
    assert_eq!(cobra(&env, &["enter", "alpha", ""]).0, ":4\n");
    assert_eq!(cobra(&env, &["enter", "-c", "b"]).0, "beta\n:4\n");
    assert_no_prerun(&env);
}

#[test]
fn run_container_flag_offers_names_and_command_nothing() {
    let env = with_podman();
    assert_eq!(cobra(&env, &["run", "-c", ""]).0, "alpha\nbeta\n:4\n");
    assert_eq!(
        cobra(&env, &["run", "--container", ""]).0,
        "alpha\nbeta\n:4\n"
    );
    assert_eq!(cobra(&env, &["run", ""]).0, ":4\n");
    assert_eq!(cobra(&env, &["run", "-c", "alpha", "ls", ""]).0, ":4\n");
    assert_no_prerun(&env);
}

#[test]
fn rm_and_rmi_leave_out_names_already_given() {
    let env = with_podman();
    assert_eq!(cobra(&env, &["rm", "alpha", ""]).0, "beta\n:4\n");
    assert_eq!(
        cobra(&env, &["rmi", ""]).0,
        "bbbbbbbbbbbb\nlocalhost/a-copy:1\nlocalhost/a:1\n:4\n"
    );
    assert_eq!(
        cobra(&env, &["rmi", "localhost/a:1", "localhost/"]).0,
        "localhost/a-copy:1\n:4\n"
    );
}

#[test]
fn create_image_offers_toolbx_image_names() {
    let env = with_podman();
    assert_eq!(
        cobra(&env, &["create", "-i", ""]).0,
        "bbbbbbbbbbbb\nlocalhost/a-copy:1\nlocalhost/a:1\n:4\n"
    );
    assert_eq!(
        cobra(&env, &["create", "--image", "localhost/a:"]).0,
        "localhost/a:1\n:4\n"
    );
    // Not once --distro is given (cli.md §4).
    assert_eq!(cobra(&env, &["create", "-d", "fedora", "-i", ""]).0, ":4\n");
    assert_no_prerun(&env);
}

#[test]
fn distro_and_arch_values() {
    let env = with_podman();
    assert_eq!(
        cobra(&env, &["create", "--distro", ""]).0,
        "arch\nfedora\nrhel\nubuntu\n:4\n"
    );
    assert_eq!(
        cobra(&env, &["create", "-i", "x", "--distro", ""]).0,
        ":4\n"
    );
    assert_eq!(cobra(&env, &["enter", "-d", "u"]).0, "ubuntu\n:4\n");
    let expected: String = toolbox::arch::Arch::all_accepted_values()
        .map(|v| format!("{v}\n"))
        .collect();
    assert_eq!(
        cobra(&env, &["create", "--arch", ""]).0,
        format!("{expected}:4\n")
    );
    assert_eq!(cobra(&env, &["run", "--arch=aa"]).0, "aarch64\n:4\n");
    // Flag values need no podman.
    assert!(env.raw_calls().is_empty());
}

#[test]
fn completion_help_and_log_level_values() {
    let env = TestEnv::new();
    assert_eq!(cobra(&env, &["completion", ""]).0, "bash\nfish\nzsh\n:4\n");
    assert_eq!(
        cobra(&env, &["--log-level", ""]).0,
        "trace\ndebug\ninfo\nwarn\nerror\nfatal\npanic\n:4\n"
    );
    assert_eq!(
        cobra(&env, &["help", ""]).0,
        "create\nenter\nhelp\ninit-container\nlist\nrm\nrmi\nrun\n:4\n"
    );
    // `--release` has no completer: the shell completes files.
    let (out, err) = cobra(&env, &["create", "--release", ""]);
    assert_eq!(out, ":0\n");
    assert_eq!(
        err,
        "Completion ended with directive: ShellCompDirectiveDefault\n"
    );
}

#[test]
fn subcommands_and_flags_with_descriptions() {
    let env = TestEnv::new();
    assert_eq!(
        cobra(&env, &["r"]).0,
        "rm\tRemove one or more Toolbx containers\nrmi\tRemove one or more Toolbx images\nrun\tRun a command in an existing Toolbx container\n:4\n"
    );
    let out = env.run(&["__completeNoDesc", "r"]);
    assert_eq!(stdout(&out), "rm\nrmi\nrun\n:4\n");
    assert_eq!(
        cobra(&env, &["rm", "--a"]).0,
        "--assumeyes\tAutomatically answer yes for all questions\n--all\tRemove all Toolbx containers\n:4\n"
    );
    assert!(!cobra(&env, &["rm", "-a", "-"]).0.contains("--all"));
}

#[test]
fn without_podman_nothing_is_offered_quietly() {
    let env = TestEnv::new();
    for args in [
        &["enter", ""][..],
        &["run", "-c", ""],
        &["rm", ""],
        &["rmi", ""],
        &["create", "-i", ""],
    ] {
        let (out, err) = cobra(&env, args);
        assert_eq!(out, ":4\n", "{args:?}");
        assert_eq!(err, NO_FILE_COMP, "{args:?}");
    }
    let out = env
        .cmd()
        .args(["--", "toolbox", "enter", ""])
        .env("TOOLBOX_COMPLETE", "fish")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(stdout(&out).is_empty() && stderr(&out).is_empty());
}

#[test]
fn complete_needs_at_least_one_word() {
    let env = TestEnv::new();
    let out = env.run(&["__complete"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "Error: requires at least 1 arg(s), only received 0\nRun 'toolbox --help' for usage.\n"
    );
}

#[test]
fn env_protocol_answers_each_shell() {
    let env = with_podman();
    let run = |shell: &str, index: Option<&str>, words: &[&str]| {
        let mut cmd = env.cmd();
        cmd.arg("--")
            .args(words)
            .env("TOOLBOX_COMPLETE", shell)
            .env("_CLAP_IFS", "\n");
        if let Some(i) = index {
            cmd.env("_CLAP_COMPLETE_INDEX", i);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        assert!(stderr(&out).is_empty(), "{shell}: {}", stderr(&out));
        stdout(&out)
    };
    assert_eq!(
        run("bash", Some("2"), &["toolbox", "enter", ""]),
        "alpha\nbeta"
    );
    assert_eq!(
        run("bash", Some("3"), &["toolbox", "run", "-c", "a", "ls"]),
        "alpha"
    );
    // bash splits `--distro=fe` at `=`; only the part after it is replaced.
    assert_eq!(
        run(
            "bash",
            Some("4"),
            &["toolbox", "create", "--distro", "=", "fe"]
        ),
        "fedora"
    );
    assert_eq!(
        run("zsh", Some("2"), &["toolbox", "create", "-i"]),
        "-i:Change the name of the base image used to create the Toolbx container"
    );
    assert_eq!(
        run("zsh", Some("3"), &["toolbox", "create", "-i"]),
        "bbbbbbbbbbbb\nlocalhost/a-copy\\:1\nlocalhost/a\\:1"
    );
    assert_eq!(run("fish", None, &["toolbox", "rm", "beta", ""]), "alpha\n");
    assert_eq!(
        run("fish", None, &["toolbox", "create", "--distro=r"]),
        "--distro=rhel\n"
    );
    assert_eq!(
        run("fish", None, &["toolbox", "en"]),
        "enter\tEnter a Toolbx container for interactive use\n"
    );
    assert_no_prerun(&env);
}

#[test]
fn env_protocol_without_words_prints_the_registration() {
    let env = TestEnv::new();
    let out = env.cmd().env("TOOLBOX_COMPLETE", "bash").output().unwrap();
    assert!(out.status.success());
    assert!(stdout(&out).contains("complete -o nospace -o bashdefault"));
    let out = env
        .cmd()
        .arg("--")
        .env("TOOLBOX_COMPLETE", "tcsh")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("Error: unknown shell `tcsh`"),
        "{}",
        stderr(&out)
    );
}
