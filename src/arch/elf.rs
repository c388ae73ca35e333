//! Header-only ELF inspection, and the checks a QEMU emulator must pass
//! before toolbox hands it to binfmt_misc.
//!
//! Only the ELF header and the program header table are read, with bounded
//! reads (spec: cross-arch.md §8.4): at most [`HEAD_CAP`] bytes from the
//! start, plus the program header table if it lies beyond that, which the
//! kernel itself caps at 64 KiB. Nothing else of the file is parsed, so a
//! 13 MiB static QEMU costs a few KiB of I/O.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use goblin::container::{Container, Ctx, Endian};
use goblin::elf::header::{ET_DYN, ET_EXEC};
use goblin::elf::program_header::{PT_INTERP, ProgramHeader};

use super::{Arch, ElfClass, Endianness};

/// How much of a file is read up front. Program headers normally follow the
/// 64-byte ELF header directly, so this covers them in one read.
pub const HEAD_CAP: usize = 64 * 1024;

/// Largest program header table accepted. The kernel's `load_elf_phdrs`
/// refuses bigger ones, so such a file could not be executed anyway.
const MAX_PHDR_TABLE: usize = 64 * 1024;

const ELF_MAGIC: &[u8; 4] = b"\x7fELF";
const EI_NIDENT: usize = 16;

/// What the ELF header and program headers say about a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfInfo {
    /// 32- or 64-bit.
    pub class: ElfClass,
    /// Byte order.
    pub endian: Endianness,
    /// `e_type` (`ET_EXEC` = 2, `ET_DYN` = 3, ...).
    pub e_type: u16,
    /// `e_machine`.
    pub e_machine: u16,
    /// The table's architecture with this class, byte order and machine.
    pub arch: Option<Arch>,
    /// Whether a `PT_INTERP` program header is present, i.e. the kernel
    /// would load a dynamic linker (`ld.so`) for it.
    pub has_interp: bool,
    /// Number of program headers (`e_phnum`).
    pub phnum: u16,
}

impl ElfInfo {
    /// Statically linked: no `PT_INTERP`. A static-pie (`ET_DYN` without
    /// `PT_INTERP`, as Debian's qemu-user-static) counts as static, because
    /// it relocates itself and needs no loader from the container.
    pub fn is_static(&self) -> bool {
        !self.has_interp
    }

    /// Whether the kernel would execute it (`ET_EXEC` or `ET_DYN`), rather
    /// than it being an object file or a core dump.
    pub fn is_executable_type(&self) -> bool {
        self.e_type == ET_EXEC || self.e_type == ET_DYN
    }

    /// Human description of the machine, for messages: the OCI and uname
    /// names when the table knows it, the raw numbers otherwise.
    pub fn describe_machine(&self) -> String {
        match self.arch {
            Some(arch) => format!("{} ({})", arch.oci_name(), arch.uname()),
            None => format!(
                "ELF machine {:#x} ({}-bit {})",
                self.e_machine,
                self.class.bits(),
                self.endian.name()
            ),
        }
    }
}

/// Why bytes are not a usable ELF header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ElfError {
    /// The bytes do not start with `\x7fELF` (a script, a text file, empty).
    #[error("not an ELF file")]
    NotElf,
    /// The file ends inside the named part.
    #[error("truncated ELF file: the {part} is incomplete")]
    Truncated {
        /// `ELF header` or `program header table`.
        part: &'static str,
    },
    /// The header is present but inconsistent.
    #[error("malformed ELF file: {reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
    },
}

/// Parses the ELF header and program headers at the start of `bytes`.
///
/// `bytes` must hold the file from offset 0 up to at least the end of the
/// program header table; anything shorter is [`ElfError::Truncated`].
pub fn inspect(bytes: &[u8]) -> Result<ElfInfo, ElfError> {
    let head = parse_head(bytes)?;
    let table = bytes
        .get(head.phdr_start..head.phdr_end())
        .ok_or(ElfError::Truncated {
            part: "program header table",
        })?;
    head.finish(table)
}

