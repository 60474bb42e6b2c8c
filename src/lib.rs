//! Fine-Tune Lab training core.
//!
//! A pure-Rust core (no JavaScript types) that trains, evaluates, saves and
//! loads small image classifiers. It is tested natively and compiled to
//! WebAssembly behind the thin `api` module, which is the only place that
//! knows about JavaScript.

pub mod catalog;
pub mod checkpoint;
pub mod data;
pub mod error;
pub mod export;
pub mod init;
pub mod kernels;
pub mod loss;
pub mod model;
pub mod nn;
pub mod optim;
pub mod rng;
pub mod train;

#[cfg(target_arch = "wasm32")]
pub mod api;

pub use checkpoint::{decode_checkpoint, encode_checkpoint, Checkpoint, CheckpointMeta};
pub use data::format::{decode_dataset, encode_dataset};
pub use data::{Dataset, Split};
pub use error::{Error, Result};
pub use init::Init;
pub use model::{preset, ModelSpec, Sequential};
pub use nn::LayerSpec;
pub use optim::OptimizerSpec;
pub use train::{EvalRecord, LayerRate, TrainConfig, Trainer, WindowStats};
