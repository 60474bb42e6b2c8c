// Keep and take away, in the real page: runs are saved in IndexedDB when
// they end and come back after a reload with their kept curves and the
// user's images; rename, delete and clear work; a full quota (set through
// Chromium's DevTools protocol) is a message that keeps what was there;
// checkpoints go down and up again and evaluate identically in the page and
// in the native CLI; metrics leave as CSV and JSON, the charts as PNG, and
// the model as the CLI's exact ONNX bytes, which ONNX Runtime runs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { labFor, byTestId, trainUntilDone } from './browser.mjs';
import { makeShapeFolder } from './shape-folder.mjs';

const CLI = path.resolve('target/release/finetune-lab');
const MNIST = path.resolve('www/data/mnist.ftld.gz');
const VENV = process.env.EXPORT_VENV || path.join(homedir(), '.cache/finetune-lab/export-venv');

const savedCount = (page) => page.locator('[data-testid="saved-run"]').count();
const waitSaved = (page, n) => page.waitForFunction((k) => document.querySelectorAll('[data-testid="saved-run"]').length === k, n, { timeout: 60_000 });
const savedMessage = (page) => byTestId(page, 'saved-message').textContent();

// A short run (one epoch of `model` on MNIST) that ends and is saved.
async function trainShortRun(page, model = 'mlp') {
  const before = await savedCount(page);
  await byTestId(page, 'model').selectOption(model);
  await byTestId(page, 'epochs').fill('1');
  await byTestId(page, 'train').click();
  await page.waitForFunction(() => document.body.dataset.state === 'done', null, { timeout: 60_000 });
  await waitSaved(page, before + 1);
}

async function download(page, testid) {
  const [file] = await Promise.all([page.waitForEvent('download'), page.locator(`[data-testid="${testid}"]`).first().click()]);
  return { name: file.suggestedFilename(), bytes: readFileSync(await file.path()) };
}

const reload = async (page) => {
  await page.reload();
  await page.waitForFunction(() => document.body.dataset.state === 'idle', null, { timeout: 30_000 });
};

// The Evaluate panel's numbers for the newest saved run (the list's first row).
async function evaluateNewest(page, datasetUrl = 'data/mnist.ftld.gz') {
  await page.locator('[data-testid="saved-run"]').first().locator('[data-testid="saved-evaluate"]').click();
  await byTestId(page, 'eval-dataset').selectOption(datasetUrl);
  await page.evaluate(() => document.querySelector('[data-testid="eval-result"]').replaceChildren());
  await byTestId(page, 'eval-run').click();
  await byTestId(page, 'eval-summary').waitFor({ timeout: 30_000 });
  return page.evaluate(() => ({
    acc: Number(document.querySelector('[data-testid="eval-summary"]').dataset.acc),
    loss: Number(document.querySelector('[data-testid="eval-summary"]').dataset.loss),
    perClass: [...document.querySelectorAll('[data-testid="eval-per-class"] li')].map((li) => Number(li.dataset.acc)),
    confusion: [...document.querySelectorAll('[data-testid="eval-confusion"] tr')].slice(1).map((tr) => [...tr.querySelectorAll('td')].map((td) => Number(td.textContent))),
  }));
}

// What the native CLI measures for the same file (f32 numbers, printed shortest).
function cliEval(bytes, dir, name = 'model.ftlc') {
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  return JSON.parse(execFileSync(CLI, ['eval', '--checkpoint', file, '--dataset', MNIST]).toString());
}

// The same predictions, image by image (so the same accuracies and matrix);
// the mean loss may differ in its last bits, as the page's SIMD kernels sum
// in another order than the native ones.
function assertSameEvaluation(page, cli) {
  assert.equal(page.acc, Math.fround(cli.acc), 'accuracy');
  assert.ok(Math.abs(page.loss - cli.loss) <= 1e-5 * cli.loss, `loss ${page.loss} vs ${cli.loss}`);
  assert.deepEqual(page.perClass, cli.per_class.map((c) => Math.fround(c.acc)), 'per-class accuracy');
  assert.deepEqual(page.confusion, cli.confusion, 'confusion matrix');
}

