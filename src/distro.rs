//! Distributions, releases, image references and the default container
//! name (spec: cli.md §3).

use std::path::Path;

/// One supported distribution.
#[derive(Debug, Clone, Copy)]
pub struct Distro {
    /// `--distro` value and os-release `ID`.
    pub id: &'static str,
    /// Container-name prefix.
    pub prefix: &'static str,
    /// Image basename.
    pub image: &'static str,
    /// Whether a release must be given when this is not the host's distro.
    pub needs_release: bool,
    release: fn(&str) -> Result<String, &'static str>,
    registry: fn(&str) -> String,
}

/// The distro table (cli.md §3.2).
pub const DISTROS: [Distro; 4] = [
    Distro {
        id: "arch",
        prefix: "arch-toolbox",
        image: "arch-toolbox",
        needs_release: false,
        release: parse_arch_release,
        registry: |_| "quay.io/toolbx/".to_string(),
    },
    Distro {
        id: "fedora",
        prefix: "fedora-toolbox",
        image: "fedora-toolbox",
        needs_release: true,
        release: parse_fedora_release,
        registry: |_| "registry.fedoraproject.org/".to_string(),
    },
    Distro {
        id: "rhel",
        prefix: "rhel-toolbox",
        image: "toolbox",
        needs_release: true,
        release: parse_rhel_release,
        registry: |release| {
            let major = release.split('.').next().unwrap_or(release);
            format!("registry.access.redhat.com/ubi{major}/")
        },
    },
    Distro {
        id: "ubuntu",
        prefix: "ubuntu-toolbox",
        image: "ubuntu-toolbox",
        needs_release: true,
        release: parse_ubuntu_release,
        registry: |_| "quay.io/toolbx/".to_string(),
    },
];

/// Upstream's fallback when the host is not a supported distro.
pub const FALLBACK_DISTRO: &str = "fedora";
/// Upstream's fallback release (moves with each Fedora cycle).
pub const FALLBACK_RELEASE: &str = "44";
/// The container-name regex, as messages quote it.
pub const NAME_REGEX: &str = "[a-zA-Z0-9][a-zA-Z0-9_.-]*";

/// Looks a distro up by its `--distro` name.
pub fn find(id: &str) -> Option<&'static Distro> {
    DISTROS.iter().find(|d| d.id == id)
}

impl Distro {
    /// Normalises a release, or returns the hint line.
    pub fn parse_release(&self, release: &str) -> Result<String, &'static str> {
        (self.release)(release)
    }

    /// The registry prefix for this distro's unqualified images.
    pub fn registry(&self, release: &str) -> String {
        (self.registry)(release)
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn parse_fedora_release(release: &str) -> Result<String, &'static str> {
    const HINT: &str = "The release must be a positive integer.";
    let rest = release
        .strip_prefix('f')
        .or_else(|| release.strip_prefix('F'))
        .unwrap_or(release);
    // A strict grammar: upstream's strconv also takes a sign (cli.md §16 #10).
    if !all_digits(rest) {
        return Err(HINT);
    }
    match rest.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n.to_string()),
        _ => Err(HINT),
    }
}

fn parse_rhel_release(release: &str) -> Result<String, &'static str> {
    const FORMAT: &str = "The release must be in the '<major>.<minor>' format.";
    const POSITIVE: &str = "The release must be a positive number.";
    let Some((major, minor)) = release.split_once('.') else {
        return Err(FORMAT);
    };
    let major_digits = major.strip_prefix('-').unwrap_or(major);
    if !all_digits(major_digits) || !all_digits(minor) {
        return Err(FORMAT);
    }
    if major.starts_with('-') {
        return Err(POSITIVE);
    }
    let value: f64 = release.parse().map_err(|_| FORMAT)?;
    if value <= 0.0 {
        return Err(POSITIVE);
    }
    Ok(release.to_string())
}

fn parse_ubuntu_release(release: &str) -> Result<String, &'static str> {
    const FORMAT: &str = "The release must be in the 'YY.MM' format.";
    let parts: Vec<&str> = release.split('.').collect();
    if parts.len() != 2 {
        return Err(FORMAT);
    }
    let (year_text, month_text) = (parts[0], parts[1]);
    if !all_digits(year_text) {
        return Err(FORMAT);
    }
    let year: u64 = year_text.parse().map_err(|_| FORMAT)?;
    if year < 4 {
        return Err("The release year must be 4 or more.");
    }
    if year_text.len() > 2 {
        return Err("The release year cannot have more than two digits.");
    }
    if year < 10 && year_text.len() == 2 {
        return Err("The release year cannot have a leading zero.");
    }
    if !all_digits(month_text) {
        return Err(FORMAT);
    }
    let month: u64 = month_text.parse().map_err(|_| FORMAT)?;
    if !(1..=12).contains(&month) {
        return Err("The release month must be between 01 and 12.");
    }
    if month_text.len() != 2 {
        return Err("The release month must have two digits.");
    }
    Ok(release.to_string())
}

