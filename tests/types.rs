//! pkg/types.d.ts is generated from the Rust types with ts-rs; this test fails when the committed
//! file drifts from them. `UPDATE_TYPES=1 cargo test -p kinesis-connector --features ts --test types`
//! rewrites it.

use kinesis_connector::*;
use ts_rs::{Config, TS};

fn generate() -> String {
    let cfg = Config::new().with_large_int("number");
    let decls = [
        IssueCode::decl(&cfg),
        Severity::decl(&cfg),
        Params::decl(&cfg),
        Issue::decl(&cfg),
        ConnectorType::decl(&cfg),
        Region::decl(&cfg),
        RegionInfo::decl(&cfg),
        Credentials::decl(&cfg),
        Connector::decl(&cfg),
        UpdatePayload::decl(&cfg),
        Context::decl(&cfg),
        ValidationResult::<()>::decl(&cfg),
        NormalizeChange::decl(&cfg),
        NormalizeResult::decl(&cfg),
        DiffAction::decl(&cfg),
        ChangeKind::decl(&cfg),
        Effect::decl(&cfg),
        FieldValue::decl(&cfg),
        Change::decl(&cfg),
        DiffResult::decl(&cfg),
        Request::decl(&cfg),
    ];
    let mut out = String::from(
        "// Generated from the Rust types (src/model.rs, src/issues.rs, src/regions.rs) by ts-rs.\n\
         // Do not edit: run `make types` (UPDATE_TYPES=1 cargo test -p kinesis-connector --features ts --test types).\n\n\
         /** Any JSON value. */\n\
         export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };\n",
    );
    for decl in decls {
        out.push('\n');
        out.push_str("export ");
        out.push_str(decl.trim());
        out.push('\n');
    }
    out
}

#[test]
fn typescript_declarations_match_the_rust_types() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("pkg/types.d.ts");
    let generated = generate();
    if std::env::var_os("UPDATE_TYPES").is_some() {
        std::fs::write(&path, &generated).expect("write pkg/types.d.ts");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "pkg/types.d.ts is out of date with the Rust types; run `make types` and commit it.\n--- generated ---\n{generated}"
    );
    assert!(
        !generated.contains(": any") && !generated.contains("<any>"),
        "no `any` in the declarations"
    );
}
