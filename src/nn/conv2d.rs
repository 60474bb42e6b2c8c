//! 2-D convolution (cross-correlation, as every framework computes it) with
//! stride and zero padding, over any number of input channels.
//!
//! The whole batch is unfolded with im2col into one wide column matrix
//! `(C·k·k, batch·OH·OW)`, image `n` in columns `n·P..(n+1)·P`. Building it
//! copies whole input rows, which is fast; building the transposed (one patch
//! per row) matrix instead meant thousands of five-float copies per image and
//! cost more than the product. The products are then arranged so the long
//! side (batch·OH·OW) is the GEMM's row dimension, the shape its packed kernel
//! handles best: the forward pass is `colsᵀ · Wᵀ` (`gemm_tt`), where
//! `W · cols` with only 6 or 16 filters as rows ran at a quarter of the speed.
//! The weights are stored
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
    /// im2col of the last batch, `(C·k·k, batch·OH·OW)`; kept between steps so
    /// the multi-megabyte buffer is neither reallocated nor re-zeroed each step.
    cols: Vec<f32>,
    /// Whether `cols` holds the last *training* batch, which backward needs.
    cols_cached: bool,
    /// Scratch for the product in (batch·OH·OW, F) layout, reused likewise.
    scratch: Vec<f32>,
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
        Conv2d { geometry, filters, params: [weight, bias], cols: Vec::new(), cols_cached: false, scratch: Vec::new() }
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
        let (k, p, f) = (g.patch_len(), g.patches(), self.filters);
        let batch = x.nrows();
        let wide = batch * p;
        let x = x.as_standard_layout();
        // im2col writes every value, so stale contents need no clearing.
        self.cols.resize(k * wide, 0.0);
        for (n, image) in x.outer_iter().enumerate() {
            let end = if k == 0 { 0 } else { (k - 1) * wide + (n + 1) * p };
            kernels::im2col(&g, image.to_slice().expect("standard layout"), &mut self.cols[n * p..end], wide);
        }
        // (batch·P, F) = colsᵀ · Wᵀ
        self.scratch.resize(wide * f, 0.0);
        let tall_out = &mut self.scratch;
        let [weight, bias] = &self.params;
        kernels::gemm_tt(wide, f, k, &self.cols, weight.values(), tall_out, false);
        // Back to one row per image, channel-major (F, P), adding the bias on the way.
        let mut y = Array2::<f32>::zeros((batch, f * p));
        if p > 0 && f > 0 {
            for (mut out, block) in y.outer_iter_mut().zip(tall_out.chunks_exact(p * f)) {
                let out = out.as_slice_mut().expect("row of a fresh array");
                for (q, pixel) in block.chunks_exact(f).enumerate() {
                    for (c, (&v, b)) in pixel.iter().zip(bias.values()).enumerate() {
                        out[c * p + q] = v + b;
                    }
                }
            }
        }
        self.cols_cached = mode.is_train();
        y
    }

    fn backward(&mut self, grad_out: Array2<f32>, param_grads: bool, input_grad: bool) -> Option<Array2<f32>> {
        assert!(self.cols_cached, "conv2d: backward without a training forward pass");
        self.cols_cached = false;
        let g = self.geometry;
        let (k, p, f) = (g.patch_len(), g.patches(), self.filters);
        let grad_out = grad_out.as_standard_layout();
        let batch = grad_out.nrows();
        let wide = batch * p;
        // dY arranged like the forward product: (batch·P, F); every value is written.
        self.scratch.resize(wide * f, 0.0);
        let dy = &mut self.scratch;
        if p > 0 && f > 0 {
            for (row, block) in grad_out.outer_iter().zip(dy.chunks_exact_mut(p * f)) {
                let row = row.to_slice().expect("standard layout");
                for (c, channel) in row.chunks_exact(p).enumerate() {
                    for (q, &v) in channel.iter().enumerate() {
                        block[q * f + c] = v;
                    }
                }
            }
        }
        let [weight, bias] = &mut self.params;
        if param_grads {
            // dW (F, K) += dYᵀ · colsᵀ
            kernels::gemm_tt(f, k, wide, dy, &self.cols, weight.grads_mut(), true);
            if f > 0 {
                let db = bias.grads_mut();
                for pixel in dy.chunks_exact(f) {
                    for (g, v) in db.iter_mut().zip(pixel) {
                        *g += v;
                    }
                }
            }
        }
        if !input_grad {
            return None;
        }
        // dcols (K, batch·P) = Wᵀ · dYᵀ, written over the columns (no longer
        // needed), then folded back image by image.
        let dcols = &mut self.cols;
        kernels::gemm_tt(k, wide, f, weight.values(), dy, dcols, false);
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