fn parse_arch_release(release: &str) -> Result<String, &'static str> {
    match release {
        "" | "latest" | "rolling" => Ok("latest".to_string()),
        _ => Err("The release must be 'latest'."),
    }
}

/// The host's distro and release (cli.md §3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostDistro {
    /// A supported distro ID.
    pub distro: String,
    /// Its release (possibly empty, not validated).
    pub release: String,
}

/// Parses os-release text into (key, value) pairs; both quote styles
/// are undone (cli.md §16 #17).
pub fn parse_os_release(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let mut value = value.trim();
        for q in ['"', '\''] {
            if value.len() >= 2 && value.starts_with(q) && value.ends_with(q) {
                value = &value[1..value.len() - 1];
                break;
            }
        }
        let mut unescaped = String::with_capacity(value.len());
        let mut chars = value.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some(n @ ('"' | '$' | '\\' | '`')) => unescaped.push(n),
                    Some(n) => {
                        unescaped.push('\\');
                        unescaped.push(n);
                    }
                    None => unescaped.push('\\'),
                }
            } else {
                unescaped.push(c);
            }
        }
        out.push((key.trim().to_string(), unescaped));
    }
    out
}

/// The host distro from os-release text, or the fallback.
pub fn host_from_os_release(text: Option<&str>) -> HostDistro {
    let pairs = text.map(parse_os_release).unwrap_or_default();
    let get = |k: &str| {
        pairs
            .iter()
            .rev()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    match get("ID").as_deref() {
        Some(id @ ("fedora" | "rhel" | "ubuntu")) => HostDistro {
            distro: id.to_string(),
            release: get("VERSION_ID").unwrap_or_default(),
        },
        Some("arch") => HostDistro {
            distro: "arch".to_string(),
            release: "latest".to_string(),
        },
        _ => HostDistro {
            distro: FALLBACK_DISTRO.to_string(),
            release: FALLBACK_RELEASE.to_string(),
        },
    }
}

/// The host distro from `/etc/os-release` or `/usr/lib/os-release`.
pub fn detect_host() -> HostDistro {
    let text = ["/etc/os-release", "/usr/lib/os-release"]
        .iter()
        .find_map(|p| std::fs::read_to_string(Path::new(p)).ok());
    host_from_os_release(text.as_deref())
}

/// Whether a container name matches `[a-zA-Z0-9][a-zA-Z0-9_.-]*`, ASCII only.
pub fn is_valid_container_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    match bytes.next() {
        Some(b) if b.is_ascii_alphanumeric() => {}
        _ => return false,
    }
    bytes.all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

/// The domain of an image reference, upstream's way (cli.md §3.7).
pub fn image_domain(image: &str) -> Option<&str> {
    let (first, _) = image.split_once('/')?;
    (first.contains('.') || first.contains(':') || first == "localhost").then_some(first)
}

fn without_domain(image: &str) -> &str {
    match image_domain(image) {
        Some(domain) => &image[domain.len() + 1..],
        None => image,
    }
}

/// The image's basename: the last path element, without its tag.
pub fn image_basename(image: &str) -> &str {
    let path = without_domain(image);
    let path = path.split_once(':').map_or(path, |(p, _)| p);
    let base = path.rsplit('/').next().unwrap_or(path);
    if base.is_empty() { "." } else { base }
}

/// The image's tag, or "".
pub fn image_tag(image: &str) -> &str {
    without_domain(image).split_once(':').map_or("", |(_, t)| t)
}

/// Whether the text could be an image ID.
pub fn could_be_image_id(image: &str) -> bool {
    (6..=64).contains(&image.len())
        && image
            .bytes()
            .all(|b| matches!(b, b'a'..=b'f' | b'0'..=b'9'))
}

/// The container name derived from an image.
pub fn container_name_from_image(image: &str) -> String {
    let base = image_basename(image);
    let prefix = DISTROS
        .iter()
        .find(|d| d.image == base)
        .map_or(base, |d| d.prefix);
    match image_tag(image) {
        "" => prefix.to_string(),
        tag => format!("{prefix}-{tag}"),
    }
}

/// The full name of an image for pulling, if its registry is known.
pub fn full_image_name(image: &str, release: &str) -> Option<String> {
    if image_domain(image).is_some() {
        return Some(image.to_string());
    }
    let base = image_basename(image);
    let distro = DISTROS.iter().find(|d| d.image == base)?;
    Some(format!("{}{}", distro.registry(release), image))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(d: &str, r: &str) -> Result<String, &'static str> {
        find(d).unwrap().parse_release(r)
    }

    #[test]
    fn fedora_releases() {
        assert_eq!(rel("fedora", "f40").unwrap(), "40");
        assert_eq!(rel("fedora", "F39").unwrap(), "39");
        for bad in [
            "-3", "-3.0", "-3.1", "0", "0.0", "0.1", "3.0", "3.1", "foo", "3foo", "foobar", "+40",
            "",
        ] {
            assert_eq!(
                rel("fedora", bad),
                Err("The release must be a positive integer."),
                "{bad}"
            );
        }
    }

    #[test]
    fn rhel_releases() {
        for good in ["8.0", "8.3", "8.42", "8.10"] {
            assert_eq!(rel("rhel", good).unwrap(), good);
        }
        for bad in [
            "8", "8.0.0", "8.0.1", "8.3.0", "8.3.1", "foo", "8.2foo", "-2.-1", "2.-1", ".5",
        ] {
            assert_eq!(
                rel("rhel", bad),
                Err("The release must be in the '<major>.<minor>' format."),
                "{bad}"
            );
        }
        assert_eq!(
            rel("rhel", "-2.1"),
            Err("The release must be a positive number.")
        );
        assert_eq!(
            rel("rhel", "0.0"),
            Err("The release must be a positive number.")
        );
    }

    #[test]
    fn ubuntu_releases() {
        let format = Err("The release must be in the 'YY.MM' format.");
        for bad in [
            "20",
            "20.04.0",
            "20.04.1",
            "foo",
            "20foo",
            "foo.bar",
            "foo.bar.baz",
            "4.bar",
            "4.bar.baz",
        ] {
            assert_eq!(rel("ubuntu", bad), format, "{bad}");
        }
        assert_eq!(
            rel("ubuntu", "3.10"),
            Err("The release year must be 4 or more.")
        );
        for bad in ["202.4", "202.04", "2020.4", "2020.04"] {
            assert_eq!(
                rel("ubuntu", bad),
                Err("The release year cannot have more than two digits.")
            );
        }
        assert_eq!(
            rel("ubuntu", "04.10"),
            Err("The release year cannot have a leading zero.")
        );
        for bad in ["4.0", "4.00", "4.13"] {
            assert_eq!(
                rel("ubuntu", bad),
                Err("The release month must be between 01 and 12.")
            );
        }
        assert_eq!(
            rel("ubuntu", "20.4"),
            Err("The release month must have two digits.")
        );
        for good in ["4.10", "5.04", "20.04", "20.10"] {
            assert_eq!(rel("ubuntu", good).unwrap(), good);
        }
    }

    #[test]
    fn arch_releases() {
        for good in ["", "latest", "rolling"] {
            assert_eq!(rel("arch", good).unwrap(), "latest");
        }
        assert_eq!(rel("arch", "foo"), Err("The release must be 'latest'."));
    }

    #[test]
    fn os_release() {
        let h = host_from_os_release(Some("NAME=\"Fedora\"\nID=fedora\nVERSION_ID=40\n"));
        assert_eq!((h.distro.as_str(), h.release.as_str()), ("fedora", "40"));
        let h = host_from_os_release(Some("ID='ubuntu'\nVERSION_ID='22.04'\n"));
        assert_eq!((h.distro.as_str(), h.release.as_str()), ("ubuntu", "22.04"));
        let h = host_from_os_release(Some("ID=debian\nVERSION_ID=\"12\"\n"));
        assert_eq!((h.distro.as_str(), h.release.as_str()), ("fedora", "44"));
        let h = host_from_os_release(Some("ID=arch\n"));
        assert_eq!(h.release, "latest");
        assert_eq!(host_from_os_release(None).distro, "fedora");
    }

    #[test]
    fn container_names() {
        assert!(is_valid_container_name("fedora-toolbox-40"));
        assert!(is_valid_container_name("a"));
        for bad in ["", ".hidden", "dev:box", "ßox", "box\n", "-x", "a b"] {
            assert!(!is_valid_container_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn image_references() {
        assert_eq!(
            container_name_from_image("fedora-toolbox:34"),
            "fedora-toolbox-34"
        );
        assert_eq!(container_name_from_image("quay.io/foo/bar:1.0"), "bar-1.0");
        assert_eq!(
            container_name_from_image("registry.access.redhat.com/ubi9/toolbox"),
            "rhel-toolbox"
        );
        assert_eq!(
            container_name_from_image("localhost:5000/team/dev-tools:2024.1"),
            "dev-tools-2024.1"
        );
        assert_eq!(
            container_name_from_image("quay.io/someone/fedora-toolbox:40"),
            "fedora-toolbox-40"
        );
        let id = "a".repeat(64);
        assert_eq!(container_name_from_image(&id), id);
        assert!(!is_valid_container_name(&container_name_from_image(
            "ßpeci@l.N@m€"
        )));
        assert!(!is_valid_container_name(&container_name_from_image(
            "x@sha256:abcd"
        )));
        assert_eq!(image_domain("localhost/x"), Some("localhost"));
        assert_eq!(image_domain("team/x"), None);
        assert!(could_be_image_id("abcdef"));
        assert!(!could_be_image_id("abcde"));
        assert_eq!(
            full_image_name("toolbox:8.10", "8.10").unwrap(),
            "registry.access.redhat.com/ubi8/toolbox:8.10"
        );
        assert_eq!(
            full_image_name("fedora-toolbox:40", "40").unwrap(),
            "registry.fedoraproject.org/fedora-toolbox:40"
        );
        assert!(full_image_name("mystery:1", "1").is_none());
    }
}
