//! SGD with optional (Nesterov) momentum, in PyTorch's formulation where the
//! velocity accumulates raw gradients and the learning rate applies last.

pub fn update(value: &mut [f32], grad: &[f32], state: &mut [Vec<f32>], lr: f32, momentum: f32, nesterov: bool) {
    if momentum == 0.0 {
        for (p, g) in value.iter_mut().zip(grad) {
            *p -= lr * g;
        }
        return;
    }
    let velocity = &mut state[0];
    for ((p, &g), v) in value.iter_mut().zip(grad).zip(velocity.iter_mut()) {
        *v = momentum * *v + g;
        let direction = if nesterov { g + momentum * *v } else { *v };
        *p -= lr * direction;
    }
}
