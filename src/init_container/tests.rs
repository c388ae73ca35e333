//! The whole initialisation sequence against the in-memory fake.

use std::path::PathBuf;

use nix::errno::Errno;

use super::fake::FakeSys;
use super::*;

fn opts() -> InitOptions {
    InitOptions {
        uid: 1000,
        gid: 1000,
        user: "alice".into(),
        home: PathBuf::from("/var/home/alice"),
        shell: PathBuf::from("/bin/bash"),
        home_link: false,
        media_link: false,
        mnt_link: false,
        emulation: None,
    }
}

/// A Debian image in a container made by `toolbox create` on a Fedora
/// host: host `/` under `/run/host`, `/etc/resolv.conf` on the host a link
/// to systemd-resolved's stub, and no `/usr/share/empty` in the image.
fn debian() -> FakeSys {
    let mut sys = FakeSys::new();
    sys.dir("/run")
        .dir("/tmp")
        .dir("/var/home/alice")
        .dir("/sys/fs/selinux")
        .file("/run/.containerenv", "")
        .file("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n")
        .file("/etc/group", "root:x:0:\nsudo:x:27:\n")
        .file("/etc/hosts", "127.0.0.1 localhost\n")
        .file("/etc/host.conf", "multi on\n")
        .file("/etc/resolv.conf", "nameserver 8.8.8.8\n")
        .link("/etc/localtime", "/usr/share/zoneinfo/Etc/UTC")
        .file("/usr/share/zoneinfo/Etc/UTC", "TZif")
        .dir("/etc/profile.d")
        .file("/run/host/etc/hosts", "")
        .file("/run/host/etc/host.conf", "")
        .file("/run/host/etc/machine-id", "abc\n")
        .link(
            "/run/host/etc/localtime",
            "../usr/share/zoneinfo/Europe/Prague",
        )
        .file("/run/host/usr/share/zoneinfo/Europe/Prague", "TZif")
        .link(
            "/run/host/etc/resolv.conf",
            "/run/systemd/resolve/stub-resolv.conf",
        )
        .file("/run/host/run/systemd/resolve/stub-resolv.conf", "")
        .dir("/run/host/run/systemd/journal")
        .socket("/run/host/run/udev/data/control")
        .dir("/run/host/tmp")
        .dir("/run/host/var/mnt");
    sys
}

#[test]
fn debian_sequence_with_useradd() {
    let mut sys = debian();
    initialize(&opts(), &mut sys).unwrap();

    let expected = [
        "create /run/.toolboxenv",
        "create /run/.toolbxenv",
        "remove /etc/host.conf",
        "symlink /etc/host.conf -> /run/host/etc/host.conf",
        "remove /etc/hosts",
        "symlink /etc/hosts -> /run/host/etc/hosts",
        "remove /etc/localtime",
        "symlink /etc/localtime -> /run/host/etc/localtime",
        "write /etc/timezone 664",
        "remove /etc/resolv.conf",
        "symlink /etc/resolv.conf -> /run/host/run/systemd/resolve/stub-resolv.conf",
        "mkdir /etc 755",
        "create /etc/machine-id",
        "bind /run/host/etc/machine-id /etc/machine-id",
        "mkdir /run/systemd/journal 755",
        "bind /run/host/run/systemd/journal /run/systemd/journal",
        "mkdir /run/systemd/resolve 755",
        "bind /run/host/run/systemd/resolve /run/systemd/resolve",
        "mkdir /run/udev/data 755",
        "bind /run/host/run/udev/data /run/udev/data",
        "mkdir /tmp 755",
        "bind /run/host/tmp /tmp rslave",
        "mkdir /var/mnt 755",
        "bind /run/host/var/mnt /var/mnt rslave",
        "run useradd --groups sudo --home-dir /var/home/alice --no-create-home \
         --password '' --shell /bin/bash --uid 1000 alice",
        "run passwd --delete root",
        "mkdir /run/user/1000/toolbox 700",
        "chown /run/user/1000/toolbox 1000:1000",
        "watch init",
        "watch /run/host/etc",
        "create /run/user/1000/toolbox/container-initialized-4242",
        "chown /run/user/1000/toolbox/container-initialized-4242 1000:1000",
    ];
    assert_eq!(sys.log, expected);

    assert_eq!(
        sys.text("/etc/timezone").as_deref(),
        Some("Europe/Prague\n")
    );
    assert_eq!(sys.mode("/etc/timezone"), Some(0o664));
    assert_eq!(
        sys.env.get("XDG_RUNTIME_DIR").map(String::as_str),
        Some("/run/user/1000")
    );
    assert_eq!(sys.mode("/run/user/1000/toolbox"), Some(0o700));
    // Nothing Fedora-specific is written into a Debian image.
    assert!(sys.text("/usr/lib/rpm/macros.d/macros.toolbox").is_none());
    assert!(sys.text("/etc/krb5.conf.d/kcm_default_ccache").is_none());
}

