//! Foreign-architecture containers on the host side: which architecture a
//! request means, the names that keep a foreign container and image apart
//! from the native ones, the host checks before anything is pulled, and
//! getting the image (spec: cross-arch.md §8.1-§8.4).

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow};

use crate::arch::{Arch, binfmt, qemu};
use crate::distro;
use crate::error::{ExitError, with_usage};
use crate::skopeo::{self, Platform, Remote, SkopeoError};

/// The host's binfmt_misc, read (never written) for host mode.
pub const HOST_BINFMT_MISC: &str = "/proc/sys/fs/binfmt_misc";

/// The architecture the host runs, or an error on hosts outside the table
/// when an architecture is asked for.
fn host_arch() -> Result<Arch> {
    Arch::host().ok_or_else(|| {
        anyhow!(
            "this host's architecture ({}) is not in Toolbx's table: only native containers work here",
            std::env::consts::ARCH
        )
    })
}

/// Resolves `--arch` and an image's tag into the container's architecture,
/// `None` meaning native (cross-arch.md §1.3). The tag counts only for a
/// supported distro's images, as in the series.
pub fn resolve(flag: Option<&str>, image: &str) -> Result<Option<Arch>> {
    let requested = match flag.filter(|f| !f.is_empty()) {
        Some(value) => Some(Arch::parse_arg(value).map_err(|e| anyhow!("{e}"))?),
        None => None,
    };
    let is_distro_image = distro::DISTROS
        .iter()
        .any(|d| d.image == distro::image_basename(image));
    let from_tag = if is_distro_image && !image.is_empty() {
        Arch::from_tag(distro::image_tag(image))
    } else {
        None
    };
    let arch = match (requested, from_tag) {
        (Some(r), Some(t)) if r != t => {
            return Err(with_usage(format!(
                "conflicting architecture specifications\n--arch={} but image tag specifies {}",
                r.oci_name(),
                t.oci_name()
            )));
        }
        (Some(r), _) => r,
        (None, Some(t)) => t,
        (None, None) => return Ok(None),
    };
    match Arch::host() {
        Some(host) if host == arch => Ok(None),
        _ => Ok(Some(arch)),
    }
}

/// The default container name for a foreign container: the native one
/// plus `-<oci>`, unless the image's tag already names the architecture.
pub fn container_name(native_name: &str, image: &str, arch: Arch) -> String {
    if arch.tag_has_suffix_for(distro::image_tag(image)) {
        native_name.to_string()
    } else {
        format!("{native_name}-{}", arch.oci_name())
    }
}

/// The local name a foreign image is stored under, so that it never
/// overwrites or is mistaken for the native image of the same name
/// (cross-arch.md B10, B13): `<repo>:<tag or latest>-<oci>`.
pub fn local_image_name(full: &str, arch: Arch) -> Result<String> {
    if full.contains('@') {
        return Err(with_usage(format!(
            "image {full} is a digest reference\nUse --image with a tag to create a container for architecture {}.",
            arch.oci_name()
        )));
    }
    let tag = distro::image_tag(full);
    if arch.tag_has_suffix_for(tag) {
        return Ok(full.to_string());
    }
    let repo = if tag.is_empty() {
        full
    } else {
        &full[..full.len() - tag.len() - 1]
    };
    let tag = if tag.is_empty() { "latest" } else { tag };
    Ok(format!("{repo}:{tag}-{}", arch.oci_name()))
}

/// How the container will run foreign binaries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Emulation {
    /// The CPU runs them itself (i386 on x86_64, arm on some aarch64).
    Native,
    /// Through this host emulator, registered by the entry point in the
    /// container's own binfmt_misc instance, or the host's handler.
    Qemu(PathBuf),
}

/// Whether the kernel lets a user namespace mount its own binfmt_misc
/// (Linux 6.7).
pub fn kernel_has_binfmt_sandbox(release: &str) -> bool {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let major: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let minor: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    (major, minor) >= (6, 7)
}

fn cannot_create(arch: Arch, reason: impl std::fmt::Display) -> anyhow::Error {
    anyhow::Error::new(ExitError::new(
        1,
        format!(
            "Cannot create container for architecture {}\nThe host system does not have the required support: {reason}",
            arch.oci_name()
        ),
    ))
}

