//! The kernel conformance suite: every implementation against the scalar
//! reference (and the reference against a float64 triple loop) on random
//! shapes, including empty, 1×1 and sizes that are not multiples of any tile
//! or vector width. Run natively by `tests/kernels.rs` and in the browser by
//! `tests/web.rs`, for every implementation the build has.
//!
//! It imports nothing above `kernels`: the convolution is checked as the
//! plan the layer uses, on slices, so a bug here is a kernel bug.

use rand::{Rng as _, SeedableRng};

use super::{scalar, ConvAlgorithm, ConvGeometry, ConvPlan, Implementation};

/// The generator the crate uses everywhere (`crate::rng::Rng`), named here
/// directly so the suite depends on nothing but the kernels.
type Rng = rand_pcg::Pcg64;

/// (m, n, k) cases: empty dimensions, 1×1, tails on every side of the 4×8
/// tile, and the shapes LeNet-5 and the MLP use.
pub const GEMM_SHAPES: &[(usize, usize, usize)] = &[
    (0, 0, 0),
    (0, 5, 3),
    (4, 0, 3),
    (3, 4, 0),
    (1, 1, 1),
    (7, 9, 13),
    (8, 8, 8),
    (9, 17, 5),
    (16, 16, 16),
    (33, 17, 65),
    (6, 25, 300),
    (6, 784, 25),
    (16, 100, 150),
    (150, 100, 16),
    (32, 120, 400),
    (64, 128, 784),
];

fn random(len: usize, rng: &mut Rng) -> Vec<f32> {
    (0..len).map(|_| rng.gen_range(-1.0f32..1.0)).collect()
}

fn close(got: &[f32], expected: &[f32], k: usize) -> Result<(), String> {
    // Different summation orders (and fused multiply-add) differ by rounding
    // only: allow a few ulps per accumulated product.
    let tolerance = 4.0 * f32::EPSILON * (k.max(1) as f32);
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        if (g - e).abs() > tolerance * (1.0 + e.abs()) * 4.0 {
            return Err(format!("element {i}: {g} vs reference {e}"));
        }
    }
    Ok(())
}

fn naive(m: usize, n: usize, k: usize, a: impl Fn(usize, usize) -> f32, b: impl Fn(usize, usize) -> f32) -> Vec<f32> {
    let mut c = vec![0.0f32; m * n];
    for i in 0..m {
        for j in 0..n {
            c[i * n + j] = (0..k).map(|p| a(i, p) as f64 * b(p, j) as f64).sum::<f64>() as f32;
        }
    }
    c
}

/// Checks the scalar reference against float64 sums (the gathered form
/// with the offsets of a stored matrix: `rows[i] = i·k`, `cols[p] = p`).
pub fn check_reference() -> Result<(), String> {
    let mut rng = Rng::seed_from_u64(11);
    for &(m, n, k) in GEMM_SHAPES {
        let a = random(m * k, &mut rng);
        let b = random(k * n, &mut rng);
        let expected = naive(m, n, k, |i, p| a[i * k + p], |p, j| b[p * n + j]);
        let mut c = vec![1.0; m * n];
        scalar::gemm_nn(m, n, k, &a, &b, &mut c, false);
        close(&c, &expected, k).map_err(|e| format!("scalar nn {m}×{n}×{k}: {e}"))?;
        let (rows, cols): (Vec<u32>, Vec<u32>) = ((0..m as u32).map(|i| i * k as u32).collect(), (0..k as u32).collect());
        let mut c = vec![1.0; m * n];
        scalar::gemm_gathered(m, n, k, &a, &rows, &cols, &b, false, &mut c, false);
        close(&c, &expected, k).map_err(|e| format!("scalar gathered {m}×{n}×{k}: {e}"))?;
    }
    Ok(())
}

