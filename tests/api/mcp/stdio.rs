//! `altframe mcp`, the real binary, as an agent runs it: a child process speaking MCP on its
//! standard input and output, alone on its store, with rmcp's client on the other end. Its
//! background tasks must run (a batch finishes), its credits must reconcile, it must stop
//! cleanly when its input closes, and a bad key must stop it before it serves.
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use altframe::adapters::ids;
use altframe::adapters::store::StoreConfig;
use altframe::run::settings::Settings;
use altframe::run::startup::{Overrides, Services};
use altframe::usecases::{accounts, audit, history, keys};
use altframe_domain::generation::Language;
use altframe_domain::plan::Plan;
use altframe_domain::AccountId;
use rmcp::ServiceExt;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::{answer, call, finished_batch, tool_names, Client, TOOLS};
use crate::on_both_backends;
use crate::support::{base64_of, Backend, TestDb};

/// A fresh store with one account and its key, made as the operator's commands make them.
async fn store_with_a_key(backend: Backend) -> (TestDb, Services, AccountId, String) {
    let db = TestDb::new(backend).await;
    let settings = Settings::new(StoreConfig::new(db.url.clone()));
    let services = Services::open(&settings, Overrides::default())
        .await
        .expect("open the store");
    let account_id = ids::account_id();
    accounts::open_account(
        &services.app,
        &account_id,
        "Agent shop",
        Plan::Free,
        Language::english(),
    )
    .await
    .expect("open account");
    let key = keys::issue_key(&services.app, &account_id, "agent")
        .await
        .expect("issue key")
        .key;
    (db, services, account_id, key)
}

/// `altframe mcp` on `db` with `key` in ALTFRAME_API_KEY, its three streams piped.
fn altframe_mcp(db: &TestDb, key: Option<&str>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_altframe"));
    command
        .arg("mcp")
        .env("DATABASE_URL", &db.env_url)
        .env("ALTFRAME_VISION", "builtin")
        .env("ALTFRAME_PROJECTION_POLL_MS", "200")
        .env("ALTFRAME_BULK_POLL_MS", "200")
        .env("RUST_LOG", "info,sqlx=warn")
        .env_remove("ALTFRAME_API_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(key) = key {
        command.env("ALTFRAME_API_KEY", key);
    }
    command
}

/// A running `altframe mcp` and the client talking to it.
struct Session {
    client: Client,
    child: Child,
    /// Everything the process wrote to standard error.
    log: Arc<Mutex<String>>,
}

async fn start(db: &TestDb, key: &str) -> Session {
    let mut child = altframe_mcp(db, Some(key))
        .spawn()
        .expect("start altframe mcp");
    let log = Arc::new(Mutex::new(String::new()));
    let stderr = child.stderr.take().expect("stderr");
    tokio::spawn({
        let log = Arc::clone(&log);
        async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let mut log = log.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        }
    });
    let stdout = child.stdout.take().expect("stdout");
    let stdin = child.stdin.take().expect("stdin");
    let client = match ().serve((stdout, stdin)).await {
        Ok(client) => client,
        Err(e) => panic!("initialize: {e}\n{}", log.lock().unwrap()),
    };
    Session { client, child, log }
}

impl Session {
    /// Closes the client's end, as an agent that quits does, and returns the exit code.
    async fn close(mut self) -> (Option<i32>, String) {
        self.client.cancel().await.expect("close the session");
        let status = tokio::time::timeout(Duration::from_secs(60), self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("altframe mcp did not exit:\n{}", self.log.lock().unwrap()))
            .expect("wait for altframe mcp");
        let log = self.log.lock().unwrap().clone();
        (status.code(), log)
    }
}

on_both_backends!(altframe_mcp_serves_the_tools_and_runs_the_background_tasks);

