//! 2-D convolution (cross-correlation, as every framework computes it) with
//! stride and zero padding, over any number of input channels.
//!
//! A few images at a time (see `CHUNK_FLOATS`) are unfolded with im2col into a
//! wide column matrix `(C·k·k, images·OH·OW)`, image `n` in columns `n·P..(n+1)·P`. Building it
//! copies whole input rows, which is fast; building the transposed (one patch
//! per row) matrix instead meant thousands of five-float copies per image and
//! cost more than the product. The products are then arranged so the long
//! side (batch·OH·OW) is the GEMM's row dimension, the shape its packed kernel
//! handles best: the forward pass is `colsᵀ · Wᵀ` (`gemm_tt`), where
//! `W · cols` with only 6 or 16 filters as rows ran at a quarter of the speed.
//! The weights are stored
//! `(filters, C·k·k)`, the layout PyTorch calls `(F, C, kh, kw)`.
//! A training forward pass keeps its column matrices (up to
//! `SAVED_COLS_FLOATS`) for backward, which then unfolds nothing.
//!
//! That is the scalar reference's path. The SIMD builds take one of two
//! faster ones: direct convolution for wide output rows (`kernels::direct`),
//! and otherwise a *gathered* GEMM (`kernels::gemm_gathered`) that reads each
//! patch value straight from the (zero-padded) images through two offset
//! tables — one per output pixel, one per (channel, kernel row, kernel
//! column) — so no column matrix is built or kept at all. For LeNet-5's
//! second convolution, im2col alone was 1.65 of its 3.7 ms forward pass
//! (batch 64, relaxed build).

use ndarray::Array2;

use super::{expect_width, standard_layout, Layer, Mode, Param, ParamKind, Shape};
use crate::init::Init;
use crate::kernels::{self, ConvGeometry};
use crate::rng::Rng;

pub struct Conv2d {
    geometry: ConvGeometry,
    filters: usize,
    params: [Param; 2],
    /// What the last training forward pass left for backward.
    saved: Option<Saved>,
    /// The column matrices of the last training forward pass, chunk after
    /// chunk (when they fit `SAVED_COLS_FLOATS`), so backward need not unfold
    /// the images again; kept between calls so it is not reallocated.
    saved_cols: Vec<f32>,
    /// `SAVED_COLS_FLOATS`, a field so tests can take the other path.
    saved_cols_limit: usize,
    /// im2col of one chunk of images, `(C·k·k, images·OH·OW)` (evaluation,
    /// batches too big to save, and backward's input gradient); reused likewise.
    cols: Vec<f32>,
    /// The weight gradient of one chunk, transposed `(C·k·k, F)`.
    dw_t: Vec<f32>,
    /// Scratch for the product in (batch·OH·OW, F) layout, reused likewise.
    scratch: Vec<f32>,
    /// Scratch of the direct (im2col-free) kernels, for layers they handle.
    direct: kernels::DirectScratch,
    /// Gathered path: where each output pixel's patch starts in the padded
    /// batch, and each patch value's offset from there.
    pixel_offsets: Vec<u32>,
    patch_offsets: Vec<u32>,
}

impl Conv2d {
    pub fn new(input: Shape, filters: usize, kernel: usize, stride: usize, padding: usize, init: Init, rng: &mut Rng) -> Self {
        let geometry = ConvGeometry { channels: input.channels, height: input.height, width: input.width, kernel_h: kernel, kernel_w: kernel, stride, padding };
        let fan_in = input.channels * kernel * kernel;
        let mut weight = Param::new("weight", ParamKind::Weight, &[filters, input.channels, kernel, kernel]);
        init.fill(weight.values_mut(), fan_in, filters * kernel * kernel, rng);
        let bias = Param::new("bias", ParamKind::NoDecay, &[filters]);
        Conv2d {
            geometry,
            filters,
            params: [weight, bias],
            saved: None,
            saved_cols: Vec::new(),
            saved_cols_limit: SAVED_COLS_FLOATS,
            cols: Vec::new(),
            dw_t: Vec::new(),
            scratch: Vec::new(),
            direct: Default::default(),
            pixel_offsets: Vec::new(),
            patch_offsets: Vec::new(),
        }
    }
}

/// Column-matrix floats per chunk of images (256 KB): small enough to stay in
/// L2 between being written by im2col and read by the products. Unfolding the
/// whole batch at once (5 MB for LeNet-5's first layer at batch 64) made every
/// pass stream from memory and ran at half the speed on a 2-core VM.
const CHUNK_FLOATS: usize = 64 * 1024;

