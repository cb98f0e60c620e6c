//! A method's result as JSON text, written from the JS value through rquickjs's safe API: byte
//! for byte what `JSON.stringify` gives, for plain data. `JSON.stringify` in QuickJS builds a JS
//! array of key strings for every object and quotes character by character; writing the text
//! here measured faster (see ARCHITECTURE.md), and anything that is not plain data is left to
//! `JSON.stringify` itself.

use crate::ndjson;
use rquickjs::{Array, Atom, Ctx, Object, Type, Value};

/// Nesting beyond this goes to `JSON.stringify` (which reports a cycle as a TypeError).
const MAX_DEPTH: u32 = 64;

/// `Object.prototype`, taken when the method is loaded: what a plain object's prototype is.
pub fn object_prototype<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<Object<'js>> {
    ctx.globals().get::<_, Object>("Object")?.get("prototype")
}

/// Writes `value` as `JSON.stringify` would, for plain data: objects whose prototype is
/// `Object.prototype`, arrays (neither with `toJSON`), strings, booleans, null, and numbers whose
/// text is simple to get right (integers, and fractions from 1e-6 up, which print in fixed
/// notation). Anything else (dates, boxed primitives, class instances, proxies, BigInt, lone
/// surrogates, exponent notation, deep nesting) returns `Ok(false)` with `out` in any state,
/// and the caller lets `JSON.stringify` do it. A getter that throws is an `Err`, as it would be
/// in `JSON.stringify`.
pub fn write<'js>(
    object_prototype: Object<'js>,
    value: &Value<'js>,
    out: &mut Vec<u8>,
) -> rquickjs::Result<bool> {
    Writer { object_prototype }.value(value, out, 0)
}

struct Writer<'js> {
    object_prototype: Object<'js>,
}

impl<'js> Writer<'js> {
    fn value(&self, value: &Value<'js>, out: &mut Vec<u8>, depth: u32) -> rquickjs::Result<bool> {
        match value.type_of() {
            Type::Null => out.extend_from_slice(b"null"),
            Type::Bool => out.extend_from_slice(if value.as_bool() == Some(true) {
                b"true"
            } else {
                b"false"
            }),
            Type::Int => push_int(out, i64::from(value.as_int().unwrap_or_default())),
            Type::Float => return Ok(push_number(out, value.as_float().unwrap_or(f64::NAN))),
            Type::String => {
                // Lone surrogates are not UTF-8: JSON.stringify escapes them.
                let Some(Ok(text)) = value.as_string().map(|s| s.to_string()) else {
                    return Ok(false);
                };
                ndjson::push_str(out, &text);
            }
            Type::Array => match value.as_array() {
                Some(array) if depth < MAX_DEPTH && !has_to_json(array.as_object())? => {
                    return self.array(array, out, depth)
                }
                _ => return Ok(false),
            },
            Type::Object => match value.as_object() {
                Some(object) if depth < MAX_DEPTH && self.plain(object)? => {
                    return self.object(object, out, depth)
                }
                _ => return Ok(false),
            },
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn array(&self, array: &Array<'js>, out: &mut Vec<u8>, depth: u32) -> rquickjs::Result<bool> {
        out.push(b'[');
        for i in 0..array.len() {
            if i > 0 {
                out.push(b',');
            }
            let item: Value = array.get(i)?;
            if skipped(&item) {
                out.extend_from_slice(b"null");
            } else if !self.value(&item, out, depth + 1)? {
                return Ok(false);
            }
        }
        out.push(b']');
        Ok(true)
    }

    fn object(
        &self,
        object: &Object<'js>,
        out: &mut Vec<u8>,
        depth: u32,
    ) -> rquickjs::Result<bool> {
        out.push(b'{');
        let mut first = true;
        for prop in object.props::<Atom, Value>() {
            let (key, item) = prop?;
            if skipped(&item) {
                continue;
            }
            let Ok(key) = key.to_string() else {
                return Ok(false);
            };
            if !first {
                out.push(b',');
            }
            first = false;
            ndjson::push_str(out, &key);
            out.push(b':');
            if !self.value(&item, out, depth + 1)? {
                return Ok(false);
            }
        }
        out.push(b'}');
        Ok(true)
    }

    /// An object literal's kind: its prototype is `Object.prototype` and it has no `toJSON`.
    fn plain(&self, object: &Object<'js>) -> rquickjs::Result<bool> {
        let plain = object
            .get_prototype()
            .is_some_and(|p| p == self.object_prototype);
        Ok(plain && !has_to_json(object)?)
    }
}

fn has_to_json(object: &Object<'_>) -> rquickjs::Result<bool> {
    Ok(!object.get::<_, Value>("toJSON")?.is_undefined())
}

/// Values `JSON.stringify` leaves out of an object (and writes as `null` in an array).
fn skipped(value: &Value<'_>) -> bool {
    value.is_undefined() || value.is_symbol() || value.is_function()
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

#[cfg(test)]
mod tests {
    use super::super::{MethodLimits, MethodRunner, Outcome};

    fn runner(source: &str) -> MethodRunner {
        MethodRunner::from_source("m", source, MethodLimits::default()).expect("loads")
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
            r#"Object.assign(Object.create(null), { a: 1 })"#,
            r#"new (class P { constructor() { this.x = 1; } })()"#,
            r#"{ a: Object.create(Array.prototype), b: [[[]]], c: { toJSON: undefined } }"#,
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
    fn a_method_that_replaces_object_still_gets_plain_json() {
        let mut m =
            runner("Object = function () {}; function preprocessor(v) { return { a: [v] }; }");
        assert_eq!(m.run_json(b"1"), Outcome::Keep(r#"{"a":[1]}"#.into()));
    }

    /// Plain data takes the writer's own path (not the fallback); the rest is refused.
    #[test]
    fn plain_data_is_written_here_and_the_rest_left_to_json_stringify() {
        let runtime = rquickjs::Runtime::new().expect("a runtime");
        let context = rquickjs::Context::full(&runtime).expect("a context");
        context.with(|ctx| {
            let written = |expr: &str| {
                let value: rquickjs::Value = ctx.eval(format!("({expr})")).expect("evaluates");
                let prototype = super::object_prototype(&ctx).expect("Object.prototype");
                let mut out = Vec::new();
                let done = super::write(prototype, &value, &mut out).expect("no exception");
                done.then(|| String::from_utf8(out).expect("UTF-8"))
            };
            assert_eq!(
                written("{ a: 1, b: 'x\\n', c: [true, null, 1.5, -0], d: {}, u: undefined }")
                    .as_deref(),
                Some(r#"{"a":1,"b":"x\n","c":[true,null,1.5,0],"d":{}}"#)
            );
            for other in [
                "new Date(0)",
                "{ d: new Map() }",
                "[1e21]",
                "'\\ud800'",
                "10n",
            ] {
                assert_eq!(written(other), None, "{other}");
            }
        });
    }
}
