// Generated from the Rust types (src/model.rs, src/issues.rs, src/regions.rs) by ts-rs.
// Do not edit: run `make types` (UPDATE_TYPES=1 cargo test -p kinesis-connector --features ts --test types).

/** Any JSON value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export type IssueCode = "input.syntax" | "input.type" | "input.too_deep" | "input.duplicate_key" | "input.internal" | "issues.truncated" | "field.unknown" | "field.required" | "field.type" | "field.null" | "field.empty" | "field.unsafe_integer" | "type.invalid" | "id.length" | "id.start" | "id.characters" | "id.duplicate" | "app.connector_limit" | "credentials.incomplete" | "credentials.user.format" | "credentials.user.shape" | "credentials.password.shape" | "region.unknown" | "stream.length" | "stream.characters" | "shards.range" | "shards.quota" | "shards.reshard" | "shards.reshard_daily_limit" | "maxRecordsPerShardPerSecond.range" | "maxRecordsPerShardPerSecond.above_limit" | "maxBytesPerShardPerSecond.range" | "maxBytesPerShardPerSecond.above_limit" | "dataProcessingMethodId.format" | "dataProcessingMethodId.unknown" | "dataProcessingMethodId.conflict" | "update.empty" | "update.immutable" | "context.invalid" | "diff.saved_invalid";

export type Severity = "error" | "warning";

export type Params = { 
/**
 * The field the issue is about (unknown or missing fields).
 */
field?: string, 
/**
 * A close valid value to offer as "did you mean".
 */
suggestion?: string, 
/**
 * What was expected: a JSON type or an exact value.
 */
expected?: string, 
/**
 * What was found: a JSON type (values of credentials are never shown).
 */
actual?: string, 
/**
 * Length in characters, for length rules.
 */
length?: number, min?: number, max?: number, 
/**
 * Where the text goes wrong (syntax errors), 1-based.
 */
line?: number, column?: number, 
/**
 * Resharding: the shard counts and the UpdateShardCount calls between them.
 */
from?: number, to?: number, steps?: number, 
/**
 * The shard counts after each UpdateShardCount call.
 */
plan?: Array<number>, };

export type Issue = { 
/**
 * Always `code.severity()` (kept on the wire for readers that do not know the codes).
 */
severity: Severity, 
/**
 * Stable dotted id, e.g. `region.unknown` (see ARCHITECTURE.md).
 */
code: IssueCode, 
/**
 * JSON pointer into the input; `""` is the root.
 */
path: string, message: string, params: Params, };

export type ConnectorType = "aws-kinesis";

export type Region = "us-gov-west-1" | "us-gov-east-1" | "us-east-1" | "us-east-2" | "us-west-1" | "us-west-2" | "eu-west-1" | "eu-west-2" | "eu-west-3" | "eu-central-1" | "eu-north-1" | "ap-south-1" | "ap-southeast-1" | "ap-southeast-2" | "ap-northeast-1" | "ap-northeast-2" | "sa-east-1" | "cn-north-1" | "cn-northwest-1" | "ca-central-1";

export type RegionInfo = { code: Region, name: string, };

export type Credentials = { 
/**
 * AWS access key id.
 */
user: string, 
/**
 * AWS secret access key. Absent in connectors read back from the platform, which never
 * returns saved secrets.
 */
password?: string, };

export type Connector = { type: ConnectorType, id: string, 
/**
 * Absent only in a saved connector read back from the platform.
 */
credentials?: Credentials, region: Region, stream: string, shards: number, maxRecordsPerShardPerSecond: number, maxBytesPerShardPerSecond: number, dataProcessingMethodId?: string, disabled: boolean, };

export type UpdatePayload = { type?: ConnectorType, id?: string, credentials?: Credentials, region?: Region, stream?: string, shards?: number, maxRecordsPerShardPerSecond?: number, maxBytesPerShardPerSecond?: number, dataProcessingMethodId?: string | null, disabled?: boolean | null, };

export type Context = { 
/**
 * The saved connector an update applies to (as the platform returns it: no password).
 */
current?: unknown, 
/**
 * The ids of the app's connectors (compared case-insensitively).
 */
existingIds?: readonly string[], 
/**
 * The app's method ids and names; when given, the processing method must be one of them.
 */
methods?: readonly string[], };

export type ValidationResult<T> = { valid: boolean, errors: Array<Issue>, warnings: Array<Issue>, value?: T, };

export type NormalizeChange = { path: string, message: string, };

export type NormalizeResult = { 
/**
 * The normalized input: a new value (not validated; may still be invalid).
 */
value: unknown, changes: Array<NormalizeChange>, };

export type DiffAction = "none" | "update" | "replace";

export type ChangeKind = "added" | "removed" | "changed";

export type Effect = { "kind": "reconnect" } | { "kind": "reshard", from: number, to: number, steps: number, plan: Array<number>, } | { "kind": "throttle" } | { "kind": "method" } | { "kind": "pause" } | { "kind": "resume" } | { "kind": "recreate" };

export type FieldValue = string | number | boolean;

export type Change = { path: string, kind: ChangeKind, 
/**
 * The saved value (absent for `added`, and for the password, which is never shown).
 */
before?: FieldValue, 
/**
 * The desired value (absent for `removed`, and for the password).
 */
after?: FieldValue, effect: Effect, };

export type DiffResult = { 
/**
 * Both connectors are valid (a saved connector may lack its password).
 */
valid: boolean, errors: Array<Issue>, warnings: Array<Issue>, action: DiffAction, 
/**
 * The minimal PUT body (empty for `none` and `replace`).
 */
update: UpdatePayload, 
/**
 * For `replace`: the POST body of the new connector.
 */
create?: Connector, changes: Array<Change>, 
/**
 * The requests that carry out `action`, in order: none, one PUT, or DELETE then POST.
 * Send them only when `valid`.
 */
requests: Array<Request>, };

export type Request = { "method": "PUT", id: string, body: UpdatePayload, } | { "method": "DELETE", id: string, } | { "method": "POST", body: Connector, };
