//! What a caller asks a generation for, as validated types. A request body becomes these
//! before any aggregate sees it; each constructor names the field and what is wrong.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::languages::is_iso_639_1;
use crate::text::{fit_to_length, tidy};

/// A validation failure, worded for the `{"error"}` body of a 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

fn invalid(msg: impl Into<String>) -> Invalid {
    Invalid(msg.into())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Standard,
    Ecommerce,
    /// WCAG: a purely decorative image gets an empty alt attribute.
    Decorative,
    /// Our addition: the service decides whether the image is decorative, and says why.
    Auto,
}

impl Mode {
    pub const ALL: [Mode; 4] = [
        Mode::Standard,
        Mode::Ecommerce,
        Mode::Decorative,
        Mode::Auto,
    ];

    pub fn parse(s: &str) -> Result<Mode, Invalid> {
        Mode::ALL.into_iter().find(|m| m.as_str() == s).ok_or_else(|| {
            invalid(format!(
                "mode must be one of \"standard\", \"ecommerce\", \"decorative\", \"auto\"; got \"{s}\""
            ))
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Standard => "standard",
            Mode::Ecommerce => "ecommerce",
            Mode::Decorative => "decorative",
            Mode::Auto => "auto",
        }
    }
}

/// Where the image stands on its page (our addition). It decides what the alt text is for,
/// following the W3C alt decision tree: a link's or button's alt text names where it goes or
/// what it does, a logo's names its organisation, a chart's is short and gets a
/// `long_description`, a background's is usually empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Content,
    Link,
    Button,
    Logo,
    Chart,
    Background,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Content,
        Role::Link,
        Role::Button,
        Role::Logo,
        Role::Chart,
        Role::Background,
    ];

    pub fn parse(s: &str) -> Result<Role, Invalid> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| {
            invalid(format!(
                "role must be one of \"content\", \"link\", \"button\", \"logo\", \"chart\", \"background\"; got \"{s}\""
            ))
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Content => "content",
            Role::Link => "link",
            Role::Button => "button",
            Role::Logo => "logo",
            Role::Chart => "chart",
            Role::Background => "background",
        }
    }

    /// A link or a button: its alt text names the destination or the action, not the picture.
    pub fn is_functional(self) -> bool {
        matches!(self, Role::Link | Role::Button)
    }

    /// Why an image in this role is never decorative, whatever a model says: a link or button
    /// does something, a logo or chart informs. `None` for the roles the image decides.
    pub fn purpose(self) -> Option<&'static str> {
        match self {
            Role::Link => {
                Some("It is a link, so it is functional and its alt text must say where it goes.")
            }
            Role::Button => {
                Some("It is a button, so it is functional and its alt text must say what it does.")
            }
            Role::Logo => Some("It is a logo, which is informative: it names an organisation."),
            Role::Chart => Some("It is a chart, which is informative: it carries data."),
            Role::Content | Role::Background => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    AltText,
    Title,
    Caption,
    OgDescription,
}

impl Field {
    pub const ALL: [Field; 4] = [
        Field::AltText,
        Field::Title,
        Field::Caption,
        Field::OgDescription,
    ];

    pub fn parse(s: &str) -> Result<Field, Invalid> {
        Field::ALL.into_iter().find(|f| f.as_str() == s).ok_or_else(|| {
            invalid(format!(
                "fields: unknown field \"{s}\"; expected \"alt_text\", \"title\", \"caption\" or \"og_description\""
            ))
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Field::AltText => "alt_text",
            Field::Title => "title",
            Field::Caption => "caption",
            Field::OgDescription => "og_description",
        }
    }

    /// The longest text the API returns for this field; alt text takes the request's limit.
    pub fn max_chars(self, max_length: MaxLength) -> usize {
        match self {
            Field::AltText => usize::from(max_length.get()),
            Field::Title => 70,
            Field::Caption => 300,
            Field::OgDescription => 200,
        }
    }
}

/// The requested output fields: non-empty, without duplicates, in the contract's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fields(Vec<Field>);

impl Fields {
    pub fn all() -> Fields {
        Fields(Field::ALL.to_vec())
    }

