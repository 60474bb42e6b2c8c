//! A dataset made of a person's own images (the page's "Your images"): the
//! classes they named, each image already decoded and resized to the chosen
//! shape, and the split decided here so it follows the catalog's rules and
//! never changes between visits: per class, the file names sorted (so the
//! same files split the same way whatever order they were added in), a
//! seeded shuffle, then `held_out_share` of them for test and as many for
//! validation — at least one each — and the rest for training. (The page's
//! own JavaScript split, before the core made it, used another generator:
//! the same folder splits differently than it did then.)

use rand::seq::SliceRandom;
use serde::Deserialize;

use super::{Dataset, Split};
use crate::catalog::OWN_IMAGES;
use crate::error::{Error, Result};
use crate::nn::Shape;
use crate::rng::stream;

/// The seed of every class's shuffle; changing it moves users' images between splits.
const SPLIT_SEED: u64 = 20_261_128;

/// One class: its name and its images' file names, in the order their pixels come.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageClass {
    pub name: String,
    pub files: Vec<String>,
}

/// How many of a class's `n` images go to [train, validation, test].
pub fn split_counts(n: usize) -> [usize; 3] {
    if n < OWN_IMAGES.min_per_class {
        return [n, 0, 0];
    }
    let held = ((n as f64 * OWN_IMAGES.held_out_share).round() as usize).max(1);
    [n - 2 * held, held, held]
}

/// The dataset of `classes`, whose images' pixels (`shape` each, bytes,
/// channel-major) follow one another in `pixels`, class after class.
/// `name` appears in every error.
pub fn dataset_from_images(name: &str, shape: Shape, classes: &[ImageClass], pixels: &[u8]) -> Result<Dataset> {
    let err = |what: String| Error::dataset(name, what);
    super::format::check_image_shape(shape).map_err(err)?;
    check_classes(classes).map_err(err)?;
    let count: usize = classes.iter().map(|c| c.files.len()).sum();
    if count > OWN_IMAGES.max_images {
        return Err(err(format!("{count} images; at most {} can be used", OWN_IMAGES.max_images)));
    }
    if pixels.len() != count * shape.len() {
        return Err(err(format!("{} pixel bytes for {count} images of {shape}, expected {}", pixels.len(), count * shape.len())));
    }
    let mut labels = Vec::with_capacity(count);
    let mut splits = Vec::with_capacity(count);
    for (class, c) in classes.iter().enumerate() {
        labels.extend(std::iter::repeat_n(class as u8, c.files.len()));
        splits.extend(class_splits(&c.files, class));
    }
    Ok(Dataset { name: name.to_string(), shape, class_names: classes.iter().map(|c| c.name.clone()).collect(), pixels: pixels.to_vec(), labels, splits })
}

fn check_classes(classes: &[ImageClass]) -> std::result::Result<(), String> {
    if classes.len() < 2 {
        return Err(format!("add at least two classes (there are {})", classes.len()));
    }
    if classes.len() > OWN_IMAGES.max_classes {
        return Err(format!("{} classes; at most {}", classes.len(), OWN_IMAGES.max_classes));
    }
    for (i, c) in classes.iter().enumerate() {
        if c.name.trim().is_empty() || c.name.len() > OWN_IMAGES.max_class_name_bytes {
            return Err(format!("class {i} needs a name of 1 to {} bytes", OWN_IMAGES.max_class_name_bytes));
        }
        if let Some(twin) = classes[..i].iter().find(|o| o.name.to_lowercase() == c.name.to_lowercase()) {
            return Err(format!("classes “{}” and “{}” differ only in upper/lower case", twin.name, c.name));
        }
        if c.files.len() < OWN_IMAGES.min_per_class {
            let n = c.files.len();
            return Err(format!(
                "class “{}” has {n} image{}; each class needs at least {} (3 to train, 1 to validate, 1 to test)",
                c.name,
                if n == 1 { "" } else { "s" },
                OWN_IMAGES.min_per_class
            ));
        }
    }
    Ok(())
}

/// The split of each of a class's images, in the order of `files`.
fn class_splits(files: &[String], class: usize) -> Vec<Split> {
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by(|&a, &b| files[a].cmp(&files[b]).then(a.cmp(&b)));
    order.shuffle(&mut stream(SPLIT_SEED, class as u64));
    let [_, validation, test] = split_counts(files.len());
    let mut splits = vec![Split::Train; files.len()];
    for (rank, &i) in order.iter().enumerate() {
        splits[i] = if rank < test {
            Split::Test
        } else if rank < test + validation {
            Split::Validation
        } else {
            Split::Train
        };
    }
    splits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(name: &str, n: usize) -> ImageClass {
        ImageClass { name: name.into(), files: (0..n).map(|i| format!("{name}-{i:02}.png")).collect() }
    }

    #[test]
    fn splits_follow_the_rules_and_not_the_order_files_came_in() {
        let shape = Shape::new(1, 2, 2);
        let classes = [class("circle", 20), class("square", 5)];
        let d = dataset_from_images("mine", shape, &classes, &[7; 25 * 4]).unwrap();
        assert_eq!(d.split_sizes().test, 2 + 1);
        assert_eq!(d.split_sizes().validation, 2 + 1);
        assert_eq!(split_counts(4), [4, 0, 0]);
        // The same files listed in another order land in the same splits.
        let mut reversed = class("circle", 20);
        reversed.files.reverse();
        let again = dataset_from_images("mine", shape, &[reversed, class("square", 5)], &[7; 25 * 4]).unwrap();
        let by_name = |d: &Dataset, files: &[String]| {
            let mut v: Vec<(String, Split)> = files.iter().cloned().zip(d.splits.iter().copied()).collect();
            v.sort_by(|a, b| a.0.cmp(&b.0));
            v
        };
        assert_eq!(by_name(&d, &classes[0].files), by_name(&again, &again_files()));
        // Through the file format and back, as the page stores it.
        let decoded = crate::decode_dataset("mine", &crate::encode_dataset(&d)).unwrap();
        assert_eq!(decoded, d);
    }

    fn again_files() -> Vec<String> {
        let mut files = class("circle", 20).files;
        files.reverse();
        files
    }

    #[test]
    fn problems_are_named() {
        let shape = Shape::new(1, 1, 1);
        let e = |classes: &[ImageClass], pixels: usize| dataset_from_images("mine", shape, classes, &vec![0; pixels]).unwrap_err().to_string();
        assert!(e(&[class("a", 5)], 5).contains("at least two classes"));
        assert!(e(&[class("a", 5), class("A", 5)], 10).contains("upper/lower case"));
        assert!(e(&[class("a", 5), class("b", 4)], 9).contains("class “b” has 4 images"));
        assert!(e(&[class("a", 5), class("b", 5)], 9).contains("9 pixel bytes for 10 images"));
        let two_channels = dataset_from_images("mine", Shape::new(2, 1, 1), &[class("a", 5), class("b", 5)], &[0; 20]).unwrap_err().to_string();
        assert!(two_channels.contains("expected 1 (grey) or 3 (colour)"), "{two_channels}");
    }
}