/// The host checks of cross-arch.md §8.4, before anything is pulled or
/// created. Reads the host's binfmt_misc in host mode; writes nothing.
pub fn check_host(arch: Arch, rootless: bool, binfmt_dir: &Path) -> Result<Emulation> {
    let host = host_arch()?;
    if arch.runs_natively_on(host) {
        return Ok(Emulation::Native);
    }
    let path_var = std::env::var_os("PATH");
    let emulator = qemu::find_emulator(arch, host, path_var.as_deref()).map_err(|e| match e {
        crate::arch::elf::EmulatorError::NotFound { .. } => {
            cannot_create(arch, format!("{e}\n{}", qemu::install_hint(arch)))
        }
        other => cannot_create(arch, format!("{other}\n{}", qemu::install_hint(arch))),
    })?;
    let release = nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default();
    if rootless && kernel_has_binfmt_sandbox(&release) {
        tracing::debug!("Using a binfmt_misc instance of the container's own for {arch}");
        return Ok(Emulation::Qemu(emulator));
    }
    // Host mode: the host's own handler must do the job, untouched.
    let entry = binfmt::find_matching(binfmt_dir, arch).ok().flatten();
    host_mode(arch, emulator, entry, rootless, &release, binfmt_dir)
}

/// Host mode's verdict on the host's handler for `arch`, if it has one.
fn host_mode(
    arch: Arch,
    emulator: PathBuf,
    entry: Option<(String, binfmt::Entry)>,
    rootless: bool,
    release: &str,
    binfmt_dir: &Path,
) -> Result<Emulation> {
    match entry {
        Some((name, e)) if e.enabled && e.fix_binary() => {
            tracing::debug!("Using the host's binfmt_misc handler {name} for {arch}");
            if rootless && !e.credentials() {
                crate::errln!(
                    "Warning: the host's binfmt_misc handler {name} lacks the C flag, so sudo and other setuid programs will not gain root in this container\nA kernel of version 6.7 or newer gives the container a handler of its own."
                );
            }
            Ok(Emulation::Qemu(emulator))
        }
        Some((name, e)) if e.enabled => Err(cannot_create(
            arch,
            format!(
                "the host's binfmt_misc handler {name} lacks the F flag, so its interpreter would not be visible in the container\nRegister it with the F (fix binary) flag, e.g. from the qemu-user-static package."
            ),
        )),
        Some((name, _)) => Err(cannot_create(
            arch,
            format!(
                "the host's binfmt_misc handler {name} for {} is disabled\nEnable it on the host: echo 1 > {}",
                arch.oci_name(),
                binfmt_dir.join(&name).display()
            ),
        )),
        None => Err(cannot_create(
            arch,
            format!(
                "No {} binfmt_misc registration found\n{}",
                arch.oci_name(),
                no_handler_hint(arch, &emulator, rootless, release)
            ),
        )),
    }
}

/// What to do when the host has the emulator but no handler for it: say
/// why the container cannot have one of its own, and how to register one.
fn no_handler_hint(arch: Arch, emulator: &Path, rootless: bool, release: &str) -> String {
    let why = if rootless {
        format!("Linux {release} is older than 6.7, so the container cannot have one of its own")
    } else {
        "a rootful container shares the host's binfmt_misc, which toolbox never writes to"
            .to_string()
    };
    let own = if rootless {
        ""
    } else {
        ", or use toolbox rootless on Linux 6.7 or newer"
    };
    format!(
        "{} is installed, but the host has no enabled binfmt_misc handler for {} and {why}.\nRegister one on the host ('update-binfmts --enable {}' or 'systemctl restart systemd-binfmt'){own}.",
        emulator.display(),
        arch.oci_name(),
        arch.binfmt_name()
    )
}

fn skopeo_missing(full: &str, arch: Arch) -> anyhow::Error {
    anyhow!(
        "Cannot inspect image {full} for architecture {}: skopeo is not installed.\nSkopeo is required for creating non-native architecture containers.",
        arch.oci_name()
    )
}

fn platform_matches(p: &Platform, arch: Arch) -> bool {
    Arch::from_oci(&p.architecture, p.variant.as_deref()) == Some(arch)
}

/// A platform as `--arch` would name it, or as the registry does.
fn describe(p: &Platform) -> String {
    match Arch::from_oci(&p.architecture, p.variant.as_deref()) {
        Some(a) => a.oci_name().to_string(),
        None => match &p.variant {
            Some(v) => format!("{}/{v}", p.architecture),
            None => p.architecture.clone(),
        },
    }
}

