//! Serde-able layer configurations. The same spec travels in presets, the
//! worker protocol and checkpoints, and builds the layer.

use serde::{Deserialize, Serialize};

use super::{Activation, ActivationKind, BatchNorm, Conv2d, Dense, Dropout, Flatten, Layer, MaxPool2d, Shape};
use crate::error::{Error, Result};
use crate::init::Init;
use crate::rng::Rng;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LayerSpec {
    /// Fully connected layer; `init` overrides the model's default initialiser.
    Dense {
        units: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        init: Option<Init>,
    },
    Conv2d {
        filters: usize,
        kernel: usize,
        #[serde(default = "one")]
        stride: usize,
        #[serde(default)]
        padding: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        init: Option<Init>,
    },
    MaxPool2d {
        size: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stride: Option<usize>,
    },
    Flatten,
    Relu,
    LeakyRelu {
        #[serde(default = "default_leak")]
        alpha: f32,
    },
    Tanh,
    Sigmoid,
    Dropout {
        rate: f32,
    },
    BatchNorm,
}

/// What a layer with parameters does in the network, so that experiments
/// and the page can say "freeze the convolutions" or "train only the head"
/// without knowing a preset's layer order. `Backbone` is never a layer's own
/// role: it selects every layer with parameters except the head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Conv,
    Dense,
    Norm,
    Head,
    Backbone,
}

impl Role {
    pub const ALL: &'static [Role] = &[Role::Conv, Role::Dense, Role::Norm, Role::Head, Role::Backbone];

    /// The role's name, as serialised and as the command line spells it.
    pub fn name(self) -> &'static str {
        match self {
            Role::Conv => "conv",
            Role::Dense => "dense",
            Role::Norm => "norm",
            Role::Head => "head",
            Role::Backbone => "backbone",
        }
    }

    /// Whether a selector (`self`) picks a layer whose own role is `layer`.
    pub fn selects(self, layer: Role) -> bool {
        self == layer || (self == Role::Backbone && layer != Role::Head)
    }
}

fn one() -> usize {
    1
}
fn default_leak() -> f32 {
    0.01
}

impl LayerSpec {
    /// The layer's type as serialised (`conv2d`, `dense`, …).
    pub fn type_name(&self) -> &'static str {
        match self {
            LayerSpec::Dense { .. } => "dense",
            LayerSpec::Conv2d { .. } => "conv2d",
            LayerSpec::MaxPool2d { .. } => "max_pool2d",
            LayerSpec::Flatten => "flatten",
            LayerSpec::Relu => "relu",
            LayerSpec::LeakyRelu { .. } => "leaky_relu",
            LayerSpec::Tanh => "tanh",
            LayerSpec::Sigmoid => "sigmoid",
            LayerSpec::Dropout { .. } => "dropout",
            LayerSpec::BatchNorm => "batch_norm",
        }
    }

    /// FLOPs (2 per multiply-add) of one image's forward pass through this
    /// layer from `input` to `output`: the convolutions' and dense layers'
    /// products; element-wise layers count 0.
    pub fn forward_flops(&self, input: Shape, output: Shape) -> u64 {
        match self {
            LayerSpec::Conv2d { kernel, .. } => 2 * output.len() as u64 * (input.channels * kernel * kernel) as u64,
            LayerSpec::Dense { .. } => 2 * (input.len() * output.len()) as u64,
            _ => 0,
        }
    }

    /// Parameters (stored values) the layer would have on an input of `input`
    /// shape, computed without building it; saturates rather than overflows.
    pub fn param_count(&self, input: Shape) -> usize {
        match *self {
            LayerSpec::Dense { units, .. } => input.len().saturating_mul(units).saturating_add(units),
            LayerSpec::Conv2d { filters, kernel, .. } => {
                input.channels.saturating_mul(kernel).saturating_mul(kernel).saturating_mul(filters).saturating_add(filters)
            }
            LayerSpec::BatchNorm => input.channels.saturating_mul(4),
            _ => 0,
        }
    }

    /// The layer's role, for layers with parameters; the last dense layer of
    /// a model (`is_last`) is its head.
    pub fn role(&self, is_last: bool) -> Option<Role> {
        match self {
            LayerSpec::Dense { .. } if is_last => Some(Role::Head),
            LayerSpec::Dense { .. } => Some(Role::Dense),
            LayerSpec::Conv2d { .. } => Some(Role::Conv),
            LayerSpec::BatchNorm => Some(Role::Norm),
            _ => None,
        }
    }

    /// Builds the layer for an input of `input` shape, initialising its
    /// weights with its own initialiser or `default_init`.
    pub fn build(&self, input: Shape, default_init: Init, rng: &mut Rng) -> Result<Box<dyn Layer>> {
        Ok(match *self {
            LayerSpec::Dense { units, init } => {
                if !input.is_flat() {
                    return Err(Error::Model(format!("dense layer needs a flat input but receives {input}; put a flatten layer before it")));
                }
                if units == 0 {
                    return Err(Error::Model("dense layer needs at least one unit".into()));
                }
                let init = init.unwrap_or(default_init);
                init.validate()?;
                Box::new(Dense::new(input.len(), units, init, rng))
            }
            LayerSpec::Conv2d { filters, kernel, stride, padding, init } => {
                if filters == 0 || kernel == 0 || stride == 0 {
                    return Err(Error::Model("conv2d needs filters, kernel and stride of at least 1".into()));
                }
                if input.height + 2 * padding < kernel || input.width + 2 * padding < kernel {
                    return Err(Error::Model(format!("conv2d kernel {kernel}×{kernel} does not fit input {input} with padding {padding}")));
                }
                let init = init.unwrap_or(default_init);
                init.validate()?;
                Box::new(Conv2d::new(input, filters, kernel, stride, padding, init, rng))
            }
            LayerSpec::MaxPool2d { size, stride } => {
                let stride = stride.unwrap_or(size);
                if size == 0 || stride == 0 || input.height < size || input.width < size {
                    return Err(Error::Model(format!("max pool {size}×{size} does not fit input {input}")));
                }
                Box::new(MaxPool2d::new(input, size, stride))
            }
            LayerSpec::Flatten => Box::new(Flatten::new(input)),
            LayerSpec::Relu => Box::new(Activation::new(ActivationKind::Relu, input)),
            LayerSpec::LeakyRelu { alpha } => {
                if !alpha.is_finite() {
                    return Err(Error::Model(format!("leaky ReLU slope must be finite, got {alpha}")));
                }
                Box::new(Activation::new(ActivationKind::LeakyRelu(alpha), input))
            }
            LayerSpec::Tanh => Box::new(Activation::new(ActivationKind::Tanh, input)),
            LayerSpec::Sigmoid => Box::new(Activation::new(ActivationKind::Sigmoid, input)),
            LayerSpec::BatchNorm => Box::new(BatchNorm::new(input)),
            LayerSpec::Dropout { rate } => {
                if !(0.0..1.0).contains(&rate) {
                    return Err(Error::Model(format!("dropout rate must be in [0, 1), got {rate}")));
                }
                Box::new(Dropout::new(input, rate))
            }
        })
    }
}
