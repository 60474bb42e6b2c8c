//! A run's model as a checkpoint: its weights with where they came from
//! (the dataset, its classes, which training images, the seed and the test
//! accuracy), the same record for a base made by `finetune-lab pretrain` and
//! for a model trained in the browser.

use super::Trainer;
use crate::checkpoint::{Checkpoint, CheckpointMeta};
use crate::data::{Split, TrainPool};

impl Trainer {
    /// The current model as a checkpoint. Measures the test split (restricted
    /// to the run's classes) unless `test_acc` is given; `command` says how it
    /// was made.
    pub fn checkpoint(&mut self, test_acc: Option<f32>, command: String) -> Checkpoint {
        let test_acc = test_acc.unwrap_or_else(|| self.evaluate_split(Split::Test).map_or(f32::NAN, |m| m.1));
        let data = self.dataset.clone();
        let sizes = data.split_sizes();
        let pool = match self.config.train_pool {
            TrainPool::All => "the whole training split".to_string(),
            pool => format!("the {pool:?} half of the training split: every other image of each class").to_lowercase(),
        };
        let subset = match (self.config.labels_per_class, self.config.train_limit) {
            (Some(k), _) => format!(", {k} per class"),
            (None, Some(limit)) => format!(", at most {limit} balanced over the classes"),
            (None, None) => String::new(),
        };
        let meta = CheckpointMeta {
            source_dataset: data.name.clone(),
            classes: data.class_names.clone(),
            split: format!(
                "trained on {} training images of these classes ({pool}{subset}); test_acc on their {} test images (the dataset file's fixed split)",
                self.train_size(),
                sizes.test
            ),
            seed: self.config.seed,
            epochs: self.config.epochs,
            test_acc,
            test_images: sizes.test,
            augment: self.config.augment,
            command,
            config: None,
        };
        Checkpoint::from_model(&self.model, meta)
    }
}