/// Checks, before any prompt, that the registry has the image for `arch`.
pub fn check_remote(full: &str, arch: Arch, authfile: Option<&str>) -> Result<()> {
    let remote = skopeo::remote_platforms(full, authfile).map_err(|e| match e {
        SkopeoError::Missing => skopeo_missing(full, arch),
        other => anyhow!(
            "failed to inspect image {full} for architecture {}\n{other}",
            arch.oci_name()
        ),
    })?;
    match remote {
        Remote::List(platforms) => {
            if platforms.iter().any(|p| platform_matches(p, arch)) {
                return Ok(());
            }
            let available: Vec<String> = platforms.iter().map(describe).collect();
            if available.is_empty() {
                Err(anyhow!("image {full} has no {} variant", arch.oci_name()))
            } else {
                Err(anyhow!(
                    "image {full} has no {} variant; available: {}",
                    arch.oci_name(),
                    available.join(", ")
                ))
            }
        }
        Remote::Single(p) if platform_matches(&p, arch) => Ok(()),
        Remote::Single(p) => Err(anyhow!(
            "image {full} is a single-architecture image for {}, but {} was requested",
            describe(&p),
            arch.oci_name()
        )),
    }
}

/// Copies the image's `arch` instance into local storage as `local`.
pub fn pull(full: &str, local: &str, arch: Arch, authfile: Option<&str>) -> Result<()> {
    let _spinner = crate::progress::Spinner::start(&format!("Pulling {full}: "));
    skopeo::copy(full, arch.oci_name(), arch.variant().filter(|_| arch == Arch::Arm), authfile, local)
        .map_err(|e| match e {
            SkopeoError::Missing => skopeo_missing(full, arch),
            other => {
                tracing::debug!("Copying {full} for {arch}: {other}");
                anyhow::Error::new(ExitError::new(
                    1,
                    format!(
                        "failed to pull image {full}\nIf it was a private image, log in with: podman login {}\nUse '{} --verbose ...' for further details.",
                        distro::image_domain(full).unwrap_or(""),
                        crate::host::base_name()
                    ),
                ))
            }
        })
}

