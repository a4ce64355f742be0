//! A stand-in for the OpenAI chat-completions API, started inside the test. It checks each
//! request the way the real API would (auth, message shapes, a decodable image data URL, a
//! strict JSON schema) and answers 400 with OpenAI's error shape when something is off. Its
//! answer fills the schema: each string by its key's name (a translation's alt text ends with
//! its language code, as "A test image (fr)"), each boolean `false`.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine;
use serde_json::{json, Value};

pub const API_KEY: &str = "sk-test-key";

#[derive(Clone)]
pub enum Behaviour {
    /// Answers every requested field; alt text is this string.
    Answer { alt_text: String },
    /// Fails this many times with `status`, then answers.
    FailFirst { times: usize, status: u16 },
    /// Always fails with `status`.
    Fail(u16),
    /// Answers, except when the prompt contains `marker`: then fails with 400, as the real
    /// API does for a request it will never accept.
    AnswerUnless { marker: &'static str },
    /// Ignores `response_format`, as many local servers do: the JSON comes as `shape` says.
    Shaped(Shape),
    /// Answers every request with exactly this content, as a model writing its own JSON (or
    /// none) would, whatever the schema asks.
    Reply(String),
}

/// How a server that ignores `response_format` answers.
#[derive(Clone)]
pub enum Shape {
    /// The JSON in a Markdown code fence.
    Fenced,
    /// The JSON between sentences.
    Prose,
    /// Plain text at first; the JSON when asked again.
    JsonWhenAskedAgain,
    /// Always this plain text, never JSON.
    Plain(&'static str),
}

#[derive(Clone)]
pub struct FakeOpenAi {
    pub base_url: String,
    pub requests: Arc<Mutex<Vec<Value>>>,
    /// Width and height of each image received.
    pub image_sizes: Arc<Mutex<Vec<(u32, u32)>>>,
    pub calls: Arc<AtomicUsize>,
    /// Each answer takes a permit: a test holds answers back by starting with few.
    pub gate: Arc<Semaphore>,
}

#[derive(Clone)]
struct Shared {
    behaviour: Behaviour,
    fake: FakeOpenAi,
}

impl FakeOpenAi {
    pub async fn start(behaviour: Behaviour) -> FakeOpenAi {
        Self::start_gated(behaviour, Semaphore::MAX_PERMITS).await
    }

    /// Answers only `permits` requests until the test adds more to `gate`; the rest wait.
    pub async fn start_gated(behaviour: Behaviour, permits: usize) -> FakeOpenAi {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let fake = FakeOpenAi {
            base_url: format!("http://{}/v1", listener.local_addr().expect("address")),
            requests: Arc::default(),
            image_sizes: Arc::default(),
            calls: Arc::default(),
            gate: Arc::new(Semaphore::new(permits)),
        };
        let router = Router::new()
            .route("/v1/chat/completions", post(completions))
            .with_state(Shared {
                behaviour,
                fake: fake.clone(),
            });
        tokio::spawn(async move { axum::serve(listener, router).await });
        fake
    }

    /// The settings of our OpenAI provider pointed at this fake, with `retries` quick retries.
    pub fn config(&self, retries: u32) -> altframe::adapters::vision::OpenAiConfig {
        use altframe::adapters::vision::{OpenAiConfig, PriceTable};
        OpenAiConfig {
            base_url: self.base_url.clone(),
            api_key: Some(API_KEY.into()),
            model: "gpt-4.1-nano".into(),
            timeout: std::time::Duration::from_secs(10),
            max_retries: retries,
            retry_base: std::time::Duration::from_millis(1),
            prices: PriceTable::default(),
            image_detail: None,
        }
    }

    /// Our OpenAI provider pointed at this fake, with `retries` quick retries.
    pub fn provider(&self, retries: u32) -> Arc<dyn altframe::adapters::vision::VisionProvider> {
        self.provider_from(self.config(retries))
    }

    pub fn provider_from(
        &self,
        config: altframe::adapters::vision::OpenAiConfig,
    ) -> Arc<dyn altframe::adapters::vision::VisionProvider> {
        let provider = altframe::adapters::vision::OpenAiProvider::new(config).expect("provider");
        Arc::new(provider)
    }

