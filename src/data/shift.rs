//! Domain shift: the same classes seen through a different "camera". Each
//! shift is a pure function of the image, its strength and a per-image seed,
//! so a shifted dataset is reproducible and every run of a comparison sees
//! exactly the same target images. The geometric shift reuses augmentation's
//! warp; unlike augmentation, a shift is applied to every split (train,
//! validation and test) once, when a run is built.

use std::cell::RefCell;
use std::sync::{Arc, Weak};

use rand::Rng as _;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use super::augment::{warp, Warp};
use super::Dataset;
use crate::error::Result;
use crate::nn::Shape;
use crate::rng::stream;

/// A shifted dataset some trainer still holds, and what it was made from.
struct SharedShift {
    source: Weak<Dataset>,
    shift: DomainShift,
    shifted: Weak<Dataset>,
}

thread_local! {
    /// [`DomainShift::apply_shared`]'s copies (weak: a copy goes with its last trainer).
    static SHIFTED: RefCell<Vec<SharedShift>> = const { RefCell::new(Vec::new()) };
}

/// The seed of every shift's per-image randomness. Fixed (not the run's seed)
/// so that a shifted dataset is a dataset: the same images for every run.
const SHIFT_SEED: u64 = 0x5417_F7ED;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShiftKind {
    /// Light strokes on dark become dark strokes on light; `strength` is the blend (1 = full inversion).
    Invert,
    /// Every image turned by `strength` degrees (the same angle for all).
    Rotate,
    /// Gaussian noise with standard deviation `strength` on every pixel.
    Noise,
    /// Background clutter: `strength` × 10 random faint line segments per image.
    Clutter,
    /// Box blur of radius `strength` pixels (repeated three times ≈ Gaussian).
    Blur,
    /// Stroke thickening: grey-level dilation with a square of radius `strength` pixels.
    Thicken,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainShift {
    pub kind: ShiftKind,
    pub strength: f32,
}

impl DomainShift {
    /// The strength must be in the catalog's range for this kind of shift.
    pub fn validate(&self) -> Result<()> {
        let limit = crate::catalog::shift(self.kind).strength;
        limit.check(self.strength).map_err(|e| e.in_field(limit.field, &format!("{:?} shift strength", self.kind)))
    }

    /// Shifts one image (values in [0, 1]) in place; `index` seeds its randomness.
    pub fn apply(&self, image: &mut [f32], shape: Shape, index: usize) {
        let s = self.strength;
        match self.kind {
            ShiftKind::Invert => image.iter_mut().for_each(|v| *v = *v + s * (1.0 - 2.0 * *v)),
            ShiftKind::Rotate => {
                let src = image.to_vec();
                warp(&src, shape, Warp { angle_rad: s.to_radians(), ..Warp::IDENTITY }, image);
            }
            ShiftKind::Noise => {
                let mut rng = stream(SHIFT_SEED, index as u64);
                let normal = Normal::new(0.0f32, s).expect("validated standard deviation");
                image.iter_mut().for_each(|v| *v += normal.sample(&mut rng));
            }
            ShiftKind::Clutter => clutter(image, shape, (s * 10.0).round() as usize, index),
            ShiftKind::Blur => {
                for _ in 0..3 {
                    box_blur(image, shape, s as usize);
                }
            }
            ShiftKind::Thicken => dilate(image, shape, s as usize),
        }
        image.iter_mut().for_each(|v| *v = v.clamp(0.0, 1.0));
    }

    /// The whole dataset (every split) under this shift; pixels stay bytes.
    pub fn apply_to(&self, dataset: &Dataset) -> Result<Dataset> {
        self.validate()?;
        let n = dataset.shape.len();
        let mut out = dataset.clone();
        out.name = format!("{} ({})", dataset.name, self.describe());
        let mut image = vec![0f32; n];
        for (index, bytes) in out.pixels.chunks_exact_mut(n.max(1)).enumerate() {
            for (v, &b) in image.iter_mut().zip(bytes.iter()) {
                *v = b as f32 / 255.0;
            }
            self.apply(&mut image, dataset.shape, index);
            for (b, &v) in bytes.iter_mut().zip(&image) {
                *b = (v * 255.0).round() as u8;
            }
        }
        Ok(out)
    }

    /// [`DomainShift::apply_to`], shared: the runs of one comparison shift
    /// the same dataset the same way (domain shift's three runs, 70,000
    /// images each, ≈ 200 ms a time in the browser), so the shifted copy is
    /// made once and kept for as long as some trainer holds it.
    pub fn apply_shared(&self, dataset: &Arc<Dataset>) -> Result<Arc<Dataset>> {
        SHIFTED.with_borrow_mut(|memo| {
            memo.retain(|entry| entry.shifted.strong_count() > 0 && entry.source.strong_count() > 0);
            let mine = |e: &&SharedShift| e.shift == *self && std::ptr::eq(e.source.as_ptr(), Arc::as_ptr(dataset));
            // A live source at this address is this dataset (entries of dropped ones were just removed).
            if let Some(shifted) = memo.iter().find(mine).and_then(|e| e.shifted.upgrade()) {
                return Ok(shifted);
            }
            let shifted = Arc::new(self.apply_to(dataset)?);
            memo.push(SharedShift { source: Arc::downgrade(dataset), shift: *self, shifted: Arc::downgrade(&shifted) });
            Ok(shifted)
        })
    }

    pub fn describe(&self) -> String {
        match self.kind {
            ShiftKind::Invert => format!("inverted ×{}", self.strength),
            ShiftKind::Rotate => format!("rotated {}°", self.strength),
            ShiftKind::Noise => format!("noise σ {}", self.strength),
            ShiftKind::Clutter => format!("clutter {}", self.strength),
            ShiftKind::Blur => format!("blurred {} px", self.strength),
            ShiftKind::Thicken => format!("strokes thickened {} px", self.strength),
        }
    }
}

/// Draws `segments` faint random line segments (the "clutter" of a busy background).
fn clutter(image: &mut [f32], shape: Shape, segments: usize, index: usize) {
    let mut rng = stream(SHIFT_SEED, index as u64);
    let (h, w) = (shape.height as f32, shape.width as f32);
    for _ in 0..segments {
        let (x0, y0) = (rng.gen::<f32>() * w, rng.gen::<f32>() * h);
        let angle = rng.gen::<f32>() * std::f32::consts::TAU;
        let length = (0.15 + 0.25 * rng.gen::<f32>()) * w.max(h);
        let level = 0.3 + 0.4 * rng.gen::<f32>();
        let steps = (length * 2.0) as usize;
        for t in 0..=steps {
            let d = t as f32 / 2.0;
            let (x, y) = ((x0 + d * angle.cos()).round(), (y0 + d * angle.sin()).round());
            if x < 0.0 || y < 0.0 || x >= w || y >= h {
                continue;
            }
            let at = y as usize * shape.width + x as usize;
            for ch in 0..shape.channels {
                let p = &mut image[ch * shape.height * shape.width + at];
                *p = p.max(level);
            }
        }
    }
}

/// One pass of a separable box blur of radius `r` (edges use the pixels inside the image).
fn box_blur(image: &mut [f32], shape: Shape, r: usize) {
    if r == 0 {
        return;
    }
    let (h, w) = (shape.height, shape.width);
    let mut tmp = vec![0f32; h * w];
    for plane in image.chunks_exact_mut(h * w) {
        for y in 0..h {
            for x in 0..w {
                let (a, b) = (x.saturating_sub(r), (x + r).min(w - 1));
                tmp[y * w + x] = plane[y * w + a..=y * w + b].iter().sum::<f32>() / (b - a + 1) as f32;
            }
        }
        for y in 0..h {
            for x in 0..w {
                let (a, b) = (y.saturating_sub(r), (y + r).min(h - 1));
                plane[y * w + x] = (a..=b).map(|yy| tmp[yy * w + x]).sum::<f32>() / (b - a + 1) as f32;
            }
        }
    }
}

/// Grey-level dilation with a (2r+1)² square: each pixel becomes its neighbourhood's maximum.
fn dilate(image: &mut [f32], shape: Shape, r: usize) {
    if r == 0 {
        return;
    }
    let (h, w) = (shape.height, shape.width);
    for plane in image.chunks_exact_mut(h * w) {
        let src = plane.to_vec();
        for y in 0..h {
            for x in 0..w {
                let mut m = 0f32;
                for yy in y.saturating_sub(r)..=(y + r).min(h - 1) {
                    for xx in x.saturating_sub(r)..=(x + r).min(w - 1) {
                        m = m.max(src[yy * w + xx]);
                    }
                }
                plane[y * w + x] = m;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KINDS: [ShiftKind; 6] = [ShiftKind::Invert, ShiftKind::Rotate, ShiftKind::Noise, ShiftKind::Clutter, ShiftKind::Blur, ShiftKind::Thicken];

    /// A 1×12×12 image with a bright vertical bar, like a stroke on a dark background.
    fn bar() -> (Vec<f32>, Shape) {
        let shape = Shape::new(1, 12, 12);
        let mut img = vec![0f32; 144];
        for y in 2..10 {
            img[y * 12 + 5] = 1.0;
            img[y * 12 + 6] = 0.8;
        }
        (img, shape)
    }

    fn strong(kind: ShiftKind) -> DomainShift {
        let strength = match kind {
            ShiftKind::Rotate => 90.0,
            ShiftKind::Noise => 0.3,
            ShiftKind::Clutter => 1.0,
            ShiftKind::Blur | ShiftKind::Thicken => 1.0,
            ShiftKind::Invert => 1.0,
        };
        DomainShift { kind, strength }
    }

    #[test]
    fn strength_zero_is_the_identity() {
        for kind in KINDS {
            let (img, shape) = bar();
            let mut out = img.clone();
            DomainShift { kind, strength: 0.0 }.apply(&mut out, shape, 3);
            assert_eq!(out, img, "{kind:?}");
        }
    }

    #[test]
    fn every_shift_changes_the_image_stays_in_range_and_is_reproducible() {
        for kind in KINDS {
            let (img, shape) = bar();
            let (mut a, mut b) = (img.clone(), img.clone());
            strong(kind).apply(&mut a, shape, 7);
            strong(kind).apply(&mut b, shape, 7);
            assert_eq!(a, b, "{kind:?} is not a pure function of image and index");
            assert_ne!(a, img, "{kind:?} left the image unchanged");
            assert!(a.iter().all(|v| (0.0..=1.0).contains(v)), "{kind:?} left [0, 1]");
        }
    }

    #[test]
    fn each_shift_does_what_its_name_says() {
        let (img, shape) = bar();
        let sum = |v: &[f32]| v.iter().sum::<f32>();
        let mut inv = img.clone();
        strong(ShiftKind::Invert).apply(&mut inv, shape, 0);
        assert_eq!(inv[0], 1.0, "background becomes white");
        let mut thick = img.clone();
        strong(ShiftKind::Thicken).apply(&mut thick, shape, 0);
        assert!(sum(&thick) > 2.0 * sum(&img), "strokes got thicker");
        let mut blur = img.clone();
        strong(ShiftKind::Blur).apply(&mut blur, shape, 0);
        assert!(blur[5 * 12 + 5] < 1.0 && blur[5 * 12 + 3] > 0.0, "the bar spreads");
        let mut turned = img.clone();
        strong(ShiftKind::Rotate).apply(&mut turned, shape, 0);
        // A vertical bar turned 90° is horizontal: row 5 or 6 now holds most of it.
        let row = |v: &[f32], y: usize| v[y * 12..(y + 1) * 12].iter().sum::<f32>();
        assert!(row(&turned, 5) + row(&turned, 6) > 0.8 * sum(&img));
        let (mut n1, mut n2) = (img.clone(), img.clone());
        strong(ShiftKind::Noise).apply(&mut n1, shape, 1);
        strong(ShiftKind::Noise).apply(&mut n2, shape, 2);
        assert_ne!(n1, n2, "each image gets its own noise");
    }

    #[test]
    fn colour_images_shift_every_channel() {
        let shape = Shape::new(3, 8, 8);
        let img = vec![0.25f32; shape.len()];
        let mut out = img.clone();
        strong(ShiftKind::Invert).apply(&mut out, shape, 0);
        assert!(out.iter().all(|&v| (v - 0.75).abs() < 1e-6));
        let mut out = img.clone();
        strong(ShiftKind::Clutter).apply(&mut out, shape, 0);
        let plane = 64;
        assert_eq!(out[..plane], out[plane..2 * plane], "clutter is the same on every channel");
    }

    #[test]
    fn out_of_range_strengths_are_named() {
        let err = DomainShift { kind: ShiftKind::Blur, strength: 1.5 }.validate().unwrap_err().to_string();
        assert!(err.contains("whole number"), "{err}");
        let err = DomainShift { kind: ShiftKind::Noise, strength: f32::NAN }.validate().unwrap_err().to_string();
        assert!(err.contains("Noise shift strength"), "{err}");
        let err = DomainShift { kind: ShiftKind::Rotate, strength: 400.0 }.validate().unwrap_err().to_string();
        assert!(err.contains("-180 to 180 degrees"), "{err}");
    }

    #[test]
    fn runs_share_one_shifted_copy_while_some_run_holds_it() {
        let (image, shape) = bar();
        let bytes: Vec<u8> = image.iter().map(|v| (v * 255.0) as u8).collect();
        let source = Arc::new(Dataset {
            name: "bars".into(),
            shape,
            class_names: vec!["bar".into()],
            pixels: bytes.repeat(3),
            labels: vec![0; 3],
            splits: vec![crate::data::Split::Train, crate::data::Split::Validation, crate::data::Split::Test],
        });
        let (rotate, noise) = (strong(ShiftKind::Rotate), strong(ShiftKind::Noise));
        let first = rotate.apply_shared(&source).unwrap();
        assert_eq!(first.pixels, rotate.apply_to(&source).unwrap().pixels, "the same images as shifting alone");
        assert!(Arc::ptr_eq(&first, &rotate.apply_shared(&source).unwrap()), "a second run gets the same copy");
        assert!(!Arc::ptr_eq(&first, &noise.apply_shared(&source).unwrap()), "another shift is another copy");
        let other = Arc::new(Dataset { name: "other".into(), ..(*source).clone() });
        assert!(!Arc::ptr_eq(&first, &rotate.apply_shared(&other).unwrap()), "another dataset is another copy");
        let weak = Arc::downgrade(&first);
        drop(first);
        assert_eq!(weak.strong_count(), 0, "the copy goes with the last run holding it");
        assert_eq!(rotate.apply_shared(&source).unwrap().pixels, rotate.apply_to(&source).unwrap().pixels);
    }
}
