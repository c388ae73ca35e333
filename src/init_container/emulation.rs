//! Foreign-architecture emulation, set up before anything in the image runs
//! (spec: cross-arch.md §8.5).
//!
//! Sandbox mode mounts a binfmt_misc instance of the container's own and
//! registers the host's QEMU there with the C flag, so setuid programs such
//! as sudo work; it only ever does so after proving the instance is private.
//! Host mode, for containers in the initial user namespace (rootful) or
//! kernels without per-namespace instances, uses the host's handler and
//! writes nothing. In both modes a foreign `true` must then run.

use std::path::{Path, PathBuf};

use nix::errno::Errno;
use tracing::{debug, warn};

use super::{InitError, Sys};
use crate::arch::{Arch, binfmt};

/// Where binfmt_misc lives, in the container's mount namespace.
pub const BINFMT_MISC: &str = "/proc/sys/fs/binfmt_misc";
/// The host's instance as the container sees it, for reading only.
const HOST_BINFMT_MISC: &str = "/run/host/proc/sys/fs/binfmt_misc";

/// What `--arch` and `--arch-emulator-path` asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmulationOptions {
    /// The container's architecture (not the host's).
    pub arch: Arch,
    /// The host path of the emulator recorded at create time; `None` when
    /// the CPU runs this architecture natively.
    pub emulator: Option<PathBuf>,
}

/// Sets up and proves emulation for a foreign container.
pub(super) fn set_up(opts: &EmulationOptions, sys: &mut dyn Sys) -> Result<(), InitError> {
    let arch = opts.arch;
    debug!("Setting up emulation for architecture {arch}");
    let Some(stored) = &opts.emulator else {
        debug!("Architecture {arch} runs natively on this CPU");
        return probe(arch, sys);
    };
    let uid_map = sys
        .read_file(Path::new("/proc/self/uid_map"))
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    if binfmt::is_initial_user_namespace(&uid_map) {
        // The initial namespace's binfmt_misc is the host's: never mount or
        // write it (cross-arch.md B14).
        debug!("Container is in the initial user namespace: using the host's binfmt_misc handler");
        // Rootful: the user is root already, so a missing C flag costs nothing.
        host_mode(arch, sys, false)?;
        return probe(arch, sys);
    }
    match sys.mount_binfmt_misc(Path::new(BINFMT_MISC)) {
        Ok(()) => {}
        Err(Errno::EPERM | Errno::EACCES) => {
            debug!("Mounting binfmt_misc was refused: using the host's binfmt_misc handler");
            host_mode(arch, sys, true)?;
            return probe(arch, sys);
        }
        Err(e) => return Err(InitError::MountBinfmt(e)),
    }
    let names = sys
        .list_dir(Path::new(BINFMT_MISC))
        .map_err(InitError::ReadBinfmt)?;
    if !binfmt::is_fresh_instance(&names) {
        let _ = sys.unmount(Path::new(BINFMT_MISC));
        return Err(InitError::SharedBinfmt);
    }
    let interpreter = interpreter(arch, stored, sys)?;
    let mut flags = String::from("FC");
    if host_entry(arch, sys).is_some_and(|e| e.preserve_argv0()) {
        // The host's qemu takes argv[0] from the kernel only if its own
        // handler says so; follow it.
        flags.insert(0, 'P');
    }
    let registration = binfmt::registration(arch, &interpreter, &flags);
    debug!("Registering {registration}");
    sys.write_register(
        &Path::new(BINFMT_MISC).join("register"),
        registration.as_bytes(),
    )
    .map_err(|source| InitError::Register {
        arch: arch.oci_name(),
        source,
    })?;
    let entry_path = Path::new(BINFMT_MISC).join(arch.binfmt_name());
    let entry = sys
        .read_file(&entry_path)
        .ok()
        .and_then(|b| binfmt::parse_entry(&String::from_utf8_lossy(&b)).ok());
    match entry {
        Some(e) if e.enabled && e.fix_binary() && e.credentials() => {}
        _ => return Err(InitError::RegisterReadback(arch.oci_name())),
    }
    probe(arch, sys)
}

/// The host's handler for `arch`, found by content.
fn host_entry(arch: Arch, sys: &dyn Sys) -> Option<binfmt::Entry> {
    let dir = Path::new(HOST_BINFMT_MISC);
    let mut names = sys.list_dir(dir).ok()?;
    names.sort();
    names
        .iter()
        .filter(|n| *n != "register" && *n != "status")
        .filter_map(|n| sys.read_file(&dir.join(n)).ok())
        .filter_map(|b| binfmt::parse_entry(&String::from_utf8_lossy(&b)).ok())
        .find(|e| e.enabled && e.matches(arch))
}

