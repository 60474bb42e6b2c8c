// Over 400 lines because the three algorithms' forward and backward passes
// live together: each backward reads exactly what its own forward kept.

//! The convolution plan: one 2-D convolution (cross-correlation, as every
//! framework computes it) with stride and zero padding over a batch, its
//! input, weight and bias gradients, and all the scratch the algorithms need.
//! Images are `(C, H, W)` and outputs `(F, OH, OW)`, channel-major; the
//! weights are `(F, C·kh·kw)`, the layout PyTorch calls `(F, C, kh, kw)`.
//!
//! Each forward pass picks one of three algorithms from the active kernel
//! table (so a benchmark that switches implementations switches existing
//! layers too), and its backward pass follows the same one:
//!
//! - **Direct** (SIMD builds; stride 1 and output rows 5–8 vectors wide, as
//!   LeNet-5's first convolution with 28 columns): `kernels::direct` keeps
//!   each output row in a few v128 accumulators fed by shifted rows of a
//!   zero-padded copy of the image, so there is no column matrix at all.
//!   Unfolding each image into 25 shifted copies, multiplying and regrouping
//!   costs several times the arithmetic for such layers.
//! - **Gathered** (SIMD builds, other geometries, e.g. LeNet-5's second
//!   convolution with 10 columns, too narrow for direct rows): one
//!   `gemm_gathered` reads each patch value straight from the (zero-padded)
//!   batch through two offset tables — one per output pixel, one per
//!   (channel, kernel row, kernel column) — so no column matrix is built or
//!   kept. For LeNet-5's second convolution im2col alone is 1.65 ms of a
//!   3.7 ms forward pass (batch 64, relaxed build).
//! - **im2col** (the scalar reference, and any batch whose offsets would not
//!   fit in u32): a few images at a time (see `CHUNK_FLOATS`) are unfolded
//!   into a wide column matrix `(C·k·k, images·OH·OW)`, image `n` in columns
//!   `n·P..(n+1)·P`. Building it copies whole input rows; the transposed
//!   matrix (one patch per row) would take thousands of five-float copies per
//!   image and cost more than the product. A training pass keeps its column
//!   matrices (up to `SAVED_COLS_FLOATS`) so backward unfolds nothing.
//!   The reference keeps this path so that native results, and the shipped
//!   checkpoints, stay bit for bit.
//!
//! A backward pass whose output gradient is mostly zeros (a ReLU and a max
//! pool follow: LeNet-5's convolutions see ≈ 12 % non-zero) skips the zeros
//! instead of multiplying them, whichever way the forward pass went
//! (`kernels::sparse`, SIMD builds, 5 × 5 kernels; an input gradient only
//! without padding): LeNet-5's second convolution's backward pass went from
//! 1.96 to 0.93 ms at batch 64 (relaxed build).
//!
//! The products are arranged so the long side (batch·OH·OW) is the GEMM's
//! row dimension, the shape the packed SIMD kernel handles best: the forward
//! pass is `colsᵀ · Wᵀ` (`gemm_tt`) in `(images·P, F)` layout, since
//! `W · cols` with only 6 or 16 filters as rows runs at a quarter of the
//! speed. The input gradient always goes through `Wᵀ · dYᵀ` and col2im, a
//! few images at a time: a gathered "full" correlation would do twice the
//! multiplications.
//!
//! The plan works on slices and knows nothing of layers; `nn::Conv2d` holds
//! one, with its parameters and the input it keeps for backward.

use super::{col2im, gemm_gathered, gemm_nn, gemm_tt, im2col, table, ConvGeometry, DirectScratch, SparseScratch, COL2IM_MARGIN};

/// How a forward pass convolves; its backward pass follows the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConvAlgorithm {
    /// The direct SIMD kernels, image by image.
    Direct,
    /// One GEMM reading the patches from the (zero-padded) batch through offset tables.
    Gathered,
    /// im2col a few images at a time, then GEMM (the scalar reference's way).
    Im2col,
}

