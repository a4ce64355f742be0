//! Where each projection stands in the global event order.
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
}

/// Reads the projection's checkpoint and holds its row locked until the transaction ends, so
/// that two processes never apply the same events. The no-op UPDATE takes the row lock on
/// Postgres and the write lock on SQLite before anything is read.
pub async fn lock(tx: &mut Tx, name: &str) -> Result<Checkpoint, sqlx::Error> {
    tx.execute(
        "INSERT INTO projection_checkpoints (name, transaction_id, position) VALUES ($1, '0', 0)
         ON CONFLICT (name) DO NOTHING",
        vec![name.into()],
    )
    .await?;
    tx.execute(
        "UPDATE projection_checkpoints SET position = position WHERE name = $1",
        vec![name.into()],
    )
    .await?;
    let sql = "SELECT transaction_id, position FROM projection_checkpoints WHERE name = $1";
    crate::on_tx!(tx, conn => sqlx::query_as::<_, Checkpoint>(sql).bind(name).fetch_one(conn).await)
}

pub async fn save(tx: &mut Tx, name: &str, at: &Checkpoint) -> Result<(), sqlx::Error> {
    tx.execute(
        "UPDATE projection_checkpoints SET transaction_id = $1, position = $2 WHERE name = $3",
        vec![
            Arg::Text(at.transaction_id.clone()),
            Arg::Int(at.position),
            name.into(),
        ],
    )
    .await?;
    Ok(())
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
/// that the next catch-up rebuilds them all from the first event.
pub async fn reset_all(tx: &mut Tx) -> Result<(), sqlx::Error> {
    for projection in crate::Projection::ALL {
        for table in projection.tables() {
            tx.execute(&format!("DELETE FROM {table}"), vec![]).await?;
        }
        tx.execute(
            "DELETE FROM projection_checkpoints WHERE name = $1",
            vec![projection.name().into()],
        )
        .await?;
    }
    Ok(())
}
