//! Fine-tuning mechanics: starting from a base model, replacing the head,
//! freezing, and K labelled images per class.

use std::sync::Arc;

use finetune_lab::data::shift::{DomainShift, ShiftKind};
use finetune_lab::data::TrainPool;
use finetune_lab::train::Tick;
use finetune_lab::{decode_checkpoint, decode_dataset, Dataset, LayerRate, Split, TrainConfig, Trainer};

fn mnist() -> Dataset {
    decode_dataset("mnist.ftld.gz", &std::fs::read("www/data/mnist.ftld.gz").unwrap()).unwrap()
}

fn base() -> finetune_lab::Sequential {
    let bytes = std::fs::read("www/models/lenet5-mnist-digits0-4.ftlc").unwrap();
    decode_checkpoint("lenet5-mnist-digits0-4.ftlc", &bytes).unwrap().build_model().unwrap()
}

fn layer_bits(model: &finetune_lab::Sequential, layer: usize) -> Vec<u32> {
    model.slots()[layer].layer.params().iter().flat_map(|p| p.values().iter().map(|v| v.to_bits())).collect()
}

#[test]
fn starts_from_the_base_with_a_new_head_for_new_classes() {
    let base = base();
    let target = Arc::new(mnist().with_classes(&[5, 6, 7]).unwrap());
    let trainer = Trainer::from_base(TrainConfig { labels_per_class: Some(4), batch_size: 12, ..TrainConfig::default() }, target, &base, false).unwrap();
    let model = trainer.model();
    let last = model.slots().len() - 1;
    for layer in 0..last {
        assert_eq!(layer_bits(model, layer), layer_bits(&base, layer), "layer {layer} was not copied from the base");
    }
    assert_eq!(model.output_shape().len(), 3, "the head has one output per target class");
    assert_eq!(trainer.train_size(), 12, "4 labelled images for each of 3 classes");
}

#[test]
fn frozen_base_layers_stay_put_while_the_head_learns() {
    let base = base();
    let target = Arc::new(mnist().with_classes(&[5, 6, 7, 8, 9]).unwrap());
    let config = TrainConfig { labels_per_class: Some(10), batch_size: 10, freeze: vec![0, 3, 7, 9], ..TrainConfig::default() };
    let mut trainer = Trainer::from_base(config, target, &base, false).unwrap();
    let before: Vec<Vec<u32>> = (0..trainer.model().slots().len()).map(|l| layer_bits(trainer.model(), l)).collect();
    let mut steps = 0;
    while steps < 5 {
        if let Tick::Trained { .. } = trainer.tick().unwrap() {
            steps += 1;
        }
    }
    for layer in [0, 3, 7, 9] {
        assert_eq!(layer_bits(trainer.model(), layer), before[layer], "frozen layer {layer} moved");
    }
    let head = trainer.model().slots().len() - 1;
    assert_ne!(layer_bits(trainer.model(), head), before[head], "the head did not learn");
}

#[test]
fn same_classes_keep_the_head_unless_asked() {
    let base = base();
    let source = Arc::new(mnist().with_classes(&[0, 1, 2, 3, 4]).unwrap());
    let head = base.slots().len() - 1;
    let kept = Trainer::from_base(TrainConfig::default(), source.clone(), &base, false).unwrap();
    assert_eq!(layer_bits(kept.model(), head), layer_bits(&base, head));
    let mut kept = kept;
    let (_, acc) = kept.evaluate_split(Split::Test).unwrap();
    assert!(acc > 0.95, "the base still recognises its own digits: {acc}");
    let replaced = Trainer::from_base(TrainConfig::default(), source, &base, true).unwrap();
    assert_ne!(layer_bits(replaced.model(), head), layer_bits(&base, head));
}

