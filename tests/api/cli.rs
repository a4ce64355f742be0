//! The binary's operator commands, run as a person would, against the same store a running
//! service uses.
use altframe::subscriber::Subscriber;
use std::process::Command;

use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{base64_of, spawn, Backend};

fn altframe(database_url: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_altframe"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run altframe");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json_of(database_url: &str, args: &[&str]) -> Value {
    let (ok, stdout, stderr) = altframe(database_url, args);
    assert!(ok, "altframe {args:?} failed: {stderr}");
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {stdout}"))
}

on_both_backends!(accounts_and_keys_from_the_command_line_work_against_a_running_service);

async fn accounts_and_keys_from_the_command_line_work_against_a_running_service(backend: Backend) {
    let app = spawn(backend).await;
    let url = app.db.env_url.clone();
    let run = move |args: Vec<&'static str>| {
        let url = url.clone();
        async move {
            tokio::task::spawn_blocking(move || json_of(&url, &args))
                .await
                .unwrap()
        }
    };

    let account = run(vec![
        "accounts", "create", "--name", "Shop", "--plan", "pro", "--json",
    ])
    .await;
    let account_id = account["id"].as_str().unwrap().to_string();
    assert!(account_id.starts_with("acct_"));
    assert_eq!(account["plan"], "pro");

    let url = app.db.env_url.clone();
    let list = tokio::task::spawn_blocking(move || json_of(&url, &["accounts", "list", "--json"]))
        .await
        .unwrap();
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["id"] == account_id.as_str()));

    let url = app.db.env_url.clone();
    let id = account_id.clone();
    let shown =
        tokio::task::spawn_blocking(move || json_of(&url, &["accounts", "show", &id, "--json"]))
            .await
            .unwrap();
    assert_eq!(shown["credits_remaining"], 5000);

    let url = app.db.env_url.clone();
    let id = account_id.clone();
    let issued = tokio::task::spawn_blocking(move || {
        json_of(&url, &["keys", "create", "--account", &id, "--json"])
    })
    .await
    .unwrap();
    let key = issued["key"].as_str().unwrap().to_string();
    let key_id = issued["id"].as_str().unwrap().to_string();
    assert!(key.starts_with("af_live_") && key.len() >= 40);

    // The running service learns of the key from the store, not from this process.
    let body = json!({ "image_base64": base64_of("tiny-1x1.png") });
    let url = format!("{}/api/v1/generate", app.base);
    let ok = app
        .http
        .post(&url)
        .header("x-api-key", &key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);

    let url_db = app.db.env_url.clone();
    let id = account_id.clone();
    let secrets = tokio::task::spawn_blocking(move || {
        let args = ["webhooks", "secret", "--account", &id, "--json"];
        let first = json_of(&url_db, &args);
        let again = json_of(&url_db, &args);
        let rotated = json_of(
            &url_db,
            &["webhooks", "secret", "--account", &id, "--rotate", "--json"],
        );
        (first, again, rotated)
    })
    .await
    .unwrap();
    assert!(secrets.0["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(
        secrets.0["secret"], secrets.1["secret"],
        "the secret stays until rotated"
    );
    assert_ne!(secrets.0["secret"], secrets.2["secret"]);
    assert_eq!(secrets.2["rotated"], true);

    let url_db = app.db.env_url.clone();
    let id = account_id.clone();
    let keys = tokio::task::spawn_blocking(move || {
        json_of(&url_db, &["keys", "list", "--account", &id, "--json"])
    })
    .await
    .unwrap();
    let listed = &keys.as_array().unwrap()[0];
    assert_eq!(listed["id"], key_id.as_str());
    assert!(
        listed.get("key").is_none() && listed.get("key_hash").is_none(),
        "no secret in listings"
    );

    let url_db = app.db.env_url.clone();
    let kid = key_id.clone();
    let revoked =
        tokio::task::spawn_blocking(move || json_of(&url_db, &["keys", "revoke", &kid, "--json"]))
            .await
            .unwrap();
    assert!(revoked["revoked_at"].is_string());
    app.app
        .projector
        .catch_up_fully(std::time::Duration::from_secs(10))
        .await
        .unwrap();
    let refused = app
        .http
        .post(&url)
        .header("x-api-key", &key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);

    let url_db = app.db.env_url.clone();
    let (ok, _, stderr) =
        tokio::task::spawn_blocking(move || altframe(&url_db, &["keys", "revoke", &key_id]))
            .await
            .unwrap();
    assert!(!ok && stderr.contains("already revoked"), "{stderr}");
    let url_db = app.db.env_url.clone();
    let (ok, _, stderr) = tokio::task::spawn_blocking(move || {
        altframe(
            &url_db,
            &["accounts", "create", "--name", "X", "--plan", "gold"],
        )
    })
    .await
    .unwrap();
    assert!(!ok && stderr.contains("unknown plan"), "{stderr}");
}
