//! The dashboard over HTTP, as a browser meets it: sign-in with its cookies and limits,
//! sessions shared by every process and ended by sign-out or a password reset, the CSRF
//! token on every form, one account's owner kept to that account, open signup, and model
//! output shown as text. Cookies are handled by hand (no cookie store), so that their
//! attributes can be checked, and redirects are not followed.
use std::sync::Arc;

use altframe::adapters::clock::ManualClock;
use altframe::adapters::vision::{VisionError, VisionOutput, VisionProvider, VisionRequest};
use altframe::api::dashboard::Signup;
use altframe::api::{HttpConfig, HttpsPolicy};
use altframe::run::startup::{Application, Overrides};
use altframe::usecases::{accounts, keys, logins, webhooks};
use altframe_domain::generation::{GeneratedText, Language};
use altframe_domain::job::Tokens;
use altframe_domain::plan::Plan;
use altframe_domain::{AccountId, Micros};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::receiver::Receiver;
use crate::support::{files, settings_for, spawn, spawn_with, Backend, Options, TestApp};

const EMAIL: &str = "owner@example.com";
const PASSWORD: &str = "a long enough password";
/// Seven days, as the session cookie's Max-Age.
const WEEK_SECONDS: &str = "604800";

// ---------------------------------------------------------------------------------------
// A browser by hand
// ---------------------------------------------------------------------------------------

/// No cookie store, no redirects followed: every cookie and Location is the test's to read.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// One Set-Cookie header: its name, value and attributes (as sent).
#[derive(Debug, Clone)]
struct SetCookie {
    name: String,
    value: String,
    attributes: Vec<String>,
}

impl SetCookie {
    fn parse(header: &str) -> SetCookie {
        let mut parts = header.split(';').map(str::trim);
        let (name, value) = parts
            .next()
            .and_then(|nv| nv.split_once('='))
            .unwrap_or_else(|| panic!("not a cookie: {header}"));
        SetCookie {
            name: name.to_string(),
            value: value.to_string(),
            attributes: parts.map(str::to_string).collect(),
        }
    }

    /// Whether the cookie has the flag (`HttpOnly`) or the `name=value` attribute,
    /// case-insensitively.
    fn has(&self, attribute: &str) -> bool {
        self.attributes
            .iter()
            .any(|a| a.eq_ignore_ascii_case(attribute))
    }

    /// The value of an attribute such as `Max-Age`.
    fn attribute(&self, name: &str) -> Option<String> {
        self.attributes.iter().find_map(|a| {
            let (n, v) = a.split_once('=')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }
}

fn set_cookies(response: &reqwest::Response) -> Vec<SetCookie> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| SetCookie::parse(v.to_str().expect("ASCII Set-Cookie")))
        .collect()
}

fn set_cookie(response: &reqwest::Response, name: &str) -> Option<SetCookie> {
    set_cookies(response).into_iter().find(|c| c.name == name)
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(LOCATION)
        .unwrap_or_else(|| panic!("no Location on a {} answer", response.status()))
        .to_str()
        .unwrap()
        .to_string()
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// The value of the first `<input … name="NAME" value="…">` of a page.
fn hidden_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_string())
}

/// What GET /sign-in (or /sign-up) gives: the `af_form` cookie and the form's hidden token.
struct FormToken {
    cookie: String,
    field: String,
}

