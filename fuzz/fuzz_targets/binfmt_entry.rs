//! binfmt_misc entry text and registration strings.
#![no_main]

use libfuzzer_sys::fuzz_target;
use toolbox::arch::{Arch, binfmt};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(entry) = binfmt::parse_entry(&text) {
        for arch in Arch::ALL {
            let _ = entry.matches(arch);
        }
    }
    let _ = binfmt::kernel_entry_text(&text);
    let _ = binfmt::is_initial_user_namespace(&text);
});
