//! What can honestly be said of an image from its pixels alone.
use std::collections::HashSet;

use image::RgbaImage;

#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    pub width: u32,
    pub height: u32,
    pub orientation: &'static str,
    /// Named colours covering at least 8% of the visible pixels, most common first.
    pub colours: Vec<&'static str>,
    pub brightness: &'static str,
    /// "photo" for continuous tones, "graphic" for flat colour areas.
    pub kind: &'static str,
    /// Share of pixels that are (nearly) fully transparent, 0.0 to 1.0.
    pub transparent_share: f64,
}

/// Analyses the (downscaled) pixels. `width` and `height` are the original dimensions.
pub fn analyse(pixels: &RgbaImage, width: u32, height: u32) -> Analysis {
    let mut counts = [0u64; COLOUR_NAMES.len()];
    let mut visible = 0u64;
    let mut luma_sum = 0f64;
    let mut quantised = HashSet::new();
    let mut flat_neighbours = 0u64;
    let mut neighbours = 0u64;
    for (x, y, p) in pixels.enumerate_pixels() {
        let [r, g, b, a] = p.0;
        if a < 16 {
            continue;
        }
        visible += 1;
        counts[colour_index(r, g, b)] += 1;
        luma_sum += (0.2126 * f64::from(r) + 0.7152 * f64::from(g) + 0.0722 * f64::from(b)) / 255.0;
        quantised.insert((r >> 3, g >> 3, b >> 3));
        if x > 0 {
            neighbours += 1;
            let q = pixels.get_pixel(x - 1, y).0;
            if q == p.0 {
                flat_neighbours += 1;
            }
        }
    }
    let total = u64::from(pixels.width()) * u64::from(pixels.height());
    let transparent_share = if total == 0 {
        1.0
    } else {
        (total - visible) as f64 / total as f64
    };
    let mut ranked: Vec<(usize, u64)> = counts.iter().copied().enumerate().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let colours = ranked
        .into_iter()
        .filter(|(_, n)| visible > 0 && *n * 100 >= visible * 8)
        .take(3)
        .map(|(i, _)| COLOUR_NAMES[i])
        .collect();
    let mean_luma = if visible == 0 {
        0.0
    } else {
        luma_sum / visible as f64
    };
    let flat = neighbours > 0 && flat_neighbours * 10 >= neighbours * 5;
    let kind = if flat || quantised.len() < 200 {
        "graphic"
    } else {
        "photo"
    };
    Analysis {
        width,
        height,
        orientation: orientation(width, height),
        colours,
        brightness: match mean_luma {
            l if l < 0.3 => "dark",
            l if l > 0.7 => "bright",
            _ => "evenly lit",
        },
        kind,
        transparent_share,
    }
}

fn orientation(width: u32, height: u32) -> &'static str {
    let ratio = f64::from(width) / f64::from(height.max(1));
    match ratio {
        r if r >= 2.0 => "panoramic",
        r if r > 1.05 => "landscape",
        r if r < 0.5 => "tall",
        r if r < 0.95 => "portrait",
        _ => "square",
    }
}

const COLOUR_NAMES: [&str; 13] = [
    "black", "grey", "white", "red", "orange", "brown", "yellow", "green", "teal", "blue",
    "purple", "pink", "beige",
];

fn colour_index(r: u8, g: u8, b: u8) -> usize {
    let (h, s, v) = hsv(r, g, b);
    let name = if v < 0.18 {
        "black"
    } else if s < 0.15 {
        match v {
            v if v > 0.85 => "white",
            _ => "grey",
        }
    } else if s < 0.35 && v > 0.7 && (20.0..60.0).contains(&h) {
        "beige"
    } else {
        match h {
            h if !(15.0..345.0).contains(&h) => "red",
            h if h < 45.0 && v < 0.6 => "brown",
            h if h < 45.0 => "orange",
            h if h < 70.0 => "yellow",
            h if h < 160.0 => "green",
            h if h < 195.0 => "teal",
            h if h < 260.0 => "blue",
            h if h < 300.0 => "purple",
            _ => "pink",
        }
    };
    COLOUR_NAMES.iter().position(|n| *n == name).unwrap_or(0)
}

fn hsv(r: u8, g: u8, b: u8) -> (f64, f64, f64) {
    let (r, g, b) = (
        f64::from(r) / 255.0,
        f64::from(g) / 255.0,
        f64::from(b) / 255.0,
    );
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    let d = max - min;
    let h = if d == 0.0 {
        0.0
    } else if max == r {
        60.0 * ((g - b) / d).rem_euclid(6.0)
    } else if max == g {
        60.0 * ((b - r) / d + 2.0)
    } else {
        60.0 * ((r - g) / d + 4.0)
    };
    let s = if max == 0.0 { 0.0 } else { d / max };
    (h, s, max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgba;

    #[test]
    fn a_flat_blue_landscape_is_a_blue_graphic() {
        let img = RgbaImage::from_pixel(80, 40, Rgba([20, 60, 200, 255]));
        let a = analyse(&img, 800, 400);
        assert_eq!(a.orientation, "panoramic");
        assert_eq!(a.colours, vec!["blue"]);
        assert_eq!(a.kind, "graphic");
        assert_eq!(a.transparent_share, 0.0);
    }

    #[test]
    fn noise_reads_as_a_photo_and_transparency_is_measured() {
        let img = RgbaImage::from_fn(64, 64, |x, y| {
            let v = ((x * 37 + y * 91) % 251) as u8;
            Rgba([
                v,
                v.wrapping_mul(3),
                v.wrapping_mul(7),
                if x < 16 { 0 } else { 255 },
            ])
        });
        let a = analyse(&img, 64, 64);
        assert_eq!(a.kind, "photo");
        assert_eq!(a.orientation, "square");
        assert!((a.transparent_share - 0.25).abs() < 1e-9);
    }
}
