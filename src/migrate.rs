//! The `podman system migrate` stamp of upstream's pre-run (spec: cli.md §14).

use std::cmp::Ordering;
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};

use anyhow::{Result, anyhow};

use crate::exec::ExecError;
use crate::host::User;
use crate::podman::{self, PodmanError};

/// What identifies the podman binary: its path, inode, size and change
/// time. A new podman (an upgrade) changes at least one of them.
fn podman_identity() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let path = crate::exec::lookup("podman")?;
    let real = std::fs::canonicalize(&path).ok()?;
    let meta = std::fs::metadata(&real).ok()?;
    Some(format!(
        "{} {} {} {}.{}",
        real.display(),
        meta.ino(),
        meta.size(),
        meta.ctime(),
        meta.ctime_nsec()
    ))
}

/// The podman version, from a cache in the runtime directory keyed by the
/// podman binary, so most commands need no `podman version` process.
fn podman_version(rt: &std::path::Path) -> Result<String> {
    let identity = podman_identity();
    // One file per podman binary, so users of several podmans (and tests)
    // do not overwrite each other's entries.
    let cache = rt.join(format!(
        "podman-version-{:016x}",
        fnv1a(identity.as_deref().unwrap_or(""))
    ));
    if let (Some(id), Ok(text)) = (&identity, std::fs::read_to_string(&cache))
        && let Some((cached_id, version)) = text.trim_end().rsplit_once('\t')
        && cached_id == id
        && !version.is_empty()
    {
        return Ok(version.to_string());
    }
    let version = podman::version().map_err(|e| match e {
        PodmanError::Exec(ExecError::NotFound { .. }) => anyhow!("podman(1) not found"),
        other => {
            tracing::debug!("Getting the Podman version: {other}");
            anyhow!("failed to get the Podman version")
        }
    })?;
    if let Some(id) = identity {
        let tmp = cache.with_extension(format!("tmp{}", std::process::id()));
        if std::fs::write(&tmp, format!("{id}\t{version}\n")).is_err()
            || std::fs::rename(&tmp, &cache).is_err()
        {
            let _ = std::fs::remove_file(&tmp);
        }
        prune_version_cache(rt);
    }
    Ok(version)
}

/// Removes cache entries of podman binaries that are gone (a podman
/// removed, or a test's throw-away one), so they cannot pile up. Only runs
/// on a cache miss, which is rare.
fn prune_version_cache(rt: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(rt) else {
        return;
    };
    for entry in entries.flatten() {
        if !entry
            .file_name()
            .to_string_lossy()
            .starts_with("podman-version-")
        {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        if cached_binary_gone(&text) {
            tracing::debug!("Removing {}: its podman is gone", entry.path().display());
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Whether a cache entry (`PATH INO SIZE CTIME\tVERSION`) names a binary
/// that no longer exists. Unreadable entries are left alone.
fn cached_binary_gone(entry: &str) -> bool {
    let Some((identity, _)) = entry.trim_end().rsplit_once('\t') else {
        return false;
    };
    let fields: Vec<&str> = identity.rsplitn(4, ' ').collect();
    match fields.as_slice() {
        [_, _, _, path] if path.starts_with('/') => !std::path::Path::new(path).exists(),
        _ => false,
    }
}

/// A small stable hash for cache file names.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Runs `podman system migrate` once per podman version.
pub fn check(user: &User) -> Result<()> {
    if crate::exec::lookup("podman").is_none() {
        return Err(anyhow!("podman(1) not found"));
    }
    let rt = crate::host::ensure_runtime_dir(user)?;
    let version = podman_version(&rt)?;
    crate::session::set_podman_version(&version);
    let config_dir = crate::config::user_config_dir()
        .map_err(|_| anyhow!("failed to get the user config directory"))?
        .join("toolbox");
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o775)
        .create(&config_dir)
        .map_err(|_| anyhow!("failed to create configuration directory"))?;
    let lock_file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(rt.join("migrate.lock"))
        .map_err(|_| anyhow!("failed to create lock file"))?;
    let _lock = nix::fcntl::Flock::lock(lock_file, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|_| anyhow!("failed to acquire lock"))?;
    let stamp = config_dir.join("podman-system-migrate");
    match std::fs::read_to_string(&stamp) {
        Ok(text) => {
            let old = text.trim();
            if !old.is_empty() && compare_versions(&version, old) != Ordering::Greater {
                tracing::debug!("Migration not needed: Podman version {version} is unchanged");
                return Ok(());
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(_) => return Err(anyhow!("failed to read migration stamp file")),
    }
    tracing::debug!("Migrating to newer Podman");
    podman::cmd()
        .args(["system", "migrate"])
        .run()
        .map_err(|_| anyhow!("failed to migrate containers"))?;
    let mut file = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o664)
        .open(&stamp)
        .map_err(|_| anyhow!("failed to update Podman version in migration stamp file"))?;
    writeln!(file, "{version}")
        .map_err(|_| anyhow!("failed to update Podman version in migration stamp file"))?;
    Ok(())
}

/// Compares versions the PHP `version_compare` way closely enough for
/// podman: numeric parts numerically, a pre-release suffix below the
/// release.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    fn parts(v: &str) -> (Vec<u64>, Option<String>) {
        let (main, pre) = match v.split_once(['-', '~', '+']) {
            Some((m, p)) => (m, Some(p.to_string())),
            None => (v, None),
        };
        let nums = main
            .split('.')
            .map(|p| p.trim().parse::<u64>().unwrap_or(0))
            .collect();
        (nums, pre)
    }
    let (na, pa) = parts(a);
    let (nb, pb) = parts(b);
    let len = na.len().max(nb.len());
    for i in 0..len {
        let x = na.get(i).copied().unwrap_or(0);
        let y = nb.get(i).copied().unwrap_or(0);
        match x.cmp(&y) {
            Ordering::Equal => {}
            other => return other,
        }
    }
    match (pa, pb) {
        (None, None) => Ordering::Equal,
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (Some(x), Some(y)) => x.cmp(&y),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_entries_of_vanished_podmans_are_recognised() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("my podman");
        std::fs::write(&bin, "").unwrap();
        let entry = |path: &std::path::Path| format!("{} 12 34 56.78\t4.3.1\n", path.display());
        assert!(!cached_binary_gone(&entry(&bin)), "a path with a space");
        assert!(cached_binary_gone(&entry(&dir.path().join("gone"))));
        for junk in ["", "4.3.1", "relative 1 2 3\t4.3.1", "/x 1\t4.3.1"] {
            assert!(!cached_binary_gone(junk), "{junk:?}");
        }
    }

    #[test]
    fn versions() {
        assert_eq!(compare_versions("4.3.1", "4.3.1"), Ordering::Equal);
        assert_eq!(compare_versions("4.10.0", "4.9.9"), Ordering::Greater);
        assert_eq!(compare_versions("2.1.0-dev", "2.1.0"), Ordering::Less);
        assert_eq!(compare_versions("5", "4.9"), Ordering::Greater);
    }
}
