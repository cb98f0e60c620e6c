//! The rules of SPEC §1 and §2, walked over the raw tree so that every issue is found
//! (unknown fields included) before the typed model is built.

use std::borrow::Cow;

use crate::field::{CredentialField, Field, METHOD_ALIAS};
use crate::issues::{apart, clip, cold, report, IssueCode, Issues, Params};
use crate::json::{Foreign, Json, Member, Node};
use crate::model::{Connector, ConnectorType, Credentials, Secret, UpdatePayload, CONNECTOR_TYPE};
use crate::regions::{
    closest, squash, squash_into, squashed_eq, squashed_prefix, suggest_region, Region,
};

/// Which payload is being read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// A POST body: every required field, no nulls.
    Create,
    /// A PUT body: any subset; `null` removes an optional field.
    Patch,
    /// A connector as the platform returns it: no password (or no credentials at all).
    Saved,
}

/// A field as read from the input.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) enum Slot<T> {
    #[default]
    Absent,
    /// Explicit `null` where that is allowed (update: remove an optional field).
    Null,
    Valid(T),
    /// Present, but an error was reported for it.
    Invalid,
}

impl<T> Slot<T> {
    pub fn into_valid(self) -> Option<T> {
        match self {
            Slot::Valid(v) => Some(v),
            _ => None,
        }
    }

    pub fn valid(&self) -> Option<&T> {
        match self {
            Slot::Valid(v) => Some(v),
            _ => None,
        }
    }

    pub fn is_present(&self) -> bool {
        !matches!(self, Slot::Absent)
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct CredentialFields {
    pub user: Slot<String>,
    pub password: Slot<String>,
}

/// Every known field of a connector, as read.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Fields {
    pub kind: Slot<ConnectorType>,
    pub id: Slot<String>,
    pub credentials: Slot<CredentialFields>,
    pub region: Slot<Region>,
    pub stream: Slot<String>,
    pub shards: Slot<u32>,
    pub max_records: Slot<u64>,
    pub max_bytes: Slot<u64>,
    /// With the key the input used (`dataProcessingMethodId` or the alias).
    pub method: Slot<String>,
    pub method_key: &'static str,
    pub disabled: Slot<bool>,
}

/// The suggestions "did you mean" offers for an unknown top-level key.
const FIELD_NAMES: [&str; 10] = {
    let mut names = [""; 10];
    let mut i = 0;
    while i < Field::ALL.len() {
        names[i] = Field::ALL[i].name();
        i += 1;
    }
    names
};
const CREDENTIAL_NAMES: [&str; 2] = ["user", "password"];

impl Fields {
    /// The input gave this field (any value, `null` included).
    pub fn is_present(&self, field: Field) -> bool {
        match field {
            Field::Type => self.kind.is_present(),
            Field::Id => self.id.is_present(),
            Field::Credentials => self.credentials.is_present(),
            Field::Region => self.region.is_present(),
            Field::Stream => self.stream.is_present(),
            Field::Shards => self.shards.is_present(),
            Field::MaxRecordsPerShardPerSecond => self.max_records.is_present(),
            Field::MaxBytesPerShardPerSecond => self.max_bytes.is_present(),
            Field::DataProcessingMethodId => self.method.is_present(),
            Field::Disabled => self.disabled.is_present(),
        }
    }
}

pub(crate) const MAX_SAFE: i64 = 1 << 53;
const MAX_SHARDS: i64 = 100_000;
const RECORDS_WRITE_LIMIT: u64 = 1000;
const BYTES_WRITE_LIMIT: u64 = 1_048_576;
const MAX_CONNECTORS: usize = 10;
/// UpdateShardCount calls allowed per rolling 24 hours.
const RESHARD_DAILY_CALLS: usize = 10;

/// The characters the name rules allow, as bits of one table entry a byte, so a check is one
/// load and one test a byte. ASCII only: no byte of a non-ASCII character is in any class.
const NAME: u8 = 1; // ids and streams: letters, digits, '.', '-', '_'
const WORD: u8 = 2; // access key ids: letters, digits, '_'
const SECRET: u8 = 4; // secret keys: letters, digits, '/', '+', '='
const METHOD: u8 = 8; // method names: letters, digits, '_', '-'
const KEY_ID: u8 = 16; // the usual access key id: upper-case letters, digits
const CLASSES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut c = 0;
    while c < 128 {
        let b = c as u8;
        let (alnum, upper_or_digit) = (
            b.is_ascii_alphanumeric(),
            b.is_ascii_uppercase() || b.is_ascii_digit(),
        );
        let mut bits = 0;
        if alnum || b == b'.' || b == b'-' || b == b'_' {
            bits |= NAME;
        }
        if alnum || b == b'_' {
            bits |= WORD;
        }
        if alnum || b == b'/' || b == b'+' || b == b'=' {
            bits |= SECRET;
        }
        if alnum || b == b'_' || b == b'-' {
            bits |= METHOD;
        }
        if upper_or_digit {
            bits |= KEY_ID;
        }
        table[c] = bits;
        c += 1;
    }
    table
};

/// Every byte of `s` is in `class`.
fn all_in(s: &str, class: u8) -> bool {
    s.bytes().all(|c| CLASSES[c as usize] & class != 0)
}

