//! Numeric gradient checks (central differences) for layers, as ConvNetJS and
//! micrograd do: the analytic gradients a layer's `backward` reports must
//! match the change in a scalar loss when each input or weight is nudged.

use ndarray::Array2;
use rand::Rng as _;

use super::{Layer, Mode};
use crate::rng::{stream, Rng};

const EPS: f32 = 1e-2;

/// Random input of the layer's width whose entries are at least 0.05 away
/// from zero, so a nudge of `EPS` never crosses the kink of ReLU-like layers.
pub fn random_input(batch: usize, width: usize, seed: u64) -> Array2<f32> {
    let mut rng = stream(seed, 99);
    Array2::from_shape_fn((batch, width), |_| {
        let magnitude: f32 = rng.gen_range(0.05..1.0);
        if rng.gen_bool(0.5) {
            magnitude
        } else {
            -magnitude
        }
    })
}

pub fn check_layer(layer: &mut dyn Layer, batch: usize, seed: u64) {
    let x = random_input(batch, layer.input_shape().len(), seed);
    check_layer_with_input(layer, x, seed);
}

/// Loss = Σ forward(x) ⊙ r for a fixed random `r`; every forward pass uses a
/// generator with the same seed so stochastic layers (dropout) draw the same mask.
pub fn check_layer_with_input(layer: &mut dyn Layer, x: Array2<f32>, seed: u64) {
    let batch = x.nrows();
    let out_width = layer.output_shape().len();
    let mut rng = stream(seed, 98);
    let r = Array2::from_shape_fn((batch, out_width), |_| rng.gen_range(-1.0f32..1.0));

    let loss = |layer: &mut dyn Layer, x: &Array2<f32>| -> f64 {
        let mut mask_rng: Rng = stream(seed, 97);
        let y = layer.forward(x.clone(), &mut Mode::Train { rng: &mut mask_rng });
        y.iter().zip(r.iter()).map(|(a, b)| (*a as f64) * (*b as f64)).sum()
    };

    for p in layer.params_mut() {
        p.grad.fill(0.0);
    }
    loss(layer, &x);
    let dx = layer.backward(r.clone(), true, true).expect("input gradient requested");

    // Inputs.
    let mut probe = x.clone();
    for i in 0..x.len() {
        let original = probe.as_slice().unwrap()[i];
        probe.as_slice_mut().unwrap()[i] = original + EPS;
        let up = loss(layer, &probe);
        probe.as_slice_mut().unwrap()[i] = original - EPS;
        let down = loss(layer, &probe);
        probe.as_slice_mut().unwrap()[i] = original;
        assert_close(dx.as_slice().unwrap()[i], (up - down) / (2.0 * EPS as f64), layer.name(), "input", i);
    }

    // Parameters.
    let analytic: Vec<Vec<f32>> = layer.params().iter().map(|p| p.grads().to_vec()).collect();
    for (pi, grads) in analytic.iter().enumerate() {
        if layer.params()[pi].kind == super::ParamKind::Statistic {
            continue; // running statistics are not trained; they have no gradient
        }
        for (i, &g) in grads.iter().enumerate() {
            let original = layer.params()[pi].values()[i];
            layer.params_mut()[pi].values_mut()[i] = original + EPS;
            let up = loss(layer, &x);
            layer.params_mut()[pi].values_mut()[i] = original - EPS;
            let down = loss(layer, &x);
            layer.params_mut()[pi].values_mut()[i] = original;
            assert_close(g, (up - down) / (2.0 * EPS as f64), layer.name(), layer.params()[pi].name, i);
        }
    }
}

fn assert_close(analytic: f32, numeric: f64, layer: &str, what: &str, index: usize) {
    let (a, n) = (analytic as f64, numeric);
    let tolerance = 2e-3 + 1e-2 * a.abs().max(n.abs());
    assert!((a - n).abs() <= tolerance, "{layer}: gradient of {what}[{index}] is {a}, finite differences give {n}");
}
