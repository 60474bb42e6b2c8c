//! The trainer: runs a configured training job one small unit of work at a
//! time (a training step, or a chunk of the validation set), so a caller that
//! must stay responsive — the Web Worker — can interleave messages between
//! units. No I/O and no clocks here: the caller measures time.

use std::sync::Arc;

use ndarray::Array2;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::data::augment::{augment, AugmentConfig};
use crate::data::shift::DomainShift;
use crate::data::{Dataset, Split, TrainPool};
use crate::error::{Error, Result};
use crate::init::Init;
use crate::loss::softmax_cross_entropy;
use crate::model::{preset, ModelSpec, Sequential};
use crate::nn::{Mode, Shape};
use crate::optim::{OptimizerSpec, OptimizerState, Penalty, Schedule};
use crate::rng::{stream, Rng, AUGMENT_STREAM, DROPOUT_STREAM, SHUFFLE_STREAM};

/// Everything that defines a run. The same seed and configuration give a
/// bit-identical run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// A preset name (`mlp`, `lenet5`), used unless `model_spec` is given.
    pub model: String,
    pub model_spec: Option<ModelSpec>,
    /// Dropout rate inserted after hidden dense layers of a preset.
    pub dropout: f32,
    pub init: Init,
    pub optimizer: OptimizerSpec,
    pub lr: f32,
    /// Images per step; 1 is stochastic gradient descent, 0 (or anything at
    /// least the training set size) is full-batch gradient descent.
    pub batch_size: usize,
    pub epochs: u32,
    pub l1: f32,
    pub l2: f32,
    pub seed: u64,
    /// How often per epoch the validation set is measured (at least once).
    pub evals_per_epoch: u32,
    /// Validation images per unit of work, to keep each unit short.
    pub eval_chunk: usize,
    /// Train on only N training images, if set, taken evenly from every class.
    pub train_limit: Option<usize>,
    /// Train on only K labelled images of each class (the data-economy knob).
    pub labels_per_class: Option<usize>,
    /// Layers (by index) frozen from the start.
    pub freeze: Vec<usize>,
    /// How the learning rate changes over the run.
    pub schedule: Schedule,
    /// Stop after this many evaluations without a lower validation loss, and
    /// restore the weights of the best one.
    pub early_stopping: Option<u32>,
    /// Discriminative learning rates: multiply the rate of these layers.
    pub layer_lr: Vec<LayerRate>,
    /// Fine-tuning: every layer copied from the base model learns at this
    /// multiple of `lr` unless `layer_lr` names it; a new head keeps the full rate.
    pub pretrained_lr: f32,
    /// Data augmentation applied to every training batch (never to validation or test images).
    pub augment: AugmentConfig,
    /// Gradual unfreezing (ULMFiT): start with only the last trainable layer
    /// (the head) learning and unfreeze one more layer, from the top, every
    /// this many epochs.
    pub unfreeze_every: Option<u32>,
    /// Domain shift applied to every image of the dataset (all splits) before the run.
    pub shift: Option<DomainShift>,
    /// Which half of the training split to learn from (domain-shift experiments keep source and target disjoint).
    pub train_pool: TrainPool,
}

/// A learning-rate multiplier for one layer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LayerRate {
    pub layer: usize,
    pub multiplier: f32,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            model: "mlp".into(),
            model_spec: None,
            dropout: 0.0,
            init: Init::HeUniform,
            optimizer: OptimizerSpec::named("adam").expect("known"),
            lr: 0.001,
            batch_size: 32,
            epochs: 5,
            l1: 0.0,
            l2: 0.0,
            seed: 1,
            evals_per_epoch: 4,
            eval_chunk: 250,
            train_limit: None,
            labels_per_class: None,
            freeze: Vec::new(),
            schedule: Schedule::Constant,
            early_stopping: None,
            layer_lr: Vec::new(),
            pretrained_lr: 1.0,
            unfreeze_every: None,
            augment: AugmentConfig::default(),
            shift: None,
            train_pool: TrainPool::All,
        }
    }
}

