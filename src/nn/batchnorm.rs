//! Batch normalisation (Ioffe & Szegedy, 2015): per feature (flat inputs) or
//! per channel (image inputs), normalise with the batch's mean and variance
//! while training and with running averages at evaluation.
//!
//! A *frozen* BatchNorm layer normalises with its running statistics even
//! while the rest of the model trains, and leaves them unchanged — what Keras
//! does (since TF 2.0) and what fine-tuning on small batches needs. The
//! running statistics are stored as non-trainable parameters so checkpoints
//! carry them.

use ndarray::Array2;

use super::{expect_width, standard_layout, Layer, Mode, Param, ParamKind, Shape};

/// Added to the variance before its square root (PyTorch's default; the ONNX export writes it as the `epsilon` attribute).
pub const EPS: f32 = 1e-5;
/// Weight of the newest batch in the running averages (PyTorch's default).
const MOMENTUM: f32 = 0.1;

pub struct BatchNorm {
    shape: Shape,
    /// gamma, beta, running mean, running variance — one value per channel.
    params: [Param; 4],
    frozen: bool,
    cache: Option<Cache>,
}

struct Cache {
    /// The normalised input x̂.
    normalized: Array2<f32>,
    /// 1/√(σ² + ε) per channel, from the batch or the running variance.
    inv_std: Vec<f32>,
    /// Whether batch statistics were used (they depend on the input, which the gradient must include).
    batch_stats: bool,
}

impl BatchNorm {
    pub fn new(shape: Shape) -> Self {
        let c = shape.channels;
        let mut gamma = Param::new("gamma", ParamKind::NoDecay, &[c]);
        gamma.values_mut().fill(1.0);
        let beta = Param::new("beta", ParamKind::NoDecay, &[c]);
        let running_mean = Param::new("running_mean", ParamKind::Statistic, &[c]);
        let mut running_var = Param::new("running_var", ParamKind::Statistic, &[c]);
        running_var.values_mut().fill(1.0);
        BatchNorm { shape, params: [gamma, beta, running_mean, running_var], frozen: false, cache: None }
    }

    /// Values per channel in one example (H·W; 1 for flat inputs).
    fn spatial(&self) -> usize {
        self.shape.height * self.shape.width
    }
}

