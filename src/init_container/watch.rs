//! What the entry point does once the container is initialized: follow the
//! host's `/etc/localtime` and refresh the `locate` database daily, for as
//! long as the container runs. There is no signal handling on purpose:
//! `podman stop`'s SIGTERM simply ends the process.

use std::os::fd::AsFd;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::inotify::{AddWatchFlags, InotifyEvent};
use tracing::{debug, warn};

use super::{HOST_ETC, RealSys, files};
use crate::exec::{self, Cmd};

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// After a watcher failure, how long to wait before polling again, so a
/// persistent error does not spin the CPU.
const ERROR_BACKOFF: Duration = Duration::from_secs(1);

/// Loops forever; only returns if the process should die.
pub(crate) fn listen(sys: &mut RealSys) -> anyhow::Result<()> {
    spawn_updatedb();
    let mut next_tick = Instant::now() + DAY;
    loop {
        let now = Instant::now();
        if now >= next_tick {
            handle_daily_tick();
            next_tick += DAY;
            continue;
        }
        let events = wait_for_events(sys, next_tick - now);
        for event in events {
            handle_event(sys, &event);
        }
    }
}

/// Blocks until host events arrive or `timeout` passes.
fn wait_for_events(sys: &RealSys, timeout: Duration) -> Vec<InotifyEvent> {
    let Some(inotify) = sys.inotify() else {
        std::thread::sleep(timeout);
        return Vec::new();
    };
    let timeout = PollTimeout::try_from(timeout).unwrap_or(PollTimeout::MAX);
    let mut fds = [PollFd::new(inotify.as_fd(), PollFlags::POLLIN)];
    match poll(&mut fds, timeout) {
        Ok(0) | Err(Errno::EINTR) => return Vec::new(),
        Ok(_) => {}
        Err(e) => {
            warn!("Received an error from the file system watcher: {e}");
            std::thread::sleep(ERROR_BACKOFF);
            return Vec::new();
        }
    }
    match inotify.read_events() {
        Ok(events) => events,
        Err(Errno::EINTR | Errno::EAGAIN) => Vec::new(),
        Err(e) => {
            warn!("Received an error from the file system watcher: {e}");
            std::thread::sleep(ERROR_BACKOFF);
            Vec::new()
        }
    }
}

/// fsnotify's names for event masks, which upstream's log lines use.
fn operation(mask: AddWatchFlags) -> String {
    let names = [
        (
            AddWatchFlags::IN_CREATE | AddWatchFlags::IN_MOVED_TO,
            "CREATE",
        ),
        (AddWatchFlags::IN_MODIFY, "WRITE"),
        (
            AddWatchFlags::IN_DELETE | AddWatchFlags::IN_DELETE_SELF,
            "REMOVE",
        ),
        (
            AddWatchFlags::IN_MOVE_SELF | AddWatchFlags::IN_MOVED_FROM,
            "RENAME",
        ),
        (AddWatchFlags::IN_ATTRIB, "CHMOD"),
    ];
    names
        .iter()
        .filter(|(bits, _)| mask.intersects(*bits))
        .map(|(_, name)| *name)
        .collect::<Vec<_>>()
        .join("|")
}

fn handle_event(sys: &mut RealSys, event: &InotifyEvent) {
    if event.mask.contains(AddWatchFlags::IN_Q_OVERFLOW) {
        warn!("Received an error from the file system watcher: fsnotify: queue or buffer overflow");
        return;
    }
    let path = match &event.name {
        Some(name) => std::path::Path::new(HOST_ETC).join(name),
        None => std::path::PathBuf::from(HOST_ETC),
    };
    debug!(
        "Handling file system event: operation {} on {}",
        operation(event.mask),
        path.display()
    );
    if path == std::path::Path::new("/run/host/etc/localtime") {
        if let Err(e) = files::follow_host_localtime(sys) {
            warn!("Failed to handle changes to the host's /etc/localtime: {e}");
        }
    }
}

fn handle_daily_tick() {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    debug!("Handling daily tick {since_epoch}");
    spawn_updatedb();
}

/// Most images lack `updatedb(8)`; unlike upstream, which warns about that
/// on every start and every day, a missing one is silently skipped.
fn spawn_updatedb() {
    if exec::lookup("updatedb").is_none() {
        debug!("updatedb(8) not found: skipping");
        return;
    }
    // In the background, so a long run never delays host events.
    std::thread::spawn(|| {
        if let Err(e) = Cmd::new("updatedb").run() {
            warn!("Failed to run updatedb(8): {e}");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_use_fsnotify_names() {
        assert_eq!(operation(AddWatchFlags::IN_MOVED_TO), "CREATE");
        assert_eq!(operation(AddWatchFlags::IN_MODIFY), "WRITE");
        assert_eq!(operation(AddWatchFlags::IN_DELETE), "REMOVE");
        assert_eq!(operation(AddWatchFlags::IN_MOVED_FROM), "RENAME");
        assert_eq!(
            operation(AddWatchFlags::IN_CREATE | AddWatchFlags::IN_ATTRIB),
            "CREATE|CHMOD"
        );
    }
}
