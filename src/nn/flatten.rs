//! Flatten: `(C, H, W)` → `C·H·W` features. Activations are already stored
//! flat per example, so only the declared shape changes.

use ndarray::Array2;

use super::{expect_width, Layer, Mode, Shape};

pub struct Flatten {
    input: Shape,
}

impl Flatten {
    pub fn new(input: Shape) -> Self {
        Flatten { input }
    }
}

impl Layer for Flatten {
    fn name(&self) -> &'static str {
        "flatten"
    }
    fn input_shape(&self) -> Shape {
        self.input
    }
    fn output_shape(&self) -> Shape {
        Shape::flat(self.input.len())
    }
    fn forward(&mut self, x: Array2<f32>, _mode: &mut Mode) -> Array2<f32> {
        expect_width("flatten", &x, self.input);
        x
    }
    fn backward(&mut self, grad_out: Array2<f32>, _param_grads: bool, input_grad: bool) -> Option<Array2<f32>> {
        input_grad.then_some(grad_out)
    }
    /// Flatten keeps nothing: its input and output are the same array.
    fn clear_cache(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::gradcheck::check_layer;

    #[test]
    fn gradients_match_finite_differences() {
        let mut layer = Flatten::new(Shape::new(2, 3, 3));
        assert_eq!(layer.output_shape(), Shape::flat(18));
        check_layer(&mut layer, 2, 4);
    }
}
