//! From an existing container to a command running in it: inspect, start,
//! wait for the entry point, `podman exec` with upstream's fallbacks and
//! exit-code rules (spec: cli.md §5, podman.md §6-§7).

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Result, anyhow};

use crate::context::Ctx;
use crate::error::ExitError;
use crate::exec::{ExecError, Io};
use crate::podman::{self, ContainerInfo, PodmanError};

/// How long the entry point may take (upstream's fixed 25 s).
const INIT_TIMEOUT: Duration = Duration::from_secs(25);

static PODMAN_VERSION: OnceLock<String> = OnceLock::new();

/// Remembers the podman version found in pre-run.
pub fn set_podman_version(version: &str) {
    let _ = PODMAN_VERSION.set(version.to_string());
}

/// Whether the podman found in pre-run is at least `version` (unknown counts as new).
pub fn podman_version_at_least(version: &str) -> bool {
    PODMAN_VERSION
        .get()
        .is_none_or(|v| crate::migrate::compare_versions(v, version) != std::cmp::Ordering::Less)
}

/// What to run and how.
#[derive(Debug, Clone)]
pub struct ExecRequest {
    /// The container.
    pub container: String,
    /// The command and its arguments.
    pub command: Vec<OsString>,
    /// `run` wraps the command in a login shell; `enter`'s is one already.
    pub login: bool,
    /// `enter` falls back to `/bin/bash -l` once when the shell is missing.
    pub shell_fallback: bool,
    /// `enter` prints OSC 777 container push/pop sequences.
    pub osc: bool,
    /// `--preserve-fds`.
    pub preserve_fds: u32,
}

/// Why a container could not be looked up.
pub enum Lookup {
    /// Found.
    Found(Box<ContainerInfo>),
    /// No such container.
    Missing,
}

/// Inspects a container, telling "missing" apart from podman failing.
pub fn lookup(name: &str) -> Result<Lookup> {
    match podman::inspect_container(name) {
        Ok(info) => Ok(Lookup::Found(Box::new(info))),
        Err(PodmanError::Exec(ExecError::NotFound { .. })) => Err(anyhow!("podman(1) not found")),
        Err(e) if podman::is_missing(&e) => {
            let stderr = match &e {
                PodmanError::Exec(x) => x.stderr().to_string(),
                _ => String::new(),
            };
            if stderr.contains("no such") || stderr.is_empty() || matches!(e, PodmanError::Empty) {
                Ok(Lookup::Missing)
            } else {
                tracing::debug!("Inspecting container {name}: {e}");
                Err(anyhow!("failed to inspect container {name}"))
            }
        }
        Err(e) => {
            tracing::debug!("Inspecting container {name}: {e}");
            Err(anyhow!("failed to inspect container {name}"))
        }
    }
}

/// The architecture a container was made for: its `toolbox-arch` label, or
/// the host's for containers made before the label existed.
pub fn container_arch(info: &ContainerInfo) -> String {
    info.config
        .labels
        .get("toolbox-arch")
        .filter(|v| !v.is_empty() && v.as_str() != "arch_not_specified")
        .cloned()
        .unwrap_or_else(|| crate::arch::host_oci_name().to_string())
}

/// [`lookup`], and when `--arch` was given (`Some`, holding `None` for the
/// host's own), the container must be of that architecture.
pub fn lookup_checked(name: &str, arch: Option<Option<crate::arch::Arch>>) -> Result<Lookup> {
    let found = lookup(name)?;
    if let (Lookup::Found(info), Some(arch)) = (&found, arch) {
        check_arch(info, name, arch)?;
    }
    Ok(found)
}

/// With `--arch`, the chosen container must be of that architecture
/// (cross-arch.md B12): `requested` is `None` for the host's.
pub fn check_arch(
    info: &ContainerInfo,
    name: &str,
    requested: Option<crate::arch::Arch>,
) -> Result<()> {
    let want = requested.map_or(crate::arch::host_oci_name(), |a| a.oci_name());
    let have = container_arch(info);
    if have == want {
        Ok(())
    } else if have == crate::arch::host_oci_name() {
        Err(anyhow!(
            "container {name} is for {have}, not {want}\nLeave out --arch for it, or create a container for {want} with 'toolbox create --arch {want}'."
        ))
    } else {
        Err(anyhow!(
            "container {name} is for {have}, not {want}\nUse --arch {have}, or create a container for {want} with 'toolbox create --arch {want}'."
        ))
    }
}

