//! What a warm `run` or `enter` needs without asking podman.
//!
//! After toolbox has inspected a container and seen its entry point finish,
//! it notes the entry point's host PID and that process's start time in the
//! runtime directory. Later, if that very process is still alive (same PID,
//! same start time, so not a recycled PID) and its stamp exists, the
//! container is running and initialised, and toolbox goes straight to
//! `podman exec`: one podman process, the floor. Anything else falls back
//! to the full inspect path.

use std::path::{Path, PathBuf};

/// A container known to be running and initialised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    /// Full ID.
    pub id: String,
    /// The entry point's host PID.
    pub pid: i64,
    /// The entry point's start time, in clock ticks since boot.
    pub start_time: u64,
    /// The container's `toolbox-arch`.
    pub arch: String,
}

fn note_path(rt: &Path, name: &str) -> PathBuf {
    rt.join("containers").join(name)
}

/// The start time of a process (field 22 of `/proc/PID/stat`).
pub fn process_start_time(pid: i64) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name, in parentheses, may itself contain spaces.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19)?.parse().ok()
}

/// Parses a note.
pub fn parse(text: &str) -> Option<Known> {
    let mut words = text.split_whitespace();
    let known = Known {
        id: words.next()?.to_string(),
        pid: words.next()?.parse().ok()?,
        start_time: words.next()?.parse().ok()?,
        arch: words.next()?.to_string(),
    };
    Some(known)
}

/// Notes a container whose entry point has finished initialising.
pub fn remember(rt: &Path, name: &str, id: &str, pid: i64, arch: &str) {
    let Some(start_time) = process_start_time(pid) else {
        return;
    };
    let path = note_path(rt, name);
    let text = format!("{id} {pid} {start_time} {arch}\n");
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let written = path
        .parent()
        .map(|dir| std::fs::create_dir_all(dir).is_ok())
        .unwrap_or(false)
        && std::fs::write(&tmp, text).is_ok()
        && std::fs::rename(&tmp, &path).is_ok();
    if !written {
        let _ = std::fs::remove_file(&tmp);
        tracing::debug!("Could not note container {name} for the fast path");
    }
}

/// The note for a container, if it still describes a live, initialised
/// entry point.
pub fn recall(rt: &Path, name: &str) -> Option<Known> {
    let known = parse(&std::fs::read_to_string(note_path(rt, name)).ok()?)?;
    let alive = process_start_time(known.pid) == Some(known.start_time);
    let stamp = rt.join(format!("container-initialized-{}", known.pid));
    if alive && stamp.exists() {
        tracing::debug!(
            "Container {name} is running and initialised (entry point PID {})",
            known.pid
        );
        Some(known)
    } else {
        forget(rt, name);
        None
    }
}

/// Drops the note, e.g. when podman disagreed with it.
pub fn forget(rt: &Path, name: &str) {
    let _ = std::fs::remove_file(note_path(rt, name));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_of_ourselves() {
        let pid = i64::from(std::process::id());
        let t = process_start_time(pid).unwrap();
        assert_eq!(process_start_time(pid), Some(t));
        assert_eq!(process_start_time(i64::from(i32::MAX)), None);
    }

    #[test]
    fn notes_round_trip_and_go_stale() {
        let dir = tempfile::tempdir().unwrap();
        let rt = dir.path();
        let pid = i64::from(std::process::id());
        remember(rt, "box", "abc", pid, "amd64");
        // No stamp yet: not initialised, and the note is dropped.
        assert_eq!(recall(rt, "box"), None);
        remember(rt, "box", "abc", pid, "amd64");
        std::fs::write(rt.join(format!("container-initialized-{pid}")), "").unwrap();
        let known = recall(rt, "box").unwrap();
        assert_eq!((known.id.as_str(), known.arch.as_str()), ("abc", "amd64"));
        // A recycled PID has another start time.
        std::fs::write(note_path(rt, "box"), format!("abc {pid} 1 amd64\n")).unwrap();
        assert_eq!(recall(rt, "box"), None);
        assert!(!note_path(rt, "box").exists());
        assert_eq!(parse("garbage"), None);
    }
}
