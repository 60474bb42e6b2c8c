// Training that goes wrong, in the real page: a diverging run pauses with a
// suggestion and keeps finite weights that download; a worker that dies
// (`self.close()`) or hangs (an endless loop) mid-run is noticed, replaced,
// and the run comes back from its last automatic checkpoint with its charts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { labFor, byTestId } from './browser.mjs';

const status = (page) => byTestId(page, 'status').textContent();
const points = (page) => page.evaluate(() => Number(document.querySelector('[data-testid="loss-chart"]').dataset.points || 0));

// An independent reader of the .ftlc layout (src/checkpoint.rs): magic, u16
// version, the spec and the metadata as length-prefixed JSON, then f32 weights.
function readCheckpoint(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 4)), 'FTLC');
  let at = 6;
  const json = () => {
    const length = view.getUint32(at, true);
    const value = JSON.parse(new TextDecoder().decode(bytes.subarray(at + 4, at + 4 + length)));
    at += 4 + length;
    return value;
  };
  const spec = json();
  const meta = json();
  const count = view.getUint32(at, true);
  at += 4;
  assert.equal(bytes.byteLength, at + 4 * count, 'the file ends after its weights');
  const weights = Array.from({ length: count }, (_, i) => view.getFloat32(at + 4 * i, true));
  return { spec, meta, weights };
}

test('a diverging run pauses with a suggestion, keeps its curves, and its last finite weights download', async (t) => {
  const lab = await labFor(t);
  const { page } = lab;
  await byTestId(page, 'model').selectOption('mlp');
  await byTestId(page, 'optimizer').selectOption('sgd');
  await byTestId(page, 'lr').fill('1');
  await byTestId(page, 'l2').fill('1000'); // every step multiplies the weights by −999
  await byTestId(page, 'train').click();
  await page.waitForFunction(() => document.body.dataset.state === 'diverged', null, { timeout: 30_000 });
  const said = await status(page);
  assert.match(said, /DivergedError: training diverged at step \d+: (the loss|a weight of layer \d+ \(dense\)) became (NaN|-?inf); the weights before this step are kept\. Try a smaller learning rate: 0\.1 instead of 1/);
  // Curves measured before the failure are kept (drawn on the next animation frames).
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="loss-chart"]').dataset.points) >= 1);
  assert.equal(await byTestId(page, 'train').isEnabled(), true);

  const [download] = await Promise.all([page.waitForEvent('download'), byTestId(page, 'download-checkpoint').click()]);
  assert.match(download.suggestedFilename(), /^run_mnist_\d{4}-\d{2}-\d{2}\.ftlc$/);
  const { spec, meta, weights } = readCheckpoint(readFileSync(await download.path()));
  assert.ok(weights.length > 100_000, 'the MLP’s weights');
  assert.ok(weights.every(Number.isFinite), 'every downloaded weight is finite');
  assert.equal(spec.layers.length > 0, true);
  assert.equal(meta.source_dataset, 'mnist.ftld.gz');
  assert.match(meta.command, /trained in the browser by Fine-Tune Lab/);
  assert.deepEqual(lab.consoleErrors, []);
});

// Trains the MLP until the worker has sent a resume point past step 0, then
// breaks the worker with `breakIt` (run inside the worker) and returns what
// the page showed at that moment.
async function trainThenBreak(page, breakIt) {
  await byTestId(page, 'model').selectOption('mlp');
  await byTestId(page, 'epochs').fill('50');
  await byTestId(page, 'train').click();
  await page.waitForFunction(() => Number(document.body.dataset.resumeStep) > 0, null, { timeout: 60_000 });
  const resumeStep = Number(await page.evaluate(() => document.body.dataset.resumeStep));
  const worker = page.workers().find((w) => /\/worker\.js/.test(w.url()));
  const brokenAt = Date.now();
  await worker.evaluate(breakIt).catch(() => {}); // a closing or looping worker may not answer
  return { resumeStep, brokenAt };
}

async function expectRecovery(page, { resumeStep, brokenAt }, reason) {
  await page.waitForFunction(() => /The training worker stopped/.test(document.querySelector('[data-testid="status"]').textContent), null, { timeout: 10_000 });
  const detectedMs = Date.now() - brokenAt;
  assert.ok(detectedMs < 6000, `noticed after ${detectedMs} ms`);
  await page.waitForFunction(() => /was replaced/.test(document.querySelector('[data-testid="status"]').textContent), null, { timeout: 30_000 });
  const said = await status(page);
  assert.match(said, reason);
  const step = Number(/back as it was at step (\d+)/.exec(said)[1]);
  assert.ok(step >= resumeStep, `restored at step ${step}, the last resume point was at ${resumeStep} or later`);
  assert.equal(await page.evaluate(() => document.body.dataset.state), 'ready');
  // The charts kept what was measured up to the resume point.
  const kept = await points(page);
  assert.ok(kept > 0, `charts keep ${kept} points`);
  // Train goes on from there, in the new worker.
  await byTestId(page, 'train').click();
  await page.waitForFunction(
    (from) => {
      const match = /step ([\d,]+)/.exec(document.querySelector('[data-testid="status"]').textContent);
      return match && Number(match[1].replace(/,/g, '')) > from + 50;
    },
    step,
    { timeout: 30_000 },
  );
  assert.ok((await points(page)) > kept, 'new points are drawn after the restored ones');
  await byTestId(page, 'pause').click();
}

test('a worker closed mid-run is noticed within 5 s, replaced, and the run continues from its checkpoint', async (t) => {
  const lab = await labFor(t);
  const broken = await trainThenBreak(lab.page, () => self.close());
  await expectRecovery(lab.page, broken, /The training worker stopped \(it stopped answering: nothing for \d s\) and was replaced/);
  assert.deepEqual(lab.consoleErrors, []);
});

test('a worker stuck in an endless loop is replaced too', async (t) => {
  const lab = await labFor(t);
  const broken = await trainThenBreak(lab.page, () => {
    setTimeout(() => {
      for (;;);
    }, 0);
  });
  await expectRecovery(lab.page, broken, /it stopped answering/);
  assert.deepEqual(lab.consoleErrors, []);
});
