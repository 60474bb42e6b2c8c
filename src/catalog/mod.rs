//! The one table of named choices and limits. Every optimiser, initialiser,
//! schedule, domain shift, augmentation transform and preset, model preset
//! (with each layer's role), and the allowed range of every numeric setting is
//! written here once. The core validates with it, the command line parses and
//! documents its options with it, and the page builds its form from it
//! (`catalog()` in the wasm API) — so a new optimiser or a changed limit is
//! an edit here (and, for a new kind of thing, its implementation), not in
//! the page or the command line.

mod images;
mod limit;

pub use images::{augment_presets, shift, ShiftChoice, Transform, SHIFTS, TRANSFORMS};
pub use limit::{limits, renamed, Checked, Limit};

use serde::Serialize;

use crate::data::augment::AugmentConfig;
use crate::error::{Error, Result};
use crate::init::Init;
use crate::model::{preset, ModelSpec};
use crate::nn::{Role, Shape};
use crate::optim::{beta1, beta2, eps, rho, OptimizerSpec, Schedule};

/// A named choice: `name` is how the command line, the URL and the page's
/// form spell it; `label` what a person reads.
#[derive(Debug, Clone, Serialize)]
pub struct Choice<T: 'static> {
    pub name: &'static str,
    pub label: &'static str,
    pub spec: T,
}

/// The same defaults people know from Keras and PyTorch.
pub const OPTIMIZERS: &[Choice<OptimizerSpec>] = &[
    Choice { name: "sgd", label: "SGD", spec: OptimizerSpec::Sgd { momentum: 0.0, nesterov: false } },
    Choice { name: "momentum", label: "SGD + momentum 0.9", spec: OptimizerSpec::Sgd { momentum: 0.9, nesterov: false } },
    Choice { name: "nesterov", label: "SGD + Nesterov 0.9", spec: OptimizerSpec::Sgd { momentum: 0.9, nesterov: true } },
    Choice { name: "adam", label: "Adam", spec: OptimizerSpec::Adam { beta1: beta1(), beta2: beta2(), eps: eps() } },
    Choice { name: "rmsprop", label: "RMSprop", spec: OptimizerSpec::Rmsprop { rho: rho(), eps: eps() } },
    Choice { name: "adagrad", label: "Adagrad", spec: OptimizerSpec::Adagrad { eps: eps() } },
];

/// The learning rate each optimiser is usually started at (the defaults of
/// PyTorch's `torch.optim` where it has one — Adam, RMSprop 1e-3 in Keras
/// and common use, Adagrad 1e-2 — and 0.01 for SGD, Keras's default; PyTorch
/// makes SGD's rate required). The optimisers experiment (MISSION claim 7)
/// trains each at its own.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct UsualRate {
    pub optimizer: &'static str,
    /// f64, so the page reads 0.01 and not its nearest f32, 0.009999999776…
    pub lr: f64,
}

pub const USUAL_RATES: &[UsualRate] = &[
    UsualRate { optimizer: "sgd", lr: 0.01 },
    UsualRate { optimizer: "momentum", lr: 0.01 },
    UsualRate { optimizer: "nesterov", lr: 0.01 },
    UsualRate { optimizer: "adam", lr: 0.001 },
    UsualRate { optimizer: "rmsprop", lr: 0.001 },
    UsualRate { optimizer: "adagrad", lr: 0.01 },
];

/// An initialiser; the plain random ones take a scale, stored in the spec's
/// field `scale_field` (`scale` for uniform, `std` for normal).
#[derive(Debug, Clone, Serialize)]
pub struct InitChoice {
    pub name: &'static str,
    pub label: &'static str,
    pub spec: Init,
    pub scale_field: Option<&'static str>,
    /// Other names the command line accepts (Glorot for Xavier, Kaiming for He).
    pub aliases: &'static [&'static str],
}

pub const INITS: &[InitChoice] = &[
    InitChoice { name: "he-uniform", label: "He uniform (ReLU)", spec: Init::HeUniform, scale_field: None, aliases: &["kaiming-uniform"] },
    InitChoice { name: "he-normal", label: "He normal (ReLU)", spec: Init::HeNormal, scale_field: None, aliases: &["kaiming-normal"] },
    InitChoice { name: "xavier-uniform", label: "Xavier uniform (tanh)", spec: Init::XavierUniform, scale_field: None, aliases: &["glorot-uniform"] },
    InitChoice { name: "xavier-normal", label: "Xavier normal (tanh)", spec: Init::XavierNormal, scale_field: None, aliases: &["glorot-normal"] },
    InitChoice { name: "uniform", label: "Uniform ±scale", spec: Init::Uniform { scale: 0.05 }, scale_field: Some("scale"), aliases: &[] },
    InitChoice { name: "normal", label: "Normal, std = scale", spec: Init::Normal { std: 0.05 }, scale_field: Some("std"), aliases: &[] },
];

