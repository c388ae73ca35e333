//! Step 14: NVIDIA's Container Device Interface.
//!
//! `toolbox run` or `enter` on a host with the proprietary NVIDIA driver
//! leaves a CDI spec as `cdi-nvidia.json` in the user's toolbox runtime
//! directory; the entry point applies the part of it that makes sense in
//! an already running container: its bind mounts, and the two hooks of
//! `nvidia-cdi-hook` (`create-symlinks`, `update-ldcache`). Anything else
//! in the spec (device nodes: `/dev` is shared; environment: `run` passes
//! it) is not the entry point's business, as upstream.
//!
//! The messages are upstream's; the detail behind each goes to the debug log.

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};
use tracing::debug;

use super::{InitError, Sys};

/// The spec's file name in the toolbox runtime directory.
pub(crate) const FILE_NAME: &str = "cdi-nvidia.json";

/// The only hook stage that exists for a container already running.
const CREATE_CONTAINER: &str = "createContainer";

/// Every stage the CDI specification knows; any other name is invalid.
const HOOK_NAMES: [&str; 6] = [
    "prestart",
    "createRuntime",
    CREATE_CONTAINER,
    "startContainer",
    "poststart",
    "poststop",
];

/// Where `update-ldcache` lists its directories.
const LD_CONF: &str = "/etc/ld.so.conf.d/toolbx-nvidia.conf";

