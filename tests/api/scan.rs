//! POST /api/v1/scan, the report: pages served by the test (nested markup, relative
//! addresses, srcset, pictures, inline backgrounds, a base href, a redirect), each image with
//! its address, alt text, role and findings, free; and the pages it refuses (too large, a
//! redirect to a private address, not HTML, missing). The service runs as in production:
//! private networks refused, with only 127.0.0.1 (the test's site) allowed by name.
use std::sync::Arc;

use altframe::adapters::clock::ManualClock;
use altframe_domain::plan::Plan;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::site::{serve_site, Site};
use crate::support::{error_of, spawn_with, tiny_image, Backend, Options, TestApp};

on_both_backends!(
    a_page_is_listed_with_addresses_alt_text_roles_and_findings_for_free,
    base_href_redirects_and_charsets_are_followed,
    pages_that_cannot_be_scanned_are_refused_and_nothing_is_charged,
    a_scan_needs_a_key_and_has_its_own_rate_limit,
);

/// The largest page these tests' service reads.
pub const PAGE_CAP: usize = 64 * 1024;

/// A service that refuses private networks but allows 127.0.0.1, where the test's site, its
/// images and its webhook receiver listen.
pub async fn scanning_app(backend: Backend, plan: Plan, tweak: Options) -> TestApp {
    spawn_with(
        backend,
        Options {
            plan,
            allow_private_networks: false,
            settings: Arc::new(|settings| {
                settings.outbound.allowed_hosts = "127.0.0.1".parse().expect("allowed hosts");
                settings.pages.max_bytes = PAGE_CAP;
            }),
            ..tweak
        },
    )
    .await
}

