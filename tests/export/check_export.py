"""Independent readers check the exported models: `make test-export`.

For every shipped base (www/models/*.ftlc), two models trained here for a
few steps (an MLP with dropout, LeNet-5 with BatchNorm) and random-weight
models of tests/export/specs/*.json (every layer kind the core has):

1. `finetune-lab export` writes the .onnx and .safetensors files;
   `finetune-lab eval --dump-logits` writes real test images (pixel bytes)
   and the logits the core computes for them.
2. ONNX: `onnx.checker.check_model(full_check=True)`, IR version <= 8, opset
   13, a dynamic batch; ONNX Runtime's logits for pixels / 255 match the
   core's within 1e-4 (max abs), and its probabilities are their softmax.
3. safetensors: loaded with the `safetensors` package into numpy, the
   tensors have the PyTorch names and shapes, equal the ONNX initializers,
   and a numpy forward pass written from PyTorch's layer definitions (in
   float64) reproduces the core's logits within 1e-4.
4. A control: the same comparison on an ONNX model whose last bias is off by
   1e-3 must fail, so a passing run means the numbers were compared.

Usage: check_export.py --cli target/release/finetune-lab
           --spec-checkpoint target/release/examples/spec-checkpoint --out target/export-check
       check_export.py --cli target/release/finetune-lab --checkpoint X.ftlc --out DIR
           (only the given checkpoints, e.g. one trained in the page, plus the control)
Prints one line per model and closes with "export: N passed, M failed".
"""

import argparse
import glob
import json
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper
from safetensors.numpy import load_file

TOLERANCE = 1e-4
BN_EPS = 1e-5  # the core's (and PyTorch's) BatchNorm epsilon
ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))


def run(*args):
    subprocess.run([str(a) for a in args], check=True, stdout=subprocess.DEVNULL, cwd=ROOT)


def checkpoint_meta(path):
    """The metadata JSON of a .ftlc file (src/checkpoint.rs: magic, u16 version, u32 + spec, u32 + metadata)."""
    with open(path, "rb") as f:
        data = f.read()
    spec_len = int.from_bytes(data[6:10], "little")
    at = 10 + spec_len
    meta_len = int.from_bytes(data[at : at + 4], "little")
    return json.loads(data[at + 4 : at + 4 + meta_len])


def onnx_logits(model_bytes, x):
    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    return session.run(["logits", "probabilities"], {"input": x})


