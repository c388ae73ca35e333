//! Holding Ctrl-C and SIGTERM back while a step must not be cut in half.
//!
//! `podman create` runs in its own process group under a [`Deferred`]: a
//! signal only gets noted, the step finishes, and then toolbox undoes it
//! (removes the container) and dies of the same signal, so the shell sees
//! what it expects and nothing half-made is left.

use std::sync::atomic::{AtomicI32, Ordering};

use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};

static PENDING: AtomicI32 = AtomicI32::new(0);

const DEFERRED: [Signal; 3] = [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP];

extern "C" fn note(sig: nix::libc::c_int) {
    PENDING.store(sig, Ordering::SeqCst);
}

/// While alive, SIGINT, SIGTERM and SIGHUP are noted instead of acted on.
pub struct Deferred {
    old: Vec<(Signal, SigAction)>,
}

impl Deferred {
    /// Starts deferring.
    #[allow(unsafe_code)]
    pub fn new() -> Deferred {
        PENDING.store(0, Ordering::SeqCst);
        let action = SigAction::new(
            SigHandler::Handler(note),
            SaFlags::SA_RESTART,
            SigSet::empty(),
        );
        let mut old = Vec::new();
        for sig in DEFERRED {
            // SAFETY: the handler only stores into an atomic, which is
            // async-signal-safe.
            if let Ok(prev) = unsafe { sigaction(sig, &action) } {
                old.push((sig, prev));
            }
        }
        Deferred { old }
    }

    /// The signal that arrived meanwhile, if any.
    pub fn pending(&self) -> Option<Signal> {
        Signal::try_from(PENDING.load(Ordering::SeqCst)).ok()
    }

    /// The signal that arrived meanwhile, if any, and forgets it.
    pub fn take(&self) -> Option<Signal> {
        Signal::try_from(PENDING.swap(0, Ordering::SeqCst)).ok()
    }
}

impl Default for Deferred {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Deferred {
    #[allow(unsafe_code)]
    fn drop(&mut self) {
        for (sig, action) in &self.old {
            // SAFETY: restores the disposition saved in `new`.
            let _ = unsafe { sigaction(*sig, action) };
        }
    }
}

/// Dies of `sig` with its default action, as an interrupted program
/// should; exits with 128 + the signal number should that return.
#[allow(unsafe_code)]
pub fn die_of(sig: Signal) -> ! {
    let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    // SAFETY: installing the default disposition runs no code of ours.
    let _ = unsafe { sigaction(sig, &default) };
    let _ = nix::sys::signal::raise(sig);
    std::process::exit(128 + sig as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signal_is_noted_not_acted_on() {
        let guard = Deferred::new();
        assert_eq!(guard.pending(), None);
        nix::sys::signal::raise(Signal::SIGHUP).unwrap();
        assert_eq!(guard.pending(), Some(Signal::SIGHUP));
    }
}
