//! The connector model and the result types that cross to JS and into files.
//! camelCase on the wire; tagged enums so TypeScript sees discriminated unions.

use serde::{Deserialize, Serialize, Serializer};

use crate::issues::Issue;
use crate::json::Json;
use crate::regions::Region;

/// The only connector type this crate knows.
pub const CONNECTOR_TYPE: &str = "aws-kinesis";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum ConnectorType {
    #[default]
    #[serde(rename = "aws-kinesis")]
    AwsKinesis,
}

/// The AWS secret access key. `Debug` and `Display` never show it; only serializing the
/// connector itself (the request body) does.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that needs it (signing requests).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Credentials {
    /// AWS access key id.
    pub user: String,
    /// AWS secret access key. Absent in connectors read back from the platform, which never
    /// returns saved secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional, type = "string"))]
    pub password: Option<Secret>,
}

/// A valid connector, normalized: the POST body (keys in the seed's order).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Connector {
    #[serde(rename = "type")]
    pub kind: ConnectorType,
    pub id: String,
    /// Absent only in a saved connector read back from the platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub credentials: Option<Credentials>,
    pub region: Region,
    pub stream: String,
    pub shards: u32,
    pub max_records_per_shard_per_second: u64,
    pub max_bytes_per_shard_per_second: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub data_processing_method_id: Option<String>,
    #[serde(default)]
    pub disabled: bool,
}

/// A valid update (PUT body), normalized: only the fields it changes. For the optional fields,
/// `Some(None)` is JSON `null`: remove the method, or set `disabled` back to false.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct UpdatePayload {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub kind: Option<ConnectorType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub credentials: Option<Credentials>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub region: Option<Region>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub stream: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub shards: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub max_records_per_shard_per_second: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub max_bytes_per_shard_per_second: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional, type = "string | null"))]
    pub data_processing_method_id: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional, type = "boolean | null"))]
    pub disabled: Option<Option<bool>>,
}

impl UpdatePayload {
    pub fn is_empty(&self) -> bool {
        *self == UpdatePayload::default()
    }
}

/// What the app already holds, for the checks that need it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Context {
    /// The saved connector an update applies to (as the platform returns it: no password).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional, type = "unknown"))]
    pub current: Option<serde_json::Value>,
    /// The ids of the app's connectors (compared case-insensitively).
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional, type = "readonly string[]"))]
    pub existing_ids: Vec<String>,
    /// The app's method ids and names; when given, the processing method must be one of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional, type = "readonly string[]"))]
    pub methods: Option<Vec<String>>,
}

/// The result of every check: `valid` when there is no error; `value` (the normalized input)
/// only when valid.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ValidationResult<T> {
    pub valid: bool,
    pub errors: Vec<Issue>,
    pub warnings: Vec<Issue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub value: Option<T>,
}

impl<T> ValidationResult<T> {
    /// The first error, for callers that want one line.
    pub fn first_error(&self) -> Option<&Issue> {
        self.errors.first()
    }
}

/// What `normalize` changed, one entry per change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NormalizeChange {
    pub path: String,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NormalizeResult {
    /// The normalized input: a new value (not validated; may still be invalid).
    #[cfg_attr(feature = "ts", ts(type = "unknown"))]
    pub value: NormalizedValue,
    pub changes: Vec<NormalizeChange>,
}

/// What `normalize` made of its input: any JSON value (it does not validate). It serializes as
/// JSON with numbers exactly as they were written; [`NormalizedValue::to_value`] gives a
/// `serde_json::Value`. The parser's tree inside stays private.
#[derive(Clone, Debug, PartialEq)]
pub struct NormalizedValue(pub(crate) Json<'static>);

impl NormalizedValue {
    /// As a `serde_json::Value` (a number serde_json cannot hold, such as `1e400`, becomes `null`).
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// The input could not be normalized at all (too deep), or was `null`.
    pub fn is_null(&self) -> bool {
        matches!(self.0, Json::Null | Json::Foreign(_))
    }
}

impl Serialize for NormalizedValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum DiffAction {
    /// Nothing to do.
    None,
    /// Send `update` with PUT.
    Update,
    /// `type` or `id` changed: delete the saved connector and POST `create`.
    Replace,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

/// What the running connector must do for a change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Effect {
    /// Region, stream or credentials: reconnect to Kinesis.
    Reconnect,
    /// Shard count: UpdateShardCount, `steps` calls through `plan`.
    Reshard {
        from: u32,
        to: u32,
        steps: u32,
        plan: Vec<u32>,
    },
    /// Rate limits: applied live.
    Throttle,
    /// Processing method: swapped live.
    Method,
    /// `disabled` became true.
    Pause,
    /// `disabled` became false.
    Resume,
    /// Type or id: delete and create again.
    Recreate,
}

/// A field value shown in a diff (never a secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(untagged)]
pub enum FieldValue {
    Text(String),
    Number(u64),
    Flag(bool),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Change {
    pub path: String,
    pub kind: ChangeKind,
    /// The saved value (absent for `added`, and for the password, which is never shown).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub before: Option<FieldValue>,
    /// The desired value (absent for `removed`, and for the password).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub after: Option<FieldValue>,
    pub effect: Effect,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DiffResult {
    /// Both connectors are valid (a saved connector may lack its password).
    pub valid: bool,
    pub errors: Vec<Issue>,
    pub warnings: Vec<Issue>,
    pub action: DiffAction,
    /// The minimal PUT body (empty for `none` and `replace`).
    pub update: UpdatePayload,
    /// For `replace`: the POST body of the new connector.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub create: Option<Connector>,
    pub changes: Vec<Change>,
    /// The requests that carry out `action`, in order: none, one PUT, or DELETE then POST.
    /// Send them only when `valid`.
    pub requests: Vec<Request>,
}

/// One request to the platform's data-connector API, tagged by `method` so TypeScript sees a
/// discriminated union. `id` is the saved connector's id (the URL's last segment).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "method")]
pub enum Request {
    /// Update the saved connector in place: `body` is the diff's `update`.
    #[serde(rename = "PUT")]
    Put { id: String, body: UpdatePayload },
    /// Delete the saved connector (a replace, before the POST).
    #[serde(rename = "DELETE")]
    Delete { id: String },
    /// Create a connector: `body` is the diff's `create`.
    #[serde(rename = "POST")]
    Post { body: Connector },
}

/// A region with its display name, as `regions()` lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RegionInfo {
    pub code: Region,
    pub name: &'static str,
}
