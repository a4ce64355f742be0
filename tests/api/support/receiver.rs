//! A webhook receiver inside the test: records each delivery, and can refuse the first few.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use tokio::sync::Notify;

#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: Bytes,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    pub deliveries: Arc<Mutex<Vec<Delivery>>>,
    refuse_first: usize,
    calls: Arc<AtomicUsize>,
    arrived: Arc<Notify>,
}

impl Receiver {
    /// Answers 500 to the first `refuse_first` deliveries and 200 after.
    pub async fn start(refuse_first: usize) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let receiver = Receiver {
            url: format!(
                "http://{}/hooks/altframe",
                listener.local_addr().expect("address")
            ),
            deliveries: Arc::default(),
            refuse_first,
            calls: Arc::default(),
            arrived: Arc::new(Notify::new()),
        };
        let router = Router::new()
            .route("/hooks/altframe", post(receive))
            .with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        receiver
    }

    /// Waits until `n` deliveries arrived (refused ones count), for at most two minutes.
    pub async fn wait_for(&self, n: usize) -> Vec<Delivery> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        loop {
            let notified = self.arrived.notified();
            let got = self.deliveries.lock().unwrap().clone();
            if got.len() >= n {
                return got;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "only {} of {n} webhooks arrived",
                got.len()
            );
            let _ = tokio::time::timeout_at(deadline, notified).await;
        }
    }
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    r.deliveries.lock().unwrap().push(Delivery {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body,
    });
    let call = r.calls.fetch_add(1, Ordering::SeqCst);
    r.arrived.notify_waiters();
    if call < r.refuse_first {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

/// Verifies a delivery the way a receiver following Standard Webhooks would.
pub fn verify(secret: &str, d: &Delivery) -> bool {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let Some(key) = secret.strip_prefix("whsec_") else {
        return false;
    };
    let Ok(key) = base64::engine::general_purpose::STANDARD.decode(key) else {
        return false;
    };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).expect("key");
    mac.update(format!("{}.{}.", d.id, d.timestamp).as_bytes());
    mac.update(&d.body);
    let expected = format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    );
    d.signature.split(' ').any(|s| s == expected)
}