    pub fn last_request(&self) -> Value {
        self.requests
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("a request was made")
    }
}

fn openai_error(status: StatusCode, message: &str) -> Response {
    let body = json!({ "error": { "message": message, "type": "invalid_request_error", "param": null, "code": null } });
    (status, Json(body)).into_response()
}

async fn completions(State(s): State<Shared>, headers: HeaderMap, body: String) -> Response {
    let call = s.fake.calls.fetch_add(1, Ordering::SeqCst);
    match s.fake.gate.acquire().await {
        Ok(permit) => permit.forget(),
        Err(_) => return openai_error(StatusCode::SERVICE_UNAVAILABLE, "closed"),
    }
    if headers.get("authorization").and_then(|v| v.to_str().ok())
        != Some(&format!("Bearer {API_KEY}"))
    {
        return openai_error(StatusCode::UNAUTHORIZED, "Incorrect API key provided");
    }
    let Ok(request) = serde_json::from_str::<Value>(&body) else {
        return openai_error(
            StatusCode::BAD_REQUEST,
            "We could not parse the JSON body of your request.",
        );
    };
    s.fake.requests.lock().unwrap().push(request.clone());
    let schema = match check_request(&request) {
        Ok((schema, size)) => {
            s.fake.image_sizes.lock().unwrap().push(size);
            schema
        }
        Err(message) => return openai_error(StatusCode::BAD_REQUEST, &message),
    };
    let alt_text = match &s.behaviour {
        Behaviour::Fail(status) => {
            return openai_error(
                StatusCode::from_u16(*status).unwrap(),
                "The server had an error",
            )
        }
        Behaviour::FailFirst { times, status } if call < *times => {
            return openai_error(StatusCode::from_u16(*status).unwrap(), "Rate limit reached")
        }
        Behaviour::FailFirst { .. } => "A test image".to_string(),
        Behaviour::Answer { alt_text } => alt_text.clone(),
        Behaviour::AnswerUnless { marker } => {
            if request["messages"].to_string().contains(marker) {
                return openai_error(StatusCode::BAD_REQUEST, "Invalid image content");
            }
            "A product photo".to_string()
        }
        Behaviour::Shaped(_) | Behaviour::Reply(_) => "A test image".to_string(),
    };
    let json_answer = fill(&schema, &alt_text, None).to_string();
    // A second request carries the first answer back: the client is asking again.
    let asked_again = request["messages"]
        .as_array()
        .is_some_and(|m| m.iter().any(|m| m["role"] == "assistant"));
    let content = match &s.behaviour {
        Behaviour::Shaped(Shape::Fenced) => format!("```json\n{json_answer}\n```"),
        Behaviour::Shaped(Shape::Prose) => {
            format!("Sure! Here is the description you asked for:\n{json_answer}\nLet me know if you need more.")
        }
        Behaviour::Shaped(Shape::JsonWhenAskedAgain) if asked_again => json_answer,
        Behaviour::Shaped(Shape::JsonWhenAskedAgain) => "A test image, in plain words.".into(),
        Behaviour::Shaped(Shape::Plain(text)) => text.to_string(),
        Behaviour::Reply(content) => content.clone(),
        _ => json_answer,
    };
    Json(json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": request["model"],
        "choices": [{
            "index": 0,
            "message": { "role": "assistant", "content": content, "refusal": null },
            "finish_reason": "stop"
        }],
        "usage": { "prompt_tokens": 1180, "completion_tokens": 142, "total_tokens": 1322 }
    }))
    .into_response()
}

