//! Max pooling over square windows (no padding). The backward pass routes
//! each gradient to the input that won its window, remembered as an index.

use ndarray::Array2;

use super::{expect_width, Layer, Mode, Shape};
use crate::kernels;

pub struct MaxPool2d {
    input: Shape,
    size: usize,
    stride: usize,
    /// For every output of the last training batch, the flat index of its maximum in the input row.
    argmax: Option<Vec<u32>>,
}

impl MaxPool2d {
    pub fn new(input: Shape, size: usize, stride: usize) -> Self {
        MaxPool2d { input, size, stride, argmax: None }
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
        let mut y = Array2::<f32>::zeros((batch, out_shape.len()));
        let mut argmax = vec![0u32; batch * out_shape.len()];
        for ((image, mut out), arg) in x.outer_iter().zip(y.outer_iter_mut()).zip(argmax.chunks_exact_mut(out_shape.len().max(1))) {
            let image = image.to_slice().expect("standard layout");
            let out = out.as_slice_mut().expect("row of a fresh array");
            if self.size == 2 && self.stride == 2 {
                kernels::max_pool_2x2(image, out, arg, self.input.channels, h, w);
                continue;
            }
            for c in 0..self.input.channels {
                for oy in 0..oh {
                    for ox in 0..ow {
                        // Start from the window's first input so an all-NaN window still routes somewhere.
                        let mut best_at = c * h * w + oy * self.stride * w + ox * self.stride;
                        let mut best = image[best_at];
                        for ky in 0..self.size {
                            let row = c * h * w + (oy * self.stride + ky) * w + ox * self.stride;
                            for (kx, &v) in image[row..row + self.size].iter().enumerate() {
                                // `>` keeps the first maximum.
                                if v > best {
                                    best = v;
                                    best_at = row + kx;
                                }
                            }
                        }
                        let o = c * oh * ow + oy * ow + ox;
                        out[o] = best;
                        arg[o] = best_at as u32;
                    }
                }
            }
        }
        self.argmax = if mode.is_train() { Some(argmax) } else { None };
        y
    }

    fn backward(&mut self, grad_out: Array2<f32>, _param_grads: bool, input_grad: bool) -> Option<Array2<f32>> {
        let argmax = self.argmax.take().expect("max_pool2d: backward without a training forward pass");
        if !input_grad {
            return None;
        }
        let out_len = self.output_shape().len();
        let grad_out = grad_out.as_standard_layout();
        let mut dx = Array2::<f32>::zeros((grad_out.nrows(), self.input.len()));
        for ((dy, mut dx_image), arg) in grad_out.outer_iter().zip(dx.outer_iter_mut()).zip(argmax.chunks_exact(out_len.max(1))) {
            let dx_image = dx_image.as_slice_mut().expect("row of a fresh array");
            for (&g, &at) in dy.iter().zip(arg) {
                dx_image[at as usize] += g;
            }
        }
        Some(dx)
    }

    fn clear_cache(&mut self) {
        self.argmax = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::gradcheck::check_layer_with_input;
    use rand::seq::SliceRandom;

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
    fn picks_window_maxima() {
        let mut layer = MaxPool2d::new(Shape::new(1, 2, 4), 2, 2);
        let x = ndarray::array![[1.0, 5.0, -1.0, -2.0, 3.0, 2.0, -4.0, -3.0]];
        assert_eq!(layer.forward(x, &mut Mode::Eval), ndarray::array![[5.0, -1.0]]);
    }
}
