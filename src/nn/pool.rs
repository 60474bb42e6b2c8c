//! Max pooling over square windows (no padding). The backward pass routes
//! each gradient to the input that won its window, remembered as an index.
//!
//! A pool right after a ReLU does the ReLU's training work too (see
//! `Layer::absorb_relu`): max(relu(window)) is relu(max(window)), and the
//! ReLU's derivative only matters at the winner, so the pool rectifies each
//! value as it reads it and routes no gradient from a window whose maximum
//! is 0. The results are the same numbers, bit for bit, as the two layers
//! one after the other; LeNet-5 saves two of its four passes over its first
//! layer's 300,000 activations per step.

use ndarray::Array2;

use super::{expect_width, Layer, Mode, Shape};
use crate::kernels;

pub struct MaxPool2d {
    input: Shape,
    size: usize,
    stride: usize,
    /// For every output of the last training batch, the flat index of its
    /// maximum in the input row (flagged `kernels::DEAD_WINDOW`: no gradient); kept between
    /// steps so a step allocates nothing.
    argmax: Vec<u32>,
    /// Whether `argmax` holds the last training pass's indices.
    kept: bool,
    /// Whether training passes rectify the input (the ReLU before was absorbed).
    rectifies: bool,
}

impl MaxPool2d {
    pub fn new(input: Shape, size: usize, stride: usize) -> Self {
        MaxPool2d { input, size, stride, argmax: Vec::new(), kept: false, rectifies: false }
    }
}

