//! The WebAssembly binding: text in, JSON text out, one dispatch, one error path.
//!
//! No wasm-bindgen: every export takes UTF-8 buffers the JS glue (pkg/src/glue.js) wrote into
//! linear memory and leaves the result JSON in one buffer the glue reads back. Measured, this is
//! several times faster than reading JS objects field by field through serde-wasm-bindgen, and
//! the module imports nothing. See ARCHITECTURE.md ("The wasm ABI").

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};

use crate::arena::ARENA;
use crate::write::WriteJson;

use crate::issues::{IssueCode, Issues};
use crate::json::{self, Node, SyntaxErrorKind};
use crate::ops::{Op, LIST_OPS};
use crate::validate::{read_context, Ctx};

/// The last result (in the arena, alive until the next call's first allocation).
static RESULT_PTR: AtomicUsize = AtomicUsize::new(0);
/// Set when a call has returned: the next `kc_alloc` or `kc_call` empties the arena first
/// (the glue has read the result by then).
static CALL_DONE: AtomicBool = AtomicBool::new(false);

fn start_call() {
    if CALL_DONE.swap(false, Relaxed) {
        ARENA.reset();
    }
}

/// A buffer of `len` bytes for an argument; `kc_call` takes ownership of it.
#[no_mangle]
pub extern "C" fn kc_alloc(len: usize) -> *mut u8 {
    start_call();
    let mut buffer = std::mem::ManuallyDrop::new(Vec::<u8>::with_capacity(len.max(1)));
    buffer.as_mut_ptr()
}

/// Free a buffer from `kc_alloc` that was not passed to `kc_call`.
///
/// # Safety
/// `ptr` and `len` must come from one `kc_alloc(len)` call.
#[no_mangle]
pub unsafe extern "C" fn kc_free(ptr: *mut u8, len: usize) {
    // SAFETY: the caller passes back exactly what kc_alloc returned for this length.
    drop(unsafe { Vec::from_raw_parts(ptr, 0, len.max(1)) });
}

/// The address of the last result (valid until the next call).
#[no_mangle]
pub extern "C" fn kc_result_ptr() -> *const u8 {
    RESULT_PTR.load(Relaxed) as *const u8
}

const ABSENT: usize = u32::MAX as usize;

/// Run `op` on the argument texts; returns the length of the result JSON.
///
/// # Safety
/// Each `(ptr, len)` is a buffer from `kc_alloc(len)` filled with `len` bytes, or `len` is
/// `u32::MAX` for an absent argument.
#[no_mangle]
pub unsafe extern "C" fn kc_call(
    op: u32,
    a_ptr: *mut u8,
    a_len: usize,
    b_ptr: *mut u8,
    b_len: usize,
    c_ptr: *mut u8,
    c_len: usize,
) -> usize {
    // Without arguments no kc_alloc came first.
    start_call();
    // SAFETY: forwarded from this function's contract.
    let a = unsafe { take(a_ptr, a_len) };
    // SAFETY: as above.
    let b = unsafe { take(b_ptr, b_len) };
    // SAFETY: as above.
    let c = unsafe { take(c_ptr, c_len) };
    let mut out = Vec::with_capacity(1024);
    match Op::from_code(op) {
        Some(op) => dispatch(op, a.as_deref(), b.as_deref(), c.as_deref(), &mut out),
        None if op == LIST_OPS => list_ops(&mut out),
        None => out.extend_from_slice(br#"{"valid":false,"errors":[{"severity":"error","code":"input.internal","path":"","message":"Unknown operation.","params":{}}],"warnings":[]}"#),
    }
    let len = out.len();
    RESULT_PTR.store(out.as_ptr() as usize, Relaxed);
    // The arena reclaims it (and everything else of this call) at the next call.
    std::mem::forget(out);
    CALL_DONE.store(true, Relaxed);
    len
}

unsafe fn take(ptr: *mut u8, len: usize) -> Option<String> {
    if len == ABSENT {
        return None;
    }
    // SAFETY: the buffer came from kc_alloc(len) and holds len initialized bytes.
    let bytes = unsafe { Vec::from_raw_parts(ptr, len, len.max(1)) };
    Some(
        String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
    )
}

fn write_json<T: WriteJson>(out: &mut Vec<u8>, value: &T) {
    value.write_json(out);
}

/// `[{"code":1,"name":"validateCreate"},...]`: what pkg/build.mjs generates the glue's table from.
fn list_ops(out: &mut Vec<u8>) {
    out.push(b'[');
    for (i, op) in Op::ALL.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"code\":");
        crate::write::unsigned(out, op.code().into());
        out.extend_from_slice(b",\"name\":");
        crate::write::string(out, op.name());
        out.push(b'}');
    }
    out.push(b']');
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

fn dispatch(op: Op, a: Option<&str>, b: Option<&str>, c: Option<&str>, out: &mut Vec<u8>) {
    let mut issues = Issues::default();
    match op {
        Op::ValidateCreate
        | Op::ValidateUpdate
        | Op::ValidateCreateJson
        | Op::ValidateUpdateJson => {
            let context_node = context(b, &mut issues);
            let ctx: Ctx = read_context(context_node.as_ref(), &mut issues);
            let input = match op {
                Op::ValidateCreate | Op::ValidateUpdate => Some(js_value(a, &mut issues)),
                _ => match a {
                    Some(text) => crate::parse(text, &mut issues),
                    None => {
                        issues.report(
                            IssueCode::InputType,
                            "",
                            "The text must be a string of JSON.".into(),
                            crate::issues::Params {
                                expected: Some("string".into()),
                                ..Default::default()
                            },
                        );
                        None
                    }
                },
            };
            let creating = matches!(op, Op::ValidateCreate | Op::ValidateCreateJson);
            match (input, creating) {
                (Some(node), true) => write_json(out, &crate::create(&node, &ctx, &mut issues)),
                (Some(node), false) => write_json(out, &crate::update(&node, &ctx, &mut issues)),
                (None, true) => write_json(out, &crate::finish::<crate::Connector>(issues, None)),
                (None, false) => {
                    write_json(out, &crate::finish::<crate::UpdatePayload>(issues, None))
                }
            }
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
