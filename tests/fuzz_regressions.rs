//! The fuzz targets' checks (fuzz/fuzz_targets/checks.rs) on their seed
//! inputs and on every input a fuzzer crashed on (fuzz/regressions/<target>/):
//! a crash `make fuzz` found once is a failing `cargo test` until it is fixed,
//! and stays a test after.

#![cfg(not(target_arch = "wasm32"))]

#[path = "../fuzz/fuzz_targets/checks.rs"]
#[allow(dead_code)]
mod checks;

use std::path::Path;

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut found = Vec::new();
    for folder in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(folder).join(target)) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.file_name().is_some_and(|n| n != ".keep") {
                found.push((path.display().to_string(), std::fs::read(&path).expect("readable")));
            }
        }
    }
    found.sort();
    found
}

#[test]
fn dataset_inputs_decode_or_are_refused() {
    let all = inputs("dataset");
    assert!(!all.is_empty(), "the dataset seeds are there");
    for (_, bytes) in all {
        checks::dataset(&bytes);
    }
}

#[test]
fn checkpoint_inputs_load_or_are_refused() {
    let all = inputs("checkpoint");
    assert!(!all.is_empty());
    for (_, bytes) in all {
        checks::checkpoint(&bytes);
    }
}

#[test]
fn config_inputs_train_or_are_refused() {
    let all = inputs("config");
    assert!(all.len() >= 5);
    for (_, bytes) in all {
        // libFuzzer hands the target only valid UTF-8 as &str; so does this.
        if let Ok(text) = std::str::from_utf8(&bytes) {
            checks::config(text);
        }
    }
}

#[test]
fn resume_points_restore_or_are_refused() {
    let seeds = checks::resume_seeds();
    for seed in &seeds {
        checks::resume_trainer().restore(seed).expect("a real resume point restores");
        checks::resume(seed);
        // Every cut and a flipped byte in each: refused or restored, never a panic.
        for cut in (0..seed.len()).step_by(97) {
            checks::resume(&seed[..cut]);
        }
        let mut flipped = seed.clone();
        for i in (6..flipped.len()).step_by(131) {
            flipped[i] ^= 0x5a;
            checks::resume(&flipped);
            flipped[i] ^= 0x5a;
        }
    }
    for (_, bytes) in inputs("resume") {
        checks::resume(&bytes);
    }
}

/// `make fuzz` starts the resume target from real resume points: this writes
/// them into $FUZZ_SEED_DIR (it is not a check, hence ignored).
#[test]
#[ignore]
fn write_resume_seeds() {
    let dir = std::env::var("FUZZ_SEED_DIR").expect("FUZZ_SEED_DIR names the corpus folder");
    std::fs::create_dir_all(&dir).unwrap();
    for (i, seed) in checks::resume_seeds().iter().enumerate() {
        std::fs::write(Path::new(&dir).join(format!("seed-{i}")), seed).unwrap();
    }
}
