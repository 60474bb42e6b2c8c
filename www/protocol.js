// The worker protocol, shared by the page and the worker.
//
// Every message is {v, type, id?, payload}. Types, main → worker:
//   addDataset {url, name, images: {shape, classes: [{name, files}], pixels}}
//                                   the user's images as a dataset under `url` (the core
//                                   decides the split); answered by datasetAdded {url, dataset}
//   preview {datasetUrl, classes?, augment, count, seed}
//                                   `count` training images, then the same augmented:
//                                   answered by previewed {shape, bytes}
//   describe {run}                  one run spec's layers, from the specs alone, as `described`
//                                   (the page shows layers before the first Train)
//   validate {configs}              the core's checks of run configurations: answered by
//                                   validated {problems: [[{field, rule, got, message}], …]}
//   configure {runs: [{name, datasetUrl, classes?, config, base?: {url, newHead, sourceClasses?}}], workers?}
//                                   build a new run list (replaces the old one only
//                                   once every run is built); `config` is the core's
//                                   TrainConfig, `base` a checkpoint to fine-tune; with
//                                   `sourceClasses` each evaluation also carries
//                                   `source_acc` (the forgetting meter); `workers` (default 1):
//                                   one run's batches split over that many workers, or a
//                                   list's runs side by side on them (run-workers.js)
//   warm {workers}                  start the helper workers a list on `workers` needs now, so
//                                   Train does not wait for them (no reply; 1: they go after a minute unused)
//   start                           train every run until done or paused
//   pause                           stop after the current chunk of steps
//   step                            one training step of each run (plus evaluations); answered
//                                   by paused, or by done when that step finished the runs
//   freeze {run?, layer, frozen}    (un)freeze a layer of one run (or all), also mid-run
//   layerLr {run?, layer, multiplier}  set a layer's learning-rate multiplier, also mid-run
//   restore {runs: [{name, bytes, busyMs}]}  continue the configured runs from resume
//                                   points (a dead worker's `snapshot`): answered by
//                                   restored {runs: [{name, status}]}; all or none
//   checkpoint {run}                the named run's model as a .ftlc file:
//                                   checkpointed {name, bytes, info}
//   inspectCheckpoint {name, bytes} what a .ftlc file is, changing nothing: inspected {info},
//                                   info = {meta, input, param_count, layers}
//   addCheckpoint {url, name, bytes}  a model the page holds, as a base under `url`:
//                                   checkpointAdded {url, info}
//   evaluate {datasetUrl, checkpointUrl, name?, split}  a checkpoint on a dataset split:
//                                   evaluated {report: {loss, acc, per_class, confusion}}
//   exportOnnx {name, bytes}        a .ftlc file as an ONNX model: exported {bytes}
//   exportSafetensors {name, bytes} its weights under PyTorch's names: exported {bytes}
//   memory                          the core's wasm memory: memory {wasmBytes}
//   predict {pixels}                every run's class probabilities for one image:
//                                   predicted {runs: [{name, classes, probabilities | problem}]}
//   filters                         every run's first weight layer: filters {runs: [{name, shape,
//                                   weights: {layer, kind, shape, values}, base: the same of
//                                   its base, or null, second: the next convolution's, or null}]}
//   activations {run?, index? | pixels?}  every layer's output for one image (a test image by
//                                   number, or given): activated {name, classes, shape, pixels,
//                                   label, layers: [{layer, name, shape, values}]}
//   inspectSplit {split, mistakes}  a split image by image: inspected {runs: [{name, classes, shape,
//                                   report: {loss, acc, per_class, confusion, mistakes}}]}
// worker → main:
//   ready {build, catalog}          the wasm module is loaded; `catalog` is the core's
//                                   table of choices and limits (src/catalog/)
//   described {name, layers, paramCount}
//   configured {runs: [{name, dataset, layers, paramCount, status}], parallel: {workers, mode,
//                                   transport, problem?}}  mode: 'one worker' | 'data-parallel' |
//                                   'runs in parallel'; transport: 'shared memory' | 'messages' | 'none'
//   progress {runs: [{name, windows, evals, health, status, imagesPerSec}]}  a few per second;
//                                   windows and evals carry `seconds` of the run's own work;
//                                   health: the layer-health records of its evaluation points
//   paused {runs: [{name, status}]} / done {runs: [{name, status, test}]}
//   layers {runs: [{name, layers}]} the reply to freeze / layerLr: each layer's name, shape,
//                                   params, frozen, lr_multiplier
//   snapshot {runs: [{name, bytes, busyMs, step}]}  every run's resume point, right after the
//                                   progress it matches: every AUTOSAVE_MS of training and
//                                   whenever training stops
//   runStopped {name, code, message, status}  one run of several diverged and stopped
//                                   alone (the others train on); a single run's divergence
//                                   is an `error` that stops the list
//   heartbeat {}                    every HEARTBEAT_MS, training or not
//   error {code, message, replyTo, fatal?}  code is the error's name (DatasetError,
//                                   CheckpointError, ConfigError, ModelError, DivergedError,
//                                   ResumeError, ExportError, StateError, ProtocolError,
//                                   WasmTrap); `fatal`
//                                   (a wasm trap: panic, memory exhausted) means this
//                                   worker cannot go on and must be replaced
// A message with another version is answered with an error, never guessed at.

export const PROTOCOL_VERSION = 4;

// The worker's heartbeat, and how long the page waits without hearing from it
// before it counts the worker as dead (then it is replaced): long enough for
// the longest single call into the core on a slow machine, short enough to
// notice a dead worker within 5 s.
export const HEARTBEAT_MS = 1000;
export const SILENCE_LIMIT_MS = 4000;

export function message(type, payload = {}, id = undefined) {
  return { v: PROTOCOL_VERSION, type, id, payload };
}

export function versionError(msg) {
  if (msg && msg.v === PROTOCOL_VERSION) return null;
  return `protocol version ${msg && msg.v} does not match this page's version ${PROTOCOL_VERSION}; reload the page`;
}
