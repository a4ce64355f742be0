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
