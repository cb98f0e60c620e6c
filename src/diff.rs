//! SPEC §2 with a saved connector, and §5: validate an update against `current`, merge it
//! (`apply_update`), and compute the minimal update between two connectors (`diff`).

use crate::issues::{Issues, Params};
use crate::json::Node;
use crate::model::{
    Change, ChangeKind, Connector, Credentials, DiffAction, DiffResult, Effect, FieldValue,
    UpdatePayload,
};
use crate::normalize::normalize;
use crate::validate::{
    check_context, check_fields, context_invalid, quota_warning, reshard_plan, reshard_warnings,
    to_connector, to_update, Ctx, Fields, Mode, Slot,
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
                    if !present(patch, top_field(&issue.path)) {
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

fn top_field(path: &str) -> &str {
    path.strip_prefix('/')
        .and_then(|p| p.split('/').next())
        .unwrap_or("")
}

fn present(f: &Fields, name: &str) -> bool {
    match name {
        "type" => f.kind.is_present(),
        "id" => f.id.is_present(),
        "credentials" => f.credentials.is_present(),
        "region" => f.region.is_present(),
        "stream" => f.stream.is_present(),
        "shards" => f.shards.is_present(),
        "maxRecordsPerShardPerSecond" => f.max_records.is_present(),
        "maxBytesPerShardPerSecond" => f.max_bytes.is_present(),
        "dataProcessingMethodId" | "dataProcessingMethod" => f.method.is_present(),
        "disabled" => f.disabled.is_present(),
        _ => false,
    }
}

/// `type` and `id` may appear in an update only with the saved values (ids compare as the
/// platform compares them: case-insensitively).
fn immutable(input: &Node, saved: &Fields, issues: &mut Issues) {
    if let (Some(node), Some(_)) = (input.get("type"), saved.kind.valid()) {
        if node.value.as_str() != Some(crate::model::CONNECTOR_TYPE)
            && node.value != crate::json::Json::Null
        {
            issues.error(
                "update.immutable",
                "/type",
                "type cannot be changed by an update.".into(),
                Params::default(),
            );
        }
    }
    if let (Some(node), Some(old)) = (input.get("id"), saved.id.valid()) {
        if node.value.as_str() != Some(old.as_str()) && node.value != crate::json::Json::Null {
            issues.error(
                "update.immutable",
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

/// SPEC §5.
pub(crate) fn diff(saved: &Node, desired: &Node, mut issues: Issues) -> DiffResult {
    let (saved_value, _) = normalize(saved, true);
    let (desired_value, _) = normalize(desired, true);
    let mut saved_issues = Issues::default();
    let saved_fields = check_fields(&Node::detached(saved_value), Mode::Saved, &mut saved_issues);
    for issue in saved_issues.errors {
        let at = if issue.path.is_empty() {
            "the root".to_string()
        } else {
            issue.path.clone()
        };
        issues.error(
            "diff.saved_invalid",
            issue.path,
            format!(
                "The saved connector is not valid at {at}: {}",
                issue.message
            ),
            issue.params,
        );
    }
    let desired_fields = check_fields(&Node::detached(desired_value), Mode::Saved, &mut issues);
    let mut result = DiffResult {
        valid: false,
        errors: Vec::new(),
        warnings: Vec::new(),
        action: DiffAction::None,
        update: UpdatePayload::default(),
        create: None,
        changes: Vec::new(),
    };
    if let (Some(saved), Some(desired)) = (saved_fields, desired_fields) {
        if !issues.has_errors() {
            if let (Some(old), Some(new)) = (to_connector(&saved), to_connector(&desired)) {
                compare(&old, &new, &mut result, &mut issues);
            }
        }
    }
    result.valid = !issues.has_errors();
    result.errors = issues.errors;
    result.warnings = issues.warnings;
    result
}

fn compare(old: &Connector, new: &Connector, result: &mut DiffResult, issues: &mut Issues) {
    let mut changes = Vec::new();
    let mut update = UpdatePayload::default();
    let text = |s: &str| Some(FieldValue::Text(s.to_string()));
    fn changed(
        changes: &mut Vec<Change>,
        path: &str,
        before: Option<FieldValue>,
        after: Option<FieldValue>,
        effect: Effect,
    ) {
        let kind = match (&before, &after) {
            (None, Some(_)) => ChangeKind::Added,
            (Some(_), None) => ChangeKind::Removed,
            _ => ChangeKind::Changed,
        };
        changes.push(Change {
            path: path.into(),
            kind,
            before,
            after,
            effect,
        });
    }

    let replace = old.kind != new.kind || old.id != new.id;
    if old.id != new.id {
        changed(
            &mut changes,
            "/id",
            text(&old.id),
            text(&new.id),
            Effect::Recreate,
        );
    }
    // Credentials: one change, never by value. A desired connector without a password (as read
    // back from the platform) keeps the saved one; the update carries the credentials whole.
    let old_creds = old.credentials.as_ref();
    if let Some(new_creds) = &new.credentials {
        let old_password = old_creds.and_then(|c| c.password.as_ref());
        let user_changed = old_creds.is_none_or(|c| c.user != new_creds.user);
        let password_changed = match (&new_creds.password, old_password) {
            (Some(new_password), Some(old_password)) => new_password != old_password,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if user_changed || password_changed {
            let kind = if old_creds.is_some() {
                ChangeKind::Changed
            } else {
                ChangeKind::Added
            };
            changes.push(Change {
                path: "/credentials".into(),
                kind,
                before: None,
                after: None,
                effect: Effect::Reconnect,
            });
            let password = new_creds.password.clone().or_else(|| old_password.cloned());
            if password.is_none() && !replace {
                issues.error(
                    "credentials.incomplete",
                    "/credentials",
                    "The access key id changed but no password is given or saved; an update must carry both.".into(),
                    Params::default(),
                );
            }
            update.credentials = Some(Credentials {
                user: new_creds.user.clone(),
                password,
            });
        }
    }
    if old.region != new.region {
        changed(
            &mut changes,
            "/region",
            text(old.region.code()),
            text(new.region.code()),
            Effect::Reconnect,
        );
        update.region = Some(new.region);
    }
    if old.stream != new.stream {
        changed(
            &mut changes,
            "/stream",
            text(&old.stream),
            text(&new.stream),
            Effect::Reconnect,
        );
        update.stream = Some(new.stream.clone());
    }
    if old.shards != new.shards {
        let plan = reshard_plan(old.shards, new.shards);
        let effect = Effect::Reshard {
            from: old.shards,
            to: new.shards,
            steps: plan.len() as u32,
            plan,
        };
        changed(
            &mut changes,
            "/shards",
            num(old.shards.into()),
            num(new.shards.into()),
            effect,
        );
        update.shards = Some(new.shards);
        if !replace {
            reshard_warnings(old.shards, new.shards, issues);
        }
    }
    if old.max_records_per_shard_per_second != new.max_records_per_shard_per_second {
        let (a, b) = (
            old.max_records_per_shard_per_second,
            new.max_records_per_shard_per_second,
        );
        changed(
            &mut changes,
            "/maxRecordsPerShardPerSecond",
            num(a),
            num(b),
            Effect::Throttle,
        );
        update.max_records_per_shard_per_second = Some(b);
    }
    if old.max_bytes_per_shard_per_second != new.max_bytes_per_shard_per_second {
        let (a, b) = (
            old.max_bytes_per_shard_per_second,
            new.max_bytes_per_shard_per_second,
        );
        changed(
            &mut changes,
            "/maxBytesPerShardPerSecond",
            num(a),
            num(b),
            Effect::Throttle,
        );
        update.max_bytes_per_shard_per_second = Some(b);
    }
    if old.data_processing_method_id != new.data_processing_method_id {
        changed(
            &mut changes,
            "/dataProcessingMethodId",
            old.data_processing_method_id.as_deref().and_then(text),
            new.data_processing_method_id.as_deref().and_then(text),
            Effect::Method,
        );
        update.data_processing_method_id = Some(new.data_processing_method_id.clone());
    }
    if old.disabled != new.disabled {
        let effect = if new.disabled {
            Effect::Pause
        } else {
            Effect::Resume
        };
        changed(
            &mut changes,
            "/disabled",
            Some(FieldValue::Flag(old.disabled)),
            Some(FieldValue::Flag(new.disabled)),
            effect,
        );
        update.disabled = Some(Some(new.disabled));
    }
    if old.kind != new.kind {
        changes.insert(
            0,
            Change {
                path: "/type".into(),
                kind: ChangeKind::Changed,
                before: text("aws-kinesis"),
                after: text("aws-kinesis"),
                effect: Effect::Recreate,
            },
        );
    }

    result.action = if replace {
        DiffAction::Replace
    } else if changes.is_empty() {
        DiffAction::None
    } else {
        DiffAction::Update
    };
    if replace {
        if new
            .credentials
            .as_ref()
            .is_none_or(|c| c.password.is_none())
        {
            issues.error(
                "field.required",
                "/credentials/password",
                "The id changes, so the connector is created again, and a create needs credentials.password.".into(),
                Params { field: Some("credentials.password".into()), ..Params::default() },
            );
        }
        result.create = Some(new.clone());
    } else {
        result.update = update;
    }
    result.changes = changes;
}

fn num(n: u64) -> Option<FieldValue> {
    Some(FieldValue::Number(n))
}

/// The changes between two valid connectors, each with what the running connector must do
/// for it: the typed form of `diff(...).changes`, for callers that hold connectors already
/// (`--watch` in the streaming binary). Secrets are compared, never shown.
pub fn changes(old: &Connector, new: &Connector) -> Vec<Change> {
    let mut result = DiffResult {
        valid: true,
        errors: Vec::new(),
        warnings: Vec::new(),
        action: DiffAction::None,
        update: UpdatePayload::default(),
        create: None,
        changes: Vec::new(),
    };
    compare(old, new, &mut result, &mut Issues::default());
    result.changes
}

/// What going from one valid config to another means for a running connector, folded from
/// the effects of its [`changes`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Effects {
    /// Region, stream or credentials changed: a new connection.
    pub reconnect: bool,
    /// A rate limit changed: applied live.
    pub throttle: bool,
    /// The processing method changed: swapped live.
    pub method: bool,
    /// `disabled` became true.
    pub pause: bool,
    /// `disabled` became false.
    pub resume: bool,
    /// Type or id changed: a different connector (its own state, its own checkpoints).
    pub recreate: bool,
    /// The shard count changed: `(from, to)`.
    pub reshard: Option<(u32, u32)>,
}

impl Effects {
    pub fn of(changes: &[Change]) -> Self {
        let mut effects = Effects::default();
        for change in changes {
            match &change.effect {
                Effect::Reconnect => effects.reconnect = true,
                Effect::Throttle => effects.throttle = true,
                Effect::Method => effects.method = true,
                Effect::Pause => effects.pause = true,
                Effect::Resume => effects.resume = true,
                Effect::Recreate => effects.recreate = true,
                Effect::Reshard { from, to, .. } => effects.reshard = Some((*from, *to)),
            }
        }
        effects
    }

    /// The effects of going from `old` to `new`.
    pub fn between(old: &Connector, new: &Connector) -> Self {
        Self::of(&changes(old, new))
    }

    /// Nothing the running connector needs to act on.
    pub fn is_none(&self) -> bool {
        *self == Effects::default()
    }

    /// A running session cannot absorb the change: stop it (flush, checkpoint) and start anew
    /// (a new connection, a different connector, or a pause / resume).
    pub fn needs_new_session(&self) -> bool {
        self.reconnect || self.recreate || self.pause || self.resume
    }
}

#[cfg(test)]
mod effects_tests {
    use super::Effects;
    use crate::{validate_create, Connector, Context};

    fn connector(patch: serde_json::Value) -> Connector {
        let mut value = serde_json::json!({"type":"aws-kinesis","id":"dc1","credentials":{"user":"AKIAIOSFODNN7EXAMPLE","password":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},"region":"us-west-2","stream":"s","shards":2,"maxRecordsPerShardPerSecond":100,"maxBytesPerShardPerSecond":1000});
        for (k, v) in patch.as_object().into_iter().flatten() {
            value[k] = v.clone();
        }
        let result = validate_create(&value, &Context::default());
        result
            .value
            .unwrap_or_else(|| panic!("valid: {:?}", result.errors))
    }

    #[test]
    fn effects_fold_the_changes_of_a_config_change() {
        let old = connector(serde_json::json!({}));
        assert!(Effects::between(&old, &old).is_none());
        let live = Effects::between(
            &old,
            &connector(
                serde_json::json!({"maxRecordsPerShardPerSecond": 5, "dataProcessingMethodId": "m1"}),
            ),
        );
        assert!(live.throttle && live.method && !live.needs_new_session());
        let reconnect = Effects::between(&old, &connector(serde_json::json!({"stream": "other"})));
        assert!(reconnect.reconnect && reconnect.needs_new_session());
        let secret = Effects::between(
            &old,
            &connector(
                serde_json::json!({"credentials": {"user":"AKIAIOSFODNN7EXAMPLE","password":"x".repeat(40)}}),
            ),
        );
        assert!(secret.reconnect, "a new password alone reconnects");
        let pause = Effects::between(&old, &connector(serde_json::json!({"disabled": true})));
        assert!(pause.pause && pause.needs_new_session());
        let id = Effects::between(&old, &connector(serde_json::json!({"id": "dc2"})));
        assert!(id.recreate && id.needs_new_session());
        let shards = Effects::between(&old, &connector(serde_json::json!({"shards": 8})));
        assert_eq!(shards.reshard, Some((2, 8)));
        assert!(
            !shards.needs_new_session(),
            "resharding is the stream's business, read on as it happens"
        );
    }
}
