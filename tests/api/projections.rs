//! Two projectors (as two processes would run them) on one Postgres store under write load:
//! every event is applied once. A double application shows as a duplicate key in a read model.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use altframe::projector::Projector;
use altframe::subscriber::Subscriber;
use altframe_domain::plan::Plan;

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
    let requests = (0..16).map(|_| async {
        for _ in 0..15 {
            assert_eq!(app.post_generate(&tiny_image()).await.status(), 200);
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
    app.app
        .projector
        .catch_up_fully(Duration::from_secs(10))
        .await
        .expect("the first projector fails");

    let altframe_projections::Db::Postgres(pool) = &app.app.store.db else {
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
    let first = altframe::store::feed::after(&mut tx, &start, 1)
        .await
        .unwrap();
    assert_eq!(first[0].aggregate_id, "earlier");
    let next = altframe::store::feed::after(&mut tx, &first[0].checkpoint(), 10)
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
            altframe::store::feed::PENDING_AFTER_CHECKPOINT,
            "'0', 0",
        ),
        (
            "after_projection",
            "text",
            altframe::store::feed::PENDING_AFTER_PROJECTION,
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
