//! The WebAssembly surface, kept thin: every method converts its input with
//! serde, calls the core and converts the result. Core errors become a JS
//! `Error` whose `name` says which kind (`DatasetError`, `ConfigError`,
//! `ModelError`, `ExportError`, `DivergedError`) and whose message says what and where.
//!
//! `bench` (behind the `bench` cargo feature) adds the benchmark page's
//! entry points; the page's own wasm never carries them.

#[cfg(feature = "bench")]
pub mod bench;
mod checkpoints;
mod export;
mod inspect;
mod shard;

pub use checkpoints::{checkpoint_info, checkpoint_layer_weights};
pub use export::{export_onnx, export_safetensors};

use std::sync::Arc;

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::error::Error;
use crate::train::Tick;
use crate::{Dataset, Split, TrainConfig, Trainer};

/// The last panic's message: a panic traps the wasm module, and the worker
/// (which then reports the trap and is replaced) asks for it to say why.
static LAST_PANIC: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        #[cfg(feature = "console_error_panic_hook")]
        console_error_panic_hook::hook(info);
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = Some(info.to_string());
        }
    }));
}

/// The message of the panic that trapped this module, if one did.
#[wasm_bindgen(js_name = lastPanic)]
pub fn last_panic() -> Option<String> {
    LAST_PANIC.lock().ok().and_then(|last| last.clone())
}

/// Which kernel implementation this build runs ("scalar", later "simd128", "relaxed").
#[wasm_bindgen(js_name = kernelBuild)]
pub fn kernel_build() -> String {
    crate::kernels::build_name().to_string()
}

pub(crate) fn to_js_error(e: Error) -> JsValue {
    let name = match e {
        Error::DatasetFormat { .. } => "DatasetError",
        Error::Checkpoint { .. } => "CheckpointError",
        Error::Config(_) | Error::Setting { .. } => "ConfigError",
        Error::Model(_) => "ModelError",
        Error::Export(_) => "ExportError",
        Error::Diverged { .. } => "DivergedError",
        Error::Resume(_) => "ResumeError",
    };
    let err = js_sys::Error::new(&e.to_string());
    err.set_name(name);
    // A setting's error also names the field and the rule, so the page marks that field.
    if let Error::Setting { field, rule, .. } = &e {
        let _ = js_sys::Reflect::set(&err, &"field".into(), &field.into());
        let _ = js_sys::Reflect::set(&err, &"rule".into(), &rule.into());
    }
    err.into()
}

/// The catalog (`src/catalog/`): every named choice and numeric limit, for the page's form.
#[wasm_bindgen]
pub fn catalog() -> JsValue {
    to_js(&crate::catalog::catalog())
}

/// Every problem of a run configuration, as `[{field, rule, got, message}]`
/// (empty when it is fine): a setting out of range names its field; one
/// that is malformed (an unknown field, a word where a number goes) has only
/// a message.
#[wasm_bindgen(js_name = validateConfig)]
pub fn validate_config(config: JsValue) -> Result<JsValue, JsValue> {
    #[derive(Serialize)]
    struct Problem {
        field: Option<String>,
        rule: Option<String>,
        got: Option<String>,
        message: String,
    }
    let problems: Vec<Problem> = TrainConfig::from_json(&config_json(config)?)
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|e| {
            let message = e.to_string();
            match e {
                Error::Setting { field, rule, got, .. } => Problem { field: Some(field), rule: Some(rule), got: Some(got), message },
                _ => Problem { field: None, rule: None, got: None, message },
            }
        })
        .collect();
    Ok(to_js(&problems))
}

/// Plain JS objects: `null` for missing values and numbers (not BigInt) for counters.
pub(crate) fn to_js<T: Serialize>(value: &T) -> JsValue {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).expect("core records serialise")
}

#[wasm_bindgen]
pub struct DatasetHandle {
    pub(crate) inner: Arc<Dataset>,
}

