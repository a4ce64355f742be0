//! The read models' secondary indexes, set aside while a rebuild fills the tables.
//!
//! Keeping four indexes of `jobs` up to date row by row cost a rebuild more than writing the
//! rows; building each once, from the finished table, costs a fraction of that. Unique indexes
//! stay: the rebuild's upserts and lookups need them. Both steps run in the rebuild's
//! transaction, so a rebuild that fails leaves the indexes as they were.
//! See docs/decisions/0011-rebuild-in-one-transaction-reading-ahead.md.
use crate::Tx;

/// An index that was dropped, and the statement that makes it again.
#[derive(Debug, Clone)]
pub struct SetAside {
    pub name: String,
    pub definition: String,
}

/// Drops every index of `tables` that does not enforce uniqueness, and returns how to make
/// each again.
pub async fn set_aside(tx: &mut Tx, tables: &[&str]) -> Result<Vec<SetAside>, sqlx::Error> {
    let tables: Vec<String> = tables.iter().map(|t| t.to_string()).collect();
    let found: Vec<(String, String)> = match tx {
        Tx::Postgres(t) => {
            sqlx::query_as(
                "SELECT i.relname::text, pg_get_indexdef(x.indexrelid)
                   FROM pg_index x
                   JOIN pg_class i ON i.oid = x.indexrelid
                   JOIN pg_class t ON t.oid = x.indrelid
                  WHERE t.relname = ANY($1)
                    AND t.relnamespace = current_schema()::regnamespace
                    AND NOT x.indisunique",
            )
            .bind(&tables)
            .fetch_all(&mut **t)
            .await?
        }
        Tx::Sqlite(t) => {
            // Indexes SQLite makes itself (for UNIQUE and PRIMARY KEY) have no SQL.
            let all: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT name, tbl_name, sql FROM sqlite_master
                  WHERE type = 'index' AND sql IS NOT NULL",
            )
            .fetch_all(&mut **t)
            .await?;
            all.into_iter()
                .filter(|(_, table, sql)| {
                    tables.contains(table) && !sql.to_uppercase().starts_with("CREATE UNIQUE")
                })
                .map(|(name, _, sql)| (name, sql))
                .collect()
        }
    };
    let set_aside: Vec<SetAside> = found
        .into_iter()
        .map(|(name, definition)| SetAside { name, definition })
        .collect();
    for index in &set_aside {
        tx.execute(&format!("DROP INDEX \"{}\"", index.name), vec![])
            .await?;
    }
    Ok(set_aside)
}

/// Makes again the indexes `set_aside` dropped.
pub async fn restore(tx: &mut Tx, indexes: &[SetAside]) -> Result<(), sqlx::Error> {
    for index in indexes {
        tx.execute(&index.definition, vec![]).await?;
    }
    Ok(())
}