/// Read the known fields of a connector object, reporting every issue.
/// `None` when the input is not an object at all.
pub(crate) fn check_fields(root: &Node, mode: Mode, issues: &mut Issues) -> Option<Fields> {
    let members = match &root.value {
        Json::Object(members) => members,
        Json::Foreign(Foreign::Depth) => {
            too_deep(issues, "");
            return None;
        }
        other => {
            report!(
                issues,
                IssueCode::InputType,
                "",
                format!(
                    "The payload must be a JSON object, not {}.",
                    article(other.kind())
                ),
                Params {
                    expected: Some("object".into()),
                    actual: Some(other.kind().into()),
                    ..Params::default()
                },
            );
            return None;
        }
    };
    if mode == Mode::Patch && members.is_empty() {
        report!(
            issues,
            IssueCode::UpdateEmpty,
            "",
            "The update has no fields; send at least one field to change.".into(),
            Params::default(),
        );
    }

    // The last occurrence of a key counts, as with JSON.parse; unknown keys are all reported.
    // Indexed by `Field as usize` (the seed's order). A known key seen twice shows in `found`;
    // only then, or with unknown keys, does `report_duplicates` compare the keys, and its
    // issues still come first.
    let mut found: [Option<&Node>; Field::ALL.len()] = [None; Field::ALL.len()];
    let mut alias: Option<&Node> = None;
    let (mut again, mut unknown) = (false, false);
    for member in members {
        let slot = if member.key == METHOD_ALIAS {
            &mut alias
        } else if let Some(field) = Field::from_name(&member.key) {
            &mut found[field as usize]
        } else {
            unknown = true;
            continue;
        };
        again |= slot.is_some();
        *slot = Some(&member.value);
    }
    if again || unknown {
        report_duplicates(members, "", issues);
    }
    if unknown {
        for member in members {
            let known = member.key == METHOD_ALIAS || Field::from_name(&member.key).is_some();
            if !known && !is_undefined(&member.value) {
                unknown_field(issues, "", &member.key, &FIELD_NAMES, Some(METHOD_ALIAS));
            }
        }
    }
    let mut fields = Fields {
        method_key: Field::DataProcessingMethodId.name(),
        ..Fields::default()
    };

    for field in Field::ALL {
        let name = field.name();
        let Some(node) = present(found[field as usize]) else {
            let required =
                field.required() && !(mode == Mode::Saved && field == Field::Credentials);
            let aliased = field == Field::DataProcessingMethodId && alias.is_some();
            if required && mode != Mode::Patch && !aliased {
                missing(issues, "", name);
            }
            continue;
        };
        let path = field.pointer();
        let null = null_or_value(node, path, name, !field.required(), mode, issues);
        macro_rules! set {
            ($field:expr, $read:expr) => {
                $field = match null {
                    Some(outcome) => outcome.slot(),
                    None => $read,
                }
            };
        }
        match field {
            Field::Type => set!(fields.kind, read_type(node, path, issues)),
            Field::Id => set!(fields.id, read_id(node, path, issues)),
            Field::Credentials => set!(fields.credentials, read_credentials(node, mode, issues)),
            Field::Region => set!(fields.region, read_region(node, path, issues)),
            Field::Stream => set!(fields.stream, read_stream(node, path, issues)),
            Field::Shards => set!(fields.shards, read_shards(node, path, issues)),
            Field::MaxRecordsPerShardPerSecond => set!(
                fields.max_records,
                read_rate(node, field, RECORDS_WRITE_LIMIT, "records", issues)
            ),
            Field::MaxBytesPerShardPerSecond => set!(
                fields.max_bytes,
                read_rate(node, field, BYTES_WRITE_LIMIT, "bytes", issues)
            ),
            Field::DataProcessingMethodId => set!(fields.method, read_method(node, path, issues)),
            Field::Disabled => set!(fields.disabled, read_bool(node, path, name, issues)),
        }
    }

    if let Some(alias_node) = present(alias) {
        let path = "/dataProcessingMethod";
        if fields.method.is_present() {
            let same = matches!((&alias_node.value, fields.method.valid()), (Json::String(a), Some(b)) if a == b);
            if !same {
                report!(
                    issues,
                    IssueCode::MethodConflict,
                    path,
                    format!("Both {} and its alias {METHOD_ALIAS} are given, with different values; give one.", Field::DataProcessingMethodId),
                    Params { field: Some(METHOD_ALIAS.into()), ..Params::default() },
                );
            }
        } else {
            fields.method_key = METHOD_ALIAS;
            fields.method = match null_or_value(alias_node, path, METHOD_ALIAS, true, mode, issues)
            {
                Some(outcome) => outcome.slot(),
                None => read_method(alias_node, path, issues),
            };
        }
    }

    quota_warning(&fields, issues);
    Some(fields)
}

#[derive(Clone, Copy)]
enum NullOutcome {
    Removal,
    Reported,
}

impl NullOutcome {
    fn slot<T>(self) -> Slot<T> {
        match self {
            NullOutcome::Removal => Slot::Null,
            NullOutcome::Reported => Slot::Invalid,
        }
    }
}

/// `undefined` (a JS value's absent member) without building a `Json` to compare with.
fn is_undefined(node: &Node) -> bool {
    matches!(node.value, Json::Foreign(Foreign::Undefined))
}

/// Characters in `s`: its length when ASCII (the usual case), without counting.
fn char_count(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}

/// Empty or whitespace only; a string that starts with a visible ASCII character is neither,
/// which answers without trimming.
fn is_blank(s: &str) -> bool {
    match s.as_bytes().first() {
        Some(b) if b.is_ascii_graphic() => false,
        _ => s.trim().is_empty(),
    }
}

fn present<'n, 'a>(node: Option<&'n Node<'a>>) -> Option<&'n Node<'a>> {
    node.filter(|n| !is_undefined(n))
}

/// `Some` when the node is null (a removal, or reported); `None` to read the value.
fn null_or_value(
    node: &Node,
    path: &str,
    name: &str,
    optional: bool,
    mode: Mode,
    issues: &mut Issues,
) -> Option<NullOutcome> {
    match node.value {
        Json::Null if optional && mode != Mode::Create => Some(NullOutcome::Removal),
        Json::Null => {
            let hint = if mode == Mode::Patch {
                "; only optional fields can be removed with null"
            } else {
                ""
            };
            report!(
                issues,
                IssueCode::FieldNull,
                path,
                format!("{name} must not be null{hint}."),
                Params {
                    field: Some(name.into()),
                    ..Params::default()
                },
            );
            Some(NullOutcome::Reported)
        }
        _ => None,
    }
}