#[test]
fn the_forgetting_meter_measures_the_source_test_split_through_the_source_head() {
    let base = base();
    let data = mnist();
    let source = Arc::new(data.with_classes(&[0, 1, 2, 3, 4]).unwrap());
    let target = Arc::new(data.with_classes(&[5, 6, 7, 8, 9]).unwrap());
    let config = TrainConfig { labels_per_class: Some(20), batch_size: 20, epochs: 2, lr: 0.01, evals_per_epoch: 1, ..TrainConfig::default() };
    let mut trainer = Trainer::from_base(config, target, &base, true).unwrap();
    trainer.meter_forgetting(&base, source.clone()).unwrap();
    let mut records = Vec::new();
    loop {
        match trainer.tick().unwrap() {
            Tick::Evaluated(r) => records.push(r),
            Tick::Done => break,
            _ => {}
        }
    }
    // Before any step the backbone is the base's: the meter reads the base's own test accuracy.
    let mut base_copy = base;
    let expected = finetune_lab::train::per_class_accuracy(&mut base_copy, &source, &source.indices(Split::Test)).acc;
    assert_eq!(records[0].source_acc, Some(expected));
    assert!(records.iter().all(|r| r.source_acc.is_some_and(|a| (0.0..=1.0).contains(&a))));
    assert_ne!(records.last().unwrap().source_acc, Some(expected), "training the backbone changes the source accuracy");
}

#[test]
fn source_and_target_pools_split_the_training_images_in_two() {
    let data = mnist();
    let all = data.train_pool(TrainPool::All);
    let source = data.train_pool(TrainPool::Source);
    let target = data.train_pool(TrainPool::Target);
    assert_eq!(all, data.indices(Split::Train));
    assert!(source.iter().all(|i| !target.contains(i)), "no image in both halves");
    assert_eq!(source.len() + target.len(), all.len());
    for class in 0..data.classes() as u8 {
        let count = |v: &[usize]| v.iter().filter(|&&i| data.labels[i] == class).count() as i64;
        assert!((count(&source) - count(&target)).abs() <= 1, "class {class} is split evenly");
    }
}

#[test]
fn a_shifted_run_trains_on_shifted_images_of_its_pool_only() {
    let data = Arc::new(mnist());
    let shift = DomainShift { kind: ShiftKind::Invert, strength: 1.0 };
    let config = TrainConfig {
        model: "mlp".into(),
        shift: Some(shift),
        train_pool: TrainPool::Target,
        labels_per_class: Some(3),
        batch_size: 16,
        ..TrainConfig::default()
    };
    let trainer = Trainer::new(config, data.clone()).unwrap();
    let shifted = trainer.dataset();
    // Every split is shifted (validation and test too), the original is untouched.
    for i in [0, 500, data.len() - 1] {
        assert!(shifted.image(i).iter().zip(data.image(i)).all(|(&s, &o)| s == 255 - o), "image {i} is inverted");
    }
    assert_eq!(trainer.train_size(), 30);
    let bad = TrainConfig { shift: Some(DomainShift { kind: ShiftKind::Blur, strength: 9.0 }), ..TrainConfig::default() };
    let err = Trainer::new(bad, data).err().expect("strength out of range").to_string();
    assert!(err.contains("Blur shift strength"), "{err}");
}

#[test]
fn pretrained_layers_learn_at_their_own_rate_and_the_new_head_at_the_full_rate() {
    let data = Arc::new(mnist().with_classes(&[5, 6, 7, 8, 9]).unwrap());
    let config = TrainConfig { model: "lenet5".into(), pretrained_lr: 0.1, layer_lr: vec![LayerRate { layer: 0, multiplier: 0.5 }], ..TrainConfig::default() };
    let trainer = Trainer::from_base(config, data, &base(), true).unwrap();
    let rates: Vec<(usize, f32)> = trainer.model().summaries().iter().filter(|l| l.params > 0).map(|l| (l.index, l.lr_multiplier)).collect();
    assert_eq!(rates, vec![(0, 0.5), (3, 0.1), (7, 0.1), (9, 0.1), (11, 1.0)], "an explicit layer rate wins over pretrained_lr");
}