/// Column-matrix floats per chunk of images (256 KB): small enough to stay in
/// L2 between being written by im2col and read by the products. Unfolding the
/// whole batch at once (5 MB for LeNet-5's first layer at batch 64) makes
/// every pass stream from memory, at half the speed on a 2-core VM.
const CHUNK_FLOATS: usize = 64 * 1024;

/// The most column-matrix floats a plan keeps from forward for backward
/// (64 MB). Keeping them saves ~5 % of a LeNet-5 step at batch 64 (measured
/// in one worker, alternating, `make bench`-style windows) over unfolding the
/// images again in backward; a huge batch (full-batch training of LeNet-5
/// would need 600 MB) unfolds its input again instead.
const SAVED_COLS_FLOATS: usize = 16 << 20;

/// What backward needs from the training forward pass, besides its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kept {
    /// Direct kernels: the weight gradient reads the input again.
    Direct { batch: usize },
    /// Gathered GEMM: the batch it read is in `padded` (the input itself when
    /// nothing is padded), with the offset tables.
    Gathered { batch: usize },
    /// im2col: the column matrices are in `saved_cols`, chunk after chunk.
    Columns { batch: usize },
    /// im2col of a batch too big to keep its columns: unfolded again.
    Input { batch: usize },
}

impl Kept {
    fn batch(self) -> usize {
        match self {
            Kept::Direct { batch } | Kept::Gathered { batch } | Kept::Columns { batch } | Kept::Input { batch } => batch,
        }
    }
}

/// One convolution's plan and scratch. Buffers are kept between calls so a
/// training step reallocates nothing.
pub struct ConvPlan {
    geometry: ConvGeometry,
    filters: usize,
    /// What the last training forward pass left for backward.
    kept: Option<Kept>,
    /// Whether the last backward pass skipped the zeros of its output gradient (`kernels::sparse`).
    sparse_last: bool,
    /// The column matrices of the last training forward pass (im2col, when they fit `saved_cols_limit`).
    saved_cols: Vec<f32>,
    /// `SAVED_COLS_FLOATS`, a field so tests can take the other path.
    saved_cols_limit: usize,
    /// im2col of one chunk of images, `(C·k·k, images·OH·OW)` (evaluation,
    /// batches too big to keep, and backward's input gradient).
    cols: Vec<f32>,
    /// The weight gradient of one chunk, transposed `(C·k·k, F)`.
    dw_t: Vec<f32>,
    /// The product, or dY, in `(images·OH·OW, F)` layout.
    scratch: Vec<f32>,
    /// Scratch of the direct kernels.
    direct: DirectScratch,
    /// Scratch of the sparse backward kernel.
    sparse: SparseScratch,
    /// Gathered path: the batch zero-padded (when the convolution pads).
    padded: Vec<f32>,
    /// Gathered path: where each output pixel's patch starts in the padded
    /// batch, and each patch value's offset from there.
    pixel_offsets: Vec<u32>,
    patch_offsets: Vec<u32>,
}

impl ConvPlan {
    pub fn new(geometry: ConvGeometry, filters: usize) -> Self {
        ConvPlan {
            geometry,
            filters,
            kept: None,
            sparse_last: false,
            saved_cols: Vec::new(),
            saved_cols_limit: SAVED_COLS_FLOATS,
            cols: Vec::new(),
            dw_t: Vec::new(),
            scratch: Vec::new(),
            direct: DirectScratch::default(),
            sparse: SparseScratch::default(),
            padded: Vec::new(),
            pixel_offsets: Vec::new(),
            patch_offsets: Vec::new(),
        }
    }

    pub fn geometry(&self) -> &ConvGeometry {
        &self.geometry
    }
    pub fn filters(&self) -> usize {
        self.filters
    }
    /// Values of one image's output, `F·OH·OW`.
    pub fn output_len(&self) -> usize {
        self.filters * self.geometry.patches()
    }

