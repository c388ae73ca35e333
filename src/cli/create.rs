//! `toolbox create` (spec: cli.md §4, podman.md §4.1, §5).

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow};
use clap::Args;

use crate::arch::Arch;
use crate::context::Ctx;
use crate::distro;
use crate::error::{ExitError, with_usage};
use crate::exec::ExecError;
use crate::foreign;
use crate::podman::{self, CreateSpec, ForeignSpec};
use crate::progress::Spinner;
use crate::resolve::{self, Request, Resolved};

/// Flags of `toolbox create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Path to a file with credentials for authenticating to the registry for private images
    #[arg(long, allow_hyphen_values = true, value_name = "FILE")]
    pub authfile: Option<String>,
    /// Assign a different name to the Toolbx container
    #[arg(
        short = 'c',
        long,
        allow_hyphen_values = true,
        value_name = "CONTAINER"
    )]
    pub container: Option<String>,
    /// Create a Toolbx container for a different operating system distribution than the host
    #[arg(short = 'd', long, allow_hyphen_values = true, value_name = "DISTRO")]
    pub distro: Option<String>,
    /// Change the name of the base image used to create the Toolbx container
    #[arg(short = 'i', long, allow_hyphen_values = true, value_name = "NAME")]
    pub image: Option<String>,
    /// Create a Toolbx container for a different operating system release than the host
    #[arg(short = 'r', long, allow_hyphen_values = true, value_name = "RELEASE")]
    pub release: Option<String>,
    /// Create a Toolbx container for a different architecture than the host
    #[arg(
        short = 'a',
        long,
        allow_hyphen_values = true,
        value_name = "ARCHITECTURE"
    )]
    pub arch: Option<String>,
    /// The container's name; extra words are ignored as upstream does.
    #[arg(value_name = "CONTAINER")]
    pub names: Vec<String>,
}

/// Runs `toolbox create`.
pub fn run(args: &CreateArgs, ctx: &Ctx) -> Result<()> {
    if args.distro.is_some() && args.image.is_some() {
        return Err(with_usage(
            "options --distro and --image cannot be used together",
        ));
    }
    if args.image.is_some() && args.release.is_some() {
        return Err(with_usage(
            "options --image and --release cannot be used together",
        ));
    }
    if let Some(file) = &args.authfile
        && let Err(e) = std::fs::metadata(file)
        && e.kind() == std::io::ErrorKind::NotFound
    {
        return Err(with_usage(format!(
            "file {file} not found\n'podman login' can be used to create the file."
        )));
    }
    let (container, arg_name) = match (args.names.first(), &args.container) {
        (Some(name), _) => (name.as_str(), "CONTAINER"),
        (None, Some(name)) => (name.as_str(), "--container"),
        (None, None) => ("", "--container"),
    };
    let req = Request {
        container,
        container_arg: arg_name,
        distro: args.distro.as_deref().unwrap_or(""),
        image: args.image.as_deref().unwrap_or(""),
        release: args.release.as_deref().unwrap_or(""),
    };
    let mut resolved = resolve::resolve(&req, &ctx.config, &ctx.host).map_err(with_usage)?;
    let arch = foreign::resolve(args.arch.as_deref(), &resolved.image)?;
    if let Some(arch) = arch
        && container.is_empty()
    {
        resolved.container = foreign::container_name(&resolved.container, &resolved.image, arch);
    }
    tracing::debug!(
        "Resolved container name {}, image {} (full name {}), release {}, architecture {}",
        resolved.container,
        resolved.image,
        distro::full_image_name(&resolved.image, &resolved.release).unwrap_or_default(),
        resolved.release,
        arch.map_or(crate::arch::host_oci_name(), |a| a.oci_name())
    );
    match podman::container_exists(&resolved.container) {
        Ok(true) => {
            return Err(with_usage(format!(
                "container {} already exists\nEnter with: {}",
                resolved.container,
                ctx.enter_command(&resolved.container)
            )));
        }
        Ok(false) => {}
        Err(ExecError::NotFound { .. }) => return Err(anyhow!("podman(1) not found")),
        Err(e) => return Err(anyhow!("{e}")),
    }
    if create_container(ctx, &resolved, arch, args.authfile.as_deref())? {
        // The container exists whether or not this can be printed.
        let _ = crate::outln!(
            "Created container: {}\nEnter with: {}",
            resolved.container,
            ctx.enter_command(&resolved.container)
        );
    }
    Ok(())
}

