//! Two projectors (as two processes would run them) on one Postgres store under write load:
//! every event is applied once. A double application shows as a duplicate key in a read model.
//! And the feed and the staged writes that projectors are built on.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use altframe::adapters::read_models::Projector;
use altframe::adapters::subscriber::Subscriber;
use altframe_domain::plan::Plan;
use altframe_projections::jobs::JobRow;
use altframe_projections::staged::{Staged, StagedRow};
use altframe_projections::usage::UsageRow;
use altframe_projections::{Db, Tx};

use crate::on_both_backends;
use crate::support::{spawn_with, tiny_image, Backend, Options};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_projectors_under_load_apply_each_event_once() {
    let app = spawn_with(
        Backend::Postgres,
        Options {
            plan: Plan::Business,
            rate_limits: "generate=100000".parse().unwrap(),
            ..Options::default()
        },
    )
    .await;
    // Its own connection pool, as another process has.
    let other = Projector::new(app.db.open().await.db.clone());
    let done = Arc::new(AtomicBool::new(false));
    let rival = tokio::spawn({
        let (other, done) = (Arc::clone(&other), Arc::clone(&done));
        async move {
            let mut rounds = 0;
            while !done.load(Ordering::SeqCst) {
                other.catch_up().await.expect("the second projector fails");
                rounds += 1;
                tokio::task::yield_now().await;
            }
            rounds
        }
    });
    // Each one generated and charged: `regenerate`, or the cache would answer the repeats.
    let mut body = tiny_image();
    body["regenerate"] = serde_json::json!(true);
    let requests = (0..16).map(|_| async {
        for _ in 0..15 {
            assert_eq!(app.post_generate(&body).await.status(), 200);
        }
    });
    futures::future::join_all(requests).await;
    done.store(true, Ordering::SeqCst);
    let rounds = rival.await.expect("the rival projector");
    assert!(rounds > 0);
    other
        .catch_up_fully(Duration::from_secs(10))
        .await
        .expect("the second projector fails at the end");
    app.services
        .projector
        .catch_up_fully(Duration::from_secs(10))
        .await
        .expect("the first projector fails");

    let altframe_projections::Db::Postgres(pool) = &app.services.store.db else {
        unreachable!()
    };
    let jobs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs")
        .fetch_one(pool)
        .await
        .unwrap();
    let open: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM open_reservations")
        .fetch_one(pool)
        .await
        .unwrap();
    let used: i64 = sqlx::query_scalar("SELECT used_this_period FROM usage")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!((jobs, open, used), (240, 0, 240));
}

/// Transaction ids must be compared as numbers, not as the text they are read as: text puts
/// "10" before "9", so a batch could end, and its checkpoint land, before events it applied.
#[tokio::test]
async fn the_feed_orders_transactions_as_numbers() {
    let db = crate::support::db::TestDb::new(Backend::Postgres).await;
    let store = db.open().await;
    let altframe_projections::Db::Postgres(pool) = &store.db else {
        unreachable!()
    };
    // Transactions 9 and 10 ended long before any running one, so the feed may read both.
    for (transaction, id) in [(10, "later"), (9, "earlier")] {
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type,
                                 event_version, payload, metadata, transaction_id)
             VALUES ('Elsewhere', $1, 1, 'Something', '1.0', '{}', '{}', $2::text::xid8)",
        )
        .bind(id)
        .bind(transaction.to_string())
        .execute(pool)
        .await
        .unwrap();
    }
    let mut tx = store.db.begin().await.unwrap();
    let start = altframe_projections::checkpoint::Checkpoint::start();
    let first = altframe::adapters::store::feed::after(&mut tx, &start, 1)
        .await
        .unwrap();
    assert_eq!(first[0].aggregate_id, "earlier");
    let next = altframe::adapters::store::feed::after(&mut tx, &first[0].checkpoint(), 10)
        .await
        .unwrap();
    let ids: Vec<&str> = next.iter().map(|e| e.aggregate_id.as_str()).collect();
    assert_eq!(ids, ["later"]);
}

/// Asking whether events are pending must stay on the global-order index whatever the
/// checkpoint: Postgres reuses a generic plan for a prepared statement, and the `EXISTS` this
/// replaced was planned as a scan of the whole table, a second per call on 2,000,000 events.
#[tokio::test]
async fn pending_events_are_found_through_the_index_under_a_generic_plan() {
    let db = crate::support::db::TestDb::new(Backend::Postgres).await;
    let store = db.open().await;
    let altframe_projections::Db::Postgres(pool) = &store.db else {
        unreachable!()
    };
    let mut conn = pool.acquire().await.unwrap();
    sqlx::raw_sql(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                             payload, metadata)
         SELECT 'Elsewhere', 'agg_' || n, 1, 'Something', '1.0', '{}', '{}'
           FROM generate_series(1, 20000) AS n;
         ANALYZE events;
         SET plan_cache_mode = force_generic_plan;",
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    for (name, types, sql, args) in [
        (
            "after_checkpoint",
            "text, bigint",
            altframe::adapters::store::feed::PENDING_AFTER_CHECKPOINT,
            "'0', 0",
        ),
        (
            "after_projection",
            "text",
            altframe::adapters::store::feed::PENDING_AFTER_PROJECTION,
            "'jobs'",
        ),
    ] {
        sqlx::raw_sql(&format!("PREPARE {name} ({types}) AS {sql}"))
            .execute(&mut *conn)
            .await
            .unwrap();
        let plan: Vec<String> =
            sqlx::query_scalar(&format!("EXPLAIN (FORMAT TEXT) EXECUTE {name} ({args})"))
                .fetch_all(&mut *conn)
                .await
                .unwrap();
        let plan = plan.join("\n");
        assert!(
            plan.contains("events_global_order") && !plan.contains("Seq Scan on events"),
            "{name}:\n{plan}"
        );
    }
}

