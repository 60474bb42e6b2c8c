//! Runs in a real browser (`wasm-pack test --headless --chrome -- --test web`):
//! the wasm API loads the shipped MNIST file, trains a few steps and the loss falls.

#![cfg(target_arch = "wasm32")]

use finetune_lab::api::{export_onnx, export_safetensors, kernel_build, validate_config, DatasetHandle, TrainerHandle};
use finetune_lab::kernels::{self, conformance};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const MNIST: &[u8] = include_bytes!("../www/data/mnist.ftld.gz");

fn config(json: &str) -> JsValue {
    js_sys::JSON::parse(json).unwrap()
}

fn number(obj: &JsValue, key: &str) -> f64 {
    js_sys::Reflect::get(obj, &key.into()).unwrap().as_f64().unwrap_or_else(|| panic!("{key} is not a number"))
}

#[wasm_bindgen_test]
fn trains_in_the_browser_and_the_loss_falls() {
    assert!(!kernel_build().is_empty());
    let data = DatasetHandle::from_bytes("mnist.ftld.gz", MNIST).unwrap();
    assert_eq!(number(&data.info(), "images"), 10_000.0);
    let mut trainer =
        TrainerHandle::new(&data, config(r#"{"model":"mlp","batch_size":32,"lr":0.002,"train_limit":640,"epochs":3,"evals_per_epoch":1,"eval_chunk":1000}"#))
            .unwrap();
    let mut evals = Vec::new();
    loop {
        let r = trainer.tick().unwrap();
        let batch = trainer.take_evals();
        evals.extend(js_sys::Array::from(&batch).iter());
        if r < 0 {
            break;
        }
    }
    assert_eq!(evals.len(), 4);
    let (first, last) = (number(&evals[0], "val_loss"), number(&evals[3], "val_loss"));
    assert!(last < 0.7 * first, "validation loss {first} → {last}");
    assert!(number(&evals[3], "val_acc") > 0.7);
}

#[wasm_bindgen_test]
fn bad_input_gives_named_errors() {
    let err = DatasetHandle::from_bytes("junk.bin", b"hello world").err().unwrap();
    let err: js_sys::Error = err.into();
    assert_eq!(String::from(err.name()), "DatasetError");
    assert!(String::from(err.message()).contains("junk.bin"));

    let data = DatasetHandle::from_bytes("mnist.ftld.gz", MNIST).unwrap();
    let err: js_sys::Error = TrainerHandle::new(&data, config(r#"{"lr":"fast"}"#)).err().unwrap().into();
    assert_eq!(String::from(err.name()), "ConfigError");
    let err: js_sys::Error = TrainerHandle::new(&data, config(r#"{"learning_rate":0.1}"#)).err().unwrap().into();
    assert!(String::from(err.message()).contains("learning_rate"), "unknown fields are named");
}

#[wasm_bindgen_test]
fn every_kernel_implementation_matches_the_scalar_reference() {
    // The page's build has simd128 (and the relaxed build relaxed SIMD too).
    assert!(kernels::available().len() >= 2, "this wasm build has no SIMD kernels");
    conformance::check_reference().unwrap();
    for &implementation in kernels::available() {
        conformance::check_gemm(implementation).unwrap();
        conformance::check_max_pool(implementation).unwrap();
        let (direct, sparse) = conformance::check_conv_plan(implementation).unwrap();
        if implementation != kernels::Implementation::Scalar {
            // Four wide shapes, each with a dense and a mostly-zero gradient.
            assert!(direct >= 8, "{}: the direct convolution kernels took {direct} of the 8 runs of wide shapes", implementation.name());
            // Six 5×5 shapes with a batch (two padded and direct, four gathered): their mostly-zero gradients skip the zeros.
            assert!(sparse >= 6, "{}: the sparse backward pass took {sparse} of the 6 mostly-zero gradients it handles", implementation.name());
        }
        kernels::set_active(implementation);
        conformance::check_im2col().unwrap();
    }
    kernels::set_active(kernels::best());
}

#[wasm_bindgen_test]
fn same_seed_gives_identical_weights_in_this_build() {
    let data = DatasetHandle::from_bytes("mnist.ftld.gz", MNIST).unwrap();
    let run = |seed: u32| {
        let json = format!(r#"{{"model":"lenet5","batch_size":16,"train_limit":64,"epochs":1,"seed":{seed},"dropout":0.25}}"#);
        let mut trainer = TrainerHandle::new(&data, config(&json)).unwrap();
        while trainer.tick().unwrap() >= 0 {}
        trainer.weights()
    };
    let (a, b, c) = (run(3), run(3), run(4));
    assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()), "same seed, different weights");
    assert_ne!(a, c);
}

#[wasm_bindgen_test]
fn a_setting_out_of_range_names_its_field() {
    let data = DatasetHandle::from_bytes("mnist.ftld.gz", MNIST).unwrap();
    let err: js_sys::Error = TrainerHandle::new(&data, config(r#"{"dropout":1.5}"#)).err().unwrap().into();
    assert_eq!(String::from(err.name()), "ConfigError");
    assert_eq!(js_sys::Reflect::get(&err, &"field".into()).unwrap().as_string().as_deref(), Some("dropout"));
    let problems = js_sys::Array::from(&validate_config(config(r#"{"lr":0,"epochs":0}"#)).unwrap());
    let fields: Vec<String> = problems.iter().map(|p| js_sys::Reflect::get(&p, &"field".into()).unwrap().as_string().unwrap()).collect();
    assert_eq!(fields, ["lr", "epochs"]);
}

#[wasm_bindgen_test]
fn own_images_become_a_dataset_the_core_splits() {
    let classes = config(r#"[{"name":"dot","files":["a","b","c","d","e"]},{"name":"ring","files":["f","g","h","i","j","k"]}]"#);
    let pixels: Vec<u8> = (0..11 * 4).map(|i| i as u8).collect();
    let mine = DatasetHandle::from_images("mine", 1, 2, 2, classes, &pixels).unwrap();
    let splits = js_sys::Reflect::get(&mine.info(), &"splits".into()).unwrap();
    assert_eq!((number(&splits, "train"), number(&splits, "validation"), number(&splits, "test")), (7.0, 2.0, 2.0));
    let again = DatasetHandle::from_bytes("mine", &mine.to_bytes()).unwrap();
    assert_eq!(js_sys::JSON::stringify(&again.info()).unwrap(), js_sys::JSON::stringify(&mine.info()).unwrap());
    let err: js_sys::Error = DatasetHandle::from_images("mine", 1, 2, 2, config(r#"[{"name":"dot","files":["a"]}]"#), &[0; 4]).err().unwrap().into();
    assert!(String::from(err.message()).contains("at least two classes"));
}

#[wasm_bindgen_test]
fn a_resume_point_continues_the_run_in_another_trainer_and_a_foreign_one_is_a_resume_error() {
    let data = DatasetHandle::from_bytes("mnist.ftld.gz", MNIST).unwrap();
    let json = r#"{"model":"lenet5","batch_size":16,"train_limit":64,"epochs":2,"dropout":0.25,"optimizer":{"kind":"adam"}}"#;
    let mut original = TrainerHandle::new(&data, config(json)).unwrap();
    for _ in 0..3 {
        original.step_once().unwrap();
    }
    let point = original.snapshot();
    for _ in 0..3 {
        original.step_once().unwrap();
    }
    let mut resumed = TrainerHandle::new(&data, config(json)).unwrap();
    resumed.restore(&point).unwrap();
    for _ in 0..3 {
        resumed.step_once().unwrap();
    }
    assert!(resumed.weights().iter().zip(&original.weights()).all(|(a, b)| a.to_bits() == b.to_bits()), "the resumed run differs");

    let mut other = TrainerHandle::new(&data, config(r#"{"model":"mlp","train_limit":64}"#)).unwrap();
    let err: js_sys::Error = other.restore(&point).err().unwrap().into();
    assert_eq!(String::from(err.name()), "ResumeError");
    assert!(String::from(err.message()).contains("different run"));
}

#[wasm_bindgen_test]
fn a_shipped_checkpoint_exports_as_onnx_and_safetensors_in_the_browser() {
    const LENET: &[u8] = include_bytes!("../www/models/lenet5-mnist.ftlc");
    let contains = |bytes: &[u8], text: &str| bytes.windows(text.len()).any(|w| w == text.as_bytes());
    let onnx = export_onnx("lenet5-mnist.ftlc", LENET).unwrap();
    // Field 1 (ir_version) = 7 comes first; every weight is there (4 bytes each, 61,706 of them).
    assert_eq!(&onnx[..2], &[0x08, 0x07]);
    assert!(onnx.len() > 4 * 61_706 && contains(&onnx, "conv1.weight") && contains(&onnx, "probabilities"));
    let weights = export_safetensors("lenet5-mnist.ftlc", LENET).unwrap();
    assert!(weights.len() > 4 * 61_706 && contains(&weights, "\"fc3.weight\""));
    let err: js_sys::Error = export_onnx("broken.ftlc", &LENET[..100]).err().unwrap().into();
    assert_eq!(String::from(err.name()), "CheckpointError");
    assert!(String::from(err.message()).contains("broken.ftlc"));
}
