//! RMSprop: divide each step by a running root-mean-square of recent gradients.

pub fn update(value: &mut [f32], grad: &[f32], state: &mut [Vec<f32>], lr: f32, rho: f32, eps: f32) {
    for ((p, &g), s) in value.iter_mut().zip(grad).zip(state[0].iter_mut()) {
        *s = rho * *s + (1.0 - rho) * g * g;
        *p -= lr * g / (s.sqrt() + eps);
    }
}
