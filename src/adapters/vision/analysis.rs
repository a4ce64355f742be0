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
    /// Distinct colours among the visible pixels, each channel cut to its top 5 bits.
    pub distinct_colours: usize,
    /// Share of the visible pixels with a left neighbour that equal it, 0.0 to 1.0 (0.0 when
    /// none has one: nothing shows the image is flat).
    pub flat_share: f64,
    /// The lightest visible pixel's luma less the darkest's, 0.0 to 1.0: black text on white
    /// is near 1, a beige divider near 0.
    pub contrast: f64,
}

impl Analysis {
    /// Whether nothing is visible: (nearly) every pixel is transparent.
    pub fn is_invisible(&self) -> bool {
        self.transparent_share >= INVISIBLE_SHARE
    }
}

/// The share of transparent pixels from which an image shows nothing.
const INVISIBLE_SHARE: f64 = 0.999;

/// Analyses the (downscaled) pixels. `width` and `height` are the original dimensions.
pub fn analyse(pixels: &RgbaImage, width: u32, height: u32) -> Analysis {
    let tally = Tally::of(pixels);
    Analysis {
        width,
        height,
        orientation: orientation(width, height),
        colours: tally.main_colours(),
        brightness: tally.brightness(),
        kind: tally.kind(),
        transparent_share: tally.transparent_share(),
        distinct_colours: tally.quantised.len(),
        flat_share: tally.flat_share(),
        contrast: tally.contrast(),
    }
}

/// Alpha below which a pixel counts as transparent.
const VISIBLE_ALPHA: u8 = 16;

/// What one pass over the pixels counts; every measure of [`Analysis`] comes from it.
struct Tally {
    total: u64,
    visible: u64,
    /// Visible pixels per entry of [`COLOUR_NAMES`].
    counts: [u64; COLOUR_NAMES.len()],
    luma_sum: f64,
    /// The darkest and lightest visible luma seen.
    luma_min: f64,
    luma_max: f64,
    quantised: HashSet<(u8, u8, u8)>,
    /// Visible pixels with a left neighbour, and those equal to it.
    neighbours: u64,
    flat_neighbours: u64,
}

impl Tally {
    fn of(pixels: &RgbaImage) -> Tally {
        let mut tally = Tally {
            total: u64::from(pixels.width()) * u64::from(pixels.height()),
            visible: 0,
            counts: [0; COLOUR_NAMES.len()],
            luma_sum: 0.0,
            luma_min: 1.0,
            luma_max: 0.0,
            quantised: HashSet::new(),
            neighbours: 0,
            flat_neighbours: 0,
        };
        for (x, y, p) in pixels.enumerate_pixels() {
            let left = x.checked_sub(1).map(|lx| pixels.get_pixel(lx, y).0);
            tally.add(p.0, left);
        }
        tally
    }

    fn add(&mut self, pixel: [u8; 4], left: Option<[u8; 4]>) {
        let [r, g, b, a] = pixel;
        if a < VISIBLE_ALPHA {
            return;
        }
        self.visible += 1;
        self.counts[colour_index(r, g, b)] += 1;
        let luma = (0.2126 * f64::from(r) + 0.7152 * f64::from(g) + 0.0722 * f64::from(b)) / 255.0;
        self.luma_sum += luma;
        self.luma_min = self.luma_min.min(luma);
        self.luma_max = self.luma_max.max(luma);
        self.quantised.insert((r >> 3, g >> 3, b >> 3));
        if let Some(left) = left {
            self.neighbours += 1;
            if left == pixel {
                self.flat_neighbours += 1;
            }
        }
    }

    fn transparent_share(&self) -> f64 {
        share(self.total - self.visible, self.total, 1.0)
    }

    fn contrast(&self) -> f64 {
        (self.luma_max - self.luma_min).max(0.0)
    }

    fn flat_share(&self) -> f64 {
        share(self.flat_neighbours, self.neighbours, 0.0)
    }

    /// Named colours covering at least 8% of the visible pixels, most common first, at most 3.
    fn main_colours(&self) -> Vec<&'static str> {
        let mut ranked: Vec<(usize, u64)> = self.counts.iter().copied().enumerate().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked
            .into_iter()
            .filter(|(_, n)| self.visible > 0 && *n * 100 >= self.visible * 8)
            .take(3)
            .map(|(i, _)| COLOUR_NAMES[i])
            .collect()
    }

    fn brightness(&self) -> &'static str {
        let mean_luma = if self.visible == 0 {
            0.0
        } else {
            self.luma_sum / self.visible as f64
        };
        match mean_luma {
            l if l < 0.3 => "dark",
            l if l > 0.7 => "bright",
            _ => "evenly lit",
        }
    }

    /// "graphic" when most neighbours are equal or the colours are few, else "photo".
    fn kind(&self) -> &'static str {
        if self.flat_share() >= 0.5 || self.quantised.len() < 200 {
            "graphic"
        } else {
            "photo"
        }
    }
}

/// `part / whole`, or `empty` when `whole` is zero.
fn share(part: u64, whole: u64, empty: f64) -> f64 {
    if whole == 0 {
        empty
    } else {
        part as f64 / whole as f64
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
mod tests;