def check_onnx(path, dump, x, core):
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    assert model.ir_version <= 8, f"IR version {model.ir_version}"
    assert [(o.domain, o.version) for o in model.opset_import] == [("", 13)], model.opset_import
    dims = [d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["N", *dump["shape"]], f"input dims {dims}"
    meta = {p.key: p.value for p in model.metadata_props}
    assert json.loads(meta["classes"]) == dump["classes"], meta["classes"]
    logits, probabilities = onnx_logits(model.SerializeToString(), x)
    # The batch is dynamic: one image alone gives the same row.
    single, _ = onnx_logits(model.SerializeToString(), x[:1])
    assert np.abs(single[0] - logits[0]).max() <= TOLERANCE, "batch of one differs"
    softmax = np.exp(core - core.max(1, keepdims=True))
    softmax /= softmax.sum(1, keepdims=True)
    assert np.abs(probabilities - softmax).max() <= TOLERANCE, "probabilities are not the softmax of the logits"
    return model, float(np.abs(logits - core).max())


def numpy_forward(tensors, spec, modules, x):
    """The network as PyTorch defines each layer, in float64, from the safetensors tensors alone."""
    x = x.astype(np.float64)
    t = {k: v.astype(np.float64) for k, v in tensors.items()}
    n = x.shape[0]
    for layer, module in zip(spec["layers"], modules):
        name, kind = module.split(":")
        assert kind == layer["type"], (module, layer)
        if kind in ("conv2d", "max_pool2d") and x.ndim == 2:
            x = x.reshape(n, -1, 1, 1)  # the core's flat tensor is a C x 1 x 1 image
        if kind == "conv2d":
            w, b = t[f"{name}.weight"], t[f"{name}.bias"]  # nn.Conv2d: (F, C, kh, kw)
            k, s, p = layer["kernel"], layer.get("stride", 1), layer.get("padding", 0)
            assert w.shape == (layer["filters"], x.shape[1], k, k), (name, w.shape)
            padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
            windows = np.lib.stride_tricks.sliding_window_view(padded, (k, k), axis=(2, 3))[:, :, ::s, ::s]
            x = np.einsum("nchwij,fcij->nfhw", windows, w) + b[None, :, None, None]
        elif kind == "max_pool2d":
            size = layer["size"]
            stride = layer.get("stride") or size
            x = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(2, 3))[:, :, ::stride, ::stride].max(axis=(-2, -1))
        elif kind == "batch_norm":
            shape = (1, -1, 1, 1) if x.ndim == 4 else (1, -1)
            g, b, m, v = (t[f"{name}.{p}"].reshape(shape) for p in ("weight", "bias", "running_mean", "running_var"))
            x = (x - m) / np.sqrt(v + BN_EPS) * g + b
        elif kind == "flatten":
            x = x.reshape(n, -1)  # nn.Flatten(): C, H, W order
        elif kind == "dense":
            w, b = t[f"{name}.weight"], t[f"{name}.bias"]  # nn.Linear: (out, in)
            x = x.reshape(n, -1)
            assert w.shape == (layer["units"], x.shape[1]), (name, w.shape)
            x = x @ w.T + b
        elif kind == "relu":
            x = np.maximum(x, 0)
        elif kind == "leaky_relu":
            x = np.where(x > 0, x, layer.get("alpha", 0.01) * x)
        elif kind == "tanh":
            x = np.tanh(x)
        elif kind == "sigmoid":
            x = 1 / (1 + np.exp(-x))
        elif kind == "dropout":
            pass  # the identity at inference
        else:
            raise AssertionError(f"no numpy form for layer kind '{kind}'")
    return x.reshape(n, -1)


def expected_names(spec, modules):
    names = []
    for layer, module in zip(spec["layers"], modules):
        name = module.split(":")[0]
        params = {"conv2d": ["weight", "bias"], "dense": ["weight", "bias"], "batch_norm": ["weight", "bias", "running_mean", "running_var"]}
        names += [f"{name}.{p}" for p in params.get(layer["type"], [])]
    return names


def check_safetensors(path, onnx_model, x, core):
    from safetensors import safe_open

    with safe_open(path, framework="numpy") as f:
        meta = f.metadata()
    tensors = load_file(path)
    spec = json.loads(meta["model_spec"])
    modules = meta["modules"].split(",")
    assert meta["format"] == "pt"
    assert len(modules) == len(spec["layers"]), modules
    assert sorted(tensors) == sorted(expected_names(spec, modules)), sorted(tensors)
    initializers = {i.name: numpy_helper.to_array(i) for i in onnx_model.graph.initializer}
    for name, value in tensors.items():
        assert value.dtype == np.float32 and value.flags["C_CONTIGUOUS"], name
        assert np.array_equal(value, initializers[name]), f"{name} differs from the ONNX initializer"
    return float(np.abs(numpy_forward(tensors, spec, modules, x) - core).max())


def control(onnx_model, x, core):
    """An ONNX model off by 1e-3 in its last bias must not pass the comparison."""
    broken = onnx.ModelProto()
    broken.CopyFrom(onnx_model)
    last_gemm = [n for n in broken.graph.node if n.op_type == "Gemm"][-1]
    bias = next(i for i in broken.graph.initializer if i.name == last_gemm.input[2])
    values = numpy_helper.to_array(bias).copy()
    values[0] += 1e-3
    bias.CopyFrom(numpy_helper.from_array(values, bias.name))
    logits, _ = onnx_logits(broken.SerializeToString(), x)
    return float(np.abs(logits - core).max())


