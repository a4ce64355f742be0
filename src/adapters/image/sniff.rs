use altframe_domain::image::ImageFormat;

/// Tells the format from the file's first bytes. The name or Content-Type is never trusted.
pub fn sniff_format(bytes: &[u8]) -> Option<ImageFormat> {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if starts(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageFormat::Jpeg)
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        Some(ImageFormat::Png)
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        Some(ImageFormat::Gif)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(ImageFormat::Webp)
    } else if starts(b"II*\0") || starts(b"MM\0*") {
        Some(ImageFormat::Tiff)
    } else {
        heif_brand(bytes)
    }
}

/// HEIF-family files start with an `ftyp` box listing brands; AVIF and HEIC share the box
/// and differ by brand. AVIF is checked first because `mif1` files may be either.
fn heif_brand(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.len() < 16 || &bytes[4..8] != b"ftyp" {
        return None;
    }
    let box_len = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    let end = box_len.clamp(16, bytes.len().min(4096));
    let mut brands = vec![&bytes[8..12]];
    brands.extend(bytes[16..end].chunks_exact(4));
    if brands.iter().any(|b| matches!(*b, b"avif" | b"avis")) {
        return Some(ImageFormat::Avif);
    }
    let heic = [
        b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1",
    ];
    if brands.iter().any(|b| heic.iter().any(|h| *b == &h[..])) {
        return Some(ImageFormat::Heic);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_formats_apart_by_magic_bytes() {
        assert_eq!(
            sniff_format(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(ImageFormat::Jpeg)
        );
        assert_eq!(sniff_format(b"GIF89a...."), Some(ImageFormat::Gif));
        assert_eq!(
            sniff_format(b"RIFF\0\0\0\0WEBPVP8 "),
            Some(ImageFormat::Webp)
        );
        assert_eq!(sniff_format(b"MM\0*\0\0\0\x08"), Some(ImageFormat::Tiff));
        assert_eq!(sniff_format(b"<html>not an image</html>"), None);
        assert_eq!(sniff_format(b""), None);
    }

    #[test]
    fn tells_avif_from_heic_by_brand() {
        let ftyp = |major: &[u8; 4], compat: &[u8; 4]| {
            let mut b = vec![0, 0, 0, 20];
            b.extend_from_slice(b"ftyp");
            b.extend_from_slice(major);
            b.extend_from_slice(&[0, 0, 0, 0]);
            b.extend_from_slice(compat);
            b
        };
        assert_eq!(
            sniff_format(&ftyp(b"avif", b"mif1")),
            Some(ImageFormat::Avif)
        );
        assert_eq!(
            sniff_format(&ftyp(b"mif1", b"avif")),
            Some(ImageFormat::Avif)
        );
        assert_eq!(
            sniff_format(&ftyp(b"heic", b"mif1")),
            Some(ImageFormat::Heic)
        );
        assert_eq!(sniff_format(&ftyp(b"isom", b"mp41")), None);
    }
}
