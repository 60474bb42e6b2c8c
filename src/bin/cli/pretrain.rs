//! `pretrain`: trains a base model with the same core and writes a checkpoint
//! whose metadata records how to make it again.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use finetune_lab::{encode_checkpoint, Trainer};

use super::train::{train_to_the_end, TrainArgs};

#[derive(Args)]
pub struct PretrainArgs {
    #[command(flatten)]
    train: TrainArgs,
    /// Train on these classes only (indices, comma-separated, e.g. 0,1,2,3,4); default: all.
    #[arg(long, value_delimiter = ',')]
    classes: Option<Vec<usize>>,
    /// A deliberately skewed source set, CLASS:KEEP (class index, after
    /// --classes): that class keeps only its first KEEP training images.
    #[arg(long)]
    skew: Option<String>,
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
    let dataset = match &args.skew {
        Some(skew) => {
            let (class, keep) = parse_skew(skew)?;
            dataset.with_training_cap(class, keep).map_err(|e| e.to_string())?
        }
        None => dataset,
    };
    let config = args.train.config()?;
    let mut trainer = Trainer::new(config, Arc::new(dataset)).map_err(|e| e.to_string())?;
    let summary = train_to_the_end(&mut trainer)?;
    let test_acc = summary["test_acc"].as_f64().unwrap_or(f64::NAN) as f32;
    let command = format!("finetune-lab {}", std::env::args().skip(1).collect::<Vec<_>>().join(" "));
    let mut checkpoint = trainer.checkpoint(Some(test_acc), command);
    if let Some(skew) = &args.skew {
        let (class, keep) = parse_skew(skew)?;
        let name = &checkpoint.meta.classes[class];
        checkpoint.meta.split = format!("{}; deliberately skewed: class '{name}' kept only its first {keep} training images", checkpoint.meta.split);
    }
    let bytes = encode_checkpoint(&checkpoint);
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

/// `CLASS:KEEP`, e.g. `3:20`.
fn parse_skew(text: &str) -> Result<(usize, usize), String> {
    let bad = || format!("--skew takes CLASS:KEEP (a class index and how many of its training images stay), e.g. 3:20; got '{text}'");
    let (class, keep) = text.split_once(':').ok_or_else(bad)?;
    Ok((class.trim().parse().map_err(|_| bad())?, keep.trim().parse().map_err(|_| bad())?))
}
