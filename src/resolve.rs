//! Resolving the container name, image and release from the command line,
//! the configuration and the host (spec: cli.md §3.5).

use crate::config::Config;
use crate::distro::{self, HostDistro, NAME_REGEX};

/// What the user asked for.
#[derive(Debug, Clone, Default)]
pub struct Request<'a> {
    /// The container name (positional or `--container`), "" if not given.
    pub container: &'a str,
    /// Which option named the container, for messages.
    pub container_arg: &'a str,
    /// `--distro`
    pub distro: &'a str,
    /// `--image`
    pub image: &'a str,
    /// `--release`
    pub release: &'a str,
}

/// The outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The container name.
    pub container: String,
    /// The image, possibly unqualified.
    pub image: String,
    /// The release.
    pub release: String,
    /// The distro.
    pub distro: String,
}

/// A resolution failure; each displays as upstream's lines before the
/// usage hint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// E-distro
    #[error("invalid argument for '--distro'\nDistribution {0} is unsupported.")]
    Distro(String),
    /// E-norelease
    #[error("option '--release' is needed\nDistribution {0} doesn't match the host.")]
    NoRelease(String),
    /// E-release
    #[error("invalid argument for '--release'\n{0}")]
    Release(&'static str),
    /// E-container
    #[error("invalid argument for '{0}'\nContainer names must match '{NAME_REGEX}'.")]
    Container(String),
    /// E-imagename
    #[error(
        "invalid argument for '--image'\nContainer name {0} generated from image is invalid.\nContainer names must match '{NAME_REGEX}'."
    )]
    ImageName(String),
    /// E-nobasename
    #[error("invalid argument for '--image'\nImages must have basenames.")]
    NoBasename,
}

/// Runs the algorithm of cli.md §3.5.
pub fn resolve(
    req: &Request,
    config: &Config,
    host: &HostDistro,
) -> Result<Resolved, ResolveError> {
    let distro_name = if !req.distro.is_empty() {
        req.distro.to_string()
    } else if let Some(cd) = &config.distro {
        cd.clone()
    } else {
        host.distro.clone()
    };
    let distro =
        distro::find(&distro_name).ok_or_else(|| ResolveError::Distro(distro_name.clone()))?;

    let release = if distro_name == host.distro {
        pick(req.release, config.release.as_deref(), &host.release)
    } else if distro.needs_release {
        if req.release.is_empty() && config.release.is_none() {
            return Err(ResolveError::NoRelease(distro_name));
        }
        pick(req.release, config.release.as_deref(), "")
    } else if !req.distro.is_empty() {
        req.release.to_string()
    } else {
        pick(req.release, config.release.as_deref(), "")
    };
    let release = distro
        .parse_release(&release)
        .map_err(ResolveError::Release)?;

    let (image, release) = if req.image.is_empty() {
        match &config.image {
            Some(ci) if req.distro.is_empty() && req.release.is_empty() => {
                let tag = distro::image_tag(ci);
                let release = if tag.is_empty() {
                    config
                        .release
                        .clone()
                        .unwrap_or_else(|| host.release.clone())
                } else {
                    tag.to_string()
                };
                (ci.clone(), release)
            }
            _ => (format!("{}:{}", distro.image, release), release),
        }
    } else {
        let tag = distro::image_tag(req.image);
        let release = if tag.is_empty() {
            config
                .release
                .clone()
                .unwrap_or_else(|| host.release.clone())
        } else {
            tag.to_string()
        };
        (req.image.to_string(), release)
    };

    let container = if req.container.is_empty() {
        if distro::image_basename(&image).is_empty() {
            return Err(ResolveError::NoBasename);
        }
        let name = distro::container_name_from_image(&image);
        if !distro::is_valid_container_name(&name) {
            return Err(ResolveError::ImageName(name));
        }
        name
    } else {
        if !distro::is_valid_container_name(req.container) {
            return Err(ResolveError::Container(req.container_arg.to_string()));
        }
        req.container.to_string()
    };

    Ok(Resolved {
        container,
        image,
        release,
        distro: distro_name,
    })
}

fn pick(given: &str, config: Option<&str>, host: &str) -> String {
    if !given.is_empty() {
        given.to_string()
    } else {
        config.unwrap_or(host).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(d: &str, r: &str) -> HostDistro {
        HostDistro {
            distro: d.to_string(),
            release: r.to_string(),
        }
    }

    fn run(req: Request, h: &HostDistro) -> Result<Resolved, ResolveError> {
        resolve(&req, &Config::default(), h)
    }

    #[test]
    fn table_of_cli_md() {
        let f40 = host("fedora", "40");
        let r = run(Request::default(), &f40).unwrap();
        assert_eq!(
            (r.image.as_str(), r.container.as_str()),
            ("fedora-toolbox:40", "fedora-toolbox-40")
        );
        let r = run(
            Request {
                distro: "fedora",
                release: "f39",
                ..Default::default()
            },
            &f40,
        )
        .unwrap();
        assert_eq!(
            (r.image.as_str(), r.container.as_str()),
            ("fedora-toolbox:39", "fedora-toolbox-39")
        );
        let r = run(
            Request {
                distro: "rhel",
                release: "8.10",
                ..Default::default()
            },
            &f40,
        )
        .unwrap();
        assert_eq!(
            (r.image.as_str(), r.container.as_str()),
            ("toolbox:8.10", "rhel-toolbox-8.10")
        );
        let r = run(
            Request {
                distro: "arch",
                ..Default::default()
            },
            &f40,
        )
        .unwrap();
        assert_eq!(
            (r.image.as_str(), r.container.as_str()),
            ("arch-toolbox:latest", "arch-toolbox-latest")
        );
        let r = run(
            Request {
                image: "quay.io/foo/bar:1.0",
                ..Default::default()
            },
            &f40,
        )
        .unwrap();
        assert_eq!(r.container, "bar-1.0");
        let debian = host("fedora", "44");
        let r = run(Request::default(), &debian).unwrap();
        assert_eq!(r.container, "fedora-toolbox-44");
    }

    #[test]
    fn errors() {
        let f40 = host("fedora", "40");
        assert_eq!(
            run(
                Request {
                    distro: "alpine",
                    release: "35",
                    ..Default::default()
                },
                &f40
            ),
            Err(ResolveError::Distro("alpine".into()))
        );
        assert_eq!(
            run(
                Request {
                    distro: "ubuntu",
                    ..Default::default()
                },
                &f40
            ),
            Err(ResolveError::NoRelease("ubuntu".into()))
        );
        assert_eq!(
            run(
                Request {
                    container: "dev:box",
                    container_arg: "CONTAINER",
                    ..Default::default()
                },
                &f40
            )
            .unwrap_err()
            .to_string(),
            "invalid argument for 'CONTAINER'\nContainer names must match '[a-zA-Z0-9][a-zA-Z0-9_.-]*'."
        );
        assert!(matches!(
            run(
                Request {
                    image: "ßpeci@l.N@m€",
                    ..Default::default()
                },
                &f40
            ),
            Err(ResolveError::ImageName(_))
        ));
    }

    #[test]
    fn config_image_applies_without_distro_or_release() {
        let config = Config {
            image: Some("localhost/toolbox-testenv:amd64".into()),
            ..Default::default()
        };
        let r = resolve(&Request::default(), &config, &host("fedora", "44")).unwrap();
        assert_eq!(r.container, "toolbox-testenv-amd64");
        assert_eq!(r.release, "amd64");
    }
}
