//! 2-D convolution (cross-correlation, as every framework computes it) with
//! stride and zero padding, over any number of input channels.
//!
//! The whole batch is unfolded with im2col into one `(C·k·k, batch·OH·OW)`
//! matrix (image `n` in columns `n·P..(n+1)·P`), so each pass is a single
//! large matrix multiply rather than one small one per image — the small
//! ones (6 filters!) waste most of a SIMD tile. The weights are stored
//! `(filters, C·k·k)`, the layout PyTorch calls `(F, C, kh, kw)`.

use ndarray::Array2;

use super::{expect_width, Layer, Mode, Param, ParamKind, Shape};
use crate::init::Init;
use crate::kernels::{self, ConvGeometry};
use crate::rng::Rng;

pub struct Conv2d {
    geometry: ConvGeometry,
    filters: usize,
    params: [Param; 2],
    /// im2col of the last training batch, `(C·k·k, batch·OH·OW)`.
    cached_cols: Option<Vec<f32>>,
}

impl Conv2d {
    pub fn new(input: Shape, filters: usize, kernel: usize, stride: usize, padding: usize, init: Init, rng: &mut Rng) -> Self {
        let geometry = ConvGeometry {
            channels: input.channels,
            height: input.height,
            width: input.width,
            kernel_h: kernel,
            kernel_w: kernel,
            stride,
            padding,
        };
        let fan_in = input.channels * kernel * kernel;
        let mut weight = Param::new("weight", ParamKind::Weight, &[filters, input.channels, kernel, kernel]);
        init.fill(weight.values_mut(), fan_in, filters * kernel * kernel, rng);
        let bias = Param::new("bias", ParamKind::Bias, &[filters]);
        Conv2d { geometry, filters, params: [weight, bias], cached_cols: None }
    }
}

impl Layer for Conv2d {
    fn name(&self) -> &'static str {
        "conv2d"
    }
    fn input_shape(&self) -> Shape {
        Shape::new(self.geometry.channels, self.geometry.height, self.geometry.width)
    }
    fn output_shape(&self) -> Shape {
        Shape::new(self.filters, self.geometry.out_height(), self.geometry.out_width())
    }

    fn forward(&mut self, x: Array2<f32>, mode: &mut Mode) -> Array2<f32> {
        expect_width("conv2d", &x, self.input_shape());
        let g = self.geometry;
        let (k, p, f) = (g.col_rows(), g.col_cols(), self.filters);
        let batch = x.nrows();
        let wide = batch * p;
        let x = x.as_standard_layout();
        let mut cols = vec![0.0f32; k * wide];
        for (n, image) in x.outer_iter().enumerate() {
            let end = if k == 0 { 0 } else { (k - 1) * wide + (n + 1) * p };
            kernels::im2col(&g, image.to_slice().expect("standard layout"), &mut cols[n * p..end], wide);
        }
        // (F, batch·P) = W (F, K) · cols (K, batch·P)
        let mut wide_out = vec![0.0f32; f * wide];
        let [weight, bias] = &self.params;
        kernels::gemm_nn(f, wide, k, weight.values(), &cols, &mut wide_out, false);
        // Regroup to one row per image, (F, P) each, adding the bias on the way.
        let mut y = Array2::<f32>::zeros((batch, f * p));
        if p > 0 {
            for (n, mut out) in y.outer_iter_mut().enumerate() {
                let out = out.as_slice_mut().expect("row of a fresh array");
                for (c, (dst, b)) in out.chunks_exact_mut(p).zip(bias.values()).enumerate() {
                    for (d, s) in dst.iter_mut().zip(&wide_out[c * wide + n * p..c * wide + (n + 1) * p]) {
                        *d = s + b;
                    }
                }
            }
        }
        self.cached_cols = if mode.is_train() { Some(cols) } else { None };
        y
    }

    fn backward(&mut self, grad_out: Array2<f32>, param_grads: bool, input_grad: bool) -> Option<Array2<f32>> {
        let cols = self.cached_cols.take().expect("conv2d: backward without a training forward pass");
        let g = self.geometry;
        let (k, p, f) = (g.col_rows(), g.col_cols(), self.filters);
        let grad_out = grad_out.as_standard_layout();
        let batch = grad_out.nrows();
        let wide = batch * p;
        // dY regrouped to (F, batch·P), the layout of the forward product.
        let mut dy = vec![0.0f32; f * wide];
        if p > 0 {
            for (n, row) in grad_out.outer_iter().enumerate() {
                for (c, src) in row.to_slice().expect("standard layout").chunks_exact(p).enumerate() {
                    dy[c * wide + n * p..c * wide + (n + 1) * p].copy_from_slice(src);
                }
            }
        }
        let [weight, bias] = &mut self.params;
        if param_grads {
            // dW (F, K) += dY (F, batch·P) · colsᵀ
            kernels::gemm_nt(f, k, wide, &dy, &cols, weight.grads_mut(), true);
            if wide > 0 {
                for (g, row) in bias.grads_mut().iter_mut().zip(dy.chunks_exact(wide)) {
                    *g += row.iter().sum::<f32>();
                }
            }
        }
        if !input_grad {
            return None;
        }
        // dcols (K, batch·P) = Wᵀ · dY, then folded back image by image.
        let mut dcols = cols; // same size; reuse the allocation
        kernels::gemm_tn(k, wide, f, weight.values(), &dy, &mut dcols, false);
        let mut dx = Array2::<f32>::zeros((batch, g.input_len()));
        for (n, mut dx_image) in dx.outer_iter_mut().enumerate() {
            let end = if k == 0 { 0 } else { (k - 1) * wide + (n + 1) * p };
            kernels::col2im(&g, &dcols[n * p..end], dx_image.as_slice_mut().expect("row of a fresh array"), wide);
        }
        Some(dx)
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

    #[test]
    fn gradients_match_finite_differences() {
        // Two input channels, padding and stride 2 with a ragged edge.
        let mut layer = Conv2d::new(Shape::new(2, 6, 5), 3, 3, 2, 1, Init::HeUniform, &mut stream(2, 1));
        check_layer(&mut layer, 2, 21);
        let mut layer = Conv2d::new(Shape::new(1, 5, 5), 2, 5, 1, 2, Init::HeNormal, &mut stream(3, 1));
        check_layer(&mut layer, 1, 22);
    }

    #[test]
    fn matches_a_hand_computed_convolution() {
        // 1 channel 3×3 input, one 2×2 filter of ones, bias 1, no padding.
        let mut layer = Conv2d::new(Shape::new(1, 3, 3), 1, 2, 1, 0, Init::Uniform { scale: 0.0 }, &mut stream(1, 1));
        layer.params_mut()[0].values_mut().fill(1.0);
        layer.params_mut()[1].values_mut()[0] = 1.0;
        let x = Array2::from_shape_vec((1, 9), (1..=9).map(|v| v as f32).collect()).unwrap();
        let y = layer.forward(x, &mut Mode::Eval);
        assert_eq!(y.as_slice().unwrap(), &[13.0, 17.0, 25.0, 29.0]);
        assert_eq!(layer.output_shape(), Shape::new(1, 2, 2));
    }
}