/// Host mode: nothing to write; say what will not work.
fn host_mode(arch: Arch, sys: &dyn Sys, rootless: bool) -> Result<(), InitError> {
    if rootless
        && let Some(entry) = host_entry(arch, sys)
        && !entry.credentials()
    {
        warn!(
            "The host's binfmt_misc handler for {arch} lacks the C flag: setuid programs such as sudo will not gain root"
        );
    }
    Ok(())
}

/// The emulator as the container sees it: the recorded host path under
/// `/run/host`, else the usual places there.
fn interpreter(arch: Arch, stored: &Path, sys: &dyn Sys) -> Result<PathBuf, InitError> {
    let host_root = Path::new("/run/host");
    let expected = if stored.starts_with(host_root) {
        stored.to_path_buf()
    } else {
        host_root.join(stored.strip_prefix("/").unwrap_or(stored))
    };
    if sys.check_emulator(&expected).is_ok() {
        return Ok(expected);
    }
    let [static_name, plain_name] = arch.emulator_names();
    let fallbacks = [
        host_root.join("usr/bin").join(static_name),
        host_root.join("usr/bin").join(plain_name),
        host_root
            .join("usr/libexec/qemu-binfmt")
            .join(format!("{}-binfmt-P", arch.qemu_name())),
    ];
    for candidate in fallbacks {
        if let Ok(found) = sys.check_emulator(&candidate) {
            warn!(
                "QEMU emulator not found at expected path '{}', using fallback at '{}'",
                expected.display(),
                found.display()
            );
            return Ok(found);
        }
    }
    Err(InitError::NoEmulator {
        arch: arch.oci_name(),
        looked_for: expected,
    })
}