/// Checks that a local image, as podman inspected it, is of the expected
/// architecture, so a foreign image under a native name (or the reverse)
/// is never used by mistake.
pub fn check_image_arch(
    image: &str,
    info: &crate::podman::ImageInfo,
    expected: Arch,
) -> Result<()> {
    if info.architecture.is_empty() {
        return Ok(());
    }
    match Arch::from_oci(&info.architecture, None) {
        Some(a) if a == expected => Ok(()),
        Some(a) if Arch::host() == Some(a) => Err(anyhow!(
            "image {image} is for architecture {}, not {}\nLeave out --arch to create a native container from it, or choose another image.",
            a.oci_name(),
            expected.oci_name()
        )),
        Some(a) => Err(anyhow!(
            "image {image} is for architecture {}, not {}\nUse --arch {} to create a container for it, or choose another image.",
            a.oci_name(),
            expected.oci_name(),
            a.oci_name()
        )),
        None => Err(anyhow!(
            "image {image} is for architecture {}, which Toolbx does not support\nChoose another image.",
            info.architecture
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_mode_needs_an_enabled_handler_with_the_f_flag() {
        let dir = Path::new("/proc/sys/fs/binfmt_misc");
        let qemu = PathBuf::from("/usr/bin/qemu-riscv64-static");
        let entry = |text: &str| {
            Some((
                "qemu-riscv64".to_string(),
                binfmt::parse_entry(text).unwrap(),
            ))
        };
        let text = |enabled: &str, flags: &str| {
            format!(
                "{enabled}\ninterpreter /usr/libexec/qemu-binfmt/riscv64-binfmt-P\nflags: {flags}\noffset 0\nmagic 7f454c460201010000000000000000000200f300\nmask ffffffffffffff00fffffffffffffffffeffffff\n"
            )
        };
        let verdict = |e| host_mode(Arch::Riscv64, qemu.clone(), e, false, "6.18.1", dir);
        assert!(matches!(
            verdict(entry(&text("enabled", "POCF"))),
            Ok(Emulation::Qemu(_))
        ));
        let message = |e| format!("{:#}", verdict(e).unwrap_err());
        assert_eq!(
            message(entry(&text("disabled", "POCF"))),
            "Cannot create container for architecture riscv64\nThe host system does not have the required support: the host's binfmt_misc handler qemu-riscv64 for riscv64 is disabled\nEnable it on the host: echo 1 > /proc/sys/fs/binfmt_misc/qemu-riscv64"
        );
        assert!(message(entry(&text("enabled", "PO"))).contains("lacks the F flag"));
        assert!(message(None).contains(
            "No riscv64 binfmt_misc registration found\n/usr/bin/qemu-riscv64-static is installed"
        ));
    }

    #[test]
    fn missing_handler_hint_names_the_emulator_and_the_way_out() {
        let qemu = Path::new("/usr/bin/qemu-riscv64-static");
        assert_eq!(
            no_handler_hint(Arch::Riscv64, qemu, false, "6.18.1"),
            "/usr/bin/qemu-riscv64-static is installed, but the host has no enabled binfmt_misc handler for riscv64 and a rootful container shares the host's binfmt_misc, which toolbox never writes to.\nRegister one on the host ('update-binfmts --enable qemu-riscv64' or 'systemctl restart systemd-binfmt'), or use toolbox rootless on Linux 6.7 or newer."
        );
        assert_eq!(
            no_handler_hint(Arch::Riscv64, qemu, true, "6.1.0-18-amd64"),
            "/usr/bin/qemu-riscv64-static is installed, but the host has no enabled binfmt_misc handler for riscv64 and Linux 6.1.0-18-amd64 is older than 6.7, so the container cannot have one of its own.\nRegister one on the host ('update-binfmts --enable qemu-riscv64' or 'systemctl restart systemd-binfmt')."
        );
    }

    #[test]
    fn arch_resolution() {
        let host = Arch::host().unwrap();
        let foreign = if host == Arch::Arm64 {
            Arch::Amd64
        } else {
            Arch::Arm64
        };
        assert_eq!(resolve(None, "fedora-toolbox:44").unwrap(), None);
        assert_eq!(resolve(Some(""), "fedora-toolbox:44").unwrap(), None);
        assert_eq!(
            resolve(Some(host.oci_name()), "fedora-toolbox:44").unwrap(),
            None
        );
        assert_eq!(
            resolve(Some(foreign.oci_name()), "fedora-toolbox:44").unwrap(),
            Some(foreign)
        );
        let tagged = format!("fedora-toolbox:44-{}", foreign.oci_name());
        assert_eq!(resolve(None, &tagged).unwrap(), Some(foreign));
        // A custom image's tag suffix is not read as an architecture.
        assert_eq!(
            resolve(None, "localhost/custom-image:v1-arm64").unwrap(),
            None
        );
        let err = resolve(Some("ARM64"), "x").unwrap_err().to_string();
        assert!(
            err.starts_with("architecture 'ARM64' is not supported by Toolbx\n"),
            "{err}"
        );
        let err = resolve(Some("ppc64le"), "fedora-toolbox:44-aarch64").unwrap_err();
        let msg = err
            .downcast_ref::<ExitError>()
            .unwrap()
            .msg
            .clone()
            .unwrap();
        assert!(msg.starts_with("conflicting architecture specifications\n--arch=ppc64le but image tag specifies arm64\n"));
    }

    #[test]
    fn names_keep_foreign_apart() {
        assert_eq!(
            container_name("fedora-toolbox-44", "fedora-toolbox:44", Arch::Arm64),
            "fedora-toolbox-44-arm64"
        );
        assert_eq!(
            container_name(
                "fedora-toolbox-44-aarch64",
                "fedora-toolbox:44-aarch64",
                Arch::Arm64
            ),
            "fedora-toolbox-44-aarch64"
        );
        assert_eq!(
            local_image_name("registry.fedoraproject.org/fedora-toolbox:44", Arch::Arm64).unwrap(),
            "registry.fedoraproject.org/fedora-toolbox:44-arm64"
        );
        assert_eq!(
            local_image_name(
                "registry.fedoraproject.org/fedora-toolbox:44-aarch64",
                Arch::Arm64
            )
            .unwrap(),
            "registry.fedoraproject.org/fedora-toolbox:44-aarch64"
        );
        assert_eq!(
            local_image_name("quay.io/me/foo", Arch::S390x).unwrap(),
            "quay.io/me/foo:latest-s390x"
        );
        assert_eq!(
            local_image_name("localhost:5000/me/foo:1", Arch::Riscv64).unwrap(),
            "localhost:5000/me/foo:1-riscv64"
        );
        assert!(local_image_name("quay.io/me/foo@sha256:abc", Arch::Arm64).is_err());
    }

    #[test]
    fn kernel_versions() {
        assert!(kernel_has_binfmt_sandbox("6.7.0"));
        assert!(kernel_has_binfmt_sandbox("6.18.44-fc-v1252"));
        assert!(!kernel_has_binfmt_sandbox("6.1.0-18-amd64"));
        assert!(!kernel_has_binfmt_sandbox("5.15.0"));
        assert!(!kernel_has_binfmt_sandbox("garbage"));
    }
}
