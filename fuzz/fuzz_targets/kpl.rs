#![no_main]
//! The KPL de-aggregator (stream/src/kpl.rs, compiled here on its own) over arbitrary bytes.
#[path = "../../stream/src/kpl.rs"]
mod kpl;
#[path = "../checks/kpl.rs"]
mod checks;
libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::kpl(data));
