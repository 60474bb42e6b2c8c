//! The allowed range of every numeric setting, and how the core words it.
//! One `Limit` per field of the run configuration; `TrainConfig::validate`
//! checks with them, the page reads them (defaults and ranges of its form),
//! and a value outside one is an `Error::Setting` that names the field.

use serde::Serialize;

use crate::error::{Error, Result};

/// The allowed range of one numeric setting. `field` is its path in the run
/// configuration (`TrainConfig` as JSON); `rule()` words the range the same
/// way for the command line and the page.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Limit {
    pub field: &'static str,
    pub label: &'static str,
    /// The value the page's form starts with: `TrainConfig::default()`'s where
    /// it has one (a test checks they agree); 0 for settings that 0 switches off.
    pub default: Option<f64>,
    pub min: f64,
    pub min_exclusive: bool,
    pub max: Option<f64>,
    pub max_exclusive: bool,
    pub whole: bool,
    /// 0 switches the feature off (early stopping, gradual unfreezing).
    pub zero_is_off: bool,
    /// A noun for the value when it is not a plain number ("a multiplier").
    pub noun: &'static str,
    pub unit: &'static str,
}

impl Limit {
    pub(crate) const ANY: Limit = Limit {
        field: "",
        label: "",
        default: None,
        min: f64::NEG_INFINITY,
        min_exclusive: false,
        max: None,
        max_exclusive: false,
        whole: false,
        zero_is_off: false,
        noun: "",
        unit: "",
    };

    /// "must be a whole number from 1 to 200", "must be greater than 0", …
    pub fn rule(&self) -> String {
        let noun = match (self.whole, self.noun) {
            (true, _) => "a whole number ",
            (false, "") => "",
            (false, noun) => noun,
        };
        let (min, unit) = (self.min, self.unit);
        let off = if self.zero_is_off && min == 0.0 { " (off)" } else { "" };
        match self.max {
            None if self.min_exclusive => format!("must be {noun}greater than {min}{unit}"),
            None => format!("must be {noun}≥ {min}{unit}"),
            Some(max) if self.max_exclusive => format!("must be {noun}at least {min} and below {max}{unit}"),
            Some(max) if self.min_exclusive => format!("must be {noun}greater than {min} and at most {max}{unit}"),
            Some(max) => format!("must be {noun}from {min}{off} to {max}{unit}"),
        }
    }

    pub fn allows(&self, value: f64) -> bool {
        let above = if self.min_exclusive { value > self.min } else { value >= self.min };
        let below = match self.max {
            None => true,
            Some(max) if self.max_exclusive => value < max,
            Some(max) => value <= max,
        };
        value.is_finite() && above && below && (!self.whole || value.fract() == 0.0)
    }

    /// Checks `value`; the error names the field and the rule.
    pub fn check(&self, value: impl Into<Checked>) -> Result<()> {
        let Checked(value, shown) = value.into();
        if self.allows(value) {
            Ok(())
        } else {
            Err(Error::Setting { field: self.field.to_string(), label: self.label.to_string(), rule: self.rule(), got: shown })
        }
    }
}

/// A value to check against a limit, with how it is written back to the user
/// (an `f32` shown as `0.3`, not as the `f64` it widens to).
pub struct Checked(f64, String);

// Every number type a setting has; `as f64` is exact for all of them up to 2⁵³.
macro_rules! checked_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Checked {
            fn from(v: $t) -> Self {
                Checked(v as f64, v.to_string())
            }
        }
    )*};
}
checked_from!(f32, u32, u64, usize);

/// The largest seed a page link or JSON number carries exactly (2⁵³ − 1).
const MAX_EXACT_SEED: f64 = 9_007_199_254_740_991.0;

/// The limits of the run configuration's own numeric fields, by name (see `limit`).
pub mod limits {
    use super::Limit;

