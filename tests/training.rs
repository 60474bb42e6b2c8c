//! Training mechanics end to end on the real MNIST file: determinism, frozen
//! layers, divergence handling and a small convergence check.

use std::sync::Arc;

use finetune_lab::train::Tick;
use finetune_lab::{decode_dataset, Dataset, Error, OptimizerSpec, TrainConfig, Trainer};

fn mnist() -> Arc<Dataset> {
    let bytes = std::fs::read("www/data/mnist.ftld.gz").expect("www/data/mnist.ftld.gz is committed");
    Arc::new(decode_dataset("mnist.ftld.gz", &bytes).unwrap())
}

fn run_steps(trainer: &mut Trainer, steps: usize) {
    let mut done = 0;
    while done < steps {
        match trainer.tick().unwrap() {
            Tick::Trained { .. } => done += 1,
            Tick::Done => break,
            _ => {}
        }
    }
}

/// Runs to the end and returns every evaluation record.
fn evaluations_until_done(trainer: &mut Trainer) -> Vec<finetune_lab::EvalRecord> {
    let mut records = Vec::new();
    loop {
        match trainer.tick().unwrap() {
            Tick::Evaluated(r) => records.push(r),
            Tick::Done => return records,
            _ => {}
        }
    }
}

fn config(model: &str) -> TrainConfig {
    TrainConfig { model: model.into(), batch_size: 16, dropout: 0.3, train_limit: Some(400), eval_chunk: 500, ..TrainConfig::default() }
}

#[test]
fn same_seed_gives_bit_identical_weights_and_other_seeds_differ() {
    let data = mnist();
    let weights = |seed| {
        let mut t = Trainer::new(TrainConfig { seed, ..config("lenet5") }, data.clone()).unwrap();
        run_steps(&mut t, 8);
        t.model().flat_weights()
    };
    let (a, b, c) = (weights(7), weights(7), weights(8));
    assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
    assert_ne!(a, c);
}

#[test]
fn frozen_layers_do_not_move_while_the_rest_trains() {
    let data = mnist();
    let mut t = Trainer::new(TrainConfig { optimizer: OptimizerSpec::named("momentum").unwrap(), lr: 0.05, ..config("lenet5") }, data).unwrap();
    // Freeze both convolutions (layers 0 and 3) and the first dense layer (7).
    for layer in [0, 3, 7] {
        t.model_mut().set_frozen(layer, true).unwrap();
    }
    let snapshot = |t: &Trainer| -> Vec<Vec<u32>> {
        t.model().slots().iter().map(|s| s.layer.params().iter().flat_map(|p| p.values().iter().map(|v| v.to_bits())).collect()).collect()
    };
    let before = snapshot(&t);
    run_steps(&mut t, 10);
    let after = snapshot(&t);
    for (i, (b, a)) in before.iter().zip(&after).enumerate() {
        if [0, 3, 7].contains(&i) {
            assert_eq!(b, a, "frozen layer {i} changed");
        } else if !b.is_empty() {
            assert_ne!(b, a, "trainable layer {i} did not change");
        }
    }
    assert!(t.model_mut().set_frozen(1, true).is_err(), "ReLU has nothing to freeze");
}

#[test]
fn loss_falls_on_a_small_subset() {
    let mut t = Trainer::new(
        TrainConfig { model: "mlp".into(), epochs: 3, batch_size: 32, train_limit: Some(1000), evals_per_epoch: 1, ..TrainConfig::default() },
        mnist(),
    )
    .unwrap();
    let records = evaluations_until_done(&mut t);
    assert_eq!(records.len(), 4, "one evaluation before training and one per epoch");
    let (first, last) = (records[0], records[3]);
    assert!(first.train_loss.is_none());
    assert!(last.val_loss < 0.6 * first.val_loss, "validation loss {} → {}", first.val_loss, last.val_loss);
    assert!(last.val_acc > 0.8, "validation accuracy {}", last.val_acc);
    assert_eq!(last.epoch, 3.0);
}

