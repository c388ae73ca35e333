//! Architectures Toolbx containers can have, and every name each one goes by.
//!
//! One closed [`Arch`] enum and one static table ([`ROWS`]) with a row per
//! architecture (spec: cross-arch.md §2.2). Every conversion between the names
//! (`--arch` values, OCI, `uname -m`, QEMU, tag suffixes) and the ELF identity
//! (class, byte order, `e_machine`, binfmt_misc magic and mask) goes through
//! that table, so adding an architecture means adding one row.
//!
//! Submodules: [`elf`] reads ELF headers, [`binfmt`] reads and writes
//! binfmt_misc entries, [`qemu`] finds the host's QEMU user-mode emulator.

pub mod binfmt;
pub mod elf;
pub mod qemu;

use std::fmt;

/// An architecture Toolbx can create containers for.
///
/// The stable identity of an architecture is its OCI name plus variant
/// ([`Arch::oci_name`], [`Arch::variant`]), not the position in this enum:
/// upstream passed enum numbers into containers and had to keep them frozen
/// (spec B2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Arch {
    /// x86-64, OCI `amd64`.
    Amd64,
    /// AArch64, OCI `arm64` (variant `v8`).
    Arm64,
    /// 64-bit little-endian POWER, OCI `ppc64le`.
    Ppc64le,
    /// IBM Z, OCI `s390x`.
    S390x,
    /// 64-bit RISC-V, OCI `riscv64`.
    Riscv64,
    /// 32-bit ARM hard-float, OCI `arm` variant `v7`.
    Arm,
    /// 32-bit x86, OCI `386`.
    I386,
}

/// ELF class: 32- or 64-bit (`EI_CLASS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ElfClass {
    /// `ELFCLASS32`.
    Elf32,
    /// `ELFCLASS64`.
    Elf64,
}

impl ElfClass {
    /// The `EI_CLASS` byte (offset 4 of the file).
    pub const fn ident_byte(self) -> u8 {
        match self {
            ElfClass::Elf32 => 1,
            ElfClass::Elf64 => 2,
        }
    }

    /// Width in bits, for messages.
    pub const fn bits(self) -> u32 {
        match self {
            ElfClass::Elf32 => 32,
            ElfClass::Elf64 => 64,
        }
    }
}

/// ELF byte order (`EI_DATA`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endianness {
    /// `ELFDATA2LSB`.
    Little,
    /// `ELFDATA2MSB`.
    Big,
}

impl Endianness {
    /// The `EI_DATA` byte (offset 5 of the file).
    pub const fn ident_byte(self) -> u8 {
        match self {
            Endianness::Little => 1,
            Endianness::Big => 2,
        }
    }

    /// Lowercase name, for messages.
    pub const fn name(self) -> &'static str {
        match self {
            Endianness::Little => "little-endian",
            Endianness::Big => "big-endian",
        }
    }

    /// Puts a 16-bit value into this byte order.
    pub const fn u16_bytes(self, value: u16) -> [u8; 2] {
        match self {
            Endianness::Little => value.to_le_bytes(),
            Endianness::Big => value.to_be_bytes(),
        }
    }
}

/// One row of the architecture table: everything Toolbx knows about an
/// architecture.
#[derive(Debug)]
pub struct ArchRow {
    /// The architecture this row describes.
    pub arch: Arch,
    /// OCI / podman architecture name (`GOARCH`).
    pub oci: &'static str,
    /// OCI variant that images of this architecture carry, if any.
    pub variant: Option<&'static str>,
    /// Values accepted by `--arch`, exact and case-sensitive. The OCI name
    /// comes first; [`Arch::supported_values`] relies on that.
    pub accepted: &'static [&'static str],
    /// What `uname -m` prints inside such a container.
    pub uname: &'static str,
    /// QEMU's name, as in `qemu-<name>` and `qemu-<name>-static`.
    pub qemu: &'static str,
    /// `std::env::consts::ARCH` of a Rust build for this architecture
    /// (with [`ArchRow::endian`] telling `powerpc64` variants apart).
    pub rust_arch: &'static str,
    /// Number upstream's patch series used for it in `init-container --arch`,
    /// so containers created by a series build still start.
    pub series_id: Option<u32>,
    /// ELF class of its binaries.
    pub class: ElfClass,
    /// Byte order of its binaries.
    pub endian: Endianness,
    /// ELF `e_machine` of its binaries.
    pub e_machine: u16,
    /// binfmt_misc magic: the first 20 bytes of its ELF executables
    /// (copied from qemu's `scripts/qemu-binfmt-conf.sh`).
    pub magic: [u8; 20],
    /// binfmt_misc mask applied to the first 20 bytes before comparing.
    pub mask: [u8; 20],
    /// Last `-`-separated part of an image tag that names this architecture
    /// (`44-aarch64`). `386` is left out on purpose: it reads like a version.
    pub tag_suffixes: &'static [&'static str],
    /// Other host architectures that run its binaries without emulation
    /// (see [`Arch::runs_natively_on`]).
    pub native_on: &'static [Arch],
}

