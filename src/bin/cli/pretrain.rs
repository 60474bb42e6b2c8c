//! `pretrain`: trains a base model with the same core and writes a checkpoint
//! whose metadata records how to make it again.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use finetune_lab::data::TrainPool;
use finetune_lab::{encode_checkpoint, Checkpoint, CheckpointMeta, Trainer};

use super::train::{train_to_the_end, TrainArgs};

#[derive(Args)]
pub struct PretrainArgs {
    #[command(flatten)]
    train: TrainArgs,
    /// Train on these classes only (indices, comma-separated, e.g. 0,1,2,3,4); default: all.
    #[arg(long, value_delimiter = ',')]
    classes: Option<Vec<usize>>,
    /// Where to write the checkpoint, e.g. www/models/lenet5-mnist.ftlc.
    #[arg(long)]
    out: PathBuf,
}

pub fn run(args: PretrainArgs) -> Result<(), String> {
    let full = super::load_dataset(args.train.dataset_path())?;
    let dataset = match &args.classes {
        Some(classes) => full.with_classes(classes).map_err(|e| e.to_string())?,
        None => full,
    };
    let config = args.train.config()?;
    let (seed, epochs) = (config.seed, config.epochs);
    let mut trainer = Trainer::new(config, Arc::new(dataset)).map_err(|e| e.to_string())?;
    let summary = train_to_the_end(&mut trainer)?;
    let test_acc = summary["test_acc"].as_f64().unwrap_or(f64::NAN) as f32;
    let data = trainer.dataset().clone();
    let sizes = data.split_sizes();
    let meta = CheckpointMeta {
        source_dataset: data.name.clone(),
        classes: data.class_names.clone(),
        split: format!(
            "trained on {} training images of these classes ({}); test_acc on their {} test images (the dataset file's fixed split)",
            trainer.train_size(),
            match trainer.config().train_pool {
                TrainPool::All => "the whole training split".to_string(),
                pool => format!("the {pool:?} half of the training split: every other image of each class").to_lowercase(),
            },
            sizes.test
        ),
        seed,
        epochs,
        test_acc,
        test_images: sizes.test,
        augment: trainer.config().augment,
        command: format!("finetune-lab {}", std::env::args().skip(1).collect::<Vec<_>>().join(" ")),
    };
    let bytes = encode_checkpoint(&Checkpoint::from_model(trainer.model(), meta));
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create '{}': {e}", dir.display()))?;
    }
    std::fs::write(&args.out, &bytes).map_err(|e| format!("cannot write '{}': {e}", args.out.display()))?;
    let mut summary = summary;
    summary["wrote"] = serde_json::json!(args.out);
    summary["bytes"] = serde_json::json!(bytes.len());
    println!("{summary}");
    Ok(())
}
