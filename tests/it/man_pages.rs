//! The manual pages in doc/ against the command line they describe: every
//! command with a page has one, every option is documented, the NAME lines
//! are the ones upstream's 002-help.bats reads back through man(1), and the
//! architecture table of toolbox(1) is the one of `toolbox::arch`.

use std::fs;
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use toolbox::cli::Cli;

/// Hidden subcommands that still have a manual page.
const HIDDEN_WITH_PAGE: [&str; 1] = ["init-container"];
/// Hidden subcommands without one.
const HIDDEN_WITHOUT_PAGE: [&str; 1] = ["completion"];

fn doc_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("doc")
}

fn page_path(page: &str, section: u8) -> PathBuf {
    doc_dir().join(format!("{page}.{section}.md"))
}

fn read_page(page: &str, section: u8) -> String {
    let path = page_path(page, section);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The subcommands that must have a page, by name.
fn commands_with_pages() -> Vec<clap::Command> {
    let root = Cli::command();
    let mut out = Vec::new();
    for sub in root.get_subcommands() {
        let name = sub.get_name();
        if sub.is_hide_set() {
            assert!(
                HIDDEN_WITH_PAGE.contains(&name) || HIDDEN_WITHOUT_PAGE.contains(&name),
                "hidden subcommand {name}: decide whether it gets a manual page"
            );
            if !HIDDEN_WITH_PAGE.contains(&name) {
                continue;
            }
        }
        out.push(sub.clone());
    }
    out
}

/// The long and short names of the options of `cmd` that users see,
/// without the global ones (those belong to toolbox(1)).
fn documented_flags(cmd: &clap::Command) -> Vec<(String, Option<char>)> {
    cmd.get_arguments()
        .filter(|a| !a.is_hide_set() && !a.is_global_set())
        .filter_map(|a| a.get_long().map(|l| (l.to_string(), a.get_short())))
        .collect()
}

/// The lines of the section `## title`, up to the next `## ` heading.
fn section<'a>(text: &'a str, title: &str) -> Vec<&'a str> {
    let heading = format!("## {title}");
    text.lines()
        .skip_while(|l| l.trim_end() != heading)
        .skip(1)
        .take_while(|l| !l.starts_with("## "))
        .collect()
}

/// The text of the NAME section: its first non-empty line.
fn name_line(text: &str) -> String {
    section(text, "NAME")
        .into_iter()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .to_string()
}

fn check_flags(page: &str, text: &str, flags: &[(String, Option<char>)]) {
    let options = section(text, "OPTIONS").join("\n");
    for (long, short) in flags {
        let long_md = format!("**--{long}**");
        assert!(
            options.contains(&long_md),
            "{page}: the OPTIONS section does not document {long_md}"
        );
        if let Some(short) = short {
            let short_md = format!("**-{short}**");
            assert!(
                options.contains(&short_md),
                "{page}: the OPTIONS section does not give {short_md} for --{long}"
            );
        }
    }
}

#[test]
fn every_command_with_a_page_has_one_documenting_its_options() {
    let commands = commands_with_pages();
    assert!(
        commands.len() >= 8,
        "expected create, enter, help, init-container, list, rm, rmi and run"
    );
    for cmd in &commands {
        let page = format!("toolbox-{}", cmd.get_name());
        assert!(
            page_path(&page, 1).is_file(),
            "missing {}",
            page_path(&page, 1).display()
        );
        let text = read_page(&page, 1);
        assert_eq!(
            text.lines().next(),
            Some(format!("% {page} 1").as_str()),
            "{page}: bad title line"
        );
        check_flags(&page, &text, &documented_flags(cmd));
    }
    for name in HIDDEN_WITHOUT_PAGE {
        assert!(
            !page_path(&format!("toolbox-{name}"), 1).exists(),
            "toolbox-{name} is not supposed to have a page"
        );
    }
}

#[test]
fn toolbox_page_documents_the_global_options_and_lists_the_commands() {
    let root = Cli::command();
    let text = read_page("toolbox", 1);
    assert_eq!(text.lines().next(), Some("% toolbox 1"));
    let globals: Vec<(String, Option<char>)> = root
        .get_arguments()
        .filter(|a| !a.is_hide_set())
        .filter_map(|a| a.get_long().map(|l| (l.to_string(), a.get_short())))
        .collect();
    for expected in [
        "assumeyes",
        "log-level",
        "log-podman",
        "verbose",
        "version",
        "help",
    ] {
        assert!(
            globals.iter().any(|(l, _)| l == expected),
            "--{expected} is no longer a global option: update this test and the page"
        );
    }
    check_flags("toolbox", &text, &globals);
    let commands = section(&text, "COMMANDS").join("\n");
    for cmd in commands_with_pages() {
        let reference = format!("**toolbox-{}**(1)", cmd.get_name());
        assert!(
            commands.contains(&reference),
            "toolbox(1): COMMANDS does not list {reference}"
        );
    }
}

#[test]
fn name_lines_match_the_about_texts() {
    let root = Cli::command();
    let about = root
        .get_about()
        .expect("the root command has an about text");
    assert_eq!(
        name_line(&read_page("toolbox", 1)),
        format!("toolbox - {about}")
    );
    // Pinned by upstream's 002-help.bats, whatever clap says.
    assert_eq!(
        name_line(&read_page("toolbox", 1)),
        "toolbox - Tool for interactive command line environments on Linux"
    );
    for cmd in commands_with_pages() {
        let page = format!("toolbox-{}", cmd.get_name());
        let about = cmd
            .get_about()
            .unwrap_or_else(|| panic!("{} has no about text", cmd.get_name()));
        assert_eq!(
            name_line(&read_page(&page, 1)),
            format!("{page} - {about}"),
            "{page}: NAME"
        );
    }
    let conf = read_page("toolbox.conf", 5);
    assert_eq!(conf.lines().next(), Some("% toolbox.conf 5"));
    assert!(name_line(&conf).starts_with("toolbox.conf - "));
}

