//! `toolbox run` against a fake podman: exec argv and exit-code mapping.

use crate::common::{Stamp, TestEnv, stderr, user_name};

/// A running, initialised Toolbx container whose entry point is a `sleep`
/// child; `exec` runs the given shell code. Its name is unique per test,
/// since root's runtime directory, where toolbox notes running containers,
/// is shared.
#[must_use]
fn running_container(env: &TestEnv, exec: &str) -> Stamp {
    let stamp = Stamp::new(env);
    env.podman(&format!(
        r#"case "$1" in
inspect) echo '[{{"Id":"x","Name":"box","Config":{{"Cmd":["toolbox","init-container"]}},"State":{{"Pid":{pid},"Status":"running"}}}}]'; exit 0 ;;
exec) {exec} ;;
esac
exit 99"#,
        pid = stamp.pid()
    ));
    stamp
}

#[test]
fn warm_run_is_one_inspect_and_one_exec() {
    let env = TestEnv::new();
    let stamp = running_container(&env, "exit 0");
    let c = stamp.name();
    let out = env.run(&["run", "-c", &c, "ls", "a b", "", "*"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let calls = env.calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(
        calls[0],
        format!("inspect --format json --type container {c}")
    );
    assert!(calls[1].starts_with("exec --detach-keys  "), "{}", calls[1]);
    let expected = format!(
        "--interactive --preserve-fds 0 --user {} --workdir {} {c}",
        user_name(),
        env.home.display()
    );
    assert!(calls[1].contains(&expected), "{}", calls[1]);
    // Without a terminal, the shell notes its PID for signal relaying.
    let head = format!("{c} capsh --caps= -- --login -c printf %s $$ >");
    assert!(calls[1].contains(&head), "{}", calls[1]);
    let tail = " 2>/dev/null; exec \"$@\" bash ls a b  *";
    assert!(calls[1].ends_with(tail), "{}", calls[1]);
}

#[test]
fn exit_codes_pass_through() {
    for (status, expected, message) in [
        ("exit 1", 1, ""),
        ("exit 33", 33, ""),
        (
            "exit 125",
            125,
            "Error: failed to invoke 'podman exec' in container {c}\n",
        ),
        (
            "exit 126",
            126,
            "Error: failed to invoke command /etc in container {c}\n",
        ),
    ] {
        let env = TestEnv::new();
        let stamp = running_container(&env, status);
        let c = stamp.name();
        let out = env.run(&["run", "-c", &c, "/etc"]);
        assert_eq!(out.status.code(), Some(expected), "{status}");
        assert_eq!(stderr(&out), message.replace("{c}", &c), "{status}");
    }
}

#[test]
fn missing_command_after_probes() {
    let env = TestEnv::new();
    // The command fails with 127; the workdir probe passes, the command probe fails.
    let stamp = running_container(
        &env,
        r#"case "$*" in *"test -d"*) exit 0 ;; *"command -v"*) exit 1 ;; *) exit 127 ;; esac"#,
    );
    let c = stamp.name();
    let out = env.run(&["run", "-c", &c, "nosuchcmd"]);
    assert_eq!(out.status.code(), Some(127));
    assert_eq!(
        stderr(&out),
        format!("Error: command nosuchcmd not found in container {c}\n")
    );
}

#[test]
fn missing_workdir_falls_back_to_home_once() {
    let env = TestEnv::new();
    let stamp = running_container(
        &env,
        &format!(
            r#"case "$*" in *"test -d"*) exit 1 ;; *"--workdir {home}"*) exit 0 ;; *) exit 127 ;; esac"#,
            home = env.home.display()
        ),
    );
    let c = stamp.name();
    let cwd = env.dir.path().join("elsewhere");
    std::fs::create_dir_all(&cwd).unwrap();
    let out = env
        .cmd()
        .current_dir(&cwd)
        .args(["run", "-c", &c, "true"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        format!(
            "Error: directory {} not found in container {c}\nUsing {} instead.\n",
            cwd.display(),
            env.home.display()
        )
    );
}

#[test]
fn container_missing_for_run() {
    let env = TestEnv::new();
    env.podman("case \"$1\" in inspect) echo 'Error: no such container nope' >&2; exit 125 ;; esac; exit 99");
    let out = env.run(&["run", "-c", "nope", "true"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "Error: container nope not found\nUse the 'create' command to create a Toolbx.\nRun 'toolbox --help' for usage.\n"
    );
}

#[test]
fn old_container_is_refused() {
    let env = TestEnv::new();
    env.podman(r#"case "$1" in inspect) echo '[{"Id":"x","Config":{"Cmd":["sleep","+Inf"]},"State":{"Pid":1}}]'; exit 0 ;; esac; exit 99"#);
    let out = env.run(&["run", "-c", "old", "true"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "Error: container old is too old and no longer supported\nRecreate it with Toolbx version 0.0.97 or newer.\n"
    );
}

#[test]
fn enter_without_containers_offers_to_create_and_declines() {
    let env = TestEnv::new();
    env.podman(
        r#"case "$1" in
inspect) echo 'Error: no such container' >&2; exit 125 ;;
ps) echo '[]'; exit 0 ;;
esac
exit 99"#,
    );
    let out = env.cmd().arg("enter").write_stdin("n\n").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "No Toolbx containers found. Create now? [y/N] A container can be created later with the 'create' command.\nRun 'toolbox --help' for usage.\n"
    );
    assert!(
        !env.calls()
            .iter()
            .any(|c| c.starts_with("create") || c.starts_with("pull"))
    );
}

#[test]
fn enter_with_other_containers_names_the_option() {
    let env = TestEnv::new();
    env.podman(
        r#"case "$1" in
inspect) echo 'Error: no such container' >&2; exit 125 ;;
ps) echo '[{"Id":"1","Names":["a"],"Labels":{"com.github.containers.toolbox":"true"}},{"Id":"2","Names":["b"],"Labels":{"com.github.containers.toolbox":"true"}}]'; exit 0 ;;
esac
exit 99"#,
    );
    let out = env.run(&["enter", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "Error: container nope not found\nUse the '--container' option to select a Toolbx.\nRun 'toolbox --help' for usage.\n"
    );
}

#[test]
fn second_warm_run_is_one_exec_only() {
    let env = TestEnv::new();
    let stamp = running_container(&env, "exit 0");
    let c = stamp.name();
    assert!(env.run(&["run", "-c", &c, "true"]).status.success());
    std::fs::write(&env.log, "").unwrap();
    let out = env.run(&["run", "-c", &c, "true"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let all: Vec<String> = std::fs::read_to_string(&env.log)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(all.len(), 1, "only podman exec: {all:?}");
    assert!(all[0].starts_with("--log-level error exec "), "{all:?}");
}
