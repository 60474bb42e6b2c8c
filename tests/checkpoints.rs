//! Checkpoints: round trip, one clear error per kind of damage, and every
//! shipped base model still scores what its metadata records.

use std::sync::Arc;

use finetune_lab::nn::Mode;
use finetune_lab::train::{evaluate_checkpoint, per_class_accuracy, Tick};
use finetune_lab::{decode_checkpoint, decode_dataset, encode_checkpoint, Checkpoint, CheckpointMeta, Dataset, Split, TrainConfig, Trainer};

fn mnist() -> Dataset {
    decode_dataset("mnist.ftld.gz", &std::fs::read("www/data/mnist.ftld.gz").unwrap()).unwrap()
}

fn trained_checkpoint() -> (Trainer, Checkpoint) {
    let data = Arc::new(mnist().with_classes(&[3, 5, 8]).unwrap());
    let mut trainer = Trainer::new(TrainConfig { model: "lenet5".into(), train_limit: Some(96), batch_size: 32, ..TrainConfig::default() }, data).unwrap();
    let mut steps = 0;
    while steps < 3 {
        if let Tick::Trained { .. } = trainer.tick().unwrap() {
            steps += 1;
        }
    }
    let meta = CheckpointMeta {
        source_dataset: "mnist.ftld.gz".into(),
        classes: vec!["3".into(), "5".into(), "8".into()],
        split: "test".into(),
        seed: 1,
        epochs: 1,
        test_acc: 0.5,
        test_images: 10,
        command: "test".into(),
        augment: Default::default(),
        config: None,
    };
    let checkpoint = Checkpoint::from_model(trainer.model(), meta);
    (trainer, checkpoint)
}

#[test]
fn round_trip_gives_the_same_model() {
    let (mut trainer, checkpoint) = trained_checkpoint();
    let bytes = encode_checkpoint(&checkpoint);
    let loaded = decode_checkpoint("x.ftlc", &bytes).unwrap();
    assert_eq!(loaded, checkpoint);
    let mut model = loaded.build_model().unwrap();
    let data = trainer.dataset().clone();
    let (x, _) = data.batch(&data.indices(Split::Validation)[..40]);
    let a = trainer.model_mut().forward(x.clone(), &mut Mode::Eval);
    let b = model.forward(x, &mut Mode::Eval);
    assert!(a.iter().zip(b.iter()).all(|(p, q)| p.to_bits() == q.to_bits()), "outputs differ after a round trip");
}

#[test]
fn every_kind_of_damage_is_named() {
    let (_, checkpoint) = trained_checkpoint();
    let good = encode_checkpoint(&checkpoint);
    let mut cases: Vec<(Vec<u8>, &str)> = Vec::new();
    let mut b = good.clone();
    b[0] = b'X';
    cases.push((b, "not a Fine-Tune Lab checkpoint"));
    let mut b = good.clone();
    b[4] = 7;
    cases.push((b, "checkpoint version 7 is not supported"));
    cases.push((good[..good.len() - 2].to_vec(), "bytes of weights, found"));
    cases.push((good[..12].to_vec(), "the file ends inside field 'model spec'"));
    let mut b = good.clone();
    b.extend_from_slice(&[0; 4]);
    cases.push((b, "bytes of weights, found"));
    let mut b = good.clone();
    let n = b.len();
    b[n - 4..].copy_from_slice(&f32::NAN.to_le_bytes());
    cases.push((b, "is NaN, not a finite number"));
    let mut b = good.clone();
    b[10] = b'!'; // first byte of the spec's JSON
    cases.push((b, "the model spec is not valid"));
    for (bytes, expected) in cases {
        let message = decode_checkpoint("broken.ftlc", &bytes).expect_err("damaged").to_string();
        assert!(message.starts_with("checkpoint 'broken.ftlc': "), "{message}");
        assert!(message.contains(expected), "expected '{expected}' in: {message}");
    }
}

