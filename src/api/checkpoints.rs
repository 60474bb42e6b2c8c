//! A checkpoint file the user brings to the page: what it is (before it is
//! used for anything) and how well it does on a dataset. The CLI's `eval`
//! measures with the same function, so both give identical numbers.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::{to_js, to_js_error, DatasetHandle};
use crate::checkpoint::CheckpointMeta;
use crate::Split;

/// What the page shows of a checkpoint and needs to use it.
#[derive(Serialize)]
struct CheckpointInfo {
    meta: CheckpointMeta,
    /// `[channels, height, width]` of the images it takes.
    input: [usize; 3],
    param_count: usize,
    /// The model’s layers by type, in order.
    layers: Vec<String>,
}

/// `{meta, input, param_count, layers}` of the `.ftlc` bytes in `checkpoint`
/// (`name` appears in errors); a damaged, foreign or future-version file
/// throws a `CheckpointError` saying what is wrong and where.
#[wasm_bindgen(js_name = checkpointInfo)]
pub fn checkpoint_info(name: &str, checkpoint: &[u8]) -> Result<JsValue, JsValue> {
    let checkpoint = crate::decode_checkpoint(name, checkpoint).map_err(to_js_error)?;
    let model = checkpoint.build_model().map_err(to_js_error)?;
    let input = checkpoint.spec.input;
    Ok(to_js(&CheckpointInfo {
        input: [input.channels, input.height, input.width],
        param_count: model.param_count(),
        layers: checkpoint.spec.layers.iter().map(|l| l.type_name().to_string()).collect(),
        meta: checkpoint.meta,
    }))
}

#[wasm_bindgen]
impl DatasetHandle {
    /// The checkpoint measured on this dataset's `split` (`train`,
    /// `validation` or `test`): `{loss, acc, per_class: [{class, images,
    /// acc}], confusion: [[true × predicted]]}`. The dataset must have the
    /// checkpoint's classes (by name) and image shape.
    #[wasm_bindgen(js_name = evaluateCheckpoint)]
    pub fn evaluate_checkpoint(&self, name: &str, checkpoint: &[u8], split: &str) -> Result<JsValue, JsValue> {
        let split = Split::from_name(split).map_err(to_js_error)?;
        let checkpoint = crate::decode_checkpoint(name, checkpoint).map_err(to_js_error)?;
        crate::train::evaluate_checkpoint(&checkpoint, &self.inner, split).map(|report| to_js(&report)).map_err(to_js_error)
    }
}

/// `{layer, kind, shape, values: Float32Array}`: layer `layer`'s weights in a
/// checkpoint (the page shows a base's filters beside the fine-tuned ones).
#[wasm_bindgen(js_name = checkpointLayerWeights)]
pub fn checkpoint_layer_weights(name: &str, checkpoint: &[u8], layer: usize) -> Result<JsValue, JsValue> {
    let checkpoint = crate::decode_checkpoint(name, checkpoint).map_err(to_js_error)?;
    let model = checkpoint.build_model().map_err(to_js_error)?;
    let slot = model.slots().get(layer).ok_or_else(|| to_js_error(crate::error::Error::Config(format!("layer {layer} does not exist in '{name}'"))))?;
    let weight = slot
        .layer
        .params()
        .iter()
        .find(|p| p.kind == crate::nn::ParamKind::Weight)
        .ok_or_else(|| to_js_error(crate::error::Error::Config(format!("layer {layer} of '{name}' has no weights"))))?;
    let out = js_sys::Object::new();
    js_sys::Reflect::set(&out, &"layer".into(), &(layer as u32).into())?;
    js_sys::Reflect::set(&out, &"kind".into(), &slot.layer.name().into())?;
    js_sys::Reflect::set(&out, &"shape".into(), &to_js(&weight.value.shape()))?;
    js_sys::Reflect::set(&out, &"values".into(), &js_sys::Float32Array::from(weight.value.iter().copied().collect::<Vec<_>>().as_slice()).into())?;
    Ok(out.into())
}
