//! The command line: global flags, subcommands, and parse errors worded as
//! upstream's cobra prints them (spec: cli.md §1, §2.3, §2.4).

pub mod complete;
pub mod completion;
pub mod create;
pub mod enter;
pub mod help;
pub mod init_container;
pub mod list;
pub mod rm;
pub mod rmi;
pub mod run;

use std::ffi::OsString;

use clap::{ArgAction, Parser, Subcommand};

use crate::error::{ExitError, usage_hint};

/// Parses Go's boolean syntax, as `--flag=<bool>` takes it upstream.
pub fn parse_go_bool(text: &str) -> Result<bool, String> {
    match text {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(format!(
            "strconv.ParseBool: parsing {text:?}: invalid syntax"
        )),
    }
}

/// `toolbox` and its global flags.
#[derive(Debug, Parser)]
#[command(
    name = "toolbox",
    about = "Tool for interactive command line environments on Linux",
    disable_help_flag = true,
    disable_version_flag = true,
    disable_help_subcommand = true,
    subcommand_required = false
)]
pub struct Cli {
    /// Automatically answer yes for all questions
    #[arg(short = 'y', long, global = true, num_args = 0..=1, require_equals = true,
          default_missing_value = "true", default_value = "false", value_parser = parse_go_bool)]
    pub assumeyes: bool,

    /// Log messages at the specified level: trace, debug, info, warn, error, fatal or panic
    #[arg(
        long = "log-level",
        global = true,
        default_value = "error",
        allow_hyphen_values = true,
        value_name = "LEVEL"
    )]
    pub log_level: String,

    /// Show the log output of Podman. The log level is handled by the log-level option
    #[arg(long = "log-podman", global = true, num_args = 0..=1, require_equals = true,
          default_missing_value = "true", default_value = "false", value_parser = parse_go_bool)]
    pub log_podman: bool,

    /// Set log-level to 'debug'
    #[arg(short = 'v', long, global = true, action = ArgAction::Count)]
    pub verbose: u8,

    /// version for toolbox
    #[arg(long)]
    pub version: bool,

    /// help for toolbox
    #[arg(short = 'h', long, global = true)]
    pub help: bool,

    /// The subcommand.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new Toolbx container
    Create(create::CreateArgs),
    /// Enter a Toolbx container for interactive use
    Enter(enter::EnterArgs),
    /// Display help information about Toolbx
    Help(help::HelpArgs),
    /// List existing Toolbx containers and images
    List(list::ListArgs),
    /// Remove one or more Toolbx containers
    Rm(rm::RmArgs),
    /// Remove one or more Toolbx images
    Rmi(rmi::RmiArgs),
    /// Run a command in an existing Toolbx container
    Run(run::RunArgs),
    /// Generate completion script
    #[command(hide = true)]
    Completion(completion::CompletionArgs),
    /// Initialize a running container
    #[command(name = "init-container", hide = true)]
    InitContainer(init_container::InitContainerArgs),
}

impl Command {
    /// The subcommand's name as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Create(_) => "create",
            Command::Enter(_) => "enter",
            Command::Help(_) => "help",
            Command::List(_) => "list",
            Command::Rm(_) => "rm",
            Command::Rmi(_) => "rmi",
            Command::Run(_) => "run",
            Command::Completion(_) => "completion",
            Command::InitContainer(_) => "init-container",
        }
    }
}