async fn form_token(base: &str, path: &str) -> FormToken {
    let response = browser()
        .get(format!("{base}{path}"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200, "GET {path}");
    let cookie = set_cookie(&response, "af_form")
        .unwrap_or_else(|| panic!("GET {path} sets af_form"))
        .value;
    let html = response.text().await.unwrap();
    let field = hidden_field(&html, "csrf").expect("the form's csrf field");
    FormToken { cookie, field }
}

/// POST /sign-in (or /sign-up) as the form would, with `af_form` when given.
async fn post_credentials(
    base: &str,
    path: &str,
    form_cookie: Option<&str>,
    csrf: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    let mut request = browser().post(format!("{base}{path}")).form(&[
        ("csrf", csrf),
        ("next", ""),
        ("email", email),
        ("password", password),
    ]);
    if let Some(cookie) = form_cookie {
        request = request.header(COOKIE, format!("af_form={cookie}"));
    }
    request.send().await.expect("request")
}

async fn try_sign_in(base: &str, email: &str, password: &str) -> reqwest::Response {
    let token = form_token(base, "/sign-in").await;
    post_credentials(
        base,
        "/sign-in",
        Some(&token.cookie),
        &token.field,
        email,
        password,
    )
    .await
}

/// A signed-in browser: the session cookie's value and the session's form token.
#[derive(Debug, Clone)]
struct Session {
    secret: String,
    csrf: String,
}

/// Signs in through the form and reads the session's CSRF token from the overview.
async fn sign_in(base: &str, email: &str, password: &str) -> Session {
    let response = try_sign_in(base, email, password).await;
    assert_eq!(response.status(), 303, "sign-in of {email}");
    let secret = set_cookie(&response, "af_session")
        .expect("a session cookie")
        .value;
    let overview = get_page(base, Some(&secret), "/dashboard").await;
    assert_eq!(overview.status(), 200, "the new session opens the overview");
    let csrf = hidden_field(&overview.text().await.unwrap(), "csrf").expect("csrf on the page");
    Session { secret, csrf }
}

async fn get_page(base: &str, session: Option<&str>, path: &str) -> reqwest::Response {
    let mut request = browser().get(format!("{base}{path}"));
    if let Some(secret) = session {
        request = request.header(COOKIE, format!("af_session={secret}"));
    }
    request.send().await.expect("request")
}

/// A url-encoded form POST, with the session cookie when given.
async fn post_form(
    base: &str,
    session: Option<&str>,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = browser().post(format!("{base}{path}")).form(form);
    if let Some(secret) = session {
        request = request.header(COOKIE, format!("af_session={secret}"));
    }
    request.send().await.expect("request")
}

/// The try-it form as a browser sends it: multipart, with the tiny PNG as the file.
async fn post_try(base: &str, session: &str, csrf: Option<&str>) -> reqwest::Response {
    post_try_with(base, session, csrf, &[("mode", "standard")]).await
}

/// [`post_try`] with other form fields.
async fn post_try_with(
    base: &str,
    session: &str,
    csrf: Option<&str>,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    const BOUNDARY: &str = "----altframe-test-boundary-7MA4YWxkTrZu0gW";
    let mut body: Vec<u8> = Vec::new();
    let mut text = |name: &str, value: &str| {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    };
    if let Some(csrf) = csrf {
        text("csrf", csrf);
    }
    text("image_url", "");
    for field in ["alt_text", "title", "caption", "og_description"] {
        text("fields", field);
    }
    text("language", "");
    for (name, value) in fields {
        text(name, value);
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"image_file\"; filename=\"tiny-1x1.png\"\r\nContent-Type: image/png\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(&files::fixture("tiny-1x1.png"));
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    browser()
        .post(format!("{base}/dashboard/try"))
        .header(COOKIE, format!("af_session={session}"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .await
        .expect("request")
}

/// Where a page without a live session sends the browser.
fn assert_sent_to_sign_in(response: &reqwest::Response, next: &str, what: &str) {
    assert_eq!(response.status(), 303, "{what}");
    assert_eq!(
        location(response),
        format!("/sign-in?next={next}"),
        "{what}"
    );
}

// ---------------------------------------------------------------------------------------
// Accounts and logins
// ---------------------------------------------------------------------------------------

async fn create_login(app: &TestApp, account_id: &AccountId, email: &str, password: &str) {
    logins::create_login(&app.services.app, account_id, email, password.into())
        .await
        .expect("create login");
}

/// A second account in the same service, with its own key.
struct OtherAccount {
    id: AccountId,
    key: String,
    key_id: String,
}

async fn other_account(app: &TestApp) -> OtherAccount {
    let id = altframe::adapters::ids::account_id();
    accounts::open_account(
        &app.services.app,
        &id,
        "Other shop",
        Plan::Pro,
        Language::english(),
    )
    .await
    .expect("open the other account");
    let issued = keys::issue_key(&app.services.app, &id, "other production")
        .await
        .expect("issue the other key");
    OtherAccount {
        id,
        key: issued.key,
        key_id: issued.id.as_str().to_string(),
    }
}

async fn api_get(app: &TestApp, key: &str, path: &str) -> reqwest::Response {
    app.http
        .get(format!("{}{path}", app.base))
        .header("x-api-key", key)
        .send()
        .await
        .expect("request")
}

async fn usage(app: &TestApp) -> Value {
    let response = app.get("/api/v1/usage").await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn key_count(app: &TestApp) -> usize {
    keys::list(&app.services.app, &app.account_id)
        .await
        .expect("list keys")
        .len()
}

/// Another `serve` process on the same database: its own port, its own tasks.
async fn second_process(app: &TestApp) -> String {
    let settings = settings_for(&app.db, &Options::default());
    let application = Application::build(settings, Overrides::default())
        .await
        .expect("build the second process");
    let base = format!("http://{}", application.address());
    tokio::spawn(application.run_until_stopped(std::future::pending()));
    base
}

fn behind_proxy(trusted: &str) -> Options {
    Options {
        http: HttpConfig {
            https: HttpsPolicy {
                required: false,
                terminates_tls: false,
                trusted_proxies: HttpsPolicy::parse_proxies(trusted).unwrap(),
            },
            ..HttpConfig::default()
        },
        ..Options::default()
    }
}

fn signup_open() -> Options {
    Options {
        settings: Arc::new(|s| s.http.signup = Signup::Open),
        ..Options::default()
    }
}

// ---------------------------------------------------------------------------------------
// 1. Signing in
// ---------------------------------------------------------------------------------------

on_both_backends!(
    signing_in_sets_a_fresh_http_only_session_cookie,
    a_wrong_password_or_form_token_opens_no_session,
    five_wrong_passwords_pause_sign_in_for_that_email,
    twenty_failures_from_one_address_pause_sign_in_from_it,
    an_expired_session_sends_the_browser_to_sign_in,
    signing_out_ends_the_session_in_every_process,
    resetting_a_password_ends_the_logins_sessions,
    dashboard_forms_refuse_a_missing_or_foreign_csrf_token,
    owners_see_and_change_only_their_own_account,
    with_signup_open_a_visitor_opens_a_free_account,
    model_output_is_shown_as_text_never_as_markup,
    try_it_counts_against_the_plans_generate_limit,
    try_it_lists_the_languages_the_builtin_cannot_write,
    try_it_says_when_the_cache_answered_and_can_generate_anew,
);

async fn signing_in_sets_a_fresh_http_only_session_cookie(backend: Backend) {
    let app = spawn(backend).await;
    create_login(&app, &app.account_id, EMAIL, PASSWORD).await;

    // The form page sets its own anti-forgery cookie, the same value as its hidden field.
    let page = browser()
        .get(format!("{}/sign-in", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let form = set_cookie(&page, "af_form").expect("af_form on the sign-in page");
    assert!(form.has("HttpOnly"), "{form:?}");
    assert!(form.has("SameSite=Lax"), "{form:?}");
    assert!(!form.has("Secure"), "plain HTTP: {form:?}");
    let html = page.text().await.unwrap();
    assert_eq!(hidden_field(&html, "csrf").as_deref(), Some(&*form.value));

    // The right e-mail and password, with the form's token: off to the dashboard.
    let signed = post_credentials(
        &app.base,
        "/sign-in",
        Some(&form.value),
        &form.value,
        EMAIL,
        PASSWORD,
    )
    .await;
    assert_eq!(signed.status(), 303);
    assert_eq!(location(&signed), "/dashboard");
    let session = set_cookie(&signed, "af_session").expect("a session cookie");
    assert!(
        session.value.len() >= 32,
        "a long random secret: {session:?}"
    );
    assert!(session.has("HttpOnly"), "{session:?}");
    assert!(session.has("SameSite=Lax"), "{session:?}");
    assert!(session.has("Path=/"), "{session:?}");
    assert_eq!(
        session.attribute("Max-Age").as_deref(),
        Some(WEEK_SECONDS),
        "{session:?}"
    );
    assert!(!session.has("Secure"), "not Secure over plain HTTP");
    let overview = get_page(&app.base, Some(&session.value), "/dashboard").await;
    assert_eq!(overview.status(), 200);
    assert!(overview.text().await.unwrap().contains(EMAIL));

    // Signing in again, even from a browser that holds a session (or one planted on it),
    // gives a new session id.
    let token = form_token(&app.base, "/sign-in").await;
    let again = browser()
        .post(format!("{}/sign-in", app.base))
        .header(
            COOKIE,
            format!("af_form={}; af_session={}", token.cookie, session.value),
        )
        .form(&[
            ("csrf", token.field.as_str()),
            ("email", "Owner@Example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 303);
    let renewed = set_cookie(&again, "af_session").expect("a new session cookie");
    assert_ne!(renewed.value, session.value, "the session id is renewed");
    assert_eq!(
        get_page(&app.base, Some(&renewed.value), "/dashboard")
            .await
            .status(),
        200
    );
}

async fn a_wrong_password_or_form_token_opens_no_session(backend: Backend) {
    let app = spawn(backend).await;
    create_login(&app, &app.account_id, EMAIL, PASSWORD).await;

    let wrong = try_sign_in(&app.base, EMAIL, "not the password at all").await;
    assert_eq!(wrong.status(), 401);
    assert!(set_cookie(&wrong, "af_session").is_none());
    assert!(
        header(&wrong, "content-type").starts_with("text/html"),
        "an HTML page, not {}",
        header(&wrong, "content-type")
    );
    let body = wrong.text().await.unwrap();
    assert!(body.contains("not right"), "{body}");
    assert!(
        !body.contains("not the password at all"),
        "the password is never filled back in"
    );

    // An unknown e-mail reads the same.
    let unknown = try_sign_in(&app.base, "nobody@example.com", PASSWORD).await;
    assert_eq!(unknown.status(), 401);
    assert!(unknown.text().await.unwrap().contains("not right"));

    // The form token: missing entirely, only in the field, only in the cookie, or different.
    let token = form_token(&app.base, "/sign-in").await;
    let other = form_token(&app.base, "/sign-in").await;
    let cases: [(&str, Option<&str>, &str); 4] = [
        ("no token", None, ""),
        ("field without cookie", None, &token.field),
        ("cookie without field", Some(&token.cookie), ""),
        ("another form's token", Some(&token.cookie), &other.field),
    ];
    for (what, cookie, field) in cases {
        let refused = post_credentials(&app.base, "/sign-in", cookie, field, EMAIL, PASSWORD).await;
        assert_eq!(refused.status(), 403, "{what}");
        assert!(set_cookie(&refused, "af_session").is_none(), "{what}");
    }
    // The same token, both halves: in.
    let ok = post_credentials(
        &app.base,
        "/sign-in",
        Some(&token.cookie),
        &token.field,
        EMAIL,
        PASSWORD,
    )
    .await;
    assert_eq!(ok.status(), 303);
    assert!(set_cookie(&ok, "af_session").is_some());
}

/// Behind a trusted proxy that says HTTPS, the cookies are Secure; over plain HTTP, or when
/// someone who is not a trusted proxy says HTTPS, they are not.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn over_https_from_a_trusted_proxy_the_cookies_are_secure() {
    let app = spawn_with(Backend::Sqlite, behind_proxy("127.0.0.1/32")).await;
    create_login(&app, &app.account_id, EMAIL, PASSWORD).await;

    let sign_in_via = |base: String, proto: Option<&'static str>| async move {
        let mut get = browser().get(format!("{base}/sign-in"));
        if let Some(proto) = proto {
            get = get.header("x-forwarded-proto", proto);
        }
        let page = get.send().await.unwrap();
        let form = set_cookie(&page, "af_form").expect("af_form");
        let mut post = browser()
            .post(format!("{base}/sign-in"))
            .header(COOKIE, format!("af_form={}", form.value))
            .form(&[
                ("csrf", form.value.as_str()),
                ("email", EMAIL),
                ("password", PASSWORD),
            ]);
        if let Some(proto) = proto {
            post = post.header("x-forwarded-proto", proto);
        }
        let signed = post.send().await.unwrap();
        assert_eq!(signed.status(), 303);
        (form, set_cookie(&signed, "af_session").expect("af_session"))
    };

    let (form, session) = sign_in_via(app.base.clone(), Some("https")).await;
    assert!(form.has("Secure"), "af_form over HTTPS: {form:?}");
    assert!(session.has("Secure"), "af_session over HTTPS: {session:?}");
    assert!(session.has("HttpOnly") && session.has("SameSite=Lax"));

    let (form, session) = sign_in_via(app.base.clone(), None).await;
    assert!(!form.has("Secure"), "{form:?}");
    assert!(!session.has("Secure"), "{session:?}");

    // Not from a trusted proxy: the header proves nothing.
    let direct = spawn_with(Backend::Sqlite, behind_proxy("10.0.0.0/8")).await;
    create_login(&direct, &direct.account_id, EMAIL, PASSWORD).await;
    let (form, session) = sign_in_via(direct.base.clone(), Some("https")).await;
    assert!(!form.has("Secure"), "{form:?}");
    assert!(!session.has("Secure"), "{session:?}");
}

// ---------------------------------------------------------------------------------------
// 2. Sign-in limits
// ---------------------------------------------------------------------------------------

/// A clock that stands still 7½ minutes into a 15-minute window of failures, so that a test
/// never straddles two windows and the pause has a known length (8 minutes, rounded up).
fn mid_window() -> Options {
    let now = chrono::Utc::now().timestamp();
    let start = now.div_euclid(15 * 60) * 15 * 60;
    let at = chrono::DateTime::from_timestamp(start + 450, 0).expect("a time");
    Options {
        clock: Arc::new(ManualClock::at(at)),
        ..Options::default()
    }
}

async fn five_wrong_passwords_pause_sign_in_for_that_email(backend: Backend) {
    let app = spawn_with(backend, mid_window()).await;
    create_login(&app, &app.account_id, EMAIL, PASSWORD).await;
    let other = "colleague@example.com";
    create_login(&app, &app.account_id, other, PASSWORD).await;

    for attempt in 1..=5 {
        let wrong = try_sign_in(&app.base, EMAIL, "a wrong password, again").await;
        assert_eq!(wrong.status(), 401, "attempt {attempt}");
    }
    // The sixth, with the right password, is refused without a session.
    let paused = try_sign_in(&app.base, EMAIL, PASSWORD).await;
    assert_eq!(paused.status(), 429);
    assert!(set_cookie(&paused, "af_session").is_none());
    let body = paused.text().await.unwrap();
    assert!(body.contains("try again in 8 minutes"), "{body}");
    // However the e-mail is written.
    let paused = try_sign_in(&app.base, " OWNER@example.com ", PASSWORD).await;
    assert_eq!(paused.status(), 429);

    // Another e-mail from the same address is not paused.
    let colleague = try_sign_in(&app.base, other, PASSWORD).await;
    assert_eq!(colleague.status(), 303);
    assert!(set_cookie(&colleague, "af_session").is_some());
}

async fn twenty_failures_from_one_address_pause_sign_in_from_it(backend: Backend) {
    let app = spawn_with(backend, mid_window()).await;
    let (early, late) = ("early@example.com", "late@example.com");
    create_login(&app, &app.account_id, early, PASSWORD).await;
    create_login(&app, &app.account_id, late, PASSWORD).await;

    // Four failures each for five e-mails (none of them paused on its own): twenty from
    // 127.0.0.1.
    let guesses: Vec<String> = (1..=5).map(|i| format!("guess{i}@example.com")).collect();
    let mut failures = 0;
    for email in &guesses {
        for _ in 0..4 {
            failures += 1;
            if failures == 20 {
                // At nineteen, a right password still gets in.
                let ok = try_sign_in(&app.base, early, PASSWORD).await;
                assert_eq!(ok.status(), 303, "after 19 failures");
            }
            let wrong = try_sign_in(&app.base, email, "a wrong password, again").await;
            assert_eq!(wrong.status(), 401, "failure {failures} ({email})");
        }
    }
    assert_eq!(failures, 20);

    // The twenty-first attempt from the address, for a login with no failures of its own
    // and the right password, is refused.
    let paused = try_sign_in(&app.base, late, PASSWORD).await;
    assert_eq!(paused.status(), 429);
    assert!(set_cookie(&paused, "af_session").is_none());
    let body = paused.text().await.unwrap();
    assert!(body.contains("try again in 8 minutes"), "{body}");
}

// ---------------------------------------------------------------------------------------
// 3. Sessions
// ---------------------------------------------------------------------------------------

/// Every page, without a session or with one the database does not know, answers with a
/// redirect to sign in (303, as axum's `Redirect::to` gives), naming the page to return to.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pages_without_a_live_session_send_the_browser_to_sign_in() {
    let app = spawn(Backend::Sqlite).await;
    let pages = [
        "/dashboard",
        "/dashboard/keys",
        "/dashboard/keys/key_nothing/revoke",
        "/dashboard/history",
        "/dashboard/try",
        "/dashboard/batches",
        "/dashboard/batches/00000000-0000-0000-0000-000000000000",
        "/dashboard/settings",
    ];
    let unknown = "x".repeat(43);
    for path in pages {
        let none = get_page(&app.base, None, path).await;
        assert_sent_to_sign_in(&none, path, &format!("GET {path} without a cookie"));
        let forged = get_page(&app.base, Some(&unknown), path).await;
        assert_sent_to_sign_in(&forged, path, &format!("GET {path} with an unknown cookie"));
        let empty = get_page(&app.base, Some(""), path).await;
        assert_sent_to_sign_in(&empty, path, &format!("GET {path} with an empty cookie"));
    }
    let forms = [
        "/dashboard/overage",
        "/dashboard/keys",
        "/dashboard/keys/key_nothing/revoke",
        "/dashboard/batches/00000000-0000-0000-0000-000000000000/redeliver",
        "/dashboard/settings/webhook-secret",
        "/dashboard/settings/language",
        "/dashboard/settings/password",
        "/sign-out",
    ];
    for path in forms {
        let none = post_form(&app.base, None, path, &[("csrf", "x")]).await;
        assert_sent_to_sign_in(&none, "/dashboard", &format!("POST {path}"));
    }
    // The sign-in page itself needs no session.
    assert_eq!(get_page(&app.base, None, "/sign-in").await.status(), 200);
}

async fn an_expired_session_sends_the_browser_to_sign_in(backend: Backend) {
    let start = chrono::Utc::now();
    let clock = ManualClock::at(start);
    let app = spawn_with(
        backend,
        Options {
            clock: Arc::new(clock.clone()),
            ..Options::default()
        },
    )
    .await;
    create_login(&app, &app.account_id, EMAIL, PASSWORD).await;
    let session = sign_in(&app.base, EMAIL, PASSWORD).await;

    clock.set(start + chrono::Duration::days(7) - chrono::Duration::minutes(1));
    let still = get_page(&app.base, Some(&session.secret), "/dashboard/keys").await;
    assert_eq!(still.status(), 200, "a minute before the week is up");

    clock.set(start + chrono::Duration::days(7) + chrono::Duration::minutes(1));
    let expired = get_page(&app.base, Some(&session.secret), "/dashboard/keys").await;
    assert_sent_to_sign_in(&expired, "/dashboard/keys", "a week and a minute on");
    assert!(
        logins::session(&app.services.app, &session.secret)
            .await
            .unwrap()
            .is_none(),
        "the use case agrees"
    );
}

async fn signing_out_ends_the_session_in_every_process(backend: Backend) {
    let app = spawn(backend).await;
    create_login(&app, &app.account_id, EMAIL, PASSWORD).await;
    let other_base = second_process(&app).await;
    let session = sign_in(&app.base, EMAIL, PASSWORD).await;
    let second = sign_in(&app.base, EMAIL, PASSWORD).await;

    // The second process honours the session the first one opened.
    let there = get_page(&other_base, Some(&session.secret), "/dashboard").await;
    assert_eq!(there.status(), 200);
    assert!(there.text().await.unwrap().contains(EMAIL));

    // Signing out without the session's token does nothing.
    let forged = post_form(&app.base, Some(&session.secret), "/sign-out", &[]).await;
    assert_eq!(forged.status(), 403);
    let foreign = post_form(
        &app.base,
        Some(&session.secret),
        "/sign-out",
        &[("csrf", &second.csrf)],
    )
    .await;
    assert_eq!(foreign.status(), 403, "another session's token");
    assert_eq!(
        get_page(&other_base, Some(&session.secret), "/dashboard")
            .await
            .status(),
        200
    );

    // Signed out on the second process: the cookie is cleared, and neither process
    // honours the session any more.
    let out = post_form(
        &other_base,
        Some(&session.secret),
        "/sign-out",
        &[("csrf", &session.csrf)],
    )
    .await;
    assert_eq!(out.status(), 303);
    assert_eq!(location(&out), "/sign-in?signed_out=1");
    let cleared = set_cookie(&out, "af_session").expect("the cookie is cleared");
    assert!(cleared.value.is_empty(), "{cleared:?}");
    assert_eq!(cleared.attribute("Max-Age").as_deref(), Some("0"));
    for base in [&app.base, &other_base] {
        let after = get_page(base, Some(&session.secret), "/dashboard/settings").await;
        assert_sent_to_sign_in(&after, "/dashboard/settings", base);
    }
    assert!(logins::session(&app.services.app, &session.secret)
        .await
        .unwrap()
        .is_none());
    // Only that session ended.
    assert_eq!(
        get_page(&other_base, Some(&second.secret), "/dashboard")
            .await
            .status(),
        200
    );
}

async fn resetting_a_password_ends_the_logins_sessions(backend: Backend) {
    let app = spawn(backend).await;
    create_login(&app, &app.account_id, EMAIL, PASSWORD).await;
    let colleague = "colleague@example.com";
    create_login(&app, &app.account_id, colleague, PASSWORD).await;
    let first = sign_in(&app.base, EMAIL, PASSWORD).await;
    let second = sign_in(&app.base, EMAIL, PASSWORD).await;
    let theirs = sign_in(&app.base, colleague, PASSWORD).await;

    let ended = logins::reset_password(&app.services.app, EMAIL, "a brand new password".into())
        .await
        .expect("reset");
    assert_eq!(ended, 2);
    for session in [&first, &second] {
        let after = get_page(&app.base, Some(&session.secret), "/dashboard").await;
        assert_sent_to_sign_in(&after, "/dashboard", "after the reset");
    }
    assert_eq!(
        get_page(&app.base, Some(&theirs.secret), "/dashboard")
            .await
            .status(),
        200,
        "another login's session stays"
    );
    assert_eq!(try_sign_in(&app.base, EMAIL, PASSWORD).await.status(), 401);
    assert_eq!(
        try_sign_in(&app.base, EMAIL, "a brand new password")
            .await
            .status(),
        303
    );
}

// ---------------------------------------------------------------------------------------
// 4. CSRF
// ---------------------------------------------------------------------------------------

async fn dashboard_forms_refuse_a_missing_or_foreign_csrf_token(backend: Backend) {
    let app = spawn_with(
        backend,
        Options {
            plan: Plan::Pro,
            ..Options::default()
        },
    )
    .await;
    create_login(&app, &app.account_id, EMAIL, PASSWORD).await;
    let other = other_account(&app).await;
    create_login(&app, &other.id, "other@example.com", PASSWORD).await;
    let mine = sign_in(&app.base, EMAIL, PASSWORD).await;
    let theirs = sign_in(&app.base, "other@example.com", PASSWORD).await;
    assert_ne!(mine.csrf, theirs.csrf);
    let bad_tokens: [(&str, Option<&str>); 3] = [
        ("no token", None),
        ("an empty token", Some("")),
        ("another session's token", Some(theirs.csrf.as_str())),
    ];
    let with = |token: Option<&str>, rest: &[(&'static str, &'static str)]| {
        let mut form: Vec<(&'static str, String)> =
            rest.iter().map(|(k, v)| (*k, v.to_string())).collect();
        if let Some(token) = token {
            form.push(("csrf", token.to_string()));
        }
        form
    };
    let post = |path: String, form: Vec<(&'static str, String)>| {
        let base = app.base.clone();
        let secret = mine.secret.clone();
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post_form(&base, Some(&secret), &path, &form).await
        }
    };

    let receiver = Receiver::start(0).await;
    let accepted: Value = app
        .post_bulk(&json!({
            "images": [{ "image_base64": crate::support::base64_of("tiny-1x1.png") }],
            "webhook_url": receiver.url,
        }))
        .await
        .json()
        .await
        .unwrap();
    let batch_id = accepted["batch_id"].as_str().expect("a batch").to_string();
    let (secret_before, _) = webhooks::secret(&app.services.app, &app.account_id, false)
        .await
        .unwrap();
    let keys_before = key_count(&app).await;
    let test_key_id = keys::list(&app.services.app, &app.account_id)
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.key.name == "test")
        .expect("the test's key")
        .key
        .id;
    let before = usage(&app).await;
    assert_eq!(
        before["overage"]["enabled"], true,
        "Pro opens with overage on"
    );
    let credits_before = before["credits"]["remaining"].clone();

    for (what, token) in bad_tokens {
        let refused = post(
            "/dashboard/overage".into(),
            with(token, &[("enabled", "false")]),
        )
        .await;
        assert_eq!(refused.status(), 403, "overage, {what}");
        assert_eq!(usage(&app).await["overage"]["enabled"], true, "{what}");

        let refused = post(
            "/dashboard/keys".into(),
            with(token, &[("label", "sneaky")]),
        )
        .await;
        assert_eq!(refused.status(), 403, "new key, {what}");
        assert_eq!(key_count(&app).await, keys_before, "{what}");

        let refused = post(
            format!("/dashboard/keys/{test_key_id}/revoke"),
            with(token, &[]),
        )
        .await;
        assert_eq!(refused.status(), 403, "revoke, {what}");
        assert_eq!(
            app.get("/api/v1/usage").await.status(),
            200,
            "the key still works ({what})"
        );

        let refused = post(
            "/dashboard/settings/webhook-secret".into(),
            with(token, &[("action", "rotate")]),
        )
        .await;
        assert_eq!(refused.status(), 403, "webhook secret, {what}");
        let (secret_now, _) = webhooks::secret(&app.services.app, &app.account_id, false)
            .await
            .unwrap();
        assert_eq!(secret_now, secret_before, "{what}");

        let refused = post(
            "/dashboard/settings/language".into(),
            with(token, &[("language", "fr")]),
        )
        .await;
        assert_eq!(refused.status(), 403, "language, {what}");
        let requester = accounts::requester(&app.services.app, &app.account_id)
            .await
            .unwrap();
        assert_eq!(requester.default_language.as_str(), "en", "{what}");

        let refused = post(
            "/dashboard/settings/password".into(),
            with(
                token,
                &[
                    ("current", PASSWORD),
                    ("new", "an attacker's password"),
                    ("confirm", "an attacker's password"),
                ],
            ),
        )
        .await;
        assert_eq!(refused.status(), 403, "password, {what}");
        assert_eq!(
            get_page(&app.base, Some(&mine.secret), "/dashboard")
                .await
                .status(),
            200,
            "the session survives ({what})"
        );

        let refused = post(
            format!("/dashboard/batches/{batch_id}/redeliver"),
            with(token, &[]),
        )
        .await;
        assert_eq!(refused.status(), 403, "redeliver, {what}");
        assert!(
            !app.event_types()
                .await
                .iter()
                .any(|t| t == "WebhookRedeliveryRequested"),
            "{what}"
        );

        let refused = post_try(&app.base, &mine.secret, token).await;
        assert_eq!(refused.status(), 403, "try, {what}");
        assert_eq!(
            usage(&app).await["credits"]["remaining"],
            credits_before,
            "{what}"
        );
        let history: Value = app.get("/api/v1/history").await.json().await.unwrap();
        assert!(
            !history["jobs"]
                .as_array()
                .unwrap()
                .iter()
                .any(|j| j["source"] == "dashboard"),
            "{what}: {history}"
        );
    }
    // The old password still works: nothing was changed.
    assert_eq!(try_sign_in(&app.base, EMAIL, PASSWORD).await.status(), 303);

    // With the session's own token, the same forms do their work.
    let done = post(
        "/dashboard/overage".into(),
        with(Some(&mine.csrf), &[("enabled", "false")]),
    )
    .await;
    assert_eq!(done.status(), 303);
    assert_eq!(usage(&app).await["overage"]["enabled"], false);
    let done = post(
        "/dashboard/keys".into(),
        with(Some(&mine.csrf), &[("label", "staging")]),
    )
    .await;
    assert_eq!(done.status(), 201);
    assert_eq!(key_count(&app).await, keys_before + 1);
    let done = post(
        "/dashboard/settings/language".into(),
        with(Some(&mine.csrf), &[("language", "fr")]),
    )
    .await;
    assert_eq!(done.status(), 303);
    let done = post(
        format!("/dashboard/batches/{batch_id}/redeliver"),
        with(Some(&mine.csrf), &[]),
    )
    .await;
    assert!(
        matches!(done.status().as_u16(), 303 | 409),
        "past the token check (redelivered, or refused as not yet possible): {}",
        done.status()
    );
    let done = post_try(&app.base, &mine.secret, Some(&mine.csrf)).await;
    assert_eq!(done.status(), 200);
}

// ---------------------------------------------------------------------------------------
// 5. One account's owner, one account
// ---------------------------------------------------------------------------------------

async fn owners_see_and_change_only_their_own_account(backend: Backend) {
    let app = spawn(backend).await;
    create_login(&app, &app.account_id, EMAIL, PASSWORD).await;
    let other = other_account(&app).await;
    create_login(&app, &other.id, "other@example.com", PASSWORD).await;
    let mine = sign_in(&app.base, EMAIL, PASSWORD).await;
    let theirs = sign_in(&app.base, "other@example.com", PASSWORD).await;

    // The other account's batch and job, made through the API with its key.
    let bulk = app
        .http
        .post(format!("{}/api/v1/generate/bulk", app.base))
        .header("x-api-key", &other.key)
        .json(&json!({ "images": [{ "image_base64": crate::support::base64_of("tiny-1x1.png") }] }))
        .send()
        .await
        .unwrap();
    assert_eq!(bulk.status(), 202);
    let bulk: Value = bulk.json().await.unwrap();
    let batch_id = bulk["batch_id"].as_str().unwrap().to_string();
    let generated = app
        .http
        .post(format!("{}/api/v1/generate", app.base))
        .header("x-api-key", &other.key)
        .json(&crate::support::tiny_image())
        .send()
        .await
        .unwrap();
    assert_eq!(generated.status(), 200);
    let job_id = generated.json::<Value>().await.unwrap()["id"]
        .as_str()
        .expect("the job's id")
        .to_string();

    // Their owner sees them (so a 404 below is about whose they are).
    let revoke_page = format!("/dashboard/keys/{}/revoke", other.key_id);
    let batch_page = format!("/dashboard/batches/{batch_id}");
    assert_eq!(
        get_page(&app.base, Some(&theirs.secret), &revoke_page)
            .await
            .status(),
        200
    );
    assert_eq!(
        get_page(&app.base, Some(&theirs.secret), &batch_page)
            .await
            .status(),
        200
    );
    let their_history = get_page(&app.base, Some(&theirs.secret), "/dashboard/history").await;
    assert!(their_history.text().await.unwrap().contains(&job_id));

    // This owner does not.
    let page = get_page(&app.base, Some(&mine.secret), &revoke_page).await;
    assert_eq!(page.status(), 404, "another account's key");
    let revoke = post_form(
        &app.base,
        Some(&mine.secret),
        &revoke_page,
        &[("csrf", &mine.csrf)],
    )
    .await;
    assert_eq!(revoke.status(), 404, "revoking another account's key");
    assert_eq!(
        api_get(&app, &other.key, "/api/v1/usage").await.status(),
        200,
        "the other account's key still works"
    );
    assert!(keys::list(&app.services.app, &other.id)
        .await
        .unwrap()
        .iter()
        .all(|k| k.key.revoked_at.is_none()));

    let page = get_page(&app.base, Some(&mine.secret), &batch_page).await;
    assert_eq!(page.status(), 404, "another account's batch");
    let redeliver = post_form(
        &app.base,
        Some(&mine.secret),
        &format!("{batch_page}/redeliver"),
        &[("csrf", &mine.csrf)],
    )
    .await;
    assert_eq!(
        redeliver.status(),
        404,
        "redelivering another account's batch"
    );

    for (path, secret) in [
        ("/dashboard/keys", "other production"),
        ("/dashboard/history", job_id.as_str()),
        ("/dashboard/batches", batch_id.as_str()),
    ] {
        let page = get_page(&app.base, Some(&mine.secret), path).await;
        assert_eq!(page.status(), 200, "{path}");
        let body = page.text().await.unwrap();
        assert!(!body.contains(secret), "{path} shows {secret}");
    }
}

// ---------------------------------------------------------------------------------------
// 6. Signup
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn signup_is_closed_by_default() {
    let app = spawn(Backend::Sqlite).await;
    assert_eq!(get_page(&app.base, None, "/sign-up").await.status(), 404);
    let token = form_token(&app.base, "/sign-in").await;
    let post = post_credentials(
        &app.base,
        "/sign-up",
        Some(&token.cookie),
        &token.field,
        "visitor@example.com",
        PASSWORD,
    )
    .await;
    assert_eq!(post.status(), 404);
    assert!(set_cookie(&post, "af_session").is_none());
    let sign_in = get_page(&app.base, None, "/sign-in").await;
    assert!(!sign_in.text().await.unwrap().contains("/sign-up"));
    assert_eq!(
        try_sign_in(&app.base, "visitor@example.com", PASSWORD)
            .await
            .status(),
        401,
        "no login was made"
    );
}

async fn with_signup_open_a_visitor_opens_a_free_account(backend: Backend) {
    let app = spawn_with(backend, signup_open()).await;
    let visitor = "visitor@example.com";

    let sign_in_page = get_page(&app.base, None, "/sign-in").await;
    assert!(sign_in_page.text().await.unwrap().contains("/sign-up"));

    let token = form_token(&app.base, "/sign-up").await;
    let made = post_credentials(
        &app.base,
        "/sign-up",
        Some(&token.cookie),
        &token.field,
        visitor,
        PASSWORD,
    )
    .await;
    assert_eq!(made.status(), 303);
    assert_eq!(location(&made), "/dashboard");
    let session = set_cookie(&made, "af_session").expect("signed in");
    assert!(session.has("HttpOnly") && session.has("SameSite=Lax"));
    let overview = get_page(&app.base, Some(&session.value), "/dashboard").await;
    assert_eq!(overview.status(), 200);
    let html = overview.text().await.unwrap();
    assert!(html.contains("Free plan"), "{html}");
    assert!(html.contains("50 credits"), "{html}");
    assert!(
        html.contains(
            r#"<dt class="stat-label">Credits remaining</dt><dd class="stat-value">50</dd>"#
        ),
        "{html}"
    );
    let csrf = hidden_field(&html, "csrf").unwrap();

    // The new account is real: a key made on the dashboard works against the API.
    let keys_page = post_form(
        &app.base,
        Some(&session.value),
        "/dashboard/keys",
        &[("csrf", &csrf), ("label", "first")],
    )
    .await;
    assert_eq!(keys_page.status(), 201);
    let html = keys_page.text().await.unwrap();
    let start = html
        .find(r#"<code id="new-key" class="secret">"#)
        .expect("the new key")
        + 34;
    let key = &html[start..start + html[start..].find('<').unwrap()];
    let usage = api_get(&app, key, "/api/v1/usage").await;
    assert_eq!(usage.status(), 200);
    let usage: Value = usage.json().await.unwrap();
    assert_eq!(usage["plan"], "free");
    assert_eq!(usage["credits"]["remaining"], 50);
    assert!(
        keys::list(&app.services.app, &app.account_id)
            .await
            .unwrap()
            .iter()
            .all(|k| k.key.name != "first"),
        "a new account, not the test's"
    );

    // The same e-mail again, however written, is refused.
    for email in [visitor, "Visitor@Example.COM"] {
        let token = form_token(&app.base, "/sign-up").await;
        let again = post_credentials(
            &app.base,
            "/sign-up",
            Some(&token.cookie),
            &token.field,
            email,
            "another long password",
        )
        .await;
        assert_eq!(again.status(), 400, "{email}");
        assert!(set_cookie(&again, "af_session").is_none());
        let body = again.text().await.unwrap();
        assert!(body.contains("already has a login"), "{email}: {body}");
    }

    // A short password is refused with the rule.
    let token = form_token(&app.base, "/sign-up").await;
    let short = post_credentials(
        &app.base,
        "/sign-up",
        Some(&token.cookie),
        &token.field,
        "short@example.com",
        "short",
    )
    .await;
    assert_eq!(short.status(), 400);
    assert!(set_cookie(&short, "af_session").is_none());
    let body = short.text().await.unwrap();
    assert!(body.contains("at least 10 characters"), "{body}");
    assert_eq!(
        try_sign_in(&app.base, "short@example.com", "short")
            .await
            .status(),
        401
    );

    // And the form token is needed here too.
    let forged = post_credentials(
        &app.base,
        "/sign-up",
        None,
        "",
        "forged@example.com",
        PASSWORD,
    )
    .await;
    assert_eq!(forged.status(), 403);
    assert!(set_cookie(&forged, "af_session").is_none());
}

// ---------------------------------------------------------------------------------------
// 7. Model output is text
// ---------------------------------------------------------------------------------------

const HOSTILE: &str = r#"<script>alert(1)</script><b>bold</b> & "quotes""#;

/// A model that answers markup in every field.
struct HostileVision;

#[async_trait::async_trait]
impl VisionProvider for HostileVision {
    fn model(&self) -> &str {
        "hostile-model"
    }

    async fn describe(&self, request: VisionRequest<'_>) -> Result<VisionOutput, VisionError> {
        let text = GeneratedText {
            alt_text: Some(HOSTILE.into()),
            title: Some(HOSTILE.into()),
            caption: Some(HOSTILE.into()),
            og_description: Some(HOSTILE.into()),
            long_description: Some(HOSTILE.into()),
            decorative: Some(false),
            decorative_reason: Some(HOSTILE.into()),
        };
        Ok(VisionOutput {
            translations: request
                .options
                .extra_languages
                .iter()
                .map(|language| (language.clone(), text.clone()))
                .collect(),
            text,
            model: "hostile-model".into(),
            tokens: Tokens {
                input: 10,
                output: 10,
            },
            cost: Micros::ZERO,
            judgement: None,
        })
    }
}

fn assert_escaped(html: &str, what: &str) {
    assert!(
        html.contains("&lt;script&gt;alert(1)") || html.contains("&#60;script&#62;alert(1)"),
        "{what}: the model's markup is shown escaped"
    );
    assert!(!html.contains("<script>alert(1)"), "{what}: raw <script>");
    assert!(!html.contains("<b>bold</b>"), "{what}: raw <b>");
}

fn assert_page_headers(response: &reqwest::Response, what: &str) {
    let csp = header(response, "content-security-policy");
    assert!(csp.contains("script-src 'self'"), "{what}: CSP {csp:?}");
    assert!(!csp.contains("unsafe-inline"), "{what}: CSP {csp:?}");
    assert_eq!(header(response, "cache-control"), "no-store", "{what}");
}

async fn model_output_is_shown_as_text_never_as_markup(backend: Backend) {
    let app = spawn_with(
        backend,
        Options {
            vision: Arc::new(HostileVision),
            ..Options::default()
        },
    )
    .await;
    create_login(&app, &app.account_id, EMAIL, PASSWORD).await;
    let session = sign_in(&app.base, EMAIL, PASSWORD).await;

    let fitted = [
        ("mode", "auto"),
        ("more_languages", "fr"),
        ("role", "chart"),
    ];
    let answer = post_try_with(&app.base, &session.secret, Some(&session.csrf), &fitted).await;
    assert_eq!(answer.status(), 200);
    assert_page_headers(&answer, "the try-it answer");
    let html = answer.text().await.unwrap();
    assert_escaped(&html, "the try-it answer");
    for field in [
        "alt_text",
        "title",
        "caption",
        "og_description",
        "long_description",
    ] {
        assert!(html.contains(&format!("id=\"result-{field}\"")), "{field}");
        assert!(
            html.contains(&format!("id=\"result-fr-{field}\"")),
            "{field} in French"
        );
    }
    assert!(html.contains("id=\"result-decorative\""), "the verdict");
    for (i, _) in html.match_indices("alert(1)") {
        assert!(html[..i].ends_with("&lt;script&gt;") || html[..i].ends_with("&#60;script&#62;"));
    }

    // The API's history has the job, from the dashboard, with the model's text as it was.
    let history: Value = app.get("/api/v1/history").await.json().await.unwrap();
    let job = history["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["source"] == "dashboard")
        .unwrap_or_else(|| panic!("no dashboard job in {history}"))
        .clone();
    let job_id = job["id"].as_str().unwrap();
    assert!(html.contains(job_id), "the answer names the job");
    assert_eq!(job["results"]["alt_text"], HOSTILE, "{job}");

    // The dashboard's history shows it, from the dashboard, escaped.
    let page = get_page(&app.base, Some(&session.secret), "/dashboard/history").await;
    assert_eq!(page.status(), 200);
    assert_page_headers(&page, "history");
    let html = page.text().await.unwrap();
    assert!(html.contains(job_id), "history lists {job_id}");
    assert!(html.contains("from dashboard"), "the job's source");
    assert!(html.contains("fr:alt_text"), "the French text too");
    assert!(html.contains("For languages: 1"), "its language credit");
    assert_escaped(&html, "history");

    // Every page of the dashboard, and the sign-in page, carries the same headers.
    for path in [
        "/dashboard",
        "/dashboard/keys",
        "/dashboard/try",
        "/dashboard/batches",
        "/dashboard/settings",
    ] {
        let page = get_page(&app.base, Some(&session.secret), path).await;
        assert_eq!(page.status(), 200, "{path}");
        assert_page_headers(&page, path);
    }
    let sign_in_page = get_page(&app.base, None, "/sign-in").await;
    assert_page_headers(&sign_in_page, "/sign-in");
}

/// Generations from the dashboard are limited like a key's: past the plan's generate limit in
/// a minute, try-it answers 429 with the wait, and charges nothing. The API key keeps its own
/// count.
async fn try_it_counts_against_the_plans_generate_limit(backend: Backend) {
    let mut options = mid_window();
    options.rate_limits = "generate=2".parse().unwrap();
    let app = spawn_with(backend, options).await;
    create_login(&app, &app.account_id, EMAIL, PASSWORD).await;
    let session = sign_in(&app.base, EMAIL, PASSWORD).await;
    for _ in 0..2 {
        let ok = post_try(&app.base, &session.secret, Some(&session.csrf)).await;
        assert_eq!(ok.status(), 200);
    }
    let credits = usage(&app).await["credits"]["remaining"].clone();
    let refused = post_try(&app.base, &session.secret, Some(&session.csrf)).await;
    assert_eq!(refused.status(), 429);
    let html = refused.text().await.unwrap();
    assert!(html.contains("Rate limit exceeded"), "{html}");
    assert!(html.contains("2 generations a minute"), "{html}");
    assert_eq!(usage(&app).await["credits"]["remaining"], credits);
    assert_eq!(
        app.post_generate(&crate::support::tiny_image())
            .await
            .status(),
        200
    );
}

/// A dashboard address that leads nowhere gets a page a browser shows; the API's stays JSON.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_dashboard_page_is_a_page_and_a_missing_api_path_is_json() {
    let app = spawn(Backend::Sqlite).await;
    let page = get_page(&app.base, None, "/dashboard/nowhere").await;
    assert_eq!(page.status(), 404);
    assert!(header(&page, "content-type").starts_with("text/html"));
    assert!(page.text().await.unwrap().contains("Page not found"));
    let api = get_page(&app.base, None, "/api/v1/nowhere").await;
    assert_eq!(api.status(), 404);
    assert!(header(&api, "content-type").starts_with("application/json"));
    let dashboards = get_page(&app.base, None, "/dashboards").await;
    assert!(header(&dashboards, "content-type").starts_with("application/json"));
}

async fn try_it_lists_the_languages_the_builtin_cannot_write(backend: Backend) {
    let app = spawn(backend).await;
    create_login(&app, &app.account_id, EMAIL, PASSWORD).await;
    let session = sign_in(&app.base, EMAIL, PASSWORD).await;
    let fields = [
        ("mode", "auto"),
        ("language", "en"),
        ("more_languages", "fr, de"),
        ("role", "link"),
        ("link_url", "https://example.com/pricing"),
    ];
    let answer = post_try_with(&app.base, &session.secret, Some(&session.csrf), &fields).await;
    assert_eq!(answer.status(), 200);
    let html = answer.text().await.unwrap();
    assert!(
        html.contains("Not written, and not charged: fr, de."),
        "{html}"
    );
    assert!(html.contains("id=\"result-decorative\""));
    assert!(html.contains("1 credit used"), "only the image is charged");
    let job = crate::fitted::only_job(&app).await;
    assert_eq!(job["source"], "dashboard");
    assert_eq!(job["failed_languages"], serde_json::json!(["fr", "de"]));
    let page = get_page(&app.base, Some(&session.secret), "/dashboard/history").await;
    let html = page.text().await.unwrap();
    assert!(html.contains("Not written: fr, de"), "{html}");

    let unknown = [("more_languages", "fr, xx")];
    let refused = post_try_with(&app.base, &session.secret, Some(&session.csrf), &unknown).await;
    assert_eq!(refused.status(), 400);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains("Other languages, code 2 must be"),
        "named in the form's words: {html}"
    );
}

async fn try_it_says_when_the_cache_answered_and_can_generate_anew(backend: Backend) {
    let app = spawn(backend).await;
    create_login(&app, &app.account_id, EMAIL, PASSWORD).await;
    let session = sign_in(&app.base, EMAIL, PASSWORD).await;
    let form = get_page(&app.base, Some(&session.secret), "/dashboard/try").await;
    let html = form.text().await.unwrap();
    assert!(html.contains(r#"id="regenerate""#), "{html}");
    assert!(html.contains("in the last 30 days"), "{html}");

    let post = |fields: &'static [(&'static str, &'static str)]| {
        let (base, secret, csrf) = (
            app.base.clone(),
            session.secret.clone(),
            session.csrf.clone(),
        );
        async move {
            let answer = post_try_with(&base, &secret, Some(&csrf), fields).await;
            assert_eq!(answer.status(), 200);
            answer.text().await.unwrap()
        }
    };
    let first = post(&[("mode", "standard")]).await;
    assert!(first.contains("1 credit used"), "{first}");
    assert!(!first.contains(r#"id="result-cached""#), "{first}");

    // The same image and options again: the cached text, free, saying so.
    let again = post(&[("mode", "standard")]).await;
    assert!(again.contains(r#"id="result-cached""#), "{again}");
    assert!(again.contains("0 credits used"), "{again}");

    // Ticked: a new text, charged, and the box stays ticked on the page shown again.
    let anew = post(&[("mode", "standard"), ("regenerate", "true")]).await;
    assert!(anew.contains("1 credit used"), "{anew}");
    assert!(!anew.contains(r#"id="result-cached""#), "{anew}");
    assert!(anew.contains(r#"value="true" aria-describedby="regenerate-hint" checked"#));
    assert_eq!(usage(&app).await["credits"]["used_this_period"], 2);

    // History shows the free one at 0 credits, with the job whose text it is.
    let page = get_page(&app.base, Some(&session.secret), "/dashboard/history").await;
    let html = page.text().await.unwrap();
    assert!(html.contains("Credits: 0 · "), "{html}");
    assert!(html.contains("From the cache of: job_"), "{html}");
}
