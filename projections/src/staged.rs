//! Rows of a read model that a round of events changes in memory and writes once at its end.
//!
//! A round applies up to thousands of events in one transaction. Writing each event's change
//! as its own statement made a rebuild cost a database round trip per event and a request
//! cost several; here a round loads the rows it will touch in one statement, each event
//! changes them in memory (the projection's logic is a plain function on the row), and the
//! changed rows go back in a few multi-row statements. Every write to a staged table must go
//! through its `Staged`, or the final write would overwrite it.
use std::collections::HashMap;

use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;

use crate::binary_copy::BinaryRows;
use crate::{Arg, Tx};

/// A read-model row keyed by one text column.
pub trait StagedRow: Clone + Send + Unpin
where
    Self: for<'r> sqlx::FromRow<'r, PgRow> + for<'r> sqlx::FromRow<'r, SqliteRow>,
{
    const TABLE: &'static str;
    /// Every column, the key first.
    const COLUMNS: &'static [&'static str];
    /// Each column's Postgres type (`text`, `bigint` or `boolean`), for bulk writes as arrays.
    const TYPES: &'static [&'static str];
    fn key(&self) -> &str;
    /// The values of `COLUMNS`, in their order.
    fn values(&self) -> Vec<Arg>;
}

enum Slot<R> {
    /// As the table holds it (or absent from it).
    Unchanged(Option<R>),
    /// Known to be absent from the table: written with a plain INSERT, which costs Postgres
    /// less than an upsert (no speculative insertion).
    New(R),
    Changed(R),
    Deleted,
}

pub struct Staged<R> {
    slots: HashMap<String, Slot<R>>,
}

impl<R> Default for Staged<R> {
    fn default() -> Self {
        Staged {
            slots: HashMap::new(),
        }
    }
}

/// Rows per statement stay under both backends' limit on bound values (SQLite: 32 766).
const MAX_VALUES: usize = 30_000;

/// New rows from this many on go to Postgres by binary COPY, which costs one more round trip
/// than an INSERT and much less server time per row. Rounds of requests write a few rows;
/// rounds of a rebuild or a catch-up, thousands.
/// Why, with measurements: docs/decisions/0003-binary-copy-for-read-model-writes.md.
const COPY_FROM_ROWS: usize = 100;

impl<R: StagedRow> Staged<R> {
    /// Loads the rows of `keys` not loaded yet, in as few statements as the limits allow.
    pub async fn prefetch(&mut self, tx: &mut Tx, keys: &[&str]) -> Result<(), sqlx::Error> {
        let mut missing: Vec<&str> = keys
            .iter()
            .copied()
            .filter(|k| !self.slots.contains_key(*k))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        for chunk in missing.chunks(MAX_VALUES) {
            let select = format!("SELECT {} FROM {}", R::COLUMNS.join(", "), R::TABLE);
            let found: Vec<R> = match tx {
                Tx::Postgres(t) => {
                    let sql = format!("{select} WHERE {} = ANY($1)", R::COLUMNS[0]);
                    sqlx::query_as::<_, R>(&sql)
                        .bind(chunk)
                        .fetch_all(&mut **t)
                        .await?
                }
                Tx::Sqlite(t) => {
                    let list = placeholders(1, chunk.len());
                    let sql = format!("{select} WHERE {} IN ({list})", R::COLUMNS[0]);
                    let mut query = sqlx::query_as::<_, R>(&sql);
                    for key in chunk {
                        query = query.bind(*key);
                    }
                    query.fetch_all(&mut **t).await?
                }
            };
            for key in chunk {
                self.slots.insert(key.to_string(), Slot::Unchanged(None));
            }
            for row in found {
                self.slots
                    .insert(row.key().to_string(), Slot::Unchanged(Some(row)));
            }
        }
        Ok(())
    }

    /// The row as this round last left it; `None` if it does not exist.
    pub async fn get(&mut self, tx: &mut Tx, key: &str) -> Result<Option<&R>, sqlx::Error> {
        if !self.slots.contains_key(key) {
            self.prefetch(tx, &[key]).await?;
        }
        Ok(match self.slots.get(key) {
            Some(Slot::Unchanged(Some(row)) | Slot::New(row) | Slot::Changed(row)) => Some(row),
            _ => None,
        })
    }

    /// Changes the row in memory, if it exists. Returns whether it did.
    pub async fn update(
        &mut self,
        tx: &mut Tx,
        key: &str,
        change: impl FnOnce(&mut R),
    ) -> Result<bool, sqlx::Error> {
        let Some(row) = self.get(tx, key).await? else {
            return Ok(false);
        };
        let mut row = row.clone();
        change(&mut row);
        self.put(row);
        Ok(true)
    }

    /// Inserts or replaces the row.
    pub fn put(&mut self, row: R) {
        let key = row.key().to_string();
        let slot = match self.slots.get(&key) {
            Some(Slot::Unchanged(None) | Slot::New(_)) => Slot::New(row),
            _ => Slot::Changed(row),
        };
        self.slots.insert(key, slot);
    }

