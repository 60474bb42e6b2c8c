//! Layers. Activations travel as `Array2<f32>` of shape `(batch, features)`,
//! where an image-shaped activation stores its features channel-major
//! `(C, H, W)`; each layer knows the `Shape` it receives and produces, so
//! Flatten costs nothing.

mod activation;
mod batchnorm;
mod conv2d;
mod dense;
mod dropout;
mod flatten;
mod pool;
mod spec;

pub use activation::{Activation, ActivationKind};
pub use batchnorm::{BatchNorm, EPS as BATCH_NORM_EPS};
pub use conv2d::Conv2d;
pub use dense::Dense;
pub use dropout::Dropout;
pub use flatten::Flatten;
pub use pool::MaxPool2d;
pub use spec::{LayerSpec, Role};

use ndarray::{Array2, ArrayD};
use serde::{Deserialize, Serialize};

use crate::rng::Rng;

/// The shape of one example's activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shape {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
}

impl Shape {
    pub fn new(channels: usize, height: usize, width: usize) -> Self {
        Shape { channels, height, width }
    }
    /// A plain feature vector.
    pub fn flat(features: usize) -> Self {
        Shape { channels: features, height: 1, width: 1 }
    }
    pub fn len(&self) -> usize {
        self.channels * self.height * self.width
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn is_flat(&self) -> bool {
        self.height == 1 && self.width == 1
    }
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_flat() {
            write!(f, "{}", self.channels)
        } else {
            write!(f, "{}×{}×{}", self.channels, self.height, self.width)
        }
    }
}

/// Whether a forward pass trains (dropout active, caches kept) or evaluates.
pub enum Mode<'a> {
    Train { rng: &'a mut Rng },
    Eval,
}

impl Mode<'_> {
    pub fn is_train(&self) -> bool {
        matches!(self, Mode::Train { .. })
    }
}

/// How the optimiser treats a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamKind {
    /// Trained, with the L1/L2 penalties (weight decay).
    Weight,
    /// Trained without weight decay: biases and BatchNorm's scale γ and
    /// shift β. They are few and set offsets and scales rather than fit the
    /// data, and decaying γ towards zero would only shrink what BatchNorm
    /// normalised.
    NoDecay,
    /// Not trained at all (BatchNorm's running averages), but stored with
    /// the weights in checkpoints.
    Statistic,
}

/// One trainable tensor with its gradient.
#[derive(Debug, Clone)]
pub struct Param {
    pub name: &'static str,
    pub kind: ParamKind,
    pub value: ArrayD<f32>,
    pub grad: ArrayD<f32>,
}

impl Param {
    pub fn new(name: &'static str, kind: ParamKind, shape: &[usize]) -> Self {
        Param { name, kind, value: ArrayD::zeros(shape), grad: ArrayD::zeros(shape) }
    }
    pub fn len(&self) -> usize {
        self.value.len()
    }
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }
    /// Values as a flat slice (parameters are always in standard layout).
    pub fn values(&self) -> &[f32] {
        self.value.as_slice().expect("parameters are contiguous")
    }
    pub fn values_mut(&mut self) -> &mut [f32] {
        self.value.as_slice_mut().expect("parameters are contiguous")
    }
    pub fn grads(&self) -> &[f32] {
        self.grad.as_slice().expect("gradients are contiguous")
    }
    pub fn grads_mut(&mut self) -> &mut [f32] {
        self.grad.as_slice_mut().expect("gradients are contiguous")
    }
    /// Values and gradients together, for optimisers that read one and write the other.
    pub fn split_mut(&mut self) -> (&mut [f32], &[f32]) {
        let grad = self.grad.as_slice().expect("gradients are contiguous");
        let value = self.value.as_slice_mut().expect("parameters are contiguous");
        (value, grad)
    }
}

/// A layer of a sequential model.
///
/// `forward` keeps what `backward` needs when training; `backward` receives the
/// gradient of the loss with respect to this layer's output, *adds* the
/// gradients of its parameters into `Param::grad` when `param_grads` is true
/// (false for frozen layers, which saves the work), returns the gradient
/// with respect to its input when `input_grad` is true, and releases what
/// the forward pass kept. `clear_cache` releases it without a backward pass.
pub trait Layer: Send {
    fn name(&self) -> &'static str;
    fn input_shape(&self) -> Shape;
    fn output_shape(&self) -> Shape;
    fn forward(&mut self, x: Array2<f32>, mode: &mut Mode) -> Array2<f32>;
    fn backward(&mut self, grad_out: Array2<f32>, param_grads: bool, input_grad: bool) -> Option<Array2<f32>>;
    /// Drops what the last training forward pass kept for backward (a step
    /// abandoned after its forward pass); a backward pass then has nothing to work from.
    fn clear_cache(&mut self);
    fn params(&self) -> &[Param] {
        &[]
    }
    fn params_mut(&mut self) -> &mut [Param] {
        &mut []
    }
    /// Told when the layer is frozen or unfrozen (BatchNorm then switches to its running statistics).
    fn set_frozen(&mut self, _frozen: bool) {}
    /// Called once, when the model is built, with the layer that follows:
    /// a layer may hand part of its training work to it (see `absorb_relu`).
    fn fuse_with_next(&mut self, _next: &mut dyn Layer) {}
    /// Asked by a ReLU just before this layer: will this layer rectify its
    /// own input in training passes, exactly as the ReLU would, and pass
    /// gradients only where the ReLU's output is positive? If it answers
    /// true, the ReLU's training passes do nothing — one pass over the
    /// activations less each way. Evaluation passes stay separate, so what
    /// the page shows inside the network is each layer's own output.
    fn absorb_relu(&mut self) -> bool {
        false
    }
}

/// Asserts that a batch has the width this layer expects: a mismatch is a bug
/// in model construction, which validates shapes up front.
pub(crate) fn expect_width(layer: &str, x: &Array2<f32>, shape: Shape) {
    assert_eq!(x.ncols(), shape.len(), "{layer}: input has {} features, expected {shape}", x.ncols());
}

/// `x` in standard (row-major) layout, copied only when it is not already:
/// `as_standard_layout().into_owned()` would copy every activation, every step.
pub(crate) fn standard_layout(x: Array2<f32>) -> Array2<f32> {
    if x.is_standard_layout() {
        x
    } else {
        x.as_standard_layout().into_owned()
    }
}

/// Gradient checks shared by every layer's tests.
#[cfg(test)]
pub(crate) mod gradcheck;
