//! The event store itself: snapshots keep account loads bounded.
use altframe::adapters::store::DatabaseUrl;
use altframe_domain::account::AccountCommand;
use altframe_domain::plan::Plan;

use crate::on_both_backends;
use crate::support::{spawn_with, Backend, Options, TestApp};

on_both_backends!(
    account_loads_start_from_a_snapshot,
    a_commit_of_many_events_is_whole_in_the_snapshot,
    kept_state_gives_way_to_another_processs_commits,
    an_aggregate_assumed_new_that_exists_is_decided_on_its_stored_state,
    commits_of_one_event_and_of_many_take_turns_on_one_connection,
    commands_that_arrive_during_a_commit_are_committed_together
);

/// An app on the Business plan: 25,000 credits, room for every command below.
async fn spawn_business(backend: Backend) -> TestApp {
    spawn_on(backend, Plan::Business).await
}

async fn spawn_on(backend: Backend, plan: Plan) -> TestApp {
    spawn_with(
        backend,
        Options {
            plan,
            ..Options::default()
        },
    )
    .await
}

async fn account_loads_start_from_a_snapshot(backend: Backend) {
    let app = spawn_business(backend).await;
    let commands = 210;
    for i in 0..commands {
        app.services
            .store
            .accounts
            .execute(
                &app.account_id,
                AccountCommand::ReserveCredits {
                    reservation_id: altframe_domain::ReservationId::new(format!("res_{i}")),
                    purpose: "load".into(),
                    credits: 1,
                    at: chrono::Utc::now(),
                },
            )
            .await
            .unwrap();
    }
    let sql = "SELECT MAX(last_sequence) FROM snapshots WHERE aggregate_type = 'Account' AND aggregate_id = $1";
    let last: Option<i64> = match &app.services.store.db {
        altframe_projections::Db::Postgres(p) => sqlx::query_scalar(sql)
            .bind(app.account_id.as_str())
            .fetch_one(p)
            .await
            .unwrap(),
        altframe_projections::Db::Sqlite(p) => sqlx::query_scalar(sql)
            .bind(app.account_id.as_str())
            .fetch_one(p)
            .await
            .unwrap(),
    };
    let last = last.expect("a snapshot exists") as usize;
    assert_eq!(last, commands + 1, "the snapshot is at the last event");
    assert_eq!(
        app.remaining().await,
        25_000 - commands as u32,
        "state from snapshot plus tail"
    );
}

#[test]
fn database_url_picks_the_backend() {
    assert_eq!(
        DatabaseUrl::parse(None).unwrap(),
        DatabaseUrl::SqliteFile("./altframe.db".into())
    );
    assert_eq!(
        DatabaseUrl::parse(Some("postgres://u@h/db")).unwrap(),
        DatabaseUrl::Postgres("postgres://u@h/db".into())
    );
    assert_eq!(
        DatabaseUrl::parse(Some("sqlite://x.db")).unwrap(),
        DatabaseUrl::SqliteFile("x.db".into())
    );
    assert!(DatabaseUrl::parse(Some("mysql://h/db")).is_err());
}

/// A batch reservation commits many events at once; the next load must see all of them
/// (cqrs-es's own snapshot boundary logic would drop the ones past a boundary).
async fn a_commit_of_many_events_is_whole_in_the_snapshot(backend: Backend) {
    let app = spawn_business(backend).await;
    for round in 0..3 {
        app.services
            .store
            .accounts
            .execute(&app.account_id, reserve_batch(&round.to_string(), 70))
            .await
            .unwrap();
    }
    let account = app
        .services
        .store
        .accounts
        .load(&app.account_id)
        .await
        .unwrap();
    assert_eq!(account.reservations().count(), 210);
    assert_eq!(account.remaining(), 25_000 - 210);
    let positions = positions_in_sequence_order(&app).await;
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "positions follow sequences: {positions:?}"
    );
}

