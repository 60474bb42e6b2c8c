//! Data augmentation: pure, seeded functions on one image (`C×H×W`, values
//! in [0, 1]), applied on the fly to each training batch — never to
//! validation or test images. Geometric changes (rotation, zoom, translation,
//! horizontal flip) compose into one affine warp sampled bilinearly, with
//! zero (the background of MNIST-like data) outside the image; pixel changes
//! (brightness/contrast, Gaussian noise, random erasing) follow. Every output
//! is clamped to [0, 1].

use rand::Rng as _;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::nn::Shape;
use crate::rng::Rng;

/// Each transform happens with its own probability `p` and up to its strength.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AugmentConfig {
    /// Rotation by a uniform angle in ±`rotation_deg` degrees.
    pub rotation_deg: f32,
    pub rotation_p: f32,
    /// Zoom by a uniform factor in 1 ± `zoom`.
    pub zoom: f32,
    pub zoom_p: f32,
    /// Shift by up to ±`translate` of the width/height (random crop with zero padding).
    pub translate: f32,
    pub translate_p: f32,
    /// Mirror left–right.
    pub flip_p: f32,
    /// Brightness shift in ±`brightness`, contrast factor in 1 ± `contrast`.
    pub brightness: f32,
    pub contrast: f32,
    pub color_p: f32,
    /// Additive Gaussian noise with this standard deviation.
    pub noise_std: f32,
    pub noise_p: f32,
    /// Random erasing (cutout): a rectangle of up to `erase_area` of the image set to 0.
    pub erase_area: f32,
    pub erase_p: f32,
}

impl AugmentConfig {
    /// Every probability in [0, 1] and every strength in the catalog's range.
    pub fn validate(&self) -> Result<()> {
        use crate::catalog::{limits, TRANSFORMS};
        let probabilities = [
            ("rotation_p", self.rotation_p),
            ("zoom_p", self.zoom_p),
            ("translate_p", self.translate_p),
            ("flip_p", self.flip_p),
            ("color_p", self.color_p),
            ("noise_p", self.noise_p),
            ("erase_p", self.erase_p),
        ];
        for (name, p) in probabilities {
            limits::PROBABILITY.check(p).map_err(|e| e.in_field(&format!("augment.{name}"), &format!("augmentation probability {name}")))?;
        }
        let strengths = [
            ("augment.rotation_deg", self.rotation_deg),
            ("augment.zoom", self.zoom),
            ("augment.translate", self.translate),
            ("augment.brightness", self.brightness),
            ("augment.contrast", self.contrast),
            ("augment.noise_std", self.noise_std),
            ("augment.erase_area", self.erase_area),
        ];
        for (field, v) in strengths {
            let limit = TRANSFORMS.iter().filter_map(|t| t.strength).find(|l| l.field == field).expect("every strength is in the catalog");
            limit.check(v)?;
        }
        Ok(())
    }

    /// A moderate set for handwriting: small rotations, zoom and shifts, light
    /// noise and erasing (no flips: a mirrored digit is another glyph).
    pub fn standard() -> Self {
        AugmentConfig {
            rotation_deg: 12.0,
            rotation_p: 0.8,
            zoom: 0.1,
            zoom_p: 0.8,
            translate: 0.1,
            translate_p: 0.8,
            noise_std: 0.05,
            noise_p: 0.3,
            erase_area: 0.15,
            erase_p: 0.3,
            ..Default::default()
        }
    }

    /// True when no transform can happen (so batches are left untouched).
    pub fn is_identity(&self) -> bool {
        let none = |p: f32, strength: f32| p == 0.0 || strength == 0.0;
        none(self.rotation_p, self.rotation_deg)
            && none(self.zoom_p, self.zoom)
            && none(self.translate_p, self.translate)
            && self.flip_p == 0.0
            && none(self.color_p, self.brightness.max(self.contrast))
            && none(self.noise_p, self.noise_std)
            && none(self.erase_p, self.erase_area)
    }
}

/// An affine map from output to input coordinates, about the image centre.
#[derive(Debug, Clone, Copy)]
pub struct Warp {
    pub angle_rad: f32,
    pub zoom: f32,
    pub shift_x: f32,
    pub shift_y: f32,
    pub flip: bool,
}

impl Warp {
    pub const IDENTITY: Warp = Warp { angle_rad: 0.0, zoom: 1.0, shift_x: 0.0, shift_y: 0.0, flip: false };
}