async fn altframe_mcp_serves_the_tools_and_runs_the_background_tasks(backend: Backend) {
    let (db, services, account_id, key) = store_with_a_key(backend).await;
    let session = start(&db, &key).await;
    let client = &session.client;

    assert_eq!(tool_names(client).await, TOOLS);
    let usage = answer(call(client, "usage", json!({})).await);
    assert_eq!(usage["plan"], "free");
    assert_eq!(usage["credits"]["remaining"], 50);

    let image = base64_of("tiny-1x1.png");
    let generated = answer(
        call(
            client,
            "generate",
            json!({ "image_base64": base64_of("sample.jpg"), "fields": ["alt_text", "title"] }),
        )
        .await,
    );
    assert_eq!(generated["meta"]["credits_used"], 1);
    assert_eq!(generated["meta"]["credits_remaining"], 49);

    // Only this process's bulk worker and process manager can finish the batch.
    let accepted = answer(
        call(
            client,
            "bulk",
            // `regenerate`: charged, so that the process manager's captures show in usage.
            json!({ "images": [{ "image_base64": image }, { "image_base64": image }],
                    "regenerate": true }),
        )
        .await,
    );
    let batch_id = accepted["batch_id"].as_str().unwrap().to_string();
    let finished = finished_batch(client, &batch_id).await;
    assert_eq!(finished["status"], "completed", "{finished}");
    assert_eq!(finished["completed"], 2);

    let usage = answer(call(client, "usage", json!({})).await);
    assert_eq!(usage["credits"]["used_this_period"], 3);
    assert_eq!(usage["credits"]["remaining"], 47);

    let (code, log) = session.close().await;
    assert_eq!(code, Some(0), "a closed input is a clean stop:\n{log}");
    assert!(log.contains("stopped"), "{log}");

    // What it did is in the store as the API would have left it.
    let page = history::page(&services.app, &account_id, None, 10, 0)
        .await
        .unwrap();
    let sources: Vec<&str> = page.jobs.iter().map(|j| j.source.as_str()).collect();
    assert_eq!(page.total, 3, "{sources:?}");
    let single = page
        .jobs
        .iter()
        .find(|j| j.id == generated["id"].as_str().unwrap())
        .expect("the generated job in history");
    assert_eq!(single.source, "mcp");
    assert_eq!(sources.iter().filter(|s| **s == "bulk").count(), 2);
    let report = audit::audit(&services.app, &account_id, None, None)
        .await
        .expect("audit");
    let failed: Vec<_> = report.checks.iter().filter(|c| !c.ok).collect();
    assert!(report.ok, "the audit does not reconcile: {failed:?}");
}

on_both_backends!(a_key_that_will_not_do_stops_it_before_it_serves);

/// Runs `altframe mcp` with its input closed at once: the exit code and standard error.
async fn run_with_closed_input(db: &TestDb, key: Option<&str>) -> (Option<i32>, String) {
    let output = altframe_mcp(db, key)
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run altframe mcp");
    assert!(
        output.stdout.is_empty(),
        "nothing but the protocol on stdout"
    );
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

async fn a_key_that_will_not_do_stops_it_before_it_serves(backend: Backend) {
    let (db, services, account_id, key) = store_with_a_key(backend).await;

    let (code, stderr) = run_with_closed_input(&db, None).await;
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("needs an API key"), "{stderr}");

    let (code, stderr) = run_with_closed_input(&db, Some("af_live_not_a_key")).await;
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("was refused: Invalid API key"), "{stderr}");

    // The good key, and nobody on the other end: nothing to serve, a clean stop.
    let (code, stderr) = run_with_closed_input(&db, Some(&key)).await;
    assert_eq!(code, Some(0), "{stderr}");

    let listed = keys::list(&services.app, &account_id).await.unwrap();
    let key_id = altframe_domain::KeyId::new(listed[0].key.id.clone());
    keys::revoke_key(&services.app, &key_id).await.unwrap();
    let (code, stderr) = run_with_closed_input(&db, Some(&key)).await;
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("This API key has been revoked"), "{stderr}");
}