pub const SCHEDULES: &[Choice<Schedule>] = &[
    Choice { name: "constant", label: "Constant", spec: Schedule::Constant },
    Choice { name: "step", label: "Step (halve every 2 epochs)", spec: Schedule::Step { every_epochs: 2.0, factor: 0.5 } },
    Choice { name: "cosine", label: "Cosine to 0", spec: Schedule::Cosine { min_factor: 0.0 } },
    Choice { name: "warmup", label: "Linear warm-up (1 epoch)", spec: Schedule::Warmup { epochs: 1.0 } },
    Choice { name: "one-cycle", label: "One-cycle", spec: Schedule::OneCycle },
];

/// A model preset and its layers as built for the shipped 28×28 greyscale,
/// ten-class data without dropout (dropout adds a layer after each hidden
/// activation, which is why experiments name layers by role, not index).
#[derive(Debug, Clone, Serialize)]
pub struct ModelChoice {
    pub name: &'static str,
    pub label: &'static str,
    pub layers: Vec<LayerRoleEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LayerRoleEntry {
    pub layer: &'static str,
    pub role: Option<Role>,
}

pub const MODEL_PRESETS: &[(&str, &str)] = &[
    ("mlp", "MLP 784-128-64-10"),
    ("mlp_deep", "Deep MLP: 8 × 64 ReLU"),
    ("mlp_deep_tanh", "Deep MLP: 8 × 64 tanh"),
    ("lenet5", "LeNet-5 (CNN)"),
    ("lenet5_bn", "LeNet-5 + BatchNorm"),
];

fn model_choices() -> Vec<ModelChoice> {
    MODEL_PRESETS
        .iter()
        .map(|&(name, label)| {
            let spec: ModelSpec = preset(name, Shape::new(1, 28, 28), 10, 0.0).expect("every preset builds");
            let last = spec.layers.len() - 1;
            let layers = spec.layers.iter().enumerate().map(|(i, l)| LayerRoleEntry { layer: l.type_name(), role: l.role(i == last) }).collect();
            ModelChoice { name, label, layers }
        })
        .collect()
}

/// How big a model may be: its weights, gradients and optimiser state (up to
/// four copies of 4 bytes per parameter) and a batch of activations must fit
/// a browser tab's wasm memory.
#[derive(Debug, Clone, Serialize)]
pub struct ModelSize {
    pub max_params: usize,
    /// Values one image may have at a layer's output (LeNet-5's largest: 4,704).
    pub max_features: usize,
}

pub const MODEL_SIZE: ModelSize = ModelSize { max_params: 20_000_000, max_features: 1 << 20 };

/// The rules for a dataset made of the user's own images (`data::images`).
#[derive(Debug, Clone, Serialize)]
pub struct OwnImageRules {
    /// 3 to train, 1 to validate, 1 to test.
    pub min_per_class: usize,
    /// Share of each class held out for validation and again for test (at least one image each).
    pub held_out_share: f64,
    pub max_images: usize,
    pub max_classes: usize,
    pub max_class_name_bytes: usize,
}

pub const OWN_IMAGES: OwnImageRules = OwnImageRules { min_per_class: 5, held_out_share: 0.1, max_images: 10_000, max_classes: 50, max_class_name_bytes: 255 };

/// Everything above in one serialisable object: what `catalog()` hands the page
/// and `finetune-lab catalog` prints.
#[derive(Debug, Clone, Serialize)]
pub struct Catalog {
    pub optimizers: &'static [Choice<OptimizerSpec>],
    pub usual_rates: &'static [UsualRate],
    pub inits: &'static [InitChoice],
    pub schedules: &'static [Choice<Schedule>],
    pub shifts: &'static [ShiftChoice],
    pub transforms: &'static [Transform],
    pub augment_presets: Vec<Choice<AugmentConfig>>,
    pub models: Vec<ModelChoice>,
    pub roles: &'static [Role],
    pub limits: &'static [Limit],
    pub own_images: OwnImageRules,
    pub model_size: ModelSize,
    pub train_pools: &'static [&'static str],
}

pub fn catalog() -> Catalog {
    Catalog {
        optimizers: OPTIMIZERS,
        usual_rates: USUAL_RATES,
        inits: INITS,
        schedules: SCHEDULES,
        shifts: SHIFTS,
        transforms: TRANSFORMS,
        augment_presets: augment_presets(),
        models: model_choices(),
        roles: Role::ALL,
        limits: limits::ALL,
        own_images: OWN_IMAGES,
        model_size: MODEL_SIZE,
        train_pools: TRAIN_POOLS,
    }
}

pub const TRAIN_POOLS: &[&str] = &["all", "source", "target"];

/// Looks `name` up in `table`; the error lists every known name.
fn find<'a, T>(table: &'a [T], name: &str, what: &str, name_of: impl Fn(&T) -> bool, names: impl Iterator<Item = &'static str>) -> Result<&'a T> {
    table.iter().find(|c| name_of(c)).ok_or_else(|| Error::Config(format!("unknown {what} '{name}' (known: {})", names.collect::<Vec<_>>().join(", "))))
}

