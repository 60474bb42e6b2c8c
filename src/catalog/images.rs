//! The catalog's choices that change images: domain shifts (applied to every
//! split of a dataset) and augmentation transforms and presets (applied to
//! training batches), each with the range of its strength.

use serde::Serialize;

use super::{Choice, Limit};
use crate::data::augment::AugmentConfig;
use crate::data::shift::ShiftKind;

/// A domain shift: its range, a sensible default strength, and how a run's
/// description names the shifted images ("digits rotated 45°").
#[derive(Debug, Clone, Serialize)]
pub struct ShiftChoice {
    pub name: &'static str,
    pub kind: ShiftKind,
    pub label: &'static str,
    pub adjective: &'static str,
    pub strength: Limit,
}

const fn shift_strength(default: f64, min: f64, max: f64, whole: bool, unit: &'static str) -> Limit {
    Limit { field: "shift.strength", label: "shift strength", default: Some(default), min, max: Some(max), whole, unit, ..Limit::ANY }
}

pub const SHIFTS: &[ShiftChoice] = &[
    ShiftChoice {
        name: "rotate",
        kind: ShiftKind::Rotate,
        label: "Rotation",
        adjective: "rotated",
        strength: shift_strength(45.0, -180.0, 180.0, false, " degrees"),
    },
    ShiftChoice {
        name: "invert",
        kind: ShiftKind::Invert,
        label: "Colour inversion",
        adjective: "inverted",
        strength: shift_strength(1.0, 0.0, 1.0, false, " (1 = fully inverted)"),
    },
    ShiftChoice {
        name: "noise",
        kind: ShiftKind::Noise,
        label: "Background noise",
        adjective: "noisy",
        strength: shift_strength(0.3, 0.0, 1.0, false, " (noise standard deviation)"),
    },
    ShiftChoice {
        name: "clutter",
        kind: ShiftKind::Clutter,
        label: "Background clutter",
        adjective: "cluttered",
        strength: shift_strength(2.0, 0.0, 5.0, false, " (tens of line segments)"),
    },
    ShiftChoice { name: "blur", kind: ShiftKind::Blur, label: "Blur", adjective: "blurred", strength: shift_strength(1.0, 0.0, 3.0, true, " pixels") },
    ShiftChoice {
        name: "thicken",
        kind: ShiftKind::Thicken,
        label: "Thicker strokes",
        adjective: "thickened strokes",
        strength: shift_strength(1.0, 0.0, 3.0, true, " pixels"),
    },
];

pub fn shift(kind: ShiftKind) -> &'static ShiftChoice {
    SHIFTS.iter().find(|s| s.kind == kind).expect("every shift kind is in the catalog")
}

/// One augmentation transform: its strength field (with the core's limit and
/// the range a slider offers) and the field of its probability. Contrast has
/// no probability of its own: it happens together with brightness.
#[derive(Debug, Clone, Serialize)]
pub struct Transform {
    pub name: &'static str,
    pub label: &'static str,
    pub strength: Option<Limit>,
    /// The part of the allowed range a slider offers (the useful part).
    pub slider_max: f64,
    pub slider_step: f64,
    pub probability: Option<&'static str>,
}

const fn strength(field: &'static str, label: &'static str, max: f64) -> Option<Limit> {
    Some(Limit { field, label, default: Some(0.0), min: 0.0, max: Some(max), ..Limit::ANY })
}

pub const TRANSFORMS: &[Transform] = &[
    Transform {
        name: "rotation",
        label: "Rotation ±",
        strength: strength("augment.rotation_deg", "rotation", 180.0),
        slider_max: 45.0,
        slider_step: 1.0,
        probability: Some("rotation_p"),
    },
    Transform {
        name: "zoom",
        label: "Zoom ±",
        strength: strength("augment.zoom", "zoom", 0.9),
        slider_max: 0.5,
        slider_step: 0.01,
        probability: Some("zoom_p"),
    },
    Transform {
        name: "translate",
        label: "Shift ±",
        strength: strength("augment.translate", "shift", 0.5),
        slider_max: 0.3,
        slider_step: 0.01,
        probability: Some("translate_p"),
    },
    Transform { name: "flip", label: "Mirror left–right", strength: None, slider_max: 0.0, slider_step: 0.0, probability: Some("flip_p") },
    Transform {
        name: "brightness",
        label: "Brightness ±",
        strength: strength("augment.brightness", "brightness", 1.0),
        slider_max: 0.5,
        slider_step: 0.01,
        probability: Some("color_p"),
    },
    Transform {
        name: "contrast",
        label: "Contrast ±",
        strength: strength("augment.contrast", "contrast", 1.0),
        slider_max: 0.5,
        slider_step: 0.01,
        probability: None,
    },
    Transform {
        name: "noise",
        label: "Noise σ",
        strength: strength("augment.noise_std", "noise", 1.0),
        slider_max: 0.3,
        slider_step: 0.01,
        probability: Some("noise_p"),
    },
    Transform {
        name: "erase",
        label: "Erasing, area",
        strength: strength("augment.erase_area", "erasing", 1.0),
        slider_max: 0.5,
        slider_step: 0.01,
        probability: Some("erase_p"),
    },
];

/// Ready-made augmentation settings.
pub fn augment_presets() -> Vec<Choice<AugmentConfig>> {
    vec![
        Choice { name: "standard", label: "Standard set (handwriting)", spec: AugmentConfig::standard() },
        Choice { name: "none", label: "None", spec: AugmentConfig::default() },
    ]
}
