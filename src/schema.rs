//! JSON Schema (draft 2020-12) for the create and update payloads.
//!
//! Built as text: the wasm build serves it as it is, without carrying a JSON value type.
//! The structural rules here agree with the validator (tested over the fixture corpus with the
//! `jsonschema` crate); rules that need the app or the saved connector (unique id, connector
//! limit, known methods, immutable fields, alias conflicts) are not structural.

use crate::regions::Region;

const SAFE: &str = "9007199254740992";

fn regions_one_of() -> String {
    let mut items = String::new();
    for r in Region::ALL {
        if !items.is_empty() {
            items.push(',');
        }
        items.push_str(&format!(
            r#"{{"const":"{}","title":"{}"}}"#,
            r.code(),
            r.name()
        ));
    }
    items
}

fn properties(update: bool) -> String {
    let null = |t: &str| {
        if update {
            format!(r#"["{t}","null"]"#)
        } else {
            format!(r#""{t}""#)
        }
    };
    let method = format!(
        r#"{{"type":{},"pattern":"^(_mtd_[0-9]+|[A-Za-z][A-Za-z0-9_-]{{0,63}})$","title":"Processing method","description":"Id (_mtd_ and digits) or name of the App method that filters and/or transforms the data.{}"}}"#,
        null("string"),
        if update { " null removes it." } else { "" }
    );
    format!(
        concat!(
            r#"{{"type":{{"const":"aws-kinesis","title":"Type","description":"Connector type; always aws-kinesis."}},"#,
            r#""id":{{"type":"string","minLength":1,"maxLength":64,"pattern":"^[A-Za-z][A-Za-z0-9._-]*$","title":"Id","description":"App-wide unique connector id: a letter, then letters, digits, '.', '-', '_'; at most 64."}},"#,
            r#""credentials":{{"type":"object","title":"Credentials","description":"AWS access key pair.","additionalProperties":false,"required":["user","password"],"properties":{{"#,
            r#""user":{{"type":"string","pattern":"^[A-Za-z0-9_]{{16,128}}$","title":"Access key id","description":"AWS access key id (usually 20 characters starting with AKIA or ASIA)."}},"#,
            r#""password":{{"type":"string","minLength":1,"pattern":"\\S","writeOnly":true,"title":"Secret access key","description":"AWS secret access key (40 characters). Never returned by the platform."}}}}}},"#,
            r#""region":{{"type":"string","title":"Region","description":"AWS region of the Kinesis stream.","oneOf":[{regions}]}},"#,
            r#""stream":{{"type":"string","pattern":"^[a-zA-Z0-9_.-]{{1,128}}$","title":"Stream","description":"Kinesis stream name."}},"#,
            r#""shards":{{"type":"integer","minimum":1,"maximum":100000,"title":"Shards","description":"Number of shards of the stream."}},"#,
            r#""maxRecordsPerShardPerSecond":{{"type":"integer","minimum":1,"maximum":{safe},"title":"Max records per shard per second","description":"Kinesis accepts up to 1000 records per second per shard."}},"#,
            r#""maxBytesPerShardPerSecond":{{"type":"integer","minimum":1,"maximum":{safe},"title":"Max bytes per shard per second","description":"Kinesis accepts up to 1048576 bytes per second per shard."}},"#,
            r#""dataProcessingMethodId":{method},"dataProcessingMethod":{method},"#,
            r#""disabled":{{"type":{disabled},"default":false,"title":"Disabled","description":"When true the connector does not stream.{disabled_note}"}}}}"#,
        ),
        regions = regions_one_of(),
        safe = SAFE,
        method = method,
        disabled = null("boolean"),
        disabled_note = if update {
            " null sets it back to false."
        } else {
            ""
        },
    )
}

/// The create (POST) payload schema, as JSON text.
pub fn create_schema_text() -> String {
    format!(
        r#"{{"$schema":"https://json-schema.org/draft/2020-12/schema","title":"AWS Kinesis data connector","description":"Create payload (POST .../v3/apps/:ref/dataconnectors).","type":"object","additionalProperties":false,"required":["type","id","credentials","region","stream","shards","maxRecordsPerShardPerSecond","maxBytesPerShardPerSecond"],"properties":{}}}"#,
        properties(false)
    )
}

/// The update (PUT) payload schema, as JSON text.
pub fn update_schema_text() -> String {
    format!(
        r#"{{"$schema":"https://json-schema.org/draft/2020-12/schema","title":"AWS Kinesis data connector update","description":"Update payload (PUT .../v3/apps/:ref/dataconnectors/:id): merge-patch over the saved connector.","type":"object","additionalProperties":false,"minProperties":1,"properties":{}}}"#,
        properties(true)
    )
}
