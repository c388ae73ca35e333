//! The `podman create` command line (spec: podman.md §5), built as a pure
//! function so its every word is tested.

use std::ffi::OsString;
use std::path::PathBuf;

/// Everything the `podman create` line depends on.
#[derive(Debug, Clone, Default)]
pub struct CreateSpec {
    /// Container name.
    pub name: String,
    /// Full image reference or ID.
    pub image: String,
    /// Host path of this binary.
    pub toolbox_path: PathBuf,
    /// User name, IDs, home and shell.
    pub user: String,
    /// UID.
    pub uid: u32,
    /// GID.
    pub gid: u32,
    /// `$HOME` as given (the entry point's `--home`).
    pub home: PathBuf,
    /// `$HOME` with symlinks resolved (the volume).
    pub home_real: PathBuf,
    /// Login shell.
    pub shell: PathBuf,
    /// `$XDG_RUNTIME_DIR` for rootless users.
    pub xdg_runtime_dir: Option<PathBuf>,
    /// The D-Bus system socket, resolved.
    pub dbus_system_socket: Option<PathBuf>,
    /// podman >= 2.1.0: a fresh devpts.
    pub devpts: bool,
    /// `TOOLBX_DELAY_ENTRY_POINT` test hook.
    pub delay_entry_point: Option<String>,
    /// `TOOLBX_FAIL_ENTRY_POINT` test hook.
    pub fail_entry_point: Option<String>,
    /// `/media` when it exists and is not a link to `/run/media`.
    pub media: bool,
    /// `/mnt` when it exists and is not a link to `/var/mnt`.
    pub mnt: bool,
    /// `/run/media` exists.
    pub run_media: bool,
    /// Host file mounted as `/etc/profile.d/toolbox.sh`.
    pub profile_d: Option<PathBuf>,
    /// `/home` is a link to `/var/home`.
    pub home_link: bool,
    /// `/media` is a link to `/run/media`.
    pub media_link: bool,
    /// `/mnt` is a link to `/var/mnt`.
    pub mnt_link: bool,
    /// OCI architecture name for the `toolbox-arch` label.
    pub arch: String,
    /// For a foreign-architecture container, what the entry point needs.
    pub foreign: Option<ForeignSpec>,
}

/// The entry point's extra arguments for a foreign-architecture container.
/// Native containers get none, so older toolbox binaries can still start
/// them (cross-arch.md B3).
#[derive(Debug, Clone, Default)]
pub struct ForeignSpec {
    /// OCI architecture name (not the series' enum number, B2).
    pub arch: String,
    /// The host's emulator, canonical; none when the CPU runs it natively.
    pub emulator: Option<PathBuf>,
}

fn os(s: impl Into<OsString>) -> OsString {
    s.into()
}

fn volume(src: &std::path::Path, dst: &std::path::Path, opts: &str) -> OsString {
    let mut v = OsString::from(src);
    v.push(":");
    v.push(dst);
    if !opts.is_empty() {
        v.push(":");
        v.push(opts);
    }
    v
}

