//! binfmt_misc entries: reading the kernel's text, writing registrations,
//! and telling a container's private instance from the host's.
//!
//! Everything here is pure or takes the binfmt_misc directory as a
//! parameter, so tests run on strings and temp dirs. Nothing here writes to
//! a binfmt_misc instance: init-container does that, through its `Sys` trait,
//! and only into the container's own instance (spec: cross-arch.md §8.5).

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use super::Arch;

/// Longest string the kernel accepts on `register` (`MAX_REGISTER_LENGTH`).
pub const MAX_REGISTER_LENGTH: usize = 1920;

/// The two files of every binfmt_misc instance that are not entries.
const CONTROL_FILES: [&str; 2] = ["register", "status"];

/// One registered handler, as the kernel shows it in
/// `/proc/sys/fs/binfmt_misc/<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `enabled` or `disabled`.
    pub enabled: bool,
    /// The interpreter path as registered.
    pub interpreter: PathBuf,
    /// Flag letters, in the kernel's order `POCF` (`C` implies `O`).
    pub flags: String,
    /// Byte offset of the magic in the file.
    pub offset: u64,
    /// Magic bytes (empty for extension entries).
    pub magic: Vec<u8>,
    /// Mask bytes; empty when the entry has none (every bit counts).
    pub mask: Vec<u8>,
    /// File name extension, for `E`-type entries instead of magic.
    pub extension: Option<String>,
}

/// Why a text is not a binfmt_misc entry or a registration string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BinfmtError {
    /// The first line is neither `enabled` nor `disabled`.
    #[error("binfmt_misc entry does not start with enabled or disabled: {line:?}")]
    BadStatus {
        /// The first line.
        line: String,
    },
    /// A required line is absent.
    #[error("binfmt_misc entry has no {field} line")]
    Missing {
        /// `interpreter`, `flags`, or `magic`.
        field: &'static str,
    },
    /// A magic or mask that is not an even-length hex string.
    #[error("binfmt_misc entry has an invalid {field}: {value:?}")]
    BadHex {
        /// `magic` or `mask`.
        field: &'static str,
        /// The text after the field name.
        value: String,
    },
    /// An offset that is not a number.
    #[error("binfmt_misc entry has an invalid offset: {value:?}")]
    BadOffset {
        /// The text after `offset`.
        value: String,
    },
    /// Magic and mask differ in length.
    #[error("binfmt_misc entry has a {mask}-byte mask for a {magic}-byte magic")]
    MaskLength {
        /// Magic length.
        magic: usize,
        /// Mask length.
        mask: usize,
    },
    /// A registration string the kernel would refuse with EINVAL.
    #[error("invalid binfmt_misc registration: {reason}")]
    BadRegistration {
        /// What the kernel would object to.
        reason: String,
    },
}

impl Entry {
    /// Whether the entry has flag `letter` (`F`, `C`, `O`, `P`).
    pub fn has_flag(&self, letter: char) -> bool {
        self.flags.contains(letter)
    }

    /// F: the interpreter was opened at registration, so it need not exist
    /// in the container's mount namespace.
    pub fn fix_binary(&self) -> bool {
        self.has_flag('F')
    }

    /// C: setuid binaries keep their credentials (sudo works).
    pub fn credentials(&self) -> bool {
        self.has_flag('C')
    }

    /// P: argv\[0\] is preserved.
    pub fn preserve_argv0(&self) -> bool {
        self.has_flag('P')
    }

    /// The mask the kernel applies: the entry's, or all ones without one.
    fn effective_mask(&self) -> Vec<u8> {
        if self.mask.is_empty() {
            vec![0xff; self.magic.len()]
        } else {
            self.mask.clone()
        }
    }