    /// The algorithm a forward pass over `batch` images takes with the active kernels.
    pub fn algorithm(&self, batch: usize) -> ConvAlgorithm {
        let g = &self.geometry;
        let kernels = table();
        let padded_image = g.channels * (g.height + 2 * g.padding) * (g.width + 2 * g.padding);
        if (kernels.direct_supported)(g) {
            ConvAlgorithm::Direct
        } else if kernels.conv_gathers && batch.saturating_mul(padded_image) < u32::MAX as usize {
            // The gathered GEMM's offsets into the padded batch are u32.
            ConvAlgorithm::Gathered
        } else {
            ConvAlgorithm::Im2col
        }
    }

    /// Images per im2col chunk (at least one).
    pub fn images_per_chunk(&self) -> usize {
        (CHUNK_FLOATS / self.geometry.patch_matrix_len().max(1)).max(1)
    }

    /// `out` (per image `(F, OH, OW)`) = the convolution of the `batch` images
    /// in `x` with `weight` `(F, C·kh·kw)`, plus `bias`. With `keep` (a
    /// training pass) the plan keeps what [`ConvPlan::backward`] needs besides `x`.
    pub fn forward(&mut self, batch: usize, x: &[f32], weight: &[f32], bias: &[f32], out: &mut [f32], keep: bool) {
        let g = self.geometry;
        let (k, p, f) = (g.patch_len(), g.patches(), self.filters);
        assert_eq!(x.len(), batch * g.input_len(), "convolution: input has {} values, expected {batch} images of {}", x.len(), g.input_len());
        assert_eq!(weight.len(), f * k, "convolution: weight has {} values, expected {f}×{k}", weight.len());
        assert_eq!(bias.len(), f, "convolution: bias has {} values, expected {f}", bias.len());
        assert_eq!(out.len(), batch * f * p, "convolution: output has {} values, expected {batch}×{f}×{p}", out.len());
        self.kept = None;
        match self.algorithm(batch) {
            ConvAlgorithm::Direct => {
                let direct_forward = table().direct_forward;
                let (image_len, out_len) = (g.input_len(), f * p);
                for n in 0..batch {
                    let image = &x[n * image_len..(n + 1) * image_len];
                    direct_forward(&g, f, image, weight, bias, &mut out[n * out_len..(n + 1) * out_len], &mut self.direct);
                }
                self.kept = keep.then_some(Kept::Direct { batch });
            }
            ConvAlgorithm::Gathered => {
                if g.padding > 0 {
                    pad_batch(&g, batch, x, &mut self.padded);
                }
                let source = if g.padding > 0 { &self.padded[..] } else { x };
                fill_offsets(&g, batch, &mut self.pixel_offsets, &mut self.patch_offsets);
                self.scratch.resize(batch * p * f, 0.0);
                gemm_gathered(batch * p, f, k, source, &self.pixel_offsets, &self.patch_offsets, weight, true, &mut self.scratch, false);
                store_output(&self.scratch, bias, out, 0, p);
                self.kept = keep.then_some(Kept::Gathered { batch });
            }
            ConvAlgorithm::Im2col => {
                let matrix = g.patch_matrix_len();
                let keep_columns = keep && batch * matrix <= self.saved_cols_limit;
                if keep_columns {
                    // im2col writes every value, so stale contents need no clearing.
                    self.saved_cols.resize(batch * matrix, 0.0);
                }
                let chunk = self.images_per_chunk();
                for n0 in (0..batch).step_by(chunk) {
                    let n1 = (n0 + chunk).min(batch);
                    let wide = (n1 - n0) * p;
                    let cols = if keep_columns {
                        &mut self.saved_cols[n0 * matrix..n1 * matrix]
                    } else {
                        self.cols.resize(k * wide, 0.0);
                        &mut self.cols[..k * wide]
                    };
                    unfold(&g, x, n0, n1, cols);
                    // (images·P, F) = colsᵀ · Wᵀ
                    self.scratch.resize(wide * f, 0.0);
                    gemm_tt(wide, f, k, cols, weight, &mut self.scratch, false);
                    store_output(&self.scratch, bias, out, n0, p);
                }
                self.kept = match (keep, keep_columns) {
                    (false, _) => None,
                    (true, true) => Some(Kept::Columns { batch }),
                    (true, false) => Some(Kept::Input { batch }),
                };
            }
        }
    }