/// A process keeps the state its last command left and decides the next command on it. When
/// another process has committed since, that state is behind: a commit is refused by the
/// store and retried, and a refusal is decided again on the store's state.
async fn kept_state_gives_way_to_another_processs_commits(backend: Backend) {
    let app = spawn_business(backend).await;
    let reserve = |id: &str| AccountCommand::ReserveCredits {
        reservation_id: altframe_domain::ReservationId::new(id),
        purpose: format!("job_{id}"),
        credits: 1,
        at: chrono::Utc::now(),
    };
    let capture = |id: &str| AccountCommand::CaptureCredits {
        reservation_id: altframe_domain::ReservationId::new(id),
        charge: Default::default(),
        at: chrono::Utc::now(),
    };
    let here = &app.services.store.accounts;
    let other_process = app.db.open().await;
    let there = &other_process.accounts;

    here.execute(&app.account_id, reserve("res_here"))
        .await
        .unwrap();
    there
        .execute(&app.account_id, reserve("res_there"))
        .await
        .unwrap();
    // Decided on the kept state, this reservation is unknown: the refusal must not stand.
    here.execute(&app.account_id, capture("res_there"))
        .await
        .unwrap();
    // Decided on the kept state, this commit takes a sequence already used: retried.
    there
        .execute(&app.account_id, capture("res_here"))
        .await
        .unwrap();
    here.execute(&app.account_id, reserve("res_last"))
        .await
        .unwrap();

    let account = here.load(&app.account_id).await.unwrap();
    let open: Vec<&str> = account.reservations().map(|(id, _)| id.as_str()).collect();
    assert_eq!(open, ["res_last"]);
    assert_eq!(account.remaining(), 25_000 - 3);
}

/// `execute_new` skips the load of an aggregate whose id was just made. Were the id taken after
/// all, the assumed empty state must give way: a refusal on it is decided again on the stored
/// state, and a commit on it conflicts and is decided again too.
async fn an_aggregate_assumed_new_that_exists_is_decided_on_its_stored_state(backend: Backend) {
    let app = spawn_business(backend).await;
    let accounts = &app.services.store.accounts;
    let events_before = app.events().await.len();

    // Refused on an empty account (it is not open), accepted on the stored one.
    let reserve = AccountCommand::ReserveCredits {
        reservation_id: altframe_domain::ReservationId::new("res_assumed"),
        purpose: "job_assumed".into(),
        credits: 1,
        at: chrono::Utc::now(),
    };
    accounts
        .execute_new(&app.account_id, reserve)
        .await
        .unwrap();
    assert_eq!(app.remaining().await, 25_000 - 1);

    // Accepted on an empty account, but its sequence is taken; refused on the stored one.
    let reopen = AccountCommand::OpenAccount {
        name: "again".into(),
        plan: Plan::Free,
        language: altframe_domain::generation::Language::english(),
        at: chrono::Utc::now(),
    };
    let refused = accounts.execute_new(&app.account_id, reopen).await;
    assert!(
        matches!(
            refused,
            Err(altframe::adapters::store::CommandError::Rejected(_))
        ),
        "{refused:?}"
    );
    assert_eq!(app.events().await.len(), events_before + 1);
    let account = accounts.load(&app.account_id).await.unwrap();
    assert_eq!(account.plan(), Some(Plan::Business));
}

/// Commits of one event and of several, taking turns on one connection. They once had
/// statements of their own that shared a text with postgres-es's, hence a prepared statement
/// of the wrong parameter types: each failed after the other had prepared it. Both now go
/// through one statement; this stays to keep it so.
async fn commits_of_one_event_and_of_many_take_turns_on_one_connection(backend: Backend) {
    use altframe_domain::api_key::ApiKeyCommand;
    let app = spawn_business(backend).await;
    // A store only this test uses: its commands, one at a time, reuse one connection.
    let store = app.db.open().await;
    for round in 0..3 {
        store
            .api_keys
            .execute(
                &altframe_domain::KeyId::new(format!("key_turns_{round}")),
                ApiKeyCommand::IssueApiKey {
                    account_id: app.account_id.clone(),
                    name: format!("turn {round}"),
                    key_hash: format!("hash_{round}"),
                    key_prefix: "af_live_turn".into(),
                    at: chrono::Utc::now(),
                },
            )
            .await
            .unwrap();
        store
            .accounts
            .execute(&app.account_id, reserve_batch(&format!("turns_{round}"), 2))
            .await
            .unwrap();
    }
    assert_eq!(app.remaining().await, 25_000 - 6);
}

