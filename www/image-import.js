// Reading the user's images: grouping files into classes by folder, decoding
// them in the browser (createImageBitmap) and resizing them on an offscreen
// canvas to both input forms the models take. Nothing leaves the machine.

// What the browser decodes; how many images and classes a dataset may hold is the core's (catalog.own_images).
export const LIMITS = {
  fileBytes: 20 * 1024 * 1024, // 20 MB per file
  side: 8000, // pixels per side, after decoding
  smallestSide: 8, // fewer pixels a side carry no shape worth learning from
};

const IMAGE_TYPES = /^image\//;
const IMAGE_NAMES = /\.(png|jpe?g|gif|webp|bmp|avif|ico|svg)$/i;

// Square centre crop of the bitmap drawn at size×size; returns RGBA bytes.
function drawSquare(bitmap, size) {
  const canvas = new OffscreenCanvas(size, size);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const side = Math.min(bitmap.width, bitmap.height);
  const sx = (bitmap.width - side) / 2;
  const sy = (bitmap.height - side) / 2;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, sx, sy, side, side, 0, 0, size, size);
  return ctx.getImageData(0, 0, size, size).data;
}

// Both input forms of one image: 28×28 greyscale and 32×32 colour, channel-major bytes.
function toForms(bitmap) {
  const rgba28 = drawSquare(bitmap, 28);
  const grey28 = new Uint8Array(28 * 28);
  for (let i = 0; i < grey28.length; i++) {
    // ITU-R BT.601 luma; transparent pixels count as black (the MNIST background).
    const a = rgba28[4 * i + 3] / 255;
    grey28[i] = Math.round(a * (0.299 * rgba28[4 * i] + 0.587 * rgba28[4 * i + 1] + 0.114 * rgba28[4 * i + 2]));
  }
  const rgba32 = drawSquare(bitmap, 32);
  const plane = 32 * 32;
  const rgb32 = new Uint8Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    const a = rgba32[4 * i + 3] / 255;
    for (let c = 0; c < 3; c++) rgb32[c * plane + i] = Math.round(a * rgba32[4 * i + c]);
  }
  return { grey28, rgb32 };
}

// How many frames the file holds, where the browser can tell (WebCodecs'
// ImageDecoder; null elsewhere). An animation would be silently cut to its
// first frame, which may not show the class at all.
async function frameCount(file) {
  if (typeof ImageDecoder === 'undefined' || !file.type || !(await ImageDecoder.isTypeSupported(file.type).catch(() => false))) return null;
  const decoder = new ImageDecoder({ data: file.stream(), type: file.type });
  try {
    await decoder.tracks.ready;
    const track = decoder.tracks.selectedTrack;
    if (!track || !track.animated) return 1;
    await decoder.completed; // frameCount is final once the whole file is read
    return track.frameCount;
  } catch {
    return null; // createImageBitmap below says what is wrong with the file
  } finally {
    decoder.close();
  }
}

// Decodes one file into {name, grey28, rgb32}, or throws an Error whose
// message says plainly why the file was skipped. Any depth (16-bit PNG) and
// colour model (CMYK JPEG) the browser decodes is drawn as 8-bit RGB.
export async function decodeImage(file) {
  if (!IMAGE_TYPES.test(file.type) && !IMAGE_NAMES.test(file.name)) throw new Error('not an image file');
  if (file.size > LIMITS.fileBytes) {
    throw new Error(`${(file.size / 1048576).toFixed(1)} MB is over the ${LIMITS.fileBytes / 1048576} MB limit per image`);
  }
  const frames = await frameCount(file);
  if (frames > 1) throw new Error(`an animation of ${frames} frames; use a still image`);
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw new Error('the browser cannot decode it as an image (damaged, or not really an image)');
  }
  try {
    if (bitmap.width > LIMITS.side || bitmap.height > LIMITS.side) {
      throw new Error(`${bitmap.width}×${bitmap.height} pixels is over the limit of ${LIMITS.side.toLocaleString('en-US')} pixels a side`);
    }
    if (Math.min(bitmap.width, bitmap.height) < LIMITS.smallestSide) {
      throw new Error(`${bitmap.width}×${bitmap.height} pixels is too small: at least ${LIMITS.smallestSide} pixels a side`);
    }
    return { name: file.name, ...toForms(bitmap) };
  } finally {
    bitmap.close();
  }
}

// Files from a folder chooser (webkitRelativePath "top/class/…/file") or a
// dropped folder, grouped by class folder. Returns {classes: Map(name → [File]),
// loose: [path] (files not inside a class folder), emptyFolders: [name]}.
export function groupByFolder(entries) {
  const classes = new Map();
  const loose = [];
  for (const { path, file } of entries) {
    const parts = path.split('/').filter(Boolean);
    if (parts.length < 3) {
      loose.push(path);
      continue;
    }
    const name = parts[1].trim();
    if (!classes.has(name)) classes.set(name, []);
    classes.get(name).push(file);
  }
  return { classes, loose };
}

// Reads a dropped folder (DataTransferItem → FileSystemEntry) recursively into
// [{path, file}], and lists the class folders that hold no files at all.
export async function readDroppedFolder(entry) {
  const files = [];
  const emptyFolders = [];
  const readAll = (dir) =>
    new Promise((resolve, reject) => {
      const reader = dir.createReader();
      const all = [];
      const next = () =>
        reader.readEntries((batch) => {
          if (!batch.length) return resolve(all);
          all.push(...batch);
          next();
        }, reject);
      next();
    });
  const walk = async (e, depth) => {
    if (e.isFile) {
      const file = await new Promise((resolve, reject) => e.file(resolve, reject));
      files.push({ path: e.fullPath.replace(/^\//, ''), file });
      return 1;
    }
    let count = 0;
    for (const child of await readAll(e)) count += await walk(child, depth + 1);
    if (depth === 1 && count === 0) emptyFolders.push(e.name);
    return count;
  };
  await walk(entry, 0);
  return { files, emptyFolders };
}