    pub const LR: Limit = Limit { field: "lr", label: "learning rate", default: Some(0.001), min: 0.0, min_exclusive: true, ..Limit::ANY };
    pub const BATCH_SIZE: Limit = Limit { field: "batch_size", label: "batch size", default: Some(32.0), min: 0.0, whole: true, ..Limit::ANY };
    pub const EPOCHS: Limit = Limit { field: "epochs", label: "epochs", default: Some(5.0), min: 1.0, max: Some(200.0), whole: true, ..Limit::ANY };
    pub const L1: Limit = Limit { field: "l1", label: "L1", default: Some(0.0), min: 0.0, ..Limit::ANY };
    pub const L2: Limit = Limit { field: "l2", label: "L2", default: Some(0.0), min: 0.0, ..Limit::ANY };
    pub const DROPOUT: Limit = Limit { field: "dropout", label: "dropout", default: Some(0.0), min: 0.0, max: Some(1.0), max_exclusive: true, ..Limit::ANY };
    pub const SEED: Limit = Limit { field: "seed", label: "seed", default: Some(1.0), min: 0.0, max: Some(super::MAX_EXACT_SEED), whole: true, ..Limit::ANY };
    pub const INIT_SCALE: Limit = Limit { field: "init.scale", label: "initialisation scale", default: Some(0.05), min: 0.0, ..Limit::ANY };
    pub const EVALS_PER_EPOCH: Limit =
        Limit { field: "evals_per_epoch", label: "evaluations per epoch", default: Some(4.0), min: 1.0, max: Some(1000.0), whole: true, ..Limit::ANY };
    pub const EVAL_CHUNK: Limit = Limit { field: "eval_chunk", label: "evaluation chunk", default: Some(250.0), min: 1.0, whole: true, ..Limit::ANY };
    pub const TRAIN_LIMIT: Limit = Limit { field: "train_limit", label: "training images", min: 1.0, whole: true, ..Limit::ANY };
    pub const LABELS_PER_CLASS: Limit =
        Limit { field: "labels_per_class", label: "labelled images per class", default: Some(10.0), min: 1.0, max: Some(500.0), whole: true, ..Limit::ANY };
    pub const EARLY_STOPPING: Limit = Limit {
        field: "early_stopping",
        label: "early stopping patience",
        default: Some(0.0),
        min: 0.0,
        max: Some(100.0),
        whole: true,
        zero_is_off: true,
        ..Limit::ANY
    };
    pub const UNFREEZE_EVERY: Limit = Limit {
        field: "unfreeze_every",
        label: "gradual unfreezing interval",
        default: Some(0.0),
        min: 0.0,
        max: Some(200.0),
        whole: true,
        zero_is_off: true,
        unit: " epochs",
        ..Limit::ANY
    };
    pub const PRETRAINED_LR: Limit = Limit {
        field: "pretrained_lr",
        label: "pretrained layers’ learning-rate multiplier",
        default: Some(1.0),
        min: 0.0,
        max: Some(10.0),
        noun: "a multiplier ",
        ..Limit::ANY
    };
    pub const LAYER_LR: Limit = Limit {
        field: "layer_lr.multiplier",
        label: "layer learning-rate multiplier",
        default: Some(1.0),
        min: 0.0,
        max: Some(10.0),
        noun: "a multiplier ",
        ..Limit::ANY
    };
    pub const MOMENTUM: Limit = Limit { field: "optimizer.momentum", label: "momentum", min: 0.0, max: Some(1.0), max_exclusive: true, ..Limit::ANY };
    /// β₁, β₂, ρ: decay rates of running averages.
    pub const DECAY: Limit = Limit { field: "optimizer", label: "decay rate", min: 0.0, max: Some(1.0), max_exclusive: true, ..Limit::ANY };
    pub const EPS: Limit = Limit { field: "optimizer.eps", label: "ε", min: 0.0, min_exclusive: true, ..Limit::ANY };
    pub const PROBABILITY: Limit = Limit { field: "augment", label: "probability", default: Some(0.0), min: 0.0, max: Some(1.0), ..Limit::ANY };

    /// How many workers (shards, src/train/shard.rs) one run trains on: a
    /// setting of the page and the URL, not of the run's configuration (the
    /// page's default is the machine's cores less one).
    pub const WORKERS: Limit = Limit { field: "workers", label: "workers", min: 1.0, max: Some(8.0), whole: true, ..Limit::ANY };

    /// Every limit the page's form uses, in one list.
    pub const ALL: &[Limit] = &[
        LR,
        BATCH_SIZE,
        EPOCHS,
        L1,
        L2,
        DROPOUT,
        SEED,
        INIT_SCALE,
        EVALS_PER_EPOCH,
        EVAL_CHUNK,
        TRAIN_LIMIT,
        LABELS_PER_CLASS,
        EARLY_STOPPING,
        UNFREEZE_EVERY,
        PRETRAINED_LR,
        LAYER_LR,
        MOMENTUM,
        EPS,
        WORKERS,
    ];
}

/// A copy of `limit` for another field (β₁ and β₂ share one range).
pub const fn renamed(limit: Limit, field: &'static str, label: &'static str) -> Limit {
    Limit { field, label, ..limit }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_read_as_the_page_words_them() {
        assert_eq!(limits::LR.rule(), "must be greater than 0");
        assert_eq!(limits::EPOCHS.rule(), "must be a whole number from 1 to 200");
        assert_eq!(limits::DROPOUT.rule(), "must be at least 0 and below 1");
        assert_eq!(limits::EARLY_STOPPING.rule(), "must be a whole number from 0 (off) to 100");
        assert_eq!(limits::PRETRAINED_LR.rule(), "must be a multiplier from 0 to 10");
        assert_eq!(crate::catalog::shift(crate::data::shift::ShiftKind::Blur).strength.rule(), "must be a whole number from 0 to 3 pixels");
        assert_eq!(limits::BATCH_SIZE.rule(), "must be a whole number ≥ 0");
    }

    #[test]
    fn limits_check_bounds_wholeness_and_finiteness() {
        assert!(limits::DROPOUT.check(0.0f32).is_ok());
        let err = limits::DROPOUT.check(1.0f32).unwrap_err();
        assert_eq!(err, Error::Setting { field: "dropout".into(), label: "dropout".into(), rule: "must be at least 0 and below 1".into(), got: "1".into() });
        assert_eq!(err.to_string(), "configuration: dropout (dropout) must be at least 0 and below 1, got 1");
        assert!(limits::LR.check(0.0f32).is_err() && limits::LR.check(f32::NAN).is_err() && limits::LR.check(1e-6f32).is_ok());
        assert!(crate::catalog::shift(crate::data::shift::ShiftKind::Blur).strength.check(1.5f32).is_err());
        assert!(limits::EPOCHS.check(201u32).is_err() && limits::EPOCHS.check(200u32).is_ok());
    }
}
