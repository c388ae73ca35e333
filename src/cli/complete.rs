//! Dynamic shell completion: one analyser of the command line, two
//! front-ends (spec: cli.md §12, style.md §8).
//!
//! # Design
//!
//! Completion has two kinds of callers, and both must offer container
//! names, image names, `--distro`, `--arch` and `--log-level` values:
//!
//! 1. **Scripts that distributions already install for upstream's
//!    toolbox.** cobra generated them, and they call
//!    `toolbox __complete WORD… PARTIAL` (or `__completeNoDesc`) back. They
//!    expect `value<TAB>description` lines, then `:<directive>` (cli.md
//!    §12.2). To keep them working we have to answer that protocol, and
//!    answering it means knowing *what* is being completed: the directive
//!    is 4 (no file completion) for every toolbox completer but 0 (files)
//!    for `--release` and `--authfile`.
//! 2. **Our own scripts** (`toolbox completion bash|fish|zsh`, committed
//!    under `completions/`). These are clap_complete's registration
//!    scripts for its environment protocol (`CompleteEnv`): the shell
//!    calls `TOOLBOX_COMPLETE=<shell> toolbox -- <words>` back.
//!
//! clap_complete's own engine (`engine::complete` with `ArgValueCandidates`)
//! could serve the second kind, but not the first, and it would not match
//! upstream either: its candidate callbacks see only the word being
//! completed, not the rest of the line, so they cannot leave out containers
//! already named (`rm a <TAB>`), nor offer nothing for `--distro` once
//! `--image` is given; and it offers every flag on an empty word, where
//! upstream offers only values. So one analyser here, written to cobra's
//! rules ([`complete`]), answers both: `__complete` prints its [`Reply`] in
//! cobra's format, and the three [`EnvCompleter`]s below print it in the
//! format clap_complete's registration scripts read. clap_complete still
//! provides what it does well: the env-var protocol and its dispatch, the
//! registration script for each shell, and path candidates. The outcome is
//! the same candidates in every shell, from either kind of script.
//!
//! Completion runs before pre-run (cli.md §2.6): it needs no sub-ID
//! ranges, never runs `podman system migrate`, and when podman is missing
//! or fails the podman-backed completers offer nothing, silently.

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::io::Write;

use anyhow::{Result, anyhow};
use clap::{Arg, CommandFactory};
use clap_complete::engine::{PathCompleter, ValueCompleter};
use clap_complete::env::{CompleteEnv, EnvCompleter, Shells};

use crate::cli::Cli;
use crate::error::with_usage;

/// The environment variable of clap_complete's protocol. Our own name
/// rather than clap's default `COMPLETE`, so that an unrelated variable of
/// that common name cannot turn every toolbox command into a completer.
pub const ENV_VAR: &str = "TOOLBOX_COMPLETE";

/// cobra's `ShellCompDirective` bits (cli.md §12.2).
pub mod directive {
    /// An error occurred; the shell ignores the candidates.
    pub const ERROR: u32 = 1;
    /// No space after a single candidate.
    pub const NO_SPACE: u32 = 2;
    /// No file completion, even when there are no candidates.
    pub const NO_FILE_COMP: u32 = 4;
    /// The candidates are file extensions to filter by.
    pub const FILTER_FILE_EXT: u32 = 8;
    /// Directories only.
    pub const FILTER_DIRS: u32 = 16;
    /// The shell's default: candidates, or files when there are none.
    pub const DEFAULT: u32 = 0;

    /// The names cobra prints on stderr for a directive.
    pub fn names(directive: u32) -> String {
        let all = [
            (ERROR, "ShellCompDirectiveError"),
            (NO_SPACE, "ShellCompDirectiveNoSpace"),
            (NO_FILE_COMP, "ShellCompDirectiveNoFileComp"),
            (FILTER_FILE_EXT, "ShellCompDirectiveFilterFileExt"),
            (FILTER_DIRS, "ShellCompDirectiveFilterDirs"),
        ];
        let set: Vec<&str> = all
            .iter()
            .filter(|(bit, _)| directive & bit != 0)
            .map(|(_, name)| *name)
            .collect();
        if set.is_empty() {
            "ShellCompDirectiveDefault".to_string()
        } else {
            set.join(", ")
        }
    }
}

/// The log levels `--log-level` offers, in upstream's order.
pub const LOG_LEVELS: [&str; 7] = ["trace", "debug", "info", "warn", "error", "fatal", "panic"];

/// The shells `toolbox completion` takes, in the order it offers them.
pub const SHELL_NAMES: [&str; 3] = ["bash", "fish", "zsh"];

