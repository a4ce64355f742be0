//! The `auto` mode verdict: whether an image is decorative (WCAG's `alt=""`) and why, in one
//! plain sentence. An image with a purpose on the page never is; otherwise the pixels decide,
//! and a caller's `role: "background"` decides when they do not.
use altframe_domain::generation::{GenerationOptions, Role};

use super::{article, non_empty, Analysis};

/// An original side at most this long (in pixels) makes a spacer or a rule line.
const SPACER_MAX_SIDE: u32 = 8;
/// An original area at most this large (16×16 pixels) is too small to carry content.
const SPACER_MAX_AREA: u64 = 16 * 16;
/// At most this many distinct colours (channels cut to 5 bits) is very few.
const FEW_COLOURS: usize = 8;
/// From this share of pixels equal to their left neighbour, an image is almost all flat.
const MOSTLY_FLAT: f64 = 0.9;
/// From this ratio of the long side to the short one, an image is a strip (border, divider).
const STRIP_RATIO: f64 = 6.0;
/// A strip with at most this many distinct colours has little detail...
const STRIP_MAX_COLOURS: usize = 32;
/// ...when at least this share of its pixels equal their left neighbour.
const STRIP_MIN_FLAT: f64 = 0.75;
/// Below this luma range, few colours are a texture or a divider; above it they may be text,
/// a QR code or a sign, which is content.
const LOW_CONTRAST: f64 = 0.35;

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Verdict {
    pub decorative: bool,
    /// One plain English sentence saying why.
    pub reason: String,
}

impl Verdict {
    fn content(reason: impl Into<String>) -> Verdict {
        Verdict {
            decorative: false,
            reason: reason.into(),
        }
    }

    fn decoration(reason: impl Into<String>) -> Verdict {
        Verdict {
            decorative: true,
            reason: reason.into(),
        }
    }
}

/// A purpose on the page decides first, then the first sign of decoration in the pixels, then a
/// background role; anything else is content.
pub(super) fn judge(a: &Analysis, o: &GenerationOptions) -> Verdict {
    if let Some(reason) = purpose_on_page(o) {
        return Verdict::content(reason);
    }
    if let Some(reason) = decoration_in_pixels(a) {
        return Verdict::decoration(reason);
    }
    if o.role == Some(Role::Background) {
        return Verdict::decoration(
            "It is marked as a background, which decorates the page rather than informing.",
        );
    }
    Verdict::content(format!(
        "It shows {} {} with varied detail, which is content.",
        article(a.kind),
        a.kind
    ))
}

/// Why the image has a purpose on the page, when the caller's context says it has: its role
/// (the rule every provider's answer follows), or a named product.
fn purpose_on_page(o: &GenerationOptions) -> Option<&'static str> {
    o.role.and_then(Role::purpose).or_else(|| {
        non_empty(o.product.name.as_deref())
            .map(|_| "It shows the product named in the request, which is content.")
    })
}

/// Why the pixels alone make the image decorative, the first sign found.
fn decoration_in_pixels(a: &Analysis) -> Option<String> {
    let signs: [fn(&Analysis) -> Option<String>; 5] =
        [invisible, spacer, single_colour, low_detail, thin_strip];
    signs.iter().find_map(|sign| sign(a))
}

fn invisible(a: &Analysis) -> Option<String> {
    a.is_invisible()
        .then(|| "It is fully transparent, so there is nothing in it to see.".to_string())
}

fn spacer(a: &Analysis) -> Option<String> {
    let area = u64::from(a.width) * u64::from(a.height);
    let tiny = a.width.min(a.height) <= SPACER_MAX_SIDE || area <= SPACER_MAX_AREA;
    tiny.then(|| {
        format!(
            "At {}×{} pixels it is a spacer or a rule line, too small to carry content.",
            a.width, a.height
        )
    })
}

fn single_colour(a: &Analysis) -> Option<String> {
    (a.distinct_colours <= 1).then(|| {
        let named = a
            .colours
            .first()
            .map(|c| format!(" ({c})"))
            .unwrap_or_default();
        format!("It is a single flat colour{named} with nothing in it to describe.")
    })
}

fn low_detail(a: &Analysis) -> Option<String> {
    let plain = a.distinct_colours <= FEW_COLOURS && a.flat_share >= MOSTLY_FLAT;
    (plain && a.contrast < LOW_CONTRAST).then(|| {
        format!(
            "It has only {} colours and almost no detail, like a pattern or a divider.",
            a.distinct_colours
        )
    })
}

fn thin_strip(a: &Analysis) -> Option<String> {
    let long = f64::from(a.width.max(a.height));
    let short = f64::from(a.width.min(a.height).max(1));
    let strip = long / short >= STRIP_RATIO;
    let plain = a.distinct_colours <= STRIP_MAX_COLOURS && a.flat_share >= STRIP_MIN_FLAT;
    (strip && plain && a.contrast < LOW_CONTRAST).then(|| {
        "It is a thin strip with little detail, like a border, a divider or a background band."
            .to_string()
    })
}

#[cfg(test)]
mod tests;