/// Gets the image and creates the container, of `arch` when foreign.
/// Returns false when the user declined the download (nothing was created).
pub fn create_container(
    ctx: &Ctx,
    resolved: &Resolved,
    arch: Option<Arch>,
    authfile: Option<&str>,
) -> Result<bool> {
    let (image, emulation) = match arch {
        None => match ensure_image(ctx, resolved, authfile)? {
            Some((image, info)) => {
                // A foreign image would make a container that cannot run
                // its programs without emulation set up for it.
                if let (Some(host), Some(info)) = (Arch::host(), &info) {
                    foreign::check_image_arch(&image, info, host)?;
                }
                (full_name_for_create(&image, info)?, None)
            }
            None => return Ok(false),
        },
        Some(arch) => {
            // Every host check passes before anything is pulled or created.
            let emulation = foreign::check_host(
                arch,
                ctx.user.uid != 0,
                Path::new(foreign::HOST_BINFMT_MISC),
            )?;
            match ensure_foreign_image(ctx, resolved, arch, authfile)? {
                Some(image) => (full_name_for_create(&image, None)?, Some((arch, emulation))),
                None => return Ok(false),
            }
        }
    };
    let mut spec = build_spec(ctx, &resolved.container, &image)?;
    if let Some((arch, emulation)) = emulation {
        spec.arch = arch.oci_name().to_string();
        spec.foreign = Some(ForeignSpec {
            arch: arch.oci_name().to_string(),
            emulator: match emulation {
                foreign::Emulation::Qemu(path) => Some(path),
                foreign::Emulation::Native => None,
            },
        });
    }
    let name = resolved.container.as_str();
    let spinner = Spinner::start(&format!("Creating container {name}: "));
    tracing::debug!("Creating container {name}");
    let deferred = crate::interrupt::Deferred::new();
    let created = podman::cmd()
        .args(podman::create_args(&spec))
        .own_process_group()
        .run();
    drop(spinner);
    if let Some(sig) = deferred.pending() {
        // Interrupted: finish by undoing, so no half-made container stays.
        if created.is_ok() {
            let _ = podman::rm(name, true);
        }
        drop(deferred);
        crate::interrupt::die_of(sig);
    }
    drop(deferred);
    created.map_err(|e| {
        // Another toolbox created it meanwhile: upstream's message.
        if podman::container_exists(name).unwrap_or(false) {
            return with_usage(format!(
                "container {name} already exists\nEnter with: {}",
                ctx.enter_command(name)
            ));
        }
        // Ours: podman's reason follows upstream's line (podman.md smell 4).
        let reason = e.stderr().trim().to_string();
        if reason.is_empty() {
            anyhow!("failed to create container {name}")
        } else {
            anyhow!("failed to create container {name}\n{reason}")
        }
    })?;
    Ok(true)
}

/// A local image by name or ID: one `podman inspect` answers whether it
/// exists and what it is.
fn local_image(image: &str) -> Result<Option<podman::ImageInfo>> {
    match podman::inspect_image(image) {
        Ok(info) => Ok(Some(info)),
        Err(podman::PodmanError::Exec(ExecError::NotFound { .. })) => {
            Err(anyhow!("podman(1) not found"))
        }
        Err(e) if podman::is_missing(&e) => Ok(None),
        Err(e) => {
            tracing::debug!("Inspecting image {image}: {e}");
            Ok(None)
        }
    }
}

/// The image to create from, pulling it if needed (cli.md §4.1), with what
/// podman knows of it when it was found locally. `None` when the user
/// declined the download.
fn ensure_image(
    ctx: &Ctx,
    resolved: &Resolved,
    authfile: Option<&str>,
) -> Result<Option<(String, Option<podman::ImageInfo>)>> {
    let image = resolved.image.as_str();
    if distro::could_be_image_id(image)
        && let Some(info) = local_image(image)?
    {
        return Ok(Some((image.to_string(), Some(info))));
    }
    let domain = distro::image_domain(image);
    // Ours: the name that was found, not the short one, goes on to
    // `podman create`; upstream inspects the short name and may pick
    // another tag of the same image (podman.md smell 20).
    if domain.is_none() {
        let local = format!("localhost/{image}");
        if let Some(info) = local_image(&local)? {
            return Ok(Some((local, Some(info))));
        }
    }
    let full = distro::full_image_name(image, &resolved.release)
        .ok_or_else(|| anyhow!("image {image} not found in local storage and known registries"))?;
    if let Some(info) = local_image(&full)? {
        return Ok(Some((full, Some(info))));
    }
    let full_domain = distro::image_domain(&full).unwrap_or("");
    let question = || match crate::skopeo::image_size(&full) {
        Some(size) => format!(
            "Download {full} ({})? [y/N]: ",
            crate::skopeo::human_size(size)
        ),
        None => format!("Download {full}? [y/N]: "),
    };
    if !download_agreed(ctx, full_domain, question)? {
        return Ok(None);
    }
    pull(&full, full_domain, authfile)?;
    Ok(Some((full, None)))
}