/// The quota warning needs both shards and region.
pub(crate) fn quota_warning(fields: &Fields, issues: &mut Issues) {
    let (Some(&shards), Some(&region)) = (fields.shards.valid(), fields.region.valid()) else {
        return;
    };
    let quota = region.default_shard_quota();
    if shards > quota && !issues.contains("/shards", IssueCode::ShardsQuota) {
        report!(
            issues,
            IssueCode::ShardsQuota,
            "/shards",
            format!(
                "{shards} shards is above the default account quota of {quota} shards in {}; request a quota increase first.",
                region.code()
            ),
            Params { max: Some(quota.into()), ..Params::default() },
        );
    }
}

fn read_type(node: &Node, path: &str, issues: &mut Issues) -> Slot<ConnectorType> {
    let Some(s) = expect_string(node, path, "type", issues) else {
        return Slot::Invalid;
    };
    if s == CONNECTOR_TYPE {
        return Slot::Valid(ConnectorType::AwsKinesis);
    }
    report!(
        issues,
        IssueCode::TypeInvalid,
        path,
        concat(&[
            "type must be \"",
            CONNECTOR_TYPE,
            "\", not \"",
            &clip(s),
            "\"."
        ]),
        Params {
            expected: Some(CONNECTOR_TYPE.into()),
            suggestion: crate::regions::has_part(squash(s).as_bytes(), b"kinesis")
                .then(|| CONNECTOR_TYPE.to_string()),
            ..Params::default()
        },
    );
    Slot::Invalid
}

fn read_id(node: &Node, path: &str, issues: &mut Issues) -> Slot<String> {
    let Some(s) = expect_string(node, path, "id", issues) else {
        return Slot::Invalid;
    };
    if check_id(s, path, issues) {
        Slot::Valid(s.to_string())
    } else {
        Slot::Invalid
    }
}

/// The platform's naming rules for ids: a letter first, then letters, digits, `.`, `_`, `-`;
/// at most 64 characters. Reports `id.length`, `id.start`, `id.characters`.
fn check_id(s: &str, path: &str, issues: &mut Issues) -> bool {
    const MAX: usize = 64;
    let (field, max) = ("id", MAX);
    let mut ok = true;
    let length = char_count(s);
    if length > max {
        ok = false;
        report!(
            issues,
            IssueCode::IdLength,
            path,
            format!("{field} must be at most {max} characters long (it has {length})."),
            Params {
                length: Some(length as u64),
                max: Some(max as i64),
                ..Params::default()
            },
        );
    }
    if !s.as_bytes().first().is_some_and(u8::is_ascii_alphabetic) {
        ok = false;
        report!(
            issues,
            IssueCode::IdStart,
            path,
            concat(&[field, " must start with a letter."]),
            Params::default(),
        );
    }
    // Bytes, not chars: each test passes ASCII only, which a non-ASCII char's bytes never are.
    if !all_in(s, NAME) {
        ok = false;
        let what = "letters, digits, '.', '-' and '_'";
        report!(
            issues,
            IssueCode::IdCharacters,
            path,
            concat(&[field, " may contain only ", what, whitespace_note(s), "."]),
            Params::default(),
        );
    }
    ok
}

/// `" (no whitespace)"` when `s` has any, for the characters messages.
fn whitespace_note(s: &str) -> &'static str {
    if s.chars().any(char::is_whitespace) {
        " (no whitespace)"
    } else {
        ""
    }
}

fn read_credentials(node: &Node, mode: Mode, issues: &mut Issues) -> Slot<CredentialFields> {
    let members = match &node.value {
        Json::Object(members) => members,
        _ => {
            type_error(issues, node, "/credentials", "credentials", "object");
            return Slot::Invalid;
        }
    };
    // Indexed by `CredentialField as usize`; duplicates as in `check_fields`.
    let mut found: [Option<&Node>; 2] = [None; 2];
    let (mut again, mut unknown) = (false, false);
    for member in members {
        match CredentialField::from_name(&member.key) {
            Some(part) => {
                again |= found[part as usize].is_some();
                found[part as usize] = Some(&member.value);
            }
            None => unknown = true,
        }
    }
    if again || unknown {
        report_duplicates(members, "/credentials", issues);
    }
    if unknown {
        for member in members {
            if CredentialField::from_name(&member.key).is_none() && !is_undefined(&member.value) {
                unknown_field(issues, "/credentials", &member.key, &CREDENTIAL_NAMES, None);
            }
        }
    }
    let found = found.map(|n| n.filter(|n| !is_undefined(n)));
    let mut creds = CredentialFields::default();
    let mut valid = true;
    for part in CredentialField::ALL {
        let path = part.pointer();
        let label = part.label();
        let slot = match found[part as usize] {
            // An update replaces the credentials whole: the missing member is reported at its
            // own pointer, so a form marks the input that needs filling.
            None if mode == Mode::Patch => {
                report!(
                    issues,
                    IssueCode::CredentialsIncomplete,
                    path,
                    format!("An update that changes credentials must carry {label} too (saved secrets are never returned, so a partial object is ambiguous)."),
                    Params { field: Some(label.into()), ..Params::default() },
                );
                valid = false;
                Slot::Absent
            }
            None => {
                let required =
                    mode == Mode::Create || (mode == Mode::Saved && part == CredentialField::User);
                if required {
                    missing(issues, "/credentials", part.name());
                    valid = false;
                }
                Slot::Absent
            }
            Some(n) if n.value == Json::Null => {
                report!(
                    issues,
                    IssueCode::FieldNull,
                    path,
                    format!("{label} must not be null."),
                    Params {
                        field: Some(label.into()),
                        ..Params::default()
                    },
                );
                Slot::Invalid
            }
            Some(n) => match (expect_string(n, path, label, issues), part) {
                (None, _) => Slot::Invalid,
                (Some(s), CredentialField::User) => read_user(s, path, issues),
                (Some(s), CredentialField::Password) => {
                    password_shape(s, path, issues);
                    Slot::Valid(s.to_string())
                }
            },
        };
        valid &= !matches!(slot, Slot::Invalid);
        match part {
            CredentialField::User => creds.user = slot,
            CredentialField::Password => creds.password = slot,
        }
    }
    if valid {
        Slot::Valid(creds)
    } else {
        Slot::Invalid
    }
}

