//! A checkpoint as an ONNX model: opset 13, IR version 7, every weight an
//! initializer, one node per layer, encoded by prost from the structs
//! generated from the official `onnx.proto` (see `proto/README.md`).
//!
//! The graph takes `input`, float `[N, C, H, W]` with a dynamic batch `N`
//! and pixels scaled as the core scales them (`INPUT_SCALING`), and gives
//! two outputs: `logits`, `[N, classes]`, exactly what the core's forward
//! pass computes (the pre-softmax scores the tests compare), and
//! `probabilities`, their softmax. Evaluation-time behaviour only: dropout
//! is left out (it is the identity at inference) and batch normalisation
//! uses its running statistics (`BatchNormalization` in inference form).
//!
//! Opset 13 and IR 7 (ONNX 1.8, 2020) are old enough for every ONNX Runtime
//! and converter in use, and have every operator these layers need.

use prost::Message;

use super::onnx_proto::{
    attribute_proto::AttributeType, tensor_proto::DataType, tensor_shape_proto, type_proto, AttributeProto, GraphProto, ModelProto, NodeProto,
    OperatorSetIdProto, StringStringEntryProto, TensorProto, TensorShapeProto, TypeProto, ValueInfoProto,
};
use super::{named_layers, NamedLayer, INPUT_SCALING};
use crate::checkpoint::Checkpoint;
use crate::error::Result;
use crate::nn::{LayerSpec, Shape, BATCH_NORM_EPS};

pub const OPSET: i64 = 13;
/// IR version 7 is the one ONNX 1.8 wrote with opset 13.
pub const IR_VERSION: i64 = 7;
pub const INPUT: &str = "input";
pub const LOGITS: &str = "logits";
pub const PROBABILITIES: &str = "probabilities";
/// The symbolic batch dimension of the input and outputs.
const BATCH: &str = "N";

/// The checkpoint's model as the bytes of an `.onnx` file. The checkpoint's
/// weights are checked against its spec first (`Checkpoint::build_model`).
pub fn to_onnx(checkpoint: &Checkpoint) -> Result<Vec<u8>> {
    let model = checkpoint.build_model()?;
    let layers = named_layers(&model);
    let mut graph = Graph::new(model.spec().input);
    for layer in &layers {
        graph.add_layer(layer);
    }
    graph.finish(model.output_shape().len());
    let classes = serde_json::to_string(&checkpoint.meta.classes).expect("class names serialise");
    let proto = ModelProto {
        ir_version: Some(IR_VERSION),
        opset_import: vec![OperatorSetIdProto { domain: Some(String::new()), version: Some(OPSET) }],
        producer_name: Some("finetune-lab".into()),
        producer_version: Some(env!("CARGO_PKG_VERSION").into()),
        doc_string: Some(format!(
            "A Fine-Tune Lab classifier ({} classes: {classes}) trained on {}. Input '{INPUT}': float [N, {}, {}, {}], {INPUT_SCALING}. \
             Outputs: '{LOGITS}' (pre-softmax scores, what Fine-Tune Lab computes) and '{PROBABILITIES}' (their softmax over the classes).",
            checkpoint.meta.classes.len(),
            checkpoint.meta.source_dataset,
            model.spec().input.channels,
            model.spec().input.height,
            model.spec().input.width,
        )),
        graph: Some(graph.proto),
        metadata_props: [
            ("classes", classes),
            ("input_scaling", INPUT_SCALING.to_string()),
            ("source_dataset", checkpoint.meta.source_dataset.clone()),
            ("test_acc", checkpoint.meta.test_acc.to_string()),
            ("model_spec", serde_json::to_string(&checkpoint.spec).expect("specs serialise")),
            ("checkpoint_meta", serde_json::to_string(&checkpoint.meta).expect("metadata serialises")),
        ]
        .into_iter()
        .map(|(key, value)| StringStringEntryProto { key: Some(key.into()), value: Some(value) })
        .collect(),
        ..Default::default()
    };
    Ok(proto.encode_to_vec())
}

/// The graph under construction: the name of the tensor the next layer
/// reads, and whether it is an image (`[N, C, H, W]`) or flat (`[N, F]`).
/// The core keeps every activation as `(batch, C·H·W)` and lets a dense
/// layer read any 1×1 image, while ONNX's Gemm wants a matrix and Conv and
/// MaxPool want images: the graph inserts a Flatten or a Reshape where the
/// rank has to change without a layer saying so.
struct Graph {
    proto: GraphProto,
    current: String,
    image: bool,
}

impl Graph {
    fn new(input: Shape) -> Self {
        let dims = [input.channels, input.height, input.width].map(|d| d as i64);
        let proto = GraphProto { name: Some("finetune_lab".into()), input: vec![value_info(INPUT, &dims)], ..Default::default() };
        Graph { proto, current: INPUT.into(), image: true }
    }

