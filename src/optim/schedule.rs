//! Learning-rate schedules: a factor applied to the configured rate at each
//! step, from the step's position in the run.

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Schedule {
    /// The same rate throughout.
    #[default]
    Constant,
    /// Multiply by `factor` every `every_epochs` epochs (Keras/PyTorch "step decay").
    Step { every_epochs: f64, factor: f32 },
    /// Cosine annealing from the full rate to `min_factor` × rate at the last step.
    Cosine {
        #[serde(default)]
        min_factor: f32,
    },
    /// Linear warm-up from 0 over the first `epochs` epochs, then constant.
    Warmup { epochs: f64 },
    /// Smith's one-cycle policy as PyTorch's OneCycleLR defaults it: cosine
    /// rise from rate/25 to the rate over the first 30 % of steps, then cosine
    /// fall to rate/250,000.
    OneCycle,
}

const ONE_CYCLE_RISE: f64 = 0.3;
const ONE_CYCLE_START: f64 = 1.0 / 25.0;
const ONE_CYCLE_END: f64 = 1.0 / 25.0 / 1e4;

/// Cosine interpolation from `from` (t = 0) to `to` (t = 1).
fn cosine(from: f64, to: f64, t: f64) -> f64 {
    to + (from - to) * 0.5 * (1.0 + (PI * t.clamp(0.0, 1.0)).cos())
}

impl Schedule {
    pub fn validate(&self) -> Result<()> {
        match *self {
            Schedule::Step { every_epochs, factor } if !(every_epochs > 0.0 && factor.is_finite() && factor > 0.0) => {
                Err(Error::Config(format!("step schedule needs every_epochs > 0 and factor > 0, got {every_epochs} and {factor}")))
            }
            Schedule::Cosine { min_factor } if !(0.0..=1.0).contains(&min_factor) => {
                Err(Error::Config(format!("cosine schedule min_factor must be in [0, 1], got {min_factor}")))
            }
            Schedule::Warmup { epochs } if !(epochs.is_finite() && epochs >= 0.0) => {
                Err(Error::Config(format!("warm-up length must be ≥ 0 epochs, got {epochs}")))
            }
            _ => Ok(()),
        }
    }

    /// The factor for step `step` (0-based) of `total_steps`, with `steps_per_epoch` steps per epoch.
    pub fn factor(&self, step: u64, total_steps: u64, steps_per_epoch: u64) -> f32 {
        let epoch = step as f64 / steps_per_epoch.max(1) as f64;
        let last = total_steps.saturating_sub(1).max(1) as f64;
        let progress = step as f64 / last;
        (match *self {
            Schedule::Constant => 1.0,
            Schedule::Step { every_epochs, factor } => (factor as f64).powi((epoch / every_epochs).floor() as i32),
            Schedule::Cosine { min_factor } => cosine(1.0, min_factor as f64, progress),
            Schedule::Warmup { epochs } => {
                if epochs <= 0.0 {
                    1.0
                } else {
                    // Step 0 already trains at 1/n of the rate, never at zero.
                    ((step + 1) as f64 / (epochs * steps_per_epoch.max(1) as f64)).min(1.0)
                }
            }
            Schedule::OneCycle => {
                if progress <= ONE_CYCLE_RISE {
                    cosine(ONE_CYCLE_START, 1.0, progress / ONE_CYCLE_RISE)
                } else {
                    cosine(1.0, ONE_CYCLE_END, (progress - ONE_CYCLE_RISE) / (1.0 - ONE_CYCLE_RISE))
                }
            }
        }) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f32, b: f64) -> bool {
        (a as f64 - b).abs() < 1e-6
    }

    #[test]
    fn factors_at_known_points() {
        // 10 epochs of 10 steps.
        let f = |s: Schedule, step| s.factor(step, 100, 10);
        assert!(close(f(Schedule::Constant, 57), 1.0));
        let step = Schedule::Step { every_epochs: 3.0, factor: 0.5 };
        assert!(close(f(step, 29), 1.0) && close(f(step, 30), 0.5) && close(f(step, 60), 0.25));
        let cos = Schedule::Cosine { min_factor: 0.1 };
        assert!(close(f(cos, 0), 1.0) && close(f(cos, 99), 0.1));
        assert!((f(cos, 50) - 0.55).abs() < 0.01, "half way is the mean of the ends");
        let warm = Schedule::Warmup { epochs: 2.0 };
        assert!(close(f(warm, 0), 0.05) && close(f(warm, 9), 0.5) && close(f(warm, 19), 1.0) && close(f(warm, 80), 1.0));
        let one = Schedule::OneCycle;
        assert!(close(f(one, 0), 1.0 / 25.0));
        let peak = (0..100).map(|s| f(one, s)).fold(0.0f32, f32::max);
        assert!(peak > 0.99 && peak <= 1.0);
        assert!(f(one, 99) < 1e-5);
    }

    #[test]
    fn bad_parameters_are_rejected() {
        assert!(Schedule::Step { every_epochs: 0.0, factor: 0.5 }.validate().is_err());
        assert!(Schedule::Cosine { min_factor: 2.0 }.validate().is_err());
        assert!(Schedule::Warmup { epochs: -1.0 }.validate().is_err());
    }
}
