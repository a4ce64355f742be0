//! Where each projection stands in the global event order.
//!
//! Why that order on Postgres: docs/decisions/0002-global-order-on-postgres.md.
use crate::staged::placeholders;
use crate::{Arg, Tx};

/// A position in the global order: Postgres orders by (transaction id, position), SQLite by
/// position alone (its transaction id is always "0").
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Checkpoint {
    pub transaction_id: String,
    pub position: i64,
}

impl Checkpoint {
    pub fn start() -> Checkpoint {
        Checkpoint {
            transaction_id: "0".into(),
            position: 0,
        }
    }

    /// Where this checkpoint falls in the global order, for comparing two of them.
    pub fn order(&self) -> (u64, i64) {
        order(&self.transaction_id, self.position)
    }
}

/// The comparable place of (transaction id, position): transaction ids compare as numbers.
pub(crate) fn order(transaction_id: &str, position: i64) -> (u64, i64) {
    (transaction_id.parse().unwrap_or(0), position)
}

/// Reads the checkpoints of `names`, in their order, and holds their rows locked until the
/// transaction ends, so that two processes never apply the same events. The no-op UPDATE
/// takes the row locks on Postgres and the write lock on SQLite before anything is read. A
/// projection that never ran gets its row, at the beginning.
pub async fn lock_all(tx: &mut Tx, names: &[&str]) -> Result<Vec<Checkpoint>, sqlx::Error> {
    let mut found = lock_existing(tx, names).await?;
    if found.len() < names.len() {
        let rows = (1..=names.len())
            .map(|i| format!("(${i}, '0', 0)"))
            .collect::<Vec<_>>()
            .join(", ");
        tx.execute(
            &format!(
                "INSERT INTO projection_checkpoints (name, transaction_id, position) VALUES {rows}
                 ON CONFLICT (name) DO NOTHING"
            ),
            names.iter().map(|&n| Arg::from(n)).collect(),
        )
        .await?;
        found = lock_existing(tx, names).await?;
    }
    Ok(names
        .iter()
        .map(|name| {
            found.iter().find(|(n, _, _)| n == name).map_or_else(
                Checkpoint::start,
                |(_, transaction_id, position)| Checkpoint {
                    transaction_id: transaction_id.clone(),
                    position: *position,
                },
            )
        })
        .collect())
}

async fn lock_existing(
    tx: &mut Tx,
    names: &[&str],
) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
    let sql = format!(
        "UPDATE projection_checkpoints SET position = position WHERE name IN ({})
         RETURNING name, transaction_id, position",
        placeholders(1, names.len())
    );
    Ok(crate::on_tx!(tx, conn => {
        let mut q = sqlx::query_as(&sql);
        for name in names {
            q = q.bind(*name);
        }
        q.fetch_all(conn).await?
    }))
}

/// Moves the checkpoints of `names` to `at`, in the transaction that locked them.
pub async fn save_all(tx: &mut Tx, names: &[&str], at: &Checkpoint) -> Result<(), sqlx::Error> {
    if names.is_empty() {
        return Ok(());
    }
    let mut args = vec![Arg::Text(at.transaction_id.clone()), Arg::Int(at.position)];
    args.extend(names.iter().map(|&n| Arg::from(n)));
    tx.execute(
        &format!(
            "UPDATE projection_checkpoints SET transaction_id = $1, position = $2
              WHERE name IN ({})",
            placeholders(3, names.len())
        ),
        args,
    )
    .await?;
    Ok(())
}

/// The earliest of the checkpoints of `names`, read without a lock: where the first of them
/// will read next. A projection that never ran starts at the beginning.
pub async fn earliest(db: &crate::Db, names: &[&str]) -> Result<Checkpoint, sqlx::Error> {
    let sql = format!(
        "SELECT name, transaction_id, position FROM projection_checkpoints WHERE name IN ({})",
        placeholders(1, names.len())
    );
    let found: Vec<(String, String, i64)> = crate::on_db!(db, pool => {
        let mut q = sqlx::query_as(&sql);
        for name in names {
            q = q.bind(*name);
        }
        q.fetch_all(pool).await?
    });
    if found.len() < names.len() {
        return Ok(Checkpoint::start());
    }
    Ok(found
        .into_iter()
        .map(|(_, transaction_id, position)| Checkpoint {
            transaction_id,
            position,
        })
        .min_by_key(Checkpoint::order)
        .unwrap_or_else(Checkpoint::start))
}

/// Reads a checkpoint without locking it, for subscribers whose effects are idempotent.
pub async fn read(db: &crate::Db, name: &str) -> Result<Checkpoint, sqlx::Error> {
    let sql = "SELECT transaction_id, position FROM projection_checkpoints WHERE name = $1";
    let found = crate::on_db!(db, pool => sqlx::query_as::<_, Checkpoint>(sql).bind(name).fetch_optional(pool).await?);
    Ok(found.unwrap_or_else(Checkpoint::start))
}

/// Moves a checkpoint from `from` to `to` unless another process moved it first. Returns
/// whether this call moved it.
pub async fn advance(
    db: &crate::Db,
    name: &str,
    from: &Checkpoint,
    to: &Checkpoint,
) -> Result<bool, sqlx::Error> {
    db.execute(
        "INSERT INTO projection_checkpoints (name, transaction_id, position) VALUES ($1, '0', 0)
         ON CONFLICT (name) DO NOTHING",
        vec![name.into()],
    )
    .await?;
    let moved = db
        .execute(
            "UPDATE projection_checkpoints SET transaction_id = $1, position = $2
              WHERE name = $3 AND transaction_id = $4 AND position = $5",
            vec![
                Arg::Text(to.transaction_id.clone()),
                Arg::Int(to.position),
                name.into(),
                Arg::Text(from.transaction_id.clone()),
                Arg::Int(from.position),
            ],
        )
        .await?;
    Ok(moved == 1)
}

/// Empties every read model and forgets every projection's position, in one transaction, so
/// that the next catch-up rebuilds them all from the first event. Postgres truncates (a
/// DELETE would leave every old row behind as a dead tuple for the rebuilt rows to wade
/// through until a vacuum).
pub async fn reset_all(tx: &mut Tx) -> Result<(), sqlx::Error> {
    let tables = crate::Projection::all_tables();
    if let Tx::Postgres(_) = tx {
        tx.execute(&format!("TRUNCATE {}", tables.join(", ")), vec![])
            .await?;
    } else {
        for table in &tables {
            tx.execute(&format!("DELETE FROM {table}"), vec![]).await?;
        }
    }
    let names: Vec<&str> = crate::Projection::ALL.map(crate::Projection::name).to_vec();
    tx.execute(
        &format!(
            "DELETE FROM projection_checkpoints WHERE name IN ({})",
            placeholders(1, names.len())
        ),
        names.into_iter().map(Arg::from).collect(),
    )
    .await?;
    Ok(())
}
