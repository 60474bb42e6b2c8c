//! Adagrad: divide each step by the root of all squared gradients so far, so
//! often-updated parameters slow down.

pub fn update(value: &mut [f32], grad: &[f32], state: &mut [Vec<f32>], lr: f32, eps: f32) {
    for ((p, &g), s) in value.iter_mut().zip(grad).zip(state[0].iter_mut()) {
        *s += g * g;
        *p -= lr * g / (s.sqrt() + eps);
    }
}