    /// The backward pass of the last training forward pass, whose input was
    /// `x`, from the output gradient `grad_out` (per image `(F, OH, OW)`):
    /// adds the weight and bias gradients into `param_grads` when given, and
    /// writes the input gradient into `input_grad` when given. What the
    /// forward pass kept is released.
    pub fn backward(&mut self, x: &[f32], weight: &[f32], grad_out: &[f32], param_grads: Option<(&mut [f32], &mut [f32])>, input_grad: Option<&mut [f32]>) {
        let kept = self.kept.take().expect("convolution: backward without a training forward pass");
        self.sparse_last = false;
        let g = self.geometry;
        let (k, p, f) = (g.patch_len(), g.patches(), self.filters);
        let batch = kept.batch();
        assert_eq!(x.len(), batch * g.input_len(), "convolution: backward's input is not the forward pass's {batch} images");
        assert_eq!(weight.len(), f * k, "convolution: weight has {} values, expected {f}×{k}", weight.len());
        assert_eq!(grad_out.len(), batch * f * p, "convolution: output gradient has {} values, expected {batch}×{f}×{p}", grad_out.len());
        if let Some((dw, db)) = &param_grads {
            assert_eq!((dw.len(), db.len()), (f * k, f), "convolution: gradient lengths");
        }
        if let Some(dx) = &input_grad {
            assert_eq!(dx.len(), batch * g.input_len(), "convolution: input gradient length");
        }
        let chunk = self.images_per_chunk();
        match kept {
            Kept::Direct { .. } => {
                let (mut param_grads, mut input_grad) = (param_grads, input_grad);
                if self.sparse_backward(batch, x, weight, grad_out, &mut param_grads, &mut input_grad, false) {
                    return;
                }
                if let Some((dw, db)) = param_grads {
                    let direct_weight_grad = table().direct_weight_grad;
                    let (image_len, out_len) = (g.input_len(), f * p);
                    for n in 0..batch {
                        let (image, grad) = (&x[n * image_len..(n + 1) * image_len], &grad_out[n * out_len..(n + 1) * out_len]);
                        direct_weight_grad(&g, f, image, grad, dw, &mut self.direct);
                        for (db, channel) in db.iter_mut().zip(grad.chunks_exact(p.max(1))) {
                            *db += sum_in_lanes(channel);
                        }
                    }
                }
                if let Some(dx) = input_grad {
                    for n0 in (0..batch).step_by(chunk) {
                        let n1 = (n0 + chunk).min(batch);
                        self.regroup_grad(grad_out, n0, n1);
                        self.fold_input_grad(weight, n0, n1, 0, dx);
                    }
                }
            }
            Kept::Gathered { .. } => {
                let (mut param_grads, mut input_grad) = (param_grads, input_grad);
                if self.sparse_backward(batch, x, weight, grad_out, &mut param_grads, &mut input_grad, true) {
                    return;
                }
                // dY of the whole batch in (images·P, F) layout, as the forward product.
                self.regroup_grad(grad_out, 0, batch);
                if let Some((dw, db)) = param_grads.filter(|_| batch > 0) {
                    // dWᵀ (K, F) = Aᵀ · dY: the same gathered matrix read transposed,
                    // i.e. with the two offset tables swapped.
                    self.dw_t.resize(k * f, 0.0);
                    let source = if g.padding > 0 { &self.padded[..] } else { x };
                    gemm_gathered(k, f, batch * p, source, &self.patch_offsets, &self.pixel_offsets, &self.scratch, false, &mut self.dw_t, false);
                    add_param_grads(&self.dw_t, &self.scratch, dw, db);
                }
                if let Some(dx) = input_grad {
                    for n0 in (0..batch).step_by(chunk) {
                        let n1 = (n0 + chunk).min(batch);
                        self.fold_input_grad(weight, n0, n1, n0 * p * f, dx);
                    }
                }
            }
            Kept::Columns { .. } | Kept::Input { .. } => {
                let matrix = g.patch_matrix_len();
                let (mut param_grads, mut input_grad) = (param_grads, input_grad);
                for n0 in (0..batch).step_by(chunk) {
                    let n1 = (n0 + chunk).min(batch);
                    let wide = (n1 - n0) * p;
                    // The forward pass's columns, or (for a huge batch) the same unfolded again.
                    let cols_len = k * wide;
                    if let Kept::Input { .. } = kept {
                        self.cols.resize(cols_len, 0.0);
                        unfold(&g, x, n0, n1, &mut self.cols[..cols_len]);
                    }
                    self.regroup_grad(grad_out, n0, n1);
                    if let Some((dw, db)) = param_grads.as_mut() {
                        // dWᵀ (K, F) = cols · dY, with the column matrix read in place as
                        // the GEMM's row operand: dY, much smaller, is the one packed
                        // (the other arrangement packs the big operand for only F rows).
                        self.dw_t.resize(k * f, 0.0);
                        let cols = match kept {
                            Kept::Columns { .. } => &self.saved_cols[n0 * matrix..n1 * matrix],
                            _ => &self.cols[..cols_len],
                        };
                        gemm_nn(k, f, wide, cols, &self.scratch, &mut self.dw_t, false);
                        add_param_grads(&self.dw_t, &self.scratch, dw, db);
                    }
                    if let Some(dx) = input_grad.as_deref_mut() {
                        self.fold_input_grad(weight, n0, n1, 0, dx);
                    }
                }
            }
        }
    }