/// Checks `implementation` against the scalar reference for all three GEMM
/// forms, with and without accumulation. The active implementation is restored afterwards.
pub fn check_gemm(implementation: Implementation) -> Result<(), String> {
    let previous = super::active();
    let mut rng = Rng::seed_from_u64(12);
    let result = (|| {
        for &(m, n, k) in GEMM_SHAPES {
            let a = random(m * k, &mut rng);
            let b = random(k * n, &mut rng);
            let c0 = random(m * n, &mut rng);
            for accumulate in [false, true] {
                for form in ["nn", "nt", "tn", "tt"] {
                    let run = |which| {
                        assert!(super::set_active(which));
                        let mut c = c0.clone();
                        match form {
                            // The same buffers read as A[m×k]/B[k×n], or stored transposed (A as k×m, B as n×k).
                            "nn" => super::gemm_nn(m, n, k, &a, &b, &mut c, accumulate),
                            "nt" => super::gemm_nt(m, n, k, &a, &b, &mut c, accumulate),
                            "tn" => super::gemm_tn(m, n, k, &a, &b, &mut c, accumulate),
                            _ => super::gemm_tt(m, n, k, &a, &b, &mut c, accumulate),
                        }
                        c
                    };
                    let got = run(implementation);
                    let expected = run(Implementation::Scalar);
                    close(&got, &expected, k).map_err(|e| format!("{} gemm_{form} {m}×{n}×{k} accumulate={accumulate}: {e}", implementation.name()))?;
                }
                // A gathered A: scattered, overlapping offsets into one buffer, as a
                // convolution's patches overlap; B stored as is and transposed.
                let source = random(2 * (m + k) + 1, &mut rng);
                let rows: Vec<u32> = (0..m).map(|_| rng.gen_range(0..=(m + k) as u32)).collect();
                let cols: Vec<u32> = (0..k).map(|_| rng.gen_range(0..=(m + k) as u32)).collect();
                for b_transposed in [false, true] {
                    let run = |which| {
                        assert!(super::set_active(which));
                        let mut c = c0.clone();
                        super::gemm_gathered(m, n, k, &source, &rows, &cols, &b, b_transposed, &mut c, accumulate);
                        c
                    };
                    close(&run(implementation), &run(Implementation::Scalar), k)
                        .map_err(|e| format!("{} gemm_gathered {m}×{n}×{k} b_transposed={b_transposed} accumulate={accumulate}: {e}", implementation.name()))?;
                }
            }
        }
        Ok(())
    })();
    super::set_active(previous);
    result
}

/// im2col against its definition, and `<im2col(x), y> = <x, col2im(y)>`:
/// col2im is exactly the adjoint, so the convolution's input gradient is
/// right whenever its forward pass is. Columns are laid out with a row stride
/// wider than one image, as a batch lays them.
pub fn check_im2col() -> Result<(), String> {
    let mut rng = Rng::seed_from_u64(13);
    for g in [
        ConvGeometry { channels: 1, height: 5, width: 5, kernel_h: 3, kernel_w: 3, stride: 1, padding: 1 },
        ConvGeometry { channels: 3, height: 7, width: 6, kernel_h: 2, kernel_w: 2, stride: 2, padding: 0 },
        ConvGeometry { channels: 2, height: 4, width: 9, kernel_h: 5, kernel_w: 5, stride: 3, padding: 2 },
        ConvGeometry { channels: 1, height: 28, width: 28, kernel_h: 5, kernel_w: 5, stride: 1, padding: 2 },
        ConvGeometry { channels: 1, height: 6, width: 6, kernel_h: 3, kernel_w: 3, stride: 2, padding: 3 },
        ConvGeometry { channels: 6, height: 14, width: 14, kernel_h: 5, kernel_w: 5, stride: 1, padding: 0 },
        ConvGeometry { channels: 2, height: 9, width: 13, kernel_h: 3, kernel_w: 3, stride: 1, padding: 1 },
        ConvGeometry { channels: 1, height: 4, width: 33, kernel_h: 3, kernel_w: 7, stride: 1, padding: 3 },
    ] {
        let (k, p) = (g.patch_len(), g.patches());
        let ld = p + 3;
        let x = random(g.input_len(), &mut rng);
        let y = random(k * ld, &mut rng);
        let mut cols = vec![0.0; k * ld];
        super::im2col(&g, &x, &mut cols, ld);
        let ow = g.out_width();
        for r in 0..k {
            let (ch, ky, kx) = (r / (g.kernel_h * g.kernel_w), (r / g.kernel_w) % g.kernel_h, r % g.kernel_w);
            for q in 0..p {
                let iy = ((q / ow) * g.stride + ky) as isize - g.padding as isize;
                let ix = ((q % ow) * g.stride + kx) as isize - g.padding as isize;
                let inside = iy >= 0 && ix >= 0 && (iy as usize) < g.height && (ix as usize) < g.width;
                let expected = if inside { x[ch * g.height * g.width + iy as usize * g.width + ix as usize] } else { 0.0 };
                if cols[r * ld + q] != expected {
                    return Err(format!("{g:?}: im2col row {r} column {q} is {}, expected {expected}", cols[r * ld + q]));
                }
            }
        }
        let mut back = vec![0.0; g.input_len()];
        super::col2im(&g, &y, 0, &mut back, ld);
        // With the margin SIMD builds sum rows in registers: the same image within rounding.
        let m = super::COL2IM_MARGIN;
        let mut padded = vec![f32::NAN; m];
        padded.extend_from_slice(&y);
        padded.extend(std::iter::repeat_n(f32::NAN, m));
        let mut summed = vec![0.0; g.input_len()];
        super::col2im(&g, &padded, m, &mut summed, ld);
        if let Some((i, (a, b))) = back.iter().zip(&summed).enumerate().find(|(_, (a, b))| (*a - *b).abs() > 1e-5 * (1.0 + a.abs())) {
            return Err(format!("{g:?}: col2im with a margin gives {b} at {i}, without {a}"));
        }
        let lhs: f64 = (0..k).flat_map(|r| (0..p).map(move |q| r * ld + q)).map(|i| cols[i] as f64 * y[i] as f64).sum();
        let rhs: f64 = x.iter().zip(&back).map(|(a, b)| *a as f64 * *b as f64).sum();
        if (lhs - rhs).abs() > 1e-4 {
            return Err(format!("{g:?}: col2im is not the adjoint: {lhs} vs {rhs}"));
        }
    }
    Ok(())
}