/// Parses an unsigned number as pflag does (Go's `strconv.ParseUint` with
/// base 0: `0x`, `0o`, `0b` and a leading `0` for octal, `_` between
/// digits, no sign), with Go's error text.
pub fn parse_go_uint(text: &str) -> Result<u32, String> {
    let invalid = || format!("strconv.ParseUint: parsing {text:?}: invalid syntax");
    let lower = text.to_ascii_lowercase();
    let (digits, radix, prefixed) = if let Some(d) = lower.strip_prefix("0x") {
        (d, 16, true)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (d, 8, true)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (d, 2, true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (&lower[1..], 8, true)
    } else {
        (lower.as_str(), 10, false)
    };
    // Go allows underscores only in prefixed literals, between digits.
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || (!prefixed && digits.contains('_'))
    {
        return Err(invalid());
    }
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    if !clean.chars().all(|c| c.is_digit(radix)) {
        return Err(invalid());
    }
    u32::from_str_radix(&clean, radix)
        .map_err(|_| format!("strconv.ParseUint: parsing {text:?}: value out of range"))
}

/// Parses a signed number as Go's strconv does, with its error text; the
/// value must also fit an ID.
pub fn parse_go_int(text: &str) -> Result<u32, String> {
    let n: i64 = text
        .parse()
        .map_err(|_| format!("strconv.ParseInt: parsing {text:?}: invalid syntax"))?;
    u32::try_from(n).map_err(|_| format!("strconv.ParseInt: parsing {text:?}: value out of range"))
}

/// Flags of any command that take a value, so their values are not read
/// as the start of `run`'s command.
const VALUE_FLAGS: [&str; 12] = [
    "-c",
    "--container",
    "-d",
    "--distro",
    "-r",
    "--release",
    "-a",
    "--arch",
    "-i",
    "--image",
    "--log-level",
    "--preserve-fds",
];

/// cobra's `--verbose=N` sets the count; clap's count flags take no value,
/// so it becomes N times `-v` before parsing. Nothing after `--` or after
/// `run`'s command is touched.
fn expand_verbose(args: &[OsString]) -> Result<Vec<OsString>, anyhow::Error> {
    let mut out = Vec::with_capacity(args.len());
    let mut in_run = false;
    let mut done = false;
    let mut prev_takes_value = false;
    for (i, arg) in args.iter().enumerate() {
        let text = arg.to_str().unwrap_or("");
        if i == 0 || done {
            out.push(arg.clone());
            continue;
        }
        let is_value = prev_takes_value;
        if text == "--" {
            done = true;
        } else if !text.starts_with('-') && !is_value {
            if in_run {
                done = true;
            } else if text == "run" {
                in_run = true;
            }
        }
        prev_takes_value = !is_value && VALUE_FLAGS.contains(&text);
        if !done
            && !is_value
            && let Some(value) = text.strip_prefix("--verbose=")
        {
            let n: i64 = value.parse().map_err(|_| {
                anyhow::Error::new(ExitError::new(
                    1,
                    format!(
                        "invalid argument {value:?} for \"-v, --verbose\" flag: strconv.ParseInt: parsing {value:?}: invalid syntax\n{}",
                        usage_hint()
                    ),
                ))
            })?;
            out.extend((0..n.clamp(0, 8)).map(|_| OsString::from("-v")));
            continue;
        }
        out.push(arg.clone());
    }
    Ok(out)
}

/// Parses argv, turning clap's errors into cobra's wording (exit 1).
pub fn parse(args: &[OsString]) -> Result<Cli, anyhow::Error> {
    let args = expand_verbose(args)?;
    Cli::try_parse_from(&args).map_err(|err| cobra_error(&err, &args))
}

fn cobra_error(err: &clap::Error, args: &[OsString]) -> anyhow::Error {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let ctx = |kind| match err.get(kind) {
        Some(ContextValue::String(s)) => s.clone(),
        Some(ContextValue::Strings(v)) => v.first().cloned().unwrap_or_default(),
        _ => String::new(),
    };
    let msg = match err.kind() {
        ErrorKind::UnknownArgument => {
            let arg = ctx(ContextKind::InvalidArg);
            unknown_flag_message(&arg, args)
        }
        ErrorKind::InvalidSubcommand => {
            let word = ctx(ContextKind::InvalidSubcommand);
            return anyhow::Error::new(ExitError::new(1, unknown_command_message(&word)));
        }
        ErrorKind::InvalidValue | ErrorKind::NoEquals | ErrorKind::WrongNumberOfValues => {
            let arg = ctx(ContextKind::InvalidArg);
            let value = ctx(ContextKind::InvalidValue);
            let flag = flag_name(&arg);
            if value.is_empty() {
                needs_argument(&flag, args)
            } else {
                format!("invalid argument {value:?} for {:?} flag", flag_spec(&flag))
            }
        }
        ErrorKind::ValueValidation => {
            let arg = ctx(ContextKind::InvalidArg);
            let value = ctx(ContextKind::InvalidValue);
            let why = std::error::Error::source(err)
                .map(|s| s.to_string())
                .unwrap_or_default();
            format!(
                "invalid argument {value:?} for {:?} flag: {why}",
                flag_spec(&flag_name(&arg))
            )
        }
        _ => {
            let text = err.render().to_string();
            let first = text
                .lines()
                .next()
                .unwrap_or("")
                .trim_start_matches("error: ");
            first.to_string()
        }
    };
    anyhow::Error::new(ExitError::new(1, format!("{msg}\n{}", usage_hint())))
}

/// The long flag name inside clap's `--name <VALUE>` rendering.
fn flag_name(arg: &str) -> String {
    // clap renders `--name <VALUE>`, `--name[=<VALUE>]` or `--name=<VALUE>`.
    let end = arg.find([' ', '[', '=']).unwrap_or(arg.len());
    arg[..end].to_string()
}

/// `-s, --long` when the flag has a short form.
fn flag_spec(flag: &str) -> String {
    let shorts = [
        ("--assumeyes", 'y'),
        ("--verbose", 'v'),
        ("--container", 'c'),
        ("--containers", 'c'),
        ("--distro", 'd'),
        ("--image", 'i'),
        ("--images", 'i'),
        ("--release", 'r'),
        ("--all", 'a'),
        ("--arch", 'a'),
        ("--force", 'f'),
    ];
    match shorts.iter().find(|(long, _)| *long == flag) {
        Some((long, short)) => format!("-{short}, {long}"),
        None => flag.to_string(),
    }
}

fn needs_argument(flag: &str, args: &[OsString]) -> String {
    let typed_short = args.iter().rev().find_map(|a| {
        let a = a.to_str()?;
        (a.len() == 2 && a.starts_with('-') && !a.starts_with("--")).then(|| a.to_string())
    });
    if let Some(short) = typed_short
        && flag_spec(flag).starts_with(&short)
    {
        return format!("flag needs an argument: '{}' in {short}", &short[1..]);
    }
    format!("flag needs an argument: {flag}")
}

fn unknown_flag_message(arg: &str, args: &[OsString]) -> String {
    if arg.starts_with("---") || arg.starts_with("--=") {
        return format!("bad flag syntax: {arg}");
    }
    // clap names `--=x` as `--`; the word as typed is what cobra shows.
    if arg == "--"
        && let Some(typed) = args
            .iter()
            .filter_map(|a| a.to_str())
            .find(|a| a.starts_with("--=") || a.starts_with("---"))
    {
        return format!("bad flag syntax: {typed}");
    }
    if let Some(long) = arg.strip_prefix("--") {
        let name = long.split('=').next().unwrap_or(long);
        return format!("unknown flag: --{name}");
    }
    let letter = arg.trim_start_matches('-').chars().next().unwrap_or('?');
    // cobra names the whole group as typed, e.g. `in -yx`.
    let group = args
        .iter()
        .skip(1)
        .filter_map(|a| a.to_str())
        .find(|a| a.starts_with('-') && !a.starts_with("--") && a[1..].contains(letter))
        .unwrap_or(arg);
    format!("unknown shorthand flag: '{letter}' in {group}")
}

const VISIBLE_COMMANDS: [&str; 7] = ["create", "enter", "help", "list", "rm", "rmi", "run"];

fn unknown_command_message(word: &str) -> String {
    let lower = word.to_lowercase();
    let suggestions: Vec<&str> = VISIBLE_COMMANDS
        .iter()
        .copied()
        .filter(|c| c.starts_with(&lower) || levenshtein(c, &lower) <= 2)
        .collect();
    // Literal `toolbox` here, as upstream's cobra root command is named so.
    let mut msg = format!("unknown command {word:?} for \"toolbox\"");
    if !suggestions.is_empty() {
        msg.push_str("\n\nDid you mean this?\n");
        for s in suggestions {
            msg.push_str(&format!("\t{s}\n"));
        }
    }
    msg.push_str("\nRun 'toolbox --help' for usage.");
    msg
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_err(args: &[&str]) -> String {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        let err = parse(&args).unwrap_err();
        err.downcast_ref::<ExitError>()
            .unwrap()
            .msg
            .clone()
            .unwrap()
    }

    fn ok(args: &[&str]) -> Cli {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        parse(&args).unwrap()
    }

    #[test]
    fn unknown_flags_are_cobras() {
        assert_eq!(
            parse_err(&["toolbox", "--foo"]),
            format!("unknown flag: --foo\n{}", usage_hint())
        );
        assert!(parse_err(&["toolbox", "create", "--foo"]).starts_with("unknown flag: --foo\n"));
        assert!(parse_err(&["toolbox", "run", "--foo", "ls"]).starts_with("unknown flag: --foo\n"));
        assert!(
            parse_err(&["toolbox", "-yx", "list"])
                .starts_with("unknown shorthand flag: 'x' in -yx\n")
        );
    }

    #[test]
    fn unknown_command() {
        assert_eq!(
            parse_err(&["toolbox", "foo"]),
            "unknown command \"foo\" for \"toolbox\"\nRun 'toolbox --help' for usage."
        );
        assert_eq!(
            parse_err(&["toolbox", "lis"]),
            "unknown command \"lis\" for \"toolbox\"\n\nDid you mean this?\n\tlist\n\nRun 'toolbox --help' for usage."
        );
    }

    #[test]
    fn missing_values() {
        assert!(
            parse_err(&["toolbox", "create", "--image"])
                .starts_with("flag needs an argument: --image\n")
        );
        assert!(
            parse_err(&["toolbox", "create", "-i"])
                .starts_with("flag needs an argument: 'i' in -i\n")
        );
    }

    #[test]
    fn string_flags_take_hyphen_values() {
        let cli = ok(&["toolbox", "create", "--release", "-3"]);
        let Some(Command::Create(args)) = cli.command else {
            panic!()
        };
        assert_eq!(args.release.as_deref(), Some("-3"));
    }

    #[test]
    fn globals_anywhere_and_grouped() {
        let cli = ok(&["toolbox", "list", "-yv"]);
        assert!(cli.assumeyes);
        assert_eq!(cli.verbose, 1);
        let cli = ok(&["toolbox", "-y", "create"]);
        assert!(cli.assumeyes);
        let cli = ok(&["toolbox", "--assumeyes=false", "create"]);
        assert!(!cli.assumeyes);
    }

    #[test]
    fn run_stops_at_command() {
        let cli = ok(&["toolbox", "run", "-c", "box", "ls", "-la", "--foo", ""]);
        let Some(Command::Run(args)) = cli.command else {
            panic!()
        };
        assert_eq!(args.container.as_deref(), Some("box"));
        assert_eq!(args.command, ["ls", "-la", "--foo", ""].map(OsString::from));
    }

    #[test]
    fn verbose_takes_a_count() {
        assert_eq!(ok(&["toolbox", "--verbose=2", "list"]).verbose, 2);
        assert_eq!(ok(&["toolbox", "-vv", "list"]).verbose, 2);
        let cli = ok(&["toolbox", "run", "-c", "--verbose=2", "echo", "--verbose=3"]);
        let Some(Command::Run(args)) = cli.command else {
            panic!()
        };
        assert_eq!(args.container.as_deref(), Some("--verbose=2"));
        assert_eq!(args.command, ["echo", "--verbose=3"].map(OsString::from));
        assert!(parse_err(&["toolbox", "--verbose=x", "list"]).starts_with(
            "invalid argument \"x\" for \"-v, --verbose\" flag: strconv.ParseInt: parsing \"x\": invalid syntax\n"
        ));
    }

    #[test]
    fn bad_values_are_worded_as_go() {
        assert!(parse_err(&["toolbox", "list", "--containers=x"]).starts_with(
            "invalid argument \"x\" for \"-c, --containers\" flag: strconv.ParseBool: parsing \"x\": invalid syntax\n"
        ));
        assert!(parse_err(&["toolbox", "run", "--preserve-fds", "abc", "ls"]).starts_with(
            "invalid argument \"abc\" for \"--preserve-fds\" flag: strconv.ParseUint: parsing \"abc\": invalid syntax\n"
        ));
        assert!(
            parse_err(&["toolbox", "create", "-a"])
                .starts_with("flag needs an argument: 'a' in -a\n")
        );
    }

    #[test]
    fn version_only_top_level() {
        assert!(ok(&["toolbox", "--version"]).version);
        assert!(
            parse_err(&["toolbox", "create", "--version"]).starts_with("unknown flag: --version\n")
        );
    }
}
