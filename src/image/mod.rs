//! Image intake: from a URL or base64 to checked, decoded, downscaled pixels.
//!
//! The order is what keeps a hostile image cheap: size cap while reading, format from the
//! bytes, dimensions from the header, and only then a decode with allocation limits.
mod decode;
mod sniff;

use std::sync::Arc;

use altframe_domain::image::{ImageFormat, ImageRef};
use base64::Engine;
use image::RgbaImage;

use crate::ids::sha256_hex;
use crate::outbound::{FetchError, Outbound};

pub use sniff::sniff_format;

#[derive(Debug, Clone)]
pub struct IntakeConfig {
    /// Largest image accepted, in bytes of the encoded file.
    pub max_bytes: usize,
    /// Largest image accepted, in pixels (width × height), checked before decoding.
    pub max_pixels: u64,
    /// Longest side of the copy the model sees.
    pub model_max_side: u32,
}

impl Default for IntakeConfig {
    fn default() -> Self {
        IntakeConfig {
            max_bytes: 20 * 1024 * 1024,
            max_pixels: 64_000_000,
            model_max_side: 1024,
        }
    }
}

/// Where an image comes from. A URL takes precedence when a request has both.
#[derive(Debug, Clone)]
pub enum ImageSource {
    Url(String),
    Base64(String),
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
}

pub struct Intake {
    config: IntakeConfig,
    outbound: Outbound,
}

impl Intake {
    pub fn new(config: IntakeConfig, outbound: Outbound) -> Intake {
        Intake { config, outbound }
    }

    pub fn config(&self) -> &IntakeConfig {
        &self.config
    }

    pub fn outbound(&self) -> &Outbound {
        &self.outbound
    }

    /// Fetches or decodes the source, checks it and prepares the model's copy.
    pub async fn prepare(&self, source: &ImageSource) -> Result<PreparedImage, IntakeError> {
        let (url, bytes) = match source {
            ImageSource::Url(url) => {
                let bytes = self.outbound.get_bytes(url, self.config.max_bytes).await?;
                (Some(url.clone()), bytes)
            }
            ImageSource::Base64(data) => (None, decode_base64(data, self.config.max_bytes)?),
        };
        let config = self.config.clone();
        tokio::task::spawn_blocking(move || prepare_bytes(url, bytes, &config))
            .await
            .map_err(|e| IntakeError::Undecodable {
                format: ImageFormat::Png,
                reason: format!("decoder stopped: {e}"),
            })?
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
    let cleaned: String = payload
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
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
    Ok(ImageRef {
        url,
        sha256: sha256_hex(bytes),
        bytes: bytes.len() as u64,
        format,
        width,
        height,
    })
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
    let decoded = decode::decode(&bytes, format, config.max_pixels)?;
    let (width, height) = (decoded.width(), decoded.height());
    let pixels = decode::downscale(decoded, config.model_max_side);
    let (encoded, mime) =
        decode::encode_for_model(&pixels).map_err(|e| IntakeError::Undecodable {
            format,
            reason: e.to_string(),
        })?;
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