/// Commands on one account that arrive while a commit is on its way wait, then are decided in
/// the order they came and committed as one group. A refused one takes nothing from the
/// others, and the group's events are stored in sequence order.
async fn commands_that_arrive_during_a_commit_are_committed_together(backend: Backend) {
    use altframe::adapters::store::CommandError;
    use altframe_domain::account::AccountError;
    // Free: 50 credits, and no overage to run into.
    let app = spawn_on(backend, Plan::Free).await;
    let (first_sequence, first_version) = state_row(&app).await;
    let reserve = |i: usize| AccountCommand::ReserveCredits {
        reservation_id: altframe_domain::ReservationId::new(format!("res_group_{i}")),
        purpose: format!("job_group_{i}"),
        credits: 3,
        at: chrono::Utc::now(),
    };
    let accounts = &app.services.store.accounts;
    // The account's state row is held by another transaction, so the first command's commit
    // cannot end before every other command has arrived: how many joined its group must not
    // depend on how fast the database answers.
    let mut holder = app.services.store.db.begin().await.unwrap();
    holder
        .execute(
            "UPDATE snapshots SET last_sequence = last_sequence
              WHERE aggregate_type = 'Account' AND aggregate_id = $1",
            vec![altframe_projections::db::Arg::Text(
                app.account_id.to_string(),
            )],
        )
        .await
        .unwrap();
    // `join_all` of so few polls each in turn: in one poll the first takes the free account
    // and starts its commit, which waits for the row, and the other 19 queue behind it.
    // (Nothing else in the app holds this account's stripe here: the app is idle.)
    let mut commands = Box::pin(futures::future::join_all(
        (0..20).map(|i| accounts.execute(&app.account_id, reserve(i))),
    ));
    assert!(futures::poll!(commands.as_mut()).is_pending());
    holder.rollback().await.unwrap();
    let results = commands.await;

    // 50 credits hold 16 reservations of 3: the last four to be decided are refused.
    for (i, result) in results.iter().enumerate() {
        match result {
            Ok(events) if i < 16 => assert_eq!(events.len(), 1, "command {i}"),
            Err(CommandError::Rejected(AccountError::InsufficientCredits {
                remaining, ..
            })) if i >= 16 => {
                assert_eq!(*remaining, 2, "command {i}")
            }
            other => panic!("command {i}: {other:?}"),
        }
    }
    let (last_sequence, version) = state_row(&app).await;
    assert_eq!(
        last_sequence - first_sequence,
        16,
        "one event per reservation"
    );
    assert_eq!(
        version - first_version,
        2,
        "the first command alone, then the 19 as one group"
    );

    let account = accounts.load(&app.account_id).await.unwrap();
    assert_eq!(account.remaining(), 2);
    assert_eq!(account.reservations().count(), 16);
    let positions = positions_in_sequence_order(&app).await;
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "positions follow sequences: {positions:?}"
    );
}

/// The account's state row: its last sequence and its version.
async fn state_row(app: &TestApp) -> (i64, i64) {
    let sql = "SELECT last_sequence, current_snapshot FROM snapshots
                WHERE aggregate_type = 'Account' AND aggregate_id = $1";
    match &app.services.store.db {
        altframe_projections::Db::Postgres(p) => {
            sqlx::query_as(sql)
                .bind(app.account_id.as_str())
                .fetch_one(p)
                .await
        }
        altframe_projections::Db::Sqlite(p) => {
            sqlx::query_as(sql)
                .bind(app.account_id.as_str())
                .fetch_one(p)
                .await
        }
    }
    .unwrap()
}

/// The global positions of the account's events, in the account's sequence order.
async fn positions_in_sequence_order(app: &TestApp) -> Vec<i64> {
    let (pg, lite) = (
        "SELECT position FROM events WHERE aggregate_type = 'Account' AND aggregate_id = $1 ORDER BY sequence",
        "SELECT rowid FROM events WHERE aggregate_type = 'Account' AND aggregate_id = $1 ORDER BY sequence",
    );
    match &app.services.store.db {
        altframe_projections::Db::Postgres(p) => {
            sqlx::query_scalar(pg)
                .bind(app.account_id.as_str())
                .fetch_all(p)
                .await
        }
        altframe_projections::Db::Sqlite(p) => {
            sqlx::query_scalar(lite)
                .bind(app.account_id.as_str())
                .fetch_all(p)
                .await
        }
    }
    .unwrap()
}

/// A batch reservation of `n` credits, one per reservation `res_{tag}_{i}`: several events in
/// one commit.
fn reserve_batch(tag: &str, n: usize) -> AccountCommand {
    AccountCommand::ReserveBatchCredits {
        reservations: (0..n)
            .map(|i| altframe_domain::account::ReservationRequest {
                reservation_id: altframe_domain::ReservationId::new(format!("res_{tag}_{i}")),
                purpose: format!("job_{tag}_{i}"),
                credits: 1,
            })
            .collect(),
        at: chrono::Utc::now(),
    }
}