/// Starts the container if needed, waits for it, and runs the command.
pub fn run_in_container(ctx: &Ctx, info: ContainerInfo, req: &ExecRequest) -> Result<()> {
    let name = &req.container;
    let entry = info.config.cmd.first().map(String::as_str).unwrap_or("");
    if Path::new(entry).file_name() != Some(OsStr::new("toolbox")) {
        return Err(anyhow!(
            "container {name} is too old and no longer supported\nRecreate it with Toolbx version 0.0.97 or newer."
        ));
    }
    if info
        .mounts
        .iter()
        .any(|m| m.destination == "/run/host/monitor")
    {
        crate::errln!(
            "Warning: container {name} uses deprecated features\nConsider recreating it with Toolbx version 0.0.97 or newer."
        );
    }
    let rt = crate::host::ensure_runtime_dir(&ctx.user)?;
    let (pid, started_at) = if info.state.pid > 0 {
        (info.state.pid, None)
    } else {
        let started = SystemTime::now();
        start(name)?;
        let info = podman::inspect_container(name).map_err(|e| {
            tracing::debug!("Inspecting container {name}: {e}");
            anyhow!("failed to inspect container {name}")
        })?;
        if info.state.pid <= 0 {
            return Err(entry_point_failure(name, Some(started)));
        }
        (info.state.pid, Some(started))
    };
    wait_for_init(name, pid, &rt, started_at)?;
    if !info
        .mounts
        .iter()
        .any(|m| m.destination == "/run/host/monitor")
    {
        crate::fastpath::remember(&rt, name, &info.id, pid, &container_arch(&info));
    }
    exec_loop(ctx, req)
}

/// The warm path: when the container is known to be running and
/// initialised, run the command with no other podman process. `None` when
/// that is not known, so the caller takes the full path. `arch_check`
/// holds the architecture `--arch` asked for, if it was given.
pub fn run_if_known(
    ctx: &Ctx,
    req: &ExecRequest,
    arch_check: Option<Option<crate::arch::Arch>>,
) -> Option<Result<()>> {
    let rt = crate::host::runtime_dir(ctx.user.uid).ok()?;
    let known = crate::fastpath::recall(&rt, &req.container)?;
    if let Some(requested) = arch_check {
        let want = requested.map_or(crate::arch::host_oci_name(), |a| a.oci_name());
        if known.arch != want {
            // Let the full path report the mismatch.
            return None;
        }
    }
    let result = exec_loop(ctx, req);
    if let Err(e) = &result
        && e.downcast_ref::<ExitError>().is_some_and(|x| x.code == 125)
    {
        crate::fastpath::forget(&rt, &req.container);
    }
    Some(result)
}

fn start(name: &str) -> Result<()> {
    tracing::debug!("Starting container {name}");
    match podman::start(name) {
        Ok(()) => Ok(()),
        Err(e) if e.stderr().contains("use system migrate to mitigate") => {
            let runtime = if cgroups_v2() { "crun" } else { "runc" };
            podman::cmd()
                .args(["system", "migrate", "--new-runtime", runtime])
                .run()
                .map_err(|_| {
                    anyhow!(
                        "failed to migrate containers to OCI runtime {runtime}\nFactory reset with: podman system reset"
                    )
                })?;
            podman::start(name).map_err(|_| {
                anyhow!(
                    "container {name} doesn't support cgroups v{}\nFactory reset with: podman system reset",
                    if cgroups_v2() { 2 } else { 1 }
                )
            })
        }
        Err(ExecError::NotFound { .. }) => Err(anyhow!("podman(1) not found")),
        Err(e) => {
            // Ours: podman's own reason follows upstream's line (smell 4).
            let reason = e.stderr().trim();
            if reason.is_empty() {
                Err(anyhow!("failed to start container {name}"))
            } else {
                Err(anyhow!("failed to start container {name}\n{reason}"))
            }
        }
    }
}

fn cgroups_v2() -> bool {
    nix::sys::statfs::statfs("/sys/fs/cgroup")
        .map(|s| s.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC)
        .unwrap_or(false)
}

