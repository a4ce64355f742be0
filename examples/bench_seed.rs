//! Gives a Postgres store an account with a long history, fast, for `scripts/bench`: the
//! events of `--requests` generate requests (each: credits reserved, job requested, job
//! completed, credits captured), made by the real aggregates in process and written with one
//! COPY, then the account's state row, as a commit would leave it, and the process manager's
//! checkpoint past them (nothing is left for it to settle). Read models are not touched:
//! `altframe projections rebuild` builds them, and the benchmark times that.
//!
//!     cargo run --release --example bench_seed -- --database-url URL --account ID --requests N
//!
//! Prints one JSON object: the account, its events, and all events written.
use std::time::Instant;

use altframe::adapters::image::{prepare_bytes, IntakeConfig};
use altframe::adapters::store::{DatabaseUrl, Store, StoreConfig};
use altframe::adapters::vision::{BuiltinProvider, VisionProvider, VisionRequest};
use altframe::usecases::settlement::CHECKPOINT as PROCESS_MANAGER;
use altframe_domain::account::{Account, AccountCommand};
use altframe_domain::generation::{GenerationOptions, Language};
use altframe_domain::job::{Generation, Job, JobCommand, Source};
use altframe_domain::plan::Plan;
use altframe_projections::checkpoint::{self, Checkpoint};
use altframe_projections::Db;
use chrono::{Duration, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::SerializedEvent;
use cqrs_es::{Aggregate, EventEnvelope};
use sqlx::Row;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Rows sent to COPY per chunk: keeps the seeder's memory flat whatever the history.
const CHUNK_ROWS: usize = 20_000;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args = Args::parse()?;
    let started = Instant::now();
    let store = Store::open(&StoreConfig::new(DatabaseUrl::Postgres(
        args.database_url.clone(),
    )))
    .await?;
    let Db::Postgres(pool) = &store.db else {
        return Err("the seeder writes to Postgres only".into());
    };
    let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE aggregate_id = $1")
        .bind(&args.account)
        .fetch_one(pool)
        .await?;
    if existing > 0 {
        return Err(format!("account {} already has events", args.account).into());
    }

    let mut history = History::new(&args.account);
    let t0 = Utc::now() - Duration::days(1) - Duration::milliseconds(args.requests as i64 * 100);
    history
        .account(AccountCommand::OpenAccount {
            name: "Seeded for benchmarks".into(),
            plan: Plan::Business,
            language: Language::english(),
            at: t0,
        })
        .await?;
    history
        .account(AccountCommand::SetOverage {
            enabled: true,
            at: t0,
        })
        .await?;

    let template = template_job().await?;
    let mut tx = pool.begin().await?;
    let mut copy = tx
        .copy_in_raw(
            "COPY events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                          payload, metadata) FROM STDIN (FORMAT csv)",
        )
        .await?;
    let mut written = 0usize;
    for i in 0..args.requests {
        let at = t0 + Duration::milliseconds(i as i64 * 100 + 1);
        history.request(&template, at).await?;
        if history.pending.len() >= CHUNK_ROWS {
            written += history.pending.len();
            copy.send(history.take_csv()?.as_bytes()).await?;
        }
    }
    written += history.pending.len();
    copy.send(history.take_csv()?.as_bytes()).await?;
    copy.finish().await?;

    let state = serde_json::to_value(&history.account)?;
    sqlx::query(
        "INSERT INTO snapshots (aggregate_type, aggregate_id, last_sequence, current_snapshot, payload)
         VALUES ('Account', $1, $2, $3, $4)",
    )
    .bind(&args.account)
    .bind(history.account_sequence as i64)
    .bind(history.account_commits as i64)
    .bind(state)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    // Every seeded job's credits are settled in the seed itself. In a store that grew over
    // time the process manager would have met each outcome as it happened; left at the
    // start, it would work through them all while the benchmark measures.
    let (transaction_id, position): (String, i64) = sqlx::query_as(
        "SELECT transaction_id::text, position FROM events
          ORDER BY transaction_id DESC, position DESC LIMIT 1",
    )
    .fetch_one(pool)
    .await?;
    let from = checkpoint::read(&store.db, PROCESS_MANAGER).await?;
    let to = Checkpoint {
        transaction_id,
        position,
    };
    if !checkpoint::advance(&store.db, PROCESS_MANAGER, &from, &to).await? {
        return Err("the process manager's checkpoint moved while seeding".into());
    }
    sqlx::query("ANALYZE events").execute(pool).await?;
    let total: i64 = sqlx::query("SELECT COUNT(*) AS n FROM events")
        .fetch_one(pool)
        .await?
        .get("n");

    println!(
        "{}",
        serde_json::json!({
            "account": args.account,
            "account_events": history.account_sequence,
            "events_written": written,
            "events_in_store": total,
            "seconds": started.elapsed().as_secs_f64(),
        })
    );
    Ok(())
}

struct Args {
    database_url: String,
    account: String,
    requests: usize,
}

