//! Processing methods: an App method is JavaScript defining `function preprocessor(value)`.
//!
//! The method runs in an embedded QuickJS engine (rquickjs) with only the language's own built-ins:
//! no module loader, no `std`/`os` modules, hence no file, process or network access. Every call
//! has a wall-clock limit enforced by QuickJS's interrupt handler, and the heap and stack are
//! capped, so a runaway method costs one record, not the stream. The value goes in as JSON text
//! parsed by the engine's own `JSON.parse` (exactly what the platform's methods see); the result
//! comes back written from the JS object by `write_json`, byte for byte what `JSON.stringify`
//! gives (which remains the fallback for anything but plain data). Used by `consume` and `produce`.

use rquickjs::{Context, Ctx, Function, Persistent, Runtime, Value};
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Inputs up to this size are held until the next call (see `MethodRunner::previous`); a larger
/// one is let go at once so two of them never share the heap.
const KEEP_SHAPES_MAX_INPUT: usize = 64 << 10;

/// Limits for one method's engine.
#[derive(Debug, Clone, Copy)]
pub struct MethodLimits {
    pub call_timeout: Duration,
    pub memory_bytes: usize,
    pub stack_bytes: usize,
}

impl Default for MethodLimits {
    fn default() -> Self {
        Self {
            call_timeout: Duration::from_millis(100),
            memory_bytes: 32 << 20,
            stack_bytes: 512 << 10,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MethodError {
    #[error("method id {0:?} cannot name a file")]
    BadId(String),
    #[error("cannot read method file {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("method {id} does not load: {message}")]
    Load { id: String, message: String },
    #[error("method {id} does not define function preprocessor(value)")]
    NoPreprocessor { id: String },
    #[error("the config names processing method {0:?}; pass --methods DIR")]
    NoMethodsDir(String),
}

/// What a method made of one value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The value to send on, as compact JSON text.
    Keep(String),
    /// The method returned `null` or `undefined`: the value is filtered out.
    Drop,
    /// The method threw, timed out or returned something JSON cannot carry.
    Failed(String),
}

pub struct MethodRunner {
    id: String,
    // Field order matters: the values must drop before the context, the context before its
    // runtime.
    function: Persistent<Function<'static>>,
    /// The previous call's input and result, held until the next call has built its own: QuickJS
    /// frees an object's shape (and its property-name atoms) with the last object using it, so
    /// holding one lets the next value of the same form reuse them instead of building them anew.
    previous: Option<(Persistent<Value<'static>>, Persistent<Value<'static>>)>,
    context: Context,
    _runtime: Runtime,
    deadline: Rc<Cell<Option<Instant>>>,
    limits: MethodLimits,
}

impl std::fmt::Debug for MethodRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MethodRunner")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The file that holds method `id` in `dir`: `<dir>/<id>.js`.
pub fn method_path(dir: &Path, id: &str) -> Result<PathBuf, MethodError> {
    let safe = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !id.starts_with('-');
    if !safe {
        return Err(MethodError::BadId(id.to_owned()));
    }
    Ok(dir.join(format!("{id}.js")))
}

impl MethodRunner {
    /// Loads `<dir>/<id>.js`.
    pub fn load(dir: &Path, id: &str, limits: MethodLimits) -> Result<Self, MethodError> {
        let path = method_path(dir, id)?;
        let source =
            std::fs::read_to_string(&path).map_err(|source| MethodError::Read { path, source })?;
        Self::from_source(id, &source, limits)
    }

    pub fn from_source(id: &str, source: &str, limits: MethodLimits) -> Result<Self, MethodError> {
        let load_err = |message: String| MethodError::Load {
            id: id.to_owned(),
            message,
        };
        let runtime = Runtime::new().map_err(|e| load_err(e.to_string()))?;
        runtime.set_memory_limit(limits.memory_bytes);
        runtime.set_max_stack_size(limits.stack_bytes);
        let deadline: Rc<Cell<Option<Instant>>> = Rc::new(Cell::new(None));
        let handler_deadline = Rc::clone(&deadline);
        runtime.set_interrupt_handler(Some(Box::new(move || {
            handler_deadline.get().is_some_and(|d| Instant::now() >= d)
        })));
        let context = Context::full(&runtime).map_err(|e| load_err(e.to_string()))?;
        deadline.set(Some(
            Instant::now() + limits.call_timeout.max(Duration::from_secs(1)),
        ));
        let loaded: Result<Option<_>, String> = context.with(|ctx| {
            ctx.eval::<(), _>(source)
                .map_err(|e| describe_error(&ctx, e))?;
            let function = ctx
                .globals()
                .get::<_, Value>("preprocessor")
                .ok()
                .and_then(|v| v.into_function());
            Ok(function.map(|f| Persistent::save(&ctx, f)))
        });
        deadline.set(None);
        match loaded {
            Ok(Some(function)) => Ok(Self {
                id: id.to_owned(),
                function,
                previous: None,
                context,
                _runtime: runtime,
                deadline,
                limits,
            }),
            Ok(None) => Err(MethodError::NoPreprocessor { id: id.to_owned() }),
            Err(message) => Err(load_err(message)),
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Runs `preprocessor` on a value given as JSON text.
    pub fn run_json(&mut self, input_json: &[u8]) -> Outcome {
        self.deadline
            .set(Some(Instant::now() + self.limits.call_timeout));
        let previous = &mut self.previous;
        let function = &self.function;
        let outcome = self.context.with(|ctx| {
            let result = (|| {
                let function = function.clone().restore(&ctx)?;
                let value = ctx.json_parse(input_json)?;
                let out: Value = function.call((value.clone(),))?;
                let keep = input_json.len() <= KEEP_SHAPES_MAX_INPUT;
                *previous = keep.then(|| {
                    (
                        Persistent::save(&ctx, value),
                        Persistent::save(&ctx, out.clone()),
                    )
                });
                if out.is_null() || out.is_undefined() {
                    return Ok(None);
                }
                let mut json = Vec::with_capacity(256);
                if write_json(&ctx, &out, &mut json, 0)? {
                    // Only whole UTF-8 sequences are ever written.
                    return Ok(Some(String::from_utf8(json).ok()));
                }
                let text = ctx.json_stringify(out)?;
                Ok(Some(text.map(|s| s.to_string()).transpose()?))
            })();
            match result {
                Ok(None) => Outcome::Drop,
                Ok(Some(Some(text))) => Outcome::Keep(text),
                Ok(Some(None)) => {
                    Outcome::Failed("method returned a value that JSON cannot carry".into())
                }
                Err(e) => Outcome::Failed(describe_error(&ctx, e)),
            }
        });
        let timed_out = self.deadline.get().is_some_and(|d| Instant::now() >= d);
        self.deadline.set(None);
        match outcome {
            Outcome::Failed(message) if timed_out => Outcome::Failed(format!(
                "method timed out after {} ms ({message})",
                self.limits.call_timeout.as_millis()
            )),
            other => other,
        }
    }
}

/// Nesting beyond this goes to `JSON.stringify` (which reports a cycle as a TypeError).
const MAX_FAST_DEPTH: u32 = 64;

/// Writes `value` as `JSON.stringify` would, for plain data: objects of the plain `Object` class
/// and arrays (without `toJSON`), strings, booleans, null, and numbers whose text is simple to
/// get right (integers, and fractions from 1e-6 up, which print in fixed notation). Anything else
/// (dates, boxed primitives, proxies, BigInt, lone surrogates, exponent notation, deep nesting)
/// returns `Ok(false)`, and the caller lets `JSON.stringify` do it. A getter that throws is an
/// `Err`, as it would be in `JSON.stringify`.
///
/// `JSON.stringify` in QuickJS builds a JS array of key strings for every object and quotes
/// character by character; this reads the property atoms and copies the UTF-8 text in runs.
fn write_json(
    ctx: &Ctx<'_>,
    value: &Value<'_>,
    out: &mut Vec<u8>,
    depth: u32,
) -> rquickjs::Result<bool> {
    use rquickjs::qjs;
    let raw = value.as_raw();
    // SAFETY: `raw` is a live value owned by `value`.
    let tag = unsafe { qjs::JS_VALUE_GET_TAG(raw) };
    match tag {
        qjs::JS_TAG_NULL => out.extend_from_slice(b"null"),
        qjs::JS_TAG_BOOL => {
            // SAFETY: the tag says bool.
            let b = unsafe { qjs::JS_VALUE_GET_BOOL(raw) };
            out.extend_from_slice(if b { b"true" } else { b"false" });
        }
        qjs::JS_TAG_INT => {
            // SAFETY: the tag says int.
            let i = unsafe { qjs::JS_VALUE_GET_INT(raw) };
            push_int(out, i64::from(i));
        }
        qjs::JS_TAG_FLOAT64 => {
            // SAFETY: the tag says float64.
            let f = unsafe { qjs::JS_VALUE_GET_FLOAT64(raw) };
            return Ok(push_number(out, f));
        }
        qjs::JS_TAG_STRING | qjs::JS_TAG_STRING_ROPE => {
            let mut len: qjs::size_t = 0;
            // SAFETY: a string value; the returned text lives until JS_FreeCString.
            let ptr = unsafe { qjs::JS_ToCStringLen2(ctx.as_raw().as_ptr(), &mut len, raw, false) };
            if ptr.is_null() {
                return Err(rquickjs::Error::Exception);
            }
            // SAFETY: QuickJS returned `len` bytes at `ptr`.
            let bytes = unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len as usize) };
            // Lone surrogates come out as invalid UTF-8: JSON.stringify escapes them.
            let ok = std::str::from_utf8(bytes).is_ok();
            if ok {
                push_string(out, bytes);
            }
            // SAFETY: `ptr` came from JS_ToCStringLen2 and is freed once.
            unsafe { qjs::JS_FreeCString(ctx.as_raw().as_ptr(), ptr) };
            return Ok(ok);
        }
        qjs::JS_TAG_OBJECT => return write_object(ctx, value, out, depth),
        _ => return Ok(false),
    }
    Ok(true)
}

fn write_object(
    ctx: &Ctx<'_>,
    value: &Value<'_>,
    out: &mut Vec<u8>,
    depth: u32,
) -> rquickjs::Result<bool> {
    use rquickjs::qjs;
    const CLASS_OBJECT: u32 = 1;
    const CLASS_ARRAY: u32 = 2;
    if depth >= MAX_FAST_DEPTH {
        return Ok(false);
    }
    let cx = ctx.as_raw().as_ptr();
    let raw = value.as_raw();
    // SAFETY: `raw` is a live object.
    let class = unsafe { qjs::JS_GetClassID(raw) };
    if class != CLASS_OBJECT && class != CLASS_ARRAY {
        return Ok(false);
    }
    let object = value.as_object().ok_or(rquickjs::Error::Unknown)?;
    let to_json: Value = object.get("toJSON")?;
    if !to_json.is_undefined() {
        return Ok(false);
    }
    // SAFETY (for the values below): every raw value QuickJS returns is owned by a `Value`
    // at once, so it is freed exactly once.
    let own = |v: qjs::JSValue| -> rquickjs::Result<Value<'_>> {
        // SAFETY: `v` was just returned by QuickJS with its own reference.
        let v = unsafe { Value::from_raw(ctx.clone(), v) };
        if v.is_exception() {
            return Err(rquickjs::Error::Exception);
        }
        Ok(v)
    };
    if class == CLASS_ARRAY {
        let mut len: i64 = 0;
        // SAFETY: `raw` is a live array.
        if unsafe { qjs::JS_GetLength(cx, raw, &mut len) } < 0 {
            return Err(rquickjs::Error::Exception);
        }
        out.push(b'[');
        for i in 0..len {
            if i > 0 {
                out.push(b',');
            }
            let index = u32::try_from(i).map_err(|_| rquickjs::Error::Unknown)?;
            // SAFETY: `raw` is a live array.
            let item = own(unsafe { qjs::JS_GetPropertyUint32(cx, raw, index) })?;
            if skipped(ctx, &item) {
                out.extend_from_slice(b"null");
            } else if !write_json(ctx, &item, out, depth + 1)? {
                return Ok(false);
            }
        }
        out.push(b']');
        return Ok(true);
    }
    let mut tab: *mut qjs::JSPropertyEnum = std::ptr::null_mut();
    let mut count: u32 = 0;
    let flags = (qjs::JS_GPN_STRING_MASK | qjs::JS_GPN_ENUM_ONLY) as std::ffi::c_int;
    // SAFETY: `raw` is a live object; on success `tab` holds `count` entries until freed below.
    if unsafe { qjs::JS_GetOwnPropertyNames(cx, &mut tab, &mut count, raw, flags) } < 0 {
        return Err(rquickjs::Error::Exception);
    }
    // SAFETY: see above; the table is freed once, after the loop.
    let atoms: Vec<qjs::JSAtom> = (0..count as usize)
        .map(|i| unsafe { (*tab.add(i)).atom })
        .collect();
    let result = (|| {
        out.push(b'{');
        let mut first = true;
        for &atom in &atoms {
            // SAFETY: `raw` is live and `atom` is held by the table.
            let item = own(unsafe { qjs::JS_GetProperty(cx, raw, atom) })?;
            if skipped(ctx, &item) {
                continue;
            }
            if !first {
                out.push(b',');
            }
            first = false;
            let mut len: qjs::size_t = 0;
            // SAFETY: `atom` is held by the table; the text lives until JS_FreeCString.
            let ptr = unsafe { qjs::JS_AtomToCStringLen(cx, &mut len, atom) };
            if ptr.is_null() {
                return Err(rquickjs::Error::Exception);
            }
            // SAFETY: QuickJS returned `len` bytes at `ptr`.
            let key = unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len as usize) };
            let ok = std::str::from_utf8(key).is_ok();
            if ok {
                push_string(out, key);
            }
            // SAFETY: `ptr` came from JS_AtomToCStringLen and is freed once.
            unsafe { qjs::JS_FreeCString(cx, ptr) };
            if !ok {
                return Ok(false);
            }
            out.push(b':');
            if !write_json(ctx, &item, out, depth + 1)? {
                return Ok(false);
            }
        }
        out.push(b'}');
        Ok(true)
    })();
    // SAFETY: `tab` and `count` came from JS_GetOwnPropertyNames.
    unsafe { qjs::JS_FreePropertyEnum(cx, tab, count) };
    result
}