/// One completion candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The word to insert.
    pub value: String,
    /// What it means, shown by shells that show descriptions.
    pub help: Option<String>,
}

impl Candidate {
    fn plain(value: impl Into<String>) -> Candidate {
        Candidate {
            value: value.into(),
            help: None,
        }
    }
}

/// What completing one word produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Candidates that start with [`Reply::partial`], in display order.
    pub candidates: Vec<Candidate>,
    /// cobra's directive bits ([`directive`]).
    pub directive: u32,
    /// The part of the word before the value, for `--flag=value`
    /// (`--flag=`). Shells that replace the whole word put it back in
    /// front of each candidate; cobra leaves that to its scripts.
    pub prefix: String,
    /// The partial value being completed (the word without [`Reply::prefix`]).
    pub partial: String,
}

impl Reply {
    fn nothing(directive: u32) -> Reply {
        Reply {
            candidates: Vec::new(),
            directive,
            prefix: String::new(),
            partial: String::new(),
        }
    }
}

/// Where the names of containers and images come from.
pub trait Inventory {
    /// Names of Toolbx containers, in podman's name order.
    fn containers(&self) -> Vec<String>;
    /// Names of Toolbx images, one per name, an unnamed one by its
    /// 12-character ID.
    fn images(&self) -> Vec<String>;
}

/// The real inventory: podman. Any failure, podman missing included, gives
/// no names and prints nothing.
pub struct Podman;

impl Inventory for Podman {
    fn containers(&self) -> Vec<String> {
        match crate::podman::ps() {
            Ok(list) => list
                .iter()
                .filter(|c| crate::podman::is_toolbx(&c.labels))
                .map(|c| c.name().to_string())
                .filter(|n| !n.is_empty())
                .collect(),
            Err(e) => {
                tracing::debug!("Completion: listing containers: {e}");
                Vec::new()
            }
        }
    }

    fn images(&self) -> Vec<String> {
        match crate::podman::images() {
            Ok(list) => image_names(&list),
            Err(e) => {
                tracing::debug!("Completion: listing images: {e}");
                Vec::new()
            }
        }
    }
}

/// Flattens Toolbx images as `list` does: every name on its own, an unnamed
/// image by the first 12 characters of its ID; sorted bytewise, no repeats.
pub fn image_names(images: &[crate::podman::ImageEntry]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for image in images
        .iter()
        .filter(|i| crate::podman::is_toolbx(&i.labels))
    {
        if image.names.is_empty() {
            names.push(image.id.chars().take(12).collect());
        } else {
            names.extend(image.names.iter().cloned());
        }
    }
    names.sort();
    names.dedup();
    names
}

/// The command tree completion works on: [`Cli`], built, so that global
/// flags are present in every subcommand.
pub fn command() -> clap::Command {
    let mut cmd = Cli::command();
    cmd.build();
    cmd
}

/// A flag as the line names it.
enum FlagName<'a> {
    Long(&'a str),
    Short(char),
}

fn find_flag<'c>(cmd: &'c clap::Command, name: &FlagName<'_>) -> Option<&'c Arg> {
    cmd.get_arguments()
        .filter(|a| !a.is_positional())
        .find(|a| match name {
            FlagName::Long(long) => a.get_long() == Some(*long),
            FlagName::Short(short) => a.get_short() == Some(*short),
        })
}

/// Whether a flag needs a value (pflag: no `NoOptDefVal`). Booleans that
/// take an optional `=<bool>` and the count flag `-v` do not.
fn takes_value(arg: &Arg) -> bool {
    arg.get_num_args().is_some_and(|r| r.min_values() > 0)
}

/// cobra's `isFlagArg`.
fn is_flag_arg(word: &str) -> bool {
    (word.len() >= 3 && word.starts_with("--"))
        || (word.len() >= 2 && word.starts_with('-') && !word.starts_with("--"))
}

/// The subcommand the words name and the words without its name (cobra's
/// `Find`): the first word that is neither a flag nor a flag's value.
/// `None` for a word that names no subcommand.
fn find_command<'c>(
    root: &'c clap::Command,
    words: &[String],
) -> Option<(&'c clap::Command, Vec<String>)> {
    let mut i = 0;
    while i < words.len() {
        let word = words[i].as_str();
        if word == "--" {
            break;
        }
        if let Some(long) = word.strip_prefix("--") {
            if !long.contains('=')
                && find_flag(root, &FlagName::Long(long)).is_some_and(takes_value)
            {
                i += 1;
            }
        } else if word.len() > 1 && word.starts_with('-') {
            let mut chars = word[1..].chars();
            if let (Some(short), None) = (chars.next(), chars.next())
                && find_flag(root, &FlagName::Short(short)).is_some_and(takes_value)
            {
                i += 1;
            }
        } else {
            let sub = root.find_subcommand(word)?;
            let mut rest = words.to_vec();
            rest.remove(i);
            return Some((sub, rest));
        }
        i += 1;
    }
    Some((root, words.to_vec()))
}

