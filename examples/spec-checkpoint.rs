//! Writes a checkpoint of any model spec with seeded random weights, for the
//! export check (`make test-export`): the presets the trainer builds do not
//! use every layer the core has (tanh, sigmoid, leaky ReLU, strides, a
//! convolution after a flatten), and the exporter must handle all of them.
//!
//! `cargo run --release --example spec-checkpoint -- SPEC.json OUT.ftlc [SEED]`
//!
//! BatchNorm's γ, β and running statistics get random values too (a new
//! layer's are 1, 0, 0 and 1, which would hide a mix-up between them).

use finetune_lab::rng::stream;
use finetune_lab::{encode_checkpoint, Checkpoint, CheckpointMeta, Init, ModelSpec, Sequential};
use rand::Rng;

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [spec_path, out, rest @ ..] = args.as_slice() else {
        return Err("usage: spec-checkpoint SPEC.json OUT.ftlc [SEED]".into());
    };
    let seed: u64 = rest.first().map_or(Ok(1), |s| s.parse()).map_err(|e| format!("seed: {e}"))?;
    let json = std::fs::read_to_string(spec_path).map_err(|e| format!("cannot read '{spec_path}': {e}"))?;
    let spec: ModelSpec = serde_json::from_str(&json).map_err(|e| format!("'{spec_path}' is not a model spec: {e}"))?;
    let mut model = Sequential::new(&spec, Init::HeUniform, seed).map_err(|e| e.to_string())?;
    let mut rng = stream(seed, 99);
    for slot in model.slots_mut() {
        if slot.layer.name() != "batch_norm" {
            continue;
        }
        for p in slot.layer.params_mut() {
            let range = match p.name {
                "running_var" => 0.3..2.0,
                "gamma" => 0.5..1.5,
                _ => -0.5..0.5,
            };
            p.values_mut().iter_mut().for_each(|v| *v = rng.gen_range(range.clone()));
        }
    }
    let classes = (0..model.output_shape().len()).map(|c| c.to_string()).collect();
    let meta = CheckpointMeta {
        source_dataset: "mnist.ftld.gz".into(),
        classes,
        split: "random weights, not trained".into(),
        seed,
        epochs: 0,
        test_acc: 0.0,
        test_images: 0,
        command: format!("spec-checkpoint {}", args.join(" ")),
        augment: Default::default(),
        config: None,
    };
    std::fs::write(out, encode_checkpoint(&Checkpoint::from_model(&model, meta))).map_err(|e| format!("cannot write '{out}': {e}"))?;
    println!("wrote {out}");
    Ok(())
}