/// The access key id. Its value is never echoed.
fn read_user(s: &str, path: &str, issues: &mut Issues) -> Slot<String> {
    let length = char_count(s);
    let word = all_in(s, WORD);
    if !(16..=128).contains(&length) || !word {
        report!(
            issues,
            IssueCode::CredentialsUserFormat,
            path,
            "credentials.user must be an AWS access key id: 16 to 128 letters, digits or '_'."
                .into(),
            Params {
                length: Some(length as u64),
                min: Some(16),
                max: Some(128),
                ..Params::default()
            },
        );
        return Slot::Invalid;
    }
    let usual =
        length == 20 && (s.starts_with("AKIA") || s.starts_with("ASIA")) && all_in(s, KEY_ID);
    if !usual {
        report!(
            issues,
            IssueCode::CredentialsUserShape,
            path,
            "credentials.user does not look like an AWS access key id (usually 20 characters starting with AKIA or ASIA).".into(),
            Params { length: Some(length as u64), ..Params::default() },
        );
    }
    Slot::Valid(s.to_string())
}

/// The secret access key: only its length is ever reported.
fn password_shape(s: &str, path: &str, issues: &mut Issues) {
    let length = char_count(s);
    let usual = length == 40 && all_in(s, SECRET);
    if !usual {
        report!(
            issues,
            IssueCode::CredentialsPasswordShape,
            path,
            "credentials.password does not look like an AWS secret access key (usually 40 characters of letters, digits, '/', '+' and '=').".into(),
            Params { length: Some(length as u64), ..Params::default() },
        );
    }
}

fn read_region(node: &Node, path: &str, issues: &mut Issues) -> Slot<Region> {
    let Some(s) = expect_string(node, path, "region", issues) else {
        return Slot::Invalid;
    };
    if let Some(region) = Region::from_code(s) {
        return Slot::Valid(region);
    }
    cold(|| {
        let suggestion = suggest_region(s);
        let hint = match suggestion {
            Some(r) => concat(&["; did you mean \"", r.code(), "\" (", r.name(), ")?"]),
            None => "; see regions() for the 20 valid codes.".into(),
        };
        issues.report(
            IssueCode::RegionUnknown,
            path,
            concat(&["\"", &clip(s), "\" is not a supported region", &hint]),
            Params {
                suggestion: suggestion.map(|r| r.code().to_string()),
                ..Params::default()
            },
        );
    });
    Slot::Invalid
}

fn read_stream(node: &Node, path: &str, issues: &mut Issues) -> Slot<String> {
    let Some(s) = expect_string(node, path, "stream", issues) else {
        return Slot::Invalid;
    };
    let mut ok = true;
    let length = char_count(s);
    if length > 128 {
        ok = false;
        report!(
            issues,
            IssueCode::StreamLength,
            path,
            format!("stream must be at most 128 characters long (it has {length})."),
            Params {
                length: Some(length as u64),
                max: Some(128),
                ..Params::default()
            },
        );
    }
    if !all_in(s, NAME) {
        ok = false;
        report!(
            issues,
            IssueCode::StreamCharacters,
            path,
            concat(&[
                "stream may contain only letters, digits, '_', '.' and '-'",
                whitespace_note(s),
                ".",
            ]),
            Params::default(),
        );
    }
    if ok {
        Slot::Valid(s.to_string())
    } else {
        Slot::Invalid
    }
}

fn read_shards(node: &Node, path: &str, issues: &mut Issues) -> Slot<u32> {
    let Some(n) = expect_integer(node, path, "shards", issues) else {
        return Slot::Invalid;
    };
    if !(1..=MAX_SHARDS).contains(&n) {
        report!(
            issues,
            IssueCode::ShardsRange,
            path,
            concat(&[
                "shards must be between 1 and ",
                &decimal(MAX_SHARDS),
                " (it is ",
                &decimal(n),
                ").",
            ]),
            Params {
                min: Some(1),
                max: Some(MAX_SHARDS),
                ..Params::default()
            },
        );
        return Slot::Invalid;
    }
    u32::try_from(n).map_or(Slot::Invalid, Slot::Valid)
}

fn read_rate(node: &Node, field: Field, limit: u64, unit: &str, issues: &mut Issues) -> Slot<u64> {
    let (path, name) = (field.pointer(), field.name());
    let Some(n) = expect_integer(node, path, name, issues) else {
        return Slot::Invalid;
    };
    let (range, above) = if field == Field::MaxRecordsPerShardPerSecond {
        (IssueCode::MaxRecordsRange, IssueCode::MaxRecordsAboveLimit)
    } else {
        (IssueCode::MaxBytesRange, IssueCode::MaxBytesAboveLimit)
    };
    if n < 1 {
        report!(
            issues,
            range,
            path,
            concat(&[name, " must be at least 1 (it is ", &decimal(n), ")."]),
            Params {
                min: Some(1),
                ..Params::default()
            },
        );
        return Slot::Invalid;
    }
    let n = n.unsigned_abs();
    if n > limit {
        report!(
            issues,
            above,
            path,
            format!("{name} is above Kinesis's write limit of {limit} {unit} per second per shard; writes past it are throttled."),
            Params { max: Some(limit as i64), ..Params::default() },
        );
    }
    Slot::Valid(n)
}

/// `_mtd_` and digits, or a method name: a letter first, then letters, digits, `_`, `-`.
pub(crate) fn is_method_id(s: &str) -> bool {
    if let Some(digits) = s.strip_prefix("_mtd_") {
        return !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    }
    s.len() <= 64 && s.as_bytes().first().is_some_and(u8::is_ascii_alphabetic) && all_in(s, METHOD)
}

fn read_method(node: &Node, path: &str, issues: &mut Issues) -> Slot<String> {
    let Some(s) = expect_string(node, path, Field::DataProcessingMethodId.name(), issues) else {
        return Slot::Invalid;
    };
    if !is_method_id(s) {
        report!(
            issues,
            IssueCode::MethodFormat,
            path,
            "dataProcessingMethodId must be a method id (_mtd_ and digits) or a method name (a letter, then letters, digits, '_' or '-'; no '.'; at most 64).".into(),
            Params::default(),
        );
        return Slot::Invalid;
    }
    Slot::Valid(s.to_string())
}