    /// Appends `op` reading the current tensor (then `extra` inputs) and
    /// writing a tensor named after the node, which becomes the current one.
    fn node(&mut self, op: &str, name: &str, extra: &[String], attributes: Vec<AttributeProto>) {
        let mut input = vec![std::mem::take(&mut self.current)];
        input.extend_from_slice(extra);
        self.proto.node.push(NodeProto {
            input,
            output: vec![name.into()],
            name: Some(name.into()),
            op_type: Some(op.into()),
            attribute: attributes,
            ..Default::default()
        });
        self.current = name.into();
    }

    fn initializer(&mut self, name: &str, dims: &[usize], values: &[f32]) -> String {
        self.proto.initializer.push(TensorProto {
            name: Some(name.into()),
            dims: dims.iter().map(|&d| d as i64).collect(),
            data_type: Some(DataType::Float as i32),
            raw_data: Some(values.iter().flat_map(|v| v.to_le_bytes()).collect()),
            ..Default::default()
        });
        name.into()
    }

    /// The layer's tensors as initializers, in the order its ONNX operator takes them.
    fn weights(&mut self, layer: &NamedLayer) -> Vec<String> {
        layer.tensors.iter().map(|t| self.initializer(&t.name, t.shape, t.values)).collect()
    }

    /// A flat tensor back to `[N, C, 1, 1]`: what the core's 1×1 image after a flatten is.
    fn ensure_image(&mut self, layer: &NamedLayer) {
        if !self.image {
            let name = format!("{}_reshape", layer.name);
            let shape = format!("{name}_shape");
            let s = layer.input;
            self.proto.initializer.push(TensorProto {
                name: Some(shape.clone()),
                dims: vec![4],
                data_type: Some(DataType::Int64 as i32),
                // 0 keeps the batch dimension as it is.
                int64_data: vec![0, s.channels as i64, s.height as i64, s.width as i64],
                ..Default::default()
            });
            self.node("Reshape", &name, &[shape], vec![]);
            self.image = true;
        }
    }

    fn flatten(&mut self, name: &str) {
        if self.image {
            self.node("Flatten", name, &[], vec![int("axis", 1)]);
            self.image = false;
        }
    }

    fn add_layer(&mut self, layer: &NamedLayer) {
        let name = layer.name.as_str();
        // No catch-all arm: a new kind of layer does not compile until it
        // has an ONNX form here (or returns an error naming it).
        match *layer.spec {
            LayerSpec::Conv2d { kernel, stride, padding, .. } => {
                self.ensure_image(layer);
                let weights = self.weights(layer);
                let k = kernel as i64;
                let attributes = vec![ints("kernel_shape", &[k, k]), ints("strides", &[stride as i64; 2]), ints("pads", &[padding as i64; 4])];
                self.node("Conv", name, &weights, attributes);
            }
            LayerSpec::MaxPool2d { size, stride } => {
                self.ensure_image(layer);
                let stride = stride.unwrap_or(size) as i64;
                self.node("MaxPool", name, &[], vec![ints("kernel_shape", &[size as i64; 2]), ints("strides", &[stride; 2])]);
            }
            LayerSpec::Dense { .. } => {
                self.flatten(&format!("{name}_flatten"));
                let weights = self.weights(layer);
                // The core stores W as (out, in), so y = x·Wᵀ + b is Gemm with transB.
                self.node("Gemm", name, &weights, vec![int("transB", 1)]);
            }
            LayerSpec::BatchNorm => {
                // Per channel of an image, or per feature of a flat tensor
                // (ONNX's channel axis is 1 in both): what the core does.
                // Inputs: scale (γ), bias (β), running mean, running variance.
                let weights = self.weights(layer);
                self.node("BatchNormalization", name, &weights, vec![float("epsilon", BATCH_NORM_EPS)]);
            }
            LayerSpec::Flatten => self.flatten(name),
            LayerSpec::Relu => self.node("Relu", name, &[], vec![]),
            LayerSpec::LeakyRelu { alpha } => self.node("LeakyRelu", name, &[], vec![float("alpha", alpha)]),
            LayerSpec::Tanh => self.node("Tanh", name, &[], vec![]),
            LayerSpec::Sigmoid => self.node("Sigmoid", name, &[], vec![]),
            // The identity at inference: no node.
            LayerSpec::Dropout { .. } => {}
        }
    }

    /// Names the last tensor `logits` (flattening a 1×1 image) and adds `probabilities`.
    fn finish(&mut self, classes: usize) {
        if self.image {
            self.flatten(LOGITS);
        } else {
            // A flat tensor was written by a node (the input is an image), and
            // the last node wrote it: dropout, the only layer without one, is no node.
            let last = self.proto.node.last_mut().expect("a node wrote the current tensor");
            last.output = vec![LOGITS.into()];
            self.current = LOGITS.into();
        }
        self.node("Softmax", PROBABILITIES, &[], vec![int("axis", 1)]);
        let dims = [classes as i64];
        self.proto.output = vec![value_info(LOGITS, &dims), value_info(PROBABILITIES, &dims)];
    }
}

