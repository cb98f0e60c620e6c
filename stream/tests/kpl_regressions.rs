//! The KPL fuzz target's kept inputs (fuzz/corpus/kpl/, fuzz/regressions/kpl/) through its
//! checks, in the ordinary test suite.

use kinesis_stream::kpl;

#[path = "../../fuzz/checks/kpl.rs"]
mod checks;

#[test]
fn kpl_inputs() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut count = 0;
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join("kpl")) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let outcome = std::panic::catch_unwind(|| checks::kpl(&data));
            assert!(outcome.is_ok(), "{} fails its check", path.display());
            count += 1;
        }
    }
    assert!(count > 0, "no kept inputs for the kpl fuzz target");
}
