#!/usr/bin/env bash
# Install what building and testing need, on a fresh Debian machine of this kind; quick when
# everything is already there. Used by `make setup` (and so by `make demo` / `make test`).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=()
# The wasm32 standard library cannot be downloaded by rustup here: Debian's rustc-web ships its
# source, and scripts/build-wasm.sh builds it (unless rustup already has the target).
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  { [ -x /usr/bin/rustc ] && [ -d /usr/lib/rustlib/src/rust/library ]; } || packages+=(rustc-web cargo-web rust-web-src)
fi
[ -x /usr/bin/chromium ] || packages+=(chromium)
command -v node >/dev/null || packages+=(nodejs npm)
if [ ${#packages[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing ${packages[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
  else
    echo "setup: please install: ${packages[*]} (Debian package names)" >&2
    exit 1
  fi
fi
if command -v rustup >/dev/null; then
  rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt
fi

# wasm-bindgen-cli at exactly the version of the wasm-bindgen crate in Cargo.lock (the crate is
# pinned with `=` in Cargo.toml so the two never drift); about 3 minutes to compile.
wasm_bindgen="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)" != "$wasm_bindgen" ]; then
  echo "setup: installing wasm-bindgen-cli $wasm_bindgen"
  # --locked first (the versions its authors tested); without it when a locked dependency is
  # missing from the registry mirror.
  cargo install --quiet --locked wasm-bindgen-cli --version "=$wasm_bindgen" ||
    cargo install --quiet wasm-bindgen-cli --version "=$wasm_bindgen"
fi

# Node tooling (tests, the Kinesis emulator, dynalite for the lease table, benchmarks, wasm-opt),
# reinstalled when the lock changes.
# A node_modules that is a symbolic link (a worktree sharing another checkout's install) is
# left alone: `npm ci` empties the directory it points to and replaces the link, which broke
# every other worktree sharing it (seen here; the lock is the same file, only newer).
if [ -L node_modules ]; then
  [ -f node_modules/.installed ] || { echo "setup: node_modules links to $(readlink node_modules), which is not installed; run npm ci there" >&2; exit 1; }
elif [ ! -f node_modules/.installed ] || [ package-lock.json -nt node_modules/.installed ]; then
  npm ci --no-audit --no-fund
  touch node_modules/.installed
fi