#[test]
fn useradd_argv_keeps_empty_password_as_own_word() {
    let mut sys = debian();
    initialize(&opts(), &mut sys).unwrap();
    // The fake records the argv shell-quoted: `''` is one empty element.
    let run = sys
        .log
        .iter()
        .find(|l| l.starts_with("run useradd"))
        .unwrap();
    let words = shlex::split(run.trim_start_matches("run ")).unwrap();
    assert_eq!(
        words,
        [
            "useradd",
            "--groups",
            "sudo",
            "--home-dir",
            "/var/home/alice",
            "--no-create-home",
            "--password",
            "",
            "--shell",
            "/bin/bash",
            "--uid",
            "1000",
            "alice"
        ]
    );
}

#[test]
fn existing_user_gets_usermod() {
    let mut sys = debian();
    // What podman's keep-id adds before the entry point runs.
    sys.file(
        "/etc/passwd",
        "root:x:0:0:root:/root:/bin/bash\nalice:*:1000:1000:alice:/:/bin/sh\n",
    );
    initialize(&opts(), &mut sys).unwrap();
    let runs: Vec<&String> = sys.log.iter().filter(|l| l.starts_with("run ")).collect();
    assert_eq!(
        runs,
        [
            "run usermod --append --groups sudo --home /var/home/alice --password '' \
             --shell /bin/bash --uid 1000 alice",
            "run passwd --delete root",
        ]
    );
}

#[test]
fn fail_hook_stops_after_markers() {
    for (value, message) in [
        ("1", "TOOLBX_FAIL_ENTRY_POINT is set"),
        (
            "2",
            "TOOLBX_FAIL_ENTRY_POINT is set\nThis environment variable should only be set when testing.",
        ),
    ] {
        let mut sys = debian();
        sys.env
            .insert("TOOLBX_FAIL_ENTRY_POINT".into(), value.into());
        let err = initialize(&opts(), &mut sys).unwrap_err();
        assert_eq!(err.to_string(), message);
        assert_eq!(
            sys.log,
            ["create /run/.toolboxenv", "create /run/.toolbxenv"]
        );
    }
}

#[test]
fn hooks_ignore_non_positive_values() {
    for value in ["0", "-1", "abc", "", "1.5"] {
        let mut sys = debian();
        sys.env
            .insert("TOOLBX_FAIL_ENTRY_POINT".into(), value.into());
        sys.env
            .insert("TOOLBX_DELAY_ENTRY_POINT".into(), value.into());
        initialize(&opts(), &mut sys).unwrap();
        assert!(!sys.log.iter().any(|l| l.starts_with("sleep")));
    }
}

#[test]
fn delay_hook_sleeps_before_fail_hook() {
    let mut sys = debian();
    sys.env
        .insert("TOOLBX_DELAY_ENTRY_POINT".into(), "3".into());
    sys.env.insert("TOOLBX_FAIL_ENTRY_POINT".into(), "1".into());
    initialize(&opts(), &mut sys).unwrap_err();
    assert_eq!(
        sys.log,
        [
            "create /run/.toolboxenv",
            "create /run/.toolbxenv",
            "sleep 3s"
        ]
    );
}

#[test]
fn go_duration_spelling() {
    assert_eq!(go_duration(5), "5s");
    assert_eq!(go_duration(90), "1m30s");
    assert_eq!(go_duration(3600), "1h0m0s");
}

#[test]
fn no_sudo_group_is_an_error() {
    let mut sys = debian();
    sys.file("/etc/group", "root:x:0:\nadm:x:4:\n");
    let err = initialize(&opts(), &mut sys).unwrap_err();
    assert_eq!(
        err.to_string(),
        "failed to get group for sudo: group for sudo not found"
    );
    assert!(!sys.log.iter().any(|l| l.starts_with("run ")));
}

#[test]
fn sudo_is_preferred_over_wheel() {
    let mut sys = debian();
    sys.file("/etc/group", "wheel:x:10:\n");
    assert_eq!(user::sudo_group(&sys).unwrap(), "wheel");
    sys.file("/etc/group", "wheel:x:10:\nsudo:x:27:\n");
    assert_eq!(user::sudo_group(&sys).unwrap(), "sudo");
}

#[test]
fn useradd_failure_names_user_and_cause() {
    let mut sys = debian();
    sys.failing.insert("useradd".into());
    let err = initialize(&opts(), &mut sys).unwrap_err();
    assert_eq!(
        err.to_string(),
        "failed to add user alice with UID 1000: useradd(1) failed with exit code 1: boom"
    );
}

