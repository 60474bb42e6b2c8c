//! Looking inside a run (src/train/inspect.rs): predictions, a layer's
//! weights, a split image by image — and none of it changes the training.

use std::sync::Arc;

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