test('after a reload the saved run, its kept curve and your images are back; rename, delete and clear work', async (t) => {
  const lab = await labFor(t);
  const { page } = lab;
  await page.locator('[data-testid="own-images"] summary').click();
  await byTestId(page, 'upload').setInputFiles(await makeShapeFolder(page));
  await page.waitForFunction(() => document.querySelectorAll('.own-class').length === 3);
  await byTestId(page, 'dataset').selectOption('data/mnist.ftld.gz');
  await trainShortRun(page);
  await byTestId(page, 'keep').click();
  const numbers = await page.locator('[data-testid="saved-run-numbers"]').first().textContent();
  assert.match(numbers, /^validation 0\.\d{4} · test 0\.\d{4}$/);
  assert.equal(numbers, `validation ${await byTestId(page, 'val-acc').textContent()} · test ${await byTestId(page, 'test-acc').textContent()}`);
  assert.match(await byTestId(page, 'storage-used').textContent(), /This page keeps [\d.]+ (KB|MB) on this device/);
  // The images are written a moment after they change.
  await page.waitForFunction(async () => {
    const db = await new Promise((resolve) => Object.assign(indexedDB.open('finetune-lab'), { onsuccess: (e) => resolve(e.target.result) }));
    const value = await new Promise((resolve) => Object.assign(db.transaction('page').objectStore('page').get('images'), { onsuccess: (e) => resolve(e.target.result) }));
    db.close();
    return value && value.value.classes.length === 3;
  });

  await reload(page);
  await waitSaved(page, 1);
  assert.equal(await page.locator('[data-testid="saved-run-numbers"]').first().textContent(), numbers);
  await page.waitForFunction(() => document.querySelector('[data-testid="acc-chart"]').dataset.kept === '1');
  assert.equal(await page.locator('[data-testid="kept-runs"] li').count(), 1);
  await page.waitForFunction(() => document.querySelectorAll('.own-class').length === 3);
  assert.match(await byTestId(page, 'own-status').textContent(), /3 classes, 60 images/);
  assert.match(await byTestId(page, 'dataset').locator('option[value="own"]').textContent(), /Your images \(60\)/);
  // A saved model is a choice in "Start from".
  assert.equal(await page.locator('[data-testid="start-from"] optgroup option').count(), 1);

  const row = page.locator('[data-testid="saved-run"]').first();
  await row.locator('[data-testid="saved-rename"]').click();
  await byTestId(page, 'saved-rename-input').fill('my first MLP');
  await byTestId(page, 'saved-rename-input').press('Enter');
  await page.waitForFunction(() => document.querySelector('[data-testid="saved-run-name"]')?.textContent === 'my first MLP');
  await reload(page);
  await waitSaved(page, 1);
  assert.equal(await byTestId(page, 'saved-run-name').textContent(), 'my first MLP');

  // Delete asks once more; clear empties the images and the kept curves too.
  await byTestId(page, 'saved-delete').click();
  assert.equal(await savedCount(page), 1, 'the first press only arms the button');
  await byTestId(page, 'saved-delete').click();
  await waitSaved(page, 0);
  await byTestId(page, 'clear-storage').click();
  await byTestId(page, 'clear-storage').click();
  await page.waitForFunction(() => /Cleared/.test(document.querySelector('[data-testid="saved-message"]').textContent));
  await reload(page);
  assert.equal(await savedCount(page), 0);
  await page.waitForFunction(() => document.querySelector('[data-testid="acc-chart"]').dataset.kept === '0');
  assert.equal(await page.locator('.own-class').count(), 0);
  assert.deepEqual(lab.consoleErrors, []);
});

