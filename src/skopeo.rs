//! Remote image inspection with skopeo, for the download size.

use serde::Deserialize;

use crate::exec::Cmd;

#[derive(Deserialize)]
struct Inspect {
    #[serde(rename = "LayersData", default)]
    layers_data: Option<Vec<Layer>>,
}

#[derive(Deserialize)]
struct Layer {
    #[serde(rename = "Size", default)]
    size: f64,
}

/// The download size of a remote image, if skopeo is there and knows it.
pub fn image_size(image: &str) -> Option<u64> {
    let out = Cmd::new("skopeo")
        .args(["inspect", "--format", "json", "--no-tags"])
        .arg(format!("docker://{image}"))
        .run_stdout()
        .ok()?;
    parse_size(&out)
}

/// Sums `LayersData[].Size`.
pub fn parse_size(json: &str) -> Option<u64> {
    let inspect: Inspect = serde_json::from_str(json).ok()?;
    let layers = inspect.layers_data?;
    Some(layers.iter().map(|l| l.size).sum::<f64>() as u64)
}

/// go-units `HumanSize`: decimal units, 4 significant digits, no space.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    let digits = if value >= 1000.0 {
        0
    } else if value >= 100.0 {
        1
    } else if value >= 10.0 {
        2
    } else {
        3
    };
    let rounded = format!("{value:.digits$}");
    let trimmed = if rounded.contains('.') {
        rounded
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    } else {
        rounded
    };
    format!("{trimmed}{}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(human_size(999), "999B");
        assert_eq!(human_size(294_100_000), "294.1MB");
        assert_eq!(human_size(1_234_000_000), "1.234GB");
        assert_eq!(
            parse_size(r#"{"LayersData":[{"Size":1000},{"Size":500}]}"#),
            Some(1500)
        );
        assert_eq!(parse_size(r#"{"Name":"x"}"#), None);
    }
}

/// One platform of a manifest list, or the only one of a plain image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    /// OCI architecture, e.g. `arm64`.
    pub architecture: String,
    /// OCI variant, e.g. `v8`, if any.
    pub variant: Option<String>,
    /// OS, e.g. `linux`.
    pub os: String,
}

/// What a remote reference turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remote {
    /// A manifest list (OCI index) with these platforms.
    List(Vec<Platform>),
    /// A single-architecture image.
    Single(Platform),
}

/// Why a remote image could not be inspected.
#[derive(Debug, thiserror::Error)]
pub enum SkopeoError {
    /// skopeo is not installed.
    #[error("skopeo is not installed")]
    Missing,
    /// The registry does not have that image.
    #[error("image {image} was not found in its registry{}", tail(.stderr))]
    NotFound {
        /// The reference.
        image: String,
        /// skopeo's stderr.
        stderr: String,
    },
    /// The registry wants credentials.
    #[error("the registry refused access to {image}: log in with 'podman login' or pass --authfile{}", tail(.stderr))]
    Unauthorized {
        /// The reference.
        image: String,
        /// skopeo's stderr.
        stderr: String,
    },
    /// The registry could not be reached.
    #[error("the registry of {image} could not be reached{}", tail(.stderr))]
    Network {
        /// The reference.
        image: String,
        /// skopeo's stderr.
        stderr: String,
    },
    /// Anything else.
    #[error("skopeo failed for {image}{}", tail(.stderr))]
    Other {
        /// The reference.
        image: String,
        /// skopeo's stderr.
        stderr: String,
    },
    /// Output that did not parse.
    #[error("skopeo's output for {image} did not parse: {reason}")]
    Parse {
        /// The reference.
        image: String,
        /// Why.
        reason: String,
    },
}

fn tail(stderr: &str) -> String {
    let last = stderr.trim().lines().last().unwrap_or("").trim();
    if last.is_empty() {
        String::new()
    } else {
        format!(": {last}")
    }
}

/// Sorts skopeo's failure into a kind by its stderr.
pub fn classify(image: &str, stderr: &str) -> SkopeoError {
    let lower = stderr.to_lowercase();
    let image = image.to_string();
    let stderr = stderr.to_string();
    if lower.contains("manifest unknown")
        || lower.contains("name unknown")
        || lower.contains("not found")
    {
        SkopeoError::NotFound { image, stderr }
    } else if lower.contains("unauthorized")
        || lower.contains("authentication required")
        || lower.contains("denied")
    {
        SkopeoError::Unauthorized { image, stderr }
    } else if lower.contains("connection refused")
        || lower.contains("no such host")
        || lower.contains("dial tcp")
        || lower.contains("i/o timeout")
        || lower.contains("network is unreachable")
    {
        SkopeoError::Network { image, stderr }
    } else {
        SkopeoError::Other { image, stderr }
    }
}

#[derive(Deserialize)]
struct RawManifest {
    #[serde(default)]
    manifests: Option<Vec<RawEntry>>,
}

#[derive(Deserialize)]
struct RawEntry {
    #[serde(default)]
    platform: Option<RawPlatform>,
}

#[derive(Deserialize)]
struct RawPlatform {
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    variant: Option<String>,
    #[serde(default)]
    os: String,
}

