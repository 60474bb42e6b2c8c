//! Sequential models built from a serde `ModelSpec`, the presets, and the
//! per-layer training flags (`frozen`, learning-rate multiplier). Just over
//! 400 lines with its tests: the model, its size checks and its flags are one
//! concept, and the presets are the specs it is tested on.

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::catalog::MODEL_SIZE;
use crate::error::{Error, Result};
use crate::init::Init;
use crate::nn::{Layer, LayerSpec, Mode, Param, ParamKind, Role, Shape};
use crate::rng::{stream, INIT_STREAM};

/// A model as data: the input shape and the layers in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSpec {
    pub input: Shape,
    pub layers: Vec<LayerSpec>,
}

/// The named presets for an input shape and class count. With `dropout > 0`
/// a dropout layer follows every hidden fully connected activation.
///
/// - `mlp`: flatten → 128 → ReLU → 64 → ReLU → classes.
/// - `lenet5`: conv 6@5×5 pad 2 → ReLU → max pool 2 → conv 16@5×5 → ReLU →
///   max pool 2 → flatten → 120 → ReLU → 84 → ReLU → classes
///   (61,706 parameters on 28×28×1 with 10 classes).
/// - `lenet5_bn`: LeNet-5 with batch normalisation after each convolution and
///   hidden dense layer, before its ReLU.
/// - `mlp_deep`, `mlp_deep_tanh`: flatten → 8 × (64 → ReLU or tanh) →
///   classes; deep enough that the initialisation decides whether the
///   signal survives to the last layers (MISSION claim 6).
pub fn preset(name: &str, input: Shape, classes: usize, dropout: f32) -> Result<ModelSpec> {
    let batch_norm = name == "lenet5_bn";
    let tanh = name == "mlp_deep_tanh";
    let hidden = |units: usize, layers: &mut Vec<LayerSpec>| {
        layers.push(LayerSpec::Dense { units, init: None });
        if batch_norm {
            layers.push(LayerSpec::BatchNorm);
        }
        layers.push(if tanh { LayerSpec::Tanh } else { LayerSpec::Relu });
        if dropout > 0.0 {
            layers.push(LayerSpec::Dropout { rate: dropout });
        }
    };
    let mut layers = Vec::new();
    match name {
        "mlp" => {
            layers.push(LayerSpec::Flatten);
            hidden(128, &mut layers);
            hidden(64, &mut layers);
        }
        "mlp_deep" | "mlp_deep_tanh" => {
            layers.push(LayerSpec::Flatten);
            for _ in 0..8 {
                hidden(64, &mut layers);
            }
        }
        "lenet5" | "lenet5_bn" => {
            layers.push(LayerSpec::Conv2d { filters: 6, kernel: 5, stride: 1, padding: 2, init: None });
            if batch_norm {
                layers.push(LayerSpec::BatchNorm);
            }
            layers.push(LayerSpec::Relu);
            layers.push(LayerSpec::MaxPool2d { size: 2, stride: None });
            layers.push(LayerSpec::Conv2d { filters: 16, kernel: 5, stride: 1, padding: 0, init: None });
            if batch_norm {
                layers.push(LayerSpec::BatchNorm);
            }
            layers.push(LayerSpec::Relu);
            layers.push(LayerSpec::MaxPool2d { size: 2, stride: None });
            layers.push(LayerSpec::Flatten);
            hidden(120, &mut layers);
            hidden(84, &mut layers);
        }
        other => {
            let known: Vec<&str> = crate::catalog::MODEL_PRESETS.iter().map(|p| p.0).collect();
            return Err(Error::Config(format!("unknown model preset '{other}' (known: {})", known.join(", "))));
        }
    }
    layers.push(LayerSpec::Dense { units: classes, init: None });
    Ok(ModelSpec { input, layers })
}

/// One layer with its training flags.
pub struct LayerSlot {
    pub layer: Box<dyn Layer>,
    /// What the layer does (conv, dense, norm, head), for layers with parameters.
    pub role: Option<Role>,
    /// A frozen layer's parameters are never changed by the optimiser.
    pub frozen: bool,
    /// Multiplies the learning rate for this layer's parameters.
    pub lr_multiplier: f32,
}

impl LayerSlot {
    pub fn has_params(&self) -> bool {
        self.layer.params().iter().any(|p| p.kind != crate::nn::ParamKind::Statistic)
    }
    pub fn trainable(&self) -> bool {
        self.has_params() && !self.frozen
    }
}

/// What the page shows about each layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerSummary {
    pub index: usize,
    pub name: String,
    pub role: Option<Role>,
    pub output: String,
    pub params: usize,
    pub frozen: bool,
    pub lr_multiplier: f32,
}

