//! The trainer: runs a configured training job one small unit of work at a
//! time (a training step, or a chunk of the validation set), so a caller that
//! must stay responsive — the Web Worker — can interleave messages between
//! units. No I/O and no clocks here: the caller measures time.
//!
//! One concept per file: `config` (the run's settings and their validation),
//! `setup` (building the model and choosing the images), `metrics` (what a
//! run reports), `evaluate` (measuring held-out images), `forgetting` (the
//! source-task meter), `early_stopping`, `health` (layer health at
//! evaluation points), `inspect` (looking inside between steps), `shard` (data-parallel
//! training: one part of every batch), `snapshot`
//! (resume points), `checkpoint`; this file is the tick loop. Over 400 lines
//! because the step, the evaluation chunk and the fixed-resolution training
//! points are one loop that reads best in one place.

mod checkpoint;
mod config;
mod early_stopping;
mod evaluate;
mod forgetting;
pub mod health;
mod inspect;
mod metrics;
mod setup;
mod shard;
mod snapshot;

pub use config::{LayerRate, TrainConfig};
pub use evaluate::{checkpoint_dataset, evaluate, evaluate_checkpoint, per_class_accuracy, AccuracyReport, ClassAccuracy};
pub use inspect::{LayerWeights, Mistake, SplitReport};
pub use metrics::{EvalRecord, TrainerStatus, WindowStats, WINDOWS_PER_EPOCH};
pub use setup::{describe, RunPlan, Start};
pub use shard::{reduce_shards, reduce_shards_in_place, Shard, ShardTick};

use std::sync::Arc;

use rand::seq::SliceRandom;

use crate::data::augment::augment;
use crate::data::{Dataset, Split};
use crate::error::{Error, Result};
use crate::loss::softmax_cross_entropy;
use crate::model::Sequential;
use crate::nn::Mode;
use crate::optim::{OptimizerState, Penalty};
use crate::rng::{stream, Rng, AUGMENT_STREAM, DROPOUT_STREAM, SHUFFLE_STREAM};
use early_stopping::EarlyStopping;
use forgetting::ForgettingMeter;
use metrics::Running;

/// What one call of [`Trainer::tick`] did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Tick {
    /// One optimiser step on this many images.
    Trained { images: usize },
    /// A chunk of the validation set was measured; more follow.
    Evaluating,
    /// The validation set was finished.
    Evaluated(EvalRecord),
    /// Every epoch is done; nothing happened.
    Done,
}

/// An evaluation under way: how far through the validation set, and its sums so far.
struct PendingEval {
    position: usize,
    totals: Running,
}

impl PendingEval {
    fn start() -> Self {
        PendingEval { position: 0, totals: Running::default() }
    }
}

pub struct Trainer {
    config: TrainConfig,
    dataset: Arc<Dataset>,
    model: Sequential,
    optimizer: OptimizerState,
    train_indices: Vec<usize>,
    val_indices: Vec<usize>,
    /// This epoch's shuffled order of `train_indices`.
    order: Vec<usize>,
    shuffle_rng: Rng,
    dropout_rng: Rng,
    augment_rng: Rng,
    batch_size: usize,
    steps_per_epoch: u64,
    step: u64,
    /// Position in `order` within the current epoch.
    cursor: usize,
    examples_seen: u64,
    pending_eval: Option<PendingEval>,
    since_eval: Running,
    /// The training window under way, and the ones completed and not yet
    /// taken: WINDOWS_PER_EPOCH per epoch, whatever the page's message rate.
    window: Running,
    windows: Vec<WindowStats>,
    evals: Vec<EvalRecord>,
    early_stopping: EarlyStopping,
    forgetting: Option<ForgettingMeter>,
    /// The weights before the current update (reused buffer), to undo an update that overflowed.
    before_update: Vec<f32>,
    /// Validation images every layer-health measurement looks at (health.rs).
    probe: Vec<usize>,
    health: Vec<health::HealthRecord>,
    /// Which part of every batch this trainer computes in a data-parallel run (shard.rs).
    shard: Shard,
    /// A sharded tick whose contribution was given and whose sum has not come yet.
    shard_pending: Option<shard::Pending>,
}

