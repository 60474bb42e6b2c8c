//! `train`: the page's training loop, natively.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::builder::PossibleValuesParser;
use clap::Args;
use finetune_lab::catalog::{self, INITS, MODEL_PRESETS, OPTIMIZERS, SCHEDULES, SHIFTS, TRAIN_POOLS};
use finetune_lab::data::shift::DomainShift;
use finetune_lab::train::Tick;
use finetune_lab::{LayerRate, Split, TrainConfig, Trainer};
use serde_json::json;

// Every named choice comes from the core's catalog, so `--help` lists exactly
// what the core accepts.
fn models() -> PossibleValuesParser {
    PossibleValuesParser::new(MODEL_PRESETS.iter().map(|p| p.0))
}
fn optimizers() -> PossibleValuesParser {
    PossibleValuesParser::new(catalog::names(OPTIMIZERS))
}
fn inits() -> PossibleValuesParser {
    PossibleValuesParser::new(INITS.iter().flat_map(|c| std::iter::once(c.name).chain(c.aliases.iter().copied())))
}
fn schedules() -> PossibleValuesParser {
    PossibleValuesParser::new(catalog::names(SCHEDULES))
}
fn train_pools() -> PossibleValuesParser {
    PossibleValuesParser::new(TRAIN_POOLS)
}

#[derive(Args)]
pub struct TrainArgs {
    /// Dataset file, e.g. www/data/mnist.ftld.gz.
    #[arg(long)]
    dataset: PathBuf,
    /// Model preset.
    #[arg(long, default_value = "lenet5", value_parser = models())]
    model: String,
    #[arg(long, default_value_t = 5)]
    epochs: u32,
    /// Seed for initialisation, shuffling and dropout.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Optimiser (momentum and nesterov are SGD with momentum 0.9).
    #[arg(long, default_value = "adam", value_parser = optimizers())]
    optimizer: String,
    /// Momentum for sgd/momentum/nesterov (defaults: 0 for sgd, 0.9 otherwise).
    #[arg(long)]
    momentum: Option<f32>,
    /// Learning rate.
    #[arg(long, default_value_t = 0.001)]
    lr: f32,
    /// Images per step: 1 is stochastic, 0 means the whole training set.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Weight initialisation (uniform and normal take --init-scale).
    #[arg(long, default_value = "he-uniform", value_parser = inits())]
    init: String,
    /// Half-width (uniform) or standard deviation (normal) for the plain random initialisers.
    #[arg(long, default_value_t = 0.05)]
    init_scale: f32,
    /// L1 penalty on weights.
    #[arg(long, default_value_t = 0.0)]
    l1: f32,
    /// L2 penalty on weights.
    #[arg(long, default_value_t = 0.0)]
    l2: f32,
    /// Dropout rate after hidden dense layers.
    #[arg(long, default_value_t = 0.0)]
    dropout: f32,
    /// Validation measurements per epoch.
    #[arg(long, default_value_t = 1)]
    evals_per_epoch: u32,
    /// Learning-rate schedule: step halves the rate every 2 epochs, warmup ramps up over 1 epoch.
    #[arg(long, default_value = "constant", value_parser = schedules())]
    schedule: String,
    /// Stop after this many evaluations without a lower validation loss, keeping the best weights.
    #[arg(long)]
    early_stopping: Option<u32>,
    /// Per-layer learning-rate multipliers as layer:multiplier pairs, e.g. 0:0.1,3:0.1.
    #[arg(long, value_delimiter = ',')]
    layer_lr: Vec<String>,
    /// Gradual unfreezing: only the head learns at first; one more layer unfreezes from the top every N epochs.
    #[arg(long)]
    unfreeze_every: Option<u32>,
    /// Augment training batches with the standard set (rotation ±12°, zoom ±10 %, shifts ±10 %, light noise and erasing).
    #[arg(long)]
    augment: bool,
    /// Train on only N training images, taken evenly from every class.
    #[arg(long)]
    train_limit: Option<usize>,
    /// Domain shift applied to every image (all splits) as kind:strength, e.g. rotate:45
    /// (`finetune-lab catalog` lists each kind's range).
    #[arg(long)]
    shift: Option<String>,
    /// Which half of the training images to learn from (source and target are disjoint halves).
    #[arg(long, default_value = "all", value_parser = train_pools())]
    train_pool: String,
}

