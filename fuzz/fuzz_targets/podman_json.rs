//! podman's JSON for version, ps, images and inspect, and skopeo's.
#![no_main]

use libfuzzer_sys::fuzz_target;
use toolbox::podman::{ContainerInfo, ImageEntry, ImageInfo, PsEntry};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = toolbox::podman::parse_version(text);
    if let Ok(list) = serde_json::from_str::<Vec<PsEntry>>(text) {
        for c in &list {
            let _ = (c.name(), c.state_word(), toolbox::podman::is_toolbx(&c.labels));
        }
        let _ = toolbox::cli::list::container_rows(&list, 0);
    }
    if let Ok(list) = serde_json::from_str::<Vec<ImageEntry>>(text) {
        let _ = toolbox::cli::list::image_rows(&list, i64::MAX);
    }
    let _ = serde_json::from_str::<Vec<ContainerInfo>>(text);
    let _ = serde_json::from_str::<Vec<ImageInfo>>(text);
    let _ = toolbox::skopeo::parse_manifest_list(text);
    let _ = toolbox::skopeo::parse_platform(text);
    let _ = toolbox::skopeo::parse_size(text);
});