#[test]
fn passwd_failure_is_reported() {
    let mut sys = debian();
    sys.failing.insert("passwd".into());
    let err = initialize(&opts(), &mut sys).unwrap_err();
    assert_eq!(
        err.to_string(),
        "failed to remove password for root: passwd(1) failed with exit code 1: boom"
    );
}

#[test]
fn uid_lookup_errors() {
    let mut sys = debian();
    sys.nodes.remove(std::path::Path::new("/etc/passwd"));
    let err = user::lookup_uid(&sys, 1000).unwrap_err();
    assert_eq!(
        InitError::LookupUid {
            uid: 1000,
            source: err
        }
        .to_string(),
        "failed to look up user ID 1000: failed to read /etc/passwd: \
         No such file or directory (os error 2)"
    );
    sys.file("/etc/passwd", "bob:x:1001:1001::/:/bin/sh\n");
    let err = user::lookup_uid(&sys, 1000).unwrap_err();
    assert_eq!(err.to_string(), "user: unknown userid 1000");
}

#[test]
fn missing_localtime_means_utc() {
    let mut sys = debian();
    sys.nodes.remove(std::path::Path::new(
        "/run/host/usr/share/zoneinfo/Europe/Prague",
    ));
    initialize(&opts(), &mut sys).unwrap();
    assert_eq!(sys.text("/etc/timezone").as_deref(), Some("UTC\n"));
}

#[test]
fn localtime_in_unknown_location_fails() {
    let mut sys = debian();
    sys.link("/run/host/etc/localtime", "/opt/zones/Europe/Prague")
        .file("/opt/zones/Europe/Prague", "TZif");
    let err = initialize(&opts(), &mut sys).unwrap_err();
    assert_eq!(err.to_string(), "/etc/localtime points to unknown location");
}

#[test]
fn exact_links_are_left_alone_and_others_redirected() {
    let mut sys = debian();
    sys.link("/etc/localtime", "/run/host/etc/localtime")
        .link("/etc/resolv.conf", "/run/host/etc/resolv.conf")
        .link("/etc/hosts", "/run/host/etc/hosts")
        // A stale link from the image is replaced (upstream would keep it).
        .link("/etc/host.conf", "/usr/lib/host.conf");
    initialize(&opts(), &mut sys).unwrap();
    let touched: Vec<&String> = sys
        .log
        .iter()
        .filter(|l| l.starts_with("symlink") || l.starts_with("remove"))
        .collect();
    assert_eq!(
        touched,
        [
            "remove /etc/host.conf",
            "symlink /etc/host.conf -> /run/host/etc/host.conf"
        ]
    );
    assert_eq!(
        sys.text("/etc/timezone").as_deref(),
        Some("Europe/Prague\n")
    );
}

#[test]
fn redirecting_a_mount_point_fails() {
    let mut sys = debian();
    sys.mount_points.insert(PathBuf::from("/etc/hosts"));
    let err = initialize(&opts(), &mut sys).unwrap_err();
    assert_eq!(
        err.to_string(),
        "failed to redirect /etc/hosts to /run/host/etc/hosts: /etc/hosts is a mount point"
    );
}

#[test]
fn without_run_host_etc_nothing_is_redirected() {
    let mut sys = debian();
    let keys: Vec<PathBuf> = sys
        .nodes
        .keys()
        .filter(|k| k.starts_with("/run/host/etc"))
        .cloned()
        .collect();
    for k in keys {
        sys.nodes.remove(&k);
    }
    // Upstream then fails to watch the missing directory.
    let err = initialize(&opts(), &mut sys).unwrap_err();
    assert_eq!(
        err.to_string(),
        "failed to add path: ENOENT: No such file or directory"
    );
    assert!(!sys.log.iter().any(|l| l.starts_with("symlink")));
    assert!(sys.text("/etc/timezone").is_none());
}

#[test]
fn media_mnt_and_home_links() {
    let mut sys = debian();
    sys.dir("/mnt").dir("/home").link("/media", "/somewhere");
    let mut o = opts();
    o.media_link = true;
    o.mnt_link = true;
    o.home_link = true;
    initialize(&o, &mut sys).unwrap();
    assert_eq!(sys.dest("/media").as_deref(), Some("/somewhere"));
    assert_eq!(sys.dest("/mnt").as_deref(), Some("/var/mnt"));
    assert_eq!(sys.dest("/home").as_deref(), Some("/var/home"));
    let log = sys.log.join("\n");
    assert!(log.contains("remove /mnt\nmkdir /var/mnt 755\nsymlink /mnt -> /var/mnt"));
    assert!(log.contains("remove /home\nmkdir /var/home 755\nsymlink /home -> /var/home"));
    // Binds come after the /mnt link and before the users.
    let pos = |needle: &str| log.find(needle).unwrap();
    assert!(pos("symlink /mnt") < pos("bind /run/host/tmp"));
    assert!(pos("bind /run/host/var/mnt") < pos("symlink /home"));
    assert!(pos("symlink /home") < pos("run useradd"));

    // A second start keeps the exact /home link.
    sys.log.clear();
    initialize(&o, &mut sys).unwrap();
    assert!(!sys.log.iter().any(|l| l == "remove /home"));
}

