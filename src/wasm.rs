//! The WebAssembly binding: `#[wasm_bindgen]` exports, text in, JSON text or a compact table
//! out, one dispatch, one error path.
//!
//! Each export takes the JSON text the JS layer (pkg/src/api.js) wrote for its arguments and
//! returns the result as JSON text; wasm-bindgen generates the glue that copies the strings. The
//! validations answer with a number instead: their result is a compact table in memory
//! (`compact.rs`) or waits as JSON text for `takeResult` (ARCHITECTURE.md, "The wasm binding").
//! Text crosses faster than structured values read field by field (measured, see
//! ARCHITECTURE.md "Decisions"), and the core reads JS values and user text with one parser.
//! Memory is the bump arena of `arena.rs`: an export asks it to empty itself at the next
//! allocation, after the glue has read (and freed) the result.

use std::cell::Cell;

use wasm_bindgen::prelude::wasm_bindgen;

use crate::arena::ARENA;
use crate::compact;
use crate::write::WriteJson;

use crate::issues::{apart, IssueCode, Issues};
use crate::json::{self, Node, SyntaxErrorKind};
use crate::ops::Op;
use crate::validate::{read_context, Ctx};

/// Runs `op` on the argument texts (`None`: the argument was absent) and hands the result over.
fn run(op: Op, a: Option<&str>, b: Option<&str>, c: Option<&str>) -> String {
    let mut out = Vec::with_capacity(1024);
    dispatch(op, a, b, c, &mut out);
    let result = String::from_utf8(out)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    // Between here and the glue reading the result nothing allocates: wasm-bindgen's conversion
    // of the String only shrinks it, which the arena does in place.
    ARENA.reset_before_next_alloc();
    result
}

/// What a validation export answers: its result waits as JSON text for [`take_result`].
const FULL: u32 = 0;
/// What a validation export answers: the result is a table, and the strings its issues slice
/// are UTF-8 beside it, both where [`Answer`]'s words say (see `compact.rs`).
const COMPACT: u32 = 1;

/// What a validation leaves for the glue to read. wasm is single-threaded (no atomics).
struct Answer {
    /// `[table, pieces, pieces' length]` of a [`COMPACT`] answer: the table's address, and the
    /// address and byte length of the UTF-8 its issues slice. The glue reads these three words
    /// from memory (their address is [`answer_words`]) instead of asking for each.
    words: [Cell<u32>; 3],
    /// The result's text (a [`FULL`] answer), or the pieces of a [`COMPACT`] one, kept here
    /// until the next validation.
    result: Cell<Option<String>>,
}

// SAFETY: the module runs on one thread (wasm32 without atomics), like the arena.
unsafe impl Sync for Answer {}

static ANSWER: Answer = Answer {
    words: [Cell::new(0), Cell::new(0), Cell::new(0)],
    result: Cell::new(None),
};

/// What [`validate_members`] answers when the members do not describe an object exactly: the
/// glue sends the text instead.
const NOT_READ: u32 = 2;

/// Runs a validation op on the argument texts; the answer is [`FULL`] or [`COMPACT`].
fn validation(op: Op, text: &str, context: Option<&str>) -> u32 {
    answer_validation(op, text, None, context)
}

/// [`validation`], of `input` (read from the members' table) when given, else of `text`.
fn answer_validation(op: Op, text: &str, input: Option<Node>, context: Option<&str>) -> u32 {
    // A result the glue did not take lives in the arena, which reclaims it: never free it.
    std::mem::forget(ANSWER.result.take());
    let mut out = Vec::with_capacity(1024);
    let answer = match validate(op, text, input, context, &mut out, true) {
        Some(table) => {
            let [words, pieces, length] = &ANSWER.words;
            words.set(table.words.as_ptr() as u32);
            pieces.set(table.pieces.as_ptr() as u32);
            length.set(table.pieces.len() as u32);
            // The table and the pieces stay where they are until the arena resets (the next
            // call).
            std::mem::forget(table.words);
            ANSWER.result.set(Some(table.pieces));
            COMPACT
        }
        None => {
            let result = String::from_utf8(out)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
            ANSWER.result.set(Some(result));
            FULL
        }
    };
    // The glue reads the answer before it calls again; taking the text allocates nothing.
    ARENA.reset_before_next_alloc();
    answer
}

#[wasm_bindgen(js_name = validateCreate)]
pub fn validate_create(input: &str, context: Option<String>) -> u32 {
    validation(Op::ValidateCreate, input, context.as_deref())
}

#[wasm_bindgen(js_name = validateUpdate)]
pub fn validate_update(input: &str, context: Option<String>) -> u32 {
    validation(Op::ValidateUpdate, input, context.as_deref())
}

