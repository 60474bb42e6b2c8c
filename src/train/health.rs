//! Layer health, measured at every evaluation point (not every step): for
//! each layer, its output on a fixed probe batch of validation images
//! (mean, standard deviation, the share of ReLU units that are zero for
//! every probe image — "dead" — and a histogram), and for each layer with
//! weights the last training step's gradient norm, the weight norm and the
//! update-to-weight ratio ‖Δw‖ / ‖w‖ of that step. It shows signals
//! vanishing or exploding layer by layer (MISSION claim 6). The probe runs
//! in evaluation mode and draws no random numbers, so training is unchanged.

use serde::{Deserialize, Serialize};

use crate::model::Sequential;
use crate::nn::{Mode, ParamKind};

/// Whether runs measure layer health (on unless the benchmark compares the cost).
static ON: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

pub fn set(on: bool) {
    ON.store(on, std::sync::atomic::Ordering::Relaxed);
}

pub fn on() -> bool {
    ON.load(std::sync::atomic::Ordering::Relaxed)
}

/// Images in the probe batch: the first validation images, the same all run long.
pub const PROBE_IMAGES: usize = 32;
const BINS: usize = 16;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    pub min: f32,
    pub max: f32,
    pub counts: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerHealth {
    pub layer: usize,
    pub name: String,
    pub act_mean: f32,
    pub act_std: f32,
    /// ReLU layers: the share of units that output zero for every probe image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dead: Option<f32>,
    pub histogram: Histogram,
    /// Layers with weights (a frozen layer computes no gradient: none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grad_norm: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight_norm: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_ratio: Option<f32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthRecord {
    pub step: u64,
    pub epoch: f64,
    pub layers: Vec<LayerHealth>,
}

fn histogram(values: &[f32], min: f32, max: f32) -> Histogram {
    let mut counts = vec![0u32; BINS];
    let scale = BINS as f32 / (max - min).max(f32::MIN_POSITIVE);
    for &v in values {
        counts[(((v - min) * scale) as usize).min(BINS - 1)] += 1;
    }
    Histogram { min, max, counts }
}

/// Mean, standard deviation, min and max in one pass (sums in f64).
fn moments(values: &[f32]) -> (f32, f32, f32, f32) {
    let (mut sum, mut squares, mut min, mut max) = (0f64, 0f64, f32::INFINITY, f32::NEG_INFINITY);
    for &v in values {
        sum += v as f64;
        squares += (v as f64) * (v as f64);
        min = min.min(v);
        max = max.max(v);
    }
    let n = values.len().max(1) as f64;
    let mean = sum / n;
    (mean as f32, (squares / n - mean * mean).max(0.0).sqrt() as f32, min, max)
}

/// The share of units (columns) that are zero for every row, read row by
/// row: the outputs are row-major, and a column walk would miss the cache.
fn dead_share(values: &[f32], units: usize) -> f32 {
    let mut alive = vec![false; units];
    for row in values.chunks_exact(units.max(1)) {
        for (a, &v) in alive.iter_mut().zip(row) {
            *a |= v != 0.0;
        }
    }
    alive.iter().filter(|&&a| !a).count() as f32 / units.max(1) as f32
}

/// Σ (a − b)² (b empty: Σ a²) in eight lanes, which the compiler turns into
/// SIMD: a plain iterator sum must add in order, one value at a time.
fn sum_squares(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let tail: f32;
    if b.is_empty() {
        let chunks = a.chunks_exact(8);
        tail = chunks.remainder().iter().map(|v| v * v).sum();
        for chunk in chunks {
            for (l, v) in lanes.iter_mut().zip(chunk) {
                *l += v * v;
            }
        }
    } else {
        let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
        tail = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| (x - y) * (x - y)).sum();
        for (x, y) in ca.zip(cb) {
            for ((l, x), y) in lanes.iter_mut().zip(x).zip(y) {
                *l += (x - y) * (x - y);
            }
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// Every layer's health. `probe` is the probe batch (pixels / 255, one image
/// per row); `before_update` the model's flat weights before the last
/// update (empty when unknown: no update ratio then).
pub fn measure(model: &mut Sequential, probe: ndarray::Array2<f32>, before_update: &[f32], step: u64, epoch: f64) -> HealthRecord {
    let mut layers = Vec::with_capacity(model.slots().len());
    let mut x = probe;
    let mut offset = 0; // into before_update, in flat_weights' order
    for (index, slot) in model.slots_mut().iter_mut().enumerate() {
        x = slot.layer.forward(x, &mut Mode::Eval);
        let owned;
        let values: &[f32] = match x.as_slice() {
            Some(values) => values,
            None => {
                owned = x.iter().copied().collect::<Vec<_>>();
                &owned
            }
        };
        let (mean, std, min, max) = moments(values);
        let name = slot.layer.name().to_string();
        let dead = (name == "relu").then(|| dead_share(values, x.ncols()));
        let histogram = histogram(values, min, max);
        let params = slot.layer.params();
        let weights: Vec<_> = params.iter().filter(|p| p.kind == ParamKind::Weight).collect();
        let trained = !weights.is_empty() && !slot.frozen;
        let stored: usize = params.iter().map(|p| p.len()).sum();
        let update_ratio = (trained && before_update.len() >= offset + stored).then(|| {
            let (mut change, mut before_sq, mut at) = (0f32, 0f32, offset);
            for p in params {
                let before = &before_update[at..at + p.len()];
                change += sum_squares(p.values(), before);
                before_sq += sum_squares(before, &[]);
                at += p.len();
            }
            change.sqrt() / before_sq.sqrt().max(f32::MIN_POSITIVE)
        });
        let norm_of = |read: fn(&crate::nn::Param) -> &[f32]| weights.iter().map(|p| sum_squares(read(p), &[])).sum::<f32>().sqrt();
        layers.push(LayerHealth {
            layer: index,
            act_mean: mean,
            act_std: std,
            dead,
            histogram,
            grad_norm: trained.then(|| norm_of(crate::nn::Param::grads)),
            weight_norm: (!weights.is_empty()).then(|| norm_of(crate::nn::Param::values)),
            update_ratio,
            name,
        });
        offset += stored;
    }
    model.clear_cache();
    HealthRecord { step, epoch, layers }
}