/// Reads and inspects a file with bounded reads (see the module doc).
fn inspect_file(file: &mut File) -> Result<ElfInfo, ReadError> {
    let mut head_bytes = Vec::new();
    file.by_ref()
        .take(HEAD_CAP as u64)
        .read_to_end(&mut head_bytes)
        .map_err(ReadError::Io)?;
    let head = parse_head(&head_bytes).map_err(ReadError::Elf)?;
    if let Some(table) = head_bytes.get(head.phdr_start..head.phdr_end()) {
        return head.finish(table).map_err(ReadError::Elf);
    }
    // The table lies beyond the first read: fetch exactly that range, which
    // parse_head already bounded to MAX_PHDR_TABLE.
    let mut table = vec![0; head.phdr_len];
    file.seek(SeekFrom::Start(head.phdr_start as u64))
        .map_err(ReadError::Io)?;
    match file.read_exact(&mut table) {
        Ok(()) => head.finish(&table).map_err(ReadError::Elf),
        Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => {
            Err(ReadError::Elf(ElfError::Truncated {
                part: "program header table",
            }))
        }
        Err(err) => Err(ReadError::Io(err)),
    }
}

enum ReadError {
    Io(io::Error),
    Elf(ElfError),
}

/// The ELF header, parsed, with the location of the program header table.
struct Head {
    class: ElfClass,
    endian: Endianness,
    e_type: u16,
    e_machine: u16,
    phnum: u16,
    phdr_start: usize,
    phdr_len: usize,
    ctx: Ctx,
}

impl Head {
    fn phdr_end(&self) -> usize {
        // Cannot overflow: parse_head checked it.
        self.phdr_start + self.phdr_len
    }

    /// Scans the program header table (exactly `phdr_len` bytes).
    fn finish(self, table: &[u8]) -> Result<ElfInfo, ElfError> {
        let phdrs =
            ProgramHeader::parse(table, 0, usize::from(self.phnum), self.ctx).map_err(|err| {
                ElfError::Malformed {
                    reason: format!("bad program header table: {err}"),
                }
            })?;
        Ok(ElfInfo {
            class: self.class,
            endian: self.endian,
            e_type: self.e_type,
            e_machine: self.e_machine,
            arch: Arch::from_elf(self.class, self.endian, self.e_machine),
            has_interp: phdrs.iter().any(|ph| ph.p_type == PT_INTERP),
            phnum: self.phnum,
        })
    }
}

fn parse_head(bytes: &[u8]) -> Result<Head, ElfError> {
    // Check length and magic ourselves, so that goblin is only ever given a
    // buffer it can read and its errors can only mean "malformed".
    if bytes.len() < ELF_MAGIC.len() {
        return Err(if !bytes.is_empty() && ELF_MAGIC.starts_with(bytes) {
            ElfError::Truncated { part: "ELF header" }
        } else {
            ElfError::NotElf
        });
    }
    if &bytes[..4] != ELF_MAGIC {
        return Err(ElfError::NotElf);
    }
    if bytes.len() < EI_NIDENT {
        return Err(ElfError::Truncated { part: "ELF header" });
    }
    let (class, header_size, phent_size) = match bytes[4] {
        1 => (ElfClass::Elf32, 52, 32),
        2 => (ElfClass::Elf64, 64, 56),
        other => {
            return Err(ElfError::Malformed {
                reason: format!("invalid class {other}"),
            });
        }
    };
    let endian = match bytes[5] {
        1 => Endianness::Little,
        2 => Endianness::Big,
        other => {
            return Err(ElfError::Malformed {
                reason: format!("invalid byte order {other}"),
            });
        }
    };
    if bytes.len() < header_size {
        return Err(ElfError::Truncated { part: "ELF header" });
    }
    let header = goblin::elf::Elf::parse_header(bytes).map_err(|err| ElfError::Malformed {
        reason: err.to_string(),
    })?;
    let phnum = header.e_phnum;
    if phnum > 0 && usize::from(header.e_phentsize) != phent_size {
        return Err(ElfError::Malformed {
            reason: format!(
                "program header entry size {} instead of {phent_size}",
                header.e_phentsize
            ),
        });
    }
    let phdr_len = usize::from(phnum) * phent_size;
    if phdr_len > MAX_PHDR_TABLE {
        return Err(ElfError::Malformed {
            reason: format!("program header table of {phdr_len} bytes, more than the kernel loads"),
        });
    }
    let phdr_start = if phnum == 0 {
        0
    } else {
        usize::try_from(header.e_phoff)
            .ok()
            .filter(|start| start.checked_add(phdr_len).is_some())
            .ok_or_else(|| ElfError::Malformed {
                reason: format!("program header offset {:#x} out of range", header.e_phoff),
            })?
    };
    let container = match class {
        ElfClass::Elf32 => Container::Little,
        ElfClass::Elf64 => Container::Big,
    };
    let le = match endian {
        Endianness::Little => Endian::Little,
        Endianness::Big => Endian::Big,
    };
    Ok(Head {
        class,
        endian,
        e_type: header.e_type,
        e_machine: header.e_machine,
        phnum,
        phdr_start,
        phdr_len,
        ctx: Ctx::new(container, le),
    })
}

