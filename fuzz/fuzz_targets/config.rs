//! Any text as a run configuration (see `checks::config`).
#![no_main]

#[path = "checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|text: &str| checks::config(text));