/// The convolution plan with `which` against the scalar reference's plan:
/// output, input gradient, weight and bias gradients, on shapes that take the
/// direct path in SIMD builds and ones that take the gathered GEMM (padded
/// and strided too), an empty batch, one image, and 1×1 kernels. Each shape
/// is run with a dense output gradient and with one mostly zeros (one value in
/// eight, as after a ReLU and a max pool; without an input gradient when
/// padded, as for a first layer), which SIMD builds may handle sparsely. A pass that keeps nothing (evaluation) must give exactly the
/// training pass's output. Returns how many runs took the direct path, and
/// how many backward passes the sparse one.
pub fn check_conv_plan(which: Implementation) -> Result<(usize, usize), String> {
    let previous = super::active();
    let (mut direct, mut sparse) = (0, 0);
    let mut rng = Rng::seed_from_u64(14);
    // (channels, height, width, filters, kernel, padding, stride, batch)
    let cases = [
        (1, 28, 28, 6, 5, 2, 1, 3),
        (3, 32, 32, 6, 5, 2, 1, 3),
        (2, 20, 22, 4, 3, 1, 1, 3),
        (1, 9, 17, 3, 7, 3, 1, 3),
        (6, 14, 14, 16, 5, 0, 1, 3),
        (3, 9, 11, 5, 3, 1, 2, 3),
        (2, 7, 7, 9, 2, 0, 3, 3),
        (1, 28, 28, 6, 5, 2, 1, 0),
        (6, 14, 14, 16, 5, 0, 1, 1),
        (2, 3, 5, 1, 1, 0, 1, 2),
        (3, 13, 11, 7, 5, 0, 2, 2),
        (2, 9, 10, 5, 5, 0, 1, 4),
    ];
    let mut result = Ok(());
    'cases: for (channels, height, width, filters, kernel, padding, stride, batch) in cases {
        let g = ConvGeometry { channels, height, width, kernel_h: kernel, kernel_w: kernel, stride, padding };
        let (k, p) = (g.patch_len(), g.patches());
        let x = random(batch * g.input_len(), &mut rng);
        let weight = random(filters * k, &mut rng);
        let bias = random(filters, &mut rng);
        for mostly_zeros in [false, true] {
            let run = |implementation| {
                super::set_active(implementation);
                let mut plan = ConvPlan::new(g, filters);
                let algorithm = plan.algorithm(batch);
                let mut y = vec![f32::NAN; batch * plan.output_len()];
                plan.forward(batch, &x, &weight, &bias, &mut y, true);
                // Any gradient that depends on the output; the sparse one keeps every eighth value.
                let dy: Vec<f32> = y.iter().enumerate().map(|(i, v)| if mostly_zeros && (i * 5 + i / 7) % 8 != 0 { 0.0 } else { v.sin() }).collect();
                // A padded convolution's mostly-zero gradient comes without an input gradient,
                // as for a first layer (the sparse pass writes one only without padding).
                let want_dx = !mostly_zeros || padding == 0;
                let (mut dw, mut db, mut dx) = (vec![0.0; weight.len()], vec![0.0; filters], vec![f32::NAN; x.len()]);
                plan.backward(&x, &weight, &dy, Some((&mut dw, &mut db)), want_dx.then_some(&mut dx[..]));
                if !want_dx {
                    dx.clear();
                }
                let took_sparse = plan.backward_was_sparse();
                let mut evaluated = vec![f32::NAN; y.len()];
                plan.forward(batch, &x, &weight, &bias, &mut evaluated, false);
                let same = evaluated.iter().zip(&y).all(|(a, b)| a.to_bits() == b.to_bits());
                (algorithm, y, dx, dw, db, same, took_sparse)
            };
            let reference = run(Implementation::Scalar);
            let got = run(which);
            let checks = if reference.0 != ConvAlgorithm::Im2col || reference.6 {
                Err(format!("the reference took {:?} (sparse: {}), not dense im2col", reference.0, reference.6))
            } else if !got.5 {
                Err("an evaluation pass differs from the training pass".to_string())
            } else if got.6 && !mostly_zeros {
                Err("a dense gradient took the sparse backward pass".to_string())
            } else {
                close(&got.1, &reference.1, k)
                    .map_err(|e| format!("output: {e}"))
                    .and_then(|_| close(&got.2, &reference.2, filters * kernel * kernel).map_err(|e| format!("input gradient: {e}")))
                    .and_then(|_| close(&got.3, &reference.3, batch * p).map_err(|e| format!("weight gradient: {e}")))
                    .and_then(|_| close(&got.4, &reference.4, batch * p).map_err(|e| format!("bias gradient: {e}")))
            };
            if let Err(e) = checks {
                result = Err(format!(
                    "{} conv {channels}×{height}×{width} → {filters} filters {kernel}×{kernel} pad {padding} stride {stride}, batch {batch}, {} gradient ({:?}{}): {e}",
                    which.name(),
                    if mostly_zeros { "mostly-zero" } else { "dense" },
                    got.0,
                    if got.6 { ", sparse backward" } else { "" }
                ));
                break 'cases;
            }
            if got.0 == ConvAlgorithm::Direct && batch > 0 {
                direct += 1;
            }
            sparse += usize::from(got.6);
        }
    }
    super::set_active(previous);
    result.map(|_| (direct, sparse))
}