    /// Adds a row that an event makes, which therefore cannot exist yet: it is written with
    /// a plain INSERT, without having been looked for (were it there after all, the INSERT
    /// fails and the round with it, rather than overwriting it).
    pub fn create(&mut self, row: R) {
        let key = row.key().to_string();
        let slot = match self.slots.get(&key) {
            None | Some(Slot::Unchanged(None) | Slot::New(_)) => Slot::New(row),
            _ => Slot::Changed(row),
        };
        self.slots.insert(key, slot);
    }

    pub fn delete(&mut self, key: &str) {
        let slot = match self.slots.get(key) {
            Some(Slot::Unchanged(None) | Slot::New(_)) => Slot::Unchanged(None),
            _ => Slot::Deleted,
        };
        self.slots.insert(key.to_string(), slot);
    }

    /// Writes what changed: deletions, then the changed rows as multi-row upserts.
    pub async fn flush(self, tx: &mut Tx) -> Result<(), sqlx::Error> {
        let mut deleted = Vec::new();
        let (mut new, mut changed) = (Vec::new(), Vec::new());
        for (key, slot) in self.slots {
            match slot {
                Slot::Deleted => deleted.push(key),
                Slot::New(row) => new.push(row),
                Slot::Changed(row) => changed.push(row),
                Slot::Unchanged(_) => {}
            }
        }
        if let Tx::Postgres(t) = tx {
            flush_postgres::<R>(t, &deleted, &new, false).await?;
            return flush_postgres::<R>(t, &[], &changed, true).await;
        }
        changed.append(&mut new);
        for chunk in deleted.chunks(MAX_VALUES) {
            let sql = format!(
                "DELETE FROM {} WHERE {} IN ({})",
                R::TABLE,
                R::COLUMNS[0],
                placeholders(1, chunk.len())
            );
            tx.execute(&sql, chunk.iter().map(|k| Arg::from(k.as_str())).collect())
                .await?;
        }
        let width = R::COLUMNS.len();
        for chunk in changed.chunks(MAX_VALUES / width) {
            let rows = (0..chunk.len())
                .map(|i| format!("({})", placeholders(i * width + 1, width)))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "INSERT INTO {} ({}) VALUES {rows} ON CONFLICT ({}) DO UPDATE SET {}",
                R::TABLE,
                R::COLUMNS.join(", "),
                R::COLUMNS[0],
                set_from_excluded(R::COLUMNS),
            );
            tx.execute(&sql, chunk.iter().flat_map(R::values).collect())
                .await?;
        }
        Ok(())
    }
}

/// Postgres takes each column as one array: a statement of fixed text, prepared once, however
/// many rows it writes.
async fn flush_postgres<R: StagedRow>(
    t: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    deleted: &[String],
    changed: &[R],
    upsert: bool,
) -> Result<(), sqlx::Error> {
    if !deleted.is_empty() {
        let sql = format!("DELETE FROM {} WHERE {} = ANY($1)", R::TABLE, R::COLUMNS[0]);
        sqlx::query(&sql).bind(deleted).execute(&mut **t).await?;
    }
    if changed.is_empty() {
        return Ok(());
    }
    if !upsert && changed.len() >= COPY_FROM_ROWS {
        return copy_in(t, changed).await;
    }
    let arrays = R::TYPES
        .iter()
        .enumerate()
        .map(|(i, ty)| format!("${}::{ty}[]", i + 1))
        .collect::<Vec<_>>()
        .join(", ");
    let mut sql = format!(
        "INSERT INTO {} ({}) SELECT * FROM UNNEST({arrays})",
        R::TABLE,
        R::COLUMNS.join(", "),
    );
    if upsert {
        sql += &format!(
            " ON CONFLICT ({}) DO UPDATE SET {}",
            R::COLUMNS[0],
            set_from_excluded(R::COLUMNS)
        );
    }
    let rows: Vec<Vec<Arg>> = changed.iter().map(R::values).collect();
    let mut query = sqlx::query(&sql);
    for (column, ty) in R::TYPES.iter().enumerate() {
        let values = rows.iter().map(|row| &row[column]);
        query = match *ty {
            "bigint" => query.bind(values.map(Arg::as_int).collect::<Vec<_>>()),
            "boolean" => query.bind(values.map(Arg::as_bool).collect::<Vec<_>>()),
            _ => query.bind(values.map(Arg::as_text).collect::<Vec<_>>()),
        };
    }
    query.execute(&mut **t).await?;
    Ok(())
}

/// Inserts rows known to be new with one binary COPY.
async fn copy_in<R: StagedRow>(
    t: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    rows: &[R],
) -> Result<(), sqlx::Error> {
    let mut data = BinaryRows::new(R::TYPES);
    for row in rows {
        data.push(&row.values())?;
    }
    let sql = format!(
        "COPY {} ({}) FROM STDIN (FORMAT binary)",
        R::TABLE,
        R::COLUMNS.join(", ")
    );
    let mut copy = t.copy_in_raw(&sql).await?;
    copy.send(data.finish()).await?;
    copy.finish().await?;
    Ok(())
}

fn set_from_excluded(columns: &[&str]) -> String {
    columns[1..]
        .iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `$from, $from+1, …` for `n` values.
pub(crate) fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}
