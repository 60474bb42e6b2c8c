//! The run configuration and its validation: every check of a setting on
//! its own lives here (ranges come from the catalog), so the command line and
//! the page get the same answer, naming the field. Checks that need the model
//! or the dataset (a layer that does not exist, a model that does not fit the
//! images) are made when the run is built (`setup.rs`).

use serde::{Deserialize, Serialize};

use crate::catalog::limits;
use crate::data::augment::AugmentConfig;
use crate::data::shift::DomainShift;
use crate::data::TrainPool;
use crate::error::{Error, Result};
use crate::init::Init;
use crate::model::{preset, ModelSpec};
use crate::nn::{Role, Shape};
use crate::optim::{OptimizerSpec, Schedule};

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
    /// How often per epoch the validation set is measured.
    pub evals_per_epoch: u32,
    /// Validation images per unit of work, to keep each unit short.
    pub eval_chunk: usize,
    /// Train on only N training images, if set, taken evenly from every class.
    pub train_limit: Option<usize>,
    /// Train on only K labelled images of each class (the data-economy knob).
    pub labels_per_class: Option<usize>,
    /// Layers (by index) frozen from the start.
    pub freeze: Vec<usize>,
    /// Layers frozen from the start by role (`conv`, `dense`, `norm`, `head`,
    /// or `backbone` for all but the head), whatever the model's layer order.
    pub freeze_roles: Vec<Role>,
    /// How the learning rate changes over the run.
    pub schedule: Schedule,
    /// Stop after this many evaluations without a lower validation loss, and
    /// restore the weights of the best one; 0 or none is off.
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
    /// this many epochs; 0 or none is off.
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
            optimizer: crate::catalog::optimizer("adam").expect("adam is in the catalog"),
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
            freeze_roles: Vec::new(),
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
    /// A configuration from JSON (the page's and the worker protocol's form),
    /// or every problem found in it. A number outside its range is reported
    /// by its field even where it does not fit the field's type (2.5 epochs,
    /// a negative batch size), which serde alone would only call a type
    /// error; that field is then left out so the rest are still checked.
    pub fn from_json(text: &str) -> std::result::Result<TrainConfig, Vec<Error>> {
        let mut value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| vec![Error::Config(format!("the run configuration is not valid JSON: {e}"))])?;
        let mut found = Vec::new();
        if let Some(fields) = value.as_object_mut() {
            for limit in number_limits(fields) {
                let mut path = limit.field.split('.');
                let (top, inner) = (path.next().unwrap_or_default(), path.next());
                let number = match inner {
                    None => fields.get(top),
                    Some(inner) => fields.get(top).and_then(|v| v.get(inner)),
                };
                let Some(number) = number.filter(|v| v.is_number()) else { continue };
                let shown = number.to_string();
                if !limit.allows(number.as_f64().unwrap_or(f64::NAN)) {
                    found.push(Error::Setting { field: limit.field.to_string(), label: limit.label.to_string(), rule: limit.rule(), got: shown });
                    fields.remove(top);
                }
            }
        }
        let config: TrainConfig = match serde_json::from_value(value) {
            Ok(config) => config,
            Err(e) => {
                found.push(Error::Config(format!("the run configuration is not valid: {e}")));
                return Err(found);
            }
        };
        found.extend(config.problems());
        if found.is_empty() {
            Ok(config)
        } else {
            Err(found)
        }
    }

    /// The first problem of [`problems`](Self::problems), if any.
    pub fn validate(&self) -> Result<()> {
        self.problems().into_iter().next().map_or(Ok(()), Err)
    }

    /// Every setting that is out of its range, each error naming its field:
    /// the page marks them all at once.
    pub fn problems(&self) -> Vec<Error> {
        let mut found = Vec::new();
        let mut check = |result: Result<()>| {
            if let Err(e) = result {
                found.push(e);
            }
        };
        check(limits::LR.check(self.lr));
        check(limits::BATCH_SIZE.check(self.batch_size));
        check(limits::EPOCHS.check(self.epochs));
        check(limits::L1.check(self.l1));
        check(limits::L2.check(self.l2));
        check(limits::DROPOUT.check(self.dropout));
        check(limits::SEED.check(self.seed));
        check(limits::EVALS_PER_EPOCH.check(self.evals_per_epoch));
        check(limits::EVAL_CHUNK.check(self.eval_chunk));
        check(limits::PRETRAINED_LR.check(self.pretrained_lr));
        for (limit, value) in [(limits::TRAIN_LIMIT, self.train_limit), (limits::LABELS_PER_CLASS, self.labels_per_class)] {
            if let Some(v) = value {
                check(limit.check(v));
            }
        }
        for (limit, value) in [(limits::EARLY_STOPPING, self.early_stopping), (limits::UNFREEZE_EVERY, self.unfreeze_every)] {
            if let Some(v) = value {
                check(limit.check(v));
            }
        }
        for rate in &self.layer_lr {
            check(limits::LAYER_LR.check(rate.multiplier));
        }
        check(self.init.validate());
        check(self.schedule.validate());
        check(self.augment.validate());
        if let Some(shift) = &self.shift {
            check(shift.validate());
        }
        check(self.optimizer.validate());
        found
    }

    pub fn model_spec(&self, input: Shape, classes: usize) -> Result<ModelSpec> {
        match &self.model_spec {
            Some(spec) => Ok(spec.clone()),
            None => preset(&self.model, input, classes, self.dropout),
        }
    }

    /// Early stopping's patience, if it is on (at least 1).
    pub fn patience(&self) -> Option<u32> {
        self.early_stopping.filter(|&p| p > 0)
    }

    /// Epochs between two steps of gradual unfreezing, if it is on.
    pub fn unfreeze_interval(&self) -> Option<u32> {
        self.unfreeze_every.filter(|&e| e > 0)
    }
}

