//! `export`: a checkpoint as an ONNX model and/or PyTorch-style safetensors
//! weights, the same bytes the page's export gives (`finetune_lab::export`).

use std::path::{Path, PathBuf};

use clap::Args;
use finetune_lab::{decode_checkpoint, export};
use serde_json::json;

#[derive(Args)]
pub struct ExportArgs {
    /// A checkpoint file (.ftlc).
    #[arg(long)]
    checkpoint: PathBuf,
    /// Write the model as ONNX (opset 13): input float [N, C, H, W] of pixels / 255, outputs `logits` and `probabilities`.
    #[arg(long)]
    onnx: Option<PathBuf>,
    /// Write the weights as safetensors, named as PyTorch's state_dict of the same nn.Sequential (conv1.weight, fc1.bias, …).
    #[arg(long)]
    safetensors: Option<PathBuf>,
}

pub fn run(args: ExportArgs) -> Result<(), String> {
    if args.onnx.is_none() && args.safetensors.is_none() {
        return Err("nothing to export: give --onnx FILE, --safetensors FILE or both".into());
    }
    let bytes = std::fs::read(&args.checkpoint).map_err(|e| format!("cannot read checkpoint '{}': {e}", args.checkpoint.display()))?;
    let checkpoint = decode_checkpoint(&args.checkpoint.display().to_string(), &bytes).map_err(|e| e.to_string())?;
    let mut wrote = Vec::new();
    if let Some(path) = &args.onnx {
        wrote.push(write(path, &export::to_onnx(&checkpoint).map_err(|e| e.to_string())?)?);
    }
    if let Some(path) = &args.safetensors {
        wrote.push(write(path, &export::to_safetensors(&checkpoint).map_err(|e| e.to_string())?)?);
    }
    println!("{}", json!({"checkpoint": args.checkpoint, "classes": checkpoint.meta.classes, "wrote": wrote}));
    Ok(())
}

fn write(path: &Path, bytes: &[u8]) -> Result<serde_json::Value, String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create '{}': {e}", dir.display()))?;
    }
    std::fs::write(path, bytes).map_err(|e| format!("cannot write '{}': {e}", path.display()))?;
    Ok(json!({"file": path, "bytes": bytes.len()}))
}
