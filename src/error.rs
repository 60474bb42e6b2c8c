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

    /// A configuration that cannot be trained (bad hyper-parameter, unknown preset, …).
    #[error("configuration: {0}")]
    Config(String),

    /// A model specification whose layers do not fit together or the input.
    #[error("model: {0}")]
    Model(String),

    /// Training produced a non-finite loss; the weights before the step are kept.
    #[error("training diverged at step {step}: the loss became {loss} (try a smaller learning rate)")]
    Diverged { step: u64, loss: f32 },
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn dataset(source_name: &str, what: impl Into<String>) -> Self {
        Error::DatasetFormat { source_name: source_name.to_string(), what: what.into() }
    }
}
