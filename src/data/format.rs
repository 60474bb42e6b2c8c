//! The on-disk dataset format (`.ftld`, usually gzip-compressed as `.ftld.gz`).
//!
//! All integers little-endian:
//!
//! | field        | type            | notes                                      |
//! |--------------|-----------------|--------------------------------------------|
//! | magic        | 4 bytes         | `FTLD`                                     |
//! | version      | u16             | 1                                          |
//! | channels     | u16             | 1 (grey) or 3 (RGB)                        |
//! | height       | u16             | 1..=256                                    |
//! | width        | u16             | 1..=256                                    |
//! | count        | u32             | number of images, ≥ 1                      |
//! | classes      | u16             | 2..=256                                    |
//! | class names  | classes × (u8 length + UTF-8) | non-empty, unique            |
//! | pixels       | count·C·H·W u8  | each image channel-major, row by row       |
//! | labels       | count u8        | each < classes                             |
//! | splits       | count u8        | 0 train, 1 validation, 2 test              |
//!
//! Nothing may follow the splits. Decoding checks every field and names the
//! file and the field in its error.

use std::io::{Read, Write};

use super::{Dataset, Split};
use crate::error::{Error, Result};
use crate::nn::Shape;

pub const MAGIC: &[u8; 4] = b"FTLD";
pub const VERSION: u16 = 1;
const HEADER_LEN: usize = 4 + 2 + 2 + 2 + 2 + 4 + 2;
/// The largest decompressed file we accept, so a hostile gzip cannot exhaust memory.
pub const MAX_DECODED_BYTES: u64 = 512 << 20;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The image shapes a dataset file can hold: grey or colour, 1 to 256 pixels a side.
pub fn check_image_shape(shape: Shape) -> std::result::Result<(), String> {
    if shape.channels != 1 && shape.channels != 3 {
        return Err(format!("channels is {}, expected 1 (grey) or 3 (colour)", shape.channels));
    }
    for (name, v) in [("height", shape.height), ("width", shape.width)] {
        if !(1..=256).contains(&v) {
            return Err(format!("{name} is {v}, expected 1 to 256 pixels"));
        }
    }
    Ok(())
}

/// Serialises a dataset (uncompressed). Panics on a dataset that breaks the
/// format's limits, which is a bug in whoever built it.
pub fn encode_dataset(dataset: &Dataset) -> Vec<u8> {
    let s = dataset.shape;
    let mut out = Vec::with_capacity(HEADER_LEN + dataset.pixels.len() + 2 * dataset.len() + 16 * dataset.classes());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    for dim in [s.channels, s.height, s.width] {
        out.extend_from_slice(&u16::try_from(dim).expect("dimension fits u16").to_le_bytes());
    }
    out.extend_from_slice(&u32::try_from(dataset.len()).expect("count fits u32").to_le_bytes());
    out.extend_from_slice(&u16::try_from(dataset.classes()).expect("class count fits u16").to_le_bytes());
    for name in &dataset.class_names {
        out.push(u8::try_from(name.len()).expect("class name ≤ 255 bytes"));
        out.extend_from_slice(name.as_bytes());
    }
    out.extend_from_slice(&dataset.pixels);
    out.extend_from_slice(&dataset.labels);
    out.extend(dataset.splits.iter().map(|&s| s as u8));
    out
}

/// Gzip with a fixed header (no file name, no timestamp), so the same dataset
/// always compresses to the same bytes.
pub fn encode_dataset_gz(dataset: &Dataset) -> Vec<u8> {
    let mut encoder = flate2::GzBuilder::new().mtime(0).write(Vec::new(), flate2::Compression::best());
    encoder.write_all(&encode_dataset(dataset)).expect("writing to memory");
    encoder.finish().expect("writing to memory")
}

