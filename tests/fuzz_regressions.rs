//! Every input the fuzzers keep (fuzz/corpus/<target>/, minimized) and every input that once
//! crashed (fuzz/regressions/<target>/) runs through the fuzz targets' checks here, in the
//! ordinary test suite, so a fixed crash stays fixed without a nightly toolchain.

#[path = "../fuzz/checks/core.rs"]
mod checks;
#[path = "../fuzz/checks/gen.rs"]
mod gen;

use std::path::Path;

fn each_input(target: &str, check: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut count = 0;
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let outcome = std::panic::catch_unwind(|| check(&data));
            assert!(outcome.is_ok(), "{} fails its check", path.display());
            count += 1;
        }
    }
    assert!(count > 0, "no kept inputs for fuzz target {target}");
}

#[test]
fn text_inputs() {
    each_input("text", checks::text);
}

#[test]
fn value_inputs() {
    each_input("values", checks::values);
}

#[test]
fn locate_inputs() {
    each_input("locate", checks::locate_any);
}