#[test]
fn pages_have_the_usual_sections() {
    let mut pages: Vec<(String, u8)> = commands_with_pages()
        .iter()
        .map(|c| (format!("toolbox-{}", c.get_name()), 1))
        .collect();
    pages.push(("toolbox".into(), 1));
    pages.push(("toolbox.conf".into(), 5));
    for (page, section_number) in pages {
        let text = read_page(&page, section_number);
        let headings: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("## "))
            .map(str::trim)
            .collect();
        for wanted in [
            "NAME",
            "SYNOPSIS",
            "DESCRIPTION",
            "OPTIONS",
            "EXAMPLES",
            "SEE ALSO",
        ] {
            assert!(
                headings.contains(&wanted),
                "{page}({section_number}) has no {wanted} section"
            );
        }
        assert_eq!(headings.first(), Some(&"NAME"), "{page}: NAME comes first");
    }
}

/// Every `toolbox-X(1)` or `toolbox.conf(5)` a page mentions exists.
#[test]
fn cross_references_point_at_existing_pages() {
    let entries = fs::read_dir(doc_dir()).expect("doc/");
    for entry in entries {
        let path = entry.expect("dir entry").path();
        let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
            continue;
        };
        if !file.ends_with(".md") {
            continue;
        }
        let text = fs::read_to_string(&path).expect("page");
        let plain = text.replace('*', "");
        for (start, _) in plain.match_indices("toolbox") {
            let rest = &plain[start..];
            let name_len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '.'))
                .unwrap_or(rest.len());
            let (name, after) = rest.split_at(name_len);
            // A reference is NAME(N) with a one-digit section.
            let after = after.as_bytes();
            if after.len() < 3 || after[0] != b'(' || !after[1].is_ascii_digit() || after[2] != b')'
            {
                continue;
            }
            let section = after[1] - b'0';
            assert!(
                page_path(name, section).is_file(),
                "{file} refers to {name}({section}), which has no page in doc/"
            );
        }
    }
}

/// The table in CROSS-ARCHITECTURE CONTAINERS has one row per
/// architecture, with exactly the values `--arch` accepts.
#[test]
fn toolbox_page_lists_every_architecture_and_its_names() {
    let text = read_page("toolbox", 1);
    let body = section(&text, "CROSS-ARCHITECTURE CONTAINERS");
    assert!(
        !body.is_empty(),
        "toolbox(1) has no cross-architecture section"
    );
    let rows: Vec<Vec<String>> = body
        .iter()
        .filter(|l| l.starts_with('|') && !l.starts_with("|-") && !l.contains("Accepted values"))
        .map(|l| {
            l.trim()
                .trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect();
    assert_eq!(
        rows.len(),
        toolbox::arch::ROWS.len(),
        "one table row per architecture"
    );
    for arch_row in &toolbox::arch::ROWS {
        let row = rows
            .iter()
            .find(|r| r[0] == arch_row.oci || r[0].starts_with(&format!("{}/", arch_row.oci)))
            .unwrap_or_else(|| panic!("no table row for {}", arch_row.oci));
        let accepted: Vec<&str> = row[1].split(", ").collect();
        assert_eq!(
            accepted, arch_row.accepted,
            "accepted values of {}",
            arch_row.oci
        );
        assert_eq!(row[2], arch_row.uname, "uname -m of {}", arch_row.oci);
        assert_eq!(row[3], arch_row.qemu, "QEMU name of {}", arch_row.oci);
    }
    let whole = body.join("\n");
    for needed in ["6.7", "C flag", "F flag", "PATH", "binfmt_misc"] {
        assert!(
            whole.contains(needed),
            "toolbox(1) cross-arch section: {needed}"
        );
    }
}

/// Renders and installs into a scratch prefix, twice, when go-md2man is
/// there (the script would otherwise try apt-get as root).
#[test]
fn install_man_renders_every_page_idempotently() {
    let script = doc_dir().join("install-man");
    let mode = {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(&script)
            .expect("doc/install-man")
            .permissions()
            .mode()
    };
    assert_ne!(mode & 0o111, 0, "doc/install-man is not executable");
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join("go-md2man").is_file()))
        .unwrap_or(false);
    if !found {
        eprintln!("skipped: go-md2man is not installed");
        return;
    }
    let prefix = tempfile::tempdir().expect("tempdir");
    for _ in 0..2 {
        let out = std::process::Command::new(&script)
            .arg(prefix.path())
            .output()
            .expect("run doc/install-man");
        assert!(
            out.status.success(),
            "doc/install-man failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let man = prefix.path().join("share/man");
    let mut expected: Vec<PathBuf> = commands_with_pages()
        .iter()
        .map(|c| man.join(format!("man1/toolbox-{}.1.gz", c.get_name())))
        .collect();
    expected.push(man.join("man1/toolbox.1.gz"));
    expected.push(man.join("man5/toolbox.conf.5.gz"));
    for path in expected {
        let bytes = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(&bytes[..2], b"\x1f\x8b", "{} is not gzip", path.display());
    }
}
