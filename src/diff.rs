//! SPEC §5: the minimal update between two connectors (`diff`), what each change means for a
//! running connector (`changes`, [`Effects`]), and the requests that carry it.

use std::borrow::Cow;

use crate::issues::{IssueCode, Issues, Params};
use crate::json::{self, Node};
use crate::model::{
    Change, ChangeKind, Connector, Credentials, DiffAction, DiffResult, Effect, FieldValue,
    Request, UpdatePayload,
};
use crate::normalize::normalize;
use crate::validate::{
    check_context, check_fields, context_invalid, reshard_plan, reshard_warnings, to_connector,
    Ctx, Mode,
};
use crate::write::WriteJson;

/// SPEC §5. With the app's context, the requests are checked too ([`check_requests`]).
pub(crate) fn diff(
    saved: &Node,
    desired: &Node,
    context: Option<&Ctx>,
    mut issues: Issues,
) -> DiffResult {
    if context.is_some_and(|ctx| ctx.current.is_some()) {
        context_invalid(
            &mut issues,
            "current",
            "diff takes no context.current: the saved connector is its first argument.",
        );
    }
    // Issues of the arguments themselves (a malformed context) do not stop the diff.
    let prior_errors = issues.errors.len();
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
        issues.report(
            IssueCode::DiffSavedInvalid,
            issue.path,
            format!(
                "The saved connector is not valid at {at}: {}",
                issue.message
            ),
            issue.params,
        );
    }
    let desired_fields = check_fields(&Node::detached(desired_value), Mode::Saved, &mut issues);
    let mut result = empty_result();
    if let (Some(saved_fields), Some(desired)) = (saved_fields, desired_fields) {
        if issues.errors.len() == prior_errors {
            if let (Some(old), Some(new)) = (to_connector(&saved_fields), to_connector(&desired)) {
                compare(&old, &new, &mut result, &mut issues);
                if let Some(ctx) = context {
                    check_requests(saved, &old.id, &result.requests, ctx, &mut issues);
                }
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
                issues.report(
                    IssueCode::CredentialsIncomplete,
                    "/credentials/password",
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
            issues.report(
                IssueCode::FieldRequired,
                "/credentials/password",
                "The id changes, so the connector is created again, and a create needs credentials.password.".into(),
                Params { field: Some("credentials.password".into()), ..Params::default() },
            );
        }
        result.create = Some(new.clone());
        result.requests = vec![
            Request::Delete { id: old.id.clone() },
            Request::Post { body: new.clone() },
        ];
    } else {
        if !changes.is_empty() {
            result.requests = vec![Request::Put {
                id: old.id.clone(),
                body: update.clone(),
            }];
        }
        result.update = update;
    }
    result.changes = changes;
}

/// The checks the platform runs on the requests: the PUT body as an update of the saved
/// connector, the POST body as a create. The saved connector's own id is not taken (it is the
/// one being updated, or deleted first). Issues already reported are not repeated.
fn check_requests(
    saved: &Node,
    saved_id: &str,
    requests: &[Request],
    ctx: &Ctx,
    issues: &mut Issues,
) {
    let others = Ctx {
        current: None,
        existing_ids: ctx
            .existing_ids
            .iter()
            .filter(|id| !id.eq_ignore_ascii_case(saved_id))
            .map(|id| Cow::Borrowed(&**id))
            .collect(),
        methods: ctx.methods.clone(),
    };
    let mut found = Issues::default();
    for request in requests {
        let mut text = Vec::new();
        match request {
            Request::Put { body, .. } => body.write_json(&mut text),
            Request::Post { body } => body.write_json(&mut text),
            Request::Delete { .. } => continue,
        }
        // The bodies were written by us from valid values: they parse.
        let Ok(text) = String::from_utf8(text) else {
            continue;
        };
        let Ok(body) = json::parse(&text) else {
            continue;
        };
        match request {
            Request::Put { .. } => {
                let update = Ctx {
                    current: Some(saved),
                    ..others.clone()
                };
                crate::update::check_update(&body, &update, &mut found);
            }
            _ => {
                if let Some(fields) = check_fields(&body, Mode::Create, &mut found) {
                    check_context(&fields, &others, true, &mut found);
                }
            }
        }
    }
    for issue in found.errors.into_iter().chain(found.warnings) {
        if !issues.contains(&issue.path, issue.code) {
            issues.add(issue);
        }
    }
}

fn num(n: u64) -> Option<FieldValue> {
    Some(FieldValue::Number(n))
}

/// The changes between two valid connectors, each with what the running connector must do
/// for it: the typed form of `diff(...).changes`, for callers that hold connectors already
/// (`--watch` in the streaming binary). Secrets are compared, never shown.
pub fn changes(old: &Connector, new: &Connector) -> Vec<Change> {
    let mut result = empty_result();
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

/// A diff that found nothing (yet): no action, no update, no changes.
fn empty_result() -> DiffResult {
    DiffResult {
        valid: false,
        errors: Vec::new(),
        warnings: Vec::new(),
        action: DiffAction::None,
        update: UpdatePayload::default(),
        create: None,
        changes: Vec::new(),
        requests: Vec::new(),
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
