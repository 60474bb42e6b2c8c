//! Reference kernels: straightforward loops, ordered so that LLVM can
//! auto-vectorise the innermost one (unit stride over the output row).
//! Faster implementations are tested against these, and their tables start
//! as a copy of this one ([`generic`]).

use super::{DirectScratch, Implementation, Kernels, SparseScratch};

/// The reference table. It has no direct convolution and keeps im2col for
/// every convolution (`conv_gathers: false`): native results, and the
/// shipped checkpoints `make models` reproduces with them, stay bit for bit.
pub(super) const fn generic() -> Kernels {
    Kernels {
        implementation: Implementation::Scalar,
        gemm_nn,
        gemm_nt,
        gemm_tn,
        gemm_tt,
        gemm_gathered,
        im2col,
        col2im: col2im_at,
        max_pool_2x2,
        max_pool_2x2_backward,
        conv_gathers: false,
        direct_supported: no_direct,
        direct_forward: no_direct_forward,
        direct_weight_grad: no_direct_weight_grad,
        sparse_supported: no_direct,
        sparse_backward: no_sparse_backward,
    }
}

fn no_direct(_: &ConvGeometry) -> bool {
    false
}

fn no_direct_forward(_: &ConvGeometry, _: usize, _: &[f32], _: &[f32], _: &[f32], _: &mut [f32], _: &mut DirectScratch) {
    panic!("direct convolution is not available with scalar kernels");
}

// The reference multiplies every gradient, zero or not.
#[allow(clippy::too_many_arguments)]
fn no_sparse_backward(
    _: &ConvGeometry,
    _: usize,
    _: &[f32],
    _: &[u32],
    _: &[f32],
    _: &[f32],
    _: Option<(&mut [f32], &mut [f32])>,
    _: Option<&mut [f32]>,
    _: &mut SparseScratch,
) -> bool {
    false
}

fn no_direct_weight_grad(_: &ConvGeometry, _: usize, _: &[f32], _: &[f32], _: &mut [f32], _: &mut DirectScratch) {
    panic!("direct convolution is not available with scalar kernels");
}

/// Shape of a 2-D convolution over one image, shared by im2col and col2im.
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
    /// Values in one patch (rows of the column matrix): one per (channel, kernel row, kernel column).
    pub fn patch_len(&self) -> usize {
        self.channels * self.kernel_h * self.kernel_w
    }
    /// Patches of one image (columns of its column matrix): one per output pixel.
    pub fn patches(&self) -> usize {
        self.out_height() * self.out_width()
    }
    /// Length of one image's column matrix.
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

/// `C[m×n] (+)= A[k×m]ᵀ · B[n×k]ᵀ`, computed as its transpose `Cᵀ = B · A`
/// (a plain `gemm_nn` whose inner loop runs along A's long rows) and then
/// added into C: the convolutions' products have m in the thousands and n a
/// handful of filters, so C's own rows are too short to vectorise.
pub fn gemm_tt(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32], accumulate: bool) {
    let mut ct = vec![0.0f32; n * m];
    gemm_nn(n, m, k, b, a, &mut ct, false);
    if !accumulate {
        c.fill(0.0);
    }
    for i in 0..m {
        for j in 0..n {
            c[i * n + j] += ct[j * m + i];
        }
    }
}

/// `C (+)= A·B` with `A(i, p) = a[rows[i] + cols[p]]`; B is k×n or stored transposed.
#[allow(clippy::too_many_arguments)]
pub fn gemm_gathered(m: usize, n: usize, k: usize, a: &[f32], rows: &[u32], cols: &[u32], b: &[f32], b_transposed: bool, c: &mut [f32], accumulate: bool) {
    if !accumulate {
        c.fill(0.0);
    }
    if n == 0 {
        return;
    }
    for (i, c_row) in c.chunks_exact_mut(n).enumerate().take(m) {
        for (p, &col) in cols.iter().enumerate() {
            let a_ip = a[rows[i] as usize + col as usize];
            for (j, c_ij) in c_row.iter_mut().enumerate() {
                let b_pj = if b_transposed { b[j * k + p] } else { b[p * n + j] };
                *c_ij += a_ip * b_pj;
            }
        }
    }
}

/// 2×2 max pooling with stride 2 of one image (C×H×W, no padding): `out`
/// (C×⌊H/2⌋×⌊W/2⌋) gets each window's maximum and `arg` its flat index in
/// the image, the first maximum in reading order winning ties (as the
/// general pooling loop; a NaN in the window's first place stays). With
/// `rectify`, of the rectified image (see [`super::max_pool_2x2`]).
pub fn max_pool_2x2(image: &[f32], out: &mut [f32], arg: &mut [u32], channels: usize, h: usize, w: usize, rectify: bool) {
    let (oh, ow) = (h / 2, w / 2);
    for c in 0..channels {
        for oy in 0..oh {
            let o = (c * oh + oy) * ow;
            let (out, arg) = (&mut out[o..o + ow], &mut arg[o..o + ow]);
            if rectify {
                max_pool_2x2_row::<true>(image, c * h * w + 2 * oy * w, w, out, arg, 0);
            } else {
                max_pool_2x2_row::<false>(image, c * h * w + 2 * oy * w, w, out, arg, 0);
            }
        }
    }
}