impl Layer for MaxPool2d {
    fn name(&self) -> &'static str {
        "max_pool2d"
    }
    fn input_shape(&self) -> Shape {
        self.input
    }
    fn output_shape(&self) -> Shape {
        Shape::new(self.input.channels, (self.input.height - self.size) / self.stride + 1, (self.input.width - self.size) / self.stride + 1)
    }

    fn forward(&mut self, x: Array2<f32>, mode: &mut Mode) -> Array2<f32> {
        expect_width("max_pool2d", &x, self.input);
        let out_shape = self.output_shape();
        let (h, w) = (self.input.height, self.input.width);
        let (oh, ow) = (out_shape.height, out_shape.width);
        let x = x.as_standard_layout();
        let batch = x.nrows();
        let rectify = self.rectifies && mode.is_train();
        let read = |v: f32| if rectify { kernels::rectified(v) } else { v };
        let mut y = Array2::<f32>::zeros((batch, out_shape.len()));
        // Every index is written below, so the old contents need no clearing.
        self.argmax.resize(batch * out_shape.len(), 0);
        for ((image, mut out), arg) in x.outer_iter().zip(y.outer_iter_mut()).zip(self.argmax.chunks_exact_mut(out_shape.len().max(1))) {
            let image = image.to_slice().expect("standard layout");
            let out = out.as_slice_mut().expect("row of a fresh array");
            if self.size == 2 && self.stride == 2 {
                kernels::max_pool_2x2(image, out, arg, self.input.channels, h, w, rectify);
                continue;
            }
            for c in 0..self.input.channels {
                for oy in 0..oh {
                    for ox in 0..ow {
                        // Start from the window's first input so an all-NaN window still routes somewhere.
                        let mut best_at = c * h * w + oy * self.stride * w + ox * self.stride;
                        let mut best = read(image[best_at]);
                        for ky in 0..self.size {
                            let row = c * h * w + (oy * self.stride + ky) * w + ox * self.stride;
                            for (kx, &v) in image[row..row + self.size].iter().enumerate() {
                                // `>` keeps the first maximum.
                                if read(v) > best {
                                    best = read(v);
                                    best_at = row + kx;
                                }
                            }
                        }
                        let o = c * oh * ow + oy * ow + ox;
                        out[o] = best;
                        arg[o] = if rectify && best <= 0.0 { best_at as u32 | kernels::DEAD_WINDOW } else { best_at as u32 };
                    }
                }
            }
        }
        self.kept = mode.is_train();
        y
    }

    fn backward(&mut self, grad_out: Array2<f32>, _param_grads: bool, input_grad: bool) -> Option<Array2<f32>> {
        assert!(std::mem::take(&mut self.kept), "max_pool2d: backward without a training forward pass");
        if !input_grad {
            return None;
        }
        let out_len = self.output_shape().len();
        let grad_out = grad_out.as_standard_layout();
        let mut dx = Array2::<f32>::zeros((grad_out.nrows(), self.input.len()));
        for ((dy, mut dx_image), arg) in grad_out.outer_iter().zip(dx.outer_iter_mut()).zip(self.argmax.chunks_exact(out_len.max(1))) {
            let dx_image = dx_image.as_slice_mut().expect("row of a fresh array");
            if self.size == 2 && self.stride == 2 {
                let dy = dy.to_slice().expect("standard layout");
                kernels::max_pool_2x2_backward(dy, arg, dx_image, self.input.channels, self.input.height, self.input.width);
                continue;
            }
            for (&g, &at) in dy.iter().zip(arg) {
                // A dead window adds +0.0, which changes no sum (they start at +0.0).
                let live = at & kernels::DEAD_WINDOW == 0;
                dx_image[(at & !kernels::DEAD_WINDOW) as usize] += if live { g } else { 0.0 };
            }
        }
        Some(dx)
    }

    fn clear_cache(&mut self) {
        self.kept = false;
    }

    fn absorb_relu(&mut self) -> bool {
        self.rectifies = true;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::gradcheck::check_layer_with_input;
    use rand::seq::SliceRandom;
    use rand::Rng;

    #[test]
    fn gradients_match_finite_differences() {
        // Distinct values 0.1 apart: a nudge never changes which input wins.
        for (shape, size, stride) in [(Shape::new(2, 4, 4), 2, 2), (Shape::new(1, 5, 5), 3, 2), (Shape::new(2, 5, 7), 2, 2)] {
            let mut values: Vec<f32> = (0..2 * shape.len()).map(|i| i as f32 * 0.1 - 1.0).collect();
            values.shuffle(&mut crate::rng::stream(5, 5));
            let x = Array2::from_shape_vec((2, shape.len()), values).unwrap();
            check_layer_with_input(&mut MaxPool2d::new(shape, size, stride), x, 8);
        }
    }

    #[test]
    fn a_pool_that_absorbed_its_relu_computes_what_the_two_layers_compute() {
        use crate::nn::{Activation, ActivationKind};
        // Ties, zeros, negatives and NaNs; 2×2 (the kernel) and 3×3 stride 2 (the general loop).
        for (shape, size, stride) in [(Shape::new(3, 6, 10), 2, 2), (Shape::new(2, 7, 7), 3, 2)] {
            let mut rng = crate::rng::stream(9, 1);
            let values = (0..3 * shape.len()).map(|_| if rng.gen_range(0..30) == 0 { f32::NAN } else { rng.gen_range(0..5) as f32 * 0.5 - 1.0 }).collect();
            let x = Array2::from_shape_vec((3, shape.len()), values).unwrap();
            let (mut relu, mut pool) = (Activation::new(ActivationKind::Relu, shape), MaxPool2d::new(shape, size, stride));
            let (mut fused_relu, mut fused_pool) = (Activation::new(ActivationKind::Relu, shape), MaxPool2d::new(shape, size, stride));
            fused_relu.fuse_with_next(&mut fused_pool);
            assert!(fused_relu.handed_off && fused_pool.rectifies);
            let mut train = crate::rng::stream(1, 1);
            let y = pool.forward(relu.forward(x.clone(), &mut Mode::Train { rng: &mut train }), &mut Mode::Train { rng: &mut train });
            let fused_y = fused_pool.forward(fused_relu.forward(x.clone(), &mut Mode::Train { rng: &mut train }), &mut Mode::Train { rng: &mut train });
            let bits = |a: &Array2<f32>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&y), bits(&fused_y), "outputs");
            let dy = Array2::from_shape_fn(y.dim(), |(n, i)| (n * 7 + i) as f32 * 0.01 - 0.3);
            let dx = relu.backward(pool.backward(dy.clone(), true, true).unwrap(), true, true).unwrap();
            let fused_dx = fused_relu.backward(fused_pool.backward(dy, true, true).unwrap(), true, true).unwrap();
            assert_eq!(bits(&dx), bits(&fused_dx), "input gradients");
            let (eval, fused_eval) = (relu.forward(x.clone(), &mut Mode::Eval), fused_relu.forward(x, &mut Mode::Eval));
            assert_eq!(bits(&eval), bits(&fused_eval), "evaluation still shows the ReLU's own output");
        }
    }

    #[test]
    fn only_a_plain_relu_hands_over() {
        use crate::nn::{Activation, ActivationKind};
        let shape = Shape::new(1, 4, 4);
        let mut leaky = Activation::new(ActivationKind::LeakyRelu(0.1), shape);
        let mut pool = MaxPool2d::new(shape, 2, 2);
        leaky.fuse_with_next(&mut pool);
        assert!(!leaky.handed_off && !pool.rectifies, "a leaky ReLU's negative side is not zero, so the pool cannot take it");
    }

    #[test]
    fn picks_window_maxima() {
        let mut layer = MaxPool2d::new(Shape::new(1, 2, 4), 2, 2);
        let x = ndarray::array![[1.0, 5.0, -1.0, -2.0, 3.0, 2.0, -4.0, -3.0]];
        assert_eq!(layer.forward(x, &mut Mode::Eval), ndarray::array![[5.0, -1.0]]);
    }
}