/// The architecture table, in the order of [`Arch::ALL`].
pub static ROWS: [ArchRow; 7] = [
    ArchRow {
        arch: Arch::Amd64,
        oci: "amd64",
        variant: None,
        accepted: &["amd64", "x86_64"],
        uname: "x86_64",
        qemu: "x86_64",
        rust_arch: "x86_64",
        series_id: Some(3),
        class: ElfClass::Elf64,
        endian: Endianness::Little,
        e_machine: 0x3e,
        magic: *b"\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00",
        // The x86 masks also clear the low bit of bytes 5 and 6: a qemu
        // quirk kept as is, so our entries equal everybody else's.
        mask: *b"\xff\xff\xff\xff\xff\xfe\xfe\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff",
        tag_suffixes: &["amd64", "x86_64"],
        native_on: &[],
    },
    ArchRow {
        arch: Arch::Arm64,
        oci: "arm64",
        variant: Some("v8"),
        accepted: &["arm64", "aarch64"],
        uname: "aarch64",
        qemu: "aarch64",
        rust_arch: "aarch64",
        series_id: Some(1),
        class: ElfClass::Elf64,
        endian: Endianness::Little,
        e_machine: 0xb7,
        magic: *b"\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00",
        mask: *b"\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff",
        tag_suffixes: &["arm64", "aarch64"],
        native_on: &[],
    },
    ArchRow {
        arch: Arch::Ppc64le,
        oci: "ppc64le",
        variant: None,
        accepted: &["ppc64le", "ppc64el"],
        uname: "ppc64le",
        qemu: "ppc64le",
        rust_arch: "powerpc64",
        series_id: Some(2),
        class: ElfClass::Elf64,
        endian: Endianness::Little,
        e_machine: 0x15,
        magic: *b"\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x15\x00",
        // qemu ignores e_machine's high byte here.
        mask: *b"\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\x00",
        tag_suffixes: &["ppc64le", "ppc64el"],
        native_on: &[],
    },
    ArchRow {
        arch: Arch::S390x,
        oci: "s390x",
        variant: None,
        accepted: &["s390x"],
        uname: "s390x",
        qemu: "s390x",
        rust_arch: "s390x",
        series_id: None,
        class: ElfClass::Elf64,
        endian: Endianness::Big,
        e_machine: 0x16,
        magic: *b"\x7fELF\x02\x02\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x16",
        mask: *b"\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff",
        tag_suffixes: &["s390x"],
        native_on: &[],
    },
    ArchRow {
        arch: Arch::Riscv64,
        oci: "riscv64",
        variant: None,
        accepted: &["riscv64"],
        uname: "riscv64",
        qemu: "riscv64",
        rust_arch: "riscv64",
        series_id: None,
        class: ElfClass::Elf64,
        endian: Endianness::Little,
        e_machine: 0xf3,
        magic: *b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xf3\x00",
        mask: *b"\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff",
        tag_suffixes: &["riscv64"],
        native_on: &[],
    },
    ArchRow {
        arch: Arch::Arm,
        oci: "arm",
        variant: Some("v7"),
        accepted: &["arm", "armv7", "armv7l", "armhf"],
        uname: "armv7l",
        qemu: "arm",
        rust_arch: "arm",
        series_id: None,
        class: ElfClass::Elf32,
        endian: Endianness::Little,
        e_machine: 0x28,
        magic: *b"\x7fELF\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x28\x00",
        mask: *b"\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff",
        // `armhfp` is Fedora's old name for the same thing.
        tag_suffixes: &["arm", "armv7", "armhf", "armhfp"],
        // Only where the CPU and kernel run AArch32 at EL0; many recent
        // AArch64 cores cannot, so init-container probes before relying on it.
        native_on: &[Arch::Arm64],
    },
    ArchRow {
        arch: Arch::I386,
        oci: "386",
        variant: None,
        accepted: &["386", "i386", "i686"],
        uname: "i686",
        qemu: "i386",
        rust_arch: "x86",
        series_id: None,
        class: ElfClass::Elf32,
        endian: Endianness::Little,
        e_machine: 0x03,
        magic: *b"\x7fELF\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x03\x00",
        mask: *b"\xff\xff\xff\xff\xff\xfe\xfe\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff",
        // A bare `386` tag suffix would clash with numeric tags.
        tag_suffixes: &["i386", "i686"],
        // Unless the kernel was booted with IA32 emulation off.
        native_on: &[Arch::Amd64],
    },
];

