//! The benchmark page's entry points (`www/bench/`), built only with the
//! `bench` cargo feature: switching kernel implementations, timing one GEMM
//! form, and a per-layer profile of a training step.

use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::{to_js, to_js_error, DatasetHandle, TrainerHandle};
use crate::error::Error;
use crate::Split;

/// Names of the kernel implementations in this build ("scalar", "simd128", "relaxed").
#[wasm_bindgen(js_name = availableKernels)]
pub fn available_kernels() -> Vec<String> {
    crate::kernels::available().iter().map(|i| i.name().to_string()).collect()
}

/// Switches every kernel to the named implementation (benchmarks compare them).
#[wasm_bindgen(js_name = setKernel)]
pub fn set_kernel(name: &str) -> Result<(), JsValue> {
    let implementation = crate::kernels::Implementation::from_name(name)
        .ok_or_else(|| to_js_error(Error::Config(format!("kernel '{name}' is not in this build (have: {})", available_kernels().join(", ")))))?;
    crate::kernels::set_active(implementation);
    Ok(())
}

/// Switches the training step's overflow guard (src/train/mod.rs) on or off, to time its cost.
#[wasm_bindgen(js_name = setOverflowGuard)]
pub fn set_overflow_guard(on: bool) {
    crate::train::overflow_guard::set(on);
}

/// Switches layer-health measurement (src/train/health.rs) on or off, to time its cost.
#[wasm_bindgen(js_name = setLayerHealth)]
pub fn set_layer_health(on: bool) {
    crate::train::health::set(on);
}

/// Runs `reps` products of one GEMM form ("nn", "nt", "tn", "tt", or
/// "gathered": A read through offset tables as the convolutions read their
/// images) on fixed pseudo-random `m×k` and `k×n` operands, for the
/// benchmark page to time. Returns a checksum so the work cannot be optimised away.
#[wasm_bindgen(js_name = gemmRepeat)]
pub fn gemm_repeat(form: &str, m: usize, n: usize, k: usize, reps: u32) -> Result<f32, JsValue> {
    let a: Vec<f32> = (0..m * k).map(|i| ((i * 7 % 13) as f32 - 6.0) * 0.1).collect();
    let b: Vec<f32> = (0..k * n).map(|i| ((i * 5 % 11) as f32 - 5.0) * 0.1).collect();
    let mut c = vec![0.0f32; m * n];
    let rows: Vec<u32> = (0..m).map(|i| (i * k) as u32).collect();
    let cols: Vec<u32> = (0..k).map(|p| p as u32).collect();
    for _ in 0..reps {
        match form {
            "nn" => crate::kernels::gemm_nn(m, n, k, &a, &b, &mut c, false),
            "nt" => crate::kernels::gemm_nt(m, n, k, &a, &b, &mut c, false),
            "tn" => crate::kernels::gemm_tn(m, n, k, &a, &b, &mut c, false),
            "tt" => crate::kernels::gemm_tt(m, n, k, &a, &b, &mut c, false),
            "gathered" => crate::kernels::gemm_gathered(m, n, k, &a, &rows, &cols, &b, false, &mut c, false),
            other => return Err(to_js_error(Error::Config(format!("unknown GEMM form '{other}' (nn, nt, tn, tt or gathered)")))),
        }
    }
    Ok(c.iter().sum())
}

/// `performance.now()` of the worker or window this runs in. Both global
/// scopes have a `performance`, but under different types, so it is read as
/// a property of whichever global this is.
fn now_ms() -> f64 {
    let performance = js_sys::Reflect::get(&js_sys::global(), &"performance".into()).expect("every global scope has performance");
    performance.unchecked_into::<web_sys::Performance>().now()
}

/// Where a training step's time goes: mean forward and backward milliseconds
/// per layer over `steps` training steps of the configured model on the
/// dataset's first training images (the benchmark page shows it).
#[wasm_bindgen(js_name = profileLayers)]
pub fn profile_layers(dataset: &DatasetHandle, config: JsValue, steps: u32) -> Result<JsValue, JsValue> {
    use crate::nn::Mode;
    let trainer = TrainerHandle::new(dataset, config)?.inner;
    let config = trainer.config().clone();
    let mut model = crate::Sequential::new(trainer.model().spec(), config.init, config.seed).map_err(to_js_error)?;
    let indices: Vec<usize> = dataset.inner.indices(Split::Train).into_iter().take(config.batch_size.max(1)).collect();
    let (x, labels) = dataset.inner.batch(&indices);
    let mut rng = crate::rng::stream(config.seed, crate::rng::DROPOUT_STREAM);
    let layers = model.slots().len();
    let (mut forward, mut backward) = (vec![0.0f64; layers], vec![0.0f64; layers]);
    for _ in 0..steps.max(1) {
        let mut a = x.clone();
        for (i, slot) in model.slots_mut().iter_mut().enumerate() {
            let t = now_ms();
            a = slot.layer.forward(a, &mut Mode::Train { rng: &mut rng });
            forward[i] += now_ms() - t;
        }
        let mut grad = crate::loss::softmax_cross_entropy(&a, &labels).grad;
        for (i, slot) in model.slots_mut().iter_mut().enumerate().rev() {
            let t = now_ms();
            grad = slot.layer.backward(grad, true, i > 0).unwrap_or_else(|| ndarray::Array2::zeros((0, 0)));
            backward[i] += now_ms() - t;
        }
    }
    #[derive(Serialize)]
    struct LayerTime {
        layer: usize,
        name: &'static str,
        forward_ms: f64,
        backward_ms: f64,
    }
    let n = steps.max(1) as f64;
    let times: Vec<LayerTime> = model
        .slots()
        .iter()
        .enumerate()
        .map(|(i, s)| LayerTime { layer: i, name: s.layer.name(), forward_ms: forward[i] / n, backward_ms: backward[i] / n })
        .collect();
    Ok(to_js(&times))
}

/// FLOPs of one image's training step of the trainer's model (`Sequential::training_flops_per_image`).
#[wasm_bindgen(js_name = trainingFlopsPerImage)]
pub fn training_flops_per_image(trainer: &TrainerHandle) -> f64 {
    trainer.inner.model().training_flops_per_image() as f64
}

/// Measures layer health `reps` times on the trainer's probe, exactly as an
/// evaluation point does, for the benchmark to time apart from training
/// (its share of a run is too small to see in the noise of a side-by-side run).
#[wasm_bindgen(js_name = measureHealth)]
pub fn measure_health(trainer: &mut TrainerHandle, reps: u32) -> usize {
    let mut layers = 0;
    for _ in 0..reps {
        layers += trainer.inner.measure_health().layers.len();
    }
    layers
}

/// Training images in one epoch of the trainer's run.
#[wasm_bindgen(js_name = trainSize)]
pub fn train_size(trainer: &TrainerHandle) -> usize {
    trainer.inner.train_size()
}
