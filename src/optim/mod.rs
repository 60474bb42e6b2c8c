//! Optimisers: per-parameter update math with its state passed in
//! explicitly (as burn and tinygrad do). The caller (`apply_step`) decides
//! which parameters take part: it skips frozen layers, scales the learning
//! rate per layer and adds the L1/L2 penalty gradients to weights only.

mod adagrad;
mod adam;
mod rmsprop;
pub mod schedule;
mod sgd;

pub use schedule::Schedule;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::model::Sequential;
use crate::nn::ParamKind;

/// Which optimiser, with its own hyper-parameters (the learning rate is separate).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OptimizerSpec {
    /// Stochastic gradient descent; momentum 0 is plain SGD. PyTorch's
    /// formulation: `v ← μv + g`, `p ← p − lr·v` (Nesterov: `p ← p − lr·(g + μv)`).
    Sgd {
        #[serde(default)]
        momentum: f32,
        #[serde(default)]
        nesterov: bool,
    },
    /// Kingma & Ba (2015), with bias correction.
    Adam {
        #[serde(default = "beta1")]
        beta1: f32,
        #[serde(default = "beta2")]
        beta2: f32,
        #[serde(default = "eps")]
        eps: f32,
    },
    /// Hinton's RMSprop: `s ← ρs + (1−ρ)g²`, `p ← p − lr·g/(√s + ε)`.
    Rmsprop {
        #[serde(default = "rho")]
        rho: f32,
        #[serde(default = "eps")]
        eps: f32,
    },
    /// Duchi et al. (2011): `s ← s + g²`, `p ← p − lr·g/(√s + ε)`.
    Adagrad {
        #[serde(default = "eps")]
        eps: f32,
    },
}

// The usual defaults (Keras, PyTorch), for fields a configuration leaves out;
// the catalog's named optimisers use the same functions.
pub(crate) const fn beta1() -> f32 {
    0.9
}
pub(crate) const fn beta2() -> f32 {
    0.999
}
pub(crate) const fn rho() -> f32 {
    0.9
}
pub(crate) const fn eps() -> f32 {
    1e-8
}

impl OptimizerSpec {
    /// A named optimiser from the catalog (`sgd`, `momentum`, `adam`, …).
    pub fn named(name: &str) -> Result<Self> {
        crate::catalog::optimizer(name)
    }

    pub fn validate(&self) -> Result<()> {
        use crate::catalog::{limits, renamed};
        match *self {
            OptimizerSpec::Sgd { momentum, .. } => limits::MOMENTUM.check(momentum),
            OptimizerSpec::Adam { beta1, beta2, eps } => {
                renamed(limits::DECAY, "optimizer.beta1", "β₁").check(beta1)?;
                renamed(limits::DECAY, "optimizer.beta2", "β₂").check(beta2)?;
                limits::EPS.check(eps)
            }
            OptimizerSpec::Rmsprop { rho, eps } => {
                renamed(limits::DECAY, "optimizer.rho", "ρ").check(rho)?;
                limits::EPS.check(eps)
            }
            OptimizerSpec::Adagrad { eps } => limits::EPS.check(eps),
        }
    }

    /// How many state buffers (each the size of the parameter) the method keeps.
    pub fn state_buffers(&self) -> usize {
        match *self {
            OptimizerSpec::Sgd { momentum: 0.0, .. } => 0,
            OptimizerSpec::Sgd { .. } | OptimizerSpec::Rmsprop { .. } | OptimizerSpec::Adagrad { .. } => 1,
            OptimizerSpec::Adam { .. } => 2,
        }
    }

    /// Updates `value` in place from `grad`. `step` counts updates of this
    /// parameter from 1 (Adam's bias correction needs it).
    pub fn update(&self, value: &mut [f32], grad: &[f32], state: &mut [Vec<f32>], lr: f32, step: u64) {
        debug_assert_eq!(value.len(), grad.len());
        match *self {
            OptimizerSpec::Sgd { momentum, nesterov } => sgd::update(value, grad, state, lr, momentum, nesterov),
            OptimizerSpec::Adam { beta1, beta2, eps } => adam::update(value, grad, state, lr, beta1, beta2, eps, step),
            OptimizerSpec::Rmsprop { rho, eps } => rmsprop::update(value, grad, state, lr, rho, eps),
            OptimizerSpec::Adagrad { eps } => adagrad::update(value, grad, state, lr, eps),
        }
    }
}

