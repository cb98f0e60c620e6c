//! SPEC §4: the lenient pass a form or a hand-written file goes through before validation.
//! Pure, idempotent, never invents a required value.

use std::borrow::Cow;

use crate::field::{Field, METHOD_ALIAS};
use crate::json::{Json, Member, Node};
use crate::model::NormalizeChange;
use crate::validate::{integer_value, Integer};

const METHOD_ID: &str = Field::DataProcessingMethodId.name();

/// Normalize a create (`fill_defaults`: `disabled: false`) or update payload.
pub(crate) fn normalize(root: &Node, fill_defaults: bool) -> (Json<'static>, Vec<NormalizeChange>) {
    let mut changes = Vec::new();
    let Json::Object(members) = &root.value else {
        return (root.value.clone().into_owned(), changes);
    };
    // The last occurrence of a key wins, as with JSON.parse.
    let mut last: Vec<&Member> = Vec::with_capacity(members.len());
    for m in members {
        match last.iter_mut().find(|l| l.key == m.key) {
            Some(slot) => {
                *slot = m;
                changes.push(change(&m.key, "dropped an earlier duplicate of this key"));
            }
            None => last.push(m),
        }
    }
    // The alias is used when the id spelling is absent, or blank (so it would be dropped) while
    // the alias is there: either way one pass settles it, which keeps normalize idempotent.
    let blank = |m: &&Member| matches!(&m.value.value, Json::String(s) if s.trim().is_empty());
    let id_member = last.iter().find(|m| m.key == METHOD_ID);
    let has_alias = last.iter().any(|m| m.key == METHOD_ALIAS);
    let has_id = id_member.is_some_and(|m| !(has_alias && blank(m)));
    if id_member.is_some() && !has_id {
        changes.push(change(METHOD_ID, "removed the empty optional value"));
    }
    let mut out: Vec<Member<'static>> = Vec::with_capacity(last.len() + 1);
    for field in Field::ALL {
        let name = field.name();
        let member = last
            .iter()
            .find(|m| m.key == name && (name != METHOD_ID || has_id))
            .or_else(|| {
                (name == METHOD_ID && !has_id)
                    .then(|| last.iter().find(|m| m.key == METHOD_ALIAS))
                    .flatten()
            });
        let Some(member) = member else {
            if field == Field::Disabled && fill_defaults {
                changes.push(change(name, "filled the default false"));
                out.push(owned_member(name, Json::Bool(false)));
            }
            continue;
        };
        // Changes are reported at the input's pointer (the alias, when that is what it used).
        let mut field_changes = Vec::new();
        if member.key != name {
            field_changes.push(change(
                &member.key,
                "renamed dataProcessingMethod to dataProcessingMethodId",
            ));
        }
        let value = normalize_field(field, &member.value.value, &mut field_changes);
        match value {
            Some(v) => out.push(owned_member(name, v)),
            None => field_changes.push(change(name, "removed the empty optional value")),
        }
        for mut c in field_changes {
            if member.key != name && c.path == format!("/{name}") {
                c.path = format!("/{}", member.key);
            }
            changes.push(c);
        }
        if field == Field::Disabled
            && fill_defaults
            && out.last().map(|m| &*m.key) != Some("disabled")
        {
            out.push(owned_member(name, Json::Bool(false)));
        }
    }
    for m in &last {
        let known = (m.key != METHOD_ALIAS && Field::from_name(&m.key).is_some())
            || (m.key == METHOD_ALIAS && !has_id);
        if !known {
            out.push(Member {
                key: Cow::Owned(m.key.to_string()),
                key_start: 0,
                value: owned(&m.value.value),
            });
        }
    }
    (Json::Object(out), changes)
}

fn change(field: &str, message: &str) -> NormalizeChange {
    let mut path = String::from("/");
    crate::json::escape_token(field, &mut path);
    NormalizeChange {
        path,
        message: message.into(),
    }
}

fn owned_member(name: &str, value: Json<'static>) -> Member<'static> {
    Member {
        key: Cow::Owned(name.to_string()),
        key_start: 0,
        value: Node::detached(value),
    }
}

fn owned(value: &Json) -> Node<'static> {
    Node::detached(value.clone().into_owned())
}