/// The local image for a foreign container: a local one whose architecture
/// is checked, or a copy of the registry's instance for `arch` under an
/// arch-suffixed name. `None` when the user declined the download.
fn ensure_foreign_image(
    ctx: &Ctx,
    resolved: &Resolved,
    arch: Arch,
    authfile: Option<&str>,
) -> Result<Option<String>> {
    let image = resolved.image.as_str();
    // As for native images, one inspect per candidate says whether it is
    // there and what architecture it is.
    let usable = |name: &str| -> Result<Option<String>> {
        match local_image(name)? {
            Some(info) => {
                foreign::check_image_arch(name, &info, arch)?;
                Ok(Some(name.to_string()))
            }
            None => Ok(None),
        }
    };
    if distro::could_be_image_id(image)
        && let Some(found) = usable(image)?
    {
        return Ok(Some(found));
    }
    if distro::image_domain(image).is_none()
        && let Some(found) = usable(&format!("localhost/{image}"))?
    {
        return Ok(Some(found));
    }
    let full = distro::full_image_name(image, &resolved.release)
        .ok_or_else(|| anyhow!("image {image} not found in local storage and known registries"))?;
    // A localhost image cannot be fetched for another architecture: it is
    // what it is.
    if distro::image_domain(&full) == Some("localhost")
        && let Some(found) = usable(&full)?
    {
        return Ok(Some(found));
    }
    let local = foreign::local_image_name(&full, arch)?;
    if let Some(found) = usable(&local)? {
        return Ok(Some(found));
    }
    // Know that the download can work before asking for it.
    {
        let _spinner = Spinner::start("Fetching non-native architecture image info: ");
        foreign::check_remote(&full, arch, authfile)?;
    }
    let domain = distro::image_domain(&full).unwrap_or("");
    let question = || format!("Download {full} for {}? [y/N]: ", arch.oci_name());
    if !download_agreed(ctx, domain, question)? {
        return Ok(None);
    }
    foreign::pull(&full, &local, arch, authfile)?;
    Ok(Some(local))
}

/// The download prompt (cli.md §4.1): nothing to ask with `-y` or for a
/// localhost image, a refusal without a terminal, else the user's answer.
/// `question` is only worked out when it is asked (it may query skopeo).
fn download_agreed(ctx: &Ctx, domain: &str, question: impl FnOnce() -> String) -> Result<bool> {
    if ctx.assumeyes || domain == "localhost" {
        return Ok(true);
    }
    if !crate::prompt::interactive() {
        return Err(with_usage(
            "image required to create Toolbx container.\nUse option '--assumeyes' to download the image.",
        ));
    }
    let _ = crate::outln!("Image required to create Toolbx container.");
    Ok(crate::prompt::ask(&question()))
}

fn pull(full: &str, domain: &str, authfile: Option<&str>) -> Result<()> {
    let _spinner = Spinner::start(&format!("Pulling {full}: "));
    tracing::debug!("Pulling image {full}");
    let mut cmd = podman::cmd().arg("pull");
    if let Some(f) = authfile {
        cmd = cmd.args(["--authfile", f]);
    }
    cmd.arg(full).run().map_err(|e| {
        tracing::debug!("Pulling {full}: {e}");
        anyhow::Error::new(ExitError::new(
            1,
            format!(
                "failed to pull image {full}\nIf it was a private image, log in with: podman login {domain}\nUse '{} --verbose ...' for further details.",
                crate::host::base_name()
            ),
        ))
    })?;
    Ok(())
}

