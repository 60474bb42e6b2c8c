// One trainer of a run list's spec ({name, classes?, config, base?: {url,
// newHead}}), built the same way by the page's worker and by each of its
// shard workers (www/shard-worker.js), so every shard of a data-parallel run
// starts from the same weights. The class-subset handle made here is freed at
// once: the trainer keeps its own reference to the data (wasm memory never
// shrinks, leaks add up).

export function makeTrainer(wasm, full, spec, baseBytes) {
  const dataset = spec.classes ? full.withClasses(spec.classes) : full;
  try {
    const trainer = spec.base
      ? wasm.TrainerHandle.fromCheckpoint(dataset, spec.config, spec.base.url, baseBytes, !!spec.base.newHead)
      : new wasm.TrainerHandle(dataset, spec.config);
    return { trainer, info: dataset.info() };
  } finally {
    if (dataset !== full) dataset.free();
  }
}
