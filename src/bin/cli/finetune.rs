//! `finetune`: starts from a checkpoint and trains on a (usually small)
//! target set with the page's options; prints JSON lines like `train`.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use finetune_lab::{decode_checkpoint, Trainer};

use super::train::{train_to_the_end, TrainArgs};

/// The catalog's layer roles, as the command line spells them.
fn roles() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(finetune_lab::nn::Role::ALL.iter().map(|r| r.name()))
}

#[derive(Args)]
pub struct FinetuneArgs {
    #[command(flatten)]
    train: TrainArgs,
    /// The base model (.ftlc), e.g. www/models/lenet5-mnist-digits0-4.ftlc.
    #[arg(long)]
    checkpoint: PathBuf,
    /// Target classes (indices into the dataset, comma-separated), e.g. 5,6,7,8,9; default: all.
    #[arg(long, value_delimiter = ',')]
    classes: Option<Vec<usize>>,
    /// Labelled training images per class; default: every training image.
    #[arg(long)]
    labels_per_class: Option<usize>,
    /// Layers to freeze (indices, comma-separated; `finetune-lab` layer 0 is the first convolution).
    #[arg(long, value_delimiter = ',')]
    freeze: Vec<usize>,
    /// Layers to freeze by role, whatever the model's layer order: conv, dense, norm, head,
    /// or backbone (every layer with weights but the head), comma-separated.
    #[arg(long, value_delimiter = ',', value_parser = roles())]
    freeze_roles: Vec<String>,
    /// Replace the classification head even when the class count matches.
    #[arg(long)]
    new_head: bool,
    /// Measure forgetting: the base's source classes (indices, e.g. 0,1,2,3,4); each
    /// evaluation then reports `source_acc` through the base's own head.
    #[arg(long, value_delimiter = ',')]
    source_classes: Option<Vec<usize>>,
    /// Train the same configuration from scratch instead (for scratch-vs-fine-tune comparisons).
    #[arg(long)]
    scratch: bool,
}

pub fn run(args: FinetuneArgs) -> Result<(), String> {
    let bytes = std::fs::read(&args.checkpoint).map_err(|e| format!("cannot read checkpoint '{}': {e}", args.checkpoint.display()))?;
    let checkpoint = decode_checkpoint(&args.checkpoint.display().to_string(), &bytes).map_err(|e| e.to_string())?;
    let full = super::load_dataset(args.train.dataset_path())?;
    let dataset = Arc::new(match &args.classes {
        Some(classes) => full.with_classes(classes).map_err(|e| e.to_string())?,
        None => full,
    });
    let mut config = args.train.config()?;
    config.labels_per_class = args.labels_per_class;
    config.freeze = args.freeze.clone();
    config.freeze_roles =
        args.freeze_roles.iter().map(|name| *finetune_lab::nn::Role::ALL.iter().find(|r| r.name() == name).expect("clap checked the name")).collect();
    let source = match &args.source_classes {
        Some(classes) => Some(Arc::new(super::load_dataset(args.train.dataset_path())?.with_classes(classes).map_err(|e| e.to_string())?)),
        None => None,
    };
    let base = checkpoint.build_model().map_err(|e| e.to_string())?;
    let mut trainer = if args.scratch {
        config.model_spec = Some(checkpoint.spec.clone());
        if let Some(finetune_lab::nn::LayerSpec::Dense { units, .. }) = config.model_spec.as_mut().and_then(|s| s.layers.last_mut()) {
            *units = dataset.classes();
        }
        Trainer::new(config, dataset)
    } else {
        Trainer::from_base(config, dataset, &base, args.new_head)
    }
    .map_err(|e| e.to_string())?;
    if let Some(source) = source {
        if args.scratch {
            return Err("--source-classes measures forgetting of a base model; a --scratch run has none".into());
        }
        trainer.meter_forgetting(&base, source).map_err(|e| e.to_string())?;
    }
    let summary = train_to_the_end(&mut trainer)?;
    println!("{summary}");
    Ok(())
}
