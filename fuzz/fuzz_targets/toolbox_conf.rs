//! toolbox.conf TOML.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let mut config = toolbox::config::Config::default();
        let _ = toolbox::config::merge(&mut config, text);
    }
});