fn read_bool(node: &Node, path: &str, name: &str, issues: &mut Issues) -> Slot<bool> {
    match node.value {
        Json::Bool(b) => Slot::Valid(b),
        _ => {
            type_error(issues, node, path, name, "boolean");
            Slot::Invalid
        }
    }
}

fn expect_string<'n>(
    node: &'n Node,
    path: &str,
    name: &str,
    issues: &mut Issues,
) -> Option<&'n str> {
    match &node.value {
        Json::String(s) if is_blank(s) => {
            report!(
                issues,
                IssueCode::FieldEmpty,
                path,
                concat(&[name, " must not be empty."]),
                Params {
                    field: Some(name.into()),
                    ..Params::default()
                },
            );
            None
        }
        Json::String(s) => Some(s),
        _ => {
            type_error(issues, node, path, name, "string");
            None
        }
    }
}

/// An integer within ±2^53 (a number with no fractional part, as JSON Schema counts it).
fn expect_integer(node: &Node, path: &str, name: &str, issues: &mut Issues) -> Option<i64> {
    let text = match &node.value {
        Json::Number(text) => text,
        Json::String(s) if is_blank(s) => {
            report!(
                issues,
                IssueCode::FieldEmpty,
                path,
                concat(&[name, " must not be empty."]),
                Params {
                    field: Some(name.into()),
                    ..Params::default()
                },
            );
            return None;
        }
        _ => {
            type_error(issues, node, path, name, "integer");
            return None;
        }
    };
    match integer_value(text) {
        Integer::Safe(n) => Some(n),
        Integer::Unsafe => {
            report!(
                issues,
                IssueCode::FieldUnsafeInteger,
                path,
                format!("{name} is beyond ±2^53, where JSON numbers lose precision."),
                Params {
                    max: Some(MAX_SAFE),
                    ..Params::default()
                },
            );
            None
        }
        Integer::Fraction => {
            type_error(issues, node, path, name, "integer");
            None
        }
    }
}

/// What a JSON number denotes, decided on its decimal text (no floating point: exact, and
/// keeps float parsing out of the wasm build).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Integer {
    /// A whole number within ±2^53.
    Safe(i64),
    /// A whole number beyond ±2^53.
    Unsafe,
    /// Not a whole number.
    Fraction,
}

pub(crate) fn integer_value(text: &str) -> Integer {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    // The usual number: at most 15 digits, below 2^53 whatever they are.
    if !unsigned.is_empty() && unsigned.len() <= 15 && unsigned.bytes().all(|d| d.is_ascii_digit())
    {
        let value = unsigned
            .bytes()
            .fold(0_i64, |n, d| n * 10 + i64::from(d - b'0'));
        return Integer::Safe(if negative { -value } else { value });
    }
    apart(|| exact_integer_value(negative, unsigned))
}