/// `--arch` got a value outside the table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "architecture '{value}' is not supported by Toolbx\n{}",
    Arch::supported_values()
)]
pub struct UnsupportedArch {
    /// The value as the user typed it.
    pub value: String,
}

impl Arch {
    /// Every architecture, in table order.
    pub const ALL: [Arch; 7] = [
        Arch::Amd64,
        Arch::Arm64,
        Arch::Ppc64le,
        Arch::S390x,
        Arch::Riscv64,
        Arch::Arm,
        Arch::I386,
    ];

    /// This architecture's row of the table.
    pub fn row(self) -> &'static ArchRow {
        // ROWS is in the order of the enum; a unit test pins that.
        &ROWS[self as usize]
    }

    /// Parses an `--arch` value. Exact and case-sensitive, as upstream
    /// (`ARM64` is rejected); `""` is no architecture.
    pub fn parse(value: &str) -> Option<Arch> {
        ROWS.iter()
            .find(|row| row.accepted.contains(&value))
            .map(|row| row.arch)
    }

    /// Like [`Arch::parse`], with the error toolbox prints.
    pub fn parse_arg(value: &str) -> Result<Arch, UnsupportedArch> {
        Arch::parse(value).ok_or_else(|| UnsupportedArch {
            value: value.to_string(),
        })
    }

    /// Finds the architecture of an image from its OCI `Architecture` and
    /// `Variant`.
    ///
    /// A missing or empty variant is accepted for every row, because many
    /// images and podman versions leave it out. A given variant must be the
    /// row's: `arm64` takes `v8`, `arm` takes `v7` (`arm/v6` and `arm/v5`
    /// cannot run on a v7 userland's assumptions), and rows without a variant
    /// take none.
    pub fn from_oci(arch: &str, variant: Option<&str>) -> Option<Arch> {
        let variant = variant.filter(|v| !v.is_empty());
        ROWS.iter()
            .find(|row| row.oci == arch && (variant.is_none() || variant == row.variant))
            .map(|row| row.arch)
    }

    /// Finds the architecture from an ELF file's class, byte order and
    /// `e_machine` (all three: `EM_PPC64` alone does not tell ppc64le).
    pub fn from_elf(class: ElfClass, endian: Endianness, e_machine: u16) -> Option<Arch> {
        ROWS.iter()
            .find(|row| row.class == class && row.endian == endian && row.e_machine == e_machine)
            .map(|row| row.arch)
    }

    /// The OCI / podman name, used for the `toolbox-arch` label and
    /// `skopeo --override-arch`.
    pub fn oci_name(self) -> &'static str {
        self.row().oci
    }

    /// The OCI variant (`v8`, `v7`), for `skopeo --override-variant`.
    pub fn variant(self) -> Option<&'static str> {
        self.row().variant
    }

    /// What `uname -m` prints for it.
    pub fn uname(self) -> &'static str {
        self.row().uname
    }

    /// QEMU's name for it.
    pub fn qemu_name(self) -> &'static str {
        self.row().qemu
    }

    /// The binfmt_misc entry name toolbox registers: `qemu-<qemu name>`.
    pub fn binfmt_name(self) -> String {
        format!("qemu-{}", self.row().qemu)
    }

    /// Emulator file names to look for, best first: `qemu-<q>-static`
    /// (Debian/Fedora's static build), then `qemu-<q>`.
    pub fn emulator_names(self) -> [String; 2] {
        let q = self.row().qemu;
        [format!("qemu-{q}-static"), format!("qemu-{q}")]
    }

    /// ELF `e_machine` of its binaries.
    pub fn e_machine(self) -> u16 {
        self.row().e_machine
    }

    /// The architecture named by the tag's last `-`-separated part, as in
    /// `fedora-toolbox:44-aarch64`.
    ///
    /// Takes a bare tag (`44-aarch64`) or a whole image reference. A string
    /// with `/`, `:` or `@` is read as a reference, so a reference without a
    /// tag (`registry.fedoraproject.org/fedora-toolbox`) has no suffix, as in
    /// upstream's `ImageReferenceGetArchFromTag`.
    pub fn from_tag(tag: &str) -> Option<Arch> {
        Arch::ALL
            .into_iter()
            .find(|arch| arch.tag_has_suffix_for(tag))
    }

    /// Whether the tag (or reference, see [`Arch::from_tag`]) already ends in
    /// one of this architecture's names, so no `-<oci>` suffix is needed.
    pub fn tag_has_suffix_for(self, tag: &str) -> bool {
        tag_suffix(tag).is_some_and(|suffix| self.row().tag_suffixes.contains(&suffix))
    }

    /// The host's architecture: the one this binary was built for, or `None`
    /// for hosts outside the table.
    pub fn host() -> Option<Arch> {
        host_from(std::env::consts::ARCH, cfg!(target_endian = "little"))
    }

    /// Maps the numbers upstream's patch series passes as
    /// `init-container --arch` (1 arm64, 2 ppc64le, 3 amd64).
    pub fn from_series_id(id: u32) -> Option<Arch> {
        ROWS.iter()
            .find(|row| row.series_id == Some(id))
            .map(|row| row.arch)
    }

    /// Whether binaries of this architecture run on `host` without QEMU:
    /// the same architecture, 386 on amd64, and arm on arm64.
    ///
    /// arm on arm64 depends on the CPU: many recent AArch64 cores have no
    /// AArch32 at EL0, so callers must still probe (exec a binary) before
    /// skipping emulation. 386 on amd64 likewise fails if the kernel was
    /// booted with `ia32_emulation=0`.
    pub fn runs_natively_on(self, host: Arch) -> bool {
        self == host || self.row().native_on.contains(&host)
    }

    /// The second line of the unsupported-architecture error, e.g.
    /// `Supported architectures: amd64 (x86_64), arm64 (aarch64), …`.
    pub fn supported_values() -> String {
        let list: Vec<String> = ROWS
            .iter()
            .map(|row| match row.accepted.split_first() {
                Some((first, [])) => (*first).to_string(),
                Some((first, rest)) => format!("{first} ({})", rest.join(", ")),
                None => row.oci.to_string(),
            })
            .collect();
        format!("Supported architectures: {}", list.join(", "))
    }

    /// Every value `--arch` accepts, for shell completion.
    pub fn all_accepted_values() -> impl Iterator<Item = &'static str> {
        ROWS.iter().flat_map(|row| row.accepted.iter().copied())
    }
}

