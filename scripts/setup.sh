#!/usr/bin/env bash
# Installs what `make serve`, `make test` and `make bench` need, skipping
# whatever is already present, so running it twice costs a few seconds.
# Works on a fresh Debian/Ubuntu machine with rustup, Node.js and network
# access to crates.io, the npm registry and Debian's package mirrors.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*"; }

# The wasm-bindgen CLI must match the library version in Cargo.lock exactly,
# otherwise wasm-pack tries to download a matching binary (which fails offline).
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/[^0-9.]/,""); print; exit}' Cargo.lock 2>/dev/null || true)
WASM_BINDGEN_VERSION=${WASM_BINDGEN_VERSION:-0.2.106}
# wasm-pack is pinned to the version this project was last built with; the
# check below compares versions, so a different one already on PATH is replaced.
WASM_PACK_VERSION=0.15.1

# make lint runs cargo fmt and clippy; a minimal rustup profile has neither.
for component in rustfmt clippy; do
  if ! rustup component list --installed | grep -q "^$component"; then
    say "adding the $component component"
    rustup component add "$component"
  fi
done

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(wasm-pack --version 2>/dev/null | awk '{print $2}')" != "$WASM_PACK_VERSION" ]; then
  say "installing wasm-pack $WASM_PACK_VERSION (a few minutes, once)"
  cargo install --locked --force wasm-pack --version "$WASM_PACK_VERSION"
fi

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
  cargo install --force wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  say "installing Debian's chromium and chromium-driver"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi
# ONNX Runtime, onnx and safetensors for the export check (make test-export),
# in a venv of their own; its copy of the requirements says what it holds, so
# a changed pin reinstalls and an unchanged one costs nothing.
EXPORT_VENV=${EXPORT_VENV:-$HOME/.cache/finetune-lab/export-venv}
if ! cmp -s tests/export/requirements.txt "$EXPORT_VENV/requirements.txt"; then
  say "installing onnx, onnxruntime, safetensors and numpy into $EXPORT_VENV"
  [ -x "$EXPORT_VENV/bin/python" ] || python3 -m venv "$EXPORT_VENV"
  "$EXPORT_VENV/bin/pip" install --quiet --disable-pip-version-check -r tests/export/requirements.txt
  cp tests/export/requirements.txt "$EXPORT_VENV/requirements.txt"
fi
say "ready"