#[wasm_bindgen]
impl DatasetHandle {
    /// Parses and validates a dataset file (gzip-compressed or not); `name` appears in errors.
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(name: &str, bytes: &[u8]) -> Result<DatasetHandle, JsValue> {
        let dataset = crate::decode_dataset(name, bytes).map_err(to_js_error)?;
        Ok(DatasetHandle { inner: Arc::new(dataset) })
    }

    /// A dataset of the user's own images: `classes` is `[{name, files}]`, and
    /// `pixels` holds every image (`channels×height×width` bytes) class after
    /// class in that order. The core decides the split (`data::images`).
    #[wasm_bindgen(js_name = fromImages)]
    pub fn from_images(name: &str, channels: usize, height: usize, width: usize, classes: JsValue, pixels: &[u8]) -> Result<DatasetHandle, JsValue> {
        let json: String = js_sys::JSON::stringify(&classes).map(String::from).unwrap_or_default();
        let classes: Vec<crate::data::images::ImageClass> =
            serde_json::from_str(&json).map_err(|e| to_js_error(Error::dataset(name, format!("the class list is not valid: {e}"))))?;
        let shape = crate::nn::Shape::new(channels, height, width);
        let dataset = crate::data::images::dataset_from_images(name, shape, &classes, pixels).map_err(to_js_error)?;
        Ok(DatasetHandle { inner: Arc::new(dataset) })
    }

    /// The dataset as a `.ftld` file (uncompressed), e.g. to keep the user's images.
    #[wasm_bindgen(js_name = toBytes)]
    pub fn to_bytes(&self) -> Vec<u8> {
        crate::encode_dataset(&self.inner)
    }

    /// What a run on this dataset would be, before it exists (the page's
    /// layers panel): `{layers, param_count}` from the specs alone, no
    /// images touched. `classes` is the run's class count; `checkpoint` (file
    /// bytes, `name` in errors) is the base for fine-tuning, if any.
    #[wasm_bindgen(js_name = describeRun)]
    pub fn describe_run(&self, config: JsValue, classes: usize, name: &str, checkpoint: Option<Vec<u8>>, new_head: bool) -> Result<JsValue, JsValue> {
        use crate::train::{describe, Start};
        let config = parse_config(config)?;
        let base = checkpoint.map(|bytes| crate::decode_checkpoint(name, &bytes).and_then(|c| c.build_model())).transpose().map_err(to_js_error)?;
        let start = match &base {
            Some(model) => Start::Base { model, new_head },
            None => Start::Scratch,
        };
        describe(&config, self.inner.shape, classes, &start).map(|plan| to_js(&plan)).map_err(to_js_error)
    }

    /// Only the images of `classes` (indices), relabelled 0, 1, … in that order.
    #[wasm_bindgen(js_name = withClasses)]
    pub fn with_classes(&self, classes: Vec<usize>) -> Result<DatasetHandle, JsValue> {
        let subset = self.inner.with_classes(&classes).map_err(to_js_error)?;
        Ok(DatasetHandle { inner: Arc::new(subset) })
    }

    /// Augmentation preview: `count` training images as bytes (C×H×W each),
    /// then the same images augmented with `augment` (an AugmentConfig object).
    #[wasm_bindgen(js_name = augmentPreview)]
    pub fn augment_preview(&self, count: usize, augment: JsValue, seed: u32) -> Result<Vec<u8>, JsValue> {
        let json: String = js_sys::JSON::stringify(&augment).map(String::from).unwrap_or_default();
        let config: crate::data::augment::AugmentConfig =
            serde_json::from_str(&json).map_err(|e| to_js_error(Error::Config(format!("augmentation settings: {e}"))))?;
        self.inner.augment_preview(count, &config, seed as u64).map_err(to_js_error)
    }

