//! Any OpenAI-compatible chat-completions endpoint: OpenAI itself, or a local server such as
//! Ollama, vLLM or llama.cpp.
use std::time::Duration;

use altframe_domain::generation::{Field, GeneratedText, GenerationOptions};
use altframe_domain::job::Tokens;
use base64::Engine;
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

use super::answer::{self, Answer};
use super::prompt::{max_tokens, repair_reminder, response_schema, system_prompt, user_prompt};
use super::{PriceTable, VisionError, VisionOutput, VisionProvider, VisionRequest};

#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    pub base_url: String,
    /// Sent as a bearer token; never printed.
    pub api_key: Option<SecretString>,
    pub model: String,
    pub timeout: Duration,
    /// Retries after the first attempt, for 429, 5xx, timeouts and dropped connections.
    pub max_retries: u32,
    /// First retry delay; each further retry doubles it, with jitter.
    pub retry_base: Duration,
    pub prices: PriceTable,
    /// The image part's `detail` (`low`, `high` or `auto`); not sent when `None`. The image's
    /// tokens are most of a request's cost, and `low` makes them few.
    pub image_detail: Option<ImageDetail>,
}

/// How closely the model looks at the image (OpenAI's `detail`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageDetail {
    Low,
    High,
    Auto,
}

impl ImageDetail {
    pub fn parse(s: &str) -> Result<ImageDetail, String> {
        match s {
            "low" => Ok(ImageDetail::Low),
            "high" => Ok(ImageDetail::High),
            "auto" => Ok(ImageDetail::Auto),
            other => Err(format!("`{other}`: the image detail is low, high or auto")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ImageDetail::Low => "low",
            ImageDetail::High => "high",
            ImageDetail::Auto => "auto",
        }
    }
}

pub struct OpenAiProvider {
    client: reqwest::Client,
    config: OpenAiConfig,
}

impl OpenAiProvider {
    pub fn new(config: OpenAiConfig) -> Result<OpenAiProvider, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .user_agent(concat!("AltFrame/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(OpenAiProvider { client, config })
    }

    fn body(&self, request: &VisionRequest<'_>) -> serde_json::Value {
        let image = request.image;
        let data_url = format!(
            "data:{};base64,{}",
            image.mime,
            base64::engine::general_purpose::STANDARD.encode(image.encoded.as_slice())
        );
        let mut image_url = json!({ "url": data_url });
        if let Some(detail) = self.config.image_detail {
            image_url["detail"] = json!(detail.as_str());
        }
        json!({
            "model": self.config.model,
            "messages": [
                { "role": "system", "content": system_prompt(request.options) },
                { "role": "user", "content": [
                    { "type": "text", "text": user_prompt(request.options) },
                    { "type": "image_url", "image_url": image_url }
                ]}
            ],
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": "image_text",
                    "strict": true,
                    "schema": response_schema(request.options)
                }
            },
            "temperature": 0.2,
            "max_tokens": max_tokens(request.options)
        })
    }

    /// The first request again, with the model's unusable answer and a short reminder of
    /// what was asked for.
    fn repair_body(
        body: &serde_json::Value,
        answer: &str,
        options: &GenerationOptions,
    ) -> serde_json::Value {
        let mut repair = body.clone();
        if let Some(messages) = repair["messages"].as_array_mut() {
            messages.push(json!({ "role": "assistant", "content": answer }));
            messages.push(json!({ "role": "user", "content": repair_reminder(options) }));
        }
        repair
    }

    /// One completion, retried on rate limits and server errors: its text and tokens.
    async fn complete(&self, body: &serde_json::Value) -> Result<(String, Tokens), VisionError> {
        let mut retry = 0;
        let response = loop {
            match self.attempt(body).await {
                Ok(r) => break r,
                Err(Attempt::Fail(m)) => return Err(VisionError::Failed(m)),
                Err(Attempt::Retry(m, _)) if retry >= self.config.max_retries => {
                    return Err(VisionError::Unavailable(m))
                }
                Err(Attempt::Retry(m, after)) => {
                    tracing::warn!(retry, error = %m, "vision model call failed; retrying");
                    tokio::time::sleep(self.delay(retry, after)).await;
                    retry += 1;
                }
            }
        };
        let tokens = response
            .usage
            .map(|u| Tokens {
                input: u.prompt_tokens,
                output: u.completion_tokens,
            })
            .unwrap_or_default();
        let message = response
            .choices
            .into_iter()
            .next()
            .map(|c| c.message)
            .ok_or_else(|| VisionError::Failed("the response has no choices".into()))?;
        if let Some(refusal) = message.refusal.filter(|r| !r.is_empty()) {
            return Err(VisionError::Failed(format!("the model refused: {refusal}")));
        }
        Ok((message.content.unwrap_or_default(), tokens))
    }