pub struct Sequential {
    spec: ModelSpec,
    slots: Vec<LayerSlot>,
}

impl Sequential {
    /// Builds and initialises the model; weights come from the seed's init stream.
    pub fn new(spec: &ModelSpec, default_init: Init, seed: u64) -> Result<Self> {
        default_init.validate()?;
        if spec.input.is_empty() {
            return Err(Error::Model("the input shape has no pixels".into()));
        }
        let most = MODEL_SIZE.max_features;
        if spec.input.len() > most {
            return Err(Error::Model(format!("the input {} has {} values per image; at most {most}", spec.input, spec.input.len())));
        }
        if spec.layers.is_empty() {
            return Err(Error::Model("a model needs at least one layer".into()));
        }
        let mut rng = stream(seed, INIT_STREAM);
        let mut shape = spec.input;
        let mut slots = Vec::with_capacity(spec.layers.len());
        let mut params = 0usize;
        for (i, layer_spec) in spec.layers.iter().enumerate() {
            // A hostile or mistyped spec must be refused before its weights are allocated.
            params = params.saturating_add(layer_spec.param_count(shape));
            if params > MODEL_SIZE.max_params {
                return Err(Error::Model(format!(
                    "layer {i} ({}) brings the model to over {} parameters; at most {} fit a browser's memory",
                    layer_spec.type_name(),
                    MODEL_SIZE.max_params,
                    MODEL_SIZE.max_params
                )));
            }
            let layer = layer_spec.build(shape, default_init, &mut rng).map_err(|e| match e {
                Error::Model(what) => Error::Model(format!("layer {i}: {what}")),
                other => other,
            })?;
            shape = layer.output_shape();
            if shape.len() > most {
                return Err(Error::Model(format!("layer {i} ({}) outputs {shape}, {} values per image; at most {most}", layer_spec.type_name(), shape.len())));
            }
            let role = layer_spec.role(i + 1 == spec.layers.len());
            slots.push(LayerSlot { layer, role, frozen: false, lr_multiplier: 1.0 });
        }
        for i in 1..slots.len() {
            let (before, after) = slots.split_at_mut(i);
            before[i - 1].layer.fuse_with_next(after[0].layer.as_mut());
        }
        Ok(Sequential { spec: spec.clone(), slots })
    }

    pub fn spec(&self) -> &ModelSpec {
        &self.spec
    }
    pub fn slots(&self) -> &[LayerSlot] {
        &self.slots
    }
    pub fn slots_mut(&mut self) -> &mut [LayerSlot] {
        &mut self.slots
    }
    pub fn output_shape(&self) -> Shape {
        self.slots.last().map(|s| s.layer.output_shape()).unwrap_or(self.spec.input)
    }
    /// Trainable parameters (BatchNorm's running statistics are not counted).
    pub fn param_count(&self) -> usize {
        self.params().filter(|p| p.kind != crate::nn::ParamKind::Statistic).map(Param::len).sum()
    }

    /// FLOPs of one image's training step: the forward pass, every layer's
    /// weight gradient (as many as its forward), and every input gradient
    /// above the lowest layer (the first layer's is never needed). The
    /// benchmark's efficiency figure divides by it.
    pub fn training_flops_per_image(&self) -> u64 {
        let mut input = self.spec.input;
        let mut total = 0;
        for (i, (spec, slot)) in self.spec.layers.iter().zip(&self.slots).enumerate() {
            let output = slot.layer.output_shape();
            let forward = spec.forward_flops(input, output);
            total += forward * if i == 0 { 2 } else { 3 };
            input = output;
        }
        total
    }

    /// Every stored value, trainable or not: what a checkpoint holds.
    pub fn stored_count(&self) -> usize {
        self.params().map(Param::len).sum()
    }
    pub fn params(&self) -> impl Iterator<Item = &Param> {
        self.slots.iter().flat_map(|s| s.layer.params())
    }

    /// Layer `index`, if it exists and has parameters; `what` ("to freeze") completes the error.
    fn slot_with_params(&mut self, index: usize, what: &str) -> Result<&mut LayerSlot> {
        let count = self.slots.len();
        let slot = self.slots.get_mut(index).ok_or_else(|| Error::Config(format!("layer {index} does not exist (the model has {count})")))?;
        if !slot.has_params() {
            return Err(Error::Config(format!("layer {index} ({}) has no parameters {what}", slot.layer.name())));
        }
        Ok(slot)
    }

    /// Freezes or unfreezes layer `index` (a layer without parameters cannot be frozen).
    pub fn set_frozen(&mut self, index: usize, frozen: bool) -> Result<()> {
        let slot = self.slot_with_params(index, "to freeze")?;
        slot.frozen = frozen;
        slot.layer.set_frozen(frozen);
        Ok(())
    }

