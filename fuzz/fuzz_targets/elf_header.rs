//! ELF headers and program header tables.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(info) = toolbox::arch::elf::inspect(data) {
        let _ = info.is_static();
        let _ = info.describe_machine();
    }
});