/// 2×2 max pooling by `which` against the reference, exactly: maxima and
/// their indices, on images full of ties (a few distinct values) and some
/// NaNs, with widths that leave every possible tail after whole vectors;
/// plain and rectifying (a ReLU handed to the pool); and the backward pass
/// from those indices, bit for bit.
pub fn check_max_pool(which: Implementation) -> Result<(), String> {
    let previous = super::active();
    let mut rng = Rng::seed_from_u64(15);
    let mut result = Ok(());
    for (channels, h, w) in [(1, 28, 28), (6, 14, 14), (2, 5, 9), (3, 2, 2), (1, 1, 1), (2, 16, 17), (1, 4, 22), (16, 10, 10), (2, 7, 11), (1, 3, 5), (2, 4, 7)]
    {
        let image: Vec<f32> =
            (0..channels * h * w).map(|_| if rng.gen_range(0..40) == 0 { f32::NAN } else { rng.gen_range(0..4) as f32 * 0.5 - 1.0 }).collect();
        let outputs = channels * (h / 2) * (w / 2);
        for rectify in [false, true] {
            let run = |implementation| {
                super::set_active(implementation);
                let (mut out, mut arg) = (vec![0.0f32; outputs], vec![0u32; outputs]);
                super::max_pool_2x2(&image, &mut out, &mut arg, channels, h, w, rectify);
                (out, arg)
            };
            let (expected, got) = (run(Implementation::Scalar), run(which));
            let same_values = expected.0.iter().zip(&got.0).all(|(a, b)| a.to_bits() == b.to_bits());
            let what = if rectify { "max_pool_2x2 (rectifying)" } else { "max_pool_2x2" };
            if !same_values || expected.1 != got.1 {
                result = Err(format!("{} {what} {channels}×{h}×{w}: maxima or their indices differ from the reference", which.name()));
            }
            // Backward from those indices; −0.0 among the gradients, and dx
            // starting as NaN so a value left unwritten shows.
            let dy: Vec<f32> = (0..outputs).map(|i| if i % 7 == 3 { -0.0 } else { rng.gen_range(-8..8) as f32 * 0.25 }).collect();
            let backward = |implementation| {
                super::set_active(implementation);
                let mut dx = vec![f32::NAN; image.len()];
                super::max_pool_2x2_backward(&dy, &expected.1, &mut dx, channels, h, w);
                dx.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            };
            if backward(Implementation::Scalar) != backward(which) {
                result = Err(format!("{} {what} {channels}×{h}×{w}: the input gradient differs from the reference", which.name()));
            }
        }
        if result.is_err() {
            break;
        }
    }
    super::set_active(previous);
    result
}