/// Outputs `from..` of one output row of [`max_pool_2x2`], whose window rows
/// start at `image[top]` and `image[top + w]`.
pub(super) fn max_pool_2x2_row<const RECTIFY: bool>(image: &[f32], top: usize, w: usize, out: &mut [f32], arg: &mut [u32], from: usize) {
    let (upper, lower) = (&image[top..top + w], &image[top + w..top + 2 * w]);
    let read = |v: f32| if RECTIFY { rectified(v) } else { v };
    for (ox, (dst, at)) in out.iter_mut().zip(arg.iter_mut()).enumerate().skip(from) {
        let x = 2 * ox;
        // Same order and tie-breaking as the general loop: first maximum wins.
        let (mut best, mut best_at) = (read(upper[x]), top + x);
        if read(upper[x + 1]) > best {
            (best, best_at) = (read(upper[x + 1]), top + x + 1);
        }
        if read(lower[x]) > best {
            (best, best_at) = (read(lower[x]), top + w + x);
        }
        if read(lower[x + 1]) > best {
            (best, best_at) = (read(lower[x + 1]), top + w + x + 1);
        }
        *dst = best;
        *at = if RECTIFY && best <= 0.0 { best_at as u32 | super::DEAD_WINDOW } else { best_at as u32 };
    }
}

/// As [`super::max_pool_2x2_backward`]: the gradients scattered onto zeros.
/// `arg` comes from the pooling of this very image, so every index is inside it.
pub fn max_pool_2x2_backward(dy: &[f32], arg: &[u32], dx: &mut [f32], _channels: usize, _h: usize, _w: usize) {
    dx.fill(0.0);
    for (&g, &at) in dy.iter().zip(arg) {
        if at & super::DEAD_WINDOW == 0 {
            dx[at as usize] += g;
        }
    }
}

/// The ReLU of one value (NaN → 0): `nn::Activation`'s, and a rectifying pool's.
#[inline(always)]
pub(crate) fn rectified(v: f32) -> f32 {
    if v > 0.0 {
        v
    } else {
        0.0
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

/// The output columns `ox` whose input column `ox·stride + kx − padding`
/// lies inside the image: a half-open range, so the copy loops need no branch.
fn valid_columns(g: &ConvGeometry, kx: usize, ow: usize) -> (usize, usize) {
    let lo = g.padding.saturating_sub(kx).div_ceil(g.stride);
    // ix < width  ⇔  ox·stride < width + padding − kx
    let limit = (g.width + g.padding).saturating_sub(kx);
    let hi = limit.div_ceil(g.stride).min(ow);
    (lo.min(hi), hi)
}

/// One image `(C, H, W)` into rows `C·kh·kw` of `cols`, each row `OH·OW`
/// long and starting `ld` floats after the previous (so a batch's images can
/// sit side by side in one wide matrix). Each row is built from whole input
/// rows, a few long copies per row rather than many five-float ones.
pub fn im2col(g: &ConvGeometry, image: &[f32], cols: &mut [f32], ld: usize) {
    let (oh, ow) = (g.out_height(), g.out_width());
    let mut row = 0;
    for ch in 0..g.channels {
        let plane = &image[ch * g.height * g.width..(ch + 1) * g.height * g.width];
        for ky in 0..g.kernel_h {
            for kx in 0..g.kernel_w {
                let (lo, hi) = valid_columns(g, kx, ow);
                let out = &mut cols[row * ld..row * ld + oh * ow];
                for oy in 0..oh {
                    let iy = (oy * g.stride + ky) as isize - g.padding as isize;
                    let out_row = &mut out[oy * ow..(oy + 1) * ow];
                    if iy < 0 || iy >= g.height as isize {
                        out_row.fill(0.0);
                        continue;
                    }
                    let in_row = &plane[iy as usize * g.width..(iy as usize + 1) * g.width];
                    out_row[..lo].fill(0.0);
                    out_row[hi..].fill(0.0);
                    let first = lo * g.stride + kx - g.padding;
                    if g.stride == 1 {
                        out_row[lo..hi].copy_from_slice(&in_row[first..first + (hi - lo)]);
                    } else {
                        for (j, v) in out_row[lo..hi].iter_mut().enumerate() {
                            *v = in_row[first + j * g.stride];
                        }
                    }
                }
                row += 1;
            }
        }
    }
}

/// [`col2im`] of `cols[start..]`: the table's entry.
fn col2im_at(g: &ConvGeometry, cols: &[f32], start: usize, image: &mut [f32], ld: usize) {
    col2im(g, &cols[start..], image, ld)
}

/// The adjoint of [`im2col`]: sums the columns back into one image, which is overwritten.
pub fn col2im(g: &ConvGeometry, cols: &[f32], image: &mut [f32], ld: usize) {
    image.fill(0.0);
    let (oh, ow) = (g.out_height(), g.out_width());
    let mut row = 0;
    for ch in 0..g.channels {
        let plane = &mut image[ch * g.height * g.width..(ch + 1) * g.height * g.width];
        for ky in 0..g.kernel_h {
            for kx in 0..g.kernel_w {
                let (lo, hi) = valid_columns(g, kx, ow);
                let src = &cols[row * ld..row * ld + oh * ow];
                for oy in 0..oh {
                    let iy = (oy * g.stride + ky) as isize - g.padding as isize;
                    if iy < 0 || iy >= g.height as isize {
                        continue;
                    }
                    let in_row = &mut plane[iy as usize * g.width..(iy as usize + 1) * g.width];
                    let first = lo * g.stride + kx - g.padding;
                    let values = &src[oy * ow + lo..oy * ow + hi];
                    if g.stride == 1 {
                        // Slice against slice: no bounds check per value, and LLVM
                        // vectorises it. Same additions in the same order as the
                        // indexed loop, so bit-identical; LeNet-5's second convolution,
                        // batch 64, in the browser: col2im ~1.4 ms, against 2.1 ms indexed.
                        for (d, &v) in in_row[first..first + values.len()].iter_mut().zip(values) {
                            *d += v;
                        }
                    } else {
                        for (j, &v) in values.iter().enumerate() {
                            in_row[first + j * g.stride] += v;
                        }
                    }
                }
                row += 1;
            }
        }
    }
}
