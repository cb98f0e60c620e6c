//! Test harness: a kinesis-mock emulator per test (killed on drop, even when the test panics),
//! the independent JS writer (tests/stream/kinesis.mjs), and the built binary.
#![allow(
    dead_code,
    clippy::unwrap_used,
    reason = "test helpers: a failed setup should fail the test loudly"
)]

use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A free loopback port below Linux's ephemeral range (32768-60999). A server the tests stop
/// and start again on the same port must not sit in that range: while it is down, a client
/// retrying `connect` to it can be given that very port as its own local port and connect to
/// itself (TCP self-connect), and the restarted server then cannot bind (seen here: "emulator
/// did not start").
pub fn free_port() -> u16 {
    loop {
        let port = fastrand::u16(20_000..32_000);
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

pub struct Emulator {
    child: Child,
    pub port: u16,
    tls_port: u16,
    /// With persistence on: where the emulator keeps its data between runs.
    persist: Option<PathBuf>,
}

impl Emulator {
    pub fn start() -> Self {
        Self::launch(free_port(), free_port(), None)
    }

    /// An emulator that saves its data to `dir` (every 100 ms) and loads it when started again.
    pub fn start_persistent(dir: &Path) -> Self {
        Self::launch(free_port(), free_port(), Some(dir.to_path_buf()))
    }

    fn launch(port: u16, tls_port: u16, persist: Option<PathBuf>) -> Self {
        let mut cmd = Command::new("node");
        cmd.arg("main.js")
            .current_dir(repo_root().join("node_modules/kinesis-local"))
            .env("KINESIS_MOCK_PLAIN_PORT", port.to_string())
            .env("KINESIS_MOCK_TLS_PORT", tls_port.to_string())
            .env("CREATE_STREAM_DURATION", "0ms")
            .env("UPDATE_SHARD_COUNT_DURATION", "300ms")
            .env("LOG_LEVEL", "ERROR")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(Self::log_path(port)).unwrap());
        if let Some(dir) = &persist {
            cmd.env("SHOULD_PERSIST_DATA", "true")
                .env("LOAD_DATA_IF_EXISTS", "true")
                .env("PERSIST_PATH", dir)
                .env("PERSIST_INTERVAL", "100ms");
        }
        let child = cmd.spawn().expect("node runs the emulator");
        let emulator = Emulator {
            child,
            port,
            tls_port,
            persist,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "emulator did not start on port {port}: {}",
                std::fs::read_to_string(Self::log_path(port)).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        emulator
    }

    /// Where the emulator's stderr goes (shown when it does not start).
    fn log_path(port: u16) -> PathBuf {
        std::env::temp_dir().join(format!("kc-emulator-{port}.log"))
    }

    /// Stops the emulator with SIGTERM and waits for it to exit (SIGKILL after 30 s: a graceful
    /// stop waits for open connections, and a test must never hang on it).
    pub fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("the emulator did not stop within 30 s of SIGTERM: killed");
        self.kill();
    }

    /// Kills the emulator (SIGKILL: no graceful stop, its open connections reset). With
    /// persistence on, what it took in its last 100 ms may be lost (the emulator's save interval).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts it again on the same ports (and the same data, when persistent).
    pub fn start_again(&mut self) {
        let again = Self::launch(self.port, self.tls_port, self.persist.clone());
        let old = std::mem::replace(self, again);
        drop(old);
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Runs the JS client helper; panics when it fails.
    pub fn js(&self, args: &[&str]) -> String {
        let output = Command::new("node")
            .arg(repo_root().join("tests/stream/kinesis.mjs"))
            .arg(self.endpoint())
            .args(args)
            .env("NODE_NO_WARNINGS", "1")
            .output()
            .expect("node runs");
        assert!(
            output.status.success(),
            "kinesis.mjs {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    pub fn create_stream(&self, name: &str, shards: u32) {
        self.js(&["create", name, &shards.to_string()]);
    }

    /// Every record of the stream, read back by the JS SDK: (shardId, partitionKey, data text).
    pub fn dump(&self, stream: &str) -> Vec<(String, String, String)> {
        self.js(&["dump", stream])
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (
                    v["shardId"].as_str().unwrap().to_owned(),
                    v["partitionKey"].as_str().unwrap().to_owned(),
                    v["data"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    /// Writes (partitionKey, data) records in order.
    pub fn put(&self, dir: &Path, stream: &str, records: &[(String, String)]) {
        let file = dir.join(format!("put-{}.ndjson", fastrand::u64(..)));
        let mut text = String::new();
        for (key, data) in records {
            text.push_str(&serde_json::json!({ "partitionKey": key, "data": data }).to_string());
            text.push('\n');
        }
        std::fs::write(&file, text).unwrap();
        let out = self.js(&["put", stream, file.to_str().unwrap()]);
        assert!(
            out.contains(&format!("\"sent\":{}", records.len())),
            "{out}"
        );
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh scratch directory per test, removed when it is dropped (at the end of the test,
/// whether it passed or not).
pub struct Scratch(tempfile::TempDir);

impl std::ops::Deref for Scratch {
    type Target = Path;

    fn deref(&self) -> &Path {
        self.0.path()
    }
}

pub fn scratch(name: &str) -> Scratch {
    Scratch(
        tempfile::Builder::new()
            .prefix(&format!("kc-stream-{name}-"))
            .tempdir()
            .unwrap(),
    )
}

pub const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// Writes a config file for `stream` and returns its path.
pub fn config(dir: &Path, stream: &str, shards: u32, extra: serde_json::Value) -> PathBuf {
    let mut value = serde_json::json!({
        "type": "aws-kinesis",
        "id": "dc.test",
        "credentials": { "user": "AKIAIOSFODNN7EXAMPLE", "password": SECRET },
        "region": "us-east-1",
        "stream": stream,
        "shards": shards,
        "maxRecordsPerShardPerSecond": 10000,
        "maxBytesPerShardPerSecond": 10485760
    });
    if let (Some(obj), Some(extra)) = (value.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            obj.insert(k.clone(), v.clone());
        }
    }
    let path = dir.join("config.json");
    std::fs::write(&path, serde_json::to_string_pretty(&value).unwrap()).unwrap();
    path
}

pub fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kinesis-connector"));
    cmd.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_ENDPOINT_URL")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent");
    cmd
}

/// `consume` with the usual test flags; more flags in `extra`.
pub fn consume(emulator: &Emulator, dir: &Path, config: &Path, extra: &[&str]) -> Command {
    let mut cmd = bin();
    cmd.arg("consume")
        .arg("--config")
        .arg(config)
        .arg("--endpoint-url")
        .arg(emulator.endpoint())
        .arg("--state-dir")
        .arg(dir.join("state"))
        .args(["--stats-interval", "0"])
        .args(extra);
    cmd
}

/// `produce` with the usual test flags; more flags in `extra`.
pub fn produce(
    emulator: &Emulator,
    dir: &Path,
    config: &Path,
    input: &Path,
    extra: &[&str],
) -> Command {
    produce_at(&emulator.endpoint(), dir, config, input, extra)
}

pub fn produce_at(
    endpoint: &str,
    dir: &Path,
    config: &Path,
    input: &Path,
    extra: &[&str],
) -> Command {
    let mut cmd = bin();
    cmd.arg("produce")
        .arg("--config")
        .arg(config)
        .arg("--input")
        .arg(input)
        .arg("--endpoint-url")
        .arg(endpoint)
        .arg("--dead-letter")
        .arg(dir.join("dead.ndjson"))
        .arg("--state-dir")
        .arg(dir.join("state"))
        .args(["--stats-interval", "0", "--format", "json"])
        .args(extra);
    cmd
}

/// Sample Data Values from examples/generate-data-values.mjs, written to `dir/input.ndjson`.
pub fn data_values(dir: &Path, args: &[&str]) -> PathBuf {
    let output = Command::new("node")
        .arg(repo_root().join("examples/generate-data-values.mjs"))
        .args(args)
        .output()
        .unwrap();
    assert!(output.status.success());
    let path = dir.join("input.ndjson");
    std::fs::write(&path, output.stdout).unwrap();
    path
}

pub fn run(mut cmd: Command) -> Output {
    let output = cmd.output().unwrap();
    if !output.status.success() {
        eprintln!("stderr: {}", String::from_utf8_lossy(&output.stderr));
    }
    output
}

/// The complete JSON lines of an output (a torn last line after `kill -9` is ignored).
pub fn lines(bytes: &[u8]) -> Vec<serde_json::Value> {
    bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .filter_map(|l| serde_json::from_slice(l).ok())
        .collect()
}

/// Kinesis sequence numbers are decimal strings; compare them as numbers.
pub fn seq_key(seq: &str) -> (usize, String) {
    (seq.len(), seq.to_owned())
}

pub fn checkpoints(dir: &Path, stream: &str) -> BTreeMap<String, serde_json::Value> {
    let path = dir.join(format!("state/dc.test/checkpoints-us-east-1-{stream}.json"));
    let value: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    value["shards"]
        .as_object()
        .unwrap()
        .clone()
        .into_iter()
        .collect()
}

pub fn numbered(count: usize, keys: usize, offset: usize) -> Vec<(String, String)> {
    (offset..offset + count)
        .map(|n| {
            (
                format!("key-{}", n % keys),
                serde_json::json!({ "n": n, "key": n % keys }).to_string(),
            )
        })
        .collect()
}

/// A TCP forwarder in front of the emulator. Stopping an emulator gracefully waits for its open
/// keep-alive connections, and a busy producer never lets go of its connection; cutting the
/// connections here at the moment of the stop makes the stop real, as for a service that goes
/// away.
pub struct Proxy {
    pub port: u16,
    connections: std::sync::Arc<std::sync::Mutex<Vec<TcpStream>>>,
    /// While set, new connections are closed at once (the endpoint is down).
    down: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Proxy {
    pub fn start(upstream: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections: std::sync::Arc<std::sync::Mutex<Vec<TcpStream>>> = Default::default();
        let registry = std::sync::Arc::clone(&connections);
        let down: std::sync::Arc<std::sync::atomic::AtomicBool> = Default::default();
        let is_down = std::sync::Arc::clone(&down);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if is_down.load(std::sync::atomic::Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    drop(client);
                    continue;
                };
                let mut list = registry.lock().unwrap();
                list.push(client.try_clone().unwrap());
                list.push(server.try_clone().unwrap());
                drop(list);
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        Proxy {
            port,
            connections,
            down,
        }
    }

    /// Down: every open connection is cut and new ones are closed at once, until `up`.
    pub fn down(&self) {
        self.down.store(true, std::sync::atomic::Ordering::SeqCst);
        self.cut();
    }

    pub fn up(&self) {
        self.down.store(false, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Closes every open connection (new ones still go through).
    pub fn cut(&self) {
        for stream in self.connections.lock().unwrap().drain(..) {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    }
}

/// The fault-injecting HTTP proxy (tests/stream/faultproxy.mjs) in front of an emulator: on a
/// schedule it answers throttling, 5xx, slow answers, dropped connections and partly failed
/// PutRecords. Killed on drop.
pub struct FaultProxy {
    child: Child,
    stdin: Option<std::process::ChildStdin>,
    pub port: u16,
    log: PathBuf,
}

impl FaultProxy {
    /// `schedule`: operation → faults in turn (see faultproxy.mjs); its log goes to `log`.
    pub fn start(upstream: u16, schedule: serde_json::Value, log: &Path) -> Self {
        use std::io::BufRead;
        let mut child = Command::new("node")
            .arg(repo_root().join("tests/stream/faultproxy.mjs"))
            .arg(upstream.to_string())
            .arg(schedule.to_string())
            .arg(log)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node runs the fault proxy");
        let stdin = child.stdin.take();
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let port = serde_json::from_str::<serde_json::Value>(&first)
            .unwrap_or_else(|e| panic!("fault proxy did not start ({e}): {first:?}"))["port"]
            .as_u64()
            .unwrap() as u16;
        FaultProxy {
            child,
            stdin,
            port,
            log: log.to_path_buf(),
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Closes every open client connection now.
    pub fn cut(&mut self) {
        use std::io::Write;
        if let Some(stdin) = self.stdin.as_mut() {
            stdin.write_all(b"cut\n").unwrap();
            stdin.flush().unwrap();
        }
        std::thread::sleep(Duration::from_millis(100));
    }

    /// Every request the proxy saw, in order: {op, n, fault, entries?, forwarded?, failed?}.
    pub fn log(&self) -> Vec<serde_json::Value> {
        lines(&std::fs::read(&self.log).unwrap())
    }

    /// How often each (operation, fault) happened.
    pub fn faults(&self) -> BTreeMap<(String, String), u64> {
        let mut seen = BTreeMap::new();
        for entry in self.log() {
            let key = (
                entry["op"].as_str().unwrap_or("?").to_owned(),
                entry["fault"].as_str().unwrap_or("?").to_owned(),
            );
            *seen.entry(key).or_default() += 1;
        }
        seen
    }

    /// Fails the test unless each of `faults` was injected on `op` at least once.
    pub fn assert_injected(&self, op: &str, faults: &[&str]) {
        let seen = self.faults();
        for fault in faults {
            assert!(
                seen.contains_key(&(op.to_owned(), (*fault).to_owned())),
                "{op}: fault {fault} never injected; seen {seen:?}"
            );
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits for `child` at most `limit` (a guard against a hang, not a timed assertion: the limit
/// is far above any expected run); kills it and fails the test when it is passed.
pub fn wait_with_limit(child: Child, limit: Duration) -> Output {
    let pid = child.id();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = std::sync::Arc::clone(&done);
    let watchdog = std::thread::spawn(move || {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if flag.load(std::sync::atomic::Ordering::SeqCst) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
        true
    });
    let output = child.wait_with_output().unwrap();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let hung = watchdog.join().unwrap();
    assert!(
        !hung,
        "the command did not finish within {limit:?}; stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A dynalite server (npm `dynalite`, a DynamoDB on LevelDB) keeping its data in a directory (so it can be stopped and started again).
pub struct Dynalite {
    child: Option<Child>,
    port: u16,
    path: PathBuf,
    /// Kept for as long as the server runs (it is the server's data).
    _dir: Scratch,
}

impl Dynalite {
    pub fn start(name: &str) -> Self {
        let dir = scratch(name);
        let mut server = Dynalite {
            child: None,
            port: free_port(),
            path: dir.join("dynalite"),
            _dir: dir,
        };
        server.launch();
        server
    }

    pub fn launch(&mut self) {
        let child = Command::new("node")
            .arg(repo_root().join("node_modules/dynalite/cli.js"))
            .args(["--port", &self.port.to_string(), "--path"])
            .arg(&self.path)
            .args([
                "--createTableMs",
                "0",
                "--deleteTableMs",
                "0",
                "--updateTableMs",
                "0",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs dynalite");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "dynalite did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Dynalite {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `GET /metrics` from a `--metrics-addr` endpoint (empty when it does not answer).
pub fn scrape(port: u16) -> String {
    use std::io::{Read, Write};
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let _ = stream.write_all(b"GET /metrics HTTP/1.1\r\nhost: localhost\r\n\r\n");
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text);
    text
}