impl Trainer {
    /// A run from random weights (the configuration's preset or spec).
    pub fn new(config: TrainConfig, dataset: Arc<Dataset>) -> Result<Self> {
        Self::start(config, dataset, Start::Scratch)
    }

    /// Fine-tuning: starts from `base`'s weights. When the dataset's classes
    /// differ from the base's (or `new_head` is set), the last layer is
    /// replaced by a freshly initialised one with one output per class.
    pub fn from_base(config: TrainConfig, dataset: Arc<Dataset>, base: &Sequential, new_head: bool) -> Result<Self> {
        Self::start(config, dataset, Start::Base { model: base, new_head })
    }

    fn start(config: TrainConfig, dataset: Arc<Dataset>, start: Start) -> Result<Self> {
        config.validate()?;
        let model = setup::build_model(&config, dataset.shape, dataset.classes(), &start)?;
        let optimizer = OptimizerState::new(config.optimizer, &model)?;
        let dataset = match &config.shift {
            Some(shift) => shift.apply_shared(&dataset)?,
            None => dataset,
        };
        let train_indices = setup::training_images(&config, &dataset)?;
        let val_indices = dataset.indices(Split::Validation);
        let batch_size = if config.batch_size == 0 { train_indices.len() } else { config.batch_size.min(train_indices.len()) };
        let steps_per_epoch = train_indices.len().div_ceil(batch_size) as u64;
        Ok(Trainer {
            shuffle_rng: stream(config.seed, SHUFFLE_STREAM),
            dropout_rng: stream(config.seed, DROPOUT_STREAM),
            augment_rng: stream(config.seed, AUGMENT_STREAM),
            order: Vec::new(),
            config,
            dataset,
            model,
            optimizer,
            train_indices,
            val_indices: val_indices.clone(),
            batch_size,
            steps_per_epoch,
            step: 0,
            cursor: 0,
            examples_seen: 0,
            // Measure the untrained model first, so every chart starts at step 0.
            pending_eval: Some(PendingEval::start()),
            since_eval: Running::default(),
            window: Running::default(),
            windows: Vec::new(),
            evals: Vec::new(),
            early_stopping: EarlyStopping::default(),
            forgetting: None,
            before_update: Vec::new(),
            probe: val_indices.iter().copied().take(health::PROBE_IMAGES).collect(),
            health: Vec::new(),
            shard: Shard::WHOLE,
            shard_pending: None,
        })
    }

    pub fn config(&self) -> &TrainConfig {
        &self.config
    }
    pub fn model(&self) -> &Sequential {
        &self.model
    }
    pub fn model_mut(&mut self) -> &mut Sequential {
        &mut self.model
    }
    pub fn dataset(&self) -> &Arc<Dataset> {
        &self.dataset
    }
    pub fn total_steps(&self) -> u64 {
        self.steps_per_epoch * self.config.epochs as u64
    }
    pub fn is_done(&self) -> bool {
        (self.early_stopping.stopped || self.step >= self.total_steps()) && self.pending_eval.is_none()
    }
    pub fn is_evaluating(&self) -> bool {
        self.pending_eval.is_some()
    }
    pub fn train_size(&self) -> usize {
        self.train_indices.len()
    }

    pub fn status(&self) -> TrainerStatus {
        TrainerStatus {
            step: self.step,
            total_steps: self.total_steps(),
            epoch: self.epoch(),
            epochs: self.config.epochs,
            steps_per_epoch: self.steps_per_epoch,
            batch_size: self.batch_size,
            train_images: self.train_indices.len(),
            examples_seen: self.examples_seen,
            done: self.is_done(),
            stopped_early: self.early_stopping.stopped,
            best_step: self.early_stopping.best_step(),
        }
    }

    fn epoch(&self) -> f64 {
        self.step as f64 / self.steps_per_epoch as f64
    }