pub async fn scan_ok(app: &TestApp, body: Value) -> Value {
    let response = app.post_scan(&body).await;
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

fn codes(image: &Value) -> Vec<&str> {
    image["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect()
}

async fn reservations(app: &TestApp) -> usize {
    app.event_types()
        .await
        .iter()
        .filter(|t| *t == "CreditsReserved")
        .count()
}

async fn a_page_is_listed_with_addresses_alt_text_roles_and_findings_for_free(backend: Backend) {
    let site = serve_site().await;
    let app = scanning_app(backend, Plan::Free, Options::default()).await;
    let report = scan_ok(
        &app,
        json!({ "page_url": site.url("/shop/boots/index.html") }),
    )
    .await;
    assert_eq!(report["page_url"], site.url("/shop/boots/index.html"));
    let images = report["images"].as_array().unwrap();
    let urls: Vec<String> = images
        .iter()
        .map(|i| i["url"].as_str().unwrap_or("-").to_string())
        .collect();
    let u = |path: &str| site.url(path);
    assert_eq!(
        urls,
        [
            u("/img/sample.png"),
            u("/img/sample.jpg?divider"),
            u("/img/sample.jpg?alpine"),
            u("/img/sample.png?x2"),
            u("/shop/boots/icons/cart.png"),
            u("/img/sample.png?search"),
            u("/img/tiny-1x1.png"),
            "-".into(),
            u("/img/sample.jpg?hero"),
            u("/img/sample.png?map"),
            u("/img/sample.jpg?good"),
        ]
    );
    let [logo, divider, alpine, file_name, cart, search, presentation, data, hero, map, good] =
        &images[..]
    else {
        panic!("{images:?}")
    };

    assert_eq!(
        (&logo["role"], &logo["link_url"], &logo["alt"]),
        (
            &json!("link"),
            &json!(u("/")),
            &json!("Trailhead Outfitters")
        )
    );
    assert_eq!(logo["needs_alt_text"], false);
    assert_eq!(divider["decorative"], "aria_hidden");
    assert_eq!(codes(divider), ["decorative_with_text"]);
    assert_eq!(divider["needs_alt_text"], false);

    // A picture inside a link inside a figure inside three divs: one image, its sources'
    // candidates with it, the link's address and text, the caption and the heading above.
    assert_eq!(alpine["element"], "picture");
    assert!(alpine["alt"].is_null() && alpine.as_object().unwrap().contains_key("alt"));
    assert_eq!(alpine["role"], "link");
    assert_eq!(alpine["link_url"], u("/shop/boots/alpine.html"));
    assert_eq!(alpine["link_text"], "Alpine boot");
    assert_eq!(alpine["caption"], "Our warmest boot");
    assert_eq!(alpine["heading"], "Winter boots");
    assert_eq!(
        alpine["srcset"],
        json!([
            u("/img/sample.webp"),
            u("/img/sample.webp?2x"),
            u("/img/sample.jpg?w=400"),
            u("/img/sample.jpg?w=800")
        ])
    );
    assert_eq!(codes(alpine), ["missing"]);
    assert_eq!(
        (&alpine["score"], &alpine["needs_alt_text"]),
        (&json!(0), &json!(true))
    );
    assert!(alpine.get("generation").is_none(), "no batch was asked for");

    // srcset only: the densest candidate is its address; a file name as alt needs new text.
    assert_eq!(file_name["srcset"].as_array().unwrap().len(), 2);
    assert_eq!(codes(file_name), ["file_name"]);
    assert_eq!(
        (&file_name["score"], &file_name["needs_alt_text"]),
        (&json!(30), &json!(true))
    );

    assert_eq!(
        (&cart["role"], &cart["decorative"], &cart["alt"]),
        (&json!("button"), &json!("empty_alt"), &json!(""))
    );
    assert_eq!(cart["link_text"], "Add to cart");
    assert_eq!(cart["needs_alt_text"], false);
    assert_eq!(
        (&search["role"], &search["link_text"]),
        (&json!("button"), &json!("Search"))
    );
    assert_eq!(search["needs_alt_text"], true);
    assert_eq!(presentation["decorative"], "presentation");
    assert_eq!(codes(presentation), Vec::<&str>::new());
    assert!(
        data["unusable"].as_str().unwrap().contains("data: URI"),
        "{data}"
    );
    assert_eq!(data["decorative"], "empty_alt");

    assert_eq!(
        (&hero["element"], &hero["role"], &hero["decorative"]),
        (
            &json!("background"),
            &json!("background"),
            &json!("background")
        )
    );
    assert_eq!(hero["needs_alt_text"], false);
    // A background whose element says it is an image, without a label, needs one.
    assert!(map.get("decorative").is_none());
    assert_eq!(codes(map), ["missing"]);
    assert_eq!(map["needs_alt_text"], true);
    assert_eq!(
        (&good["score"], &good["needs_alt_text"]),
        (&json!(100), &json!(false))
    );
    assert!(images
        .iter()
        .all(|i| i.get("unusable").is_none() || i == data));

    assert_eq!(
        report["summary"],
        json!({ "found": 11, "listed": 11, "missing_alt": 3, "decorative": 5,
                "with_findings": 5, "need_alt_text": 4 })
    );
    assert!(report.get("truncated").is_none() && report.get("batch").is_none());
    // Free: nothing reserved, nothing charged.
    assert_eq!(app.remaining().await, 50);
    assert_eq!(reservations(&app).await, 0);
}

async fn base_href_redirects_and_charsets_are_followed(backend: Backend) {
    let site = serve_site().await;
    let app = scanning_app(backend, Plan::Free, Options::default()).await;

    let based = scan_ok(&app, json!({ "page_url": site.url("/shop/based.html") })).await;
    let images = based["images"].as_array().unwrap();
    assert_eq!(images[0]["url"], site.url("/img/sample.jpg"));
    assert_eq!(images[0]["link_url"], site.url("/shop/boots/index.html"));
    assert_eq!(images[1]["url"], site.url("/img/sample.png"));

    // Relative addresses resolve against where the redirect led, not the address asked for.
    let redirected = scan_ok(&app, json!({ "page_url": site.url("/go/boots") })).await;
    assert_eq!(redirected["page_url"], site.url("/shop/boots/index.html"));
    assert_eq!(
        redirected["images"][4]["url"],
        site.url("/shop/boots/icons/cart.png")
    );

    let latin1 = scan_ok(&app, json!({ "page_url": site.url("/shop/latin1.html") })).await;
    assert_eq!(latin1["images"][0]["alt"], "Café terrace");
    assert!(latin1.get("language").is_none(), "no <html lang>");

    // The page's <html lang> is the language its alt text should be in.
    let french = scan_ok(&app, json!({ "page_url": site.url("/shop/fr.html") })).await;
    assert_eq!(french["language"], "fr");
    let french_codes: Vec<Vec<&str>> = french["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(codes)
        .collect();
    assert_eq!(french_codes, [vec!["language"], vec![], vec!["missing"]]);

    // More images than are listed: the first thousand, counted whole.
    let many = scan_ok(&app, json!({ "page_url": site.url("/many.html?n=1003") })).await;
    assert_eq!(many["images"].as_array().unwrap().len(), 1000);
    assert_eq!(
        (&many["summary"]["found"], &many["summary"]["listed"]),
        (&json!(1003), &json!(1000))
    );
    assert_eq!(many["truncated"], true);
}

async fn pages_that_cannot_be_scanned_are_refused_and_nothing_is_charged(backend: Backend) {
    let site = serve_site().await;
    // More refusals than the 10 scans a minute allowed by default.
    let options = Options {
        rate_limits: "scan=100".parse().unwrap(),
        ..Options::default()
    };
    let app = scanning_app(backend, Plan::Free, options).await;
    let refused = |body: Value| {
        let app = &app;
        async move { error_of(app.post_scan(&body).await, 400).await }
    };
    let page = |path: &str| json!({ "page_url": site.url(path) });

    let big = refused(page("/big.html")).await;
    assert!(
        big.starts_with("page_url: ") && big.contains(&format!("larger than {PAGE_CAP} bytes")),
        "{big}"
    );
    // The first hop is allowed (127.0.0.1); where it redirects is not: another name for the
    // same machine, and the cloud's metadata address.
    let Site { port, .. } = site;
    let localhost = refused(page("/go/localhost")).await;
    assert!(
        localhost.contains(&format!("http://localhost:{port}/"))
            && localhost.contains("private or reserved"),
        "{localhost}"
    );
    let metadata = refused(page("/go/metadata")).await;
    assert!(
        metadata.contains("169.254.169.254") && metadata.contains("private or reserved"),
        "{metadata}"
    );
    let private = refused(json!({ "page_url": "http://10.0.0.1/intranet" })).await;
    assert!(private.contains("private or reserved"), "{private}");

    let json_feed = refused(page("/feed.json")).await;
    assert!(
        json_feed.contains("not an HTML page") && json_feed.contains("application/json"),
        "{json_feed}"
    );
    let missing = refused(page("/missing.html")).await;
    assert!(missing.contains("answered HTTP 404"), "{missing}");
    let ftp = refused(json!({ "page_url": "ftp://example.com/" })).await;
    assert!(ftp.contains("not a valid http(s) URL"), "{ftp}");
    let absent = refused(json!({ "generate": true })).await;
    assert!(absent.starts_with("page_url is required"), "{absent}");
    let hook = refused(json!({ "page_url": site.url("/shop/boots/index.html"), "webhook_url": "https://example.com/h" })).await;
    assert!(hook.contains("only with generate: true"), "{hook}");
    let typed =
        refused(json!({ "page_url": site.url("/shop/boots/index.html"), "generate": "yes" })).await;
    assert!(typed.contains("generate"), "{typed}");
    let mode =
        refused(json!({ "page_url": site.url("/shop/boots/index.html"), "mode": "poetic" })).await;
    assert!(mode.contains("mode"), "{mode}");

    assert_eq!(app.remaining().await, 50);
    assert_eq!(reservations(&app).await, 0);
}

/// 12:00:10 UTC: ten seconds into a one-minute window.
fn ten_seconds_into_a_window() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-02T12:00:10Z")
        .unwrap()
        .with_timezone(&Utc)
}

async fn a_scan_needs_a_key_and_has_its_own_rate_limit(backend: Backend) {
    let site = serve_site().await;
    let clock = ManualClock::at(ten_seconds_into_a_window());
    let app = scanning_app(
        backend,
        Plan::Free,
        Options {
            clock: Arc::new(clock),
            rate_limits: "scan=2".parse().unwrap(),
            ..Options::default()
        },
    )
    .await;
    let body = json!({ "page_url": site.url("/shop/boots/index.html") });
    let anonymous = app
        .http
        .post(format!("{}/api/v1/scan", app.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    error_of(anonymous, 401).await;

    for remaining in ["1", "0"] {
        let response = app.post_scan(&body).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["x-ratelimit-limit"], "2");
        assert_eq!(response.headers()["x-ratelimit-remaining"], remaining);
    }
    let over = app.post_scan(&body).await;
    assert_eq!(over.headers()["retry-after"], "50");
    let message = error_of(over, 429).await;
    assert!(message.contains("2 requests per minute"), "{message}");
    // Generate keeps its own count.
    let generated = app.post_generate(&tiny_image()).await;
    assert_eq!(generated.status(), 200);
    assert_eq!(generated.headers()["x-ratelimit-remaining"], "59");
}
