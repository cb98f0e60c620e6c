#![no_main]
//! `locate(text, pointer)` over arbitrary text and pointers.
#[allow(dead_code)]
#[path = "../checks/gen.rs"]
mod gen;
#[path = "../checks/core.rs"]
mod checks;
libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::locate_any(data));