#[test]
fn home_link_mirrors_the_hosts_relative_link() {
    // An ostree host has `/home -> var/home`; the container says the same
    // (acceptance B21 A), and a second start leaves it alone.
    let mut sys = debian();
    sys.dir("/home").link("/run/host/home", "var/home");
    let mut o = opts();
    o.home_link = true;
    initialize(&o, &mut sys).unwrap();
    assert_eq!(sys.dest("/home").as_deref(), Some("var/home"));
    assert!(
        sys.log
            .join("\n")
            .contains("mkdir /var/home 755\nsymlink /home -> var/home")
    );
    sys.log.clear();
    initialize(&o, &mut sys).unwrap();
    assert!(!sys.log.iter().any(|l| l == "remove /home"));

    // A host link that leads elsewhere lexically gets upstream's text.
    let mut sys = debian();
    sys.dir("/home").link("/run/host/home", "../var/home");
    initialize(&o, &mut sys).unwrap();
    assert_eq!(sys.dest("/home").as_deref(), Some("/var/home"));
}

#[test]
fn non_empty_home_cannot_be_linked() {
    let mut sys = debian();
    sys.file("/home/old/file", "");
    let mut o = opts();
    o.home_link = true;
    let err = initialize(&o, &mut sys).unwrap_err();
    assert_eq!(
        err.to_string(),
        "failed to redirect /home to /var/home: Directory not empty (os error 39)"
    );
}

#[test]
fn root_uses_run_toolbox() {
    let mut sys = debian();
    sys.env
        .insert("XDG_RUNTIME_DIR".into(), "/run/user/0".into());
    let o = InitOptions {
        uid: 0,
        gid: 0,
        user: "root".into(),
        home: PathBuf::from("/root"),
        ..opts()
    };
    initialize(&o, &mut sys).unwrap();
    let tail: Vec<&String> = sys.log.iter().rev().take(2).collect();
    assert_eq!(
        tail,
        [
            "chown /run/toolbox/container-initialized-4242 0:0",
            "create /run/toolbox/container-initialized-4242"
        ]
    );
    assert!(sys.log.iter().any(|l| l == "run usermod --append --groups sudo --home /root --password '' --shell /bin/bash --uid 0 root"));
}

#[test]
fn stamp_uses_given_gid_and_runtime_dir_the_passwd_gid() {
    let mut sys = debian();
    sys.env
        .insert("XDG_RUNTIME_DIR".into(), "/run/user/1000".into());
    sys.file(
        "/etc/passwd",
        "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:2000::/:/bin/sh\n",
    );
    let o = InitOptions {
        gid: 3000,
        ..opts()
    };
    initialize(&o, &mut sys).unwrap();
    assert!(
        sys.log
            .iter()
            .any(|l| l == "chown /run/user/1000/toolbox/container-initialized-4242 1000:3000")
    );
}

