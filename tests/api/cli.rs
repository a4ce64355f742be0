//! The binary's operator commands, run as a person would, against the same store a running
//! service uses.
use altframe::adapters::subscriber::Subscriber;
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

/// Runs the binary off the async runtime, as a person at a terminal would.
async fn run(url: &str, args: &[&str]) -> (bool, String, String) {
    let url = url.to_string();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        altframe(&url, &args)
    })
    .await
    .unwrap()
}

async fn run_json(url: &str, args: &[&str]) -> Value {
    let (ok, stdout, stderr) = run(url, args).await;
    assert!(ok, "altframe {args:?} failed: {stderr}");
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {stdout}"))
}

on_both_backends!(accounts_and_keys_from_the_command_line_work_against_a_running_service);

async fn accounts_and_keys_from_the_command_line_work_against_a_running_service(backend: Backend) {
    let app = spawn(backend).await;
    let db = app.db.env_url.clone();

    let account = run_json(
        &db,
        &[
            "accounts", "create", "--name", "Shop", "--plan", "pro", "--json",
        ],
    )
    .await;
    let account_id = account["id"].as_str().unwrap().to_string();
    assert!(account_id.starts_with("acct_"));
    assert_eq!(account["plan"], "pro");

    let list = run_json(&db, &["accounts", "list", "--json"]).await;
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["id"] == account_id.as_str()));

    let shown = run_json(&db, &["accounts", "show", &account_id, "--json"]).await;
    assert_eq!(shown["credits_remaining"], 5000);

    let issued = run_json(&db, &["keys", "create", "--account", &account_id, "--json"]).await;
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

    let secret_args = ["webhooks", "secret", "--account", &account_id, "--json"];
    let first = run_json(&db, &secret_args).await;
    let again = run_json(&db, &secret_args).await;
    let rotated = run_json(
        &db,
        &[
            "webhooks",
            "secret",
            "--account",
            &account_id,
            "--rotate",
            "--json",
        ],
    )
    .await;
    assert!(first["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(
        first["secret"], again["secret"],
        "the secret stays until rotated"
    );
    assert_ne!(first["secret"], rotated["secret"]);
    assert_eq!(rotated["rotated"], true);

    let keys = run_json(&db, &["keys", "list", "--account", &account_id, "--json"]).await;
    let listed = &keys.as_array().unwrap()[0];
    assert_eq!(listed["id"], key_id.as_str());
    assert!(
        listed.get("key").is_none() && listed.get("key_hash").is_none(),
        "no secret in listings"
    );

    let revoked = run_json(&db, &["keys", "revoke", &key_id, "--json"]).await;
    assert!(revoked["revoked_at"].is_string());
    app.services
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

    let (ok, _, stderr) = run(&db, &["keys", "revoke", &key_id]).await;
    assert!(!ok && stderr.contains("already revoked"), "{stderr}");
    let (ok, _, stderr) = run(
        &db,
        &["accounts", "create", "--name", "X", "--plan", "gold"],
    )
    .await;
    assert!(!ok && stderr.contains("unknown plan"), "{stderr}");
}

/// Logs written to a pipe or a file are plain text: no terminal colour codes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_to_a_pipe_have_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("store.db").display().to_string();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_altframe"))
            .args(["accounts", "list"])
            .env("DATABASE_URL", database)
            .env("RUST_LOG", "debug")
            .env_remove("ALTFRAME_LOG_FORMAT")
            .output()
            .expect("run altframe")
    })
    .await
    .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("DEBUG"), "the command logged: {stderr}");
    assert!(!stderr.contains('\u{1b}'), "no escape codes: {stderr}");
}
