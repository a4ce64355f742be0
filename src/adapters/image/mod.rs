//! Image intake: from a URL or base64 to checked, decoded, downscaled pixels.
//!
//! The order is what keeps a hostile image cheap: size cap while reading, format from the
//! bytes, dimensions from the header, and only then a decode with allocation limits, once the
//! process's decode budget has room for it.
mod budget;
mod decode;
mod jpeg;
mod sniff;

use std::borrow::Cow;
use std::sync::Arc;

use altframe_domain::image::{ImageFormat, ImageRef};
use base64::Engine;
use image::RgbaImage;

use crate::adapters::ids::sha256_hex;
use crate::adapters::outbound::{FetchError, Outbound};

pub use budget::DecodeBudget;
/// For the intake benchmark, which times libjpeg-turbo alone at the scale intake uses.
pub use jpeg::scale_for as jpeg_decode_scale;
pub use sniff::sniff_format;

#[derive(Debug, Clone)]
pub struct IntakeConfig {
    /// Largest image accepted, in bytes of the encoded file.
    pub max_bytes: usize,
    /// Largest image accepted, in pixels (width × height), checked before decoding.
    pub max_pixels: u64,
    /// Longest side of the copy the model sees.
    pub model_max_side: u32,
    /// Memory that decoding may take at once, across the process (see [`DecodeBudget`]).
    pub decode_budget_bytes: u64,
}

/// Room for two 12-megapixel decodes at once: as many as two cores keep busy.
pub const DEFAULT_DECODE_BUDGET_BYTES: u64 = 256 * 1024 * 1024;

impl Default for IntakeConfig {
    fn default() -> Self {
        IntakeConfig {
            max_bytes: 20 * 1024 * 1024,
            max_pixels: 64_000_000,
            model_max_side: 1024,
            decode_budget_bytes: DEFAULT_DECODE_BUDGET_BYTES,
        }
    }
}

/// Where an image comes from. A URL takes precedence when a request has both. Base64 may be
/// borrowed from the request body.
#[derive(Debug, Clone)]
pub enum ImageSource<'a> {
    Url(String),
    Base64(Cow<'a, str>),
}

/// An image ready for a vision model.
#[derive(Debug, Clone)]
pub struct PreparedImage {
    pub reference: ImageRef,
    /// The downscaled pixels.
    pub pixels: Arc<RgbaImage>,
    /// The downscaled image encoded for the model (JPEG, or PNG when it has transparency).
    pub encoded: Arc<Vec<u8>>,
    pub mime: &'static str,
}

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("image_url: {0}")]
    Fetch(#[from] FetchError),
    #[error("image_base64 is not valid base64")]
    Base64,
    #[error("{0} is empty")]
    Empty(&'static str),
    #[error(
        "the data is not an image in a supported format (JPEG, PNG, WebP, GIF, TIFF, AVIF or HEIC)"
    )]
    NotAnImage,
    #[error("the image is {bytes} bytes; the limit is {max} bytes")]
    TooLarge { bytes: usize, max: usize },
    #[error("the image is {width}x{height} pixels; the limit is {max} pixels in all")]
    TooManyPixels { width: u32, height: u32, max: u64 },
    #[error("the {} image could not be decoded: {reason}", format.as_str())]
    Undecodable { format: ImageFormat, reason: String },
    /// The image decoded, but its copy for the model could not be made (the same words as a
    /// decoding failure, which is what the client sees).
    #[error("the {} image could not be decoded: {source}", format.as_str())]
    Unprepared {
        format: ImageFormat,
        #[source]
        source: decode::PrepareError,
    },
    /// A decoder panicked on the image: a bug the image found, so the image is refused.
    #[error("the image could not be read: the decoder failed on it")]
    DecoderFailed,
    /// The decoding task was cancelled before it answered (the process is stopping).
    #[error("the image decoder stopped")]
    DecoderStopped(#[source] tokio::task::JoinError),
}

impl IntakeError {
    /// Whether the failure is ours rather than the image's or its URL's.
    pub fn is_ours(&self) -> bool {
        matches!(self, IntakeError::DecoderStopped(_))
    }

    /// What a decoding task that ended without an answer means: a panic is the image's (it
    /// is refused like any undecodable image, and never tried again); a cancellation is ours.
    pub fn from_decoder_task(e: tokio::task::JoinError, format: Option<ImageFormat>) -> Self {
        match (e.is_panic(), format) {
            (true, Some(format)) => IntakeError::Undecodable {
                format,
                reason: "the decoder failed on it".into(),
            },
            (true, None) => IntakeError::DecoderFailed,
            (false, _) => IntakeError::DecoderStopped(e),
        }
    }
}

pub struct Intake {
    config: IntakeConfig,
    outbound: Outbound,
    budget: DecodeBudget,
}

impl Intake {
    pub fn new(config: IntakeConfig, outbound: Outbound) -> Intake {
        let budget = DecodeBudget::new(config.decode_budget_bytes);
        Intake {
            config,
            outbound,
            budget,
        }
    }