#[test]
fn fedora_writes_kerberos_rpm_and_pkcs11() {
    let mut sys = debian();
    sys.file("/etc/group", "root:x:0:\nwheel:x:10:\n")
        .file("/etc/os-release", "NAME=\"Fedora Linux\"\nID=fedora\n")
        .dir("/etc/krb5.conf.d")
        .dir("/usr/lib/rpm/macros.d")
        .dir("/etc/pkcs11/modules")
        .dir("/etc/sudoers.d")
        .dir("/etc/ssh/sshd_config.d")
        .file("/usr/lib64/pkcs11/p11-kit-client.so", "")
        .file("/usr/share/empty/.keep", "")
        .socket("/run/user/1000/toolbox/pkcs11");
    sys.nodes
        .remove(std::path::Path::new("/usr/share/empty/.keep"));
    initialize(&opts(), &mut sys).unwrap();

    assert!(
        sys.log
            .iter()
            .any(|l| l == "bind /usr/share/empty /sys/fs/selinux")
    );
    assert!(
        sys.log
            .iter()
            .any(|l| l.starts_with("run useradd --groups wheel"))
    );
    assert_eq!(
        sys.text("/etc/krb5.conf.d/kcm_default_ccache").as_deref(),
        Some(
            "# Written by Toolbx\n# https://containertoolbx.org/\n#\n\
             # # To disable the KCM credential cache, comment out the following lines.\n\n\
             [libdefaults]\n    default_ccache_name = KCM:\n"
        )
    );
    assert_eq!(
        sys.text("/usr/lib/rpm/macros.d/macros.toolbox").as_deref(),
        Some(
            "# Written by Toolbx\n# https://containertoolbx.org/\n\n\
             %_netsharedpath /dev:/media:/mnt:/proc:/sys:/tmp:/var/lib/flatpak:/var/lib/libvirt\n"
        )
    );
    let socket = "unix:path=/run/user/1000/toolbox/pkcs11";
    assert_eq!(
        sys.text("/etc/pkcs11/modules/p11-kit-trust.module"),
        Some(format!(
            "# Written by Toolbx\n# https://containertoolbx.org/\n\n\
             module: p11-kit-client.so\nserver-address: {socket}\n"
        ))
    );
    assert_eq!(
        sys.text("/etc/ssh/sshd_config.d/90-toolbx.conf"),
        Some(format!(
            "# Written by Toolbx\n# https://containertoolbx.org/\n\n\
             SetEnv P11_KIT_SERVER_ADDRESS={socket}\n"
        ))
    );
    assert_eq!(
        sys.mode("/etc/ssh/sshd_config.d/90-toolbx.conf"),
        Some(0o644)
    );
    assert_eq!(
        sys.text("/etc/profile.d/toolbx-pkcs11.sh"),
        Some(format!(
            "# shellcheck shell=sh\n#\n# Written by Toolbx\n# https://containertoolbx.org/\n\n\
             export P11_KIT_SERVER_ADDRESS={socket}\n"
        ))
    );
    assert_eq!(
        sys.text("/etc/sudoers.d/90-toolbx-pkcs11").as_deref(),
        Some(
            "# Written by Toolbx\n# https://containertoolbx.org/\n\n\
             Defaults env_keep += \"P11_KIT_SERVER_ADDRESS\"\n"
        )
    );
    assert_eq!(sys.mode("/etc/sudoers.d/90-toolbx-pkcs11"), Some(0o440));

    // Order: Kerberos, PKCS #11, RPM, then the watch.
    let pos = |p: &str| sys.log.iter().position(|l| l.starts_with(p)).unwrap();
    assert!(pos("write /etc/krb5.conf.d") < pos("write /etc/pkcs11"));
    assert!(pos("write /etc/sudoers.d") < pos("write /usr/lib/rpm"));
    assert!(pos("write /usr/lib/rpm") < pos("watch init"));
}

#[test]
fn existing_kerberos_snippet_is_kept() {
    let mut sys = debian();
    sys.file("/etc/krb5.conf.d/kcm_default_ccache", "mine\n");
    initialize(&opts(), &mut sys).unwrap();
    assert_eq!(
        sys.text("/etc/krb5.conf.d/kcm_default_ccache").as_deref(),
        Some("mine\n")
    );
}

#[test]
fn pkcs11_without_sudoers_d_is_fatal() {
    let mut sys = debian();
    sys.dir("/etc/pkcs11/modules")
        .file("/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so", "")
        .socket("/run/user/1000/toolbox/pkcs11");
    let err = initialize(&opts(), &mut sys).unwrap_err();
    assert_eq!(
        err.to_string(),
        "directory /etc/sudoers.d not found in container\n\
         The sudoers(5) policy must include files from /etc/sudoers.d in\n\
         containers with /etc/pkcs11/modules and p11-kit-client.so.\n\
         Go to https://containertoolbx.org/ for further information."
    );
}

#[test]
fn pkcs11_without_socket_is_skipped() {
    let mut sys = debian();
    sys.dir("/etc/pkcs11/modules")
        .file("/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so", "");
    initialize(&opts(), &mut sys).unwrap();
    assert!(!sys.log.iter().any(|l| l.starts_with("write /etc/pkcs11")));
}

#[test]
fn watch_resource_limits_are_tolerated() {
    let mut sys = debian();
    sys.watch_add_error = Some(Errno::ENOSPC);
    initialize(&opts(), &mut sys).unwrap();

    let mut sys = debian();
    sys.watch_init_error = Some(Errno::EMFILE);
    initialize(&opts(), &mut sys).unwrap();
    assert!(!sys.log.iter().any(|l| l.starts_with("watch")));

    let mut sys = debian();
    sys.watch_add_error = Some(Errno::EACCES);
    let err = initialize(&opts(), &mut sys).unwrap_err();
    assert_eq!(
        err.to_string(),
        "failed to add path: EACCES: Permission denied"
    );
    assert!(!sys.log.iter().any(|l| l.contains("container-initialized")));

    let mut sys = debian();
    sys.watch_init_error = Some(Errno::EINVAL);
    let err = initialize(&opts(), &mut sys).unwrap_err();
    assert_eq!(
        err.to_string(),
        "failed to create Watcher: EINVAL: Invalid argument"
    );
}

