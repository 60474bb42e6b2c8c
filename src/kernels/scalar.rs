//! Reference kernels: straightforward loops, ordered so that LLVM can
//! auto-vectorise the innermost one (unit stride over the output row).
//! Faster implementations are tested against these.

/// Shape of a 2-D convolution over one image, shared by im2row and row2im.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvGeometry {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub kernel_h: usize,
    pub kernel_w: usize,
    pub stride: usize,
    pub padding: usize,
}

impl ConvGeometry {
    pub fn out_height(&self) -> usize {
        (self.height + 2 * self.padding - self.kernel_h) / self.stride + 1
    }
    pub fn out_width(&self) -> usize {
        (self.width + 2 * self.padding - self.kernel_w) / self.stride + 1
    }
    pub fn input_len(&self) -> usize {
        self.channels * self.height * self.width
    }
    /// Values in one patch: one per (channel, kernel row, kernel column).
    pub fn patch_len(&self) -> usize {
        self.channels * self.kernel_h * self.kernel_w
    }
    /// Patches of one image: one per output pixel.
    pub fn patches(&self) -> usize {
        self.out_height() * self.out_width()
    }
    /// Length of one image's patch matrix.
    pub fn patch_matrix_len(&self) -> usize {
        self.patch_len() * self.patches()
    }
}

/// Columns of C (and B) processed together, so that a block of C's row and
/// the matching block of B's rows stay in cache while every row of A passes
/// over them (wide products such as a batch's convolution are 50,000 columns).
const COLUMN_BLOCK: usize = 256;

pub fn gemm_nn(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32], accumulate: bool) {
    if !accumulate {
        c.fill(0.0);
    }
    if n == 0 {
        return;
    }
    for j0 in (0..n).step_by(COLUMN_BLOCK) {
        let j1 = (j0 + COLUMN_BLOCK).min(n);
        for i in 0..m {
            let a_row = &a[i * k..(i + 1) * k];
            let c_row = &mut c[i * n + j0..i * n + j1];
            for (p, &a_ip) in a_row.iter().enumerate() {
                let b_row = &b[p * n + j0..p * n + j1];
                for (c_ij, &b_pj) in c_row.iter_mut().zip(b_row) {
                    *c_ij += a_ip * b_pj;
                }
            }
        }
    }
}

pub fn gemm_nt(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32], accumulate: bool) {
    if !accumulate {
        c.fill(0.0);
    }
    if n == 0 || k == 0 {
        return;
    }
    for (i, c_row) in c.chunks_exact_mut(n).enumerate().take(m) {
        let a_row = &a[i * k..(i + 1) * k];
        for (j, c_ij) in c_row.iter_mut().enumerate() {
            *c_ij += dot(a_row, &b[j * k..(j + 1) * k]);
        }
    }
}

pub fn gemm_tn(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32], accumulate: bool) {
    if !accumulate {
        c.fill(0.0);
    }
    if n == 0 || m == 0 {
        return;
    }
    for p in 0..k {
        let a_row = &a[p * m..(p + 1) * m];
        let b_row = &b[p * n..(p + 1) * n];
        for (c_row, &a_pi) in c.chunks_exact_mut(n).zip(a_row) {
            for (c_ij, &b_pj) in c_row.iter_mut().zip(b_row) {
                *c_ij += a_pi * b_pj;
            }
        }
    }
}

/// Dot product with eight independent partial sums: a fixed summation order
/// (so results are reproducible) that LLVM can still vectorise, which a
/// single running sum would forbid.
fn dot(x: &[f32], y: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let xs = x.chunks_exact(8);
    let ys = y.chunks_exact(8);
    let (x_tail, y_tail) = (xs.remainder(), ys.remainder());
    for (xc, yc) in xs.zip(ys) {
        for l in 0..8 {
            acc[l] += xc[l] * yc[l];
        }
    }
    let mut sum = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (a, b) in x_tail.iter().zip(y_tail) {
        sum += a * b;
    }
    sum
}