/// [`integer_value`] of any other number text: exactly, from its digits and exponent.
fn exact_integer_value(negative: bool, unsigned: &str) -> Integer {
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(i) => {
            let e = &unsigned[i + 1..];
            let e = e.strip_prefix('+').unwrap_or(e);
            // Exponents this large are far past ±2^53 (or far below 1) either way.
            (
                &unsigned[..i],
                e.parse::<i32>()
                    .unwrap_or(if e.starts_with('-') { -9999 } else { 9999 }),
            )
        }
        None => (unsigned, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = || whole.bytes().chain(fraction.bytes());
    // Significant digits, and the power of ten that scales them.
    let leading = digits().take_while(|&d| d == b'0').count();
    let total = whole.len() + fraction.len();
    if leading == total {
        return Integer::Safe(0);
    }
    let trailing = digits().rev().take_while(|&d| d == b'0').count();
    let significant = total - leading - trailing;
    let scale = i64::from(exponent) - fraction.len() as i64 + trailing as i64;
    if scale < 0 {
        return Integer::Fraction;
    }
    if significant as i64 + scale > 16 {
        return Integer::Unsafe;
    }
    let mut value: i64 = 0;
    for d in digits().skip(leading).take(significant) {
        value = value * 10 + i64::from(d - b'0');
    }
    for _ in 0..scale {
        value *= 10;
    }
    if value > MAX_SAFE {
        return Integer::Unsafe;
    }
    Integer::Safe(if negative { -value } else { value })
}

/// `kind` with its article ("an object", "a string", "null"), as messages name a type.
fn article(kind: &str) -> String {
    let mut out = String::with_capacity(kind.len() + 3);
    push_article(&mut out, kind);
    out
}

fn push_article(out: &mut String, kind: &str) {
    match kind {
        "array" | "object" | "integer" | "undefined" => out.push_str("an "),
        "null" | "NaN" | "Infinity" | "-Infinity" => {}
        _ => out.push_str("a "),
    }
    out.push_str(kind);
}

/// `n` in decimal, as `format!` writes it, without its machinery (the messages of the
/// ranges: one of the commonest invalid payloads is a count below 1), by `write.rs`'s writer.
fn decimal(n: i64) -> String {
    let mut out = Vec::with_capacity(20);
    crate::write::signed(&mut out, n);
    String::from_utf8(out).unwrap_or_default()
}

/// The pieces written one after another into a string sized once (the messages the invalid
/// payloads meet most, without `format!`'s machinery).
fn concat(pieces: &[&str]) -> String {
    let mut out = String::with_capacity(pieces.iter().map(|p| p.len()).sum::<usize>() + 8);
    for piece in pieces {
        out.push_str(piece);
    }
    out
}

#[cold]
#[inline(never)]
fn type_error(issues: &mut Issues, node: &Node, path: &str, name: &str, expected: &'static str) {
    if node.value == Json::Foreign(Foreign::Depth) {
        too_deep(issues, path);
        return;
    }
    let actual = node.value.kind();
    let mut message = String::with_capacity(name.len() + expected.len() + actual.len() + 24);
    message.push_str(name);
    message.push_str(" must be ");
    push_article(&mut message, expected);
    message.push_str(", not ");
    push_article(&mut message, actual);
    message.push('.');
    issues.report(
        IssueCode::FieldType,
        path,
        message,
        Params {
            expected: Some(expected.into()),
            actual: Some(actual.into()),
            ..Params::default()
        },
    );
}

#[cold]
#[inline(never)]
pub(crate) fn too_deep(issues: &mut Issues, path: &str) {
    issues.report(
        IssueCode::InputTooDeep,
        path,
        format!(
            "The value is nested more than {} levels deep.",
            crate::json::MAX_DEPTH
        ),
        Params {
            max: Some(crate::json::MAX_DEPTH as i64),
            ..Params::default()
        },
    );
}

#[cold]
#[inline(never)]
fn missing(issues: &mut Issues, parent: &str, name: &str) {
    let label = if parent.is_empty() {
        name.to_string()
    } else {
        concat(&[&parent[1..], ".", name])
    };
    issues.report(
        IssueCode::FieldRequired,
        concat(&[parent, "/", name]),
        concat(&[&label, " is required."]),
        Params {
            field: Some(label.clone()),
            ..Params::default()
        },
    );
}

#[cold]
#[inline(never)]
fn unknown_field(
    issues: &mut Issues,
    parent: &str,
    key: &str,
    known: &[&str],
    alias: Option<&str>,
) {
    let mut path = String::with_capacity(parent.len() + key.len() + 1);
    path.push_str(parent);
    path.push('/');
    crate::json::escape_token(key, &mut path);
    let suggestion = suggest_field(key, known.iter().copied().chain(alias));
    let field = clip(key);
    let (place, of) = match parent {
        "" => ("a connector field", ""),
        _ => ("a field of ", &parent[1..]),
    };
    let message = match &suggestion {
        Some(s) => concat(&[
            "\"",
            &field,
            "\" is not ",
            place,
            of,
            "; did you mean \"",
            s,
            "\"?",
        ]),
        None => concat(&["\"", &field, "\" is not ", place, of, "."]),
    };
    issues.report(
        IssueCode::FieldUnknown,
        path,
        message,
        Params {
            field: Some(field),
            suggestion,
            ..Params::default()
        },
    );
}

/// "Did you mean": same letters ignoring case and separators, a prefix, or a small typo.
fn suggest_field<'k>(key: &str, known: impl Iterator<Item = &'k str> + Clone) -> Option<String> {
    if key.len() > 64 {
        return None;
    }
    let mut buf = [0u8; 64];
    let squashed = squash_into(key, &mut buf);
    if squashed.is_empty() {
        return None;
    }
    if let Some(k) = known.clone().find(|k| squashed_eq(k, squashed)) {
        return Some(k.to_string());
    }
    if squashed.len() >= 4 {
        let mut prefixed = known.clone().filter(|k| squashed_prefix(k, squashed));
        if let (Some(only), None) = (prefixed.next(), prefixed.next()) {
            return Some(only.to_string());
        }
    }
    let max = (key.chars().count() / 3).clamp(1, 3);
    closest(key, known.map(|k| (k, k)), max).map(str::to_string)
}

fn report_duplicates(members: &[Member], parent: &str, issues: &mut Issues) {
    let mut report = |m: &Member| {
        let mut path = parent.to_string();
        path.push('/');
        crate::json::escape_token(&m.key, &mut path);
        report!(
            issues,
            IssueCode::InputDuplicateKey,
            path,
            format!(
                "The key \"{}\" appears more than once; the last one counts.",
                clip(&m.key)
            ),
            Params {
                field: Some(clip(&m.key)),
                ..Params::default()
            },
        );
    };
    if members.len() <= 32 {
        for (i, m) in members.iter().enumerate() {
            // Length and first byte first: most keys differ in one of them, so few reach memcmp.
            let key = m.key.as_bytes();
            if members[..i].iter().any(|earlier| {
                let e = earlier.key.as_bytes();
                e.len() == key.len() && e.first() == key.first() && e == key
            }) {
                report(m);
            }
        }
    } else {
        let mut seen = KeySet::with_capacity(members.len());
        for m in members {
            if !seen.insert(&m.key, false) {
                report(m);
            }
        }
    }
}

/// A set of strings for duplicate checks on large inputs: open addressing with FNV-1a, so
/// the wasm build carries neither a hasher nor a sort (a hostile object may have a million keys).
struct KeySet<'k> {
    slots: Vec<Option<&'k str>>,
}

impl<'k> KeySet<'k> {
    fn with_capacity(n: usize) -> Self {
        KeySet {
            slots: vec![None; (n * 2).next_power_of_two().max(16)],
        }
    }

    /// False when `key` (ASCII case-insensitively, with `fold`) was already there.
    fn insert(&mut self, key: &'k str, fold: bool) -> bool {
        let norm = |b: u8| if fold { b.to_ascii_lowercase() } else { b };
        let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(norm(b))).wrapping_mul(0x100_0000_01b3)
        });
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            match self.slots[i] {
                None => {
                    self.slots[i] = Some(key);
                    return true;
                }
                Some(k) if (fold && k.eq_ignore_ascii_case(key)) || (!fold && k == key) => {
                    return false
                }
                Some(_) => i = (i + 1) & mask,
            }
        }
    }
}

/// The context, as the checks need it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Ctx<'n, 'a> {
    pub current: Option<&'n Node<'a>>,
    pub existing_ids: Vec<Cow<'n, str>>,
    pub methods: Option<Vec<Cow<'n, str>>>,
}

/// Read the context argument (JS mode). A malformed context is reported, not ignored.
pub(crate) fn read_context<'n, 'a>(node: Option<&'n Node<'a>>, issues: &mut Issues) -> Ctx<'n, 'a> {
    match node {
        None => Ctx::default(),
        Some(node) => apart(|| read_context_node(node, issues)),
    }
}

