//! Any text as a run configuration (see `checks::config`).
#![no_main]

// Each target uses one of the shared checks.
#[allow(dead_code)]
#[path = "checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|text: &str| checks::config(text));