#[wasm_bindgen(js_name = validateCreateJson)]
pub fn validate_create_json(text: &str, context: Option<String>) -> u32 {
    validation(Op::ValidateCreateJson, text, context.as_deref())
}

#[wasm_bindgen(js_name = validateUpdateJson)]
pub fn validate_update_json(text: &str, context: Option<String>) -> u32 {
    validation(Op::ValidateUpdateJson, text, context.as_deref())
}

/// `validateCreate` / `validateUpdate` of an object the glue wrote as members (`members.rs`):
/// `entries` entries in the members' table, their texts in `text`. [`NOT_READ`] when they do
/// not describe an object exactly.
#[wasm_bindgen(js_name = validateMembers)]
pub fn validate_members(text: &str, entries: u32, update: bool, context: Option<String>) -> u32 {
    let Some(input) = crate::members::read_table(text, entries as usize) else {
        ARENA.reset_before_next_alloc();
        return NOT_READ;
    };
    let op = if update {
        Op::ValidateUpdate
    } else {
        Op::ValidateCreate
    };
    answer_validation(op, text, Some(input), context.as_deref())
}

/// Where the members' table of [`validate_members`] is in linear memory, and how many entries
/// it holds, as `address | capacity` (the address is 4-aligned; the capacity is below 256).
#[wasm_bindgen(js_name = membersTable)]
pub fn members_table() -> u32 {
    crate::members::TABLE.address() as u32 | crate::members::CAPACITY as u32
}

/// The JSON text of the last validation that answered [`FULL`] (`""` once taken).
#[wasm_bindgen(js_name = takeResult)]
pub fn take_result() -> String {
    ANSWER.result.take().unwrap_or_default()
}

/// Where [`Answer`]'s three words are in linear memory (the glue reads them after each
/// [`COMPACT`] answer).
#[wasm_bindgen(js_name = answerWords)]
pub fn answer_words() -> u32 {
    ANSWER.words.as_ptr() as u32
}

/// The keys and codes the tables index, one a line (the glue interns them once).
#[wasm_bindgen(js_name = compactStrings)]
pub fn compact_strings() -> String {
    let lines = compact::strings();
    ARENA.reset_before_next_alloc();
    lines
}

#[wasm_bindgen(js_name = normalizeCreate)]
pub fn normalize_create(input: &str) -> String {
    run(Op::NormalizeCreate, Some(input), None, None)
}

#[wasm_bindgen(js_name = normalizeUpdate)]
pub fn normalize_update(input: &str) -> String {
    run(Op::NormalizeUpdate, Some(input), None, None)
}

#[wasm_bindgen]
pub fn diff(saved: &str, desired: &str, context: Option<String>) -> String {
    run(Op::Diff, Some(saved), Some(desired), context.as_deref())
}

#[wasm_bindgen(js_name = applyUpdate)]
pub fn apply_update(saved: &str, update: &str) -> String {
    run(Op::ApplyUpdate, Some(saved), Some(update), None)
}

#[wasm_bindgen]
pub fn regions() -> String {
    run(Op::Regions, None, None, None)
}

#[wasm_bindgen(js_name = createSchema)]
pub fn create_schema() -> String {
    run(Op::CreateSchema, None, None, None)
}

#[wasm_bindgen(js_name = updateSchema)]
pub fn update_schema() -> String {
    run(Op::UpdateSchema, None, None, None)
}

/// Where `pointer` is in the JSON `text`: `"line:column"` (1-based, columns in characters), or
/// `""` when the text does not parse or has no such value (the npm bin's report, as the CLI's).
#[wasm_bindgen]
pub fn locate(text: &str, pointer: &str) -> String {
    let mut out = Vec::new();
    if let Some((line, column)) = crate::json::locate(text, pointer) {
        crate::write::unsigned(&mut out, line as u64);
        out.push(b':');
        crate::write::unsigned(&mut out, column as u64);
    }
    let out = String::from_utf8(out).unwrap_or_default();
    ARENA.reset_before_next_alloc();
    out
}

/// The package's operations (src/ops.rs), one name a line: pkg/build.mjs checks that the
/// generated glue exports each and that pkg/src/api.js wraps each.
#[wasm_bindgen(js_name = operations)]
pub fn operations() -> String {
    let mut names = String::new();
    for op in Op::ALL {
        names.push_str(op.name());
        names.push('\n');
    }
    ARENA.reset_before_next_alloc();
    names
}

fn write_json<T: WriteJson>(out: &mut Vec<u8>, value: &T) {
    value.write_json(out);
}

