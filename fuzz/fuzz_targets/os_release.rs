//! /etc/os-release text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = toolbox::distro::parse_os_release(text);
        let _ = toolbox::distro::host_from_os_release(Some(text));
    }
});