/// One image `(C, H, W)` → its patch matrix `(OH·OW, C·kh·kw)`: row `q` holds
/// the inputs under output pixel `q`, zero where the window hangs over the
/// padding. With one patch per row, a batch's matrices stack into one tall
/// matrix and the convolution becomes a single product with a tall left
/// operand, the shape the packed GEMM handles best.
pub fn im2row(g: &ConvGeometry, image: &[f32], rows: &mut [f32]) {
    let (oh, ow, k) = (g.out_height(), g.out_width(), g.patch_len());
    let (kh, kw) = (g.kernel_h, g.kernel_w);
    for oy in 0..oh {
        for ox in 0..ow {
            let row = &mut rows[(oy * ow + ox) * k..(oy * ow + ox + 1) * k];
            let x0 = (ox * g.stride) as isize - g.padding as isize;
            // Kernel columns whose input column lies inside the image.
            let kx_lo = (-x0).max(0) as usize;
            let kx_hi = ((g.width as isize - x0).max(0) as usize).min(kw);
            for ch in 0..g.channels {
                let plane = &image[ch * g.height * g.width..(ch + 1) * g.height * g.width];
                for ky in 0..kh {
                    let dst = &mut row[(ch * kh + ky) * kw..(ch * kh + ky + 1) * kw];
                    let iy = (oy * g.stride + ky) as isize - g.padding as isize;
                    // Element loops over pre-cut slices rather than fill/copy_from_slice:
                    // these runs are a few floats long, and in wasm each slice call is a
                    // memory.fill/memory.copy whose set-up costs more than the copy.
                    if iy < 0 || iy >= g.height as isize || kx_lo >= kx_hi {
                        for v in dst.iter_mut() {
                            *v = 0.0;
                        }
                        continue;
                    }
                    let start = iy as usize * g.width + (x0 + kx_lo as isize) as usize;
                    let src = &plane[start..start + (kx_hi - kx_lo)];
                    let (left, rest) = dst.split_at_mut(kx_lo);
                    let (middle, right) = rest.split_at_mut(kx_hi - kx_lo);
                    for v in left.iter_mut().chain(right.iter_mut()) {
                        *v = 0.0;
                    }
                    for (d, s) in middle.iter_mut().zip(src) {
                        *d = *s;
                    }
                }
            }
        }
    }
}

/// The adjoint of [`im2row`]: sums each patch back onto the image, which is overwritten.
pub fn row2im(g: &ConvGeometry, rows: &[f32], image: &mut [f32]) {
    image.fill(0.0);
    let (oh, ow, k) = (g.out_height(), g.out_width(), g.patch_len());
    let (kh, kw) = (g.kernel_h, g.kernel_w);
    for oy in 0..oh {
        for ox in 0..ow {
            let row = &rows[(oy * ow + ox) * k..(oy * ow + ox + 1) * k];
            let x0 = (ox * g.stride) as isize - g.padding as isize;
            let kx_lo = (-x0).max(0) as usize;
            let kx_hi = ((g.width as isize - x0).max(0) as usize).min(kw);
            if kx_lo >= kx_hi {
                continue;
            }
            for ch in 0..g.channels {
                let plane = &mut image[ch * g.height * g.width..(ch + 1) * g.height * g.width];
                for ky in 0..kh {
                    let iy = (oy * g.stride + ky) as isize - g.padding as isize;
                    if iy < 0 || iy >= g.height as isize {
                        continue;
                    }
                    let src = &row[(ch * kh + ky) * kw + kx_lo..(ch * kh + ky) * kw + kx_hi];
                    let at = iy as usize * g.width + (x0 + kx_lo as isize) as usize;
                    for (d, v) in plane[at..at + src.len()].iter_mut().zip(src) {
                        *d += v;
                    }
                }
            }
        }
    }
}
