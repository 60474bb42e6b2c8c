// The TensorFlow.js peer for www/bench/bench.html: the same LeNet-5 (identical
// layers, 61,706 parameters), batch 64, SGD with momentum 0.9, lr 0.01, on the
// same MNIST training images, with TensorFlow.js 4.22's `cpu` backend, in a
// worker of the same browser. A classic worker, because tf.min.js is a script.

/* global tf */
importScripts('vendor/tf.min.js'); // www/bench/vendor/, copied by `make vendor`

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// Reads the first `limit` training images of our dataset file (format in src/data/format.rs).
async function loadMnist(limit) {
  const response = await fetch('../data/mnist.ftld.gz');
  const stream = response.body.pipeThrough(new DecompressionStream('gzip'));
  const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  const view = new DataView(bytes.buffer);
  const [c, h, w] = [view.getUint16(6, true), view.getUint16(8, true), view.getUint16(10, true)];
  const count = view.getUint32(12, true);
  const classes = view.getUint16(16, true);
  let at = 18;
  for (let i = 0; i < classes; i++) at += 1 + bytes[at];
  const size = c * h * w;
  const pixels = at;
  const labels = pixels + count * size;
  const splits = labels + count;
  const x = [];
  const y = [];
  for (let i = 0; i < count && y.length < limit; i++) {
    if (bytes[splits + i] !== 0) continue;
    for (let j = 0; j < size; j++) x.push(bytes[pixels + i * size + j] / 255);
    y.push(bytes[labels + i]);
  }
  return { x: tf.tensor4d(x, [y.length, h, w, c]), y: tf.oneHot(tf.tensor1d(y, 'int32'), classes), n: y.length };
}

function lenet5() {
  const model = tf.sequential();
  model.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 6, kernelSize: 5, padding: 'same', activation: 'relu' }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.conv2d({ filters: 16, kernelSize: 5, padding: 'valid', activation: 'relu' }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 120, activation: 'relu' }));
  model.add(tf.layers.dense({ units: 84, activation: 'relu' }));
  model.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
  model.compile({ optimizer: tf.train.momentum(0.01, 0.9), loss: 'categoricalCrossentropy' });
  return model;
}

self.onmessage = async ({ data: { batch = 64, windows = 3, windowMs = 3000 } }) => {
  try {
    await tf.setBackend('cpu');
    await tf.ready();
    const data = await loadMnist(batch * 16);
    const model = lenet5();
    const batches = [];
    for (let b = 0; b + batch <= data.n; b += batch) {
      batches.push([data.x.slice([b, 0, 0, 0], [batch, 28, 28, 1]), data.y.slice([b, 0], [batch, 10])]);
    }
    let next = 0;
    const step = async () => {
      const [x, y] = batches[next++ % batches.length];
      await model.trainOnBatch(x, y);
    };
    for (let i = 0; i < 3; i++) await step(); // warm-up
    const rates = [];
    for (let w = 0; w < windows; w++) {
      let images = 0;
      const start = performance.now();
      while (performance.now() - start < windowMs) {
        await step();
        images += batch;
      }
      rates.push((images * 1000) / (performance.now() - start));
    }
    self.postMessage({
      ok: true,
      params: model.countParams(),
      backend: tf.getBackend(),
      result: { median: median(rates), min: Math.min(...rates), max: Math.max(...rates), samples: rates.length },
    });
  } catch (err) {
    self.postMessage({ ok: false, error: String(err && err.stack ? err.stack : err) });
  }
};