/// Why a file cannot serve as the binfmt_misc interpreter for a foreign
/// architecture.
///
/// `path` is the path as given; `resolved` is where its symlinks lead. The
/// messages show both when they differ, because the user knows the first and
/// the problem is in the second.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// No candidate exists anywhere that was searched ([`super::qemu`]).
    #[error("No {arch} statically linked QEMU emulator binary found")]
    NotFound {
        /// The architecture to emulate.
        arch: Arch,
        /// Every path that was tried, in order.
        searched: Vec<PathBuf>,
    },
    /// The path (or its symlink target) does not exist.
    #[error("QEMU emulator {} does not exist", .path.display())]
    Missing {
        /// The path as given.
        path: PathBuf,
    },
    /// A directory, device, FIFO or socket.
    #[error("QEMU emulator {} is not a regular file", shown(.path, .resolved))]
    NotRegularFile {
        /// The path as given.
        path: PathBuf,
        /// Its canonical path.
        resolved: PathBuf,
    },
    /// No execute permission bit is set.
    #[error("QEMU emulator {} is not executable", shown(.path, .resolved))]
    NotExecutable {
        /// The path as given.
        path: PathBuf,
        /// Its canonical path.
        resolved: PathBuf,
    },
    /// Not an ELF file, e.g. a shell-script wrapper.
    #[error("QEMU emulator {} is not an ELF file", shown(.path, .resolved))]
    NotElf {
        /// The path as given.
        path: PathBuf,
        /// Its canonical path.
        resolved: PathBuf,
    },
    /// The file ends inside its ELF header or program header table.
    #[error("QEMU emulator {} is truncated: its {part} is incomplete", shown(.path, .resolved))]
    Truncated {
        /// The path as given.
        path: PathBuf,
        /// Its canonical path.
        resolved: PathBuf,
        /// Which part is cut off.
        part: &'static str,
    },
    /// An ELF file with an inconsistent header, or one the kernel would not
    /// execute (object file, core dump, no program headers).
    #[error("QEMU emulator {} is not a valid ELF executable: {reason}", shown(.path, .resolved))]
    Malformed {
        /// The path as given.
        path: PathBuf,
        /// Its canonical path.
        resolved: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Built for another machine than the host: the kernel could not run it.
    #[error(
        "QEMU emulator {} is built for {found}, but the host is {} ({})",
        shown(.path, .resolved), .host.oci_name(), .host.uname()
    )]
    WrongArch {
        /// The path as given.
        path: PathBuf,
        /// Its canonical path.
        resolved: PathBuf,
        /// What the file is built for ([`ElfInfo::describe_machine`]).
        found: String,
        /// The host architecture it should have been built for.
        host: Arch,
    },
    /// Has a `PT_INTERP`: its dynamic linker would be looked up inside the
    /// container, in the foreign image, where it is missing or foreign.
    #[error(
        "QEMU emulator {} is dynamically linked, but a statically linked one is required",
        shown(.path, .resolved)
    )]
    Dynamic {
        /// The path as given.
        path: PathBuf,
        /// Its canonical path.
        resolved: PathBuf,
    },
    /// Reading failed for another reason (permissions, I/O).
    #[error("failed to read QEMU emulator {}", .path.display())]
    Io {
        /// The path as given.
        path: PathBuf,
        /// The underlying error, kept for `.kind()` and `.raw_os_error()`.
        #[source]
        source: io::Error,
    },
}

