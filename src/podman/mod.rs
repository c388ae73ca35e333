//! Typed podman calls and tolerant types for its JSON.
//!
//! Every call starts with `--log-level <lvl>` before the subcommand, as
//! upstream does (spec: podman.md §1.3). Field types that changed between
//! podman versions (`Names` string or list, `Created` string or number,
//! `State` number or string) decode through untagged enums, and keys match
//! case-insensitively through aliases, since podman 1.x emitted lowercase
//! keys in places.

use std::collections::HashMap;
use std::ffi::OsString;

use serde::Deserialize;

use crate::exec::{Cmd, ExecError};

pub mod create;
pub use create::{CreateSpec, ForeignSpec, create_args};

/// The labels that make a container or an image a Toolbx one.
pub const TOOLBX_LABELS: [&str; 2] = [
    "com.github.containers.toolbox",
    "com.github.debarshiray.toolbox",
];

/// A `podman` command with the log-level prefix.
pub fn cmd() -> Cmd {
    Cmd::new("podman").args(["--log-level", crate::logging::podman_level()])
}

/// Whether labels mark something as Toolbx's.
pub fn is_toolbx(labels: &HashMap<String, String>) -> bool {
    TOOLBX_LABELS
        .iter()
        .any(|key| labels.get(*key).map(String::as_str) == Some("true"))
}

/// A value that is either one string or a list of them.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// podman 1.x
    One(String),
    /// podman >= 2
    Many(Vec<String>),
}

impl OneOrMany {
    /// The first entry, if any.
    pub fn first(&self) -> Option<&str> {
        match self {
            OneOrMany::One(s) => Some(s),
            OneOrMany::Many(v) => v.first().map(String::as_str),
        }
    }
}

/// A creation time: human text (podman 1.x) or Unix seconds.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Created {
    /// Unix seconds.
    Seconds(i64),
    /// Shown as it is.
    Text(String),
}

/// A container state: a number (podman 1.x, then `Status` has the word) or a word.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum StateField {
    /// podman >= 2
    Word(String),
    /// podman 1.x
    Number(i64),
}

fn null_to_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// One entry of `podman ps --all --format json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PsEntry {
    /// Full ID.
    #[serde(alias = "ID", alias = "id", default)]
    pub id: String,
    /// Names.
    #[serde(alias = "names", default)]
    pub names: Option<OneOrMany>,
    /// Image name.
    #[serde(alias = "image", default)]
    pub image: String,
    /// Creation time.
    #[serde(alias = "created", default)]
    pub created: Option<Created>,
    /// State.
    #[serde(alias = "state", default)]
    pub state: Option<StateField>,
    /// State text on podman 1.x.
    #[serde(alias = "status", default)]
    pub status: String,
    /// Labels.
    #[serde(alias = "labels", default, deserialize_with = "null_to_default")]
    pub labels: HashMap<String, String>,
}

impl PsEntry {
    /// `Names` is serialised as `Names` (capital) by podman >= 2.
    pub fn name(&self) -> &str {
        self.names.as_ref().and_then(OneOrMany::first).unwrap_or("")
    }

    /// podman's state word.
    pub fn state_word(&self) -> &str {
        match &self.state {
            Some(StateField::Word(w)) => w,
            _ => &self.status,
        }
    }
}

/// One entry of `podman images --format json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageEntry {
    /// Full ID.
    #[serde(alias = "ID", alias = "id", default)]
    pub id: String,
    /// Names, absent for unnamed images.
    #[serde(alias = "names", default, deserialize_with = "null_to_default")]
    pub names: Vec<String>,
    /// Creation time.
    #[serde(alias = "created", default)]
    pub created: Option<Created>,
    /// Labels (absent on podman 1.x).
    #[serde(alias = "labels", default, deserialize_with = "null_to_default")]
    pub labels: HashMap<String, String>,
}

/// The parts of `podman inspect --type container` that toolbox uses.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerInfo {
    /// Full ID.
    #[serde(alias = "ID", alias = "id", default)]
    pub id: String,
    /// Name.
    #[serde(alias = "name", default)]
    pub name: String,
    /// Image name.
    #[serde(alias = "imageName", default)]
    pub image_name: String,
    /// Configuration.
    #[serde(alias = "config", default)]
    pub config: ContainerConfig,
    /// Runtime state.
    #[serde(alias = "state", default)]
    pub state: ContainerState,
    /// Mounts.
    #[serde(alias = "mounts", default, deserialize_with = "null_to_default")]
    pub mounts: Vec<MountInfo>,
}

/// `Config` of a container.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerConfig {
    /// The command.
    #[serde(alias = "cmd", default, deserialize_with = "null_to_default")]
    pub cmd: Vec<String>,
    /// Labels.
    #[serde(alias = "labels", default, deserialize_with = "null_to_default")]
    pub labels: HashMap<String, String>,
}

/// `State` of a container.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerState {
    /// The entry point's host PID, 0 when not running.
    #[serde(alias = "pid", default)]
    pub pid: i64,
    /// The state word.
    #[serde(alias = "status", default)]
    pub status: String,
}

