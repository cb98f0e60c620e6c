#![no_main]
//! Arbitrary bytes as JSON text: validate_create_json / validate_update_json / locate.
#[allow(dead_code)]
#[path = "../checks/gen.rs"]
mod gen;
#[path = "../checks/core.rs"]
mod checks;
libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::text(data));