/// Runs the image's own `true`, which is a foreign binary, and says from
/// the raw errno what is wrong when it does not run. An image without
/// `true` is not a reason to fail (cross-arch.md B9): the probe is skipped.
fn probe(arch: Arch, sys: &mut dyn Sys) -> Result<(), InitError> {
    let Some(program) = ["/usr/bin/true", "/bin/true"]
        .into_iter()
        .find(|p| sys.stat(Path::new(p)).is_ok())
    else {
        debug!("No true(1) in the image: not testing emulation for architecture {arch}");
        return Ok(());
    };
    match sys.run(program, &[]) {
        Ok(()) => {
            debug!("Emulation for architecture {arch} works");
            Ok(())
        }
        Err(e) => match e.raw_os_error() {
            Some(code) if code == Errno::ENOEXEC as i32 => {
                Err(InitError::EmulationNotWorking(arch.oci_name()))
            }
            Some(code) if code == Errno::ENOENT as i32 => {
                Err(InitError::InterpreterUnreachable(arch.oci_name()))
            }
            _ => Err(InitError::EmulationTest {
                arch: arch.oci_name(),
                source: e,
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::super::fake::FakeSys;
    use super::*;

    const ROOTLESS_MAP: &str =
        "         0       1000          1\n         1     100000      65536\n";
    const INITIAL_MAP: &str = "         0          0 4294967295\n";
    const HOST_ENTRY: &str = "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: PF\noffset 0\nmagic 7f454c460201010000000000000000000200b700\nmask ffffffffffffff00fffffffffffffffffeffffff\n";

    fn foreign(uid_map: &str) -> (FakeSys, EmulationOptions) {
        let mut sys = FakeSys::new();
        sys.file("/proc/self/uid_map", uid_map);
        sys.file("/usr/bin/true", "foreign ELF");
        sys.dir("/proc/sys/fs/binfmt_misc");
        sys.file("/run/host/usr/bin/qemu-aarch64-static", "static-pie qemu");
        sys.file("/run/host/proc/sys/fs/binfmt_misc/qemu-aarch64", HOST_ENTRY);
        sys.file("/run/host/proc/sys/fs/binfmt_misc/register", "");
        let opts = EmulationOptions {
            arch: Arch::Arm64,
            emulator: Some(PathBuf::from("/usr/bin/qemu-aarch64-static")),
        };
        (sys, opts)
    }

    #[test]
    fn sandbox_registers_in_a_fresh_instance_with_c_and_f() {
        let (mut sys, opts) = foreign(ROOTLESS_MAP);
        set_up(&opts, &mut sys).unwrap();
        assert_eq!(sys.log[0], "mount binfmt_misc /proc/sys/fs/binfmt_misc");
        // P follows the host's own handler.
        let expected = format!(
            "register {}",
            binfmt::registration(
                Arch::Arm64,
                Path::new("/run/host/usr/bin/qemu-aarch64-static"),
                "PFC"
            )
        );
        assert_eq!(sys.log[1], expected);
        assert_eq!(sys.log[2], "run /usr/bin/true");
        let entry = sys.text("/proc/sys/fs/binfmt_misc/qemu-aarch64").unwrap();
        let parsed = binfmt::parse_entry(&entry).unwrap();
        assert!(parsed.enabled && parsed.credentials() && parsed.fix_binary());
        // The host's instance, as the container sees it, is untouched.
        assert_eq!(
            sys.text("/run/host/proc/sys/fs/binfmt_misc/qemu-aarch64")
                .unwrap(),
            HOST_ENTRY
        );
    }

    #[test]
    fn initial_user_namespace_never_mounts_or_writes() {
        let (mut sys, opts) = foreign(INITIAL_MAP);
        set_up(&opts, &mut sys).unwrap();
        assert_eq!(sys.log, ["run /usr/bin/true"]);
    }

    #[test]
    fn shared_instance_is_refused_and_unmounted() {
        let (mut sys, opts) = foreign(ROOTLESS_MAP);
        sys.binfmt_existing = vec![("qemu-aarch64".into(), HOST_ENTRY.into())];
        let err = set_up(&opts, &mut sys).unwrap_err();
        assert_eq!(
            err.to_string(),
            "refusing to register binfmt_misc handler: this container shares the host's binfmt_misc"
        );
        assert!(sys.log.iter().any(|l| l.starts_with("umount")));
        assert!(!sys.log.iter().any(|l| l.starts_with("register")));
    }

    #[test]
    fn refused_mount_falls_back_to_the_hosts_handler() {
        let (mut sys, opts) = foreign(ROOTLESS_MAP);
        sys.binfmt_mount_error = Some(Errno::EPERM);
        set_up(&opts, &mut sys).unwrap();
        assert_eq!(sys.log, ["run /usr/bin/true"]);
    }

    #[test]
    fn missing_emulator_uses_fallback_or_names_the_path() {
        let (mut sys, mut opts) = foreign(ROOTLESS_MAP);
        opts.emulator = Some(PathBuf::from("/opt/qemu/qemu-aarch64-static"));
        set_up(&opts, &mut sys).unwrap();
        assert!(
            sys.log[1].contains(":/run/host/usr/bin/qemu-aarch64-static:"),
            "{}",
            sys.log[1]
        );

        let (mut sys, mut opts) = foreign(ROOTLESS_MAP);
        sys.nodes
            .remove(Path::new("/run/host/usr/bin/qemu-aarch64-static"));
        opts.emulator = Some(PathBuf::from("/opt/qemu/qemu-aarch64-static"));
        let err = set_up(&opts, &mut sys).unwrap_err().to_string();
        assert!(
            err.starts_with("Cannot run container for architecture arm64:\n"),
            "{err}"
        );
        assert!(
            err.contains("/run/host/opt/qemu/qemu-aarch64-static"),
            "{err}"
        );
    }

    #[test]
    fn errno_of_the_probe_names_the_problem() {
        let (mut sys, opts) = foreign(INITIAL_MAP);
        sys.true_errno = Some(Errno::ENOEXEC as i32);
        let err = set_up(&opts, &mut sys).unwrap_err().to_string();
        assert!(
            err.starts_with(
                "QEMU emulation for architecture arm64 is not working\nPlease verify that:"
            ),
            "{err}"
        );

        let (mut sys, opts) = foreign(INITIAL_MAP);
        sys.true_errno = Some(Errno::ENOENT as i32);
        let err = set_up(&opts, &mut sys).unwrap_err().to_string();
        assert!(err.contains("interpreter is not reachable"), "{err}");
    }

    #[test]
    fn native_compatible_arch_only_probes() {
        let mut sys = FakeSys::new();
        sys.file("/usr/bin/true", "foreign ELF");
        let opts = EmulationOptions {
            arch: Arch::I386,
            emulator: None,
        };
        set_up(&opts, &mut sys).unwrap();
        assert_eq!(sys.log, ["run /usr/bin/true"]);
        // An image without true(1) is not tested, and not failed.
        let mut sys = FakeSys::new();
        set_up(&opts, &mut sys).unwrap();
        assert!(sys.log.is_empty());
    }
}