/// Values `JSON.stringify` leaves out of an object (and writes as `null` in an array).
fn skipped(ctx: &Ctx<'_>, value: &Value<'_>) -> bool {
    use rquickjs::qjs;
    // SAFETY: `value` is live.
    value.is_undefined()
        || value.is_symbol()
        || unsafe { qjs::JS_IsFunction(ctx.as_raw().as_ptr(), value.as_raw()) }
}

fn push_int(out: &mut Vec<u8>, n: i64) {
    use std::io::Write;
    // Writing to a Vec cannot fail.
    let _ = write!(out, "{n}");
}

/// A number as JavaScript prints it, where that is plain; false for the exponent forms.
fn push_number(out: &mut Vec<u8>, f: f64) -> bool {
    if !f.is_finite() {
        out.extend_from_slice(b"null");
        return true;
    }
    let abs = f.abs();
    if f.fract() == 0.0 && abs < 9.0e15 {
        // Also -0, which JSON writes as 0.
        push_int(out, f as i64);
        return true;
    }
    if (1e-6..1e15).contains(&abs) {
        // Rust and JavaScript both print the shortest digits that read back as `f`.
        use std::io::Write;
        let _ = write!(out, "{f}");
        return true;
    }
    false
}

/// `text` (valid UTF-8) as a JSON string, escaped as `JSON.stringify` does.
fn push_string(out: &mut Vec<u8>, text: &[u8]) {
    out.push(b'"');
    let mut start = 0;
    for (i, &b) in text.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&text[start..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xf)]);
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&text[start..]);
    out.push(b'"');
}