    /// The backward pass through `kernels::sparse` when the active kernels have
    /// it for this geometry and `grad_out` is mostly zeros: true when it ran
    /// (every requested gradient done), false having changed no gradient.
    /// `offsets_kept`: the gathered forward pass left the padded batch and the
    /// pixel offsets; after a direct one they are made here (≈ 0.05 ms for
    /// LeNet-5's first convolution at batch 64, against ≈ 0.3 ms saved).
    #[allow(clippy::too_many_arguments)]
    fn sparse_backward(
        &mut self,
        batch: usize,
        x: &[f32],
        weight: &[f32],
        grad_out: &[f32],
        param_grads: &mut Option<(&mut [f32], &mut [f32])>,
        input_grad: &mut Option<&mut [f32]>,
        offsets_kept: bool,
    ) -> bool {
        let (g, kernels) = (self.geometry, table());
        if batch == 0 || !(kernels.sparse_supported)(&g) || (input_grad.is_some() && g.padding > 0) {
            return false;
        }
        if !offsets_kept {
            if g.padding > 0 {
                pad_batch(&g, batch, x, &mut self.padded);
            }
            fill_offsets(&g, batch, &mut self.pixel_offsets, &mut self.patch_offsets);
        }
        let source = if g.padding > 0 { &self.padded[..] } else { x };
        let dw_db = param_grads.as_mut().map(|(dw, db)| (&mut dw[..], &mut db[..]));
        self.sparse_last =
            (kernels.sparse_backward)(&g, self.filters, source, &self.pixel_offsets, weight, grad_out, dw_db, input_grad.as_deref_mut(), &mut self.sparse);
        self.sparse_last
    }

    /// Whether the last backward pass took the sparse kernel, skipping its
    /// output gradient's zeros (the conformance suite checks it ran).
    pub fn backward_was_sparse(&self) -> bool {
        self.sparse_last
    }

    /// Forgets what the last training forward pass kept for backward (a
    /// layer below every trainable one, or a step abandoned after its forward
    /// pass). The buffers stay allocated for the next pass, as after backward.
    pub fn clear(&mut self) {
        self.kept = None;
    }

    /// dY of images `n0..n1` into `self.scratch`, arranged like the forward
    /// product: `(images·P, F)`; every value is written.
    fn regroup_grad(&mut self, grad_out: &[f32], n0: usize, n1: usize) {
        let (p, f) = (self.geometry.patches(), self.filters);
        self.scratch.resize((n1 - n0) * p * f, 0.0);
        if p == 0 || f == 0 {
            return;
        }
        for (row, block) in grad_out[n0 * p * f..n1 * p * f].chunks_exact(p * f).zip(self.scratch.chunks_exact_mut(p * f)) {
            for (c, channel) in row.chunks_exact(p).enumerate() {
                for (q, &v) in channel.iter().enumerate() {
                    block[q * f + c] = v;
                }
            }
        }
    }

