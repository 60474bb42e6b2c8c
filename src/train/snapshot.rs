//! A run's resume point: everything that changes while a run trains, so a
//! run can continue in a fresh trainer (a new worker, after the old one died)
//! exactly as if nothing had happened — the same next batch, the same next
//! weights, bit for bit.
//!
//! What is *not* in it is rebuilt from the run's own description: the
//! dataset and its shift, the configuration, the training and validation
//! images, the forgetting meter. The restoring trainer must be built from
//! that same description; the snapshot carries a fingerprint of it and is
//! refused by any other run.
//!
//! Layout: magic `FTLR`, u16 version (little-endian), then the state in
//! `postcard` (a compact serde format: floats and the generators' 128-bit
//! states are stored exactly).
//!
//! Bytes that come back from the page are not trusted: every length, index
//! and position is checked against the restoring trainer before anything
//! changes, and a refused snapshot leaves the trainer as it was.

use serde::{Deserialize, Serialize};

use super::early_stopping::EarlyStopping;
use super::metrics::{EvalRecord, Running, WindowStats};
use super::{PendingEval, Trainer};
use crate::error::{Error, Result};
use crate::rng::Rng;

pub const MAGIC: &[u8; 4] = b"FTLR";
pub const VERSION: u16 = 2;

#[derive(Serialize, Deserialize)]
struct State {
    /// Which run this belongs to (see [`fingerprint`]).
    run: String,
    weights: Vec<f32>,
    /// Per layer: frozen flag and learning-rate multiplier (both change mid-run).
    frozen: Vec<bool>,
    lr_multipliers: Vec<f32>,
    optimizer_buffers: Vec<Vec<Vec<f32>>>,
    optimizer_steps: Vec<u64>,
    order: Vec<usize>,
    cursor: usize,
    step: u64,
    examples_seen: u64,
    shuffle_rng: Rng,
    dropout_rng: Rng,
    augment_rng: Rng,
    /// An evaluation under way: how far through the validation set, and its sums.
    pending_eval: Option<(usize, Running)>,
    since_eval: Running,
    window: Running,
    windows: Vec<WindowStats>,
    evals: Vec<SavedEval>,
    early_stopping: EarlyStopping,
}

/// An [`EvalRecord`] field for field: the record's JSON form leaves out an
/// absent `source_acc`, which a format without field names cannot read back.
#[derive(Serialize, Deserialize)]
struct SavedEval(f64, u64, u64, Option<f32>, Option<f32>, f32, f32, Option<f32>);

impl From<&EvalRecord> for SavedEval {
    fn from(r: &EvalRecord) -> Self {
        SavedEval(r.epoch, r.step, r.examples_seen, r.train_loss, r.train_acc, r.val_loss, r.val_acc, r.source_acc)
    }
}

impl From<SavedEval> for EvalRecord {
    fn from(SavedEval(epoch, step, examples_seen, train_loss, train_acc, val_loss, val_acc, source_acc): SavedEval) -> Self {
        EvalRecord { epoch, step, examples_seen, train_loss, train_acc, val_loss, val_acc, source_acc }
    }
}

/// What identifies a run: its configuration, its data and its model.
fn fingerprint(trainer: &Trainer) -> String {
    let config = serde_json::to_string(&trainer.config).expect("a configuration serialises");
    let spec = serde_json::to_string(trainer.model.spec()).expect("a model spec serialises");
    format!("{config}|{}|{}|{}|{spec}", trainer.dataset.name, trainer.dataset.len(), trainer.train_indices.len())
}

fn refuse(what: impl Into<String>) -> Error {
    Error::Resume(what.into())
}

