#!/usr/bin/env bash
# make demo: the connector end to end on this machine, against the local Kinesis emulator.
#   1. validate the example configs (one good, one bad report);
#   2. start kinesis-local (kinesis-mock) on free loopback ports and create the example's stream;
#   3. produce a few hundred sample Data Values through the example method (temperature filter);
#   4. consume them back and print a few;
#   5. serve the admin console and print its URL (until Ctrl-C).
# Ctrl-C (or any exit) stops everything it started.
#
# Environment: KC_BIN (the binary; default target/release/kinesis-connector, built by `make build`),
# DEMO_COUNT (values to produce, default 300), PORT (console port, default 8080, else a free one),
# DEMO_NO_SERVE=1 (everything except the blocking console server; for CI and tests).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bin=${KC_BIN:-target/release/kinesis-connector}
count=${DEMO_COUNT:-300}
config=examples/connector.json
export NODE_NO_WARNINGS=1

if [[ ! -x $bin ]]; then
  echo "demo: $bin is missing: run 'make build' (or 'make demo') first" >&2
  exit 1
fi
if [[ ! -f node_modules/kinesis-local/main.js ]]; then
  echo "demo: node_modules/kinesis-local is missing: run 'npm ci' (or 'make setup') first" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/kinesis-connector-demo.XXXXXX")
pids=()
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}
wait_for_port() { # PORT SECONDS
  for _ in $(seq 1 $(($2 * 10))); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "demo: nothing listens on 127.0.0.1:$1 after $2 s" >&2
  return 1
}
field() { # FILE KEY
  node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))[process.argv[2]])' "$1" "$2"
}
step() { printf '\n== %s\n' "$*"; }

step "1. validate the example configs"
echo "\$ kinesis-connector validate $config"
"$bin" validate "$config" 2>&1
echo "\$ kinesis-connector validate examples/connector-invalid.json"
if "$bin" validate examples/connector-invalid.json 2>&1; then
  echo "demo: the invalid example validated" >&2
  exit 1
fi

step "2. start the Kinesis emulator (kinesis-local) on loopback"
port=$(free_port)
tls_port=$(free_port)
(
  cd node_modules/kinesis-local
  exec env KINESIS_MOCK_PLAIN_PORT="$port" KINESIS_MOCK_TLS_PORT="$tls_port" \
    CREATE_STREAM_DURATION=0ms LOG_LEVEL=ERROR node main.js
) >"$work/emulator.log" 2>&1 &
pids+=($!)
wait_for_port "$port" 60
endpoint="http://127.0.0.1:$port"
stream=$(field "$config" stream)
shards=$(field "$config" shards)
region=$(field "$config" region)
echo "emulator: $endpoint"
KINESIS_REGION=$region node tests/stream/kinesis.mjs "$endpoint" create "$stream" "$shards"
echo "\$ kinesis-connector test --config $config --endpoint-url $endpoint"
"$bin" test --config "$config" --endpoint-url "$endpoint"

step "3. produce $count sample Data Values through the method $(field "$config" dataProcessingMethodId)"
node examples/generate-data-values.mjs "$count" >"$work/data-values.ndjson"
echo "first input line:"
head -n 1 "$work/data-values.ndjson" | cut -c1-160
echo "..."
echo "\$ kinesis-connector produce --config $config --input data-values.ndjson --methods examples/methods"
"$bin" produce --config "$config" --input "$work/data-values.ndjson" --methods examples/methods \
  --endpoint-url "$endpoint" --state-dir "$work/state" --stats-interval 0 2>&1

step "4. consume them back"
# The reader sees what the method produced, so it runs without the method.
node -e 'const fs = require("fs"); const c = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
  delete c.dataProcessingMethodId; fs.writeFileSync(process.argv[2], JSON.stringify(c, null, 2));' \
  "$config" "$work/reader.json"
echo "\$ kinesis-connector consume --config reader.json --idle-timeout 2"
"$bin" consume --config "$work/reader.json" --endpoint-url "$endpoint" --state-dir "$work/state" \
  --idle-timeout 2 --stats-interval 0 >"$work/consumed.ndjson" 2>"$work/consume.log" || {
  cat "$work/consume.log" >&2
  exit 1
}
grep -v '^[0-9T:.-]*Z *INFO' "$work/consume.log" || true
echo "consumed $(wc -l <"$work/consumed.ndjson") records; the first three:"
head -n 3 "$work/consumed.ndjson"

step "5. admin console"
if [[ ${DEMO_NO_SERVE:-} == 1 ]]; then
  echo "console: not served (DEMO_NO_SERVE=1); 'make console' serves it"
  echo "demo: done"
  exit 0
fi
if [[ ! -f www/serve.mjs || ! -f pkg/index.mjs ]]; then
  echo "console: not ready yet (www/serve.mjs or pkg/index.mjs missing); the streaming demo above is complete"
  echo "demo: done (press Ctrl-C to stop the emulator)"
  wait
  exit 0
fi
console_port=${PORT:-8080}
if [[ $console_port == 0 ]] || (exec 3<>"/dev/tcp/127.0.0.1/$console_port") 2>/dev/null; then
  console_port=$(free_port)
fi
PORT=$console_port node www/serve.mjs >"$work/console.log" 2>&1 &
pids+=($!)
wait_for_port "$console_port" 30
echo "emulator still running at $endpoint (stream $stream, region $region)"
echo "press Ctrl-C to stop everything"
echo "console: http://127.0.0.1:$console_port/"
wait
