//! What every fuzz target checks, as plain functions: the targets call them
//! with libFuzzer's inputs, and `tests/fuzz_regressions.rs` calls them with
//! the seeds and every input a fuzzer ever crashed on (fuzz/seeds,
//! fuzz/regressions), so a fixed crash stays fixed in `cargo test`.

use std::sync::{Arc, OnceLock};

use finetune_lab::{Dataset, TrainConfig, Trainer};

/// Any bytes as a dataset file: decoding returns a dataset or a named error,
/// never a panic, and a decoded dataset survives its own round trip.
pub fn dataset(bytes: &[u8]) {
    if let Ok(dataset) = finetune_lab::decode_dataset("fuzz.ftld", bytes) {
        let again = finetune_lab::decode_dataset("fuzz.ftld", &finetune_lab::encode_dataset(&dataset)).expect("an encoded dataset decodes");
        assert_eq!(again, dataset);
        let _ = dataset.split_sizes();
    }
}

/// Any bytes as a checkpoint: decoding and building its model return a model
/// or a named error, never a panic; a model that builds runs a forward pass.
pub fn checkpoint(bytes: &[u8]) {
    let Ok(checkpoint) = finetune_lab::decode_checkpoint("fuzz.ftlc", bytes) else { return };
    let Ok(mut model) = checkpoint.build_model() else { return };
    // Small inputs only: a hostile spec may describe a huge model.
    let input = model.spec().input.len();
    if input == 0 || input > 4096 || model.stored_count() > 1 << 20 {
        return;
    }
    let x = ndarray::Array2::<f32>::zeros((2, input));
    let _ = model.forward(x, &mut finetune_lab::nn::Mode::Eval);
}

/// Any text as a run configuration (the JSON the page and the worker send):
/// it is refused with named problems, or it builds a trainer on a tiny real
/// dataset that then takes a few steps without panicking.
pub fn config(text: &str) {
    let Ok(config) = TrainConfig::from_json(text) else { return };
    // Big models train slowly, not wrongly; keep each input fast.
    if config.model_spec.as_ref().is_some_and(|s| s.layers.len() > 12) || config.batch_size > 64 {
        return;
    }
    let Ok(mut trainer) = Trainer::new(config, tiny_mnist()) else { return };
    if trainer.model().param_count() > 200_000 {
        return;
    }
    for _ in 0..4 {
        match trainer.tick() {
            Ok(finetune_lab::train::Tick::Done) | Err(_) => break,
            Ok(_) => {}
        }
    }
}

/// The run every resume point is restored into: a small MLP on the tiny
/// dataset with momentum and dropout, so the optimiser's memory and the
/// generators are part of its state.
pub fn resume_trainer() -> Trainer {
    let config = TrainConfig::from_json(r#"{"model_spec": {"input": [1, 28, 28], "layers": [{"type": "flatten"}, {"type": "dense", "units": 16}, {"type": "relu"}, {"type": "dropout", "rate": 0.2}, {"type": "dense", "units": 10}]}, "optimizer": {"kind": "sgd", "momentum": 0.9}, "batch_size": 8, "epochs": 3, "eval_chunk": 7}"#)
        .expect("a valid configuration");
    Trainer::new(config, tiny_mnist()).expect("the resume trainer builds")
}

/// Real resume points of [`resume_trainer`]'s run: before any step, mid-epoch, mid-evaluation.
pub fn resume_seeds() -> Vec<Vec<u8>> {
    let mut trainer = resume_trainer();
    let mut seeds = vec![trainer.snapshot()];
    for _ in 0..7 {
        let _ = trainer.tick();
        seeds.push(trainer.snapshot());
    }
    seeds
}

/// Any bytes as a resume point (what the page hands a new worker): refused
/// with the trainer unchanged, or restored into a run that then trains on.
pub fn resume(bytes: &[u8]) {
    let mut trainer = resume_trainer();
    let before = trainer.model().flat_weights();
    match trainer.restore(bytes) {
        Err(_) => assert_eq!(trainer.model().flat_weights(), before, "a refused resume point changed the weights"),
        Ok(()) => {
            for _ in 0..4 {
                match trainer.tick() {
                    Ok(finetune_lab::train::Tick::Done) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        }
    }
}

/// 40 real MNIST digits (4 per class, every split), small enough for thousands of runs a second.
fn tiny_mnist() -> Arc<Dataset> {
    static DATA: OnceLock<Arc<Dataset>> = OnceLock::new();
    DATA.get_or_init(|| {
        let full = finetune_lab::decode_dataset("mnist", include_bytes!("../../www/data/mnist.ftld.gz")).expect("the shipped dataset");
        let mut keep = Vec::new();
        for split in [finetune_lab::Split::Train, finetune_lab::Split::Validation, finetune_lab::Split::Test] {
            keep.extend(full.balanced_subset(&full.indices(split), 20));
        }
        keep.sort_unstable();
        let size = full.shape.len();
        Arc::new(Dataset {
            name: "tiny".into(),
            shape: full.shape,
            class_names: full.class_names.clone(),
            pixels: keep.iter().flat_map(|&i| full.pixels[i * size..(i + 1) * size].iter().copied()).collect(),
            labels: keep.iter().map(|&i| full.labels[i]).collect(),
            splits: keep.iter().map(|&i| full.splits[i]).collect(),
        })
    })
    .clone()
}