    pub fn parse(names: &[String]) -> Result<Fields, Invalid> {
        if names.is_empty() {
            return Err(invalid("fields must name at least one field"));
        }
        let mut fields = names
            .iter()
            .map(|n| Field::parse(n))
            .collect::<Result<Vec<_>, _>>()?;
        fields.sort();
        fields.dedup();
        Ok(Fields(fields))
    }

    pub fn iter(&self) -> impl Iterator<Item = Field> + '_ {
        self.0.iter().copied()
    }

    pub fn contains(&self, field: Field) -> bool {
        self.0.contains(&field)
    }
}

/// An ISO 639-1 language code, lower case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Language(String);

impl Language {
    pub fn parse(s: &str) -> Result<Language, Invalid> {
        let code = s.trim().to_ascii_lowercase();
        if is_iso_639_1(&code) {
            Ok(Language(code))
        } else {
            Err(invalid(format!(
                "language must be an ISO 639-1 code such as \"en\"; got \"{s}\""
            )))
        }
    }

    /// `languages`: up to [`limits::LANGUAGES`] codes without repeats, the first the primary.
    /// Each bad code is named with its place in the list.
    pub fn parse_list(codes: &[String]) -> Result<Vec<Language>, Invalid> {
        if codes.is_empty() {
            return Err(invalid("languages must name at least one language"));
        }
        if codes.len() > limits::LANGUAGES {
            return Err(invalid(format!(
                "languages has {} items; the limit is {}",
                codes.len(),
                limits::LANGUAGES
            )));
        }
        let mut out: Vec<Language> = Vec::with_capacity(codes.len());
        for (i, code) in codes.iter().enumerate() {
            let language = Language::parse(code).map_err(|_| {
                invalid(format!(
                    "languages[{i}] must be an ISO 639-1 code such as \"fr\"; got \"{code}\""
                ))
            })?;
            if out.contains(&language) {
                return Err(invalid(format!(
                    "languages[{i}] repeats \"{}\"; name each language once",
                    language.as_str()
                )));
            }
            out.push(language);
        }
        Ok(out)
    }