/// `None` removes the field (an empty optional string).
fn normalize_field(
    field: Field,
    value: &Json,
    changes: &mut Vec<NormalizeChange>,
) -> Option<Json<'static>> {
    let name = field.name();
    let integer_field = matches!(
        field,
        Field::Shards | Field::MaxRecordsPerShardPerSecond | Field::MaxBytesPerShardPerSecond
    );
    if let (true, Json::Number(text)) = (integer_field, value) {
        // `1e3`, `1000.0`, `-0`: the integer written plainly, so every JSON reader (some parse
        // decimals to the nearest double only roughly) gets the same whole number back.
        if let Integer::Safe(n) = integer_value(text) {
            let plain = n.to_string();
            if plain != **text {
                changes.push(change(name, "wrote the number as a plain integer"));
            }
            return Some(Json::Number(Cow::Owned(plain)));
        }
    }
    let Json::String(s) = value else {
        if field == Field::Credentials {
            if let Json::Object(members) = value {
                return Some(normalize_credentials(members, changes));
            }
        }
        return Some(value.clone().into_owned());
    };
    let trimmed = s.trim();
    if trimmed.len() != s.len() {
        changes.push(change(name, "trimmed surrounding whitespace"));
    }
    match field {
        Field::Type | Field::Region => {
            let lower = trimmed.to_ascii_lowercase();
            if lower != trimmed {
                changes.push(change(name, "lower-cased"));
            }
            Some(Json::String(Cow::Owned(lower)))
        }
        Field::Shards | Field::MaxRecordsPerShardPerSecond | Field::MaxBytesPerShardPerSecond => {
            Some(integer_string(name, trimmed, changes))
        }
        Field::DataProcessingMethodId if trimmed.is_empty() => None,
        Field::Disabled => match trimmed {
            "" => None,
            "true" | "false" => {
                changes.push(change(name, "converted the string to a boolean"));
                Some(Json::Bool(trimmed == "true"))
            }
            _ => Some(Json::String(Cow::Owned(trimmed.to_string()))),
        },
        _ => Some(Json::String(Cow::Owned(trimmed.to_string()))),
    }
}

/// A strict integer string (`"2"`, `"-3"`) becomes a number; anything else stays a string.
fn integer_string(name: &str, s: &str, changes: &mut Vec<NormalizeChange>) -> Json<'static> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if !digits.is_empty() && digits.len() <= 20 && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Integer::Safe(n) = integer_value(s) {
            changes.push(change(name, "converted the string to an integer"));
            return Json::Number(Cow::Owned(n.to_string()));
        }
    }
    Json::String(Cow::Owned(s.to_string()))
}

fn normalize_credentials(members: &[Member], changes: &mut Vec<NormalizeChange>) -> Json<'static> {
    let mut out: Vec<Member<'static>> = Vec::with_capacity(members.len());
    let mut ordered: Vec<&Member> = Vec::with_capacity(members.len());
    for name in ["user", "password"] {
        if let Some(m) = members.iter().rev().find(|m| m.key == name) {
            ordered.push(m);
        }
    }
    for m in members {
        if !ordered.iter().any(|o| o.key == m.key) {
            ordered.push(m);
        }
    }
    for m in ordered {
        let value = match (&*m.key, &m.value.value) {
            ("user" | "password", Json::String(s)) => {
                let trimmed = s.trim();
                if trimmed.len() != s.len() {
                    changes.push(NormalizeChange {
                        path: format!("/credentials/{}", m.key),
                        message: "trimmed surrounding whitespace".into(),
                    });
                }
                Json::String(Cow::Owned(trimmed.to_string()))
            }
            (_, other) => other.clone().into_owned(),
        };
        out.push(Member {
            key: Cow::Owned(m.key.to_string()),
            key_start: 0,
            value: Node::detached(value),
        });
    }
    Json::Object(out)
}

#[cfg(test)]
mod tests {
    use crate::normalize_create;

    #[test]
    fn whole_numbers_are_written_plainly() {
        let text = r#"{"shards": 1e1, "maxRecordsPerShardPerSecond": 1000.0,
                       "maxBytesPerShardPerSecond": 9007199254740991.0}"#;
        let input: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
        let out = normalize_create(&input);
        let value = serde_json::to_string(&out.value).unwrap_or_default();
        assert!(value.contains(r#""shards":10,"#), "{value}");
        assert!(
            value.contains(r#""maxRecordsPerShardPerSecond":1000,"#),
            "{value}"
        );
        assert!(
            value.contains(r#""maxBytesPerShardPerSecond":9007199254740991,"#),
            "{value}"
        );
        let paths: Vec<&str> = out.changes.iter().map(|c| c.path.as_str()).collect();
        assert!(paths.contains(&"/maxRecordsPerShardPerSecond"), "{paths:?}");
        // Plain integers are left alone.
        let again = normalize_create(&serde_json::to_value(&out.value).unwrap_or_default());
        assert!(
            again.changes.iter().all(|c| c.path != "/shards"),
            "{:?}",
            again.changes
        );
    }
}