/// Flags set on the line and the positional words, as pflag parses them.
#[derive(Default)]
struct Parsed {
    /// Ids of the flags given.
    set: HashSet<String>,
    /// Positional words.
    positionals: Vec<String>,
    /// Option parsing had ended (`--`, or the first positional of `run`),
    /// so a word starting with `-` is not a flag any more.
    ended: bool,
}

fn parse_flags(cmd: &clap::Command, words: &[String]) -> Parsed {
    // `run` stops parsing options at COMMAND (cli.md §2.3).
    let interspersed = cmd.get_name() != "run";
    let mut parsed = Parsed::default();
    let mut i = 0;
    while i < words.len() {
        let word = words[i].as_str();
        i += 1;
        if parsed.ended {
            parsed.positionals.push(word.to_string());
        } else if word == "--" {
            parsed.ended = true;
        } else if let Some(long) = word.strip_prefix("--") {
            let (name, value) = match long.split_once('=') {
                Some((n, _)) => (n, true),
                None => (long, false),
            };
            if let Some(arg) = find_flag(cmd, &FlagName::Long(name)) {
                parsed.set.insert(arg.get_id().to_string());
                if !value && takes_value(arg) {
                    i += 1;
                }
            }
        } else if word.len() > 1 && word.starts_with('-') {
            let group = &word[1..];
            for (at, short) in group.char_indices() {
                let Some(arg) = find_flag(cmd, &FlagName::Short(short)) else {
                    continue;
                };
                parsed.set.insert(arg.get_id().to_string());
                if takes_value(arg) {
                    // The value is the rest of the group, or the next word.
                    if group[at + short.len_utf8()..].is_empty() {
                        i += 1;
                    }
                    break;
                }
            }
        } else {
            parsed.positionals.push(word.to_string());
            if !interspersed {
                parsed.ended = true;
            }
        }
    }
    parsed
}

/// Completes the last of `words` (the words after the program name; the
/// last one is the partial word, possibly empty), following cobra's
/// `getCompletions` and upstream's completers (cli.md §12.2).
pub fn complete(root: &clap::Command, words: &[String], inventory: &dyn Inventory) -> Reply {
    let Some((last, before)) = words.split_last() else {
        return Reply::nothing(directive::DEFAULT);
    };
    let Some((cmd, args)) = find_command(root, before) else {
        // `toolbox foo <TAB>`: cobra finds no command and lets the shell
        // complete files.
        return Reply::nothing(directive::DEFAULT);
    };

    // Is the word a flag's value? Either `--flag=<partial>`, or the word
    // after a flag that needs a value.
    let mut to_complete = last.clone();
    let mut prefix = String::new();
    let mut flag: Option<&Arg> = None;
    let mut flag_args = args.clone();
    let mut unknown_flag = false;
    let named = if last.starts_with('-') {
        match last.find('=') {
            Some(eq) => {
                let name = if last.starts_with("--") {
                    FlagName::Long(&last[2..eq])
                } else {
                    match last[..eq].chars().last() {
                        Some(c) => FlagName::Short(c),
                        None => FlagName::Long(""),
                    }
                };
                Some((name, true))
            }
            None => None,
        }
    } else {
        match args.last() {
            Some(prev) if is_flag_arg(prev) && !prev.contains('=') => {
                let name = match prev.strip_prefix("--") {
                    Some(long) => FlagName::Long(long),
                    None => FlagName::Short(prev.chars().last().unwrap_or('-')),
                };
                Some((name, false))
            }
            _ => None,
        }
    };
    if let Some((name, with_equals)) = named {
        match find_flag(cmd, &name) {
            Some(arg) if with_equals || takes_value(arg) => {
                flag = Some(arg);
                if with_equals {
                    let eq = last.find('=').unwrap_or(0);
                    prefix = last[..=eq].to_string();
                    to_complete = last[eq + 1..].to_string();
                } else {
                    flag_args.pop();
                }
            }
            Some(_) => {}
            None => unknown_flag = true,
        }
    }

    let parsed = parse_flags(cmd, &flag_args);
    let flag_completion = !parsed.ended;
    if unknown_flag && flag_completion {
        return Reply::nothing(directive::DEFAULT);
    }
    let reply = |mut candidates: Vec<Candidate>, directive: u32| {
        candidates.retain(|c| c.value.starts_with(to_complete.as_str()));
        Reply {
            candidates,
            directive,
            prefix: prefix.clone(),
            partial: to_complete.clone(),
        }
    };
    // `--help` or `--version` on the line: nothing more to say.
    if parsed.set.contains("help") || parsed.set.contains("version") {
        return reply(Vec::new(), directive::NO_FILE_COMP);
    }

    if let Some(arg) = flag
        && flag_completion
    {
        return match flag_values(cmd.get_name(), arg.get_id().as_str(), &parsed, inventory) {
            Some(values) => reply(plain(values), directive::NO_FILE_COMP),
            // No completer registered: the shell completes files.
            None => reply(Vec::new(), directive::DEFAULT),
        };
    }

    if to_complete.starts_with('-') && !to_complete.contains('=') && flag_completion {
        return reply(flag_names(root, cmd, &parsed), directive::NO_FILE_COMP);
    }

    let mut candidates = Vec::new();
    let mut dir = directive::DEFAULT;
    if parsed.positionals.is_empty() && cmd.has_subcommands() {
        let mut subs: Vec<&clap::Command> =
            cmd.get_subcommands().filter(|s| !s.is_hide_set()).collect();
        subs.sort_by_key(|s| s.get_name());
        candidates.extend(subs.iter().map(|s| Candidate {
            value: s.get_name().to_string(),
            help: s.get_about().map(|a| a.to_string()),
        }));
        dir = directive::NO_FILE_COMP;
    }
    if let Some(values) = positional_values(root, cmd.get_name(), &parsed.positionals, inventory) {
        candidates.extend(plain(values));
        dir = directive::NO_FILE_COMP;
    }
    reply(candidates, dir)
}