#[test]
fn preset_xdg_runtime_dir_is_kept() {
    let mut sys = debian();
    sys.env
        .insert("XDG_RUNTIME_DIR".into(), "/run/user/custom".into());
    initialize(&opts(), &mut sys).unwrap();
    assert!(
        sys.log
            .iter()
            .any(|l| l == "create /run/user/custom/toolbox/container-initialized-4242")
    );
}

#[test]
fn marker_failure_is_reported() {
    let mut sys = debian();
    sys.nodes.remove(std::path::Path::new("/run/.containerenv"));
    sys.nodes.remove(std::path::Path::new("/run"));
    let err = initialize(&opts(), &mut sys).unwrap_err();
    assert_eq!(err.to_string(), "failed to create /run/.toolboxenv");
    assert!(std::error::Error::source(&err).is_some());
}

/// The Debian fake with the host's NVIDIA CDI spec in the user's runtime
/// directory, as `toolbox run` would have left it.
fn with_cdi(spec: &str) -> FakeSys {
    let mut sys = debian();
    sys.dir("/etc/ld.so.conf.d")
        .file("/etc/ld.so.cache", "")
        .file("/run/user/1000/toolbox/cdi-nvidia.json", spec);
    sys
}

fn cdi_hook(args: &[&str], name: &str, path: &str) -> String {
    let args: Vec<String> = args.iter().map(|a| format!("{a:?}")).collect();
    format!(
        r#"{{"containerEdits":{{"hooks":[{{"args":[{}],"hookName":"{name}","path":"{path}"}}]}}}}"#,
        args.join(",")
    )
}

fn symlinks_hook(links: &[&str]) -> String {
    let mut args = vec!["nvidia-cdi-hook", "create-symlinks"];
    for link in links {
        args.extend(["--link", link]);
    }
    cdi_hook(&args, "createContainer", "/usr/bin/nvidia-cdi-hook")
}

#[test]
fn cdi_empty_spec_changes_nothing() {
    let mut sys = with_cdi("{ }\n");
    initialize(&opts(), &mut sys).unwrap();
    assert!(!sys.log.iter().any(|l| l.contains("ldconfig")));
    assert!(sys.text("/etc/ld.so.conf.d/toolbx-nvidia.conf").is_none());
}

#[test]
fn cdi_create_symlinks_makes_parents_and_survives_a_restart() {
    let spec = symlinks_hook(&[
        "/usr/bin/toolbox::/run/toolbox.1",
        "toolbox::/usr/bin/toolbox.2",
        "../../usr/bin/toolbox::/opt/new/dir/toolbox.3",
    ]);
    let mut sys = with_cdi(&spec);
    initialize(&opts(), &mut sys).unwrap();
    assert_eq!(
        sys.dest("/run/toolbox.1").as_deref(),
        Some("/usr/bin/toolbox")
    );
    assert_eq!(sys.dest("/usr/bin/toolbox.2").as_deref(), Some("toolbox"));
    assert_eq!(
        sys.dest("/opt/new/dir/toolbox.3").as_deref(),
        Some("../../usr/bin/toolbox")
    );
    // The links are there when the container starts again.
    initialize(&opts(), &mut sys).unwrap();
    assert_eq!(
        sys.dest("/run/toolbox.1").as_deref(),
        Some("/usr/bin/toolbox")
    );
}

#[test]
fn cdi_update_ldcache_writes_each_folder_once_then_runs_ldconfig() {
    let spec = cdi_hook(
        &[
            "nvidia-cdi-hook",
            "update-ldcache",
            "--folder",
            "/usr/lib",
            "--folder",
            "/usr/lib64",
            "--folder",
            "/usr/lib",
        ],
        "createContainer",
        "/usr/bin/nvidia-cdi-hook",
    );
    let mut sys = with_cdi(&spec);
    initialize(&opts(), &mut sys).unwrap();
    assert_eq!(
        sys.text("/etc/ld.so.conf.d/toolbx-nvidia.conf").as_deref(),
        Some("# Written by Toolbx\n# https://containertoolbx.org/\n\n/usr/lib\n/usr/lib64\n")
    );
    assert_eq!(
        sys.mode("/etc/ld.so.conf.d/toolbx-nvidia.conf"),
        Some(0o644)
    );
    assert!(sys.log.iter().any(|l| l == "run ldconfig"));

    // No folder: only the cache is rebuilt; no cache yet: -N, as upstream;
    // no ld.so.conf.d: the folders go on the command line.
    let spec = cdi_hook(
        &["nvidia-cdi-hook", "update-ldcache"],
        "createContainer",
        "/usr/bin/nvidia-cdi-hook",
    );
    let mut sys = with_cdi(&spec);
    sys.remove(Path::new("/etc/ld.so.cache")).unwrap();
    initialize(&opts(), &mut sys).unwrap();
    assert!(sys.log.iter().any(|l| l == "run ldconfig -N"));
    assert!(sys.text("/etc/ld.so.conf.d/toolbx-nvidia.conf").is_none());
    let spec = cdi_hook(
        &[
            "nvidia-cdi-hook",
            "update-ldcache",
            "--folder",
            "/usr/lib64",
        ],
        "createContainer",
        "/usr/bin/nvidia-cdi-hook",
    );
    let mut sys = with_cdi(&spec);
    sys.remove(Path::new("/etc/ld.so.conf.d")).unwrap();
    initialize(&opts(), &mut sys).unwrap();
    assert!(sys.log.iter().any(|l| l == "run ldconfig /usr/lib64"));
}

