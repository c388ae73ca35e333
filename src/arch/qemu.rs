//! Finding the host's QEMU user-mode emulator for a foreign architecture.
//!
//! The search order is `qemu-<q>-static`, then `qemu-<q>`, in every `PATH`
//! directory, as the series does: `PATH` alone decides, so users (and
//! tests) can point toolbox at a particular emulator, and a minimal `PATH`
//! is reported rather than silently worked around. Each candidate must pass
//! [`check_emulator`], so a script wrapper or a dynamically linked build
//! earlier in `PATH` does not hide a good static one later.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use super::Arch;
use super::elf::{EmulatorError, check_emulator};

/// The directory where Debian's qemu-user packages put binfmt_misc
/// interpreters under their own names (`aarch64-binfmt-P`).
const DEBIAN_BINFMT_DIR: &str = "/usr/libexec/qemu-binfmt";

/// Every path [`find_emulator`] tries, in order, without duplicates.
///
/// Empty and relative `PATH` entries are skipped: they would make the
/// answer depend on the working directory, and the path found is stored
/// in the container for good.
pub fn candidates(arch: Arch, path_var: Option<&OsStr>) -> Vec<PathBuf> {
    candidates_with(arch, path_var, &[])
}

/// [`candidates`] with the fallback directories as a parameter, so tests do
/// not depend on what this machine has installed.
fn candidates_with(arch: Arch, path_var: Option<&OsStr>, fallbacks: &[&str]) -> Vec<PathBuf> {
    let names = arch.emulator_names();
    let mut dirs: Vec<PathBuf> = path_var
        .map(|var| std::env::split_paths(var).collect())
        .unwrap_or_default();
    dirs.retain(|dir| dir.is_absolute());
    dirs.extend(fallbacks.iter().map(PathBuf::from));
    let mut out: Vec<PathBuf> = Vec::new();
    for dir in &dirs {
        let mut add = |path: PathBuf| {
            if !out.contains(&path) {
                out.push(path);
            }
        };
        for name in &names {
            add(dir.join(name));
        }
        // Debian's name, a symlink to qemu-<q>-static there. Tried last in
        // this directory, as the generic names are what other distros use.
        if dir == Path::new(DEBIAN_BINFMT_DIR) {
            add(dir.join(format!("{}-binfmt-P", arch.qemu_name())));
        }
    }
    out
}

/// Finds a static QEMU emulator for `arch` that runs on `host`, and returns
/// its canonical path.
///
/// `path_var` is the value of `PATH` (a parameter, so tests need not touch
/// the environment). When no candidate exists at all, the error is
/// [`EmulatorError::NotFound`]. When some exist but none passes
/// [`check_emulator`], the error is the first one's (e.g. dynamically
/// linked, not an ELF file), so the user learns why it was refused.
pub fn find_emulator(
    arch: Arch,
    host: Arch,
    path_var: Option<&OsStr>,
) -> Result<PathBuf, EmulatorError> {
    find_in(arch, host, candidates(arch, path_var))
}

/// Tries `searched` in order (see [`find_emulator`]).
fn find_in(arch: Arch, host: Arch, searched: Vec<PathBuf>) -> Result<PathBuf, EmulatorError> {
    let mut first_failure = None;
    for candidate in &searched {
        match check_emulator(candidate, host) {
            Ok(path) => {
                tracing::debug!("Found QEMU emulator for {arch} at {}", path.display());
                return Ok(path);
            }
            // Nothing there (and no dangling symlink either): not a failure
            // worth reporting, just the next place to look.
            Err(EmulatorError::Missing { .. }) if candidate.symlink_metadata().is_err() => {}
            Err(err) => {
                tracing::debug!("Rejected QEMU emulator candidate: {err}");
                first_failure.get_or_insert(err);
            }
        }
    }
    Err(first_failure.unwrap_or(EmulatorError::NotFound { arch, searched }))
}

/// The line toolbox adds under "No `<oci>` statically linked QEMU emulator
/// binary found": how to fix it.
pub fn install_hint(arch: Arch) -> String {
    format!(
        "Install a statically linked qemu-{}, e.g. the qemu-user-static package of your distribution.",
        arch.qemu_name()
    )
}

#[cfg(test)]
mod tests {
    use super::super::elf::test_elf;
    use super::*;
    use std::ffi::OsString;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    fn host() -> Arch {
        Arch::host().unwrap_or(Arch::Amd64)
    }

