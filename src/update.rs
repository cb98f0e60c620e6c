//! SPEC §2 with a saved connector: validate an update against `current` (merge at the field
//! level, immutables, the saved connector's own errors where the update does not replace them)
//! and merge it (`apply_update`).

use crate::field::Field;
use crate::issues::{IssueCode, Issues, Params};
use crate::json::{Json, Node};
use crate::model::{Connector, UpdatePayload, CONNECTOR_TYPE};
use crate::normalize::normalize;
use crate::validate::{
    check_context, check_fields, context_invalid, quota_warning, reshard_warnings, to_connector,
    to_update, Ctx, Fields, Mode, Slot,
};

/// What checking an update produced: the patch and, with `current`, the merged connector.
pub(crate) struct UpdateCheck {
    pub patch: Option<Fields>,
    pub merged: Option<Fields>,
}

/// Check an update payload, and with `ctx.current` the merged result (SPEC §2).
pub(crate) fn check_update(input: &Node, ctx: &Ctx, issues: &mut Issues) -> UpdateCheck {
    let patch = check_fields(input, Mode::Patch, issues);
    let mut merged = None;
    if let (Some(patch), Some(current)) = (&patch, ctx.current) {
        let (current, _) = normalize(current, true);
        let current = Node::detached(current);
        let mut current_issues = Issues::default();
        match check_fields(&current, Mode::Saved, &mut current_issues) {
            None => context_invalid(
                issues,
                "current",
                "context.current must be the saved connector object.",
            ),
            Some(saved) => {
                // The saved connector's own errors matter only where the update does not replace them.
                for mut issue in current_issues.errors {
                    let replaced =
                        Field::of_pointer(&issue.path).is_some_and(|f| patch.is_present(f));
                    if !replaced {
                        issue.message = format!("In the saved connector: {}", issue.message);
                        issues.add(issue);
                    }
                }
                immutable(input, &saved, issues);
                let m = merge(&saved, patch);
                if patch.shards.is_present() || patch.region.is_present() {
                    quota_warning(&m, issues);
                }
                if let (Some(&from), Some(&to)) = (saved.shards.valid(), patch.shards.valid()) {
                    if from != to {
                        reshard_warnings(from, to, issues);
                    }
                }
                merged = Some(m);
            }
        }
    }
    if let Some(patch) = &patch {
        check_context(patch, ctx, false, issues);
    }
    UpdateCheck { patch, merged }
}

pub(crate) fn update_value(check: &UpdateCheck, issues: &Issues) -> Option<UpdatePayload> {
    if issues.has_errors() {
        return None;
    }
    check.patch.as_ref().map(to_update)
}

pub(crate) fn merged_value(check: &UpdateCheck, issues: &Issues) -> Option<Connector> {
    if issues.has_errors() {
        return None;
    }
    check.merged.as_ref().and_then(to_connector)
}

/// `type` and `id` may appear in an update only with the saved values (ids compare as the
/// platform compares them: case-insensitively).
fn immutable(input: &Node, saved: &Fields, issues: &mut Issues) {
    if let (Some(node), Some(_)) = (input.get("type"), saved.kind.valid()) {
        if node.value.as_str() != Some(CONNECTOR_TYPE) && node.value != Json::Null {
            issues.report(
                IssueCode::UpdateImmutable,
                "/type",
                "type cannot be changed by an update.".into(),
                Params::default(),
            );
        }
    }
    if let (Some(node), Some(old)) = (input.get("id"), saved.id.valid()) {
        if node.value.as_str() != Some(old.as_str()) && node.value != Json::Null {
            issues.report(
                IssueCode::UpdateImmutable,
                "/id",
                format!("id cannot be changed by an update (the saved id is \"{old}\"); delete and create the connector instead."),
                Params { expected: Some(old.clone()), ..Params::default() },
            );
        }
    }
}

/// RFC 7396 over the typed fields; `credentials` is replaced whole; `null` removes.
fn merge(saved: &Fields, patch: &Fields) -> Fields {
    fn pick<T: Clone>(saved: &Slot<T>, patch: &Slot<T>) -> Slot<T> {
        match patch {
            Slot::Absent => saved.clone(),
            Slot::Null => Slot::Absent,
            other => other.clone(),
        }
    }
    Fields {
        kind: pick(&saved.kind, &patch.kind),
        id: pick(&saved.id, &patch.id),
        credentials: pick(&saved.credentials, &patch.credentials),
        region: pick(&saved.region, &patch.region),
        stream: pick(&saved.stream, &patch.stream),
        shards: pick(&saved.shards, &patch.shards),
        max_records: pick(&saved.max_records, &patch.max_records),
        max_bytes: pick(&saved.max_bytes, &patch.max_bytes),
        method: pick(&saved.method, &patch.method),
        method_key: if patch.method.is_present() {
            patch.method_key
        } else {
            saved.method_key
        },
        disabled: match patch.disabled {
            Slot::Null => Slot::Valid(false),
            _ => pick(&saved.disabled, &patch.disabled),
        },
    }
}