/// An answer that fits `schema`: each string by its key (in `language` under
/// `translations`), each boolean `false`, each object filled in turn.
fn fill(schema: &Value, alt_text: &str, language: Option<&str>) -> Value {
    let Some(properties) = schema["properties"].as_object() else {
        return json!({});
    };
    let in_language = |text: String| match language {
        Some(code) => format!("{text} ({code})"),
        None => text,
    };
    let mut answer = serde_json::Map::new();
    for (key, property) in properties {
        let value = match property["type"].as_str() {
            Some("boolean") => Value::Bool(false),
            Some("object") if key == "translations" => {
                let languages = property["properties"].as_object().into_iter().flatten();
                Value::Object(
                    languages
                        .map(|(code, object)| (code.clone(), fill(object, alt_text, Some(code))))
                        .collect(),
                )
            }
            Some("object") => fill(property, alt_text, language),
            _ => Value::String(in_language(match key.as_str() {
                "alt_text" => alt_text.to_string(),
                "title" => "Test Title".into(),
                "caption" => "A caption written by the fake model.".into(),
                "long_description" => "Sales rose from 10 in January to 40 in June.".into(),
                "decorative_reason" => "The image shows content the page needs.".into(),
                _ => "An Open Graph description from the fake model.".into(),
            })),
        };
        answer.insert(key.clone(), value);
    }
    Value::Object(answer)
}

/// The rules the real endpoint enforces on what we send. Returns the schema and the image's
/// size.
fn check_request(r: &Value) -> Result<(Value, (u32, u32)), String> {
    if r["model"].as_str().is_none_or(|m| m.is_empty()) {
        return Err("you must provide a model parameter".into());
    }
    let messages = r["messages"]
        .as_array()
        .ok_or("messages must be an array")?;
    let system = messages.first().ok_or("messages is empty")?;
    if system["role"] != "system" || !system["content"].is_string() {
        return Err("the first message must be a system message with text".into());
    }
    let user = messages
        .iter()
        .find(|m| m["role"] == "user")
        .ok_or("no user message")?;
    let parts = user["content"]
        .as_array()
        .ok_or("user content must be an array of parts")?;
    if !parts
        .iter()
        .any(|p| p["type"] == "text" && p["text"].is_string())
    {
        return Err("the user message needs a text part".into());
    }
    let image = parts
        .iter()
        .find(|p| p["type"] == "image_url")
        .ok_or("the user message needs an image_url part")?;
    let url = image["image_url"]["url"]
        .as_str()
        .ok_or("image_url.url must be a string")?;
    let (mime, data) = url
        .strip_prefix("data:")
        .and_then(|rest| rest.split_once(";base64,"))
        .ok_or("image_url.url must be a base64 data URL")?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|_| "Invalid base64 image_url.")?;
    let actual = match altframe::adapters::image::sniff_format(&bytes) {
        Some(altframe_domain::image::ImageFormat::Jpeg) => "image/jpeg",
        Some(altframe_domain::image::ImageFormat::Png) => "image/png",
        _ => return Err("You uploaded an unsupported image.".into()),
    };
    if actual != mime {
        return Err(format!("the data URL says {mime} but holds {actual}"));
    }
    let size = image::load_from_memory(&bytes)
        .map(|i| (i.width(), i.height()))
        .map_err(|e| format!("the image does not decode: {e}"))?;
    let format = &r["response_format"];
    if format["type"] != "json_schema" {
        return Err("response_format.type must be json_schema".into());
    }
    let schema_def = &format["json_schema"];
    let name = schema_def["name"].as_str().unwrap_or_default();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err("response_format.json_schema.name is invalid".into());
    }
    if schema_def["strict"] != true {
        return Err("this test expects strict structured output".into());
    }
    let schema = &schema_def["schema"];
    check_schema(schema)?;
    Ok((schema.clone(), size))
}

/// Strict mode's rules, at every level: each object closed and requiring every property; each
/// property a string, a boolean or such an object.
fn check_schema(schema: &Value) -> Result<(), String> {
    if schema["type"] != "object" || schema["additionalProperties"] != false {
        return Err("strict schemas must be objects with additionalProperties false".into());
    }
    let properties = schema["properties"]
        .as_object()
        .ok_or("schema.properties missing")?;
    let mut required: Vec<String> = schema["required"]
        .as_array()
        .ok_or("schema.required missing")?
        .iter()
        .filter_map(|v| v.as_str().map(String::from))
        .collect();
    let mut keys: Vec<String> = properties.keys().cloned().collect();
    required.sort();
    keys.sort();
    if required != keys {
        return Err("strict schemas must require every property".into());
    }
    for property in properties.values() {
        match property["type"].as_str() {
            Some("string" | "boolean") => {}
            Some("object") => check_schema(property)?,
            _ => return Err("every property must be a string, a boolean or an object".into()),
        }
    }
    Ok(())
}
