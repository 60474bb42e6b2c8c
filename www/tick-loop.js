// One run trained for about `ms`, tick by tick, until the time is up or the
// run is complete: the page's worker and a lane's helper worker
// (shard-worker.js) train their chunks with it. Its busy time (training and
// evaluation) goes on `run.busyMs` and the images trained and their training
// time on `tally` as it goes, so an error mid-chunk keeps what was done;
// evaluation ticks are not training time, as in the page's images/s readout.
// `tick` returns what TrainerHandle.tick does (or a promise of it).
// A run that completes gets its held-out test measured there and then
// (`run.test`), on the worker that trained it: with several workers that
// overlaps the other runs' training instead of queueing every run's test
// on the page's worker at the list's end (2 workers: initialisation's five
// runs ×1.59 → ×1.70 faster than 1, the optimisers' six ×1.57 → ×1.62).

export async function trainFor(run, tick, ms, tally) {
  const start = performance.now();
  while (performance.now() - start < ms) {
    const t = performance.now();
    const result = await tick();
    const took = performance.now() - t;
    run.busyMs += took;
    if (result > 0) {
      tally.images += result;
      tally.trainMs += took;
    } else if (result < 0) {
      run.done = true;
      const t = performance.now();
      run.test = run.trainer.evaluateTest();
      run.busyMs += performance.now() - t;
      return;
    }
  }
}
