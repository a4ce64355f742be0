//! Decoding with bounds, downscaling, and the copy the model receives.
use std::io::Cursor;

use altframe_domain::image::ImageFormat;
use fast_image_resize::images::Image as ResizeImage;
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::codecs::png::PngEncoder;
use image::{DynamicImage, ImageEncoder, ImageReader, Limits, RgbImage, RgbaImage};

use super::{jpeg, IntakeError};

/// Reads the dimensions from the header and applies the pixel limit, decoding nothing.
pub(super) fn dimensions(
    bytes: &[u8],
    format: ImageFormat,
    max_pixels: u64,
) -> Result<(u32, u32), IntakeError> {
    let undecodable = |reason: String| IntakeError::Undecodable { format, reason };
    let (width, height) = match image_crate_format(format) {
        Some(f) => ImageReader::with_format(Cursor::new(bytes), f)
            .into_dimensions()
            .map_err(|e| undecodable(e.to_string()))?,
        None => {
            let context = libheif_rs::HeifContext::read_from_bytes(bytes)
                .map_err(|e| undecodable(e.to_string()))?;
            let handle = context
                .primary_image_handle()
                .map_err(|e| undecodable(e.to_string()))?;
            (handle.width(), handle.height())
        }
    };
    check_size(format, width, height, max_pixels)?;
    Ok((width, height))
}

fn check_size(
    format: ImageFormat,
    width: u32,
    height: u32,
    max_pixels: u64,
) -> Result<(), IntakeError> {
    if u64::from(width) * u64::from(height) > max_pixels {
        Err(IntakeError::TooManyPixels {
            width,
            height,
            max: max_pixels,
        })
    } else if width == 0 || height == 0 {
        Err(IntakeError::Undecodable {
            format,
            reason: "the image has no pixels".into(),
        })
    } else {
        Ok(())
    }
}

fn image_crate_format(format: ImageFormat) -> Option<image::ImageFormat> {
    match format {
        ImageFormat::Jpeg => Some(image::ImageFormat::Jpeg),
        ImageFormat::Png => Some(image::ImageFormat::Png),
        ImageFormat::Webp => Some(image::ImageFormat::WebP),
        ImageFormat::Gif => Some(image::ImageFormat::Gif),
        ImageFormat::Tiff => Some(image::ImageFormat::Tiff),
        ImageFormat::Avif | ImageFormat::Heic => None,
    }
}

/// A decoded image, possibly already reduced, and the dimensions of the original.
pub(super) struct Decoded {
    pub image: DynamicImage,
    pub width: u32,
    pub height: u32,
}

/// Decodes, refusing images whose header claims more than `max_pixels` before any pixel buffer
/// is allocated (a decompression bomb costs a header read, nothing more). A JPEG is decoded by
/// libjpeg-turbo at the smallest DCT scale that keeps its longest side at least `min_side`;
/// one libjpeg-turbo does not decode cleanly, unless it is cut short, goes to the general
/// decoder, which decided on every JPEG before.
pub(super) fn decode(
    bytes: &[u8],
    format: ImageFormat,
    max_pixels: u64,
    min_side: u32,
) -> Result<Decoded, IntakeError> {
    let undecodable = |reason: String| IntakeError::Undecodable { format, reason };
    let check = |width: u32, height: u32| check_size(format, width, height, max_pixels);
    let Some(image_format) = image_crate_format(format) else {
        let image = decode_heif(bytes, check)?;
        let (width, height) = image.dimensions();
        return Ok(Decoded {
            image: DynamicImage::ImageRgba8(image),
            width,
            height,
        });
    };
    if format == ImageFormat::Jpeg {
        if let Some((width, height)) = jpeg::dimensions(bytes) {
            check(width, height)?;
            match jpeg::decode(bytes, (width, height), min_side) {
                jpeg::Outcome::Pixels(image) => {
                    return Ok(Decoded {
                        image: DynamicImage::ImageRgb8(image),
                        width,
                        height,
                    })
                }
                jpeg::Outcome::Truncated(reason) => return Err(undecodable(reason)),
                jpeg::Outcome::Refused => {}
            }
        }
    }
    let reader = || ImageReader::with_format(Cursor::new(bytes), image_format);
    let (width, height) = reader()
        .into_dimensions()
        .map_err(|e| undecodable(e.to_string()))?;
    check(width, height)?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(width);
    limits.max_image_height = Some(height);
    limits.max_alloc = Some(max_pixels * 8 + 64 * 1024 * 1024);
    let mut r = reader();
    r.limits(limits);
    let image = r.decode().map_err(|e| undecodable(e.to_string()))?;
    Ok(Decoded {
        image,
        width,
        height,
    })
}