/// A mount of a container.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MountInfo {
    /// Where it is mounted in the container.
    #[serde(alias = "destination", default)]
    pub destination: String,
}

/// The parts of `podman inspect --type image` that toolbox uses.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageInfo {
    /// Full ID.
    #[serde(alias = "ID", alias = "id", default)]
    pub id: String,
    /// Tags: `None` when null or missing, which upstream treats apart from `[]`.
    #[serde(alias = "repoTags", default)]
    pub repo_tags: Option<Vec<String>>,
    /// Configuration.
    #[serde(alias = "config", default)]
    pub config: ImageConfig,
    /// The image's architecture.
    #[serde(alias = "architecture", default)]
    pub architecture: String,
}

/// `Config` of an image.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageConfig {
    /// Labels.
    #[serde(alias = "labels", default, deserialize_with = "null_to_default")]
    pub labels: HashMap<String, String>,
}

/// Errors of the podman wrappers.
#[derive(Debug, thiserror::Error)]
pub enum PodmanError {
    /// podman could not be run or failed.
    #[error(transparent)]
    Exec(#[from] ExecError),
    /// podman's output did not parse.
    #[error("failed to parse the output of podman {what}: {source}")]
    Json {
        /// Which call.
        what: &'static str,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// `inspect` returned an empty array.
    #[error("podman inspect returned nothing")]
    Empty,
}

fn parse<T: serde::de::DeserializeOwned>(what: &'static str, text: &str) -> Result<T, PodmanError> {
    serde_json::from_str(text).map_err(|source| PodmanError::Json { what, source })
}

#[derive(Deserialize)]
struct VersionJson {
    #[serde(alias = "client", default)]
    #[serde(rename = "Client")]
    client: Option<VersionClient>,
    #[serde(alias = "version", default)]
    #[serde(rename = "Version")]
    version: Option<String>,
}

#[derive(Deserialize)]
struct VersionClient {
    #[serde(alias = "version", rename = "Version", default)]
    version: Option<String>,
}

/// Parses `podman version --format json`: `Client.Version`, or the
/// top-level `Version` on podman 1.x.
pub fn parse_version(text: &str) -> Result<String, PodmanError> {
    let v: VersionJson = parse("version", text)?;
    v.client
        .and_then(|c| c.version)
        .or(v.version)
        .filter(|s| !s.is_empty())
        .ok_or(PodmanError::Empty)
}

/// `podman version --format json`.
pub fn version() -> Result<String, PodmanError> {
    let out = cmd().args(["version", "--format", "json"]).run_stdout()?;
    parse_version(&out)
}

/// `podman ps --all --format json --sort names`.
pub fn ps() -> Result<Vec<PsEntry>, PodmanError> {
    let out = cmd()
        .args(["ps", "--all", "--format", "json", "--sort", "names"])
        .run_stdout()?;
    parse_list("ps", &out)
}

fn parse_list<T: serde::de::DeserializeOwned>(
    what: &'static str,
    out: &str,
) -> Result<Vec<T>, PodmanError> {
    if out.trim().is_empty() || out.trim() == "null" {
        return Ok(Vec::new());
    }
    parse(what, out)
}

/// `podman images --format json`, duplicates dropped.
pub fn images() -> Result<Vec<ImageEntry>, PodmanError> {
    let out = cmd().args(["images", "--format", "json"]).run_stdout()?;
    let mut list: Vec<ImageEntry> = parse_list("images", &out)?;
    let mut seen = std::collections::HashSet::new();
    list.retain(|i| seen.insert(i.id.clone()));
    Ok(list)
}

fn inspect_first<T: serde::de::DeserializeOwned>(
    kind: &str,
    what: &'static str,
    name: &str,
) -> Result<T, PodmanError> {
    // A missing object is an expected answer here (it stands in for
    // `exists`), so podman's "no such object" stays out of debug output.
    let out = cmd()
        .args(["inspect", "--format", "json", "--type", kind, name])
        .stderr(crate::exec::Io::Capture)
        .run_stdout()
        .inspect_err(|e| tracing::debug!("podman inspect {name}: {}", e.stderr().trim()))?;
    let mut list: Vec<T> = parse(what, &out)?;
    if list.is_empty() {
        return Err(PodmanError::Empty);
    }
    Ok(list.swap_remove(0))
}

/// `podman inspect --type container`.
pub fn inspect_container(name: &str) -> Result<ContainerInfo, PodmanError> {
    inspect_first("container", "inspect", name)
}

/// `podman inspect --type image`.
pub fn inspect_image(name: &str) -> Result<ImageInfo, PodmanError> {
    inspect_first("image", "inspect", name)
}

/// Whether a podman failure means "no such object" rather than podman
/// itself being broken.
pub fn is_missing(err: &PodmanError) -> bool {
    matches!(
        err,
        PodmanError::Exec(ExecError::Failed { .. }) | PodmanError::Empty
    )
}

/// `podman container exists`.
pub fn container_exists(name: &str) -> Result<bool, ExecError> {
    exists("container", name)
}

fn exists(kind: &str, name: &str) -> Result<bool, ExecError> {
    let status = cmd().args([kind, "exists", name]).status()?;
    Ok(status.success())
}

/// `podman start`, stderr captured for the migrate check.
pub fn start(name: &str) -> Result<(), ExecError> {
    cmd()
        .args(["start", name])
        .stderr(crate::exec::Io::Capture)
        .run()
        .map(drop)
}

/// `podman rm [--force]`, returning podman's status code.
pub fn rm(name: &str, force: bool) -> Result<i32, ExecError> {
    remove("rm", name, force)
}

/// `podman rmi [--force]`, returning podman's status code.
pub fn rmi(name: &str, force: bool) -> Result<i32, ExecError> {
    remove("rmi", name, force)
}

fn remove(verb: &str, name: &str, force: bool) -> Result<i32, ExecError> {
    let mut c = cmd().arg(verb);
    if force {
        c = c.arg("--force");
    }
    let status = c.arg(name).status()?;
    Ok(crate::exec::status_code(status))
}

/// `podman logs [--since T] C`, returning its stderr and stdout lines.
pub fn logs(name: &str, since: Option<std::time::SystemTime>) -> Result<String, ExecError> {
    let mut c = cmd().arg("logs");
    if let Some(t) = since {
        c = c.args(["--since", &since_arg(t)]);
    }
    let out = c
        .arg(name)
        .stdout(crate::exec::Io::Capture)
        .stderr(crate::exec::Io::Capture)
        .output()?;
    let mut text = String::from_utf8_lossy(&out.stderr).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stdout));
    Ok(text)
}