#[test]
fn shipped_checkpoints_score_what_they_record() {
    let mut checked = 0;
    for entry in std::fs::read_dir("www/models").expect("www/models is committed") {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("ftlc") {
            continue;
        }
        let checkpoint = decode_checkpoint(&path.display().to_string(), &std::fs::read(&path).unwrap()).unwrap();
        // Each base names the shipped dataset file it was trained on.
        let file = format!("www/data/{}", checkpoint.meta.source_dataset);
        let data = decode_dataset(&file, &std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {file}: {e}", path.display()))).unwrap();
        let report = evaluate_checkpoint(&checkpoint, &data, Split::Test).unwrap();
        assert_eq!(report.per_class.iter().map(|c| c.images).sum::<usize>(), checkpoint.meta.test_images, "{}", path.display());
        assert!(
            (report.acc - checkpoint.meta.test_acc).abs() <= 0.005,
            "{}: measured {} but the metadata records {}",
            path.display(),
            report.acc,
            checkpoint.meta.test_acc
        );
        assert!(checkpoint.meta.command.starts_with("finetune-lab pretrain"), "{}", checkpoint.meta.command);
        checked += 1;
    }
    assert!(checked >= 4, "expected the shipped base models in www/models");
}

#[test]
fn class_subsets_relabel_and_keep_splits() {
    let data = mnist();
    let subset = data.with_classes(&[9, 2]).unwrap();
    assert_eq!(subset.class_names, vec!["9", "2"]);
    assert_eq!(subset.len(), data.labels.iter().filter(|&&l| l == 9 || l == 2).count());
    assert!(subset.labels.iter().all(|&l| l < 2));
    assert!(data.with_classes(&[1, 1]).is_err());
    assert!(data.with_classes(&[10, 1]).is_err());
}

#[test]
fn batch_norm_statistics_travel_in_checkpoints() {
    let data = Arc::new(mnist());
    let mut trainer =
        Trainer::new(TrainConfig { model: "lenet5_bn".into(), train_limit: Some(64), batch_size: 32, ..TrainConfig::default() }, data.clone()).unwrap();
    let mut steps = 0;
    while steps < 2 {
        if let Tick::Trained { .. } = trainer.tick().unwrap() {
            steps += 1;
        }
    }
    let meta = CheckpointMeta {
        source_dataset: "mnist.ftld.gz".into(),
        classes: data.class_names.clone(),
        split: "test".into(),
        seed: 1,
        epochs: 1,
        test_acc: 0.0,
        test_images: 0,
        command: "test".into(),
        augment: Default::default(),
        config: None,
    };
    let bytes = encode_checkpoint(&Checkpoint::from_model(trainer.model(), meta));
    let mut model = decode_checkpoint("bn.ftlc", &bytes).unwrap().build_model().unwrap();
    let (x, _) = data.batch(&data.indices(Split::Validation)[..20]);
    // Evaluation normalises with the running statistics: equal outputs prove they were restored.
    let a = trainer.model_mut().forward(x.clone(), &mut Mode::Eval);
    let b = model.forward(x, &mut Mode::Eval);
    assert!(a.iter().zip(b.iter()).all(|(p, q)| p.to_bits() == q.to_bits()));
}

#[test]
fn metadata_without_augmentation_still_loads() {
    // Files written before `augment` joined the metadata read it as "none".
    let meta: CheckpointMeta = serde_json::from_str(
        r#"{"source_dataset":"mnist.ftld.gz","classes":["0","1"],"split":"s","seed":1,"epochs":1,"test_acc":0.5,"test_images":2,"command":"c"}"#,
    )
    .unwrap();
    assert!(meta.augment.is_identity());
}

#[test]
fn evaluation_counts_every_image_once_in_the_confusion_matrix() {
    let (mut trainer, checkpoint) = trained_checkpoint();
    let report = evaluate_checkpoint(&checkpoint, &mnist(), Split::Validation).unwrap();
    let validation = trainer.dataset().indices(Split::Validation);
    let direct = per_class_accuracy(trainer.model_mut(), &mnist().with_classes(&[3, 5, 8]).unwrap(), &validation);
    assert_eq!(report, direct, "looking the classes up by name measures the same images");
    assert_eq!(report.confusion.len(), 3);
    let mut right = 0;
    for (c, row) in report.confusion.iter().enumerate() {
        assert_eq!(row.iter().sum::<usize>(), report.per_class[c].images);
        assert_eq!(report.per_class[c].acc, row[c] as f32 / report.per_class[c].images as f32);
        right += row[c];
    }
    let images: usize = report.per_class.iter().map(|c| c.images).sum();
    assert!((report.acc - right as f32 / images as f32).abs() < 1e-6);
}

#[test]
fn evaluation_names_a_class_or_shape_the_dataset_lacks() {
    let (_, mut checkpoint) = trained_checkpoint();
    checkpoint.meta.classes[1] = "five".into();
    let err = evaluate_checkpoint(&checkpoint, &mnist(), Split::Test).unwrap_err().to_string();
    assert!(err.contains("class 'five'") && err.contains("mnist.ftld.gz"), "{err}");
    let (_, checkpoint) = trained_checkpoint();
    // The same pixels, declared as 14×56 images.
    let mut wide = mnist();
    wide.shape = finetune_lab::nn::Shape::new(1, 14, 56);
    let err = evaluate_checkpoint(&checkpoint, &wide, Split::Test).unwrap_err().to_string();
    assert!(err.contains("takes 1×28×28 images") && err.contains("1×14×56"), "{err}");
}

#[test]
fn a_recorded_configuration_survives_the_file_and_older_files_have_none() {
    let (trainer, mut checkpoint) = trained_checkpoint();
    checkpoint.meta.config = Some(trainer.config().clone());
    let loaded = decode_checkpoint("x.ftlc", &encode_checkpoint(&checkpoint)).unwrap();
    assert_eq!(loaded.meta.config.as_ref(), Some(trainer.config()));
    let shipped = decode_checkpoint("base", &std::fs::read("www/models/lenet5-mnist.ftlc").unwrap()).unwrap();
    assert_eq!(shipped.meta.config, None);
}
