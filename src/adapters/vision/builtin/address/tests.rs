use super::*;

fn link(address: &str) -> Option<String> {
    destination(address, None, Role::Link)
}

#[test]
fn a_link_names_its_page_and_host_without_www() {
    assert_eq!(
        link("https://www.example.com/pricing/annual-plans").as_deref(),
        Some("Annual plans, example.com")
    );
    assert_eq!(
        link("https://shop.example.com/garden_tools/?sort=price#top").as_deref(),
        Some("Garden tools, shop.example.com")
    );
}

#[test]
fn ids_file_endings_languages_and_index_pages_are_passed_over() {
    assert_eq!(
        link("https://example.com/en-US/products/garden-trowel.html").as_deref(),
        Some("Garden trowel, example.com")
    );
    assert_eq!(
        link("https://example.com/blog/spring-sowing/12345/").as_deref(),
        Some("Spring sowing, example.com")
    );
    assert_eq!(
        link("https://example.com/order/550e8400-e29b-41d4-a716-446655440000").as_deref(),
        Some("Order, example.com")
    );
    assert_eq!(
        link("https://example.com/fr/index.php").as_deref(),
        Some("Link to example.com")
    );
}

#[test]
fn a_link_to_a_bare_host_says_where_it_goes() {
    assert_eq!(
        link("https://www.example.com/").as_deref(),
        Some("Link to example.com")
    );
    assert_eq!(
        destination("https://example.com", None, Role::Button).as_deref(),
        Some("Go to example.com")
    );
}

#[test]
fn escapes_are_decoded_and_bad_ones_kept() {
    assert_eq!(
        link("https://example.com/caf%C3%A9-menu").as_deref(),
        Some("Café menu, example.com")
    );
    assert_eq!(
        link("https://example.com/100%25-wool").as_deref(),
        Some("100% wool, example.com")
    );
    assert_eq!(percent_decode("50%2"), "50%2");
    assert_eq!(percent_decode("%+1x"), "%+1x");
    assert_eq!(percent_decode("%FF"), "\u{FFFD}");
}

#[test]
fn relative_links_are_read_against_the_page_or_name_only_the_page() {
    assert_eq!(
        destination("/pricing", Some("https://www.example.com/home"), Role::Link).as_deref(),
        Some("Pricing, example.com")
    );
    assert_eq!(link("../contact-us").as_deref(), Some("Contact us"));
    assert_eq!(link("pricing.html").as_deref(), Some("Pricing"));
    assert_eq!(link("/"), None);
}

#[test]
fn a_link_without_a_scheme_starting_with_a_domain_gets_https() {
    assert_eq!(
        link("example.com/pricing").as_deref(),
        Some("Pricing, example.com")
    );
    assert_eq!(
        link("www.example.org").as_deref(),
        Some("Link to example.org")
    );
}

#[test]
fn email_and_phone_links_say_what_they_do() {
    assert_eq!(
        link("mailto:sales@example.com?subject=Hello").as_deref(),
        Some("Email sales@example.com")
    );
    assert_eq!(
        destination("tel:+1-555-0100", None, Role::Button).as_deref(),
        Some("Call +1-555-0100")
    );
    assert_eq!(link("mailto:"), None);
}

#[test]
fn odd_input_gives_nothing_and_never_panics() {
    for odd in [
        "",
        "   ",
        "javascript:void(0)",
        "data:image/png;base64,AAAA",
        "http://",
        "https://[::1",
        "%",
        "%%%",
        "é/ü/%E2%82",
        "?q=1",
        "#top",
        "https://example.com/%00%01",
    ] {
        let _ = link(odd);
        let _ = destination(odd, Some(odd), Role::Button);
        let _ = organisation_name(odd);
    }
    assert_eq!(link("javascript:void(0)"), None);
    assert_eq!(link("#top"), None);
}

#[test]
fn an_organisation_is_named_from_its_domain() {
    let name = |a: &str| organisation_name(a);
    assert_eq!(name("acme-tools.com").as_deref(), Some("Acme Tools"));
    assert_eq!(
        name("https://www.acme-tools.com/about").as_deref(),
        Some("Acme Tools")
    );
    assert_eq!(
        name("https://shop.green_leaf.co.uk/").as_deref(),
        Some("Green Leaf")
    );
    assert_eq!(name("https://example.com.").as_deref(), Some("Example"));
    assert_eq!(name("http://192.168.1.10/"), None);
    assert_eq!(name("https://xn--caf-dma.com/"), None);
    assert_eq!(name("/about"), None);
    assert_eq!(name("mailto:hello@acme.com"), None);
}

#[test]
fn control_characters_hidden_in_escapes_are_dropped() {
    assert_eq!(percent_decode("caf%C3%A9%0Amenu%00"), "cafémenu");
}
