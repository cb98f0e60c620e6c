#!/usr/bin/env bash
# `make fuzz`: run each cargo-fuzz target (fuzz/fuzz_targets/) for a bounded time on the nightly
# toolchain, growing fuzz/corpus/<target>/. A crash stops with its input in fuzz/artifacts/<target>/;
# once fixed, copy that input to fuzz/regressions/<target>/ (the ordinary tests replay it).
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]    (default 60 s, every target)
# No sanitizer: the code is safe Rust, so ASan adds cost (3-5x fewer runs) and finds nothing more;
# debug assertions (overflow checks) stay on.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(text values locate kpl)

rustup toolchain list | grep -q '^nightly' || {
  echo "fuzz: the nightly toolchain is needed (rustup toolchain install nightly)" >&2
  exit 1
}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

export CARGO_TARGET_DIR=${FUZZ_TARGET_DIR:-$PWD/target/fuzz}
status=0
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t" "fuzz/regressions/$t"
  log="target/fuzz-$t.log"
  mkdir -p target
  echo "fuzz: $t for ${seconds}s (log: $log)"
  if cargo +nightly fuzz run --fuzz-dir fuzz --sanitizer none "$t" "fuzz/corpus/$t" "fuzz/regressions/$t" -- \
      -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=2048 -timeout=10 \
      >"$log" 2>&1; then
    :
  else
    echo "fuzz: $t FOUND A CRASH: see $log and fuzz/artifacts/$t/" >&2
    status=1
  fi
  # libFuzzer ends with "Done N runs in S second(s)".
  grep -E '^Done [0-9]+ runs' "$log" | tail -1 || echo "fuzz: $t: no run count in $log"
done
exit $status