impl TrainConfig {
    pub fn validate(&self) -> Result<()> {
        let finite_non_negative = |name: &str, v: f32| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(Error::Config(format!("{name} must be a finite number ≥ 0, got {v}")))
            }
        };
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(Error::Config(format!("learning rate must be a positive number, got {}", self.lr)));
        }
        finite_non_negative("l1", self.l1)?;
        finite_non_negative("l2", self.l2)?;
        finite_non_negative("pretrained-layer learning-rate multiplier", self.pretrained_lr)?;
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(Error::Config(format!("dropout must be in [0, 1), got {}", self.dropout)));
        }
        if self.epochs == 0 {
            return Err(Error::Config("epochs must be at least 1".into()));
        }
        if self.eval_chunk == 0 {
            return Err(Error::Config("eval_chunk must be at least 1".into()));
        }
        self.init.validate()?;
        self.schedule.validate()?;
        self.augment.validate()?;
        if let Some(shift) = &self.shift {
            shift.validate()?;
        }
        self.optimizer.validate()
    }

    pub fn model_spec(&self, input: Shape, classes: usize) -> Result<ModelSpec> {
        match &self.model_spec {
            Some(spec) => Ok(spec.clone()),
            None => preset(&self.model, input, classes, self.dropout),
        }
    }
}

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

/// The catastrophic-forgetting meter: the base model's own head and its
/// task's test images, re-measured on the current backbone at every evaluation.
struct ForgettingMeter {
    /// The base model; its backbone is overwritten from the trainee before each measurement.
    source_model: Sequential,
    source: Arc<Dataset>,
    test_indices: Vec<usize>,
}

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

#[derive(Default, Clone, Copy)]
struct Running {
    loss_sum: f64,
    correct: u64,
    count: u64,
    steps: u64,
}

impl Running {
    fn add(&mut self, loss: f32, correct: usize, count: usize) {
        self.loss_sum += loss as f64 * count as f64;
        self.correct += correct as u64;
        self.count += count as u64;
        self.steps += 1;
    }
    fn means(&self) -> Option<(f32, f32)> {
        (self.count > 0).then(|| ((self.loss_sum / self.count as f64) as f32, self.correct as f32 / self.count as f32))
    }
}

struct PendingEval {
    position: usize,
    totals: Running,
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
    window: Running,
    evals: Vec<EvalRecord>,
    /// Lowest validation loss so far, with its weights (kept only with early stopping).
    best: Option<BestSoFar>,
    evals_since_best: u32,
    stopped_early: bool,
    forgetting: Option<ForgettingMeter>,
}

struct BestSoFar {
    step: u64,
    val_loss: f32,
    weights: Vec<f32>,
}

impl Trainer {
    pub fn new(config: TrainConfig, dataset: Arc<Dataset>) -> Result<Self> {
        config.validate()?;
        let spec = config.model_spec(dataset.shape, dataset.classes())?;
        if spec.input != dataset.shape {
            return Err(Error::Config(format!("the model expects input {} but the dataset's images are {}", spec.input, dataset.shape)));
        }
        let model = Sequential::new(&spec, config.init, config.seed)?;
        Self::with_model(config, dataset, model)
    }

    /// Fine-tuning: starts from `base`'s weights. When the dataset's classes
    /// differ from the base's (or `new_head` is set), the last layer is
    /// replaced by a freshly initialised one with one output per class.
    pub fn from_base(config: TrainConfig, dataset: Arc<Dataset>, base: &Sequential, new_head: bool) -> Result<Self> {
        config.validate()?;
        let mut spec = base.spec().clone();
        let replace_head = new_head || base.output_shape() != Shape::flat(dataset.classes());
        if replace_head {
            match spec.layers.last_mut() {
                Some(crate::nn::LayerSpec::Dense { units, .. }) => *units = dataset.classes(),
                _ => return Err(Error::Config("the base model does not end in a dense layer, so its head cannot be replaced".into())),
            }
        }
        let mut model = Sequential::new(&spec, config.init, config.seed)?;
        let keep = if replace_head { model.slots().len() - 1 } else { model.slots().len() };
        model.copy_layers_from(base, keep)?;
        let scale = config.pretrained_lr;
        let explicit: Vec<usize> = config.layer_lr.iter().map(|r| r.layer).collect();
        let mut trainer = Self::with_model(config, dataset, model)?;
        // An explicit per-layer rate wins: the page shows each layer's rate as it is.
        for (i, slot) in trainer.model.slots_mut()[..keep].iter_mut().enumerate() {
            if slot.has_params() && !explicit.contains(&i) {
                slot.lr_multiplier = scale;
            }
        }
        Ok(trainer)
    }

