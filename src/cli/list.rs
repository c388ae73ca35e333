//! `toolbox list` (spec: cli.md §8).

use std::fmt::Write;
use std::io::IsTerminal;

use anyhow::{Result, anyhow};
use clap::Args;

use crate::cli::parse_go_bool;
use crate::podman::{self, Created, ImageEntry, PsEntry};

/// Flags of `toolbox list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// List only Toolbx containers, not images
    #[arg(short = 'c', long, num_args = 0..=1, require_equals = true,
          default_missing_value = "true", default_value = "false", value_parser = parse_go_bool)]
    pub containers: bool,
    /// List only Toolbx images, not containers
    #[arg(short = 'i', long, num_args = 0..=1, require_equals = true,
          default_missing_value = "true", default_value = "false", value_parser = parse_go_bool)]
    pub images: bool,
    /// Ignored, as upstream does.
    #[arg(hide = true)]
    pub ignored: Vec<String>,
}

/// One image row: (id, name, created).
pub type ImageRow = (String, String, String);

/// Flattens Toolbx images into one row per name, `<none>` for unnamed
/// ones, sorted by name bytewise.
pub fn image_rows(images: &[ImageEntry], now: i64) -> Vec<ImageRow> {
    let mut rows: Vec<ImageRow> = Vec::new();
    for image in images.iter().filter(|i| podman::is_toolbx(&i.labels)) {
        let created = created_text(image.created.as_ref(), now);
        let id: String = image.id.chars().take(12).collect();
        if image.names.is_empty() {
            rows.push((id, "<none>".to_string(), created));
        } else {
            for name in &image.names {
                rows.push((id.clone(), name.clone(), created.clone()));
            }
        }
    }
    rows.sort_by(|a, b| a.1.as_bytes().cmp(b.1.as_bytes()));
    rows
}

fn created_text(created: Option<&Created>, now: i64) -> String {
    match created {
        Some(Created::Seconds(t)) => format!("{} ago", human_duration(now - t)),
        Some(Created::Text(t)) => t.clone(),
        None => String::new(),
    }
}

/// go-units `HumanDuration` for a number of seconds.
pub fn human_duration(seconds: i64) -> String {
    let s = seconds;
    if s < 1 {
        return "Less than a second".to_string();
    }
    if s == 1 {
        return "1 second".to_string();
    }
    if s < 60 {
        return format!("{s} seconds");
    }
    let minutes = s / 60;
    if minutes == 1 {
        return "About a minute".to_string();
    }
    if minutes < 60 {
        return format!("{minutes} minutes");
    }
    let hours = (s as f64 / 3600.0).round() as i64;
    if hours == 1 {
        return "About an hour".to_string();
    }
    if hours < 48 {
        return format!("{hours} hours");
    }
    if hours < 24 * 7 * 2 {
        return format!("{} days", hours / 24);
    }
    if hours < 24 * 30 * 2 {
        return format!("{} weeks", hours / 24 / 7);
    }
    if hours < 24 * 365 * 2 {
        return format!("{} months", hours / 24 / 30);
    }
    format!("{} years", s / 3600 / 24 / 365)
}