    /// Discriminative learning rates: this layer learns at `multiplier` × the run's rate.
    pub fn set_lr_multiplier(&mut self, index: usize, multiplier: f32) -> Result<()> {
        crate::catalog::limits::LAYER_LR.check(multiplier)?;
        self.slot_with_params(index, "to give a learning rate")?.lr_multiplier = multiplier;
        Ok(())
    }

    /// Indices of the layers a role selects (`backbone`: all with parameters but the head).
    pub fn layers_with_role(&self, selector: Role) -> Vec<usize> {
        self.slots.iter().enumerate().filter(|(_, s)| s.role.is_some_and(|r| selector.selects(r))).map(|(i, _)| i).collect()
    }

    pub fn summaries(&self) -> Vec<LayerSummary> {
        self.slots
            .iter()
            .enumerate()
            .map(|(index, s)| LayerSummary {
                index,
                name: s.layer.name().to_string(),
                role: s.role,
                output: s.layer.output_shape().to_string(),
                params: s.layer.params().iter().filter(|p| p.kind != crate::nn::ParamKind::Statistic).map(Param::len).sum(),
                frozen: s.frozen,
                lr_multiplier: s.lr_multiplier,
            })
            .collect()
    }

    /// The first trainable layer whose gradient holds a NaN or infinity, and that value.
    pub fn first_non_finite_gradient(&self) -> Option<(usize, f32)> {
        self.slots.iter().enumerate().filter(|(_, s)| s.trainable()).find_map(|(i, s)| {
            s.layer.params().iter().filter(|p| p.kind != ParamKind::Statistic).find_map(|p| p.grads().iter().find(|g| !g.is_finite()).map(|&g| (i, g)))
        })
    }

    /// The first layer holding a NaN or infinite parameter value, and that value.
    pub fn first_non_finite_weight(&self) -> Option<(usize, f32)> {
        self.slots.iter().enumerate().find_map(|(i, s)| s.layer.params().iter().find_map(|p| p.values().iter().find(|w| !w.is_finite()).map(|&w| (i, w))))
    }

    /// [`Self::flat_weights`] into a buffer that keeps its allocation between calls.
    pub fn flat_weights_into(&self, out: &mut Vec<f32>) {
        out.clear();
        for p in self.params() {
            out.extend_from_slice(p.values());
        }
    }

    /// Every parameter value in order, for checkpoints and determinism checks.
    pub fn flat_weights(&self) -> Vec<f32> {
        self.params().flat_map(|p| p.values().iter().copied()).collect()
    }

    /// Copies the parameters of the first `layers` layers from `other`, whose
    /// layers must have the same shapes there (a base model being fine-tuned).
    pub fn copy_layers_from(&mut self, other: &Sequential, layers: usize) -> Result<()> {
        if layers > self.slots.len() || layers > other.slots.len() {
            return Err(Error::Model(format!("cannot copy {layers} layers between models of {} and {}", self.slots.len(), other.slots.len())));
        }
        for (i, (mine, theirs)) in self.slots.iter_mut().zip(&other.slots).take(layers).enumerate() {
            let sources = theirs.layer.params();
            let targets = mine.layer.params_mut();
            if sources.len() != targets.len() || sources.iter().zip(targets.iter()).any(|(a, b)| a.value.shape() != b.value.shape()) {
                return Err(Error::Model(format!("layer {i} ({}) has different shapes in the two models", mine.layer.name())));
            }
            for (t, s) in targets.iter_mut().zip(sources) {
                t.value.assign(&s.value);
            }
        }
        Ok(())
    }

    /// Overwrites every parameter from `weights` (in `flat_weights` order).
    pub fn set_flat_weights(&mut self, weights: &[f32]) -> Result<()> {
        if weights.len() != self.stored_count() {
            return Err(Error::Model(format!("{} weights given for a model that stores {}", weights.len(), self.stored_count())));
        }
        let mut rest = weights;
        for slot in &mut self.slots {
            for p in slot.layer.params_mut() {
                let (mine, others) = rest.split_at(p.len());
                p.values_mut().copy_from_slice(mine);
                rest = others;
            }
        }
        Ok(())
    }

    pub fn forward(&mut self, x: Array2<f32>, mode: &mut Mode) -> Array2<f32> {
        self.slots.iter_mut().fold(x, |x, slot| slot.layer.forward(x, mode))
    }