fn read_context_node<'n, 'a>(node: &'n Node<'a>, issues: &mut Issues) -> Ctx<'n, 'a> {
    let mut ctx = Ctx::default();
    let members = match &node.value {
        Json::Null | Json::Foreign(Foreign::Undefined) => return ctx,
        Json::Object(members) => members,
        _ => {
            context_invalid(
                issues,
                "context",
                "The context must be an object { current?, existingIds?, methods? }.",
            );
            return ctx;
        }
    };
    for m in members {
        match (&*m.key, &m.value.value) {
            (_, Json::Foreign(Foreign::Undefined) | Json::Null) => {}
            ("current", _) => ctx.current = Some(&m.value),
            ("existingIds", _) => match strings(&m.value) {
                Some(ids) => ctx.existing_ids = ids,
                None => context_invalid(
                    issues,
                    "existingIds",
                    "context.existingIds must be an array of strings.",
                ),
            },
            ("methods", _) => match strings(&m.value) {
                Some(methods) => ctx.methods = Some(methods),
                None => context_invalid(
                    issues,
                    "methods",
                    "context.methods must be an array of strings.",
                ),
            },
            (key, _) => context_invalid(
                issues,
                "context",
                &format!(
                    "\"{}\" is not a context field (current, existingIds, methods).",
                    clip(key)
                ),
            ),
        }
    }
    ctx
}