/// The most column-matrix floats a layer keeps from forward for backward
/// (64 MB). Keeping them saved ~5 % of a LeNet-5 step at batch 64 (measured
/// in one worker, alternating, `make bench`-style windows) over unfolding the
/// images again in backward; a huge batch (full-batch training of LeNet-5
/// would need 600 MB) keeps its input instead and unfolds again.
const SAVED_COLS_FLOATS: usize = 16 << 20;

/// What backward needs from the training forward pass.
enum Saved {
    /// The columns are in `saved_cols`; `batch` images.
    Columns { batch: usize },
    /// The input, to unfold again chunk by chunk.
    Input(Array2<f32>),
    /// The input of a forward pass done by the direct kernels, whose weight gradient works on it too.
    Direct(Array2<f32>),
    /// The batch the gathered GEMM read (zero-padded when the layer pads).
    Gathered(Array2<f32>),
}

impl Conv2d {
    fn images_per_chunk(&self) -> usize {
        (CHUNK_FLOATS / self.geometry.patch_matrix_len().max(1)).max(1)
    }

    /// dY of images `n0..n1` into `self.scratch`, arranged like the forward
    /// product: `(images·P, F)`; every value is written.
    fn regroup_grad(&mut self, grad_out: &ndarray::ArrayView2<f32>, n0: usize, n1: usize) {
        let (p, f) = (self.geometry.patches(), self.filters);
        self.scratch.resize((n1 - n0) * p * f, 0.0);
        if p == 0 || f == 0 {
            return;
        }
        for (row, block) in grad_out.rows().into_iter().skip(n0).zip(self.scratch.chunks_exact_mut(p * f)) {
            let row = row.to_slice().expect("standard layout");
            for (c, channel) in row.chunks_exact(p).enumerate() {
                for (q, &v) in channel.iter().enumerate() {
                    block[q * f + c] = v;
                }
            }
        }
    }

    /// The input gradient of images `n0..n1` from their regrouped dY, which
    /// starts at `self.scratch[dy_start]`: dcols `(K, images·P)` = Wᵀ · dYᵀ,
    /// folded back image by image.
    fn fold_input_grad(&mut self, n0: usize, n1: usize, dy_start: usize, dx: &mut Array2<f32>) {
        let g = self.geometry;
        let (k, p, f) = (g.patch_len(), g.patches(), self.filters);
        let wide = (n1 - n0) * p;
        self.cols.resize(k * wide, 0.0);
        let dy = &self.scratch[dy_start..dy_start + wide * f];
        kernels::gemm_tt(k, wide, f, self.params[0].values(), dy, &mut self.cols[..k * wide], false);
        for (i, mut dx_image) in dx.rows_mut().into_iter().skip(n0).take(n1 - n0).enumerate() {
            let end = if k == 0 { 0 } else { (k - 1) * wide + (i + 1) * p };
            kernels::col2im(&g, &self.cols[i * p..end], dx_image.as_slice_mut().expect("row of a fresh array"), wide);
        }
    }
}

impl Conv2d {
    /// Whether this batch takes the gathered GEMM: SIMD builds, and offsets
    /// into the padded batch that fit in u32.
    fn gathers(&self, batch: usize) -> bool {
        let g = self.geometry;
        let padded_image = g.channels * (g.height + 2 * g.padding) * (g.width + 2 * g.padding);
        kernels::gathered_conv() && batch.saturating_mul(padded_image) < u32::MAX as usize
    }

    /// The offset tables of the gathered GEMM for `batch` images laid out as
    /// [`pad_batch`] lays them: A(pixel, patch value) = padded[pixel_offsets[pixel] + patch_offsets[value]].
    fn fill_offsets(&mut self, batch: usize) {
        let g = self.geometry;
        let (hp, wp) = (g.height + 2 * g.padding, g.width + 2 * g.padding);
        let (oh, ow, s) = (g.out_height(), g.out_width(), g.stride);
        let image = g.channels * hp * wp;
        self.pixel_offsets.clear();
        self.pixel_offsets.extend((0..batch).flat_map(|n| (0..oh).flat_map(move |oy| (0..ow).map(move |ox| (n * image + oy * s * wp + ox * s) as u32))));
        self.patch_offsets.clear();
        for c in 0..g.channels {
            for ky in 0..g.kernel_h {
                self.patch_offsets.extend((0..g.kernel_w).map(|kx| (c * hp * wp + ky * wp + kx) as u32));
            }
        }
    }
}