#[test]
fn cdi_mounts_bind_host_paths_with_their_options() {
    let spec = r#"{"containerEdits":{"mounts":[
        {"hostPath":"/usr/lib64/libcuda.so.1","containerPath":"/usr/lib64/libcuda.so.1","options":["ro","nosuid","nodev","bind"]},
        {"hostPath":"/var/run/nvidia","containerPath":"/var/run/nvidia"},
        {"hostPath":"/non/existent/path","containerPath":"/non/existent/path"},
        {"hostPath":"/tmpfs","containerPath":"/x","type":"tmpfs"}]}}"#;
    let mut sys = with_cdi(spec);
    sys.file("/run/host/usr/lib64/libcuda.so.1", "ELF")
        .dir("/run/host/var/run/nvidia")
        .dir("/run/host/tmpfs");
    initialize(&opts(), &mut sys).unwrap();
    let log = sys.log.join("\n");
    assert!(log.contains(
        "create /usr/lib64/libcuda.so.1\nrun mount --rbind -o 'ro,nosuid,nodev,bind' /run/host/usr/lib64/libcuda.so.1 /usr/lib64/libcuda.so.1"
    ));
    assert!(log.contains(
        "mkdir /var/run/nvidia 755\nrun mount --rbind /run/host/var/run/nvidia /var/run/nvidia"
    ));
    assert!(!log.contains("/non/existent/path"));
    assert!(!log.contains(" /x"), "only bind mounts are made");
}

#[test]
fn cdi_failures_are_upstreams_messages() {
    let nvidia = "/usr/bin/nvidia-cdi-hook";
    let cases: Vec<(String, &str)> = vec![
        (
            "This is not JSON\n".into(),
            "failed to load Container Device Interface for NVIDIA",
        ),
        (
            String::new(),
            "failed to load Container Device Interface for NVIDIA",
        ),
        (
            cdi_hook(
                &["nvidia-cdi-hook", "create-symlinks"],
                "createContainer",
                "",
            ),
            "invalid hook in Container Device Interface for NVIDIA",
        ),
        (
            cdi_hook(&["nvidia-cdi-hook", "update-ldcache"], "invalid", nvidia),
            "invalid hook in Container Device Interface for NVIDIA",
        ),
        (
            cdi_hook(
                &["nvidia-cdi-hook", "create-symlinks", "--link"],
                "createContainer",
                nvidia,
            ),
            "failed to create symlinks for Container Device Interface for NVIDIA",
        ),
        (
            symlinks_hook(&["foo"]),
            "failed to create symlinks for Container Device Interface for NVIDIA",
        ),
        (
            symlinks_hook(&["foo::bar::baz"]),
            "failed to create symlinks for Container Device Interface for NVIDIA",
        ),
        (
            symlinks_hook(&["/usr/bin/toolbox::toolbox.1"]),
            "failed to create symlinks for Container Device Interface for NVIDIA",
        ),
        (
            r#"{"containerEdits":{"mounts":[{"containerPath":"","hostPath":"/tmp"}]}}"#.into(),
            "invalid mount in Container Device Interface for NVIDIA",
        ),
        (
            r#"{"containerEdits":{"mounts":[{"containerPath":"/tmp","hostPath":""}]}}"#.into(),
            "invalid mount in Container Device Interface for NVIDIA",
        ),
    ];
    for (spec, message) in cases {
        let mut sys = with_cdi(&spec);
        let err = initialize(&opts(), &mut sys).unwrap_err();
        assert_eq!(err.to_string(), message, "{spec}");
        assert!(!sys.log.iter().any(|l| l.contains("initialized")), "{spec}");
    }

    let mut sys = with_cdi(&symlinks_hook(&["/usr/bin/toolbox::/run/toolbox.1"]));
    sys.failing.insert("ldconfig".into());
    let spec = cdi_hook(
        &["nvidia-cdi-hook", "update-ldcache"],
        "createContainer",
        nvidia,
    );
    sys.file("/run/user/1000/toolbox/cdi-nvidia.json", &spec);
    assert_eq!(
        initialize(&opts(), &mut sys).unwrap_err().to_string(),
        "failed to update ldcache for Container Device Interface for NVIDIA"
    );
}