    /// Back-propagates the gradient of the loss with respect to the logits.
    /// Frozen layers pass gradients through without computing their own, and
    /// nothing is propagated below the lowest trainable layer.
    pub fn backward(&mut self, grad: Array2<f32>) {
        let Some(lowest) = self.slots.iter().position(LayerSlot::trainable) else {
            // Nothing trains; still release the caches of the forward pass.
            return self.clear_cache();
        };
        let mut grad = Some(grad);
        for (i, slot) in self.slots.iter_mut().enumerate().rev() {
            // Below the lowest trainable layer no gradient is needed: only the caches go.
            if i < lowest {
                slot.layer.clear_cache();
                continue;
            }
            let incoming = grad.take().unwrap_or_else(|| Array2::zeros((0, slot.layer.output_shape().len())));
            grad = slot.layer.backward(incoming, !slot.frozen, i > lowest);
        }
    }

    /// Drops what every layer's last training forward pass kept for backward
    /// (a step abandoned after its forward pass, e.g. one whose loss diverged).
    pub fn clear_cache(&mut self) {
        for slot in &mut self.slots {
            slot.layer.clear_cache();
        }
    }

    pub fn zero_grads(&mut self) {
        for slot in &mut self.slots {
            for p in slot.layer.params_mut() {
                p.grad.fill(0.0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_have_the_documented_parameter_counts() {
        let mnist = Shape::new(1, 28, 28);
        let lenet = Sequential::new(&preset("lenet5", mnist, 10, 0.0).unwrap(), Init::HeUniform, 1).unwrap();
        assert_eq!(lenet.param_count(), 61_706);
        // conv1 235,200 + conv2 480,000 + dense 96,000 + 20,160 + 1,680 forward
        // FLOPs; conv1 has no input gradient.
        assert_eq!(lenet.training_flops_per_image(), 2 * 235_200 + 3 * (480_000 + 96_000 + 20_160 + 1_680));
        assert_eq!(lenet.output_shape(), Shape::flat(10));
        let bn = Sequential::new(&preset("lenet5_bn", mnist, 10, 0.0).unwrap(), Init::HeUniform, 1).unwrap();
        // γ and β for 6 + 16 channels and 120 + 84 features; running statistics are stored, not trained.
        assert_eq!(bn.param_count(), 61_706 + 2 * (6 + 16 + 120 + 84));
        assert_eq!(bn.stored_count(), 61_706 + 4 * (6 + 16 + 120 + 84));
        let mlp = Sequential::new(&preset("mlp", mnist, 10, 0.5).unwrap(), Init::HeUniform, 1).unwrap();
        assert_eq!(mlp.param_count(), 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10);
    }

    #[test]
    fn spec_round_trips_through_json() {
        let spec = preset("lenet5", Shape::new(1, 28, 28), 10, 0.25).unwrap();
        let json = serde_json::to_string(&spec).unwrap();
        assert_eq!(serde_json::from_str::<ModelSpec>(&json).unwrap(), spec);
    }

    #[test]
    fn a_model_too_big_for_memory_is_refused_before_anything_is_allocated() {
        let huge = ModelSpec { input: Shape::new(1, 28, 28), layers: vec![LayerSpec::Flatten, LayerSpec::Dense { units: usize::MAX / 2, init: None }] };
        let err = Sequential::new(&huge, Init::HeUniform, 1).err().unwrap().to_string();
        assert!(err.contains("layer 1 (dense)") && err.contains("20000000 parameters"), "{err}");
        let wide = ModelSpec { input: Shape::new(1, 28, 28), layers: vec![LayerSpec::Conv2d { filters: 64, kernel: 1, stride: 1, padding: 200, init: None }] };
        let err = Sequential::new(&wide, Init::HeUniform, 1).err().unwrap().to_string();
        assert!(err.contains("layer 0 (conv2d) outputs"), "{err}");
        // Every preset's parameters are counted before it is built, exactly.
        let lenet = preset("lenet5_bn", Shape::new(1, 28, 28), 10, 0.0).unwrap();
        let mut shape = lenet.input;
        let mut counted = 0;
        let model = Sequential::new(&lenet, Init::HeUniform, 1).unwrap();
        for (spec, slot) in lenet.layers.iter().zip(model.slots()) {
            counted += spec.param_count(shape);
            shape = slot.layer.output_shape();
        }
        assert_eq!(counted, model.stored_count());
    }

    #[test]
    fn bad_specs_say_which_layer() {
        let spec = ModelSpec { input: Shape::new(1, 28, 28), layers: vec![LayerSpec::Dense { units: 10, init: None }] };
        let err = Sequential::new(&spec, Init::HeUniform, 1).err().unwrap().to_string();
        assert!(err.contains("layer 0") && err.contains("flatten"), "{err}");
        assert!(preset("resnet", Shape::new(1, 28, 28), 10, 0.0).is_err());
    }
}