/// `--since` to the nanosecond (podman takes `SECONDS.NANOS`): whole
/// seconds would also show the errors of a start less than a second
/// earlier, such as a retry from a script.
fn since_arg(t: std::time::SystemTime) -> String {
    let d = t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    format!("{}.{:09}", d.as_secs(), d.subsec_nanos())
}

/// Builds argv words from strings.
pub fn words<I: IntoIterator<Item = S>, S: Into<OsString>>(items: I) -> Vec<OsString> {
    items.into_iter().map(Into::into).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_is_given_to_the_nanosecond() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::new(1_796_376_654, 893_400);
        assert_eq!(since_arg(t), "1796376654.000893400");
    }

    #[test]
    fn version_from_client_or_top_level() {
        assert_eq!(
            parse_version(r#"{"Client":{"Version":"4.3.1"},"Server":{"Version":"4.3.1"}}"#)
                .unwrap(),
            "4.3.1"
        );
        assert_eq!(parse_version(r#"{"Version":"1.9.3"}"#).unwrap(), "1.9.3");
        assert!(parse_version("{}").is_err());
        assert!(parse_version("not json").is_err());
    }

    #[test]
    fn ps_tolerates_old_and_new_shapes() {
        let new = r#"[{"Id":"abc","Names":["box"],"Image":"img","Created":1700000000,"State":"running","Labels":{"com.github.containers.toolbox":"true"}}]"#;
        let old = r#"[{"ID":"abc","Names":"box","Image":"img","Created":"5 minutes ago","State":1,"Status":"Up","Labels":null}]"#;
        let n: Vec<PsEntry> = serde_json::from_str(new).unwrap();
        let o: Vec<PsEntry> = serde_json::from_str(old).unwrap();
        assert_eq!(n[0].name(), "box");
        assert_eq!(o[0].name(), "box");
        assert_eq!(n[0].state_word(), "running");
        assert_eq!(o[0].state_word(), "Up");
        assert!(is_toolbx(&n[0].labels));
        assert!(!is_toolbx(&o[0].labels));
    }

    #[test]
    fn image_repo_tags_are_tri_state() {
        let null: ImageInfo = serde_json::from_str(r#"{"Id":"a","RepoTags":null}"#).unwrap();
        let empty: ImageInfo = serde_json::from_str(r#"{"Id":"a","RepoTags":[]}"#).unwrap();
        let some: ImageInfo = serde_json::from_str(r#"{"Id":"a","RepoTags":["x:1"]}"#).unwrap();
        assert!(null.repo_tags.is_none());
        assert_eq!(empty.repo_tags, Some(vec![]));
        assert_eq!(some.repo_tags.unwrap(), vec!["x:1"]);
    }

    #[test]
    fn images_with_lowercase_keys() {
        let list: Vec<ImageEntry> =
            serde_json::from_str(r#"[{"id":"a","names":null,"created":"2019-01-01T00:00:00Z"}]"#)
                .unwrap();
        assert!(list[0].names.is_empty());
        assert!(list[0].labels.is_empty());
    }

    #[test]
    fn legacy_label_counts() {
        let mut labels = HashMap::new();
        labels.insert(
            "com.github.debarshiray.toolbox".to_string(),
            "true".to_string(),
        );
        assert!(is_toolbx(&labels));
        labels.insert(
            "com.github.debarshiray.toolbox".to_string(),
            "TRUE".to_string(),
        );
        assert!(!is_toolbx(&labels));
    }
}
