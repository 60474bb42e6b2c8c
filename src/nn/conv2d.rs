//! 2-D convolution (cross-correlation, as every framework computes it) with
//! stride and zero padding, over any number of input channels.
//!
//! Each image is unfolded with im2col into a `(C·k·k, OH·OW)` matrix, so the
//! forward pass is one matrix multiply per image; the weights are stored
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
    /// im2col of every image of the last training batch, `(batch, C·k·k·OH·OW)`.
    cached_cols: Option<Array2<f32>>,
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
        let (k, p) = (g.col_rows(), g.col_cols());
        let batch = x.nrows();
        let x = x.as_standard_layout();
        let mut cols = Array2::<f32>::zeros((batch, k * p));
        let mut y = Array2::<f32>::zeros((batch, self.filters * p));
        let [weight, bias] = &self.params;
        for ((image, mut image_cols), mut out) in x.outer_iter().zip(cols.outer_iter_mut()).zip(y.outer_iter_mut()) {
            let image_cols = image_cols.as_slice_mut().expect("row of a fresh array");
            kernels::im2col(&g, image.as_slice().expect("standard layout"), image_cols);
            let out = out.as_slice_mut().expect("row of a fresh array");
            kernels::gemm_nn(self.filters, p, k, weight.values(), image_cols, out, false);
            if p > 0 {
                for (row, b) in out.chunks_exact_mut(p).zip(bias.values()) {
                    row.iter_mut().for_each(|v| *v += b);
                }
            }
        }
        self.cached_cols = if mode.is_train() { Some(cols) } else { None };
        y
    }

    fn backward(&mut self, grad_out: Array2<f32>, param_grads: bool, input_grad: bool) -> Option<Array2<f32>> {
        let cols = self.cached_cols.take().expect("conv2d: backward without a training forward pass");
        let g = self.geometry;
        let (k, p) = (g.col_rows(), g.col_cols());
        let grad_out = grad_out.as_standard_layout();
        let batch = grad_out.nrows();
        let [weight, bias] = &mut self.params;
        if param_grads {
            let (dw, db) = (weight.grads_mut(), bias.grads_mut());
            for (dy, image_cols) in grad_out.outer_iter().zip(cols.outer_iter()) {
                let dy = dy.to_slice().expect("standard layout");
                kernels::gemm_nt(self.filters, k, p, dy, image_cols.to_slice().expect("standard layout"), dw, true);
                if p > 0 {
                    for (g, row) in db.iter_mut().zip(dy.chunks_exact(p)) {
                        *g += row.iter().sum::<f32>();
                    }
                }
            }
        }
        if !input_grad {
            return None;
        }
        let mut dx = Array2::<f32>::zeros((batch, g.input_len()));
        let mut dcols = vec![0.0f32; k * p];
        for (dy, mut dx_image) in grad_out.outer_iter().zip(dx.outer_iter_mut()) {
            kernels::gemm_tn(k, p, self.filters, weight.values(), dy.to_slice().expect("standard layout"), &mut dcols, false);
            kernels::col2im(&g, &dcols, dx_image.as_slice_mut().expect("row of a fresh array"));
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