    async fn attempt(&self, body: &serde_json::Value) -> Result<ChatResponse, Attempt> {
        let url = format!(
            "{}/chat/completions",
            self.config.base_url.trim_end_matches('/')
        );
        let mut req = self.client.post(url).json(body);
        if let Some(key) = &self.config.api_key {
            req = req.bearer_auth(key.expose_secret());
        }
        let response = req
            .send()
            .await
            .map_err(|e| Attempt::Retry(format!("request failed: {e}"), None))?;
        let status = response.status();
        if status.is_success() {
            return response
                .json::<ChatResponse>()
                .await
                .map_err(|e| Attempt::Fail(format!("unreadable response: {e}")));
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_secs);
        let detail = response.text().await.unwrap_or_default();
        let message = format!("HTTP {}: {}", status.as_u16(), truncate(&detail, 300));
        if status.as_u16() == 429 || status.is_server_error() {
            Err(Attempt::Retry(message, retry_after))
        } else {
            Err(Attempt::Fail(message))
        }
    }

    fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let base = self.config.retry_base.saturating_mul(1 << retry.min(10));
        let jitter = rand::thread_rng().gen_range(0.5..1.0);
        let backoff = base.mul_f64(jitter);
        retry_after.map_or(backoff, |r| r.min(Duration::from_secs(30)).max(backoff))
    }
}

enum Attempt {
    Retry(String, Option<Duration>),
    Fail(String),
}

#[derive(Deserialize)]
struct ChatResponse {
    choices: Vec<Choice>,
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
}

#[derive(Deserialize)]
struct Message {
    content: Option<String>,
    refusal: Option<String>,
}

#[derive(Deserialize)]
struct Usage {
    prompt_tokens: u32,
    completion_tokens: u32,
}

#[async_trait::async_trait]
impl VisionProvider for OpenAiProvider {
    fn model(&self) -> &str {
        &self.config.model
    }

    /// Asks for the text, in every requested language at once; an answer without JSON is
    /// asked for once more, and when only alt text was requested a plain-text answer is taken
    /// as it (with no translations). Only then does it fail. A translation missing or
    /// unreadable is left out, and `finish_all` counts its language as not delivered.
    async fn describe(&self, request: VisionRequest<'_>) -> Result<VisionOutput, VisionError> {
        let options = request.options;
        let body = self.body(&request);
        let (content, mut tokens) = self.complete(&body).await?;
        let answer = match answer::find_json(&content) {
            Some(answer) => answer,
            None => {
                tracing::warn!("the model's answer holds no JSON; asking once more");
                let repair = Self::repair_body(&body, &content, options);
                let (again, more) = self.complete(&repair).await?;
                tokens = Tokens {
                    input: tokens.input.saturating_add(more.input),
                    output: tokens.output.saturating_add(more.output),
                };
                let only_alt_text = options.fields.iter().eq([Field::AltText]);
                match answer::find_json(&again) {
                    Some(answer) => answer,
                    None if only_alt_text => Answer {
                        text: GeneratedText {
                            alt_text: Some(
                                answer::plain_text(&again)
                                    .or_else(|| answer::plain_text(&content))
                                    .ok_or_else(|| {
                                        VisionError::Failed("the model's answer is empty".into())
                                    })?,
                            ),
                            ..GeneratedText::default()
                        },
                        translations: Default::default(),
                        judgement: None,
                    },
                    None => {
                        return Err(VisionError::Failed(format!(
                            "the model's answer holds no JSON object, even when asked again: {}",
                            truncate(again.trim(), 200)
                        )))
                    }
                }
            }
        };
        if options.judge_alt_text.is_some() && answer.judgement.is_none() {
            return Err(VisionError::Failed(
                "the model's answer gives no verdict on the page's alt text".into(),
            ));
        }
        let mut translations = answer.translations;
        translations.retain(|language, _| options.extra_languages.contains(language));
        if translations.len() < options.extra_languages.len() {
            tracing::warn!(
                asked = options.extra_languages.len(),
                read = translations.len(),
                "the model's answer lacks some translations"
            );
        }
        Ok(VisionOutput {
            text: answer.text,
            translations,
            model: self.config.model.clone(),
            cost: self.config.prices.cost(&self.config.model, tokens),
            tokens,
            judgement: answer.judgement,
        })
    }
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}
