// A folder of the user's own images for page tests: one subfolder per
// shape, PNGs drawn by the browser, plus two files that are not images.

import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// 20 PNGs per shape (64×64, white on black, varied size and place), drawn by the browser.
export async function makeShapeFolder(page) {
  const root = mkdtempSync(path.join(tmpdir(), 'ftl-shapes-'));
  const top = path.join(root, 'shapes');
  const images = await page.evaluate(async () => {
    const out = [];
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (const shape of ['circle', 'square', 'triangle']) {
      for (let i = 0; i < 20; i++) {
        const canvas = new OffscreenCanvas(64, 64);
        const ctx = canvas.getContext('2d');
        ctx.fillStyle = '#000';
        ctx.fillRect(0, 0, 64, 64);
        ctx.fillStyle = shape === 'square' ? '#ff4' : '#fff';
        const r = 12 + random() * 10;
        const x = 32 + (random() - 0.5) * 16;
        const y = 32 + (random() - 0.5) * 16;
        ctx.beginPath();
        if (shape === 'circle') ctx.arc(x, y, r, 0, 2 * Math.PI);
        else if (shape === 'square') ctx.rect(x - r, y - r, 2 * r, 2 * r);
        else {
          ctx.moveTo(x, y - r);
          ctx.lineTo(x + r, y + r);
          ctx.lineTo(x - r, y + r);
        }
        ctx.fill();
        const blob = await canvas.convertToBlob({ type: 'image/png' });
        const bytes = new Uint8Array(await blob.arrayBuffer());
        out.push({ shape, name: `${shape}-${String(i).padStart(2, '0')}.png`, data: btoa(String.fromCharCode(...bytes)) });
      }
    }
    return out;
  });
  for (const { shape, name, data } of images) {
    mkdirSync(path.join(top, shape), { recursive: true });
    writeFileSync(path.join(top, shape, name), Buffer.from(data, 'base64'));
  }
  writeFileSync(path.join(top, 'circle', 'notes.txt'), 'not an image');
  writeFileSync(path.join(top, 'square', 'broken.png'), 'this is not really a PNG');
  return top;
}