/// A float tensor `[N, dims…]` with the symbolic batch dimension first.
fn value_info(name: &str, dims: &[i64]) -> ValueInfoProto {
    use tensor_shape_proto::{dimension::Value, Dimension};
    let batch = Dimension { value: Some(Value::DimParam(BATCH.into())), ..Default::default() };
    let dim = std::iter::once(batch).chain(dims.iter().map(|&d| Dimension { value: Some(Value::DimValue(d)), ..Default::default() })).collect();
    let tensor = type_proto::Tensor { elem_type: Some(DataType::Float as i32), shape: Some(TensorShapeProto { dim }) };
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto { value: Some(type_proto::Value::TensorType(tensor)), ..Default::default() }),
        ..Default::default()
    }
}

fn int(name: &str, value: i64) -> AttributeProto {
    AttributeProto { name: Some(name.into()), r#type: Some(AttributeType::Int as i32), i: Some(value), ..Default::default() }
}

fn ints(name: &str, values: &[i64]) -> AttributeProto {
    AttributeProto { name: Some(name.into()), r#type: Some(AttributeType::Ints as i32), ints: values.to_vec(), ..Default::default() }
}

fn float(name: &str, value: f32) -> AttributeProto {
    AttributeProto { name: Some(name.into()), r#type: Some(AttributeType::Float as i32), f: Some(value), ..Default::default() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::tests::checkpoint;

    fn decoded(checkpoint: &Checkpoint) -> ModelProto {
        ModelProto::decode(to_onnx(checkpoint).unwrap().as_slice()).unwrap()
    }

    fn ops(model: &ModelProto) -> Vec<String> {
        model.graph.as_ref().unwrap().node.iter().map(|n| n.op_type.clone().unwrap()).collect()
    }

    #[test]
    fn lenet5_with_batch_norm_and_dropout_is_one_node_per_inference_layer() {
        let model = decoded(&checkpoint("lenet5_bn", 0.5));
        assert_eq!((model.ir_version, model.opset_import[0].version), (Some(7), Some(13)));
        #[rustfmt::skip]
        let expected = ["Conv", "BatchNormalization", "Relu", "MaxPool", "Conv", "BatchNormalization", "Relu", "MaxPool", "Flatten",
                        "Gemm", "BatchNormalization", "Relu", "Gemm", "BatchNormalization", "Relu", "Gemm", "Softmax"];
        assert_eq!(ops(&model), expected, "no Dropout node");
        let graph = model.graph.unwrap();
        let gemm = graph.node.iter().rev().find(|n| n.op_type.as_deref() == Some("Gemm")).unwrap();
        assert_eq!(gemm.input, ["relu4", "fc3.weight", "fc3.bias"], "the node after a dropout reads the tensor before it");
        assert_eq!(gemm.output, [LOGITS]);
        let outputs: Vec<_> = graph.output.iter().map(|o| o.name.clone().unwrap()).collect();
        assert_eq!(outputs, [LOGITS, PROBABILITIES]);
        let conv1 = graph.initializer.iter().find(|t| t.name.as_deref() == Some("conv1.weight")).unwrap();
        assert_eq!(conv1.dims, [6, 1, 5, 5]);
        assert_eq!(conv1.raw_data.as_ref().unwrap().len(), 4 * 150);
        let stored: usize = graph.initializer.iter().map(|t| t.raw_data.as_ref().map_or(0, |r| r.len() / 4)).sum();
        assert_eq!(stored, checkpoint("lenet5_bn", 0.5).weights.len(), "every stored value, running statistics included, once");
    }

    #[test]
    fn the_rank_follows_the_core_where_no_layer_says_so() {
        // A dense layer straight on a 1×1 image, and a convolution on a flat tensor.
        let spec = crate::ModelSpec {
            input: Shape::new(3, 1, 1),
            layers: vec![
                LayerSpec::Dense { units: 4, init: None },
                LayerSpec::Conv2d { filters: 2, kernel: 1, stride: 1, padding: 0, init: None },
                LayerSpec::Tanh,
            ],
        };
        let model = crate::Sequential::new(&spec, crate::Init::HeUniform, 1).unwrap();
        let mut c = checkpoint("mlp", 0.0);
        c.meta.classes = vec!["a".into(), "b".into()];
        c = Checkpoint::from_model(&model, c.meta);
        assert_eq!(ops(&decoded(&c)), ["Flatten", "Gemm", "Reshape", "Conv", "Tanh", "Flatten", "Softmax"]);
    }

    #[test]
    fn weights_that_do_not_fit_the_spec_are_refused_before_anything_is_written() {
        let mut c = checkpoint("mlp", 0.0);
        c.weights.pop();
        let err = to_onnx(&c).unwrap_err().to_string();
        assert!(err.contains("weights given for a model that stores"), "{err}");
        assert!(crate::export::to_safetensors(&c).is_err());
    }

    #[test]
    fn the_same_checkpoint_gives_the_same_bytes() {
        let c = checkpoint("mlp", 0.25);
        assert_eq!(to_onnx(&c).unwrap(), to_onnx(&c).unwrap());
    }
}