/// `path`, or `path (resolves to target)` when symlinks lead elsewhere.
fn shown(path: &Path, resolved: &Path) -> String {
    if path == resolved {
        path.display().to_string()
    } else {
        format!("{} (resolves to {})", path.display(), resolved.display())
    }
}

/// Checks that `path` can be the binfmt_misc interpreter on `host`, and
/// returns its canonical path (the one to store and register: spec B6).
///
/// It must resolve to a regular file with an execute bit, be an ELF
/// executable of the host's class, byte order and machine, and be static
/// (no `PT_INTERP`; static-pie is fine), because binfmt_misc's F flag opens
/// it once and then runs it in the container's mount namespace.
pub fn check_emulator(path: &Path, host: Arch) -> Result<PathBuf, EmulatorError> {
    let resolved = std::fs::canonicalize(path).map_err(|err| match err.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => EmulatorError::Missing {
            path: path.to_path_buf(),
        },
        _ => EmulatorError::Io {
            path: path.to_path_buf(),
            source: err,
        },
    })?;
    let io_err = |source| EmulatorError::Io {
        path: path.to_path_buf(),
        source,
    };
    let metadata = std::fs::metadata(&resolved).map_err(io_err)?;
    let names = || (path.to_path_buf(), resolved.clone());
    if !metadata.is_file() {
        let (path, resolved) = names();
        return Err(EmulatorError::NotRegularFile { path, resolved });
    }
    if metadata.permissions().mode() & 0o111 == 0 {
        let (path, resolved) = names();
        return Err(EmulatorError::NotExecutable { path, resolved });
    }
    let mut file = File::open(&resolved).map_err(io_err)?;
    let info = match inspect_file(&mut file) {
        Ok(info) => info,
        Err(ReadError::Io(source)) => return Err(io_err(source)),
        Err(ReadError::Elf(err)) => {
            let (path, resolved) = names();
            return Err(match err {
                ElfError::NotElf => EmulatorError::NotElf { path, resolved },
                ElfError::Truncated { part } => EmulatorError::Truncated {
                    path,
                    resolved,
                    part,
                },
                ElfError::Malformed { reason } => EmulatorError::Malformed {
                    path,
                    resolved,
                    reason,
                },
            });
        }
    };
    if !info.is_executable_type() || info.phnum == 0 {
        let (path, resolved) = names();
        let reason = if info.phnum == 0 {
            "it has no program headers".to_string()
        } else {
            format!("ELF type {} is neither ET_EXEC nor ET_DYN", info.e_type)
        };
        return Err(EmulatorError::Malformed {
            path,
            resolved,
            reason,
        });
    }
    let row = host.row();
    if info.class != row.class || info.endian != row.endian || info.e_machine != row.e_machine {
        let (path, resolved) = names();
        return Err(EmulatorError::WrongArch {
            path,
            resolved,
            found: info.describe_machine(),
            host,
        });
    }
    if !info.is_static() {
        let (path, resolved) = names();
        return Err(EmulatorError::Dynamic { path, resolved });
    }
    Ok(resolved)
}

/// Builds minimal ELF files for tests, so no binaries are committed.
#[cfg(test)]
pub(crate) mod test_elf {
    use super::super::{ElfClass, Endianness};

    // The same items as the parent module's, so glob imports agree.
    pub use goblin::elf::header::{ET_DYN, ET_EXEC};
    pub use goblin::elf::program_header::{PT_INTERP, PT_LOAD};

