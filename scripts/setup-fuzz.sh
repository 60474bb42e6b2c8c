#!/usr/bin/env bash
# What `make fuzz` needs beyond `make test`: a nightly toolchain (cargo-fuzz's
# libFuzzer instrumentation needs it; the page and `make test` stay on stable)
# and cargo-fuzz itself, pinned. Skips whatever is present.
set -euo pipefail
CARGO_FUZZ_VERSION=0.13.2
say() { printf '[setup-fuzz] %s\n' "$*"; }
if ! rustup toolchain list | grep -q '^nightly'; then
  say "installing a minimal nightly toolchain (for libFuzzer only)"
  rustup toolchain install nightly --profile minimal
fi
if [ "$(cargo fuzz --version 2>/dev/null | awk '{print $2}')" != "$CARGO_FUZZ_VERSION" ]; then
  say "installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install --locked --force cargo-fuzz --version "$CARGO_FUZZ_VERSION"
fi
say "ready"
