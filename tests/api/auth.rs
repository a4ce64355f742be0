use altframe::adapters::subscriber::Subscriber;
use serde_json::json;

use crate::on_both_backends;
use crate::support::{base64_of, error_of, spawn, Backend};

on_both_backends!(keys_are_accepted_in_either_header_and_refused_when_bad);

async fn keys_are_accepted_in_either_header_and_refused_when_bad(backend: Backend) {
    let app = spawn(backend).await;
    let url = format!("{}/api/v1/generate", app.base);
    let body = json!({ "image_base64": base64_of("tiny-1x1.png"), "fields": ["title"] });

    let bearer = app
        .http
        .post(&url)
        .bearer_auth(&app.key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), 200);
    let header = app
        .http
        .post(&url)
        .header("x-api-key", &app.key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(header.status(), 200);

    let missing = app.http.post(&url).json(&body).send().await.unwrap();
    assert!(error_of(missing, 401).await.contains("Missing API key"));
    let unknown = app
        .http
        .post(&url)
        .header("x-api-key", "af_live_not_a_real_key_at_all_0000000000")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(error_of(unknown, 401).await.contains("Invalid API key"));
    let basic = app
        .http
        .post(&url)
        .header("authorization", "Basic abc")
        .json(&body)
        .send()
        .await
        .unwrap();
    error_of(basic, 401).await;

    let key_id = altframe_projections::api_keys::find_holder_by_hash(
        &app.services.store.db,
        &altframe::adapters::ids::hash_api_key(&app.key),
    )
    .await
    .unwrap()
    .unwrap()
    .key_id;
    altframe::usecases::keys::revoke_key(&app.services.app, &altframe_domain::KeyId::new(key_id))
        .await
        .unwrap();
    app.services
        .projector
        .catch_up_fully(std::time::Duration::from_secs(10))
        .await
        .unwrap();
    let revoked = app
        .http
        .post(&url)
        .header("x-api-key", &app.key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(error_of(revoked, 401).await.contains("revoked"));

    let stored = app.events().await;
    assert!(
        stored
            .iter()
            .all(|(_, _, payload)| !payload.to_string().contains(&app.key)),
        "the secret never reaches the store"
    );
}
