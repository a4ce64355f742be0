//! Vision providers: turn an image and a request's context into text. One trait, two
//! implementations: an OpenAI-compatible HTTP API, and a builtin describer with no network.
mod analysis;
mod answer;
mod builtin;
mod metered;
pub mod openai;
mod pricing;
mod prompt;

use std::collections::BTreeMap;

use altframe_domain::generation::{GeneratedText, GenerationOptions, Language};
use altframe_domain::job::Tokens;
use altframe_domain::validation::Judgement;
use altframe_domain::Micros;

use crate::adapters::image::PreparedImage;

pub use analysis::{analyse, Analysis};
pub use builtin::{decorative_verdict, BuiltinProvider};
pub use metered::MeteredVision;
pub use openai::{ImageDetail, OpenAiConfig, OpenAiProvider};
pub use pricing::{BadPrice, ModelPrice, PriceTable};

pub struct VisionRequest<'a> {
    pub image: &'a PreparedImage,
    pub options: &'a GenerationOptions,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VisionOutput {
    /// Raw text per field in the primary language (with a chart's long description and, in
    /// `auto` mode, the decorative verdict); the caller tidies it and fits its lengths.
    pub text: GeneratedText,
    /// Raw text in each of `options.extra_languages` the provider wrote; a language left out
    /// is not charged.
    pub translations: BTreeMap<Language, GeneratedText>,
    pub model: String,
    pub tokens: Tokens,
    pub cost: Micros,
    /// The verdict on the page's alt text, when `options.judge_alt_text` asked for one.
    pub judgement: Option<Judgement>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VisionError {
    /// Worth retrying later: a timeout, a rate limit or a server error that outlasted retries.
    #[error("the vision model is unavailable: {0}")]
    Unavailable(String),
    /// Retrying will not help: the request was refused or the answer was unusable.
    #[error("the vision model failed: {0}")]
    Failed(String),
}

#[async_trait::async_trait]
pub trait VisionProvider: Send + Sync {
    /// The model name reported in `meta.model`.
    fn model(&self) -> &str;
    /// The one language this provider writes, whatever is asked; `None` when it writes the
    /// requested language.
    fn fixed_language(&self) -> Option<Language> {
        None
    }
    /// Whether it can judge an existing alt text against the image (`judge_alt_text`); the
    /// builtin describer cannot.
    fn judges_alt_text(&self) -> bool {
        true
    }
    async fn describe(&self, request: VisionRequest<'_>) -> Result<VisionOutput, VisionError>;
}