    pub fn config(&self) -> &IntakeConfig {
        &self.config
    }

    pub fn outbound(&self) -> &Outbound {
        &self.outbound
    }

    /// Fetches or decodes the source, checks it and prepares the model's copy.
    pub async fn prepare(&self, source: &ImageSource<'_>) -> Result<PreparedImage, IntakeError> {
        let (url, bytes) = match source {
            ImageSource::Url(url) => {
                let bytes = self.outbound.get_bytes(url, self.config.max_bytes).await?;
                (Some(url.clone()), bytes)
            }
            ImageSource::Base64(data) => (None, decode_base64(data, self.config.max_bytes)?),
        };
        self.prepare_bytes(url, bytes).await
    }

    /// Checks the bytes of an image and prepares the model's copy, decoding once the budget has
    /// room for the size the header gives.
    pub async fn prepare_bytes(
        &self,
        url: Option<String>,
        bytes: Vec<u8>,
    ) -> Result<PreparedImage, IntakeError> {
        let (format, width, height) = header(&bytes, &self.config)?;
        let room = self.budget.reserve(width, height).await;
        let config = self.config.clone();
        // The room goes with the decode: it is held until the decode ends, even if the caller
        // stops waiting for it.
        tokio::task::spawn_blocking(move || {
            let prepared = self::prepare_bytes(url, bytes, &config);
            drop(room);
            prepared
        })
        .await
        .map_err(|e| IntakeError::from_decoder_task(e, Some(format)))?
    }
}

