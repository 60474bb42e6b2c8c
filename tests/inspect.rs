//! Looking inside a run (src/train/inspect.rs): predictions, a layer's
//! weights, a split image by image — and none of it changes the training.

use std::sync::Arc;

use finetune_lab::init::Init;
use finetune_lab::optim::OptimizerSpec;
use finetune_lab::train::Tick;
use finetune_lab::{decode_dataset, Dataset, Split, TrainConfig, Trainer};

fn mnist() -> Arc<Dataset> {
    Arc::new(decode_dataset("mnist.ftld.gz", &std::fs::read("www/data/mnist.ftld.gz").unwrap()).unwrap())
}

fn trainer_of(model: &str, dropout: f32) -> Trainer {
    Trainer::new(TrainConfig { model: model.into(), dropout, train_limit: Some(256), batch_size: 32, epochs: 2, ..TrainConfig::default() }, mnist()).unwrap()
}

fn trainer() -> Trainer {
    trainer_of("lenet5", 0.0)
}

fn train_steps(trainer: &mut Trainer, steps: usize) {
    let mut done = 0;
    while done < steps {
        if let Tick::Trained { .. } = trainer.tick().unwrap() {
            done += 1;
        }
    }
}

#[test]
fn looking_inside_does_not_change_the_training() {
    // BatchNorm (running statistics) and dropout (random masks) are what evaluation could disturb.
    let (mut plain, mut watched) = (trainer_of("lenet5_bn", 0.25), trainer_of("lenet5_bn", 0.25));
    for _ in 0..3 {
        train_steps(&mut plain, 4);
        train_steps(&mut watched, 4);
        watched.predict(mnist().image(0)).unwrap();
        watched.inspect_split(Split::Validation, 10);
        watched.layer_weights(0).unwrap();
    }
    let same = plain.model().flat_weights().iter().zip(watched.model().flat_weights()).all(|(a, b)| a.to_bits() == b.to_bits());
    assert!(same, "the watched run's weights differ from the plain run's");
}