    /// Does one unit of work. A non-finite loss or gradient stops the step
    /// before the weights change and is reported as [`Error::Diverged`].
    pub fn tick(&mut self) -> Result<Tick> {
        if self.pending_eval.is_some() {
            return Ok(self.evaluate_chunk());
        }
        if self.is_done() {
            return Ok(Tick::Done);
        }
        self.train_step()
    }

    /// Runs until one training step has been taken and any evaluation it
    /// triggered has finished (the page's "Step" button).
    pub fn step_once(&mut self) -> Result<Vec<Tick>> {
        let mut ticks = Vec::new();
        // Finish an evaluation already under way, then train one step.
        loop {
            let tick = self.tick()?;
            ticks.push(tick);
            if matches!(tick, Tick::Trained { .. } | Tick::Done) {
                break;
            }
        }
        while self.pending_eval.is_some() {
            ticks.push(self.tick()?);
        }
        Ok(ticks)
    }

    fn train_step(&mut self) -> Result<Tick> {
        let positions = self.next_batch();
        let end = positions.end;
        let (x, labels) = self.training_batch(positions);
        let images = labels.len();

        self.model.zero_grads();
        let logits = self.model.forward(x, &mut Mode::Train { rng: &mut self.dropout_rng });
        let out = softmax_cross_entropy(&logits, &labels);
        if !out.loss.is_finite() {
            // The weights are untouched; the forward pass's caches are dropped.
            self.model.clear_cache();
            return Err(self.diverged("the loss".into(), out.loss));
        }
        self.model.backward(out.grad);
        self.finish_step(out.loss, out.correct, images, end)
    }

    /// The positions in this epoch's order of the coming step's images
    /// (the order is shuffled afresh at each epoch's start).
    fn next_batch(&mut self) -> std::ops::Range<usize> {
        if self.cursor == 0 {
            self.order.clone_from(&self.train_indices);
            self.order.shuffle(&mut self.shuffle_rng);
        }
        self.cursor..(self.cursor + self.batch_size).min(self.order.len())
    }

    /// The images at `positions` of this epoch's order, augmented as configured.
    fn training_batch(&mut self, positions: std::ops::Range<usize>) -> (ndarray::Array2<f32>, Vec<u8>) {
        let (mut x, labels) = self.dataset.batch(&self.order[positions]);
        if !self.config.augment.is_identity() {
            for mut row in x.rows_mut() {
                augment(row.as_slice_mut().expect("fresh array"), self.dataset.shape, &self.config.augment, &mut self.augment_rng);
            }
        }
        (x, labels)
    }

    /// The update from the gradients the model holds (the batch's, or the
    /// sum of every shard's): the divergence checks, the optimiser step, the
    /// training points and the evaluation points. `end` is where the batch
    /// ended in this epoch's order.
    fn finish_step(&mut self, loss: f32, correct: usize, images: usize, end: usize) -> Result<Tick> {
        // A finite loss can still have an overflowing gradient (huge
        // activations); it would make every weight it touches NaN.
        if let Some((layer, value)) = self.model.first_non_finite_gradient() {
            return Err(self.diverged(format!("the gradient of layer {layer} ({})", self.model.slots()[layer].layer.name()), value));
        }
        let lr = self.config.lr * self.config.schedule.factor(self.step, self.total_steps(), self.steps_per_epoch);
        // Finite gradients can still overflow a weight (a huge rate or
        // penalty): the update is undone from this copy, so the run keeps
        // the last finite weights. A memcpy of the weights costs far less
        // than the step (make bench measures it).
        let guarded = overflow_guard::on();
        if guarded {
            self.model.flat_weights_into(&mut self.before_update);
        }
        self.optimizer.apply_step(&mut self.model, lr, Penalty { l1: self.config.l1, l2: self.config.l2 });
        if let Some((layer, value)) = self.model.first_non_finite_weight().filter(|_| guarded) {
            self.model.set_flat_weights(&self.before_update).expect("copied from this model");
            return Err(self.diverged(format!("a weight of layer {layer} ({})", self.model.slots()[layer].layer.name()), value));
        }

        self.since_eval.add(loss, correct, images);
        self.window.add(loss, correct, images);
        self.step += 1;
        self.examples_seen += images as u64;
        self.cursor = end;
        // A training point every 1/WINDOWS_PER_EPOCH of an epoch (every
        // step for short epochs), and at each epoch's end.
        let per_window = self.steps_per_epoch.div_ceil(WINDOWS_PER_EPOCH).max(1);
        let in_epoch = (self.step - 1) % self.steps_per_epoch + 1;
        if in_epoch.is_multiple_of(per_window) || self.cursor >= self.order.len() {
            self.close_window();
        }
        if self.cursor >= self.order.len() {
            self.cursor = 0;
            self.unfreeze_on_schedule();
        }
        if self.evaluation_due() {
            self.pending_eval = Some(PendingEval::start());
            // Layer health is a report: only the first shard of a
            // data-parallel run measures it (every shard holds the same weights).
            if health::on() && self.shard.index == 0 {
                let record = self.measure_health();
                self.health.push(record);
            }
        }
        Ok(Tick::Trained { images })
    }

