//! Adam: running means of the gradient and its square, bias-corrected for
//! their zero start.

#[allow(clippy::too_many_arguments)]
pub fn update(value: &mut [f32], grad: &[f32], state: &mut [Vec<f32>], lr: f32, beta1: f32, beta2: f32, eps: f32, step: u64) {
    let (first, second) = state.split_at_mut(1);
    let (m, v) = (&mut first[0], &mut second[0]);
    let t = step.min(i32::MAX as u64) as i32;
    let correction1 = 1.0 - beta1.powi(t);
    let correction2 = 1.0 - beta2.powi(t);
    for (((p, &g), m), v) in value.iter_mut().zip(grad).zip(m.iter_mut()).zip(v.iter_mut()) {
        *m = beta1 * *m + (1.0 - beta1) * g;
        *v = beta2 * *v + (1.0 - beta2) * g * g;
        let m_hat = *m / correction1;
        let v_hat = *v / correction2;
        *p -= lr * m_hat / (v_hat.sqrt() + eps);
    }
}