/// Accepts plain base64 or a `data:image/...;base64,` URL, standard or URL-safe alphabet,
/// with or without padding and line breaks.
pub fn decode_base64(data: &str, max_bytes: usize) -> Result<Vec<u8>, IntakeError> {
    let payload = match data.trim().strip_prefix("data:") {
        Some(rest) => rest
            .split_once(',')
            .map(|(_, b)| b)
            .ok_or(IntakeError::Base64)?,
        None => data.trim(),
    };
    let cleaned: Cow<str> = if payload.bytes().any(|b| b.is_ascii_whitespace()) {
        payload
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect()
    } else {
        Cow::Borrowed(payload)
    };
    if cleaned.is_empty() {
        return Err(IntakeError::Empty("image_base64"));
    }
    // Four base64 characters carry three bytes: refuse oversize input before decoding it.
    let decoded_len = cleaned.len() / 4 * 3;
    if decoded_len > max_bytes + 3 {
        return Err(IntakeError::TooLarge {
            bytes: decoded_len,
            max: max_bytes,
        });
    }
    let cleaned = cleaned.trim_end_matches('=');
    let engines = [
        base64::engine::general_purpose::STANDARD_NO_PAD,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    engines
        .iter()
        .find_map(|e| e.decode(cleaned).ok())
        .ok_or(IntakeError::Base64)
}

/// Checks bytes as intake would, without decoding the pixels: the format from the bytes and
/// the dimensions from the header. For validating a batch whole before accepting it.
pub fn inspect_bytes(
    url: Option<String>,
    bytes: &[u8],
    config: &IntakeConfig,
) -> Result<ImageRef, IntakeError> {
    let (format, width, height) = header(bytes, config)?;
    Ok(ImageRef {
        url,
        sha256: sha256_hex(bytes),
        bytes: bytes.len() as u64,
        format,
        width,
        height,
    })
}

/// The size limits, the format from the bytes and the dimensions from the header: everything
/// intake checks before decoding, with the errors decoding would give.
fn header(bytes: &[u8], config: &IntakeConfig) -> Result<(ImageFormat, u32, u32), IntakeError> {
    if bytes.is_empty() {
        return Err(IntakeError::Empty("image"));
    }
    if bytes.len() > config.max_bytes {
        return Err(IntakeError::TooLarge {
            bytes: bytes.len(),
            max: config.max_bytes,
        });
    }
    let format = sniff_format(bytes).ok_or(IntakeError::NotAnImage)?;
    let (width, height) = decode::dimensions(bytes, format, config.max_pixels)?;
    Ok((format, width, height))
}

/// The synchronous part of intake, for a blocking thread.
pub fn prepare_bytes(
    url: Option<String>,
    bytes: Vec<u8>,
    config: &IntakeConfig,
) -> Result<PreparedImage, IntakeError> {
    if bytes.is_empty() {
        return Err(IntakeError::Empty("image"));
    }
    if bytes.len() > config.max_bytes {
        return Err(IntakeError::TooLarge {
            bytes: bytes.len(),
            max: config.max_bytes,
        });
    }
    let format = sniff_format(&bytes).ok_or(IntakeError::NotAnImage)?;
    let decoded = decode::decode(&bytes, format, config.max_pixels, config.model_max_side)?;
    let (width, height) = (decoded.width, decoded.height);
    let unprepared = |source| IntakeError::Unprepared { format, source };
    let pixels = decode::downscale(decoded.image, config.model_max_side).map_err(unprepared)?;
    let (encoded, mime) = decode::encode_for_model(&pixels).map_err(unprepared)?;
    Ok(PreparedImage {
        reference: ImageRef {
            url,
            sha256: sha256_hex(&bytes),
            bytes: bytes.len() as u64,
            format,
            width,
            height,
        },
        pixels: Arc::new(pixels),
        encoded: Arc::new(encoded),
        mime,
    })
}

#[cfg(test)]
mod tests {
    use image::codecs::jpeg::JpegEncoder;
    use image::{GenericImageView, ImageEncoder};

    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn prepare(bytes: Vec<u8>) -> Result<PreparedImage, IntakeError> {
        prepare_bytes(None, bytes, &IntakeConfig::default())
    }

    #[test]
    fn a_large_jpeg_decoded_at_reduced_scale_gives_the_model_copy_of_a_full_decode() {
        let bytes = fixture("large-4000x3000.jpg");
        let prepared = prepare(bytes.clone()).unwrap();
        let reference = &prepared.reference;
        assert_eq!((reference.width, reference.height), (4000, 3000));
        assert_eq!(prepared.pixels.dimensions(), (1024, 768));
        assert_eq!(prepared.mime, "image/jpeg");
        let encoded = image::load_from_memory(&prepared.encoded).unwrap();
        assert_eq!(encoded.dimensions(), (1024, 768));

        let full = image::load_from_memory(&bytes).unwrap();
        let expected = decode::downscale(full, 1024).unwrap();
        let difference: u64 = expected
            .as_raw()
            .iter()
            .zip(prepared.pixels.as_raw())
            .map(|(a, b)| u64::from(a.abs_diff(*b)))
            .sum();
        let mean = difference as f64 / expected.as_raw().len() as f64;
        assert!(mean < 1.0, "mean difference per channel {mean}");
    }

    #[test]
    fn a_truncated_jpeg_is_refused() {
        for name in ["sample.jpg", "large-4000x3000.jpg"] {
            let bytes = fixture(name);
            let error = prepare(bytes[..bytes.len() / 2].to_vec()).unwrap_err();
            assert!(
                matches!(&error, IntakeError::Undecodable { format: ImageFormat::Jpeg, reason }
                    if reason.contains("Premature end")),
                "{name}: {error}"
            );
        }
    }

    #[test]
    fn a_jpeg_with_damaged_data_is_decoded_as_before() {
        let mut bytes = fixture("sample.jpg");
        let middle = bytes.len() / 2;
        bytes[middle..middle + 100].fill(0x55);
        let prepared = prepare(bytes.clone()).unwrap();
        let general = image::load_from_memory(&bytes).unwrap().into_rgba8();
        assert!(*prepared.pixels == general);
    }

    #[test]
    fn a_jpeg_with_a_broken_header_is_refused() {
        let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
        bytes.extend_from_slice(&[0x55; 200]);
        let error = prepare(bytes).unwrap_err();
        assert!(
            matches!(
                error,
                IntakeError::Undecodable {
                    format: ImageFormat::Jpeg,
                    ..
                }
            ),
            "{error}"
        );
    }

    #[test]
    fn a_jpeg_bomb_is_refused_from_its_header() {
        let mut bytes = fixture("sample.jpg");
        let sof = bytes.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        bytes[sof + 5..sof + 9].copy_from_slice(&[0xC3, 0x50, 0xC3, 0x50]);
        let error = prepare(bytes).unwrap_err();
        assert!(
            matches!(
                error,
                IntakeError::TooManyPixels {
                    width: 50000,
                    height: 50000,
                    ..
                }
            ),
            "{error}"
        );
    }

    #[test]
    fn a_grayscale_jpeg_becomes_grey_rgb() {
        let (width, height) = (2400, 1800);
        let luma: Vec<u8> = (0..width * height)
            .map(|i| ((i % width) * 255 / width) as u8)
            .collect();
        let mut bytes = Vec::new();
        JpegEncoder::new_with_quality(&mut bytes, 90)
            .write_image(&luma, width, height, image::ExtendedColorType::L8)
            .unwrap();
        let prepared = prepare(bytes).unwrap();
        assert_eq!(
            (prepared.reference.width, prepared.reference.height),
            (2400, 1800)
        );
        assert_eq!(prepared.pixels.dimensions(), (1024, 768));
        assert!(prepared
            .pixels
            .pixels()
            .all(|p| p.0[0] == p.0[1] && p.0[1] == p.0[2] && p.0[3] == 255));
    }

    #[test]
    fn a_cmyk_jpeg_is_decoded_as_before() {
        let bytes = fixture("cmyk.jpg");
        let prepared = prepare(bytes.clone()).unwrap();
        assert_eq!(
            (prepared.reference.width, prepared.reference.height),
            (400, 300)
        );
        let general = image::load_from_memory(&bytes).unwrap().into_rgba8();
        assert!(*prepared.pixels == general);
    }
}
