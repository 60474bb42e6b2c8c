// One trainer of a run list's spec ({name, classes?, config, base?: {url,
// newHead, sourceClasses?}}), built the same way by the page's worker and by
// its helper workers (www/shard-worker.js), so every copy of a run starts
// from the same weights. With `forgetting` and base.sourceClasses, every
// evaluation also measures the base's own task (the forgetting meter); a
// shard leaves that report to shard 0. The class-subset handles made here
// are freed at once: the trainer keeps its own reference to the data (wasm
// memory never shrinks, leaks add up).

export function makeTrainer(wasm, full, spec, baseBytes, { forgetting = true } = {}) {
  const dataset = spec.classes ? full.withClasses(spec.classes) : full;
  let trainer;
  try {
    trainer = spec.base
      ? wasm.TrainerHandle.fromCheckpoint(dataset, spec.config, spec.base.url, baseBytes, !!spec.base.newHead)
      : new wasm.TrainerHandle(dataset, spec.config);
    if (forgetting && spec.base && spec.base.sourceClasses) {
      const source = full.withClasses(spec.base.sourceClasses);
      try {
        trainer.meterForgetting(source, spec.base.url, baseBytes);
      } finally {
        source.free();
      }
    }
    return { trainer, info: dataset.info() };
  } catch (err) {
    if (trainer) trainer.free();
    throw err;
  } finally {
    if (dataset !== full) dataset.free();
  }
}
