//! Versioned model checkpoints (`.ftlc`): the model as data, where it came
//! from, and its weights.
//!
//! Little-endian layout:
//!
//! | field      | type                 | notes                                        |
//! |------------|----------------------|----------------------------------------------|
//! | magic      | 4 bytes              | `FTLC`                                       |
//! | version    | u16                  | 1                                            |
//! | spec       | u32 length + JSON    | the `ModelSpec`                              |
//! | metadata   | u32 length + JSON    | `CheckpointMeta`: dataset, classes, seed, …  |
//! | count      | u32                  | number of stored values                      |
//! | weights    | count × f32          | every parameter (and BatchNorm statistic) in layer order |
//!
//! Loading checks every field, builds the model from the spec and checks the
//! parameter count against it before any weight is used.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::init::Init;
use crate::model::{ModelSpec, Sequential};

pub const MAGIC: &[u8; 4] = b"FTLC";
pub const VERSION: u16 = 1;
/// Specs and metadata are small; anything larger is damage, not a model.
const MAX_JSON_BYTES: usize = 1 << 20;

/// Where a checkpoint came from and how good it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointMeta {
    /// Dataset file it was trained on, e.g. `mnist.ftld.gz`.
    pub source_dataset: String,
    /// The classes it predicts, in output order (a subset of the dataset's when trained on some classes).
    pub classes: Vec<String>,
    /// Which images it trained on and which measured `test_acc`.
    pub split: String,
    pub seed: u64,
    pub epochs: u32,
    /// Accuracy on the dataset's test split, restricted to `classes`.
    pub test_acc: f32,
    pub test_images: usize,
    /// The command that made it, to reproduce it.
    pub command: String,
    /// The augmentation its training batches had (absent in files that predate the field: none).
    #[serde(default)]
    pub augment: crate::data::augment::AugmentConfig,
    /// The whole training configuration, for a model trained in the page
    /// (a base made by `pretrain` has its `command` instead, so its file
    /// stays byte-identical to what that command makes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<crate::train::TrainConfig>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    pub spec: ModelSpec,
    pub meta: CheckpointMeta,
    pub weights: Vec<f32>,
}

impl Checkpoint {
    pub fn from_model(model: &Sequential, meta: CheckpointMeta) -> Self {
        Checkpoint { spec: model.spec().clone(), meta, weights: model.flat_weights() }
    }

    /// The model with these weights (its initialiser is irrelevant: every weight is overwritten).
    pub fn build_model(&self) -> Result<Sequential> {
        let mut model = Sequential::new(&self.spec, Init::HeUniform, 0)?;
        model.set_flat_weights(&self.weights)?;
        Ok(model)
    }
}

pub fn encode_checkpoint(checkpoint: &Checkpoint) -> Vec<u8> {
    let spec = serde_json::to_vec(&checkpoint.spec).expect("specs serialise");
    let meta = serde_json::to_vec(&checkpoint.meta).expect("metadata serialises");
    let mut out = Vec::with_capacity(18 + spec.len() + meta.len() + 4 * checkpoint.weights.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    for json in [&spec, &meta] {
        out.extend_from_slice(&(json.len() as u32).to_le_bytes());
        out.extend_from_slice(json);
    }
    out.extend_from_slice(&(checkpoint.weights.len() as u32).to_le_bytes());
    for w in &checkpoint.weights {
        out.extend_from_slice(&w.to_le_bytes());
    }
    out
}

/// Parses and validates a checkpoint; `source_name` appears in every error.
pub fn decode_checkpoint(source_name: &str, bytes: &[u8]) -> Result<Checkpoint> {
    let err = |what: String| Error::Checkpoint { source_name: source_name.to_string(), what };
    let mut at = 0usize;
    let mut take = |n: usize, field: &str| -> Result<&[u8]> {
        if bytes.len() - at < n {
            return Err(err(format!("truncated: the file ends inside field '{field}' at byte {at}")));
        }
        at += n;
        Ok(&bytes[at - n..at])
    };
    if take(4, "magic")? != MAGIC {
        return Err(err("not a Fine-Tune Lab checkpoint (the file does not start with \"FTLC\")".into()));
    }
    let version = u16::from_le_bytes(take(2, "version")?.try_into().expect("two bytes"));
    if version != VERSION {
        return Err(err(format!("checkpoint version {version} is not supported (this build reads version {VERSION})")));
    }
    let mut json = |field: &str| -> Result<Vec<u8>> {
        let len = u32::from_le_bytes(take(4, field)?.try_into().expect("four bytes")) as usize;
        if len > MAX_JSON_BYTES {
            return Err(err(format!("the {field} claims {len} bytes, more than any model needs")));
        }
        Ok(take(len, field)?.to_vec())
    };
    let spec_json = json("model spec")?;
    let meta_json = json("metadata")?;
    let spec: ModelSpec = serde_json::from_slice(&spec_json).map_err(|e| err(format!("the model spec is not valid: {e}")))?;
    let meta: CheckpointMeta = serde_json::from_slice(&meta_json).map_err(|e| err(format!("the metadata is not valid: {e}")))?;
    let count = u32::from_le_bytes(take(4, "parameter count")?.try_into().expect("four bytes")) as usize;
    let model = Sequential::new(&spec, Init::HeUniform, 0).map_err(|e| err(format!("the model spec does not build: {e}")))?;
    if count != model.stored_count() {
        return Err(err(format!("the header says {count} stored values but the model spec has {}", model.stored_count())));
    }
    let remaining = bytes.len() - at;
    if remaining != 4 * count {
        return Err(err(format!("expected {} bytes of weights, found {remaining}", 4 * count)));
    }
    let weights: Vec<f32> = bytes[at..].chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().expect("four bytes"))).collect();
    if let Some(i) = weights.iter().position(|w| !w.is_finite()) {
        return Err(err(format!("weight {i} is {}, not a finite number", weights[i])));
    }
    if model.output_shape().len() != meta.classes.len() {
        return Err(err(format!("the model has {} outputs but the metadata names {} classes", model.output_shape().len(), meta.classes.len())));
    }
    Ok(Checkpoint { spec, meta, weights })
}
