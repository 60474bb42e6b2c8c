//! Any bytes as a run's resume point (see `checks::resume`).
#![no_main]

// Each target uses one of the shared checks.
#[allow(dead_code)]
#[path = "checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| checks::resume(bytes));
