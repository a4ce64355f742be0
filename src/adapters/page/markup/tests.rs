use super::*;

fn page() -> Url {
    Url::parse("https://shop.example/catalogue/boots/index.html").unwrap()
}

fn url(image: &FoundImage) -> &str {
    match &image.source {
        Source::Url(url) => url.as_str(),
        other => panic!("not a URL: {other:?}"),
    }
}

#[test]
fn relative_addresses_resolve_against_the_page() {
    let markup = read(
        r#"<img src="../img/a.jpg" alt="A"><img src="/x.png" alt="X">
           <img src="//cdn.example/y.png" alt="Y"><img src="z.webp?v=2#f" alt="Z">
           <img src=" https://other.example/w.gif " alt="W">"#,
        &page(),
    );
    let urls: Vec<&str> = markup.images.iter().map(url).collect();
    assert_eq!(
        urls,
        [
            "https://shop.example/catalogue/img/a.jpg",
            "https://shop.example/x.png",
            "https://cdn.example/y.png",
            "https://shop.example/catalogue/boots/z.webp?v=2#f",
            "https://other.example/w.gif",
        ]
    );
    assert_eq!(markup.base, page());
}

#[test]
fn base_href_applies_to_every_address_and_links() {
    let markup = read(
        r#"<html><head><base href="/assets/v2/"><base href="/ignored/"></head>
           <body><a href="sale"><img src="a.jpg"></a>
           <div style="background-image:url(bg.png)"></div></body></html>"#,
        &page(),
    );
    assert_eq!(markup.base.as_str(), "https://shop.example/assets/v2/");
    assert_eq!(
        url(&markup.images[0]),
        "https://shop.example/assets/v2/a.jpg"
    );
    assert_eq!(
        markup.images[0].hints.link_url.as_deref(),
        Some("https://shop.example/assets/v2/sale")
    );
    assert_eq!(
        url(&markup.images[1]),
        "https://shop.example/assets/v2/bg.png"
    );
}

#[test]
fn alt_absent_is_not_alt_empty() {
    let markup = read(
        r#"<img src="a.jpg"><img src="b.jpg" alt=""><img src="c.jpg" alt="A cat">"#,
        &page(),
    );
    let alts: Vec<Option<&str>> = markup.images.iter().map(|i| i.alt.as_deref()).collect();
    assert_eq!(alts, [None, Some(""), Some("A cat")]);
    let decorative: Vec<_> = markup.images.iter().map(|i| i.decorative).collect();
    assert_eq!(decorative, [None, Some(Decorative::EmptyAlt), None]);
}

#[test]
fn srcset_candidates_are_resolved_and_the_largest_stands_in_for_a_missing_src() {
    let markup = read(
        r#"<img srcset="s/a-400.jpg 400w, s/a-1600.jpg 1600w, s/a-800.jpg 800w" alt="">
           <img src="logo.png" srcset="logo@2x.png 2x, logo@3x.png 3x" alt="Logo">"#,
        &page(),
    );
    let first = &markup.images[0];
    assert_eq!(
        url(first),
        "https://shop.example/catalogue/boots/s/a-1600.jpg"
    );
    assert_eq!(first.candidates.len(), 3);
    assert_eq!(
        first.candidates[0],
        "https://shop.example/catalogue/boots/s/a-400.jpg"
    );
    // With a src, the src is the image; the candidates are listed beside it.
    let second = &markup.images[1];
    assert_eq!(url(second), "https://shop.example/catalogue/boots/logo.png");
    assert_eq!(
        second.candidates,
        [
            "https://shop.example/catalogue/boots/logo@2x.png",
            "https://shop.example/catalogue/boots/logo@3x.png"
        ]
    );
}

#[test]
fn a_picture_is_one_image_with_its_sources_candidates() {
    let markup = read(
        r#"<picture>
             <source type="image/avif" srcset="/p/hero.avif 1x, /p/hero-2x.avif 2x">
             <source media="(max-width: 600px)" srcset="/p/hero-small.webp">
             <img src="/p/hero.jpg" alt="Hikers on a ridge">
           </picture>
           <picture><source srcset="/p/only-400.webp 400w, /p/only-900.webp 900w"><img alt="No src"></picture>"#,
        &page(),
    );
    assert_eq!(markup.images.len(), 2);
    let hero = &markup.images[0];
    assert_eq!(hero.element, Kind::Picture);
    assert_eq!(url(hero), "https://shop.example/p/hero.jpg");
    assert_eq!(hero.alt.as_deref(), Some("Hikers on a ridge"));
    assert_eq!(
        hero.candidates,
        [
            "https://shop.example/p/hero.avif",
            "https://shop.example/p/hero-2x.avif",
            "https://shop.example/p/hero-small.webp"
        ]
    );
    assert_eq!(
        url(&markup.images[1]),
        "https://shop.example/p/only-900.webp"
    );
}