#[test]
fn divergence_is_an_error_and_keeps_the_last_finite_weights() {
    let mut t = Trainer::new(
        // Each step multiplies the weights by 1 − lr·l2 = −999: they overflow within a few dozen steps.
        TrainConfig { optimizer: OptimizerSpec::named("sgd").unwrap(), lr: 1.0, l2: 1000.0, ..config("mlp") },
        mnist(),
    )
    .unwrap();
    let mut last_good = t.model().flat_weights();
    let err = loop {
        match t.tick() {
            Ok(Tick::Done) => panic!("the run ended without diverging"),
            Ok(_) => last_good = t.model().flat_weights(),
            Err(e) => break e,
        }
    };
    assert!(matches!(err, Error::Diverged { .. }), "{err}");
    assert!(err.to_string().contains("Try a smaller learning rate: 0.1 instead of 1"), "{err}");
    assert!(last_good.iter().all(|w| w.is_finite()), "the kept weights are finite");
    let now = t.model().flat_weights();
    assert!(now.iter().zip(&last_good).all(|(a, b)| a.to_bits() == b.to_bits()), "the failed step changed the weights");
}

#[test]
fn full_batch_and_stochastic_batch_sizes() {
    let data = mnist();
    let full = Trainer::new(TrainConfig { batch_size: 0, ..config("mlp") }, data.clone()).unwrap();
    assert_eq!(full.status().steps_per_epoch, 1);
    assert_eq!(full.status().batch_size, 400);
    let sgd = Trainer::new(TrainConfig { batch_size: 1, ..config("mlp") }, data).unwrap();
    assert_eq!(sgd.status().steps_per_epoch, 400);
}

#[test]
fn bad_configurations_are_explained() {
    let data = mnist();
    let err = |c: TrainConfig| Trainer::new(c, data.clone()).err().expect("rejected").to_string();
    assert!(err(TrainConfig { lr: -1.0, ..config("mlp") }).contains("learning rate"));
    assert!(err(TrainConfig { model: "vgg".into(), ..config("mlp") }).contains("unknown model preset 'vgg'"));
    assert!(err(TrainConfig { dropout: 1.0, ..config("mlp") }).contains("dropout"));
    assert!(err(TrainConfig { epochs: 0, ..config("mlp") }).contains("epochs"));
    // Within the catalog's ranges, but more than this run's data has.
    assert_eq!(
        err(TrainConfig { batch_size: 401, ..config("mlp") }),
        "configuration: batch size (batch_size) must be at most the 400 training images (0 = all of them in one batch), got 401"
    );
    let k = err(TrainConfig { labels_per_class: Some(450), train_pool: finetune_lab::data::TrainPool::Source, train_limit: None, ..config("mlp") });
    assert!(k.starts_with("configuration: labelled images per class (labels_per_class) must be at most "), "{k}");
    assert!(k.ends_with("training images, got 450"), "{k}");
}

#[test]
fn early_stopping_restores_the_best_weights() {
    // A tiny training set and a high rate overfit fast, so validation loss turns up.
    let config = TrainConfig {
        model: "mlp".into(),
        lr: 0.01,
        train_limit: Some(50),
        batch_size: 10,
        epochs: 200,
        evals_per_epoch: 1,
        early_stopping: Some(3),
        ..TrainConfig::default()
    };
    let mut t = Trainer::new(config, mnist()).unwrap();
    let records = evaluations_until_done(&mut t);
    let status = t.status();
    assert!(status.stopped_early, "ran all {} steps", status.step);
    let best = records.iter().min_by(|a, b| a.val_loss.total_cmp(&b.val_loss)).unwrap();
    assert_eq!(status.best_step, Some(best.step));
    assert_eq!(records.last().unwrap().step, best.step + 3 * status.steps_per_epoch, "stopped three evaluations after the best");
    let (val_loss, _) = t.evaluate_split(finetune_lab::Split::Validation).unwrap();
    assert!((val_loss - best.val_loss).abs() < 1e-6, "weights of the best evaluation restored: {val_loss} vs {}", best.val_loss);
}

