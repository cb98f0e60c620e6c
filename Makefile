# kinesis-connector: one command per job. `make demo` and `make test` set up what they need.
#   make build    the npm package (pkg/, from the Rust core compiled to wasm) and the native binary
#   make test     every test: Rust (core + stream, with the Kinesis emulator), Node, browser
#   make bench    benchmarks, printed side by side with the reference tools
#   make fuzz     each cargo-fuzz target for FUZZ_SECONDS (default 60) on nightly; crashes stop it
#   make demo     build, validate examples, stream sample data through the local emulator, serve the console
#   make console  serve the admin console on 127.0.0.1:$PORT (default 8080)
#   make types    regenerate pkg/types.d.ts from the Rust types

SHELL := /bin/bash
.DEFAULT_GOAL := build
CARGO ?= cargo

.PHONY: setup build wasm native types test test-rust test-js lint bench demo fuzz clean

# System packages (Debian) and node_modules; quick when everything is there.
setup:
	scripts/setup.sh

# pkg/index.mjs, pkg/index.cjs (the wasm inlined) from the core.
wasm: setup
	scripts/build-wasm.sh

native:
	$(CARGO) build --release -p kinesis-connector-stream

build: wasm native

types:
	UPDATE_TYPES=1 $(CARGO) test -p kinesis-connector --features ts --test types

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --features kinesis-connector/ts -- -D warnings

test-rust:
	$(CARGO) test -p kinesis-connector --features ts

test-js: wasm native  # tests/js/cli.test.mjs compares the npm bin with the native binary
	node --test tests/js/

test: setup build lint test-rust test-js console-test stream-test
	@echo "make test: all suites passed"

bench: setup build
	node bench/js/bench.mjs
	python3 bench/hostile-memory.py target/release/kinesis-connector || echo 'bench: hostile-memory FAILED'
	$(MAKE) --no-print-directory stream-bench

FUZZ_SECONDS ?= 60
fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS)

demo: setup build
	scripts/demo.sh

clean:
	rm -rf target pkg/index.mjs pkg/index.cjs pkg/index.d.cts pkg/kinesis_connector.wasm tests/out

-include mk/*.mk
