//! Inside a run, for the page's "Inside the network" panel: predictions for
//! drawn images, a layer's weights, and a held-out split image by image
//! (`src/train/inspect.rs`).

use wasm_bindgen::prelude::*;

use super::{to_js, to_js_error, TrainerHandle};
use crate::Split;

#[wasm_bindgen]
impl TrainerHandle {
    /// Class probabilities for whole images of the run's shape (pixel bytes,
    /// one image after another): one array per image.
    pub fn predict(&mut self, pixels: &[u8]) -> Result<JsValue, JsValue> {
        self.inner.predict(pixels).map(|p| to_js(&p)).map_err(to_js_error)
    }

    /// Layer-health records since the last call: `[{step, epoch, layers:
    /// [{layer, name, act_mean, act_std, dead?, histogram: {min, max, counts},
    /// grad_norm?, weight_norm?, update_ratio?}]}]` (src/train/health.rs).
    #[wasm_bindgen(js_name = takeHealth)]
    pub fn take_health(&mut self) -> JsValue {
        to_js(&self.inner.take_health())
    }

    /// Every layer's output for one image: `[{layer, name, shape, values: Float32Array}]`.
    pub fn activations(&mut self, pixels: &[u8]) -> Result<JsValue, JsValue> {
        let outputs = self.inner.activations(pixels).map_err(to_js_error)?;
        let list = js_sys::Array::new();
        for output in outputs {
            let item = js_sys::Object::new();
            js_sys::Reflect::set(&item, &"layer".into(), &(output.layer as u32).into())?;
            js_sys::Reflect::set(&item, &"name".into(), &output.name.as_str().into())?;
            js_sys::Reflect::set(&item, &"shape".into(), &to_js(&output.shape))?;
            js_sys::Reflect::set(&item, &"values".into(), &js_sys::Float32Array::from(output.values.as_slice()).into())?;
            list.push(&item);
        }
        Ok(list.into())
    }

    /// `{pixels, label}`: test image number `index` of the run's dataset (wrapping around).
    #[wasm_bindgen(js_name = testImage)]
    pub fn test_image(&self, index: usize) -> JsValue {
        let (pixels, label) = self.inner.test_image(index);
        to_js(&serde_json::json!({ "pixels": pixels, "label": label }))
    }

    /// `{layer, kind, shape, values: Float32Array}`: layer `layer`'s weight tensor.
    #[wasm_bindgen(js_name = layerWeights)]
    pub fn layer_weights(&self, layer: usize) -> Result<JsValue, JsValue> {
        let weights = self.inner.layer_weights(layer).map_err(to_js_error)?;
        let out = js_sys::Object::new();
        let set = |key: &str, value: JsValue| js_sys::Reflect::set(&out, &key.into(), &value).map(|_| ());
        set("layer", (weights.layer as u32).into())?;
        set("kind", weights.kind.as_str().into())?;
        set("shape", to_js(&weights.shape))?;
        set("values", js_sys::Float32Array::from(weights.values.as_slice()).into())?;
        Ok(out.into())
    }

    /// `split` (`train`, `validation`, `test`) image by image: `{loss, acc,
    /// per_class, confusion, mistakes: [{index, label, predicted, confidence, pixels}]}`.
    #[wasm_bindgen(js_name = inspectSplit)]
    pub fn inspect_split(&mut self, split: &str, mistakes: usize) -> Result<JsValue, JsValue> {
        let split = Split::from_name(split).map_err(to_js_error)?;
        Ok(to_js(&self.inner.inspect_split(split, mistakes)))
    }
}
