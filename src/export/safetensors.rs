//! A checkpoint's weights as a `.safetensors` file, the format PyTorch
//! (`safetensors.torch.load_file`) and Hugging Face read, with the names and
//! shapes `load_state_dict` expects of the same network written as an
//! `nn.Sequential` of named modules (see the README): `conv1.weight`
//! `[6, 1, 5, 5]`, `fc1.weight` `[120, 400]`, `bn1.running_var`, ….
//!
//! BatchNorm's `num_batches_tracked` is not written: the core does not count
//! batches, and PyTorch's BatchNorm fills the missing entry in itself when
//! loading (it only matters for momentum `None`, a cumulative average).

use std::collections::HashMap;

use safetensors::tensor::{Dtype, TensorView};

use super::{named_layers, INPUT_SCALING};
use crate::checkpoint::Checkpoint;
use crate::error::{Error, Result};

/// The checkpoint's tensors as the bytes of a `.safetensors` file; its
/// header's metadata records the classes, the model spec (the architecture)
/// and how inputs are scaled, since the tensors alone do not say.
pub fn to_safetensors(checkpoint: &Checkpoint) -> Result<Vec<u8>> {
    let model = checkpoint.build_model()?;
    let layers = named_layers(&model);
    let tensors: Vec<(String, Vec<usize>, Vec<u8>)> =
        layers.iter().flat_map(|l| &l.tensors).map(|t| (t.name.clone(), t.shape.to_vec(), t.values.iter().flat_map(|v| v.to_le_bytes()).collect())).collect();
    let views = tensors
        .iter()
        .map(|(name, shape, bytes)| Ok((name.as_str(), TensorView::new(Dtype::F32, shape.clone(), bytes).map_err(failed)?)))
        .collect::<Result<Vec<_>>>()?;
    let metadata = HashMap::from([
        // What Hugging Face's loaders look for to know these are PyTorch tensors.
        ("format".to_string(), "pt".to_string()),
        ("producer".to_string(), format!("finetune-lab {}", env!("CARGO_PKG_VERSION"))),
        ("classes".to_string(), serde_json::to_string(&checkpoint.meta.classes).expect("class names serialise")),
        ("input_scaling".to_string(), INPUT_SCALING.to_string()),
        ("modules".to_string(), layers.iter().map(|l| format!("{}:{}", l.name, l.spec.type_name())).collect::<Vec<_>>().join(",")),
        ("model_spec".to_string(), serde_json::to_string(&checkpoint.spec).expect("specs serialise")),
    ]);
    safetensors::serialize(views, Some(metadata)).map_err(failed)
}

fn failed(e: safetensors::SafeTensorError) -> Error {
    Error::Export(format!("safetensors: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::tests::checkpoint;
    use safetensors::SafeTensors;

    #[test]
    fn every_stored_value_is_there_under_its_pytorch_name() {
        let c = checkpoint("lenet5_bn", 0.0);
        let bytes = to_safetensors(&c).unwrap();
        let file = SafeTensors::deserialize(&bytes).unwrap();
        let conv1 = file.tensor("conv1.weight").unwrap();
        assert_eq!((conv1.dtype(), conv1.shape()), (Dtype::F32, &[6, 1, 5, 5][..]));
        assert_eq!(file.tensor("fc1.weight").unwrap().shape(), [120, 400]);
        assert_eq!(file.tensor("bn4.running_var").unwrap().shape(), [84]);
        // Every value once, in the core's order within each tensor.
        let total: usize = file.tensors().iter().map(|(_, t)| t.data().len() / 4).sum();
        assert_eq!(total, c.weights.len());
        let first: Vec<f32> = conv1.data().chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect();
        assert_eq!(first, c.weights[..150]);
        let (_, meta) = SafeTensors::read_metadata(&bytes).unwrap();
        let meta = meta.metadata().as_ref().unwrap();
        assert_eq!(meta["format"], "pt");
        assert!(meta["modules"].starts_with("conv1:conv2d,bn1:batch_norm,relu1:relu,pool1:max_pool2d"), "{}", meta["modules"]);
    }
}
