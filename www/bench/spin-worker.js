// A pure compute loop for the benchmark's machine-scaling figure: how much
// arithmetic W workers get done together against one, with no memory
// traffic or messages, so data-parallel training is judged against what the
// hardware gives (a shared or throttled core shows here first).

self.onmessage = ({ data: { ms } }) => {
  let x = 1;
  let iterations = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    for (let i = 0; i < 100_000; i++) x = x * 1.000000001 + 1e-9;
    iterations += 100_000;
  }
  const seconds = (performance.now() - start) / 1000;
  self.postMessage({ rate: iterations / seconds, x });
};
