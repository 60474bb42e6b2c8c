//! Each optimiser's update against expected numbers from
//! `tests/reference/optimizers.py` (float64 reference; we compare f32 results
//! to 1e-5). Output of that script, pasted:
//!
//! ```text
//! sgd [0.48, -1.0, 2.01]
//! momentum [0.4269, -0.9658, 2.0037]
//! nesterov [0.41421, -0.96922, 2.01333]
//! adam [0.2938915, -0.841581, 1.940917]
//! rmsprop [0.0688875, -0.9188225, 1.9016076]
//! adagrad [0.3618206, -0.9707107, 1.9688462]
//! ```

use super::*;
use crate::init::Init;
use crate::model::{ModelSpec, Sequential};
use crate::nn::{LayerSpec, Shape};

const P0: [f32; 3] = [0.5, -1.0, 2.0];
const GRADS: [[f32; 3]; 3] = [[0.1, -0.2, 0.3], [0.4, 0.0, -0.5], [-0.3, 0.2, 0.1]];

fn three_steps(spec: OptimizerSpec) -> Vec<f32> {
    let mut p = P0.to_vec();
    let mut state = vec![vec![0.0; 3]; spec.state_buffers()];
    for (t, g) in GRADS.iter().enumerate() {
        spec.update(&mut p, g, &mut state, 0.1, t as u64 + 1);
    }
    p
}

#[test]
fn updates_match_the_reference_script() {
    let cases: [(&str, [f32; 3]); 6] = [
        ("sgd", [0.48, -1.0, 2.01]),
        ("momentum", [0.4269, -0.9658, 2.0037]),
        ("nesterov", [0.41421, -0.96922, 2.01333]),
        ("adam", [0.2938915, -0.841581, 1.940917]),
        ("rmsprop", [0.0688875, -0.9188225, 1.9016076]),
        ("adagrad", [0.3618206, -0.9707107, 1.9688462]),
    ];
    for (name, expected) in cases {
        let got = three_steps(OptimizerSpec::named(name).unwrap());
        for (g, e) in got.iter().zip(expected) {
            assert!((g - e).abs() < 1e-5, "{name}: got {got:?}, expected {expected:?}");
        }
    }
}

#[test]
fn invalid_hyper_parameters_are_rejected() {
    assert!(OptimizerSpec::Sgd { momentum: 1.0, nesterov: false }.validate().is_err());
    assert!(OptimizerSpec::Adam { beta1: 0.9, beta2: 0.999, eps: 0.0 }.validate().is_err());
    assert!(OptimizerSpec::named("lbfgs").is_err());
}

fn tiny_model() -> Sequential {
    let spec = ModelSpec {
        input: Shape::flat(3),
        layers: vec![LayerSpec::Dense { units: 2, init: None }, LayerSpec::Relu, LayerSpec::Dense { units: 2, init: None }],
    };
    let mut model = Sequential::new(&spec, Init::XavierUniform, 3).unwrap();
    for slot in model.slots_mut() {
        for p in slot.layer.params_mut() {
            p.grad.fill(1.0);
        }
    }
    model
}

#[test]
fn frozen_layers_stay_bit_identical_and_multipliers_scale_the_rate() {
    let mut model = tiny_model();
    model.set_frozen(0, true).unwrap();
    model.slots_mut()[2].lr_multiplier = 0.5;
    let before: Vec<Vec<f32>> = model.params().map(|p| p.values().to_vec()).collect();
    let mut opt = OptimizerState::new(OptimizerSpec::named("sgd").unwrap(), &model).unwrap();
    opt.apply_step(&mut model, 0.1, Penalty::default());
    let after: Vec<Vec<f32>> = model.params().map(|p| p.values().to_vec()).collect();
    assert_eq!(before[0], after[0], "frozen weight moved");
    assert_eq!(before[1], after[1], "frozen bias moved");
    for (b, a) in before[2].iter().zip(&after[2]) {
        assert!((b - 0.05 - a).abs() < 1e-6, "lr × multiplier × grad = 0.05");
    }
}

#[test]
fn penalties_apply_to_weights_not_biases() {
    let mut model = tiny_model();
    for slot in model.slots_mut() {
        for p in slot.layer.params_mut() {
            p.grad.fill(0.0);
        }
    }
    let before: Vec<Vec<f32>> = model.params().map(|p| p.values().to_vec()).collect();
    let mut opt = OptimizerState::new(OptimizerSpec::named("sgd").unwrap(), &model).unwrap();
    opt.apply_step(&mut model, 1.0, Penalty { l1: 0.01, l2: 0.1 });
    let after: Vec<Vec<f32>> = model.params().map(|p| p.values().to_vec()).collect();
    for (b, a) in before[0].iter().zip(&after[0]) {
        let expected = b - (0.1 * b + 0.01 * b.signum());
        assert!((a - expected).abs() < 1e-6);
    }
    assert_eq!(before[1], after[1], "biases take no penalty");
}