fn plain(values: Vec<String>) -> Vec<Candidate> {
    values.into_iter().map(Candidate::plain).collect()
}

fn strings(values: impl IntoIterator<Item = &'static str>) -> Vec<String> {
    values.into_iter().map(str::to_string).collect()
}

/// Values for a flag, by subcommand and flag id; `None` where upstream
/// registered no completer (the shell then completes files).
fn flag_values(
    cmd: &str,
    flag: &str,
    parsed: &Parsed,
    inventory: &dyn Inventory,
) -> Option<Vec<String>> {
    let distros = || strings(crate::distro::DISTROS.iter().map(|d| d.id));
    Some(match (cmd, flag) {
        (_, "log_level") => strings(LOG_LEVELS),
        // Ours: every value `--arch` accepts, aliases included.
        (_, "arch") => strings(crate::arch::Arch::all_accepted_values()),
        // `create`: the two exclude each other (cli.md §4).
        ("create", "distro") if parsed.set.contains("image") => Vec::new(),
        ("create", "image") if parsed.set.contains("distro") => Vec::new(),
        ("create", "image") => inventory.images(),
        ("create" | "enter" | "run", "distro") => distros(),
        ("enter" | "run", "container") => inventory.containers(),
        _ => return None,
    })
}

/// Values for a positional; `None` where upstream registered no completer.
fn positional_values(
    root: &clap::Command,
    cmd: &str,
    positionals: &[String],
    inventory: &dyn Inventory,
) -> Option<Vec<String>> {
    let not_on_line = |names: Vec<String>| -> Vec<String> {
        names
            .into_iter()
            .filter(|n| !positionals.contains(n))
            .collect()
    };
    Some(match cmd {
        // Only the first positional names the container.
        "enter" if !positionals.is_empty() => Vec::new(),
        "enter" | "rm" => not_on_line(inventory.containers()),
        "rmi" => not_on_line(inventory.images()),
        "help" => {
            let mut names: Vec<String> = root
                .get_subcommands()
                .map(|s| s.get_name().to_string())
                .filter(|n| !n.contains("complet"))
                .collect();
            names.sort();
            names
        }
        "completion" if positionals.is_empty() => strings(SHELL_NAMES),
        "completion" | "create" | "list" | "run" => Vec::new(),
        "toolbox" => Vec::new(),
        _ => return None,
    })
}

