//! The dashboard in a real browser, as an owner uses it: sign in (a wrong password refused),
//! create a key and call the API with it, revoke it (the API then answers 401), try a
//! generation and find it in history from the dashboard, switch overage on (the usage API
//! shows it), open a batch and send its webhook again, and sign out (the dashboard then sends
//! the browser to sign-in). Every page passes axe-core with no serious or critical violation,
//! and the overview, keys and try-it pages are photographed at 1280 px for the docs.
use std::path::PathBuf;

use altframe::usecases::{accounts, logins};
use altframe_domain::plan::Plan;
use serde_json::{json, Value};

use super::harness::Browser;
use crate::support::receiver::Receiver;
use crate::support::{base64_of, spawn_with, Backend, Options, TestApp};

const EMAIL: &str = "owner@example.com";
const PASSWORD: &str = "correct horse battery staple";

/// Where a screenshot goes: the docs' committed pictures when `ALTFRAME_UPDATE_SCREENSHOTS`
/// is set (to refresh them after the pages change), else the test's artifacts, so that an
/// ordinary run leaves the tree as it was.
fn screenshot_path(name: &str) -> PathBuf {
    let folder = if std::env::var_os("ALTFRAME_UPDATE_SCREENSHOTS").is_some() {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots")
    } else {
        super::harness::artifacts_dir()
    };
    folder.join(name)
}

async fn usage_with(app: &TestApp, key: &str) -> reqwest::Response {
    app.http
        .get(format!("{}/api/v1/usage", app.base))
        .header("x-api-key", key)
        .send()
        .await
        .expect("usage request")
}

async fn check_page(browser: &Browser, name: &str) {
    browser.assert_accessible(name).await;
    browser.set_width(390).await;
    let overflow = browser.horizontal_overflow().await;
    if overflow != 0 {
        // Name what reaches past the edge, to make the failure easy to mend.
        let culprits = browser
            .client
            .execute(
                "return Array.from(document.querySelectorAll('body *'))
                   .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                   .slice(0, 8)
                   .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right));",
                vec![],
            )
            .await
            .expect("find what is too wide");
        panic!("{name} is wider than a 390 px phone by {overflow} px: {culprits}");
    }
    browser.set_width(1280).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_uses_the_dashboard_in_a_browser() {
    let app = spawn_with(
        Backend::Sqlite,
        Options {
            plan: Plan::Pro,
            ..Options::default()
        },
    )
    .await;
    let core = &app.services.app;
    logins::create_login(core, &app.account_id, EMAIL, PASSWORD.into())
        .await
        .expect("a login");
    // Overage starts off, for the owner to switch on.
    accounts::set_overage(core, &app.account_id, false)
        .await
        .expect("overage off");
    // A finished batch with a webhook, for the batches page.
    let receiver = Receiver::start(0).await;
    let accepted: Value = app
        .post_bulk(&json!({
            "images": [{ "image_base64": base64_of("tiny-1x1.png") }],
            "webhook_url": receiver.url,
        }))
        .await
        .json()
        .await
        .expect("bulk accepted");
    let batch_id = accepted["batch_id"]
        .as_str()
        .expect("a batch id")
        .to_string();
    receiver.wait_for(1).await;

    let browser = Browser::start().await;

    // Signed out, the dashboard sends the browser to sign in; a wrong password is refused.
    browser.goto(&format!("{}/dashboard/keys", app.base)).await;
    browser.find("form[action=\"/sign-in\"]").await;
    check_page(&browser, "sign-in").await;
    browser.fill("E-mail address", EMAIL).await;
    browser.fill("Password", "not the password").await;
    browser.click_button("Sign in").await;
    browser
        .wait_for_text("The e-mail or password is not right")
        .await;
    check_page(&browser, "sign-in with an error").await;
    browser.fill("Password", PASSWORD).await;
    browser.click_button("Sign in").await;

    // Back where it was going: the keys page. Create a key; its secret is shown once.
    browser.find("h1").await;
    assert_eq!(browser.text("h1").await, "API keys");
    browser.fill("Label", "browser test").await;
    browser.click_button("Create key").await;
    let secret = browser.text("#new-key").await;
    assert!(secret.starts_with("af_live_"), "{secret}");
    check_page(&browser, "keys with a new key").await;
    browser.screenshot(screenshot_path("keys.png")).await;
    assert_eq!(usage_with(&app, &secret).await.status(), 200);

    // Revoke it, after a confirmation; the API then refuses it.
    browser.goto(&format!("{}/dashboard/keys", app.base)).await;
    let revoke = browser.find("a[href$=\"/revoke\"]").await;
    revoke.click().await.expect("open the revoke page");
    browser.wait_for_text("This cannot be undone").await;
    check_page(&browser, "revoke confirmation").await;
    browser.click_button("Revoke key").await;
    browser.wait_for_text("is revoked").await;
    assert_eq!(usage_with(&app, &secret).await.status(), 401);

    // Try a generation from an uploaded file; it is in history, from the dashboard.
    browser.goto(&format!("{}/dashboard/try", app.base)).await;
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny-1x1.png");
    browser
        .find("#image_file")
        .await
        .send_keys(&fixture.display().to_string())
        .await
        .expect("choose the file");
    browser.click_button("Describe the image").await;
    browser.find("#result-title").await;
    let alt = browser.text("#result-alt_text").await;
    assert!(!alt.is_empty());
    check_page(&browser, "try it with a result").await;
    browser.screenshot(screenshot_path("try-it.png")).await;
    browser
        .goto(&format!("{}/dashboard/history", app.base))
        .await;
    browser.wait_for_text("from dashboard").await;
    check_page(&browser, "history").await;
    let history: Value = app
        .get("/api/v1/history")
        .await
        .json()
        .await
        .expect("history");
    assert!(
        history["jobs"]
            .as_array()
            .expect("jobs")
            .iter()
            .any(|j| j["source"] == "dashboard"),
        "{history}"
    );

    // Overage on, from the overview; the usage API shows it.
    browser.goto(&format!("{}/dashboard", app.base)).await;
    browser.wait_for_text("Overage is").await;
    check_page(&browser, "overview").await;
    browser
        .click_button("Turn overage on ($0.03 per credit)")
        .await;
    browser.wait_for_text("Turn overage off").await;
    let usage: Value = app.get("/api/v1/usage").await.json().await.expect("usage");
    assert_eq!(usage["overage"]["enabled"], true, "{usage}");
    browser.screenshot(screenshot_path("overview.png")).await;

    // The batch: its items and webhook attempts, and a redelivery.
    browser
        .goto(&format!("{}/dashboard/batches", app.base))
        .await;
    check_page(&browser, "batches").await;
    browser
        .find(&format!("a[href=\"/dashboard/batches/{batch_id}\"]"))
        .await
        .click()
        .await
        .expect("open the batch");
    browser.wait_for_text("Delivered").await;
    check_page(&browser, "batch").await;
    browser.click_button("Send the webhook again").await;
    browser.wait_for_text("will be sent again").await;
    receiver.wait_for(2).await;

    browser
        .goto(&format!("{}/dashboard/settings", app.base))
        .await;
    check_page(&browser, "settings").await;

    // Signing out ends the session: the dashboard sends the browser to sign in again.
    browser.click_button(&format!("Sign out {EMAIL}")).await;
    browser.wait_for_text("You have signed out").await;
    browser.goto(&format!("{}/dashboard", app.base)).await;
    browser.find("form[action=\"/sign-in\"]").await;
    browser.close().await;
}
