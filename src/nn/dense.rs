//! Fully connected layer: `y = x·Wᵀ + b`, with `W` stored `(out, in)`.

use ndarray::Array2;

use super::{expect_width, standard_layout, Layer, Mode, Param, ParamKind, Shape};
use crate::init::Init;
use crate::kernels;
use crate::rng::Rng;

pub struct Dense {
    inputs: usize,
    outputs: usize,
    params: [Param; 2],
    /// The input of the last training forward pass, needed for `dW`.
    cached_input: Option<Array2<f32>>,
}

impl Dense {
    pub fn new(inputs: usize, outputs: usize, init: Init, rng: &mut Rng) -> Self {
        let mut weight = Param::new("weight", ParamKind::Weight, &[outputs, inputs]);
        init.fill(weight.values_mut(), inputs, outputs, rng);
        let bias = Param::new("bias", ParamKind::NoDecay, &[outputs]);
        Dense { inputs, outputs, params: [weight, bias], cached_input: None }
    }
}

impl Layer for Dense {
    fn name(&self) -> &'static str {
        "dense"
    }
    fn input_shape(&self) -> Shape {
        Shape::flat(self.inputs)
    }
    fn output_shape(&self) -> Shape {
        Shape::flat(self.outputs)
    }

    fn forward(&mut self, x: Array2<f32>, mode: &mut Mode) -> Array2<f32> {
        expect_width("dense", &x, self.input_shape());
        let x = standard_layout(x);
        let batch = x.nrows();
        let mut y = Array2::<f32>::zeros((batch, self.outputs));
        let [weight, bias] = &self.params;
        let out = y.as_slice_mut().expect("fresh array");
        kernels::gemm_nt(batch, self.outputs, self.inputs, x.as_slice().expect("standard layout"), weight.values(), out, false);
        if self.outputs > 0 {
            for row in out.chunks_exact_mut(self.outputs) {
                for (v, b) in row.iter_mut().zip(bias.values()) {
                    *v += b;
                }
            }
        }
        self.cached_input = if mode.is_train() { Some(x) } else { None };
        y
    }

    fn backward(&mut self, grad_out: Array2<f32>, param_grads: bool, input_grad: bool) -> Option<Array2<f32>> {
        let x = self.cached_input.take().expect("dense: backward without a training forward pass");
        let dy = grad_out.as_standard_layout();
        let dy = dy.as_slice().expect("standard layout");
        let batch = x.nrows();
        let [weight, bias] = &mut self.params;
        if param_grads {
            kernels::gemm_tn(self.outputs, self.inputs, batch, dy, x.as_slice().expect("standard layout"), weight.grads_mut(), true);
            let db = bias.grads_mut();
            if self.outputs > 0 {
                for row in dy.chunks_exact(self.outputs) {
                    for (g, d) in db.iter_mut().zip(row) {
                        *g += d;
                    }
                }
            }
        }
        if !input_grad {
            return None;
        }
        let mut dx = Array2::<f32>::zeros((batch, self.inputs));
        kernels::gemm_nn(batch, self.inputs, self.outputs, dy, weight.values(), dx.as_slice_mut().expect("fresh array"), false);
        Some(dx)
    }

    fn clear_cache(&mut self) {
        self.cached_input = None;
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
        let mut layer = Dense::new(7, 5, Init::XavierUniform, &mut stream(1, 1));
        check_layer(&mut layer, 3, 11);
    }

    #[test]
    fn computes_affine_map() {
        let mut layer = Dense::new(2, 1, Init::Uniform { scale: 0.0 }, &mut stream(1, 1));
        layer.params_mut()[0].values_mut().copy_from_slice(&[2.0, -1.0]);
        layer.params_mut()[1].values_mut().copy_from_slice(&[0.5]);
        let y = layer.forward(ndarray::array![[1.0, 3.0], [0.0, 0.0]], &mut Mode::Eval);
        assert_eq!(y, ndarray::array![[-0.5], [0.5]]);
    }
}
