//! Softmax cross-entropy on logits, computed with the log-sum-exp shift so it
//! neither overflows on large logits nor takes the log of zero.

use ndarray::Array2;

/// Mean loss over the batch, its gradient with respect to the logits (already
/// divided by the batch size), and how many predictions were right.
pub struct LossOutput {
    pub loss: f32,
    pub grad: Array2<f32>,
    pub correct: usize,
}

/// `labels[i]` is the class of row `i`; every label must be < the number of columns.
pub fn softmax_cross_entropy(logits: &Array2<f32>, labels: &[u8]) -> LossOutput {
    let (batch, classes) = logits.dim();
    assert_eq!(labels.len(), batch, "one label per row");
    let mut grad = Array2::<f32>::zeros((batch, classes));
    let mut total = 0.0f64;
    let mut correct = 0;
    let scale = 1.0 / batch.max(1) as f32;
    for ((row, mut g), &label) in logits.outer_iter().zip(grad.outer_iter_mut()).zip(labels) {
        let label = label as usize;
        assert!(label < classes, "label {label} out of range for {classes} classes");
        let (max, argmax) = row_max(row.iter().copied());
        let sum_exp: f32 = row.iter().map(|&z| (z - max).exp()).sum();
        let log_sum = sum_exp.ln();
        // loss = log Σ exp(z) − z_label, with the max subtracted from every z.
        total += (log_sum - (row[label] - max)) as f64;
        for (gi, &z) in g.iter_mut().zip(row.iter()) {
            *gi = (z - max).exp() / sum_exp * scale;
        }
        g[label] -= scale;
        if argmax == label {
            correct += 1;
        }
    }
    LossOutput { loss: (total / batch.max(1) as f64) as f32, grad, correct }
}

/// Largest value and its first index; NaN propagates into the max so a broken
/// model shows a NaN loss instead of a plausible number.
fn row_max(values: impl Iterator<Item = f32>) -> (f32, usize) {
    let mut best = f32::NEG_INFINITY;
    let mut at = 0;
    for (i, v) in values.enumerate() {
        if v.is_nan() {
            return (f32::NAN, i);
        }
        if v > best {
            best = v;
            at = i;
        }
    }
    (best, at)
}

/// Index of the largest logit in each row.
pub fn predictions(logits: &Array2<f32>) -> Vec<usize> {
    logits.outer_iter().map(|row| row_max(row.iter().copied()).1).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn matches_hand_computed_values() {
        // Logits (0, ln 3) with label 1: p = (1/4, 3/4), loss = −ln(3/4).
        let out = softmax_cross_entropy(&array![[0.0, 3.0f32.ln()]], &[1]);
        assert!((out.loss - (-(0.75f32).ln())).abs() < 1e-6);
        assert!((out.grad[[0, 0]] - 0.25).abs() < 1e-6);
        assert!((out.grad[[0, 1]] + 0.25).abs() < 1e-6);
        assert_eq!(out.correct, 1);
    }

    #[test]
    fn stable_for_huge_logits() {
        let out = softmax_cross_entropy(&array![[1000.0, -1000.0, 0.0]], &[1]);
        assert!((out.loss - 2000.0).abs() < 1e-2, "loss {}", out.loss);
        assert!(out.grad.iter().all(|g| g.is_finite()));
    }

    #[test]
    fn nan_logits_give_nan_loss() {
        assert!(softmax_cross_entropy(&array![[f32::NAN, 0.0]], &[0]).loss.is_nan());
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let logits = array![[0.3f32, -1.2, 2.0, 0.1], [1.5, 0.2, -0.7, 0.0]];
        let labels = [2u8, 0];
        let out = softmax_cross_entropy(&logits, &labels);
        let eps = 1e-3f32;
        for i in 0..logits.len() {
            let mut up = logits.clone();
            up.as_slice_mut().unwrap()[i] += eps;
            let mut down = logits.clone();
            down.as_slice_mut().unwrap()[i] -= eps;
            let numeric = (softmax_cross_entropy(&up, &labels).loss - softmax_cross_entropy(&down, &labels).loss) / (2.0 * eps);
            let analytic = out.grad.as_slice().unwrap()[i];
            assert!((numeric - analytic).abs() < 1e-3, "logit {i}: {analytic} vs {numeric}");
        }
    }
}
