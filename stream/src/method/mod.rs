//! Processing methods: an App method is JavaScript defining `function preprocessor(value)`.
//!
//! The method runs in an embedded QuickJS engine (rquickjs) with only the language's own built-ins:
//! no module loader, no `std`/`os` modules, hence no file, process or network access. Every call
//! has a wall-clock limit enforced by QuickJS's interrupt handler, and the heap and stack are
//! capped, so a runaway method costs one record, not the stream. The value goes in as JSON text
//! parsed by the engine's own `JSON.parse` (exactly what the platform's methods see); the result
//! comes back written from the JS object by `json::write`, byte for byte what `JSON.stringify`
//! gives (which remains the fallback for anything but plain data). Used by `consume` and `produce`.

mod json;

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
    /// `Object.prototype`, for the result writer's plain-object check.
    object_prototype: Persistent<rquickjs::Object<'static>>,
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
            let prototype = json::object_prototype(&ctx).map_err(|e| describe_error(&ctx, e))?;
            Ok(function.map(|f| (Persistent::save(&ctx, f), Persistent::save(&ctx, prototype))))
        });
        deadline.set(None);
        match loaded {
            Ok(Some((function, object_prototype))) => Ok(Self {
                id: id.to_owned(),
                function,
                object_prototype,
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
        let object_prototype = &self.object_prototype;
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
                let mut text = Vec::with_capacity(256);
                let prototype = object_prototype.clone().restore(&ctx)?;
                if json::write(prototype, &out, &mut text)? {
                    // Only whole UTF-8 sequences are ever written.
                    return Ok(Some(String::from_utf8(text).ok()));
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
            // QuickJS cannot build an error object once the heap is full: what is thrown is null.
            Outcome::Failed(message) if message == "threw null" => Outcome::Failed(format!(
                "method ran out of memory (its limit is {} MiB), or threw null",
                self.limits.memory_bytes >> 20
            )),
            other => other,
        }
    }
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
    fn endless_allocation_hits_the_memory_limit() {
        // A long time limit, so only the heap limit can stop it.
        let limits = MethodLimits {
            call_timeout: Duration::from_secs(30),
            memory_bytes: 8 << 20,
            ..MethodLimits::default()
        };
        let mut m = MethodRunner::from_source(
            "m",
            "function preprocessor(v) { if (!v) return 1; var a = []; for (;;) a.push('x'.repeat(4096) + a.length); }",
            limits,
        )
        .expect("loads");
        let started = Instant::now();
        match m.run_json(b"true") {
            Outcome::Failed(message) => assert!(message.contains("memory"), "{message}"),
            other => panic!("{other:?}"),
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "stopped by the time limit"
        );
        // The engine goes on after the failure.
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

    #[test]
    fn ids_that_escape_the_directory_are_refused() {
        assert!(method_path(Path::new("/m"), "../x").is_err());
        assert!(method_path(Path::new("/m"), "a/b").is_err());
        assert!(method_path(Path::new("/m"), "_mtd_12").is_ok());
    }
}