    /// A header plus one program header per entry of `phdrs` (just the
    /// type), placed right after the header as linkers do.
    pub fn build(
        class: ElfClass,
        endian: Endianness,
        e_type: u16,
        e_machine: u16,
        phdrs: &[u32],
    ) -> Vec<u8> {
        let mut out = Vec::new();
        let u16b = |v: u16| endian.u16_bytes(v).to_vec();
        let u32b = |v: u32| match endian {
            Endianness::Little => v.to_le_bytes().to_vec(),
            Endianness::Big => v.to_be_bytes().to_vec(),
        };
        let u64b = |v: u64| match endian {
            Endianness::Little => v.to_le_bytes().to_vec(),
            Endianness::Big => v.to_be_bytes().to_vec(),
        };
        let (ehsize, phentsize) = match class {
            ElfClass::Elf32 => (52u16, 32u16),
            ElfClass::Elf64 => (64, 56),
        };
        let count = u16::try_from(phdrs.len()).expect("test builds few phdrs");
        out.extend_from_slice(b"\x7fELF");
        out.extend_from_slice(&[class.ident_byte(), endian.ident_byte(), 1, 0]);
        out.extend_from_slice(&[0; 8]);
        out.extend(u16b(e_type));
        out.extend(u16b(e_machine));
        out.extend(u32b(1)); // e_version
        match class {
            ElfClass::Elf32 => {
                out.extend(u32b(0x1000)); // e_entry
                out.extend(u32b(u32::from(ehsize))); // e_phoff
                out.extend(u32b(0)); // e_shoff
            }
            ElfClass::Elf64 => {
                out.extend(u64b(0x1000));
                out.extend(u64b(u64::from(ehsize)));
                out.extend(u64b(0));
            }
        }
        out.extend(u32b(0)); // e_flags
        out.extend(u16b(ehsize));
        out.extend(u16b(phentsize));
        out.extend(u16b(count));
        out.extend(u16b(0)); // e_shentsize
        out.extend(u16b(0)); // e_shnum
        out.extend(u16b(0)); // e_shstrndx
        assert_eq!(out.len(), usize::from(ehsize));
        for &p_type in phdrs {
            match class {
                ElfClass::Elf32 => {
                    out.extend(u32b(p_type));
                    out.extend([0; 28]);
                }
                ElfClass::Elf64 => {
                    out.extend(u32b(p_type));
                    out.extend([0; 52]);
                }
            }
        }
        out
    }

