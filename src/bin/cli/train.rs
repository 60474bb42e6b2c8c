//! `train`: the page's training loop, natively.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use finetune_lab::data::shift::{DomainShift, ShiftKind};
use finetune_lab::data::TrainPool;
use finetune_lab::optim::Schedule;
use finetune_lab::train::Tick;
use finetune_lab::{Init, LayerRate, OptimizerSpec, Split, TrainConfig, Trainer};
use serde_json::json;

#[derive(Args)]
pub struct TrainArgs {
    /// Dataset file, e.g. www/data/mnist.ftld.gz.
    #[arg(long)]
    dataset: PathBuf,
    /// Model preset: mlp or lenet5.
    #[arg(long, default_value = "lenet5")]
    model: String,
    #[arg(long, default_value_t = 5)]
    epochs: u32,
    /// Seed for initialisation, shuffling and dropout.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// sgd, momentum, nesterov, adam, rmsprop or adagrad.
    #[arg(long, default_value = "adam")]
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
    /// uniform, normal, xavier-uniform, xavier-normal, he-uniform or he-normal.
    #[arg(long, default_value = "he-uniform")]
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
    /// Learning-rate schedule: constant, step (halve every 2 epochs), cosine, warmup (1 epoch) or one-cycle.
    #[arg(long, default_value = "constant")]
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
    /// Domain shift applied to every image (all splits) as kind:strength — invert:1,
    /// rotate:45 (degrees), noise:0.3, clutter:1, blur:1 (pixels), thicken:1 (pixels).
    #[arg(long)]
    shift: Option<String>,
    /// Which half of the training images to learn from: all, source or target (disjoint halves).
    #[arg(long, default_value = "all")]
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
        let mut optimizer = OptimizerSpec::named(&args.optimizer).map_err(|e| e.to_string())?;
        if let (Some(m), OptimizerSpec::Sgd { momentum, .. }) = (args.momentum, &mut optimizer) {
            *momentum = m;
        }
        Ok(TrainConfig {
            model: args.model.clone(),
            dropout: args.dropout,
            init: Init::named(&args.init, args.init_scale).map_err(|e| e.to_string())?,
            optimizer,
            lr: args.lr,
            batch_size: args.batch_size,
            epochs: args.epochs,
            l1: args.l1,
            l2: args.l2,
            seed: args.seed,
            evals_per_epoch: args.evals_per_epoch,
            train_limit: args.train_limit,
            schedule: match args.schedule.as_str() {
                "constant" => Schedule::Constant,
                "step" => Schedule::Step { every_epochs: 2.0, factor: 0.5 },
                "cosine" => Schedule::Cosine { min_factor: 0.0 },
                "warmup" => Schedule::Warmup { epochs: 1.0 },
                "one-cycle" => Schedule::OneCycle,
                other => return Err(format!("unknown schedule '{other}' (constant, step, cosine, warmup, one-cycle)")),
            },
            early_stopping: args.early_stopping,
            shift: args.shift.as_deref().map(parse_shift).transpose()?,
            train_pool: match args.train_pool.as_str() {
                "all" => TrainPool::All,
                "source" => TrainPool::Source,
                "target" => TrainPool::Target,
                other => return Err(format!("unknown --train-pool '{other}' (all, source, target)")),
            },
            unfreeze_every: args.unfreeze_every,
            augment: if args.augment { finetune_lab::data::augment::AugmentConfig::standard() } else { Default::default() },
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
    let usage = || format!("--shift takes kind:strength with kind invert, rotate, noise, clutter, blur or thicken (e.g. rotate:45), got '{text}'");
    let (kind, strength) = text.split_once(':').ok_or_else(usage)?;
    let kind: ShiftKind = serde_json::from_value(json!(kind.trim())).map_err(|_| usage())?;
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
