//! Runs the real `altframe serve` binary as a child process, for tests that kill it.
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub struct Served {
    child: Child,
    pub base: String,
    /// The key printed on the first start of an empty store.
    pub key: Option<String>,
}

/// Starts `altframe serve` on a free port and waits until it listens.
pub fn serve(database_url: &str, env: &[(&str, String)], first_start: bool) -> Served {
    let mut command = Command::new(env!("CARGO_BIN_EXE_altframe"));
    command
        .arg("serve")
        .env("DATABASE_URL", database_url)
        .env("ALTFRAME_LISTEN", "127.0.0.1:0")
        .env("ALTFRAME_LOG_FORMAT", "json")
        .env("RUST_LOG", "info,sqlx=warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().expect("start altframe serve");
    let (key_tx, key_rx) = mpsc::channel();
    let stdout = child.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(key) = line.split_whitespace().find(|w| w.starts_with("af_live_")) {
                let _ = key_tx.send(key.to_string());
            }
        }
    });
    let (addr_tx, addr_rx) = mpsc::channel();
    let stderr = child.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        // Keep reading to the end, so the child never blocks on a full pipe.
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            if v["fields"]["message"] == "AltFrame is listening" {
                if let Some(a) = v["fields"]["address"].as_str() {
                    let _ = addr_tx.send(a.to_string());
                }
            }
        }
    });
    let address = addr_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("altframe serve did not start listening");
    let key = first_start.then(|| {
        key_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the first start prints a key")
    });
    Served {
        child,
        base: format!("http://{address}"),
        key,
    }
}

impl Served {
    /// SIGKILL: no shutdown code runs, as in a crash.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.kill();
    }
}
