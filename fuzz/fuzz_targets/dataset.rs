//! Any bytes as a dataset file (see `checks::dataset`).
#![no_main]

// Each target uses one of the shared checks.
#[allow(dead_code)]
#[path = "checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| checks::dataset(bytes));