/// The entry point's own error lines from `podman logs`, or upstream's
/// generic line.
fn entry_point_failure(name: &str, since: Option<SystemTime>) -> anyhow::Error {
    let errors = podman::logs(name, since)
        .map(|text| entry_point_errors(&text))
        .unwrap_or_default();
    if errors.is_empty() {
        anyhow!("invalid entry point PID of container {name}")
    } else {
        anyhow!("{}", errors.join("\n"))
    }
}

/// Lines of the entry point's log that are errors: those without a
/// logfmt `level` key, with a leading `Error: ` removed, de-duplicated.
/// Logfmt lines are logged again at debug level as `> msg`.
pub fn entry_point_errors(log: &str) -> Vec<String> {
    let mut errors: Vec<String> = Vec::new();
    for line in log.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            continue;
        }
        if line.starts_with("level=") || line.contains(" level=") {
            tracing::debug!("> {line}");
            continue;
        }
        let text = line.strip_prefix("Error: ").unwrap_or(line).to_string();
        if !errors.contains(&text) {
            errors.push(text);
        }
    }
    errors
}

fn polling_forced() -> bool {
    match std::env::var("TOOLBX_RUN_USE_POLLING") {
        Ok(v) if !v.is_empty() => crate::cli::parse_go_bool(&v).unwrap_or(true),
        _ => false,
    }
}

/// When a process started, from its start time in `/proc` and the boot time.
fn process_started(pid: i64) -> Option<SystemTime> {
    let ticks = crate::fastpath::process_start_time(pid)?;
    let per_second = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK).ok()??;
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let boot: u64 = stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    let since_boot = Duration::from_millis(ticks * 1000 / u64::try_from(per_second).ok()?.max(1));
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(boot) + since_boot)
}

/// A stamp counts when it exists and was written after the entry point it
/// names started: stamps are keyed by PID only, and a recycled PID would
/// otherwise look initialised (upstream smell 6). Another toolbox may have
/// started the container first; its stamp counts as well.
fn stamp_ready(stamp: &Path, entry_point_started: Option<SystemTime>) -> bool {
    let Ok(meta) = std::fs::metadata(stamp) else {
        return false;
    };
    match (entry_point_started, meta.modified()) {
        // Start times are rounded to clock ticks; allow for it.
        (Some(start), Ok(modified)) => modified + Duration::from_secs(1) >= start,
        _ => true,
    }
}