    /// The arch the tests look for an emulator of.
    const TARGET: Arch = Arch::Riscv64;

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, bytes).expect("write");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod");
        path
    }

    fn static_host_elf() -> Vec<u8> {
        let row = host().row();
        test_elf::build(
            row.class,
            row.endian,
            test_elf::ET_DYN,
            row.e_machine,
            &[test_elf::PT_LOAD],
        )
    }

    fn dynamic_host_elf() -> Vec<u8> {
        let row = host().row();
        test_elf::build(
            row.class,
            row.endian,
            test_elf::ET_DYN,
            row.e_machine,
            &[test_elf::PT_INTERP, test_elf::PT_LOAD],
        )
    }

    fn path_of(dirs: &[&Path]) -> OsString {
        std::env::join_paths(dirs).expect("joinable")
    }

    /// [`find_emulator`] restricted to `dirs`, without the fallback dirs.
    fn find(dirs: &[&Path]) -> Result<PathBuf, EmulatorError> {
        let path = path_of(dirs);
        find_in(TARGET, host(), candidates_with(TARGET, Some(&path), &[]))
    }

    #[test]
    fn candidate_order() {
        let got = candidates(Arch::Arm64, Some(OsStr::new("/a:relative::/b:/a")));
        let want: Vec<PathBuf> = [
            "/a/qemu-aarch64-static",
            "/a/qemu-aarch64",
            "/b/qemu-aarch64-static",
            "/b/qemu-aarch64",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        assert_eq!(got, want);
        // A directory listed twice is tried once; no PATH means nothing.
        let got = candidates(Arch::Arm, Some(OsStr::new("/usr/bin:/usr/bin")));
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], PathBuf::from("/usr/bin/qemu-arm-static"));
        assert!(candidates(Arch::Arm, None).is_empty());
    }

    #[test]
    fn nothing_found() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = find(&[dir.path()]).expect_err("none");
        match &err {
            EmulatorError::NotFound { arch, searched } => {
                assert_eq!(*arch, TARGET);
                assert_eq!(searched[0], dir.path().join("qemu-riscv64-static"));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(
            err.to_string(),
            "No riscv64 statically linked QEMU emulator binary found"
        );
        assert_eq!(
            install_hint(TARGET),
            "Install a statically linked qemu-riscv64, e.g. the qemu-user-static package of your distribution."
        );
    }

    #[test]
    fn static_beats_earlier_bad_candidates() {
        let first = tempfile::tempdir().expect("tempdir");
        let second = tempfile::tempdir().expect("tempdir");
        write(first.path(), "qemu-riscv64-static", b"#!/bin/sh\nexit 1\n");
        write(first.path(), "qemu-riscv64", &dynamic_host_elf());
        let good = write(second.path(), "qemu-riscv64", &static_host_elf());
        let got = find(&[first.path(), second.path()]).expect("found");
        assert_eq!(got, fs::canonicalize(good).expect("canonical"));
    }

    #[test]
    fn static_name_is_preferred() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "qemu-riscv64", &static_host_elf());
        let good = write(dir.path(), "qemu-riscv64-static", &static_host_elf());
        let got = find(&[dir.path()]).expect("found");
        assert_eq!(got, fs::canonicalize(good).expect("canonical"));
    }

    #[test]
    fn script_only_reports_not_elf() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(
            dir.path(),
            "qemu-riscv64-static",
            b"#!/bin/sh\nexec qemu \"$@\"\n",
        );
        let err = find(&[dir.path()]).expect_err("script");
        assert!(matches!(err, EmulatorError::NotElf { .. }), "{err:?}");
    }

    #[test]
    fn dynamic_only_reports_dynamic() {
        let dir = tempfile::tempdir().expect("tempdir");
        // The first failure wins: the dynamic one comes before the script.
        write(dir.path(), "qemu-riscv64-static", &dynamic_host_elf());
        write(dir.path(), "qemu-riscv64", b"#!/bin/sh\n");
        let err = find(&[dir.path()]).expect_err("dynamic");
        assert!(matches!(err, EmulatorError::Dynamic { .. }), "{err:?}");
        assert!(err.to_string().contains("qemu-riscv64-static"));
        assert!(err.to_string().contains("dynamically linked"));
    }

    /// Machine-dependent tests say so when they cannot run here.
    fn skip(why: &str) {
        eprintln!("skipped: {why}");
    }

    /// The file at `path` if it is an ELF binary for this host.
    fn host_elf(path: &str) -> Option<(Vec<u8>, bool)> {
        let bytes = fs::read(path).ok()?;
        let info = super::super::elf::inspect(&bytes).ok()?;
        (info.arch.is_some() && info.arch == Arch::host()).then(|| (bytes, info.is_static()))
    }

    #[test]
    fn copy_of_real_dynamic_binary_is_rejected() {
        let Some((bytes, false)) = host_elf("/bin/true") else {
            return skip("/bin/true is not a dynamic host binary");
        };
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "qemu-riscv64-static", &bytes);
        let err = find(&[dir.path()]).expect_err("dynamic");
        assert!(matches!(err, EmulatorError::Dynamic { .. }), "{err:?}");
    }

    #[test]
    fn copy_of_real_static_qemu_is_found() {
        // Debian's qemu-user-static is static-pie; skip where it is absent.
        let real = "/usr/bin/qemu-aarch64-static";
        let (Some((bytes, true)), Some(host)) = (host_elf(real), Arch::host()) else {
            return skip("no static qemu-aarch64-static for this host");
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let copy = write(dir.path(), "qemu-riscv64-static", &bytes);
        let got = find(&[dir.path()]).expect("static-pie accepted");
        assert_eq!(got, fs::canonicalize(copy).expect("canonical"));
        // And the installed one through PATH.
        let got =
            find_emulator(Arch::Arm64, host, Some(OsStr::new("/usr/bin"))).expect("installed");
        assert_eq!(got, fs::canonicalize(real).expect("canonical"));
    }

    #[test]
    fn dangling_symlink_counts_as_a_failure() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::os::unix::fs::symlink(
            dir.path().join("gone"),
            dir.path().join("qemu-riscv64-static"),
        )
        .expect("symlink");
        let err = find(&[dir.path()]).expect_err("dangling");
        assert!(matches!(err, EmulatorError::Missing { .. }), "{err:?}");
    }
}