    /// Whether this entry handles `arch`'s binaries and only those: it
    /// catches `arch`'s `ET_EXEC` and `ET_DYN` files (OSABI SYSV or GNU), and
    /// is at least as strict as the row on the bytes that identify an
    /// architecture (ELF magic, class, byte order, `e_machine`).
    ///
    /// Magic is compared after masking, as the kernel compares. Equal masks
    /// are not required: Debian's ppc64le and s390x entries also check
    /// `EI_OSABI` (mask `0xfc` at byte 7) where qemu's current table ignores
    /// it, and they still handle those binaries. Whether the entry is
    /// enabled is not looked at here.
    pub fn matches(&self, arch: Arch) -> bool {
        let row = arch.row();
        if self.extension.is_some() || self.offset != 0 || self.magic.len() < row.magic.len() {
            return false;
        }
        let mask = self.effective_mask();
        if mask.len() != self.magic.len() {
            return false;
        }
        let n = row.magic.len();
        // It catches the binaries distributions ship for the arch.
        let catches = representative_headers(arch)
            .iter()
            .all(|header| (0..n).all(|i| header[i] & mask[i] == self.magic[i] & mask[i]));
        // Bytes beyond the 20 the row describes would make the entry pickier
        // than the row, so they must be masked out.
        let nothing_beyond = mask[n..].iter().all(|&m| m == 0);
        // It is not broader than the row on the bytes that tell
        // architectures apart, or it would also catch other arches.
        let specific = IDENTIFYING_BYTES
            .iter()
            .all(|&i| mask[i] & row.mask[i] == row.mask[i]);
        catches && nothing_beyond && specific
    }
}

/// `\x7fELF`, EI_CLASS, EI_DATA and `e_machine`.
const IDENTIFYING_BYTES: [usize; 8] = [0, 1, 2, 3, 4, 5, 18, 19];

/// The first 20 bytes of `arch`'s Linux executables: `ET_EXEC` and `ET_DYN`
/// (PIE, static-pie), with `EI_OSABI` SYSV or GNU, as toolchains emit them.
fn representative_headers(arch: Arch) -> [[u8; 20]; 4] {
    let row = arch.row();
    let mut out = [row.magic; 4];
    for (header, (osabi, e_type)) in out.iter_mut().zip([(0, 2), (0, 3), (3, 2), (3, 3)]) {
        header[7] = osabi;
        header[16..18].copy_from_slice(&row.endian.u16_bytes(e_type));
    }
    out
}

/// Parses the kernel's text for one entry:
///
/// ```text
/// enabled
/// interpreter /usr/bin/qemu-aarch64-static
/// flags: PF
/// offset 0
/// magic 7f454c46...
/// mask ffffffff...
/// ```
///
/// The mask line is absent when the entry has none; extension entries have
/// `extension .ext` instead of offset, magic and mask. Unknown lines are
/// ignored, so a future kernel adding one does not break detection.
pub fn parse_entry(text: &str) -> Result<Entry, BinfmtError> {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default().trim();
    let enabled = match first {
        "enabled" => true,
        "disabled" => false,
        other => {
            return Err(BinfmtError::BadStatus {
                line: other.to_string(),
            });
        }
    };
    let mut interpreter = None;
    let mut flags = None;
    let mut offset = 0;
    let mut magic = None;
    let mut mask = Vec::new();
    let mut extension = None;
    for line in lines {
        if let Some(rest) = line.strip_prefix("interpreter ") {
            // The path is the rest of the line: it may contain spaces.
            interpreter = Some(PathBuf::from(rest));
        } else if let Some(rest) = line.strip_prefix("flags:") {
            flags = Some(rest.trim().to_string());
        } else if let Some(rest) = line.strip_prefix("offset ") {
            offset = rest.trim().parse().map_err(|_| BinfmtError::BadOffset {
                value: rest.to_string(),
            })?;
        } else if let Some(rest) = line.strip_prefix("magic ") {
            magic = Some(decode_hex("magic", rest.trim())?);
        } else if let Some(rest) = line.strip_prefix("mask ") {
            mask = decode_hex("mask", rest.trim())?;
        } else if let Some(rest) = line.strip_prefix("extension ") {
            let ext = rest.trim();
            extension = Some(ext.strip_prefix('.').unwrap_or(ext).to_string());
        }
    }
    let interpreter = interpreter.ok_or(BinfmtError::Missing {
        field: "interpreter",
    })?;
    let flags = flags.ok_or(BinfmtError::Missing { field: "flags" })?;
    let magic = match (magic, &extension) {
        (Some(magic), _) => magic,
        (None, Some(_)) => Vec::new(),
        (None, None) => return Err(BinfmtError::Missing { field: "magic" }),
    };
    if !mask.is_empty() && mask.len() != magic.len() {
        return Err(BinfmtError::MaskLength {
            magic: magic.len(),
            mask: mask.len(),
        });
    }
    Ok(Entry {
        enabled,
        interpreter,
        flags,
        offset,
        magic,
        mask,
        extension,
    })
}