    /// `{name, images, shape: [c, h, w], classes: [...], splits: {train, validation, test}}`.
    pub fn info(&self) -> JsValue {
        #[derive(Serialize)]
        struct Info<'a> {
            name: &'a str,
            images: usize,
            shape: [usize; 3],
            classes: &'a [String],
            splits: crate::data::SplitSizes,
        }
        let d = &self.inner;
        to_js(&Info {
            name: &d.name,
            images: d.len(),
            shape: [d.shape.channels, d.shape.height, d.shape.width],
            classes: &d.class_names,
            splits: d.split_sizes(),
        })
    }
}

/// Through JSON rather than serde_wasm_bindgen: that one only looks up the
/// fields it knows, so a misspelt option would be silently ignored.
fn parse_config(config: JsValue) -> Result<TrainConfig, JsValue> {
    let json = config_json(config)?;
    TrainConfig::from_json(&json).map_err(|problems| to_js_error(problems.into_iter().next().expect("an error has a problem")))
}

fn config_json(config: JsValue) -> Result<String, JsValue> {
    Ok(js_sys::JSON::stringify(&config).map_err(|_| to_js_error(Error::Config("the run configuration cannot be written as JSON".into())))?.into())
}

#[wasm_bindgen]
pub struct TrainerHandle {
    pub(crate) inner: Trainer,
    /// The data-parallel contribution of the tick under way (a reused buffer).
    pub(crate) contribution: Vec<f32>,
    /// Every shard's contribution of the tick under way, copied in from
    /// shared memory and summed in place (a reused buffer).
    pub(crate) shard_parts: Vec<f32>,
}

impl TrainerHandle {
    pub(crate) fn wrap(inner: Trainer) -> Self {
        TrainerHandle { inner, contribution: Vec::new(), shard_parts: Vec::new() }
    }
}

/// What a tick did, for JS: images trained (> 0), 0 for validation, −1 when the run is complete.
pub(crate) fn tick_code(tick: Tick) -> i32 {
    match tick {
        Tick::Trained { images } => images as i32,
        Tick::Evaluating | Tick::Evaluated(_) => 0,
        Tick::Done => -1,
    }
}

#[wasm_bindgen]
impl TrainerHandle {
    /// `config` is a `TrainConfig` as a plain object; missing fields take their defaults.
    #[wasm_bindgen(constructor)]
    pub fn new(dataset: &DatasetHandle, config: JsValue) -> Result<TrainerHandle, JsValue> {
        let config = parse_config(config)?;
        let inner = Trainer::new(config, dataset.inner.clone()).map_err(to_js_error)?;
        Ok(TrainerHandle::wrap(inner))
    }

    /// Fine-tuning: a trainer that starts from the checkpoint in `checkpoint`
    /// (file bytes; `name` appears in errors), with a new head when the
    /// dataset's classes differ from the checkpoint's or `new_head` is set.
    #[wasm_bindgen(js_name = fromCheckpoint)]
    pub fn from_checkpoint(dataset: &DatasetHandle, config: JsValue, name: &str, checkpoint: &[u8], new_head: bool) -> Result<TrainerHandle, JsValue> {
        let config = parse_config(config)?;
        let checkpoint = crate::decode_checkpoint(name, checkpoint).map_err(to_js_error)?;
        let base = checkpoint.build_model().map_err(to_js_error)?;
        let inner = Trainer::from_base(config, dataset.inner.clone(), &base, new_head).map_err(to_js_error)?;
        Ok(TrainerHandle::wrap(inner))
    }

    /// Attaches the forgetting meter: every evaluation then also reports
    /// `source_acc`, the accuracy of the checkpoint's own head on the current
    /// backbone over `source`'s test split (`source` holds the checkpoint's
    /// classes, in its output order).
    #[wasm_bindgen(js_name = meterForgetting)]
    pub fn meter_forgetting(&mut self, source: &DatasetHandle, name: &str, checkpoint: &[u8]) -> Result<(), JsValue> {
        let checkpoint = crate::decode_checkpoint(name, checkpoint).map_err(to_js_error)?;
        let base = checkpoint.build_model().map_err(to_js_error)?;
        self.inner.meter_forgetting(&base, source.inner.clone()).map_err(to_js_error)
    }