impl Layer for BatchNorm {
    fn name(&self) -> &'static str {
        "batch_norm"
    }
    fn input_shape(&self) -> Shape {
        self.shape
    }
    fn output_shape(&self) -> Shape {
        self.shape
    }
    fn set_frozen(&mut self, frozen: bool) {
        self.frozen = frozen;
    }

    fn forward(&mut self, x: Array2<f32>, mode: &mut Mode) -> Array2<f32> {
        expect_width("batch_norm", &x, self.shape);
        let (c, s) = (self.shape.channels, self.spatial());
        let mut x = standard_layout(x);
        let batch = x.nrows();
        let batch_stats = mode.is_train() && !self.frozen && batch * s > 1;
        let (mean, var) = if batch_stats {
            let count = (batch * s) as f64;
            let (mut sum, mut sq) = (vec![0.0f64; c], vec![0.0f64; c]);
            for row in x.rows() {
                for (ch, values) in row.as_slice().expect("standard layout").chunks_exact(s).enumerate() {
                    for &v in values {
                        sum[ch] += v as f64;
                        sq[ch] += v as f64 * v as f64;
                    }
                }
            }
            let mean: Vec<f32> = sum.iter().map(|m| (m / count) as f32).collect();
            let var: Vec<f32> = sq.iter().zip(&sum).map(|(q, m)| ((q / count - (m / count).powi(2)).max(0.0)) as f32).collect();
            // Running averages use the unbiased variance, as PyTorch does.
            let unbiased = count / (count - 1.0);
            let [_, _, running_mean, running_var] = &mut self.params;
            for ch in 0..c {
                let rm = &mut running_mean.values_mut()[ch];
                *rm = (1.0 - MOMENTUM) * *rm + MOMENTUM * mean[ch];
                let rv = &mut running_var.values_mut()[ch];
                *rv = (1.0 - MOMENTUM) * *rv + MOMENTUM * var[ch] * unbiased as f32;
            }
            (mean, var)
        } else {
            (self.params[2].values().to_vec(), self.params[3].values().to_vec())
        };
        let inv_std: Vec<f32> = var.iter().map(|v| 1.0 / (v + EPS).sqrt()).collect();
        for mut row in x.rows_mut() {
            for (ch, values) in row.as_slice_mut().expect("standard layout").chunks_exact_mut(s).enumerate() {
                for v in values {
                    *v = (*v - mean[ch]) * inv_std[ch];
                }
            }
        }
        let normalized = if mode.is_train() { Some(x.clone()) } else { None };
        let (gamma, beta) = (self.params[0].values(), self.params[1].values());
        for mut row in x.rows_mut() {
            for (ch, values) in row.as_slice_mut().expect("standard layout").chunks_exact_mut(s).enumerate() {
                for v in values {
                    *v = *v * gamma[ch] + beta[ch];
                }
            }
        }
        self.cache = normalized.map(|normalized| Cache { normalized, inv_std, batch_stats });
        x
    }

    fn backward(&mut self, grad_out: Array2<f32>, param_grads: bool, input_grad: bool) -> Option<Array2<f32>> {
        let cache = self.cache.take().expect("batch_norm: backward without a training forward pass");
        let (c, s) = (self.shape.channels, self.spatial());
        let dy = grad_out.as_standard_layout();
        let count = (dy.nrows() * s) as f32;
        // Σ dy and Σ dy·x̂ per channel: the parameter gradients, and terms of the input gradient.
        let (mut sum_dy, mut sum_dy_xhat) = (vec![0.0f32; c], vec![0.0f32; c]);
        for (g, xh) in dy.rows().into_iter().zip(cache.normalized.rows()) {
            let (g, xh) = (g.to_slice().expect("standard layout"), xh.to_slice().expect("standard layout"));
            for ch in 0..c {
                for i in ch * s..(ch + 1) * s {
                    sum_dy[ch] += g[i];
                    sum_dy_xhat[ch] += g[i] * xh[i];
                }
            }
        }
        if param_grads {
            for ch in 0..c {
                self.params[0].grads_mut()[ch] += sum_dy_xhat[ch];
                self.params[1].grads_mut()[ch] += sum_dy[ch];
            }
        }
        if !input_grad {
            return None;
        }
        let gamma = self.params[0].values();
        let mut dx = dy.into_owned();
        for (mut g, xh) in dx.rows_mut().into_iter().zip(cache.normalized.rows()) {
            let (g, xh) = (g.as_slice_mut().expect("standard layout"), xh.to_slice().expect("standard layout"));
            for ch in 0..c {
                let scale = gamma[ch] * cache.inv_std[ch];
                for i in ch * s..(ch + 1) * s {
                    g[i] = if cache.batch_stats {
                        // dx = γ/σ · (dy − mean(dy) − x̂·mean(dy·x̂))
                        scale * (g[i] - sum_dy[ch] / count - xh[i] * sum_dy_xhat[ch] / count)
                    } else {
                        scale * g[i]
                    };
                }
            }
        }
        Some(dx)
    }

    fn clear_cache(&mut self) {
        self.cache = None;
    }

    fn params(&self) -> &[Param] {
        &self.params
    }
    fn params_mut(&mut self) -> &mut [Param] {
        &mut self.params
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::gradcheck::check_layer;
    use crate::rng::stream;

    fn randomised(shape: Shape) -> BatchNorm {
        let mut layer = BatchNorm::new(shape);
        let g = crate::nn::gradcheck::random_input(1, 2 * shape.channels, 5);
        let (gamma, beta) = g.as_slice().unwrap().split_at(shape.channels);
        layer.params[0].values_mut().copy_from_slice(gamma);
        layer.params[1].values_mut().copy_from_slice(beta);
        layer
    }

    #[test]
    fn gradients_match_finite_differences_with_batch_statistics() {
        check_layer(&mut randomised(Shape::flat(4)), 5, 31);
        check_layer(&mut randomised(Shape::new(2, 3, 2)), 3, 32);
    }

    #[test]
    fn frozen_uses_running_statistics_and_leaves_them_alone() {
        let mut layer = randomised(Shape::new(2, 2, 2));
        layer.params[2].values_mut().copy_from_slice(&[0.3, -0.2]);
        layer.params[3].values_mut().copy_from_slice(&[2.0, 0.5]);
        layer.set_frozen(true);
        check_layer(&mut layer, 3, 33);
        assert_eq!(layer.params[2].values(), &[0.3, -0.2]);
        assert_eq!(layer.params[3].values(), &[2.0, 0.5]);
        // Training mode and evaluation mode agree when frozen.
        let x = crate::nn::gradcheck::random_input(3, 8, 34);
        let mut rng = stream(1, 1);
        let a = layer.forward(x.clone(), &mut Mode::Train { rng: &mut rng });
        let b = layer.forward(x, &mut Mode::Eval);
        assert_eq!(a, b);
    }

    #[test]
    fn training_normalises_the_batch_and_tracks_running_statistics() {
        let mut layer = BatchNorm::new(Shape::flat(1));
        let x = ndarray::array![[1.0f32], [3.0], [5.0], [7.0]];
        let mut rng = stream(1, 1);
        let y = layer.forward(x, &mut Mode::Train { rng: &mut rng });
        assert!(y.mean().unwrap().abs() < 1e-6);
        assert!((y.mapv(|v| v * v).mean().unwrap() - 1.0).abs() < 1e-3);
        assert!((layer.params[2].values()[0] - 0.4).abs() < 1e-6, "running mean 0.9·0 + 0.1·4");
        // Unbiased batch variance 20/3: running variance 0.9·1 + 0.1·20/3.
        assert!((layer.params[3].values()[0] - (0.9 + 2.0 / 3.0)).abs() < 1e-5);
    }
}
