//! Resume points (src/train/snapshot.rs): a run continued in a fresh trainer
//! from its snapshot is the run that never stopped, bit for bit; a snapshot of
//! another run, or damaged bytes, is refused and changes nothing.

use std::sync::Arc;

use finetune_lab::data::augment::AugmentConfig;
use finetune_lab::train::Tick;
use finetune_lab::{decode_dataset, Dataset, Error, EvalRecord, OptimizerSpec, TrainConfig, Trainer};

fn mnist() -> Arc<Dataset> {
    let bytes = std::fs::read("www/data/mnist.ftld.gz").expect("www/data/mnist.ftld.gz is committed");
    Arc::new(decode_dataset("mnist.ftld.gz", &bytes).unwrap())
}

/// Momentum (optimiser memory), dropout and augmentation (three generators),
/// several evaluations per epoch and early stopping: every kind of state.
fn config() -> TrainConfig {
    TrainConfig {
        model: "lenet5".into(),
        optimizer: OptimizerSpec::named("momentum").unwrap(),
        lr: 0.02,
        batch_size: 16,
        dropout: 0.3,
        train_limit: Some(160),
        evals_per_epoch: 3,
        early_stopping: Some(50),
        augment: AugmentConfig { rotation_deg: 10.0, rotation_p: 0.5, translate: 0.1, translate_p: 0.5, ..AugmentConfig::default() },
        eval_chunk: 200,
        epochs: 4,
        ..TrainConfig::default()
    }
}

/// Ticks until `steps` training steps were taken (or the run ends), returning the evaluations seen.
fn train(trainer: &mut Trainer, steps: usize) -> Vec<EvalRecord> {
    let mut trained = 0;
    let mut evals = Vec::new();
    while trained < steps {
        match trainer.tick().unwrap() {
            Tick::Trained { .. } => trained += 1,
            Tick::Evaluated(r) => evals.push(r),
            Tick::Evaluating => {}
            Tick::Done => break,
        }
    }
    evals
}

fn bits(weights: &[f32]) -> Vec<u32> {
    weights.iter().map(|w| w.to_bits()).collect()
}

#[test]
fn a_restored_run_continues_exactly_as_the_run_that_never_stopped() {
    let data = mnist();
    let mut original = Trainer::new(config(), data.clone()).unwrap();
    // Step 13 is mid-epoch (10 steps per epoch) with an evaluation behind it.
    train(&mut original, 13);
    let snapshot = original.snapshot();
    let expected_evals = train(&mut original, 15);
    let expected = bits(&original.model().flat_weights());

    let mut resumed = Trainer::new(config(), data).unwrap();
    resumed.restore(&snapshot).unwrap();
    assert_eq!(resumed.status().step, 13);
    let evals = train(&mut resumed, 15);
    assert_eq!(evals, expected_evals);
    assert!(!evals.is_empty(), "the continuation crossed an evaluation");
    assert_eq!(bits(&resumed.model().flat_weights()), expected, "the resumed run's weights differ");
    assert_eq!(resumed.status(), original.status());
}

#[test]
fn a_snapshot_taken_during_an_evaluation_finishes_it_after_the_restore() {
    let data = mnist();
    let mut original = Trainer::new(config(), data.clone()).unwrap();
    // The first tick measures the untrained model in chunks of 200 validation images.
    assert!(matches!(original.tick().unwrap(), Tick::Evaluating));
    let snapshot = original.snapshot();
    let expected_evals = train(&mut original, 5);

    let mut resumed = Trainer::new(config(), data).unwrap();
    resumed.restore(&snapshot).unwrap();
    assert_eq!(train(&mut resumed, 5), expected_evals);
    assert_eq!(bits(&resumed.model().flat_weights()), bits(&original.model().flat_weights()));
}

#[test]
fn frozen_layers_and_layer_rates_set_mid_run_are_part_of_the_snapshot() {
    let data = mnist();
    let mut original = Trainer::new(config(), data.clone()).unwrap();
    train(&mut original, 3);
    original.model_mut().set_frozen(0, true).unwrap();
    original.model_mut().set_lr_multiplier(7, 0.5).unwrap();
    let snapshot = original.snapshot();
    train(&mut original, 4);

    let mut resumed = Trainer::new(config(), data).unwrap();
    resumed.restore(&snapshot).unwrap();
    assert_eq!(resumed.model().summaries(), Trainer::model(&original).summaries());
    train(&mut resumed, 4);
    assert_eq!(bits(&resumed.model().flat_weights()), bits(&original.model().flat_weights()));
}

#[test]
fn a_snapshot_of_another_run_or_damaged_bytes_is_refused_and_changes_nothing() {
    let data = mnist();
    let mut source = Trainer::new(config(), data.clone()).unwrap();
    train(&mut source, 3);
    let snapshot = source.snapshot();

    let mut other = Trainer::new(TrainConfig { seed: 99, ..config() }, data.clone()).unwrap();
    train(&mut other, 2);
    let before = bits(&other.model().flat_weights());
    let refused = |t: &mut Trainer, bytes: &[u8]| match t.restore(bytes) {
        Err(Error::Resume(what)) => what,
        other => panic!("expected a refusal, got {other:?}"),
    };
    assert!(refused(&mut other, &snapshot).contains("different run"));
    assert!(refused(&mut other, &snapshot[..snapshot.len() / 2]).contains("damaged"));
    assert!(refused(&mut other, b"FTLC\x01\x00").contains("not a resume point"));
    let mut future = snapshot.clone();
    future[4] = 9;
    assert!(refused(&mut other, &future).contains("version 9"));
    let mut longer = snapshot.clone();
    longer.push(0);
    let mut same = Trainer::new(config(), data.clone()).unwrap();
    assert!(refused(&mut same, &longer).contains("1 bytes follow"));

    // Nothing changed: the refused trainer goes on like an untouched one.
    assert_eq!(bits(&other.model().flat_weights()), before);
    assert_eq!(other.status().step, 2);
    let mut untouched = Trainer::new(TrainConfig { seed: 99, ..config() }, data).unwrap();
    train(&mut untouched, 4);
    train(&mut other, 2);
    assert_eq!(bits(&other.model().flat_weights()), bits(&untouched.model().flat_weights()));
}
