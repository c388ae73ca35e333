//! Remote image inspection with skopeo, for the download size.

use serde::Deserialize;

use crate::exec::Cmd;

#[derive(Deserialize)]
struct Inspect {
    #[serde(rename = "LayersData", default)]
    layers_data: Option<Vec<Layer>>,
}

#[derive(Deserialize)]
struct Layer {
    #[serde(rename = "Size", default)]
    size: f64,
}

/// The download size of a remote image, if skopeo is there and knows it.
pub fn image_size(image: &str) -> Option<u64> {
    let out = Cmd::new("skopeo")
        .args(["inspect", "--format", "json", "--no-tags"])
        .arg(format!("docker://{image}"))
        .run_stdout()
        .ok()?;
    parse_size(&out)
}

/// Sums `LayersData[].Size`.
pub fn parse_size(json: &str) -> Option<u64> {
    let inspect: Inspect = serde_json::from_str(json).ok()?;
    let layers = inspect.layers_data?;
    Some(layers.iter().map(|l| l.size).sum::<f64>() as u64)
}

/// go-units `HumanSize`: decimal units, 4 significant digits, no space.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    let text = format!("{value:.4}");
    let digits = if value >= 1000.0 {
        0
    } else if value >= 100.0 {
        1
    } else if value >= 10.0 {
        2
    } else {
        3
    };
    let _ = text;
    let rounded = format!("{value:.digits$}");
    let trimmed = if rounded.contains('.') {
        rounded
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    } else {
        rounded
    };
    format!("{trimmed}{}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(human_size(999), "999B");
        assert_eq!(human_size(294_100_000), "294.1MB");
        assert_eq!(human_size(1_234_000_000), "1.234GB");
        assert_eq!(
            parse_size(r#"{"LayersData":[{"Size":1000},{"Size":500}]}"#),
            Some(1500)
        );
        assert_eq!(parse_size(r#"{"Name":"x"}"#), None);
    }
}
