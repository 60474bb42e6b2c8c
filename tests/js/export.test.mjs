// The page's exports are the command line's: the page's wasm build (www/pkg,
// made by `make build`) is loaded into Node and its exportOnnx and
// exportSafetensors must give exactly the bytes `finetune-lab export` writes
// for every shipped base (which `make test-export` checks in ONNX Runtime).

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = new URL('../../www/pkg/', import.meta.url);
// Built by `make test-js` (and every earlier step of `make test`).
const cli = join(root, 'target/release/finetune-lab');
let core;

before(async () => {
  core = await import(new URL('finetune_lab.js', pkg));
  core.initSync({ module: readFileSync(fileURLToPath(new URL('finetune_lab_bg.wasm', pkg))) });
});

const models = readdirSync(join(root, 'www/models')).filter((f) => f.endsWith('.ftlc'));

test('there are shipped bases to export', () => assert.ok(models.length >= 4, models.join(', ')));

for (const model of models) {
  test(`${model}: the page's ONNX and safetensors are the command line's, byte for byte`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'ftl-export-'));
    try {
      const checkpoint = join(root, 'www/models', model);
      const [onnx, weights] = [join(dir, 'm.onnx'), join(dir, 'm.safetensors')];
      execFileSync(cli, ['export', '--checkpoint', checkpoint, '--onnx', onnx, '--safetensors', weights], { stdio: 'pipe' });
      const bytes = readFileSync(checkpoint);
      assert.ok(Buffer.from(core.exportOnnx(model, bytes)).equals(readFileSync(onnx)), 'ONNX differs');
      assert.ok(Buffer.from(core.exportSafetensors(model, bytes)).equals(readFileSync(weights)), 'safetensors differ');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('a broken checkpoint is a CheckpointError naming the file', () => {
  const bytes = readFileSync(join(root, 'www/models', models[0])).subarray(0, 50);
  assert.throws(() => core.exportOnnx('broken.ftlc', bytes), (e) => e.name === 'CheckpointError' && e.message.includes('broken.ftlc'));
});
