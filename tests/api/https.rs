//! HTTPS: `serve` terminates TLS itself with a certificate and key, and with
//! ALTFRAME_REQUIRE_HTTPS refuses plain HTTP, believing X-Forwarded-Proto only from trusted
//! proxies.
use serde_json::Value;

use altframe::api::{HttpConfig, HttpsPolicy};

use crate::on_both_backends;
use crate::support::process::serve;
use crate::support::{error_of, spawn_with, tiny_image, Backend, Options, TestDb};

/// A self-signed certificate for 127.0.0.1 and localhost, made for this test.
fn self_signed(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, String) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
            .expect("certificate");
    let cert_pem = certified.cert.pem();
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, &cert_pem).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    (cert, key, cert_pem)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn serve_terminates_tls_with_a_certificate_and_key() {
    let db = TestDb::new(Backend::Postgres).await;
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, cert_pem) = self_signed(dir.path());
    let server = serve(
        &db.env_url,
        &[
            ("ALTFRAME_VISION", "builtin".into()),
            ("ALTFRAME_TLS_CERT", cert.display().to_string()),
            ("ALTFRAME_TLS_KEY", key.display().to_string()),
            ("ALTFRAME_REQUIRE_HTTPS", "true".into()),
        ],
        true,
    );
    assert!(server.base.starts_with("https://"), "{}", server.base);
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let response = client
        .post(format!("{}/api/v1/generate", server.base))
        .header("x-api-key", server.key.as_deref().unwrap())
        .json(&tiny_image())
        .send()
        .await
        .expect("an HTTPS request");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "completed");

    // The port speaks only TLS: a plain-HTTP request gets no HTTP answer.
    let plain = server.base.replacen("https://", "http://", 1);
    let refused = reqwest::Client::new()
        .get(format!("{plain}/healthz"))
        .send()
        .await;
    assert!(
        refused.map(|r| r.status().as_u16() >= 400).unwrap_or(true),
        "plain HTTP must not be served"
    );
}

on_both_backends!(plain_http_is_refused_unless_a_trusted_proxy_says_https);

async fn plain_http_is_refused_unless_a_trusted_proxy_says_https(backend: Backend) {
    let options = |trusted: &str| Options {
        http: HttpConfig {
            https: HttpsPolicy {
                required: true,
                terminates_tls: false,
                trusted_proxies: HttpsPolicy::parse_proxies(trusted).unwrap(),
            },
            ..HttpConfig::default()
        },
        ..Options::default()
    };
    // The test's requests come from 127.0.0.1: here that is a trusted proxy.
    let behind_proxy = spawn_with(backend, options("127.0.0.1/32")).await;
    let post = |app: &crate::support::TestApp, proto: Option<&str>| {
        let mut request = app
            .http
            .post(format!("{}/api/v1/generate", app.base))
            .header("x-api-key", &app.key)
            .json(&tiny_image());
        if let Some(proto) = proto {
            request = request.header("x-forwarded-proto", proto);
        }
        request.send()
    };

    let plain = post(&behind_proxy, None).await.unwrap();
    assert_eq!(error_of(plain, 403).await, "HTTPS is required");
    let forwarded_http = post(&behind_proxy, Some("http")).await.unwrap();
    assert_eq!(error_of(forwarded_http, 403).await, "HTTPS is required");
    assert!(
        behind_proxy
            .events()
            .await
            .iter()
            .all(|(_, t, _)| t != "JobRequested"),
        "nothing processed"
    );
    let forwarded_https = post(&behind_proxy, Some("https")).await.unwrap();
    assert_eq!(forwarded_https.status(), 200);
    // A proxy that appends: its own value is the last one, a client's comes before it.
    let appended = post(&behind_proxy, Some("https, http")).await.unwrap();
    assert_eq!(error_of(appended, 403).await, "HTTPS is required");
    let appended = post(&behind_proxy, Some("http, https")).await.unwrap();
    assert_eq!(appended.status(), 200);
    // Health probes come from inside the deployment, over plain HTTP.
    let probe = behind_proxy
        .http
        .get(format!("{}/healthz", behind_proxy.base))
        .send()
        .await
        .unwrap();
    assert_eq!(probe.status(), 200);

    // From an address that is not a trusted proxy, the header proves nothing.
    let direct = spawn_with(backend, options("10.0.0.0/8")).await;
    let spoofed = post(&direct, Some("https")).await.unwrap();
    assert_eq!(error_of(spoofed, 403).await, "HTTPS is required");
}

on_both_backends!(every_https_answer_carries_strict_transport_security);

/// Strict-Transport-Security goes on every answer to an HTTPS request (the process terminated
/// TLS, or a trusted proxy says so), whether or not plain HTTP is refused, and never on an
/// answer over plain HTTP.
async fn every_https_answer_carries_strict_transport_security(backend: Backend) {
    let options = |terminates_tls: bool, trusted: &str| Options {
        http: HttpConfig {
            https: HttpsPolicy {
                required: false,
                terminates_tls,
                trusted_proxies: HttpsPolicy::parse_proxies(trusted).unwrap(),
            },
            ..HttpConfig::default()
        },
        ..Options::default()
    };
    let hsts = |app: &crate::support::TestApp, path: &str, proto: Option<&str>| {
        let mut request = app
            .http
            .get(format!("{}{path}", app.base))
            .header("x-api-key", &app.key);
        if let Some(proto) = proto {
            request = request.header("x-forwarded-proto", proto);
        }
        async move {
            let response = request.send().await.unwrap();
            response
                .headers()
                .get("strict-transport-security")
                .map(|v| v.to_str().unwrap().to_string())
        }
    };
    let year = Some("max-age=31536000".to_string());

    // What `serve` does with ALTFRAME_TLS_CERT and ALTFRAME_TLS_KEY: every request is HTTPS.
    let tls = spawn_with(backend, options(true, "")).await;
    for path in ["/healthz", "/api/v1/usage", "/api/v1/nowhere"] {
        assert_eq!(hsts(&tls, path, None).await, year, "{path}");
    }

    // Behind a trusted proxy: only what it says arrived over HTTPS.
    let proxied = spawn_with(backend, options(false, "127.0.0.1/32")).await;
    assert_eq!(hsts(&proxied, "/api/v1/usage", Some("https")).await, year);
    assert_eq!(hsts(&proxied, "/api/v1/usage", Some("http")).await, None);
    assert_eq!(hsts(&proxied, "/api/v1/usage", None).await, None);
}

/// A certificate that cannot be read stops `serve` at start, with the reason, instead of
/// leaving a process that serves nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_certificate_stops_serve_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("store.db").display().to_string();
    let missing = dir.path().join("missing.pem").display().to_string();
    let run = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_altframe"))
            .arg("serve")
            .env("DATABASE_URL", database)
            .env("ALTFRAME_LISTEN", "127.0.0.1:0")
            .env("ALTFRAME_TLS_CERT", &missing)
            .env("ALTFRAME_TLS_KEY", &missing)
            .output()
            .expect("run altframe")
    });
    let out = tokio::time::timeout(std::time::Duration::from_secs(60), run)
        .await
        .expect("serve exits")
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("TLS certificate"), "{stderr}");
}
