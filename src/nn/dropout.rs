//! Inverted dropout: while training each unit is zeroed with probability
//! `rate` and the survivors are scaled by `1/(1−rate)`, so evaluation is the
//! identity and needs no rescaling.

use ndarray::Array2;
use rand::Rng as _;

use super::{expect_width, Layer, Mode, Shape};

pub struct Dropout {
    shape: Shape,
    rate: f32,
    /// Per-unit multiplier of the last training pass: 0 or 1/(1−rate).
    mask: Option<Array2<f32>>,
}

impl Dropout {
    pub fn new(shape: Shape, rate: f32) -> Self {
        Dropout { shape, rate, mask: None }
    }
}

impl Layer for Dropout {
    fn name(&self) -> &'static str {
        "dropout"
    }
    fn input_shape(&self) -> Shape {
        self.shape
    }
    fn output_shape(&self) -> Shape {
        self.shape
    }

    fn forward(&mut self, mut x: Array2<f32>, mode: &mut Mode) -> Array2<f32> {
        expect_width("dropout", &x, self.shape);
        let Mode::Train { rng } = mode else {
            return x;
        };
        if self.rate == 0.0 {
            self.mask = None;
            return x;
        }
        let keep = 1.0 - self.rate;
        let scale = 1.0 / keep;
        let mask = Array2::from_shape_simple_fn(x.raw_dim(), || if rng.gen::<f32>() < keep { scale } else { 0.0 });
        x *= &mask;
        self.mask = Some(mask);
        x
    }

    fn backward(&mut self, mut grad: Array2<f32>, _param_grads: bool, input_grad: bool) -> Option<Array2<f32>> {
        if !input_grad {
            return None;
        }
        if let Some(mask) = self.mask.take() {
            grad *= &mask;
        }
        Some(grad)
    }

    fn clear_cache(&mut self) {
        self.mask = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::gradcheck::check_layer;
    use crate::rng::stream;

    #[test]
    fn gradients_match_finite_differences() {
        check_layer(&mut Dropout::new(Shape::flat(20), 0.5), 4, 3);
    }

    #[test]
    fn identity_at_evaluation_and_mean_preserving_in_training() {
        let mut layer = Dropout::new(Shape::flat(10_000), 0.3);
        let x = Array2::from_elem((1, 10_000), 1.0f32);
        assert_eq!(layer.forward(x.clone(), &mut Mode::Eval), x);
        let mut rng = stream(4, 3);
        let y = layer.forward(x, &mut Mode::Train { rng: &mut rng });
        let dropped = y.iter().filter(|v| **v == 0.0).count() as f32 / 10_000.0;
        assert!((dropped - 0.3).abs() < 0.02, "dropped fraction {dropped}");
        assert!((y.mean().unwrap() - 1.0).abs() < 0.03);
    }
}