pub fn optimizer(name: &str) -> Result<OptimizerSpec> {
    find(OPTIMIZERS, name, "optimizer", |c| c.name == name, OPTIMIZERS.iter().map(|c| c.name)).map(|c| c.spec)
}

pub fn schedule(name: &str) -> Result<Schedule> {
    find(SCHEDULES, name, "schedule", |c| c.name == name, SCHEDULES.iter().map(|c| c.name)).map(|c| c.spec)
}

/// An initialiser by name or alias; `scale` goes to the plain random ones.
pub fn init(name: &str, scale: f32) -> Result<Init> {
    let choice = find(INITS, name, "initialiser", |c| c.name == name || c.aliases.contains(&name), INITS.iter().map(|c| c.name))?;
    let init = match choice.spec {
        Init::Uniform { .. } => Init::Uniform { scale },
        Init::Normal { .. } => Init::Normal { std: scale },
        other => other,
    };
    init.validate()?;
    Ok(init)
}

pub fn shift_named(name: &str) -> Result<&'static ShiftChoice> {
    find(SHIFTS, name, "domain shift", |c| c.name == name, SHIFTS.iter().map(|c| c.name))
}

pub fn augment_preset(name: &str) -> Result<AugmentConfig> {
    let presets = augment_presets();
    let names: Vec<&'static str> = presets.iter().map(|c| c.name).collect();
    presets
        .into_iter()
        .find(|c| c.name == name)
        .map(|c| c.spec)
        .ok_or_else(|| Error::Config(format!("unknown augmentation preset '{name}' (known: {})", names.join(", "))))
}

/// Names of a table, for the command line's `--help` and value checks.
pub fn names<T>(table: &[Choice<T>]) -> Vec<&'static str> {
    table.iter().map(|c| c.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_choice_resolves_and_unknown_names_list_the_known_ones() {
        for c in OPTIMIZERS {
            assert_eq!(optimizer(c.name).unwrap(), c.spec);
            c.spec.validate().unwrap();
        }
        for c in SCHEDULES {
            assert_eq!(schedule(c.name).unwrap(), c.spec);
        }
        assert_eq!(init("kaiming-uniform", 0.0).unwrap(), Init::HeUniform);
        assert_eq!(init("normal", 0.2).unwrap(), Init::Normal { std: 0.2 });
        // One usual rate for each optimiser, inside the learning rate's range.
        assert_eq!(USUAL_RATES.iter().map(|r| r.optimizer).collect::<Vec<_>>(), OPTIMIZERS.iter().map(|c| c.name).collect::<Vec<_>>());
        assert!(USUAL_RATES.iter().all(|r| limits::LR.allows(r.lr)));
        let err = optimizer("lion").unwrap_err().to_string();
        assert!(err.contains("lion") && err.contains("adagrad"), "{err}");
        for s in SHIFTS {
            assert!(s.strength.allows(s.strength.default.unwrap()), "{}: default inside its range", s.name);
        }
    }

    #[test]
    fn defaults_in_the_catalog_are_the_configs_defaults() {
        let d = crate::TrainConfig::default();
        assert_eq!(limits::LR.default.map(|v| v as f32), Some(d.lr));
        assert_eq!(limits::BATCH_SIZE.default, Some(d.batch_size as f64));
        assert_eq!(limits::EPOCHS.default, Some(d.epochs as f64));
        assert_eq!(limits::SEED.default, Some(d.seed as f64));
        assert_eq!(limits::EVALS_PER_EPOCH.default, Some(d.evals_per_epoch as f64));
        assert_eq!(limits::EVAL_CHUNK.default, Some(d.eval_chunk as f64));
        assert_eq!(limits::PRETRAINED_LR.default, Some(d.pretrained_lr as f64));
        assert_eq!(limits::DROPOUT.default, Some(d.dropout as f64));
        for limit in limits::ALL {
            if let Some(v) = limit.default {
                assert!(limit.allows(v), "{}: default {v} inside its range", limit.field);
            }
        }
    }

    #[test]
    fn model_presets_name_each_layer_role() {
        let lenet = model_choices().into_iter().find(|m| m.name == "lenet5").unwrap();
        let roles: Vec<Option<Role>> = lenet.layers.iter().map(|l| l.role).collect();
        use Role::*;
        assert_eq!(roles, [Some(Conv), None, None, Some(Conv), None, None, None, Some(Dense), None, Some(Dense), None, Some(Head)]);
        serde_json::to_string(&catalog()).unwrap();
        // Names the catalog lists must be the names the configuration's serde form takes.
        for pool in TRAIN_POOLS {
            serde_json::from_value::<crate::data::TrainPool>(serde_json::json!(pool)).unwrap();
        }
        for s in SHIFTS {
            assert_eq!(serde_json::to_value(s.kind).unwrap(), s.name);
        }
        for (name, _) in MODEL_PRESETS {
            preset(name, Shape::new(1, 28, 28), 10, 0.0).unwrap();
        }
        for role in Role::ALL {
            assert_eq!(serde_json::to_value(role).unwrap(), role.name(), "a role's name is its serialised form");
        }
    }
}
