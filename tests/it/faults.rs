//! podman missing, dying or talking nonsense.

use crate::common::{Stamp, TestEnv, stderr};

#[test]
fn podman_missing_is_named() {
    let env = TestEnv::new();
    for args in [&["list"][..], &["run", "true"], &["create"], &["rm", "x"]] {
        let out = env.run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(stderr(&out), "Error: podman(1) not found\n", "{args:?}");
    }
}

#[test]
fn podman_killed_by_a_signal_exits_128_plus_signal() {
    let env = TestEnv::new();
    let stamp = Stamp::new(&env);
    env.podman(&format!(
        r#"case "$1" in
inspect) echo '[{{"Id":"x","Name":"box","Config":{{"Cmd":["toolbox"]}},"State":{{"Pid":{}}}}}]'; exit 0 ;;
exec) kill -9 $$ ;;
esac
exit 99"#,
        stamp.pid()
    ));
    let out = env.run(&["run", "-c", &stamp.name(), "true"]);
    assert_eq!(out.status.code(), Some(137));
}

#[test]
fn malformed_json_is_an_error_not_a_panic() {
    let env = TestEnv::new();
    env.podman("echo '{not json'; exit 0");
    let out = env.run(&["list"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "Error: failed to get images\n");
    let out = env.run(&["run", "-c", "box", "true"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "Error: failed to inspect container box\n");
}

#[test]
fn broken_podman_version_is_upstreams_error() {
    let env = TestEnv::new();
    env.fake("podman", "#!/bin/sh\nexit 3\n");
    let out = env.run(&["list"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "Error: failed to get the Podman version\n");
}
