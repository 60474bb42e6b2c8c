//! Looking inside a run while it trains: the class probabilities the model
//! gives any images (the page's drawing pad), every layer's output for one
//! image (its feature maps), a layer's weights (the first layer's filters
//! as pictures), and a held-out split measured image by
//! image — per class, the confusion matrix and the images it gets wrong.
//! Each call runs the model in evaluation mode between training steps and
//! drops its cached activations afterwards, so training is unaffected.

use serde::{Deserialize, Serialize};

use super::evaluate::{per_class_accuracy, AccuracyReport};
use super::Trainer;
use crate::data::Split;
use crate::error::{Error, Result};
use crate::nn::{Mode, ParamKind};

/// One layer's weight tensor, in its own layout (e.g. `[out, in, kh, kw]`
/// for a convolution, `[out, in]` for a dense layer: each unit's weights together).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerWeights {
    pub layer: usize,
    pub kind: String,
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// One layer's output for one image: `shape` is `[channels, height, width]`
/// for image-like outputs and `[units]` for flat ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerOutput {
    pub layer: usize,
    pub name: String,
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// A held-out image the model gets wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mistake {
    /// Index in the run's dataset.
    pub index: usize,
    pub label: usize,
    pub predicted: usize,
    /// The probability the model gives its (wrong) prediction.
    pub confidence: f32,
    /// The image's pixel bytes (channels × height × width).
    pub pixels: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitReport {
    #[serde(flatten)]
    pub report: AccuracyReport,
    /// Up to the limit asked for, the most confident mistakes first.
    pub mistakes: Vec<Mistake>,
}

/// Softmax of each row of logits.
fn probabilities(logits: &ndarray::Array2<f32>) -> Vec<Vec<f32>> {
    logits
        .outer_iter()
        .map(|row| {
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let exp: Vec<f32> = row.iter().map(|&v| (v - max).exp()).collect();
            let sum: f32 = exp.iter().sum();
            exp.into_iter().map(|e| e / sum).collect()
        })
        .collect()
}

impl Trainer {
    /// Class probabilities for `pixels`: whole images of the dataset's shape, one after another.
    pub fn predict(&mut self, pixels: &[u8]) -> Result<Vec<Vec<f32>>> {
        let n = self.dataset.shape.len();
        if n == 0 || pixels.is_empty() || !pixels.len().is_multiple_of(n) {
            return Err(Error::Config(format!(
                "predict takes whole {}×{}×{} images ({n} bytes each); got {} bytes",
                self.dataset.shape.channels,
                self.dataset.shape.height,
                self.dataset.shape.width,
                pixels.len()
            )));
        }
        let x = ndarray::Array2::from_shape_fn((pixels.len() / n, n), |(i, j)| pixels[i * n + j] as f32 * (1.0 / 255.0));
        let logits = self.model.forward(x, &mut Mode::Eval);
        self.model.clear_cache();
        Ok(probabilities(&logits))
    }

    /// Every layer's output for one image (pixel bytes of the dataset's shape), in evaluation mode.
    pub fn activations(&mut self, pixels: &[u8]) -> Result<Vec<LayerOutput>> {
        let n = self.dataset.shape.len();
        if pixels.len() != n {
            return Err(Error::Config(format!("activations take one {n}-byte image; got {} bytes", pixels.len())));
        }
        let mut x = ndarray::Array2::from_shape_fn((1, n), |(_, j)| pixels[j] as f32 * (1.0 / 255.0));
        let mut out = Vec::with_capacity(self.model.slots().len());
        for (layer, slot) in self.model.slots_mut().iter_mut().enumerate() {
            x = slot.layer.forward(x, &mut Mode::Eval);
            let shape = slot.layer.output_shape();
            let shape = if shape.height * shape.width > 1 { vec![shape.channels, shape.height, shape.width] } else { vec![shape.len()] };
            out.push(LayerOutput { layer, name: slot.layer.name().to_string(), shape, values: x.iter().copied().collect() });
        }
        self.model.clear_cache();
        Ok(out)
    }

    /// Test image number `index` (counted within the test split, wrapping
    /// around) of the run's dataset: its pixel bytes and its class.
    pub fn test_image(&self, index: usize) -> (Vec<u8>, usize) {
        let test = self.dataset.indices(Split::Test);
        let i = test[index % test.len().max(1)];
        (self.dataset.image(i).to_vec(), self.dataset.labels[i] as usize)
    }

    /// The weight tensor of layer `layer` (its biases and statistics left out).
    pub fn layer_weights(&self, layer: usize) -> Result<LayerWeights> {
        let slots = self.model.slots();
        let slot = slots.get(layer).ok_or_else(|| Error::Config(format!("layer {layer} does not exist (the model has {})", slots.len())))?;
        let params = slot.layer.params();
        let weight = params
            .iter()
            .find(|p| p.kind == ParamKind::Weight)
            .ok_or_else(|| Error::Config(format!("layer {layer} ({}) has no weights", slot.layer.name())))?;
        Ok(LayerWeights { layer, kind: slot.layer.name().to_string(), shape: weight.value.shape().to_vec(), values: weight.value.iter().copied().collect() })
    }

    /// `split` measured image by image: per class, the confusion matrix, and
    /// up to `mistakes` of the images it gets wrong, the most confident first.
    pub fn inspect_split(&mut self, split: Split, mistakes: usize) -> SplitReport {
        let data = self.dataset.clone();
        let indices = data.indices(split);
        let report = per_class_accuracy(&mut self.model, &data, &indices);
        let mut wrong = Vec::new();
        for part in indices.chunks(500) {
            let (x, labels) = data.batch(part);
            let logits = self.model.forward(x, &mut Mode::Eval);
            for ((probs, &label), &index) in probabilities(&logits).into_iter().zip(&labels).zip(part) {
                let (predicted, confidence) =
                    probs.iter().copied().enumerate().fold((0, f32::NEG_INFINITY), |best, (c, p)| if p > best.1 { (c, p) } else { best });
                if predicted != label as usize {
                    wrong.push((index, label as usize, predicted, confidence));
                }
            }
        }
        self.model.clear_cache();
        wrong.sort_by(|a, b| b.3.total_cmp(&a.3));
        let mistakes = wrong
            .into_iter()
            .take(mistakes)
            .map(|(index, label, predicted, confidence)| Mistake { index, label, predicted, confidence, pixels: data.image(index).to_vec() })
            .collect();
        SplitReport { report, mistakes }
    }
}
