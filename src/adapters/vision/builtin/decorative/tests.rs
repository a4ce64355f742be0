use altframe_domain::generation::{Language, Mode};
use image::{Rgba, RgbaImage};

use super::*;
use crate::adapters::vision::analyse;

fn options(role: Option<Role>) -> GenerationOptions {
    GenerationOptions {
        mode: Mode::Auto,
        role,
        ..GenerationOptions::defaults(Language::english())
    }
}

fn flat(width: u32, height: u32, colour: [u8; 4]) -> RgbaImage {
    RgbaImage::from_pixel(width, height, Rgba(colour))
}

/// A photo-like image: a gradient under pseudo-random noise, so neighbours rarely match.
fn photo() -> RgbaImage {
    let mut seed = 0x2545_f491_u32;
    RgbaImage::from_fn(64, 48, |x, y| {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let [n1, n2, n3, _] = seed.to_le_bytes();
        let base = (x * 2 + y * 3) as u8;
        Rgba([
            base.wrapping_add(n1 / 2),
            base / 2 + n2 / 3,
            n3 / 2 + 60,
            255,
        ])
    })
}

/// Vertical bands of `bands` flat colours, each a distinct quantised colour.
fn bands(width: u32, height: u32, bands: u32) -> RgbaImage {
    RgbaImage::from_fn(width, height, |x, _| {
        let band = (x * bands / width) as u8;
        Rgba([40 + band * 10, 80 + band * 5, 200 - band * 8, 255])
    })
}

fn judge_image(pixels: &RgbaImage, width: u32, height: u32, o: &GenerationOptions) -> Verdict {
    judge(&analyse(pixels, width, height), o)
}

#[test]
fn a_photo_with_varied_detail_is_content() {
    let verdict = judge_image(&photo(), 800, 600, &options(None));
    assert_eq!(
        verdict,
        Verdict::content("It shows a photo with varied detail, which is content.")
    );
}

#[test]
fn a_fully_transparent_image_is_decorative() {
    let verdict = judge_image(&flat(50, 50, [255, 0, 0, 0]), 500, 500, &options(None));
    assert!(verdict.decorative);
    assert!(
        verdict.reason.contains("fully transparent"),
        "{}",
        verdict.reason
    );
}

#[test]
fn a_tiny_spacer_is_decorative() {
    let one = judge_image(&flat(1, 1, [255, 255, 255, 255]), 1, 1, &options(None));
    assert_eq!(
        one,
        Verdict::decoration(
            "At 1×1 pixels it is a spacer or a rule line, too small to carry content."
        )
    );
    let rule = judge_image(&bands(100, 1, 20), 1200, 6, &options(None));
    assert!(
        rule.decorative && rule.reason.contains("1200×6"),
        "{rule:?}"
    );
    let icon = judge_image(&photo(), 16, 16, &options(None));
    assert!(icon.decorative && icon.reason.contains("16×16"), "{icon:?}");
    let small = judge_image(&photo(), 17, 16, &options(None));
    assert!(!small.decorative, "{small:?}");
}

#[test]
fn a_single_flat_colour_is_decorative() {
    let verdict = judge_image(&flat(80, 40, [200, 30, 30, 255]), 800, 400, &options(None));
    assert_eq!(
        verdict,
        Verdict::decoration("It is a single flat colour (red) with nothing in it to describe.")
    );
}

#[test]
fn very_few_colours_with_almost_no_detail_are_decorative() {
    let verdict = judge_image(&bands(100, 100, 3), 400, 400, &options(None));
    assert_eq!(
        verdict,
        Verdict::decoration(
            "It has only 3 colours and almost no detail, like a pattern or a divider."
        )
    );
}

#[test]
fn a_thin_low_detail_strip_is_decorative_but_the_same_pixels_square_are_not() {
    let strip = bands(300, 10, 15);
    let verdict = judge_image(&strip, 1200, 40, &options(None));
    assert!(verdict.decorative, "{verdict:?}");
    assert!(verdict.reason.contains("thin strip"), "{}", verdict.reason);
    let square = judge_image(&strip, 300, 300, &options(None));
    assert!(!square.decorative, "{square:?}");
}

#[test]
fn a_wide_photo_is_content() {
    let verdict = judge_image(&photo(), 3000, 400, &options(None));
    assert!(!verdict.decorative, "{verdict:?}");
}

#[test]
fn a_background_role_alone_makes_an_image_decorative() {
    let verdict = judge_image(&photo(), 800, 600, &options(Some(Role::Background)));
    assert_eq!(
        verdict,
        Verdict::decoration(
            "It is marked as a background, which decorates the page rather than informing."
        )
    );
}

#[test]
fn a_content_role_leaves_the_verdict_to_the_pixels() {
    let o = options(Some(Role::Content));
    assert!(judge_image(&flat(40, 40, [0, 0, 0, 255]), 400, 400, &o).decorative);
    assert!(!judge_image(&photo(), 800, 600, &o).decorative);
}

#[test]
fn an_image_with_a_job_on_the_page_is_never_decorative() {
    let spacer = flat(1, 1, [255, 255, 255, 255]);
    for (role, says) in [
        (Role::Link, "It is a link"),
        (Role::Button, "It is a button"),
        (Role::Logo, "It is a logo"),
        (Role::Chart, "It is a chart"),
    ] {
        let verdict = judge_image(&spacer, 1, 1, &options(Some(role)));
        assert!(!verdict.decorative, "{role:?}");
        assert!(verdict.reason.starts_with(says), "{}", verdict.reason);
    }
}

#[test]
fn a_named_product_is_never_decorative() {
    let mut o = options(Some(Role::Background));
    o.product.name = Some("Garden Trowel".into());
    let verdict = judge_image(&flat(80, 40, [200, 30, 30, 255]), 800, 400, &o);
    assert_eq!(
        verdict,
        Verdict::content("It shows the product named in the request, which is content.")
    );
    o.product.name = Some("   ".into());
    assert!(judge_image(&flat(80, 40, [200, 30, 30, 255]), 800, 400, &o).decorative);
}

#[test]
fn every_reason_is_one_sentence() {
    let images = [
        (photo(), 800, 600),
        (flat(1, 1, [0, 0, 0, 255]), 1, 1),
        (flat(9, 9, [0, 0, 0, 0]), 90, 90),
        (bands(100, 100, 3), 400, 400),
    ];
    for (pixels, w, h) in &images {
        for role in [None, Some(Role::Link), Some(Role::Background)] {
            let reason = judge_image(pixels, *w, *h, &options(role)).reason;
            assert!(reason.ends_with('.'), "{reason}");
            assert_eq!(reason.matches(". ").count(), 0, "{reason}");
        }
    }
}

#[test]
fn few_colours_in_high_contrast_are_content_like_a_qr_code_or_a_sign() {
    // Black modules on white, large enough that almost every pixel equals its neighbour.
    let code = RgbaImage::from_fn(96, 96, |x, y| {
        let dark = ((x / 12) * 7 + (y / 12) * 3) % 5 < 2;
        let v = if dark { 0 } else { 255 };
        Rgba([v, v, v, 255])
    });
    let verdict = judge_image(&code, 300, 300, &options(None));
    assert!(!verdict.decorative, "{verdict:?}");
    let banner = RgbaImage::from_fn(120, 16, |x, _| {
        let v = if (x / 10) % 2 == 0 { 20 } else { 240 };
        Rgba([v, v, v, 255])
    });
    assert!(!judge_image(&banner, 1200, 160, &options(None)).decorative);
}
