//! What a run reports: running means over steps, the training window the
//! page charts, one record per evaluation, and the status line.

use serde::{Deserialize, Serialize};

/// Sums of loss and correct answers over some steps or images.
#[derive(Default, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct Running {
    loss_sum: f64,
    correct: u64,
    count: u64,
    pub(crate) steps: u64,
}

impl Running {
    /// Adds one batch: its mean loss, how many it got right, and its size.
    pub(crate) fn add(&mut self, loss: f32, correct: usize, count: usize) {
        self.loss_sum += loss as f64 * count as f64;
        self.correct += correct as u64;
        self.count += count as u64;
        self.steps += 1;
    }

    /// Mean loss and accuracy, if anything was added.
    pub(crate) fn means(&self) -> Option<(f32, f32)> {
        (self.count > 0).then(|| ((self.loss_sum / self.count as f64) as f32, self.correct as f32 / self.count as f32))
    }
}

/// Training points per epoch (fewer when an epoch has fewer steps: then one per step).
pub const WINDOWS_PER_EPOCH: u64 = 20;

/// Mean training metrics over a window of steps.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WindowStats {
    /// Step count and fractional epoch at the end of the window.
    pub step: u64,
    pub epoch: f64,
    pub examples_seen: u64,
    pub loss: f32,
    pub acc: f32,
    pub steps: u64,
}

/// One evaluation of the validation set, with the training metrics since the previous one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EvalRecord {
    pub epoch: f64,
    pub step: u64,
    pub examples_seen: u64,
    /// `None` for the evaluation before the first step.
    pub train_loss: Option<f32>,
    pub train_acc: Option<f32>,
    pub val_loss: f32,
    pub val_acc: f32,
    /// With a forgetting meter: accuracy on the *source* task's test split,
    /// through the source head on the current backbone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_acc: Option<f32>,
}

/// Status for displays.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrainerStatus {
    pub step: u64,
    pub total_steps: u64,
    pub epoch: f64,
    pub epochs: u32,
    pub steps_per_epoch: u64,
    pub batch_size: usize,
    /// Images the run trains on (after `labels_per_class` / `train_limit`).
    pub train_images: usize,
    pub examples_seen: u64,
    pub done: bool,
    /// Set when early stopping ended the run; the weights are those of `best_step`.
    pub stopped_early: bool,
    pub best_step: Option<u64>,
}
