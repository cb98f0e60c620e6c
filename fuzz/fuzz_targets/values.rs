#![no_main]
//! Arbitrary JSON values (from a byte-driven generator) through every function of the core API.
#[allow(dead_code)]
#[path = "../checks/gen.rs"]
mod gen;
#[path = "../checks/core.rs"]
mod checks;
libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::values(data));