fn wait_for_init(name: &str, pid: i64, rt: &Path, started_at: Option<SystemTime>) -> Result<()> {
    let stamp = rt.join(format!("container-initialized-{pid}"));
    let polling = polling_forced();
    let entry_point_started = process_started(pid);
    if !polling && stamp_ready(&stamp, entry_point_started) {
        return Ok(());
    }
    tracing::debug!("Waiting for container {name} to finish initializing");
    let deadline = Instant::now() + INIT_TIMEOUT;
    let watcher = if polling {
        tracing::debug!("Setting up polling ticker for container {name}");
        None
    } else {
        tracing::debug!("Setting up watches for file system events from container {name}");
        watch(rt)
    };
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    loop {
        // Forced polling looks only on ticks, as upstream's ticker does, so
        // the first tick always happens.
        if polling {
            std::thread::sleep(Duration::from_secs(1));
            tracing::debug!("Handling polling tick for container {name}");
        }
        if stamp_ready(&stamp, entry_point_started) {
            return Ok(());
        }
        // With --pid host the entry point is a host process: once it is
        // gone, the container has stopped and its log says why.
        if !proc_dir.exists() {
            return Err(entry_point_failure(name, started_at));
        }
        if Instant::now() >= deadline {
            return Err(anyhow!("failed to initialize container {name}"));
        }
        match &watcher {
            Some(inotify) => wait_event(inotify, Duration::from_millis(100)),
            None if polling => {}
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

fn watch(dir: &Path) -> Option<nix::sys::inotify::Inotify> {
    use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
    let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC).ok()?;
    inotify
        .add_watch(
            dir,
            AddWatchFlags::IN_CREATE | AddWatchFlags::IN_MOVED_TO | AddWatchFlags::IN_CLOSE_WRITE,
        )
        .ok()?;
    Some(inotify)
}

fn wait_event(inotify: &nix::sys::inotify::Inotify, timeout: Duration) {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::os::fd::AsFd;
    let mut fds = [PollFd::new(inotify.as_fd(), PollFlags::POLLIN)];
    let ms = PollTimeout::try_from(timeout.as_millis() as i32).unwrap_or(PollTimeout::NONE);
    if matches!(poll(&mut fds, ms), Ok(n) if n > 0) {
        let _ = inotify.read_events();
    }
}

/// Escapes bytes as ASCII text that bash's `printf %b` turns back into
/// them, so an argument that is not UTF-8 reaches the container intact:
/// podman carries argv as JSON, which would turn it into U+FFFD.
pub fn printf_b_escape(word: &OsStr) -> String {
    let mut out = String::new();
    for &b in word.as_bytes() {
        match b {
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out
}

/// The argv of one `podman exec` try (podman.md §7.1). With `pid_file`,
/// the in-container shell first writes its PID there (a host PID, thanks
/// to `--pid host`; `exec` keeps it for the command), so that toolbox can
/// pass signals on to the command.
pub fn exec_args(
    req: &ExecRequest,
    user: &str,
    workdir: &Path,
    command: &[OsString],
    tty: bool,
    pid_file: Option<&Path>,
) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["exec".into()];
    if podman_version_at_least("1.8.1") {
        // Keeps Ctrl-P for readline.
        args.extend(["--detach-keys".into(), "".into()]);
    }
    args.extend(crate::forward::env_options());
    args.push("--interactive".into());
    args.extend(["--preserve-fds".into(), req.preserve_fds.to_string().into()]);
    if tty {
        args.push("--tty".into());
    }
    args.extend(["--user".into(), user.into()]);
    args.push("--workdir".into());
    args.push(workdir.as_os_str().to_os_string());
    args.push(req.container.clone().into());
    // capsh clears the capability sets of the privileged container for the
    // user's session; bash runs the command so that its messages
    // (`exec: foo: not found`) are upstream's.
    args.extend(["capsh", "--caps=", "--"].map(OsString::from));
    if req.login {
        args.push("--login".into());
    }
    args.push("-c".into());
    let prefix = pid_file
        .map(|p| {
            format!(
                "printf %s $$ >{} 2>/dev/null; ",
                crate::exec::quote(p.as_os_str())
            )
        })
        .unwrap_or_default();
    let utf8 = command.iter().all(|w| w.to_str().is_some());
    if utf8 {
        args.push(format!("{prefix}exec \"$@\"").into());
        args.push("bash".into());
        args.extend(command.iter().cloned());
    } else {
        // Each argument keeps its own place in argv (escaped where it is
        // not UTF-8) and the script names only the escaped positions, so
        // it stays short however long the command line is.
        let escaped: Vec<String> = (0..command.len())
            .filter(|&i| command[i].to_str().is_none())
            .map(|i| i.to_string())
            .collect();
        args.push(
            format!(
                "{prefix}a=(\"$@\"); for i in {}; do printf -v \"a[$i]\" %b \"${{a[$i]}}\"; done; exec \"${{a[@]}}\"",
                escaped.join(" ")
            )
            .into(),
        );
        args.push("bash".into());
        args.extend(command.iter().map(|w| match w.to_str() {
            Some(_) => w.clone(),
            None => printf_b_escape(w).into(),
        }));
    }
    args
}

fn probe(user: &str, container: &str, script: &str, arg: &OsStr) -> Result<bool> {
    let status = podman::cmd()
        .args(["exec", "--user", user, container, "sh", "-c", script, "sh"])
        .arg(arg)
        .status()
        .map_err(|e| anyhow!("{e}"))?;
    Ok(status.success())
}

fn exec_loop(ctx: &Ctx, req: &ExecRequest) -> Result<()> {
    let name = &req.container;
    let tty = crate::prompt::interactive();
    let mut workdir = ctx.cwd.clone();
    let mut command = req.command.clone();
    let mut workdir_fallback_used = false;
    let mut shell_fallback_used = false;
    let uid = ctx.user.uid;
    loop {
        let cmd0 = command.first().cloned().unwrap_or_default();
        if req.osc {
            let _ = crate::output::out(format_args!(
                "\x1b]777;container;push;{name};toolbox;{uid}\x1b\\"
            ));
        }
        let relay = relay_file(ctx, tty);
        let args = exec_args(
            req,
            &ctx.user.name,
            &workdir,
            &command,
            tty,
            relay.as_deref(),
        );
        let cmd = podman::cmd()
            .args(args)
            .stdin(Io::Inherit)
            .stdout(Io::Inherit)
            .stderr(Io::Inherit);
        let status = match &relay {
            Some(pid_file) => run_relaying_signals(cmd, pid_file),
            None => {
                let _guard = IgnoreInterrupts::new();
                cmd.status()
            }
        };
        if req.osc {
            let _ = crate::output::out(format_args!("\x1b]777;container;pop;;;{uid}\x1b\\"));
        }
        let status = status.map_err(|e| match e {
            ExecError::NotFound { .. } => anyhow!("podman(1) not found"),
            other => anyhow!("{other}"),
        })?;
        let code = crate::exec::status_code(status);
        let cmd0_text = cmd0.to_string_lossy().into_owned();
        let is_toolbox = cmd0_text == "toolbox";
        match code {
            0 => return Ok(()),
            125 => {
                return Err(exit(
                    125,
                    format!("failed to invoke 'podman exec' in container {name}"),
                ));
            }
            126 if is_toolbox => return Err(silent(126)),
            126 => {
                return Err(exit(
                    126,
                    format!("failed to invoke command {cmd0_text} in container {name}"),
                ));
            }
            127 => {
                if !probe(&ctx.user.name, name, "test -d \"$1\"", workdir.as_os_str())? {
                    if workdir_fallback_used {
                        return Err(exit(
                            127,
                            format!(
                                "directory {} not found in container {name}",
                                workdir.display()
                            ),
                        ));
                    }
                    crate::errln!(
                        "Error: directory {} not found in container {name}",
                        workdir.display()
                    );
                    crate::errln!("Using {} instead.", ctx.user.home.display());
                    workdir = ctx.user.home.clone();
                    workdir_fallback_used = true;
                    continue;
                }
                if !probe(&ctx.user.name, name, "command -v \"$1\"", &cmd0)? {
                    if req.shell_fallback && !shell_fallback_used {
                        crate::errln!("Error: command {cmd0_text} not found in container {name}");
                        crate::errln!("Using /bin/bash instead.");
                        command = vec!["/bin/bash".into(), "-l".into()];
                        shell_fallback_used = true;
                        continue;
                    }
                    return Err(exit(
                        127,
                        format!("command {cmd0_text} not found in container {name}"),
                    ));
                }
                // The command exists and itself returned 127. Upstream
                // reports success here by accident (cli.md §16 #3): `run`
                // passes 127 on, `enter` keeps upstream's exit 0.
                if is_toolbox || !req.shell_fallback {
                    return Err(silent(127));
                }
                return Ok(());
            }
            other => return Err(silent(other)),
        }
    }
}

/// Where the command's PID goes when toolbox must relay signals to it:
/// without a terminal there is no pty to turn Ctrl-C into the container's
/// SIGINT, and podman exec itself would die of it and leave the command
/// running. With stdin on a terminal podman exec must stay in the
/// terminal's foreground group to read it, so nothing is relayed then.
fn relay_file(ctx: &Ctx, tty: bool) -> Option<PathBuf> {
    use std::io::IsTerminal;
    if tty || std::io::stdin().is_terminal() {
        return None;
    }
    static COUNT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let rt = crate::host::runtime_dir(ctx.user.uid).ok()?;
    Some(rt.join(format!("exec-{}-{n}", std::process::id())))
}

/// Runs podman exec in its own process group while SIGINT, SIGTERM and
/// SIGHUP sent to toolbox go on to the command in the container.
fn run_relaying_signals(
    cmd: crate::exec::Cmd,
    pid_file: &Path,
) -> Result<std::process::ExitStatus, ExecError> {
    use std::sync::atomic::{AtomicBool, Ordering};
    let deferred = crate::interrupt::Deferred::new();
    let mut child = cmd.own_process_group().spawn()?;
    let podman_pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let done = AtomicBool::new(false);
    let status = std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(Ordering::SeqCst) {
                if let Some(sig) = deferred.take() {
                    let pid = std::fs::read_to_string(pid_file)
                        .ok()
                        .and_then(|t| t.trim().parse::<i32>().ok());
                    match pid {
                        Some(pid) => {
                            tracing::debug!("Passing {sig} on to the command (PID {pid})");
                            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig);
                        }
                        // Not started yet: stop podman exec instead.
                        None => {
                            let _ = nix::sys::signal::kill(podman_pid, sig);
                        }
                    }
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        let status = child.wait();
        done.store(true, Ordering::SeqCst);
        status
    });
    let _ = std::fs::remove_file(pid_file);
    status.map_err(|source| ExecError::Spawn {
        program: "podman".to_string(),
        source,
    })
}

fn exit(code: i32, msg: String) -> anyhow::Error {
    anyhow::Error::new(ExitError::new(code, msg))
}

fn silent(code: i32) -> anyhow::Error {
    anyhow::Error::new(ExitError::silent(code))
}

/// Ignores SIGINT and SIGQUIT while a foreground child runs, as
/// `system(3)` does, so Ctrl-C reaches only the command in the container.
struct IgnoreInterrupts {
    old: Vec<(nix::sys::signal::Signal, nix::sys::signal::SigAction)>,
}

impl IgnoreInterrupts {
    #[allow(unsafe_code)]
    fn new() -> Self {
        use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
        let ignore = SigAction::new(SigHandler::SigIgn, SaFlags::empty(), SigSet::empty());
        let mut old = Vec::new();
        for sig in [Signal::SIGINT, Signal::SIGQUIT] {
            // SAFETY: installing SIG_IGN runs no handler code, so no
            // async-signal-safety rules can be broken.
            if let Ok(prev) = unsafe { sigaction(sig, &ignore) } {
                old.push((sig, prev));
            }
        }
        IgnoreInterrupts { old }
    }
}

impl Drop for IgnoreInterrupts {
    #[allow(unsafe_code)]
    fn drop(&mut self) {
        for (sig, action) in &self.old {
            // SAFETY: restores the disposition saved in `new`.
            let _ = unsafe { nix::sys::signal::sigaction(*sig, action) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(login: bool) -> ExecRequest {
        ExecRequest {
            container: "box".into(),
            command: vec![],
            login,
            shell_fallback: false,
            osc: false,
            preserve_fds: 0,
        }
    }

    #[test]
    fn entry_point_errors_are_non_logfmt_lines() {
        let log = "level=debug msg=\"Creating /run/.toolbxenv\"\nError: TOOLBX_FAIL_ENTRY_POINT is set\nThis environment variable should only be set when testing.\nError: TOOLBX_FAIL_ENTRY_POINT is set\n";
        assert_eq!(
            entry_point_errors(log),
            vec![
                "TOOLBX_FAIL_ENTRY_POINT is set".to_string(),
                "This environment variable should only be set when testing.".to_string()
            ]
        );
    }

    #[test]
    fn exec_argv_keeps_words_verbatim() {
        let cmd: Vec<OsString> = ["ls", "a b", "", "*"].map(OsString::from).to_vec();
        let args = exec_args(&req(true), "me", Path::new("/w"), &cmd, false, None);
        let tail: Vec<&OsStr> = args
            .iter()
            .rev()
            .take(9)
            .rev()
            .map(|a| a.as_os_str())
            .collect();
        assert_eq!(
            tail,
            [
                "capsh",
                "--caps=",
                "--",
                "--login",
                "-c",
                "exec \"$@\"",
                "bash",
                "ls",
                "a b",
                "",
                "*"
            ][2..]
                .iter()
                .map(OsStr::new)
                .collect::<Vec<_>>()
        );
        assert!(args.iter().any(|a| a == "--interactive"));
        assert!(!args.iter().any(|a| a == "--tty"));
    }

    #[test]
    fn non_utf8_goes_through_printf_escapes() {
        use std::os::unix::ffi::OsStringExt;
        let cmd = vec![
            OsString::from("printf"),
            OsString::from_vec(vec![b'a', 0xff, b'\'']),
        ];
        let args = exec_args(&req(false), "me", Path::new("/w"), &cmd, false, None);
        let tail: Vec<&str> = args[args.len() - 4..]
            .iter()
            .map(|a| a.to_str().unwrap())
            .collect();
        assert_eq!(
            tail,
            [
                r#"a=("$@"); for i in 1; do printf -v "a[$i]" %b "${a[$i]}"; done; exec "${a[@]}""#,
                "bash",
                "printf",
                r"a\xff'",
            ]
        );
        assert_eq!(
            printf_b_escape(OsStr::new(r"\c\x41 é")),
            r"\\c\\x41 \xc3\xa9"
        );
    }
}
