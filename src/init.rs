//! Weight initialisation. Biases always start at zero; these schemes set the
//! weights of Dense and Conv2d layers.
//!
//! `fan_in` is the number of inputs feeding one output unit (`in` for Dense,
//! `in_channels·kh·kw` for Conv2d); `fan_out` the number of outputs each input
//! feeds (`out` for Dense, `out_channels·kh·kw` for Conv2d).

use rand::Rng as _;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::rng::Rng;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Init {
    /// U(−scale, scale): the "naive small random" start.
    Uniform { scale: f32 },
    /// N(0, std²).
    Normal { std: f32 },
    /// Glorot & Bengio (2010): U(−a, a), a = √(6 / (fan_in + fan_out)). Suits tanh/sigmoid.
    XavierUniform,
    /// N(0, 2 / (fan_in + fan_out)).
    XavierNormal,
    /// He et al. (2015): U(−a, a), a = √(6 / fan_in). Suits ReLU.
    #[default]
    HeUniform,
    /// N(0, 2 / fan_in).
    HeNormal,
}

impl Init {
    /// An initialiser by name; `scale` is the half-width (uniform) or standard
    /// deviation (normal) and is ignored by the fan-based schemes.
    /// The catalog's names and aliases (`he-uniform`, `kaiming-uniform`, …).
    pub fn named(name: &str, scale: f32) -> Result<Self> {
        crate::catalog::init(name, scale)
    }

    pub fn validate(&self) -> Result<()> {
        use crate::catalog::{limits, renamed};
        match *self {
            Init::Uniform { scale } => limits::INIT_SCALE.check(scale),
            Init::Normal { std } => renamed(limits::INIT_SCALE, "init.std", "initialisation standard deviation").check(std),
            _ => Ok(()),
        }
    }

    /// Fills `weights` for a layer with the given fans.
    pub fn fill(&self, weights: &mut [f32], fan_in: usize, fan_out: usize, rng: &mut Rng) {
        let (fi, fo) = (fan_in.max(1) as f32, fan_out.max(1) as f32);
        match *self {
            Init::Uniform { scale } => fill_uniform(weights, scale, rng),
            Init::Normal { std } => fill_normal(weights, std, rng),
            Init::XavierUniform => fill_uniform(weights, (6.0 / (fi + fo)).sqrt(), rng),
            Init::XavierNormal => fill_normal(weights, (2.0 / (fi + fo)).sqrt(), rng),
            Init::HeUniform => fill_uniform(weights, (6.0 / fi).sqrt(), rng),
            Init::HeNormal => fill_normal(weights, (2.0 / fi).sqrt(), rng),
        }
    }
}

fn fill_uniform(weights: &mut [f32], limit: f32, rng: &mut Rng) {
    for w in weights {
        *w = if limit == 0.0 { 0.0 } else { rng.gen_range(-limit..=limit) };
    }
}

fn fill_normal(weights: &mut [f32], std: f32, rng: &mut Rng) {
    if std == 0.0 {
        weights.fill(0.0);
        return;
    }
    let normal = Normal::new(0.0f32, std).expect("std is finite and positive");
    for w in weights {
        *w = normal.sample(rng);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream;

    fn stats(init: Init, fan_in: usize, fan_out: usize) -> (f32, f32, f32) {
        let mut w = vec![0.0; 20_000];
        init.fill(&mut w, fan_in, fan_out, &mut stream(7, 1));
        let mean = w.iter().sum::<f32>() / w.len() as f32;
        let var = w.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / w.len() as f32;
        let max = w.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        (mean, var, max)
    }

    #[test]
    fn schemes_have_their_documented_variance() {
        // Uniform U(−a, a) has variance a²/3.
        let cases = [
            (Init::Uniform { scale: 0.1 }, 0.01 / 3.0),
            (Init::Normal { std: 0.2 }, 0.04),
            (Init::XavierUniform, 2.0 / (100.0 + 50.0)),
            (Init::XavierNormal, 2.0 / (100.0 + 50.0)),
            (Init::HeUniform, 2.0 / 100.0),
            (Init::HeNormal, 2.0 / 100.0),
        ];
        for (init, expected) in cases {
            let (mean, var, _) = stats(init, 100, 50);
            assert!(mean.abs() < 0.01, "{init:?} mean {mean}");
            assert!((var / expected - 1.0).abs() < 0.05, "{init:?} variance {var}, expected {expected}");
        }
        let (_, _, max) = stats(Init::HeUniform, 100, 50);
        assert!(max <= (6.0f32 / 100.0).sqrt());
    }

    #[test]
    fn negative_scale_is_rejected() {
        assert!(Init::Uniform { scale: -1.0 }.validate().is_err());
        assert!(Init::Normal { std: f32::NAN }.validate().is_err());
    }
}