/// Weight penalties added to the loss: `l1·Σ|w| + (l2/2)·Σw²` over the
/// `ParamKind::Weight` parameters (never the `NoDecay` ones: biases and
/// BatchNorm's γ and β), so their gradients are `l1·sign(w) + l2·w`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Penalty {
    pub l1: f32,
    pub l2: f32,
}

/// The optimiser's memory for every parameter of a model.
pub struct OptimizerState {
    spec: OptimizerSpec,
    /// `buffers[p]` belongs to the p-th parameter of the model, in order.
    buffers: Vec<Vec<Vec<f32>>>,
    steps: Vec<u64>,
    scratch: Vec<f32>,
}

impl OptimizerState {
    pub fn new(spec: OptimizerSpec, model: &Sequential) -> Result<Self> {
        spec.validate()?;
        let buffers = model.params().map(|p| vec![vec![0.0; p.len()]; spec.state_buffers()]).collect::<Vec<_>>();
        let steps = vec![0; buffers.len()];
        Ok(OptimizerState { spec, buffers, steps, scratch: Vec::new() })
    }

    /// The optimiser's memory (per parameter: its buffers, and how many updates it had), for a resume point.
    pub fn state(&self) -> (&[Vec<Vec<f32>>], &[u64]) {
        (&self.buffers, &self.steps)
    }

    /// Whether `buffers` and `steps` have this state's shapes and finite values.
    pub fn check_state(&self, buffers: &[Vec<Vec<f32>>], steps: &[u64]) -> std::result::Result<(), String> {
        if buffers.len() != self.buffers.len() || steps.len() != self.steps.len() {
            return Err(format!("its optimiser state covers {} parameters; the model has {}", buffers.len(), self.buffers.len()));
        }
        for (p, (theirs, mine)) in buffers.iter().zip(&self.buffers).enumerate() {
            if theirs.len() != mine.len() || theirs.iter().zip(mine).any(|(a, b)| a.len() != b.len()) {
                return Err(format!("its optimiser state for parameter {p} has the wrong shape"));
            }
            if theirs.iter().flatten().any(|v| !v.is_finite()) {
                return Err(format!("its optimiser state for parameter {p} is not finite"));
            }
        }
        Ok(())
    }

    /// Replaces the optimiser's memory (checked with [`Self::check_state`]).
    pub fn restore_state(&mut self, buffers: Vec<Vec<Vec<f32>>>, steps: Vec<u64>) -> std::result::Result<(), String> {
        self.check_state(&buffers, &steps)?;
        self.buffers = buffers;
        self.steps = steps;
        Ok(())
    }

    /// One update of every trainable parameter from its accumulated gradient.
    pub fn apply_step(&mut self, model: &mut Sequential, lr: f32, penalty: Penalty) {
        let mut index = 0;
        for slot in model.slots_mut() {
            let (frozen, multiplier) = (slot.frozen, slot.lr_multiplier);
            for param in slot.layer.params_mut() {
                let i = index;
                index += 1;
                if frozen || param.kind == ParamKind::Statistic {
                    continue;
                }
                self.steps[i] += 1;
                let kind = param.kind;
                let (value, grad) = param.split_mut();
                let grad: &[f32] = if kind == ParamKind::Weight && (penalty.l1 != 0.0 || penalty.l2 != 0.0) {
                    self.scratch.clear();
                    self.scratch.extend(grad.iter().zip(value.iter()).map(|(&g, &w)| {
                        // sign(0) = 0: an exactly-zero weight feels no L1 pull.
                        let sign = if w > 0.0 {
                            1.0
                        } else if w < 0.0 {
                            -1.0
                        } else {
                            0.0
                        };
                        g + penalty.l2 * w + penalty.l1 * sign
                    }));
                    &self.scratch
                } else {
                    grad
                };
                self.spec.update(value, grad, &mut self.buffers[i], lr * multiplier, self.steps[i]);
            }
        }
    }
}

#[cfg(test)]
mod tests;