/// The name `podman create` gets (cli.md §4.3).
fn full_name_for_create(image: &str, known: Option<podman::ImageInfo>) -> Result<String> {
    if distro::image_domain(image).is_some() {
        return Ok(image.to_string());
    }
    let info = match known {
        Some(info) => info,
        None => podman::inspect_image(image).map_err(|e| {
            tracing::debug!("Inspecting image {image}: {e}");
            anyhow!("failed to inspect image {image}")
        })?,
    };
    match info.repo_tags {
        None => Err(anyhow!("missing RepoTags for image {image}")),
        Some(tags) if tags.is_empty() => Ok(image.to_string()),
        Some(tags) => Ok(tags
            .iter()
            .find(|t| distro::image_tag(t) != "latest")
            .unwrap_or(&tags[0])
            .clone()),
    }
}

/// The D-Bus system socket from `DBUS_SYSTEM_BUS_ADDRESS`, reading its
/// `path=` key properly (upstream rejects addresses with several keys,
/// cli.md §16 #13).
pub fn dbus_system_socket(address: Option<&str>) -> Result<PathBuf> {
    let address = address.unwrap_or("unix:path=/var/run/dbus/system_bus_socket");
    let path = address
        .split(';')
        .filter_map(|a| a.strip_prefix("unix:"))
        .flat_map(|kv| kv.split(','))
        .find_map(|kv| kv.strip_prefix("path="))
        .ok_or_else(|| anyhow!("failed to get the path to the D-Bus system socket"))?;
    std::fs::canonicalize(path)
        .map_err(|_| anyhow!("failed to resolve the path to the D-Bus system socket"))
}

fn resolves_to(path: &str, target: &str) -> bool {
    std::fs::canonicalize(path).is_ok_and(|p| p == Path::new(target))
}

fn build_spec(ctx: &Ctx, name: &str, image: &str) -> Result<CreateSpec> {
    let user = &ctx.user;
    let shell = crate::host::login_shell(user)?;
    let home_real = std::fs::canonicalize(&user.home)
        .map_err(|_| anyhow!("failed to canonicalize {}", user.home.display()))?;
    let dbus = dbus_system_socket(std::env::var("DBUS_SYSTEM_BUS_ADDRESS").ok().as_deref())?;
    let xdg_runtime_dir = if user.uid == 0 {
        None
    } else {
        Some(
            crate::host::runtime_dir(user.uid)?
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default(),
        )
    };
    if user.uid == 0 {
        crate::host::ensure_runtime_dir(user)?;
    }
    let profile_d = [
        "/etc/profile.d/toolbox.sh",
        "/usr/share/profile.d/toolbox.sh",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists());
    let env_hook = |k| std::env::var(k).ok();
    let media_link = resolves_to("/media", "/run/media");
    let mnt_link = resolves_to("/mnt", "/var/mnt");
    Ok(CreateSpec {
        name: name.to_string(),
        image: image.to_string(),
        toolbox_path: ctx.toolbox_path.clone(),
        user: user.name.clone(),
        uid: user.uid,
        gid: user.gid,
        home: user.home.clone(),
        home_real,
        shell,
        xdg_runtime_dir,
        dbus_system_socket: Some(dbus),
        devpts: crate::session::podman_version_at_least("2.1.0"),
        delay_entry_point: env_hook("TOOLBX_DELAY_ENTRY_POINT"),
        fail_entry_point: env_hook("TOOLBX_FAIL_ENTRY_POINT"),
        media: Path::new("/media").exists() && !media_link,
        mnt: Path::new("/mnt").exists() && !mnt_link,
        run_media: Path::new("/run/media").exists(),
        profile_d,
        home_link: resolves_to("/home", "/var/home"),
        media_link,
        mnt_link,
        arch: crate::arch::host_oci_name().to_string(),
        foreign: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dbus_address_with_several_keys() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("bus");
        std::fs::write(&sock, "").unwrap();
        let addr = format!("unix:path={},guid=abc", sock.display());
        assert_eq!(
            dbus_system_socket(Some(&addr)).unwrap(),
            sock.canonicalize().unwrap()
        );
        assert!(dbus_system_socket(Some("unix:abstract=foo")).is_err());
        let missing = "unix:path=/nonexistent/bus";
        assert_eq!(
            dbus_system_socket(Some(missing)).unwrap_err().to_string(),
            "failed to resolve the path to the D-Bus system socket"
        );
    }
}