/// Warps `image` (shape `shape`) into `out`: output pixel (x, y) takes the
/// bilinear sample of the input at the pre-image of (x, y).
pub fn warp(image: &[f32], shape: Shape, w: Warp, out: &mut [f32]) {
    let (h, wd) = (shape.height, shape.width);
    let (cy, cx) = ((h as f64 - 1.0) / 2.0, (wd as f64 - 1.0) / 2.0);
    let (sin, cos) = (w.angle_rad as f64).sin_cos();
    let inv_zoom = 1.0 / w.zoom as f64;
    for ch in 0..shape.channels {
        let plane = &image[ch * h * wd..(ch + 1) * h * wd];
        let dst = &mut out[ch * h * wd..(ch + 1) * h * wd];
        for y in 0..h {
            for x in 0..wd {
                // Undo the shift, the rotation and the zoom, in that order.
                let mut dx = x as f64 - cx - w.shift_x as f64;
                let dy = y as f64 - cy - w.shift_y as f64;
                if w.flip {
                    dx = -dx;
                }
                let sx = (cos * dx + sin * dy) * inv_zoom + cx;
                let sy = (-sin * dx + cos * dy) * inv_zoom + cy;
                dst[y * wd + x] = bilinear(plane, h, wd, sx, sy);
            }
        }
    }
}

/// Bilinear sample with zero outside the image.
fn bilinear(plane: &[f32], h: usize, w: usize, x: f64, y: f64) -> f32 {
    // Snap values within rounding error of a pixel centre, so exact warps (90° turns) stay exact.
    let snap = |v: f64| if (v - v.round()).abs() < 1e-9 { v.round() } else { v };
    let (x, y) = (snap(x), snap(y));
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = ((x - x0) as f32, (y - y0) as f32);
    let at = |xi: f64, yi: f64| -> f32 {
        if xi < 0.0 || yi < 0.0 || xi >= w as f64 || yi >= h as f64 {
            0.0
        } else {
            plane[yi as usize * w + xi as usize]
        }
    };
    let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1.0, y0) * fx;
    let bottom = at(x0, y0 + 1.0) * (1.0 - fx) + at(x0 + 1.0, y0 + 1.0) * fx;
    top * (1.0 - fy) + bottom * fy
}

