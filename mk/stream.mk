# stream/: the native crate (binary kinesis-connector). Included by the top Makefile.
#   make stream-build   debug build of the binary
#   make stream-test    clippy -D warnings, unit tests, emulator integration tests (kinesis-mock):
#                       consume, produce (stream/tests/produce.rs), the lease table with several
#                       workers (stream/tests/lease.rs, + dynalite), enhanced fan-out
#                       (stream/tests/efo.rs: SubscribeToShard on kinesis-mock), the fault suite through
#                       tests/stream/faultproxy.mjs (stream/tests/faults.rs; its full-disk test
#                       mounts a tmpfs: root, as in CI), the secret audit (stream/tests/secrets.rs;
#                       needs pkg/ built, as `make test` does first) and scripts/demo.sh with
#                       DEMO_NO_SERVE=1 (stream/tests/demo.rs)
#   make stream-bench   pipeline records/s, end-to-end drain vs the JS SDK, peak RSS; producer
#                       throughput vs a JS PutRecords loop, records per request, per-shard rate;
#                       lease table: takeover after kill -9, SIGTERM handoff, table requests per
#                       minute, drain with 1/2/3 workers (tests/stream/bench-lease.mjs);
#                       polling against fan-out: put-to-stdout latency p50/p99 at 200 records/s
#                       for 30 s, drain throughput (tests/stream/bench-efo.mjs).
#                       A measurement that fails is printed as FAILED/PARTIAL; every script
#                       still runs, and the target fails at the end if any did

STREAM_CARGO ?= cargo
STREAM_PKG := -p kinesis-connector-stream
STREAM_RELEASE_BIN := target/release-native/kinesis-connector

.PHONY: stream-build stream-test stream-lint stream-bench stream-release

stream-build:
	$(STREAM_CARGO) build $(STREAM_PKG) --bin kinesis-connector

stream-lint:
	$(STREAM_CARGO) fmt $(STREAM_PKG) -- --check
	$(STREAM_CARGO) clippy $(STREAM_PKG) --all-targets --no-deps -- -D warnings

# The integration tests start kinesis-mock (node_modules/kinesis-local) on free loopback ports and
# write with @aws-sdk/client-kinesis (tests/stream/kinesis.mjs); the lease tests also start dynalite
# (node_modules/dynalite): run `npm ci` first.
stream-test: stream-lint
	$(STREAM_CARGO) test $(STREAM_PKG)

stream-release:
	$(STREAM_CARGO) build $(STREAM_PKG) --profile release-native --bin kinesis-connector

stream-bench: stream-release
	@failed=0; \
	$(STREAM_CARGO) bench $(STREAM_PKG) --profile release-native --bench pipeline || failed=1; \
	NODE_NO_WARNINGS=1 node tests/stream/bench-e2e.mjs $(STREAM_RELEASE_BIN) 20000 || failed=1; \
	NODE_NO_WARNINGS=1 node tests/stream/bench-produce.mjs $(STREAM_RELEASE_BIN) 5000 || failed=1; \
	NODE_NO_WARNINGS=1 node tests/stream/bench-lease.mjs $(STREAM_RELEASE_BIN) --runs 5 || failed=1; \
	NODE_NO_WARNINGS=1 node tests/stream/bench-efo.mjs $(STREAM_RELEASE_BIN) --rate 200 --seconds 30 --drain 5000 || failed=1; \
	if [ $$failed -ne 0 ]; then echo "stream-bench: some measurements failed (printed above)"; exit 1; fi
