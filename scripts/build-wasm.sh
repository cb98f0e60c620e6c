#!/usr/bin/env bash
# Build the core for wasm32-unknown-unknown, run wasm-bindgen on it, and write
# pkg/kinesis_connector.wasm + pkg/kinesis_connector_bg.js (wasm-bindgen's generated bindings), then
# the package entry points (pkg/build.mjs).
#
# Uses rustup's wasm32 target when it is installed (the ordinary path). Otherwise builds the
# standard library from source with Debian's rustc-web + rust-web-src and links with the
# rust-lld of rustup's toolchain (the recipe in TOOLCHAIN.md), in its own target dir so the two
# compilers never share build outputs. wasm-bindgen-cli must be the exact version of the
# wasm-bindgen crate in Cargo.lock (scripts/setup.sh installs it). Then runs wasm-opt (npm
# binaryen) when it is there.
set -euo pipefail
cd "$(dirname "$0")/.."

out=pkg/kinesis_connector.wasm
target=wasm32-unknown-unknown

want="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
have="$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)"
if [ -z "$want" ] || [ "$have" != "$want" ]; then
  echo "build-wasm: wasm-bindgen-cli ${want:-?} is needed (found: ${have:-none}); run scripts/setup.sh" >&2
  exit 1
fi

# WASM_EXTRA_RUSTFLAGS adds to the compiler's flags, for measuring (for example
# -Cllvm-args=-inline-threshold=120: ARCHITECTURE.md, "Package performance", round 6).
# Not stripped here: wasm-bindgen reads the target_features section; wasm-opt strips afterwards.
# No reference types: the bindings pass only strings, and without them wasm-bindgen adds no
# externref table (nor its start function). Memory is capped at 256 MiB (a config is a few
# hundred bytes): an input too large for it fails the allocation, which traps, and the package
# reports it and starts a fresh instance (tests/js/trap.test.mjs).
common=(CARGO_PROFILE_RELEASE_OPT_LEVEL="${WASM_OPT_LEVEL:-3}" CARGO_PROFILE_RELEASE_LTO=true CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
        CARGO_PROFILE_RELEASE_STRIP=false)
if rustup target list --installed 2>/dev/null | grep -qx "$target"; then
  env "${common[@]}" CARGO_PROFILE_RELEASE_PANIC=abort RUSTFLAGS="-Ctarget-feature=-reference-types -Clink-arg=--max-memory=268435456 ${WASM_EXTRA_RUSTFLAGS:-}" \
    cargo build --release --target "$target" -p kinesis-connector --lib --target-dir target/wasm-rustup
  built=target/wasm-rustup/$target/release/kinesis_connector.wasm
elif [ -x /usr/bin/rustc ] && [ -d /usr/lib/rustlib/src/rust/library ]; then
  lld="$(rustc --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld"
  [ -x "$lld" ] || { echo "build-wasm: rust-lld not found at $lld" >&2; exit 1; }
  # opt-level 3, not "z": see ARCHITECTURE.md ("Decisions").
  env "${common[@]}" RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
  RUSTFLAGS="-C linker=$lld -Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none -Ctarget-feature=-reference-types -Clink-arg=--max-memory=268435456 ${WASM_EXTRA_RUSTFLAGS:-}" \
    /usr/bin/cargo build --release --target "$target" -p kinesis-connector --lib \
      -Zbuild-std=std,panic_abort --target-dir target/wasm
  built=target/wasm/$target/release/kinesis_connector.wasm
else
  echo "build-wasm: no wasm32 standard library: either 'rustup target add $target'," >&2
  echo "  or install Debian's rustc-web cargo-web rust-web-src (see .ci/run)" >&2
  exit 1
fi

bindgen=target/wasm-bindgen
mkdir -p "$bindgen"
wasm-bindgen --target web --no-typescript --out-dir "$bindgen" --out-name kinesis_connector "$built"
cp "$bindgen/kinesis_connector.js" pkg/kinesis_connector_bg.js
if [ -x node_modules/.bin/wasm-opt ]; then
  node_modules/.bin/wasm-opt --no-inline='*issues::cold*' --no-inline='*issues::apart*' "${WASM_OPT_PASS:--O3}" --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
    --enable-nontrapping-float-to-int --strip-debug --strip-producers --strip-target-features \
    "$bindgen/kinesis_connector_bg.wasm" -o "$out"
else
  cp "$bindgen/kinesis_connector_bg.wasm" "$out"
fi
node pkg/build.mjs "$out"
printf 'build-wasm: %s (%s bytes, %s gzipped)\n' "$out" "$(wc -c < "$out")" "$(gzip -9c "$out" | wc -c)"