/// Augments one image in place with draws from `rng`.
pub fn augment(image: &mut [f32], shape: Shape, config: &AugmentConfig, rng: &mut Rng) {
    let mut chance = |p: f32| p > 0.0 && rng.gen::<f32>() < p;
    let mut w = Warp::IDENTITY;
    let rotate = chance(config.rotation_p) && config.rotation_deg > 0.0;
    let zoom = chance(config.zoom_p) && config.zoom > 0.0;
    let shift = chance(config.translate_p) && config.translate > 0.0;
    let flip = chance(config.flip_p);
    let color = chance(config.color_p) && (config.brightness > 0.0 || config.contrast > 0.0);
    let noise = chance(config.noise_p) && config.noise_std > 0.0;
    let erase = chance(config.erase_p) && config.erase_area > 0.0;
    if rotate {
        w.angle_rad = rng.gen_range(-config.rotation_deg..=config.rotation_deg).to_radians();
    }
    if zoom {
        w.zoom = rng.gen_range(1.0 - config.zoom..=1.0 + config.zoom);
    }
    if shift {
        w.shift_x = rng.gen_range(-config.translate..=config.translate) * shape.width as f32;
        w.shift_y = rng.gen_range(-config.translate..=config.translate) * shape.height as f32;
    }
    w.flip = flip;
    if rotate || zoom || shift || flip {
        let source = image.to_vec();
        warp(&source, shape, w, image);
    }
    if color {
        let b = if config.brightness > 0.0 { rng.gen_range(-config.brightness..=config.brightness) } else { 0.0 };
        let c = if config.contrast > 0.0 { rng.gen_range(1.0 - config.contrast..=1.0 + config.contrast) } else { 1.0 };
        let mean = image.iter().sum::<f32>() / image.len().max(1) as f32;
        for v in image.iter_mut() {
            *v = (mean + (*v - mean) * c + b).clamp(0.0, 1.0);
        }
    }
    if noise {
        let normal = Normal::new(0.0f32, config.noise_std).expect("validated");
        for v in image.iter_mut() {
            *v = (*v + normal.sample(rng)).clamp(0.0, 1.0);
        }
    }
    if erase {
        let (h, wd) = (shape.height, shape.width);
        let area = rng.gen_range(0.0..=config.erase_area) * (h * wd) as f32;
        let aspect = rng.gen_range(0.5f32..=2.0);
        let eh = ((area * aspect).sqrt().round() as usize).clamp(1, h);
        let ew = ((area / aspect).sqrt().round() as usize).clamp(1, wd);
        let (y0, x0) = (rng.gen_range(0..=h - eh), rng.gen_range(0..=wd - ew));
        for ch in 0..shape.channels {
            for y in y0..y0 + eh {
                image[ch * h * wd + y * wd + x0..ch * h * wd + y * wd + x0 + ew].fill(0.0);
            }
        }
    }
    for v in image.iter_mut() {
        *v = v.clamp(0.0, 1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream;

    fn random_image(shape: Shape, seed: u64) -> Vec<f32> {
        let mut rng = stream(seed, 50);
        (0..shape.len()).map(|_| rng.gen::<f32>()).collect()
    }

    fn everything() -> AugmentConfig {
        AugmentConfig {
            rotation_deg: 15.0,
            rotation_p: 1.0,
            zoom: 0.1,
            zoom_p: 1.0,
            translate: 0.1,
            translate_p: 1.0,
            flip_p: 0.5,
            brightness: 0.2,
            contrast: 0.3,
            color_p: 1.0,
            noise_std: 0.1,
            noise_p: 1.0,
            erase_area: 0.2,
            erase_p: 1.0,
        }
    }

    #[test]
    fn identity_settings_leave_images_unchanged() {
        for shape in [Shape::new(1, 28, 28), Shape::new(3, 32, 32)] {
            let original = random_image(shape, 1);
            let mut image = original.clone();
            // Strength zero with probability one, and probability zero with full strength: both identities.
            let zero_strength =
                AugmentConfig { rotation_p: 1.0, zoom_p: 1.0, translate_p: 1.0, color_p: 1.0, noise_p: 1.0, erase_p: 1.0, ..Default::default() };
            assert!(zero_strength.is_identity());
            augment(&mut image, shape, &zero_strength, &mut stream(2, 4));
            assert!(image == original, "zero strengths changed the image");
            let zero_probability =
                AugmentConfig { rotation_p: 0.0, zoom_p: 0.0, translate_p: 0.0, flip_p: 0.0, color_p: 0.0, noise_p: 0.0, erase_p: 0.0, ..everything() };
            augment(&mut image, shape, &zero_probability, &mut stream(2, 4));
            assert!(image == original, "zero probabilities changed the image");
            let mut warped = vec![0.0; shape.len()];
            warp(&original, shape, Warp::IDENTITY, &mut warped);
            assert!(warped == original, "the identity warp changed the image");
        }
    }

    #[test]
    fn four_quarter_turns_give_the_original() {
        for shape in [Shape::new(1, 28, 28), Shape::new(3, 32, 32), Shape::new(1, 5, 5)] {
            let original = random_image(shape, 3);
            let mut image = original.clone();
            let quarter = Warp { angle_rad: std::f32::consts::FRAC_PI_2, ..Warp::IDENTITY };
            for _ in 0..4 {
                let source = image.clone();
                warp(&source, shape, quarter, &mut image);
            }
            for (a, b) in image.iter().zip(&original) {
                assert!((a - b).abs() < 1e-5, "{a} vs {b}");
            }
            // And one quarter turn really turns: it is not the identity.
            let mut once = vec![0.0; shape.len()];
            warp(&original, shape, quarter, &mut once);
            assert!(once != original, "a quarter turn left the image unchanged");
        }
    }

    #[test]
    fn same_seed_same_result_and_outputs_stay_in_range() {
        for shape in [Shape::new(1, 28, 28), Shape::new(3, 32, 32)] {
            let original = random_image(shape, 5);
            let run = |seed| {
                let mut image = original.clone();
                augment(&mut image, shape, &everything(), &mut stream(seed, 4));
                image
            };
            assert!(run(7) == run(7), "same seed, different result");
            assert!(run(7) != run(8), "different seeds, same result");
            assert!(run(9).iter().all(|v| (0.0..=1.0).contains(v)));
            assert_eq!(run(9).len(), shape.len());
        }
    }

    #[test]
    fn bad_settings_are_named() {
        let err = AugmentConfig { rotation_p: 1.5, ..Default::default() }.validate().unwrap_err().to_string();
        assert!(err.contains("rotation_p"), "{err}");
        assert!(AugmentConfig { zoom: 2.0, ..Default::default() }.validate().is_err());
    }
}
