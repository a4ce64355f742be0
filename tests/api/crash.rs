//! The process manager loses nothing when a process dies, and two processes share the work
//! without doing any item twice. These run the real binary on Postgres.
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::{json, Value};

use crate::bulk::assert_reservations_balance;
use crate::support::fake_openai::{Behaviour, FakeOpenAi, API_KEY};
use crate::support::process::{serve, Served};
use crate::support::{base64_of, Backend, TestDb};

fn env_for(fake: &FakeOpenAi) -> Vec<(&'static str, String)> {
    vec![
        ("ALTFRAME_VISION", "openai".into()),
        ("OPENAI_API_KEY", API_KEY.into()),
        ("ALTFRAME_OPENAI_BASE_URL", fake.base_url.clone()),
        ("ALTFRAME_MODEL_RETRIES", "0".into()),
        ("ALTFRAME_ALLOW_PRIVATE_NETWORKS", "true".into()),
        ("ALTFRAME_DEFAULT_PLAN", "business".into()),
        // A dead worker's items come back after this long.
        ("ALTFRAME_BULK_LEASE_SECS", "3".into()),
    ]
}

async fn submit(http: &reqwest::Client, server: &Served, key: &str, images: usize) -> String {
    let tiny = json!({ "image_base64": base64_of("tiny-1x1.png") });
    let response = http
        .post(format!("{}/api/v1/generate/bulk", server.base))
        .header("x-api-key", key)
        // `regenerate`: every item is the same image, and each must reach the model.
        .json(&json!({ "images": vec![tiny; images], "fields": ["alt_text"], "regenerate": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let body: Value = response.json().await.unwrap();
    body["batch_id"].as_str().unwrap().to_string()
}

async fn batch(http: &reqwest::Client, server: &Served, key: &str, batch_id: &str) -> Value {
    http.get(format!("{}/api/v1/batches/{batch_id}", server.base))
        .header("x-api-key", key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Polls until `done` says so (bounded: two minutes).
async fn wait_until<F: Fn(&Value) -> bool>(
    http: &reqwest::Client,
    server: &Served,
    key: &str,
    id: &str,
    done: F,
) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let body = batch(http, server, key, id).await;
        if done(&body) {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited too long: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn events(db: &TestDb) -> Vec<(String, String, Value)> {
    let store = db.open().await;
    let altframe_projections::Db::Postgres(pool) = &store.db else {
        unreachable!("these tests run on Postgres")
    };
    sqlx::query_as(
        "SELECT aggregate_type, event_type, payload FROM events ORDER BY aggregate_id, sequence",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

fn count(events: &[(String, String, Value)], kind: &str) -> usize {
    events.iter().filter(|(_, k, _)| k == kind).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_batch_survives_kill_9_and_charges_each_item_once() {
    const ITEMS: usize = 40;
    let db = TestDb::new(Backend::Postgres).await;
    let fake = FakeOpenAi::start_gated(
        Behaviour::Answer {
            alt_text: "A white pixel".into(),
        },
        15,
    )
    .await;
    let http = reqwest::Client::new();

    let mut first = serve(&db.env_url, &env_for(&fake), true);
    let key = first.key.clone().unwrap();
    let batch_id = submit(&http, &first, &key, ITEMS).await;
    // 15 answers go through; the next items hang inside the model call when the process dies.
    wait_until(&http, &first, &key, &batch_id, |b| {
        b["completed"].as_u64() >= Some(15)
    })
    .await;
    first.kill();

    fake.gate.add_permits(1_000);
    let second = serve(&db.env_url, &env_for(&fake), false);
    let done = wait_until(&http, &second, &key, &batch_id, |b| {
        b["status"] != "processing"
    })
    .await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["completed"], ITEMS);

    // Each item completed once and was charged once; history agrees with the batch.
    let stored = events(&db).await;
    assert_eq!(count(&stored, "JobCompleted"), ITEMS);
    assert_eq!(count(&stored, "BatchFinished"), 1);
    let (captured, released) = assert_reservations_balance(&stored);
    assert_eq!((captured, released), (ITEMS as u64, 0));
    let store = db.open().await;
    let rows = altframe_projections::jobs::for_batch(&store.db, &batch_id)
        .await
        .unwrap();
    for result in done["results"].as_array().unwrap() {
        let row = rows
            .iter()
            .find(|r| r.id == result["id"].as_str().unwrap())
            .unwrap();
        let stored: Value = serde_json::from_str(row.results.as_deref().unwrap()).unwrap();
        assert_eq!(stored, result["results"]);
        assert_eq!(row.status, "completed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_share_a_batch_without_doing_an_item_twice() {
    const ITEMS: usize = 60;
    let db = TestDb::new(Backend::Postgres).await;
    // One fake model per process, both holding answers back until both have taken work.
    let fake_a = FakeOpenAi::start_gated(
        Behaviour::Answer {
            alt_text: "A".into(),
        },
        0,
    )
    .await;
    let fake_b = FakeOpenAi::start_gated(
        Behaviour::Answer {
            alt_text: "B".into(),
        },
        0,
    )
    .await;
    let http = reqwest::Client::new();
    let a = serve(&db.env_url, &env_for(&fake_a), true);
    let key = a.key.clone().unwrap();
    let b = serve(&db.env_url, &env_for(&fake_b), false);

    let batch_id = submit(&http, &a, &key, ITEMS).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while fake_a.calls.load(Ordering::SeqCst) == 0 || fake_b.calls.load(Ordering::SeqCst) == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "both processes should take items"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    fake_a.gate.add_permits(1_000);
    fake_b.gate.add_permits(1_000);

    let done = wait_until(&http, &b, &key, &batch_id, |v| v["status"] != "processing").await;
    assert_eq!(done["status"], "completed", "{done}");
    let (calls_a, calls_b) = (
        fake_a.calls.load(Ordering::SeqCst),
        fake_b.calls.load(Ordering::SeqCst),
    );
    assert_eq!(
        calls_a + calls_b,
        ITEMS,
        "every item ran once: {calls_a} + {calls_b}"
    );
    let stored = events(&db).await;
    assert_eq!(count(&stored, "JobRequested"), ITEMS);
    assert_eq!(count(&stored, "JobCompleted"), ITEMS);
    let (captured, _) = assert_reservations_balance(&stored);
    assert_eq!(captured, ITEMS as u64);
    let texts: Vec<&str> = done["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["results"]["alt_text"].as_str().unwrap())
        .collect();
    assert!(
        texts.contains(&"A") && texts.contains(&"B"),
        "both processes answered"
    );
}

/// A `serve` process with `grace_secs` of shutdown grace and a batch of `items` submitted,
/// whose model answers nothing until the test adds permits to its gate.
async fn held_by_the_model(
    grace_secs: u64,
    items: usize,
) -> (TestDb, FakeOpenAi, Served, String, String) {
    let db = TestDb::new(Backend::Postgres).await;
    let fake = FakeOpenAi::start_gated(
        Behaviour::Answer {
            alt_text: "A white pixel".into(),
        },
        0,
    )
    .await;
    let mut env = env_for(&fake);
    env.push(("ALTFRAME_SHUTDOWN_GRACE_SECS", grace_secs.to_string()));
    let server = serve(&db.env_url, &env, true);
    let key = server.key.clone().unwrap();
    let batch_id = submit(&reqwest::Client::new(), &server, &key, items).await;
    (db, fake, server, key, batch_id)
}

/// SIGTERM: the process stops accepting connections, lets the request and the bulk items it is
/// running finish, settles their credits, and exits cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_finishes_in_flight_work_then_exits() {
    let (db, fake, mut server, key, batch_id) = held_by_the_model(60, 3).await;
    let http = reqwest::Client::new();
    let generate = tokio::spawn(
        http.post(format!("{}/api/v1/generate", server.base))
            .header("x-api-key", &key)
            .json(&json!({ "image_base64": base64_of("tiny-1x1.png"), "fields": ["alt_text"] }))
            .send(),
    );
    // Wait until the request and the three items are all inside the model call.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while fake.calls.load(Ordering::SeqCst) < 4 {
        assert!(tokio::time::Instant::now() < deadline, "work did not start");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    server.terminate();
    server.wait_for_log("shutting down", Duration::from_secs(10));
    // New connections are refused while the running work is still held by the model.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let attempt = reqwest::Client::new()
            .get(format!("{}/healthz", server.base))
            .send()
            .await;
        if attempt.as_ref().is_err_and(|e| e.is_connect()) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "still accepting");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!generate.is_finished());

    fake.gate.add_permits(1_000);
    let response = generate
        .await
        .unwrap()
        .expect("the in-flight request is answered");
    assert_eq!(response.status(), 200);
    let exit = tokio::task::spawn_blocking(move || server.wait_exit(Duration::from_secs(60)))
        .await
        .unwrap();
    assert_eq!(exit, Some(0));

    let stored = events(&db).await;
    assert_eq!(count(&stored, "JobCompleted"), 4, "all four finished");
    assert_eq!(
        count(&stored, "BatchFinished"),
        1,
        "the batch {batch_id} finished"
    );
    let (captured, released) = assert_reservations_balance(&stored);
    assert_eq!((captured, released), (4, 0), "settled before exiting");
}

/// SIGTERM with bulk items still inside the model call when the grace period ends: the
/// process ends them and hands them back to the queue, so that another process takes them at
/// once instead of waiting for their leases to run out.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_hands_back_items_that_outrun_the_grace_period() {
    let (db, fake, mut server, _, batch_id) = held_by_the_model(1, 3).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while fake.calls.load(Ordering::SeqCst) < 3 {
        assert!(tokio::time::Instant::now() < deadline, "work did not start");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    server.terminate();
    let exit = tokio::task::spawn_blocking(move || server.wait_exit(Duration::from_secs(60)))
        .await
        .unwrap();
    assert_eq!(exit, Some(0));

    let store = db.open().await;
    let altframe_projections::Db::Postgres(pool) = &store.db else {
        unreachable!("these tests run on Postgres")
    };
    let leases: Vec<(i64, Option<String>, i64)> =
        sqlx::query_as("SELECT lease_until, leased_by, attempts FROM bulk_leases ORDER BY job_id")
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(leases.len(), 3, "{leases:?}");
    for (until, holder, attempts) in &leases {
        assert_eq!(
            (*until, holder.as_deref(), *attempts),
            (0, None, 1),
            "{leases:?}"
        );
    }
    let stored = events(&db).await;
    assert_eq!(
        count(&stored, "JobCompleted"),
        0,
        "the batch {batch_id} is left to finish"
    );
}