/// Lays out rows: each column padded to its widest cell plus 2 spaces,
/// the last column unpadded.
pub fn table(rows: &[Vec<String>]) -> Vec<String> {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .map(|r| r.get(c).map_or(0, |s| s.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .map(|row| {
            let mut line = String::new();
            for (c, cell) in row.iter().enumerate() {
                if c + 1 == row.len() {
                    line.push_str(cell);
                } else {
                    line.push_str(cell);
                    line.push_str(&" ".repeat(widths[c] - cell.chars().count() + 2));
                }
            }
            line
        })
        .collect()
}

/// Container rows for Toolbx containers, in podman's order.
pub fn container_rows(containers: &[PsEntry], now: i64) -> Vec<(Vec<String>, bool)> {
    containers
        .iter()
        .filter(|c| podman::is_toolbx(&c.labels))
        .map(|c| {
            (
                vec![
                    c.id.chars().take(12).collect(),
                    c.name().to_string(),
                    created_text(c.created.as_ref(), now),
                    c.state_word().to_string(),
                    c.image.clone(),
                ],
                c.state_word() == "running",
            )
        })
        .collect()
}

/// Runs `toolbox list`.
pub fn run(args: &ListArgs) -> Result<()> {
    let (show_images, show_containers) = match (args.images, args.containers) {
        (true, false) => (true, false),
        (false, true) => (false, true),
        _ => (true, true),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    // The two podman calls are independent: run them side by side, so
    // `list` costs one podman start-up, not two. Errors keep upstream's
    // order (images first).
    let (images, containers) = std::thread::scope(|scope| {
        let ps = show_containers.then(|| scope.spawn(podman::ps));
        let images = show_images.then(podman::images);
        let containers = ps.map(|handle| handle.join().unwrap_or(Err(podman::PodmanError::Empty)));
        (images, containers)
    });
    let images = match images {
        Some(list) => {
            let list = list.map_err(|e| {
                tracing::debug!("Listing images: {e}");
                anyhow!("failed to get images")
            })?;
            image_rows(&list, now)
        }
        None => Vec::new(),
    };
    let containers = match containers {
        Some(list) => {
            let list = list.map_err(|e| {
                tracing::debug!("Listing containers: {e}");
                anyhow!("failed to get containers")
            })?;
            container_rows(&list, now)
        }
        None => Vec::new(),
    };
    // One write at the end, so a full or closed stdout is reported once.
    let mut out = String::new();
    let printed_images = !images.is_empty();
    if printed_images {
        let mut rows = vec![vec![
            "IMAGE ID".to_string(),
            "IMAGE NAME".into(),
            "CREATED".into(),
        ]];
        rows.extend(images.into_iter().map(|(a, b, c)| vec![a, b, c]));
        for line in table(&rows) {
            writeln!(out, "{line}")?;
        }
    }
    if !containers.is_empty() {
        if printed_images {
            writeln!(out)?;
        }
        let colour = std::io::stdout().is_terminal();
        let header = vec![
            "CONTAINER ID".to_string(),
            "CONTAINER NAME".into(),
            "CREATED".into(),
            "STATUS".into(),
            "IMAGE NAME".into(),
        ];
        let mut rows = vec![header];
        let running: Vec<bool> = std::iter::once(false)
            .chain(containers.iter().map(|c| c.1))
            .collect();
        rows.extend(containers.into_iter().map(|c| c.0));
        for (line, running) in table(&rows).into_iter().zip(running) {
            if colour {
                let start = if running && crate::session::podman_version_at_least("2.0.0") {
                    "\x1b[1;32m"
                } else {
                    "\x1b[0;00m"
                };
                writeln!(out, "{start}{line}\x1b[0m")?;
            } else {
                writeln!(out, "{line}")?;
            }
        }
    }
    crate::output::out_or_fail(format_args!("{out}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(human_duration(0), "Less than a second");
        assert_eq!(human_duration(-5), "Less than a second");
        assert_eq!(human_duration(1), "1 second");
        assert_eq!(human_duration(59), "59 seconds");
        assert_eq!(human_duration(60), "About a minute");
        assert_eq!(human_duration(119), "About a minute");
        assert_eq!(human_duration(120), "2 minutes");
        assert_eq!(human_duration(3600), "About an hour");
        assert_eq!(human_duration(3 * 3600), "3 hours");
        assert_eq!(human_duration(3 * 86400), "3 days");
        assert_eq!(human_duration(15 * 86400), "2 weeks");
        assert_eq!(human_duration(90 * 86400), "3 months");
        assert_eq!(human_duration(800 * 86400), "2 years");
    }

    #[test]
    fn table_pads_all_but_last() {
        let rows = vec![
            vec!["A".to_string(), "BB".into(), "C".into()],
            vec!["aaaa".to_string(), "b".into(), "c".into()],
        ];
        assert_eq!(table(&rows), vec!["A     BB  C", "aaaa  b   c"]);
    }

    #[test]
    fn images_flatten_and_sort() {
        let json = r#"[
            {"Id":"bbbbbbbbbbbbbbbb","Names":["x-copy:1","x:1"],"Created":0,"Labels":{"com.github.containers.toolbox":"true"}},
            {"Id":"aaaaaaaaaaaaaaaa","Names":null,"Created":0,"Labels":{"com.github.containers.toolbox":"true"}},
            {"Id":"cccccccccccccccc","Names":["busybox"],"Created":0,"Labels":{}}
        ]"#;
        let images: Vec<ImageEntry> = serde_json::from_str(json).unwrap();
        let rows = image_rows(&images, 10);
        let names: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
        assert_eq!(names, ["<none>", "x-copy:1", "x:1"]);
        assert_eq!(rows[0].0, "aaaaaaaaaaaa");
        assert_eq!(rows[0].2, "10 seconds ago");
    }
}