    /// The input gradient of images `n0..n1` from their regrouped dY, which
    /// starts at `self.scratch[dy_start]`: dcols `(K, images·P)` = Wᵀ · dYᵀ,
    /// folded back image by image into `dx` (the whole batch's).
    fn fold_input_grad(&mut self, weight: &[f32], n0: usize, n1: usize, dy_start: usize, dx: &mut [f32]) {
        let g = self.geometry;
        let (k, p, f) = (g.patch_len(), g.patches(), self.filters);
        let wide = (n1 - n0) * p;
        // dcols with COL2IM_MARGIN floats either side, for col2im's shifted loads.
        let m = COL2IM_MARGIN;
        self.cols.resize(k * wide + 2 * m, 0.0);
        let dy = &self.scratch[dy_start..dy_start + wide * f];
        gemm_tt(k, wide, f, weight, dy, &mut self.cols[m..m + k * wide], false);
        let image_len = g.input_len();
        for (i, n) in (n0..n1).enumerate() {
            col2im(&g, &self.cols, m + i * p, &mut dx[n * image_len..(n + 1) * image_len], wide);
        }
    }
}

/// The offset tables of the gathered GEMM for `batch` images laid out as
/// [`pad_batch`] lays them: A(pixel, patch value) = padded[pixels[pixel] + patch[value]].
fn fill_offsets(g: &ConvGeometry, batch: usize, pixels: &mut Vec<u32>, patch: &mut Vec<u32>) {
    let (hp, wp) = (g.height + 2 * g.padding, g.width + 2 * g.padding);
    let (oh, ow, s) = (g.out_height(), g.out_width(), g.stride);
    let image = g.channels * hp * wp;
    pixels.clear();
    pixels.extend((0..batch).flat_map(|n| (0..oh).flat_map(move |oy| (0..ow).map(move |ox| (n * image + oy * s * wp + ox * s) as u32))));
    patch.clear();
    for c in 0..g.channels {
        for ky in 0..g.kernel_h {
            patch.extend((0..g.kernel_w).map(|kx| (c * hp * wp + ky * wp + kx) as u32));
        }
    }
}

/// The batch with `padding` zeros around every channel of every image, into `padded`.
fn pad_batch(g: &ConvGeometry, batch: usize, x: &[f32], padded: &mut Vec<f32>) {
    let (hp, wp) = (g.height + 2 * g.padding, g.width + 2 * g.padding);
    padded.clear();
    padded.resize(batch * g.channels * hp * wp, 0.0);
    let plane = g.height * g.width;
    if plane == 0 {
        return;
    }
    for (plane_in, plane_out) in x.chunks_exact(plane).zip(padded.chunks_exact_mut(hp * wp)) {
        for (y, row) in plane_in.chunks_exact(g.width).enumerate() {
            let at = (y + g.padding) * wp + g.padding;
            plane_out[at..at + g.width].copy_from_slice(row);
        }
    }
}

/// `out` (per image `(F, P)`, channel-major) = the product in `(images·P, F)`
/// layout plus the bias, for the images from `n0` on.
fn store_output(product: &[f32], bias: &[f32], out: &mut [f32], n0: usize, p: usize) {
    let f = bias.len();
    if p == 0 || f == 0 {
        return;
    }
    for (out, block) in out[n0 * p * f..].chunks_exact_mut(p * f).zip(product.chunks_exact(p * f)) {
        for (q, pixel) in block.chunks_exact(f).enumerate() {
            for (c, (&v, b)) in pixel.iter().zip(bias).enumerate() {
                out[c * p + q] = v + b;
            }
        }
    }
}