    /// Layer health now, on the probe images, while the last step's
    /// gradients and update are still at hand (the update-to-weight ratio
    /// needs the weights the overflow guard copied before it). Public so
    /// `make bench` can time it on its own.
    pub fn measure_health(&mut self) -> health::HealthRecord {
        let (probe, _) = self.dataset.batch(&self.probe);
        let before: &[f32] = if overflow_guard::on() { &self.before_update } else { &[] };
        let (step, epoch) = (self.step, self.epoch());
        health::measure(&mut self.model, probe, before, step, epoch)
    }

    /// The divergence of the coming step, with a rate ten times smaller to try.
    fn diverged(&self, what: String, value: f32) -> Error {
        let lr = self.config.lr;
        Error::Diverged { step: self.step + 1, what, value, lr, suggested: two_significant(lr as f64 / 10.0) as f32 }
    }

    /// True after the step that ends each of the `evals_per_epoch` equal parts of an epoch.
    fn evaluation_due(&self) -> bool {
        let per_epoch = (self.config.evals_per_epoch.max(1) as u64).min(self.steps_per_epoch);
        let local = (self.step - 1) % self.steps_per_epoch + 1;
        local == self.steps_per_epoch || (local * per_epoch) / self.steps_per_epoch > ((local - 1) * per_epoch) / self.steps_per_epoch
    }

    fn evaluate_chunk(&mut self) -> Tick {
        let positions = self.next_eval_chunk();
        let end = positions.end;
        let (x, labels) = self.dataset.batch(&self.val_indices[positions]);
        let logits = self.model.forward(x, &mut Mode::Eval);
        let out = softmax_cross_entropy(&logits, &labels);
        self.close_eval_chunk(out.loss, out.correct, labels.len(), end)
    }

    /// The positions in the validation set of the evaluation's next chunk.
    fn next_eval_chunk(&self) -> std::ops::Range<usize> {
        let pending = self.pending_eval.as_ref().expect("an evaluation is pending");
        pending.position..(pending.position + self.config.eval_chunk).min(self.val_indices.len())
    }

    /// Adds a measured chunk (mean `loss` over `count` images) that ends at
    /// `end`; after the last one, the evaluation's record.
    fn close_eval_chunk(&mut self, loss: f32, correct: usize, count: usize, end: usize) -> Tick {
        let pending = self.pending_eval.as_mut().expect("an evaluation is pending");
        pending.totals.add(loss, correct, count);
        pending.position = end;
        if end < self.val_indices.len() {
            return Tick::Evaluating;
        }
        let (val_loss, val_acc) = pending.totals.means().expect("validation set is not empty");
        self.pending_eval = None;
        let train = self.since_eval.means();
        self.since_eval = Running::default();
        let record = EvalRecord {
            epoch: self.epoch(),
            step: self.step,
            examples_seen: self.examples_seen,
            train_loss: train.map(|t| t.0),
            train_acc: train.map(|t| t.1),
            val_loss,
            val_acc,
            source_acc: self.forgetting.as_mut().and_then(|meter| meter.measure(&self.model)),
        };
        self.evals.push(record);
        if let Some(patience) = self.config.patience() {
            let more_to_come = self.step < self.total_steps();
            self.early_stopping.observe(&record, &mut self.model, patience, more_to_come);
        }
        Tick::Evaluated(record)
    }

