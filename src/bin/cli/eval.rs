//! `eval`: a checkpoint's accuracy on a dataset split, overall, per class and
//! as a confusion matrix (the page's "Evaluate" measures the same way).

use std::path::PathBuf;

use clap::Args;
use finetune_lab::nn::Mode;
use finetune_lab::train::{checkpoint_dataset, per_class_accuracy};
use finetune_lab::{decode_checkpoint, Split};
use serde_json::json;

#[derive(Args)]
pub struct EvalArgs {
    /// A checkpoint file (.ftlc).
    #[arg(long)]
    checkpoint: PathBuf,
    /// A dataset file; the checkpoint's classes are looked up in it by name.
    #[arg(long)]
    dataset: PathBuf,
    /// train, validation or test.
    #[arg(long, default_value = "test")]
    split: String,
    /// Also write the first --limit images of the split (pixel bytes), their labels and the
    /// model's logits as JSON, for checking an exported model against the core.
    #[arg(long)]
    dump_logits: Option<PathBuf>,
    /// Images in --dump-logits (from the start of the split).
    #[arg(long, default_value_t = 200)]
    limit: usize,
}

pub fn run(args: EvalArgs) -> Result<(), String> {
    let bytes = std::fs::read(&args.checkpoint).map_err(|e| format!("cannot read checkpoint '{}': {e}", args.checkpoint.display()))?;
    let checkpoint = decode_checkpoint(&args.checkpoint.display().to_string(), &bytes).map_err(|e| e.to_string())?;
    let split = Split::from_name(&args.split).map_err(|e| e.to_string())?;
    let full = super::load_dataset(&args.dataset)?;
    let dataset = checkpoint_dataset(&checkpoint, &full).map_err(|e| e.to_string())?;
    let mut model = checkpoint.build_model().map_err(|e| e.to_string())?;
    let indices = dataset.indices(split);
    let report = per_class_accuracy(&mut model, &dataset, &indices);
    if let Some(path) = &args.dump_logits {
        let part = &indices[..args.limit.min(indices.len())];
        let (x, labels) = dataset.batch(part);
        let logits = model.forward(x, &mut Mode::Eval);
        let dump = json!({"checkpoint": args.checkpoint, "dataset": dataset.name, "split": args.split, "classes": checkpoint.meta.classes,
                          "shape": [dataset.shape.channels, dataset.shape.height, dataset.shape.width],
                          "pixels": part.iter().map(|&i| dataset.image(i)).collect::<Vec<_>>(), "labels": labels,
                          "logits": logits.outer_iter().map(|row| row.to_vec()).collect::<Vec<_>>()});
        std::fs::write(path, dump.to_string()).map_err(|e| format!("cannot write '{}': {e}", path.display()))?;
    }
    println!(
        "{}",
        json!({"checkpoint": args.checkpoint, "dataset": dataset.name, "split": args.split, "images": indices.len(),
               "loss": report.loss, "acc": report.acc, "per_class": report.per_class, "confusion": report.confusion,
               "recorded_test_acc": checkpoint.meta.test_acc})
    );
    Ok(())
}