test('a full quota is a clear message and keeps what was saved before', async (t) => {
  const lab = await labFor(t);
  const { page } = lab;
  const cdp = await page.context().newCDPSession(page);
  const origin = new URL(lab.url).origin;
  // Room for one saved MLP run (~445 KB) but not two. (Chromium applies an
  // override only to an origin that has not written yet: it is set first.)
  await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 700_000 });
  t.after(() => cdp.send('Storage.overrideQuotaForOrigin', { origin }).catch(() => {}));
  await trainShortRun(page);
  await byTestId(page, 'train').click();
  await page.waitForFunction(() => document.body.dataset.state === 'done', null, { timeout: 60_000 });
  await page.waitForFunction(() => /was not saved/.test(document.querySelector('[data-testid="saved-message"]').textContent), null, { timeout: 30_000 }).catch(async (err) => {
    throw new Error(`${err.message}; the panel says: ${await savedMessage(page)}`);
  });
  assert.match(await savedMessage(page), /“run · mnist” was not saved\. Delete saved runs below \(or clear everything\) to make room; what was saved before is kept\./);
  assert.equal(await savedCount(page), 1);
  await reload(page);
  await waitSaved(page, 1);
  const { bytes } = await download(page, 'saved-download');
  assert.equal(bytes.subarray(0, 4).toString(), 'FTLC', 'the run saved before the quota filled is whole');
  assert.deepEqual(lab.consoleErrors, []);
});

test('a checkpoint downloaded and uploaded evaluates as before and as in the CLI; a CLI checkpoint too; bad files change nothing', async (t) => {
  const lab = await labFor(t);
  const { page } = lab;
  const dir = mkdtempSync(path.join(tmpdir(), 'ftl-keep-'));
  await trainShortRun(page);
  const trained = await evaluateNewest(page);
  assert.ok(trained.acc > 0.5, `a trained MLP (${trained.acc})`);

  const { name, bytes } = await download(page, 'download-checkpoint');
  assert.match(name, /^run_mnist_\d{4}-\d{2}-\d{2}\.ftlc$/);
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  await byTestId(page, 'upload-checkpoint').setInputFiles(file);
  await waitSaved(page, 2);
  assert.equal(await page.locator('[data-testid="saved-run"]').first().getAttribute('data-kind'), 'uploaded');
  const uploaded = await evaluateNewest(page);
  assert.deepEqual(uploaded, trained, 'the same numbers after download and upload');
  assertSameEvaluation(uploaded, cliEval(bytes, dir));

  // A checkpoint the CLI wrote (a shipped base) measures the same in the page.
  await byTestId(page, 'upload-checkpoint').setInputFiles('www/models/lenet5-mnist.ftlc');
  await waitSaved(page, 3);
  assertSameEvaluation(await evaluateNewest(page), cliEval(readFileSync('www/models/lenet5-mnist.ftlc'), dir, 'base.ftlc'));

  // Damaged, foreign and future-version files are named, and nothing changes.
  const future = Buffer.from(bytes);
  future.writeUInt16LE(99, 4);
  const cases = [
    ['truncated.ftlc', bytes.subarray(0, 200), /truncated/],
    ['photo.ftlc', Buffer.from('\x89PNG\r\n\x1a\n not a checkpoint'), /not a Fine-Tune Lab checkpoint/],
    ['future.ftlc', future, /checkpoint version 99 is not supported/],
  ];
  for (const [badName, badBytes, reason] of cases) {
    writeFileSync(path.join(dir, badName), badBytes);
    await byTestId(page, 'upload-checkpoint').setInputFiles(path.join(dir, badName));
    await page.waitForFunction((n) => document.querySelector('[data-testid="saved-message"]').textContent.startsWith(n), badName);
    const said = await savedMessage(page);
    assert.match(said, new RegExp(`^${badName}: CheckpointError: `));
    assert.match(said, reason);
    assert.match(said, /Nothing was changed\.$/);
    assert.equal(await savedCount(page), 3);
  }

  // "Train from it" continues from the uploaded model.
  await page.locator('[data-testid="saved-run"]').first().locator('[data-testid="saved-start"]').click();
  assert.match(await byTestId(page, 'start-from').inputValue(), /^saved:\d+$/);
  await byTestId(page, 'epochs').fill('1');
  // The page was done with the last run: wait for this one to train and be done.
  assert.equal(await trainUntilDone(page, { timeout: 60_000 }), 'done');
  // The base's LeNet-5 (61,706 parameters), not the MLP the model box still names.
  assert.match(await byTestId(page, 'run-info').textContent(), /61,706 parameters/);
  await waitSaved(page, 4);
  assert.match(await page.locator('[data-testid="saved-run"] .run-detail').first().textContent(), /^fine-tuned from lenet5-mnist \(saved\)/);

  // Every saved run’s points in one CSV: the two trained runs (uploads have no curves).
  const all = (await download(page, 'saved-csv-all')).bytes.toString().trimEnd().split('\r\n').slice(1);
  const names = [...new Set(all.map((l) => l.split(',')[0]))];
  assert.equal(names.length, 2, `two runs told apart: ${names}`);
  assert.ok(names.every((n) => /^run · mnist \(\d+\)$/.test(n)), `the same name, with each one’s number: ${names}`);
  const perRun = await page.evaluate(async () => {
    const db = await new Promise((resolve) => Object.assign(indexedDB.open('finetune-lab'), { onsuccess: (e) => resolve(e.target.result) }));
    const runs = await new Promise((resolve) => Object.assign(db.transaction('runs').objectStore('runs').getAll(), { onsuccess: (e) => resolve(e.target.result) }));
    db.close();
    return runs.map((r) => r.rows.length);
  });
  assert.equal(all.length, perRun.reduce((a, b) => a + b, 0), 'one row per saved point');
  assert.equal(perRun.filter((n) => n > 0).length, 2);
  assert.deepEqual(lab.consoleErrors, []);
});

