#!/usr/bin/env bash
# Build the core for wasm32-unknown-unknown and write pkg/kinesis_connector.wasm.
#
# Uses rustup's wasm32 target when it is installed (the ordinary path). Otherwise builds the
# standard library from source with Debian's rustc-web + rust-web-src and links with the
# rust-lld of rustup's toolchain (the recipe in TOOLCHAIN.md), in its own target dir so the two
# compilers never share build outputs. Then runs wasm-opt (npm binaryen) when it is there.
set -euo pipefail
cd "$(dirname "$0")/.."

out=pkg/kinesis_connector.wasm
target=wasm32-unknown-unknown

if rustup target list --installed 2>/dev/null | grep -qx "$target"; then
  CARGO_PROFILE_RELEASE_OPT_LEVEL=3 CARGO_PROFILE_RELEASE_LTO=true CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
  CARGO_PROFILE_RELEASE_PANIC=abort \
    cargo build --release --target "$target" -p kinesis-connector --lib --target-dir target/wasm-rustup
  built=target/wasm-rustup/$target/release/kinesis_connector.wasm
elif [ -x /usr/bin/rustc ] && [ -d /usr/lib/rustlib/src/rust/library ]; then
  lld="$(rustc --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld"
  [ -x "$lld" ] || { echo "build-wasm: rust-lld not found at $lld" >&2; exit 1; }
  # opt-level 3, not "z": measured 2.5 µs vs 9.6 µs a validation for 60 KB vs 62 KB gzipped
  # (the size-optimized std and "z" barely shrink it; see the closing notes in ARCHITECTURE.md).
  RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
  RUSTFLAGS="-C linker=$lld -Zunstable-options -Cpanic=immediate-abort" \
  CARGO_PROFILE_RELEASE_OPT_LEVEL=3 CARGO_PROFILE_RELEASE_LTO=true CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
    /usr/bin/cargo build --release --target "$target" -p kinesis-connector --lib \
      -Zbuild-std=std,panic_abort --target-dir target/wasm
  built=target/wasm/$target/release/kinesis_connector.wasm
else
  echo "build-wasm: no wasm32 standard library: either 'rustup target add $target'," >&2
  echo "  or install Debian's rustc-web cargo-web rust-web-src (see .ci/run)" >&2
  exit 1
fi

if [ -x node_modules/.bin/wasm-opt ]; then
  node_modules/.bin/wasm-opt -O3 --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
    --enable-nontrapping-float-to-int --strip-debug --strip-producers "$built" -o "$out"
else
  cp "$built" "$out"
fi
node pkg/build.mjs "$out"
printf 'build-wasm: %s (%s bytes, %s gzipped)\n' "$out" "$(wc -c < "$out")" "$(gzip -9c "$out" | wc -c)"
