// The shared memory of a data-parallel run list (www/shard-group.js,
// www/shard-worker.js), where the page is cross-origin isolated, and the
// wait both sides use.
//
// control: an Int32Array over a SharedArrayBuffer, one word each:
//   tick     bumped by the coordinator to start tick number `tick`
//   run      which run of the list the tick is for
//   arrived  every shard adds 1 once its contribution is written: tick t is
//            complete when it reaches count × t (it only ever grows)
//   stop     set when the group is shut down
//   failed   1 + the index of a shard whose tick threw (0: none)
// data: two halves (tick parity) of count × slot floats. In tick t, shard i
// writes its contribution at half (t mod 2), offset i × its length (every
// shard's has the same length), and then every shard reads all of them: a
// shard may start tick t + 1 while a slower one still reads tick t.

export const CONTROL = { tick: 0, run: 1, arrived: 2, stop: 3, failed: 4 };
export const CONTROL_WORDS = 8;

// A wait of a few hundred microseconds is common here (one shard finishing
// before another). Spinning that long costs a core that would idle anyway,
// while Atomics.wait's wake-up on a virtual machine takes about as long
// again (measured on the 2-core CI machine), so: spin first, then block.
const SPIN_MS = 1;

// Waits until control[index] ≥ target; false if `timeoutMs` passed first.
export function waitAtLeast(control, index, target, timeoutMs) {
  const start = performance.now();
  for (;;) {
    const value = Atomics.load(control, index);
    if (value >= target) return true;
    const waited = performance.now() - start;
    if (waited > timeoutMs) return false;
    if (waited > SPIN_MS) Atomics.wait(control, index, value, Math.min(100, timeoutMs - waited));
  }
}
