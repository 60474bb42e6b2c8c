//! Early stopping: remember the weights at the lowest validation loss; after
//! `patience` evaluations without improvement, restore them and stop.

use serde::{Deserialize, Serialize};

use super::metrics::EvalRecord;
use crate::model::Sequential;

#[derive(Default, Clone, Serialize, Deserialize)]
pub(crate) struct EarlyStopping {
    best: Option<Best>,
    evals_since_best: u32,
    pub(crate) stopped: bool,
}

#[derive(Clone, Serialize, Deserialize)]
struct Best {
    step: u64,
    val_loss: f32,
    weights: Vec<f32>,
}

impl EarlyStopping {
    pub(crate) fn best_step(&self) -> Option<u64> {
        self.best.as_ref().map(|b| b.step)
    }

    /// A restored state (src/train/snapshot.rs) fits a model storing `stored` values.
    pub(crate) fn check(&self, stored: usize) -> Result<(), String> {
        match &self.best {
            Some(best) if best.weights.len() != stored => Err(format!("its best weights are {} values; the model stores {stored}", best.weights.len())),
            _ => Ok(()),
        }
    }

    /// Takes in one evaluation of `model`; `more_to_come` is false after the
    /// run's last step (a finished run keeps its final weights).
    pub(crate) fn observe(&mut self, record: &EvalRecord, model: &mut Sequential, patience: u32, more_to_come: bool) {
        if self.best.as_ref().is_none_or(|b| record.val_loss < b.val_loss) {
            self.best = Some(Best { step: record.step, val_loss: record.val_loss, weights: model.flat_weights() });
            self.evals_since_best = 0;
            return;
        }
        self.evals_since_best += 1;
        if self.evals_since_best >= patience && more_to_come {
            let best = self.best.as_ref().expect("set above");
            model.set_flat_weights(&best.weights).expect("same model");
            self.stopped = true;
        }
    }
}
