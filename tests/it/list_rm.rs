//! `list`, `rm` and `rmi` against recorded podman output.

use crate::common::{TestEnv, stderr, stdout};

#[test]
fn list_shows_only_toolbx_rows() {
    let env = TestEnv::new();
    env.podman_with_lists("exit 99");
    let out = env.run(&["list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4 + 1 + 3, "{text}");
    assert!(lines[0].starts_with("IMAGE ID      IMAGE NAME"));
    assert!(lines[1].starts_with("bbbbbbbbbbbb  <none>"));
    assert!(lines[2].starts_with("aaaaaaaaaaaa  localhost/a-copy:1"));
    assert_eq!(lines[4], "");
    assert!(lines[5].starts_with("CONTAINER ID  CONTAINER NAME"));
    assert!(lines[6].starts_with("111111111111  alpha"));
    assert!(lines[7].starts_with("333333333333  beta"));
    assert!(!text.contains("busybox") && !text.contains("other"));
    assert!(lines.iter().all(|l| !l.ends_with(' ')));
    let only_c = stdout(&env.run(&["list", "-c"]));
    assert_eq!(only_c.lines().count(), 3);
}

#[test]
fn rm_all_removes_only_toolbx_containers_by_id() {
    let env = TestEnv::new();
    env.podman_with_lists("case \"$1\" in rm) exit 0 ;; esac; exit 99");
    let out = env.run(&["rm", "--force", "--all"]);
    assert!(out.status.success());
    assert!(stdout(&out).is_empty() && stderr(&out).is_empty());
    let rms: Vec<String> = env
        .calls()
        .into_iter()
        .filter(|c| c.starts_with("rm"))
        .collect();
    assert_eq!(
        rms,
        ["rm --force 1111111111111111", "rm --force 3333333333333333"]
    );
}

#[test]
fn rm_reports_every_failure_and_exits_1() {
    let env = TestEnv::new();
    env.podman(
        r#"case "$1" in
inspect) case "$6" in
  running|gone) echo '[{"Id":"x","Config":{"Labels":{"com.github.containers.toolbox":"true"}}}]'; exit 0 ;;
  plain) echo '[{"Id":"y","Config":{"Labels":{}}}]'; exit 0 ;;
  ok) echo '[{"Id":"z","Config":{"Labels":{"com.github.containers.toolbox":"true"}}}]'; exit 0 ;;
  *) echo 'Error: no such container' >&2; exit 125 ;;
  esac ;;
rm) case "$2" in running) exit 2 ;; gone) exit 1 ;; *) exit 0 ;; esac ;;
esac
exit 99"#,
    );
    let out = env.run(&["rm", "running", "missing", "plain", "gone", "ok"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "Error: container running is running\nError: failed to inspect container missing\nError: plain is not a Toolbx container\nError: container gone not found\n"
    );
    assert!(env.calls().iter().any(|c| c == "rm ok"));
}

#[test]
fn rmi_all_removes_each_id_once() {
    let env = TestEnv::new();
    env.podman_with_lists("case \"$1\" in rmi) exit 0 ;; esac; exit 99");
    let out = env.run(&["rmi", "--all"]);
    assert!(out.status.success());
    let rmis: Vec<String> = env
        .calls()
        .into_iter()
        .filter(|c| c.starts_with("rmi"))
        .collect();
    assert_eq!(rmis, ["rmi aaaaaaaaaaaaaaaa", "rmi bbbbbbbbbbbbbbbb"]);
}

#[test]
fn rmi_dependent_children() {
    let env = TestEnv::new();
    env.podman(
        r#"case "$1" in
inspect) echo '[{"Id":"x","Config":{"Labels":{"com.github.containers.toolbox":"true"}}}]'; exit 0 ;;
rmi) exit 2 ;;
esac
exit 99"#,
    );
    let out = env.run(&["rmi", "img"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "Error: image img has dependent children\n");
}

#[test]
fn missing_arguments() {
    let env = TestEnv::new();
    env.podman("exit 99");
    for (cmd, word) in [("rm", "rm"), ("rmi", "rmi"), ("run", "run")] {
        let out = env.run(&[cmd]);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(
            stderr(&out),
            format!("Error: missing argument for \"{word}\"\nRun 'toolbox --help' for usage.\n")
        );
    }
}
