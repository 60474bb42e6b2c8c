//! Image classification datasets held in memory as bytes, their fixed
//! train/validation/test split, and conversion of batches to `f32` arrays.

pub mod augment;
pub mod format;
pub mod images;
pub mod import;
pub mod shift;

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::nn::Shape;

/// Which part of a dataset an image belongs to. Stored per image in the
/// dataset file, so the split is a property of the data, not of the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    Train = 0,
    Validation = 1,
    Test = 2,
}

impl Split {
    pub fn from_code(code: u8) -> Option<Split> {
        match code {
            0 => Some(Split::Train),
            1 => Some(Split::Validation),
            2 => Some(Split::Test),
            _ => None,
        }
    }

    /// `train`, `validation` or `test`, as the CLI and the page name them.
    pub fn from_name(name: &str) -> crate::error::Result<Split> {
        match name {
            "train" => Ok(Split::Train),
            "validation" => Ok(Split::Validation),
            "test" => Ok(Split::Test),
            other => Err(crate::error::Error::Config(format!("unknown split '{other}' (train, validation or test)"))),
        }
    }
}

/// Which half of the training split a run learns from. Domain-shift
/// experiments pretrain the base on the source half and fine-tune on the
/// target half, so the two never share an image; within each class the
/// training images alternate between the halves, in file order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrainPool {
    #[default]
    All,
    Source,
    Target,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub name: String,
    pub shape: Shape,
    pub class_names: Vec<String>,
    /// `count × C·H·W` bytes, each image channel-major.
    pub pixels: Vec<u8>,
    pub labels: Vec<u8>,
    pub splits: Vec<Split>,
}