    /// Gradual unfreezing: after every `unfreeze_every` completed epochs, the
    /// highest frozen layer with parameters starts learning.
    fn unfreeze_on_schedule(&mut self) {
        let Some(every) = self.config.unfreeze_interval() else { return };
        let epochs_done = self.step / self.steps_per_epoch;
        if !epochs_done.is_multiple_of(every as u64) {
            return;
        }
        let next = (0..self.model.slots().len()).rev().find(|&i| self.model.slots()[i].has_params() && self.model.slots()[i].frozen);
        if let Some(layer) = next {
            self.model.set_frozen(layer, false).expect("the layer has parameters");
        }
    }

    /// Starts measuring forgetting: from now on every evaluation also reports
    /// the accuracy of `base`'s own head, on top of this trainer's current
    /// backbone (every layer but the last), on `source`'s test split. `base`
    /// is the model this trainer was fine-tuned from and `source` the dataset
    /// (classes in the base's output order) it was trained on.
    pub fn meter_forgetting(&mut self, base: &Sequential, source: Arc<Dataset>) -> Result<()> {
        let mut meter = ForgettingMeter::new(&self.model, base, source, self.config.eval_chunk)?;
        // The first record (before any step) was measured without the meter; measure it now.
        if let Some(first) = self.evals.first_mut().filter(|r| r.step == 0) {
            first.source_acc = meter.measure(&self.model);
        }
        self.forgetting = Some(meter);
        Ok(())
    }

    fn close_window(&mut self) {
        if let Some((loss, acc)) = self.window.means() {
            self.windows.push(WindowStats { step: self.step, epoch: self.epoch(), examples_seen: self.examples_seen, loss, acc, steps: self.window.steps });
        }
        self.window = Running::default();
    }

    /// The training points completed since the last call: mean loss and
    /// accuracy over each 1/WINDOWS_PER_EPOCH of an epoch, in order.
    pub fn take_windows(&mut self) -> Vec<WindowStats> {
        std::mem::take(&mut self.windows)
    }

    /// Layer-health records measured since the last call (one per evaluation point).
    pub fn take_health(&mut self) -> Vec<health::HealthRecord> {
        std::mem::take(&mut self.health)
    }

    /// Evaluation records produced since the last call.
    pub fn take_evals(&mut self) -> Vec<EvalRecord> {
        std::mem::take(&mut self.evals)
    }

    /// Loss and accuracy of the current model on a whole split, in one go.
    pub fn evaluate_split(&mut self, split: Split) -> Option<(f32, f32)> {
        let indices = self.dataset.indices(split);
        evaluate(&mut self.model, &self.dataset, &indices, self.config.eval_chunk)
    }
}

/// The overflow guard (the copy of the weights before each update, and the
/// check after it) is always on; the benchmark's build can switch it off to
/// time what it costs, windows alternating (`setOverflowGuard`).
pub mod overflow_guard {
    #[cfg(feature = "bench")]
    static ON: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

    #[cfg(feature = "bench")]
    pub fn set(on: bool) {
        ON.store(on, std::sync::atomic::Ordering::Relaxed);
    }

    #[inline]
    pub fn on() -> bool {
        #[cfg(feature = "bench")]
        return ON.load(std::sync::atomic::Ordering::Relaxed);
        #[cfg(not(feature = "bench"))]
        true
    }
}

/// `x` rounded to two significant digits (0.0333… → 0.033), so a suggested rate reads as one a person would type.
fn two_significant(x: f64) -> f64 {
    if x <= 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(1 - x.log10().floor() as i32);
    (x * scale).round() / scale
}