impl fmt::Display for Arch {
    /// Shows the OCI name, the name users see in labels and messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.oci_name())
    }
}

/// The host's architecture as OCI (podman) names it, for the `toolbox-arch`
/// label. Hosts outside the table get Rust's name for their architecture,
/// never upstream's `arch_not_specified` (spec B4).
pub fn host_oci_name() -> &'static str {
    match Arch::host() {
        Some(arch) => arch.oci_name(),
        None => std::env::consts::ARCH,
    }
}

/// Maps a Rust target architecture and byte order to a row.
fn host_from(rust_arch: &str, little_endian: bool) -> Option<Arch> {
    let endian = if little_endian {
        Endianness::Little
    } else {
        Endianness::Big
    };
    ROWS.iter()
        .find(|row| row.rust_arch == rust_arch && row.endian == endian)
        .map(|row| row.arch)
}

/// The last `-`-separated part of a tag, or of a reference's tag.
fn tag_suffix(tag: &str) -> Option<&str> {
    let tag = if tag.contains(['/', ':', '@']) {
        reference_tag(tag)?
    } else {
        tag
    };
    // A tag that is only an architecture name (`x:arm64`) names it too.
    Some(tag.rsplit_once('-').map_or(tag, |(_, suffix)| suffix))
}

/// The tag of an image reference (`name:tag@digest`), if it has one.
fn reference_tag(reference: &str) -> Option<&str> {
    let name = reference
        .split_once('@')
        .map_or(reference, |(name, _)| name);
    // A `:` before the last `/` is a registry port, not a tag.
    let last = name.rsplit_once('/').map_or(name, |(_, last)| last);
    let (_, tag) = last.rsplit_once(':')?;
    Some(tag)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn rows_are_in_enum_order() {
        for (i, arch) in Arch::ALL.iter().enumerate() {
            assert_eq!(ROWS[i].arch, *arch);
            assert_eq!(arch.row().arch, *arch);
        }
    }

    #[test]
    fn every_row_round_trips() {
        for arch in Arch::ALL {
            let row = arch.row();
            for value in row.accepted {
                let parsed = Arch::parse(value).expect("accepted value parses");
                assert_eq!(parsed, arch, "{value}");
                let oci = parsed.oci_name();
                assert_eq!(Arch::from_oci(oci, parsed.variant()), Some(arch));
                assert_eq!(Arch::from_oci(oci, None), Some(arch));
                assert_eq!(Arch::from_oci(oci, Some("")), Some(arch));
            }
            assert_eq!(row.accepted[0], row.oci, "OCI name comes first");
            assert_eq!(
                Arch::from_elf(row.class, row.endian, row.e_machine),
                Some(arch)
            );
            assert_eq!(
                host_from(row.rust_arch, row.endian == Endianness::Little),
                Some(arch)
            );
            assert_eq!(arch.binfmt_name(), format!("qemu-{}", arch.qemu_name()));
            assert_eq!(arch.to_string(), arch.oci_name());
            for suffix in row.tag_suffixes {
                assert_eq!(Arch::from_tag(&format!("1-{suffix}")), Some(arch));
            }
        }
    }

    #[test]
    fn names_are_unique() {
        fn unique(what: &str, names: impl Iterator<Item = &'static str>) {
            let mut seen = HashSet::new();
            for name in names {
                assert!(seen.insert(name), "{what} {name} appears twice");
            }
        }
        unique("uname", ROWS.iter().map(|r| r.uname));
        unique("qemu", ROWS.iter().map(|r| r.qemu));
        unique("oci", ROWS.iter().map(|r| r.oci));
        unique("accepted", Arch::all_accepted_values());
        unique(
            "tag suffix",
            ROWS.iter().flat_map(|r| r.tag_suffixes.iter().copied()),
        );
        let series: Vec<u32> = ROWS.iter().filter_map(|r| r.series_id).collect();
        assert_eq!(series.len(), series.iter().collect::<HashSet<_>>().len());
    }

    #[test]
    fn magic_and_mask_agree_with_elf_identity() {
        for row in &ROWS {
            let m = &row.magic;
            assert_eq!(&m[0..4], b"\x7fELF", "{}", row.oci);
            assert_eq!(&row.mask[0..4], b"\xff\xff\xff\xff", "{}", row.oci);
            assert_eq!(m[4], row.class.ident_byte(), "{} class", row.oci);
            assert_eq!(m[5], row.endian.ident_byte(), "{} data", row.oci);
            assert_eq!(row.mask[4], 0xff, "{} class is significant", row.oci);
            assert_eq!(m[6], 1, "{} EI_VERSION", row.oci);
            assert_eq!(row.mask[7], 0, "{} OSABI ignored", row.oci);
            assert_eq!(m[16..18], row.endian.u16_bytes(2), "{} ET_EXEC", row.oci);
            assert_eq!(
                m[18..20],
                row.endian.u16_bytes(row.e_machine),
                "{} e_machine",
                row.oci
            );
            // ET_DYN (PIE, static-pie) must match as well as ET_EXEC.
            let mut dyn_header = row.magic;
            dyn_header[16..18].copy_from_slice(&row.endian.u16_bytes(3));
            dyn_header[7] = 3; // ELFOSABI_GNU
            assert!(pattern_matches(row, &dyn_header), "{} ET_DYN", row.oci);
        }
    }

    fn pattern_matches(row: &ArchRow, header: &[u8; 20]) -> bool {
        (0..20).all(|i| header[i] & row.mask[i] == row.magic[i] & row.mask[i])
    }

    #[test]
    fn no_row_matches_another_rows_binaries() {
        // A handler must never catch binaries of another architecture: it
        // would reroute them through the wrong emulator.
        for a in &ROWS {
            for b in &ROWS {
                if a.arch != b.arch {
                    assert!(!pattern_matches(a, &b.magic), "{} catches {}", a.oci, b.oci);
                }
            }
        }
    }

    #[test]
    fn parse_arg_arch_value() {
        // upstream: TestParseArgArchValue
        assert_eq!(Arch::parse("aarch64"), Some(Arch::Arm64));
        assert_eq!(Arch::parse("arm64"), Some(Arch::Arm64));
        assert_eq!(Arch::parse("x86_64"), Some(Arch::Amd64));
        assert_eq!(Arch::parse("amd64"), Some(Arch::Amd64));
        assert_eq!(Arch::parse("ppc64le"), Some(Arch::Ppc64le));
        assert_eq!(Arch::parse("mips"), None);
        assert_eq!(Arch::parse(""), None);
        assert_eq!(Arch::parse("ARM64"), None);
        assert_eq!(Arch::parse("sparc64"), None);
        assert_eq!(Arch::parse(" arm64"), None);
        let err = Arch::parse_arg("mips").expect_err("mips is unsupported");
        let text = err.to_string();
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some("architecture 'mips' is not supported by Toolbx")
        );
        assert_eq!(lines.next(), Some(Arch::supported_values().as_str()));
        assert_eq!(Arch::parse_arg("").map_err(|e| e.value), Err(String::new()));
    }

    #[test]
    fn new_accepted_values() {
        assert_eq!(Arch::parse("ppc64el"), Some(Arch::Ppc64le));
        assert_eq!(Arch::parse("s390x"), Some(Arch::S390x));
        assert_eq!(Arch::parse("riscv64"), Some(Arch::Riscv64));
        for v in ["arm", "armv7", "armv7l", "armhf"] {
            assert_eq!(Arch::parse(v), Some(Arch::Arm), "{v}");
        }
        for v in ["386", "i386", "i686"] {
            assert_eq!(Arch::parse(v), Some(Arch::I386), "{v}");
        }
        assert_eq!(
            Arch::parse("armhfp"),
            None,
            "a tag suffix, not an --arch value"
        );
    }

    #[test]
    fn names_per_row() {
        // upstream: TestGetArchNameOCI, TestGetArchNameBinfmt
        assert_eq!(Arch::Arm64.oci_name(), "arm64");
        assert_eq!(Arch::Amd64.oci_name(), "amd64");
        assert_eq!(Arch::Ppc64le.oci_name(), "ppc64le");
        assert_eq!(Arch::I386.oci_name(), "386");
        assert_eq!(Arch::Arm64.qemu_name(), "aarch64");
        assert_eq!(Arch::Amd64.qemu_name(), "x86_64");
        assert_eq!(Arch::Ppc64le.qemu_name(), "ppc64le");
        assert_eq!(Arch::Arm.qemu_name(), "arm");
        assert_eq!(Arch::I386.qemu_name(), "i386");
        assert_eq!(Arch::Arm.uname(), "armv7l");
        assert_eq!(Arch::I386.uname(), "i686");
        assert_eq!(Arch::Arm64.binfmt_name(), "qemu-aarch64");
        assert_eq!(
            Arch::Arm64.emulator_names(),
            [
                "qemu-aarch64-static".to_string(),
                "qemu-aarch64".to_string()
            ]
        );
        assert_eq!(Arch::Arm64.variant(), Some("v8"));
        assert_eq!(Arch::Arm.variant(), Some("v7"));
        assert_eq!(Arch::Amd64.variant(), None);
        assert_eq!(Arch::S390x.e_machine(), 0x16);
    }

    #[test]
    fn from_oci_variants() {
        assert_eq!(Arch::from_oci("arm64", Some("v8")), Some(Arch::Arm64));
        assert_eq!(Arch::from_oci("arm64", None), Some(Arch::Arm64));
        assert_eq!(Arch::from_oci("arm", Some("v7")), Some(Arch::Arm));
        assert_eq!(Arch::from_oci("arm", None), Some(Arch::Arm));
        assert_eq!(Arch::from_oci("arm", Some("v6")), None);
        assert_eq!(Arch::from_oci("arm", Some("v5")), None);
        assert_eq!(Arch::from_oci("amd64", Some("v3")), None);
        assert_eq!(Arch::from_oci("386", None), Some(Arch::I386));
        assert_eq!(Arch::from_oci("i386", None), None, "OCI says 386");
        assert_eq!(Arch::from_oci("aarch64", None), None, "OCI says arm64");
        assert_eq!(Arch::from_oci("mips", None), None);
        assert_eq!(Arch::from_oci("", None), None);
    }

    #[test]
    fn image_reference_get_arch_from_tag() {
        // upstream: TestImageReferenceGetArchFromTag
        let cases = [
            (
                "registry.fedoraproject.org/fedora-toolbox:41-aarch64",
                Some(Arch::Arm64),
            ),
            (
                "registry.fedoraproject.org/fedora-toolbox:41-arm64",
                Some(Arch::Arm64),
            ),
            (
                "registry.fedoraproject.org/fedora-toolbox:41-x86_64",
                Some(Arch::Amd64),
            ),
            (
                "registry.fedoraproject.org/fedora-toolbox:41-amd64",
                Some(Arch::Amd64),
            ),
            (
                "registry.fedoraproject.org/fedora-toolbox:41-ppc64le",
                Some(Arch::Ppc64le),
            ),
            ("registry.fedoraproject.org/fedora-toolbox:41", None),
            ("registry.fedoraproject.org/fedora-toolbox", None),
            ("registry.fedoraproject.org/fedora-toolbox:41-mips", None),
            ("", None),
            (
                "quay.io/toolbx-images/ubuntu-toolbox:22.04-amd64",
                Some(Arch::Amd64),
            ),
            (
                "quay.io/toolbx-images/ubuntu-toolbox:22.04-x86_64",
                Some(Arch::Amd64),
            ),
            (
                "quay.io/toolbx-images/ubuntu-toolbox:22.04-arm64",
                Some(Arch::Arm64),
            ),
            (
                "quay.io/toolbx-images/ubuntu-toolbox:22.04-aarch64",
                Some(Arch::Arm64),
            ),
            ("quay.io/toolbx-images/ubuntu-toolbox:22.04-mips", None),
            ("quay.io/toolbx-images/ubuntu-toolbox:22.04", None),
            // The brief's short forms.
            ("fedora-toolbox:41-aarch64", Some(Arch::Arm64)),
            ("ubuntu-toolbox:22.04-ppc64le", Some(Arch::Ppc64le)),
            ("44-aarch64", Some(Arch::Arm64)),
            ("44", None),
            ("44-mips", None),
            ("44-ARM64", None),
            ("fedora-toolbox:41-ARM64", None),
        ];
        for (image, want) in cases {
            assert_eq!(Arch::from_tag(image), want, "{image:?}");
        }
    }

    #[test]
    fn tag_parsing_edge_cases() {
        // A registry port is not a tag.
        assert_eq!(Arch::from_tag("localhost:5000/foo-arm64"), None);
        assert_eq!(
            Arch::from_tag("localhost:5000/foo:1-arm64"),
            Some(Arch::Arm64)
        );
        // The digest is not part of the tag.
        assert_eq!(
            Arch::from_tag("quay.io/foo:1-s390x@sha256:0123abcd-arm64"),
            Some(Arch::S390x)
        );
        assert_eq!(Arch::from_tag("quay.io/foo@sha256:0123-arm64"), None);
        // arm and 386 spellings.
        assert_eq!(Arch::from_tag("f:38-armhfp"), Some(Arch::Arm));
        assert_eq!(Arch::from_tag("f:38-armv7"), Some(Arch::Arm));
        assert_eq!(Arch::from_tag("f:38-armhf"), Some(Arch::Arm));
        assert_eq!(Arch::from_tag("f:38-arm"), Some(Arch::Arm));
        assert_eq!(Arch::from_tag("f:38-i686"), Some(Arch::I386));
        assert_eq!(Arch::from_tag("f:38-i386"), Some(Arch::I386));
        assert_eq!(Arch::from_tag("f:1-386"), None, "386 reads like a version");
        assert_eq!(Arch::from_tag("f:38-riscv64"), Some(Arch::Riscv64));
        // Only the last part counts.
        assert_eq!(Arch::from_tag("f:arm64-44"), None);
        assert!(Arch::Arm64.tag_has_suffix_for("fedora-toolbox:44-aarch64"));
        assert!(Arch::Arm64.tag_has_suffix_for("44-arm64"));
        assert!(!Arch::Arm64.tag_has_suffix_for("44-amd64"));
        assert!(!Arch::Arm64.tag_has_suffix_for("44"));
        assert!(!Arch::I386.tag_has_suffix_for("1-386"));
    }

    #[test]
    fn host_detection() {
        assert_eq!(host_from("x86_64", true), Some(Arch::Amd64));
        assert_eq!(host_from("aarch64", true), Some(Arch::Arm64));
        assert_eq!(host_from("powerpc64", true), Some(Arch::Ppc64le));
        assert_eq!(host_from("powerpc64", false), None, "big-endian ppc64");
        assert_eq!(host_from("s390x", false), Some(Arch::S390x));
        assert_eq!(host_from("riscv64", true), Some(Arch::Riscv64));
        assert_eq!(host_from("arm", true), Some(Arch::Arm));
        assert_eq!(host_from("x86", true), Some(Arch::I386));
        assert_eq!(host_from("mips64", true), None);
        let name = host_oci_name();
        assert_ne!(name, "arch_not_specified");
        match Arch::host() {
            Some(host) => assert_eq!(name, host.oci_name()),
            None => assert_eq!(name, std::env::consts::ARCH),
        }
        #[cfg(target_arch = "x86_64")]
        assert_eq!(name, "amd64");
    }

    #[test]
    fn series_ids() {
        assert_eq!(Arch::from_series_id(1), Some(Arch::Arm64));
        assert_eq!(Arch::from_series_id(2), Some(Arch::Ppc64le));
        assert_eq!(Arch::from_series_id(3), Some(Arch::Amd64));
        assert_eq!(Arch::from_series_id(0), None, "NotSpecified");
        assert_eq!(Arch::from_series_id(4), None);
        assert_eq!(Arch::from_series_id(999), None);
    }

    #[test]
    fn native_compatibility() {
        for arch in Arch::ALL {
            assert!(arch.runs_natively_on(arch));
        }
        assert!(Arch::I386.runs_natively_on(Arch::Amd64));
        assert!(Arch::Arm.runs_natively_on(Arch::Arm64));
        assert!(!Arch::Amd64.runs_natively_on(Arch::I386));
        assert!(!Arch::Arm64.runs_natively_on(Arch::Arm));
        assert!(!Arch::Arm64.runs_natively_on(Arch::Amd64));
        assert!(!Arch::I386.runs_natively_on(Arch::Arm64));
        assert!(!Arch::Arm.runs_natively_on(Arch::Amd64));
    }

    #[test]
    fn supported_values_line() {
        assert_eq!(
            Arch::supported_values(),
            "Supported architectures: amd64 (x86_64), arm64 (aarch64), ppc64le (ppc64el), \
             s390x, riscv64, arm (armv7, armv7l, armhf), 386 (i386, i686)"
        );
    }
}
