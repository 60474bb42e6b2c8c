// A pad to draw a digit on (mouse, touch or pen), turned into the image
// MNIST's digits are: the drawing's bounding box scaled to fit a 20×20 box
// (keeping its shape), then placed in 28×28 so that its centre of mass is
// the centre — how LeCun et al. normalised the dataset. `onDraw(pixels)`
// gets the 784 bytes (white on black) while the user draws.

const SIZE = 28;
const BOX = 20;

export class DrawingPad {
  constructor(canvas, onDraw) {
    this.canvas = canvas;
    this.onDraw = onDraw;
    this.ctx = canvas.getContext('2d', { willReadFrequently: true });
    this.clear();
    let drawing = false;
    let last = null;
    const at = (event) => {
      const r = canvas.getBoundingClientRect();
      return [((event.clientX - r.left) * canvas.width) / r.width, ((event.clientY - r.top) * canvas.height) / r.height];
    };
    canvas.addEventListener('pointerdown', (event) => {
      drawing = true;
      last = at(event);
      canvas.setPointerCapture(event.pointerId);
      this.stroke(last, last);
    });
    canvas.addEventListener('pointermove', (event) => {
      if (!drawing) return;
      const next = at(event);
      this.stroke(last, next);
      last = next;
    });
    const end = () => {
      drawing = false;
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
  }

  clear() {
    this.ctx.fillStyle = '#000';
    this.ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    this.empty = true;
  }

  stroke(from, to) {
    const { ctx } = this;
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = this.canvas.width / 12;
    ctx.lineCap = 'round';
    ctx.beginPath();
    ctx.moveTo(...from);
    ctx.lineTo(...to);
    ctx.stroke();
    this.empty = false;
    this.scheduleDraw();
  }

  // One conversion per animation frame, however fast the pointer moves.
  scheduleDraw() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      const pixels = this.pixels();
      if (pixels) this.onDraw(pixels);
    });
  }

  // The drawing as MNIST's 28×28 bytes, or null when nothing is drawn.
  pixels() {
    const { width, height } = this.canvas;
    const data = this.ctx.getImageData(0, 0, width, height).data;
    let [x0, y0, x1, y1] = [width, height, -1, -1];
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (data[4 * (y * width + x)] > 20) {
          x0 = Math.min(x0, x);
          x1 = Math.max(x1, x);
          y0 = Math.min(y0, y);
          y1 = Math.max(y1, y);
        }
      }
    }
    if (x1 < 0) return null;
    const w = x1 - x0 + 1;
    const h = y1 - y0 + 1;
    const scale = BOX / Math.max(w, h);
    const small = new OffscreenCanvas(Math.max(1, Math.round(w * scale)), Math.max(1, Math.round(h * scale)));
    const sctx = small.getContext('2d', { willReadFrequently: true });
    sctx.imageSmoothingQuality = 'high';
    sctx.drawImage(this.canvas, x0, y0, w, h, 0, 0, small.width, small.height);
    const box = sctx.getImageData(0, 0, small.width, small.height).data;
    // Centre of mass of the scaled drawing, then shift it to the image's centre.
    let [mass, mx, my] = [0, 0, 0];
    for (let y = 0; y < small.height; y++) {
      for (let x = 0; x < small.width; x++) {
        const v = box[4 * (y * small.width + x)];
        mass += v;
        mx += v * x;
        my += v * y;
      }
    }
    const dx = Math.round(SIZE / 2 - mx / mass);
    const dy = Math.round(SIZE / 2 - my / mass);
    const out = new Uint8Array(SIZE * SIZE);
    for (let y = 0; y < small.height; y++) {
      for (let x = 0; x < small.width; x++) {
        const tx = x + dx;
        const ty = y + dy;
        if (tx >= 0 && tx < SIZE && ty >= 0 && ty < SIZE) out[ty * SIZE + tx] = box[4 * (y * small.width + x)];
      }
    }
    return out;
  }
}