#[test]
fn schedules_change_the_run() {
    let weights = |schedule| {
        let mut t = Trainer::new(TrainConfig { schedule, ..config("mlp") }, mnist()).unwrap();
        run_steps(&mut t, 5);
        t.model().flat_weights()
    };
    use finetune_lab::optim::Schedule;
    assert_ne!(weights(Schedule::Constant), weights(Schedule::Warmup { epochs: 1.0 }));
    assert!(Trainer::new(TrainConfig { schedule: Schedule::Cosine { min_factor: 3.0 }, ..config("mlp") }, mnist()).is_err());
}

#[test]
fn gradual_unfreezing_unfreezes_one_layer_from_the_top_on_schedule() {
    let config = TrainConfig { model: "lenet5".into(), train_limit: Some(64), batch_size: 32, epochs: 6, unfreeze_every: Some(2), ..TrainConfig::default() };
    let mut t = Trainer::new(config, mnist()).unwrap();
    let frozen = |t: &Trainer| -> Vec<usize> { t.model().slots().iter().enumerate().filter(|(_, s)| s.frozen).map(|(i, _)| i).collect() };
    // LeNet-5 layers with parameters: 0, 3 (convolutions), 7, 9, 11 (dense; 11 is the head).
    assert_eq!(frozen(&t), vec![0, 3, 7, 9]);
    let mut seen = Vec::new();
    for epoch in 1..=6u64 {
        while t.status().step < epoch * t.status().steps_per_epoch {
            t.tick().unwrap();
        }
        seen.push(frozen(&t));
    }
    assert_eq!(seen, vec![vec![0, 3, 7, 9], vec![0, 3, 7], vec![0, 3, 7], vec![0, 3], vec![0, 3], vec![0]]);
}

#[test]
fn discriminative_rates_scale_each_layer() {
    let rates = vec![finetune_lab::LayerRate { layer: 0, multiplier: 0.1 }, finetune_lab::LayerRate { layer: 11, multiplier: 3.0 }];
    let t = Trainer::new(TrainConfig { layer_lr: rates, dropout: 0.0, ..config("lenet5") }, mnist()).unwrap();
    let multipliers: Vec<f32> = t.model().slots().iter().map(|s| s.lr_multiplier).collect();
    assert_eq!(multipliers[0], 0.1);
    assert_eq!(multipliers[11], 3.0);
    assert_eq!(multipliers[3], 1.0);
    for (layer, multiplier) in [(40, 1.0), (1, 1.0), (0, -1.0)] {
        let bad = vec![finetune_lab::LayerRate { layer, multiplier }];
        assert!(Trainer::new(TrainConfig { layer_lr: bad, dropout: 0.0, ..config("lenet5") }, mnist()).is_err(), "layer {layer} × {multiplier}");
    }
}

#[test]
fn augmentation_changes_training_batches_only_and_is_seeded() {
    use finetune_lab::data::augment::AugmentConfig;
    let augment = AugmentConfig { rotation_deg: 15.0, rotation_p: 1.0, noise_std: 0.1, noise_p: 0.5, ..Default::default() };
    let run = |augment: AugmentConfig| {
        let mut t = Trainer::new(TrainConfig { augment, ..config("mlp") }, mnist()).unwrap();
        let first = evaluations_until_first(&mut t);
        run_steps(&mut t, 5);
        (first, t.model().flat_weights())
    };
    let (plain_eval, plain) = run(AugmentConfig::default());
    let (aug_eval, augmented) = run(augment);
    let (_, again) = run(augment);
    assert_eq!(plain_eval, aug_eval, "validation images are never augmented");
    assert_ne!(plain, augmented, "training batches were augmented");
    assert!(augmented.iter().zip(&again).all(|(a, b)| a.to_bits() == b.to_bits()), "same seed, same augmentation");
    let bad = AugmentConfig { erase_p: 2.0, ..Default::default() };
    assert!(Trainer::new(TrainConfig { augment: bad, ..config("mlp") }, mnist()).is_err());
}

fn evaluations_until_first(trainer: &mut Trainer) -> finetune_lab::EvalRecord {
    loop {
        if let Tick::Evaluated(r) = trainer.tick().unwrap() {
            return r;
        }
    }
}