/// Counts per split, for the page and the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitSizes {
    pub train: usize,
    pub validation: usize,
    pub test: usize,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.labels.len()
    }
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
    pub fn classes(&self) -> usize {
        self.class_names.len()
    }
    pub fn image(&self, index: usize) -> &[u8] {
        let n = self.shape.len();
        &self.pixels[index * n..(index + 1) * n]
    }

    /// Indices of the images in `split`, in file order.
    pub fn indices(&self, split: Split) -> Vec<usize> {
        (0..self.len()).filter(|&i| self.splits[i] == split).collect()
    }

    /// The training images of `pool` (see [`TrainPool`]), in file order.
    pub fn train_pool(&self, pool: TrainPool) -> Vec<usize> {
        let mut seen = vec![0usize; self.classes()];
        self.indices(Split::Train)
            .into_iter()
            .filter(|&i| {
                let rank = &mut seen[self.labels[i] as usize];
                let even = rank.is_multiple_of(2);
                *rank += 1;
                match pool {
                    TrainPool::All => true,
                    TrainPool::Source => even,
                    TrainPool::Target => !even,
                }
            })
            .collect()
    }

    /// Augmentation preview: `count` training images (taken evenly from the
    /// classes) as bytes, followed by the same images augmented with `config`
    /// and `seed` — what the model would see.
    pub fn augment_preview(&self, count: usize, config: &augment::AugmentConfig, seed: u64) -> crate::error::Result<Vec<u8>> {
        config.validate()?;
        let indices = self.balanced_subset(&self.indices(Split::Train), count);
        let mut rng = crate::rng::stream(seed, crate::rng::AUGMENT_STREAM);
        let mut out: Vec<u8> = indices.iter().flat_map(|&i| self.image(i).iter().copied()).collect();
        let mut image = vec![0f32; self.shape.len()];
        for &i in &indices {
            for (v, &b) in image.iter_mut().zip(self.image(i)) {
                *v = b as f32 / 255.0;
            }
            augment::augment(&mut image, self.shape, config, &mut rng);
            out.extend(image.iter().map(|v| (v * 255.0).round() as u8));
        }
        Ok(out)
    }

    /// The first `limit` of `indices` taken round-robin over the classes
    /// (first image of each class, then the second, …), so a small subset
    /// stays balanced even though files store images class by class.
    pub fn balanced_subset(&self, indices: &[usize], limit: usize) -> Vec<usize> {
        let mut per_class: Vec<std::collections::VecDeque<usize>> = vec![Default::default(); self.classes()];
        for &i in indices {
            per_class[self.labels[i] as usize].push_back(i);
        }
        let mut subset = Vec::with_capacity(limit.min(indices.len()));
        while subset.len() < limit && per_class.iter().any(|q| !q.is_empty()) {
            for queue in per_class.iter_mut() {
                if subset.len() == limit {
                    break;
                }
                if let Some(i) = queue.pop_front() {
                    subset.push(i);
                }
            }
        }
        subset.sort_unstable();
        subset
    }

    /// Only the images of `classes` (indices into `class_names`), relabelled
    /// 0, 1, … in the order given; splits are kept.
    pub fn with_classes(&self, classes: &[usize]) -> crate::error::Result<Dataset> {
        let mut new_label = vec![None; self.classes()];
        for (i, &c) in classes.iter().enumerate() {
            let slot = new_label
                .get_mut(c)
                .ok_or_else(|| crate::error::Error::Config(format!("class {c} does not exist in '{}' (it has {})", self.name, self.classes())))?;
            if slot.is_some() {
                return Err(crate::error::Error::Config(format!("class {c} is listed twice")));
            }
            *slot = Some(i as u8);
        }
        if classes.len() < 2 {
            return Err(crate::error::Error::Config("a classifier needs at least two classes".into()));
        }
        let n = self.shape.len();
        let mut out = Dataset {
            name: self.name.clone(),
            shape: self.shape,
            class_names: classes.iter().map(|&c| self.class_names[c].clone()).collect(),
            pixels: Vec::new(),
            labels: Vec::new(),
            splits: Vec::new(),
        };
        for i in 0..self.len() {
            if let Some(label) = new_label[self.labels[i] as usize] {
                out.pixels.extend_from_slice(&self.pixels[i * n..(i + 1) * n]);
                out.labels.push(label);
                out.splits.push(self.splits[i]);
            }
        }
        Ok(out)
    }

    /// A deliberately skewed copy: class `class` keeps only its first `keep`
    /// training images (in file order); every other image, and every
    /// validation and test image, stays. A base pretrained on it carries that
    /// bias into fine-tuning (MISSION claim 8).
    pub fn with_training_cap(&self, class: usize, keep: usize) -> crate::error::Result<Dataset> {
        if class >= self.classes() {
            return Err(crate::error::Error::Config(format!("class {class} does not exist in '{}' (it has {})", self.name, self.classes())));
        }
        let n = self.shape.len();
        let mut out = Dataset { pixels: Vec::new(), labels: Vec::new(), splits: Vec::new(), ..self.clone_header() };
        let mut kept = 0;
        for i in 0..self.len() {
            if self.labels[i] as usize == class && self.splits[i] == Split::Train {
                if kept == keep {
                    continue;
                }
                kept += 1;
            }
            out.pixels.extend_from_slice(&self.pixels[i * n..(i + 1) * n]);
            out.labels.push(self.labels[i]);
            out.splits.push(self.splits[i]);
        }
        Ok(out)
    }

    // The dataset's name, shape and classes, without its images.
    fn clone_header(&self) -> Dataset {
        Dataset {
            name: self.name.clone(),
            shape: self.shape,
            class_names: self.class_names.clone(),
            pixels: Vec::new(),
            labels: Vec::new(),
            splits: Vec::new(),
        }
    }

    pub fn split_sizes(&self) -> SplitSizes {
        let count = |s| self.splits.iter().filter(|&&x| x == s).count();
        SplitSizes { train: count(Split::Train), validation: count(Split::Validation), test: count(Split::Test) }
    }

    /// The images at `indices` as a `(batch, C·H·W)` array scaled to [0, 1], and their labels.
    pub fn batch(&self, indices: &[usize]) -> (Array2<f32>, Vec<u8>) {
        let n = self.shape.len();
        let mut x = Array2::<f32>::zeros((indices.len(), n));
        if n > 0 {
            for (row, &i) in x.as_slice_mut().expect("fresh array").chunks_exact_mut(n).zip(indices) {
                for (v, &p) in row.iter_mut().zip(self.image(i)) {
                    *v = p as f32 * (1.0 / 255.0);
                }
            }
        }
        (x, indices.iter().map(|&i| self.labels[i]).collect())
    }
}