fn describe_error(ctx: &Ctx<'_>, error: rquickjs::Error) -> String {
    if !matches!(error, rquickjs::Error::Exception) {
        return error.to_string();
    }
    let thrown = ctx.catch();
    if let Some(exception) = thrown.as_exception() {
        let name: Option<String> = exception.get("name").ok();
        let message = exception.message().unwrap_or_default();
        return match name {
            Some(name) if !name.is_empty() => format!("{name}: {message}"),
            _ => message,
        };
    }
    match ctx.json_stringify(thrown) {
        Ok(Some(text)) => format!("threw {}", text.to_string().unwrap_or_default()),
        _ => "threw a value".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runner(source: &str) -> MethodRunner {
        MethodRunner::from_source("m", source, MethodLimits::default()).expect("loads")
    }

    #[test]
    fn transforms_and_filters() {
        let mut m = runner("function preprocessor(v) { if (v.value < 50) return null; return { t: v.value * 2 }; }");
        assert_eq!(
            m.run_json(br#"{"value":71.5}"#),
            Outcome::Keep(r#"{"t":143}"#.into())
        );
        assert_eq!(m.run_json(br#"{"value":10}"#), Outcome::Drop);
    }

    #[test]
    fn undefined_drops() {
        let mut m = runner("function preprocessor(v) { }");
        assert_eq!(m.run_json(b"1"), Outcome::Drop);
    }

    #[test]
    fn throw_is_reported_and_engine_goes_on() {
        let mut m = runner(
            "function preprocessor(v) { if (v.bad) throw new TypeError('bad value'); return v; }",
        );
        assert_eq!(
            m.run_json(br#"{"bad":true}"#),
            Outcome::Failed("TypeError: bad value".into())
        );
        assert_eq!(
            m.run_json(br#"{"ok":1}"#),
            Outcome::Keep(r#"{"ok":1}"#.into())
        );
    }

    #[test]
    fn endless_loop_times_out() {
        let limits = MethodLimits {
            call_timeout: Duration::from_millis(50),
            ..MethodLimits::default()
        };
        let mut m = MethodRunner::from_source(
            "m",
            "function preprocessor(v) { if (v) for(;;){} return 1; }",
            limits,
        )
        .expect("loads");
        let started = Instant::now();
        match m.run_json(b"true") {
            Outcome::Failed(message) => assert!(message.contains("timed out"), "{message}"),
            other => panic!("{other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(m.run_json(b"false"), Outcome::Keep("1".into()));
    }

    #[test]
    fn no_io_globals() {
        let mut m = runner(
            "function preprocessor(v) { return [typeof require, typeof std, typeof os, typeof fetch, typeof process, typeof XMLHttpRequest]; }",
        );
        assert_eq!(
            m.run_json(b"0"),
            Outcome::Keep(
                r#"["undefined","undefined","undefined","undefined","undefined","undefined"]"#
                    .into()
            )
        );
    }

    #[test]
    fn missing_preprocessor_is_a_load_error() {
        assert!(matches!(
            MethodRunner::from_source("m", "var x = 1;", MethodLimits::default()),
            Err(MethodError::NoPreprocessor { .. })
        ));
        assert!(matches!(
            MethodRunner::from_source("m", "function (", MethodLimits::default()),
            Err(MethodError::Load { .. })
        ));
    }

    /// The fast writer and JSON.stringify give the same text (the fast path or its fallback).
    #[test]
    fn results_are_written_as_json_stringify_does() {
        let cases = [
            r#"{ a: 1, b: 'x', c: [1, 'two', null, true, false], d: { e: {} }, f: [] }"#,
            r#"{ s: 'q"b\\s/\n\r\t\b\f\u0001\u001f\u007f é 😀 \u2028' }"#,
            r#"{ lone: '\ud800', pair: '\ud83d\ude00', [Symbol('s')]: 1, sym: Symbol('t'), fn() {}, u: undefined }"#,
            r#"[undefined, function () {}, Symbol('x'), , 5]"#,
            r#"{ n: [0, -0, 1.5, -71.25, 0.1 + 0.2, 1e-6, 1.5e-7, 1e21, 123456789012345680000, 2 ** 53, -(2 ** 31), 1 / 3, NaN, Infinity, -Infinity, 0.000001234, 999999999999999.9] }"#,
            r#"{ d: new Date(0), b: new Boolean(false), s: new String('x'), n: new Number(3) }"#,
            r#"{ t: { toJSON() { return 'j'; } }, m: new Map([[1, 2]]), r: /x/g }"#,
            r#"{ 2: 'b', 1: 'a', z: 1, y: 2, '': 3, 'ü': 4 }"#,
            r#"Object.create({ inherited: 1 }, { own: { value: 2, enumerable: true }, hidden: { value: 3 } })"#,
            r#"{ get g() { return 'got'; } }"#,
            r#"new Proxy({ a: 1 }, {})"#,
            r#"'plain'"#,
            r#"42"#,
            r#"-1.5"#,
            r#"true"#,
            r#"(function () { const a = []; a.x = 1; a.length = 3; a[1] = 'y'; return a; })()"#,
            r#"(function () { let o = {}; for (let i = 0; i < 100; i++) o = { o }; return o; })()"#,
            r#"'a'.repeat(10) + 'b'.repeat(300)"#,
        ];
        for expr in cases {
            let mut fast = runner(&format!("function preprocessor(v) {{ return ({expr}); }}"));
            let mut slow = runner(&format!(
                "function preprocessor(v) {{ return JSON.stringify({expr}); }}"
            ));
            let Outcome::Keep(quoted) = slow.run_json(b"0") else {
                panic!("{expr}")
            };
            let expected: String = serde_json::from_str(&quoted).expect("a JSON string");
            assert_eq!(fast.run_json(b"0"), Outcome::Keep(expected), "{expr}");
        }
    }

    #[test]
    fn getter_that_throws_fails_the_record() {
        let mut m =
            runner("function preprocessor(v) { return { get g() { throw new Error('no'); } }; }");
        assert_eq!(m.run_json(b"0"), Outcome::Failed("Error: no".into()));
    }

    #[test]
    fn cycles_fail_the_record() {
        let mut m = runner("function preprocessor(v) { const o = {}; o.o = o; return o; }");
        match m.run_json(b"0") {
            Outcome::Failed(message) => assert!(message.starts_with("TypeError"), "{message}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn ids_that_escape_the_directory_are_refused() {
        assert!(method_path(Path::new("/m"), "../x").is_err());
        assert!(method_path(Path::new("/m"), "a/b").is_err());
        assert!(method_path(Path::new("/m"), "_mtd_12").is_ok());
    }
}
