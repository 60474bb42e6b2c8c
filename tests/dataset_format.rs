//! The dataset format: round trip, and one clear error for each kind of damage.

use finetune_lab::data::format::{encode_dataset, encode_dataset_gz};
use finetune_lab::nn::Shape;
use finetune_lab::{decode_dataset, Dataset, Split};

fn sample() -> Dataset {
    Dataset {
        name: "sample.ftld".into(),
        shape: Shape::new(1, 2, 3),
        class_names: vec!["cat".into(), "dog".into(), "ünïcode".into()],
        pixels: (0..24).map(|v| v as u8 * 10).collect(),
        labels: vec![0, 2, 1, 2],
        splits: vec![Split::Train, Split::Train, Split::Validation, Split::Test],
    }
}

/// Byte offsets of the header fields, per the table in `src/data/format.rs`.
const VERSION_AT: usize = 4;
const CHANNELS_AT: usize = 6;
const HEIGHT_AT: usize = 8;
const COUNT_AT: usize = 12;
const CLASSES_AT: usize = 16;

fn error_of(bytes: &[u8]) -> String {
    decode_dataset("broken.ftld", bytes).expect_err("should be rejected").to_string()
}

#[test]
fn round_trips_plain_and_gzip() {
    let d = sample();
    assert_eq!(decode_dataset("sample.ftld", &encode_dataset(&d)).unwrap(), d);
    assert_eq!(decode_dataset("x/sample.ftld", &encode_dataset_gz(&d)).unwrap(), d);
    assert_eq!(encode_dataset_gz(&d), encode_dataset_gz(&d), "compression is deterministic");
}

#[test]
fn every_corruption_has_its_own_message_naming_the_file() {
    let good = encode_dataset(&sample());
    let labels_at = good.len() - 8;
    let splits_at = good.len() - 4;
    let mut cases: Vec<(Vec<u8>, &str)> = Vec::new();

    let mut b = good.clone();
    b[0..4].copy_from_slice(b"PK\x03\x04");
    cases.push((b, "not a Fine-Tune Lab dataset"));
    let mut b = good.clone();
    b[VERSION_AT] = 9;
    cases.push((b, "format version 9 is not supported"));
    let mut b = good.clone();
    b[CHANNELS_AT] = 2;
    cases.push((b, "channels is 2"));
    let mut b = good.clone();
    b[HEIGHT_AT] = 0;
    cases.push((b, "height is 0"));
    let mut b = good.clone();
    b[COUNT_AT..COUNT_AT + 4].copy_from_slice(&0u32.to_le_bytes());
    cases.push((b, "count is 0"));
    let mut b = good.clone();
    b[COUNT_AT..COUNT_AT + 4].copy_from_slice(&5u32.to_le_bytes());
    cases.push((b, "truncated: the header promises 5 images"));
    let mut b = good.clone();
    b[CLASSES_AT] = 1;
    cases.push((b, "class count is 1"));
    cases.push((good[..good.len() - 3].to_vec(), "truncated: the header promises 4 images"));
    cases.push((good[..9].to_vec(), "the file ends inside field 'height'"));
    let mut b = good.clone();
    b.push(0);
    cases.push((b, "1 unexpected bytes after"));
    let mut b = good.clone();
    b[labels_at + 1] = 7;
    cases.push((b, "label of image 1 is 7, but there are only 3 classes"));
    let mut b = good.clone();
    b[splits_at + 3] = 4;
    cases.push((b, "split code of image 3 is 4"));
    let mut b = good.clone();
    // Rename "dog" to "cat": a duplicate class.
    let dog = b.windows(3).position(|w| w == b"dog").unwrap();
    b[dog..dog + 3].copy_from_slice(b"cat");
    cases.push((b, "class name 'cat' appears twice"));
    let mut gz = encode_dataset_gz(&sample());
    let mid = gz.len() / 2;
    gz.truncate(mid);
    cases.push((gz, "gzip compression is damaged"));

    for (bytes, expected) in cases {
        let message = error_of(&bytes);
        assert!(message.starts_with("dataset 'broken.ftld': "), "{message}");
        assert!(message.contains(expected), "expected '{expected}' in: {message}");
    }
}

#[test]
fn shipped_mnist_is_valid_with_the_documented_split() {
    let bytes = std::fs::read("www/data/mnist.ftld.gz").expect("www/data/mnist.ftld.gz is committed");
    let d = decode_dataset("mnist.ftld.gz", &bytes).unwrap();
    assert_eq!(d.len(), 10_000);
    assert_eq!(d.shape, Shape::new(1, 28, 28));
    assert_eq!(d.classes(), 10);
    let sizes = d.split_sizes();
    assert_eq!((sizes.train, sizes.validation, sizes.test), (8_004, 999, 997));
}

#[test]
fn shipped_fashion_mnist_has_2000_images_per_class_split_80_10_10() {
    let data = decode_dataset("fashion-mnist.ftld.gz", &std::fs::read("www/data/fashion-mnist.ftld.gz").unwrap()).unwrap();
    assert_eq!(data.class_names[0], "T-shirt/top");
    assert_eq!(data.class_names[9], "Ankle boot");
    for class in 0..10u8 {
        let of = |s: Split| (0..data.len()).filter(|&i| data.labels[i] == class && data.splits[i] == s).count();
        assert_eq!((of(Split::Train), of(Split::Validation), of(Split::Test)), (1600, 200, 200), "class {class}");
    }
}

#[test]
fn augmentation_preview_gives_originals_then_what_the_model_sees() {
    use finetune_lab::data::augment::AugmentConfig;
    let data = decode_dataset("mnist.ftld.gz", &std::fs::read("www/data/mnist.ftld.gz").unwrap()).unwrap();
    let n = data.shape.len();
    let same = data.augment_preview(4, &AugmentConfig::default(), 1).unwrap();
    assert_eq!(same.len(), 8 * n);
    assert_eq!(same[..4 * n], same[4 * n..], "no augmentation: the preview shows the originals twice");
    let turned = data.augment_preview(4, &AugmentConfig { rotation_deg: 30.0, rotation_p: 1.0, ..Default::default() }, 1).unwrap();
    assert_eq!(turned[..4 * n], same[..4 * n]);
    assert_ne!(turned[4 * n..], same[4 * n..]);
    assert!(data.augment_preview(4, &AugmentConfig { zoom: 5.0, ..Default::default() }, 1).is_err());
}
