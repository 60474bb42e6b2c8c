//! Any bytes as a dataset file (see `checks::dataset`).
#![no_main]

#[path = "checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| checks::dataset(bytes));