#[derive(Deserialize)]
struct InspectPlatform {
    #[serde(rename = "Architecture", default)]
    architecture: String,
    #[serde(rename = "Variant", default)]
    variant: Option<String>,
    #[serde(rename = "Os", default)]
    os: String,
}

/// Parses `skopeo inspect --raw`: the platforms of a manifest list, or
/// `None` for a plain manifest.
pub fn parse_manifest_list(json: &str) -> Result<Option<Vec<Platform>>, String> {
    let raw: RawManifest = serde_json::from_str(json).map_err(|e| e.to_string())?;
    Ok(raw.manifests.map(|list| {
        list.into_iter()
            .filter_map(|m| m.platform)
            .map(|p| Platform {
                architecture: p.architecture,
                variant: p.variant.filter(|v| !v.is_empty()),
                os: p.os,
            })
            .collect()
    }))
}

/// Parses `skopeo inspect` of a single image.
pub fn parse_platform(json: &str) -> Result<Platform, String> {
    let p: InspectPlatform = serde_json::from_str(json).map_err(|e| e.to_string())?;
    Ok(Platform {
        architecture: p.architecture,
        variant: p.variant.filter(|v| !v.is_empty()),
        os: p.os,
    })
}

fn run_skopeo(image: &str, args: &[&str]) -> Result<String, SkopeoError> {
    use crate::exec::ExecError;
    Cmd::new("skopeo")
        .args(args)
        .arg(format!("docker://{image}"))
        .stderr(crate::exec::Io::Capture)
        .run_stdout()
        .map_err(|e| match e {
            ExecError::NotFound { .. } => SkopeoError::Missing,
            other => classify(image, other.stderr()),
        })
}

/// Finds out whether a remote reference is a manifest list (and of
/// which platforms) or a single image (and of which).
pub fn remote_platforms(image: &str, authfile: Option<&str>) -> Result<Remote, SkopeoError> {
    let mut args = vec!["inspect", "--raw"];
    if let Some(f) = authfile {
        args.extend(["--authfile", f]);
    }
    let raw = run_skopeo(image, &args)?;
    let parse_err = |reason: String| SkopeoError::Parse {
        image: image.to_string(),
        reason,
    };
    if let Some(list) = parse_manifest_list(&raw).map_err(parse_err)? {
        return Ok(Remote::List(list));
    }
    let mut args = vec!["inspect", "--no-tags"];
    if let Some(f) = authfile {
        args.extend(["--authfile", f]);
    }
    let json = run_skopeo(image, &args)?;
    Ok(Remote::Single(parse_platform(&json).map_err(parse_err)?))
}

/// `skopeo copy` of one platform into local storage under `local`.
pub fn copy(
    image: &str,
    arch: &str,
    variant: Option<&str>,
    authfile: Option<&str>,
    local: &str,
) -> Result<(), SkopeoError> {
    use crate::exec::ExecError;
    let mut cmd =
        Cmd::new("skopeo").args(["copy", "--override-os", "linux", "--override-arch", arch]);
    if let Some(v) = variant {
        cmd = cmd.args(["--override-variant", v]);
    }
    if let Some(f) = authfile {
        cmd = cmd.args(["--src-authfile", f]);
    }
    cmd.arg(format!("docker://{image}"))
        .arg(format!("containers-storage:{local}"))
        .stdout(crate::exec::Io::Null)
        .run()
        .map(drop)
        .map_err(|e| match e {
            ExecError::NotFound { .. } => SkopeoError::Missing,
            other => classify(image, other.stderr()),
        })
}

#[cfg(test)]
mod platform_tests {
    use super::*;

    #[test]
    fn manifest_lists_and_single_images() {
        let list = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
            {"digest":"sha256:a","platform":{"architecture":"amd64","os":"linux"}},
            {"digest":"sha256:b","platform":{"architecture":"arm64","os":"linux","variant":"v8"}}]}"#;
        let platforms = parse_manifest_list(list).unwrap().unwrap();
        assert_eq!(platforms.len(), 2);
        assert_eq!(platforms[1].variant.as_deref(), Some("v8"));
        let single = r#"{"schemaVersion":2,"config":{"digest":"sha256:c"},"layers":[]}"#;
        assert_eq!(parse_manifest_list(single).unwrap(), None);
        let inspect = r#"{"Name":"x","Architecture":"arm64","Variant":"","Os":"linux"}"#;
        let p = parse_platform(inspect).unwrap();
        assert_eq!(
            (p.architecture.as_str(), p.variant.as_deref()),
            ("arm64", None)
        );
    }

    #[test]
    fn failures_are_sorted() {
        assert!(matches!(
            classify("x", "manifest unknown"),
            SkopeoError::NotFound { .. }
        ));
        assert!(matches!(
            classify("x", "unauthorized: authentication required"),
            SkopeoError::Unauthorized { .. }
        ));
        assert!(matches!(
            classify("x", "dial tcp 127.0.0.1:9: connect: connection refused"),
            SkopeoError::Network { .. }
        ));
        assert!(matches!(classify("x", "weird"), SkopeoError::Other { .. }));
    }
}