fn strings<'n>(node: &'n Node) -> Option<Vec<Cow<'n, str>>> {
    match &node.value {
        Json::Array(items) => items
            .iter()
            .map(|i| match &i.value {
                Json::String(s) => Some(Cow::Borrowed(&**s)),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

pub(crate) fn context_invalid(issues: &mut Issues, field: &str, message: &str) {
    report!(
        issues,
        IssueCode::ContextInvalid,
        "",
        message.to_string(),
        Params {
            field: Some(field.into()),
            ..Params::default()
        },
    );
}

/// The checks that need the app: unique id, at most 10 connectors, a known method.
pub(crate) fn check_context(fields: &Fields, ctx: &Ctx, creating: bool, issues: &mut Issues) {
    // Most calls have no context: answer before the checks, which then stay uncompiled in V8.
    if ctx.existing_ids.is_empty() && ctx.methods.is_none() {
        return;
    }
    apart(|| check_against(fields, ctx, creating, issues));
}

fn check_against(fields: &Fields, ctx: &Ctx, creating: bool, issues: &mut Issues) {
    if creating {
        if let Some(id) = fields.id.valid() {
            if ctx.existing_ids.iter().any(|e| e.eq_ignore_ascii_case(id)) {
                report!(
                    issues,
                    IssueCode::IdDuplicate,
                    "/id",
                    format!("The app already has a connector with the id \"{id}\" (ids are case-insensitive)."),
                    Params::default(),
                );
            }
        }
        let mut seen = KeySet::with_capacity(ctx.existing_ids.len());
        let distinct = ctx
            .existing_ids
            .iter()
            .filter(|e| seen.insert(e, true))
            .count();
        if distinct >= MAX_CONNECTORS {
            report!(
                issues,
                IssueCode::AppConnectorLimit,
                "",
                format!(
                    "The app already holds {distinct} connectors; an app holds at most {MAX_CONNECTORS}."
                ),
                Params {
                    max: Some(MAX_CONNECTORS as i64),
                    ..Params::default()
                },
            );
        }
    }
    if let (Some(methods), Some(method)) = (&ctx.methods, fields.method.valid()) {
        if !methods.iter().any(|m| m.eq_ignore_ascii_case(method)) {
            let suggestion =
                closest(method, methods.iter().map(|m| (&**m, &**m)), 3).map(str::to_string);
            let hint = match &suggestion {
                Some(s) => format!("; did you mean \"{s}\"?"),
                None => ".".into(),
            };
            report!(
                issues,
                IssueCode::MethodUnknown,
                format!("/{}", fields.method_key),
                format!("The app has no method \"{}\"{hint}", clip(method)),
                Params {
                    suggestion,
                    ..Params::default()
                },
            );
        }
    }
}

/// The shard counts after each UpdateShardCount call from `from` to `to` (each call at most
/// doubles or halves the count).
pub fn reshard_plan(from: u32, to: u32) -> Vec<u32> {
    let mut plan = Vec::new();
    let mut current = u64::from(from.max(1));
    let to = u64::from(to.max(1));
    while current < to {
        current = (current * 2).min(to);
        plan.push(current as u32);
    }
    while current > to {
        current = current.div_ceil(2).max(to);
        plan.push(current as u32);
    }
    plan
}

pub(crate) fn reshard_warnings(from: u32, to: u32, issues: &mut Issues) {
    let plan = reshard_plan(from, to);
    let steps = plan.len();
    let mut route = from.to_string();
    for n in &plan {
        route.push_str(" → ");
        route.push_str(&n.to_string());
    }
    report!(
        issues,
        IssueCode::ShardsReshard,
        "/shards",
        format!(
            "Changing shards from {from} to {to} takes {steps} UpdateShardCount call{} ({}).",
            if steps == 1 { "" } else { "s" },
            route
        ),
        Params {
            from: Some(from),
            to: Some(to),
            steps: Some(steps as u32),
            plan: Some(plan),
            ..Params::default()
        },
    );
    if steps > RESHARD_DAILY_CALLS {
        report!(
            issues,
            IssueCode::ShardsReshardDailyLimit,
            "/shards",
            format!("The change needs {steps} UpdateShardCount calls; Kinesis allows {RESHARD_DAILY_CALLS} per rolling 24 hours, so it takes more than a day."),
            Params { steps: Some(steps as u32), max: Some(RESHARD_DAILY_CALLS as i64), ..Params::default() },
        );
    }
}

/// Build the connector from fields that passed every check.
pub(crate) fn to_connector(f: &Fields) -> Option<Connector> {
    into_connector(f.clone())
}

/// [`to_connector`] taking the fields, so their strings move into the connector (the create
/// path: no second copy of each string).
pub(crate) fn into_connector(f: Fields) -> Option<Connector> {
    let credentials = match f.credentials {
        Slot::Valid(c) => Some(Credentials {
            user: c.user.into_valid()?,
            password: c.password.into_valid().map(Secret::new),
        }),
        Slot::Absent => None,
        _ => return None,
    };
    Some(Connector {
        kind: f.kind.into_valid()?,
        id: f.id.into_valid()?,
        credentials,
        region: f.region.into_valid()?,
        stream: f.stream.into_valid()?,
        shards: f.shards.into_valid()?,
        max_records_per_shard_per_second: f.max_records.into_valid()?,
        max_bytes_per_shard_per_second: f.max_bytes.into_valid()?,
        data_processing_method_id: f.method.into_valid(),
        disabled: f.disabled.into_valid().unwrap_or(false),
    })
}

pub(crate) fn to_update(f: &Fields) -> UpdatePayload {
    let optional = |slot: &Slot<String>| match slot {
        Slot::Valid(v) => Some(Some(v.clone())),
        Slot::Null => Some(None),
        _ => None,
    };
    UpdatePayload {
        kind: f.kind.valid().copied(),
        id: f.id.valid().cloned(),
        credentials: f.credentials.valid().and_then(|c| {
            Some(Credentials {
                user: c.user.valid()?.clone(),
                password: c.password.valid().map(|p| Secret::new(p.clone())),
            })
        }),
        region: f.region.valid().copied(),
        stream: f.stream.valid().cloned(),
        shards: f.shards.valid().copied(),
        max_records_per_shard_per_second: f.max_records.valid().copied(),
        max_bytes_per_shard_per_second: f.max_bytes.valid().copied(),
        data_processing_method_id: optional(&f.method),
        disabled: match f.disabled {
            Slot::Valid(b) => Some(Some(b)),
            Slot::Null => Some(None),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::{integer_value, Integer};

    #[test]
    fn decimal_is_what_format_writes() {
        for n in [
            0,
            1,
            -1,
            9,
            10,
            -10,
            99_999,
            100_000,
            -5,
            i64::MAX,
            i64::MIN,
            1 << 53,
        ] {
            assert_eq!(super::decimal(n), n.to_string());
        }
    }

    #[test]
    fn the_character_classes_are_the_rules() {
        use super::{CLASSES, KEY_ID, METHOD, NAME, SECRET, WORD};
        for c in 0..=255u8 {
            let has = |class: u8| CLASSES[c as usize] & class != 0;
            let alnum = c.is_ascii_alphanumeric();
            assert_eq!(has(NAME), alnum || matches!(c, b'.' | b'-' | b'_'), "{c}");
            assert_eq!(has(WORD), alnum || c == b'_', "{c}");
            assert_eq!(has(SECRET), alnum || matches!(c, b'/' | b'+' | b'='), "{c}");
            assert_eq!(has(METHOD), alnum || matches!(c, b'_' | b'-'), "{c}");
            assert_eq!(
                has(KEY_ID),
                c.is_ascii_uppercase() || c.is_ascii_digit(),
                "{c}"
            );
        }
    }

    #[test]
    fn integers_are_read_exactly() {
        assert_eq!(integer_value("0"), Integer::Safe(0));
        assert_eq!(integer_value("-0.0e5"), Integer::Safe(0));
        assert_eq!(integer_value("1.0"), Integer::Safe(1));
        assert_eq!(integer_value("1e3"), Integer::Safe(1000));
        assert_eq!(integer_value("1.5e1"), Integer::Safe(15));
        assert_eq!(integer_value("-42"), Integer::Safe(-42));
        assert_eq!(integer_value("1.5"), Integer::Fraction);
        assert_eq!(integer_value("1e-1"), Integer::Fraction);
        assert_eq!(integer_value("9007199254740992"), Integer::Safe(1 << 53));
        assert_eq!(integer_value("9007199254740993"), Integer::Unsafe);
        assert_eq!(integer_value("-9007199254740993"), Integer::Unsafe);
        assert_eq!(integer_value("1e400"), Integer::Unsafe);
        assert_eq!(
            integer_value("123456789012345678901234567890"),
            Integer::Unsafe
        );
        assert_eq!(integer_value("1e-400"), Integer::Fraction);
    }
}

#[cfg(test)]
mod duplicate_tests {
    #[test]
    fn duplicates_in_large_objects_are_all_reported_in_order() {
        let mut keys: Vec<String> = (0..40).map(|i| format!("\"k{i:02}\":1")).collect();
        keys.push("\"k07\":2".into());
        keys.push("\"k33\":2".into());
        keys.push("\"k07\":3".into());
        let text = format!("{{{}}}", keys.join(","));
        let result = crate::validate_create_json(&text, &crate::Context::default());
        let dups: Vec<&str> = result
            .errors
            .iter()
            .filter(|i| i.code == crate::IssueCode::InputDuplicateKey)
            .map(|i| i.path.as_str())
            .collect();
        assert_eq!(dups, ["/k07", "/k33", "/k07"]);
    }

    #[test]
    fn the_connector_limit_counts_distinct_ids_case_insensitively() {
        let ids: Vec<String> = (0..9)
            .map(|i| format!("dc{i}"))
            .chain(["DC0".into(), "dc0".into()])
            .collect();
        let ctx = crate::Context {
            existing_ids: ids.clone(),
            ..Default::default()
        };
        let seed = serde_json::json!({"type":"aws-kinesis","id":"new1","credentials":{"user":"AKIAIOSFODNN7EXAMPLE","password":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},"region":"us-west-2","stream":"s","shards":1,"maxRecordsPerShardPerSecond":1,"maxBytesPerShardPerSecond":1});
        assert!(
            crate::validate_create(&seed, &ctx).valid,
            "9 distinct ids leave room for one more"
        );
        let mut ids = ids;
        ids.push("dc9".into());
        let ctx = crate::Context {
            existing_ids: ids,
            ..Default::default()
        };
        let result = crate::validate_create(&seed, &ctx);
        assert_eq!(
            result.errors.iter().map(|i| i.code).collect::<Vec<_>>(),
            [crate::IssueCode::AppConnectorLimit]
        );
    }
}