#[test]
fn predictions_are_probabilities_that_agree_with_the_split_report() {
    let mut t = trainer();
    train_steps(&mut t, 8);
    let data = mnist();
    let validation = data.indices(Split::Validation);
    let pixels: Vec<u8> = validation[..50].iter().flat_map(|&i| data.image(i).to_vec()).collect();
    let probs = t.predict(&pixels).unwrap();
    assert_eq!(probs.len(), 50);
    for p in &probs {
        assert_eq!(p.len(), 10);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
    let report = t.inspect_split(Split::Validation, 10_000);
    let wrong = validation.len() - report.report.confusion.iter().enumerate().map(|(c, row)| row[c]).sum::<usize>();
    assert_eq!(report.mistakes.len(), wrong, "every wrong image is listed when the limit allows");
    assert!(report.mistakes.windows(2).all(|w| w[0].confidence >= w[1].confidence), "most confident first");
    for m in report.mistakes.iter().filter(|m| validation[..50].contains(&m.index)) {
        let at = validation.iter().position(|&i| i == m.index).unwrap();
        let p = &probs[at];
        assert_ne!(m.predicted, m.label);
        assert_eq!(p[m.predicted], m.confidence, "predict and inspect_split give the same probabilities");
        assert_eq!(m.pixels, data.image(m.index));
    }
    assert_eq!(t.inspect_split(Split::Validation, 3).mistakes.len(), 3.min(wrong));
}

#[test]
fn layer_weights_have_their_layout_and_bad_requests_are_named() {
    let t = trainer();
    let conv = t.layer_weights(0).unwrap();
    assert_eq!(conv.shape, vec![6, 1, 5, 5]);
    assert_eq!(conv.values.len(), 150);
    let err = t.layer_weights(1).unwrap_err().to_string();
    assert!(err.contains("layer 1") && err.contains("has no weights"), "{err}");
    let err = t.layer_weights(99).unwrap_err().to_string();
    assert!(err.contains("layer 99 does not exist"), "{err}");
    let mut t = trainer();
    let err = t.predict(&[0u8; 100]).unwrap_err().to_string();
    assert!(err.contains("1×28×28") && err.contains("got 100 bytes"), "{err}");
}

fn deep_run(init: Init) -> Trainer {
    // SGD with momentum, as the initialisation experiment: Adam's per-weight
    // step sizes grow tiny weights back within a few steps.
    let optimizer = OptimizerSpec::Sgd { momentum: 0.9, nesterov: false };
    let config = TrainConfig {
        model: "mlp_deep".into(),
        init,
        optimizer,
        lr: 0.01,
        train_limit: Some(512),
        batch_size: 32,
        epochs: 1,
        evals_per_epoch: 4,
        ..TrainConfig::default()
    };
    Trainer::new(config, mnist()).unwrap()
}

#[test]
fn layer_health_comes_at_every_evaluation_and_shows_a_vanishing_signal() {
    let mut he = deep_run(Init::HeUniform);
    train_steps(&mut he, 16);
    let records = he.take_health();
    let evals: Vec<u64> = he.take_evals().iter().map(|e| e.step).filter(|&s| s > 0).collect();
    // 512 images in batches of 32: 16 steps an epoch, an evaluation every 4
    // (the one after step 16 is still being measured: its health is not).
    assert_eq!(records.iter().map(|r| r.step).collect::<Vec<_>>(), vec![4, 8, 12, 16], "one record per evaluation point");
    assert_eq!(evals, vec![4, 8, 12]);
    let last = records.last().unwrap();
    assert_eq!(last.layers.len(), he.model().slots().len());
    for layer in &last.layers {
        assert_eq!(layer.dead.is_some(), layer.name == "relu");
        assert_eq!(layer.grad_norm.is_some(), layer.name == "dense");
        if let Some(ratio) = layer.update_ratio {
            assert!(ratio > 0.0 && ratio < 1.0, "layer {}: update ratio {ratio}", layer.layer);
        }
        assert_eq!(
            layer.histogram.counts.iter().sum::<u32>() as usize,
            finetune_lab::train::health::PROBE_IMAGES * he.model().slots()[layer.layer].layer.output_shape().len()
        );
    }
    // Small uniform weights: by the last hidden layer the signal is gone; He keeps it.
    let mut small = deep_run(Init::Uniform { scale: 0.001 });
    train_steps(&mut small, 16);
    let last_hidden = |records: &[finetune_lab::train::health::HealthRecord]| {
        let layers = &records.last().unwrap().layers;
        layers.iter().rev().find(|l| l.name == "relu").unwrap().act_std
    };
    let (he_std, small_std) = (last_hidden(&records), last_hidden(&small.take_health()));
    assert!(he_std > 0.05, "He keeps the signal: std {he_std}");
    assert!(small_std < he_std * 1e-2, "small init loses it: std {small_std} against He's {he_std}");
}

#[test]
fn training_points_come_at_a_fixed_resolution_whatever_is_taken_when() {
    // 256 images in batches of 32: 8 steps an epoch, so a point every step;
    // 2,000 images: 63 steps an epoch, a point every 4 steps and at the epoch's end.
    for (limit, per_epoch, last_steps) in [(256, 8, vec![15, 16]), (2000, 16, vec![123, 126])] {
        let config = TrainConfig { model: "mlp".into(), train_limit: Some(limit), batch_size: 32, epochs: 2, ..TrainConfig::default() };
        let mut t = Trainer::new(config, mnist()).unwrap();
        let mut points = Vec::new();
        loop {
            match t.tick().unwrap() {
                Tick::Done => break,
                // Taking them at odd moments changes nothing.
                _ if t.status().step.is_multiple_of(3) => points.extend(t.take_windows()),
                _ => {}
            }
        }
        points.extend(t.take_windows());
        assert_eq!(points.len(), 2 * per_epoch, "{limit} images");
        assert_eq!(points.iter().rev().take(2).rev().map(|p| p.step).collect::<Vec<_>>(), last_steps);
        assert_eq!(points.last().unwrap().epoch, 2.0);
        assert_eq!(points.iter().map(|p| p.steps).sum::<u64>(), t.status().step, "every step is in exactly one point");
    }
}