def all_models(cli, spec_checkpoint, out):
    """The shipped bases, two models trained here and a random-weight model of every layer kind."""
    assert spec_checkpoint, "--spec-checkpoint is needed to check every layer kind"
    mnist = os.path.join(ROOT, "www/data/mnist.ftld.gz")
    models = sorted(glob.glob(os.path.join(ROOT, "www/models/*.ftlc")))
    assert models, "no shipped base models found"
    # Trained here for a few steps, with the layers the shipped bases lack.
    for preset, extra in [("mlp", ["--dropout", "0.25"]), ("lenet5_bn", [])]:
        path = os.path.join(out, f"trained-{preset}.ftlc")
        run(cli, "pretrain", "--dataset", mnist, "--model", preset, "--epochs", "1", "--train-limit", "320", "--seed", "3", *extra, "--out", path)
        models.append(path)
    for spec in sorted(glob.glob(os.path.join(ROOT, "tests/export/specs/*.json"))):
        path = os.path.join(out, "random-" + os.path.basename(spec).replace(".json", ".ftlc"))
        run(os.path.abspath(spec_checkpoint), spec, path, "7")
        models.append(path)
    return models


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cli", required=True)
    parser.add_argument("--spec-checkpoint", help="the spec-checkpoint example; needed unless --checkpoint is given")
    parser.add_argument("--checkpoint", action="append", help="check only these checkpoints (repeatable)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--images", type=int, default=1000, help="test images per model (the MNIST test split has 997)")
    args = parser.parse_args()
    cli = os.path.abspath(args.cli)
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)

    models = [os.path.abspath(p) for p in args.checkpoint or []] or all_models(cli, args.spec_checkpoint, out)

    passed, failed, first_onnx = 0, 0, None
    print(f"{'model':45} {'images':>6} {'onnxruntime max|diff|':>22} {'numpy(safetensors) max|diff|':>29}")
    for path in models:
        stem = os.path.join(out, os.path.basename(path).replace(".ftlc", ""))
        try:
            run(cli, "export", "--checkpoint", path, "--onnx", stem + ".onnx", "--safetensors", stem + ".safetensors")
            # The checkpoint's own dataset (Fashion-MNIST for the fashion base).
            dataset = checkpoint_meta(path)["source_dataset"]
            run(cli, "eval", "--checkpoint", path, "--dataset", os.path.join(ROOT, "www/data", dataset), "--dump-logits", stem + ".json", "--limit", args.images)
            with open(stem + ".json") as f:
                dump = json.load(f)
            # The documented input: pixel bytes / 255, NCHW.
            x = (np.array(dump["pixels"], dtype=np.float32) / np.float32(255)).reshape(-1, *dump["shape"])
            core = np.array(dump["logits"], dtype=np.float32)
            onnx_model, onnx_diff = check_onnx(stem + ".onnx", dump, x, core)
            numpy_diff = check_safetensors(stem + ".safetensors", onnx_model, x, core)
            first_onnx = first_onnx or (onnx_model, x, core)
            ok = onnx_diff <= TOLERANCE and numpy_diff <= TOLERANCE
            print(f"{os.path.basename(path) if args.checkpoint else os.path.relpath(path, ROOT):45} {len(x):6} {onnx_diff:22.3g} {numpy_diff:29.3g}  {'ok' if ok else 'FAILED'}")
        except (AssertionError, subprocess.CalledProcessError, KeyError) as e:
            ok = False
            print(f"{os.path.relpath(path, ROOT):45} FAILED: {e!r}")
        passed, failed = passed + ok, failed + (not ok)

    diff = control(*first_onnx)
    caught = diff > TOLERANCE
    print(f"control: an ONNX model off by 1e-3 in its last bias differs by {diff:.3g}: {'caught' if caught else 'NOT CAUGHT'}")
    passed, failed = passed + caught, failed + (not caught)
    print(f"export: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