/// The flags not given yet, as cobra lists them: the inherited global ones
/// first, then the command's own, each sorted by name; the long form, then
/// the short one.
fn flag_names(root: &clap::Command, cmd: &clap::Command, parsed: &Parsed) -> Vec<Candidate> {
    let is_root = std::ptr::eq(root, cmd);
    let inherited = |a: &Arg| !is_root && a.is_global_set() && a.get_id() != "help";
    let mut flags: Vec<&Arg> = cmd
        .get_arguments()
        .filter(|a| !a.is_positional() && !a.is_hide_set() && a.get_long().is_some())
        .filter(|a| !parsed.set.contains(a.get_id().as_str()))
        .collect();
    flags.sort_by_key(|a| (!inherited(a), a.get_long()));
    let mut out = Vec::new();
    for arg in flags {
        let help = if arg.get_id() == "help" {
            // cobra words every command's help flag after the command.
            Some(format!("help for {}", cmd.get_name()))
        } else {
            arg.get_help().map(|h| h.to_string())
        };
        if let Some(long) = arg.get_long() {
            out.push(Candidate {
                value: format!("--{long}"),
                help: help.clone(),
            });
        }
        if let Some(short) = arg.get_short() {
            out.push(Candidate {
                value: format!("-{short}"),
                help,
            });
        }
    }
    out
}

/// Handles a completion request before anything else runs (no parsing, no
/// pre-run): clap_complete's protocol when [`ENV_VAR`] is set, cobra's
/// `__complete` when argv asks for it. `None` for every other invocation.
pub fn early(args: &[OsString]) -> Option<Result<()>> {
    if std::env::var_os(ENV_VAR).is_some_and(|v| !v.is_empty() && v != "0") {
        let cwd = std::env::current_dir().ok();
        let done = CompleteEnv::with_factory(command)
            .var(ENV_VAR)
            .shells(SHELLS)
            .try_complete(args.iter().cloned(), cwd.as_deref());
        return match done {
            Ok(true) => Some(Ok(())),
            Ok(false) => None,
            Err(e) => Some(Err(anyhow!(
                "{}",
                e.to_string().trim().trim_start_matches("error: ")
            ))),
        };
    }
    match args.get(1).and_then(|a| a.to_str()) {
        Some(name @ ("__complete" | "__completeNoDesc")) => {
            Some(cobra(&args[2..], name == "__completeNoDesc"))
        }
        _ => None,
    }
}

/// Formats a reply as cobra's `__complete` does: one candidate a line,
/// `value<TAB>description` (no description for `__completeNoDesc`), then
/// `:<directive>`.
pub fn cobra_output(reply: &Reply, descriptions: bool) -> String {
    let mut out = String::new();
    for c in &reply.candidates {
        let mut line = c.value.clone();
        if descriptions && let Some(help) = c.help.as_deref().filter(|h| !h.is_empty()) {
            line.push('\t');
            line.push_str(help);
        }
        // Only the first line, trimmed, as cobra prints it.
        let line = line.lines().next().unwrap_or("").trim();
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(&format!(":{}\n", reply.directive));
    out
}

/// `toolbox __complete WORD… PARTIAL` (cli.md §12.2).
fn cobra(words: &[OsString], no_descriptions: bool) -> Result<()> {
    if words.is_empty() {
        return Err(with_usage(format!(
            "requires at least 1 arg(s), only received {}",
            words.len()
        )));
    }
    let words: Vec<String> = words
        .iter()
        .map(|w| w.to_string_lossy().into_owned())
        .collect();
    let reply = complete(&command(), &words, &Podman);
    crate::output::out_or_fail(format_args!("{}", cobra_output(&reply, !no_descriptions)))?;
    crate::errln!(
        "Completion ended with directive: {}",
        directive::names(reply.directive)
    );
    Ok(())
}

/// The shells of clap_complete's protocol that toolbox answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shell {
    /// bash (with or without bash-completion).
    Bash,
    /// fish.
    Fish,
    /// zsh.
    Zsh,
}

const SHELLS: Shells<'static> = Shells(&[&Shell::Bash, &Shell::Fish, &Shell::Zsh]);

impl Shell {
    /// The shell called `name`, if toolbox has a script for it.
    pub fn from_name(name: &str) -> Option<Shell> {
        match name {
            "bash" => Some(Shell::Bash),
            "fish" => Some(Shell::Fish),
            "zsh" => Some(Shell::Zsh),
            _ => None,
        }
    }

    fn builtin(self) -> &'static dyn EnvCompleter {
        match self {
            Shell::Bash => &clap_complete::env::Bash,
            Shell::Fish => &clap_complete::env::Fish,
            Shell::Zsh => &clap_complete::env::Zsh,
        }
    }

    /// The script to install: clap_complete's registration for this shell,
    /// calling `toolbox` from PATH back through [`ENV_VAR`].
    pub fn script(self) -> Vec<u8> {
        let mut buf = Vec::new();
        self.write_registration(ENV_VAR, "toolbox", "toolbox", "toolbox", &mut buf)
            .expect("writing to a Vec cannot fail");
        buf
    }
}

