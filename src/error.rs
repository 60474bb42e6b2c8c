//! The core's error type. Every message says what was wrong and where, so the
//! page and the command line can show it to a user as is.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum Error {
    /// A dataset file that cannot be used; `source_name` is the file's name.
    #[error("dataset '{source_name}': {what}")]
    DatasetFormat { source_name: String, what: String },

    /// A checkpoint file that cannot be used; `source_name` is the file's name.
    #[error("checkpoint '{source_name}': {what}")]
    Checkpoint { source_name: String, what: String },

    /// A configuration that cannot be trained (unknown preset, a layer that does not exist, …).
    #[error("configuration: {0}")]
    Config(String),

    /// One setting outside its allowed range: `field` is its path in the run
    /// configuration (`lr`, `shift.strength`, …), `label` its name for people
    /// and `rule` the catalog's wording of the range, so the page can mark the
    /// field and say why.
    #[error("configuration: {label} ({field}) {rule}, got {got}")]
    Setting { field: String, label: String, rule: String, got: String },

    /// A model specification whose layers do not fit together or the input.
    #[error("model: {0}")]
    Model(String),

    /// Training produced a non-finite loss or gradient; the weights before
    /// the step are kept. `lr` is the rate the step used, for the suggestion.
    #[error("training diverged at step {step}: {what} became {value}; the weights before this step are kept. Try a smaller learning rate: {suggested} instead of {lr}")]
    Diverged { step: u64, what: String, value: f32, lr: f32, suggested: f32 },

    /// A resume point (`Trainer::snapshot`) that cannot continue this run.
    #[error("resume point: {0}")]
    Resume(String),

    /// A model that could not be written in an export format (ONNX, safetensors).
    #[error("export: {0}")]
    Export(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A setting error moved to another field (a shared limit checked for a named one).
    pub fn in_field(self, field: &str, label: &str) -> Self {
        match self {
            Error::Setting { rule, got, .. } => Error::Setting { field: field.to_string(), label: label.to_string(), rule, got },
            other => other,
        }
    }

    pub fn dataset(source_name: &str, what: impl Into<String>) -> Self {
        Error::DatasetFormat { source_name: source_name.to_string(), what: what.into() }
    }
}