pub fn run(args: TrainArgs) -> Result<(), String> {
    let dataset = Arc::new(super::load_dataset(&args.dataset)?);
    let mut trainer = Trainer::new(args.config()?, dataset).map_err(|e| e.to_string())?;
    let summary = train_to_the_end(&mut trainer)?;
    println!("{}", summary);
    Ok(())
}

impl TrainArgs {
    pub fn dataset_path(&self) -> &std::path::Path {
        &self.dataset
    }

    pub fn config(&self) -> Result<TrainConfig, String> {
        let args = self;
        let mut optimizer = catalog::optimizer(&args.optimizer).map_err(|e| e.to_string())?;
        if let (Some(m), finetune_lab::OptimizerSpec::Sgd { momentum, .. }) = (args.momentum, &mut optimizer) {
            *momentum = m;
        }
        Ok(TrainConfig {
            model: args.model.clone(),
            dropout: args.dropout,
            init: catalog::init(&args.init, args.init_scale).map_err(|e| e.to_string())?,
            optimizer,
            lr: args.lr,
            batch_size: args.batch_size,
            epochs: args.epochs,
            l1: args.l1,
            l2: args.l2,
            seed: args.seed,
            evals_per_epoch: args.evals_per_epoch,
            train_limit: args.train_limit,
            schedule: catalog::schedule(&args.schedule).map_err(|e| e.to_string())?,
            early_stopping: args.early_stopping,
            shift: args.shift.as_deref().map(parse_shift).transpose()?,
            train_pool: serde_json::from_value(json!(args.train_pool)).map_err(|e| format!("--train-pool: {e}"))?,
            unfreeze_every: args.unfreeze_every,
            augment: if args.augment { catalog::augment_preset("standard").expect("in the catalog") } else { Default::default() },
            layer_lr: args
                .layer_lr
                .iter()
                .map(|pair| {
                    let parsed = pair.split_once(':').and_then(|(l, m)| Some(LayerRate { layer: l.trim().parse().ok()?, multiplier: m.trim().parse().ok()? }));
                    parsed.ok_or_else(|| format!("--layer-lr takes layer:multiplier pairs such as 0:0.1, got '{pair}'"))
                })
                .collect::<Result<_, _>>()?,
            ..TrainConfig::default()
        })
    }
}

/// `kind:strength`, e.g. `rotate:45`, as a domain shift.
fn parse_shift(text: &str) -> Result<DomainShift, String> {
    let kinds: Vec<&str> = SHIFTS.iter().map(|s| s.name).collect();
    let usage = || format!("--shift takes kind:strength with kind one of {} (e.g. rotate:45), got '{text}'", kinds.join(", "));
    let (kind, strength) = text.split_once(':').ok_or_else(usage)?;
    let kind = catalog::shift_named(kind.trim()).map_err(|_| usage())?.kind;
    let strength: f32 = strength.trim().parse().map_err(|_| usage())?;
    let shift = DomainShift { kind, strength };
    shift.validate().map_err(|e| e.to_string())?;
    Ok(shift)
}

/// Trains until the configured epochs are done, printing one JSON line per
/// evaluation; returns the final summary line (test accuracy, time, speed).
pub fn train_to_the_end(trainer: &mut Trainer) -> Result<serde_json::Value, String> {
    let started = Instant::now();
    let mut train_seconds = 0.0f64;
    let mut images = 0u64;
    loop {
        let t = Instant::now();
        match trainer.tick().map_err(|e| e.to_string())? {
            Tick::Trained { images: n } => {
                train_seconds += t.elapsed().as_secs_f64();
                images += n as u64;
            }
            Tick::Evaluated(r) => println!("{}", serde_json::to_string(&r).expect("records serialise")),
            Tick::Evaluating => {}
            Tick::Done => break,
        }
    }
    let (test_loss, test_acc) = trainer.evaluate_split(Split::Test).ok_or("the dataset has no test images")?;
    Ok(json!({"final": true, "test_loss": test_loss, "test_acc": test_acc, "params": trainer.model().param_count(),
              "seconds": started.elapsed().as_secs_f64(), "train_images_per_s": images as f64 / train_seconds.max(1e-9)}))
}
