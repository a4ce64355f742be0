//! Runs the real `altframe serve` binary as a child process, for tests that kill it.
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub struct Served {
    child: Child,
    /// `http://` or, when the process terminates TLS, `https://` and its address.
    pub base: String,
    /// The key printed on the first start of an empty store.
    pub key: Option<String>,
    /// Receives the message of every log line the process writes.
    pub log: mpsc::Receiver<String>,
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
    let (log_tx, log) = mpsc::channel();
    let stderr = child.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        // Keep reading to the end, so the child never blocks on a full pipe.
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            let message = v["fields"]["message"].as_str().unwrap_or_default();
            if message == "AltFrame is listening" {
                if let Some(a) = v["fields"]["address"].as_str() {
                    let scheme = if v["fields"]["tls"] == true {
                        "https"
                    } else {
                        "http"
                    };
                    let _ = addr_tx.send(format!("{scheme}://{a}"));
                }
            }
            let _ = log_tx.send(message.to_string());
        }
    });
    let base = addr_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("altframe serve did not start listening");
    let key = first_start.then(|| {
        key_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the first start prints a key")
    });
    Served {
        child,
        base,
        key,
        log,
    }
}

impl Served {
    /// SIGTERM, as an orchestrator stops a process.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
    }

    /// Waits (at most `limit`) for a log line with this message.
    pub fn wait_for_log(&self, message: &str, limit: Duration) {
        let deadline = std::time::Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.log.recv_timeout(left) {
                Ok(m) if m == message => return,
                Ok(_) => {}
                Err(_) => panic!("the process did not log \"{message}\""),
            }
        }
    }

    /// Waits (at most `limit`) for the process to exit, and returns its exit code.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let deadline = std::time::Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.code();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the process did not exit"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

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
