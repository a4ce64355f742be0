//! A fresh store per test: a SQLite file in a temporary folder, or a new Postgres database
//! that is dropped when the test ends.
use altframe::adapters::store::{DatabaseUrl, Store, StoreConfig};
use rand::distributions::Alphanumeric;
use rand::Rng;
use sqlx::{Connection, Executor, PgConnection};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestDb {
    pub url: DatabaseUrl,
    /// The URL as `DATABASE_URL` would give it, for running the binary.
    pub env_url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

/// The Postgres server tests create their databases on.
fn admin_url() -> String {
    std::env::var("ALTFRAME_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary folder");
                let path = dir.path().join("altframe.db").display().to_string();
                TestDb {
                    url: DatabaseUrl::SqliteFile(path.clone()),
                    env_url: path,
                    _dir: Some(dir),
                    postgres: None,
                }
            }
            Backend::Postgres => {
                let admin = admin_url();
                let suffix: String = rand::thread_rng()
                    .sample_iter(&Alphanumeric)
                    .take(16)
                    .map(char::from)
                    .collect();
                let name = format!("altframe_test_{}", suffix.to_lowercase());
                let mut conn = PgConnection::connect(&admin)
                    .await
                    .expect("Postgres must be running for the tests (see README)");
                conn.execute(format!("CREATE DATABASE \"{name}\"").as_str())
                    .await
                    .expect("create test database");
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
                let url = format!("{base}/{name}");
                TestDb {
                    url: DatabaseUrl::Postgres(url.clone()),
                    env_url: url,
                    _dir: None,
                    postgres: Some((admin, name)),
                }
            }
        }
    }

    pub async fn open(&self) -> Store {
        Store::open(&StoreConfig::new(self.url.clone()))
            .await
            .expect("open store")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs outside async; a short-lived runtime on its own thread does the cleanup.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok(mut conn) = PgConnection::connect(&admin).await {
                    let _ = conn
                        .execute(
                            format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str(),
                        )
                        .await;
                }
            });
        })
        .join();
    }
}
