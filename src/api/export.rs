//! Models out from the page: the same bytes as `finetune-lab export` for the
//! same checkpoint (both call `crate::export`).

use wasm_bindgen::prelude::*;

use super::to_js_error;

/// The checkpoint in `checkpoint` (`.ftlc` file bytes; `name` appears in
/// errors) as an `.onnx` file: opset 13, input `input` float [N, C, H, W] of
/// pixels / 255, outputs `logits` and `probabilities`. A damaged checkpoint
/// throws a `CheckpointError`.
#[wasm_bindgen(js_name = exportOnnx)]
pub fn export_onnx(name: &str, checkpoint: &[u8]) -> Result<Vec<u8>, JsValue> {
    let checkpoint = crate::decode_checkpoint(name, checkpoint).map_err(to_js_error)?;
    crate::export::to_onnx(&checkpoint).map_err(to_js_error)
}

/// The checkpoint's weights as a `.safetensors` file with PyTorch's
/// state_dict names (`conv1.weight`, `fc1.bias`, `bn1.running_mean`, …).
#[wasm_bindgen(js_name = exportSafetensors)]
pub fn export_safetensors(name: &str, checkpoint: &[u8]) -> Result<Vec<u8>, JsValue> {
    let checkpoint = crate::decode_checkpoint(name, checkpoint).map_err(to_js_error)?;
    crate::export::to_safetensors(&checkpoint).map_err(to_js_error)
}