fn decode_hex(field: &'static str, text: &str) -> Result<Vec<u8>, BinfmtError> {
    let bad = || BinfmtError::BadHex {
        field,
        value: text.to_string(),
    };
    if text.len() % 2 != 0 || !text.is_ascii() {
        return Err(bad());
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).map_err(|_| bad()))
        .collect()
}

/// Every byte as lowercase `\xHH`, the ASCII ones too (as the series writes
/// it; the kernel unescapes `\x` and takes other bytes literally).
fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 4);
    for byte in bytes {
        // Writing into a String cannot fail.
        let _ = write!(out, "\\x{byte:02x}");
    }
    out
}

/// The string to write to `register` for `arch`:
/// `:qemu-<q>:M:0:<magic>:<mask>:<interpreter>:<flags>`, magic and mask as
/// `\xHH`. Check the path with [`interpreter_is_registrable`] first: a `:`
/// or newline in it cannot be expressed.
pub fn registration(arch: Arch, interpreter: &Path, flags: &str) -> String {
    let row = arch.row();
    format!(
        ":{}:M:0:{}:{}:{}:{}",
        arch.binfmt_name(),
        escape(&row.magic),
        escape(&row.mask),
        interpreter.display(),
        flags
    )
}

/// Whether `interpreter` can go into a registration string unchanged:
/// absolute, valid UTF-8, no `:` (the field separator) or newline, and short
/// enough for the kernel's [`MAX_REGISTER_LENGTH`].
pub fn interpreter_is_registrable(interpreter: &Path) -> bool {
    let Some(text) = interpreter.to_str() else {
        return false;
    };
    interpreter.is_absolute()
        && !text.contains([':', '\n', '\0'])
        && registration(Arch::Arm64, interpreter, "POCF").len() <= MAX_REGISTER_LENGTH
}

