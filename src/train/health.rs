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

/// The histogram in four count arrays, one per position mod 4, added at the
/// end: with one array, runs of values in the same bin wait on each other's
/// increment (a store, then a load of the same count). Layer health reads
/// ≈ 450,000 LeNet-5 activations per measurement, at every evaluation point.
fn histogram(values: &[f32], min: f32, max: f32) -> Histogram {
    let mut counts = [[0u32; BINS]; 4];
    let scale = BINS as f32 / (max - min).max(f32::MIN_POSITIVE);
    let bin = |v: f32| (((v - min) * scale) as usize).min(BINS - 1);
    let chunks = values.chunks_exact(4);
    for &v in chunks.remainder() {
        counts[0][bin(v)] += 1;
    }
    for chunk in chunks {
        for (lane, &v) in counts.iter_mut().zip(chunk) {
            lane[bin(v)] += 1;
        }
    }
    Histogram { min, max, counts: (0..BINS).map(|b| counts.iter().map(|lane| lane[b]).sum()).collect() }
}

/// Mean, standard deviation, min and max in one pass (sums in f64), in four
/// lanes: one running sum must add one value at a time, each add waiting for
/// the one before.
fn moments(values: &[f32]) -> (f32, f32, f32, f32) {
    let (mut sum, mut squares) = ([0f64; 4], [0f64; 4]);
    let (mut min, mut max) = ([f32::INFINITY; 4], [f32::NEG_INFINITY; 4]);
    let mut add = |lane: usize, v: f32| {
        sum[lane] += v as f64;
        squares[lane] += (v as f64) * (v as f64);
        min[lane] = min[lane].min(v);
        max[lane] = max[lane].max(v);
    };
    let chunks = values.chunks_exact(4);
    for &v in chunks.remainder() {
        add(0, v);
    }
    for chunk in chunks {
        for (lane, &v) in chunk.iter().enumerate() {
            add(lane, v);
        }
    }
    let n = values.len().max(1) as f64;
    let mean = sum.iter().sum::<f64>() / n;
    let squares = squares.iter().sum::<f64>();
    let (min, max) = (min.iter().copied().fold(f32::INFINITY, f32::min), max.iter().copied().fold(f32::NEG_INFINITY, f32::max));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lane_sums_match_one_value_at_a_time() {
        // Lengths that leave every tail after whole groups of four, values with a range to bin.
        for len in [0, 1, 3, 4, 7, 33] {
            let values: Vec<f32> = (0..len).map(|i| ((i * 37 % 11) as f32 - 4.0) * 0.5).collect();
            let (mean, std, min, max) = moments(&values);
            let n = len.max(1) as f64;
            let m = values.iter().map(|&v| v as f64).sum::<f64>() / n;
            let var = values.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>() / n - m * m;
            assert!((mean as f64 - m).abs() < 1e-6 && (std as f64 - var.max(0.0).sqrt()).abs() < 1e-5, "length {len}: mean {mean}, std {std}");
            assert_eq!((min, max), values.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v))));
            let histogram = histogram(&values, min, max);
            let mut expected = vec![0u32; BINS];
            for &v in &values {
                expected[(((v - min) * BINS as f32 / (max - min).max(f32::MIN_POSITIVE)) as usize).min(BINS - 1)] += 1;
            }
            assert_eq!(histogram.counts, expected, "length {len}");
        }
    }
}
