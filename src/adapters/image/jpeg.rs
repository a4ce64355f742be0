//! JPEG through libjpeg-turbo: a decode at a reduced DCT scale, and the model's copy.
//!
//! See docs/decisions/0004-jpeg-decoding-with-libjpeg-turbo.md for why and what it measured.
use image::{RgbImage, RgbaImage};
use turbojpeg::{Colorspace, Compressor, Decompressor, Image, PixelFormat, ScalingFactor, Subsamp};

/// What came of decoding with libjpeg-turbo.
pub(super) enum Outcome {
    Pixels(RgbImage),
    /// The data ends before the image does. Decoders fill the rest with grey; refused instead,
    /// as Pillow does: the model would describe a partly grey picture.
    Truncated(String),
    /// Any other error or warning (damaged data, an unusual header): for the general decoder.
    Refused,
}

/// The dimensions, if libjpeg-turbo can decode this JPEG to RGB at a reduced scale: not CMYK
/// (no conversion to RGB in libjpeg-turbo) nor lossless (no scaling).
pub(super) fn dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    let header = Decompressor::new().ok()?.read_header(bytes).ok()?;
    if header.is_lossless || matches!(header.colorspace, Colorspace::CMYK | Colorspace::YCCK) {
        return None;
    }
    Some((
        header.width.try_into().ok()?,
        header.height.try_into().ok()?,
    ))
}

/// The smallest scale of 1/8, 1/4, 1/2 and 1 that keeps the longest side at least `min_side`.
/// The other M/8 scales measured no faster than the power of two above them (decision 0004).
pub fn scale_for(longest: usize, min_side: usize) -> ScalingFactor {
    [
        ScalingFactor::ONE_EIGHTH,
        ScalingFactor::ONE_QUARTER,
        ScalingFactor::ONE_HALF,
    ]
    .into_iter()
    .find(|s| s.scale(longest) >= min_side)
    .unwrap_or(ScalingFactor::ONE)
}

/// Decodes at a reduced scale, the output's longest side still at least `min_side`. The caller
/// has checked `dimensions` against the pixel limit.
pub(super) fn decode(bytes: &[u8], (width, height): (u32, u32), min_side: u32) -> Outcome {
    let scale = scale_for(width.max(height) as usize, min_side as usize);
    let (width, height) = (scale.scale(width as usize), scale.scale(height as usize));
    let mut image = Image {
        pixels: vec![0; width * height * 3],
        width,
        pitch: width * 3,
        height,
        format: PixelFormat::RGB,
    };
    let decoded = Decompressor::new().and_then(|mut d| {
        d.set_scaling_factor(scale)?;
        d.decompress(bytes, image.as_deref_mut())
    });
    match decoded {
        Ok(()) => RgbImage::from_raw(width as u32, height as u32, image.pixels)
            .map_or(Outcome::Refused, Outcome::Pixels),
        Err(turbojpeg::Error::TurboJpegError(message))
            if message.starts_with("Premature end of JPEG file") =>
        {
            Outcome::Truncated(message)
        }
        Err(_) => Outcome::Refused,
    }
}

/// Encodes the pixels as JPEG, 4:4:4, ignoring alpha.
pub(super) fn encode(pixels: &RgbaImage, quality: i32) -> Result<Vec<u8>, turbojpeg::Error> {
    let (width, height) = (pixels.width() as usize, pixels.height() as usize);
    let mut compressor = Compressor::new()?;
    compressor.set_quality(quality)?;
    compressor.set_subsamp(Subsamp::None)?;
    compressor.compress_to_vec(Image {
        pixels: pixels.as_raw().as_slice(),
        width,
        pitch: width * 4,
        height,
        format: PixelFormat::RGBA,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_keeps_the_longest_side_at_least_the_minimum() {
        let scale = |longest| {
            let s = scale_for(longest, 1024);
            (s.num(), s.denom())
        };
        assert_eq!(scale(4000), (1, 2));
        assert_eq!(scale(2047), (1, 2));
        assert_eq!(scale(2046), (1, 1));
        assert_eq!(scale(4096), (1, 4));
        assert_eq!(scale(9000), (1, 8));
        assert_eq!(scale(800), (1, 1));
    }
}