    /// One unit of work: returns the number of images trained (> 0), 0 for a
    /// chunk of validation, or −1 when the run is complete.
    pub fn tick(&mut self) -> Result<i32, JsValue> {
        Ok(tick_code(self.inner.tick().map_err(to_js_error)?))
    }

    /// One training step plus any validation it triggers; returns images trained.
    #[wasm_bindgen(js_name = stepOnce)]
    pub fn step_once(&mut self) -> Result<u32, JsValue> {
        let ticks = self.inner.step_once().map_err(to_js_error)?;
        Ok(ticks.iter().map(|t| if let Tick::Trained { images } = t { *images as u32 } else { 0 }).sum())
    }

    /// The training points completed since the last call (WINDOWS_PER_EPOCH an epoch): `[{step, epoch, examples_seen, loss, acc, steps}]`.
    #[wasm_bindgen(js_name = takeWindows)]
    pub fn take_windows(&mut self) -> JsValue {
        to_js(&self.inner.take_windows())
    }

    /// Validation records since the last call.
    #[wasm_bindgen(js_name = takeEvals)]
    pub fn take_evals(&mut self) -> JsValue {
        to_js(&self.inner.take_evals())
    }

    pub fn status(&self) -> JsValue {
        to_js(&self.inner.status())
    }

    /// One summary per layer: index, name, output shape, parameter count, frozen, learning-rate multiplier.
    pub fn layers(&self) -> JsValue {
        to_js(&self.inner.model().summaries())
    }

    #[wasm_bindgen(js_name = paramCount)]
    pub fn param_count(&self) -> usize {
        self.inner.model().param_count()
    }

    #[wasm_bindgen(js_name = setFrozen)]
    pub fn set_frozen(&mut self, layer: usize, frozen: bool) -> Result<(), JsValue> {
        self.inner.model_mut().set_frozen(layer, frozen).map_err(to_js_error)
    }

    /// Sets one layer's learning-rate multiplier (discriminative rates), also mid-run.
    #[wasm_bindgen(js_name = setLayerLr)]
    pub fn set_layer_lr(&mut self, layer: usize, multiplier: f32) -> Result<(), JsValue> {
        self.inner.model_mut().set_lr_multiplier(layer, multiplier).map_err(to_js_error)
    }

    /// The run's resume point (src/train/snapshot.rs), to continue it in another worker.
    pub fn snapshot(&self) -> Vec<u8> {
        self.inner.snapshot()
    }

    /// Continues from a resume point of this same run; a refused one changes nothing.
    pub fn restore(&mut self, bytes: &[u8]) -> Result<(), JsValue> {
        self.inner.restore(bytes).map_err(to_js_error)
    }

    /// The current model as a `.ftlc` checkpoint file (measures the test
    /// split for its metadata, and records the run's whole configuration and
    /// this build's version after `command`).
    #[wasm_bindgen(js_name = toCheckpoint)]
    pub fn to_checkpoint(&mut self, command: &str) -> Vec<u8> {
        let command = format!("{command}; finetune-lab {}", env!("CARGO_PKG_VERSION"));
        let mut checkpoint = self.inner.checkpoint(None, command);
        checkpoint.meta.config = Some(self.inner.config().clone());
        crate::encode_checkpoint(&checkpoint)
    }

    /// Every parameter value in order (a copy), e.g. to compare two runs.
    pub fn weights(&self) -> Vec<f32> {
        self.inner.model().flat_weights()
    }

    /// `{loss, acc}` on the held-out test split.
    #[wasm_bindgen(js_name = evaluateTest)]
    pub fn evaluate_test(&mut self) -> JsValue {
        #[derive(Serialize)]
        struct Metrics {
            loss: f32,
            acc: f32,
        }
        to_js(&self.inner.evaluate_split(Split::Test).map(|(loss, acc)| Metrics { loss, acc }))
    }
}