#[test]
fn links_buttons_and_figures_give_role_and_context() {
    let markup = read(
        r#"<h2>Winter boots</h2>
           <div><figure><a href="/boots/alpine"><span><img src="alpine.jpg"></span>
             Alpine   boot</a><figcaption>Our warmest
             boot</figcaption></figure></div>
           <button type="submit"><img src="cart.svg"> Add to cart</button>
           <div role="button" aria-label="Close"><img src="x.svg"></div>
           <img src="plain.jpg" title="A  title">"#,
        &page(),
    );
    let [alpine, cart, close, plain] = &markup.images[..] else {
        panic!("{:?}", markup.images)
    };
    assert_eq!(alpine.hints.role, Role::Link);
    assert_eq!(
        alpine.hints.link_url.as_deref(),
        Some("https://shop.example/boots/alpine")
    );
    assert_eq!(alpine.hints.link_text.as_deref(), Some("Alpine boot"));
    assert_eq!(alpine.hints.caption.as_deref(), Some("Our warmest boot"));
    assert_eq!(alpine.hints.heading.as_deref(), Some("Winter boots"));
    assert_eq!(cart.hints.role, Role::Button);
    assert_eq!(cart.hints.link_text.as_deref(), Some("Add to cart"));
    assert_eq!(close.hints.role, Role::Button);
    assert_eq!(close.hints.link_text.as_deref(), Some("Close"));
    assert_eq!(plain.hints.role, Role::Content);
    assert_eq!(plain.hints.title.as_deref(), Some("A title"));
    assert_eq!(plain.hints.link_url, None);
}

#[test]
fn presentation_and_aria_hidden_mark_an_image_decorative() {
    let markup = read(
        r#"<img src="a.png" role="presentation" alt="Swirl"><img src="b.png" role="none">
           <div aria-hidden="true"><p><img src="c.png" alt="Divider"></p></div>
           <img src="d.png" aria-hidden="false" alt="Shown">"#,
        &page(),
    );
    let decorative: Vec<_> = markup.images.iter().map(|i| i.decorative).collect();
    assert_eq!(
        decorative,
        [
            Some(Decorative::Presentation),
            Some(Decorative::Presentation),
            Some(Decorative::AriaHidden),
            None
        ]
    );
}

#[test]
fn inline_backgrounds_are_listed_decorative_unless_their_element_is_an_image() {
    let markup = read(
        r#"<section style="color:#333; background: url('/bg/hero.jpg') center / cover, url(/bg/noise.png)">
             <div role="img" aria-label="A map of the trail" style="background-image:url(map.png)"></div>
             <div role="img" style="background-image:url(unnamed.png)"></div>
           </section>"#,
        &page(),
    );
    let urls: Vec<&str> = markup.images.iter().map(url).collect();
    assert_eq!(
        urls,
        [
            "https://shop.example/bg/hero.jpg",
            "https://shop.example/bg/noise.png",
            "https://shop.example/catalogue/boots/map.png",
            "https://shop.example/catalogue/boots/unnamed.png",
        ]
    );
    assert!(markup
        .images
        .iter()
        .all(|i| i.element == Kind::Background && i.hints.role == Role::Background));
    assert_eq!(markup.images[0].decorative, Some(Decorative::Background));
    assert_eq!(markup.images[2].decorative, None);
    assert_eq!(markup.images[2].alt.as_deref(), Some("A map of the trail"));
    assert_eq!(markup.images[3].alt, None);
}

#[test]
fn data_uris_unusable_and_missing_addresses_are_listed_as_such() {
    let markup = read(
        r#"<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="">
           <img src="data:image/gif;base64,R0lG" data-src="/lazy/real.jpg" alt="Lazy">
           <img src="javascript:void(0)"><img src="http://[::1"><img alt="nothing">"#,
        &page(),
    );
    let sources: Vec<&Source> = markup.images.iter().map(|i| &i.source).collect();
    assert_eq!(sources[0], &Source::Data);
    assert_eq!(url(&markup.images[1]), "https://shop.example/lazy/real.jpg");
    assert_eq!(sources[2], &Source::Invalid("javascript:void(0)".into()));
    assert_eq!(sources[3], &Source::Invalid("http://[::1".into()));
    assert_eq!(sources[4], &Source::Missing);
}

#[test]
fn a_page_with_more_images_than_the_cap_is_listed_up_to_it_and_counted_whole() {
    let html = "<img src=a.png>".repeat(MAX_IMAGES + 5);
    let markup = read(&html, &page());
    assert_eq!(markup.images.len(), MAX_IMAGES);
    assert_eq!(markup.found, MAX_IMAGES + 5);
}

#[test]
fn long_text_around_an_image_is_bounded() {
    let html = format!("<a href='/x'><img src=a.png>{}</a>", "word ".repeat(500));
    let markup = read(&html, &page());
    let text = markup.images[0].hints.link_text.as_deref().unwrap();
    assert!(text.chars().count() <= TEXT_CHARS, "{}", text.len());
    assert!(text.starts_with("word word"));
}

#[test]
fn the_pages_language_is_its_html_lang() {
    let lang = |html: &str| read(html, &page()).lang;
    assert_eq!(
        lang(r#"<html lang=" fr-CA "><body><img src="a.jpg"></body></html>"#).as_deref(),
        Some("fr-CA")
    );
    assert_eq!(lang(r#"<html lang=""><img src="a.jpg">"#), None);
    assert_eq!(
        lang(r#"<img src="a.jpg" lang="de">"#),
        None,
        "only <html>'s"
    );
}
