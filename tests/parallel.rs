//! Data-parallel training (src/train/shard.rs), with the shards in one
//! process: the page's workers move the same contributions between wasm
//! instances, and must get the same numbers.

use std::sync::Arc;

use finetune_lab::train::{reduce_shards, ShardTick, Tick};
use finetune_lab::{decode_dataset, Dataset, Error, OptimizerSpec, TrainConfig, Trainer};

fn mnist() -> Arc<Dataset> {
    let bytes = std::fs::read("www/data/mnist.ftld.gz").expect("www/data/mnist.ftld.gz is committed");
    Arc::new(decode_dataset("mnist.ftld.gz", &bytes).unwrap())
}

fn config(model: &str) -> TrainConfig {
    TrainConfig { model: model.into(), batch_size: 30, dropout: 0.3, train_limit: Some(300), eval_chunk: 250, evals_per_epoch: 2, ..TrainConfig::default() }
}

/// The run divided into `count` shards, one trainer each.
fn shards(config: &TrainConfig, data: &Arc<Dataset>, count: usize) -> Vec<Trainer> {
    (0..count)
        .map(|i| {
            let mut t = Trainer::new(config.clone(), data.clone()).unwrap();
            t.set_shard(i, count).unwrap();
            t
        })
        .collect()
}

/// One tick of every shard, as the page's coordinator does it: every
/// contribution, their sum in shard order, the same sum to every shard.
fn tick_all(trainers: &mut [Trainer]) -> finetune_lab::Result<Vec<Tick>> {
    let (mut parts, mut buf, mut kinds) = (Vec::new(), Vec::new(), Vec::new());
    for t in trainers.iter_mut() {
        kinds.push(t.shard_tick(&mut buf)?);
        parts.extend_from_slice(&buf);
    }
    assert!(kinds.iter().all(|k| *k == kinds[0]), "the shards disagree on the tick: {kinds:?}");
    if kinds[0] == ShardTick::Done {
        return Ok(vec![Tick::Done; trainers.len()]);
    }
    let sum = reduce_shards(&parts, trainers.len())?;
    trainers.iter_mut().map(|t| t.apply_shards(&sum)).collect()
}

fn train_steps(trainers: &mut [Trainer], steps: usize) {
    let mut done = 0;
    while done < steps {
        match tick_all(trainers).unwrap()[0] {
            Tick::Trained { .. } => done += 1,
            Tick::Done => break,
            _ => {}
        }
    }
}

fn bits(t: &Trainer) -> Vec<u32> {
    t.model().flat_weights().iter().map(|w| w.to_bits()).collect()
}

#[test]
fn one_shard_through_the_exchange_is_the_undivided_trainer_bit_for_bit() {
    let data = mnist();
    let mut plain = Trainer::new(config("lenet5"), data.clone()).unwrap();
    let mut one = shards(&config("lenet5"), &data, 1);
    let mut steps = 0;
    while steps < 12 {
        let a = plain.tick().unwrap();
        let b = tick_all(&mut one).unwrap()[0];
        assert_eq!(std::mem::discriminant(&a), std::mem::discriminant(&b));
        steps += matches!(a, Tick::Trained { .. }) as usize;
    }
    assert_eq!(bits(&plain), bits(&one[0]));
}

#[test]
fn every_shard_holds_the_same_weights_and_the_same_seed_gives_the_same_run() {
    let data = mnist();
    for count in [2, 3] {
        let run = || {
            let mut group = shards(&config("lenet5"), &data, count);
            train_steps(&mut group, 15);
            group
        };
        let (first, second) = (run(), run());
        for t in &first[1..] {
            assert_eq!(bits(&first[0]), bits(t), "{count} shards: a shard's weights differ");
        }
        assert_eq!(bits(&first[0]), bits(&second[0]), "{count} shards: the same seed gave another run");
        assert_eq!(first[0].status().step, 15);
    }
}