/// The limits of the plain numbers a configuration's JSON may hold, the
/// shift's strength by its kind.
fn number_limits(fields: &serde_json::Map<String, serde_json::Value>) -> Vec<crate::catalog::Limit> {
    let mut all: Vec<_> = limits::ALL.to_vec();
    all.push(crate::catalog::renamed(limits::INIT_SCALE, "init.std", "initialisation standard deviation"));
    let shift_kind = fields.get("shift").and_then(|s| s.get("kind")).and_then(|k| k.as_str());
    if let Some(shift) = shift_kind.and_then(|k| crate::catalog::shift_named(k).ok()) {
        all.push(shift.strength);
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_name_every_bad_field() {
        let config = TrainConfig { lr: -1.0, dropout: 1.5, epochs: 0, ..TrainConfig::default() };
        let fields: Vec<String> = config
            .problems()
            .into_iter()
            .map(|e| match e {
                Error::Setting { field, .. } => field,
                other => panic!("not a setting error: {other}"),
            })
            .collect();
        assert_eq!(fields, ["lr", "epochs", "dropout"]);
        assert!(TrainConfig::default().validate().is_ok());
    }

    #[test]
    fn numbers_that_do_not_fit_their_type_are_named_too() {
        let problems =
            TrainConfig::from_json(r#"{"epochs": 2.5, "batch_size": -1, "dropout": 2, "lr": 0.01, "shift": {"kind": "blur", "strength": 1.5}}"#).unwrap_err();
        let named: Vec<(String, String)> = problems
            .into_iter()
            .map(|e| match e {
                Error::Setting { field, got, .. } => (field, got),
                other => panic!("not a setting error: {other}"),
            })
            .collect();
        let expect = |f: &str, g: &str| (f.to_string(), g.to_string());
        assert_eq!(named, [expect("batch_size", "-1"), expect("epochs", "2.5"), expect("dropout", "2"), expect("shift.strength", "1.5")]);
        assert!(TrainConfig::from_json(r#"{"epochs": 3}"#).unwrap().epochs == 3);
        let unknown = TrainConfig::from_json(r#"{"colour": 1}"#).unwrap_err();
        assert!(unknown[0].to_string().contains("unknown field `colour`"), "{}", unknown[0]);
    }

    #[test]
    fn zero_switches_early_stopping_and_unfreezing_off() {
        let config = TrainConfig { early_stopping: Some(0), unfreeze_every: Some(0), ..TrainConfig::default() };
        config.validate().unwrap();
        assert_eq!((config.patience(), config.unfreeze_interval()), (None, None));
        assert!(TrainConfig { labels_per_class: Some(0), ..TrainConfig::default() }.validate().is_err());
    }
}