/// Parses a dataset file, gzip-compressed or not. `source_name` (a file name
/// or URL) appears in every error.
pub fn decode_dataset(source_name: &str, bytes: &[u8]) -> Result<Dataset> {
    let err = |what: String| Error::dataset(source_name, what);
    let raw;
    let data: &[u8] = if bytes.starts_with(&GZIP_MAGIC) {
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .take(MAX_DECODED_BYTES + 1)
            .read_to_end(&mut decoded)
            .map_err(|e| err(format!("the gzip compression is damaged ({e})")))?;
        if decoded.len() as u64 > MAX_DECODED_BYTES {
            return Err(err(format!("decompresses to more than {} MB", MAX_DECODED_BYTES >> 20)));
        }
        raw = decoded;
        &raw
    } else {
        bytes
    };
    let mut r = Reader { data, at: 0, err: &err };

    let magic = r.take(4, "magic")?;
    if magic != MAGIC {
        return Err(err(format!("not a Fine-Tune Lab dataset: the file starts with {:?}, expected \"FTLD\"", String::from_utf8_lossy(magic))));
    }
    let version = r.u16("version")?;
    if version != VERSION {
        return Err(err(format!("format version {version} is not supported (this build reads version {VERSION})")));
    }
    let channels = r.u16("channels")? as usize;
    let height = r.u16("height")? as usize;
    let width = r.u16("width")? as usize;
    check_image_shape(Shape::new(channels, height, width)).map_err(err)?;
    let count = r.u32("count")? as usize;
    if count == 0 {
        return Err(err("count is 0: the dataset has no images".into()));
    }
    let classes = r.u16("class count")? as usize;
    if !(2..=256).contains(&classes) {
        return Err(err(format!("class count is {classes}, expected 2 to 256")));
    }
    let mut class_names = Vec::with_capacity(classes);
    for i in 0..classes {
        let len = r.take(1, "class name length")?[0] as usize;
        let bytes = r.take(len, "class name")?;
        let name = std::str::from_utf8(bytes).map_err(|_| err(format!("class name {i} is not valid UTF-8")))?;
        if name.trim().is_empty() {
            return Err(err(format!("class name {i} is empty")));
        }
        if class_names.iter().any(|n| n == name) {
            return Err(err(format!("class name '{name}' appears twice")));
        }
        class_names.push(name.to_string());
    }
    let shape = Shape::new(channels, height, width);
    let body = count.checked_mul(shape.len() + 2).ok_or_else(|| err(format!("count {count} is too large")))?;
    let remaining = data.len() - r.at;
    if remaining < body {
        return Err(err(format!(
            "truncated: the header promises {count} images of {shape} ({body} bytes of pixels, labels and splits) but only {remaining} bytes follow"
        )));
    }
    if remaining > body {
        return Err(err(format!("{} unexpected bytes after the last image's split code", remaining - body)));
    }
    let pixels = r.take(count * shape.len(), "pixels")?.to_vec();
    let labels = r.take(count, "labels")?.to_vec();
    if let Some((i, &label)) = labels.iter().enumerate().find(|(_, &l)| l as usize >= classes) {
        return Err(err(format!("label of image {i} is {label}, but there are only {classes} classes (0 to {})", classes - 1)));
    }
    let splits = r
        .take(count, "splits")?
        .iter()
        .enumerate()
        .map(|(i, &code)| {
            Split::from_code(code).ok_or_else(|| err(format!("split code of image {i} is {code}, expected 0 (train), 1 (validation) or 2 (test)")))
        })
        .collect::<Result<Vec<_>>>()?;
    let name = source_name.rsplit('/').next().unwrap_or(source_name).to_string();
    Ok(Dataset { name, shape, class_names, pixels, labels, splits })
}

struct Reader<'a, F: Fn(String) -> Error> {
    data: &'a [u8],
    at: usize,
    err: &'a F,
}

impl<'a, F: Fn(String) -> Error> Reader<'a, F> {
    fn take(&mut self, n: usize, field: &str) -> Result<&'a [u8]> {
        if self.data.len() - self.at < n {
            return Err((self.err)(format!("truncated in the header: the file ends inside field '{field}' at byte {}", self.at)));
        }
        let slice = &self.data[self.at..self.at + n];
        self.at += n;
        Ok(slice)
    }
    fn u16(&mut self, field: &str) -> Result<u16> {
        Ok(u16::from_le_bytes(self.take(2, field)?.try_into().expect("two bytes")))
    }
    fn u32(&mut self, field: &str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(4, field)?.try_into().expect("four bytes")))
    }
}