/// Adds a transposed weight gradient `(K, F)` into the weights' `(F, K)`
/// gradient, and dY's per-filter sums (`dy` in `(images·P, F)` layout) into the bias gradient.
fn add_param_grads(dw_t: &[f32], dy: &[f32], weight_grads: &mut [f32], bias_grads: &mut [f32]) {
    let f = bias_grads.len();
    if f == 0 {
        return;
    }
    let k = weight_grads.len() / f;
    for (c, row) in weight_grads.chunks_exact_mut(k.max(1)).enumerate() {
        for (r, g) in row.iter_mut().enumerate() {
            *g += dw_t[r * f + c];
        }
    }
    for pixel in dy.chunks_exact(f) {
        for (g, v) in bias_grads.iter_mut().zip(pixel) {
            *g += v;
        }
    }
}

/// Σ values in eight running sums, which LLVM turns into two v128 adds per
/// step: an iterator's sum must add in order, one dependent add at a time
/// (LeNet-5’s first convolution: 300,000 values per batch of 64, a quarter of
/// its backward pass).
fn sum_in_lanes(values: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let chunks = values.chunks_exact(8);
    let tail: f32 = chunks.remainder().iter().sum();
    for chunk in chunks {
        for (l, v) in lanes.iter_mut().zip(chunk) {
            *l += v;
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// im2col of images `n0..n1` of `x` into `cols` (`C·k·k` rows of `(n1 − n0)·P`), side by side.
fn unfold(g: &ConvGeometry, x: &[f32], n0: usize, n1: usize, cols: &mut [f32]) {
    let (k, p, image_len) = (g.patch_len(), g.patches(), g.input_len());
    let wide = (n1 - n0) * p;
    for (i, n) in (n0..n1).enumerate() {
        let end = if k == 0 { 0 } else { (k - 1) * wide + (i + 1) * p };
        im2col(g, &x[n * image_len..(n + 1) * image_len], &mut cols[i * p..end], wide);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(len: usize, seed: u32) -> Vec<f32> {
        (0..len as u32).map(|i| ((i.wrapping_mul(2_654_435_761).wrapping_add(seed.wrapping_mul(40_503)) >> 8) % 2001) as f32 / 1000.0 - 1.0).collect()
    }

    #[test]
    fn a_batch_too_big_to_keep_its_columns_gets_the_same_gradients() {
        let g = ConvGeometry { channels: 2, height: 9, width: 9, kernel_h: 3, kernel_w: 3, stride: 1, padding: 1 };
        let (filters, batch) = (3, 4);
        let (weight, bias) = (values(filters * g.patch_len(), 1), values(filters, 2));
        let x = values(batch * g.input_len(), 3);
        let dy = values(batch * filters * g.patches(), 4);
        let mut kept = ConvPlan::new(g, filters);
        let mut unfolded_again = ConvPlan::new(g, filters);
        unfolded_again.saved_cols_limit = 0;
        let run = |plan: &mut ConvPlan| {
            let mut y = vec![0.0; batch * plan.output_len()];
            plan.forward(batch, &x, &weight, &bias, &mut y, true);
            let (mut dw, mut db, mut dx) = (vec![0.0; weight.len()], vec![0.0; bias.len()], vec![0.0; x.len()]);
            plan.backward(&x, &weight, &dy, Some((&mut dw, &mut db)), Some(&mut dx));
            (y, dx, dw, db)
        };
        let a = run(&mut kept);
        let b = run(&mut unfolded_again);
        assert!(unfolded_again.kept.is_none() && unfolded_again.saved_cols.is_empty(), "nothing kept over the limit");
        assert_eq!(a, b, "both paths compute exactly the same numbers");
    }

    #[test]
    fn clear_releases_what_forward_kept() {
        let g = ConvGeometry { channels: 1, height: 5, width: 5, kernel_h: 3, kernel_w: 3, stride: 1, padding: 0 };
        let mut plan = ConvPlan::new(g, 2);
        let (x, weight, bias) = (values(g.input_len(), 5), values(2 * 9, 6), values(2, 7));
        let mut y = vec![0.0; plan.output_len()];
        plan.forward(1, &x, &weight, &bias, &mut y, true);
        assert!(plan.kept.is_some());
        plan.clear();
        assert!(plan.kept.is_none());
        plan.forward(1, &x, &weight, &bias, &mut y, false);
        assert!(plan.kept.is_none(), "an evaluation pass keeps nothing");
    }
}