/// The batch with `padding` zeros around every channel of every image
/// (the batch itself when the layer does not pad).
fn pad_batch(g: &ConvGeometry, x: Array2<f32>) -> Array2<f32> {
    if g.padding == 0 {
        return x;
    }
    let (hp, wp) = (g.height + 2 * g.padding, g.width + 2 * g.padding);
    let mut padded = Array2::<f32>::zeros((x.nrows(), g.channels * hp * wp));
    for (image, mut out) in x.rows().into_iter().zip(padded.rows_mut()) {
        let (image, out) = (image.to_slice().expect("standard layout"), out.as_slice_mut().expect("row of a fresh array"));
        for (plane_in, plane_out) in image.chunks_exact(g.height * g.width).zip(out.chunks_exact_mut(hp * wp)) {
            for (y, row) in plane_in.chunks_exact(g.width).enumerate() {
                let at = (y + g.padding) * wp + g.padding;
                plane_out[at..at + g.width].copy_from_slice(row);
            }
        }
    }
    padded
}

/// y (per image `(F, P)`, channel-major) = the product in `(images·P, F)`
/// layout plus the bias, for the images from `n0` on.
fn store_output(product: &[f32], bias: &[f32], y: &mut Array2<f32>, n0: usize, p: usize) {
    let f = bias.len();
    if p == 0 || f == 0 {
        return;
    }
    for (mut out, block) in y.rows_mut().into_iter().skip(n0).zip(product.chunks_exact(p * f)) {
        let out = out.as_slice_mut().expect("row of a fresh array");
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

/// im2col of images `n0..n1` of `x` into `cols` (`C·k·k` rows of `(n1 − n0)·P`), side by side.
fn unfold(g: &ConvGeometry, x: &Array2<f32>, n0: usize, n1: usize, cols: &mut [f32]) {
    let (k, p) = (g.patch_len(), g.patches());
    let wide = (n1 - n0) * p;
    for (i, image) in x.rows().into_iter().skip(n0).take(n1 - n0).enumerate() {
        let end = if k == 0 { 0 } else { (k - 1) * wide + (i + 1) * p };
        kernels::im2col(g, image.to_slice().expect("standard layout"), &mut cols[i * p..end], wide);
    }
}

impl Layer for Conv2d {
    fn name(&self) -> &'static str {
        "conv2d"
    }
    fn input_shape(&self) -> Shape {
        Shape::new(self.geometry.channels, self.geometry.height, self.geometry.width)
    }
    fn output_shape(&self) -> Shape {
        Shape::new(self.filters, self.geometry.out_height(), self.geometry.out_width())
    }

    fn forward(&mut self, x: Array2<f32>, mode: &mut Mode) -> Array2<f32> {
        expect_width("conv2d", &x, self.input_shape());
        let g = self.geometry;
        let (p, f) = (g.patches(), self.filters);
        let x = standard_layout(x);
        let batch = x.nrows();
        if kernels::direct_conv(&g) {
            let mut y = Array2::<f32>::zeros((batch, f * p));
            let [weight, bias] = &self.params;
            for (image, mut out) in x.rows().into_iter().zip(y.rows_mut()) {
                let (image, out) = (image.to_slice().expect("standard layout"), out.as_slice_mut().expect("row of a fresh array"));
                kernels::direct_forward(&g, f, image, weight.values(), bias.values(), out, &mut self.direct);
            }
            self.saved = mode.is_train().then_some(Saved::Direct(x));
            return y;
        }
        let (k, matrix) = (g.patch_len(), g.patch_matrix_len());
        if self.gathers(batch) {
            let padded = pad_batch(&g, x);
            self.fill_offsets(batch);
            self.scratch.resize(batch * p * f, 0.0);
            let [weight, bias] = &self.params;
            let source = padded.as_slice().expect("standard layout");
            kernels::gemm_gathered(batch * p, f, k, source, &self.pixel_offsets, &self.patch_offsets, weight.values(), true, &mut self.scratch, false);
            let mut y = Array2::<f32>::zeros((batch, f * p));
            store_output(&self.scratch, bias.values(), &mut y, 0, p);
            self.saved = mode.is_train().then_some(Saved::Gathered(padded));
            return y;
        }
        let keep_columns = mode.is_train() && batch * matrix <= self.saved_cols_limit;
        if keep_columns {
            // im2col writes every value, so stale contents need no clearing.
            self.saved_cols.resize(batch * matrix, 0.0);
        }
        let mut y = Array2::<f32>::zeros((batch, f * p));
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
            unfold(&g, &x, n0, n1, cols);
            // (images·P, F) = colsᵀ · Wᵀ
            self.scratch.resize(wide * f, 0.0);
            let [weight, bias] = &self.params;
            kernels::gemm_tt(wide, f, k, cols, weight.values(), &mut self.scratch, false);
            store_output(&self.scratch, bias.values(), &mut y, n0, p);
        }
        self.saved = match (mode.is_train(), keep_columns) {
            (false, _) => None,
            (true, true) => Some(Saved::Columns { batch }),
            (true, false) => Some(Saved::Input(x)),
        };
        y
    }

    fn backward(&mut self, grad_out: Array2<f32>, param_grads: bool, input_grad: bool) -> Option<Array2<f32>> {
        let saved = self.saved.take().expect("conv2d: backward without a training forward pass");
        let g = self.geometry;
        let (k, p, f) = (g.patch_len(), g.patches(), self.filters);
        let grad_out = grad_out.as_standard_layout();
        let batch = grad_out.nrows();
        if let Saved::Columns { batch: forward_batch } = saved {
            // An empty gradient only releases the forward pass's caches (layers below every trainable one).
            assert!(batch == 0 || batch == forward_batch, "conv2d: backward batch {batch} differs from the forward pass's {forward_batch}");
        }
        let matrix = g.patch_matrix_len();
        let mut dx = input_grad.then(|| Array2::<f32>::zeros((batch, g.input_len())));
        if let Saved::Direct(x) = &saved {
            if param_grads && batch > 0 {
                let [weight, bias] = &mut self.params;
                for (image, grad) in x.rows().into_iter().zip(grad_out.rows()) {
                    let (image, grad) = (image.to_slice().expect("standard layout"), grad.to_slice().expect("standard layout"));
                    kernels::direct_weight_grad(&g, f, image, grad, weight.grads_mut(), &mut self.direct);
                    for (db, channel) in bias.grads_mut().iter_mut().zip(grad.chunks_exact(p.max(1))) {
                        *db += channel.iter().sum::<f32>();
                    }
                }
            }
            if let Some(dx) = dx.as_mut() {
                let chunk = self.images_per_chunk();
                for n0 in (0..batch).step_by(chunk) {
                    let n1 = (n0 + chunk).min(batch);
                    self.regroup_grad(&grad_out.view(), n0, n1);
                    self.fold_input_grad(n0, n1, 0, dx);
                }
            }
            return dx;
        }
        if let Saved::Gathered(padded) = &saved {
            // dY of the whole batch in (images·P, F) layout, as the forward product.
            self.regroup_grad(&grad_out.view(), 0, batch);
            if param_grads && batch > 0 {
                // dWᵀ (K, F) = Aᵀ · dY: the same gathered matrix read transposed,
                // i.e. with the two offset tables swapped.
                self.dw_t.resize(k * f, 0.0);
                let source = padded.as_slice().expect("standard layout");
                kernels::gemm_gathered(k, f, batch * p, source, &self.patch_offsets, &self.pixel_offsets, &self.scratch, false, &mut self.dw_t, false);
                let [weight, bias] = &mut self.params;
                add_param_grads(&self.dw_t, &self.scratch, weight.grads_mut(), bias.grads_mut());
            }
            if let Some(dx) = dx.as_mut() {
                let chunk = self.images_per_chunk();
                for n0 in (0..batch).step_by(chunk) {
                    let n1 = (n0 + chunk).min(batch);
                    self.fold_input_grad(n0, n1, n0 * p * f, dx);
                }
            }
            return dx;
        }
        let chunk = self.images_per_chunk();
        for n0 in (0..batch).step_by(chunk) {
            let n1 = (n0 + chunk).min(batch);
            let wide = (n1 - n0) * p;
            // The forward pass's columns, or (for a huge batch) the same unfolded again.
            let cols_len = k * wide;
            if let Saved::Input(x) = &saved {
                self.cols.resize(cols_len, 0.0);
                unfold(&g, x, n0, n1, &mut self.cols[..cols_len]);
            }
            self.regroup_grad(&grad_out.view(), n0, n1);
            let dy = &self.scratch;
            let [weight, bias] = &mut self.params;
            if param_grads {
                // dWᵀ (K, F) = cols · dY, with the column matrix read in place as
                // the GEMM's row operand (dY, much smaller, is the one packed);
                // the other arrangement packed the big operand for only F rows.
                self.dw_t.resize(k * f, 0.0);
                let cols = match &saved {
                    Saved::Columns { .. } => &self.saved_cols[n0 * matrix..n1 * matrix],
                    Saved::Input(_) => &self.cols[..cols_len],
                    Saved::Direct(_) | Saved::Gathered(_) => unreachable!("handled above"),
                };
                kernels::gemm_nn(k, f, wide, cols, dy, &mut self.dw_t, false);
                add_param_grads(&self.dw_t, dy, weight.grads_mut(), bias.grads_mut());
            }
            if let Some(dx) = dx.as_mut() {
                self.fold_input_grad(n0, n1, 0, dx);
            }
        }
        dx
    }

    fn clear_cache(&mut self) {
        self.saved = None;
    }

    fn params(&self) -> &[Param] {
        &self.params
    }
    fn params_mut(&mut self) -> &mut [Param] {
        &mut self.params
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::gradcheck::check_layer;
    use crate::rng::stream;

    #[test]
    fn gradients_match_finite_differences() {
        // Two input channels, padding and stride 2 with a ragged edge.
        let mut layer = Conv2d::new(Shape::new(2, 6, 5), 3, 3, 2, 1, Init::HeUniform, &mut stream(2, 1));
        check_layer(&mut layer, 2, 21);
        let mut layer = Conv2d::new(Shape::new(1, 5, 5), 2, 5, 1, 2, Init::HeNormal, &mut stream(3, 1));
        check_layer(&mut layer, 1, 22);
    }

    #[test]
    fn chunked_batches_match_image_by_image() {
        // 28×28 with a 5×5 kernel: three images per chunk, so a batch of five spans two chunks.
        let make = || Conv2d::new(Shape::new(1, 28, 28), 4, 5, 1, 2, Init::HeUniform, &mut stream(9, 1));
        let mut batched = make();
        assert_eq!(batched.images_per_chunk(), 3);
        let x = crate::nn::gradcheck::random_input(5, 784, 3);
        let dy = crate::nn::gradcheck::random_input(5, 4 * 784, 4);
        let mut rng = stream(1, 1);
        let y = batched.forward(x.clone(), &mut Mode::Train { rng: &mut rng });
        let dx = batched.backward(dy.clone(), true, true).unwrap();
        let mut single = make();
        for n in 0..5 {
            let xi = x.slice(ndarray::s![n..n + 1, ..]).to_owned();
            let yi = single.forward(xi, &mut Mode::Train { rng: &mut rng });
            let dxi = single.backward(dy.slice(ndarray::s![n..n + 1, ..]).to_owned(), true, true).unwrap();
            assert!(yi.iter().zip(y.row(n)).all(|(a, b)| (a - b).abs() < 1e-5), "output of image {n}");
            assert!(dxi.iter().zip(dx.row(n)).all(|(a, b)| (a - b).abs() < 1e-5), "input gradient of image {n}");
        }
        for (a, b) in batched.params()[0].grads().iter().zip(single.params()[0].grads()) {
            assert!((a - b).abs() < 1e-3 * (1.0 + b.abs()), "weight gradient {a} vs {b}");
        }
    }

    #[test]
    fn a_batch_too_big_to_keep_its_columns_gets_the_same_gradients() {
        let make = || Conv2d::new(Shape::new(2, 9, 9), 3, 3, 1, 1, Init::HeUniform, &mut stream(5, 1));
        let x = crate::nn::gradcheck::random_input(4, 2 * 81, 1);
        let dy = crate::nn::gradcheck::random_input(4, 3 * 81, 2);
        let mut rng = stream(1, 1);
        let mut kept = make();
        let mut unfolded_again = make();
        unfolded_again.saved_cols_limit = 0;
        let run = |layer: &mut Conv2d, rng: &mut crate::rng::Rng| {
            let y = layer.forward(x.clone(), &mut Mode::Train { rng });
            let dx = layer.backward(dy.clone(), true, true).unwrap();
            (y, dx, layer.params()[0].grads().to_vec(), layer.params()[1].grads().to_vec())
        };
        let a = run(&mut kept, &mut rng);
        let b = run(&mut unfolded_again, &mut rng);
        assert!(matches!(unfolded_again.saved, None) && unfolded_again.saved_cols.is_empty(), "nothing kept over the limit");
        assert_eq!(a, b, "both paths compute exactly the same numbers");
    }

    #[test]
    fn matches_a_hand_computed_convolution() {
        // 1 channel 3×3 input, one 2×2 filter of ones, bias 1, no padding.
        let mut layer = Conv2d::new(Shape::new(1, 3, 3), 1, 2, 1, 0, Init::Uniform { scale: 0.0 }, &mut stream(1, 1));
        layer.params_mut()[0].values_mut().fill(1.0);
        layer.params_mut()[1].values_mut()[0] = 1.0;
        let x = Array2::from_shape_vec((1, 9), (1..=9).map(|v| v as f32).collect()).unwrap();
        let y = layer.forward(x, &mut Mode::Eval);
        assert_eq!(y.as_slice().unwrap(), &[13.0, 17.0, 25.0, 29.0]);
        assert_eq!(layer.output_shape(), Shape::new(1, 2, 2));
    }
}