#[test]
fn the_shards_gradients_sum_to_the_whole_batchs_gradient() {
    // No dropout, so every image sees the same network in both runs.
    let config = TrainConfig { dropout: 0.0, ..config("mlp") };
    let data = mnist();
    let gradient = |count: usize| {
        let mut group = shards(&config, &data, count);
        // Past the first evaluation, to the first training step.
        let (mut parts, mut buf) = (Vec::new(), Vec::new());
        loop {
            parts.clear();
            let mut kind = ShardTick::Done;
            for t in group.iter_mut() {
                kind = t.shard_tick(&mut buf).unwrap();
                parts.extend_from_slice(&buf);
            }
            if kind == ShardTick::Train {
                return reduce_shards(&parts, count).unwrap();
            }
            let sum = reduce_shards(&parts, count).unwrap();
            for t in group.iter_mut() {
                t.apply_shards(&sum).unwrap();
            }
        }
    };
    let whole = gradient(1);
    for count in [2, 3, 7] {
        let summed = gradient(count);
        assert_eq!(whole.len(), summed.len());
        assert_eq!(whole[1..3], summed[1..3], "correct count and images");
        let worst = whole.iter().zip(&summed).map(|(a, b)| (a - b).abs() / (1e-3 + a.abs())).fold(0.0f32, f32::max);
        assert!(worst < 1e-4, "{count} shards: the summed gradient differs from the batch's by {worst} (relative)");
    }
}

#[test]
fn evaluations_count_every_validation_image_once_whatever_the_shards() {
    let data = mnist();
    let first_record = |count: usize| {
        let mut group = shards(&config("lenet5"), &data, count);
        loop {
            if let Tick::Evaluated(record) = tick_all(&mut group).unwrap()[0] {
                return record;
            }
        }
    };
    let whole = first_record(1);
    for count in [2, 3] {
        let record = first_record(count);
        assert_eq!(record.val_acc, whole.val_acc, "{count} shards");
        assert!((record.val_loss - whole.val_loss).abs() < 1e-5, "{count} shards: {} vs {}", record.val_loss, whole.val_loss);
    }
}

#[test]
fn batch_norm_keeps_its_running_statistics_the_same_on_every_shard() {
    let data = mnist();
    let config = TrainConfig { model: "lenet5_bn".into(), dropout: 0.0, ..config("lenet5") };
    let mut group = shards(&config, &data, 2);
    let before = group[0].model().flat_weights();
    train_steps(&mut group, 6);
    assert_eq!(bits(&group[0]), bits(&group[1]));
    // The running statistics moved (they are averaged, not left behind).
    let stats = |t: &Trainer| t.model().params().filter(|p| p.name.starts_with("running")).flat_map(|p| p.values().to_vec()).collect::<Vec<_>>();
    let start: Vec<f32> = {
        let fresh = Trainer::new(config.clone(), data.clone()).unwrap();
        stats(&fresh)
    };
    assert_ne!(stats(&group[0]), start);
    assert_ne!(group[0].model().flat_weights(), before);
}

#[test]
fn a_diverging_sharded_run_stops_on_every_shard_at_the_same_step() {
    let data = mnist();
    let config = TrainConfig { optimizer: OptimizerSpec::named("sgd").unwrap(), lr: 1e4, l2: 1e4, ..config("mlp") };
    let mut group = shards(&config, &data, 2);
    let err = loop {
        match tick_all(&mut group) {
            Ok(_) => continue,
            Err(e) => break e,
        }
    };
    assert!(matches!(err, Error::Diverged { .. }), "{err}");
    assert_eq!(group[0].status().step, group[1].status().step);
    assert_eq!(bits(&group[0]), bits(&group[1]));
}

#[test]
fn a_shard_refuses_a_sum_of_the_wrong_size_and_bad_shard_numbers() {
    let data = mnist();
    let mut t = Trainer::new(config("mlp"), data).unwrap();
    assert!(t.set_shard(2, 2).is_err());
    assert!(t.set_shard(0, 9).is_err());
    t.set_shard(1, 2).unwrap();
    assert!(t.apply_shards(&[0.0; 3]).is_err(), "no tick is waiting");
    let mut buf = Vec::new();
    assert_eq!(t.shard_tick(&mut buf).unwrap(), ShardTick::Evaluate);
    assert!(t.shard_tick(&mut buf).is_err(), "a second contribution before the sum");
    let err = t.apply_shards(&[0.0; 5]).unwrap_err().to_string();
    assert!(err.contains("5 values"), "{err}");
    assert!(reduce_shards(&[1.0, 2.0, 3.0], 2).is_err());
    assert_eq!(reduce_shards(&[1.0, 2.0, 3.0, 4.0], 2).unwrap(), vec![4.0, 6.0]);
}