#[test]
fn cdi_hooks_of_other_tools_or_stages_are_skipped() {
    for spec in [
        cdi_hook(
            &["unknown", "update-ldcache"],
            "createContainer",
            "/usr/bin/unknown",
        ),
        cdi_hook(
            &[
                "unknown",
                "create-symlinks",
                "--link",
                "toolbox::/usr/bin/toolbox.1",
            ],
            "createContainer",
            "/usr/bin/unknown",
        ),
        cdi_hook(
            &["nvidia-cdi-hook", "unknown"],
            "createContainer",
            "/usr/bin/nvidia-cdi-hook",
        ),
        cdi_hook(
            &["nvidia-cdi-hook", "update-ldcache"],
            "createRuntime",
            "/usr/bin/nvidia-cdi-hook",
        ),
    ] {
        let mut sys = with_cdi(&spec);
        initialize(&opts(), &mut sys).unwrap();
        assert!(
            !sys.log
                .iter()
                .any(|l| l.contains("ldconfig") || l.contains("toolbox.1")),
            "{spec}"
        );
    }
}

#[test]
fn cdi_bad_entry_changes_nothing_and_targets_keep_their_contents() {
    let spec = r#"{"containerEdits":{"mounts":[
        {"hostPath":"/srv/file","containerPath":"/etc/issue"},
        {"hostPath":"","containerPath":"/x"}]}}"#;
    let mut sys = with_cdi(spec);
    sys.file("/etc/issue", "Debian 12\n")
        .file("/run/host/srv/file", "host");
    let err = initialize(&opts(), &mut sys).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid mount in Container Device Interface for NVIDIA"
    );
    assert!(!sys.log.iter().any(|l| l.contains("mount --rbind")));
    assert_eq!(sys.text("/etc/issue").as_deref(), Some("Debian 12\n"));

    // A good spec binds over the file without emptying it first.
    let spec =
        r#"{"containerEdits":{"mounts":[{"hostPath":"/srv/file","containerPath":"/etc/issue"}]}}"#;
    sys.file("/run/user/1000/toolbox/cdi-nvidia.json", spec);
    initialize(&opts(), &mut sys).unwrap();
    assert_eq!(sys.text("/etc/issue").as_deref(), Some("Debian 12\n"));
}

#[test]
fn cdi_links_follow_the_spec_across_restarts() {
    let mut sys = with_cdi(&symlinks_hook(&[
        "libcuda.so.551::/usr/lib/nv/libcuda.so.1",
    ]));
    sys.file("/etc/keep", "mine");
    initialize(&opts(), &mut sys).unwrap();
    // A driver update: the next start points the link at the new library,
    // but a file that is not a link is never replaced.
    sys.file(
        "/run/user/1000/toolbox/cdi-nvidia.json",
        &symlinks_hook(&["libcuda.so.552::/usr/lib/nv/libcuda.so.1", "x::/etc/keep"]),
    );
    initialize(&opts(), &mut sys).unwrap();
    assert_eq!(
        sys.dest("/usr/lib/nv/libcuda.so.1").as_deref(),
        Some("libcuda.so.552")
    );
    assert_eq!(sys.text("/etc/keep").as_deref(), Some("mine"));
}

#[test]
fn cdi_arguments_are_read_as_upstream_reads_them() {
    let nvidia = "/usr/bin/nvidia-cdi-hook";
    let spec = cdi_hook(
        &[
            "nvidia-cdi-hook",
            "create-symlinks",
            "--link",
            "--link",
            "t::/opt/dbl",
            "--link",
            "t::/brkdd/../brklink",
        ],
        "createContainer",
        nvidia,
    );
    let mut sys = with_cdi(&spec);
    initialize(&opts(), &mut sys).unwrap();
    assert_eq!(sys.dest("/opt/dbl").as_deref(), Some("t"));
    assert_eq!(sys.dest("/brklink").as_deref(), Some("t"));
    assert!(
        sys.lstat(Path::new("/brkdd")).is_err(),
        "no stray directory"
    );

    let spec = cdi_hook(
        &[
            "nvidia-cdi-hook",
            "update-ldcache",
            "--folder",
            "--folder",
            "/opt/ldd",
        ],
        "createContainer",
        nvidia,
    );
    let mut sys = with_cdi(&spec);
    initialize(&opts(), &mut sys).unwrap();
    assert_eq!(
        sys.text("/etc/ld.so.conf.d/toolbx-nvidia.conf").as_deref(),
        Some("# Written by Toolbx\n# https://containertoolbx.org/\n\n/opt/ldd\n")
    );

    // null is no value, as in Go.
    for spec in [
        r#"{"containerEdits":null}"#,
        r#"{"containerEdits":{"mounts":null,"hooks":null}}"#,
    ] {
        let mut sys = with_cdi(spec);
        initialize(&opts(), &mut sys).unwrap();
    }
}
