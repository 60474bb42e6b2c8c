//! Measuring a model on held-out images: loss and accuracy, and per class.

use serde::{Deserialize, Serialize};

use super::metrics::Running;
use crate::data::Dataset;
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
}

/// Loss, accuracy and per-class accuracy of `model` on the images at `indices`.
pub fn per_class_accuracy(model: &mut Sequential, dataset: &Dataset, indices: &[usize]) -> AccuracyReport {
    let classes = dataset.classes();
    let (mut seen, mut right) = (vec![0usize; classes], vec![0usize; classes]);
    let mut totals = Running::default();
    for part in indices.chunks(500) {
        let (x, labels) = dataset.batch(part);
        let logits = model.forward(x, &mut Mode::Eval);
        let out = softmax_cross_entropy(&logits, &labels);
        totals.add(out.loss, out.correct, labels.len());
        for (predicted, &label) in predictions(&logits).into_iter().zip(&labels) {
            seen[label as usize] += 1;
            right[label as usize] += usize::from(predicted == label as usize);
        }
    }
    let (loss, acc) = totals.means().unwrap_or((f32::NAN, f32::NAN));
    let per_class = (0..classes)
        .map(|c| ClassAccuracy {
            class: dataset.class_names[c].clone(),
            images: seen[c],
            acc: if seen[c] > 0 { right[c] as f32 / seen[c] as f32 } else { f32::NAN },
        })
        .collect();
    AccuracyReport { loss, acc, per_class }
}
