//! The account owner's side from the operator's command line: plan, overage and language
//! changes (each an event the audit shows), key labels and last use, and logins.
use std::io::Write;
use std::process::{Command, Stdio};

use altframe_domain::plan::Plan;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{spawn_with, Backend, Options, TestApp};

/// Runs the binary with `stdin` piped in, off the async runtime.
async fn altframe(app: &TestApp, args: &[&str], stdin: &str) -> (bool, String, String) {
    let url = app.db.env_url.clone();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let stdin = stdin.to_string();
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_altframe"))
            .args(&args)
            .env("DATABASE_URL", url)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run altframe");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes())
            .expect("write stdin");
        let out = child.wait_with_output().expect("wait for altframe");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .expect("join")
}

async fn json_of(app: &TestApp, args: &[&str]) -> Value {
    let (ok, stdout, stderr) = altframe(app, args, "").await;
    assert!(ok, "altframe {args:?} failed: {stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: no JSON ({e}): {stdout}"))
}

async fn usage(app: &TestApp) -> Value {
    let response = app.get("/api/v1/usage").await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

on_both_backends!(
    plan_overage_and_language_changes_apply_and_the_audit_shows_them,
    a_downgrade_limits_requests_from_the_first_moment_of_the_next_period,
    key_labels_and_last_use_are_listed,
    logins_take_their_password_from_stdin,
);

async fn plan_overage_and_language_changes_apply_and_the_audit_shows_them(backend: Backend) {
    let app = spawn_with(
        backend,
        Options {
            plan: Plan::Starter,
            ..Options::default()
        },
    )
    .await;
    let account = app.account_id.to_string();
    // A plain account's usage is the contract's, with no pending change.
    let before = usage(&app).await;
    assert!(before.get("pending_plan_change").is_none(), "{before}");
    assert_eq!(before["credits"]["remaining"], 1000);
    let custom = json!({ "image_base64": crate::support::base64_of("tiny-1x1.png"),
                         "custom_prompt": "Describe the colours" });
    assert_eq!(app.post_generate(&custom).await.status(), 403);

    // An upgrade applies at once: allocation, balance, and what the plan allows.
    let up = json_of(
        &app,
        &[
            "accounts",
            "set-plan",
            "--account",
            &account,
            "--plan",
            "pro",
            "--json",
        ],
    )
    .await;
    assert_eq!(up["changed"], true);
    assert_eq!(up["account"]["plan"], "pro");
    let after = usage(&app).await;
    assert_eq!(after["plan"], "pro");
    assert_eq!(after["credits"]["monthly_allocation"], 5000);
    assert_eq!(after["credits"]["remaining"], 5000);
    assert_eq!(app.post_generate(&custom).await.status(), 200);

    // A downgrade waits for the next period, and usage says so.
    let down = json_of(
        &app,
        &[
            "accounts",
            "set-plan",
            "--account",
            &account,
            "--plan",
            "starter",
            "--json",
        ],
    )
    .await;
    assert_eq!(down["account"]["plan"], "pro");
    let pending = usage(&app).await;
    assert_eq!(pending["plan"], "pro");
    let shown = json_of(&app, &["accounts", "show", &account, "--json"]).await;
    assert_eq!(shown["pending_plan"], "starter", "{shown}");
    assert_eq!(pending["pending_plan_change"]["plan"], "starter");
    assert_eq!(
        pending["pending_plan_change"]["effective_at"],
        pending["credits"]["period_resets_at"]
    );

    // Overage on (the usage API shows it), then refused on a plan without overage.
    json_of(
        &app,
        &[
            "accounts",
            "set-overage",
            "--account",
            &account,
            "--enabled",
            "true",
            "--json",
        ],
    )
    .await;
    assert_eq!(usage(&app).await["overage"]["enabled"], true);

    let lang = json_of(
        &app,
        &[
            "accounts",
            "set-language",
            "--account",
            &account,
            "--language",
            "fr",
            "--json",
        ],
    )
    .await;
    assert_eq!(lang["account"]["language"], "fr");
    let (ok, _, stderr) = altframe(
        &app,
        &[
            "accounts",
            "set-language",
            "--account",
            &account,
            "--language",
            "xx",
        ],
        "",
    )
    .await;
    assert!(!ok && stderr.contains("language"), "{stderr}");
    // Naming the current plan cancels the downgrade; naming it again is refused.
    let set_pro = [
        "accounts",
        "set-plan",
        "--account",
        &account,
        "--plan",
        "pro",
    ];
    let (ok, _, stderr) = altframe(&app, &set_pro, "").await;
    assert!(ok, "{stderr}");
    assert!(usage(&app).await.get("pending_plan_change").is_none());
    let (ok, _, stderr) = altframe(&app, &set_pro, "").await;
    assert!(
        !ok && stderr.contains("already on the pro plan"),
        "{stderr}"
    );

    // Every change is an event of the ledger, and the ledger still reconciles.
    let audit = json_of(&app, &["audit", "--account", &account, "--json"]).await;
    let events: Vec<&str> = audit["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("no ledger: {audit}"))
        .iter()
        .filter_map(|row| row["event"].as_str())
        .collect();
    for expected in [
        "ScheduledPlanChangeCancelled",
        "PlanChanged",
        "PlanChangeScheduled",
        "OverageChanged",
        "DefaultLanguageChanged",
    ] {
        assert!(
            events.contains(&expected),
            "{expected} missing from {events:?}"
        );
    }
    let upgrade = audit["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["event"] == "PlanChanged")
        .unwrap();
    assert_eq!(upgrade["credits"], 4000);
    assert_eq!(upgrade["reference"], "plan starter -> pro");
}

async fn key_labels_and_last_use_are_listed(backend: Backend) {
    let app = spawn_with(backend, Options::default()).await;
    let account = app.account_id.to_string();
    let made = json_of(
        &app,
        &[
            "keys",
            "create",
            "--account",
            &account,
            "--label",
            "staging",
            "--json",
        ],
    )
    .await;
    assert_eq!(made["label"], "staging");
    let listed = json_of(&app, &["keys", "list", "--account", &account, "--json"]).await;
    let find = |listed: &Value, label: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["label"] == label)
            .cloned()
            .unwrap_or_else(|| panic!("no key labelled {label} in {listed}"))
    };
    assert!(find(&listed, "staging")["last_used_at"].is_null());
    assert!(find(&listed, "staging")["created_at"].is_string());
    // The test's own key is used by this request.
    assert_eq!(app.get("/api/v1/usage").await.status(), 200);
    let listed = json_of(&app, &["keys", "list", "--account", &account, "--json"]).await;
    assert!(
        find(&listed, "test")["last_used_at"].is_string(),
        "{listed}"
    );
    assert!(find(&listed, "staging")["last_used_at"].is_null());
    assert!(find(&listed, "test").get("key_hash").is_none());
}

async fn logins_take_their_password_from_stdin(backend: Backend) {
    let app = spawn_with(backend, Options::default()).await;
    let account = app.account_id.to_string();
    let args = [
        "logins",
        "create",
        "--account",
        &account,
        "--email",
        "Owner@Example.com",
        "--json",
    ];
    let (ok, _, stderr) = altframe(&app, &args, "short\n").await;
    assert!(!ok && stderr.contains("at least 10 characters"), "{stderr}");
    let (ok, stdout, stderr) = altframe(&app, &args, "a long enough password\n").await;
    assert!(ok, "{stderr}");
    assert_eq!(
        serde_json::from_str::<Value>(&stdout).unwrap()["email"],
        "owner@example.com"
    );
    let (ok, _, stderr) = altframe(&app, &args, "a long enough password\n").await;
    assert!(!ok && stderr.contains("already has a login"), "{stderr}");
    let reset = [
        "logins",
        "reset-password",
        "--email",
        "owner@example.com",
        "--json",
    ];
    let (ok, stdout, stderr) = altframe(&app, &reset, "another long password\n").await;
    assert!(ok, "{stderr}");
    assert_eq!(
        serde_json::from_str::<Value>(&stdout).unwrap()["sessions_ended"],
        0
    );
    let nobody = ["logins", "reset-password", "--email", "nobody@example.com"];
    let (ok, _, stderr) = altframe(&app, &nobody, "another long password\n").await;
    assert!(!ok && stderr.contains("has no login"), "{stderr}");
}

/// A downgrade counts for requests as soon as its period starts, before any command has
/// applied it to the account (the billing tick is an hour away here).
async fn a_downgrade_limits_requests_from_the_first_moment_of_the_next_period(backend: Backend) {
    let at = |s: &str| s.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    let clock = altframe::adapters::clock::ManualClock::at(at("2026-12-15T12:00:00Z"));
    let app = spawn_with(
        backend,
        Options {
            plan: Plan::Pro,
            clock: std::sync::Arc::new(clock.clone()),
            settings: std::sync::Arc::new(|s| {
                s.tasks.maintenance_every = std::time::Duration::from_secs(3600)
            }),
            ..Options::default()
        },
    )
    .await;
    let core = &app.services.app;
    altframe::usecases::accounts::change_plan(core, &app.account_id, Plan::Starter)
        .await
        .expect("a scheduled downgrade");
    let custom = json!({ "image_base64": crate::support::base64_of("tiny-1x1.png"),
                         "custom_prompt": "Describe the colours" });
    assert_eq!(app.post_generate(&custom).await.status(), 200, "still pro");

    clock.set(at("2027-01-01T00:00:05Z"));
    let refused = app.post_generate(&custom).await;
    assert_eq!(refused.status(), 403);
    let message = crate::support::error_of(refused, 403).await;
    assert!(message.contains("on starter"), "{message}");

    // The next command applies it to the account; usage then shows it done.
    let plain = json!({ "image_base64": crate::support::base64_of("tiny-1x1.png") });
    assert_eq!(app.post_generate(&plain).await.status(), 200);
    let after = usage(&app).await;
    assert_eq!(after["plan"], "starter", "{after}");
    assert!(after.get("pending_plan_change").is_none(), "{after}");
}