test('CSV rows are the charted points, JSON carries the configuration, the PNG is a picture, and the page’s ONNX is the CLI’s and runs in ONNX Runtime', async (t) => {
  const lab = await labFor(t);
  const { page } = lab;
  const dir = mkdtempSync(path.join(tmpdir(), 'ftl-exports-'));
  await trainShortRun(page, 'lenet5');

  const csv = (await download(page, 'export-csv')).bytes.toString();
  const [header, ...lines] = csv.trimEnd().split('\r\n');
  assert.equal(header, 'run,kind,epoch,examples_seen,seconds,loss,acc');
  const charted = Number(await page.evaluate(() => document.querySelector('[data-testid="loss-chart"]').dataset.points));
  assert.equal(lines.length, charted, 'one row per charted point');
  const rows = lines.map((l) => l.split(','));
  const validation = rows.filter((r) => r[1] === 'val');
  assert.ok(validation.length >= 4, 'four evaluations per epoch');
  assert.equal(Number(validation.at(-1)[6]).toFixed(4), await byTestId(page, 'val-acc').textContent(), 'the last validation point is the one shown');
  assert.equal(Number(validation.at(-1)[2]), 1, 'the last evaluation is at the end of the one epoch');
  // Training points come at a fixed resolution: 20 an epoch (251 steps: every 13th, and the epoch's end).
  const training = rows.filter((r) => r[1] === 'train');
  assert.equal(training.length, 20);
  assert.equal(Number(training.at(-1)[2]), 1);

  const json = JSON.parse((await download(page, 'export-json')).bytes.toString());
  assert.equal(json.format, 'finetune-lab-metrics');
  assert.equal(json.runs[0].config.model, 'lenet5');
  assert.equal(json.runs[0].config.epochs, 1);
  assert.equal(json.runs[0].points.length, lines.length);
  assert.equal(json.runs[0].final.testAcc.toFixed(4), await byTestId(page, 'test-acc').textContent());

  const png = await download(page, 'export-png');
  assert.match(png.name, /^run_mnist_charts_\d{4}-\d{2}-\d{2}\.png$/);
  assert.deepEqual([...png.bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG signature');
  const picture = await page.evaluate(async (b64) => {
    const bitmap = await createImageBitmap(new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], { type: 'image/png' }));
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d');
    ctx.drawImage(bitmap, 0, 0);
    const { data } = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
    let inked = 0;
    let coloured = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i] < 200 || data[i + 1] < 200 || data[i + 2] < 200) inked += 1;
      if (Math.abs(data[i] - data[i + 2]) > 60) coloured += 1; // the curves' blue and orange
    }
    return { width: bitmap.width, height: bitmap.height, inked: inked / (data.length / 4), coloured };
  }, png.bytes.toString('base64'));
  assert.ok(picture.width >= 400 && picture.height >= 400, `${picture.width}×${picture.height}`);
  assert.ok(picture.inked > 0.01 && picture.inked < 0.5, `ink covers ${picture.inked} of the picture`);
  assert.ok(picture.coloured > 200, 'the curves are drawn');

  const checkpoint = await download(page, 'download-checkpoint');
  const onnx = await download(page, 'export-onnx');
  assert.match(onnx.name, /\.onnx$/);
  const ftlc = path.join(dir, 'page.ftlc');
  writeFileSync(ftlc, checkpoint.bytes);
  execFileSync(CLI, ['export', '--checkpoint', ftlc, '--onnx', path.join(dir, 'cli.onnx')]);
  assert.ok(readFileSync(path.join(dir, 'cli.onnx')).equals(onnx.bytes), 'the page’s ONNX bytes are the CLI’s');
  // The saved run's weights as safetensors, the CLI's bytes, with PyTorch's names and shapes.
  const tensors = (await download(page, 'saved-safetensors')).bytes;
  execFileSync(CLI, ['export', '--checkpoint', ftlc, '--safetensors', path.join(dir, 'cli.safetensors')]);
  assert.ok(readFileSync(path.join(dir, 'cli.safetensors')).equals(tensors), 'the page’s safetensors bytes are the CLI’s');
  const names = JSON.parse(tensors.subarray(8, 8 + Number(tensors.readBigUInt64LE(0))).toString());
  assert.deepEqual(names['conv1.weight'].shape, [6, 1, 5, 5]);
  const out = execFileSync(path.join(VENV, 'bin/python'), ['tests/export/check_export.py', '--cli', CLI, '--checkpoint', ftlc, '--out', dir]).toString();
  const line = out.split('\n').find((l) => l.startsWith('page.ftlc'));
  console.log(`ONNX Runtime vs the core, a LeNet-5 trained in the page: ${line}`);
  assert.match(line, /ok$/);
  assert.match(out, /export: 2 passed, 0 failed/);
  assert.deepEqual(lab.consoleErrors, []);
});

