// One run trained for about `ms`, tick by tick, until the time is up or the
// run is complete: the page's worker and a lane's helper worker
// (shard-worker.js) train their chunks with it. Its busy time (training and
// evaluation) goes on `run.busyMs` and the images trained and their training
// time on `tally` as it goes, so an error mid-chunk keeps what was done;
// evaluation ticks are not training time, as in the page's images/s readout.
// `tick` returns what TrainerHandle.tick does (or a promise of it).

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
      return;
    }
  }
}