/// A JSON `null` where a value is expected counts as the value's default,
/// as Go's encoding/json leaves the field alone.
fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A CDI spec, reduced to what the entry point reads. Unknown fields are
/// ignored, so a newer spec version still loads.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Spec {
    #[serde(default, deserialize_with = "null_default")]
    container_edits: ContainerEdits,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContainerEdits {
    #[serde(default, deserialize_with = "null_default")]
    mounts: Vec<Mount>,
    #[serde(default, deserialize_with = "null_default")]
    hooks: Vec<Hook>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Mount {
    #[serde(default, deserialize_with = "null_default")]
    host_path: String,
    #[serde(default, deserialize_with = "null_default")]
    container_path: String,
    #[serde(default, deserialize_with = "null_default")]
    options: Vec<String>,
    #[serde(default, rename = "type", deserialize_with = "null_default")]
    kind: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Hook {
    #[serde(default, deserialize_with = "null_default")]
    hook_name: String,
    #[serde(default, deserialize_with = "null_default")]
    path: String,
    #[serde(default, deserialize_with = "null_default")]
    args: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    env: Vec<String>,
}

/// Why a spec was refused or could not be applied; only the debug log
/// shows these, the user sees the [`InitError`] they map to.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CdiError {
    #[error("{0}")]
    Parse(#[from] serde_json::Error),
    #[error("missing data")]
    Empty,
    #[error("invalid mount, empty host path")]
    MountHostPath,
    #[error("invalid mount, empty container path")]
    MountContainerPath,
    #[error("invalid hook name {0:?}")]
    HookName(String),
    #[error("invalid hook {0:?} with empty path")]
    HookPath(String),
    #[error("invalid hook {0:?}: invalid environment variable {1:?}")]
    HookEnv(String, String),
    #[error("missing --link argument")]
    MissingLink,
    #[error("invalid --link argument: {0} not in '<target>::<link>' format")]
    LinkFormat(String),
    #[error("invalid --link argument: link {0} is not an absolute path")]
    LinkRelative(String),
    #[error("failed to create directory {}: {}", .0.display(), .1)]
    CreateDir(PathBuf, #[source] io::Error),
    #[error("failed to create symbolic link: {0}")]
    Symlink(#[source] io::Error),
    #[error(transparent)]
    Target(#[from] Box<InitError>),
    #[error("failed to bind {} to {}", .0.display(), .1.display())]
    Bind(PathBuf, PathBuf),
    #[error("failed to update dynamic linker cache configuration")]
    LdConf,
    #[error("failed to update dynamic linker cache")]
    LdConfig,
}

/// Parses a spec as `toolbox run` saves it (JSON). An empty file or a
/// bare `null` is "missing data", as upstream's CDI library says.
pub(crate) fn parse(data: &[u8]) -> Result<Spec, CdiError> {
    if data.iter().all(u8::is_ascii_whitespace) {
        return Err(CdiError::Empty);
    }
    // Through a Value, so that only an object is a spec (serde would also
    // take a struct from an array).
    match serde_json::from_slice(data)? {
        serde_json::Value::Null => Err(CdiError::Empty),
        value @ serde_json::Value::Object(_) => Ok(Spec::deserialize(value)?),
        _ => Err(CdiError::Parse(serde::de::Error::custom(
            "a CDI spec is a JSON object",
        ))),
    }
}

/// Loads and applies the spec in `runtime_dir`, if there is one.
pub(crate) fn configure(sys: &mut dyn Sys, runtime_dir: &Path) -> Result<(), InitError> {
    let file = runtime_dir.join(FILE_NAME);
    debug!(
        "Loading Container Device Interface for NVIDIA from file {}",
        file.display()
    );
    let spec = match sys.read_file(&file) {
        Ok(data) => parse(&data),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            debug!(
                "Loading Container Device Interface for NVIDIA: file {} not found",
                file.display()
            );
            return Ok(());
        }
        Err(e) => {
            debug!("Loading Container Device Interface for NVIDIA failed: {e}");
            return Err(InitError::CdiLoad);
        }
    };
    match spec {
        Ok(spec) => apply(sys, &spec),
        Err(e) => {
            debug!("Loading Container Device Interface for NVIDIA failed: {e}");
            Err(InitError::CdiLoad)
        }
    }
}

fn apply(sys: &mut dyn Sys, spec: &Spec) -> Result<(), InitError> {
    debug!("Applying Container Device Interface for NVIDIA");
    let why = |e: &CdiError| debug!("Applying Container Device Interface for NVIDIA: {e}");
    // Everything is checked before anything is changed, so a bad entry
    // leaves the container as it was (upstream checks as it goes).
    for mount in &spec.container_edits.mounts {
        validate_mount(mount)
            .inspect_err(why)
            .map_err(|_| InitError::CdiMount)?;
    }
    for hook in &spec.container_edits.hooks {
        validate_hook(hook)
            .inspect_err(why)
            .map_err(|_| InitError::CdiHook)?;
    }
    for mount in &spec.container_edits.mounts {
        if !mount.kind.is_empty() && mount.kind != "bind" {
            debug!(
                "Applying Container Device Interface for NVIDIA: unknown mount type {}",
                mount.kind
            );
            continue;
        }
        bind(sys, mount)
            .inspect_err(why)
            .map_err(|_| InitError::CdiApplyMount)?;
    }
    for hook in &spec.container_edits.hooks {
        if hook.hook_name != CREATE_CONTAINER {
            debug!(
                "Applying Container Device Interface for NVIDIA: unknown hook name {}",
                hook.hook_name
            );
            continue;
        }
        match hook.args.as_slice() {
            [tool, verb, rest @ ..] if tool == "nvidia-cdi-hook" && verb == "create-symlinks" => {
                create_symlinks(sys, rest)
                    .inspect_err(why)
                    .map_err(|_| InitError::CdiSymlinks)?;
            }
            [tool, verb, rest @ ..] if tool == "nvidia-cdi-hook" && verb == "update-ldcache" => {
                update_ldcache(sys, rest)
                    .inspect_err(why)
                    .map_err(|_| InitError::CdiLdCache)?;
            }
            args => debug!(
                "Applying Container Device Interface for NVIDIA: unknown hook arguments: {args:?}"
            ),
        }
    }
    Ok(())
}

fn validate_mount(mount: &Mount) -> Result<(), CdiError> {
    if mount.host_path.is_empty() {
        return Err(CdiError::MountHostPath);
    }
    if mount.container_path.is_empty() {
        return Err(CdiError::MountContainerPath);
    }
    Ok(())
}

fn validate_hook(hook: &Hook) -> Result<(), CdiError> {
    if !HOOK_NAMES.contains(&hook.hook_name.as_str()) {
        return Err(CdiError::HookName(hook.hook_name.clone()));
    }
    if hook.path.is_empty() {
        return Err(CdiError::HookPath(hook.hook_name.clone()));
    }
    // `KEY=value` with a non-empty key, as the CDI library checks.
    if let Some(bad) = hook.env.iter().find(|v| v.find('=').unwrap_or(0) == 0) {
        return Err(CdiError::HookEnv(hook.hook_name.clone(), bad.clone()));
    }
    Ok(())
}

/// The host path (seen under `/run/host`) bound on the container path with
/// the spec's options, through mount(8) as upstream, which knows how to
/// turn `ro` and friends into a bind and a remount. A host path that does
/// not exist is skipped: the spec may list files of other driver versions.
fn bind(sys: &mut dyn Sys, mount: &Mount) -> Result<(), CdiError> {
    let source = super::files::join_clean(Path::new("/run/host"), Path::new(&mount.host_path));
    let target = Path::new(&mount.container_path);
    if !super::mounts::prepare_target(sys, target, &source).map_err(Box::new)? {
        return Ok(());
    }
    debug!("Binding {} to {}", target.display(), source.display());
    let options = mount.options.join(",");
    let mut args = vec!["--rbind"];
    if !options.is_empty() {
        args.extend(["-o", options.as_str()]);
    }
    let (src, dst) = (source.to_string_lossy(), target.to_string_lossy());
    args.extend([src.as_ref(), dst.as_ref()]);
    sys.run("mount", &args)
        .map_err(|_| CdiError::Bind(target.to_path_buf(), source.clone()))
}

/// `nvidia-cdi-hook create-symlinks --link TARGET::LINK ...`, read the
/// way upstream reads it (a repeated `--link` just waits for its value).
fn create_symlinks(sys: &mut dyn Sys, args: &[String]) -> Result<(), CdiError> {
    let mut want_link = false;
    for arg in args {
        if arg == "--link" {
            want_link = true;
            continue;
        }
        if !want_link {
            continue;
        }
        want_link = false;
        let parts: Vec<&str> = arg.split("::").collect();
        let [target, link] = parts.as_slice() else {
            return Err(CdiError::LinkFormat(arg.clone()));
        };
        if !Path::new(link).is_absolute() {
            return Err(CdiError::LinkRelative(link.to_string()));
        }
        // Lexically clean, as Go's filepath.Dir, so `/a/../b` makes no `/a`.
        let link = super::files::join_clean(Path::new("/"), Path::new(link));
        create_symlink(sys, Path::new(target), &link)?;
    }
    if want_link {
        return Err(CdiError::MissingLink);
    }
    Ok(())
}

/// A link already there with other text is replaced, so a restart after
/// a driver update does not keep pointing at the old library; anything
/// else already there is left alone.
fn create_symlink(sys: &mut dyn Sys, target: &Path, link: &Path) -> Result<(), CdiError> {
    debug!(
        "Creating symbolic link with target {} and link {}",
        target.display(),
        link.display()
    );
    if let Some(dir) = link.parent() {
        sys.create_dir_all(dir, 0o755)
            .map_err(|e| CdiError::CreateDir(dir.to_path_buf(), e))?;
    }
    match sys.symlink(target, link) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => match sys.read_link(link) {
            Ok(old) if old != target => {
                debug!(
                    "Creating symbolic link: replacing {} -> {}",
                    link.display(),
                    old.display()
                );
                sys.remove(link).map_err(CdiError::Symlink)?;
                sys.symlink(target, link).map_err(CdiError::Symlink)
            }
            _ => {
                debug!(
                    "Creating symbolic link: file {} already exists",
                    link.display()
                );
                Ok(())
            }
        },
        Err(e) => Err(CdiError::Symlink(e)),
    }
}

/// `nvidia-cdi-hook update-ldcache [--folder DIR]...`: the directories go
/// into their own ld.so.conf.d file (or onto ldconfig's command line when
/// the image has no such directory), then the cache is rebuilt.
fn update_ldcache(sys: &mut dyn Sys, args: &[String]) -> Result<(), CdiError> {
    // As upstream: `--folder` marks the next argument, unless that is
    // `--folder` again.
    let mut folders = Vec::new();
    let mut want_folder = false;
    for arg in args {
        if arg == "--folder" {
            want_folder = true;
            continue;
        }
        if want_folder {
            folders.push(arg.as_str());
        }
        want_folder = false;
    }
    debug!("Updating dynamic linker cache");
    let mut ldconfig_args = Vec::new();
    if !super::files::path_exists(sys, Path::new("/etc/ld.so.cache")) {
        debug!("Updating dynamic linker cache: no /etc/ld.so.cache found");
        ldconfig_args.push("-N");
    }
    if super::files::path_exists(sys, Path::new("/etc/ld.so.conf.d")) {
        if !folders.is_empty() {
            let mut seen = BTreeSet::new();
            let mut text = format!("{}\n", super::files::HEADER);
            for dir in folders.iter().filter(|d| seen.insert(**d)) {
                text.push_str(dir);
                text.push('\n');
            }
            sys.write_file_atomic(Path::new(LD_CONF), text.as_bytes(), 0o644)
                .map_err(|e| {
                    debug!("Updating dynamic linker cache: failed to update configuration: {e}");
                    CdiError::LdConf
                })?;
        }
    } else {
        debug!("Updating dynamic linker cache: no /etc/ld.so.conf.d found");
        ldconfig_args.extend(folders);
    }
    sys.run("ldconfig", &ldconfig_args).map_err(|e| {
        debug!("Updating dynamic linker cache failed: {e}");
        CdiError::LdConfig
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_an_empty_object_and_refuses_nothing_at_all() {
        assert!(parse(b"{ }\n").unwrap().container_edits.hooks.is_empty());
        assert!(matches!(parse(b""), Err(CdiError::Empty)));
        assert!(matches!(parse(b" \n"), Err(CdiError::Empty)));
        assert!(matches!(parse(b"null"), Err(CdiError::Empty)));
        assert!(matches!(
            parse(b"This is not JSON\n"),
            Err(CdiError::Parse(_))
        ));
        assert!(matches!(parse(b"[]"), Err(CdiError::Parse(_))));
        // Fields of newer spec versions are no reason to fail.
        let spec = parse(
            br#"{"cdiVersion":"0.9","kind":"nvidia.com/gpu","devices":[{"name":"all"}],
            "containerEdits":{"env":["A=b"],"deviceNodes":[{"path":"/dev/nvidia0"}],
            "mounts":[{"hostPath":"/a","containerPath":"/b","options":["ro","bind"]}]}}"#,
        )
        .unwrap();
        assert_eq!(spec.container_edits.mounts[0].options, ["ro", "bind"]);
    }

    #[test]
    fn hooks_are_validated_like_the_cdi_library() {
        let hook = |name: &str, path: &str, env: &[&str]| Hook {
            hook_name: name.into(),
            path: path.into(),
            args: Vec::new(),
            env: env.iter().map(|s| s.to_string()).collect(),
        };
        assert!(validate_hook(&hook("createContainer", "/x", &["A=1", "B="])).is_ok());
        assert!(validate_hook(&hook("createRuntime", "/x", &[])).is_ok());
        assert_eq!(
            validate_hook(&hook("invalid", "/x", &[]))
                .unwrap_err()
                .to_string(),
            "invalid hook name \"invalid\""
        );
        assert_eq!(
            validate_hook(&hook("createContainer", "", &[]))
                .unwrap_err()
                .to_string(),
            "invalid hook \"createContainer\" with empty path"
        );
        for bad in ["A", "=1"] {
            assert!(
                validate_hook(&hook("createContainer", "/x", &[bad])).is_err(),
                "{bad}"
            );
        }
    }
}
