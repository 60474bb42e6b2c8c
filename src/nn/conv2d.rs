//! 2-D convolution layer (cross-correlation, as every framework computes it)
//! with stride and zero padding, over any number of input channels.
//!
//! The layer holds its parameters, the input a training pass keeps for
//! backward, and a [`ConvPlan`]: the plan chooses the algorithm (direct,
//! gathered GEMM or im2col, see `kernels::conv` for why each) and owns all
//! its scratch. The weights are stored `(filters, C·k·k)`, the layout PyTorch
//! calls `(F, C, kh, kw)`.

use ndarray::Array2;

use super::{expect_width, standard_layout, Layer, Mode, Param, ParamKind, Shape};
use crate::init::Init;
use crate::kernels::{ConvGeometry, ConvPlan};
use crate::rng::Rng;

pub struct Conv2d {
    params: [Param; 2],
    plan: ConvPlan,
    /// The input of the last training forward pass, which backward reads
    /// (the plan keeps what it derived from it).
    cached_input: Option<Array2<f32>>,
}

impl Conv2d {
    pub fn new(input: Shape, filters: usize, kernel: usize, stride: usize, padding: usize, init: Init, rng: &mut Rng) -> Self {
        let geometry = ConvGeometry { channels: input.channels, height: input.height, width: input.width, kernel_h: kernel, kernel_w: kernel, stride, padding };
        let fan_in = input.channels * kernel * kernel;
        let mut weight = Param::new("weight", ParamKind::Weight, &[filters, input.channels, kernel, kernel]);
        init.fill(weight.values_mut(), fan_in, filters * kernel * kernel, rng);
        let bias = Param::new("bias", ParamKind::NoDecay, &[filters]);
        Conv2d { params: [weight, bias], plan: ConvPlan::new(geometry, filters), cached_input: None }
    }
}

impl Layer for Conv2d {
    fn name(&self) -> &'static str {
        "conv2d"
    }
    fn input_shape(&self) -> Shape {
        let g = self.plan.geometry();
        Shape::new(g.channels, g.height, g.width)
    }
    fn output_shape(&self) -> Shape {
        let g = self.plan.geometry();
        Shape::new(self.plan.filters(), g.out_height(), g.out_width())
    }

    fn forward(&mut self, x: Array2<f32>, mode: &mut Mode) -> Array2<f32> {
        expect_width("conv2d", &x, self.input_shape());
        let x = standard_layout(x);
        let batch = x.nrows();
        let mut y = Array2::<f32>::zeros((batch, self.plan.output_len()));
        let [weight, bias] = &self.params;
        let (input, out) = (x.as_slice().expect("standard layout"), y.as_slice_mut().expect("fresh array"));
        self.plan.forward(batch, input, weight.values(), bias.values(), out, mode.is_train());
        self.cached_input = mode.is_train().then_some(x);
        y
    }

    fn backward(&mut self, grad_out: Array2<f32>, param_grads: bool, input_grad: bool) -> Option<Array2<f32>> {
        let x = self.cached_input.take().expect("conv2d: backward without a training forward pass");
        let input_len = self.input_shape().len();
        if grad_out.nrows() == 0 {
            // Layers below every trainable one get an empty gradient (see
            // `Sequential::backward`): there is nothing to compute, only what
            // the forward pass kept to release.
            self.plan.clear();
            return input_grad.then(|| Array2::zeros((0, input_len)));
        }
        let grad_out = grad_out.as_standard_layout();
        let mut dx = input_grad.then(|| Array2::<f32>::zeros((grad_out.nrows(), input_len)));
        let [weight, bias] = &mut self.params;
        let grads = param_grads.then(|| (weight.grad.as_slice_mut().expect("gradients are contiguous"), bias.grads_mut()));
        let dx_values = dx.as_mut().map(|dx| dx.as_slice_mut().expect("fresh array"));
        let (input, weights) = (x.as_slice().expect("standard layout"), weight.value.as_slice().expect("parameters are contiguous"));
        self.plan.backward(input, weights, grad_out.as_slice().expect("standard layout"), grads, dx_values);
        dx
    }

    fn clear_cache(&mut self) {
        self.cached_input = None;
        self.plan.clear();
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
    fn chunked_batches_match_image_by_image() {
        // 28×28 with a 5×5 kernel: three images per chunk, so a batch of five spans two chunks.
        let make = || Conv2d::new(Shape::new(1, 28, 28), 4, 5, 1, 2, Init::HeUniform, &mut stream(9, 1));
        let mut batched = make();
        assert_eq!(batched.plan.images_per_chunk(), 3);
        let x = crate::nn::gradcheck::random_input(5, 784, 3);
        let dy = crate::nn::gradcheck::random_input(5, 4 * 784, 4);
        let mut rng = stream(1, 1);
        let y = batched.forward(x.clone(), &mut Mode::Train { rng: &mut rng });
        let dx = batched.backward(dy.clone(), true, true).unwrap();
        let mut single = make();
        for n in 0..5 {
            let xi = x.slice(ndarray::s![n..n + 1, ..]).to_owned();
            let yi = single.forward(xi, &mut Mode::Train { rng: &mut rng });
            let dxi = single.backward(dy.slice(ndarray::s![n..n + 1, ..]).to_owned(), true, true).unwrap();
            assert!(yi.iter().zip(y.row(n)).all(|(a, b)| (a - b).abs() < 1e-5), "output of image {n}");
            assert!(dxi.iter().zip(dx.row(n)).all(|(a, b)| (a - b).abs() < 1e-5), "input gradient of image {n}");
        }
        for (a, b) in batched.params()[0].grads().iter().zip(single.params()[0].grads()) {
            assert!((a - b).abs() < 1e-3 * (1.0 + b.abs()), "weight gradient {a} vs {b}");
        }
    }

    fn trained_forward() -> Conv2d {
        let mut layer = Conv2d::new(Shape::new(2, 9, 9), 3, 3, 1, 1, Init::HeUniform, &mut stream(5, 1));
        let x = crate::nn::gradcheck::random_input(2, 2 * 81, 1);
        layer.forward(x, &mut Mode::Train { rng: &mut stream(1, 1) });
        layer
    }

    #[test]
    fn an_empty_gradient_adds_nothing_and_releases_the_forward_pass() {
        let mut layer = trained_forward();
        assert!(layer.backward(Array2::zeros((0, 3 * 81)), true, false).is_none());
        assert!(layer.params().iter().all(|p| p.grads().iter().all(|&g| g == 0.0)), "an empty gradient adds nothing");
        assert!(layer.cached_input.is_none());
    }

    #[test]
    #[should_panic(expected = "conv2d: backward without a training forward pass")]
    fn backward_after_clear_cache_has_nothing_to_work_from() {
        let mut layer = trained_forward();
        layer.clear_cache();
        layer.backward(Array2::zeros((2, 3 * 81)), true, true);
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
