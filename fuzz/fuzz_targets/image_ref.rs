//! Image references: domain, basename, tag, derived container name, full
//! name, and the whole name resolution with the text as --image.
#![no_main]

use libfuzzer_sys::fuzz_target;
use toolbox::{config::Config, distro, resolve};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = distro::image_domain(text);
    let _ = distro::image_basename(text);
    let _ = distro::image_tag(text);
    let name = distro::container_name_from_image(text);
    let _ = distro::is_valid_container_name(&name);
    let _ = distro::full_image_name(text, "40");
    let _ = distro::could_be_image_id(text);
    let host = distro::HostDistro {
        distro: "fedora".into(),
        release: "40".into(),
    };
    let req = resolve::Request {
        image: text,
        container_arg: "--container",
        ..Default::default()
    };
    let _ = resolve::resolve(&req, &Config::default(), &host);
    for d in distro::DISTROS {
        let _ = d.parse_release(text);
    }
    if let Some(arch) = toolbox::arch::Arch::host() {
        let _ = toolbox::foreign::local_image_name(text, arch);
    }
    let _ = toolbox::arch::Arch::from_tag(text);
});