/// Joins bash's `--flag`, `=`, `value` words back into `--flag=value`:
/// bash splits words at `=` (COMP_WORDBREAKS) before clap_complete's
/// script sees them. Returns the words and whether the last one was joined
/// (then bash replaces only the part after `=`).
fn join_equals(words: &[String]) -> (Vec<String>, bool) {
    let mut out: Vec<String> = Vec::new();
    let mut joined_last = false;
    let mut i = 0;
    while i < words.len() {
        let word = &words[i];
        let after_flag = out
            .last()
            .is_some_and(|l| is_flag_arg(l) && !l.contains('='));
        if word == "=" && after_flag && i + 1 < words.len() {
            let last = out.last_mut().expect("checked above");
            last.push('=');
            last.push_str(&words[i + 1]);
            joined_last = i + 2 == words.len();
            i += 2;
            continue;
        }
        out.push(word.clone());
        joined_last = false;
        i += 1;
    }
    (out, joined_last)
}

impl EnvCompleter for Shell {
    fn name(&self) -> &'static str {
        self.builtin().name()
    }

    fn is(&self, name: &str) -> bool {
        self.builtin().is(name)
    }

    fn write_registration(
        &self,
        var: &str,
        name: &str,
        bin: &str,
        completer: &str,
        buf: &mut dyn Write,
    ) -> Result<(), std::io::Error> {
        self.builtin()
            .write_registration(var, name, bin, completer, buf)?;
        if *self == Shell::Zsh {
            // Installed in $fpath, zsh autoloads this file as the function
            // `_toolbox` on the first TAB; the script above only registers
            // its completer then, so run it right away in that case. When
            // the script is sourced instead, this does nothing.
            let escaped = name.replace('-', "_");
            writeln!(
                buf,
                "if [[ \"${{funcstack[1]}}\" = \"_{bin}\" ]]; then\n    _clap_dynamic_completer_{escaped} \"$@\"\nfi"
            )?;
        }
        Ok(())
    }

    fn write_complete(
        &self,
        cmd: &mut clap::Command,
        args: Vec<OsString>,
        current_dir: Option<&std::path::Path>,
        buf: &mut dyn Write,
    ) -> Result<(), std::io::Error> {
        let mut words: Vec<String> = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        // Which word is being completed: bash and zsh say so, fish passes
        // the words up to the cursor.
        let index = match self {
            Shell::Fish => words.len().saturating_sub(1),
            Shell::Bash | Shell::Zsh => std::env::var("_CLAP_COMPLETE_INDEX")
                .ok()
                .and_then(|i| i.parse().ok())
                .unwrap_or(words.len().saturating_sub(1)),
        };
        let index = index.max(1);
        words.resize(words.len().max(index + 1), String::new());
        words.truncate(index + 1);
        let (line, joined) = match self {
            Shell::Bash => join_equals(&words[1..]),
            _ => (words[1..].to_vec(), false),
        };
        cmd.build();
        let reply = complete(cmd, &line, &Podman);
        let mut candidates = reply.candidates.clone();
        // Files where cobra's directive would let the shell complete them.
        // bash does that itself (`-o bashdefault`) when there is nothing.
        if candidates.is_empty()
            && reply.directive & directive::NO_FILE_COMP == 0
            && *self != Shell::Bash
        {
            let mut paths = PathCompleter::any();
            if let Some(dir) = current_dir {
                paths = paths.current_dir(dir);
            }
            let mut found = paths.complete(OsStr::new(&reply.partial));
            // Dot files only when nothing else matches, as clap does.
            if found.iter().any(|c| !c.is_hide_set()) {
                found.retain(|c| !c.is_hide_set());
            }
            candidates = found
                .into_iter()
                .map(|c| Candidate {
                    value: c.get_value().to_string_lossy().into_owned(),
                    help: None,
                })
                .collect();
        }
        let prefix = if joined { "" } else { reply.prefix.as_str() };
        let ifs = std::env::var("_CLAP_IFS").unwrap_or_else(|_| "\n".to_string());
        let first_line = |h: &str| h.lines().next().unwrap_or("").to_string();
        match self {
            Shell::Bash => {
                let values: Vec<String> = candidates
                    .iter()
                    .map(|c| format!("{prefix}{}", c.value))
                    .collect();
                write!(buf, "{}", values.join(&ifs))?;
            }
            Shell::Zsh => {
                let escape = |s: &str| s.replace('\\', "\\\\");
                let items: Vec<String> = candidates
                    .iter()
                    .map(|c| {
                        let value = escape(&format!("{prefix}{}", c.value)).replace(':', "\\:");
                        match c.help.as_deref().filter(|h| !h.is_empty()) {
                            Some(h) => format!("{value}:{}", escape(&first_line(h))),
                            None => value,
                        }
                    })
                    .collect();
                write!(buf, "{}", items.join(&ifs))?;
            }
            Shell::Fish => {
                for c in &candidates {
                    write!(buf, "{prefix}{}", c.value)?;
                    if let Some(h) = c.help.as_deref().filter(|h| !h.is_empty()) {
                        write!(buf, "\t{}", first_line(h))?;
                    }
                    writeln!(buf)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;

    impl Inventory for Fixed {
        fn containers(&self) -> Vec<String> {
            strings(["alpha", "beta"])
        }
        fn images(&self) -> Vec<String> {
            strings(["bbbbbbbbbbbb", "localhost/a:1"])
        }
    }

    fn values(line: &[&str]) -> Vec<String> {
        let words: Vec<String> = line.iter().map(|w| w.to_string()).collect();
        complete(&command(), &words, &Fixed)
            .candidates
            .into_iter()
            .map(|c| c.value)
            .collect()
    }

    fn reply(line: &[&str]) -> Reply {
        let words: Vec<String> = line.iter().map(|w| w.to_string()).collect();
        complete(&command(), &words, &Fixed)
    }

    #[test]
    fn subcommands_at_the_top() {
        assert_eq!(
            values(&[""]),
            ["create", "enter", "help", "list", "rm", "rmi", "run"]
        );
        assert_eq!(values(&["r"]), ["rm", "rmi", "run"]);
        let r = reply(&[""]);
        assert_eq!(r.directive, directive::NO_FILE_COMP);
        assert_eq!(
            r.candidates[0].help.as_deref(),
            Some("Create a new Toolbx container")
        );
        // Global flags before the command do not hide it.
        assert_eq!(values(&["--log-level", "debug", "-y", "en"]), ["enter"]);
    }

    #[test]
    fn container_names() {
        assert_eq!(values(&["enter", ""]), ["alpha", "beta"]);
        assert_eq!(values(&["enter", "a"]), ["alpha"]);
        assert!(values(&["enter", "alpha", ""]).is_empty());
        assert_eq!(values(&["enter", "-c", ""]), ["alpha", "beta"]);
        assert_eq!(values(&["enter", "--container", "b"]), ["beta"]);
        assert_eq!(values(&["run", "-c", ""]), ["alpha", "beta"]);
        assert_eq!(values(&["run", "--container=a"]), ["alpha"]);
        assert_eq!(reply(&["run", "--container=a"]).prefix, "--container=");
        assert_eq!(values(&["rm", "alpha", ""]), ["beta"]);
        assert_eq!(values(&["rm", "-f", "beta", ""]), ["alpha"]);
        assert_eq!(reply(&["rm", ""]).directive, directive::NO_FILE_COMP);
    }

    #[test]
    fn run_command_gets_nothing() {
        let r = reply(&["run", ""]);
        assert!(r.candidates.is_empty());
        assert_eq!(r.directive, directive::NO_FILE_COMP);
        // After COMMAND every word is the command's, even `-c`.
        assert!(values(&["run", "ls", "-c", ""]).is_empty());
        assert!(values(&["run", "ls", "--"]).is_empty());
    }

    #[test]
    fn image_and_distro_exclude_each_other() {
        assert_eq!(
            values(&["create", "-i", ""]),
            ["bbbbbbbbbbbb", "localhost/a:1"]
        );
        assert_eq!(
            values(&["create", "--distro", ""]),
            ["arch", "fedora", "rhel", "ubuntu"]
        );
        assert_eq!(values(&["create", "-d", "f"]), ["fedora"]);
        assert!(values(&["create", "-i", "x", "--distro", ""]).is_empty());
        assert!(values(&["create", "--distro=fedora", "-i", ""]).is_empty());
        assert_eq!(
            reply(&["create", "-i", ""]).directive,
            directive::NO_FILE_COMP
        );
        assert_eq!(values(&["enter", "-d", "u"]), ["ubuntu"]);
    }

    #[test]
    fn arch_values() {
        let all = values(&["create", "--arch", ""]);
        assert!(all.contains(&"arm64".to_string()) && all.contains(&"aarch64".to_string()));
        assert_eq!(values(&["run", "-a", "ri"]), ["riscv64"]);
        assert_eq!(values(&["enter", "--arch=s"]), ["s390x"]);
    }

    #[test]
    fn file_valued_flags_leave_it_to_the_shell() {
        for line in [
            &["create", "--release", ""][..],
            &["create", "--authfile", ""],
            &["create", "-c", ""],
            &["run", "--preserve-fds", ""],
        ] {
            let r = reply(line);
            assert!(r.candidates.is_empty(), "{line:?}");
            assert_eq!(r.directive, directive::DEFAULT, "{line:?}");
        }
    }

    #[test]
    fn log_levels_help_and_shells() {
        assert_eq!(
            values(&["--log-level", ""]),
            ["trace", "debug", "info", "warn", "error", "fatal", "panic"]
        );
        assert_eq!(values(&["list", "--log-level", "w"]), ["warn"]);
        assert_eq!(
            values(&["help", ""]),
            [
                "create",
                "enter",
                "help",
                "init-container",
                "list",
                "rm",
                "rmi",
                "run"
            ]
        );
        assert_eq!(values(&["completion", ""]), ["bash", "fish", "zsh"]);
        assert!(values(&["completion", "bash", ""]).is_empty());
    }

    #[test]
    fn flag_names_follow_cobra() {
        assert_eq!(
            values(&["rm", "-"]),
            [
                "--assumeyes",
                "-y",
                "--log-level",
                "--log-podman",
                "--verbose",
                "-v",
                "--all",
                "-a",
                "--force",
                "-f",
                "--help",
                "-h"
            ]
        );
        assert_eq!(values(&["rm", "-a", "--f"]), ["--force"]);
        let r = reply(&["create", "--he"]);
        assert_eq!(r.candidates[0].help.as_deref(), Some("help for create"));
        assert_eq!(values(&["--vers"]), ["--version"]);
        // Flags are offered only for a word starting with `-`.
        assert!(!values(&["rm", ""]).iter().any(|v| v.starts_with('-')));
        // Hidden commands and flags stay hidden.
        assert!(!values(&["c"]).contains(&"completion".to_string()));
        assert!(values(&["--help", ""]).is_empty());
    }

    #[test]
    fn unknown_command_gives_files() {
        let r = reply(&["foo", ""]);
        assert!(r.candidates.is_empty());
        assert_eq!(r.directive, directive::DEFAULT);
    }

    #[test]
    fn cobra_format() {
        let r = reply(&["en"]);
        assert_eq!(
            cobra_output(&r, true),
            "enter\tEnter a Toolbx container for interactive use\n:4\n"
        );
        assert_eq!(cobra_output(&r, false), "enter\n:4\n");
        assert_eq!(directive::names(4), "ShellCompDirectiveNoFileComp");
        assert_eq!(directive::names(0), "ShellCompDirectiveDefault");
        assert_eq!(
            directive::names(6),
            "ShellCompDirectiveNoSpace, ShellCompDirectiveNoFileComp"
        );
    }

    #[test]
    fn bash_equals_words_are_joined() {
        let w = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            join_equals(&w(&["create", "--distro", "=", "fe"])),
            (w(&["create", "--distro=fe"]), true)
        );
        assert_eq!(
            join_equals(&w(&["create", "--distro", "=", "fedora", ""])),
            (w(&["create", "--distro=fedora", ""]), false)
        );
        assert_eq!(join_equals(&w(&["enter", ""])), (w(&["enter", ""]), false));
    }

    #[test]
    fn image_names_flatten_like_list() {
        let images: Vec<crate::podman::ImageEntry> = serde_json::from_str(
            r#"[
 {"Id":"aaaaaaaaaaaaaaaa","Names":["localhost/a:1","localhost/a-copy:1"],"Labels":{"com.github.containers.toolbox":"true"}},
 {"Id":"bbbbbbbbbbbbbbbb","Names":null,"Labels":{"com.github.containers.toolbox":"true"}},
 {"Id":"cccccccccccccccc","Names":["busybox"],"Labels":null}
]"#,
        )
        .unwrap();
        assert_eq!(
            image_names(&images),
            ["bbbbbbbbbbbb", "localhost/a-copy:1", "localhost/a:1"]
        );
    }

    #[test]
    fn scripts_call_toolbox_back() {
        let bash = String::from_utf8(Shell::Bash.script()).unwrap();
        assert!(bash.contains("TOOLBOX_COMPLETE=\"bash\""), "{bash}");
        assert!(bash.contains("-F _clap_complete_toolbox toolbox"));
        let zsh = String::from_utf8(Shell::Zsh.script()).unwrap();
        assert!(zsh.starts_with("#compdef toolbox\n"));
        assert!(zsh.contains("= \"_toolbox\" ]]"));
        let fish = String::from_utf8(Shell::Fish.script()).unwrap();
        assert!(fish.contains("TOOLBOX_COMPLETE=fish toolbox --"));
    }
}
