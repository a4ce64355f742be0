//! The text as a whole: what the look gives, and how the role and `auto` mode change it.
use std::collections::BTreeMap;

use altframe_domain::generation::{finish_all, Product, Role};

use super::*;

pub(super) fn analysis() -> Analysis {
    Analysis {
        width: 800,
        height: 600,
        orientation: "landscape",
        colours: vec!["green", "orange"],
        brightness: "bright",
        kind: "photo",
        transparent_share: 0.0,
        distinct_colours: 4_000,
        flat_share: 0.05,
        contrast: 0.9,
    }
}

/// The defaults, with "Spring sale" as the text near the image.
fn options(mode: Mode, product: Product, keywords: &[&str]) -> GenerationOptions {
    GenerationOptions {
        mode,
        keywords: keywords.iter().map(|k| k.to_string()).collect(),
        page_context: Some("Spring sale".into()),
        product,
        ..GenerationOptions::defaults(Language::english())
    }
}

#[test]
fn describes_pixels_and_the_callers_context() {
    let text = describe(
        &analysis(),
        &options(Mode::Standard, Product::default(), &["tomato seeds"]),
    );
    assert_eq!(
        text.alt_text.as_deref(),
        Some("A bright photo in green and orange tones, about tomato seeds")
    );
    assert_eq!(text.title.as_deref(), Some("Tomato Seeds"));
    assert!(text.caption.unwrap().contains("800×600 pixels"));
    assert!(text
        .og_description
        .unwrap()
        .ends_with("About tomato seeds."));
}

#[test]
fn ecommerce_names_the_product_and_its_attributes() {
    let product = Product {
        name: Some("Garden Trowel".into()),
        sku: None,
        attributes: BTreeMap::from([("colour".to_string(), "red".to_string())]),
    };
    let text = describe(&analysis(), &options(Mode::Ecommerce, product, &[]));
    assert_eq!(
        text.alt_text.as_deref(),
        Some("Garden Trowel (red): a bright photo in green and orange tones")
    );
}

#[test]
fn says_so_when_nothing_is_visible() {
    let mut a = analysis();
    a.transparent_share = 1.0;
    a.colours.clear();
    let text = describe(&a, &options(Mode::Standard, Product::default(), &[]));
    assert!(text.alt_text.unwrap().contains("fully transparent"));
}

#[test]
fn outside_auto_mode_there_is_no_verdict() {
    for mode in [Mode::Standard, Mode::Ecommerce, Mode::Decorative] {
        let text = describe(&analysis(), &options(mode, Product::default(), &[]));
        assert_eq!(text.decorative, None, "{mode:?}");
        assert_eq!(text.decorative_reason, None, "{mode:?}");
    }
}

#[test]
fn auto_mode_gives_a_verdict_and_its_reason() {
    let text = describe(&analysis(), &options(Mode::Auto, Product::default(), &[]));
    assert_eq!(text.decorative, Some(false));
    assert_eq!(
        text.decorative_reason.as_deref(),
        Some("It shows a photo with varied detail, which is content.")
    );
}

#[test]
fn content_and_background_roles_keep_the_text_of_no_role() {
    let plain = describe(
        &analysis(),
        &options(Mode::Standard, Product::default(), &[]),
    );
    for role in [Role::Content, Role::Background] {
        let mut o = options(Mode::Standard, Product::default(), &[]);
        o.role = Some(role);
        assert_eq!(describe(&analysis(), &o), plain, "{role:?}");
    }
}

#[test]
fn a_role_shapes_the_alt_text_and_only_a_chart_gets_a_long_description() {
    let mut o = options(Mode::Standard, Product::default(), &[]);
    o.role = Some(Role::Link);
    let link = describe(&analysis(), &o);
    assert_eq!(link.alt_text.as_deref(), Some("Spring sale"));
    assert_eq!(link.long_description, None);
    o.role = Some(Role::Chart);
    let chart = describe(&analysis(), &o);
    assert_eq!(chart.alt_text.as_deref(), Some("Chart: Spring sale"));
    assert!(chart.long_description.is_some());
}

#[test]
fn after_finishing_a_decorative_image_has_empty_alt_text_and_a_reason() {
    let mut a = analysis();
    a.distinct_colours = 1;
    a.flat_share = 1.0;
    a.colours = vec!["beige"];
    let o = options(Mode::Auto, Product::default(), &[]);
    let done = finish_all(&describe(&a, &o), &BTreeMap::new(), &o);
    assert_eq!(done.results.alt_text.as_deref(), Some(""));
    assert_eq!(done.results.decorative, Some(true));
    assert_eq!(
        done.results.decorative_reason.as_deref(),
        Some("It is a single flat colour (beige) with nothing in it to describe.")
    );
}

#[test]
fn a_long_page_context_never_cuts_the_charts_warning_about_its_values() {
    let mut o = options(Mode::Standard, Product::default(), &[]);
    o.role = Some(Role::Chart);
    o.page_context = Some("Rainfall by month. ".repeat(100));
    let done = finish_all(&describe(&analysis(), &o), &BTreeMap::new(), &o);
    let long = done.results.long_description.unwrap_or_default();
    assert!(
        long.contains("cannot be read by the builtin describer"),
        "{long}"
    );
    assert!(done
        .results
        .alt_text
        .unwrap_or_default()
        .starts_with("Chart: Rainfall"));
}

#[tokio::test]
async fn the_builtin_writes_english_only_even_when_other_languages_are_asked() {
    use std::sync::Arc;

    use altframe_domain::image::{ImageFormat, ImageRef};
    use image::{Rgba, RgbaImage};

    use crate::adapters::image::PreparedImage;

    let image = PreparedImage {
        reference: ImageRef {
            url: None,
            sha256: "0".repeat(64),
            bytes: 100,
            format: ImageFormat::Png,
            width: 1,
            height: 1,
        },
        pixels: Arc::new(RgbaImage::from_pixel(1, 1, Rgba([0, 0, 0, 0]))),
        encoded: Arc::new(Vec::new()),
        mime: "image/png",
    };
    let mut o = options(Mode::Auto, Product::default(), &[]);
    o.extra_languages = vec![Language::parse("fr").unwrap()];
    let request = VisionRequest {
        image: &image,
        options: &o,
    };
    let out = BuiltinProvider.describe(request).await;
    let out = out.expect("the builtin never fails");
    assert!(out.translations.is_empty());
    assert_eq!(out.text.decorative, Some(true));
    assert_eq!(BuiltinProvider.fixed_language(), Some(Language::english()));
}
