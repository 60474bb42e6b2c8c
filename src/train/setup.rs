//! Building a run, one named step at a time: the model (from a preset, a
//! spec, or a base model with a new head), the per-layer choices (frozen
//! layers by index or role, learning-rate multipliers, gradual unfreezing),
//! the checks that the model fits the images, and the training images.
//! `describe` runs the same model steps without touching any data, so the
//! page can list a run's layers before it exists.

use serde::Serialize;

use super::config::TrainConfig;
use crate::catalog::{limits, Limit};
use crate::data::{Dataset, Split};
use crate::error::{Error, Result};
use crate::model::{LayerSummary, ModelSpec, Sequential};
use crate::nn::{LayerSpec, Shape};

/// Where a run's weights come from.
pub enum Start<'a> {
    /// Random weights from the configuration's preset or spec.
    Scratch,
    /// A base model's weights; the head is replaced when the classes differ
    /// or `new_head` is set.
    Base { model: &'a Sequential, new_head: bool },
}

/// The run's model, initialised and with its per-layer choices applied;
/// `input` and `classes` are the dataset's. Checks that the model fits.
pub(crate) fn build_model(config: &TrainConfig, input: Shape, classes: usize, start: &Start) -> Result<Sequential> {
    let (spec, copied) = model_spec(config, input, classes, start)?;
    let mut model = Sequential::new(&spec, config.init, config.seed)?;
    if let Start::Base { model: base, .. } = start {
        model.copy_layers_from(base, copied)?;
    }
    apply_layer_choices(&mut model, config, copied)?;
    check_fits(&model, input, classes)?;
    Ok(model)
}

/// The spec to build, and how many of its first layers come from the base.
fn model_spec(config: &TrainConfig, input: Shape, classes: usize, start: &Start) -> Result<(ModelSpec, usize)> {
    match start {
        Start::Scratch => Ok((config.model_spec(input, classes)?, 0)),
        Start::Base { model: base, new_head } => {
            let mut spec = base.spec().clone();
            let replace_head = *new_head || base.output_shape() != Shape::flat(classes);
            if replace_head {
                match spec.layers.last_mut() {
                    Some(LayerSpec::Dense { units, .. }) => *units = classes,
                    _ => return Err(Error::Config("the base model does not end in a dense layer, so its head cannot be replaced".into())),
                }
            }
            let layers = spec.layers.len();
            Ok((spec, if replace_head { layers - 1 } else { layers }))
        }
    }
}

/// Frozen layers (by index and by role), per-layer rates, the slower rate of
/// layers copied from a base (the first `copied`), and gradual unfreezing.
fn apply_layer_choices(model: &mut Sequential, config: &TrainConfig, copied: usize) -> Result<()> {
    for &layer in &config.freeze {
        model.set_frozen(layer, true)?;
    }
    for &role in &config.freeze_roles {
        let chosen = model.layers_with_role(role);
        if chosen.is_empty() {
            return Err(Error::Config(format!("freeze_roles: this model has no layer of role '{}'", role.name())));
        }
        for layer in chosen {
            model.set_frozen(layer, true)?;
        }
    }
    for rate in &config.layer_lr {
        model.set_lr_multiplier(rate.layer, rate.multiplier)?;
    }
    // An explicit per-layer rate wins: the page shows each layer's rate as it is.
    for i in 0..copied {
        if model.slots()[i].has_params() && !config.layer_lr.iter().any(|r| r.layer == i) {
            model.set_lr_multiplier(i, config.pretrained_lr)?;
        }
    }
    if config.unfreeze_interval().is_some() {
        // Everything but the head starts frozen.
        let trainable: Vec<usize> = (0..model.slots().len()).filter(|&i| model.slots()[i].has_params()).collect();
        for &layer in &trainable[..trainable.len().saturating_sub(1)] {
            model.set_frozen(layer, true)?;
        }
    }
    Ok(())
}

fn check_fits(model: &Sequential, input: Shape, classes: usize) -> Result<()> {
    if model.spec().input != input {
        return Err(Error::Config(format!("the model expects input {} but the dataset's images are {input}", model.spec().input)));
    }
    if model.output_shape() != Shape::flat(classes) {
        return Err(Error::Config(format!("the model outputs {} values but the dataset has {classes} classes", model.output_shape())));
    }
    Ok(())
}

/// The images the run learns from: its half of the training split, then K
/// per class, then at most `train_limit`, each taken evenly from every class.
pub(crate) fn training_images(config: &TrainConfig, dataset: &Dataset) -> Result<Vec<usize>> {
    let mut indices = dataset.train_pool(config.train_pool);
    if let Some(k) = config.labels_per_class {
        // K more than a class has would quietly train on fewer, and a K sweep would chart a lie.
        if let Some((class, available)) = smallest_class(dataset, &indices).filter(|&(_, n)| n < k) {
            return Err(fits_data(&limits::LABELS_PER_CLASS, format!("must be at most {available}: class '{class}' has {available} training images"), k));
        }
        indices = dataset.balanced_subset(&indices, k * dataset.classes());
    }
    if let Some(limit) = config.train_limit {
        indices = dataset.balanced_subset(&indices, limit);
    }
    if indices.is_empty() {
        return Err(Error::Config(format!("dataset '{}' has no training images", dataset.name)));
    }
    if config.batch_size > indices.len() {
        let rule = format!("must be at most the {} training images (0 = all of them in one batch)", indices.len());
        return Err(fits_data(&limits::BATCH_SIZE, rule, config.batch_size));
    }
    if dataset.indices(Split::Validation).is_empty() {
        return Err(Error::Config(format!("dataset '{}' has no validation images", dataset.name)));
    }
    Ok(indices)
}

/// The class with the fewest of `indices`, and how many it has.
fn smallest_class(dataset: &Dataset, indices: &[usize]) -> Option<(String, usize)> {
    let mut counts = vec![0usize; dataset.classes()];
    for &i in indices {
        counts[dataset.labels[i] as usize] += 1;
    }
    let (class, &n) = counts.iter().enumerate().min_by_key(|&(_, n)| *n)?;
    Some((dataset.class_names[class].clone(), n))
}

/// A setting within its catalog range that this run's data cannot meet.
fn fits_data(limit: &Limit, rule: String, got: usize) -> Error {
    Error::Setting { field: limit.field.into(), label: limit.label.into(), rule, got: got.to_string() }
}

/// What a run would be, before it exists: its layers with their choices
/// applied, from the specs alone (no images are shifted or sampled).
#[derive(Debug, Clone, Serialize)]
pub struct RunPlan {
    pub layers: Vec<LayerSummary>,
    pub param_count: usize,
}

pub fn describe(config: &TrainConfig, input: Shape, classes: usize, start: &Start) -> Result<RunPlan> {
    config.validate()?;
    let model = build_model(config, input, classes, start)?;
    Ok(RunPlan { layers: model.summaries(), param_count: model.param_count() })
}
