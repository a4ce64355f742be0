use serde::{Deserialize, Serialize};

use crate::Credits;

/// The formats the API accepts, told from the bytes, never from a file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    Jpeg,
    Png,
    Webp,
    Gif,
    Tiff,
    Avif,
    Heic,
}

impl ImageFormat {
    pub fn credit_cost(self) -> Credits {
        match self {
            ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::Webp | ImageFormat::Gif => 1,
            ImageFormat::Tiff | ImageFormat::Avif | ImageFormat::Heic => 2,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "jpeg",
            ImageFormat::Png => "png",
            ImageFormat::Webp => "webp",
            ImageFormat::Gif => "gif",
            ImageFormat::Tiff => "tiff",
            ImageFormat::Avif => "avif",
            ImageFormat::Heic => "heic",
        }
    }
}

/// What an event records of an image: where it came from and what it was, never its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRef {
    /// The URL the image was fetched from; `None` when it came inline as base64.
    pub url: Option<String>,
    /// Lower-case hex SHA-256 of the original bytes.
    pub sha256: String,
    pub bytes: u64,
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
}