/// AVIF and HEIC through libheif, which also reads the dimensions before decoding.
fn decode_heif(
    bytes: &[u8],
    check: impl Fn(u32, u32) -> Result<(), IntakeError>,
) -> Result<RgbaImage, IntakeError> {
    let format = super::sniff_format(bytes).unwrap_or(ImageFormat::Heic);
    let undecodable = |e: libheif_rs::HeifError| IntakeError::Undecodable {
        format,
        reason: e.to_string(),
    };
    let context = libheif_rs::HeifContext::read_from_bytes(bytes).map_err(undecodable)?;
    let handle = context.primary_image_handle().map_err(undecodable)?;
    check(handle.width(), handle.height())?;
    let image = handle
        .decode(
            libheif_rs::ColorSpace::Rgb(libheif_rs::RgbChroma::Rgba),
            None,
        )
        .map_err(undecodable)?;
    let plane = image
        .planes()
        .interleaved
        .ok_or_else(|| IntakeError::Undecodable {
            format,
            reason: "libheif returned no interleaved RGBA plane".into(),
        })?;
    let row_bytes = plane.width as usize * 4;
    let mut rgba = Vec::with_capacity(row_bytes * plane.height as usize);
    for row in plane.data.chunks(plane.stride).take(plane.height as usize) {
        rgba.extend_from_slice(&row[..row_bytes.min(row.len())]);
    }
    RgbaImage::from_raw(plane.width, plane.height, rgba).ok_or_else(|| IntakeError::Undecodable {
        format,
        reason: "libheif returned a short plane".into(),
    })
}

/// Why a decoded image could not be made into the model's copy.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error("{0}")]
    Resize(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the resized image has the wrong size")]
    WrongSize,
    #[error("{0}")]
    Png(#[source] image::ImageError),
    #[error("{0}")]
    Jpeg(#[source] turbojpeg::Error),
}

/// Scales the image so its longest side is at most `max_side`, keeping the aspect ratio. RGB
/// is resized as it is; anything else as RGBA, with its alpha.
pub(super) fn downscale(image: DynamicImage, max_side: u32) -> Result<RgbaImage, PrepareError> {
    let (w, h) = (image.width(), image.height());
    let longest = w.max(h);
    if longest <= max_side {
        return Ok(image.into_rgba8());
    }
    let scale = f64::from(max_side) / f64::from(longest);
    let nw = ((f64::from(w) * scale).round() as u32).max(1);
    let nh = ((f64::from(h) * scale).round() as u32).max(1);
    let (raw, pixel_type) = match image {
        DynamicImage::ImageRgb8(rgb) => (rgb.into_raw(), PixelType::U8x3),
        other => (other.into_rgba8().into_raw(), PixelType::U8x4),
    };
    let src = ResizeImage::from_vec_u8(w, h, raw, pixel_type)
        .map_err(|e| PrepareError::Resize(Box::new(e)))?;
    let mut dst = ResizeImage::new(nw, nh, pixel_type);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::CatmullRom));
    Resizer::new()
        .resize(&src, &mut dst, &options)
        .map_err(|e| PrepareError::Resize(Box::new(e)))?;
    let resized = dst.into_vec();
    let rgba = if pixel_type == PixelType::U8x3 {
        RgbImage::from_raw(nw, nh, resized).map(|rgb| DynamicImage::ImageRgb8(rgb).into_rgba8())
    } else {
        RgbaImage::from_raw(nw, nh, resized)
    };
    rgba.ok_or(PrepareError::WrongSize)
}

/// JPEG for opaque images; PNG when there is transparency, which JPEG would lose.
pub(super) fn encode_for_model(
    pixels: &RgbaImage,
) -> Result<(Vec<u8>, &'static str), PrepareError> {
    if pixels.pixels().any(|p| p.0[3] < 255) {
        let mut out = Vec::new();
        let (w, h) = pixels.dimensions();
        PngEncoder::new(&mut out)
            .write_image(pixels, w, h, image::ExtendedColorType::Rgba8)
            .map_err(PrepareError::Png)?;
        Ok((out, "image/png"))
    } else {
        let jpeg = jpeg::encode(pixels, 85).map_err(PrepareError::Jpeg)?;
        Ok((jpeg, "image/jpeg"))
    }
}
