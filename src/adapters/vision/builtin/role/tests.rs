use altframe_domain::generation::{Language, Mode};

use super::super::describe_look;
use super::super::tests::analysis;
use super::*;

/// The defaults with a role, and nothing near the image.
fn options(role: Role) -> GenerationOptions {
    GenerationOptions {
        role: Some(role),
        ..GenerationOptions::defaults(Language::english())
    }
}

fn text_for(o: &GenerationOptions) -> GeneratedText {
    let mut text = describe_look(&analysis(), o);
    apply(&mut text, &analysis(), o);
    text
}

#[test]
fn a_link_says_what_the_text_near_it_says() {
    let mut o = options(Role::Link);
    o.page_context = Some("  Our pricing ".into());
    o.link_url = Some("https://example.com/about".into());
    let text = text_for(&o);
    assert_eq!(text.alt_text.as_deref(), Some("Our pricing"));
    assert_eq!(text.title.as_deref(), Some("Our pricing"));
}

#[test]
fn a_link_without_context_says_where_its_url_goes() {
    let mut o = options(Role::Link);
    o.link_url = Some("https://www.example.com/pricing/annual-plans".into());
    assert_eq!(
        text_for(&o).alt_text.as_deref(),
        Some("Annual plans, example.com")
    );
    o.link_url = Some("https://www.example.com".into());
    assert_eq!(
        text_for(&o).alt_text.as_deref(),
        Some("Link to example.com")
    );
}

#[test]
fn a_button_says_what_it_does() {
    let mut o = options(Role::Button);
    o.page_context = Some("Add to cart".into());
    assert_eq!(text_for(&o).alt_text.as_deref(), Some("Add to cart"));
}

#[test]
fn a_link_or_button_with_no_purpose_given_says_so_and_what_it_shows() {
    let link = text_for(&options(Role::Link));
    assert_eq!(
        link.alt_text.as_deref(),
        Some("Link whose destination is not known: a bright photo in green and orange tones")
    );
    let mut o = options(Role::Button);
    o.link_url = Some("javascript:void(0)".into());
    o.product.name = Some("Garden Trowel".into());
    assert_eq!(
        text_for(&o).alt_text.as_deref(),
        Some("Button whose action is not known: Garden Trowel")
    );
}

#[test]
fn a_logo_is_named_from_the_product_then_short_context_then_an_address() {
    let mut o = options(Role::Logo);
    o.product.name = Some("Acme Tools".into());
    o.page_context = Some("Partners".into());
    assert_eq!(text_for(&o).alt_text.as_deref(), Some("Acme Tools logo"));
    o.product.name = None;
    assert_eq!(text_for(&o).alt_text.as_deref(), Some("Partners logo"));
    o.page_context = Some("A very long paragraph about the page, far longer than any name".into());
    o.page_url = Some("https://www.acme-tools.com/about".into());
    assert_eq!(text_for(&o).alt_text.as_deref(), Some("Acme Tools logo"));
    o.link_url = Some("https://green-leaf.co.uk/".into());
    let text = text_for(&o);
    assert_eq!(text.alt_text.as_deref(), Some("Green Leaf logo"));
    assert_eq!(text.title.as_deref(), Some("Green Leaf logo"));
}

#[test]
fn a_logo_says_logo_once() {
    let mut o = options(Role::Logo);
    o.page_context = Some("Acme Logo".into());
    assert_eq!(text_for(&o).alt_text.as_deref(), Some("Acme Logo"));
}

#[test]
fn a_logo_without_context_says_logo_and_the_look() {
    let text = text_for(&options(Role::Logo));
    assert_eq!(
        text.alt_text.as_deref(),
        Some("Logo: a bright photo in green and orange tones")
    );
    assert_eq!(text.title.as_deref(), Some("Logo"));
}

#[test]
fn a_chart_gets_a_short_alt_text_from_context_keyword_or_look() {
    let mut o = options(Role::Chart);
    assert_eq!(
        text_for(&o).alt_text.as_deref(),
        Some("Chart: a bright photo in green and orange tones")
    );
    o.keywords = vec!["rainfall".into()];
    assert_eq!(text_for(&o).alt_text.as_deref(), Some("Chart: rainfall"));
    o.page_context = Some("Rainfall by month, 2024".into());
    let text = text_for(&o);
    assert_eq!(
        text.alt_text.as_deref(),
        Some("Chart: Rainfall by month, 2024")
    );
    assert_eq!(
        text.title.as_deref(),
        Some("Chart: Rainfall by month, 2024")
    );
}

#[test]
fn a_charts_long_description_is_honest_about_what_the_builtin_knows() {
    let mut o = options(Role::Chart);
    o.page_context = Some("Rainfall by month".into());
    let long = text_for(&o).long_description.unwrap_or_default();
    assert_eq!(
        long,
        "A landscape chart, 800×600 pixels: a bright photo in green and orange tones. Its \
         values cannot be read by the builtin describer, so give the data in the surrounding \
         text. Shown with: “Rainfall by month”."
    );
}

#[test]
fn only_a_chart_gets_a_long_description() {
    for role in [
        Role::Content,
        Role::Link,
        Role::Button,
        Role::Logo,
        Role::Background,
    ] {
        assert_eq!(text_for(&options(role)).long_description, None, "{role:?}");
    }
}

#[test]
fn the_role_text_is_the_same_in_every_mode() {
    let mut o = options(Role::Link);
    o.link_url = Some("https://example.com/pricing".into());
    let standard = text_for(&o);
    o.mode = Mode::Auto;
    assert_eq!(text_for(&o).alt_text, standard.alt_text);
}