impl Trainer {
    /// The run's resume point, as bytes.
    pub fn snapshot(&self) -> Vec<u8> {
        let (optimizer_buffers, optimizer_steps) = self.optimizer.state();
        let state = State {
            run: fingerprint(self),
            weights: self.model.flat_weights(),
            frozen: self.model.slots().iter().map(|s| s.frozen).collect(),
            lr_multipliers: self.model.slots().iter().map(|s| s.lr_multiplier).collect(),
            optimizer_buffers: optimizer_buffers.to_vec(),
            optimizer_steps: optimizer_steps.to_vec(),
            order: self.order.clone(),
            cursor: self.cursor,
            step: self.step,
            examples_seen: self.examples_seen,
            shuffle_rng: self.shuffle_rng.clone(),
            dropout_rng: self.dropout_rng.clone(),
            augment_rng: self.augment_rng.clone(),
            pending_eval: self.pending_eval.as_ref().map(|p| (p.position, p.totals)),
            since_eval: self.since_eval,
            window: self.window,
            windows: self.windows.clone(),
            evals: self.evals.iter().map(SavedEval::from).collect(),
            early_stopping: self.early_stopping.clone(),
        };
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&VERSION.to_le_bytes());
        bytes.extend(postcard::to_allocvec(&state).expect("the state serialises"));
        bytes
    }

    /// Continues from `bytes`, a [`Trainer::snapshot`] of this same run
    /// (built from the same configuration, data and base). Nothing changes
    /// unless every part of it fits.
    pub fn restore(&mut self, bytes: &[u8]) -> Result<()> {
        let state = decode(bytes)?;
        self.check(&state)?;
        for (i, slot) in self.model.slots_mut().iter_mut().enumerate() {
            slot.lr_multiplier = state.lr_multipliers[i];
        }
        for (i, &frozen) in state.frozen.iter().enumerate() {
            if self.model.slots()[i].has_params() {
                self.model.set_frozen(i, frozen).expect("the layer has parameters");
            }
        }
        self.model.set_flat_weights(&state.weights).expect("checked above");
        self.optimizer.restore_state(state.optimizer_buffers, state.optimizer_steps).expect("checked above");
        self.order = state.order;
        self.cursor = state.cursor;
        self.step = state.step;
        self.examples_seen = state.examples_seen;
        self.shuffle_rng = state.shuffle_rng;
        self.dropout_rng = state.dropout_rng;
        self.augment_rng = state.augment_rng;
        self.pending_eval = state.pending_eval.map(|(position, totals)| PendingEval { position, totals });
        self.since_eval = state.since_eval;
        self.window = state.window;
        self.windows = state.windows;
        self.evals = state.evals.into_iter().map(EvalRecord::from).collect();
        self.early_stopping = state.early_stopping;
        Ok(())
    }

    /// Every part of `state` fits this trainer.
    fn check(&self, state: &State) -> Result<()> {
        if state.run != fingerprint(self) {
            return Err(refuse("it belongs to a different run (another configuration, dataset or model)"));
        }
        let slots = self.model.slots().len();
        if state.frozen.len() != slots || state.lr_multipliers.len() != slots {
            return Err(refuse(format!("it describes {} layers; the model has {slots}", state.frozen.len())));
        }
        for (i, &m) in state.lr_multipliers.iter().enumerate() {
            crate::catalog::limits::LAYER_LR.check(m).map_err(|e| refuse(format!("layer {i}'s learning-rate multiplier: {e}")))?;
        }
        if state.weights.len() != self.model.stored_count() {
            return Err(refuse(format!("it holds {} weights; the model stores {}", state.weights.len(), self.model.stored_count())));
        }
        if let Some(i) = state.weights.iter().position(|w| !w.is_finite()) {
            return Err(refuse(format!("weight {i} is not finite")));
        }
        self.optimizer.check_state(&state.optimizer_buffers, &state.optimizer_steps).map_err(refuse)?;
        if !state.order.is_empty() || state.cursor != 0 {
            let mut order = state.order.clone();
            order.sort_unstable();
            let mut train = self.train_indices.clone();
            train.sort_unstable();
            if order != train {
                return Err(refuse("its batch order is not an order of this run's training images"));
            }
            if state.cursor >= order.len() {
                return Err(refuse(format!("its position {} is past the epoch's {} images", state.cursor, order.len())));
            }
        }
        if state.step > self.total_steps() {
            return Err(refuse(format!("it is at step {}; the run has {}", state.step, self.total_steps())));
        }
        if let Some((position, _)) = state.pending_eval {
            if position > self.val_indices.len() {
                return Err(refuse(format!("its evaluation is at image {position} of {}", self.val_indices.len())));
            }
        }
        state.early_stopping.check(self.model.stored_count()).map_err(refuse)
    }
}

fn decode(bytes: &[u8]) -> Result<State> {
    let Some(rest) = bytes.strip_prefix(MAGIC.as_slice()) else {
        return Err(refuse("it does not start with FTLR: not a resume point"));
    };
    let Some((version, body)) = rest.split_first_chunk::<2>() else {
        return Err(refuse("it ends before its version"));
    };
    let version = u16::from_le_bytes(*version);
    if version != VERSION {
        return Err(refuse(format!("version {version}; this build reads version {VERSION}")));
    }
    match postcard::take_from_bytes::<State>(body) {
        Ok((state, [])) => Ok(state),
        Ok((_, extra)) => Err(refuse(format!("{} bytes follow its end", extra.len()))),
        Err(e) => Err(refuse(format!("it is damaged ({e})"))),
    }
}
