// Builds a dataset file (.ftld, the format of src/data/format.rs) from images
// the user loaded, so their images go through exactly the checks and code
// paths of the shipped datasets. The split is decided here: per class, a
// seeded shuffle of the images (sorted by file name first, so the same files
// always split the same way), then 10 % test and 10 % validation — at least
// one image each — and the rest for training.

export const MIN_IMAGES_PER_CLASS = 5; // 3 to train, 1 to validate, 1 to test
const SPLIT_SEED = 20261128;
const SPLIT = { train: 0, validation: 1, test: 2 };

// A small seeded generator (mulberry32): the split must not change between visits.
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// How many of a class's n images go to [train, validation, test].
export function splitCounts(n) {
  if (n < MIN_IMAGES_PER_CLASS) return [n, 0, 0];
  const held = Math.max(1, Math.round(n / 10));
  return [n - 2 * held, held, held];
}

// The split code of each of `names` (one class), in the order given.
export function classSplits(names, classIndex) {
  const order = names.map((name, i) => ({ name, i })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.i - b.i));
  const random = mulberry32(SPLIT_SEED + classIndex);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const [, validation, test] = splitCounts(names.length);
  const codes = new Array(names.length);
  order.forEach(({ i }, rank) => {
    codes[i] = rank < test ? SPLIT.test : rank < test + validation ? SPLIT.validation : SPLIT.train;
  });
  return codes;
}

// classes: [{name, images: [{name, pixels: Uint8Array(C·H·W)}]}] → Uint8Array (.ftld, uncompressed).
export function encodeDataset({ shape: [channels, height, width], classes }) {
  const encoder = new TextEncoder();
  const names = classes.map((c) => encoder.encode(c.name));
  const count = classes.reduce((n, c) => n + c.images.length, 0);
  const pixelsPerImage = channels * height * width;
  const size = 18 + names.reduce((n, b) => n + 1 + b.length, 0) + count * (pixelsPerImage + 2);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set([0x46, 0x54, 0x4c, 0x44], 0); // "FTLD"
  view.setUint16(4, 1, true); // version
  view.setUint16(6, channels, true);
  view.setUint16(8, height, true);
  view.setUint16(10, width, true);
  view.setUint32(12, count, true);
  view.setUint16(16, classes.length, true);
  let at = 18;
  for (const name of names) {
    out[at++] = name.length;
    out.set(name, at);
    at += name.length;
  }
  const labelsAt = at + count * pixelsPerImage;
  const splitsAt = labelsAt + count;
  let index = 0;
  classes.forEach((c, label) => {
    const splits = classSplits(c.images.map((img) => img.name), label);
    c.images.forEach((img, i) => {
      out.set(img.pixels, at + index * pixelsPerImage);
      out[labelsAt + index] = label;
      out[splitsAt + index] = splits[i];
      index += 1;
    });
  });
  return out;
}