on_both_backends!(staged_rows_are_written_as_they_were_made);

fn job_row(i: i64) -> JobRow {
    let odd = i % 2 == 1;
    JobRow {
        id: format!("job_{i:04}"),
        account_id: "acct_rows".into(),
        status: if odd { "failed" } else { "completed" }.into(),
        image_url: odd.then(|| format!("https://example.com/{i}.jpg?a=1&b=\\x")),
        results: (!odd)
            .then(|| format!("{{\"alt_text\":\"Eine Brücke\\tüber\\n\\\"Wasser\\\" {i}\"}}")),
        mode: "standard".into(),
        language: "de".into(),
        model: (!odd).then(|| "builtin".to_string()),
        tokens_input: (!odd).then_some(i * 1_000_000_007),
        tokens_output: (!odd).then_some(-i),
        processing_ms: None,
        cost_micros: Some(i64::MAX - i),
        credits: i,
        language_credits: i % 3,
        translations: (!odd).then(|| format!("{{\"fr\":{{\"alt_text\":\"Un pont {i}\"}}}}")),
        failed_languages: odd.then(|| "[\"de\"]".to_string()),
        source: "api".into(),
        batch_id: None,
        batch_index: odd.then_some(i),
        error: odd.then(|| "a model error, with 'quotes' and ✓".to_string()),
        created_at: format!("2026-12-02T10:{:02}:00.000Z", i % 60),
        completed_at: None,
        cache_key: (!odd).then(|| format!("{i:064x}")),
        cached_from: odd.then(|| format!("job_{:04}", i - 1)),
    }
}

fn usage_row(i: i64) -> UsageRow {
    UsageRow {
        account_id: format!("acct_{i:04}"),
        plan: "business".into(),
        monthly_allocation: 10_000,
        remaining: 10_000 - i,
        rollover: 0,
        used_this_period: i,
        overage_credits: 0,
        overage_cost_micros: 0,
        overage_enabled: i % 3 == 0,
        overage_rate_micros: 4_000,
        language_credits: i % 2,
        period_start: "2026-12-01T00:00:00.000Z".into(),
        period_end: "2027-01-01T00:00:00.000Z".into(),
        pending_plan: (i % 4 == 0).then(|| "starter".into()),
        pending_plan_at: (i % 4 == 0).then(|| "2027-01-01T00:00:00.000Z".into()),
    }
}

/// New rows go out as a multi-row INSERT, or on Postgres from a hundred rows on as a binary
/// COPY: either way every value, NULL, large number, boolean and character comes back as made.
async fn staged_rows_are_written_as_they_were_made(backend: Backend) {
    let db = crate::support::db::TestDb::new(backend).await;
    let store = db.open().await;
    for count in [3, 250] {
        let mut tx = store.db.begin().await.unwrap();
        delete_all(&mut tx).await;
        let (mut jobs, mut usage) = (Staged::<JobRow>::default(), Staged::<UsageRow>::default());
        let made_jobs: Vec<JobRow> = (0..count).map(job_row).collect();
        let made_usage: Vec<UsageRow> = (0..count).map(usage_row).collect();
        made_jobs.iter().cloned().for_each(|row| jobs.create(row));
        made_usage.iter().cloned().for_each(|row| usage.create(row));
        jobs.flush(&mut tx).await.unwrap();
        usage.flush(&mut tx).await.unwrap();
        tx.commit().await.unwrap();

        let read_jobs: Vec<JobRow> = read_all(&store.db, "jobs", JobRow::COLUMNS, "id").await;
        let read_usage: Vec<UsageRow> =
            read_all(&store.db, "usage", UsageRow::COLUMNS, "account_id").await;
        assert_eq!(read_jobs, made_jobs, "{count} jobs");
        assert_eq!(read_usage, made_usage, "{count} usage rows");
    }
}

async fn delete_all(tx: &mut Tx) {
    for table in ["jobs", "usage"] {
        tx.execute(&format!("DELETE FROM {table}"), Vec::new())
            .await
            .unwrap();
    }
}

async fn read_all<R>(db: &Db, table: &str, columns: &[&str], key: &str) -> Vec<R>
where
    R: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + Send
        + Unpin,
{
    let sql = format!("SELECT {} FROM {table} ORDER BY {key}", columns.join(", "));
    match db {
        Db::Postgres(pool) => sqlx::query_as(&sql).fetch_all(pool).await.unwrap(),
        Db::Sqlite(pool) => sqlx::query_as(&sql).fetch_all(pool).await.unwrap(),
    }
}