/// Parse an argument the glue serialized from a JS value (markers allowed).
fn js_value<'a>(text: Option<&'a str>, issues: &mut Issues) -> Node<'a> {
    let undefined = Node::detached(json::Json::Foreign(json::Foreign::Undefined));
    let Some(text) = text else { return undefined };
    match json::parse_js(text) {
        Ok(node) => node,
        Err(e) => {
            match &e.kind {
                SyntaxErrorKind::TooDeep { pointer } => crate::validate::too_deep(issues, pointer),
                SyntaxErrorKind::Invalid(_) => issues.report(
                    IssueCode::InputInternal,
                    "",
                    format!("The value could not be read ({e})."),
                    crate::issues::Params::default(),
                ),
            }
            undefined
        }
    }
}

fn context<'a>(text: Option<&'a str>, issues: &mut Issues) -> Option<Node<'a>> {
    text.map(|text| js_value(Some(text), issues))
}

/// A validation: its compact table when `compact` allows it and the result can be one
/// (`compact.rs`), else `None` with the result written to `out` as JSON.
fn validate<'a>(
    op: Op,
    text: &'a str,
    input: Option<Node<'a>>,
    context: Option<&str>,
    out: &mut Vec<u8>,
    compact: bool,
) -> Option<compact::Table> {
    let mut issues = Issues::default();
    let context_node = self::context(context, &mut issues);
    let ctx: Ctx = read_context(context_node.as_ref(), &mut issues);
    let input = match (input, op) {
        (Some(node), _) => Some(node),
        (None, Op::ValidateCreate | Op::ValidateUpdate) => Some(js_value(Some(text), &mut issues)),
        (None, _) => crate::parse(text, &mut issues),
    };
    let root = input.as_ref();
    let table = if matches!(op, Op::ValidateCreate | Op::ValidateCreateJson) {
        answer(text, root, out, compact, || match root {
            Some(node) => crate::create(node, &ctx, &mut issues),
            None => crate::finish::<crate::Connector>(issues, None),
        })
    } else {
        answer(text, root, out, compact, || match root {
            Some(node) => crate::update(node, &ctx, &mut issues),
            None => crate::finish::<crate::UpdatePayload>(issues, None),
        })
    };
    // What a validation built is left to the arena, which reclaims it all at the next call:
    // dropping the trees would only walk them to free each string (~3% of a valid call).
    std::mem::forget(input);
    std::mem::forget(context_node);
    table
}

/// Runs `check` and answers its result: as a compact table when `compact` allows it and the
/// result can be one (`compact.rs`), else `None` with the result written to `out` as JSON.
/// Apart (`issues::apart`), so that a call compiles only its own kind, create or update.
fn answer<T: WriteJson + compact::Value>(
    text: &str,
    root: Option<&Node>,
    out: &mut Vec<u8>,
    compact: bool,
    check: impl FnOnce() -> crate::ValidationResult<T>,
) -> Option<compact::Table> {
    apart(|| {
        let result = check();
        let table = if compact {
            compact::validation(text, root, &result)
        } else {
            None
        };
        if table.is_none() {
            write_json(out, &result);
        }
        // Left to the arena, as `validate` leaves its trees.
        std::mem::forget(result);
        table
    })
}

fn dispatch(op: Op, a: Option<&str>, b: Option<&str>, c: Option<&str>, out: &mut Vec<u8>) {
    let mut issues = Issues::default();
    match op {
        Op::ValidateCreate
        | Op::ValidateUpdate
        | Op::ValidateCreateJson
        | Op::ValidateUpdateJson => {
            // (The exports call `validation`; this keeps `run` whole for every op.)
            validate(op, a.unwrap_or_default(), None, b, out, false);
        }
        Op::NormalizeCreate | Op::NormalizeUpdate => write_json(
            out,
            &crate::normalize_node(&js_value(a, &mut issues), op == Op::NormalizeCreate),
        ),
        Op::Diff => {
            // The context comes first, as in the native `diff_in`.
            let context_node = context(c, &mut issues);
            let ctx = context_node
                .as_ref()
                .map(|node| read_context(Some(node), &mut issues));
            let saved = js_value(a, &mut issues);
            let desired = js_value(b, &mut issues);
            write_json(
                out,
                &crate::diff::diff(&saved, &desired, ctx.as_ref(), issues),
            )
        }
        Op::ApplyUpdate => {
            let saved = js_value(a, &mut issues);
            let update = js_value(b, &mut issues);
            write_json(out, &crate::apply(&saved, &update, issues))
        }
        Op::Regions => write_json(out, &crate::regions()),
        Op::CreateSchema => out.extend_from_slice(crate::schema::create_schema_text().as_bytes()),
        Op::UpdateSchema => out.extend_from_slice(crate::schema::update_schema_text().as_bytes()),
    }
}
