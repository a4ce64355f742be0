//! Real-browser tests: headless Chromium through chromedriver, with axe-core for accessibility
//! (`harness.rs`; `scripts/deps` installs all three, and the tests fail, not skip, without
//! them). Each test has its own browser and profile; at most two browsers run at once.
mod dashboard;
pub mod harness;

use harness::{artifacts_dir, png_size, serve_page, Browser};

use crate::support::{spawn, Backend};

/// The published `/docs` page opens in a browser, has a title and its operations, and can be
/// photographed whole at 1280 px and at a phone's 390 px.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docs_page_opens_in_a_browser() {
    let app = spawn(Backend::Sqlite).await;
    let browser = Browser::start().await;
    browser.goto(&format!("{}/docs", app.base)).await;
    assert!(
        !browser.title().await.trim().is_empty(),
        "/docs has no title"
    );
    browser.find("[id=\"generate\"]").await;

    let wide = artifacts_dir().join("docs-1280.png");
    browser.screenshot(&wide).await;
    let (width, height) = png_size(&std::fs::read(&wide).expect("the screenshot"));
    assert_eq!(width, 1280, "{}", wide.display());
    assert!(height > 900, "the whole page, not the window: {height} px");

    browser.set_width(390).await;
    let phone = artifacts_dir().join("docs-390.png");
    browser.screenshot(&phone).await;
    assert_eq!(
        png_size(&std::fs::read(&phone).expect("the screenshot")).0,
        390
    );
    browser.close().await;
}

/// axe-core finds no serious or critical violation on `/docs`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docs_page_is_accessible() {
    let app = spawn(Backend::Sqlite).await;
    let browser = Browser::start().await;
    browser.goto(&format!("{}/docs", app.base)).await;
    browser.find("[id=\"generate\"]").await;
    browser.assert_accessible("/docs").await;
    browser.close().await;
}

/// The check cannot pass by itself: a page with an image without alt text and a field without
/// a label fails it, with both rules and the elements named, and the same page mended passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_accessibility_check_catches_a_bad_page() {
    const DOT: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
    let bad = serve_page(&format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Bad</title></head>\
         <body><main><h1>Bad</h1><img id=\"photo\" src=\"{DOT}\">\
         <input id=\"query\" type=\"text\"></main></body></html>"
    ))
    .await;
    let good = serve_page(&format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Good</title></head>\
         <body><main><h1>Good</h1><img id=\"photo\" src=\"{DOT}\" alt=\"A red dot\">\
         <label for=\"query\">Search</label><input id=\"query\" type=\"text\"></main></body></html>"
    ))
    .await;
    let browser = Browser::start().await;

    browser.goto(&bad).await;
    let violations = browser.axe().await;
    for (rule, target) in [("image-alt", "#photo"), ("label", "#query")] {
        let found = violations
            .iter()
            .find(|v| v.id == rule)
            .unwrap_or_else(|| panic!("axe did not report {rule}: {violations:#?}"));
        assert!(found.is_serious(), "{rule} is {}", found.impact);
        assert_eq!(found.targets(), [target], "{rule}");
        assert!(!found.help.is_empty());
    }
    let failed = tokio::spawn(async move { browser.assert_accessible("the bad page").await }).await;
    let message = *failed
        .expect_err("assert_accessible passed a page without alt text or labels")
        .into_panic()
        .downcast::<String>()
        .expect("a panic message");
    assert!(
        message.contains("image-alt") && message.contains("#query"),
        "{message}"
    );

    let browser = Browser::start().await;
    browser.goto(&good).await;
    browser.assert_accessible("the mended page").await;
    browser.close().await;
}

/// The helpers the dashboard tests use: a field found and filled by its label, a list by its
/// label, a button clicked by its text, and text that the page writes a moment later waited for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_helpers_fill_pick_click_and_read() {
    let page = serve_page(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Form</title></head>
        <body><main><h1>Describe an image</h1>
        <form>
          <label for="url">Image URL</label> <input id="url" type="url">
          <label>Language <select id="lang"><option>English</option><option>German</option></select></label>
          <span id="kw-label">Keywords</span> <input aria-labelledby="kw-label" id="kw">
          <button type="button" id="go">Generate alt text</button>
        </form>
        <p id="out" aria-live="polite"></p>
        <script>
          document.getElementById("go").addEventListener("click", () => {
            const said = [document.getElementById("url").value, document.getElementById("lang").value,
                          document.getElementById("kw").value].join(" | ");
            // The answer comes later, as one from the API would.
            setTimeout(() => {
              const result = document.createElement("output");
              result.id = "result";
              result.textContent = "Done: " + said;
              document.getElementById("out").append(result);
            }, 300);
          });
        </script></main></body></html>"#,
    )
    .await;
    let browser = Browser::start().await;
    browser.goto(&page).await;
    browser
        .fill("Image URL", "https://example.test/old.jpg")
        .await;
    browser
        .fill("Image URL", "https://example.test/cat.jpg")
        .await;
    browser.select("Language", "German").await;
    browser.fill("Keywords", "cats").await;
    browser.click_button("Generate alt text").await;
    browser.wait_for_text("Done:").await;
    assert_eq!(
        browser.text("#result").await,
        "Done: https://example.test/cat.jpg | German | cats"
    );
    assert_eq!(browser.find_all("output").await.len(), 1);
    assert_eq!(browser.horizontal_overflow().await, 0);
    browser.assert_accessible("the form").await;
    browser.close().await;
}
