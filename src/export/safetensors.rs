//! A checkpoint's weights as a `.safetensors` file, the format PyTorch
//! (`safetensors.torch.load_file`) and Hugging Face read, with the names and
//! shapes `load_state_dict` expects of the same network written as an
//! `nn.Sequential` of named modules (see the README): `conv1.weight`
//! `[6, 1, 5, 5]`, `fc1.weight` `[120, 400]`, `bn1.running_var`, ….
//!
//! BatchNorm's `num_batches_tracked` is not written: the core does not count
//! batches, and PyTorch's BatchNorm fills the missing entry in itself when
//! loading (it only matters for momentum `None`, a cumulative average).

use std::collections::BTreeMap;

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
    let metadata = BTreeMap::from([
        // What Hugging Face's loaders look for to know these are PyTorch tensors.
        ("format", "pt".to_string()),
        ("producer", format!("finetune-lab {}", env!("CARGO_PKG_VERSION"))),
        ("classes", serde_json::to_string(&checkpoint.meta.classes).expect("class names serialise")),
        ("input_scaling", INPUT_SCALING.to_string()),
        ("modules", layers.iter().map(|l| format!("{}:{}", l.name, l.spec.type_name())).collect::<Vec<_>>().join(",")),
        ("model_spec", serde_json::to_string(&checkpoint.spec).expect("specs serialise")),
    ]);
    safetensors::serialize(views, None).map(|file| with_metadata(file, &metadata)).map_err(failed)
}

/// The file with `metadata` added to its JSON header in sorted key order.
/// `safetensors::serialize` would write a metadata `HashMap` in iteration
/// order, which std's hasher randomises per map, so the same checkpoint would
/// give different bytes on every call (and the page's file would not equal
/// the command line's). The tensors' `data_offsets` count from the end of the
/// header, so only its length prefix changes.
fn with_metadata(file: Vec<u8>, metadata: &BTreeMap<&str, String>) -> Vec<u8> {
    let len = u64::from_le_bytes(file[..8].try_into().expect("safetensors starts with an 8-byte length")) as usize;
    let (header, data) = (&file[8..8 + len], &file[8 + len..]);
    // `{"__metadata__":{…},` then the tensors' entries as the crate wrote them (after its `{`).
    let tensors = header.strip_prefix(b"{").expect("the header is a JSON object");
    let mut json = format!(r#"{{"__metadata__":{}"#, serde_json::to_string(metadata).expect("strings serialise")).into_bytes();
    if !tensors.starts_with(b"}") {
        json.push(b',');
    }
    json.extend_from_slice(tensors.trim_ascii_end());
    // The format pads the header with spaces to a multiple of 8 bytes.
    json.resize(json.len().next_multiple_of(8), b' ');
    let mut out = Vec::with_capacity(8 + json.len() + data.len());
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(&json);
    out.extend_from_slice(data);
    out
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

    #[test]
    fn the_same_checkpoint_gives_the_same_bytes() {
        // Each HashMap hashes differently, so unsorted metadata would differ between calls.
        let c = checkpoint("mlp", 0.0);
        let first = to_safetensors(&c).unwrap();
        for _ in 0..5 {
            assert_eq!(to_safetensors(&c).unwrap(), first);
        }
        let header_len = u64::from_le_bytes(first[..8].try_into().unwrap()) as usize;
        let header = std::str::from_utf8(&first[8..8 + header_len]).unwrap();
        assert!(header.starts_with(r#"{"__metadata__":{"classes":"#), "{header}");
    }

    #[test]
    fn a_model_without_parameters_is_a_file_of_metadata_only() {
        let spec = crate::ModelSpec { input: crate::nn::Shape::new(10, 1, 1), layers: vec![crate::LayerSpec::Relu] };
        let model = crate::Sequential::new(&spec, crate::Init::HeUniform, 1).unwrap();
        let bytes = to_safetensors(&Checkpoint::from_model(&model, checkpoint("mlp", 0.0).meta)).unwrap();
        assert!(SafeTensors::deserialize(&bytes).unwrap().tensors().is_empty());
        assert_eq!(SafeTensors::read_metadata(&bytes).unwrap().1.metadata().as_ref().unwrap()["modules"], "relu1:relu");
    }
}