    pub fn english() -> Language {
        Language("en".into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The longest alt text a caller accepts: 10 to 1000 characters, 125 unless asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MaxLength(u16);

impl MaxLength {
    pub const MIN: u16 = 10;
    pub const MAX: u16 = 1000;
    pub const DEFAULT: MaxLength = MaxLength(125);

    pub fn new(n: i64) -> Result<MaxLength, Invalid> {
        if (i64::from(Self::MIN)..=i64::from(Self::MAX)).contains(&n) {
            Ok(MaxLength(n as u16))
        } else {
            Err(invalid(format!(
                "max_length must be between {} and {}; got {n}",
                Self::MIN,
                Self::MAX
            )))
        }
    }

    pub fn get(self) -> u16 {
        self.0
    }
}

/// Bounds on the free-text parts of a request, published in the README.
pub mod limits {
    pub const KEYWORDS: usize = 20;
    pub const KEYWORD_CHARS: usize = 50;
    pub const CONTEXT_CHARS: usize = 2_000;
    pub const PRODUCT_ATTRIBUTES: usize = 30;
    pub const PRODUCT_TEXT_CHARS: usize = 200;
    pub const URL_CHARS: usize = 2_048;
    /// Languages in one call, the primary one included.
    pub const LANGUAGES: usize = 10;
    /// The longest `long_description` a chart gets.
    pub const LONG_DESCRIPTION_CHARS: usize = 1_000;
    /// The longest `decorative_reason`: one sentence.
    pub const DECORATIVE_REASON_CHARS: usize = 200;
}

/// Checks a caller's string against a length bound, in characters.
pub fn bounded(field: &str, value: &str, max_chars: usize) -> Result<(), Invalid> {
    let n = value.chars().count();
    if n > max_chars {
        Err(invalid(format!(
            "{field} is {n} characters long; the limit is {max_chars}"
        )))
    } else {
        Ok(())
    }
}

pub fn parse_keywords(keywords: &[String]) -> Result<Vec<String>, Invalid> {
    parse_words("keywords", keywords)
}

/// Words the text must never hold (a competitor's name, a word the brand avoids); the same
/// bounds as `keywords`.
pub fn parse_negative_keywords(words: &[String]) -> Result<Vec<String>, Invalid> {
    parse_words("negative_keywords", words)
}

fn parse_words(name: &str, words: &[String]) -> Result<Vec<String>, Invalid> {
    if words.len() > limits::KEYWORDS {
        return Err(invalid(format!(
            "{name} has {} items; the limit is {}",
            words.len(),
            limits::KEYWORDS
        )));
    }
    words
        .iter()
        .enumerate()
        .map(|(i, k)| {
            bounded(&format!("{name}[{i}]"), k, limits::KEYWORD_CHARS)?;
            let k = k.trim();
            if k.is_empty() {
                return Err(invalid(format!("{name}[{i}] is empty")));
            }
            Ok(k.to_string())
        })
        .collect()
}

/// Product data that helps ecommerce alt text name what is sold.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Product {
    pub name: Option<String>,
    pub sku: Option<String>,
    pub attributes: BTreeMap<String, String>,
}

impl Product {
    pub fn parse(
        name: Option<String>,
        sku: Option<String>,
        attributes: BTreeMap<String, String>,
    ) -> Result<Product, Invalid> {
        if let Some(n) = &name {
            bounded("product_name", n, limits::PRODUCT_TEXT_CHARS)?;
        }
        if let Some(s) = &sku {
            bounded("product_sku", s, limits::PRODUCT_TEXT_CHARS)?;
        }
        if attributes.len() > limits::PRODUCT_ATTRIBUTES {
            return Err(invalid(format!(
                "product_attributes has {} pairs; the limit is {}",
                attributes.len(),
                limits::PRODUCT_ATTRIBUTES
            )));
        }
        for (k, v) in &attributes {
            bounded("product_attributes key", k, limits::KEYWORD_CHARS)?;
            bounded(
                &format!("product_attributes.{k}"),
                v,
                limits::PRODUCT_TEXT_CHARS,
            )?;
        }
        Ok(Product {
            name,
            sku,
            attributes,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.sku.is_none() && self.attributes.is_empty()
    }
}

/// Everything about a generation except the image itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenerationOptions {
    pub mode: Mode,
    pub language: Language,
    pub keywords: Vec<String>,
    /// Words the text must never hold. Absent from jobs requested before it existed.
    #[serde(default)]
    pub negative_keywords: Vec<String>,
    pub max_length: MaxLength,
    pub fields: Fields,
    pub page_url: Option<String>,
    pub page_context: Option<String>,
    pub product: Product,
    pub custom_prompt: Option<String>,
    /// Languages the text is also written in, beyond `language` (our `languages`); each is
    /// one credit, charged only when delivered. Absent from jobs requested before it existed,
    /// like the other additions below.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_languages: Vec<Language>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Where the image links to, for a link or button.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_url: Option<String>,
}

impl GenerationOptions {
    /// The contract's defaults: standard mode, all four fields, alt text up to 125 characters.
    pub fn defaults(language: Language) -> GenerationOptions {
        GenerationOptions {
            mode: Mode::default(),
            language,
            keywords: Vec::new(),
            negative_keywords: Vec::new(),
            max_length: MaxLength::DEFAULT,
            fields: Fields::all(),
            page_url: None,
            page_context: None,
            product: Product::default(),
            custom_prompt: None,
            extra_languages: Vec::new(),
            role: None,
            link_url: None,
        }
    }

    /// Whether the text gets a `long_description`: a chart's data and trend.
    pub fn wants_long_description(&self) -> bool {
        self.role == Some(Role::Chart)
    }
}

/// Generated text for the requested fields. Absent fields were not asked for.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GeneratedText {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alt_text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub og_description: Option<String>,
    /// Our addition, for `role: "chart"` only: the chart's data and trend, for
    /// `aria-describedby` or a `<details>` element.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub long_description: Option<String>,
    /// Our addition, for `mode: "auto"` only: whether the image is decorative (its alt text
    /// is then empty, WCAG's `alt=""`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decorative: Option<bool>,
    /// Our addition, for `mode: "auto"` only: why the image is, or is not, decorative.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decorative_reason: Option<String>,
}

impl GeneratedText {
    pub fn get(&self, field: Field) -> Option<&str> {
        match field {
            Field::AltText => self.alt_text.as_deref(),
            Field::Title => self.title.as_deref(),
            Field::Caption => self.caption.as_deref(),
            Field::OgDescription => self.og_description.as_deref(),
        }
    }

    pub fn set(&mut self, field: Field, value: String) {
        let slot = match field {
            Field::AltText => &mut self.alt_text,
            Field::Title => &mut self.title,
            Field::Caption => &mut self.caption,
            Field::OgDescription => &mut self.og_description,
        };
        *slot = Some(value);
    }

    /// Whether the alt text must be empty: the caller said the image is decorative, or, in
    /// `auto` mode, the provider judged it so.
    pub fn is_decorative(&self, options: &GenerationOptions) -> bool {
        match options.mode {
            Mode::Decorative => true,
            Mode::Auto => self.verdict(options).0,
            Mode::Standard | Mode::Ecommerce => false,
        }
    }

    /// The `auto` mode verdict and its reason. A role with a purpose (link, button, logo,
    /// chart) is never decorative, whatever the provider said; a provider that gave no verdict
    /// leaves the image as content.
    fn verdict(&self, options: &GenerationOptions) -> (bool, String) {
        if let Some(purpose) = options.role.and_then(Role::purpose) {
            return (false, purpose.to_string());
        }
        let Some(decorative) = self.decorative else {
            return (
                false,
                "The model gave no verdict, so the image is treated as content.".to_string(),
            );
        };
        let reason = self
            .decorative_reason
            .as_deref()
            .map(|r| tidy(r, false, &[], &options.negative_keywords))
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| "The model gave no reason.".to_string());
        (
            decorative,
            fit_to_length(&reason, limits::DECORATIVE_REASON_CHARS),
        )
    }

    /// Keeps exactly the requested fields, each tidied and within its length, and applies the
    /// WCAG rule for decorative images. Every provider's answer goes through here.
    pub fn finish(&self, options: &GenerationOptions) -> GeneratedText {
        let decorative = self.is_decorative(options);
        let mut out = self.finish_text(options, decorative);
        if options.mode == Mode::Auto {
            let (decorative, reason) = self.verdict(options);
            out.decorative = Some(decorative);
            out.decorative_reason = Some(reason);
        }
        out
    }

    /// The requested fields (and a chart's long description), tidied and fitted; the alt text
    /// is empty when `decorative`.
    fn finish_text(&self, options: &GenerationOptions, decorative: bool) -> GeneratedText {
        let mut out = GeneratedText::default();
        for field in options.fields.iter() {
            let text = if field == Field::AltText && decorative {
                String::new()
            } else {
                let raw = self.get(field).unwrap_or_default();
                let tidied = tidy(
                    raw,
                    field == Field::AltText,
                    &options.keywords,
                    &options.negative_keywords,
                );
                fit_to_length(&tidied, field.max_chars(options.max_length))
            };
            out.set(field, text);
        }
        if options.wants_long_description() {
            let raw = self.long_description.as_deref().unwrap_or_default();
            let tidied = tidy(raw, false, &options.keywords, &options.negative_keywords);
            out.long_description = Some(fit_to_length(&tidied, limits::LONG_DESCRIPTION_CHARS))
                .filter(|t| !t.is_empty());
        }
        out
    }

    /// Whether every requested text is there: each field (the alt text only when the image is
    /// not decorative) and a chart's long description.
    fn is_complete(&self, options: &GenerationOptions, decorative: bool) -> bool {
        let fields_written = options.fields.iter().all(|field| {
            (field == Field::AltText && decorative)
                || self.get(field).is_some_and(|t| !t.is_empty())
        });
        fields_written && (!options.wants_long_description() || self.long_description.is_some())
    }
}

/// A provider's text in every requested language, finished: the primary language's, each
/// other language's that was delivered whole, and the languages that were not (not charged).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FinishedText {
    pub results: GeneratedText,
    pub translations: BTreeMap<Language, GeneratedText>,
    pub failed_languages: Vec<Language>,
}