impl Args {
    fn parse() -> Result<Args, Error> {
        let mut args = std::env::args().skip(1);
        let (mut database_url, mut account, mut requests) = (None, None, None);
        while let Some(flag) = args.next() {
            let value = args.next().ok_or(format!("{flag} needs a value"))?;
            match flag.as_str() {
                "--database-url" => database_url = Some(value),
                "--account" => account = Some(value),
                "--requests" => requests = Some(value.parse()?),
                other => return Err(format!("unknown argument {other}").into()),
            }
        }
        Ok(Args {
            database_url: database_url.ok_or("--database-url is required")?,
            account: account.ok_or("--account is required")?,
            requests: requests.ok_or("--requests is required")?,
        })
    }
}

/// What one request asks for and what the model answered: the builtin model's real output
/// for the 1×1 PNG the generate benchmark sends, with the API's default options.
struct Template {
    image: altframe_domain::image::ImageRef,
    options: GenerationOptions,
    generation: Generation,
}

async fn template_job() -> Result<Template, Error> {
    let png = include_bytes!("../tests/fixtures/tiny-1x1.png").to_vec();
    let prepared = prepare_bytes(None, png, &IntakeConfig::default())?;
    let options = GenerationOptions::defaults(Language::english());
    let output = BuiltinProvider
        .describe(VisionRequest {
            image: &prepared,
            options: &options,
        })
        .await?;
    let generation = Generation {
        results: output.text.finish(&options),
        translations: Default::default(),
        failed_languages: Vec::new(),
        model: output.model,
        tokens: output.tokens,
        processing_ms: 1,
        cost: output.cost,
        judgement: None,
    };
    Ok(Template {
        image: prepared.reference,
        options,
        generation,
    })
}

/// The account's aggregate as the commands leave it, and the events not yet sent to COPY.
struct History {
    account_id: String,
    account: Account,
    account_sequence: usize,
    account_commits: usize,
    pending: Vec<SerializedEvent>,
}

impl History {
    fn new(account_id: &str) -> History {
        History {
            account_id: account_id.to_string(),
            account: Account::default(),
            account_sequence: 0,
            account_commits: 0,
            pending: Vec::new(),
        }
    }

    async fn account(&mut self, command: AccountCommand) -> Result<(), Error> {
        let events = decide(&mut self.account, command).await?;
        self.account_commits += 1;
        for event in events {
            self.account_sequence += 1;
            self.pending.push(serialize::<Account>(
                &self.account_id,
                self.account_sequence,
                event,
            )?);
        }
        Ok(())
    }

    /// The four commands of one successful generate request, in the service's order.
    async fn request(
        &mut self,
        template: &Template,
        at: chrono::DateTime<Utc>,
    ) -> Result<(), Error> {
        let job_id = altframe::adapters::ids::job_id();
        let reservation_id = altframe::adapters::ids::reservation_id();
        let credits = template.image.format.credit_cost();
        self.account(AccountCommand::ReserveCredits {
            reservation_id: reservation_id.clone(),
            purpose: job_id.to_string(),
            credits,
            at,
        })
        .await?;
        let mut job = Job::default();
        let mut sequence = 0;
        for command in [
            JobCommand::GenerateImage {
                account_id: altframe_domain::AccountId::new(&self.account_id),
                source: Source::Api,
                batch_id: None,
                image: template.image.clone(),
                options: Box::new(template.options.clone()),
                reservation_id: reservation_id.clone(),
                credits,
                cache_key: None,
                at,
            },
            JobCommand::CompleteJob {
                generation: template.generation.clone(),
                at,
            },
        ] {
            for event in decide(&mut job, command).await? {
                sequence += 1;
                self.pending
                    .push(serialize::<Job>(job_id.as_str(), sequence, event)?);
            }
        }
        self.account(AccountCommand::CaptureCredits {
            reservation_id,
            charge: Default::default(),
            at,
        })
        .await
    }

    fn take_csv(&mut self) -> Result<String, Error> {
        let mut csv = String::with_capacity(self.pending.len() * 600);
        for e in self.pending.drain(..) {
            for (i, field) in [
                e.aggregate_type,
                e.aggregate_id,
                e.sequence.to_string(),
                e.event_type,
                e.event_version,
                serde_json::to_string(&e.payload)?,
                serde_json::to_string(&e.metadata)?,
            ]
            .iter()
            .enumerate()
            {
                if i > 0 {
                    csv.push(',');
                }
                csv.push('"');
                csv.push_str(&field.replace('"', "\"\""));
                csv.push('"');
            }
            csv.push('\n');
        }
        Ok(csv)
    }
}

/// Runs a command on the aggregate, as the store does before a commit; the aggregate keeps
/// the new events applied.
async fn decide<A>(aggregate: &mut A, command: A::Command) -> Result<Vec<A::Event>, Error>
where
    A: Aggregate<Services = ()>,
    A::Error: Send + Sync + 'static,
{
    let sink = EventSink::default();
    aggregate.handle(command, &(), &sink).await?;
    Ok(sink.collect().await)
}

fn serialize<A: Aggregate>(
    aggregate_id: &str,
    sequence: usize,
    event: A::Event,
) -> Result<SerializedEvent, Error> {
    let envelope = EventEnvelope::<A> {
        aggregate_id: aggregate_id.to_string(),
        sequence,
        payload: event,
        metadata: Default::default(),
    };
    Ok(SerializedEvent::try_from(&envelope)?)
}