/// What the kernel would show after `registration` is written to
/// `register`: the entry's name and its text, in the format
/// [`parse_entry`] reads. Follows `create_entry` and `entry_status` in
/// Linux's `fs/binfmt_misc.c`, for fakes that stand in for the kernel.
pub fn kernel_entry_text(registration: &str) -> Result<(String, String), BinfmtError> {
    let bad = |reason: &str| BinfmtError::BadRegistration {
        reason: reason.to_string(),
    };
    if registration.len() < 11 || registration.len() > MAX_REGISTER_LENGTH {
        return Err(bad("length out of range"));
    }
    let mut chars = registration.chars();
    let delimiter = chars.next().ok_or_else(|| bad("empty"))?;
    let body = chars.as_str();
    let body = body.strip_suffix('\n').unwrap_or(body);
    let fields: Vec<&str> = body.split(delimiter).collect();
    let [name, kind, offset, magic, mask, interpreter, flags] = fields[..] else {
        return Err(bad("expected 7 fields"));
    };
    if name.is_empty() || name == "." || name == ".." || name.contains('/') {
        return Err(bad("invalid name"));
    }
    if interpreter.is_empty() {
        return Err(bad("empty interpreter"));
    }
    let mut letters = String::new();
    for (flag, set) in [
        ('P', flags.contains('P')),
        ('O', flags.contains('O') || flags.contains('C')),
        ('C', flags.contains('C')),
        ('F', flags.contains('F')),
    ] {
        if set {
            letters.push(flag);
        }
    }
    if flags.chars().any(|c| !"POCF".contains(c)) {
        return Err(bad("unknown flag"));
    }
    let mut text = format!("enabled\ninterpreter {interpreter}\nflags: {letters}\n");
    match kind {
        "M" => {
            let offset: u64 = if offset.is_empty() {
                0
            } else {
                offset.parse().map_err(|_| bad("invalid offset"))?
            };
            let magic = unescape(magic).ok_or_else(|| bad("invalid magic escape"))?;
            if magic.is_empty() {
                return Err(bad("empty magic"));
            }
            let _ = write!(text, "offset {offset}\nmagic {}", hex(&magic));
            if !mask.is_empty() {
                let mask = unescape(mask).ok_or_else(|| bad("invalid mask escape"))?;
                if mask.len() != magic.len() {
                    return Err(bad("mask and magic differ in length"));
                }
                let _ = write!(text, "\nmask {}", hex(&mask));
            }
            text.push('\n');
        }
        "E" => {
            if magic.is_empty() || magic.contains('/') {
                return Err(bad("invalid extension"));
            }
            let _ = writeln!(text, "extension .{magic}");
        }
        _ => return Err(bad("type is neither M nor E")),
    }
    Ok((name.to_string(), text))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// The kernel's `string_unescape(UNESCAPE_HEX)`: `\xHH` becomes a byte, any
/// other byte stays as is.
fn unescape(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && bytes.get(i + 1) == Some(&b'x') {
            let digits = text.get(i + 2..i + 4)?;
            out.push(u8::from_str_radix(digits, 16).ok()?);
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Finds an entry in the binfmt_misc directory `dir` that handles `arch`
/// ([`Entry::matches`]), by content rather than by name: hosts name their
/// entries freely (spec B8). Returns its file name and entry.
///
/// Enabled entries win over disabled ones; among equals, the first by name,
/// so the answer does not depend on directory order. Files that vanish
/// while scanning or do not parse are skipped.
pub fn find_matching(dir: &Path, arch: Arch) -> Result<Option<(String, Entry)>, io::Error> {
    let mut best: Option<(String, Entry)> = None;
    for (name, text) in read_entries(dir)? {
        let Ok(entry) = parse_entry(&text) else {
            tracing::debug!("Skipping binfmt_misc entry {name}: not in the expected format");
            continue;
        };
        if !entry.matches(arch) {
            continue;
        }
        // read_entries sorts by name, so only a better status replaces.
        let better = match &best {
            None => true,
            Some((_, current)) => entry.enabled && !current.enabled,
        };
        if better {
            best = Some((name, entry));
        }
    }
    Ok(best)
}

/// Every entry's name and text (plus `status`), sorted by name: a snapshot
/// to compare before and after, proving the host's instance is unchanged.
/// `register` is left out, as it is write-only.
pub fn host_instance_snapshot(dir: &Path) -> Result<Vec<(String, String)>, io::Error> {
    let mut entries = read_entries(dir)?;
    match std::fs::read_to_string(dir.join("status")) {
        Ok(text) => entries.push(("status".to_string(), text)),
        Err(err) if err.kind() == io::ErrorKind::NotFound => {}
        Err(err) => return Err(err),
    }
    entries.sort();
    Ok(entries)
}

/// Names and texts of the entry files in `dir`, sorted by name.
fn read_entries(dir: &Path) -> Result<Vec<(String, String)>, io::Error> {
    let mut out = Vec::new();
    for dirent in std::fs::read_dir(dir)? {
        let dirent = dirent?;
        let Ok(name) = dirent.file_name().into_string() else {
            continue;
        };
        if CONTROL_FILES.contains(&name.as_str()) {
            continue;
        }
        match std::fs::read_to_string(dirent.path()) {
            Ok(text) => out.push((name, text)),
            // Removed between listing and reading.
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => return Err(err),
        }
    }
    out.sort();
    Ok(out)
}

/// Whether a binfmt_misc directory listing is that of a fresh instance:
/// exactly `register` and `status`. A host without entries looks the same,
/// so this is a second guard after [`is_initial_user_namespace`].
pub fn is_fresh_instance(names: &[String]) -> bool {
    let mut sorted: Vec<&str> = names.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    sorted == CONTROL_FILES
}

/// Whether `/proc/self/uid_map` is the initial user namespace's
/// (`0 0 4294967295` as its only line). There a binfmt_misc mount is the
/// host's own instance, so nothing may be registered (spec B14).
pub fn is_initial_user_namespace(uid_map: &str) -> bool {
    let mut lines = uid_map.lines().filter(|line| !line.trim().is_empty());
    let Some(line) = lines.next() else {
        return false;
    };
    let fields: Vec<&str> = line.split_whitespace().collect();
    lines.next().is_none() && fields == ["0", "0", "4294967295"]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// Read from /proc/sys/fs/binfmt_misc/qemu-aarch64 on a Debian host with
    /// qemu-user-static (kernel 6.18).
    const DEBIAN_AARCH64: &str = "enabled
interpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P
flags: PF
offset 0
magic 7f454c460201010000000000000000000200b700
mask ffffffffffffff00fffffffffffffffffeffffff
";

    #[test]
    fn parses_debian_aarch64_entry() {
        let entry = parse_entry(DEBIAN_AARCH64).expect("parses");
        assert!(entry.enabled);
        assert_eq!(
            entry.interpreter,
            PathBuf::from("/usr/libexec/qemu-binfmt/aarch64-binfmt-P")
        );
        assert_eq!(entry.flags, "PF");
        assert!(entry.fix_binary());
        assert!(entry.preserve_argv0());
        assert!(!entry.credentials());
        assert_eq!(entry.offset, 0);
        assert_eq!(entry.magic, Arch::Arm64.row().magic);
        assert_eq!(entry.mask, Arch::Arm64.row().mask);
        assert_eq!(entry.extension, None);
        assert!(entry.matches(Arch::Arm64));
        for arch in Arch::ALL {
            if arch != Arch::Arm64 {
                assert!(!entry.matches(arch), "{arch}");
            }
        }
    }

    #[test]
    fn debian_style_masks_still_match() {
        // Debian's ppc64le and s390x masks check EI_OSABI (0xfc at byte 7).
        let ppc = "enabled\ninterpreter /usr/libexec/qemu-binfmt/ppc64le-binfmt-P\nflags: PF\n\
                   offset 0\nmagic 7f454c4602010100000000000000000002001500\n\
                   mask fffffffffffffffcfffffffffffffffffeffff00\n";
        let entry = parse_entry(ppc).expect("parses");
        assert!(entry.matches(Arch::Ppc64le));
        assert!(!entry.matches(Arch::Arm64));
        let s390 = "enabled\ninterpreter /usr/libexec/qemu-binfmt/s390x-binfmt-P\nflags: PF\n\
                    offset 0\nmagic 7f454c4602020100000000000000000000020016\n\
                    mask fffffffffffffffcfffffffffffffffffffeffff\n";
        let entry = parse_entry(s390).expect("parses");
        assert!(entry.matches(Arch::S390x));
    }

    #[test]
    fn magic_is_compared_after_masking() {
        // Bits the mask clears may hold anything (here EI_OSABI = GNU and
        // e_type's low bit).
        let mut magic = Arch::Arm64.row().magic;
        magic[7] = 3;
        magic[16] = 3;
        let entry = Entry {
            enabled: true,
            interpreter: "/q".into(),
            flags: "F".into(),
            offset: 0,
            magic: magic.to_vec(),
            mask: Arch::Arm64.row().mask.to_vec(),
            extension: None,
        };
        assert!(entry.matches(Arch::Arm64));
    }

    #[test]
    fn broad_or_odd_entries_do_not_match() {
        let base = parse_entry(DEBIAN_AARCH64).expect("parses");
        // Ignoring e_machine would catch every 64-bit LE ELF.
        let mut broad = base.clone();
        broad.mask[18] = 0;
        assert!(!broad.matches(Arch::Arm64));
        // Wrong machine.
        let mut other = base.clone();
        other.magic[18] = 0x3e;
        assert!(!other.matches(Arch::Arm64));
        // ...which makes it an amd64 handler: a stricter mask on bytes 5-6
        // than qemu's x86 quirk is fine.
        assert!(other.matches(Arch::Amd64));
        // Checking all of e_type would miss PIE and static-pie binaries.
        let mut exec_only = base.clone();
        exec_only.mask[16] = 0xff;
        assert!(!exec_only.matches(Arch::Arm64));
        // Nonzero offset, short magic, extension entries.
        let mut shifted = base.clone();
        shifted.offset = 1;
        assert!(!shifted.matches(Arch::Arm64));
        let mut short = base.clone();
        short.magic.truncate(4);
        short.mask.truncate(4);
        assert!(!short.matches(Arch::Arm64));
        let ext = parse_entry("enabled\ninterpreter /usr/bin/java\nflags: \nextension .jar\n")
            .expect("parses");
        assert_eq!(ext.extension.as_deref(), Some("jar"));
        assert!(ext.magic.is_empty());
        assert!(!ext.matches(Arch::Arm64));
        // Longer magic is fine only where the extra bytes are masked out.
        let mut long = base.clone();
        long.magic.extend([1, 0]);
        long.mask.extend([0, 0]);
        assert!(long.matches(Arch::Arm64));
        long.mask[21] = 0xff;
        assert!(!long.matches(Arch::Arm64));
    }

    #[test]
    fn entry_without_mask() {
        let text = "disabled\ninterpreter /usr/bin/qemu-riscv64-static\nflags: F\noffset 0\n\
                    magic 7f454c460201010000000000000000000200f300\n";
        let entry = parse_entry(text).expect("parses");
        assert!(!entry.enabled);
        assert!(entry.mask.is_empty());
        // Every bit counts without a mask, so only SYSV ET_EXEC files match:
        // the PIE binaries distributions ship would not run.
        assert!(!entry.matches(Arch::Riscv64));
    }

    #[test]
    fn parse_errors() {
        assert!(matches!(
            parse_entry(""),
            Err(BinfmtError::BadStatus { .. })
        ));
        assert!(matches!(
            parse_entry("on\ninterpreter /x\n"),
            Err(BinfmtError::BadStatus { .. })
        ));
        assert_eq!(
            parse_entry("enabled\nflags: F\nmagic 00\n"),
            Err(BinfmtError::Missing {
                field: "interpreter"
            })
        );
        assert_eq!(
            parse_entry("enabled\ninterpreter /x\nmagic 00\n"),
            Err(BinfmtError::Missing { field: "flags" })
        );
        assert_eq!(
            parse_entry("enabled\ninterpreter /x\nflags: F\noffset 0\n"),
            Err(BinfmtError::Missing { field: "magic" })
        );
        assert!(matches!(
            parse_entry("enabled\ninterpreter /x\nflags: F\noffset x\nmagic 00\n"),
            Err(BinfmtError::BadOffset { .. })
        ));
        assert!(matches!(
            parse_entry("enabled\ninterpreter /x\nflags: F\nmagic zz\n"),
            Err(BinfmtError::BadHex { .. })
        ));
        assert!(matches!(
            parse_entry("enabled\ninterpreter /x\nflags: F\nmagic 7f4\n"),
            Err(BinfmtError::BadHex { field: "magic", .. })
        ));
        assert_eq!(
            parse_entry("enabled\ninterpreter /x\nflags: F\nmagic 0000\nmask ff\n"),
            Err(BinfmtError::MaskLength { magic: 2, mask: 1 })
        );
        // Interpreter paths keep their spaces; unknown lines are ignored.
        let entry = parse_entry("enabled\ninterpreter /opt/my qemu\nflags: \nfuture 1\nmagic 7f\n")
            .expect("parses");
        assert_eq!(entry.interpreter, PathBuf::from("/opt/my qemu"));
        assert_eq!(entry.flags, "");
    }

    #[test]
    fn bytes_to_escaped_string() {
        // upstream: TestBytesToEscapedString
        assert_eq!(escape(&[]), "");
        assert_eq!(escape(b"\x7fELF"), r"\x7f\x45\x4c\x46");
        assert_eq!(escape(&[0x00, 0xab, 0xff]), r"\x00\xab\xff");
        assert_eq!(unescape(&escape(&[1, 2, 0xfe])), Some(vec![1, 2, 0xfe]));
        assert_eq!(unescape(r"\x4"), None);
    }

    #[test]
    fn aarch64_registration_matches_the_series() {
        assert_eq!(
            registration(
                Arch::Arm64,
                Path::new("/run/host/usr/bin/qemu-aarch64-static"),
                "FC"
            ),
            r":qemu-aarch64:M:0:\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:/run/host/usr/bin/qemu-aarch64-static:FC"
        );
    }

    #[test]
    fn every_registration_parses_back() {
        for arch in Arch::ALL {
            let interp = PathBuf::from(format!(
                "/run/host/usr/bin/qemu-{}-static",
                arch.qemu_name()
            ));
            let reg = registration(arch, &interp, "FC");
            assert!(reg.len() <= MAX_REGISTER_LENGTH);
            let (name, text) = kernel_entry_text(&reg).expect("kernel accepts");
            assert_eq!(name, arch.binfmt_name());
            let entry = parse_entry(&text).expect("parses");
            assert!(entry.enabled);
            assert_eq!(entry.interpreter, interp);
            assert_eq!(entry.flags, "OCF", "C implies O, kernel order");
            assert!(entry.fix_binary() && entry.credentials());
            assert_eq!(entry.offset, 0);
            assert_eq!(entry.magic, arch.row().magic);
            assert_eq!(entry.mask, arch.row().mask);
            assert!(entry.matches(arch), "{arch}");
            for other in Arch::ALL {
                if other != arch {
                    assert!(!entry.matches(other), "{arch} entry matches {other}");
                }
            }
        }
    }

    #[test]
    fn kernel_text_details() {
        let (_, text) = kernel_entry_text(&registration(Arch::Arm64, Path::new("/q"), "PFC"))
            .expect("accepted");
        assert!(text.contains("\nflags: POCF\n"), "{text}");
        let (name, text) = kernel_entry_text(":test:M::\\x7fELF::/usr/bin/test:F\n")
            .expect("accepted without mask");
        assert_eq!(name, "test");
        assert_eq!(
            text,
            "enabled\ninterpreter /usr/bin/test\nflags: F\noffset 0\nmagic 7f454c46\n"
        );
        // What the series' tests build and the kernel refuses.
        assert!(kernel_entry_text(":::::::").is_err());
        assert!(kernel_entry_text(":test:M:0:::/usr/bin/test:F").is_err());
        assert!(kernel_entry_text(":a/b:M:0:\\x7f::/x:F").is_err());
        assert!(kernel_entry_text(":t:M:0:\\x7f\\x45:\\xff:/x:F").is_err());
        assert!(kernel_entry_text(":t:M:0:\\x7f::/x:FX").is_err());
        assert!(kernel_entry_text(":t:Q:0:\\x7f::/x:F").is_err());
    }

    #[test]
    fn registrable_interpreters() {
        assert!(interpreter_is_registrable(Path::new(
            "/run/host/usr/bin/qemu-aarch64-static"
        )));
        assert!(!interpreter_is_registrable(Path::new("relative/qemu")));
        assert!(!interpreter_is_registrable(Path::new("/opt/a:b/qemu")));
        assert!(!interpreter_is_registrable(Path::new("/opt/a\nb")));
        let long = format!("/{}", "a".repeat(MAX_REGISTER_LENGTH));
        assert!(!interpreter_is_registrable(Path::new(&long)));
    }

    fn fake_instance(entries: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(dir.path().join("register"), "").expect("write");
        fs::write(dir.path().join("status"), "enabled\n").expect("write");
        for (name, text) in entries {
            fs::write(dir.path().join(name), text).expect("write");
        }
        dir
    }

    #[test]
    fn find_matching_by_content() {
        let (_, x86) =
            kernel_entry_text(&registration(Arch::Amd64, Path::new("/q"), "F")).expect("accepted");
        let dir = fake_instance(&[
            ("whatever-name", DEBIAN_AARCH64),
            ("qemu-x86_64", &x86),
            ("garbage", "not an entry"),
            (
                "jar",
                "enabled\ninterpreter /usr/bin/java\nflags: \nextension .jar\n",
            ),
        ]);
        let (name, entry) = find_matching(dir.path(), Arch::Arm64)
            .expect("reads")
            .expect("found");
        assert_eq!(name, "whatever-name");
        assert!(entry.fix_binary());
        let (name, _) = find_matching(dir.path(), Arch::Amd64)
            .expect("reads")
            .expect("found");
        assert_eq!(name, "qemu-x86_64");
        assert!(
            find_matching(dir.path(), Arch::S390x)
                .expect("reads")
                .is_none()
        );
        // A name alone is not enough.
        let dir = fake_instance(&[("qemu-aarch64", &x86)]);
        assert!(
            find_matching(dir.path(), Arch::Arm64)
                .expect("reads")
                .is_none()
        );
    }

    #[test]
    fn find_matching_prefers_enabled() {
        let disabled = DEBIAN_AARCH64.replacen("enabled", "disabled", 1);
        let dir = fake_instance(&[("a-disabled", &disabled), ("b-enabled", DEBIAN_AARCH64)]);
        let (name, entry) = find_matching(dir.path(), Arch::Arm64)
            .expect("reads")
            .expect("found");
        assert_eq!(name, "b-enabled");
        assert!(entry.enabled);
        let dir = fake_instance(&[("only", &disabled)]);
        let (_, entry) = find_matching(dir.path(), Arch::Arm64)
            .expect("reads")
            .expect("found");
        assert!(!entry.enabled);
    }

    #[test]
    fn find_matching_missing_dir_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = find_matching(&dir.path().join("nope"), Arch::Arm64).expect_err("no dir");
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn snapshot_is_sorted_and_complete() {
        let dir = fake_instance(&[("z", DEBIAN_AARCH64), ("a", "enabled\n")]);
        let snap = host_instance_snapshot(dir.path()).expect("reads");
        let names: Vec<&str> = snap.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["a", "status", "z"]);
        assert_eq!(snap[2].1, DEBIAN_AARCH64);
        assert_eq!(snap, host_instance_snapshot(dir.path()).expect("reads"));
        fs::write(dir.path().join("new"), "enabled\n").expect("write");
        assert_ne!(snap, host_instance_snapshot(dir.path()).expect("reads"));
    }

    #[test]
    fn real_host_instance_is_readable() {
        // Reading only; skipped where binfmt_misc is not mounted.
        let dir = Path::new("/proc/sys/fs/binfmt_misc");
        if !dir.join("status").exists() {
            eprintln!("skipped: binfmt_misc is not mounted");
            return;
        }
        let before = host_instance_snapshot(dir).expect("reads");
        for arch in Arch::ALL {
            let _ = find_matching(dir, arch).expect("reads");
        }
        assert_eq!(before, host_instance_snapshot(dir).expect("reads"));
    }

    #[test]
    fn fresh_instance() {
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(is_fresh_instance(&names(&["register", "status"])));
        assert!(is_fresh_instance(&names(&["status", "register"])));
        assert!(!is_fresh_instance(&names(&[
            "register",
            "status",
            "qemu-aarch64"
        ])));
        assert!(!is_fresh_instance(&names(&["register"])));
        assert!(!is_fresh_instance(&names(&["register", "register"])));
        assert!(!is_fresh_instance(&names(&[])));
    }

    #[test]
    fn initial_user_namespace() {
        assert!(is_initial_user_namespace(
            "         0          0 4294967295\n"
        ));
        assert!(is_initial_user_namespace("0 0 4294967295"));
        assert!(is_initial_user_namespace("\t0\t0\t4294967295\n\n"));
        // Rootless keep-id maps.
        assert!(!is_initial_user_namespace(
            "         0          1          1000\n      1000       1000          1\n"
        ));
        assert!(!is_initial_user_namespace("0 1000 1\n"));
        assert!(!is_initial_user_namespace("0 0 4294967294\n"));
        assert!(!is_initial_user_namespace("0 0 4294967295\n1 1 1\n"));
        assert!(!is_initial_user_namespace(""));
        assert!(!is_initial_user_namespace("0 0 4294967295 x"));
    }
}