/// Finishes the primary text and each of `options.extra_languages` from `translations`. A
/// translation shares the primary's decorative verdict, and counts as delivered only when it
/// holds every requested text.
pub fn finish_all(
    primary: &GeneratedText,
    translations: &BTreeMap<Language, GeneratedText>,
    options: &GenerationOptions,
) -> FinishedText {
    let results = primary.finish(options);
    let decorative = results.is_decorative(options);
    let mut finished = FinishedText {
        results,
        ..FinishedText::default()
    };
    for language in &options.extra_languages {
        let text = translations
            .get(language)
            .map(|raw| raw.finish_text(options, decorative))
            .filter(|text| text.is_complete(options, decorative));
        match text {
            Some(text) => {
                finished.translations.insert(language.clone(), text);
            }
            None => finished.failed_languages.push(language.clone()),
        }
    }
    finished
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(fields: &[&str], mode: Mode, max: i64) -> GenerationOptions {
        GenerationOptions {
            mode,
            language: Language::english(),
            keywords: vec![],
            negative_keywords: vec![],
            max_length: MaxLength::new(max).unwrap(),
            fields: Fields::parse(&fields.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap(),
            page_url: None,
            page_context: None,
            product: Product::default(),
            custom_prompt: None,
            extra_languages: vec![],
            role: None,
            link_url: None,
        }
    }

    fn full_text() -> GeneratedText {
        GeneratedText {
            alt_text: Some("A long description of a red bicycle leaning on a wall".into()),
            title: Some("Red bicycle".into()),
            caption: Some("A caption".into()),
            og_description: Some("An OG description".into()),
            ..GeneratedText::default()
        }
    }

    #[test]
    fn finish_keeps_only_requested_fields() {
        let out = full_text().finish(&options(&["title", "alt_text"], Mode::Standard, 125));
        assert!(out.alt_text.is_some() && out.title.is_some());
        assert!(out.caption.is_none() && out.og_description.is_none());
    }

    #[test]
    fn finish_fits_alt_text_to_max_length() {
        let out = full_text().finish(&options(&["alt_text"], Mode::Standard, 20));
        let alt = out.alt_text.unwrap();
        assert!(alt.chars().count() <= 20, "{alt}");
        assert_eq!(alt, "A long description");
    }

    #[test]
    fn decorative_images_get_empty_alt_text() {
        let out = full_text().finish(&options(&["alt_text", "title"], Mode::Decorative, 125));
        assert_eq!(out.alt_text.as_deref(), Some(""));
        assert_eq!(out.title.as_deref(), Some("Red bicycle"));
    }

    #[test]
    fn max_length_bounds() {
        assert!(MaxLength::new(9).is_err());
        assert!(MaxLength::new(10).is_ok());
        assert!(MaxLength::new(1000).is_ok());
        assert!(MaxLength::new(1001).is_err());
    }

    #[test]
    fn fields_reject_unknown_and_empty() {
        assert!(Fields::parse(&["summary".into()]).is_err());
        assert!(Fields::parse(&[]).is_err());
        let f = Fields::parse(&["title".into(), "title".into(), "alt_text".into()]).unwrap();
        assert_eq!(
            f.iter().collect::<Vec<_>>(),
            vec![Field::AltText, Field::Title]
        );
    }

    #[test]
    fn keywords_are_bounded() {
        assert!(parse_keywords(&vec!["k".to_string(); 21]).is_err());
        assert!(parse_keywords(&["x".repeat(51)]).is_err());
        assert_eq!(parse_keywords(&[" a ".into()]).unwrap(), vec!["a"]);
    }

    fn language(code: &str) -> Language {
        Language::parse(code).unwrap()
    }

    #[test]
    fn languages_are_bounded_known_and_unrepeated() {
        let codes = |cs: &[&str]| cs.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        assert_eq!(
            Language::parse_list(&codes(&["en", "FR"])).unwrap(),
            vec![language("en"), language("fr")]
        );
        let unknown = Language::parse_list(&codes(&["en", "xx"])).unwrap_err();
        assert!(
            unknown.0.contains("languages[1]") && unknown.0.contains("\"xx\""),
            "{unknown}"
        );
        let repeat = Language::parse_list(&codes(&["en", "fr", "en"])).unwrap_err();
        assert!(repeat.0.contains("repeats \"en\""), "{repeat}");
        assert!(Language::parse_list(&codes(&["en"; 11])).is_err());
        assert!(Language::parse_list(&[]).is_err());
        let ten = ["en", "fr", "de", "es", "it", "pt", "nl", "sv", "pl", "ja"];
        assert_eq!(Language::parse_list(&codes(&ten)).unwrap().len(), 10);
    }

    #[test]
    fn a_translation_missing_a_field_is_a_failed_language() {
        let mut o = options(&["alt_text", "title"], Mode::Standard, 125);
        o.extra_languages = vec![language("fr"), language("de"), language("es")];
        let translations = BTreeMap::from([
            (
                language("fr"),
                GeneratedText {
                    alt_text: Some("Un vélo rouge".into()),
                    title: Some("Vélo rouge".into()),
                    ..GeneratedText::default()
                },
            ),
            (
                language("de"),
                GeneratedText {
                    alt_text: Some("Ein rotes Fahrrad".into()),
                    title: Some("  ".into()),
                    ..GeneratedText::default()
                },
            ),
        ]);
        let done = finish_all(&full_text(), &translations, &o);
        assert_eq!(
            done.translations.keys().collect::<Vec<_>>(),
            vec![&language("fr")]
        );
        assert_eq!(done.failed_languages, vec![language("de"), language("es")]);
        assert!(done.results.caption.is_none(), "only the requested fields");
    }

    #[test]
    fn auto_mode_empties_alt_text_of_a_decorative_image_in_every_language() {
        let mut o = options(&["alt_text", "title"], Mode::Auto, 125);
        o.extra_languages = vec![language("fr")];
        let mut primary = full_text();
        primary.decorative = Some(true);
        primary.decorative_reason = Some("A flat beige divider with no content".into());
        let translations = BTreeMap::from([(
            language("fr"),
            GeneratedText {
                alt_text: Some("Un séparateur".into()),
                title: Some("Séparateur".into()),
                ..GeneratedText::default()
            },
        )]);
        let done = finish_all(&primary, &translations, &o);
        assert_eq!(done.results.alt_text.as_deref(), Some(""));
        assert_eq!(done.results.title.as_deref(), Some("Red bicycle"));
        assert_eq!(done.results.decorative, Some(true));
        assert_eq!(
            done.results.decorative_reason.as_deref(),
            Some("A flat beige divider with no content")
        );
        assert_eq!(
            done.translations[&language("fr")].alt_text.as_deref(),
            Some("")
        );
        assert!(done.failed_languages.is_empty());
    }

    #[test]
    fn the_verdict_appears_only_in_auto_mode_and_defaults_to_not_decorative() {
        let mut text = full_text();
        text.decorative = Some(true);
        let standard = text.finish(&options(&["alt_text"], Mode::Standard, 125));
        assert!(standard.decorative.is_none() && standard.decorative_reason.is_none());
        assert!(!standard.alt_text.unwrap().is_empty());
        let undecided = full_text().finish(&options(&["alt_text"], Mode::Auto, 125));
        assert_eq!(undecided.decorative, Some(false));
        assert!(undecided.decorative_reason.is_some());
    }

    #[test]
    fn an_image_with_a_purpose_is_never_decorative_whatever_the_model_says() {
        let mut text = full_text();
        text.decorative = Some(true);
        text.decorative_reason = Some("It is just an arrow".into());
        let mut o = options(&["alt_text"], Mode::Auto, 125);
        for role in [Role::Link, Role::Button, Role::Logo, Role::Chart] {
            o.role = Some(role);
            let out = text.finish(&o);
            assert_eq!(out.decorative, Some(false), "{role:?}");
            assert!(!out.alt_text.unwrap().is_empty(), "{role:?}");
            assert!(out.decorative_reason.unwrap().contains(role.as_str()));
        }
        o.role = Some(Role::Background);
        assert_eq!(text.finish(&o).decorative, Some(true));
        o.negative_keywords = vec!["arrow".into()];
        assert_eq!(
            text.finish(&o).decorative_reason.as_deref(),
            Some("It is just"),
            "the reason is tidied like any text"
        );
    }

    #[test]
    fn only_a_chart_gets_a_long_description() {
        let mut text = full_text();
        text.long_description = Some("Sales rose from 10 in January to 40 in June.".into());
        let mut o = options(&["alt_text"], Mode::Standard, 125);
        assert!(text.finish(&o).long_description.is_none());
        o.role = Some(Role::Chart);
        assert_eq!(
            text.finish(&o).long_description.as_deref(),
            Some("Sales rose from 10 in January to 40 in June.")
        );
        assert!(Role::parse("chart").is_ok());
        assert!(Role::parse("hero").unwrap_err().0.contains("\"hero\""));
    }
}