test('records of an unknown layout version are named and left alone; the page still loads the rest', async (t) => {
  const lab = await labFor(t);
  const { page } = lab;
  await page.waitForFunction(() => document.querySelector('[data-testid="storage-used"]').textContent !== '');
  await page.evaluate(async () => {
    const db = await new Promise((resolve) => Object.assign(indexedDB.open('finetune-lab'), { onsuccess: (e) => resolve(e.target.result) }));
    const tx = db.transaction(['runs', 'page'], 'readwrite');
    const base = { kind: 'uploaded', savedAt: new Date().toISOString(), detail: 'made by hand', rows: [], final: {}, bytes: 0 };
    tx.objectStore('runs').add({ ...base, v: 99, name: 'from the future' });
    tx.objectStore('runs').add({ ...base, name: 'from before versions' });
    tx.objectStore('runs').add({ ...base, v: 1, name: 'readable' });
    tx.objectStore('page').put({ v: 7, value: { kept: 'whatever' } }, 'kept');
    await new Promise((resolve) => (tx.oncomplete = resolve));
    db.close();
  });
  await reload(page);
  await waitSaved(page, 1);
  assert.equal(await byTestId(page, 'saved-run-name').textContent(), 'readable');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="saved-problems"] li').length === 3);
  const said = await byTestId(page, 'saved-problems').textContent();
  assert.match(said, /Saved run \d+ \(“from the future”\) was saved by a newer Fine-Tune Lab \(record version 99; this page reads up to 1\); it is left as it is\./);
  assert.match(said, /\(“from before versions”\) was saved in record version 0, which this page cannot read; it is left as it is\./);
  assert.match(said, /The record of the curves kept on the charts was saved by a newer Fine-Tune Lab \(record version 7/);
  // Left alone: still in the store, for a page that can read them.
  assert.equal(await page.evaluate(async () => {
    const db = await new Promise((resolve) => Object.assign(indexedDB.open('finetune-lab'), { onsuccess: (e) => resolve(e.target.result) }));
    const n = await new Promise((resolve) => Object.assign(db.transaction('runs').objectStore('runs').count(), { onsuccess: (e) => resolve(e.target.result) }));
    db.close();
    return n;
  }), 3);
  assert.equal(await page.evaluate(() => document.body.dataset.state), 'idle');
  assert.deepEqual(lab.consoleErrors, []);
});
