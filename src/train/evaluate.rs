//! Measuring a model on held-out images: loss and accuracy, per class, and
//! which classes it takes for which (the confusion matrix); and a checkpoint
//! file measured on a dataset that has its classes (the CLI's `eval` and the
//! page's "Evaluate" share it, so both give the same numbers).

use serde::{Deserialize, Serialize};

use super::metrics::Running;
use crate::checkpoint::Checkpoint;
use crate::data::{Dataset, Split};
use crate::error::{Error, Result};
use crate::loss::{predictions, softmax_cross_entropy};
use crate::model::Sequential;
use crate::nn::Mode;

/// Mean loss and accuracy of `model` on the images at `indices`, `chunk` at a time.
pub fn evaluate(model: &mut Sequential, dataset: &Dataset, indices: &[usize], chunk: usize) -> Option<(f32, f32)> {
    let mut totals = Running::default();
    for part in indices.chunks(chunk.max(1)) {
        let (x, labels) = dataset.batch(part);
        let out = softmax_cross_entropy(&model.forward(x, &mut Mode::Eval), &labels);
        totals.add(out.loss, out.correct, labels.len());
    }
    totals.means()
}

/// Accuracy of one class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassAccuracy {
    pub class: String,
    pub images: usize,
    pub acc: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccuracyReport {
    pub loss: f32,
    pub acc: f32,
    pub per_class: Vec<ClassAccuracy>,
    /// `confusion[true][predicted]`: how many images of each class went to each class.
    pub confusion: Vec<Vec<usize>>,
}

/// Loss, accuracy and per-class accuracy of `model` on the images at `indices`.
pub fn per_class_accuracy(model: &mut Sequential, dataset: &Dataset, indices: &[usize]) -> AccuracyReport {
    let classes = dataset.classes();
    let mut confusion = vec![vec![0usize; classes]; classes];
    let mut totals = Running::default();
    for part in indices.chunks(500) {
        let (x, labels) = dataset.batch(part);
        let logits = model.forward(x, &mut Mode::Eval);
        let out = softmax_cross_entropy(&logits, &labels);
        totals.add(out.loss, out.correct, labels.len());
        for (predicted, &label) in predictions(&logits).into_iter().zip(&labels) {
            confusion[label as usize][predicted] += 1;
        }
    }
    let (loss, acc) = totals.means().unwrap_or((f32::NAN, f32::NAN));
    let per_class = (0..classes)
        .map(|c| {
            let images: usize = confusion[c].iter().sum();
            let acc = if images > 0 { confusion[c][c] as f32 / images as f32 } else { f32::NAN };
            ClassAccuracy { class: dataset.class_names[c].clone(), images, acc }
        })
        .collect();
    AccuracyReport { loss, acc, per_class, confusion }
}

/// `checkpoint` measured on `split` of `full`, whose classes it must have.
pub fn evaluate_checkpoint(checkpoint: &Checkpoint, full: &Dataset, split: Split) -> Result<AccuracyReport> {
    let dataset = checkpoint_dataset(checkpoint, full)?;
    let mut model = checkpoint.build_model()?;
    Ok(per_class_accuracy(&mut model, &dataset, &dataset.indices(split)))
}

/// The classes of `full` that `checkpoint` predicts, looked up by name and in
/// its output order (a model of digits 0–4 gets those five classes of
/// MNIST); an error names a class or an image shape that does not match.
pub fn checkpoint_dataset(checkpoint: &Checkpoint, full: &Dataset) -> Result<Dataset> {
    let classes: Vec<usize> = checkpoint
        .meta
        .classes
        .iter()
        .map(|name| {
            full.class_names.iter().position(|n| n == name).ok_or_else(|| {
                Error::Config(format!(
                    "the checkpoint predicts class '{name}', which dataset '{}' does not have (it has {})",
                    full.name,
                    full.class_names.join(", ")
                ))
            })
        })
        .collect::<Result<_>>()?;
    let dataset = full.with_classes(&classes)?;
    if dataset.shape != checkpoint.spec.input {
        return Err(Error::Config(format!(
            "the checkpoint takes {}×{}×{} images and dataset '{}' has {}×{}×{}",
            checkpoint.spec.input.channels,
            checkpoint.spec.input.height,
            checkpoint.spec.input.width,
            full.name,
            dataset.shape.channels,
            dataset.shape.height,
            dataset.shape.width
        )));
    }
    Ok(dataset)
}
