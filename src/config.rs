//! `toolbox.conf`: `/etc/containers/toolbox.conf`, then the user's
//! `containers/toolbox.conf`, merged key by key (spec: cli.md §3.4).

use std::path::{Path, PathBuf};

/// The `[general]` values that are set in any file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// `general.distro`
    pub distro: Option<String>,
    /// `general.release`
    pub release: Option<String>,
    /// `general.image`
    pub image: Option<String>,
}

/// Why the configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Neither `XDG_CONFIG_HOME` nor `HOME` is usable.
    #[error("failed to get the user config directory")]
    NoConfigDir,
    /// Bad TOML.
    #[error("failed to parse file {}", .path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        #[source]
        source: toml::de::Error,
    },
    /// An I/O error other than not-found.
    #[error("failed to read file {}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// The user config directory: `$XDG_CONFIG_HOME`, else `$HOME/.config`.
pub fn user_config_dir() -> Result<PathBuf, ConfigError> {
    if let Some(dir) = std::env::var_os("XDG_CONFIG_HOME").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        return if dir.is_absolute() {
            Ok(dir)
        } else {
            Err(ConfigError::NoConfigDir)
        };
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| Path::new(&h).join(".config"))
        .ok_or(ConfigError::NoConfigDir)
}

/// Reads and merges both files.
pub fn load() -> Result<Config, ConfigError> {
    let user = user_config_dir()?.join("containers/toolbox.conf");
    let mut config = Config::default();
    for path in [PathBuf::from("/etc/containers/toolbox.conf"), user] {
        match std::fs::read_to_string(&path) {
            Ok(text) => merge(&mut config, &text).map_err(|source| ConfigError::Parse {
                path: path.clone(),
                source,
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(ConfigError::Read { path, source }),
        }
    }
    Ok(config)
}

/// Merges one file's text into `config`; later files win.
pub fn merge(config: &mut Config, text: &str) -> Result<(), toml::de::Error> {
    let table: toml::Table = text.parse()?;
    let Some(general) = table
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("general"))
        .and_then(|(_, v)| v.as_table())
    else {
        return Ok(());
    };
    for (key, value) in general {
        let text = match value {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            _ => continue,
        };
        match key.to_ascii_lowercase().as_str() {
            "distro" => config.distro = Some(text),
            "release" => config.release = Some(text),
            "image" => config.image = Some(text),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_key_by_key() {
        let mut c = Config::default();
        merge(&mut c, "[general]\ndistro = \"fedora\"\nrelease = 39\n").unwrap();
        merge(&mut c, "[General]\nRelease = \"40\"\n").unwrap();
        assert_eq!(c.distro.as_deref(), Some("fedora"));
        assert_eq!(c.release.as_deref(), Some("40"));
        assert_eq!(c.image, None);
    }

    #[test]
    fn bad_toml_is_an_error() {
        assert!(merge(&mut Config::default(), "[general\n").is_err());
    }
}