    /// A static x86-64 `ET_EXEC`.
    pub fn static_amd64() -> Vec<u8> {
        build(
            ElfClass::Elf64,
            Endianness::Little,
            ET_EXEC,
            0x3e,
            &[PT_LOAD, PT_LOAD],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::test_elf::*;
    use super::*;
    use std::fs;

    fn host() -> Arch {
        Arch::host().unwrap_or(Arch::Amd64)
    }

    /// A static executable for this host, so check_emulator accepts it.
    fn host_static() -> Vec<u8> {
        let row = host().row();
        build(row.class, row.endian, ET_DYN, row.e_machine, &[PT_LOAD])
    }

    fn write_exec(dir: &Path, name: &str, bytes: &[u8], mode: u32) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, bytes).expect("write test file");
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).expect("chmod");
        path
    }

    #[test]
    fn static_exec() {
        let info = inspect(&static_amd64()).expect("parses");
        assert_eq!(info.class, ElfClass::Elf64);
        assert_eq!(info.endian, Endianness::Little);
        assert_eq!(info.e_type, ET_EXEC);
        assert_eq!(info.e_machine, 0x3e);
        assert_eq!(info.arch, Some(Arch::Amd64));
        assert!(!info.has_interp);
        assert!(info.is_static());
        assert!(info.is_executable_type());
        assert_eq!(info.phnum, 2);
    }

    #[test]
    fn static_pie_is_static() {
        let bytes = build(
            ElfClass::Elf64,
            Endianness::Little,
            ET_DYN,
            0xb7,
            &[PT_LOAD],
        );
        let info = inspect(&bytes).expect("parses");
        assert_eq!(info.e_type, ET_DYN);
        assert_eq!(info.arch, Some(Arch::Arm64));
        assert!(info.is_static());
    }

    #[test]
    fn dynamic_has_interp() {
        let bytes = build(
            ElfClass::Elf64,
            Endianness::Little,
            ET_DYN,
            0x3e,
            &[PT_LOAD, PT_INTERP, PT_LOAD],
        );
        let info = inspect(&bytes).expect("parses");
        assert!(info.has_interp);
        assert!(!info.is_static());
    }

    #[test]
    fn no_program_headers() {
        let bytes = build(ElfClass::Elf64, Endianness::Little, 1, 0x3e, &[]);
        let info = inspect(&bytes).expect("parses");
        assert_eq!(info.phnum, 0);
        assert!(!info.is_executable_type(), "ET_REL");
    }

    #[test]
    fn truncated_header() {
        let bytes = static_amd64();
        for len in [2, 10, 20, 63] {
            assert_eq!(
                inspect(&bytes[..len]),
                Err(ElfError::Truncated { part: "ELF header" }),
                "{len} bytes"
            );
        }
    }

    #[test]
    fn truncated_phdr_table() {
        let bytes = static_amd64();
        for len in [64, 64 + 56, bytes.len() - 1] {
            assert_eq!(
                inspect(&bytes[..len]),
                Err(ElfError::Truncated {
                    part: "program header table"
                }),
                "{len} bytes"
            );
        }
    }

    #[test]
    fn wrong_magic() {
        assert_eq!(inspect(b""), Err(ElfError::NotElf));
        assert_eq!(inspect(b"#!/bin/sh\nexec qemu\n"), Err(ElfError::NotElf));
        assert_eq!(inspect(b"this is not an ELF binary"), Err(ElfError::NotElf));
        let mut bytes = static_amd64();
        bytes[1] = b'X';
        assert_eq!(inspect(&bytes), Err(ElfError::NotElf));
    }

    #[test]
    fn bad_ident() {
        let mut bytes = static_amd64();
        bytes[4] = 9;
        assert!(matches!(inspect(&bytes), Err(ElfError::Malformed { .. })));
        let mut bytes = static_amd64();
        bytes[5] = 0;
        assert!(matches!(inspect(&bytes), Err(ElfError::Malformed { .. })));
        let mut bytes = static_amd64();
        bytes[54] = 40; // e_phentsize
        assert!(matches!(inspect(&bytes), Err(ElfError::Malformed { .. })));
    }

    #[test]
    fn elf32() {
        let bytes = build(
            ElfClass::Elf32,
            Endianness::Little,
            ET_EXEC,
            0x28,
            &[PT_LOAD, PT_INTERP],
        );
        assert_eq!(bytes.len(), 52 + 2 * 32);
        let info = inspect(&bytes).expect("parses");
        assert_eq!(info.class, ElfClass::Elf32);
        assert_eq!(info.arch, Some(Arch::Arm));
        assert!(info.has_interp);
        let i386 = build(
            ElfClass::Elf32,
            Endianness::Little,
            ET_DYN,
            0x03,
            &[PT_LOAD],
        );
        let info = inspect(&i386).expect("parses");
        assert_eq!(info.arch, Some(Arch::I386));
        assert!(info.is_static());
    }

    #[test]
    fn big_endian() {
        let bytes = build(
            ElfClass::Elf64,
            Endianness::Big,
            ET_EXEC,
            0x16,
            &[PT_INTERP, PT_LOAD],
        );
        let info = inspect(&bytes).expect("parses");
        assert_eq!(info.endian, Endianness::Big);
        assert_eq!(info.e_type, ET_EXEC);
        assert_eq!(info.e_machine, 0x16);
        assert_eq!(info.arch, Some(Arch::S390x));
        assert!(info.has_interp);
        // Big-endian ppc64 shares EM_PPC64 with ppc64le, but is not in the table.
        let ppc64 = build(ElfClass::Elf64, Endianness::Big, ET_EXEC, 0x15, &[PT_LOAD]);
        let info = inspect(&ppc64).expect("parses");
        assert_eq!(info.arch, None);
        assert_eq!(
            info.describe_machine(),
            "ELF machine 0x15 (64-bit big-endian)"
        );
    }

    #[test]
    fn bytes_matching_a_rows_magic_parse_as_that_arch() {
        for arch in Arch::ALL {
            let row = arch.row();
            let bytes = build(row.class, row.endian, ET_EXEC, row.e_machine, &[PT_LOAD]);
            assert_eq!(&bytes[..20], &row.magic, "{arch}");
            assert_eq!(inspect(&bytes).expect("parses").arch, Some(arch));
        }
    }

    #[test]
    fn phdr_table_beyond_first_read() {
        // The table sits past HEAD_CAP: inspect_file must seek to it.
        let mut bytes = static_amd64();
        let table = bytes.split_off(64);
        let phoff = HEAD_CAP as u64 + 100;
        bytes[32..40].copy_from_slice(&phoff.to_le_bytes());
        bytes.resize(usize::try_from(phoff).expect("small"), 0);
        bytes.extend_from_slice(&table);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write_exec(dir.path(), "far", &bytes, 0o755);
        let mut file = File::open(&path).expect("open");
        let info = match inspect_file(&mut file) {
            Ok(info) => info,
            Err(_) => panic!("far table should parse"),
        };
        assert_eq!(info.phnum, 2);
        // And the same file cut inside the table.
        let cut = write_exec(dir.path(), "cut", &bytes[..bytes.len() - 10], 0o755);
        let mut file = File::open(&cut).expect("open");
        assert!(matches!(
            inspect_file(&mut file),
            Err(ReadError::Elf(ElfError::Truncated { .. }))
        ));
    }

    #[test]
    fn check_accepts_static_host_binary() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write_exec(dir.path(), "qemu-aarch64-static", &host_static(), 0o755);
        let got = check_emulator(&path, host()).expect("accepted");
        assert_eq!(got, fs::canonicalize(&path).expect("canonical"));
    }

    #[test]
    fn check_resolves_symlinks() {
        let dir = tempfile::tempdir().expect("tempdir");
        let real = write_exec(dir.path(), "qemu-real", &host_static(), 0o755);
        let link = dir.path().join("qemu-aarch64-static");
        std::os::unix::fs::symlink(&real, &link).expect("symlink");
        let got = check_emulator(&link, host()).expect("accepted");
        assert_eq!(got, fs::canonicalize(&real).expect("canonical"));
    }

    #[test]
    fn check_rejects_wrong_machine() {
        let dir = tempfile::tempdir().expect("tempdir");
        let foreign = if host() == Arch::Arm64 {
            Arch::Amd64
        } else {
            Arch::Arm64
        };
        let row = foreign.row();
        let bytes = build(row.class, row.endian, ET_DYN, row.e_machine, &[PT_LOAD]);
        let path = write_exec(dir.path(), "qemu-x-static", &bytes, 0o755);
        let err = check_emulator(&path, host()).expect_err("foreign machine");
        assert!(matches!(err, EmulatorError::WrongArch { .. }), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains(&format!("built for {} (", foreign.oci_name())),
            "{text}"
        );
        assert!(text.contains(host().oci_name()), "{text}");
    }

    #[test]
    fn check_rejects_wrong_class_and_byte_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let row = host().row();
        let other_class = match row.class {
            ElfClass::Elf32 => ElfClass::Elf64,
            ElfClass::Elf64 => ElfClass::Elf32,
        };
        let other_endian = match row.endian {
            Endianness::Little => Endianness::Big,
            Endianness::Big => Endianness::Little,
        };
        for (name, bytes) in [
            (
                "class",
                build(other_class, row.endian, ET_DYN, row.e_machine, &[PT_LOAD]),
            ),
            (
                "endian",
                build(row.class, other_endian, ET_DYN, row.e_machine, &[PT_LOAD]),
            ),
        ] {
            let path = write_exec(dir.path(), name, &bytes, 0o755);
            let err = check_emulator(&path, host()).expect_err(name);
            assert!(
                matches!(err, EmulatorError::WrongArch { .. }),
                "{name}: {err:?}"
            );
        }
    }

    #[test]
    fn check_rejects_dynamic() {
        let dir = tempfile::tempdir().expect("tempdir");
        let row = host().row();
        let bytes = build(
            row.class,
            row.endian,
            ET_DYN,
            row.e_machine,
            &[PT_LOAD, PT_INTERP],
        );
        let path = write_exec(dir.path(), "qemu-aarch64", &bytes, 0o755);
        let err = check_emulator(&path, host()).expect_err("dynamic");
        assert!(matches!(err, EmulatorError::Dynamic { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!(
                "QEMU emulator {} is dynamically linked, but a statically linked one is required",
                path.display()
            )
        );
    }

    #[test]
    fn check_rejects_script() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write_exec(
            dir.path(),
            "qemu-aarch64-static",
            b"#!/bin/sh\nexec /usr/bin/qemu-aarch64 \"$@\"\n",
            0o755,
        );
        let err = check_emulator(&path, host()).expect_err("script");
        assert!(matches!(err, EmulatorError::NotElf { .. }), "{err:?}");
        assert!(err.to_string().ends_with("is not an ELF file"));
    }

    #[test]
    fn check_rejects_no_exec_bit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write_exec(dir.path(), "qemu-aarch64-static", &host_static(), 0o644);
        let err = check_emulator(&path, host()).expect_err("not executable");
        assert!(
            matches!(err, EmulatorError::NotExecutable { .. }),
            "{err:?}"
        );
        assert!(err.to_string().ends_with("is not executable"));
    }

    #[test]
    fn check_rejects_missing_directory_and_truncated() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("nope");
        let err = check_emulator(&missing, host()).expect_err("missing");
        assert!(matches!(err, EmulatorError::Missing { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!("QEMU emulator {} does not exist", missing.display())
        );
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink(&missing, &dangling).expect("symlink");
        let err = check_emulator(&dangling, host()).expect_err("dangling");
        assert!(matches!(err, EmulatorError::Missing { .. }), "{err:?}");

        let err = check_emulator(dir.path(), host()).expect_err("directory");
        assert!(
            matches!(err, EmulatorError::NotRegularFile { .. }),
            "{err:?}"
        );

        let cut = host_static();
        let path = write_exec(dir.path(), "cut", &cut[..cut.len() - 1], 0o755);
        let err = check_emulator(&path, host()).expect_err("truncated");
        assert!(matches!(err, EmulatorError::Truncated { .. }), "{err:?}");
        assert!(
            err.to_string()
                .contains("program header table is incomplete")
        );

        let row = host().row();
        let object = build(row.class, row.endian, 1, row.e_machine, &[PT_LOAD]);
        let path = write_exec(dir.path(), "object", &object, 0o755);
        let err = check_emulator(&path, host()).expect_err("ET_REL");
        assert!(matches!(err, EmulatorError::Malformed { .. }), "{err:?}");
    }

    #[test]
    fn messages_name_the_symlink_target() {
        let dir = tempfile::tempdir().expect("tempdir");
        let real = write_exec(dir.path(), "real", b"#!/bin/sh\n", 0o755);
        let link = dir.path().join("qemu-aarch64-static");
        std::os::unix::fs::symlink(&real, &link).expect("symlink");
        let err = check_emulator(&link, host()).expect_err("script");
        let real = fs::canonicalize(&real).expect("canonical");
        assert_eq!(
            err.to_string(),
            format!(
                "QEMU emulator {} (resolves to {}) is not an ELF file",
                link.display(),
                real.display()
            )
        );
    }

    /// Machine-dependent tests say so when they cannot run here.
    fn skip(why: &str) {
        eprintln!("skipped: {why}");
    }

    #[test]
    fn real_static_pie_qemu_if_installed() {
        // Debian's qemu-user-static is static-pie: ET_DYN without PT_INTERP.
        let path = Path::new("/usr/bin/qemu-aarch64-static");
        if !path.exists() || Arch::host() != Some(Arch::Amd64) {
            return skip("no qemu-aarch64-static on an amd64 host");
        }
        let info = inspect(&fs::read(path).expect("readable")).expect("ELF");
        assert_eq!(info.e_type, ET_DYN);
        assert!(info.is_static());
        assert_eq!(
            check_emulator(path, Arch::Amd64).expect("static-pie accepted"),
            fs::canonicalize(path).expect("canonical")
        );
    }

    #[test]
    fn real_dynamic_binary_rejected() {
        let path = Path::new("/bin/true");
        let info = fs::read(path).ok().and_then(|bytes| inspect(&bytes).ok());
        let (Some(host), Some(info)) = (Arch::host(), info) else {
            return skip("no readable /bin/true ELF");
        };
        if info.arch != Some(host) || info.is_static() {
            return skip("/bin/true is not a dynamic host binary");
        }
        let err = check_emulator(path, host).expect_err("dynamic");
        assert!(matches!(err, EmulatorError::Dynamic { .. }), "{err:?}");
    }
}
