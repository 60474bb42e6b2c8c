// PNG files of the kinds a canvas cannot make, written here byte by byte
// (the PNG and APNG specifications): 16 bits per channel, animated, and any
// size. Page tests feed them to "Your images" to check how the page decodes
// or refuses them.

import { deflateSync } from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

const u32 = (...values) => {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeUInt32BE(v, 4 * i));
  return b;
};

// Filter byte 0 before each row of raw samples.
function scanlines(width, height, bytesPerPixel, pixel) {
  const row = 1 + width * bytesPerPixel;
  const raw = Buffer.alloc(row * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) pixel(x, y, raw, y * row + 1 + x * bytesPerPixel);
  return deflateSync(raw);
}

const SIGNATURE = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
const header = (width, height, depth, colour) => chunk('IHDR', Buffer.concat([u32(width, height), Buffer.from([depth, colour, 0, 0, 0])]));

// Greyscale, 8 bits: `grey(x, y)` in 0…255.
export function greyPng(width, height, grey = () => 255) {
  const data = scanlines(width, height, 1, (x, y, raw, at) => (raw[at] = grey(x, y)));
  return Buffer.concat([SIGNATURE, header(width, height, 8, 0), chunk('IDAT', data), chunk('IEND', Buffer.alloc(0))]);
}

// RGB at 16 bits per channel: `level(x, y)` in 0…65535 for all three channels.
export function rgb16Png(width, height, level) {
  const data = scanlines(width, height, 6, (x, y, raw, at) => {
    for (let c = 0; c < 3; c++) raw.writeUInt16BE(level(x, y), at + 2 * c);
  });
  return Buffer.concat([SIGNATURE, header(width, height, 16, 2), chunk('IDAT', data), chunk('IEND', Buffer.alloc(0))]);
}

// An animated PNG of greyscale frames (`frames`: one grey(x, y) each), looping forever.
export function animatedPng(width, height, frames) {
  const parts = [SIGNATURE, header(width, height, 8, 0), chunk('acTL', u32(frames.length, 0))];
  let sequence = 0;
  frames.forEach((grey, i) => {
    // fcTL: sequence, size, offset, delay 1/10 s, dispose none, blend source.
    const control = Buffer.concat([u32(sequence++, width, height, 0, 0), Buffer.from([0, 1, 0, 10, 0, 0])]);
    parts.push(chunk('fcTL', control));
    const data = scanlines(width, height, 1, (x, y, raw, at) => (raw[at] = grey(x, y)));
    parts.push(i === 0 ? chunk('IDAT', data) : chunk('fdAT', Buffer.concat([u32(sequence++), data])));
  });
  parts.push(chunk('IEND', Buffer.alloc(0)));
  return Buffer.concat(parts);
}