    fn with_model(config: TrainConfig, dataset: Arc<Dataset>, mut model: Sequential) -> Result<Self> {
        let spec = model.spec().clone();
        if spec.input != dataset.shape {
            return Err(Error::Config(format!("the model expects input {} but the dataset's images are {}", spec.input, dataset.shape)));
        }
        for &layer in &config.freeze {
            model.set_frozen(layer, true)?;
        }
        for rate in &config.layer_lr {
            model.set_lr_multiplier(rate.layer, rate.multiplier)?;
        }
        if let Some(every) = config.unfreeze_every {
            if every == 0 {
                return Err(Error::Config("gradual unfreezing needs at least 1 epoch between steps".into()));
            }
            // Everything but the head starts frozen.
            let trainable: Vec<usize> = (0..model.slots().len()).filter(|&i| model.slots()[i].has_params()).collect();
            for &layer in &trainable[..trainable.len().saturating_sub(1)] {
                model.set_frozen(layer, true)?;
            }
        }
        if model.output_shape() != Shape::flat(dataset.classes()) {
            return Err(Error::Config(format!("the model outputs {} values but the dataset has {} classes", model.output_shape(), dataset.classes())));
        }
        let optimizer = OptimizerState::new(config.optimizer, &model)?;
        let dataset = match &config.shift {
            Some(shift) => Arc::new(shift.apply_to(&dataset)?),
            None => dataset,
        };
        let mut train_indices = dataset.train_pool(config.train_pool);
        if let Some(k) = config.labels_per_class {
            if k == 0 {
                return Err(Error::Config("labels per class must be at least 1".into()));
            }
            train_indices = dataset.balanced_subset(&train_indices, k * dataset.classes());
        }
        if let Some(limit) = config.train_limit {
            train_indices = dataset.balanced_subset(&train_indices, limit);
        }
        let val_indices = dataset.indices(Split::Validation);
        if train_indices.is_empty() {
            return Err(Error::Config(format!("dataset '{}' has no training images", dataset.name)));
        }
        if val_indices.is_empty() {
            return Err(Error::Config(format!("dataset '{}' has no validation images", dataset.name)));
        }
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
            val_indices,
            batch_size,
            steps_per_epoch,
            step: 0,
            cursor: 0,
            examples_seen: 0,
            // Measure the untrained model first, so every chart starts at step 0.
            pending_eval: Some(PendingEval { position: 0, totals: Running::default() }),
            since_eval: Running::default(),
            window: Running::default(),
            evals: Vec::new(),
            best: None,
            evals_since_best: 0,
            stopped_early: false,
            forgetting: None,
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
        (self.stopped_early || self.step >= self.total_steps()) && self.pending_eval.is_none()
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
            stopped_early: self.stopped_early,
            best_step: self.best.as_ref().map(|b| b.step),
        }
    }

    fn epoch(&self) -> f64 {
        self.step as f64 / self.steps_per_epoch as f64
    }

    /// Does one unit of work. A non-finite loss stops the step before the
    /// weights change and is reported as [`Error::Diverged`].
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
        if self.cursor == 0 {
            self.order.clone_from(&self.train_indices);
            self.order.shuffle(&mut self.shuffle_rng);
        }
        let end = (self.cursor + self.batch_size).min(self.order.len());
        let (mut x, labels) = self.dataset.batch(&self.order[self.cursor..end]);
        let images = labels.len();
        if !self.config.augment.is_identity() {
            for mut row in x.rows_mut() {
                augment(row.as_slice_mut().expect("fresh array"), self.dataset.shape, &self.config.augment, &mut self.augment_rng);
            }
        }

        self.model.zero_grads();
        let logits = self.model.forward(x, &mut Mode::Train { rng: &mut self.dropout_rng });
        let out = softmax_cross_entropy(&logits, &labels);
        if !out.loss.is_finite() {
            // Drop the caches of this forward pass; the weights are untouched.
            self.model.backward(Array2::zeros(logits.raw_dim()));
            self.model.zero_grads();
            return Err(Error::Diverged { step: self.step + 1, loss: out.loss });
        }
        self.model.backward(out.grad);
        let lr = self.config.lr * self.config.schedule.factor(self.step, self.total_steps(), self.steps_per_epoch);
        self.optimizer.apply_step(&mut self.model, lr, Penalty { l1: self.config.l1, l2: self.config.l2 });

        self.since_eval.add(out.loss, out.correct, images);
        self.window.add(out.loss, out.correct, images);
        self.step += 1;
        self.examples_seen += images as u64;
        self.cursor = end;
        if self.cursor >= self.order.len() {
            self.cursor = 0;
            self.unfreeze_on_schedule();
        }
        if self.evaluation_due() {
            self.pending_eval = Some(PendingEval { position: 0, totals: Running::default() });
        }
        Ok(Tick::Trained { images })
    }

    /// True after the step that ends each of the `evals_per_epoch` equal parts of an epoch.
    fn evaluation_due(&self) -> bool {
        let per_epoch = (self.config.evals_per_epoch.max(1) as u64).min(self.steps_per_epoch);
        let local = (self.step - 1) % self.steps_per_epoch + 1;
        local == self.steps_per_epoch || (local * per_epoch) / self.steps_per_epoch > ((local - 1) * per_epoch) / self.steps_per_epoch
    }

    fn evaluate_chunk(&mut self) -> Tick {
        let pending = self.pending_eval.as_mut().expect("an evaluation is pending");
        let end = (pending.position + self.config.eval_chunk).min(self.val_indices.len());
        let (x, labels) = self.dataset.batch(&self.val_indices[pending.position..end]);
        let logits = self.model.forward(x, &mut Mode::Eval);
        let out = softmax_cross_entropy(&logits, &labels);
        pending.totals.add(out.loss, out.correct, labels.len());
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
            source_acc: self.measure_forgetting(),
        };
        self.evals.push(record);
        self.track_best(record);
        Tick::Evaluated(record)
    }

    /// Gradual unfreezing: after every `unfreeze_every` completed epochs, the
    /// highest frozen layer with parameters starts learning.
    fn unfreeze_on_schedule(&mut self) {
        let Some(every) = self.config.unfreeze_every else { return };
        let epochs_done = self.step / self.steps_per_epoch;
        if epochs_done % every as u64 != 0 {
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
        let backbone = self.model.slots().len() - 1;
        let mut source_model = Sequential::new(base.spec(), self.config.init, 0)?;
        source_model.copy_layers_from(base, base.slots().len())?;
        source_model
            .copy_layers_from(&self.model, backbone)
            .map_err(|_| Error::Config("the forgetting meter needs the fine-tuned model to share the base's backbone".into()))?;
        if source_model.output_shape() != Shape::flat(source.classes()) {
            return Err(Error::Config(format!(
                "the base model has {} outputs but the source dataset has {} classes",
                source_model.output_shape(),
                source.classes()
            )));
        }
        let test_indices = source.indices(Split::Test);
        if test_indices.is_empty() {
            return Err(Error::Config("the source dataset has no test images to measure forgetting on".into()));
        }
        self.forgetting = Some(ForgettingMeter { source_model, source, test_indices });
        // The first record (before any step) was measured without the meter; measure it now.
        if let Some(first) = self.evals.first_mut().filter(|r| r.step == 0) {
            let meter = self.forgetting.as_mut().expect("just set");
            first.source_acc = evaluate(&mut meter.source_model, &meter.source, &meter.test_indices, self.config.eval_chunk).map(|m| m.1);
        }
        Ok(())
    }

    fn measure_forgetting(&mut self) -> Option<f32> {
        let meter = self.forgetting.as_mut()?;
        let backbone = self.model.slots().len() - 1;
        meter.source_model.copy_layers_from(&self.model, backbone).expect("checked when the meter was attached");
        evaluate(&mut meter.source_model, &meter.source, &meter.test_indices, self.config.eval_chunk).map(|m| m.1)
    }

    /// Early stopping: remember the weights at the lowest validation loss; after
    /// `patience` evaluations without improvement, restore them and stop.
    fn track_best(&mut self, record: EvalRecord) {
        let Some(patience) = self.config.early_stopping else { return };
        if self.best.as_ref().is_none_or(|b| record.val_loss < b.val_loss) {
            self.best = Some(BestSoFar { step: record.step, val_loss: record.val_loss, weights: self.model.flat_weights() });
            self.evals_since_best = 0;
            return;
        }
        self.evals_since_best += 1;
        if self.evals_since_best >= patience.max(1) && self.step < self.total_steps() {
            let best = self.best.as_ref().expect("set above");
            self.model.set_flat_weights(&best.weights).expect("same model");
            self.stopped_early = true;
        }
    }

    /// Mean training loss and accuracy since the last call, if any step ran.
    pub fn take_window(&mut self) -> Option<WindowStats> {
        let (loss, acc) = self.window.means()?;
        let stats = WindowStats { step: self.step, epoch: self.epoch(), examples_seen: self.examples_seen, loss, acc, steps: self.window.steps };
        self.window = Running::default();
        Some(stats)
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

/// Mean loss and accuracy of `model` on the images at `indices`.
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
        for (predicted, &label) in crate::loss::predictions(&logits).into_iter().zip(&labels) {
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