/// The argv after `podman --log-level LVL`.
pub fn create_args(spec: &CreateSpec) -> Vec<OsString> {
    let mut a: Vec<OsString> = vec![os("create")];
    // Share the host's cgroup namespace so /sys/fs/cgroup looks like the host's.
    a.extend([os("--cgroupns"), os("host")]);
    // The entry point links the host's /etc/resolv.conf instead.
    a.extend([os("--dns"), os("none")]);
    if let Some(v) = &spec.delay_entry_point {
        a.extend([os("--env"), os(format!("TOOLBX_DELAY_ENTRY_POINT={v}"))]);
    }
    if let Some(v) = &spec.fail_entry_point {
        a.extend([os("--env"), os(format!("TOOLBX_FAIL_ENTRY_POINT={v}"))]);
    }
    // The entry point's pre-run and in-container forwarding need it.
    let mut path = OsString::from("TOOLBOX_PATH=");
    path.push(&spec.toolbox_path);
    a.extend([os("--env"), path]);
    if let Some(rt) = &spec.xdg_runtime_dir {
        // The entry point finds the runtime directory (stamp) through it.
        let mut v = OsString::from("XDG_RUNTIME_DIR=");
        v.push(rt);
        a.extend([os("--env"), v]);
    }
    a.extend([os("--hostname"), os("toolbx")]);
    // Shared SysV IPC and /dev/shm for host applications (X11 MIT-SHM).
    a.extend([os("--ipc"), os("host")]);
    a.extend([os("--label"), os("com.github.containers.toolbox=true")]);
    // Ours: every container records its architecture (cli.md §16 #19).
    a.extend([os("--label"), os(format!("toolbox-arch={}", spec.arch))]);
    if spec.devpts {
        // A fresh devpts so ptys belong to the container's tty group.
        a.extend([os("--mount"), os("type=devpts,destination=/dev/pts")]);
    }
    a.extend([os("--name"), os(spec.name.clone())]);
    a.extend([os("--network"), os("host")]);
    // The entry point links the host's /etc/hosts instead.
    a.push(os("--no-hosts"));
    // Host PIDs: the entry point's getpid() names the stamp the host waits for.
    a.extend([os("--pid"), os("host")]);
    // The entry point mounts; devices are the host's.
    a.push(os("--privileged"));
    a.extend([os("--security-opt"), os("label=disable")]);
    a.extend([os("--ulimit"), os("host")]);
    let userns = if spec.uid == 0 { "host" } else { "keep-id" };
    a.extend([os("--userns"), os(userns)]);
    // The entry point adds the user and mounts as container root.
    a.extend([os("--user"), os("root:root")]);
    a.extend([os("--volume"), os("/:/run/host:rslave")]);
    a.extend([os("--volume"), os("/dev:/dev:rslave")]);
    if let Some(sock) = &spec.dbus_system_socket {
        a.extend([os("--volume"), volume(sock, sock, "")]);
    }
    a.extend([
        os("--volume"),
        volume(&spec.home_real, &spec.home_real, "rslave"),
    ]);
    a.extend([
        os("--volume"),
        volume(
            &spec.toolbox_path,
            std::path::Path::new("/usr/bin/toolbox"),
            "ro",
        ),
    ]);
    let rt = match &spec.xdg_runtime_dir {
        Some(rt) => rt.clone(),
        None => PathBuf::from("/run/toolbox"),
    };
    a.extend([os("--volume"), volume(&rt, &rt, "")]);
    if spec.media {
        a.extend([os("--volume"), os("/media:/media:rslave")]);
    }
    if spec.mnt {
        a.extend([os("--volume"), os("/mnt:/mnt:rslave")]);
    }
    if spec.run_media {
        a.extend([os("--volume"), os("/run/media:/run/media:rslave")]);
    }
    if let Some(p) = &spec.profile_d {
        a.extend([
            os("--volume"),
            volume(p, std::path::Path::new("/etc/profile.d/toolbox.sh"), "ro"),
        ]);
    }
    a.push(os(spec.image.clone()));
    a.extend(["toolbox", "--log-level", "debug", "init-container"].map(os));
    a.extend([os("--gid"), os(spec.gid.to_string())]);
    a.extend([os("--home"), os(spec.home.clone())]);
    a.extend([os("--shell"), os(spec.shell.clone())]);
    a.extend([os("--uid"), os(spec.uid.to_string())]);
    a.extend([os("--user"), os(spec.user.clone())]);
    if spec.home_link {
        a.push(os("--home-link"));
    }
    if spec.media_link {
        a.push(os("--media-link"));
    }
    if spec.mnt_link {
        a.push(os("--mnt-link"));
    }
    if let Some(f) = &spec.foreign {
        a.extend([os("--arch"), os(f.arch.clone())]);
        if let Some(emulator) = &f.emulator {
            a.extend([os("--arch-emulator-path"), os(emulator.clone())]);
        }
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(spec: &CreateSpec) -> String {
        create_args(spec)
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn rootless_line() {
        let spec = CreateSpec {
            name: "fedora-toolbox-40".into(),
            image: "registry.fedoraproject.org/fedora-toolbox:40".into(),
            toolbox_path: "/usr/local/bin/toolbox".into(),
            user: "alice".into(),
            uid: 1000,
            gid: 1000,
            home: "/home/alice".into(),
            home_real: "/home/alice".into(),
            shell: "/bin/bash".into(),
            xdg_runtime_dir: Some("/run/user/1000".into()),
            dbus_system_socket: Some("/run/dbus/system_bus_socket".into()),
            devpts: true,
            arch: "amd64".into(),
            ..Default::default()
        };
        assert_eq!(
            line(&spec),
            "create --cgroupns host --dns none --env TOOLBOX_PATH=/usr/local/bin/toolbox \
             --env XDG_RUNTIME_DIR=/run/user/1000 --hostname toolbx --ipc host \
             --label com.github.containers.toolbox=true --label toolbox-arch=amd64 \
             --mount type=devpts,destination=/dev/pts --name fedora-toolbox-40 --network host \
             --no-hosts --pid host --privileged --security-opt label=disable --ulimit host \
             --userns keep-id --user root:root --volume /:/run/host:rslave --volume /dev:/dev:rslave \
             --volume /run/dbus/system_bus_socket:/run/dbus/system_bus_socket \
             --volume /home/alice:/home/alice:rslave --volume /usr/local/bin/toolbox:/usr/bin/toolbox:ro \
             --volume /run/user/1000:/run/user/1000 registry.fedoraproject.org/fedora-toolbox:40 \
             toolbox --log-level debug init-container --gid 1000 --home /home/alice --shell /bin/bash \
             --uid 1000 --user alice"
        );
    }

    #[test]
    fn root_uses_host_userns_and_run_toolbox() {
        let spec = CreateSpec {
            uid: 0,
            toolbox_path: "/t".into(),
            home_real: "/root".into(),
            home_link: true,
            delay_entry_point: Some("3".into()),
            ..Default::default()
        };
        let l = line(&spec);
        assert!(l.contains("--userns host"));
        assert!(l.contains("--volume /run/toolbox:/run/toolbox"));
        assert!(!l.contains("XDG_RUNTIME_DIR"));
        assert!(l.contains("--env TOOLBX_DELAY_ENTRY_POINT=3"));
        assert!(l.ends_with("--home-link"));
        assert!(
            !l.contains("--arch"),
            "native containers get no new entry-point flags"
        );
    }

    #[test]
    fn foreign_entry_point_names_arch_and_emulator() {
        let spec = CreateSpec {
            arch: "arm64".into(),
            foreign: Some(ForeignSpec {
                arch: "arm64".into(),
                emulator: Some("/usr/bin/qemu-aarch64-static".into()),
            }),
            ..Default::default()
        };
        let l = line(&spec);
        assert!(l.contains("--label toolbox-arch=arm64"));
        assert!(
            l.ends_with("--arch arm64 --arch-emulator-path /usr/bin/qemu-aarch64-static"),
            "{l}"
        );
    }
}
